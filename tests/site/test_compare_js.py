"""The compare page (themes/default/static/compare.js) in headless Chromium.

Each test builds a small site in a temporary folder: the fixture compare.html (the page
as docs/contract describe it), the vendored chart scripts, compare.js/.css, a stand-in
site.css, and three run data files written here the way the site build writes them
(``json_for_script``). The data is hostile on purpose (markup in names, keys and
metric names, quotes, a ``javascript:`` href, NaN and infinities); every assertion
reads the DOM the script produced.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from tools.axe import format_violations, run_axe
from tools.harness import PageProblems
from tools.vega_inspect import INSPECT_SPEC_JS

from runfolio.site.sanitize import json_for_script

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "themes" / "default" / "static"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "compare"
VENDOR_SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")

HOSTILE_NAME = "</script><img src=x onerror=window.__pwned=1>"
HOSTILE_KEY = "<img src=x onerror=window.__pwned=2>"
HOSTILE_METRIC = '"]);window.__pwned=3;//'
QUOTED_NAME = 'it\'s "quoted"'

VISION = "vision ü"  # a space and a non-ASCII letter in a folder name
NLP = "nlp's #1"  # "'" (which Python's quote encodes and encodeURIComponent keeps) and "#"
ID_A = "20261127-045604-3f9a2c1b7d"
ID_B = "20261127-050000-3f9a2c1b8e"  # shares 8 random characters with A
ID_C = "20261128-101010-aa00bb11cc"
DIRECTIONS = {"rmse": "minimize", "accuracy": "maximize"}


def _run(slug: str, run_id: str, **fields: Any) -> dict[str, Any]:
    """Return one run's compare data as the contract describes it."""
    return {
        "ref": f"{quote(slug, safe='')}/{quote(run_id, safe='')}",
        "id": run_id,
        "href": f"experiments/{quote(slug, safe='')}/runs/{quote(run_id, safe='')}.html",
        "status": "FINISHED",
        "start": "2026-11-27T04:56:04Z",
        "duration": 12.5,
        "directions": DIRECTIONS,
        **fields,
    }


RUN_A = _run(
    VISION,
    ID_A,
    name=HOSTILE_NAME,
    experiment="Vision <b>ü</b>",
    params={"lr": 0.01, "model": "xgb", "seed": 7, "note": 'say "hi"', HOSTILE_KEY: "x"},
    metrics={
        "rmse": {"last": 0.5, "min": 0.4, "max": 0.9, "step": 2},
        "accuracy": {"last": 0.8, "min": 0.5, "max": 0.8, "step": 2},
        "loss": {"last": "NaN", "min": 0.1, "max": "inf", "step": 2},
        HOSTILE_METRIC: {"last": 1, "min": 1, "max": 1, "step": 1},
    },
    history={
        "rmse": [[0, 0.9], [1, 0.7], [2, 0.5]],
        "accuracy": [[0, 0.5], [1, 0.7], [2, 0.8]],
        "loss": [[0, 0.1], [1, math.nan], [2, "inf"], [3, None]],
        HOSTILE_METRIC: [[0, 1], [1, 1]],
    },
)
RUN_B = _run(
    VISION,
    ID_B,
    name=QUOTED_NAME,
    experiment="Vision <b>ü</b>",
    status="FAILED",
    params={"lr": 0.1, "model": "xgb", "seed": 7},
    metrics={
        "rmse": {"last": 0.3, "min": 0.3, "max": 0.8, "step": 2},
        "accuracy": {"last": 0.9, "min": 0.4, "max": 0.9, "step": 2},
        "loss": {"last": 0.2, "min": 0.2, "max": math.inf, "step": 1},
    },
    history={
        "rmse": [[0, 0.8], [1, 0.5], [2, 0.3]],
        "accuracy": [[0, 0.4], [1, 0.6], [2, 0.9]],
        "loss": [[0, 0.3], [1, 0.2]],
    },
)
RUN_C = _run(
    NLP,
    ID_C,
    name="",
    experiment=NLP,
    params={"lr": 0.1, "model": "xgb", "seed": 7, "note": 'say "hi"'},
    metrics={
        "rmse": {"last": 0.3, "min": 0.3, "max": 1.2, "step": 2},
        "accuracy": {"last": "inf", "min": 0.2, "max": "inf", "step": 2},
    },
    history={"rmse": [[0, 1.2], [1, 0.6], [2, 0.3]], "accuracy": [[0, 0.2], [1, "inf"]]},
)
# A javascript: link must never reach the page; the run page path is built from the ref.
RUN_C["href"] = "javascript:window.__pwned=4"
RUNS = (RUN_A, RUN_B, RUN_C)
SLUGS = {ID_A: VISION, ID_B: VISION, ID_C: NLP}


