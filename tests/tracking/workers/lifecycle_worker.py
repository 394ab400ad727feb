"""Start a run and leave it in one of the ways a program can end.

Usage: ``lifecycle_worker.py STORE SCENARIO [STOP_FILE]``

Prints ``run <id>`` (flushed) as soon as the run exists; the parent then reads the run's
files once the process is gone. Scenarios are the functions below named ``scenario_*``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from worker_common import wait_for_file  # the workers folder is sys.path[0]

import runfolio

MAX_SECONDS = 30.0  # never outlive a parent that failed to signal us


def _announce(run: runfolio.Run) -> None:
    """Tell the parent which run this is."""
    print(f"run {run.run_id}", flush=True)


def scenario_with_ok() -> None:
    """Leave the ``with`` block normally."""
    with runfolio.start_run() as run:
        _announce(run)
        runfolio.log_metric("m", 1.0)


def scenario_with_raise() -> None:
    """Let an exception escape the ``with`` block (and the program)."""
    with runfolio.start_run() as run:
        _announce(run)
        raise ValueError("boom from inside the run")


def scenario_with_keyboard_interrupt() -> None:
    """Get a real SIGINT (Ctrl-C) inside the ``with`` block."""
    with runfolio.start_run() as run:
        _announce(run)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(MAX_SECONDS)  # the KeyboardInterrupt lands here


def scenario_with_sigterm() -> None:
    """Sleep inside the ``with`` block until the parent sends SIGTERM."""
    with runfolio.start_run() as run:
        _announce(run)
        time.sleep(MAX_SECONDS)


def scenario_open_sigterm() -> None:
    """Sleep with a run started without ``with`` until the parent sends SIGTERM."""
    _announce(runfolio.start_run())
    time.sleep(MAX_SECONDS)


def scenario_never_ended() -> None:
    """Start a run without ``with`` and never end it."""
    _announce(runfolio.start_run())
    runfolio.log_metric("m", 2.0, step=3)


def scenario_never_ended_raise() -> None:
    """Start a run without ``with``, never end it, and die of an uncaught exception."""
    _announce(runfolio.start_run())
    raise RuntimeError("boom at top level")


def scenario_exit_zero() -> None:
    """Call ``sys.exit(0)`` inside the ``with`` block."""
    with runfolio.start_run() as run:
        _announce(run)
        sys.exit(0)


def scenario_exit_three() -> None:
    """Call ``sys.exit(3)`` inside the ``with`` block."""
    with runfolio.start_run() as run:
        _announce(run)
        sys.exit(3)


def scenario_heartbeat() -> None:
    """Run with a fast heartbeat until the stop file appears, then end normally."""
    from runfolio.store import liveness

    liveness.HEARTBEAT_INTERVAL = 0.02  # patched before the run (and its heartbeat) starts
    with runfolio.start_run() as run:
        _announce(run)
        wait_for_file(Path(sys.argv[3]), MAX_SECONDS)


def main() -> None:
    """Run the scenario named on the command line."""
    # A process started in the background (nohup, `cmd &` in a script) inherits SIGINT
    # as ignored, and Python then keeps it ignored: restore Ctrl-C's usual meaning.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    runfolio.set_store(sys.argv[1])
    runfolio.set_experiment("life")
    globals()[f"scenario_{sys.argv[2]}"]()


if __name__ == "__main__":
    main()
