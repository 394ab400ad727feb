"""The one module that touches the output folder: incremental, atomic, contained.

Rendering produces a mapping of site-relative paths to content (bytes, or a source file
to copy, such as a theme's static file or an artifact). :func:`write_site` writes only
what changed since the last build, removes what is gone, and records what it wrote in a
manifest, so a rebuild leaves exactly the files a clean build would. It never writes
outside the output folder, never follows or creates symlinks, and refuses to clean a
folder it did not make.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from runfolio.errors import RunfolioError
from runfolio.store.atomic import write_bytes_atomic

MANIFEST = ".runfolio-site.json"
"""Written last in the output folder: the path and sha256 of every file of the build."""

_COPY_CHUNK = 1 << 20


class SiteWriteError(RunfolioError):
    """The output folder cannot be written as asked (not ours, a bad path, a symlink)."""


class StaleReuseError(SiteWriteError):
    """A path asked to be kept is not in the previous build; render it afresh."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is not in the previous build and cannot be kept")
        self.path = path


@dataclass(frozen=True)
class WriteReport:
    """What one write of the site did."""

    written: int
    unchanged: int
    removed: int

    @property
    def total(self) -> int:
        """Files in the site after the write."""
        return self.written + self.unchanged


def write_site(
    output: Path,
    files: Mapping[str, bytes | Path],
    *,
    clean: bool = False,
    reuse: Iterable[str] = (),
    state: Mapping[str, Any] | None = None,
    previous: PreviousSite | None = None,
) -> WriteReport:
    """Make ``output`` hold exactly ``files``, writing only what changed.

    Args:
        output: the site folder; created if missing. An existing folder must be empty or
            a site this function wrote (it has the manifest).
        files: site-relative POSIX paths mapped to their content, or to a regular file
            to copy (never through a symlink).
        clean: delete the previous build first and write everything.
        reuse: paths the caller knows are unchanged since the previous build (their
            inputs are the same); each is kept as it is, without being rendered or read
            again, when the previous manifest lists it and the file is still there.
            A path that cannot be kept raises, so the caller renders it instead.
        state: plain JSON data kept in the manifest for the next build (see
            :func:`read_previous_site`), such as the inputs each page was rendered from.
        previous: the folder's manifest as :func:`read_previous_site` read it earlier
            in the same build; read here when None.

    Raises:
        SiteWriteError: the folder is not empty and not a runfolio site, a path would
            leave it, or a file to copy is missing, a symlink or not a regular file.
    """
    checked = {_check_path(path): source for path, source in files.items()}
    kept = {_check_path(path) for path in reuse} - set(checked)
    previous_files = (previous or read_previous_site(output)).files
    if clean and output.is_dir():
        _delete_all_but_manifest(output)
        previous_files = {}
    kept_digests: dict[str, str] = {}
    for path in sorted(kept):
        digest = previous_files.get(path)
        if digest is None or not _is_plain_file(os.path.join(output, path)):
            raise StaleReuseError(path)
        kept_digests[path] = digest
    output.mkdir(parents=True, exist_ok=True)
    if not os.path.lexists(output / MANIFEST):
        # Claimed before the first file lands: a build killed midway leaves a folder the
        # next build recognises as a runfolio site (and rewrites), not a stranger's.
        _write_atomic(output, output / MANIFEST, json.dumps(_manifest({}, {})).encode())
    written = unchanged = 0
    current: dict[str, str] = {}
    for path, source in sorted(checked.items()):
        target = output.joinpath(*PurePosixPath(path).parts)
        data = source if isinstance(source, bytes) else _read_regular(source)
        digest = hashlib.sha256(data).hexdigest()
        current[path] = digest
        if previous_files.get(path) == digest and _is_plain_file(target):
            unchanged += 1
            continue
        _write_atomic(output, target, data)
        written += 1
    current.update(kept_digests)
    unchanged += len(kept_digests)
    removed = 0
    for path in sorted(set(previous_files) - set(current)):
        target = output.joinpath(*PurePosixPath(path).parts)
        if _is_plain_file(target):
            target.unlink()
            removed += 1
            _prune_empty_dirs(output, target.parent)
    manifest = _manifest(current, state or {})
    _write_atomic(output, output / MANIFEST, json.dumps(manifest, sort_keys=True).encode())
    return WriteReport(written=written, unchanged=unchanged, removed=removed)


