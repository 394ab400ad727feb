"""The record cache: reused while files are unchanged, never served stale, never fatal."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import marshal
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from strict_values import same

import runfolio
from runfolio.store import scan as scan_module
from runfolio.store.cache import RecordCache, cache_dir, run_signature
from runfolio.store.scan import scan_store


@pytest.fixture(autouse=True)
def _outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder outside any git repository, so runs capture no git state."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The run ids the scanner reads from disk (rather than from the cache)."""
    seen: list[str] = []
    original = scan_module.read_run_files

    def counting(run_dir: Path, experiment: Any, *rest: Any) -> Any:
        seen.append(run_dir.name)
        return original(run_dir, experiment, *rest)

    monkeypatch.setattr(scan_module, "read_run_files", counting)
    return seen


@pytest.fixture
def store(tmp_path: Path) -> runfolio.Store:
    """A store with two finished runs in one experiment."""
    store = runfolio.Store(tmp_path / "runs")
    for lr in (0.1, 0.2):
        with store.start_run("exp") as run:
            run.log_params({"lr": lr})
            run.log_metric("loss", lr * 10)
    return store


def run_dirs(store: runfolio.Store) -> list[Path]:
    return sorted(p.parent for p in store.root.glob("exp/*/run.yaml"))


def by_id(store: runfolio.Store) -> dict[str, Any]:
    return {r.run_id: r for r in scan_store(store.root).runs}


def cache_file(store: runfolio.Store) -> Path:
    return RecordCache(store.root / "exp").path


def test_second_scan_reads_nothing(store: runfolio.Store, reads: list[str]) -> None:
    first = scan_store(store.root)
    assert sorted(reads) == [p.name for p in run_dirs(store)]
    reads.clear()
    second = scan_store(store.root)
    assert reads == []
    assert second.runs == first.runs
    assert cache_file(store).exists()
    assert not cache_file(store).is_relative_to(store.root)


def test_cached_records_equal_fresh_ones(tmp_path: Path, reads: list[str]) -> None:
    store = runfolio.Store(tmp_path / "runs")
    with store.start_run("exp", tags={"t": "ü"}, description="notes\n") as run:
        run.log_params(
            {
                "big": 10**40,
                "neg0": -0.0,
                "inf": math.inf,
                "nan": math.nan,
                "nested": {"ü": [1, None]},
            }
        )
        run.log_metric("nan", math.nan)
        run.log_metric("tiny", 5e-324)
    fresh = scan_store(store.root, use_cache=False).runs
    scan_store(store.root)
    reads.clear()
    [cached] = scan_store(store.root).runs
    assert reads == []
    assert same(dataclasses.asdict(cached), dataclasses.asdict(fresh[0]))


def test_use_cache_false_always_reads(store: runfolio.Store, reads: list[str]) -> None:
    scan_store(store.root)
    reads.clear()
    scan_store(store.root, use_cache=False)
    assert len(reads) == 2


def test_same_size_atomic_rewrite_of_params_is_seen(
    store: runfolio.Store, reads: list[str]
) -> None:
    scan_store(store.root)
    target = run_dirs(store)[0]
    params = target / "params.yaml"
    assert len(params.read_text(encoding="utf-8")) == len("lr: 0.3\n")
    before = params.stat()
    tmp = target / ".params.yaml.tmp"
    tmp.write_text("lr: 0.3\n", encoding="utf-8")
    os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    os.replace(tmp, params)
    assert params.stat().st_size == before.st_size
    reads.clear()
    assert by_id(store)[target.name].params == {"lr": 0.3}
    assert reads == [target.name]


