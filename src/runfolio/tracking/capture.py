"""What a run records about itself without being asked: code, environment, author.

Git state and the package list are captured once per process and reused by every run
it starts: the code a process runs was loaded when it started, and capturing again for
each run of a sweep would cost more than the runs themselves.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runfolio.config import CONFIG_FILE, ConfigError, read_config
from runfolio.errors import GitError
from runfolio.gitrepo import UNTRACKED_MODES, capture_git, find_repo_root
from runfolio.store.cache import cache_dir
from runfolio.store.secrets import redact_argv


@dataclass(frozen=True)
class CapturedContext:
    """Everything captured for a new run."""

    user: str | None
    source: dict[str, Any]
    git: dict[str, Any]
    git_patch: bytes
    environment: dict[str, Any]
    packages: str


def capture_context(store_root: Path) -> CapturedContext:
    """Capture user, entry point, git state, environment and installed packages.

    The repository is the one holding the entry-point script (as MLflow does), else
    the one holding the current folder. Untracked files go into the patch as
    :func:`untracked_mode` says; runfolio's cache folder, built sites, MLflow folders
    and secrets never do (:func:`runfolio.gitrepo.capture_git`).

    Args:
        store_root: the run store; its experiment folders are left out of the git dirty
            check and patch (files at its root, such as a training script, are not).
    """
    repo_root = find_repo_root(_entry_dir()) or find_repo_root(Path.cwd())
    git_info, patch = _git_state(repo_root, store_root.resolve()) if repo_root else ({}, b"")
    return CapturedContext(
        user=current_user(),
        source=capture_source(repo_root or Path.cwd()),
        git=git_info,
        git_patch=patch,
        environment=capture_environment(),
        packages=installed_packages(),
    )


def _entry_dir() -> Path:
    """The folder of the script being run, or the current folder for ``-c``/REPL."""
    entry = _entry_script()
    if entry and os.path.isfile(entry):
        return Path(entry).resolve().parent
    return Path.cwd()


def _entry_script() -> str:
    """``sys.argv[0]``, made absolute through ``__main__.__file__`` when it was relative.

    A script that changed folder before starting its run would otherwise have its
    relative ``argv[0]`` resolved against the wrong folder.
    """
    entry = sys.argv[0] if sys.argv else ""
    if not entry or entry in ("-c", "-") or os.path.isabs(entry) or os.path.exists(entry):
        return entry
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and os.path.basename(main_file) == os.path.basename(entry):
        return str(main_file)
    return entry


def current_user() -> str | None:
    """The login name of the user running the process (MLflow records the same)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. a bare container uid
        return None


def capture_source(root: Path) -> dict[str, Any]:
    """The entry point (relative to ``root`` when inside it) and the command-line arguments.

    The arguments are recorded with their secrets redacted
    (:func:`runfolio.store.secrets.redact_argv`).
    """
    return {"entry_point": _entry_point(_entry_script(), root), "argv": redact_argv(sys.argv[1:])}


@functools.lru_cache(maxsize=16)
def _entry_point(entry: str, root: Path) -> str:
    """The script's path relative to ``root`` (a sweep asks once per run: cached)."""
    if entry in ("", "-c", "-"):
        return "<interactive>" if not entry else f"<{entry}>"
    path = Path(entry).resolve()
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


@functools.cache
def capture_environment() -> dict[str, Any]:
    """Python version and implementation, operating system and machine type."""
    import platform

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "executable": Path(sys.executable).name,
    }


@functools.cache
def installed_packages() -> str:
    """The installed distributions, ``pip freeze`` style (``name==version``), sorted."""
    from importlib import metadata

    lines = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            lines.add(f"{name}=={dist.version}")
    return "".join(f"{line}\n" for line in sorted(lines, key=str.lower))


MAX_PATCH_BYTES = 5_000_000
"""A bigger uncommitted patch is not copied into each run (it is noted in run.yaml)."""

