"""metrics.csv under failure: full disks, retried ends, kills, foreign files, deleted runs.

* A full disk (a real tiny tmpfs, or a real ``RLIMIT_FSIZE``) refuses a row part way:
  the call raises, nothing of it stays in the file or comes back later, a batch is all
  rows or none, and a failed ``end()`` can be retried.
* The fsync policy, counted with a patched ``os.fsync``: none per ``log_metric``, at
  most one a second from the heartbeat, and one before run.yaml says the run ended.
* run.yaml's summary is computed from the file, so it never counts a row it lacks.
* Appending refuses a metrics.csv whose header is missing or foreign; readers report
  an unreadable history and rows fewer than the summary counts.
* A run folder deleted while the run logs makes logging raise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from test_crash import _private_tmpfs_command
from workers.worker_common import load_worker_module

import runfolio.store.metrics as metrics_module
from runfolio import Store, StoreError
from runfolio.errors import MalformedRunError
from runfolio.query.runs import MetricHistoryWarning
from runfolio.site.build import build_site
from runfolio.store import layout
from runfolio.store.metrics import HEADER, read_metrics, summarize
from runfolio.store.reader import read_yaml_file

WORKERS = Path(__file__).parent / "workers"
full_worker = load_worker_module("metrics_full_worker")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A fresh store, with no git capture (pytest runs inside this repository)."""
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    return Store(tmp_path / "store")


def _rows(path: Path) -> list[tuple[str, int, float]]:
    """The (key, step, value) of every readable row of a metrics.csv."""
    return [(r.key, r.step, r.value) for r in read_metrics(path).rows]


# -- a full disk ----------------------------------------------------------------------


