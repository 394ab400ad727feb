"""Writes that readers (and killed writers) never see half done."""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from pathlib import Path

_counter = itertools.count()


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: a reader sees the old file or the new one.

    The text goes to a temporary file in the same directory, which is then renamed over
    ``path``; a process killed mid-write leaves at most a stray ``.tmp`` file behind.
    """
    fd, tmp = _make_temp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def create_text_exclusive(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text`` unless it already exists; return whether we made it.

    Safe when many processes race: exactly one wins, and no reader ever sees the file
    partly written, because the complete temporary file is hard-linked into place.
    """
    fd, tmp = _make_temp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            # Some filesystems (FAT, a few network mounts) have no hard links; an exclusive
            # create still gives one winner, at the cost of a brief partial file.
            return _create_exclusive_without_link(path, text)
        return True
    finally:
        _remove_quietly(tmp)


def _create_exclusive_without_link(path: Path, text: str) -> bool:
    """Create ``path`` with O_EXCL and write ``text``; False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return True


def _make_temp(path: Path) -> tuple[int, str]:
    """Create a fresh temporary file next to ``path``; return its descriptor and name.

    The name is unique per process, thread and call, so no random retry loop (and no
    ``tempfile`` import) is needed; O_EXCL still guards against a stale leftover.
    """
    while True:
        tmp = os.path.join(
            path.parent, f".{path.name}.{os.getpid()}.{threading.get_ident()}.{next(_counter)}.tmp"
        )
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), tmp
        except FileExistsError:
            continue


def _remove_quietly(path: str) -> None:
    """Delete a temporary file, ignoring that it may already be gone."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
