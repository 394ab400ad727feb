"""search_runs reads rows through their own cache: never stale, statuses live."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

import runfolio
from runfolio.store import scan as scan_module
from runfolio.store.cache import DerivedCache


@pytest.fixture
def store(tmp_path: Path) -> runfolio.Store:
    store = runfolio.Store(tmp_path / "runs")
    for lr in (0.1, 0.01):
        with store.start_run("exp", run_name=f"lr={lr}") as run:
            run.log_params({"lr": lr, "opt": {"name": "adam"}})
            run.log_metric("loss", lr * 2)
            run.set_tag("team", "vision")
    return store


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which run folders the search path parses from disk."""
    reads: list[str] = []
    original = scan_module.read_run_files

    def counting(run_dir: Path, experiment, *rest):  # type: ignore[no-untyped-def]
        reads.append(run_dir.name)
        return original(run_dir, experiment, *rest)

    monkeypatch.setattr(scan_module, "read_run_files", counting)
    return reads


def test_a_warm_search_parses_nothing_and_matches_a_cold_one(
    store: runfolio.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _reads(monkeypatch)
    cold = store.search_runs(order_by=["params.lr"])
    assert len(reads) == 2
    reads.clear()
    warm = store.search_runs(order_by=["params.lr"])
    assert reads == []
    assert warm.equals(cold)
    assert list(warm["params.opt.name"]) == ["adam", "adam"]
    assert warm["artifact_uri"][0].endswith("/artifacts")


def test_edited_added_and_removed_runs_are_seen(
    store: runfolio.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.search_runs()
    reads = _reads(monkeypatch)
    first = sorted((store.root / "exp").glob("2*"))[0]
    params = first / "params.yaml"
    text = params.read_text(encoding="utf-8")
    # Same size, written in place: only the inode's mtime tells.
    params.write_text(text.replace("adam", "sgd0"), encoding="utf-8")
    os.utime(params, ns=(1, 1))
    assert set(store.search_runs()["params.opt.name"]) == {"adam", "sgd0"}
    assert reads == [first.name]
    with store.start_run("exp", run_name="added"):
        pass
    assert "added" in set(store.search_runs()["run_name"])
    shutil.rmtree(first)
    assert first.name not in set(store.search_runs()["run_id"])


def test_a_dead_running_run_reads_as_crashed_even_from_the_cache(store: runfolio.Store) -> None:
    run = store.start_run("exp", run_name="crashy")
    store.search_runs()  # cached while RUNNING
    run_yaml = run.path / "run.yaml"
    # Pretend the process that wrote it is gone: a pid that cannot exist on this host.
    text = run_yaml.read_text(encoding="utf-8").replace(f"pid: {os.getpid()}", "pid: 999999999")
    run_yaml.write_text(text, encoding="utf-8")
    assert socket.gethostname() in text
    frame = store.search_runs(filter_string="attributes.run_name = 'crashy'")
    assert list(frame["status"]) == ["CRASHED"]
    frame = store.search_runs(filter_string="attributes.status = 'CRASHED'")
    assert list(frame["run_name"]) == ["crashy"]
    run.end()


def test_a_damaged_search_cache_is_ignored(store: runfolio.Store) -> None:
    expected = store.search_runs(order_by=["params.lr"])
    cache = DerivedCache(store.root / "exp", scan_module.ROWS_CACHE)
    cache.path.write_bytes(b"\x00 not marshal")
    assert store.search_runs(order_by=["params.lr"]).equals(expected)


def test_unknown_experiment_is_an_error(store: runfolio.Store) -> None:
    with pytest.raises(runfolio.ExperimentNotFoundError, match="nope"):
        store.search_runs(["nope"])
