"""`runfolio build --refs`: one site from the store as several branches hold it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from git_helpers import commit_all, git
from runfolio import Store
from runfolio.cli import main
from runfolio.gitobjects import RevisionNotFoundError
from runfolio.site.branches import BranchesError, expand_refs, parse_refs, snapshot_branches


def log_run(store: Store, name: str, loss: float) -> str:
    with store.start_run("sweep", run_name=name) as run:
        run.log_metric("loss", loss)
    return run.run_id


@pytest.fixture
def repo(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """main: runs a, b. feature/fast (from main): adds c, renames a. exp/wild: adds d.

    The working tree is left on main with an uncommitted run u.
    """
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    store = Store(git_repo / "runs")
    store.set_experiment("sweep", primary_metric="loss")
    ids = {"a": log_run(store, "a", 0.5), "b": log_run(store, "b", 0.4)}
    commit_all(git_repo, "main runs")
    git(git_repo, "checkout", "--quiet", "-b", "feature/fast")
    ids["c"] = log_run(store, "c", 0.3)
    run_yaml = git_repo / "runs" / "sweep" / ids["a"] / "run.yaml"
    run_yaml.write_text(
        run_yaml.read_text(encoding="utf-8").replace("name: a\n", "name: a-on-feature\n"),
        encoding="utf-8",
    )
    commit_all(git_repo, "feature runs")
    git(git_repo, "checkout", "--quiet", "-b", "exp/wild", "main")
    ids["d"] = log_run(store, "d", 0.9)
    commit_all(git_repo, "wild run")
    git(git_repo, "checkout", "--quiet", "main")
    ids["u"] = log_run(store, "u", 0.1)  # uncommitted: not on any branch
    return ids


def names_in(snapshot_root: Path) -> dict[str, str]:
    """Run id → name of every run in a snapshot folder."""
    found = {}
    for run_yaml in snapshot_root.glob("*/*/run.yaml"):
        data = yaml.safe_load(run_yaml.read_text(encoding="utf-8"))
        found[data["id"]] = data["name"]
    return found


def test_runs_are_labelled_with_every_branch_that_holds_them(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    with snapshot_branches(git_repo / "runs", ["main", "feature/*"], tmp_path / "snap") as snap:
        pass
    assert [r.name for r in snap.refs] == ["main", "feature/fast"]
    assert snap.runs == {
        repo["a"]: ("main", "feature/fast"),
        repo["b"]: ("main", "feature/fast"),
        repo["c"]: ("feature/fast",),
    }
    # The first branch listed supplies a run both hold; the working tree is not read.
    assert names_in(tmp_path / "snap") == {repo["a"]: "a", repo["b"]: "b", repo["c"]: "c"}
    with snapshot_branches(git_repo / "runs", ["feature/fast", "main"], tmp_path / "snap") as first:
        pass
    assert first.runs[repo["a"]] == ("feature/fast", "main")
    assert names_in(tmp_path / "snap")[repo["a"]] == "a-on-feature"


def test_the_snapshot_is_updated_in_place(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "snap"
    with snapshot_branches(git_repo / "runs", ["main", "exp/*"], target):
        pass
    kept = target / "sweep" / repo["b"] / "metrics.csv"
    before = os.stat(kept)
    with snapshot_branches(git_repo / "runs", ["main"], target):  # exp/wild's run goes away
        pass
    assert repo["d"] not in names_in(target)
    assert not (target / "sweep" / repo["d"]).exists()
    after = os.stat(kept)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_large_artifacts_are_streamed_byte_for_byte(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    artifacts = git_repo / "runs" / "sweep" / repo["b"] / "artifacts"
    artifacts.mkdir(exist_ok=True)
    big = os.urandom(5 << 20)  # above the batch limit: streamed, not read whole
    (artifacts / "weights.bin").write_bytes(big)
    (artifacts / "small.txt").write_text("small\n", encoding="utf-8")
    (artifacts / ".hydra").mkdir()
    (artifacts / ".hydra" / "config.yaml").write_text("lr: 0.1\n", encoding="utf-8")
    commit_all(git_repo, "artifacts")
    with snapshot_branches(git_repo / "runs", ["main"], tmp_path / "snap"):
        pass
    copied = tmp_path / "snap" / "sweep" / repo["b"] / "artifacts"
    assert (copied / "weights.bin").read_bytes() == big
    assert (copied / "small.txt").read_text(encoding="utf-8") == "small\n"
    # A dot-named artifact folder is kept, as a build from disk keeps it.
    assert (copied / ".hydra" / "config.yaml").read_text(encoding="utf-8") == "lr: 0.1\n"
    assert not list(copied.glob(".*partial"))


def test_remote_branches_of_a_ci_clone_are_matched_by_their_names(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", f"file://{git_repo}", str(clone)], check=True)
    refs, unmatched = expand_refs(clone, ["main", "feature/*", "nothing/*"])
    assert [r.name for r in refs] == ["main", "feature/fast"]
    assert unmatched == ["nothing/*"]
    assert refs[1].commit == git(git_repo, "rev-parse", "feature/fast")


def test_a_tag_or_commit_can_be_listed_and_an_unknown_name_is_an_error(
    git_repo: Path, repo: dict[str, str]
) -> None:
    git(git_repo, "tag", "v1", "exp/wild")
    refs, _ = expand_refs(git_repo, ["v1"])
    assert refs[0].commit == git(git_repo, "rev-parse", "exp/wild")
    with pytest.raises(RevisionNotFoundError, match="unknown git revision 'nope'"):
        expand_refs(git_repo, ["nope"])
    with (
        pytest.raises(BranchesError, match="no branch matches"),
        snapshot_branches(git_repo / "runs", ["nothing/*"]),
    ):
        pass


def test_symlinks_committed_in_the_store_are_not_copied(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-7f3a", encoding="utf-8")
    artifacts = git_repo / "runs" / "sweep" / repo["b"] / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "leak.txt").symlink_to(secret)
    commit_all(git_repo, "a symlink in the store")
    with snapshot_branches(git_repo / "runs", ["main"], tmp_path / "snap") as snap:
        pass
    assert any("leak.txt" in problem for problem in snap.problems)
    assert not (tmp_path / "snap" / "sweep" / repo["b"] / "artifacts" / "leak.txt").exists()


def test_the_site_shows_branches_on_run_pages_and_the_leaderboard(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    args = ["build", str(git_repo / "runs"), "-o", str(site), "--refs", "main,feature/*"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    page = (site / "experiments" / "sweep" / "runs" / f"{repo['a']}.html").read_text("utf-8")
    assert '<code class="branch">main</code> <code class="branch">feature/fast</code>' in page
    feature_only = (site / "experiments" / "sweep" / "runs" / f"{repo['c']}.html").read_text(
        "utf-8"
    )
    assert 'On branches</dt><dd><code class="branch">feature/fast</code></dd>' in feature_only
    assert not (site / "experiments" / "sweep" / "runs" / f"{repo['u']}.html").exists()
    table = json.loads((site / "experiments" / "sweep" / "runs.json").read_text("utf-8"))
    column = table["columns"].index("branches")
    by_id = {row[0]: row[column] for row in table["data"]}
    assert by_id == {
        repo["a"]: "main, feature/fast",
        repo["b"]: "main, feature/fast",
        repo["c"]: "feature/fast",
    }
    home = (site / "index.html").read_text("utf-8")
    main_sha = git(git_repo, "rev-parse", "main")[:8]
    assert f"the store on <code>main</code> (<code>{main_sha}</code>)" in home
    # A second build keeps every run page; a new commit on one branch relabels its runs.
    again = CliRunner().invoke(main, args)
    assert "(0 rendered" not in again.output and "3 kept" in again.output
    git(git_repo, "checkout", "--quiet", "feature/fast")
    git(git_repo, "merge", "--quiet", "--no-edit", "exp/wild")
    git(git_repo, "checkout", "--quiet", "main")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    d_page = (site / "experiments" / "sweep" / "runs" / f"{repo['d']}.html").read_text("utf-8")
    assert 'On branches</dt><dd><code class="branch">feature/fast</code></dd>' in d_page


def test_refs_from_runfolio_yaml_and_a_plain_build_has_no_branch_column(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    (git_repo / "runfolio.yaml").write_text("refs: [main, 'exp/*']\n", encoding="utf-8")
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["build", str(git_repo / "runs"), "-o", str(site)])
    assert result.exit_code == 0, result.output
    assert (site / "experiments" / "sweep" / "runs" / f"{repo['d']}.html").exists()
    (git_repo / "runfolio.yaml").unlink()
    plain = tmp_path / "plain"
    result = CliRunner().invoke(main, ["build", str(git_repo / "runs"), "-o", str(plain)])
    assert result.exit_code == 0, result.output
    table = json.loads((plain / "experiments" / "sweep" / "runs.json").read_text("utf-8"))
    assert "branches" not in table["columns"]
    assert (plain / "experiments" / "sweep" / "runs" / f"{repo['u']}.html").exists()


def test_parse_refs_splits_commas_and_drops_repeats() -> None:
    assert parse_refs("main, feature/*,,main") == ["main", "feature/*"]
    assert parse_refs(["main", "a,b"]) == ["main", "a", "b"]


def test_a_misnamed_run_folder_on_a_branch_is_a_reported_problem(
    git_repo: Path, repo: dict[str, str], tmp_path: Path
) -> None:
    """As in a plain build: reported with its branch and path, never fatal unless --strict."""
    git(git_repo, "checkout", "--quiet", "-b", "pr/hostile", "main")
    good = git_repo / "runs" / "sweep" / repo["b"]
    hostile = git_repo / "runs" / "sweep" / "## owned [x](evil.example) @team"
    hostile.mkdir()
    (hostile / "run.yaml").write_bytes((good / "run.yaml").read_bytes())
    commit_all(git_repo, "a folder whose name is not a run id")
    git(git_repo, "checkout", "--quiet", "main")
    site = tmp_path / "site"
    args = ["build", str(git_repo / "runs"), "-o", str(site), "--refs", "main,pr/*"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    expected = f"pr/hostile: runs/sweep/{hostile.name}: folder holds a run.yaml but its name"
    assert expected in result.output
    pages = sorted(p.stem for p in (site / "experiments" / "sweep" / "runs").glob("*.html"))
    assert pages == sorted([repo["a"], repo["b"], repo["u"]])  # u: committed on pr/hostile
    strict = CliRunner().invoke(main, [*args, "--strict", "-o", str(tmp_path / "strict")])
    assert strict.exit_code != 0 and expected in strict.output
