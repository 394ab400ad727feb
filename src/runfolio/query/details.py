"""Everything about one run as plain data: record, relatives, artifacts, logged models.

:func:`build_run_details` gathers what ``runfolio show`` prints; the static site and the
pull-request report read the same dict. :func:`list_artifacts` walks a run's
``artifacts/`` folder without ever following a symlink. Nothing here formats text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from runfolio.errors import MalformedRunError
from runfolio.store.layout import ARTIFACTS_DIR, MODEL_DESCRIPTOR_FILE
from runfolio.store.reader import StoreScan, read_yaml_file
from runfolio.store.records import RunRecord
from runfolio.store.scan import require_experiments, scan_store

DESCRIPTOR_FILE = MODEL_DESCRIPTOR_FILE
"""The file that marks a folder of ``artifacts/`` as a logged model."""

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


def build_run_details(root: Path, run: RunRecord) -> dict[str, Any]:
    """Gather everything known about ``run`` into plain data (what ``runfolio show`` prints).

    Beyond the record itself: the parent's and children's names and statuses (children
    are the store's runs whose ``parent_run_id`` is this run, oldest first), every
    artifact entry with its size and the logged model it belongs to, the models'
    flavour and class, and the full paths of the captured git patch and package list.
    Times stay ISO 8601 text; values stay as stored (NaN included).

    Args:
        root: the store the run belongs to (searched for its parent and children).
        run: the run, as :func:`runfolio.query.runs.get_run` returns it.

    Returns:
        A dict with the keys ``id``, ``name``, ``experiment``, ``experiment_folder``,
        ``status``, ``stored_status``, ``start_time``, ``end_time``,
        ``duration_seconds``, ``user``, ``path``, ``parent`` and ``children`` (each
        ``{id, name, status}``, name and status None for a run that cannot be read),
        ``description``, ``failure`` (``{type, message, traceback}`` of the exception
        that ended a FAILED run; ``{}`` otherwise), ``source``, ``git``, ``environment``,
        ``tags``, ``params``
        (dotted keys, sorted), ``metrics`` (summaries by key, sorted), ``artifacts``
        (``{path, size, model, symlink}`` each, see :class:`ArtifactFile`), ``models``
        (``{path, flavor, class}`` each) and ``problems`` (texts).

    Raises:
        StoreError: ``root`` does not exist or is not a folder.
    """
    others = {r.run_id: r for r in scan_store(root).runs}
    parent = others.get(run.parent_run_id) if run.parent_run_id else None
    children = newest_first(r for r in others.values() if r.parent_run_id == run.run_id)
    listing = list_artifacts(run.path)
    git = dict(run.git)
    if git:
        git["patch"] = _captured(run.path, git.get("patch"))
    environment = dict(run.environment)
    if "packages" in environment:
        environment["packages"] = _captured(run.path, environment.get("packages"))
    return {
        "id": run.run_id,
        "name": run.name,
        "experiment": run.experiment,
        "experiment_folder": run.experiment_slug,
        "status": run.status,
        "stored_status": run.stored_status,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "duration_seconds": run.duration_seconds,
        "user": run.user,
        "path": str(run.path),
        "parent": _run_ref(run.parent_run_id, parent),
        "children": [_run_ref(child.run_id, child) for child in reversed(children)],
        "description": run.description,
        # A resumed run that then ended well may still hold an old failure: not its story.
        "failure": dict(run.failure) if run.stored_status == "FAILED" else {},
        "source": dict(run.source),
        "git": git,
        "environment": environment,
        "tags": dict(sorted(run.tags.items())),
        "params": dict(sorted(run.flat_params().items())),
        "metrics": {key: dict(run.metrics[key]) for key in sorted(run.metrics)},
        "artifacts": [
            {"path": f.path, "size": f.size, "model": f.model, "symlink": f.symlink}
            for f in listing.files
        ],
        "models": [
            {"path": m.path, "flavor": m.flavor, "class": m.class_name} for m in listing.models
        ],
        "problems": [*run.problems, *listing.problems],
    }


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


def newest_first(runs: Iterable[RunRecord]) -> list[RunRecord]:
    """Return ``runs`` sorted by start time, newest first (ids break ties)."""
    return sorted(runs, key=lambda r: (r.start_ms, r.run_id), reverse=True)


def scan_experiments(root: Path, names: Iterable[str] = ()) -> StoreScan:
    """Scan the store at ``root``, limited to the experiments ``names`` (all when empty).

    Raises:
        ExperimentNotFoundError: a name is no experiment of the store.
        StoreError: ``root`` does not exist or is not a folder.
    """
    wanted = set(names)
    scan = scan_store(root, experiments=wanted or None)
    require_experiments(root, scan.experiments, wanted)
    return scan


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
    descriptor = next((entry for entry in entries if entry.name == DESCRIPTOR_FILE), None)
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


def _run_ref(run_id: str | None, run: RunRecord | None) -> dict[str, Any] | None:
    """Describe a parent or child run as ``{id, name, status}`` (None values if unreadable)."""
    if run_id is None:
        return None
    return {"id": run_id, "name": run.name if run else None, "status": run.status if run else None}


def _captured(run_dir: Path, relative: Any) -> str | None:
    """Return the full path of a captured file named in run.yaml, None when it is absent.

    Only a regular file inside the run folder counts: no absolute path, no ``..``, no
    symlink anywhere on the way, since pages may publish what this path holds.
    """
    if not isinstance(relative, str) or not relative:
        return None
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute() or ".." in parts:
        return None
    path = run_dir
    for index, part in enumerate(parts):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        last = index == len(parts) - 1
        if not (stat.S_ISREG(mode) if last else stat.S_ISDIR(mode)):
            return None
    return str(path)
