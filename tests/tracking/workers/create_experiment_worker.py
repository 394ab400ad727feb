"""Create (or find) an experiment the moment a start file appears, and print its record.

Usage: ``create_experiment_worker.py STORE START_FILE EXPERIMENT_NAME``

Prints ``ready`` while waiting, then the experiment record as one JSON line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from worker_common import wait_for_file  # the workers folder is sys.path[0]


def main() -> None:
    """Race the other workers to create the experiment."""
    store, start_file, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    import runfolio

    runfolio.set_store(store)
    print("ready", flush=True)
    wait_for_file(start_file)
    experiment = runfolio.set_experiment(name)
    record = {
        "name": experiment.name,
        "slug": experiment.slug,
        "path": str(experiment.path),
        "created": experiment.created,
        "description": experiment.description,
    }
    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
