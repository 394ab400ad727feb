"""Writes that readers, killed writers and power cuts never see half done.

Every file the store writes goes through this module, and so does its fsync policy
(docs/store-format.md, "Durability"): a file is written to a temporary name in its own
folder, fsynced, renamed over the final name, and then the folder is fsynced, so once
a call returns its file survives a power cut, and a reader (or a crash at any instant)
sees the old file or the new one, never a mix. A folder the store creates is fsynced
into its parent the same way.

``durable=False`` keeps the rename (readers still never see a torn file) but skips
both fsyncs: for output derived from the store that a rebuild recreates (the site, the
record cache, snapshots), where an fsync per file would cost more than it protects.
``RUNFOLIO_FSYNC=0`` in the environment skips every fsync, like SQLite's
``PRAGMA synchronous=OFF``: for throw-away stores and test suites, never for a store
whose runs matter.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_counter = itertools.count()
_COPY_CHUNK = 1 << 20
# Errors of an fsync on a folder that mean "this filesystem cannot do that", not "lost".
_FOLDER_SYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}


@contextlib.contextmanager
def atomic_writer(path: Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary handle whose bytes replace ``path`` in one step when the block ends.

    The handle writes a fresh temporary file beside ``path`` (``.<name>.<pid>.<thread>.<n>.tmp``,
    which readers ignore). When the block ends normally the file is flushed, fsynced
    (when ``durable``), closed and renamed over ``path``, and the folder is fsynced
    (when ``durable``). When it raises, the temporary file is removed and ``path`` is
    untouched. A process killed at any instant leaves ``path`` old or new and at most a
    stray temporary file.

    Args:
        path: the file to replace (its folder must exist).
        durable: fsync the file and its folder (the store); False for derived output.

    Raises:
        OSError: the file cannot be written, synced or renamed (``path`` is untouched).
    """
    fd, tmp = _make_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                sync_file(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    if durable:
        sync_folder(path.parent)


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step (see :func:`atomic_writer`)."""
    with atomic_writer(path, durable=durable) as handle:
        handle.write(data)


def write_text_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends kept) in one step.

    A reader sees the old file or the new one; see :func:`atomic_writer`.
    """
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)


def copy_file_atomic(source: Path, path: Path, *, durable: bool = True) -> None:
    """Replace ``path`` with a copy of the file ``source`` in one step.

    The file at ``path`` is never truncated: until the copy is complete (and synced)
    readers and a crash see the previous file. ``source`` may be ``path`` itself.

    Raises:
        OSError: ``source`` cannot be read or ``path`` cannot be written.
    """
    with open(source, "rb") as src, atomic_writer(path, durable=durable) as handle:
        shutil.copyfileobj(src, handle, _COPY_CHUNK)


def move_file_atomic(source: Path, path: Path, *, durable: bool = True) -> None:
    """Rename the complete file ``source`` to ``path`` (same filesystem), durably.

    For a file another program wrote (a download): it is fsynced before the rename and
    the folders after it, as :func:`atomic_writer` does for its own files.

    Raises:
        OSError: the file cannot be synced or renamed.
    """
    if durable and fsync_enabled():
        fd = os.open(source, os.O_RDONLY)
        try:
            sync_file(fd)
        finally:
            os.close(fd)
    os.replace(source, path)
    if durable:
        sync_folder(path.parent)
        if Path(source).parent != path.parent:
            sync_folder(Path(source).parent)


def create_text_exclusive(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text`` unless it already exists; return whether we made it.

    Safe when many processes race: exactly one wins, and no reader ever sees the file
    partly written, because the complete (fsynced) temporary file is hard-linked into
    place; the folder is fsynced after the link.
    """
    fd, tmp = _make_temp(path)
    try:
        _write_synced(fd, text.encode("utf-8"))
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            # Some filesystems (FAT, a few network mounts) have no hard links; an exclusive
            # create still gives one winner, at the cost of a brief partial file.
            return _create_exclusive_without_link(path, text)
    finally:
        _remove_quietly(tmp)
    sync_folder(path.parent)
    return True


def make_dir(
    path: Path, *, parents: bool = False, exist_ok: bool = False, durable: bool = True
) -> None:
    """Create the folder ``path`` (as :meth:`Path.mkdir`) and fsync it into its parent.

    Each folder created (with ``parents``, every missing level) is made durable in the
    folder holding it, so a file later synced inside it cannot be lost with its folder.

    Raises:
        FileExistsError: ``path`` exists and ``exist_ok`` is false.
        FileNotFoundError: a parent is missing and ``parents`` is false.
        OSError: the folder cannot be created or synced.
    """
    missing = [path]
    if parents:
        missing += itertools.takewhile(lambda p: not p.exists(), path.parents)
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if folder != path or (exist_ok and folder.is_dir()):
                continue
            raise
        if durable:
            sync_folder(folder.parent)


def fsync_enabled() -> bool:
    """Whether the store's writes are fsynced: always, unless ``RUNFOLIO_FSYNC=0``."""
    return os.environ.get("RUNFOLIO_FSYNC", "1") != "0"


def sync_file(fd: int) -> None:
    """Fsync the open file ``fd`` (its data reaches the disk), unless fsync is off.

    Raises:
        OSError: the data could not be written (EIO, ENOSPC on some filesystems).
    """
    if fsync_enabled():
        os.fsync(fd)


def sync_folder(folder: Path) -> None:
    """Fsync a folder, making the names created, renamed or removed in it durable.

    A filesystem that cannot sync a folder (and Windows, which cannot open one) is
    skipped, as SQLite does; other errors (EIO) are raised. Nothing when fsync is off.
    """
    if os.name == "nt" or not fsync_enabled():
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _FOLDER_SYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def _create_exclusive_without_link(path: Path, text: str) -> bool:
    """Create ``path`` with O_EXCL and write ``text``; False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    _write_synced(fd, text.encode("utf-8"))
    sync_folder(path.parent)
    return True


def _write_synced(fd: int, data: bytes) -> None:
    """Write ``data`` to the open file ``fd``, fsync it (unless fsync is off) and close it."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        sync_file(handle.fileno())


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
