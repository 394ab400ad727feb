"""Tests of runfolio.gitrunner, the one place runfolio starts git, with real git processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runfolio import gitrunner
from runfolio.errors import GitError, GitNotFoundError, GitTimeoutError
from runfolio.gitobjects import list_store_tree, resolve_commit
from runfolio.gitrepo import capture_git, file_history
from runfolio.gitrunner import run_git

POSIX = os.name == "posix"


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` the plain way and return its stdout."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_every_command_sees_the_fixed_environment(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "1")
    monkeypatch.setenv("GIT_PAGER", "less")
    # A shell alias runs with the environment git itself was given.
    out = run_git(git_repo, ["-c", "alias.showenv=!env", "showenv"]).stdout.decode()
    seen = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    assert seen["LC_ALL"] == "C"
    assert seen["LANGUAGE"] == "C"
    assert seen["GIT_TERMINAL_PROMPT"] == "0"
    assert seen["GIT_PAGER"] == "cat"
    assert seen["GIT_OPTIONAL_LOCKS"] == "0"


def test_batch_reads_see_the_fixed_environment_too(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    out = tmp_path / "env.txt"
    with out.open("wb") as handle:
        run_git(git_repo, ["-c", "alias.showenv=!env", "showenv"], stdin=b"x\n", stdout=handle)

    assert "LC_ALL=C\n" in out.read_text(encoding="utf-8")


def test_user_quotepath_setting_does_not_change_a_patch(git_repo: Path) -> None:
    (git_repo / "données").mkdir()
    (git_repo / "données" / "naïve.py").write_text("x = 1\n", encoding="utf-8")
    (git_repo / "train.py").write_text("print('é')\n", encoding="utf-8")

    default = capture_git(git_repo)
    git(git_repo, "config", "core.quotePath", "false")
    unquoted_by_user = capture_git(git_repo)

    assert default is not None and unquoted_by_user is not None
    assert unquoted_by_user.patch == default.patch
    assert "na\\303\\257ve.py" in default.patch  # git's own default spelling


@pytest.mark.parametrize("quote_path", ["true", "false"])
def test_non_ascii_paths_read_the_same_whatever_the_locale_and_config(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, quote_path: str
) -> None:
    run = git_repo / "runs" / "expérience" / "naïve-run"
    run.mkdir(parents=True)
    (run / "run.yaml").write_text("run_id: naïve\n", encoding="utf-8")
    git(git_repo, "add", "--all")
    git(git_repo, "commit", "--quiet", "--message", "données")
    git(git_repo, "config", "core.quotePath", quote_path)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")

    commit = resolve_commit(git_repo, "HEAD")
    tree = list_store_tree(git_repo, commit, "runs")
    history = file_history(git_repo / "runs", "*/*/run.yaml")

    assert list(tree.files) == ["expérience/naïve-run/run.yaml"]
    assert history is not None
    assert [change.path for change in history.commits[-1].changes] == [
        "expérience/naïve-run/run.yaml"
    ]
    assert history.commits[-1].subject == "données"


@pytest.mark.skipif(not POSIX, reason="process groups are POSIX")
def test_a_hanging_batch_is_stopped_with_a_clear_error(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gitrunner, "GIT_TIMEOUT_S", 0.5)
    read_end, write_end = os.pipe()  # stdin that never ends: cat-file waits forever
    try:
        with os.fdopen(read_end, "rb") as never_closed:
            start = time.monotonic()
            with pytest.raises(GitTimeoutError, match=r"git cat-file did not complete within"):
                run_git(git_repo, ["cat-file", "--batch"], stdin=never_closed)
            assert time.monotonic() - start < 10
    finally:
        os.close(write_end)


@pytest.mark.skipif(not POSIX, reason="a fake git is a shell script")
def test_a_timeout_also_stops_what_git_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "child.pid"
    fake = bin_dir / "git"
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pid_file}\nwait\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(gitrunner, "GIT_TIMEOUT_S", 0.5)

    with pytest.raises(GitTimeoutError, match=rf"git status .* in {tmp_path}"):
        run_git(tmp_path, ["status"])

    child = int(pid_file.read_text(encoding="ascii"))
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the hook-like child of git outlived the timeout"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return status.rpartition(")")[2].split()[0] != "Z"


def test_a_missing_git_program_is_reported_clearly(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    with pytest.raises(GitNotFoundError, match="git is not installed"):
        run_git(git_repo, ["status"])


def test_a_missing_folder_is_not_taken_for_a_missing_git(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="no such folder") as raised:
        run_git(tmp_path / "gone", ["status"])

    assert not isinstance(raised.value, GitNotFoundError)


def test_a_failing_command_names_itself_and_its_folder(git_repo: Path) -> None:
    with pytest.raises(GitError, match=rf"git cat-file failed in {git_repo} \(exit 128\)"):
        run_git(git_repo, ["-c", "core.abbrev=12", "cat-file", "-p", "no-such-object"])

    status, out, err = run_git(git_repo, ["cat-file", "-e", "0" * 40], check=False)
    assert status != 0 and out == b""
    assert isinstance(err, str)


def test_stdin_bytes_and_a_stdout_file(git_repo: Path, tmp_path: Path) -> None:
    blob = run_git(git_repo, ["hash-object", "--stdin"], stdin=b"hello\n").stdout.strip()
    target = tmp_path / "out.bin"
    with target.open("wb") as handle:
        result = run_git(git_repo, ["cat-file", "blob", "HEAD:README.md"], stdout=handle)

    assert blob == b"ce013625030ba8dba906f756967f9e9ca394464a"  # sha1 of "blob 6\0hello\n"
    assert result.stdout == b""
    assert target.read_bytes() == (git_repo / "README.md").read_bytes()


def test_no_prompt_waits_for_a_keyboard(git_repo: Path) -> None:
    # Nothing on stdin: a command that would read it (a commit message editor, say)
    # gets an empty input rather than the terminal.
    result = run_git(git_repo, ["hash-object", "--stdin"])

    assert result.stdout.strip() == git(git_repo, "hash-object", "/dev/null").strip().encode()


def test_capturing_in_a_repository_loads_no_git_library(git_repo: Path) -> None:
    (git_repo / "train.py").write_text("print('changed')\n", encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from runfolio.gitrepo import capture_git; "
        "snapshot = capture_git(Path(sys.argv[1])); "
        "assert snapshot is not None and snapshot.dirty and snapshot.patch; "
        "assert 'git' not in sys.modules, 'a git library was imported'"
    )
    subprocess.run([sys.executable, "-c", code, str(git_repo)], check=True)
