"""runfolio reproduce: a run's commit and uncommitted diff, recreated in a real git repo."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runfolio.cli import main
from runfolio.query.reproduce import ReproduceError, reproduce_run

TRAIN = """import sys

import runfolio

runfolio.set_experiment("exp")
with runfolio.start_run():
    runfolio.log_param("lr", float(sys.argv[sys.argv.index("--lr") + 1]))
    runfolio.log_metric("loss", 0.5)
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file of a working tree but git's own and the run store."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not {".git", "runs"} & set(path.relative_to(folder).parts)
    }


def _read_run_yaml(repo: Path, run_id: str) -> dict:
    """Load the run.yaml of run ``run_id`` of experiment exp in ``repo``'s store."""
    import yaml

    path = repo / "runs" / "exp" / run_id / "run.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write_run_yaml(repo: Path, run_id: str, data: dict) -> None:
    """Replace the run.yaml of run ``run_id`` of experiment exp in ``repo``'s store."""
    import yaml

    path = repo / "runs" / "exp" / run_id / "run.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def dirty_run(git_repo: Path) -> tuple[Path, str]:
    """A run made by the repo's train.py on a dirty tree (a change and an untracked file)."""
    (git_repo / "train.py").write_text(TRAIN, encoding="utf-8")
    _git(git_repo, "add", "train.py")
    _git(git_repo, "commit", "-q", "-m", "train script")
    (git_repo / "train.py").write_text(TRAIN + "# tuned by hand\n", encoding="utf-8")
    (git_repo / "helper.py").write_text("SEED = 7\n", encoding="utf-8")
    (git_repo / "data.bin").write_bytes(bytes(range(256)))
    subprocess.run(
        [sys.executable, "train.py", "--lr", "0.1"],
        cwd=git_repo,
        env={**os.environ, "RUNFOLIO_CAPTURE_GIT": "1", "RUNFOLIO_CAPTURE_UNTRACKED": "all"},
        check=True,
        capture_output=True,
    )
    (run_dir,) = (git_repo / "runs" / "exp").glob("2*")
    return git_repo, run_dir.name


def test_reproduce_recreates_the_dirty_tree_byte_for_byte(
    dirty_run: tuple[Path, str], tmp_path: Path
) -> None:
    repo, run_id = dirty_run
    made = reproduce_run(repo / "runs", run_id, tmp_path / "again")
    assert made.patched and made.folder == tmp_path / "again"
    assert _tree(made.folder) == _tree(repo)
    assert made.argv == ["train.py", "--lr", "0.1"]
    assert made.command == "python train.py --lr 0.1"
    assert made.params == {"lr": 0.1}
    # The user's own working tree is untouched.
    assert (repo / "train.py").read_text(encoding="utf-8").endswith("# tuned by hand\n")


