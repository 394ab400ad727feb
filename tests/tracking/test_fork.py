"""Runs in processes forked while a run is live: a real ``multiprocessing`` fork pool.

The children's runs must heartbeat (and so read as RUNNING while alive), the parent's
run must stay the parent's (never heartbeaten, logged into or ended by a child), and a
lock another thread held at the fork must not deadlock a child.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runfolio
from runfolio.store import layout, liveness
from runfolio.store.reader import read_yaml_file
from runfolio.tracking import lifecycle
from waiting import wait_until

POOL_TIMEOUT = 60  # seconds: a deadlocked child fails the test instead of hanging it


def _dump_stacks_on_sigusr1() -> None:
    """Pool initializer: a worker prints every thread's stack on SIGUSR1 (to pytest's capture)."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)


@contextlib.contextmanager
def _fork_pool(processes: int) -> Iterator[multiprocessing.pool.Pool]:
    """A fork pool that always ends, and explains a worker that would not.

    On the way out the pool is closed and its workers end at the sentinel, which needs no
    signal. A worker still alive after POOL_TIMEOUT, or any worker when the body failed,
    prints its stacks (faulthandler, SIGUSR1) and is killed with SIGKILL: ``terminate()``
    sends SIGTERM and then waits without a limit, which once hung a CI run on a worker
    that survived it.
    """
    pool = multiprocessing.get_context("fork").Pool(processes, _dump_stacks_on_sigusr1)
    workers = list(multiprocessing.active_children())
    failed = True
    try:
        yield pool
        failed = False
    finally:
        if not failed:
            pool.close()
            deadline = time.monotonic() + POOL_TIMEOUT
            for worker in workers:
                worker.join(max(0.0, deadline - time.monotonic()))
        stuck = [worker for worker in workers if worker.is_alive()]
        for worker in stuck:
            if worker.pid is not None:  # always set once started; never signal pid 0
                os.kill(worker.pid, signal.SIGUSR1)
            worker.join(1.0)  # time to print its stacks, if it still can
            worker.kill()
            worker.join()
        # terminate() may wait without a limit on a queue lock a killed worker held.
        ender = threading.Thread(target=pool.terminate, name="pool-terminate", daemon=True)
        ender.start()
        ender.join(POOL_TIMEOUT)
        if stuck and not failed:
            pytest.fail(f"{len(stuck)} pool worker(s) did not exit; their stacks are above")


