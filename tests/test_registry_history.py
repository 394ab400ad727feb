"""The registry's history, read from every version of the runs' run.yaml that git holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from git_helpers import commit_all, git
from runfolio.registry import (
    delete_model_alias,
    register_model,
    registry_history,
    set_model_alias,
)
from store_helpers import log_model_runs


def _texts(root: Path, name: str) -> list[str]:
    """The model's history as its event texts, oldest first."""
    history = registry_history(root)
    assert history is not None
    return [event.text for event in history.get(name, [])]


# Names the emitter must double-quote with YAML escapes JSON does not know: a no-break
# space (\_), a line separator (\L) and a DEL character (\x7F).
ESCAPED_NAMES = ["x\u00a0y", "line\u2028separator", "del\x7fname"]


def test_a_model_whose_name_yaml_escapes_has_its_whole_history(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runfolio.cli import main
    from runfolio.site.build import build_site
    from runfolio.site.registry_pages import model_page_path

    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    root = git_repo / "runs"
    ids = log_model_runs(root, 2 * len(ESCAPED_NAMES))
    for index, name in enumerate(ESCAPED_NAMES):
        register_model(root, ids[2 * index], name)
        register_model(root, ids[2 * index + 1], name)
        set_model_alias(root, name, "champion", 1)
    commit_all(git_repo, "Register")
    for name in ESCAPED_NAMES:
        set_model_alias(root, name, "champion", 2)
    promoted = commit_all(git_repo, "Promote")

    expected = [
        f"registered version 1 (run {ids[0]})",
        f"registered version 2 (run {ids[1]})",
        "@champion set to version 1",
        "@champion moved from version 1 to version 2",
    ]
    history = registry_history(root)
    assert history is not None and sorted(history) == sorted(ESCAPED_NAMES)
    assert [e.text for e in history[ESCAPED_NAMES[0]]] == expected
    for name in ESCAPED_NAMES:
        assert len(history[name]) == 4 and history[name][-1].sha == promoted

    site = tmp_path / "site"
    assert build_site(root, site).problems == []
    for name in ESCAPED_NAMES:
        page = (site / model_page_path(name)).read_text(encoding="utf-8")
        assert "@champion moved from version 1 to version 2" in page
        assert "@champion set to version 1" in page and "registered version 2" in page

    runner = CliRunner()
    for name in ESCAPED_NAMES:
        shown = runner.invoke(main, ["--store", str(root), "models", "show", name])
        assert shown.exit_code == 0, shown.output
        history_part = shown.output.split("History:", 1)[1]
        assert history_part.index("@champion moved from version 1 to version 2") < (
            history_part.index("@champion set to version 1")
        )  # newest first
        assert "registered version 1" in history_part and promoted[:8] in history_part


def test_models_show_outside_git_says_there_is_no_history(tmp_path: Path) -> None:
    from runfolio.cli import main

    root = tmp_path / "runs"
    (run_id,) = log_model_runs(root, 1)
    register_model(root, run_id, "churn")
    shown = CliRunner().invoke(main, ["--store", str(root), "models", "show", "churn"])
    assert shown.exit_code == 0, shown.output
    assert "History: none (the store is not in a git repository)." in shown.output


def test_history_follows_moved_and_deleted_runs_and_removed_tags(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    root = git_repo / "runs"
    first, second, third = log_model_runs(root, 3)
    for run_id in (first, second, third):
        register_model(root, run_id, "churn")
    set_model_alias(root, "churn", "champion", 1)
    commit_all(git_repo, "Register")
    # An experiment folder renamed and a run moved to another experiment: the same runs.
    git(git_repo, "mv", "runs/exp", "runs/renamed")
    (root / "other").mkdir()
    shutil.copy(root / "renamed" / "experiment.yaml", root / "other" / "experiment.yaml")
    git(git_repo, "mv", f"runs/renamed/{third}", f"runs/other/{third}")
    commit_all(git_repo, "Rename and move")
    set_model_alias(root, "churn", "champion", 2)
    set_model_alias(root, "churn", "staging", 3)
    commit_all(git_repo, "Promote")
    delete_model_alias(root, "churn", "staging")  # a tag removed
    commit_all(git_repo, "Unstage")
    git(git_repo, "rm", "-r", "-q", f"runs/renamed/{second}")  # a run deleted
    deleted = commit_all(git_repo, "Delete the champion")

    history = registry_history(root)
    assert history is not None
    assert [e.text for e in history["churn"]] == [
        f"registered version 1 (run {first})",
        f"registered version 2 (run {second})",
        f"registered version 3 (run {third})",
        "@champion set to version 1",
        "@staging set to version 3",  # one commit's events come in the order of paths
        "@champion moved from version 1 to version 2",
        "@staging removed from version 3",
        "@champion removed from version 2",
    ]
    assert history["churn"][-1].sha == deleted
    assert history["churn"][-1].subject == "Delete the champion"


def test_a_shallow_clone_has_the_history_since_its_first_commit(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    root = git_repo / "runs"
    ids = log_model_runs(root, 3)
    register_model(root, ids[0], "churn")
    register_model(root, ids[1], "churn")
    set_model_alias(root, "churn", "champion", 1)
    commit_all(git_repo, "Register v1 and v2")
    set_model_alias(root, "churn", "champion", 2)
    commit_all(git_repo, "Promote v2")
    register_model(root, ids[2], "churn")
    commit_all(git_repo, "Register v3")
    set_model_alias(root, "churn", "champion", 3)
    promoted = commit_all(git_repo, "Promote v3")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth", "2", f"file://{git_repo}", str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    history = registry_history(clone / "runs")
    assert history is not None
    # "Register v3" is the clone's boundary: its tags are where the history starts.
    events = [(e.text, e.sha) for e in history["churn"]]
    assert events == [("@champion moved from version 2 to version 3", promoted)]
    assert _texts(git_repo / "runs", "churn")[-1] == "@champion moved from version 2 to version 3"


def test_an_unreadable_version_holds_no_tags(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    root = git_repo / "runs"
    (run_id,) = log_model_runs(root, 1)
    register_model(root, run_id, "churn")
    commit_all(git_repo, "Register")
    run_file = next(root.glob(f"*/{run_id}/run.yaml"))
    good = run_file.read_bytes()
    run_file.write_bytes(good.replace(b"registry.version", b"registry.version: [", 1))
    commit_all(git_repo, "Break it")
    run_file.write_bytes(good)
    commit_all(git_repo, "Mend it")
    assert _texts(root, "churn") == [
        f"registered version 1 (run {run_id})",
        f"registered version 1 (run {run_id})",
    ]
