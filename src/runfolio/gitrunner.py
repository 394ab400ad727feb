"""The one place runfolio starts git: one environment, one timeout, one family of errors.

Every git command runfolio runs goes through :func:`run_git`, so what git prints does not
depend on who runs it: the locale is C (messages and dates in plain English), no prompt
or pager can wait for a keyboard, and the few user settings that would change output
runfolio parses are pinned (``core.quotePath``, signatures in ``log``, the log's
encoding; each command that could colour its output says ``--no-color``). A command
that runs longer than :data:`GIT_TIMEOUT_S` is stopped, with any hook it started, and
reported as :class:`~runfolio.errors.GitTimeoutError`.

Plain :mod:`subprocess`, standard library only: GitPython was measured as the slower tool
for what runfolio does (``benchmarks/bench_git_layer.py``, figures in
``benchmarks/results.md``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from runfolio.background import start_without_signals
from runfolio.errors import GitError, GitNotFoundError, GitTimeoutError

__all__ = ["GIT_TIMEOUT_S", "GitResult", "run_git"]

GIT_TIMEOUT_S = 120.0
"""Seconds any one git command may run before it is stopped.

Generous: ``status`` on a very large monorepo takes seconds and ``cat-file --batch`` on
a large store a few more, but a stuck filesystem, a hanging hook (``core.fsmonitor``) or
a network mount must not freeze a training job or a site build forever. Every command
stopped at this point only ever wrote to temporary files.
"""

# Pinned in front of every command: user config that would change output runfolio
# parses. quotePath at git's own default, so a path is spelled the same for everyone
# where -z cannot be used (the headers of a patch).
_CONFIG = (
    ("core.quotePath", "true"),
    ("log.showSignature", "false"),
    ("i18n.logOutputEncoding", "UTF-8"),
)

# No prompts, no pager, English messages, and no opportunistic write of the user's index
# by `git status` (GIT_OPTIONAL_LOCKS=0). The pathspec variables are reset because
# pathspec magic (":(exclude,literal)...") is how runfolio spells excluded paths.
_ENV = {
    "LC_ALL": "C",
    "LANGUAGE": "C",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_LITERAL_PATHSPECS": "0",
    "GIT_GLOB_PATHSPECS": "0",
    "GIT_NOGLOB_PATHSPECS": "0",
    "GIT_ICASE_PATHSPECS": "0",
}


class GitResult(NamedTuple):
    """What one git command gave: exit status, stdout bytes, stderr text."""

    status: int
    stdout: bytes
    stderr: str


def run_git(
    cwd: Path,
    args: Sequence[str],
    *,
    stdin: bytes | BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> GitResult:
    """Run ``git ARGS`` in the folder ``cwd`` with runfolio's fixed environment.

    Args:
        cwd: The folder git runs in.
        args: The arguments after ``git``.
        stdin: Bytes fed to git (``cat-file --batch`` requests) or an open file it
            reads; nothing (an empty stdin, never the terminal) by default.
        stdout: An open file that receives git's output, which is then never held in
            memory (the result's ``stdout`` is empty).
        env: Variables added to the environment (a temporary index, say).
        check: Raise when git exits with a non-zero status.

    Returns:
        The exit status, stdout as bytes and stderr as text.

    Raises:
        GitNotFoundError: no git program on PATH.
        GitTimeoutError: the command ran longer than :data:`GIT_TIMEOUT_S`.
        GitError: ``check`` and git exited with a non-zero status; the message names the
            command, the folder and git's own explanation.
    """
    command = ["git", *(f for key, value in _CONFIG for f in ("-c", f"{key}={value}")), *args]
    feed = stdin if isinstance(stdin, bytes) else None
    source: int | BinaryIO = subprocess.DEVNULL
    if feed is not None:
        source = subprocess.PIPE
    elif stdin is not None and not isinstance(stdin, bytes):
        source = stdin
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=source,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **_ENV, **(env or {})},
            # Its own process group, so a timeout also stops the hooks git started.
            process_group=0 if os.name == "posix" else None,
        )
    except FileNotFoundError as exc:
        if not Path(cwd).is_dir():
            raise GitError(f"cannot run git in {cwd}: no such folder") from exc
        raise GitNotFoundError("git is not installed (or not on PATH)") from exc
    # A watchdog thread, not communicate(timeout=...): with a timeout, Popen.wait polls
    # with growing sleeps, which adds about a millisecond to every short command.
    expired = threading.Event()
    watchdog = threading.Timer(GIT_TIMEOUT_S, _expire, (process, expired))
    watchdog.daemon = True
    with process:
        start_without_signals(watchdog)  # see runfolio.background
        try:
            out, err = process.communicate(feed)
        except BaseException:
            _kill_group(process)
            raise
        finally:
            watchdog.cancel()
    if expired.is_set():
        raise GitTimeoutError(
            f"git {_subcommand(args)} did not complete within {GIT_TIMEOUT_S:g} s in "
            f"{cwd} and was stopped (a hanging hook, filesystem or lock?)"
        )
    result = GitResult(process.returncode, out or b"", (err or b"").decode("utf-8", "replace"))
    if check and result.status != 0:
        raise GitError(
            f"git {_subcommand(args)} failed in {cwd} (exit {result.status}): "
            f"{result.stderr.strip()}"
        )
    return result


def _expire(process: subprocess.Popen[bytes], expired: threading.Event) -> None:
    """Stop a git command that outlived its timeout (the watchdog's action)."""
    if process.returncode is None:
        expired.set()
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a git process and everything in its process group.

    The whole group, so that the hooks git started do not hold its pipes open.
    """
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()


def _subcommand(args: Sequence[str]) -> str:
    """The git subcommand in ``args``, skipping ``-c key=value`` pairs before it."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        else:
            return arg
    return ""
