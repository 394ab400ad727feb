"""Real git repositories for tests: run git, make a first commit, commit everything.

Importable from every test module (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

_FIRST_COMMIT = (
    ["init", "--quiet", "--initial-branch=main"],
    ["config", "user.name", "Test User"],
    ["config", "user.email", "test@example.com"],
    ["config", "commit.gpgsign", "false"],
    ["add", "--all"],
    ["commit", "--quiet", "--message", "initial"],
)


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in ``repo`` (with ``env`` when given) and return its output, stripped."""
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env=None if env is None else dict(env),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def init_repo(repo: Path, env: Mapping[str, str] | None = None) -> Path:
    """Make ``repo`` (holding its files already) a repository on ``main`` with one commit."""
    for args in _FIRST_COMMIT:
        git(repo, *args, env=env)
    return repo


def commit_all(repo: Path, message: str) -> str:
    """Commit every change in ``repo``; return the new commit's sha."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def capture_env(root: Path) -> dict[str, str]:
    """An environment for git and training processes: no user git config, a private HOME
    under ``root`` and git capture on (no RUNFOLIO_, GIT_ or AWS_ variable inherited)."""
    home = root / "home"
    home.mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RUNFOLIO_", "GIT_", "AWS_"))
    }
    env.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(root / "gitconfig-global"),
        GIT_CONFIG_NOSYSTEM="1",
        RUNFOLIO_CAPTURE_GIT="1",
        RUNFOLIO_CACHE_DIR=str(root / "cache"),
    )
    return env
