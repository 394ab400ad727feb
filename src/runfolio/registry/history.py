"""The registry's history, read from git: who registered each version, who moved each alias.

The registry lives in run tags, so its history is the history of the runs' ``run.yaml``
files: consecutive versions of each file are compared and every change of a
``registry.*`` tag becomes an event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runfolio.errors import RunfolioError
from runfolio.gitobjects import read_blobs
from runfolio.gitrepo import FileChange, FileCommit, file_history
from runfolio.registry.model import ALIAS_PREFIX, MODEL_TAG, VERSION_TAG, Registry, read_registry
from runfolio.store import layout
from runfolio.store.reader import read_run_tags


@dataclass(frozen=True)
class RegistryEvent:
    """One change to a registered model, from the git history of the store."""

    model: str
    text: str
    sha: str
    author: str
    email: str
    date: str
    subject: str


def registry_history(
    root: Path, registry: Registry | None = None
) -> dict[str, list[RegistryEvent]] | None:
    """Each model's registrations and alias moves, oldest first, read from git.

    Every version of every run's ``run.yaml`` that a commit wrote is read from git once
    (one ``git log --raw``, then ``cat-file --batch`` per 2,000 versions) and parsed by
    the store's own reader, and the ``registry.*`` tags of consecutive versions are
    compared. A commit that sets ``registry.version`` on a run registers that version;
    one that adds ``registry.alias.<alias>`` points the alias at the run's version (a
    move when the same commit, or an earlier one, gave it to another version); a
    removal with no new holder in the same commit removes the alias. A version the
    reader cannot read holds no tags, as readers then see no run. In a shallow clone
    the history starts at the clone's oldest commit, whose tags are the starting
    state, not events.

    Returns:
        Events per model name, or None when the store is not in a git repository.

    Raises:
        GitError: git failed on an existing repository.
    """
    found = file_history(root, f"*/*/{layout.RUN_FILE}")
    if found is None:
        return None
    tags = _registry_tags(found.repo_root, found.commits)
    registry = registry or read_registry(root)
    history: dict[str, list[RegistryEvent]] = {}
    holders: dict[tuple[str, str], int] = {}  # (model, alias) -> version, as of each commit
    versions: dict[str, tuple[str, int]] = {  # run -> (model, version)
        version.run_id: (model.name, number)
        for model in registry.models.values()
        for number, version in model.versions.items()
    }
    for commit in found.commits:
        added, removed = _tag_changes(commit.changes, tags)
        if commit.boundary:
            _start_from(added, versions, holders)
            continue
        for (run_id, key), value in added.items():
            if key == VERSION_TAG and value.isdigit():
                name = added.get((run_id, MODEL_TAG)) or versions.get(run_id, ("", 0))[0]
                if name:
                    versions[run_id] = (name, int(value))
        registered = sorted(
            (versions[run_id], run_id)
            for run_id, key in added
            if key == VERSION_TAG and (run_id, key) not in removed and run_id in versions
        )
        texts = [
            (name, f"registered version {number} (run {run_id})")
            for (name, number), run_id in registered
        ]
        for (run_id, key), _value in added.items():
            if not key.startswith(ALIAS_PREFIX) or run_id not in versions:
                continue
            name, number = versions[run_id]
            alias = key[len(ALIAS_PREFIX) :]
            before = holders.get((name, alias))
            holders[(name, alias)] = number
            if before is None:
                texts.append((name, f"@{alias} set to version {number}"))
            elif before != number:
                texts.append((name, f"@{alias} moved from version {before} to version {number}"))
        for (run_id, key), _value in removed.items():
            if not key.startswith(ALIAS_PREFIX) or (run_id, key) in added:
                continue
            name, number = versions.get(run_id, ("", 0))
            alias = key[len(ALIAS_PREFIX) :]
            if name and holders.get((name, alias)) == number:
                del holders[(name, alias)]
                texts.append((name, f"@{alias} removed from version {number}"))
        for name, text in texts:
            history.setdefault(name, []).append(
                RegistryEvent(
                    name, text, commit.sha, commit.author, commit.email, commit.date, commit.subject
                )
            )
    return history


_HISTORY_BATCH = 2000
"""Blobs read per ``cat-file --batch``: bounds the memory of a long history."""

_TagKey = tuple[str, str]  # (run id, tag key)


def _registry_tags(repo_root: Path, commits: list[FileCommit]) -> dict[str, dict[str, str]]:
    """The ``registry.*`` tags of every run.yaml blob the commits hold (none if unreadable)."""
    wanted = list(
        dict.fromkeys(
            blob
            for commit in commits
            for change in commit.changes
            for blob in (change.old_blob, change.new_blob)
            if blob is not None and _history_run_id(change.path) is not None
        )
    )
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(wanted), _HISTORY_BATCH):
        contents = read_blobs(repo_root, wanted[start : start + _HISTORY_BATCH])
        for blob, data in contents.items():
            tags[blob] = {}
            # Most versions (a run before it is registered) hold no registry tag, and
            # parsing is the whole cost: YAML can spell a key without its literal text
            # only through a backslash escape, so without both there is none to find.
            if b"registry." not in data and b"\\" not in data:
                continue
            with contextlib.suppress(RunfolioError):  # unreadable: readers see no run
                found = read_run_tags(data, Path(layout.RUN_FILE))
                tags[blob] = {k: v for k, v in found.items() if k.startswith("registry.")}
    return tags


def _history_run_id(path: str) -> str | None:
    """The run a changed ``<experiment>/<run id>/run.yaml`` belongs to, as readers see it."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0].startswith(".") or not layout.is_run_id(parts[1]):
        return None  # readers never take such a folder for a run
    return parts[1]


def _tag_changes(
    changes: Iterable[FileChange], tags: Mapping[str, dict[str, str]]
) -> tuple[dict[_TagKey, str], dict[_TagKey, str]]:
    """The registry tags one commit added and removed, by (run id, key).

    A changed value is both removed and added; a file added or deleted compares with none.
    """
    added: dict[_TagKey, str] = {}
    removed: dict[_TagKey, str] = {}
    for change in changes:
        run_id = _history_run_id(change.path)
        if run_id is None:
            continue
        old = tags[change.old_blob] if change.old_blob else {}
        new = tags[change.new_blob] if change.new_blob else {}
        for key in sorted(old):
            if new.get(key) != old[key]:
                removed[(run_id, key)] = old[key]
        for key in sorted(new):
            if old.get(key) != new[key]:
                added[(run_id, key)] = new[key]
    return added, removed


def _start_from(
    tags: Mapping[_TagKey, str],
    versions: dict[str, tuple[str, int]],
    holders: dict[tuple[str, str], int],
) -> None:
    """Take the tags of a shallow clone's first commit as where the history starts."""
    for (run_id, key), value in tags.items():
        name = tags.get((run_id, MODEL_TAG))
        if key == VERSION_TAG and value.isdigit() and name:
            versions[run_id] = (name, int(value))
    claims: dict[tuple[str, str], tuple[int, int]] = {}  # (model, alias) -> (claim, version)
    for (run_id, key), value in tags.items():
        if key.startswith(ALIAS_PREFIX) and run_id in versions and value.isdigit():
            name, number = versions[run_id]
            alias = (name, key[len(ALIAS_PREFIX) :])
            claims[alias] = max(claims.get(alias, (-1, 0)), (int(value), number))
    holders.update({alias: number for alias, (_claim, number) in claims.items()})