@pytest.fixture
def fast_liveness(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Heartbeat every 20 ms and call a run crashed after 0.5 s of silence (inherited by forks)."""
    monkeypatch.setattr(liveness, "HEARTBEAT_INTERVAL", 0.02)
    monkeypatch.setattr(liveness, "STALE_AFTER", 0.5)
    yield


def _child_run(index: int) -> dict[str, Any]:
    """In a pool worker: log a nested run and report what the store says while it lives."""
    parent = runfolio.active_run()
    default_sigterm = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with runfolio.start_run(nested=True, run_name=f"child-{index}") as run:
        hooked_sigterm = signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        runfolio.log_metric("loss", 1.0 / (index + 1))
        # Alive well past STALE_AFTER: only a heartbeat keeps the run RUNNING now.
        time.sleep(3 * liveness.STALE_AFTER)
        status = runfolio.get_run(run.run_id).status
        heartbeat = (run.path / layout.HEARTBEAT_FILE).exists()
    return {
        "run_id": run.run_id,
        "parent_run_id": runfolio.get_run(run.run_id).parent_run_id,
        "status_while_alive": status,
        "heartbeat": heartbeat,
        "active_at_start": parent.run_id if parent else None,
        # Pool.terminate() kills an idle worker at once; a run's SIGTERM ends it KILLED.
        "sigterm": (default_sigterm, hooked_sigterm),
    }


_inherited: list[runfolio.Run] = []  # set before forking: children get a copy, as fork gives


def _touch_parent_run() -> str:
    """In a pool worker: try to log into, then end, the parent's run (inherited by fork)."""
    [run] = _inherited
    try:
        run.log_metric("from-child", 1.0)
    except runfolio.RunEndedError as exc:
        outcome = str(exc)
    else:
        outcome = "logged"
    run.end("FAILED")  # the child's copy is detached: this must not end the parent's run
    return outcome


def test_forked_children_heartbeat_their_own_runs(fluent_store: Path, fast_liveness: None) -> None:
    parent = runfolio.start_run(run_name="sweep")
    runfolio.log_param("grid", "small")
    with _fork_pool(2) as pool:
        reports = pool.map_async(_child_run, range(2)).get(timeout=POOL_TIMEOUT)
    for report in reports:
        assert report["heartbeat"], report
        assert report["status_while_alive"] == "RUNNING", report
        assert report["active_at_start"] is None  # the parent's run is not the child's
        assert report["sigterm"] == (True, True)
        assert report["parent_run_id"] == parent.run_id
        assert runfolio.get_run(report["run_id"]).status == "FINISHED"
    # The parent's run is untouched: still this process's, still running.
    data = read_yaml_file(parent.path / layout.RUN_FILE)
    assert (data["status"], data["process"]["pid"]) == ("RUNNING", os.getpid())
    runfolio.end_run()
    assert runfolio.get_run(parent.run_id).status == "FINISHED"


def test_a_child_cannot_log_into_or_end_the_parents_run(fluent_store: Path) -> None:
    parent = runfolio.start_run(run_name="sweep")
    runfolio.log_metric("loss", 0.5)
    _inherited[:] = [parent]
    try:
        with _fork_pool(1) as pool:
            outcome = pool.apply_async(_touch_parent_run).get(timeout=POOL_TIMEOUT)
    finally:
        _inherited.clear()
    assert "which forked this one" in outcome
    runfolio.log_metric("loss", 0.25, step=1)
    assert read_yaml_file(parent.path / layout.RUN_FILE)["status"] == "RUNNING"
    rows = (parent.path / layout.METRICS_FILE).read_text(encoding="utf-8").splitlines()
    assert [row.split(",")[:3] for row in rows[1:]] == [["loss", "0", "0.5"], ["loss", "1", "0.25"]]
    runfolio.end_run()
    assert read_yaml_file(parent.path / layout.RUN_FILE)["status"] == "FINISHED"


def _start_and_end_a_run(index: int) -> str:
    """In a pool worker: start and end a run (registering it takes the live-runs lock)."""
    with runfolio.start_run(run_name=f"child-{index}", nested=True) as run:
        runfolio.log_metric("x", float(index))
    return run.run_id


def test_a_lock_held_by_another_thread_at_fork_does_not_deadlock_the_child(
    fluent_store: Path,
) -> None:
    runfolio.start_run(run_name="parent")  # the heartbeat thread and hooks are running
    # Another thread holds the live-runs lock while the pool forks, as the heartbeat
    # thread does for an instant at each beat.
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lifecycle._live_lock:
            held.set()
            release.wait(POOL_TIMEOUT)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(POOL_TIMEOUT)
    try:
        with _fork_pool(2) as pool:
            release.set()  # the children were forked with the lock held
            ids = pool.map_async(_start_and_end_a_run, range(2)).get(timeout=POOL_TIMEOUT)
    finally:
        release.set()
        holder.join()
    assert sorted(runfolio.get_run(i).status for i in ids) == ["FINISHED", "FINISHED"]


def _blocked_signals(thread: threading.Thread) -> int:
    """The signal mask of one thread of this process, from /proc (Linux)."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text(encoding="ascii")
    [mask] = [line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")]
    return int(mask, 16)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_the_heartbeat_thread_leaves_sigterm_to_the_main_thread(fluent_store: Path) -> None:
    # A process-wide SIGTERM taken by the heartbeat thread while the main thread waits in
    # a C call (a pool worker reading its next task) would never run the Python handler:
    # Pool.terminate() hung on such a worker. The heartbeat thread must block it.
    runfolio.start_run(run_name="live")
    try:
        [heartbeat] = [t for t in threading.enumerate() if t.name == "runfolio-heartbeat"]
        wait_until(  # the thread blocks it as its first step
            lambda: _blocked_signals(heartbeat) & (1 << (signal.SIGTERM - 1)),
            "the heartbeat thread to block SIGTERM",
            10,
            interval=0.001,
        )
        assert not _blocked_signals(threading.main_thread()) & (1 << (signal.SIGTERM - 1))
    finally:
        runfolio.end_run()


def _start_runs_in_one_experiment(count: int) -> int:
    """In a pool worker: start and end ``count`` runs as fast as possible."""
    for index in range(count):
        with runfolio.start_run(run_name=f"r{index}"):
            pass
    return count


def test_processes_starting_runs_at_once_in_one_experiment_all_succeed(
    fluent_store: Path,
) -> None:
    # Each start makes the experiment's staging folder, and each publish removes it when
    # empty: a start that looked inside it between another's two steps failed with
    # "cannot create a run folder ... No such file or directory".
    with _fork_pool(4) as pool:
        counts = pool.map_async(_start_runs_in_one_experiment, [40] * 4).get(timeout=POOL_TIMEOUT)
    assert counts == [40] * 4
    assert len(runfolio.search_runs(output_format="list")) == 160
