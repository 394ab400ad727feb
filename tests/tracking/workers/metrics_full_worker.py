"""Log metrics until the disk is full, fail, get room back, retry; copy the store out.

Usage: ``metrics_full_worker.py MODE SCENARIO STORE OUT_DIR``

``MODE`` is ``tmpfs`` (``STORE`` is on a tiny private tmpfs, filled with a filler file
and freed by deleting it: writes fail with ENOSPC) or ``fsize`` (the file size limit
``RLIMIT_FSIZE`` is lowered, SIGXFSZ ignored: writes past it fail with EFBIG, and
raising the limit gives the room back). Either way the kernel really refuses the
writes, part way through a row where the room runs out.

``SCENARIO`` is ``metrics`` (log rows until one is refused, and a batch; retry both
with room) or ``end`` (end the run on the full disk, then again with room). Prints one
JSON line: the steps whose ``log_metric`` returned and how each failing call failed.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sys
from typing import Any

SIZE_LIMIT = 512  # bytes, in fsize mode: a run.yaml is longer
BATCH = {f"batch_{i}": i / 7 for i in range(6)}


def metric_value(step: int) -> float:
    """The value logged at ``step``."""
    return step / 3


def fill(mode: str, store: str) -> None:
    """Leave no room: a filler file takes the tmpfs, or the file size limit drops."""
    if mode == "fsize":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (SIZE_LIMIT, resource.RLIM_INFINITY))
        return
    fd = os.open(os.path.join(store, "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                pass  # full at this chunk size: try a smaller one
    finally:
        os.close(fd)


def free(mode: str, store: str) -> None:
    """Give the room back."""
    if mode == "fsize":
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    else:
        os.unlink(os.path.join(store, "filler"))


def main() -> None:
    """Fill, fail, free, retry: metric rows (scenario ``metrics``) or ``end`` itself."""
    from worker_common import attempt  # the workers folder is sys.path[0]

    from runfolio import Store, StoreError

    mode, scenario, store_path, out = sys.argv[1:5]
    run = Store(store_path).start_run("full", run_name="filler")
    run.log_metric("m", metric_value(0), step=0)
    returned = [0]
    fill(mode, store_path)
    results: dict[str, Any] = {"run_id": run.run_id, "returned": returned}
    if scenario == "metrics":
        for step in range(1, 100_000):
            try:
                run.log_metric("m", metric_value(step), step=step)
            except StoreError as exc:
                results["metric"] = {"step": step, "message": str(exc)}
                break
            returned.append(step)
        results["batch"] = attempt(lambda: run.log_metrics(BATCH, step=1))
        free(mode, store_path)
        retry_step = returned[-1] + 1
        run.log_metric("m", metric_value(retry_step), step=retry_step)
        returned.append(retry_step)
        results["batch_retry"] = attempt(lambda: run.log_metrics(BATCH, step=2))
    else:
        results["end"] = attempt(run.end)
        results["ended_after_failure"] = run.ended
        free(mode, store_path)
    results["end_retry"] = attempt(run.end)
    results["status"] = run.status
    shutil.copytree(store_path, out, symlinks=True, ignore=shutil.ignore_patterns("filler"))
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
