"""A run's ``artifacts/`` folder as a listing: every entry, and the logged models among them.

:func:`list_artifacts` walks the folder without ever following a symlink; the run
details, the registry (which checks a model exists before registering it) and the
site's run pages read the same listing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from runfolio.errors import MalformedRunError
from runfolio.store.layout import ARTIFACTS_DIR, MODEL_DESCRIPTOR_FILE
from runfolio.store.reader import read_yaml_file

_SYMLINK_PROBLEM = "is a symlink; runfolio does not follow symlinks in a store"


@dataclass(frozen=True)
class ArtifactFile:
    """One entry of a run's ``artifacts/`` folder that is not a folder itself.

    Attributes:
        path: relative to ``artifacts/``, with ``/`` separators.
        size: bytes; None for a symlink, whose target is never looked at.
        model: the logged model folder the entry belongs to (the outermost one when
            models nest), None outside every model.
        symlink: the entry is a symbolic link (to a file, a folder or nothing).
    """

    path: str
    size: int | None
    model: str | None = None
    symlink: bool = False


@dataclass(frozen=True)
class LoggedModel:
    """A folder of ``artifacts/`` that holds a model descriptor (``model.yaml``).

    Attributes:
        path: the folder, relative to ``artifacts/``.
        descriptor: the descriptor's mapping; empty when it could not be read.
    """

    path: str
    descriptor: dict[str, Any] = field(default_factory=dict)

    @property
    def flavor(self) -> Any:
        """The descriptor's ``flavor`` (``pickle``, ``sklearn`` ...), None when absent."""
        return self.descriptor.get("flavor")

    @property
    def class_name(self) -> Any:
        """The descriptor's ``class`` (the model's qualified class name), None when absent."""
        return self.descriptor.get("class")


@dataclass
class ArtifactListing:
    """What :func:`list_artifacts` found: entries, logged models, and read problems."""

    files: list[ArtifactFile] = field(default_factory=list)
    models: list[LoggedModel] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def list_artifacts(run_dir: Path) -> ArtifactListing:
    """List every entry under ``run_dir/artifacts/`` and the logged models among them.

    Entries come folder by folder, top-down: a folder's own entries by name, then each
    subfolder's in name order. A folder below ``artifacts/`` that holds a regular
    ``model.yaml`` is a logged model; its descriptor is read, never the model itself.

    Symlinks are never followed: one is listed as an entry with ``symlink=True`` and no
    size, even when it points at a folder; a symlinked ``model.yaml`` is not read (the
    folder does not count as a model, and a problem says why); a symlinked
    ``artifacts/`` lists nothing and is reported as a problem.

    Args:
        run_dir: the run folder; a run without ``artifacts/`` has an empty listing.

    Returns:
        The entries, the models in the order their folders are met, and a text for
        each folder or descriptor that could not be read.
    """
    listing = ArtifactListing()
    base = run_dir / ARTIFACTS_DIR
    try:
        mode = os.lstat(base).st_mode
    except FileNotFoundError:
        return listing
    except OSError as exc:
        listing.problems.append(f"{base}: cannot read ({exc.strerror})")
        return listing
    if stat.S_ISLNK(mode):
        listing.problems.append(f"{base}: {_SYMLINK_PROBLEM}")
    elif not stat.S_ISDIR(mode):
        listing.problems.append(f"{base}: is not a folder")
    else:
        _walk(base, PurePosixPath(), None, listing)
    return listing


def _walk(
    folder: Path, relative: PurePosixPath, owner: str | None, listing: ArtifactListing
) -> None:
    """Add the entries under ``folder`` to ``listing``; ``owner`` is the enclosing model."""
    try:
        with os.scandir(folder) as scanned:
            entries = sorted(scanned, key=lambda e: e.name)
    except OSError as exc:
        listing.problems.append(f"{folder}: cannot read ({exc.strerror})")
        return
    descriptor = next((entry for entry in entries if entry.name == MODEL_DESCRIPTOR_FILE), None)
    if descriptor is not None and relative.parts:
        if descriptor.is_symlink():
            listing.problems.append(f"{descriptor.path}: {_SYMLINK_PROBLEM}")
        elif descriptor.is_file(follow_symlinks=False):
            listing.models.append(
                LoggedModel(relative.as_posix(), _read_descriptor(descriptor, listing.problems))
            )
            owner = owner or relative.as_posix()
    subfolders = []
    for entry in entries:
        path = (relative / entry.name).as_posix()
        if entry.is_symlink():
            listing.files.append(ArtifactFile(path, None, owner, symlink=True))
        elif entry.is_dir(follow_symlinks=False):
            subfolders.append(entry)
        else:
            try:
                size = entry.stat(follow_symlinks=False).st_size
            except FileNotFoundError:  # removed since the folder was listed
                continue
            listing.files.append(ArtifactFile(path, size, owner))
    for entry in subfolders:
        _walk(Path(entry.path), relative / entry.name, owner, listing)


def _read_descriptor(entry: os.DirEntry[str], problems: list[str]) -> dict[str, Any]:
    """Read a model descriptor; an unreadable one is empty and its problem is recorded."""
    try:
        data = read_yaml_file(Path(entry.path))
    except MalformedRunError as exc:
        problems.append(str(exc))
        return {}
    return data if isinstance(data, dict) else {}
