"""Runs for tests, written through the public API.

Importable from every test module (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

from pathlib import Path

from runfolio import Store


def log_model_runs(root: Path, count: int, experiment: str = "exp") -> list[str]:
    """Make ``count`` ended runs, each logging a model ``{"n": i}`` and an accuracy."""
    store = Store(root)
    ids = []
    for index in range(count):
        with store.start_run(experiment, run_name=f"run-{index}") as run:
            run.log_metric("accuracy", 0.5 + index / 100)
            run.log_model({"n": index}, "model")
        ids.append(run.run_id)
    return ids
