"""Everything about one run as plain data: record, relatives, artifacts, logged models.

:func:`build_run_details` gathers what ``runfolio show`` prints; the static site and the
pull-request report read the same dict; its artifact entries come from
:func:`runfolio.store.artifact_listing.list_artifacts`. Nothing here formats text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from runfolio.store.artifact_listing import list_artifacts
from runfolio.store.reader import StoreScan
from runfolio.store.records import RunRecord
from runfolio.store.scan import require_experiments, scan_store


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
