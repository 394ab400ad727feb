"""Log runs without pause until a stop file appears: the store a build reads meanwhile.

Usage: ``live_logger_worker.py STORE STOP_FILE``

Runs one after another in experiment ``live``: each logs ``loss`` and ``acc`` at every
step (``log_metric`` and ``log_metrics`` calls), retags itself, logs a small artifact
now and then, and ends after 40 steps. Prints ``ready`` once its first run exists.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main() -> None:
    """Log until told to stop."""
    from runfolio import Store

    store, stop = Store(sys.argv[1]), Path(sys.argv[2])
    store.set_experiment("live", primary_metric="acc", direction="maximize")
    give_up = time.monotonic() + 120
    number = 0
    announced = False
    while not stop.exists() and time.monotonic() < give_up:
        run = store.start_run("live", run_name=f"live-{number}")
        if not announced:
            print("ready", flush=True)
            announced = True
        for step in range(40):
            if stop.exists():
                break
            run.log_metric("loss", 1.0 / (step + 1), step=step)
            run.log_metrics({"acc": step / 40, "lr": 0.1}, step=step)
            if step % 10 == 0:
                run.set_tags({"progress": str(step)})
            if step % 15 == 0:
                run.log_text(f"step {step}\n", f"notes/step-{step}.txt")
        run.end()
        number += 1


if __name__ == "__main__":
    main()