UNTRACKED_ENV = "RUNFOLIO_CAPTURE_UNTRACKED"
"""The environment variable choosing which untracked files a patch holds (over the config)."""

UNTRACKED_KEY = "capture_untracked"
"""The ``runfolio.yaml`` key choosing which untracked files a patch holds."""

DEFAULT_UNTRACKED = "code"
"""Untracked files are captured when they are code or configuration, by name."""

_MAX_LISTED = 100  # paths listed per kind in run.yaml; a count says how many more


def untracked_mode(repo_root: Path) -> str:
    """Which untracked files the patch holds: ``all``, ``code`` or ``none``.

    ``$RUNFOLIO_CAPTURE_UNTRACKED``, else ``capture_untracked`` in the repository's
    ``runfolio.yaml``, else ``code``. A value that is none of these warns and captures
    no untracked file (the safe reading of a typo), so a bad setting never stops training.
    """
    where = f"${UNTRACKED_ENV}"
    value: object = os.environ.get(UNTRACKED_ENV) or None
    if value is None:
        where = f"{repo_root / CONFIG_FILE}: {UNTRACKED_KEY}"
        try:
            value = read_config(repo_root).get(UNTRACKED_KEY)
        except ConfigError:
            value = None  # the site build reports a broken file; training goes on
    if value is None:
        return DEFAULT_UNTRACKED
    if value not in UNTRACKED_MODES:
        import warnings

        warnings.warn(
            f"runfolio: {where} must be one of {', '.join(UNTRACKED_MODES)}, not {value!r}; "
            "no untracked file is captured",
            RuntimeWarning,
            stacklevel=5,
        )
        return "none"
    return str(value)


@functools.cache
def _git_state(repo_root: Path, store_root: Path) -> tuple[dict[str, Any], bytes]:
    """Git commit, branch, dirty flag and remote, plus the uncommitted patch as bytes."""
    if os.environ.get("RUNFOLIO_CAPTURE_GIT", "1") == "0":
        return {}, b""
    import warnings

    try:
        snapshot = capture_git(
            repo_root,
            # runfolio's caches, when they live in the repository, are never code
            exclude=(cache_dir(),),
            exclude_subfolders_of=(store_root,),
            untracked=untracked_mode(repo_root),
        )
    except GitError as exc:
        # A broken or foreign-owned repository (common in containers) must not stop
        # training; the run simply records no git state.
        warnings.warn(f"runfolio: git state not captured: {exc}", RuntimeWarning, stacklevel=4)
        return {}, b""
    if snapshot is None:
        return {}, b""
    info: dict[str, Any] = {
        "commit": snapshot.commit,
        "branch": snapshot.branch,
        "dirty": snapshot.dirty,
        "remote_url": snapshot.remote_url,
    }
    _list_paths(info, "untracked_not_captured", snapshot.skipped_untracked)
    _list_paths(info, "credentials_not_captured", snapshot.skipped_credentials)
    # surrogateescape keeps non-UTF-8 bytes of a text diff exactly as git wrote them
    patch = snapshot.patch.encode("utf-8", "surrogateescape")
    if len(patch) > MAX_PATCH_BYTES:
        info["patch_not_captured"] = (
            f"the uncommitted changes make a {len(patch):,}-byte patch, over the "
            f"{MAX_PATCH_BYTES:,}-byte limit; commit them (or ignore data files) to record them"
        )
        # Said now, while the changes can still be committed: the run cannot be
        # reproduced from what it records (`runfolio reproduce` refuses it).
        warnings.warn(
            f"runfolio: uncommitted changes not recorded: {info['patch_not_captured']}",
            RuntimeWarning,
            stacklevel=4,
        )
        patch = b""
    return info, patch


def _list_paths(info: dict[str, Any], key: str, paths: tuple[str, ...]) -> None:
    """Record up to ``_MAX_LISTED`` paths under ``key``, and how many in all when more."""
    if paths:
        info[key] = list(paths[:_MAX_LISTED])
    if len(paths) > _MAX_LISTED:
        info[f"{key}_count"] = len(paths)