def _manifest(files: Mapping[str, str], state: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's content: the digest of every file, and the builder's state."""
    return {"version": 1, "files": dict(files), "state": dict(state)}


def _delete_all_but_manifest(output: Path) -> None:
    """Empty the site folder for a clean build, keeping its manifest.

    The manifest stays until the new one replaces it, so a build killed mid-delete leaves
    a folder still marked as a runfolio site: the next build (clean or not) takes it
    over, rewriting what is missing and removing what its manifest lists but the new
    build lacks, instead of refusing a folder it "did not make".
    """
    for name in os.listdir(output):
        if name == MANIFEST:
            continue
        target = output / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()


@dataclass(frozen=True)
class PreviousSite:
    """What the manifest of the previous build in a folder says."""

    files: dict[str, str]
    state: dict[str, Any]


def read_previous_site(output: Path) -> PreviousSite:
    """Read the previous build's manifest in ``output`` (empty for a new or empty folder).

    A caller that reads it first (for its ``state``) passes it on to :func:`write_site`,
    so a large manifest is parsed once per build.

    Raises:
        SiteWriteError: the folder holds files but no manifest (not a runfolio site).
    """
    if not output.exists():
        return PreviousSite({}, {})
    if output.is_symlink() or not output.is_dir():
        raise SiteWriteError(f"{output} is not a folder")
    manifest = output / MANIFEST
    if not manifest.is_file():
        if any(output.iterdir()):
            raise SiteWriteError(
                f"{output} is not empty and was not built by runfolio (it has no {MANIFEST}); "
                "choose an empty or new folder for the site, or, if it only holds an "
                f"interrupted build of an older runfolio, delete it first: rm -r {output}"
            )
        return PreviousSite({}, {})
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return PreviousSite({}, {})  # a damaged manifest: rewrite everything
    files = data.get("files") if isinstance(data, dict) else None
    state = data.get("state") if isinstance(data, dict) else None
    return PreviousSite(
        {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {},
        state if isinstance(state, dict) else {},
    )


def _check_path(path: str) -> str:
    """Validate a site-relative path: relative, POSIX, no ``..``, not the manifest."""
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or any(part in ("..", ".", "") for part in path.split("/"))
        or path == MANIFEST
    ):
        raise SiteWriteError(f"refusing to write {path!r}: not a plain path inside the site")
    return path  # with no empty, "." or ".." part, it is already in normal form


def _read_regular(source: Path) -> bytes:
    """Read a file to copy, refusing symlinks and anything but a regular file."""
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise SiteWriteError(f"cannot copy {source} into the site: {exc.strerror}") from exc
    if not _is_regular_fd(fd):  # before fdopen, which refuses a folder with its own error
        os.close(fd)
        raise SiteWriteError(f"cannot copy {source} into the site: not a regular file")
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _is_regular_fd(fd: int) -> bool:
    """Tell whether an open descriptor is a regular file."""
    return stat.S_ISREG(os.fstat(fd).st_mode)


def _is_plain_file(path: Path | str) -> bool:
    """A regular file that is not a symlink (one ``lstat``)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _write_atomic(output: Path, target: Path, data: bytes) -> None:
    """Write one file by temporary file and rename, never through a symlinked folder."""
    for parent in [target.parent, *target.parent.parents]:
        if parent == output.parent:
            break
        if parent.is_symlink():
            raise SiteWriteError(f"refusing to write through the symlink {parent}")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    # Not fsynced: the site is rebuilt from the store (docs/store-format.md, Durability).
    write_bytes_atomic(target, data, durable=False)


def _prune_empty_dirs(output: Path, folder: Path) -> None:
    """Remove folders emptied by deletions, up to (not including) the output folder."""
    while folder != output and output in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
