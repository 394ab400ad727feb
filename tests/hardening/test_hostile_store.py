"""A store written by a stranger (a pull request from a fork), as a reviewer's CI reads it.

The PR author controls every byte of the store, folder names included. Run folders are
made by hand here, as such an author would: a good run copied under a name that is not
a run id, with the same name written into its ``run.yaml`` (which readers check against
the folder). Each name aims at one place a run id reaches: the pull-request comment
(markdown headings, links, mentions, an HTML comment hiding what follows), the site's
``runs.csv`` download (a formula, extra rows) and the site's file names (another run's
page). Every reader must report such a folder, with its path, and read the rest.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import shutil
from pathlib import Path

import cmarkgfm
import pytest
import yaml
from click.testing import CliRunner
from cmarkgfm.cmark import Options

from git_helpers import commit_all, git
from runfolio import Store
from runfolio.cli import main
from runfolio.config_values import SiteConfig
from runfolio.console.report_markdown import render_report_markdown
from runfolio.query.report import ExperimentChanges, StoreChanges
from runfolio.site.build import BuildError, build_site
from runfolio.site.leaderboard_data import leaderboard_csv, leaderboard_table
from runfolio.site.model import build_site_model
from runfolio.store import layout
from runfolio.store.scan import scan_store

GOOD_ID = "20261127-045604-3f9a2c1b7d"

# Folder names a PR author can commit, by what each aims at. Git and Linux accept them
# all (no "/", no NUL, under 255 bytes).
HOSTILE = {
    "heading": "20261127-045604-3f9a2c1b7e\n\n# Approved by the security team",
    "link": "x` [release notes](http:evil.example) `",
    "autolink": "x` www.evil.example `",
    "image": "x` ![ok](http:evil.example) `",
    "mention": "x` @octocat please merge `",
    "comment": "x` <!-- hides the rest of the comment",
    "html": "x` <img src=x onerror=alert(1)> `",
    "formula": '=HYPERLINK("http:\\\\evil.example","open")',
    "rows": "a,b\n=1+1,c\n",
    "trailing-newline": "20261127-045604-3f9a2c1b7f\n",
    "unicode-digits": "٢٠٢٦١١٢٧-045604-3f9a2c1b7d",
    "page-clash": f"{GOOD_ID}.html",
}


def _log(store: Store, name: str, accuracy: float) -> str:
    """One finished run of the sweep."""
    with store.start_run("sweep", run_name=name) as run:
        run.log_params({"lr": accuracy / 10})
        run.log_metric("accuracy", accuracy)
    return run.run_id


def _plant(store: Path, source_id: str, names: list[str]) -> list[Path]:
    """Copy a run under each of ``names``, its run.yaml's id set to the folder name."""
    source = next(store.glob(f"*/{source_id}"))
    planted = []
    for name in names:
        target = source.parent / name
        shutil.copytree(source, target)
        data = yaml.safe_load((target / layout.RUN_FILE).read_text(encoding="utf-8"))
        data["id"] = name
        data["name"] = "an innocent name"
        (target / layout.RUN_FILE).write_text(yaml.safe_dump(data), encoding="utf-8")
        planted.append(target)
    return planted


def _good_store(root: Path) -> Store:
    """The sweep with two good runs, one of them with the id ``GOOD_ID``."""
    store = Store(root)
    store.set_experiment("sweep", primary_metric="accuracy", direction="maximize")
    first = _log(store, "baseline", 0.8)
    folder = next(root.glob(f"*/{first}"))
    # A fixed id, so that "<its id>.html" names the folder of its page's files.
    data = yaml.safe_load((folder / layout.RUN_FILE).read_text(encoding="utf-8"))
    folder.rename(folder.parent / GOOD_ID)
    data["id"] = GOOD_ID
    (folder.parent / GOOD_ID / layout.RUN_FILE).write_text(yaml.safe_dump(data), "utf-8")
    _log(store, "deeper", 0.85)
    return store


