"""Fill a tiny file system with metrics, then try to write metadata; copy the result out.

Usage: ``full_disk_worker.py STORE OUT_DIR``

Meant to run in a private mount namespace with ``STORE`` on a small tmpfs, which
vanishes with the process: the store is copied to ``OUT_DIR`` before exiting. Prints
one JSON line: how many ``log_metric`` calls returned, and how each failing call failed.
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any

from worker_common import attempt  # the workers folder is sys.path[0]

MAX_ROWS = 1_000_000


def metric_value(step: int) -> float:
    """The value logged at ``step``."""
    return step / 3


def main() -> None:
    """Log until the disk is full, then try the other writes."""
    from runfolio import Store, StoreError

    store_path, out = sys.argv[1], sys.argv[2]
    run = Store(store_path).start_run("full", run_name="filler")
    run.log_params({"a": 1})
    run.set_tags({"t": "1"})
    returned = 0
    metric_error: dict[str, Any] | None = None
    try:
        for step in range(MAX_ROWS):
            run.log_metric("m", metric_value(step), step=step)
            returned += 1
    except StoreError as exc:
        metric_error = {"type": type(exc).__name__, "store_error": True, "message": str(exc)}
    except Exception as exc:  # reported; the parent decides
        metric_error = {"type": type(exc).__name__, "store_error": False, "message": str(exc)}
    results = {
        "run_id": run.run_id,
        "returned": returned,
        "metric": metric_error,
        "log_param": attempt(lambda: run.log_param("b", 2)),
        "set_tag": attempt(lambda: run.set_tag("t", "2")),
        "end": attempt(run.end),
    }
    shutil.copytree(store_path, out, symlinks=True)
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
