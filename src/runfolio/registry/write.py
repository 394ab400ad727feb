"""Registry writes: registering a run's model as a version, and moving aliases.

Every write changes tags in one run's ``run.yaml`` (replaced atomically, under the run
folder's lock). Moving an alias writes one file (the new version's ``run.yaml``) with a
higher claim, so at no moment do two versions hold it; the old version's tag is removed
afterwards, and until then it is simply outranked. MLflow's stages are the conventional
aliases ``staging``, ``production`` and ``archived``.

Registry writes take a lock on the store folder itself (shared by every user and job that
writes it, without writing into it), so concurrent registrations on one machine get
distinct versions. Two branches that each register version 3 meet in a merge: readers
report such a conflict and never pick a winner.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from runfolio.errors import MalformedRunError, StoreError
from runfolio.registry.model import (
    ALIAS_PREFIX,
    MODEL_TAG,
    PATH_TAG,
    STAGES,
    VERSION_TAG,
    ModelVersion,
    Registry,
    RegistryError,
    read_registry,
    version_run_dir,
    with_alias,
)
from runfolio.store import layout
from runfolio.store.artifact_listing import list_artifacts
from runfolio.store.atomic import write_text_atomic
from runfolio.store.locking import folder_lock
from runfolio.store.reader import read_run, read_yaml_file
from runfolio.store.run_document import RunDocument
from runfolio.store.scan import find_run
from runfolio.store.serialize import dump_yaml

_ALIAS_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_RESERVED_ALIAS_RE = re.compile(r"(v\d+|latest)", re.IGNORECASE)


def register_model(
    root: Path, run_id: str, name: str, model_path: str | None = None
) -> ModelVersion:
    """Register the model a run logged as the next version of ``name``.

    Args:
        root: the store.
        run_id: the run (full id or unique prefix); it must have ended and logged a model.
        name: the registered model's name (no ``/`` or ``@``).
        model_path: the model's folder under ``artifacts/``; default: the run's only
            logged model, else ``model``.

    Returns:
        The new version; registering a run already registered under ``name`` returns
        its existing version.

    Raises:
        RegistryError: a bad name, a running run, a run without that model, or a run
            registered under another name.
        RunNotFoundError: no such run.
    """
    check_model_name(name)
    with registry_lock(root):
        experiment, run_dir = find_run(root, run_id)
        run = read_run(run_dir, experiment)
        if run.stored_status == "RUNNING" and run.status == "RUNNING":
            raise RegistryError(f"run {run.run_id} is still running; register it once it ended")
        registered = run.tags.get(MODEL_TAG)
        if registered:
            if registered != name:
                raise RegistryError(
                    f"run {run.run_id} is already version {run.tags.get(VERSION_TAG)} of "
                    f"{registered!r}; a run registers one model"
                )
            return read_registry(root).version(name, int(run.tags[VERSION_TAG]))
        models = list_artifacts(run.path).models
        if model_path is None:
            model_path = models[0].path if len(models) == 1 else "model"
        if model_path not in {model.path for model in models}:
            logged = ", ".join(model.path for model in models) or "none"
            raise RegistryError(
                f"run {run.run_id} logged no model at {model_path!r} (logged models: {logged}); "
                "log one with log_model first"
            )
        version = max(read_registry(root).claimed.get(name, ()), default=0) + 1
        rewrite_run_tags(
            run.path,
            {MODEL_TAG: name, VERSION_TAG: str(version), PATH_TAG: model_path},
        )
        return ModelVersion(name, version, run.run_id, run.experiment, model_path, (), run)


def set_model_alias(root: Path, name: str, alias: str, version: int) -> ModelVersion:
    """Point ``alias`` of model ``name`` at ``version``, taking it from any other version.

    Raises:
        RegistryError: a bad alias, or an unknown model or version.
    """
    check_alias(alias)
    with registry_lock(root):
        registry = read_registry(root)
        target = registry.version(name, version)
        claims = [
            int(value)
            for held in registry.model(name).versions.values()
            if held.run is not None
            for key, value in held.run.tags.items()
            if key == ALIAS_PREFIX + alias and value.isdigit()
        ]
        rewrite_run_tags(
            version_run_dir(target), {ALIAS_PREFIX + alias: str(max(claims, default=0) + 1)}
        )
        _drop_alias_elsewhere(registry, name, alias, keep=version)
    return target if alias in target.aliases else with_alias(target, alias)


def transition_model_version_stage(root: Path, name: str, version: int, stage: str) -> ModelVersion:
    """MLflow's stage transition, as aliases: ``Staging``, ``Production``, ``Archived``, ``None``.

    Moving a version to a stage points that stage's alias at it (taking it from the
    version that had it) and removes the other stage aliases from this version; ``None``
    removes every stage alias from it.

    Raises:
        RegistryError: an unknown stage, model or version.
    """
    if stage not in STAGES:
        raise RegistryError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    target = STAGES[stage]
    with registry_lock(root):
        registry = read_registry(root)
        held = registry.version(name, int(version))
        stale = [
            ALIAS_PREFIX + alias
            for alias in STAGES.values()
            if alias is not None
            and alias != target
            and registry.model(name).aliases.get(alias) == held.version
        ]
        if stale:
            rewrite_run_tags(version_run_dir(held), {}, stale)
    if target is not None:
        return set_model_alias(root, name, target, int(version))
    return read_registry(root).version(name, int(version))


def delete_model_alias(root: Path, name: str, alias: str) -> None:
    """Remove ``alias`` from model ``name``.

    Raises:
        RegistryError: unknown model or alias.
    """
    with registry_lock(root):
        registry = read_registry(root)
        registry.by_alias(name, alias)
        _drop_alias_elsewhere(registry, name, alias, keep=None)


def check_model_name(name: str) -> str:
    """Refuse a model name that cannot appear in a ``models:/`` URI."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or name != name.strip()
        or len(name) > 255
        or any(char in name for char in "/@\\")
        or any(ord(char) < 32 for char in name)
    ):
        raise RegistryError(
            f"bad model name {name!r}: 1 to 255 characters, no '/', '@', '\\' or control "
            "characters, no leading or trailing spaces"
        )
    return name


