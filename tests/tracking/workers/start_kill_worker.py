"""Start a run and SIGKILL this process at one chosen point inside ``start_run``.

Usage: ``start_kill_worker.py STORE KILL_AT``

``KILL_AT`` is ``run-yaml`` (as run.yaml is about to land under its name) or ``publish``
(as the complete run folder is about to be renamed into place). The kill is real
(``SIGKILL`` to itself): no ``finally``, atexit or cleanup runs. Prints ``not killed``
when start_run never reached the point.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import runfolio
from runfolio.store import layout


def _kill_before(kind: str, real: object) -> object:
    """Wrap os.replace/os.rename/os.link: die before the step KILL_AT names."""

    def wrapper(src: object, dst: object, *args: object, **kwargs: object) -> object:
        name = Path(os.fsdecode(dst)).name  # type: ignore[arg-type]
        if (kind == "run-yaml" and name == layout.RUN_FILE) or (
            kind == "publish" and layout.is_run_id(name)
        ):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)  # type: ignore[operator]

    return wrapper


def main() -> None:
    """Start one run with the kill point armed."""
    store, kill_at = sys.argv[1], sys.argv[2]
    runfolio.set_store(store)
    runfolio.set_experiment("e")  # written before the kill point is armed
    for name in ("replace", "rename", "link"):
        setattr(os, name, _kill_before(kill_at, getattr(os, name)))
    runfolio.start_run()
    print("not killed", flush=True)


if __name__ == "__main__":
    main()