def _js_ref(slug: str, run_id: str) -> str:
    """Encode a ref the way the leaderboard does (encodeURIComponent keeps "'" as is)."""
    safe = "-_.!~*'()"
    return f"{quote(slug, safe=safe)}/{quote(run_id, safe=safe)}"


REF_A, REF_B, REF_C = (_js_ref(SLUGS[r["id"]], r["id"]) for r in RUNS)


def build_site(root: Path, runs: Iterable[dict[str, Any]] = RUNS) -> Path:
    """Write the compare page, its assets and the runs' data files under ``root``."""
    vendor = root / "assets" / "vendor"
    vendor.mkdir(parents=True)
    for name in VENDOR_SCRIPTS:
        shutil.copyfile(STATIC / "vendor" / name, vendor / name)
    for name in ("compare.js", "compare.css"):
        shutil.copyfile(STATIC / name, root / "assets" / name)
    shutil.copyfile(FIXTURES / "site.css", root / "assets" / "site.css")
    shutil.copyfile(FIXTURES / "compare.html", root / "compare.html")
    for run in runs:
        folder = root / "experiments" / SLUGS[run["id"]] / "runs"
        folder.mkdir(parents=True, exist_ok=True)
        # The key is Python-encoded ("%27"), so the page must find it under either form.
        assignment = (
            "(window.runfolioRuns = window.runfolioRuns || {})"
            f"[{json_for_script(run['ref'])}] = {json_for_script(run)};\n"
        )
        (folder / f"{run['id']}.js").write_text(assignment, encoding="utf-8")
    return root / "compare.html"


def compare_query(refs: Iterable[str]) -> str:
    """Return ``?runs=...`` with the value URL-encoded as a whole, as the leaderboard does."""
    return "?runs=" + quote(",".join(refs), safe="")


def open_compare(page: Any, url: str) -> None:
    """Load the compare page and wait until its charts are drawn."""
    page.goto(url)
    page.wait_for_selector("#compare[data-charts='done']", state="attached", timeout=15_000)


@pytest.fixture
def site_url(tmp_path: Path, serve_dir: Callable[..., str]) -> str:
    """The compare page of a fresh test site, served under /repo/."""
    build_site(tmp_path)
    return serve_dir(tmp_path) + "compare.html"


_READ_PAGE = """() => {
  const q = (s, root = document) => [...root.querySelectorAll(s)];
  const key = (row) => row.querySelector('th').firstChild.textContent;
  return {
    runs: q('.compare-run-card').map((card) => ({
      name: card.querySelector('a').textContent,
      href: card.querySelector('a').getAttribute('href'),
      facts: Object.fromEntries(q('dt', card).map((dt) =>
        [dt.textContent, dt.nextElementSibling.textContent])),
    })),
    params: q('.compare-params-table tbody tr').map((tr) => ({
      key: key(tr),
      differs: tr.classList.contains('differs'),
      spoken: tr.querySelector('th .visually-hidden')?.textContent ?? '',
      visible: tr.getClientRects().length > 0,
      cells: [...tr.cells].slice(1).map((td) => td.textContent),
    })),
    heads: q('.compare-params-table thead th').slice(1).map((th) => th.textContent),
    metrics: q('.compare-metrics-table tbody tr').map((tr) => ({
      key: key(tr),
      cells: [...tr.cells].slice(1).map((td) => td.textContent),
      best: [...tr.cells].slice(1).flatMap((td, i) => td.classList.contains('best') ? [i] : []),
      badges: q('.compare-best-badge', tr).map((b) => b.textContent),
    })),
    charts: q('figure.compare-chart').map((f) => ({
      caption: f.querySelector('figcaption').textContent,
      label: f.querySelector('.compare-chart-canvas').getAttribute('aria-label'),
      svgs: f.querySelectorAll('svg').length,
      text: f.querySelector('svg')?.textContent ?? '',
    })),
    notices: q('.compare-notice').map((li) => li.textContent),
    injected: document.querySelectorAll('#compare img, #compare b, #compare script').length,
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
  };
}"""


