"""Resume one run from another process, as a second writer of a live run would.

Usage: ``shared_run_worker.py STORE RUN_ID MODE INDEX START_FILE STOP_FILE``

* ``resume``: resume the run without ``force`` as soon as START_FILE exists; print ``ok``
  or ``in-use`` (flushed), then, when resumed, keep it until STOP_FILE exists and end it.
* ``log``: resume it with ``force=True``, wait for START_FILE, then log params and tags
  named after INDEX (one write each), add a model, end the run and print ``done``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import runfolio

MAX_SECONDS = 60.0  # never outlive a parent that failed to signal us
WRITES = 40


def _wait_for(path: Path) -> None:
    """Sleep until ``path`` exists (or give up, failing loudly)."""
    give_up = time.monotonic() + MAX_SECONDS
    while not path.exists():
        if time.monotonic() > give_up:
            sys.exit(f"{path} never appeared")
        time.sleep(0.001)


def main() -> None:
    """Do what MODE says."""
    store, run_id, mode, index = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    start, stop = Path(sys.argv[5]), Path(sys.argv[6])
    runfolio.set_store(store)
    if mode == "resume":
        _wait_for(start)
        try:
            run = runfolio.start_run(run_id=run_id)
        except runfolio.RunInUseError as exc:
            print(f"in-use {exc}", flush=True)
            return
        print("ok", flush=True)
        _wait_for(stop)
        run.end()
        return
    runfolio.start_run(run_id=run_id, force=True)
    print("ready", flush=True)
    _wait_for(start)
    for number in range(WRITES):
        runfolio.log_param(f"w{index}.p{number}", number)
        runfolio.set_tag(f"w{index}-t{number}", str(number))
    runfolio.log_model({"weights": index}, f"model-{index}")
    runfolio.end_run()
    print("done", flush=True)


if __name__ == "__main__":
    main()