def _github_html(markdown: str) -> str:
    """The markdown as GitHub renders it: cmark-gfm, raw HTML passed on (GitHub then
    sanitises it, keeping comments hidden and text after them unseen)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def _assert_inert(html: str, headings: set[str]) -> None:
    """No heading but ``headings``, and no link, image, HTML, comment or mention."""
    found = {re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h\d>(.*?)</h\d>", html)}
    assert found == headings
    assert "<a " not in html and "<img" not in html and "<!--" not in html
    assert "@octocat" not in html, "a mention GitHub would notify"


# ---------------------------------------------------------------- the pull-request report


def test_report_of_a_hostile_pull_request_renders_inert_and_names_every_folder(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    monkeypatch.chdir(git_repo)
    root = git_repo / "runs"
    store = _good_store(root)
    commit_all(git_repo, "main: two runs")
    git(git_repo, "checkout", "--quiet", "-b", "pr")
    _log(store, "a real new run", 0.9)
    _plant(root, GOOD_ID, list(HOSTILE.values()))
    commit_all(git_repo, "pr: one run, and folders named to attack the comment")

    result = CliRunner().invoke(main, ["--store", str(root), "report", "--base", "main"])
    assert result.exit_code == 0, result.output
    html = _github_html(result.output)
    _assert_inert(html, {"runfolio report", "sweep", "Not read"})
    # The real run is reported, in a table that stayed whole.
    assert "a real new run" in html and "Added (1)" in html
    # Every planted folder is one row of the problems, whatever its name holds.
    problems = html.split("<h3>Not read</h3>", 1)[1]
    rows = re.findall(r"<tr>\s*<td[^>]*>(.*?)</td>\s*</tr>", problems, re.S)
    assert len(rows) == len(HOSTILE)
    assert all("is not a run id" in row for row in rows)


def test_report_escapes_a_run_id_that_is_not_one(tmp_path: Path) -> None:
    """Readers let no such id through; the renderer must not trust that they never will."""
    store = _good_store(tmp_path / "runs")
    scan = scan_store(store.root)
    changes = StoreChanges("main", "pr", "a" * 40, "b" * 40, "runs")

    section = ExperimentChanges(scan.experiments[0], None, None, 2)
    section.removed = [dataclasses.replace(scan.runs[0], run_id=v) for v in HOSTILE.values()]
    changes.experiments.append(section)
    html = _github_html(render_report_markdown(changes))
    _assert_inert(html, {"runfolio report", "sweep"})
    assert html.count("<tr>") == 1 + len(HOSTILE)


# ---------------------------------------------------------------- the site and the readers


def test_build_reports_each_hostile_folder_and_publishes_only_the_good_runs(
    tmp_path: Path,
) -> None:
    store = _good_store(tmp_path / "runs")
    planted = _plant(store.root, GOOD_ID, list(HOSTILE.values()))
    output = tmp_path / "site"
    report = build_site(store.root, output, config_root=tmp_path)
    store_relative = {p.relative_to(store.root).as_posix() for p in planted}
    named = {problem.split(": folder holds a run.yaml")[0] for problem in report.problems}
    assert {str(p) for p in planted} <= named
    assert all(layout.NOT_A_RUN_ID in problem for problem in report.problems)
    assert len(report.problems) == len(HOSTILE) == len(store_relative)
    pages = sorted(p.name for p in output.glob("experiments/sweep/runs/*.html"))
    assert len(pages) == 2 and f"{GOOD_ID}.html" in pages
    rows = list(csv.reader(io.StringIO((output / "experiments/sweep/runs.csv").read_text())))
    assert [row[0] for row in rows[1:]] and all(layout.is_run_id(r[0]) for r in rows[1:])
    assert len(rows) == 3
    with pytest.raises(BuildError, match="is not a run id"):
        build_site(store.root, tmp_path / "strict", config_root=tmp_path, strict=True)


def test_every_reader_reports_a_hostile_folder_and_reads_the_rest(tmp_path: Path) -> None:
    store = _good_store(tmp_path / "runs")
    planted = _plant(store.root, GOOD_ID, list(HOSTILE.values()))
    (store.root / "sweep" / "notes").mkdir()  # a folder without run.yaml is no run: ignored
    for use_cache in (False, True, True):  # cold, filling the cache, from the cache
        scan = scan_store(store.root, use_cache=use_cache)
        assert len(scan.runs) == 2
        assert sorted(p.path for p in scan.problems) == sorted(planted)
        assert {p.reason for p in scan.problems} == {layout.NOT_A_RUN_ID}
    runs = store.search_runs()
    assert len(runs) == 2
    assert CliRunner().invoke(main, ["--store", str(store.root), "ls"]).exit_code == 0


@pytest.mark.parametrize("name", ["20261127-045604-3f9a2c1b7d\n", "٢٠٢٦١١٢٧-045604-3f9a2c1b7d"])
def test_run_ids_match_the_documented_shape_exactly(name: str) -> None:
    assert layout.is_run_id(GOOD_ID)
    assert not layout.is_run_id(name)


def test_runs_csv_keeps_an_id_that_is_not_one_in_one_inert_cell(tmp_path: Path) -> None:
    """Readers let no such id through; the CSV must not trust that they never will."""
    store = _good_store(tmp_path / "runs")
    scan = scan_store(store.root)
    scan.runs[0].run_id = HOSTILE["rows"]
    scan.runs[1].run_id = HOSTILE["formula"]
    page = build_site_model(scan, SiteConfig()).experiments[0]
    rows = list(csv.reader(io.StringIO(leaderboard_csv(leaderboard_table(page)).decode())))
    assert len(rows) == 3
    assert sorted(row[0] for row in rows[1:]) == sorted(["'" + HOSTILE["formula"], HOSTILE["rows"]])


# ---------------------------------------------------------------- code links


def _hrefs(output: Path) -> set[str]:
    """Every href of every page of the site."""
    return {
        href
        for page in output.rglob("*.html")
        for href in re.findall(r'href="([^"]*)"', page.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize("origin", ["https://github.com/real-org/real-repo.git", None])
def test_code_links_never_follow_a_remote_a_run_recorded(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, origin: str | None
) -> None:
    monkeypatch.chdir(git_repo)
    if origin is not None:
        git(git_repo, "remote", "add", "origin", origin)
    root = git_repo / "runs"
    store = Store(root)
    _log(store, "honest", 0.8)
    crafted = next(root.glob(f"*/{_log(store, 'newest, crafted', 0.9)}"))
    data = yaml.safe_load((crafted / layout.RUN_FILE).read_text(encoding="utf-8"))
    assert re.fullmatch(r"[0-9a-f]{40}", data["git"]["commit"])
    data["git"]["remote_url"] = "https://github.com/evil-org/phish.git"
    (crafted / layout.RUN_FILE).write_text(yaml.safe_dump(data), encoding="utf-8")
    commit_all(git_repo, "runs")

    output = git_repo / "site"
    assert build_site(root, output).problems == []
    hrefs = _hrefs(output)
    assert not [href for href in hrefs if "evil-org" in href]
    code_links = {href for href in hrefs if href.startswith("https://github.com/")}
    if origin is None:
        assert code_links == set()
    else:
        assert code_links and all(h.startswith("https://github.com/real-org/") for h in code_links)
    # The run's own remote is still shown on its own page, as text.
    page = (output / "experiments/sweep/runs" / f"{crafted.name}.html").read_text("utf-8")
    assert "<code>https://github.com/evil-org/phish.git</code>" in page

    (git_repo / "runfolio.yaml").write_text(
        "repository_url: https://gitlab.com/team/configured\n", encoding="utf-8"
    )
    assert build_site(root, git_repo / "configured").problems == []
    configured = {h for h in _hrefs(git_repo / "configured") if h.startswith("https://git")}
    assert configured and all(
        h.startswith("https://gitlab.com/team/configured/") for h in configured
    )


# ---------------------------------------------------------------- bucket links

_SHA = "9c0f" + "0" * 60


@pytest.mark.parametrize(
    "key",
    [
        "prefix/../../private/secret.bin",
        "prefix/sha256/9c/..",
        "/prefix/sha256/9c/x",
        "prefix//sha256/x",
        "prefix/./sha256/x",
        "prefix\\..\\private\\x",
        "prefix/x\n",
    ],
)
def test_a_manifest_key_that_is_not_normalised_is_a_problem_and_never_a_link(
    tmp_path: Path, key: str
) -> None:
    (tmp_path / "runfolio.yaml").write_text(
        "artifacts:\n  uri: s3://bucket/prefix\n  public_url: https://bucket.example.org\n"
        "  previews: false\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "runs")
    run_id = _log(store, "remote artifact", 0.5)
    manifest = {
        "format": 1,
        "artifacts": [
            {"path": "model.bin", "sha256": _SHA, "size": 3, "uri": f"s3://bucket/{key}"}
        ],
    }
    run_dir = next(store.root.glob(f"*/{run_id}"))
    (run_dir / layout.REMOTE_ARTIFACTS_FILE).write_text(yaml.safe_dump(manifest), "utf-8")
    report = build_site(store.root, tmp_path / "site", config_root=tmp_path)
    (problem,) = report.problems
    assert layout.REMOTE_ARTIFACTS_FILE in problem and "artifacts[0]" in problem
    assert not [h for h in _hrefs(tmp_path / "site") if "bucket.example.org" in h]


# ---------------------------------------------------------------- registry history


@pytest.mark.parametrize("name", ["x` @octocat `", "20261127-045604-3f9a2c1b7e\n", "é"])
def test_registry_history_takes_no_tag_change_from_a_folder_that_is_not_a_run(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from runfolio.registry import registry_history

    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    store = _good_store(git_repo / "runs")
    good = store.root / "sweep" / GOOD_ID
    (planted,) = _plant(store.root, GOOD_ID, [name])
    for folder in (good, planted):  # the good run's file comes first, then the planted one
        data = yaml.safe_load((folder / layout.RUN_FILE).read_text(encoding="utf-8"))
        data["tags"] = {"registry.model": "clf", "registry.version": "1"}
        (folder / layout.RUN_FILE).write_text(yaml.safe_dump(data), encoding="utf-8")
    commit_all(git_repo, "register")
    history = registry_history(store.root) or {}
    assert [event.text for event in history["clf"]] == [f"registered version 1 (run {GOOD_ID})"]
