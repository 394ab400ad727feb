"""A training loop that the parent kills with SIGKILL at a random moment.

Usage: ``kill_worker.py STORE``

Prints ``run <id>`` once the run exists, then one line per call that has *returned*:
``m <step>`` after ``log_metric``, ``b <step>`` after a large ``log_metrics`` batch (big
enough to span several pages, so a kill can land inside its write), ``t <step>`` after
rewriting a tag (run.yaml) and ``p <step>`` after logging a new param (params.yaml).
Every value is a pure function of the step (:func:`loss_value`, :func:`batch_value`).
"""

from __future__ import annotations

import sys
import time

BATCH_KEYS = tuple(f"layer_{i:04d}_grad_norm" for i in range(200))
BATCH_EVERY = 50
TAG_EVERY = 13
PARAM_EVERY = 29
MAX_SECONDS = 30.0  # never outlive a parent that failed to kill us


def loss_value(step: int) -> float:
    """The ``loss`` logged at ``step``."""
    return 1.0 / (step + 3) + step * 1e-7


def batch_value(step: int, index: int) -> float:
    """The value of ``BATCH_KEYS[index]`` logged at ``step``."""
    return (index + 1) / (step + 1) / 7.0


def main() -> None:
    """Log until killed."""
    from runfolio import Store

    run = Store(sys.argv[1]).start_run("x", run_name="doomed")
    print(f"run {run.run_id}", flush=True)
    give_up = time.monotonic() + MAX_SECONDS
    step = 0
    while time.monotonic() < give_up:
        run.log_metric("loss", loss_value(step), step=step)
        print(f"m {step}", flush=True)
        if step % BATCH_EVERY == 0:
            run.log_metrics({k: batch_value(step, i) for i, k in enumerate(BATCH_KEYS)}, step=step)
            print(f"b {step}", flush=True)
        if step % TAG_EVERY == 0:
            run.set_tags({"progress": str(step), "phase": "even" if step % 2 == 0 else "odd"})
            print(f"t {step}", flush=True)
        if step % PARAM_EVERY == 0:
            run.log_param(f"p{step}", step)
            print(f"p {step}", flush=True)
        step += 1
    sys.exit("was never killed")


if __name__ == "__main__":
    main()
