"""A run's final status follows how its process ended, observed from outside the process.

Each case runs ``workers/lifecycle_worker.py`` in a fresh interpreter, so exceptions,
signals, ``sys.exit`` and interpreter exit happen for real; the test then reads the
run's files. Liveness of a RUNNING run (heartbeat, host and pid) is checked on
hand-made run folders with a fixed clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runfolio import Store
from runfolio.store import layout
from runfolio.store.liveness import STALE_AFTER, effective_status, this_host
from runfolio.store.reader import read_yaml_file
from runfolio.store.records import CRASHED, iso_to_ms, ms_to_iso
from runfolio.store.scan import scan_store
from runfolio.store.serialize import dump_yaml
from waiting import wait_until

WORKER = Path(__file__).parent / "workers" / "lifecycle_worker.py"
TRACEBACK = "Traceback (most recent call last)"


def _start(store: Path, scenario: str, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    """Launch the lifecycle worker on ``scenario``."""
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(store), scenario, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=store.parent,
    )


def _run_id(line: str) -> str:
    """The run id from the worker's ``run <id>`` line."""
    kind, run_id = line.split()
    assert kind == "run"
    return run_id


def _assert_ended(store: Path, run_id: str, status: str) -> None:
    """run.yaml says ``status`` with an end time, readers agree, the heartbeat is gone."""
    run_dir = store / "life" / run_id
    data = read_yaml_file(run_dir / layout.RUN_FILE)
    assert data["status"] == status
    assert iso_to_ms(data["end_time"]) >= iso_to_ms(data["start_time"])
    assert not (run_dir / layout.HEARTBEAT_FILE).exists()
    scan = scan_store(store)
    assert scan.problems == []
    assert [(r.run_id, r.status, r.stored_status) for r in scan.runs] == [(run_id, status, status)]


