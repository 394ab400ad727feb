"""Reading a store's own files (run.yaml, metrics.csv ...) without following symlinks.

A store is untrusted once it is shared: a ``params.yaml`` that is a symlink to
``~/.aws/credentials`` would otherwise be parsed and published by a site build. Readers
therefore open every metadata file with ``O_NOFOLLOW`` (one system call, no extra
``lstat``), as :func:`runfolio.store.reader.iter_run_dirs` already refuses symlinked run
folders.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from runfolio.errors import MalformedRunError

SYMLINK_PROBLEM = "is a symlink; runfolio does not follow symlinks in a store"

# Windows has no O_NOFOLLOW; there a symlink needs privileges to make, and lstat() checks it.
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def read_store_file(path: Path | str) -> bytes | None:
    """Return the bytes of a file of the store, or None when it does not exist.

    Raises:
        MalformedRunError: the file is a symlink, a folder, or cannot be read; the
            message starts with the path.
    """
    try:
        if not _NO_FOLLOW and os.path.islink(path):
            raise OSError(errno.ELOOP, "symlink")
        fd = os.open(path, os.O_RDONLY | _NO_FOLLOW | _BINARY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MalformedRunError(f"{path}: {_reason(exc)}") from exc
    try:
        with open(fd, "rb", closefd=True) as handle:
            return handle.read()
    except OSError as exc:  # a folder opens fine on POSIX and fails here (EISDIR)
        raise MalformedRunError(f"{path}: {_reason(exc)}") from exc


def _reason(exc: OSError) -> str:
    """Why a file could not be read, in words."""
    if exc.errno == errno.ELOOP:
        return SYMLINK_PROBLEM
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    return f"cannot read ({exc.strerror or exc})"
