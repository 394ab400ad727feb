"""Re-logging an artifact or a model, killed at random instants: old or new, never torn.

Forked workers (runfolio already imported, so each round is cheap) log a big artifact,
or a model, then log it again and again to the same path, alternating two contents;
each is SIGKILLed at a random instant. After every kill the file under the final name
must be one of the two contents whole, and ``model.yaml`` must name a pickle that
matches its sha256 and loads as one of the two models.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import runfolio
from runfolio import Run, Store
from runfolio.query.details import list_artifacts
from runfolio.store import layout
from runfolio.tracking.capture import capture_environment, installed_packages
from runfolio.tracking.models import load_model_dir, read_descriptor, save_model
from waiting import wait_until

ROUNDS = 12
MAX_KILL_DELAY = 0.12
SIZE = 8 << 20  # big enough that a kill often lands inside a copy


def _contents() -> tuple[bytes, bytes]:
    """Two different artifact contents of different sizes (a torn mix matches neither)."""
    return b"A" * SIZE, b"B" * (SIZE + 4096)


def _fork_until_killed(store: Path, relog: Callable[[Run], None], delay: float) -> Path:
    """Fork a child that starts a run in ``store`` and calls ``relog`` with it; SIGKILL it
    ``delay`` seconds after ``relog`` said it is ready; reap it; return the run folder.

    The run is started in the child, with no other thread of this process inherited
    (a heartbeat thread could hold the run's lock at the fork).
    """
    ready = store.parent / f"{store.name}.ready"
    pid = os.fork()
    if pid == 0:  # the child: write until killed, never return into pytest
        try:
            os.environ["RUNFOLIO_FSYNC"] = "1"  # as a user's process writes (the suite's is off)
            relog(Store(store).start_run("relog"))
        finally:
            os._exit(3)
    try:

        def is_ready() -> bool:
            assert os.waitpid(pid, os.WNOHANG) == (0, 0), "the worker died before it was ready"
            return ready.exists()

        wait_until(is_ready, "the worker to become ready", interval=0.001)
        time.sleep(delay)  # the point of the test: a kill at a random moment of the writes
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return Path(ready.read_text(encoding="utf-8"))


def _say_ready(run: Run) -> None:
    """Tell the parent (through ``<store>.ready``, renamed into place) where the run is."""
    store = run.path.parent.parent
    ready = store.parent / f"{store.name}.ready"
    partial = ready.with_suffix(".partial")
    partial.write_text(str(run.path), encoding="utf-8")
    os.replace(partial, ready)


def _relog_alternately(
    log: Callable[[Run, object], object], old: object, new: object
) -> Callable[[Run], None]:
    """A child's work: log ``old``, say ready, then log ``new`` and ``old`` over it forever."""

    def relog(run: Run) -> None:
        log(run, old)
        _say_ready(run)
        while True:
            log(run, new)
            log(run, old)

    return relog


def _killed_runs(
    tmp_path: Path, relog: Callable[[Run], None], seed: int
) -> Iterator[tuple[int, Path]]:
    """Run ``relog`` in a fresh store each round, killed at random; yield each run folder."""
    rng = random.Random(seed)
    for round_no in range(ROUNDS):
        store = tmp_path / f"store-{round_no}"
        yield round_no, _fork_until_killed(store, relog, rng.uniform(0, MAX_KILL_DELAY))


@pytest.fixture
def durable_env() -> None:
    """Compute the captured context once here, for every forked child to inherit."""
    capture_environment()
    installed_packages()


@pytest.mark.usefixtures("durable_env")
def test_a_relogged_artifact_killed_at_random_is_the_old_or_the_new_file(tmp_path: Path) -> None:
    old, new = _contents()
    sources = {}
    for name, content in (("old", old), ("new", new)):
        (tmp_path / name).mkdir()
        sources[name] = tmp_path / name / "checkpoint.bin"
        sources[name].write_bytes(content)
    seen = set()
    relog = _relog_alternately(
        lambda run, source: run.log_artifact(source, "ckpt"), sources["old"], sources["new"]
    )
    for round_no, run_dir in _killed_runs(tmp_path, relog, 20261207):
        final = run_dir / layout.ARTIFACTS_DIR / "ckpt" / "checkpoint.bin"
        content = final.read_bytes()
        assert content in (old, new), f"round {round_no}: a torn file of {len(content)} bytes"
        seen.add(content[:1])
        leftovers = [p.name for p in final.parent.iterdir() if p.name != final.name]
        assert all(name.startswith(".checkpoint.bin.") for name in leftovers), leftovers
    assert seen, "no round was checked"


@pytest.mark.usefixtures("durable_env")
def test_a_relogged_model_killed_at_random_agrees_with_its_descriptor(tmp_path: Path) -> None:
    old_weights, new_weights = _contents()
    models = {"old": {"name": "old", "w": old_weights}, "new": {"name": "new", "w": new_weights}}
    names = set()
    relog = _relog_alternately(
        lambda run, model: run.log_model(model, "model"), models["old"], models["new"]
    )
    for round_no, run_dir in _killed_runs(tmp_path, relog, 20261208):
        folder = run_dir / layout.ARTIFACTS_DIR / "model"
        descriptor = read_descriptor(folder)
        loaded = load_model_dir(folder)  # checks the named pickle against the sha256
        assert loaded in (models["old"], models["new"]), f"round {round_no}"
        assert (folder / descriptor["file"]).stat().st_size == descriptor["size"]
        names.add(loaded["name"])
        # What a kill can leave besides the model: an unnamed pickle, a temporary file.
        for entry in folder.iterdir():
            assert entry.name in (layout.MODEL_DESCRIPTOR_FILE, descriptor["file"]) or (
                entry.name.startswith(".") or entry.name.startswith("model")
            ), entry.name
        # The next log_model cleans those up, and the run's files stay readable.
        save_model(run_dir / layout.ARTIFACTS_DIR, models["new"], "model", {})
        descriptor = read_descriptor(folder)
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
            [layout.MODEL_DESCRIPTOR_FILE, descriptor["file"]]
        )
        assert load_model_dir(folder) == models["new"]
    assert names, "no round was checked"


def test_relogging_a_model_keeps_one_pickle_named_by_its_descriptor(tmp_path: Path) -> None:
    runfolio.set_store(tmp_path / "runs")  # for load_model's runs:/ URI
    with Store(tmp_path / "runs").start_run("models") as run:
        first = run.log_model({"v": 1}, "model")
        assert read_descriptor(first)["file"] == layout.MODEL_PICKLE_FILE
        run.log_model({"v": 2}, "model")
        second = read_descriptor(first)
        assert second["file"].startswith("model-") and second["file"].endswith(".pkl")
        assert second["sha256"].startswith(second["file"][len("model-") : -len(".pkl")])
        # Readers follow the descriptor: the listing, the pages' model rows, load_model.
        listing = list_artifacts(run.path)
        assert [(m.path, m.descriptor["file"]) for m in listing.models] == [
            ("model", second["file"])
        ]
        assert sorted((f.path, f.model) for f in listing.files) == [
            (f"model/{second['file']}", "model"),
            ("model/model.yaml", "model"),
        ]
        assert runfolio.load_model(f"runs:/{run.run_id}/model") == {"v": 2}
        run.log_model({"v": 3}, "model")
        third = read_descriptor(first)
    assert third["file"] == layout.MODEL_PICKLE_FILE  # back to the plain name: it was free
    assert sorted(p.name for p in first.iterdir()) == ["model.pkl", "model.yaml"]
    assert load_model_dir(first) == {"v": 3}