@pytest.mark.parametrize(
    ("scenario", "status", "returncode", "stderr_tail"),
    [
        pytest.param("with_ok", "FINISHED", 0, None, id="with-block-exits-normally"),
        pytest.param(
            "with_raise",
            "FAILED",
            1,
            "ValueError: boom from inside the run",
            id="exception-in-with",
        ),
        pytest.param(
            "with_keyboard_interrupt", "KILLED", -signal.SIGINT, "KeyboardInterrupt", id="ctrl-c"
        ),
        pytest.param("never_ended", "FINISHED", 0, None, id="never-ended-normal-exit"),
        pytest.param(
            "never_ended_raise",
            "FAILED",
            1,
            "RuntimeError: boom at top level",
            id="never-ended-crash",
        ),
        pytest.param("exit_zero", "FINISHED", 0, None, id="sys-exit-0-in-with"),
        pytest.param("exit_three", "FAILED", 3, None, id="sys-exit-3-in-with"),
    ],
)
def test_status_follows_how_the_process_ended(
    tmp_path: Path,
    worker_env: dict[str, str],
    scenario: str,
    status: str,
    returncode: int,
    stderr_tail: str | None,
) -> None:
    store = tmp_path / "store"
    proc = _start(store, scenario, worker_env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == returncode, err
    if stderr_tail is None:
        assert err == ""
    else:
        # The exception was not swallowed: Python reported it as uncaught.
        assert TRACEBACK in err
        assert err.rstrip().endswith(stderr_tail)
    _assert_ended(store, _run_id(out.splitlines()[0]), status)


@pytest.mark.parametrize("scenario", ["with_sigterm", "open_sigterm"])
def test_sigterm_ends_the_run_as_killed(
    tmp_path: Path, worker_env: dict[str, str], scenario: str
) -> None:
    store = tmp_path / "store"
    proc = _start(store, scenario, worker_env)
    try:
        assert proc.stdout is not None
        run_id = _run_id(proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err == ""
    _assert_ended(store, run_id, "KILLED")


def test_heartbeat_is_written_while_running_and_removed_at_end(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    store, stop = tmp_path / "store", tmp_path / "stop"
    proc = _start(store, "heartbeat", worker_env, str(stop))
    try:
        assert proc.stdout is not None
        run_id = _run_id(proc.stdout.readline())
        heartbeat = store / "life" / run_id / layout.HEARTBEAT_FILE
        wait_until(heartbeat.exists, "the first heartbeat", 30)
        first = heartbeat.read_text(encoding="utf-8")
        assert first.endswith("\n")
        iso_to_ms(first.strip())
        # It keeps beating: the file is rewritten with a later time.
        wait_until(lambda: heartbeat.read_text(encoding="utf-8") != first, "a second heartbeat", 30)
        assert iso_to_ms(heartbeat.read_text(encoding="utf-8").strip()) >= iso_to_ms(first.strip())
        [record] = scan_store(store).runs
        assert (record.status, record.stored_status) == ("RUNNING", "RUNNING")
        stop.touch()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert err == ""
    _assert_ended(store, run_id, "FINISHED")
    assert [p.name for p in heartbeat.parent.iterdir() if p.name.endswith(".tmp")] == []


# -- liveness of RUNNING runs ---------------------------------------------------------

NOW_MS = iso_to_ms("2026-11-27T12:00:00+00:00")
STALE_MS = int(STALE_AFTER * 1000)
FOREIGN = {"host": "gpu-node-7.elsewhere.example", "pid": os.getpid()}


def _running_run(
    store: Path, start_ms: int, heartbeat_ms: int | None, process: dict[str, object]
) -> Path:
    """Write a RUNNING run folder by hand, as another machine's process would leave it."""
    experiment = Store(store).set_experiment("remote")
    run_id = layout.new_run_id(start_ms / 1000)
    run_dir = experiment.path / run_id
    run_dir.mkdir()
    data = {
        "id": run_id,
        "name": "remote-run",
        "status": "RUNNING",
        "start_time": ms_to_iso(start_ms),
        "end_time": None,
        "tags": {},
        "process": process,
    }
    (run_dir / layout.RUN_FILE).write_text(dump_yaml(data), encoding="utf-8")
    if heartbeat_ms is not None:
        (run_dir / layout.HEARTBEAT_FILE).write_text(
            ms_to_iso(heartbeat_ms) + "\n", encoding="utf-8"
        )
    return run_dir


@pytest.mark.parametrize(
    ("heartbeat_age_ms", "activity_age_ms", "expected"),
    [
        pytest.param(10_000, 3_600_000, "RUNNING", id="fresh-heartbeat"),
        pytest.param(STALE_MS + 1_000, 3_600_000, CRASHED, id="stale-heartbeat"),
        pytest.param(STALE_MS - 1_000, 3_600_000, "RUNNING", id="heartbeat-just-inside-limit"),
        pytest.param(None, 3_600_000, CRASHED, id="no-heartbeat-old-activity"),
        pytest.param(None, 5_000, "RUNNING", id="no-heartbeat-recent-metric"),
        pytest.param(3_600_000, 5_000, "RUNNING", id="stale-heartbeat-recent-metric"),
    ],
)
def test_foreign_running_run_judged_by_heartbeat(
    tmp_path: Path, heartbeat_age_ms: int | None, activity_age_ms: int, expected: str
) -> None:
    heartbeat = None if heartbeat_age_ms is None else NOW_MS - heartbeat_age_ms
    run_dir = _running_run(tmp_path / "store", NOW_MS - 7_200_000, heartbeat, FOREIGN)
    activity = NOW_MS - activity_age_ms
    assert effective_status("RUNNING", run_dir, FOREIGN, activity, now_ms=NOW_MS) == expected
    # An ended run keeps its status however silent it is.
    assert effective_status("FINISHED", run_dir, FOREIGN, activity, now_ms=NOW_MS) == "FINISHED"


def test_dead_pid_on_this_host_is_crashed_despite_fresh_heartbeat(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: its pid no longer names a process
    process = {"host": this_host(), "pid": child.pid}
    run_dir = _running_run(tmp_path / "store", NOW_MS - 1_000, NOW_MS - 1_000, process)
    assert effective_status("RUNNING", run_dir, process, NOW_MS, now_ms=NOW_MS) == CRASHED
    alive = {"host": this_host(), "pid": os.getpid()}
    assert effective_status("RUNNING", run_dir, alive, NOW_MS, now_ms=NOW_MS) == "RUNNING"


def test_scan_reads_foreign_runs_by_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "cache"))
    store = tmp_path / "store"
    now = int(time.time() * 1000)
    alive = _running_run(store, now - 7_200_000, now, FOREIGN)
    dead = _running_run(store, now - 7_200_000, now - 3_600_000, FOREIGN)
    scan = scan_store(store)
    assert scan.problems == []
    statuses = {r.run_id: (r.status, r.stored_status) for r in scan.runs}
    assert statuses == {alive.name: ("RUNNING", "RUNNING"), dead.name: (CRASHED, "RUNNING")}
