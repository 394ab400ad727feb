"""``runfolio build`` from Python and the command line, asserting on the parsed output.

Stores are written through runfolio's own tracking API (plus hand-made damage), built
with :func:`build_site`, and the pages read back with ``html_helpers``: the layout,
relative links, incremental builds equal to clean ones, problems, untrusted strings,
links and files that must not leak, and the CSV download.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import yaml
from click.testing import CliRunner
from tools.link_checker import check_links

from html_helpers import parse_file
from runfolio import Store
from runfolio.cli import main
from runfolio.site.build import BuildError, BuildReport, build_site
from runfolio.site.writer import MANIFEST

SLUG = "Iris sweep #1 ü"
"""A hand-named experiment folder: spaces, a '#' and non-ASCII must survive as URLs."""

VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "srcset", "data", "poster"})
FORBIDDEN_TAGS = frozenset(
    {"svg", "math", "iframe", "frame", "object", "embed", "form", "base", "style", "template"}
)
RUNS_JS = re.compile(
    r"^\(window\.runfolioRuns = window\.runfolioRuns \|\| \{\}\)\[(.*?)\] = "
    r"JSON\.parse\((.*)\);\n$"
)


def tree(site: Path) -> dict[str, bytes]:
    """Every file of a built site but the manifest, by relative path."""
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def run_data(js: Path) -> tuple[str, dict]:
    """The ref and data of a run's compare data file."""
    match = RUNS_JS.match(js.read_text(encoding="utf-8"))
    assert match, js
    return json.loads(match.group(1)), json.loads(json.loads(match.group(2)))