def test_same_size_in_place_edit_with_a_new_mtime_is_seen(
    store: runfolio.Store, reads: list[str]
) -> None:
    scan_store(store.root)
    target = run_dirs(store)[1]
    params = target / "params.yaml"
    before = params.stat()
    with open(params, "r+", encoding="utf-8") as handle:
        handle.write("lr: 0.9\n")
    os.utime(params, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    after = params.stat()
    assert (after.st_ino, after.st_size) == (before.st_ino, before.st_size)
    reads.clear()
    assert by_id(store)[target.name].params == {"lr": 0.9}
    assert reads == [target.name]


def test_metrics_appended_to_a_running_run_are_seen(tmp_path: Path, reads: list[str]) -> None:
    store = runfolio.Store(tmp_path / "runs")
    run = store.start_run("exp")
    try:
        run.log_metric("loss", 1.0, step=0)
        assert by_id(store)[run.run_id].metrics["loss"]["count"] == 1
        reads.clear()
        assert by_id(store)[run.run_id].metrics["loss"]["count"] == 1
        assert reads == []
        run.log_metric("loss", 0.5, step=1)
        record = by_id(store)[run.run_id]
        assert record.metrics["loss"]["count"] == 2
        assert record.metrics["loss"]["last"] == 0.5
        assert record.status == "RUNNING"
        run.set_tag("stage", "eval")
        assert by_id(store)[run.run_id].tags == {"stage": "eval"}
    finally:
        run.end()
    record = by_id(store)[run.run_id]
    assert (record.status, record.metrics["loss"]["count"]) == ("FINISHED", 2)


def test_added_and_deleted_runs_are_seen(store: runfolio.Store, reads: list[str]) -> None:
    assert len(by_id(store)) == 2
    with store.start_run("exp") as added:
        pass
    reads.clear()
    assert set(by_id(store)) == {p.name for p in run_dirs(store)}
    assert reads == [added.run_id]
    gone = run_dirs(store)[0]
    shutil.rmtree(gone)
    reads.clear()
    assert gone.name not in by_id(store)
    assert len(by_id(store)) == 2
    assert reads == []
    entries = marshal.loads(cache_file(store).read_bytes())["runs"]
    assert gone.name not in entries


def test_run_replaced_under_the_same_id_is_seen(store: runfolio.Store) -> None:
    scan_store(store.root)
    first, second = run_dirs(store)
    moved = store.root / "moved"
    shutil.move(first, moved)
    shutil.copytree(second, first)
    data = (first / "run.yaml").read_text(encoding="utf-8").replace(second.name, first.name)
    (first / "run.yaml").write_text(data, encoding="utf-8")
    assert by_id(store)[first.name].params == yaml.safe_load((second / "params.yaml").read_text())
    assert by_id(store)[first.name].params != yaml.safe_load((moved / "params.yaml").read_text())


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff garbage",
        b"{",
        b"",
        b"[]",
        b'{"version": 999, "runs": {}}',
        b'{"version": 3, "runs": []}',
        b'{"version": 3, "runs": {"RUN": [1, 2]}}',
        b'{"version": 3, "runs": {"RUN": {"sig": "SIG"}}}',
        b'{"version": 3, "runs": {"RUN": {"sig": "SIG", "data": {"run_id": "x"}}}}',
        b'{"version": 3, "runs": {"RUN": {"sig": "SIG", "data": [1]}}}',
        b'{"version": 3, "runs": {"RUN": {"sig": "SIG", "digests": [], "data": [1]}}}',
    ],
)
def test_a_corrupt_cache_file_is_ignored(
    store: runfolio.Store, reads: list[str], content: bytes
) -> None:
    expected = scan_store(store.root, use_cache=False).runs
    target = run_dirs(store)[0]
    signature = json.dumps(run_signature(target).stamps).encode()
    content = content.replace(b"RUN", target.name.encode()).replace(b'"SIG"', signature)
    with contextlib.suppress(ValueError):  # well-formed data: as the cache would hold it
        content = marshal.dumps(json.loads(content))
    cache_file(store).parent.mkdir(parents=True, exist_ok=True)
    cache_file(store).write_bytes(content)
    reads.clear()
    assert scan_store(store.root).runs == expected
    assert len(reads) == 2
    reads.clear()
    assert scan_store(store.root).runs == expected  # the cache was rewritten and now works
    assert reads == []


def test_an_unwritable_cache_dir_does_not_break_reading(
    store: runfolio.Store, reads: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(blocker / "cache"))
    expected = scan_store(store.root, use_cache=False).runs
    reads.clear()
    assert scan_store(store.root).runs == expected
    assert scan_store(store.root).runs == expected
    assert len(reads) == 4  # nothing cached, every scan reads
    assert sorted(runfolio.Store(store.root).search_runs()["params.lr"]) == [0.1, 0.2]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_cache_dir_does_not_break_reading(
    store: runfolio.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(folder))
    try:
        assert len(scan_store(store.root).runs) == 2
    finally:
        folder.chmod(0o700)


def test_cache_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("RUNFOLIO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "runfolio"


def test_runs_with_read_problems_are_not_cached(tmp_path: Path, reads: list[str]) -> None:
    store = runfolio.Store(tmp_path / "runs")
    with store.start_run("exp") as run:
        pass
    data = yaml.safe_load((run.path / "run.yaml").read_text(encoding="utf-8"))
    data["metrics"] = ["oops"]
    (run.path / "run.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    scan_store(store.root)
    reads.clear()
    scan = scan_store(store.root)
    assert reads == [run.run_id]
    assert len(scan.problems) == 1
