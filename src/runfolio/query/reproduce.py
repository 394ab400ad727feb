"""Recreate the code a run used: its commit in a new git worktree, its uncommitted diff
applied, and the command that started it.
"""

from __future__ import annotations

import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runfolio.errors import RunfolioError
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

    @property
    def command(self) -> str:
        """The recorded command, for a shell in :attr:`folder`."""
        return shlex.join(["python", *self.argv])


def reproduce_run(root: Path, run_ref: str, folder: Path | None = None) -> Reproduction:
    """Check out the commit a run recorded into a new worktree and apply its diff.

    Args:
        root: the run store (inside the git repository the run's code came from).
        run_ref: the run's id or a unique prefix.
        folder: where to create the worktree (must not exist or be empty); default: a
            new temporary folder.

    Raises:
        ReproduceError: the run recorded no commit, the store is not in a git
            repository, the commit is not in it (fetch it first), or the diff does not
            apply.
        RunNotFoundError: no such run.
    """
    from runfolio.errors import GitError

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
    target = folder or Path(tempfile.mkdtemp(prefix=f"runfolio-reproduce-{run.run_id[-10:]}-"))
    try:
        add_worktree(repo, commit, target)
        details = build_run_details(root, run)
        patch = details["git"].get("patch")
        if patch:
            apply_patch(target, Path(patch))
    except GitError as exc:
        raise ReproduceError(f"cannot recreate the code of run {run.run_id}: {exc}") from exc
    entry = run.source.get("entry_point")
    argv = [str(entry)] if isinstance(entry, str) and entry else []
    argv += [str(arg) for arg in run.source.get("argv") or []]
    return Reproduction(run.run_id, target, commit, bool(patch), argv, run.flat_params())
