"""runfolio reproduce: a run's commit and uncommitted diff, recreated in a real git repo."""

from __future__ import annotations

import os
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
        env={**os.environ, "RUNFOLIO_CAPTURE_GIT": "1"},
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
    # --exec ran train.py in the recreated tree, which logged a run to its own store.
    assert len(list((target / "runs" / "exp").glob("2*"))) == 1


def test_a_commit_missing_from_the_repository_is_a_clear_error(
    dirty_run: tuple[Path, str], tmp_path: Path
) -> None:
    import yaml

    repo, run_id = dirty_run
    run_yaml = repo / "runs" / "exp" / run_id / "run.yaml"
    data = yaml.safe_load(run_yaml.read_text(encoding="utf-8"))
    data["git"]["commit"] = "f" * 40
    run_yaml.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ReproduceError, match=r"is not in the repository.*git fetch"):
        reproduce_run(repo / "runs", run_id, tmp_path / "nope")
    result = CliRunner().invoke(main, ["--store", str(repo / "runs"), "reproduce", run_id])
    assert result.exit_code == 1 and "Error: commit ffffffff" in result.output