def build(store: Path, output: Path, **options: object) -> BuildReport:
    """Build with runfolio.yaml looked up next to the store (outside any git repository)."""
    return build_site(store, output, config_root=store.parent, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- stores


@dataclass
class Demo:
    """A small store: two experiments, four runs."""

    store: Path
    runs: dict[str, Path]  # name -> run folder

    @property
    def iris(self) -> Path:
        """The iris experiment's folder."""
        return self.store / SLUG


def make_demo(root: Path) -> Demo:
    """iris (primary accuracy, maximize; in a folder renamed to SLUG) with 3 runs; housing 1."""
    store = Store(root / "runs")
    store.set_experiment(
        "Iris sweep", description="Sweep *C*.", primary_metric="accuracy", direction="maximize"
    )
    runs: dict[str, Path] = {}
    for index, name in enumerate(("alpha", "beta", "gamma")):
        with store.start_run("Iris sweep", run_name=name, tags={"team": "vision"}) as run:
            run.log_params({"C": 10.0**index, "kernel": "rbf", "optimizer": {"lr": 0.1}})
            for step in range(5):
                run.log_metric("loss", 1.0 / (step + 1 + index), step=step)
            run.log_metric("accuracy", 0.8 + index / 20)
            run.log_text(f"notes of {name}\n", "notes.txt")
            runs[name] = run.path
    with store.start_run("housing", run_name="ridge") as run:
        run.log_param("alpha", 1.0)
        run.log_metric("rmse", 0.5)
        runs["ridge"] = run.path
    os.rename(store.root / "iris-sweep", store.root / SLUG)
    runs = {name: _moved(path, store.root) for name, path in runs.items()}
    return Demo(store.root, runs)


def _moved(path: Path, root: Path) -> Path:
    """Where a run folder is after its experiment folder was renamed to SLUG."""
    return root / SLUG / path.name if path.parent.name == "iris-sweep" else path


def add_run(demo: Demo, name: str) -> Path:
    """Log one more run into the iris experiment (its folder was renamed by hand)."""
    store = Store(demo.store)
    with store.start_run("Iris sweep", run_name=name) as run:
        run.log_param("C", 1000.0)
        run.log_metric("accuracy", 0.5)
        path = run.path
    if path.parent == demo.iris:
        return path
    # The store made a fresh folder for the name: move the run where its experiment is.
    moved = demo.iris / path.name
    os.rename(path, moved)
    shutil.rmtree(path.parent)
    return moved


def set_tag_by_hand(run_dir: Path, key: str, value: str) -> None:
    """Change a tag in run.yaml, as a git pull of someone else's edit would."""
    data = yaml.safe_load((run_dir / "run.yaml").read_text(encoding="utf-8"))
    data["tags"][key] = value
    (run_dir / "run.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


@dataclass
class Built:
    """A demo store and its clean build."""

    demo: Demo
    site: Path
    report: BuildReport


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, isolated_env: None) -> Built:
    """The demo store built once for the tests that only read the site."""
    root = tmp_path_factory.mktemp("built")
    demo = make_demo(root)
    # --clean into a folder that does not exist yet, as a first CI build does.
    report = build(demo.store, root / "new" / "site", clean=True)
    return Built(demo, root / "new" / "site", report)


# ---------------------------------------------------------------------- a clean build


def test_a_clean_build_writes_the_whole_layout(built: Built) -> None:
    site, report = built.site, built.report
    files = set(tree(site))
    expected = {"index.html", "compare.html", "404.html", ".nojekyll"}
    for slug in (SLUG, "housing"):
        expected |= {
            f"experiments/{slug}/{name}" for name in ("index.html", "runs.csv", "runs.json")
        }
    for run_dir in built.demo.runs.values():
        pages = f"experiments/{run_dir.parent.name}/runs/{run_dir.name}"
        expected |= {f"{pages}.html", f"{pages}.js"}
    expected |= {
        f"assets/{name}" for name in ("site.css", "site.js", "leaderboard.js", "compare.js")
    }
    expected |= {f"assets/vendor/{name}" for name in VENDOR}
    assert expected <= files
    # Besides the theme's assets, only the pages above and the runs' published files.
    extra = {f for f in files - expected if not f.startswith("assets/")}
    assert all(re.match(r"experiments/[^/]+/runs/[^/]+/(artifacts|captured)/", f) for f in extra)
    assert f"experiments/{SLUG}/runs/{built.demo.runs['alpha'].name}/artifacts/notes.txt" in extra
    assert (site / MANIFEST).is_file()

    assert (report.runs, report.runs_reused, report.runs_skipped) == (4, 0, 0)
    assert report.pages_rendered == 4 + 2 + 3
    assert report.files_written == len(files) and report.files_unchanged == 0
    assert report.problems == []


@pytest.mark.parametrize(
    ("page", "root"),
    [
        ("index.html", "."),
        ("compare.html", "."),
        ("404.html", "."),
        (f"experiments/{SLUG}/index.html", "../.."),
    ],
)
def test_every_page_knows_its_way_to_the_root(built: Built, page: str, root: str) -> None:
    (html,) = parse_file(built.site / page).find("html")
    assert html.attrs["data-root"] == root


def test_run_pages_know_their_way_to_the_root(built: Built) -> None:
    for page in built.site.glob("experiments/*/runs/*.html"):
        (html,) = parse_file(page).find("html")
        assert html.attrs["data-root"] == "../../.."


def test_scripts_load_vendor_then_site_then_the_page_script(built: Built) -> None:
    for page, own in (
        (f"experiments/{SLUG}/index.html", "leaderboard.js"),
        ("compare.html", "compare.js"),
    ):
        scripts = [e for e in parse_file(built.site / page).find("script") if "src" in e.attrs]
        prefix = "../../assets/" if page.startswith("experiments/") else "assets/"
        names = [*(f"vendor/{name}" for name in VENDOR), "site.js", own]
        assert [s.attrs["src"] for s in scripts] == [prefix + name for name in names]
        assert not any("defer" in s.attrs or "async" in s.attrs for s in scripts)


def test_every_link_is_relative_and_resolves(built: Built) -> None:
    for page in built.site.rglob("*.html"):
        for element in parse_file(page).elements:
            for name in URL_ATTRIBUTES & set(element.attrs):
                value = element.attrs[name] or ""
                assert not value.startswith(("/", "file:", "\\")), (page, value)
                assert urlsplit(value).scheme in ("", "http", "https", "mailto"), (page, value)
    assert check_links(built.site) == []


def test_folder_names_are_percent_encoded_in_links(built: Built) -> None:
    encoded = quote(SLUG)
    assert encoded == "Iris%20sweep%20%231%20%C3%BC"
    hrefs = {a.attrs["href"] for a in parse_file(built.site / "index.html").find("a")}
    assert f"experiments/{encoded}/index.html" in hrefs
    alpha = built.demo.runs["alpha"].name
    assert f"experiments/{encoded}/runs/{alpha}.html" in hrefs
    run_page = parse_file(built.site / f"experiments/{SLUG}/runs/{alpha}.html")
    run_hrefs = {a.attrs["href"] for a in run_page.find("a")}
    assert f"{alpha}/artifacts/notes.txt" in run_hrefs
    assert "../index.html" in run_hrefs


def test_a_folder_named_like_a_page_keeps_its_links(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    with store.start_run("e") as run:
        run.log_metric("loss", 1.0, step=0)
    os.rename(store.root / "e", store.root / "v1.html")
    build(store.root, tmp_path / "site")
    assert check_links(tmp_path / "site") == []


def test_a_ranked_experiment_without_params_has_a_primary_chart_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    store.set_experiment("e", primary_metric="loss")
    for loss in (0.5, 0.4):
        with store.start_run("e") as run:
            run.log_metric("loss", loss)
    build(store.root, tmp_path / "site")
    page = (tmp_path / "site" / "experiments" / "e" / "index.html").read_text("utf-8")
    assert 'id="chart-primary"' in page and 'id="chart-parallel"' not in page


def test_leaderboard_data_points_at_the_built_run_pages(built: Built) -> None:
    folder = built.site / "experiments" / SLUG
    data = parse_file(folder / "index.html").json_block("leaderboard-data")
    assert isinstance(data, dict)
    assert data["experiment"] == "Iris sweep"
    assert data["primary"] == {"key": "metrics.accuracy", "direction": "maximize"}
    names = [
        row["values"][[c["key"] for c in data["columns"]].index("name")] for row in data["rows"]
    ]
    assert names == ["gamma", "beta", "alpha"]  # ranked, best accuracy first
    for row in data["rows"]:
        assert (folder / row["href"]).is_file()
        assert row["ref"] == f"{quote(SLUG, safe='')}/{row['id']}"
        assert (built.site / "compare.html").resolve() == (folder / data["compareUrl"]).resolve()


def test_each_run_has_compare_data(built: Built) -> None:
    for name, run_dir in built.demo.runs.items():
        slug = run_dir.parent.name
        ref, data = run_data(built.site / f"experiments/{slug}/runs/{run_dir.name}.js")
        assert ref == data["ref"] == f"{quote(slug, safe='')}/{run_dir.name}"
        assert data["name"] == name and data["status"] == "FINISHED"
        assert (built.site / data["href"]).is_file()
    _ref, alpha = run_data(
        built.site / f"experiments/{SLUG}/runs/{built.demo.runs['alpha'].name}.js"
    )
    assert alpha["params"] == {"C": 1.0, "kernel": "rbf", "optimizer.lr": 0.1}
    assert [point[0] for point in alpha["history"]["loss"]] == [0, 1, 2, 3, 4]
    assert alpha["directions"] == {"loss": "minimize", "accuracy": "maximize"}


# ---------------------------------------------------------------------- incremental builds


def test_incremental_builds_equal_clean_builds(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    site = tmp_path / "site"
    build(demo.store, site)
    untouched = site / f"experiments/{SLUG}/runs/{demo.runs['alpha'].name}.html"
    before = untouched.stat().st_mtime_ns

    delta = add_run(demo, "delta")
    set_tag_by_hand(demo.runs["beta"], "team", "changed by hand")
    shutil.rmtree(demo.runs["gamma"])
    report = build(demo.store, site)

    clean = build(demo.store, tmp_path / "clean", clean=True)
    assert tree(site) == tree(tmp_path / "clean")
    # alpha and ridge kept as they were; delta and beta rendered; gamma's files removed.
    assert (report.runs, report.runs_reused) == (4, 2)
    assert report.pages_rendered == 2 + 2 + 3 < clean.pages_rendered
    assert report.files_written < clean.files_written
    assert report.files_removed >= 3  # gamma's page, data and notes.txt
    assert untouched.stat().st_mtime_ns == before
    beta = site / f"experiments/{SLUG}/runs/{demo.runs['beta'].name}.html"
    assert "changed by hand" in parse_file(beta).text
    assert (site / f"experiments/{SLUG}/runs/{delta.name}.html").is_file()
    assert not any(demo.runs["gamma"].name in path for path in tree(site))

    again = build(demo.store, site)
    assert (again.runs_reused, again.files_written, again.files_removed) == (4, 0, 0)
    assert again.pages_rendered == 2 + 3  # the experiment pages and the site-wide pages
    assert tree(site) == tree(tmp_path / "clean")

    # Files deleted by hand come back, kept run pages included.
    alpha = demo.runs["alpha"].name
    for path in (
        f"experiments/{SLUG}/runs/{alpha}.html",
        f"experiments/{SLUG}/runs/{alpha}/artifacts/notes.txt",
        f"experiments/{SLUG}/runs.csv",
        "assets/site.css",
    ):
        (site / path).unlink()
    build(demo.store, site)
    assert tree(site) == tree(tmp_path / "clean")


def test_a_theme_template_change_renders_every_run_again(tmp_path: Path) -> None:
    demo = make_demo(tmp_path)
    theme = tmp_path / "theme" / "templates"
    theme.mkdir(parents=True)
    override = (
        '{% extends "default:run.html" %}{% block title %}VERSION · {{ super() }}{% endblock %}'
    )
    (theme / "run.html").write_text(override.replace("VERSION", "v1"), encoding="utf-8")
    site = tmp_path / "site"
    build(demo.store, site, theme=theme.parent)
    assert build(demo.store, site, theme=theme.parent).runs_reused == 4

    (theme / "run.html").write_text(override.replace("VERSION", "v2"), encoding="utf-8")
    report = build(demo.store, site, theme=theme.parent)
    assert report.runs_reused == 0 and report.pages_rendered == 4 + 2 + 3
    titles = [parse_file(page).texts("title")[0] for page in site.glob("experiments/*/runs/*.html")]
    assert len(titles) == 4 and all(title.startswith("v2 · ") for title in titles)


# ---------------------------------------------------------------------- problems


def _damaged(root: Path) -> tuple[Path, dict[str, Path]]:
    """A store with two good runs and three damaged ones."""
    store = Store(root / "runs")
    runs = {}
    for name in ("good-1", "good-2", "bad-yaml", "no-yaml", "bad-metrics"):
        with store.start_run("exp", run_name=name) as run:
            run.log_param("seed", len(runs))
            run.log_metric("loss", 0.5, step=0)
            runs[name] = run.path
    (runs["bad-yaml"] / "run.yaml").write_text("name: [unclosed\n  : :\n", encoding="utf-8")
    (runs["no-yaml"] / "run.yaml").unlink()
    (runs["bad-metrics"] / "metrics.csv").write_bytes(
        b"\x00\xff garbage\nnot,a,metric,row,at,all\n"
    )
    return store.root, runs


def test_unreadable_runs_are_reported_and_the_rest_builds(tmp_path: Path) -> None:
    store, runs = _damaged(tmp_path)
    site = tmp_path / "site"
    report = build(store, site)
    for name in ("bad-yaml", "no-yaml"):
        assert sum(str(runs[name]) in problem for problem in report.problems) == 1
        assert not list(site.glob(f"experiments/*/runs/{runs[name].name}*"))
    # A run page's problem names the file by its path inside the store.
    bad_metrics = runs["bad-metrics"].relative_to(store).as_posix()
    assert any(f"{bad_metrics}/metrics.csv: " in p for p in report.problems)
    assert report.runs_skipped == 2 and report.runs == 3
    for name in ("good-1", "good-2"):
        assert (site / f"experiments/exp/runs/{runs[name].name}.html").is_file()
    # The home page says what it left out, by the path inside the store only.
    home = parse_file(site / "index.html").text
    assert f"exp/{runs['bad-yaml'].name}" in home and f"exp/{runs['no-yaml'].name}" in home
    assert str(tmp_path) not in (site / "index.html").read_text(encoding="utf-8")

    with pytest.raises(BuildError) as error:
        build(store, site, strict=True)
    assert str(runs["bad-yaml"]) in str(error.value) and str(runs["no-yaml"]) in str(error.value)


def test_problems_of_kept_run_pages_are_still_reported(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    with store.start_run("exp", run_name="ok") as run:
        run.log_metric("loss", 0.5)
    with store.start_run("exp", run_name="damaged") as run:
        run.log_metric("loss", 0.5)
    (run.path / "metrics.csv").write_text(
        "key,step,value,timestamp\nloss,zero,x,y\n", encoding="utf-8"
    )
    site = tmp_path / "site"
    first = build(store.root, site)
    assert first.problems and first.runs_skipped == 0
    second = build(store.root, site)
    assert second.runs_reused == 2 and second.problems == first.problems
    with pytest.raises(BuildError, match=r"metrics\.csv"):
        build(store.root, site, strict=True)


def test_the_command_fails_with_strict_and_warns_without(tmp_path: Path) -> None:
    store, runs = _damaged(tmp_path)
    runner = CliRunner()
    lenient = runner.invoke(main, ["build", str(store), "-o", str(tmp_path / "a"), "-q"])
    assert lenient.exit_code == 0, lenient.output
    warnings = [line for line in lenient.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3 and str(runs["bad-yaml"]) in lenient.stderr

    strict = runner.invoke(main, ["build", str(store), "-o", str(tmp_path / "b"), "--strict"])
    assert strict.exit_code == 1
    assert (
        strict.stderr.startswith("Error: --strict: 2 problems") and "Traceback" not in strict.output
    )
    assert not (tmp_path / "b" / "index.html").exists()


# ---------------------------------------------------------------------- the command line


def test_the_command_ends_with_a_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _runs = _damaged(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", str(store), "--output", "out"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    summary = re.fullmatch(
        r"Built (\d+) pages \(\1 rendered, 0 kept\), (\d+) files written, 0 unchanged, "
        r"0 removed; 2 runs skipped; \d+\.\ds\.",
        lines[-2],
    )
    assert summary, lines
    assert int(summary.group(1)) == 3 + 1 + 3 == len(list((tmp_path / "out").rglob("*.html")))
    assert lines[-1] == f"Open {(tmp_path / 'out' / 'index.html').as_uri()}"

    again = CliRunner().invoke(main, ["build", str(store), "--output", "out"])
    kept = re.fullmatch(
        r"Built (\d+) pages \((\d+) rendered, (\d+) kept\), 0 files written.*",
        again.stdout.strip().splitlines()[-2],
    )
    assert kept and int(kept.group(1)) == int(summary.group(1))
    assert (int(kept.group(2)), int(kept.group(3))) == (3 + 1, 3)  # run pages kept


def test_the_command_builds_the_configured_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "elsewhere" / "runs")
    with store.start_run("from-env", run_name="env-run"):
        pass
    monkeypatch.setenv("RUNFOLIO_STORE", str(store.root))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "-o", "out", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "env-run" in parse_file(tmp_path / "out" / "index.html").text


# ---------------------------------------------------------------------- untrusted strings

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><svg onload=alert(1)>'
TEMPLATE = "{{ 7*7 }}"
RAW = "{% raw %}"
END = "</script>"
NOTES = (
    f"Notes {SCRIPT}\n\n<img src=x onerror=alert(1)>\n\n[click me](javascript:alert(1))\n\n"
    f"{TEMPLATE} {RAW} {BREAKOUT}\n"
)
# Keys may not hold "/", so "</script>" and "<script>...</script>" are values only.
KEY_PAYLOADS = (BREAKOUT, TEMPLATE, RAW, "<img src=x onerror=alert(1)>")
VALUE_PAYLOADS = (SCRIPT, END, TEMPLATE, RAW)
RUN_NAMES = (SCRIPT, f"{BREAKOUT}{TEMPLATE}", f"{RAW}{END}")
EXPERIMENT = f"{BREAKOUT} {TEMPLATE} {SCRIPT}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, isolated_env: None) -> Built:
    """A store whose every user-controlled string is an attack, and its build."""
    root = tmp_path_factory.mktemp("hostile")
    store = Store(root / "runs")
    store.set_experiment(EXPERIMENT, description=NOTES, primary_metric=BREAKOUT)
    runs = {}
    for index, name in enumerate(RUN_NAMES):
        tags = {key: f"{SCRIPT}{index}" for key in KEY_PAYLOADS} | {"note": END + str(index)}
        with store.start_run(EXPERIMENT, run_name=name, tags=tags, description=NOTES) as run:
            run.log_params(
                {
                    key: f"{payload}{index}"
                    for key, payload in zip(KEY_PAYLOADS, VALUE_PAYLOADS, strict=True)
                }
            )
            run.log_param("html", f"{END}<script>alert({index})</script>")
            for key in KEY_PAYLOADS:
                run.log_metric(key, index + 0.5, step=0)
                run.log_metric(key, index + 0.25, step=1)
            run.log_text(NOTES, f"{BREAKOUT}.md")
            run.log_text(f"{END}{SCRIPT}{TEMPLATE}", "<img src=x onerror=alert(1)>.txt")
            run.log_text(f"<html><body>{SCRIPT}</body></html>", "page.html")
            run.log_text(f"a,b\n{SCRIPT},{BREAKOUT}\n=1+1,{TEMPLATE}\n", "table.csv")
            run.log_text('{"k": "</script><script>alert(1)</script>"}', "data.json")
            run.log_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.svg")
            runs[name] = run.path
    report = build(store.root, root / "site")
    return Built(Demo(store.root, runs), root / "site", report)


def _rendered_pages(site: Path) -> list[Path]:
    """The HTML pages the site renders (not copies of HTML artifacts)."""
    return [
        p
        for p in site.rglob("*.html")
        if not re.search(r"/runs/[^/]+/(artifacts|captured)/", p.as_posix())
    ]


def test_hostile_strings_add_no_markup(hostile: Built) -> None:
    assert hostile.report.problems == []
    pages = _rendered_pages(hostile.site)
    assert len(pages) == 3 + 1 + 3
    for path in pages:
        page = parse_file(path)
        for element in page.elements:
            assert element.tag not in FORBIDDEN_TAGS, (path, element)
            for name, value in element.attrs.items():
                assert not name.startswith("on"), (path, element)
                if element.tag == "img" and name == "src" and (value or "").startswith("data:"):
                    # SVG artifacts are shown from a data: URL, where no script runs.
                    assert value.startswith("data:image/svg+xml;base64,"), (path, element)
                elif name in URL_ATTRIBUTES:
                    assert urlsplit((value or "").strip()).scheme in ("", "http", "https", "mailto")
            if element.tag == "script":
                if "src" in element.attrs:
                    assert element.text == "" and "/assets/" in f"/{element.attrs['src']}"
                else:
                    assert element.attrs.get("type") == "application/json", (path, element)
                    json.loads(element.text)


def test_hostile_strings_show_as_written(hostile: Built) -> None:
    site = hostile.site
    for name, run_dir in hostile.demo.runs.items():
        page = site / "experiments" / run_dir.parent.name / "runs" / f"{run_dir.name}.html"
        assert parse_file(page).texts("h1") == [name]
        text = parse_file(page).text
        for key in KEY_PAYLOADS:
            assert key in text  # param, tag and metric keys
        assert f"{END}<script>alert(" in text  # a param value
        assert "{{ 7*7 }} {% raw %}" in text  # notes: template syntax stays literal
    home = site / "index.html"
    assert EXPERIMENT in parse_file(home).text
    (experiment,) = site.glob("experiments/*/index.html")
    assert parse_file(experiment).texts("h1") == [EXPERIMENT]


def test_hostile_notes_lose_their_active_parts(hostile: Built) -> None:
    run_dir = next(iter(hostile.demo.runs.values()))
    page = parse_file(
        hostile.site / "experiments" / run_dir.parent.name / "runs" / f"{run_dir.name}.html"
    )
    images = [e for e in page.find("img") if e.attrs.get("src") == "x"]
    assert images and all(set(e.attrs) <= {"src", "alt", "title"} for e in images)
    links = [e for e in page.find("a") if "href" not in e.attrs]
    assert links  # "[click me](javascript:...)" kept its text, lost its link
    assert "alert(1)" not in "".join(e.attrs.get("href") or "" for e in page.find("a"))


def test_hostile_strings_survive_the_json_blocks(hostile: Built) -> None:
    site = hostile.site
    (experiment,) = site.glob("experiments/*/index.html")
    data = parse_file(experiment).json_block("leaderboard-data")
    assert isinstance(data, dict)
    assert data["experiment"] == EXPERIMENT
    keys = [c["key"] for c in data["columns"]]
    labels = {c["label"] for c in data["columns"]}
    assert set(KEY_PAYLOADS) <= labels
    names = {row["values"][keys.index("name")] for row in data["rows"]}
    assert names == set(RUN_NAMES)
    values = {row["values"][keys.index("params.html")] for row in data["rows"]}
    assert values == {f"{END}<script>alert({i})</script>" for i in range(3)}

    for name, run_dir in hostile.demo.runs.items():
        _ref, run = run_data(experiment.parent / "runs" / f"{run_dir.name}.js")
        index = RUN_NAMES.index(name)
        assert run["name"] == name and run["experiment"] == EXPERIMENT
        expected = {
            key: f"{payload}{index}"
            for key, payload in zip(KEY_PAYLOADS, VALUE_PAYLOADS, strict=True)
        }
        assert run["params"] == expected | {"html": f"{END}<script>alert({index})</script>"}
        assert set(run["history"]) == set(KEY_PAYLOADS)
        text = (experiment.parent / "runs" / f"{run_dir.name}.js").read_text(encoding="utf-8")
        assert "</" not in text and "<script" not in text


def test_no_published_artifact_runs_script_when_opened(hostile: Built) -> None:
    active = [
        path
        for path in tree(hostile.site)
        if re.search(r"/runs/[^/]+/", path) and path.endswith((".html", ".htm", ".svg", ".xml"))
    ]
    assert active == []


def _spec_code(spec: object) -> Iterator[str]:
    """Every dict key and every value of a key that Vega reads as a field or expression."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "usermeta":
                continue  # runfolio's own notes, which Vega never reads
            yield key
            if key in ("field", "expr", "signal", "calculate", "filter", "test", "as"):
                yield json.dumps(value)
            yield from _spec_code(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from _spec_code(item)


def test_hostile_strings_are_only_data_in_charts(hostile: Built) -> None:
    charts = 0
    for path in _rendered_pages(hostile.site):
        page = parse_file(path)
        for holder in page.elements:
            chart_id = holder.attrs.get("data-chart")
            if not chart_id:
                continue
            charts += 1
            spec = page.json_block(chart_id)
            for code in _spec_code(spec):
                for marker in ("alert", "7*7", "raw %", "script", "onload", "onerror"):
                    assert marker not in code, (path, chart_id, code)
    assert charts >= len(RUN_NAMES) * len(KEY_PAYLOADS)


# ---------------------------------------------------------------------- files that must not leak

CANARY = "CANARY-8d1f0c secret"


def test_links_out_of_the_store_and_big_files_are_not_published(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(CANARY, encoding="utf-8")
    (tmp_path / "secret-dir").mkdir()
    (tmp_path / "secret-dir" / "inner.txt").write_text(CANARY, encoding="utf-8")
    (tmp_path / "runfolio.yaml").write_text("artifact_size_limit: 1 KB\n", encoding="utf-8")
    store = Store(tmp_path / "runs")
    with store.start_run("exp", run_name="leaky") as run:
        run.log_text("small and fine", "small.txt")
        run.log_text("x" * 5000, "big.txt")
        run.log_text("y" * 5000, "plots/big.png")
    artifacts = run.path / "artifacts"
    (artifacts / "link.txt").symlink_to(secret)
    (artifacts / "linked-dir").symlink_to(tmp_path / "secret-dir", target_is_directory=True)
    os.link(secret, artifacts / "hard.txt")
    packages = run.path / "captured" / "packages.txt"
    packages.unlink(missing_ok=True)
    packages.parent.mkdir(exist_ok=True)
    packages.symlink_to(secret)
    record = yaml.safe_load((run.path / "run.yaml").read_text(encoding="utf-8"))
    record["environment"]["packages"] = "captured/packages.txt"
    record["git"] = {
        "branch": None,
        "commit": None,
        "dirty": True,
        "patch": "../../../secret.txt",
        "remote_url": None,
    }
    (run.path / "run.yaml").write_text(yaml.safe_dump(record), encoding="utf-8")

    site = tmp_path / "site"
    report = build(store.root, site)
    for dirpath, dirnames, filenames in os.walk(site):
        for name in dirnames + filenames:
            assert not os.path.islink(os.path.join(dirpath, name)), name
    for path, data in tree(site).items():
        assert CANARY.encode() not in data, path
    assert not (site / MANIFEST).read_text(encoding="utf-8").count(CANARY)

    run_site = site / "experiments/exp/runs" / run.path.name
    assert (run_site / "artifacts/small.txt").read_text(encoding="utf-8") == "small and fine"
    published = {p.relative_to(run_site).as_posix() for p in run_site.rglob("*") if p.is_file()}
    assert published == {"artifacts/small.txt"}
    listed = parse_file(run_site.with_suffix(".html")).texts("code")
    for name in ("small.txt", "big.txt", "plots/big.png", "link.txt", "hard.txt"):
        assert name in listed, name
    page_text = parse_file(run_site.with_suffix(".html")).text
    assert "symlink, not published" in page_text and "hardlinked, not published" in page_text
    assert "larger than the 1 kB limit, not published" in page_text
    assert report.runs == 1 and report.runs_skipped == 0


def test_a_run_yaml_with_partial_git_and_source_still_builds(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    with store.start_run("exp", run_name="imported") as run:
        run.log_metric("loss", 0.5)
    record = yaml.safe_load((run.path / "run.yaml").read_text(encoding="utf-8"))
    record["git"] = {"dirty": True}
    record["source"] = {"argv": ["train.py"]}
    (run.path / "run.yaml").write_text(yaml.safe_dump(record), encoding="utf-8")
    report = build(store.root, tmp_path / "site")
    assert report.problems == [] and report.runs == 1


# ---------------------------------------------------------------------- the CSV download


def test_runs_csv_neutralises_formulas(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    cells = {"=1+1": -1.5, "@SUM(A1)": 2, "+x": 0.25, "-x": -3}
    for text, number in cells.items():
        with store.start_run("exp", run_name=text, tags={"t": text}) as run:
            run.log_params({"p": text, "n": number})
    build(store.root, tmp_path / "site")
    raw = (tmp_path / "site/experiments/exp/runs.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert len(rows) == 4
    assert {row["params.p"] for row in rows} == {"'" + text for text in cells}
    for row in rows:
        original = row["params.p"][1:]
        assert row["name"] == row["tags.t"] == "'" + original
        assert row["params.n"] == str(cells[original])  # numbers stay numbers


def test_secrets_in_runs_recorded_before_redaction_are_hidden_on_the_page(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "runs")
    with store.start_run("e") as run:
        run.log_metric("loss", 1.0)
    run_yaml = run.path / "run.yaml"
    data = yaml.safe_load(run_yaml.read_text(encoding="utf-8"))
    # As an older runfolio, or a hand edit, would have left them.
    data["source"] = {"entry_point": "train.py", "argv": ["--token", "s3cr3t-TOKEN", "--lr=0.1"]}
    data["git"] = {"remote_url": "https://bob:hunter2-PASS@github.com/org/repo.git"}
    run_yaml.write_text(yaml.safe_dump(data), encoding="utf-8")
    build(store.root, tmp_path / "site")
    page = (tmp_path / "site" / "experiments" / "e" / "runs" / f"{run.run_id}.html").read_text(
        "utf-8"
    )
    assert "s3cr3t-TOKEN" not in page and "hunter2-PASS" not in page
    assert "--token &lt;redacted&gt; --lr=0.1" in page
    assert "https://github.com/org/repo.git" in page


def test_the_published_manifest_names_no_path_of_the_build_machine(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    with store.start_run("e") as run:
        run.log_metric("loss", 1.0, step=0)
        run.log_metric("loss", 0.5, step=1)
    with open(run.path / "metrics.csv", "a", encoding="utf-8") as handle:
        handle.write("garbage row\nloss,2,0.")  # two problems on the run's page
    report = build(store.root, tmp_path / "site")
    assert len(report.problems) == 2
    for path in (tmp_path / "site").rglob("*"):
        if path.is_file():
            assert str(tmp_path).encode() not in path.read_bytes(), path