def test_the_command_prints_and_runs_the_recorded_command(
    dirty_run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, run_id = dirty_run
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    target = tmp_path / "exec"
    result = CliRunner().invoke(
        main,
        ["--store", str(repo / "runs"), "reproduce", run_id[-10:], "--dir", str(target), "--exec"],
    )
    assert result.exit_code == 0, result.output
    assert f"Recreated the code of run {run_id}" in result.output
    assert f"command: cd {target} && python train.py --lr 0.1" in result.output
    # --exec ran train.py in the recreated tree, which logged its run into this store,
    # not into the worktree's (thrown away with it).
    assert len(list((repo / "runs" / "exp").glob("2*"))) == 2
    assert not (target / "runs").exists()


def test_worktree_store_keeps_the_new_runs_in_the_worktree(
    dirty_run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, run_id = dirty_run
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    target = tmp_path / "exec"
    args = ["--store", str(repo / "runs"), "reproduce", run_id, "--dir", str(target)]
    result = CliRunner().invoke(main, [*args, "--exec", "--worktree-store"])
    assert result.exit_code == 0, result.output
    assert len(list((target / "runs" / "exp").glob("2*"))) == 1
    assert len(list((repo / "runs" / "exp").glob("2*"))) == 1


def test_the_printed_command_removes_the_worktree(
    dirty_run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, run_id = dirty_run
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    target = tmp_path / "again"
    args = ["--store", str(repo / "runs"), "reproduce", run_id, "--dir", str(target), "--exec"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("remove it with: ")]
    command = shlex.split(line.removeprefix("remove it with: "))
    # The one the docs give, run from anywhere.
    assert command == ["git", "-C", str(repo), "worktree", "remove", "--force", str(target)]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    assert not target.exists()
    listed = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=repo, capture_output=True, text=True
    ).stdout
    assert str(target) not in listed


def test_a_commit_missing_from_the_repository_is_a_clear_error(
    dirty_run: tuple[Path, str], tmp_path: Path
) -> None:
    repo, run_id = dirty_run
    data = _read_run_yaml(repo, run_id)
    data["git"]["commit"] = "f" * 40
    _write_run_yaml(repo, run_id, data)
    with pytest.raises(ReproduceError, match=r"is not in the repository.*git fetch"):
        reproduce_run(repo / "runs", run_id, tmp_path / "nope")
    result = CliRunner().invoke(main, ["--store", str(repo / "runs"), "reproduce", run_id])
    assert result.exit_code == 1 and "Error: commit ffffffff" in result.output


def _big_dirty_run(git_repo: Path) -> tuple[Path, str, str]:
    """A run whose uncommitted diff (a rewritten 6 MB tracked file) is over the limit."""
    (git_repo / "train.py").write_text(TRAIN, encoding="utf-8")
    (git_repo / "table.txt").write_text("row\n", encoding="utf-8")
    _git(git_repo, "add", "train.py", "table.txt")
    _git(git_repo, "commit", "-q", "-m", "train script")
    (git_repo / "table.txt").write_text("".join(f"row {i}\n" for i in range(600_000)))
    done = subprocess.run(
        [sys.executable, "train.py", "--lr", "0.1"],
        cwd=git_repo,
        env={**os.environ, "RUNFOLIO_CAPTURE_GIT": "1"},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (run_dir,) = (git_repo / "runs" / "exp").glob("2*")
    return git_repo, run_dir.name, done.stderr


def test_a_run_whose_diff_was_not_captured_is_refused_unless_allowed(
    git_repo: Path, tmp_path: Path
) -> None:
    repo, run_id, stderr = _big_dirty_run(git_repo)
    # Said when the run was logged, while the changes can still be committed.
    assert "uncommitted changes not recorded" in stderr
    git_info = _read_run_yaml(repo, run_id)["git"]
    assert git_info["dirty"] is True and "patch" not in git_info
    assert "over the 5,000,000-byte limit" in git_info["patch_not_captured"]
    with pytest.raises(ReproduceError, match="did not record its uncommitted changes"):
        reproduce_run(repo / "runs", run_id, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    store = ["--store", str(repo / "runs"), "reproduce", run_id]
    refused = CliRunner().invoke(main, [*store, "--dir", str(tmp_path / "cli")])
    assert refused.exit_code == 1
    assert "--allow-incomplete" in refused.output and "a clean tree" not in refused.output
    allowed = CliRunner().invoke(
        main, [*store, "--dir", str(tmp_path / "cli"), "--allow-incomplete"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "without part of what the run saw" in allowed.output
    assert "warning: uncommitted changes: the uncommitted changes make a" in allowed.output
    assert (tmp_path / "cli" / "table.txt").read_text() == "row\n"  # the commit, as said


def test_a_dirty_run_whose_patch_file_is_gone_is_refused(
    dirty_run: tuple[Path, str], tmp_path: Path
) -> None:
    repo, run_id = dirty_run
    (repo / "runs" / "exp" / run_id / "captured" / "git.patch").unlink()
    with pytest.raises(ReproduceError, match=r"git\.patch is missing"):
        reproduce_run(repo / "runs", run_id, tmp_path / "x")
    made = reproduce_run(repo / "runs", run_id, tmp_path / "y", allow_incomplete=True)
    assert not made.patched and made.missing


def test_recorded_text_cannot_drive_the_terminal(
    dirty_run: tuple[Path, str], tmp_path: Path
) -> None:
    repo, run_id = dirty_run
    data = _read_run_yaml(repo, run_id)
    # A hostile store: the command erases its own line and shows a harmless one instead;
    # the notes write the clipboard (OSC 52) and retitle the window.
    data["source"]["argv"] = ["--lr", "0.1\x1b[2K\r\x1b[1Acommand: python safe.py\x9b2J"]
    data["description"] = "fine\x1b]52;c;Y3VybCBldmlsfHNo\x07\x1b]0;owned\x07\u202eevil"
    data["name"] = "run\x1b[31m"
    _write_run_yaml(repo, run_id, data)
    store = ["--store", str(repo / "runs")]
    outputs = [
        CliRunner().invoke(main, [*store, "reproduce", run_id, "--dir", str(tmp_path / "r")]),
        CliRunner().invoke(main, [*store, "show", run_id]),
        CliRunner().invoke(main, [*store, "show", run_id, "--format", "json"]),
        CliRunner().invoke(main, [*store, "ls"]),
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        for raw in ("\x1b", "\x07", "\x9b", "\r", "\u202e"):
            assert raw not in result.output, (raw, result.output)
    assert "\\x1b[2K\\r\\x1b[1Acommand: python safe.py\\x9b2J" in outputs[0].output
    assert "fine\\x1b]52;c;Y3VybCBldmlsfHNo\\x07" in outputs[1].output
    # JSON stays exact data: the escapes read back as the characters.
    import json

    assert json.loads(outputs[2].output)["description"] == data["description"]