def read_page(page: Any) -> dict[str, Any]:
    """Return what the compare page shows, read from its DOM."""
    return page.evaluate(_READ_PAGE)


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Index table rows by their key."""
    return {row["key"]: row for row in rows}


def last_best(metric: dict[str, Any]) -> list[int]:
    """Run indexes whose last value is marked best (cells are last/min/max per run)."""
    assert all(i % 3 == 0 for i in metric["best"]), "only a last value may be best"
    return [i // 3 for i in metric["best"]]


def test_three_runs_side_by_side(page: Any, site_url: str) -> None:
    # C twice (as the leaderboard encodes it, and with "'" percent-encoded): one column.
    refs = [REF_A, REF_B, REF_C, REF_C.replace("'", "%27")]
    open_compare(page, site_url + compare_query(refs))
    shown = read_page(page)

    assert shown["pwned"] is None and shown["injected"] == 0
    assert shown["notices"] == []
    assert [run["name"] for run in shown["runs"]] == [HOSTILE_NAME, QUOTED_NAME, ID_C]
    assert [run["facts"]["Run id"] for run in shown["runs"]] == [ID_A, ID_B, ID_C]
    assert shown["runs"][0]["facts"]["Experiment"] == "Vision <b>ü</b>"
    statuses = [run["facts"]["Status"] for run in shown["runs"]]
    assert statuses == ["FINISHED", "FAILED", "FINISHED"]
    assert shown["runs"][0]["href"] == f"./experiments/vision%20%C3%BC/runs/{ID_A}.html"
    assert shown["runs"][2]["href"] == f"./experiments/nlp's%20%231/runs/{ID_C}.html"
    # Labels: name + the shortest prefix of the random part that tells A and B apart.
    assert shown["heads"] == [
        f"{HOSTILE_NAME} (3f9a2c1b7)",
        f"{QUOTED_NAME} (3f9a2c1b8)",
        ID_C,
    ]

    params = by_key(shown["params"])
    assert list(params) == [HOSTILE_KEY, "lr", "model", "note", "seed"]
    assert params["lr"]["differs"] and params["lr"]["cells"] == ["0.01", "0.1", "0.1"]
    assert params["note"]["differs"] and params["note"]["cells"][1].startswith("\u2014")
    assert params["note"]["cells"][0] == 'say "hi"'
    assert params[HOSTILE_KEY]["differs"]
    assert params["lr"]["spoken"] == " (differs)"
    for same in ("model", "seed"):
        assert not params[same]["differs"] and params[same]["spoken"] == ""
    assert page.locator(".compare-params-table tr.differs").count() == 3

    metrics = by_key(shown["metrics"])
    assert list(metrics) == [HOSTILE_METRIC, "accuracy", "loss", "rmse"]
    assert last_best(metrics["rmse"]) == [1, 2]  # minimize, a tie: both marked
    assert last_best(metrics["accuracy"]) == [1]  # maximize; C's "inf" is not a value
    assert last_best(metrics["loss"]) == []  # no direction, no best
    assert last_best(metrics[HOSTILE_METRIC]) == []
    assert metrics["rmse"]["badges"] == ["★ best (lower is better)"] * 2
    assert metrics["loss"]["cells"][:3] == ["NaN", "0.1", "inf"]
    assert metrics["loss"]["cells"][5].startswith("\u2014")  # B's max was inf -> null
    assert metrics["accuracy"]["cells"][6:] == ["inf", "0.2", "inf"]

    charts = {chart["caption"].split(" \u2014 ")[0]: chart for chart in shown["charts"]}
    assert list(charts) == [HOSTILE_METRIC, "accuracy", "loss", "rmse"]
    assert all(chart["svgs"] == 1 for chart in charts.values())
    assert "rmse" in charts["rmse"]["text"] and HOSTILE_METRIC in charts[HOSTILE_METRIC]["text"]
    assert "lower is better; 3 of 3 runs drawn." in charts["rmse"]["caption"]
    assert "2 of 3 runs drawn; 3 missing or non-finite points left out" in charts["loss"]["caption"]
    assert charts["rmse"]["label"].startswith("Line chart of rmse by step for ")
    # The drawn lines: A's loss keeps its one finite point, C's accuracy its first.
    assert page.locator(".compare-chart svg path[aria-roledescription='line mark']").count() > 0


def test_only_show_differences_hides_equal_rows(page: Any, site_url: str) -> None:
    open_compare(page, site_url + compare_query([REF_A, REF_B, REF_C]))
    toggle = page.get_by_label("Only show differences")
    toggle.check()
    params = by_key(read_page(page)["params"])
    assert {key: row["visible"] for key, row in params.items()} == {
        HOSTILE_KEY: True,
        "lr": True,
        "model": False,
        "note": True,
        "seed": False,
    }
    toggle.uncheck()
    assert all(row["visible"] for row in read_page(page)["params"])


def test_remove_run_updates_url_and_page(page: Any, site_url: str) -> None:
    open_compare(page, site_url + compare_query([REF_A, REF_B, REF_C]))
    page.get_by_role("button", name=f"Remove {QUOTED_NAME} (3f9a2c1b8) from the comparison").click()
    page.wait_for_selector("#compare[data-charts='done'][data-runs='2']", state="attached")
    assert parse_qs(urlsplit(page.url).query)["runs"] == [f"{REF_A},{REF_C}"]
    shown = read_page(page)
    assert [run["facts"]["Run id"] for run in shown["runs"]] == [ID_A, ID_C]
    assert last_best(by_key(shown["metrics"])["rmse"]) == [1]
    assert not by_key(shown["params"])["seed"]["differs"]
    assert all(chart["svgs"] == 1 for chart in shown["charts"])
    # The keyboard focus stays on a remove button rather than falling to <body>.
    assert page.evaluate("() => document.activeElement.classList.contains('compare-remove')")

    page.get_by_role("button", name=f"Remove {ID_C} from the comparison").click()
    page.wait_for_selector("#compare[data-runs='1']", state="attached")
    shown = read_page(page)
    assert [run["facts"]["Run id"] for run in shown["runs"]] == [ID_A]
    assert "Select at least two runs" in shown["notices"][0]
    # The URL alone gives the same page again.
    page.reload()
    page.wait_for_selector("#compare[data-charts='done']", state="attached")
    assert [run["facts"]["Run id"] for run in read_page(page)["runs"]] == [ID_A]


@pytest.mark.allow_page_problems
def test_missing_run_is_named_and_the_others_compared(
    page: Any, page_problems: PageProblems, site_url: str
) -> None:
    missing = f"{quote(VISION, safe='')}/20261127-000000-0000000000"
    open_compare(page, site_url + compare_query([REF_A, missing, REF_B]))
    shown = read_page(page)
    assert shown["notices"] == [f"Run {VISION}/20261127-000000-0000000000 is not in this site."]
    assert [run["facts"]["Run id"] for run in shown["runs"]] == [ID_A, ID_B]
    assert all(chart["svgs"] == 1 for chart in shown["charts"])
    # The only problem is the browser's own report of the missing file.
    assert len(page_problems.console_errors) == 1
    assert "404" in page_problems.console_errors[0]
    assert "20261127-000000-0000000000.js" in page_problems.console_errors[0]
    assert not (page_problems.page_errors or page_problems.outside_requests)


def test_bad_refs_load_nothing(page: Any, site_url: str) -> None:
    bad = [
        "../secret",
        "%2E%2E/secret",
        f"{quote(VISION, safe='')}/..%2F..%2Fsecret",
        "a%5Cb/secret",
        "a/b/secret",
        "/secret",
        "%E0%A4%A/secret",
        "secret",
    ]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    open_compare(page, site_url + compare_query([*bad, REF_A]))
    shown = read_page(page)
    # Only the page's own query string names "secret"; no requested path does.
    assert not [url for url in requested if "secret" in urlsplit(url).path]
    assert [url for url in requested if "secret" in url] == [page.url]
    assert [url for url in requested if "/experiments/" in url] == [
        site_url.replace("compare.html", f"experiments/vision%20%C3%BC/runs/{ID_A}.js")
    ]
    assert shown["notices"][: len(bad)] == [f"Run {ref} is not in this site." for ref in bad]
    assert "Select at least two runs" in shown["notices"][-1]
    assert [run["facts"]["Run id"] for run in shown["runs"]] == [ID_A]


def test_no_runs_asks_for_a_selection(page: Any, site_url: str) -> None:
    page.goto(site_url)
    page.wait_for_selector("#compare[data-state='ready']", state="attached")
    shown = read_page(page)
    assert len(shown["notices"]) == 1
    assert shown["notices"][0].startswith("No runs to compare. Select at least two runs")
    assert page.locator("#compare table").count() == 0


def test_compare_page_is_accessible(page: Any, site_url: str) -> None:
    open_compare(page, site_url + compare_query([REF_A, REF_B, REF_C]))
    violations = run_axe(page)
    assert not violations, format_violations(violations)


def test_works_from_file_url(page: Any, tmp_path: Path) -> None:
    compare = build_site(tmp_path)
    open_compare(page, compare.as_uri() + compare_query([REF_A, REF_B, REF_C]))
    shown = read_page(page)
    assert [run["facts"]["Run id"] for run in shown["runs"]] == [ID_A, ID_B, ID_C]
    assert len(shown["charts"]) == 4 and all(chart["svgs"] == 1 for chart in shown["charts"])
    assert shown["pwned"] is None
    page.get_by_role("button", name=f"Remove {ID_C} from the comparison").click()
    page.wait_for_selector("#compare[data-runs='2']", state="attached")
    assert parse_qs(urlsplit(page.url).query)["runs"] == [f"{REF_A},{REF_B}"]


# Wraps vegaEmbed as the vendored bundle defines it, to record what compare.js asks for.
_RECORD_EMBEDS = """
window.__embeds = [];
let embed;
Object.defineProperty(window, 'vegaEmbed', {
  configurable: true,
  get() { return embed; },
  set(original) {
    embed = (element, spec, options) => {
      window.__embeds.push({spec: JSON.parse(JSON.stringify(spec)), options});
      return original(element, spec, options);
    };
  },
});
"""

_COMPILE_EMBEDS = (
    "() => {"
    + INSPECT_SPEC_JS
    + "return window.__embeds.map(({spec, options}) => ({spec, options, ...inspectSpec(spec)}));}"
)


def test_chart_specs_keep_user_strings_as_data(page: Any, site_url: str) -> None:
    page.add_init_script(_RECORD_EMBEDS)
    open_compare(page, site_url + compare_query([REF_A, REF_B, REF_C]))
    embeds = page.evaluate(_COMPILE_EMBEDS)
    labels = [f"{HOSTILE_NAME} (3f9a2c1b7)", f"{QUOTED_NAME} (3f9a2c1b8)", ID_C]

    assert [embed["spec"]["title"] for embed in embeds] == [
        HOSTILE_METRIC,
        "accuracy",
        "loss",
        "rmse",
    ]
    for embed in embeds:
        spec = embed["spec"]
        assert embed["options"] == {"actions": False, "renderer": "svg"}
        assert embed["warnings"] == [], spec["title"]
        assert spec["mark"]["type"] == "line"
        assert (spec["width"], spec["height"]) == ("container", 240)
        encoding = spec["encoding"]
        fields = [encoding[c]["field"] for c in ("x", "y", "color")]
        fields += [tip["field"] for tip in encoding["tooltip"]]
        assert set(fields) == {"step", "value", "run"}
        for row in spec["data"]["values"]:
            assert set(row) == {"step", "value", "run"} and row["run"] in labels
            assert isinstance(row["value"], int | float) and math.isfinite(row["value"])
        for expression in embed["expressions"]:
            # Vega-Lite may quote user strings into expressions, but only as literals.
            assert "window" not in expression["identifiers"], expression["text"]
            for name in (HOSTILE_NAME, HOSTILE_METRIC, QUOTED_NAME):
                if name in expression["text"]:
                    assert any(name in lit for lit in expression["literals"]), expression["text"]
    loss = embeds[2]["spec"]["data"]["values"]
    # A's null, NaN and "inf" points are dropped; B's curve is whole; C has no loss.
    assert [(row["run"], row["step"]) for row in loss] == [
        (labels[0], 0),
        (labels[1], 0),
        (labels[1], 1),
    ]
    # Each run keeps its colour in every chart, even where another run is missing.
    colours: dict[str, str] = {}
    for embed in embeds:
        scale = embed["spec"]["encoding"]["color"]["scale"]
        for label, colour in zip(scale["domain"], scale["range"], strict=True):
            assert colours.setdefault(label, colour) == colour, label
    assert sorted(colours) == sorted(labels) and len(set(colours.values())) == 3


def test_phone_width_in_the_dark(page: Any, site_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.emulate_media(color_scheme="dark")
    open_compare(page, site_url + compare_query([REF_A, REF_B, REF_C]))
    # Wide tables scroll inside their wrapper; the page itself never scrolls sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    wraps = page.eval_on_selector_all(
        ".compare-table-wrap", "els => els.map((e) => e.scrollWidth > e.clientWidth)"
    )
    assert wraps == [True, True]
    # Chart text takes the dark scheme's foreground from site.css (fixture: #e6edf3).
    fills = page.eval_on_selector_all(
        ".compare-chart .role-title-text text", "els => els.map((e) => e.getAttribute('fill'))"
    )
    assert fills == ["#e6edf3"] * 4
