"""Run ``runfolio import dvclive`` and SIGKILL this process at one chosen point of it.

Usage: ``import_kill_worker.py STORE DVCLIVE_FOLDER KILL_AT``

``KILL_AT`` is ``artifact`` (as the first artifact file is about to land, params and
metrics already written), ``run-yaml`` (as run.yaml is about to land) or ``publish`` (as
the complete run folder is about to be renamed into place). The kill is real (``SIGKILL``
to itself): no ``finally``, atexit or cleanup runs. Prints ``not killed`` when the import
never reached the point.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from runfolio.cli import main as cli
from runfolio.store import layout


def _kill_before(kind: str, real: object) -> object:
    """Wrap os.replace/os.rename/os.link: die before the step KILL_AT names."""

    def wrapper(src: object, dst: object, *args: object, **kwargs: object) -> object:
        target = Path(os.fsdecode(dst))  # type: ignore[arg-type]
        if (
            (kind == "artifact" and layout.ARTIFACTS_DIR in target.parts)
            or (kind == "run-yaml" and target.name == layout.RUN_FILE)
            or (kind == "publish" and layout.is_run_id(target.name))
        ):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)  # type: ignore[operator]

    return wrapper


def main() -> None:
    """Import one DVCLive folder with the kill point armed."""
    store, folder, kill_at = sys.argv[1:4]
    for name in ("replace", "rename", "link"):
        setattr(os, name, _kill_before(kill_at, getattr(os, name)))
    cli(["--store", store, "import", "dvclive", folder], standalone_mode=False)
    print("not killed", flush=True)


if __name__ == "__main__":
    main()
