"""A run store as it is at a git revision, read straight from git's objects.

The pull-request report and cross-branch builds need the store of commits that are not
checked out (in CI, often a shallow clone holding only the fetched commits). Nothing here
touches the user's working tree, index or refs: the tree of the store at a commit is
listed with ``git ls-tree`` and its blobs are copied, through one ``git cat-file --batch``
process, into a folder that runfolio's ordinary readers then scan.

Only regular files are copied. Symlinks and submodules committed inside the store are
skipped (and listed in :attr:`StoreTree.skipped`): a symlink's target is not part of the
store, so nothing outside the store can reach a snapshot or a site built from one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from runfolio.errors import GitError, RunfolioError
from runfolio.gitrepo import find_repo_root
from runfolio.gitrunner import run_git
from runfolio.store import layout
from runfolio.store.atomic import atomic_writer, write_text_atomic

_REGULAR_MODES = frozenset({"100644", "100755"})
_SNAPSHOT_STATE = ".runfolio-snapshot.json"
_SMALL_FILE = 4 << 20  # read in batches below this size, streamed above it
_BATCH_BYTES = 64 << 20  # at most about this much held in memory per batch


class RevisionNotFoundError(RunfolioError, LookupError):
    """A git revision that the repository does not hold (or that is not a commit)."""


class NotInRepositoryError(RunfolioError):
    """The store is not inside a git repository, so it has no revisions to read."""


def locate_store(store: Path, purpose: str) -> tuple[Path, str]:
    """The repository holding ``store`` and the store's ``/``-separated path inside it.

    ``store`` need not exist in the working tree (a branch may have it, the checkout
    not). ``purpose`` starts the error message (``"--refs"``).

    Raises:
        NotInRepositoryError: no git repository holds ``store``.
    """
    store = Path(store).absolute()
    repo_root = find_repo_root(store if store.exists() else store.parent)
    if repo_root is None:
        raise NotInRepositoryError(f"{purpose}: {store} is not inside a git repository")
    try:
        inside = store.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError as exc:
        raise NotInRepositoryError(
            f"{purpose}: {store} is outside the repository at {repo_root}"
        ) from exc
    return repo_root, "" if inside == "." else inside


@dataclass(frozen=True)
class TreeFile:
    """One regular file of a store at a commit: its path inside the store and its blob."""

    path: str
    blob: str
    size: int


@dataclass
class StoreTree:
    """The files of a store at one commit.

    Attributes:
        commit: full sha of the commit.
        files: regular files, by path inside the store (``/``-separated).
        skipped: paths inside the store that are symlinks or submodules (never copied).
    """

    commit: str
    files: dict[str, TreeFile] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def run_digests(self) -> dict[tuple[str, str], str]:
        """A digest of each run folder's files, by (experiment folder, run id).

        Two commits hold the same run exactly when their digests are equal: the digest
        covers every file's path and blob id, artifacts included.
        """
        listed: dict[tuple[str, str], list[str]] = {}
        for path, entry in self.files.items():
            parts = path.split("/", 2)
            if len(parts) == 3 and layout.is_run_id(parts[1]):
                listed.setdefault((parts[0], parts[1]), []).append(f"{parts[2]}\0{entry.blob}")
        return {
            key: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
            for key, lines in listed.items()
        }


def resolve_commit(repo_root: Path, ref: str) -> str:
    """The full sha of the commit ``ref`` names in the repository at ``repo_root``.

    Raises:
        RevisionNotFoundError: the repository holds no such commit; the message says how
            to fetch it (a shallow CI clone often lacks the base branch).
    """
    if not ref or ref.startswith("-") or "\0" in ref:
        raise RevisionNotFoundError(f"{ref!r} is not a git revision")
    status, out, _ = run_git(
        repo_root,
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        check=False,
    )
    sha = out.decode("ascii", "replace").strip()
    if status != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", sha):
        raise RevisionNotFoundError(
            f"unknown git revision {ref!r} in {repo_root}: no such branch, tag or commit "
            "(in a shallow clone, fetch it first, e.g. `git fetch origin <branch>`)"
        )
    return sha


def merge_base(repo_root: Path, a: str, b: str) -> str | None:
    """The best common ancestor of commits ``a`` and ``b``; None when the clone lacks it.

    A shallow clone often stops short of the fork point: callers fall back to comparing
    the two commits directly.
    """
    status, out, _ = run_git(repo_root, ["merge-base", a, b], check=False)
    sha = out.decode("ascii", "replace").strip()
    return sha if status == 0 and re.fullmatch(r"[0-9a-f]{40,64}", sha) else None


def list_store_tree(repo_root: Path, commit: str, store_path: str) -> StoreTree:
    """List the files of the store at ``store_path`` (relative to the repository root).

    A commit without the store folder gives an empty tree: every run is then new.
    """
    tree = StoreTree(commit)
    prefix = f"{store_path.strip('/')}/" if store_path.strip("/") else ""
    args = ["ls-tree", "-r", "-z", "--long", "--full-tree", commit]
    if prefix:
        args += ["--", prefix]
    out = run_git(repo_root, args).stdout
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, blob, size = meta.decode("ascii").split()
        full = os.fsdecode(raw_path)
        if not full.startswith(prefix):
            continue
        inside = full[len(prefix) :]
        if not _safe_relative(inside):
            tree.skipped.append(inside)
            continue
        if kind != "blob" or mode not in _REGULAR_MODES:
            tree.skipped.append(inside)
            continue
        tree.files[inside] = TreeFile(inside, blob, int(size))
    return tree


def read_blobs(repo_root: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """The contents of many blobs at once, by id, through one ``git cat-file --batch``.

    One process answering every request is what makes reading thousands of small run
    files from git cheaper than checking them out.

    Raises:
        GitError: git failed, or a blob is missing from the repository.
    """
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return {}
    requests = "".join(f"{b}\n" for b in wanted).encode()
    out = run_git(repo_root, ["cat-file", "--batch"], stdin=requests).stdout
    found: dict[str, bytes] = {}
    position = 0
    for blob in wanted:
        end = out.index(b"\n", position)
        header = out[position:end].decode("ascii", "replace").split()
        if len(header) != 3 or header[1] != "blob":
            raise GitError(f"git has no blob {blob} ({' '.join(header)})")
        size = int(header[2])
        found[blob] = out[end + 1 : end + 1 + size]
        position = end + 1 + size + 1  # the content is followed by a newline
    return found


def materialize(
    repo_root: Path,
    files: Iterable[TreeFile],
    target: Path,
) -> int:
    """Make ``target`` hold exactly ``files``, copied from git.

    Incremental: ``target`` remembers which blob each file came from, so a second call
    rewrites only files whose blob changed (their mtimes, which the site's fingerprints
    use, stay put otherwise). Every other file found in ``target`` is deleted, recorded
    or not (one left by a killed call, or put there by hand), so nothing but ``files``
    can reach a site built from it. Each file is written to a temporary name and renamed
    into place.

    Returns:
        How many files were written.
    """
    wanted = {f.path: f for f in files}
    target.mkdir(parents=True, exist_ok=True)
    state_path = target / _SNAPSHOT_STATE
    previous = _read_state(state_path)
    _remove_unwanted(target, set(wanted) | {_SNAPSHOT_STATE})
    stale = [f for path, f in sorted(wanted.items()) if previous.get(path) != f.blob]
    stale = [f for f in stale if not _matches(target / f.path, previous.get(f.path), f)]
    if stale:
        _write_blobs(repo_root, stale, target)
    _prune_empty_dirs(target)
    write_text_atomic(
        state_path,
        json.dumps({path: f.blob for path, f in sorted(wanted.items())}),
        durable=False,
    )
    return len(stale)


def _write_blobs(repo_root: Path, entries: list[TreeFile], target: Path) -> None:
    """Copy blobs into files below ``target``.

    Small files, most of a store, come in batches through one ``cat-file --batch`` each;
    a large artifact is streamed to disk so it never sits in memory whole.
    """
    small = [entry for entry in entries if entry.size <= _SMALL_FILE]
    batch: list[TreeFile] = []
    batch_bytes = 0
    for entry in small:
        batch.append(entry)
        batch_bytes += entry.size
        if batch_bytes >= _BATCH_BYTES:
            _write_batch(repo_root, batch, target)
            batch, batch_bytes = [], 0
    _write_batch(repo_root, batch, target)
    large = [entry for entry in entries if entry.size > _SMALL_FILE]
    if large:
        _stream_large(repo_root, large, target)


def _write_batch(repo_root: Path, entries: list[TreeFile], target: Path) -> None:
    """Write small blobs read in one batch."""
    contents = read_blobs(repo_root, [entry.blob for entry in entries])
    for entry in entries:
        with _placed(target, entry) as handle:
            handle.write(contents[entry.blob])


def _stream_large(repo_root: Path, entries: list[TreeFile], target: Path) -> None:
    """Write large blobs straight from git to disk, one ``cat-file`` each."""
    for entry in entries:
        with _placed(target, entry) as handle:
            run_git(repo_root, ["cat-file", "blob", entry.blob], stdout=handle)


@contextlib.contextmanager
def _placed(target: Path, entry: TreeFile) -> Iterator[BinaryIO]:
    """A handle to write ``entry`` with, its file renamed into place on success.

    Not fsynced: a snapshot is derived from git objects and rebuilt from them.
    """
    destination = target / entry.path
    _clear_way(target, destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(destination, durable=False) as handle:
        yield handle


def _matches(path: Path, previous_blob: str | None, entry: TreeFile) -> bool:
    """Whether an existing file already holds ``entry`` (its recorded blob is the same)."""
    if previous_blob != entry.blob:
        return False
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == entry.size


def _safe_relative(path: str) -> bool:
    """A path inside the store with no empty, ``.`` or ``..`` part (git forbids these)."""
    parts = path.split("/")
    return bool(path) and all(part not in ("", ".", "..") for part in parts)


def _clear_way(target: Path, destination: Path) -> None:
    """Remove a file standing where a folder of ``destination`` must go, and vice versa."""
    current = target
    for part in destination.relative_to(target).parts[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            current.unlink()
    if destination.is_dir() and not destination.is_symlink():
        import shutil

        shutil.rmtree(destination)


def _remove_unwanted(target: Path, wanted: set[str]) -> None:
    """Delete every file or symlink below ``target`` whose path is not in ``wanted``."""
    for dirpath, dirnames, filenames in os.walk(target):
        folder = Path(dirpath)
        inside = folder.relative_to(target).as_posix()
        prefix = "" if inside == "." else f"{inside}/"
        # os.walk lists a symlink to a folder among the folders and does not enter it.
        links = [name for name in dirnames if (folder / name).is_symlink()]
        dirnames[:] = [name for name in dirnames if name not in links]
        for name in (*filenames, *links):
            if prefix + name not in wanted:
                (folder / name).unlink(missing_ok=True)


def _prune_empty_dirs(target: Path) -> None:
    """Delete folders left empty by removed files (bottom up; never ``target``)."""
    for dirpath, _dirnames, _filenames in os.walk(target, topdown=False):
        if Path(dirpath) != target and not os.listdir(dirpath):
            os.rmdir(dirpath)


def _read_state(path: Path) -> dict[str, str]:
    """The blob of every file a previous call wrote; empty when unknown or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}
