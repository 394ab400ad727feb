"""Concurrent ``runfolio build --refs``: each site shows exactly its own branches' runs.

Builds run as separate processes sharing one cache folder (one CI machine, several jobs),
against a real git repository with two branches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from git_helpers import commit_all, git
from runfolio import Store
from runfolio.site.branches import snapshot_branches
from runfolio.site.build import build_site


def _log_run(store: Store, name: str) -> str:
    with store.start_run("sweep", run_name=name) as run:
        run.log_metric("loss", 0.5)
    return run.run_id


@pytest.fixture
def repo(git_repo: Path) -> dict[str, str]:
    """main: run a. feature: runs a and b. The working tree is left on main."""
    store = Store(git_repo / "runs")
    ids = {"a": _log_run(store, "a")}
    commit_all(git_repo, "main run")
    git(git_repo, "checkout", "--quiet", "-b", "feature")
    ids["b"] = _log_run(store, "b")
    commit_all(git_repo, "feature run")
    git(git_repo, "checkout", "--quiet", "main")
    return ids


def _build(repo_dir: Path, site: Path, refs: str, *extra: str) -> subprocess.Popen[str]:
    """Start ``runfolio build --refs`` in its own process (same cache folder as the test)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runfolio",
            "build",
            "runs",
            "-o",
            str(site),
            "--refs",
            refs,
            *extra,
        ],
        cwd=repo_dir,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> None:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err


def _runs_on(site: Path) -> set[str]:
    """The ids of the run pages of a site."""
    return {page.stem for page in (site / "experiments" / "sweep" / "runs").glob("*.html")}


def test_a_build_of_other_refs_does_not_touch_a_snapshot_being_built(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    store = git_repo / "runs"
    with snapshot_branches(store, ["main", "feature"]) as both:
        # Another job builds main alone while this one is between snapshot and build.
        _finish(_build(git_repo, tmp_path / "main-site", "main"))
        build_site(both.root, tmp_path / "both-site", branches=both)
    assert _runs_on(tmp_path / "both-site") == {repo["a"], repo["b"]}
    assert _runs_on(tmp_path / "main-site") == {repo["a"]}
    _finish(_build(git_repo, tmp_path / "main-later", "main", "--clean"))
    assert _runs_on(tmp_path / "main-later") == {repo["a"]}


def test_a_build_of_the_same_refs_waits_for_the_one_reading_the_snapshot(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    store = git_repo / "runs"
    with snapshot_branches(store, ["main"]) as held:
        # main moves on, and a second job starts building it.
        new = _log_run(Store(store), "c")
        commit_all(git_repo, "another main run")
        second = _build(git_repo, tmp_path / "second", "main")
        with pytest.raises(subprocess.TimeoutExpired):
            second.wait(timeout=2)  # it waits for the lock instead of rewriting our snapshot
        build_site(held.root, tmp_path / "first", branches=held)
    _finish(second)
    assert _runs_on(tmp_path / "first") == {repo["a"]}
    assert _runs_on(tmp_path / "second") == {repo["a"], new}


def test_files_the_snapshot_did_not_record_are_removed(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    store = git_repo / "runs"
    with snapshot_branches(store, ["feature"]) as feature:
        leftover = feature.root / "sweep" / repo["b"]
        shutil.copytree(leftover, tmp_path / "b-run")
    with snapshot_branches(store, ["main"]) as main:
        # A folder a killed or concurrent writer left behind, that no state file lists.
        shutil.copytree(tmp_path / "b-run", main.root / "sweep" / repo["b"])
        (main.root / "sweep" / ".stray.partial").write_text("x", encoding="utf-8")
    _finish(_build(git_repo, tmp_path / "site", "main", "--clean"))
    assert _runs_on(tmp_path / "site") == {repo["a"]}
    with snapshot_branches(store, ["main"]) as again:
        assert sorted(p.name for p in (again.root / "sweep").iterdir()) == sorted(
            [repo["a"], "experiment.yaml"]
        )
