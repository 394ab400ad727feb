"""New run folders are built out of sight and renamed into place once complete.

A writer (``start_run``, an import) builds a new run folder in its experiment's hidden
``.creating/`` folder, which readers skip, and renames it into place once ``run.yaml``
is in it. So a process killed at any instant leaves no run folder without ``run.yaml``
(which every later ``--strict`` build would refuse), only a hidden leftover.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from runfolio.errors import StoreError
from runfolio.store import layout
from runfolio.store.atomic import sync_folder

STAGING_DIR = ".creating"
"""Hidden folder of an experiment where new run folders are built (readers skip it)."""

LEFTOVER_AGE = 3600.0
"""Seconds after which a folder in ``.creating/`` is a leftover of a killed writer, not one
being built (a start takes milliseconds; the hour leaves room for clock skew and for a
long import)."""


def stage_run_dir(experiment_dir: Path, run_id: str | None = None) -> Path:
    """Create an empty folder for a new run in the experiment's staging folder.

    Leftovers of writers killed over an hour ago are removed on the way.

    Args:
        experiment_dir: the experiment's folder.
        run_id: the run's id, when the caller has one (an import derives it from the
            source); a folder of that id left by an earlier, killed import is removed
            so the import starts over. Default: a fresh id.

    Returns:
        The staging folder, named by the run id; publish it with :func:`publish_run_dir`.

    Raises:
        StoreError: the folder cannot be made, or another process is building the
            same ``run_id``.
    """
    staging_root = experiment_dir / STAGING_DIR
    try:
        if run_id is not None:
            shutil.rmtree(staging_root / run_id, ignore_errors=True)
        for _ in range(20):
            candidate = run_id or layout.new_run_id()
            if run_id is None and os.path.lexists(experiment_dir / candidate):
                continue  # the (rare) id clash
            staging = staging_root / candidate
            try:
                staging_root.mkdir(exist_ok=True)
                staging.mkdir()
            except FileNotFoundError:
                # Another writer published its run and removed the then empty staging
                # root between the two mkdirs: make it again.
                continue
            except FileExistsError:
                if run_id is not None:
                    raise StoreError(
                        f"run {run_id} is being written into {experiment_dir} by another "
                        f"process ({staging} exists); wait for it, or remove that folder "
                        "if no such process runs"
                    ) from None
                continue  # an id clash with another start
            # Only now: the root holds our folder, so no other writer can remove it
            # while we look for leftovers in it.
            _remove_leftovers(staging_root)
            return staging
    except OSError as exc:
        raise StoreError(
            f"cannot create a run folder in {experiment_dir}: {exc.strerror or exc}"
        ) from exc
    raise StoreError(f"could not find a free run id in {experiment_dir}")  # pragma: no cover


def publish_run_dir(staging: Path, run_dir: Path) -> Path:
    """Rename a complete run folder (one holding its run.yaml) into place.

    Returns:
        ``run_dir``.

    Raises:
        StoreError: the rename failed (``run_dir`` exists already, a full disk ...).
    """
    try:
        os.rename(staging, run_dir)
        sync_folder(run_dir.parent)  # the run's name, durable in its experiment folder
    except OSError as exc:
        raise StoreError(f"cannot create run folder {run_dir}: {exc.strerror or exc}") from exc
    # Leave no empty hidden folder behind; one still in use by another writer stays.
    with contextlib.suppress(OSError):
        staging.parent.rmdir()
    return run_dir


def _remove_leftovers(staging_root: Path) -> None:
    """Delete run folders a killed process left half built in the staging folder."""
    too_old = time.time() - LEFTOVER_AGE
    with os.scandir(staging_root) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < too_old:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
