"""The model registry derived from run tags: versions, aliases, conflicts, concurrency."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import yaml

from runfolio import Store
from runfolio.registry import (
    ALIAS_PREFIX,
    MODEL_TAG,
    VERSION_TAG,
    RegistryConflictError,
    RegistryError,
    delete_model_alias,
    get_model_version,
    get_model_version_by_alias,
    read_registry,
    register_model,
    resolve_model_uri,
    search_model_versions,
    set_model_alias,
)
from runfolio.tracking.models import load_model_dir
from store_helpers import log_model_runs


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "runs"


def test_registering_numbers_versions_and_tags_the_runs(root: Path) -> None:
    first, second, third = log_model_runs(root, 3)
    v1 = register_model(root, first, "churn")
    v2 = register_model(root, second[-10:-3], "churn")  # a unique short id is enough
    other = register_model(root, third, "fraud")
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert v2.source == f"runs:/{second}/model"
    tags = yaml.safe_load((v2.run.path / "run.yaml").read_text(encoding="utf-8"))["tags"]  # type: ignore[union-attr]
    assert tags[MODEL_TAG] == "churn" and tags[VERSION_TAG] == "2"
    # Registering the same run again is idempotent; under another name it is refused.
    assert register_model(root, first, "churn").version == 1
    with pytest.raises(RegistryError, match="already version 1 of 'churn'"):
        register_model(root, first, "other")
    registry = read_registry(root)
    assert sorted(registry.models) == ["churn", "fraud"]
    assert registry.model("churn").latest == get_model_version(root, "churn", 2)
    assert registry.conflicts == []


def test_an_alias_points_to_one_version_and_moves(root: Path) -> None:
    ids = log_model_runs(root, 3)
    for run_id in ids:
        register_model(root, run_id, "churn")
    set_model_alias(root, "churn", "champion", 1)
    set_model_alias(root, "churn", "staging", 2)  # MLflow's stages are plain aliases
    assert get_model_version_by_alias(root, "churn", "champion").version == 1
    moved = set_model_alias(root, "churn", "champion", 3)
    assert moved.aliases == ("champion",)
    assert get_model_version_by_alias(root, "churn", "champion").version == 3
    old = get_model_version(root, "churn", 1)
    assert old.aliases == ()
    assert not any(key.startswith(ALIAS_PREFIX) for key in old.run.tags)  # type: ignore[union-attr]
    assert read_registry(root).model("churn").aliases == {"champion": 3, "staging": 2}
    delete_model_alias(root, "churn", "staging")
    with pytest.raises(RegistryError, match="no alias 'staging'"):
        get_model_version_by_alias(root, "churn", "staging")


def test_a_half_done_alias_move_still_resolves_to_one_version(root: Path) -> None:
    """A move writes the new claim first: until the old tag is removed, it is outranked."""
    from runfolio.registry import rewrite_run_tags

    ids = log_model_runs(root, 2)
    for run_id in ids:
        register_model(root, run_id, "churn")
    set_model_alias(root, "churn", "prod", 1)
    second = get_model_version(root, "churn", 2)
    rewrite_run_tags(second.run.path, {ALIAS_PREFIX + "prod": "2"})  # type: ignore[union-attr]
    assert get_model_version_by_alias(root, "churn", "prod").version == 2


def test_load_model_by_version_and_alias(root: Path) -> None:
    ids = log_model_runs(root, 2)
    for run_id in ids:
        register_model(root, run_id, "churn")
    set_model_alias(root, "churn", "champion", 2)
    assert load_model_dir(resolve_model_uri(root, "models:/churn/1")) == {"n": 0}
    assert load_model_dir(resolve_model_uri(root, "models:/churn@champion")) == {"n": 1}
    with pytest.raises(RegistryError, match="bad model URI"):
        resolve_model_uri(root, "models:/churn")
    with pytest.raises(RegistryError, match="no version 7"):
        resolve_model_uri(root, "models:/churn/7")


def test_clear_errors(root: Path) -> None:
    (run_id,) = log_model_runs(root, 1)
    store = Store(root)
    with store.start_run("exp", run_name="no-model") as plain:
        plain.log_metric("accuracy", 0.1)
    with pytest.raises(RegistryError, match="logged no model"):
        register_model(root, plain.run_id, "churn")
    for bad in ("", " x", "a/b", "a@b"):
        with pytest.raises(RegistryError, match="bad model name"):
            register_model(root, run_id, bad)
    register_model(root, run_id, "churn")
    with pytest.raises(RegistryError, match="no registered model is named 'nope'"):
        get_model_version(root, "nope", 1)
    for bad_alias in ("v3", "latest", "has space", ""):
        with pytest.raises(RegistryError, match="bad alias"):
            set_model_alias(root, "churn", bad_alias, 1)
    with pytest.raises(RegistryError, match="no version 2"):
        set_model_alias(root, "churn", "champion", 2)
    with store.start_run("exp", run_name="live") as live:
        live.log_model({"n": 9}, "model")
        with pytest.raises(RegistryError, match="still running"):
            register_model(root, live.run_id, "churn")


def test_two_runs_claiming_one_version_are_reported_not_resolved(root: Path) -> None:
    from runfolio.registry import rewrite_run_tags

    first, second = log_model_runs(root, 2)
    register_model(root, first, "churn")
    # What a merge of two branches that each registered version 1 looks like.
    run_dir = next(root.glob(f"*/{second}"))
    rewrite_run_tags(
        run_dir, {MODEL_TAG: "churn", VERSION_TAG: "1", "registry.model_path": "model"}
    )
    registry = read_registry(root)
    assert registry.conflicts == [
        f"'churn' version 1: claimed by runs {min(first, second)} and {max(first, second)}"
    ]
    with pytest.raises(RegistryConflictError, match="claimed by runs"):
        get_model_version(root, "churn", 1)
    # The next registration does not reuse the disputed number.
    (third,) = log_model_runs(root, 1, "exp2")
    assert register_model(root, third, "churn").version == 2


def test_search_model_versions(root: Path) -> None:
    ids = log_model_runs(root, 3)
    register_model(root, ids[0], "churn")
    register_model(root, ids[1], "churn-v2")
    register_model(root, ids[2], "fraud")
    names = lambda found: [(v.name, v.version) for v in found]  # noqa: E731
    assert names(search_model_versions(root)) == [("churn", 1), ("churn-v2", 1), ("fraud", 1)]
    assert names(search_model_versions(root, "name = 'churn'")) == [("churn", 1)]
    assert names(search_model_versions(root, "name LIKE 'churn%'")) == [
        ("churn", 1),
        ("churn-v2", 1),
    ]
    assert names(search_model_versions(root, f"run_id = '{ids[2]}' and name != 'x'")) == [
        ("fraud", 1)
    ]
    with pytest.raises(RegistryError, match="cannot read"):
        search_model_versions(root, "version > 1")


def _register_in_process(args: tuple[str, str]) -> int:
    """Register one run from a separate process; return the version it got."""
    root, run_id = args
    return register_model(Path(root), run_id, "churn").version


def test_concurrent_registrations_get_distinct_versions(root: Path) -> None:
    ids = log_model_runs(root, 8)
    # forkserver: workers start from a clean single-threaded process. A fork of pytest
    # itself would inherit locks its other threads (browsers, servers) may hold at that
    # instant; forked runfolio workers have their own test in tracking/test_fork.py.
    context = multiprocessing.get_context("forkserver")
    with context.Pool(8) as pool:
        versions = pool.map(_register_in_process, [(str(root), run_id) for run_id in ids])
        pool.close()
        pool.join()  # workers exit on their own; no terminate() racing a worker's queue lock
    assert sorted(versions) == list(range(1, 9))
    registry = read_registry(root)
    assert registry.conflicts == []
    assert sorted(registry.model("churn").versions) == list(range(1, 9))


def test_the_fluent_api_registers_and_loads_by_alias(root: Path) -> None:
    import runfolio

    first, second = log_model_runs(root, 2)
    runfolio.set_store(root)
    assert runfolio.register_model(first, "churn").version == 1
    assert runfolio.register_model(second, "churn").version == 2
    runfolio.set_model_alias("churn", "production", 2)
    assert runfolio.load_model("models:/churn@production") == {"n": 1}
    assert runfolio.load_model("models:/churn/1") == {"n": 0}
    assert runfolio.get_model_version_by_alias("churn", "production").run_id == second
    runfolio.delete_model_alias("churn", "production")
    assert runfolio.get_model_version("churn", 2).aliases == ()
    assert [v.version for v in runfolio.search_model_versions("name = 'churn'")] == [1, 2]
    with pytest.raises(runfolio.RegistryError):
        runfolio.get_model_version_by_alias("churn", "production")


def test_the_models_commands(root: Path) -> None:
    from click.testing import CliRunner

    from runfolio.cli import main

    first, second = log_model_runs(root, 2)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--store", str(root), "models", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "No registered models" in run("ls")
    assert run("register", first, "churn") == f"Registered run {first} as churn version 1.\n"
    assert "version 2" in run("register", second[-10:], "churn", "--model-path", "model")
    assert run("alias", "churn", "champion", "2") == "churn@champion now points to version 2.\n"
    listing = run("ls").splitlines()
    assert listing[0].split() == ["MODEL", "VERSIONS", "LATEST", "ALIASES"]
    assert listing[1].split() == ["churn", "2", "v2", "champion→v2"]
    shown = run("show", "churn")
    assert shown.index("v2") < shown.index("v1")  # newest first
    assert "models:/churn@champion" in shown and first in shown and second in shown
    failed = runner.invoke(main, ["--store", str(root), "models", "show", "nope"])
    assert failed.exit_code == 1
    assert "Error: no registered model is named 'nope'" in failed.output
    failed = runner.invoke(main, ["--store", str(root), "models", "alias", "churn", "x", "9"])
    assert failed.exit_code == 1 and "no version 9" in failed.output


def _git(repo: Path, *args: str, author: str = "Alice Doe <alice@example.com>") -> str:
    """Run git in ``repo`` as ``author``; return its output."""
    import os
    import subprocess

    name, _, email = author.partition(" <")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email.rstrip(">"),
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email.rstrip(">"),
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def test_the_history_of_a_model_comes_from_git(git_repo: Path) -> None:
    from runfolio.registry import registry_history

    root = git_repo / "runs"
    first, second = log_model_runs(root, 2)
    _git(git_repo, "add", "--all")
    _git(git_repo, "commit", "-q", "-m", "two trials")
    register_model(root, first, "churn")
    register_model(root, second, "churn")
    set_model_alias(root, "churn", "champion", 1)
    _git(git_repo, "commit", "-q", "-am", "Register churn v1 and v2; v1 is champion")
    registered = _git(git_repo, "rev-parse", "HEAD")
    set_model_alias(root, "churn", "champion", 2)
    _git(git_repo, "commit", "-q", "-am", "Promote v2", author="Bob Roe <bob@example.com>")
    promoted = _git(git_repo, "rev-parse", "HEAD")

    history = registry_history(root)
    assert history is not None
    events = [(e.text, e.author, e.email, e.sha, e.subject) for e in history["churn"]]
    assert events == [
        (f"registered version 1 (run {first})", "Alice Doe", "alice@example.com", registered,
         "Register churn v1 and v2; v1 is champion"),
        (f"registered version 2 (run {second})", "Alice Doe", "alice@example.com", registered,
         "Register churn v1 and v2; v1 is champion"),
        ("@champion set to version 1", "Alice Doe", "alice@example.com", registered,
         "Register churn v1 and v2; v1 is champion"),
        ("@champion moved from version 1 to version 2", "Bob Roe", "bob@example.com", promoted,
         "Promote v2"),
    ]  # fmt: skip
    assert all(e.date.startswith("20") for e in history["churn"])


def test_a_store_outside_git_has_no_history(root: Path) -> None:
    from runfolio.registry import registry_history

    (run_id,) = log_model_runs(root, 1)
    register_model(root, run_id, "churn")
    assert registry_history(root) is None


def test_the_site_shows_models_and_their_history(git_repo: Path, tmp_path: Path) -> None:
    from runfolio.site.build import build_site
    from runfolio.site.registry_pages import model_page_path

    root = git_repo / "runs"
    first, second = log_model_runs(root, 2)
    register_model(root, first, "churn model")
    register_model(root, second, "churn model")
    set_model_alias(root, "churn model", "production", 1)
    _git(git_repo, "add", "--all")
    _git(git_repo, "commit", "-q", "-m", "Register churn")
    set_model_alias(root, "churn model", "production", 2)
    _git(git_repo, "commit", "-q", "-am", "Promote v2 <b>now</b>", author="Bob Roe <bob@x.org>")
    promoted = _git(git_repo, "rev-parse", "HEAD")

    site = tmp_path / "site"
    report = build_site(root, site)
    assert report.problems == []
    index = (site / "models" / "index.html").read_text(encoding="utf-8")
    page_path = model_page_path("churn model")
    assert page_path.startswith("models/churn-model-") and page_path.endswith("/index.html")
    page = (site / page_path).read_text(encoding="utf-8")
    assert "churn model" in index and "@production → v2" in index
    assert "@production moved from version 1 to version 2" in page
    assert "Bob Roe" in page and promoted[:8] in page and "Alice Doe" in page
    assert "Promote v2 &lt;b&gt;now&lt;/b&gt;" in page  # commit messages are escaped
    assert "models:/churn model@production" in page
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="models/index.html"' in home  # the Models tab appears


def test_stages_are_conventional_aliases(root: Path) -> None:
    from runfolio.registry import transition_model_version_stage

    ids = log_model_runs(root, 2)
    for run_id in ids:
        register_model(root, run_id, "churn")
    assert transition_model_version_stage(root, "churn", 1, "Staging").aliases == ("staging",)
    promoted = transition_model_version_stage(root, "churn", 1, "Production")
    assert promoted.aliases == ("production",)  # left staging for production
    transition_model_version_stage(root, "churn", 2, "Production")
    assert get_model_version_by_alias(root, "churn", "production").version == 2
    assert transition_model_version_stage(root, "churn", 2, "None").aliases == ()
    with pytest.raises(RegistryError, match="unknown stage 'Prod'"):
        transition_model_version_stage(root, "churn", 1, "Prod")


def test_outside_git_the_model_page_says_why_it_has_no_history(root: Path, tmp_path: Path) -> None:
    from runfolio.site.build import build_site
    from runfolio.site.registry_pages import model_page_path

    (run_id,) = log_model_runs(root, 1)
    register_model(root, run_id, "churn")
    build_site(root, tmp_path / "site")
    page = (tmp_path / "site" / model_page_path("churn")).read_text(encoding="utf-8")
    assert "not in a git repository, so there is no history" in page
    assert 'class="timeline"' not in page


def test_rewriting_the_tags_of_a_run_folder_that_is_gone_is_a_registry_error(
    tmp_path: Path,
) -> None:
    from runfolio.registry import rewrite_run_tags

    gone = tmp_path / "runs" / "exp" / "20260101-000000-0123456789"
    with pytest.raises(RegistryError, match=r"cannot lock folder .*0123456789"):
        rewrite_run_tags(gone, {"registry.churn": "1"}, [])