def _fill_and_retry(mode: str, scenario: str, tmp_path: Path, env: dict[str, str]) -> Any:
    """Run the full-disk worker; return its results and the run's folder (copied out)."""
    store, out = tmp_path / "store", tmp_path / "copied"
    store.mkdir()
    prefix = _private_tmpfs_command(store, size_kb=64) if mode == "tmpfs" else []
    worker = str(WORKERS / "metrics_full_worker.py")
    proc = subprocess.run(
        [*prefix, sys.executable, worker, mode, scenario, str(store), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    return results, out / "full" / results["run_id"]


_REFUSAL = {"tmpfs": "No space left on device", "fsize": "File too large"}


@pytest.mark.parametrize("mode", ["tmpfs", "fsize"])
def test_full_disk_writes_no_refused_row_ever(
    mode: str, tmp_path: Path, worker_env: dict[str, str]
) -> None:
    results, run_dir = _fill_and_retry(mode, "metrics", tmp_path, worker_env)
    metrics_path = run_dir / layout.METRICS_FILE
    # The refused row raised, naming the file and the cause, and so did the batch.
    assert results.get("metric"), "the disk never filled up"
    assert str(layout.METRICS_FILE) in results["metric"]["message"]
    assert _REFUSAL[mode] in results["metric"]["message"]
    assert results["batch"] is not None and results["batch"]["store_error"]
    assert _REFUSAL[mode] in results["batch"]["message"]
    assert (results["batch_retry"], results["end_retry"]) == (None, None)

    # Exactly the rows whose call returned: the refused row and the refused batch never
    # reached the file, not even with the next write, and no torn part of them is left.
    metrics = read_metrics(metrics_path)
    assert metrics.problems == []
    returned = [("m", s, full_worker.metric_value(s)) for s in results["returned"]]
    batch = [(k, 2, v) for k, v in full_worker.BATCH.items()]
    assert _rows(metrics_path) == [*returned, *batch]
    data = read_yaml_file(run_dir / layout.RUN_FILE)
    assert data["status"] == "FINISHED"
    assert data["metrics"] == {k: s.to_dict() for k, s in summarize(metrics.rows).items()}


@pytest.mark.parametrize("mode", ["tmpfs", "fsize"])
def test_end_failed_on_a_full_disk_can_be_retried(
    mode: str, tmp_path: Path, worker_env: dict[str, str]
) -> None:
    results, run_dir = _fill_and_retry(mode, "end", tmp_path, worker_env)
    failure = results["end"]
    assert failure is not None and failure["store_error"], failure
    assert layout.RUN_FILE in failure["message"] and _REFUSAL[mode] in failure["message"]
    assert results["ended_after_failure"] is False  # still live, so end() can run again
    assert (results["end_retry"], results["status"]) == (None, "FINISHED")
    data = read_yaml_file(run_dir / layout.RUN_FILE)
    assert data["status"] == "FINISHED"
    assert data["metrics"]["m"]["count"] == 1
    assert not (run_dir / layout.HEARTBEAT_FILE).exists()


# -- the fsync policy -----------------------------------------------------------------


class _Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_fsync_policy_none_per_row_heartbeat_once_a_second_and_before_end(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_FSYNC", "1")  # the suite runs with fsync off (conftest)
    clock = _Clock()
    monkeypatch.setattr(metrics_module, "monotonic", clock)
    run = store.start_run("sync")
    metrics_path = run.path / layout.METRICS_FILE
    synced: list[str] = []  # the status run.yaml held at each fsync of metrics.csv
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        if os.path.exists(metrics_path) and os.fstat(fd).st_ino == os.stat(metrics_path).st_ino:
            synced.append(read_yaml_file(run.path / layout.RUN_FILE)["status"])
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    for step in range(1000):
        run.log_metric("loss", 1 / (step + 1), step=step)
    run.log_metrics({"a": 1.0, "b": 2.0}, step=1)
    assert synced == []  # logging never waits for the disk

    run.write_heartbeat()
    assert synced == ["RUNNING"]
    run.log_metric("loss", 0.5, step=1000)
    clock.now += 0.5
    run.write_heartbeat()  # less than a second since the last sync
    assert synced == ["RUNNING"]
    clock.now += 0.5
    run.write_heartbeat()
    assert synced == ["RUNNING"] * 2
    clock.now += 5
    run.write_heartbeat()  # nothing written since: nothing to sync
    assert synced == ["RUNNING"] * 2

    run.log_metric("loss", 0.25, step=1001)
    run.end()
    assert synced == ["RUNNING"] * 3  # synced before run.yaml said FINISHED
    assert read_yaml_file(run.path / layout.RUN_FILE)["status"] == "FINISHED"


# -- the summary is the file's --------------------------------------------------------


def test_end_summary_counts_what_metrics_csv_holds(store: Store) -> None:
    run = store.start_run("summary")
    run.log_metric("loss", 0.5, step=1)
    # Another writer (a forced second process on the run) appends whole rows meanwhile.
    with open(run.path / layout.METRICS_FILE, "a", encoding="utf-8") as other:
        other.write("loss,2,0.25,1700000000000\nacc,2,0.9,1700000000000\n")
    run.log_metric("loss", 0.125, step=3)
    run.end()
    summary = read_yaml_file(run.path / layout.RUN_FILE)["metrics"]
    assert summary["loss"]["count"] == 3
    assert (summary["loss"]["last"], summary["loss"]["min"]) == (0.125, 0.125)
    assert summary["acc"]["count"] == 1
    assert store.get_run(run.run_id).problems == []


# -- a SIGKILLed logger ---------------------------------------------------------------

_LOGGER = """
import sys
from runfolio import Store
run = Store(sys.argv[1]).start_run("killed")
print(run.path, flush=True)
for step in range(10**7):
    run.log_metrics({"a": step / 3, "b": -step, "long_" * 40: step * 1e-9}, step=step)
    print(step, flush=True)
"""


def test_sigkill_leaves_every_acknowledged_row_whole(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOGGER, str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        text=True,
        env=worker_env,
    )
    assert proc.stdout is not None
    try:
        run_dir = Path(proc.stdout.readline().strip())
        acknowledged = -1
        while acknowledged < 2000:
            acknowledged = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        for line in proc.stdout:  # what it printed before it died
            if line.strip().isdigit():
                acknowledged = int(line)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    metrics = read_metrics(run_dir / layout.METRICS_FILE)
    assert all("incomplete last row" in p for p in metrics.problems), metrics.problems
    steps = [r.step for r in metrics.rows if r.key == "a"]
    assert steps[: acknowledged + 1] == list(range(acknowledged + 1))
    for row in metrics.rows:
        expected = {"a": row.step / 3, "b": -row.step, "long_" * 40: row.step * 1e-9}
        assert row.value == expected[row.key]
    by_step = {s: sum(1 for r in metrics.rows if r.step == s) for s in range(acknowledged + 1)}
    assert set(by_step.values()) == {3}  # every acknowledged batch whole


# -- the header -----------------------------------------------------------------------


def _ended_run(store: Store, rows: int = 3) -> tuple[str, Path]:
    """A FINISHED run with ``rows`` values of metric ``loss``; its id and metrics.csv."""
    with store.start_run("header") as run:
        for step in range(rows):
            run.log_metric("loss", step / 2, step=step)
    return run.run_id, run.path / layout.METRICS_FILE


@pytest.mark.parametrize(
    "content",
    [b"loss,3,0.5,1700000000000\n", b"epoch,loss\n1,0.5\n", b"not,ours\n"],
    ids=["no-header", "foreign-csv", "foreign-line"],
)
def test_resume_refuses_a_foreign_or_missing_header(store: Store, content: bytes) -> None:
    run_id, path = _ended_run(store)
    path.write_bytes(content)
    run = store.start_run("header", run_id=run_id)
    with pytest.raises(MalformedRunError, match="not the header") as caught:
        run.log_metric("loss", 9.0, step=9)
    assert str(path) in str(caught.value)
    with pytest.raises(MalformedRunError):
        run.log_metrics({"loss": 9.0})
    assert path.read_bytes() == content  # untouched
    run.end()


@pytest.mark.parametrize(
    "content",
    [b"", b"key,st", ("\ufeff" + HEADER).encode(), HEADER.replace("\n", "\r\n").encode()],
    ids=["empty", "torn-header", "bom", "crlf"],
)
def test_resume_appends_after_a_safe_header(store: Store, content: bytes) -> None:
    run_id, path = _ended_run(store, rows=0)
    path.write_bytes(content)
    with store.start_run("header", run_id=run_id) as run:
        run.log_metric("loss", 9.0, step=9)
    assert _rows(path) == [("loss", 9, 9.0)]
    assert read_metrics(path).problems == []


def test_unreadable_history_is_reported_not_empty(store: Store) -> None:
    run_id, path = _ended_run(store)
    path.write_bytes(b"epoch,loss\n1,0.5\n")
    with pytest.raises(MalformedRunError, match="expected header"):
        store.get_metric_history(run_id, "loss")
    problems = store.get_run(run_id).problems
    assert any("expected header" in p for p in problems), problems


# -- fewer rows than the summary ------------------------------------------------------


def test_rows_fewer_than_the_summary_are_a_problem(store: Store, tmp_path: Path) -> None:
    run_id, path = _ended_run(store, rows=5)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))  # header and 2 of 5 rows survived

    problems = store.get_run(run_id).problems
    assert any("2 row(s) of metric 'loss'" in p and "counts 5" in p for p in problems), problems
    with pytest.warns(MetricHistoryWarning, match="counts 5"):
        history = store.get_metric_history(run_id, "loss")
    assert [r.step for r in history] == [0, 1]

    path.write_bytes(b"")  # a power cut before the data reached the disk
    report = build_site(store.root, tmp_path / "site")
    assert any("0 row(s) of metric 'loss'" in p and "counts 5" in p for p in report.problems)


def test_a_malformed_row_is_not_counted_missing_too(store: Store) -> None:
    run_id, path = _ended_run(store, rows=3)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:3], b"loss,2,oops,1\n"]))  # one row damaged
    problems = store.get_run(run_id).problems
    assert len(problems) == 1 and "line 4: malformed row" in problems[0], problems

    path.write_bytes(b"".join(lines[:2]) + lines[2][:5])  # lost rows, and a torn tail
    problems = store.get_run(run_id).problems
    assert any("incomplete last row" in p for p in problems), problems
    assert any("1 row(s) of metric 'loss'" in p and "counts 3" in p for p in problems)


