"""What a run captures by itself, in a real temporary git repository."""

from __future__ import annotations

import getpass
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import runfolio
from runfolio.tracking import capture


@pytest.fixture(autouse=True)
def _fresh_capture() -> Iterator[None]:
    """Forget git state captured for earlier tests (it is cached per process)."""
    capture._git_state.cache_clear()
    yield
    capture._git_state.cache_clear()


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test repository as the current folder, its ``train.py`` as the running script."""
    monkeypatch.chdir(git_repo)
    monkeypatch.setattr(sys, "argv", [str(git_repo / "train.py"), "--lr", "0.1"])
    runfolio.set_store(None)  # the default: runs/ at the repository root
    return git_repo


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its output."""
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def run_yaml(run: runfolio.Run) -> dict[str, Any]:
    return yaml.safe_load((run.path / "run.yaml").read_text(encoding="utf-8"))


def start_and_end() -> runfolio.Run:
    """Start a run in the current folder's repository and end it."""
    with runfolio.start_run(experiment_name="capture") as run:
        runfolio.log_metric("loss", 1.0)
    return run


def test_clean_repository(repo: Path) -> None:
    run = start_and_end()
    assert run.path.is_relative_to(repo / "runs")
    data = run_yaml(run)
    assert data["git"] == {
        "branch": "main",
        "commit": git(repo, "rev-parse", "HEAD"),
        "dirty": False,
        "remote_url": None,
    }
    assert not (run.path / "captured" / "git.patch").exists()
    assert data["source"] == {"entry_point": "train.py", "argv": ["--lr", "0.1"]}
    assert data["user"] == getpass.getuser()


def test_the_store_inside_the_repository_does_not_make_it_dirty(repo: Path) -> None:
    first = start_and_end()
    capture._git_state.cache_clear()
    second = start_and_end()  # runs/ now holds a whole run, artifacts and all
    assert run_yaml(first)["git"]["dirty"] is False
    assert run_yaml(second)["git"]["dirty"] is False
    assert git(repo, "status", "--porcelain", "--untracked-files=all").startswith("?? runs/")


def test_a_store_elsewhere_in_the_repository_is_left_out(repo: Path) -> None:
    runfolio.set_store(repo / "experiments" / "store")
    run = start_and_end()
    assert run.path.is_relative_to(repo / "experiments" / "store")
    assert run_yaml(run)["git"]["dirty"] is False


def test_dirty_repository_writes_a_patch_that_recreates_the_tree(
    repo: Path, tmp_path: Path
) -> None:
    (repo / "train.py").write_text("print('training harder')\n", encoding="utf-8")
    (repo / "new_module.py").write_text("VALUE = 42\n", encoding="utf-8")
    (repo / "README.md").unlink()
    run = start_and_end()
    data = run_yaml(run)
    assert data["git"]["dirty"] is True
    assert data["git"]["patch"] == "captured/git.patch"
    assert data["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    patch = run.path / "captured" / "git.patch"
    text = patch.read_text(encoding="utf-8")
    assert "training harder" in text
    assert "new_module.py" in text
    assert "runs/" not in text
    assert "\r" not in text

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    git(clone, "apply", str(patch))
    for name in ("train.py", "new_module.py"):
        assert (clone / name).read_bytes() == (repo / name).read_bytes()
    assert not (clone / "README.md").exists()
    assert git(repo, "status", "--porcelain", "--", "train.py") == "M train.py"  # index untouched


def test_capture_leaves_the_users_index_alone(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n", encoding="utf-8")
    index_before = (repo / ".git" / "index").read_bytes()
    start_and_end()
    assert (repo / ".git" / "index").read_bytes() == index_before


@pytest.mark.parametrize(
    ("remote", "stored"),
    [
        ("https://alice:s3cr3t-token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_s3cr3t@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("ssh://git:s3cr3t@example.com/repo.git", "ssh://git@example.com/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    ],
)
def test_remote_url_is_recorded_without_credentials(repo: Path, remote: str, stored: str) -> None:
    git(repo, "remote", "add", "origin", remote)
    run = start_and_end()
    assert run_yaml(run)["git"]["remote_url"] == stored
    assert "s3cr3t" not in (run.path / "run.yaml").read_text(encoding="utf-8")


def test_detached_head_has_no_branch(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "--detach")
    data = run_yaml(start_and_end())
    assert data["git"]["branch"] is None
    assert data["git"]["commit"] == git(repo, "rev-parse", "HEAD")


def test_entry_point_is_relative_to_the_repository_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "fit.py").write_text("", encoding="utf-8")
    monkeypatch.chdir(repo / "src")
    monkeypatch.setattr(sys, "argv", ["fit.py", "--epochs", "3"])
    run = start_and_end()
    assert run.path.is_relative_to(repo / "runs")  # the store is still at the repository root
    assert run_yaml(run)["source"] == {"entry_point": "src/fit.py", "argv": ["--epochs", "3"]}


def test_environment_and_packages(repo: Path) -> None:
    run = start_and_end()
    environment = run_yaml(run)["environment"]
    assert environment["python"] == platform.python_version()
    assert environment["platform"] == platform.platform()
    assert environment["implementation"] == platform.python_implementation()
    assert environment["packages"] == "captured/packages.txt"
    packages = (run.path / "captured" / "packages.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("PyYAML==") for line in packages)
    assert any(line.startswith("runfolio==") for line in packages)


def test_outside_a_repository_nothing_of_git_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "1")
    folder = tmp_path / "plain"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "elsewhere" / "job.py")])
    runfolio.set_store(None)
    run = start_and_end()
    assert run.path.is_relative_to(folder.resolve() / "runs")
    data = run_yaml(run)
    assert data["git"] == {}
    assert data["source"] == {"entry_point": "job.py", "argv": []}
    assert not (run.path / "captured" / "git.patch").exists()
    assert (run.path / "captured" / "packages.txt").exists()


def test_the_scripts_repository_is_captured_from_another_folder(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runfolio.set_store(elsewhere / "runs")
    run = start_and_end()
    data = run_yaml(run)
    assert data["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert data["git"]["dirty"] is False
    assert data["source"]["entry_point"] == "train.py"


def test_git_capture_can_be_turned_off(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    (repo / "train.py").write_text("changed\n", encoding="utf-8")
    run = start_and_end()
    assert run_yaml(run)["git"] == {}
    assert not (run.path / "captured" / "git.patch").exists()
