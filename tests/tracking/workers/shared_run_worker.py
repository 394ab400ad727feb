"""Resume one run from another process, as a second writer of a live run would.

Usage: ``shared_run_worker.py STORE RUN_ID MODE INDEX START_FILE STOP_FILE``

* ``resume``: resume the run without ``force`` as soon as START_FILE exists; print ``ok``
  or ``in-use`` (flushed), then, when resumed, keep it until STOP_FILE exists and end it.
* ``log``: resume it with ``force=True``, wait for START_FILE, then log params and tags
  named after INDEX (one write each), add a model, end the run and print ``done``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from worker_common import wait_for_file  # the workers folder is sys.path[0]

import runfolio

MAX_SECONDS = 60.0  # never outlive a parent that failed to signal us
WRITES = 40


def main() -> None:
    """Do what MODE says."""
    store, run_id, mode, index = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    start, stop = Path(sys.argv[5]), Path(sys.argv[6])
    runfolio.set_store(store)
    if mode == "resume":
        wait_for_file(start, MAX_SECONDS)
        try:
            run = runfolio.start_run(run_id=run_id)
        except runfolio.RunInUseError as exc:
            print(f"in-use {exc}", flush=True)
            return
        print("ok", flush=True)
        wait_for_file(stop, MAX_SECONDS)
        run.end()
        return
    runfolio.start_run(run_id=run_id, force=True)
    print("ready", flush=True)
    wait_for_file(start, MAX_SECONDS)
    for number in range(WRITES):
        runfolio.log_param(f"w{index}.p{number}", number)
        runfolio.set_tag(f"w{index}-t{number}", str(number))
    runfolio.log_model({"weights": index}, f"model-{index}")
    runfolio.end_run()
    print("done", flush=True)


if __name__ == "__main__":
    main()