def test_a_whole_history_is_no_problem(store: Store, tmp_path: Path) -> None:
    run_id, _ = _ended_run(store, rows=5)
    assert store.get_run(run_id).problems == []
    assert build_site(store.root, tmp_path / "site").problems == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(store.get_metric_history(run_id, "loss")) == 5


# -- a deleted run folder -------------------------------------------------------------


def test_deleted_run_folder_makes_logging_raise(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(metrics_module, "monotonic", clock)
    run = store.start_run("deleted")
    run.log_metric("loss", 0.5, step=0)
    shutil.rmtree(run.path)  # git clean -fdx while the run is live
    clock.now += 1  # the next row is due a check that the file still has a name
    with pytest.raises(StoreError, match="deleted while the run was logging"):
        run.log_metric("loss", 0.25, step=1)
    with pytest.raises(StoreError, match=str(run.path)):
        run.log_metric("loss", 0.125, step=2)  # it stays refused: the folder is gone
    with pytest.raises(StoreError):
        run.end()
    assert not run.ended


def test_heartbeat_notices_a_deleted_run_folder(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(metrics_module, "monotonic", clock)
    run = store.start_run("deleted")
    run.log_metric("loss", 0.5, step=0)
    shutil.rmtree(run.path)
    with pytest.raises(OSError):  # the heartbeat file cannot be written either
        run.write_heartbeat()
    with pytest.raises(StoreError, match="deleted while the run was logging"):
        run.log_metric("loss", 0.25, step=1)  # no clock tick needed: the heartbeat saw it
