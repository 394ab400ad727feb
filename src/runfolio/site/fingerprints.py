"""Fingerprints of a run page's inputs: a build keeps a page whose fingerprint is unchanged.

Three fingerprints make up a run page's key, each covering what the previous one does not:

- :func:`shared_key`, what every page depends on: runfolio's version,
  :data:`STATE_VERSION`, the site settings, the store's commit (sha, link and folder in
  the repository; not its dirty flag, which run pages leave out), whether the store has
  registered models (the navigation then shows a Models tab), the branches a site is
  built from, and the bytes of every theme template and asset. Any change to one of
  those renders every run page again.
- :func:`run_base_key`, one run page's inputs besides its folder: the shared key, the
  run's effective status (a run that stopped beating changes without a write), its
  parent's and children's ids, names, statuses and folders, its experiment's name and
  primary metric, and its commit, source and branch links. A new child run, a renamed
  parent or a changed primary metric invalidates it.
- :func:`run_key`, the page itself: the base key and the run folder as
  :func:`read_folder_states` found it before the store was read, every entry below it by
  path, type, inode, mtime, ctime, size and link count. Any write into the folder (a new
  metric row, a tag, an artifact, a file replaced by a rename) invalidates it.

A file changed within :data:`~runfolio.store.cache.RACY_WINDOW_NS` of that walk could
change again unseen on a filesystem with coarse timestamps, so its bytes are hashed too
(git's racy-clean rule): the build records which files it hashed, and the next build
hashes the same files to compare, so such a file invalidates the page only if its bytes
changed. :data:`STATE_VERSION` invalidates every recorded key at once: bump it when what a
run page is rendered from changes in a way these fingerprints miss.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runfolio import __version__
from runfolio.config_values import SiteConfig
from runfolio.site.branches import BranchRef
from runfolio.site.model import ExperimentPage, RunPage, StoreCommit
from runfolio.site.theme import ThemeChain
from runfolio.store.cache import file_digest, file_stamp, is_racy
from runfolio.store.reader import iter_experiment_dirs, iter_run_dirs

STATE_VERSION = 4
"""Bump when what a run page is rendered from changes in a way fingerprints miss."""


def shared_key(
    chain: ThemeChain,
    config: SiteConfig,
    commit: StoreCommit | None,
    *,
    has_models: bool,
    refs: list[BranchRef] | None = None,
) -> str:
    """Fingerprint of everything every run page depends on besides the run itself.

    ``has_models`` is there because every page's navigation shows a Models tab then;
    ``refs`` because every page's footer names the branches a site was built from.
    """
    digest = hashlib.sha256()
    # Not the dirty flag: run pages leave it out, so a new uncommitted run changes no
    # other run's page. A new commit changes every page's footer and raw-files link.
    revision = None if commit is None else (commit.sha, commit.url, commit.relative)
    digest.update(
        f"{__version__}\0{STATE_VERSION}\0{config!r}\0{revision!r}\0{has_models}\0{refs!r}\0".encode()
    )
    for folder in chain.template_dirs:
        for path in sorted(_files_under(folder)):
            digest.update(f"{path}\0".encode("utf-8", "surrogateescape"))
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def run_base_key(page: RunPage, shared_key: str, experiment: ExperimentPage | None) -> str:
    """Fingerprint of one run page's inputs besides the run folder's files."""
    run = page.run
    family = (
        _family(page.parent),
        [_family(child) for child in page.children],
        run.status,
        experiment.experiment.name if experiment else None,
        experiment.primary if experiment else None,
        page.commit_url,
        page.source_url,
        page.branches,
    )
    digest = hashlib.sha256(shared_key.encode())
    digest.update(repr(family).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def run_key(base: str, folder: FolderState | None, digested: Iterable[str]) -> str:
    """Fingerprint of one run page: ``base`` and the run folder as the build found it,
    with the bytes of the files in ``digested``. Empty when the folder was not seen
    before the store was read (the page can then never be kept)."""
    if folder is None:
        return ""
    digest = hashlib.sha256(base.encode())
    digest.update(folder.entries.encode("utf-8", "surrogateescape"))
    for relative in sorted(digested):
        digest.update(
            f"\0{relative}\0{folder.digest_of(relative)}".encode("utf-8", "surrogateescape")
        )
    return digest.hexdigest()


def digested_files(folder: FolderState | None) -> list[str]:
    """The files of a run folder that the recorded key hashed (the racy ones)."""
    return sorted(folder.racy) if folder else []


def _family(run: Any) -> list[str] | None:
    """What a run page shows of a related run."""
    if run is None:
        return None
    return [run.run_id, run.name, run.status, run.experiment_slug]


@dataclass
class FolderState:
    """What a run folder held when the build began to read the store.

    Attributes:
        path: the run folder.
        entries: every entry below it (path, type, inode, mtime, ctime, size, links).
        racy: paths (relative, ``/``-separated) of the entries changed within
            :data:`~runfolio.store.cache.RACY_WINDOW_NS` of the walk → their SHA-256,
            taken then, before the run was read.
        plain: the relative paths of every regular file and symlink, which alone may be
            hashed later (a path from a manifest is never trusted to stay inside).
    """

    path: str
    entries: str
    racy: dict[str, str]
    plain: set[str]
    _checked: dict[str, str] = field(default_factory=dict, repr=False)

    def digest_of(self, relative: str) -> str:
        """The SHA-256 of one file of the folder (a symlink: of its target text)."""
        found = self.racy.get(relative, self._checked.get(relative))
        if found is None:
            found = _entry_digest(self.path, relative) if relative in self.plain else "?"
            self._checked[relative] = found
        return found


def read_folder_states(store: Path) -> dict[str, FolderState]:
    """Describe every run folder of the store (by its path) before the store is read.

    Raises:
        StoreError: the store folder does not exist or cannot be listed.
    """
    since = time.time_ns()  # before any stat: a change after it is at worst a racy one
    states: dict[str, FolderState] = {}
    for exp_dir in iter_experiment_dirs(store):
        for run_dir, problem in iter_run_dirs(exp_dir, check_run_file=False):
            if problem is None:
                states[str(run_dir)] = _folder_state(os.fspath(run_dir), since)
    return states


def _folder_state(folder: str, since: int) -> FolderState:
    """Describe every entry below ``folder``, hashing the racy files; symlinks not followed.

    Runs once per run on every build, so it collects plain tuples and formats them in
    one ``repr``.
    """
    found: list[tuple[str, int, list[int], int]] = []
    racy: dict[str, str] = {}
    plain: set[str] = set()
    stack = [folder]
    cut = len(folder) + 1
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                items = sorted(entries, key=_entry_name)
        except OSError:
            found.append((current, -1, [], 0))
            continue
        for entry in items:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            mode = info.st_mode
            found.append((entry.path, mode, file_stamp(info), info.st_nlink))
            if stat.S_ISDIR(mode):
                stack.append(entry.path)
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                continue  # a fifo or device: never opened; its type is in the entries
            relative = entry.path[cut:].replace(os.sep, "/")
            plain.add(relative)
            if is_racy(info, since):
                racy[relative] = _entry_digest(folder, relative)
    return FolderState(folder, repr(found), racy, plain)


def _entry_digest(folder: str, relative: str) -> str:
    """The SHA-256 of a file below ``folder``, or ``link:`` and a symlink's target."""
    path = os.path.join(folder, *relative.split("/"))
    if os.path.islink(path):
        try:
            return "link:" + os.readlink(path)
        except OSError:
            return "?"
    return file_digest(path)


def _entry_name(entry: os.DirEntry[str]) -> str:
    """Sort key of a folder entry."""
    return entry.name


def _files_under(folder: Path) -> Iterator[Path]:
    """Regular files below ``folder``, not following symlinks."""
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path
