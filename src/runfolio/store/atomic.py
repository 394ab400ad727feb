"""Writes that readers (and killed writers) never see half done."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: a reader sees the old file or the new one.

    The text goes to a temporary file in the same directory, which is then renamed over
    ``path``; a process killed mid-write leaves at most a stray ``.tmp`` file behind.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def _remove_quietly(path: str) -> None:
    """Delete a temporary file, ignoring that it may already be gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
