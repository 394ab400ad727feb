"""One member of a parallel sweep: wait for the start signal, then log a whole run.

Usage: ``sweep_worker.py STORE START_FILE WORKER_INDEX STEPS SCRATCH_DIR``

Prints ``ready`` once imported and waiting, then one JSON line describing the run and
the experiment record it got. Every logged value is a pure function of the worker
index, the metric and the step (:func:`expected_value`), so the parent can check each
row without talking to the worker.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

KEYS = ("loss", "accuracy", "lr", "grad_norm")
# Values whose text form is easy to get wrong; each one appears in every run.
SPECIAL = (math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308, 2.0**53 + 2)
TAG_EVERY = 100


def expected_value(worker: int, key_index: int, step: int) -> float:
    """The value worker ``worker`` logs for ``KEYS[key_index]`` at ``step``."""
    if (step + worker + key_index) % 37 == 0:
        return SPECIAL[(step // 37 + key_index) % len(SPECIAL)]
    return (worker + 1) * (key_index + 1) / (step + 7) + step * 1e-9


def expected_params(worker: int) -> dict[str, object]:
    """The params worker ``worker`` logs."""
    return {
        "worker": worker,
        "seed": 1000 + worker,
        "optimizer": {"name": "sgd", "lr": 0.1 * (worker + 1)},
    }


def main() -> None:
    """Log one run of the sweep."""
    store, start_file, worker, steps, scratch = (
        sys.argv[1],
        Path(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
        Path(sys.argv[5]),
    )
    import runfolio

    runfolio.set_store(store)  # no disk access yet: every worker races from set_experiment on
    artifact = scratch / f"report-{worker}.txt"
    artifact.write_text(f"report of worker {worker}\n", encoding="utf-8")
    print("ready", flush=True)
    from worker_common import wait_for_file  # the workers folder is sys.path[0]

    wait_for_file(start_file)

    experiment = runfolio.set_experiment("sweep")
    with runfolio.start_run(run_name=f"worker-{worker}", tags={"worker": str(worker)}) as run:
        runfolio.log_params(expected_params(worker))
        for step in range(steps):
            runfolio.log_metric(KEYS[0], expected_value(worker, 0, step), step=step)
            runfolio.log_metric(KEYS[1], expected_value(worker, 1, step), step=step)
            runfolio.log_metrics(
                {
                    KEYS[2]: expected_value(worker, 2, step),
                    KEYS[3]: expected_value(worker, 3, step),
                },
                step=step,
            )
            if step % TAG_EVERY == 0:
                runfolio.set_tag("progress", str(step))
        runfolio.log_artifact(str(artifact), "reports")
        runfolio.log_text(f"worker {worker} done\n", "notes/done.txt")
        runfolio.set_tags({"done": "yes"})
    record = {
        "name": experiment.name,
        "slug": experiment.slug,
        "path": str(experiment.path),
        "created": experiment.created,
    }
    print(json.dumps({"worker": worker, "run_id": run.run_id, "experiment": record}), flush=True)


if __name__ == "__main__":
    main()
