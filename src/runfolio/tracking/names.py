"""Memorable default run names, like MLflow's ``bright-owl-42``."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "bold", "brave", "bright", "calm", "clever", "crisp", "daring", "eager", "fair",
    "fancy", "gentle", "golden", "grand", "happy", "honest", "jolly", "keen", "kind", "lively",
    "lucky", "merry", "mighty", "nimble", "noble", "polite", "proud", "quick", "quiet", "rapid",
    "shiny", "silent", "smart", "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise",
)  # fmt: skip
_NOUNS = (
    "badger", "bear", "bee", "crane", "deer", "dolphin", "eagle", "falcon", "finch", "fox",
    "gecko", "hare", "hawk", "heron", "ibis", "jay", "koala", "lark", "lemur", "lion",
    "lynx", "mole", "moth", "newt", "otter", "owl", "panda", "puffin", "quail", "raven",
    "robin", "seal", "shrew", "sloth", "swan", "tiger", "toad", "trout", "wolf", "wren",
)  # fmt: skip


def random_run_name() -> str:
    """Return a name such as ``swift-otter-417``."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randrange(1000)}"