def check_alias(alias: str) -> str:
    """Refuse an alias that is not letters, digits, ``_`` or ``-``, or looks like a version."""
    if not isinstance(alias, str) or not _ALIAS_RE.fullmatch(alias):
        raise RegistryError(f"bad alias {alias!r}: 1 to 64 letters, digits, '_' or '-'")
    if _RESERVED_ALIAS_RE.fullmatch(alias):
        raise RegistryError(f"bad alias {alias!r}: 'latest' and 'v<number>' are reserved")
    return alias


def rewrite_run_tags(
    run_dir: Path, set_tags: Mapping[str, str], delete: Iterable[str] = ()
) -> None:
    """Set and delete tags in a run's ``run.yaml``, replacing the file atomically.

    The file is read, changed and replaced under the run folder's lock (the one every
    writer of ``run.yaml`` takes, see :mod:`runfolio.store.locking`), so tags or other
    keys another process writes meanwhile (a resumed run setting tags) are kept.

    Raises:
        RegistryError: the run folder cannot be locked, or its run.yaml cannot be read
            (a field of the wrong type, say: the message names it).
    """
    path = run_dir / layout.RUN_FILE
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(run_dir))
        except StoreError as exc:
            raise RegistryError(str(exc)) from exc  # names the folder and the reason
        try:
            document = RunDocument.from_yaml_dict(read_yaml_file(path), path)
        except MalformedRunError as exc:
            raise RegistryError(str(exc)) from exc
        tags = {**document.tags, **set_tags}
        for key in delete:
            tags.pop(key, None)
        document = dataclasses.replace(document, tags=tags)
        write_text_atomic(path, dump_yaml(document.to_yaml_dict()))


@contextlib.contextmanager
def registry_lock(root: Path) -> Iterator[None]:
    """Hold the store's registry lock: registry writes happen one at a time.

    The lock is an ``flock`` on a read-only descriptor of the store folder itself, so
    every writer of that folder shares it (other users, CI jobs with another ``HOME`` or
    ``RUNFOLIO_CACHE_DIR``) and nothing is written into the store; the kernel releases it
    if the process dies. A filesystem that cannot lock a folder (some network mounts)
    gets an error naming the store, rather than a lock that only this user would see.

    Raises:
        RegistryError: the store folder cannot be opened or locked.
    """
    with contextlib.ExitStack() as stack:
        try:  # only taking the lock: errors of the holder's own writes pass unchanged
            stack.enter_context(folder_lock(Path(root), required=True))
        except StoreError as exc:
            raise RegistryError(
                f"{exc} for a registry write; register from a machine where the store is "
                "on a local disk"
            ) from exc
        yield


def _drop_alias_elsewhere(registry: Registry, name: str, alias: str, keep: int | None) -> None:
    """Remove the alias tag from every version of ``name`` but ``keep``."""
    for held in registry.model(name).versions.values():
        if held.version != keep and held.run is not None and ALIAS_PREFIX + alias in held.run.tags:
            rewrite_run_tags(held.run.path, {}, [ALIAS_PREFIX + alias])
