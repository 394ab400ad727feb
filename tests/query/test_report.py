"""`runfolio report`: what a branch changed in the store, read from git objects."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from git_helpers import commit_all, git
from runfolio import Store
from runfolio.cli import main
from runfolio.console.report_markdown import (
    GITHUB_COMMENT_LIMIT,
    WRAPPER_ROOM,
    escape,
    render_report_markdown,
)
from runfolio.gitobjects import NotInRepositoryError, RevisionNotFoundError
from runfolio.query.leaderboard import PrimaryMetric
from runfolio.query.report import compare_revisions
from runfolio.registry import register_model, set_model_alias

GOLDEN = Path(__file__).parent / "golden"


def log_run(store: Store, name: str, accuracy: float, **params: object) -> str:
    """One finished run of the sweep with a model, its params and its accuracy."""
    with store.start_run("sweep", run_name=name) as run:
        run.log_params(params)
        run.log_metric("accuracy", accuracy - 0.1, step=0)
        run.log_metric("accuracy", accuracy, step=1)
        run.log_model({"name": name}, "model")
    return run.run_id


@pytest.fixture
def branches(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """main: three runs, models v1 (@production) and v2; then the branch ``feature``
    adds a better and a worse run and moves @production to v2, while main gains a
    run of its own after the fork.
    """
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    monkeypatch.chdir(git_repo)
    root = git_repo / "runs"
    store = Store(root)
    store.set_experiment("sweep", primary_metric="accuracy", direction="maximize")
    ids = {
        "first": log_run(store, "baseline", 0.80, lr=0.1, depth=3),
        "best": log_run(store, "deeper", 0.85, lr=0.1, depth=5),
        "third": log_run(store, "too-fast", 0.70, lr=0.5, depth=3),
    }
    register_model(root, ids["first"], "clf")
    register_model(root, ids["best"], "clf")
    set_model_alias(root, "clf", "production", 1)
    ids["main_before"] = commit_all(git_repo, "main: three runs")
    git(git_repo, "checkout", "--quiet", "-b", "feature")
    ids["better"] = log_run(store, "slower-lr", 0.90, lr=0.05, depth=5)
    ids["worse"] = log_run(store, "shallow", 0.60, lr=0.1, depth=2, dropout=0.5)
    set_model_alias(root, "clf", "production", 2)
    ids["feature"] = commit_all(git_repo, "feature: two runs, promote v2")
    git(git_repo, "checkout", "--quiet", "main")
    ids["main_later"] = log_run(store, "main-later", 0.83, lr=0.2, depth=5)
    ids["main"] = commit_all(git_repo, "main: one more run")
    git(git_repo, "checkout", "--quiet", "feature")
    return ids


def normalise(text: str, ids: dict[str, str]) -> str:
    """Replace run ids and commits with their names so the golden file is stable."""
    for name, value in ids.items():
        text = text.replace(value, f"<{name}>")
    for name, value in ids.items():
        if re.fullmatch(r"[0-9a-f]{40}", value):  # a commit, shown by its short sha
            text = text.replace(f"`{value[:7]}`", f"`<{name}>`")
    return text


def report(repo: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--store", str(repo / "runs"), "report", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_branch_report_lists_exactly_its_runs_with_deltas(
    git_repo: Path, branches: dict[str, str]
) -> None:
    text = normalise(report(git_repo, "--base", "main", "--head", "feature"), branches)
    golden = GOLDEN / "report_branch.md"
    if os.environ.get("RUNFOLIO_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_the_report_is_the_same_after_merging_main_into_the_branch(
    git_repo: Path, branches: dict[str, str]
) -> None:
    before = report(git_repo, "--base", "main", "--head", "feature")
    git(git_repo, "merge", "--quiet", "--no-edit", "main")
    branches["merged"] = git(git_repo, "rev-parse", "HEAD")
    after = report(git_repo, "--base", "main", "--head", "HEAD")
    assert normalise(after, branches) == normalise(before, branches).replace(
        "**feature** (`<feature>`)", "**HEAD** (`<merged>`)"
    )


def test_github_s_merge_commit_checkout_gives_the_same_report(
    git_repo: Path, branches: dict[str, str]
) -> None:
    # On pull_request, actions/checkout checks out the PR merged into the base.
    git(git_repo, "checkout", "--quiet", "--detach", "main")
    git(git_repo, "merge", "--quiet", "--no-edit", "feature")
    changes = compare_revisions(git_repo / "runs", "main", "HEAD")
    (sweep,) = changes.experiments
    assert [a.run.run_id for a in sweep.added] == [branches["better"], branches["worse"]]
    assert not sweep.changed and not sweep.removed
    assert [c.describe() for c in changes.registry] == [
        "@production moved from version 1 to version 2"
    ]


def test_ranks_and_deltas_are_against_the_base_tip(
    git_repo: Path, branches: dict[str, str]
) -> None:
    changes = compare_revisions(git_repo / "runs", "main", "feature")
    (sweep,) = changes.experiments
    assert sweep.base_best is not None and sweep.base_best.run.run_id == branches["best"]
    assert sweep.base_runs == 4  # main's tip holds main-later too
    better, worse = sweep.added
    assert (better.rank, better.ranked_of, better.verdict) == (1, 5, "better")
    assert better.delta == pytest.approx(0.05)
    assert (worse.rank, worse.ranked_of, worse.verdict) == (5, 5, "worse")
    assert worse.delta == pytest.approx(-0.25)
    assert {p.key: (p.base, p.head) for p in better.params} == {"lr": (0.1, 0.05)}
    assert {p.key: (p.base, p.head, p.in_base) for p in worse.params} == {
        "depth": (5, 2, True),
        "dropout": (None, 0.5, False),
    }


def test_edited_and_removed_runs_are_reported_but_alias_moves_only_as_registry(
    git_repo: Path, branches: dict[str, str]
) -> None:
    store = Store(git_repo / "runs")
    run = store.get_run(branches["third"])
    runfile = run.path / "run.yaml"
    runfile.write_text(
        runfile.read_text(encoding="utf-8").replace("name: too-fast", "name: too-fast-v2"),
        encoding="utf-8",
    )
    (run.path / "artifacts" / "notes.txt").write_text("retrained\n", encoding="utf-8")
    removed = store.get_run(branches["first"]).path
    subprocess.run(["rm", "-r", str(removed)], check=True)
    commit_all(git_repo, "feature: rename one run, drop another")
    changes = compare_revisions(git_repo / "runs", "main", "HEAD")
    (sweep,) = changes.experiments
    assert [c.run.run_id for c in sweep.changed] == [branches["third"]]
    assert sweep.changed[0].changes == ("renamed from 'too-fast'", "artifacts: 1 added")
    assert [r.run_id for r in sweep.removed] == [branches["first"]]
    # v2's run only had its alias tag moved: the registry says so, "changed" does not.
    assert branches["best"] not in {c.run.run_id for c in sweep.changed}
    kinds = sorted(c.kind for c in changes.registry)
    assert kinds == ["alias moved", "unregistered"]


def test_no_change_says_so_in_one_line(git_repo: Path, branches: dict[str, str]) -> None:
    text = report(git_repo, "--base", "feature", "--head", "feature")
    body = text.split("\n\n", 1)[1]
    assert body.count("\n") == 1 and body.startswith("No changes to runs or models")


def test_a_bad_ref_is_a_clear_error(git_repo: Path, branches: dict[str, str]) -> None:
    with pytest.raises(RevisionNotFoundError, match="unknown git revision 'origin/nope'"):
        compare_revisions(git_repo / "runs", "origin/nope")
    result = CliRunner().invoke(
        main, ["--store", str(git_repo / "runs"), "report", "--base", "--upload-pack=x"]
    )
    assert result.exit_code == 1
    assert "is not a git revision" in result.output
    result = CliRunner().invoke(
        main, ["--store", str(git_repo / "runs"), "report", "--base", "nope"]
    )
    assert result.exit_code == 1 and result.output.startswith("Error: unknown git revision")


def test_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    Store(tmp_path / "runs").set_experiment("x")
    with pytest.raises(NotInRepositoryError, match="not inside a git repository"):
        compare_revisions(tmp_path / "runs", "main")


def test_a_shallow_clone_with_the_base_fetched_gives_the_same_report(
    git_repo: Path, branches: dict[str, str], tmp_path: Path
) -> None:
    git(git_repo, "checkout", "--quiet", "--detach", "main")
    git(git_repo, "merge", "--quiet", "--no-edit", "feature")
    git(git_repo, "branch", "pr-merge")
    full = compare_revisions(git_repo / "runs", "main", "pr-merge")
    clone = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--branch",
            "pr-merge",
            f"file://{git_repo}",
            str(clone),
        ],
        check=True,
    )
    git(clone, "fetch", "--quiet", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    shallow = compare_revisions(clone / "runs", "origin/main", "HEAD")
    assert [a.run.run_id for a in shallow.experiments[0].added] == [
        a.run.run_id for a in full.experiments[0].added
    ]
    assert [c.describe() for c in shallow.registry] == [c.describe() for c in full.registry]


def test_json_carries_the_same_facts_and_links(git_repo: Path, branches: dict[str, str]) -> None:
    text = report(
        git_repo, "--base", "main", "--format", "json", "--site-url", "https://o.github.io/r"
    )
    data = json.loads(text)
    assert data["counts"] == {"added": 2, "changed": 0, "removed": 0, "registry": 1}
    (sweep,) = data["experiments"]
    assert [(a["name"], a["rank"], a["verdict"]) for a in sweep["added"]] == [
        ("slower-lr", 1, "better"),
        ("shallow", 5, "worse"),
    ]
    assert sweep["added"][0]["url"] == (
        f"https://o.github.io/r/experiments/sweep/runs/{branches['better']}.html"
    )
    assert data["registry"][0]["text"] == "@production moved from version 1 to version 2"


def test_site_links_in_markdown_and_a_bad_site_url(
    git_repo: Path, branches: dict[str, str]
) -> None:
    text = report(git_repo, "--base", "main", "--site-url", "https://o.github.io/r/")
    assert f"(https://o.github.io/r/experiments/sweep/runs/{branches['better']}.html)" in text
    result = CliRunner().invoke(
        main,
        [
            "--store",
            str(git_repo / "runs"),
            "report",
            "--base",
            "main",
            "--site-url",
            "javascript:x",
        ],
    )
    assert result.exit_code == 2 and "--site-url" in result.output


HOSTILE = [
    "<script>alert(1)</script>",
    "a|b|c",
    "[click](javascript:alert(1))",
    "@octo-org/team please look",
    "**bold** _it_ `code` ~~s~~",
    "www.evil.example and https://evil.example",
    "line\nbreak\r\tand \u202eevil",
    "<img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_untrusted_text_cannot_open_markup_mention_or_link(text: str) -> None:
    out = escape(text)
    assert "\n" not in out and "\r" not in out and "\u202e" not in out
    assert not re.search(r"(?<!\\)[<>|`*_\[\]~]", out)
    assert not re.search(r"@[A-Za-z]", out)
    assert "www." not in out and "://" not in out


def test_hostile_run_names_keep_the_tables_whole(git_repo: Path, branches: dict[str, str]) -> None:
    store = Store(git_repo / "runs")
    for index, name in enumerate(HOSTILE):
        log_run(store, name, 0.5 + index / 100, lr=name)
    commit_all(git_repo, "hostile names")
    text = report(git_repo, "--base", "main")
    _assert_tables_whole(text)
    assert "<script>" not in text and "@octo" not in text
    # As GitHub renders it (cmark-gfm, GitHub's parser): one row per run, no markup from
    # the names, no links, every name readable as text.
    import cmarkgfm

    html = cmarkgfm.github_flavored_markdown_to_html(text)
    assert "<a " not in html and "<img" not in html and "<script" not in html
    assert "<strong>bold" not in html and "<code>code" not in html and "<del>" not in html
    added_table = html.split("<tbody>")[1].split("</tbody>")[0]
    assert added_table.count("<tr>") == 2 + len(HOSTILE)
    shown = html.replace("\u200b", "")
    for name in HOSTILE:
        flat = name.replace("\n", " ").replace("\r", " ").replace("\t", " ").replace("\u202e", "")
        visible = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert visible in shown, name


def _assert_tables_whole(text: str) -> None:
    """Every table row has as many cells as its header, and every table has rows."""
    lines = text.split("\n")
    cells = None
    for number, line in enumerate(lines):
        if line.startswith("|"):
            count = len(re.findall(r"(?<!\\)\|", line)) - 1
            if cells is None:
                cells = count
                assert lines[number + 1].startswith("| :--"), "a header without rows"
            assert count == cells, line
            assert line.endswith(" |")
        else:
            cells = None


def test_a_huge_report_fits_one_github_comment_without_breaking_a_table(
    git_repo: Path, branches: dict[str, str]
) -> None:
    changes = compare_revisions(git_repo / "runs", "main", "feature")
    sweep = changes.experiments[0]
    # Thousands of long-named new runs: far more than a comment holds.
    template = sweep.added[0]
    sweep.added = [
        type(template)(
            run=type(template.run)(**{**template.run.__dict__, "name": "x" * 70 + f"-{i}"}),
            value=template.value,
            rank=template.rank,
            ranked_of=template.ranked_of,
            delta=template.delta,
            verdict=template.verdict,
            params=template.params,
        )
        for i in range(3000)
    ]
    text = render_report_markdown(changes)
    assert len(text) <= GITHUB_COMMENT_LIMIT - WRAPPER_ROOM  # room for the workflow's additions
    assert len(text) > GITHUB_COMMENT_LIMIT - WRAPPER_ROOM - 1000  # and not much more room
    assert "more table rows and what follows them are not shown" in text
    _assert_tables_whole(text)
    shown = text.count("| x")
    assert 200 < shown < 3000
    assert f"{3000 - shown + 1:,} more table rows" in text  # + the registry row
    small = render_report_markdown(changes, max_chars=3000)
    assert len(small) <= 3000
    _assert_tables_whole(small)


def test_primary_metric_override_from_settings(git_repo: Path, branches: dict[str, str]) -> None:
    changes = compare_revisions(
        git_repo / "runs",
        "main",
        "feature",
        override=lambda experiment: PrimaryMetric("accuracy", "minimize"),
    )
    better, worse = changes.experiments[0].added
    # Lower is better now: the 0.60 run beats the best (0.70) and comes first.
    assert (better.run.name, better.rank, better.verdict) == ("shallow", 1, "better")
    assert worse.verdict == "worse"


def test_a_malformed_run_on_the_branch_is_reported_and_the_rest_compared(
    git_repo: Path, branches: dict[str, str]
) -> None:
    store = Store(git_repo / "runs")
    broken = log_run(store, "broken", 0.99)
    (store.get_run(broken).path / "run.yaml").write_text("status: [unclosed\n", "utf-8")
    commit_all(git_repo, "a broken run")
    changes = compare_revisions(git_repo / "runs", "main", "HEAD")
    assert [a.run.name for a in changes.experiments[0].added] == ["slower-lr", "shallow"]
    (problem,) = changes.problems
    assert problem.startswith(f"HEAD: sweep/{broken}: run.yaml: invalid YAML")
    text = render_report_markdown(changes)
    assert "### Not read" in text and broken in text


def test_a_run_committed_while_running_is_summarised_from_its_metrics_file(
    git_repo: Path, branches: dict[str, str]
) -> None:
    store = Store(git_repo / "runs")
    run = store.start_run("sweep", run_name="in-flight")
    run.log_metric("accuracy", 0.95, step=0)
    run.log_metric("accuracy", 0.97, step=1)
    commit_all(git_repo, "commit mid-run")  # run.yaml has no summaries yet
    run.end()
    changes = compare_revisions(git_repo / "runs", "main", "HEAD")
    (added,) = [a for a in changes.experiments[0].added if a.run.name == "in-flight"]
    assert added.run.stored_status == "RUNNING"
    assert added.value == 0.97 and added.rank == 1
