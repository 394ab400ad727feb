"""Recreate the code a run used: its commit in a new git worktree, its uncommitted diff
applied, and the command that started it.
"""

from __future__ import annotations

import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runfolio.errors import GitError, RunfolioError
from runfolio.gitrepo import add_worktree, apply_patch, find_repo_root, has_commit
from runfolio.query.details import build_run_details
from runfolio.query.runs import get_run


class ReproduceError(RunfolioError):
    """The run's code cannot be recreated here (no commit recorded, commit missing ...)."""


@dataclass(frozen=True)
class Reproduction:
    """Where a run's code was recreated and how to run it again."""

    run_id: str
    folder: Path
    commit: str
    patched: bool
    argv: list[str]
    params: dict[str, Any]
    repo: Path
    missing: tuple[str, ...] = ()
    """What the run saw that is not recreated (files it did not capture), one line each."""

    @property
    def command(self) -> str:
        """The recorded command, for a shell in :attr:`folder`."""
        return shlex.join(["python", *self.argv])

    @property
    def remove_command(self) -> str:
        """The shell command that removes the worktree (and its changes) when done.

        ``--force`` because the applied diff, and anything the command wrote, make the
        worktree "dirty", which a plain ``git worktree remove`` refuses.
        """
        return shlex.join(
            ["git", "-C", str(self.repo), "worktree", "remove", "--force", str(self.folder)]
        )


def reproduce_run(
    root: Path, run_ref: str, folder: Path | None = None, *, allow_incomplete: bool = False
) -> Reproduction:
    """Check out the commit a run recorded into a new worktree and apply its diff.

    Args:
        root: the run store (inside the git repository the run's code came from).
        run_ref: the run's id or a unique prefix.
        folder: where to create the worktree (must not exist or be empty); default: a
            new temporary folder.
        allow_incomplete: recreate the commit even when the run did not record its
            uncommitted changes (``git.patch_not_captured``, or a patch file that is
            gone): the code then differs from what ran, and :attr:`Reproduction.missing`
            says so.

    Raises:
        ReproduceError: the run recorded no commit, the store is not in a git
            repository, the commit is not in it (fetch it first), the run's uncommitted
            changes were not recorded (unless ``allow_incomplete``), or the diff does
            not apply.
        RunNotFoundError: no such run.
    """
    run = get_run(root, run_ref)
    commit = run.git.get("commit")
    if not isinstance(commit, str) or not commit:
        raise ReproduceError(f"run {run.run_id} recorded no git commit; its code is not known")
    repo = find_repo_root(root)
    if repo is None:
        raise ReproduceError(f"{root} is not inside a git repository")
    if not has_commit(repo, commit):
        raise ReproduceError(
            f"commit {commit} of run {run.run_id} is not in the repository at {repo}; "
            "fetch the branch it was on (git fetch --all) and try again"
        )
    patch = build_run_details(root, run)["git"].get("patch")
    lost = _lost_changes(run.git, patch)
    if lost and not allow_incomplete:
        raise ReproduceError(
            f"run {run.run_id} did not record its uncommitted changes ({lost}), so its code "
            f"cannot be recreated; pass --allow-incomplete to check out commit {commit[:8]} "
            "without them"
        )
    target = folder or Path(tempfile.mkdtemp(prefix=f"runfolio-reproduce-{run.run_id[-10:]}-"))
    try:
        add_worktree(repo, commit, target)
        if patch:
            apply_patch(target, Path(patch))
    except GitError as exc:
        raise ReproduceError(f"cannot recreate the code of run {run.run_id}: {exc}") from exc
    entry = run.source.get("entry_point")
    argv = [str(entry)] if isinstance(entry, str) and entry else []
    argv += [str(arg) for arg in run.source.get("argv") or []]
    missing = ([f"uncommitted changes: {lost}"] if lost else []) + _uncaptured_files(run.git)
    return Reproduction(
        run.run_id, target, commit, bool(patch), argv, run.flat_params(), repo, tuple(missing)
    )


def _lost_changes(git: dict[str, Any], patch: str | None) -> str | None:
    """Why the run's uncommitted changes cannot be applied, or None when they can."""
    reason = git.get("patch_not_captured")
    if reason:
        return str(reason)
    if git.get("dirty") is True and git.get("patch") and not patch:
        return f"its patch {git['patch']} is missing from the run folder"
    return None


def _uncaptured_files(git: dict[str, Any]) -> list[str]:
    """One line per kind of file the run saw but left out of its patch."""
    lines = []
    for key, why in (
        ("untracked_not_captured", "untracked files not captured"),
        ("credentials_not_captured", "credential files not captured (supply your own)"),
    ):
        paths = git.get(key)
        if isinstance(paths, list) and paths:
            total = git.get(f"{key}_count")
            more = total - len(paths) if isinstance(total, int) and total > len(paths) else 0
            shown = ", ".join(str(path) for path in paths[:10])
            rest = len(paths) - 10 + more
            lines.append(f"{why}: {shown}" + (f" and {rest} more" if rest > 0 else ""))
    return lines
