"""Log a little, wait while the parent makes the store read-only, then try to log more.

Usage: ``readonly_worker.py STORE GO_FILE``

Prints ``ready <run id> <second run id>`` once the first writes are done, waits for
``GO_FILE``, then prints one JSON line: for each attempted write, None when it worked
or the error's type, whether it is a ``StoreError``, and its message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from worker_common import attempt, wait_for_file  # the workers folder is sys.path[0]


def main() -> None:
    """Write, wait, then write into the read-only store."""
    from runfolio import Store

    store, go = Store(sys.argv[1]), Path(sys.argv[2])
    run = store.start_run("ro", run_name="before")
    run.log_params({"a": 1, "nested": {"b": "x"}})
    run.set_tags({"t": "1"})
    for step in range(5):
        run.log_metric("m", step / 4, step=step)
    untouched = store.start_run("ro", run_name="no-metrics-yet")
    print(f"ready {run.run_id} {untouched.run_id}", flush=True)
    wait_for_file(go)
    results = {
        "log_param": attempt(lambda: run.log_param("c", 3)),
        "set_tag": attempt(lambda: run.set_tag("t", "2")),
        "log_text": attempt(lambda: run.log_text("hello\n", "notes.txt")),
        "first_metric": attempt(lambda: untouched.log_metric("m", 1.0)),
        "start_run": attempt(lambda: store.start_run("ro")),
        "new_experiment": attempt(lambda: store.set_experiment("elsewhere")),
        "end": attempt(run.end),
    }
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
