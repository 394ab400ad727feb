"""Exclusive locks on store folders, for read-merge-write of the small YAML files.

Several processes may write one run (a run resumed with ``force=True``) or one
experiment. Each rewrite of ``run.yaml``, ``params.yaml`` or ``experiment.yaml``
reads the file, merges its change and replaces the file while holding
:func:`folder_lock` on the folder that holds it, so no writer loses another's keys.

The lock is ``flock`` on a read-only descriptor of the folder itself, not on a lock
file: nothing is written into the store (no file to commit, ignore or publish), every
user who can read the folder can lock it (a store shared by several accounts), and the
kernel releases the lock when its process dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from runfolio.errors import StoreError

# Where flock cannot lock a folder: NFS (Linux emulates flock with POSIX locks, which
# refuse a read-only descriptor), some FUSE mounts. Writes then go ahead unlocked, as a
# single writer's always may.
_UNSUPPORTED = frozenset({errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL})


@contextlib.contextmanager
def folder_lock(folder: Path, *, required: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (blocking until other holders release it).

    The lock excludes other processes and other threads alike (each call opens its own
    descriptor), and is not re-entrant: a holder must not take it again. Where the
    filesystem cannot lock a folder the holder goes ahead unlocked, unless ``required``.

    Raises:
        StoreError: the folder cannot be opened (missing, not a folder, no permission)
            or locked (with ``required``, also where folders cannot be locked at all).
    """
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a single writer per run is the rule there
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    except OSError as exc:
        raise StoreError(f"cannot lock folder {folder}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if required or exc.errno not in _UNSUPPORTED:
                raise StoreError(f"cannot lock folder {folder}: {exc.strerror or exc}") from exc
        try:
            yield
        finally:
            # Unlocked explicitly, not by close(): a child forked meanwhile by another
            # thread holds a copy of the descriptor, which would keep the lock held.
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
