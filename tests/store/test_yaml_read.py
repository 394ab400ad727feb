"""The fast reader returns exactly what PyYAML returns, or steps aside (NotSimple)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from strict_values import same

from runfolio.store import yaml_emit
from runfolio.store.yaml_read import NotSimple, load_simple


def _agrees(text: str) -> bool:
    """True when load_simple steps aside or returns what PyYAML returns."""
    try:
        fast = load_simple(text)
    except NotSimple:
        return True
    try:
        slow = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return False  # the fast reader must never accept what YAML refuses
    return same(fast, slow)


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(text, values, max_size=6))
def test_emitted_files_read_back_identically(data: dict[str, Any]) -> None:
    assert _agrees(yaml_emit.dump(data))


fragments = st.sampled_from(
    [
        "a", "b", "key", "x y", "1", "-1", "0.5", "1.0e+3", "1e3", "007", "0x1F", "1_0",
        "true", "True", "yes", "null", "~", ".nan", "-.inf", "{}", "[]", "{a: 1}", "[1]",
        '"q"', '"a: b"', '"\\n"', "'s'", "&a", "*a", "!!str", "#", "2026-11-27", "1:20",
        ":", ": ", "- ", "-", "  ", "\t", "|", "|-", ">", "---", "...", "%YAML", "é",
        "\u2028", "\x85", "\ufeff", "<<", "=", "?", ",", "@x",
    ]
)  # fmt: skip
lines = st.lists(
    st.tuples(st.sampled_from(["", "  ", "    ", " "]), st.lists(fragments, max_size=4)).map(
        lambda t: t[0] + "".join(t[1])
    ),
    max_size=8,
)


@settings(max_examples=1500, deadline=None)
@given(lines)
def test_hand_written_text_never_reads_differently(body: list[str]) -> None:
    assert _agrees("\n".join(body) + "\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb:\n  c: x\n  d:\n  - 1\n  - two\ne: null\n",
        'argv:\n- "--lr"\n- "0.1"\nname: run\n',
        "empty:\nnext: 1\n",
        "n: -0.0\nm: 1.0e-300\nk: .nan\nbig: 123456789012345678901234567890\n",
        'k: "ünïcode ok"\n',
    ],
)
def test_common_store_shapes_take_the_fast_path(text: str) -> None:
    assert same(load_simple(text), yaml.load(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize(
    "text",
    [
        "a: 1 # comment\n",
        "a: &x 1\nb: *x\n",
        "a: |\n  block\n",
        "a:\n- b: 1\n",
        "a:\n  - 1\n",
        "a: {b: 1}\n",
        "- 1\n- 2\n",
        "a: 2026-11-27\n",
        'a: "esc\\n"\n',
        "a: yes\n",
        "a: 1\na: 2\n",
        "a:\n    b: 1\n",
    ],
)
def test_anything_else_steps_aside(text: str) -> None:
    with pytest.raises(NotSimple):
        load_simple(text)
