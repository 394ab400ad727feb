"""Create (or find) an experiment the moment a start file appears, and print its record.

Usage: ``create_experiment_worker.py STORE START_FILE EXPERIMENT_NAME``

Prints ``ready`` while waiting, then the experiment record as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    """Race the other workers to create the experiment."""
    store, start_file, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    import runfolio

    runfolio.set_store(store)
    print("ready", flush=True)
    give_up = time.monotonic() + 60
    while not start_file.exists():
        if time.monotonic() > give_up:
            sys.exit(f"start file {start_file} never appeared")
        time.sleep(0.001)
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
