"""One site from the store as several branches hold it (``runfolio build --refs``).

Runs that are not merged yet live on their own branches; a team wants to see them on one
leaderboard beside main's. The store of every listed branch is read from git's objects
(nothing is checked out) and merged into one snapshot folder, which the ordinary build
renders. Each run is labelled with the branches that hold it.

Merging: a run is identified by its experiment folder and run id. Its files come from
the first listed branch that holds it (list ``main`` first and main's version of a run
wins); an experiment's ``experiment.yaml`` likewise. The snapshot lives in runfolio's
cache folder, one per repository, store path and list of refs (so a build of ``main``
never reads a folder a ``main,feature/*`` build just filled), and is updated in place,
rewriting only files whose blob changed, so the build's fingerprints keep unchanged run
pages as they are; every other file in it is deleted. A lock is held on the snapshot from
its update until the build that reads it is done, so concurrent builds of the same refs
take turns instead of rewriting a folder another one is reading.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runfolio.errors import RunfolioError
from runfolio.gitobjects import (
    TreeFile,
    list_store_tree,
    locate_store,
    materialize,
    resolve_commit,
)
from runfolio.gitrunner import run_git
from runfolio.store import layout
from runfolio.store.cache import cache_dir

_GLOB_CHARS = frozenset("*?[")


class BranchesError(RunfolioError):
    """``--refs`` matched no branch."""


@dataclass(frozen=True)
class BranchRef:
    """A branch (or tag, or commit) the site shows, by the name it is labelled with."""

    name: str
    commit: str


@dataclass
class BranchSnapshot:
    """The merged store and what the site says about where each run came from.

    Attributes:
        root: the snapshot folder, a store that the build reads like any other.
        source: the store folder in the working tree the snapshot was made for.
        refs: the branches, in the order given.
        runs: run id → the names of the branches that hold the run, in ``refs`` order.
        problems: patterns that matched nothing, files skipped (symlinks), run folders
            whose names are not run ids (each named with its branch).
    """

    root: Path
    source: Path
    refs: list[BranchRef]
    runs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_refs(text: str | Sequence[str]) -> list[str]:
    """Split ``main,feature/*`` (or a list of such texts) into patterns, in order."""
    items = [text] if isinstance(text, str) else list(text)
    patterns = [part.strip() for item in items for part in str(item).split(",")]
    return [p for p in dict.fromkeys(patterns) if p]


def expand_refs(repo_root: Path, patterns: Sequence[str]) -> tuple[list[BranchRef], list[str]]:
    """Resolve patterns to branches; return them and the patterns that matched nothing.

    A pattern with ``*``, ``?`` or ``[`` matches branch names (``*`` spans ``/``, so
    ``feature/*`` takes ``feature/a/b`` too). Branches are the local ones and those of
    every remote (``origin/feature/x`` is labelled ``feature/x``; a local branch of the
    same name wins), since a CI clone holds most branches only as remote-tracking refs.
    Any other pattern is a branch name, else any revision git knows (a tag, a sha).

    Raises:
        RevisionNotFoundError: a plain name is no branch and no revision.
    """
    branches = _branches(repo_root)
    refs: dict[str, BranchRef] = {}
    unmatched: list[str] = []
    for pattern in patterns:
        if _GLOB_CHARS & set(pattern):
            names = sorted(name for name in branches if fnmatch.fnmatchcase(name, pattern))
            if not names:
                unmatched.append(pattern)
            for name in names:
                refs.setdefault(name, BranchRef(name, branches[name]))
        elif pattern in branches:
            refs.setdefault(pattern, BranchRef(pattern, branches[pattern]))
        else:
            refs.setdefault(pattern, BranchRef(pattern, resolve_commit(repo_root, pattern)))
    return list(refs.values()), unmatched


@contextlib.contextmanager
def snapshot_branches(
    store: Path, patterns: Sequence[str], target: Path | None = None
) -> Iterator[BranchSnapshot]:
    """Merge the store at ``store`` as each matched branch holds it into one folder.

    A context manager: the snapshot folder is locked (a lock file beside it) from before
    it is updated until the ``with`` block ends, so build inside the block.

    Args:
        store: the store folder in a working tree (only its place in the repository is
            used; its files on disk are not read).
        patterns: branch names or patterns, in order of precedence.
        target: the snapshot folder; default: one per repository, store path and
            ``patterns`` in runfolio's cache folder.

    Raises:
        BranchesError: the store is not in a git repository, or nothing matched.
        RevisionNotFoundError: a plain name is no branch and no revision.
    """
    repo_root, store_path = locate_store(store, "--refs")
    refs, unmatched = expand_refs(repo_root, patterns)
    if not refs:
        raise BranchesError(f"--refs: no branch matches {', '.join(map(repr, patterns))}")
    if target is None:
        identity = "\0".join([str(repo_root.resolve()), store_path, *patterns])
        digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()
        target = cache_dir() / "branches" / digest[:16]
    with _snapshot_lock(target):
        yield _fill_snapshot(store, repo_root, store_path, refs, unmatched, target)


def _fill_snapshot(
    store: Path,
    repo_root: Path,
    store_path: str,
    refs: list[BranchRef],
    unmatched: list[str],
    target: Path,
) -> BranchSnapshot:
    """Write the merged store into ``target`` (locked by the caller); describe it."""
    snapshot = BranchSnapshot(target, store, refs)
    snapshot.problems = [f"--refs: {pattern!r} matches no branch" for pattern in unmatched]
    merged: dict[str, TreeFile] = {}
    owner: dict[tuple[str, str], str] = {}  # (experiment folder, run id or "") → branch
    for ref in refs:
        tree = list_store_tree(repo_root, ref.commit, store_path)
        snapshot.problems += [
            f"{ref.name}: {path}: a symlink or submodule in the store; skipped"
            for path in tree.skipped
        ]
        held: set[str] = set()
        for path, entry in tree.files.items():
            key = _owner_key(path)
            if key is None:
                if _misnamed_run_file(path):
                    # As a plain build reports such a folder: a problem, never a run.
                    folder = f"{store_path}/{path.rsplit('/', 1)[0]}".lstrip("/")
                    snapshot.problems.append(f"{ref.name}: {folder}: {layout.NOT_A_RUN_ID}")
                continue
            if key[1]:
                held.add(key[1])
            if owner.setdefault(key, ref.name) == ref.name:
                merged[path] = entry
        for run_id in sorted(held):
            snapshot.runs[run_id] = (*snapshot.runs.get(run_id, ()), ref.name)
    materialize(repo_root, merged.values(), target)
    return snapshot


@contextlib.contextmanager
def _snapshot_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on the snapshot folder ``target`` (released if we die)."""
    import fcntl

    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target.with_name(f"{target.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _owner_key(path: str) -> tuple[str, str] | None:
    """Which unit a store file belongs to: (experiment, run id), or (experiment, "") for
    ``experiment.yaml``; None for anything else (files at the store root, dot-files).
    """
    parts = path.split("/")
    # Readers skip dot-named experiment and run folders; inside a run, a dot-named
    # artifact (``.hydra/config.yaml``) is an artifact like any other, as on disk.
    if any(part.startswith(".") for part in parts[:2]):
        return None
    if len(parts) == 2 and parts[1] == layout.EXPERIMENT_FILE:
        return (parts[0], "")
    if len(parts) >= 3 and layout.is_run_id(parts[1]):
        return (parts[0], parts[1])
    return None


def _misnamed_run_file(path: str) -> bool:
    """Tell whether ``path`` is the run.yaml of a run folder whose name is not a run id."""
    parts = path.split("/")
    return (
        len(parts) == 3
        and parts[2] == layout.RUN_FILE
        and not any(part.startswith(".") for part in parts[:2])
        and not layout.is_run_id(parts[1])
    )


def _branches(repo_root: Path) -> dict[str, str]:
    """Branch name → commit, local branches over remote-tracking ones."""
    out = run_git(
        repo_root,
        [
            "for-each-ref",
            "--format=%(objectname)%09%(refname)",
            "refs/heads",
            "refs/remotes",
        ],
    ).stdout.decode("utf-8", "surrogateescape")
    local: dict[str, str] = {}
    remote: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, refname = line.partition("\t")
        if refname.startswith("refs/heads/"):
            local[refname.removeprefix("refs/heads/")] = sha
        elif refname.startswith("refs/remotes/"):
            _remote, _, name = refname.removeprefix("refs/remotes/").partition("/")
            if name and name != "HEAD":
                remote.setdefault(name, sha)
    return {**remote, **local}
