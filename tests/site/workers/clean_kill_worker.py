"""Start a ``--clean`` write of a site and SIGKILL this process midway through the delete.

Usage: ``clean_kill_worker.py SITE K ORDER``

The process kills itself (a real ``SIGKILL``: no cleanup runs) just before the K-th
top-level entry of SITE is deleted. Prints ``not killed`` when the delete made fewer
than K deletions. Listing SITE returns its entries in ``ORDER`` (``sorted`` or
``reversed``): file systems list folders in orders of their own.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from runfolio.site.writer import write_site


def main() -> None:
    """Arm the kill point, then clean-write the site."""
    site, kill_at, order = Path(sys.argv[1]).absolute(), int(sys.argv[2]), sys.argv[3]
    deletions = 0
    real_listdir = os.listdir

    def listdir(path: Any = ".") -> list[str]:
        names = real_listdir(path)
        if Path(path).absolute() == site:
            return sorted(names, reverse=order == "reversed")
        return names

    def counting(real: Any) -> Any:
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal deletions
            if Path(path).absolute().parent == site:
                deletions += 1
                if deletions == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return real(path, *args, **kwargs)

        return wrapper

    shutil.rmtree = counting(shutil.rmtree)
    pathlib.Path.unlink = counting(pathlib.Path.unlink)  # type: ignore[method-assign]
    os.unlink = counting(os.unlink)
    os.listdir = listdir
    write_site(site, {"index.html": b"<p>the new build</p>"}, clean=True)
    print("not killed", flush=True)


if __name__ == "__main__":
    main()
