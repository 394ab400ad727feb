"""The leaderboard script in real Chromium: formatting, sort, filters, columns, paging, compare.

Each test copies the theme's leaderboard.js/.css and the fixture page into a temporary
site laid out as the contract says (``experiments/demo/index.html``, ``assets/``,
``compare.html``), with the ``leaderboard-data`` JSON generated here, hostile strings
included, and drives the page by clicking and typing.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from tools.axe import format_violations, run_axe

from runfolio.site.sanitize import json_for_script

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "themes" / "default" / "static"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "leaderboard"
PLACEHOLDER = "__LEADERBOARD_DATA__"
PAYLOAD = "<img src=x onerror=window.__pwned=1>"
DASH = "\u2014"

RUN_COLUMNS = [
    {"key": "rank", "label": "#", "kind": "number", "group": "run"},
    {"key": "status", "label": "Status", "kind": "status", "group": "run"},
    {"key": "name", "label": "Name", "kind": "link", "group": "run"},
    {"key": "start", "label": "Start", "kind": "time", "group": "run"},
    {"key": "duration", "label": "Duration", "kind": "duration", "group": "run"},
    {"key": "user", "label": "Author", "kind": "text", "group": "run"},
    {"key": "commit", "label": "Commit", "kind": "text", "group": "run"},
]
SMALL_COLUMNS = [
    *RUN_COLUMNS,
    {"key": "params.lr", "label": "lr", "kind": "number", "group": "params"},
    {"key": "params.model", "label": "model", "kind": "text", "group": "params"},
    {"key": "params.evil", "label": PAYLOAD, "kind": "text", "group": "params"},
    {"key": "metrics.rmse", "label": "rmse", "kind": "number", "group": "metrics"},
    {"key": "metrics.rmse.min", "label": "rmse (min)", "kind": "number", "group": "metrics"},
    {"key": "tags.team", "label": "team", "kind": "text", "group": "tags"},
]
# fmt: off
# The 12 runs, ranked by rmse: the run columns, then params, metrics and tags.
SMALL_RUN_VALUES: list[tuple[Any, ...]] = [
    # rank, status, name, start, duration (s), user, commit
    (1, "FINISHED", "run 10", "2026-11-27T04:56:04Z", 12.5, "alice", "3f9a2c1"),
    (2, "FINISHED", "run 2", "2026-11-20T10:00:00Z", 185, "bob", "a1b2c3d"),
    (3, "RUNNING", PAYLOAD, "2026-11-25T23:59:59Z", 3725, "carol", "d4e5f6a"),
    (4, "FAILED", "", "2025-01-02T03:04:05Z", None, "dave", None),
    (5, "KILLED", "Run 1", None, 4.2, "erin", "0000001"),
    (6, "CRASHED", "alpha", "2026-01-01T00:00:00Z", 90061, "frank", "1111111"),
    (7, "FINISHED", "Beta", "2026-06-15T12:30:00Z", 60, "grace", "2222222"),
    (8, "FINISHED", "run 3", "2026-03-03T03:03:03Z", 59.4, "heidi", "3333333"),
    (9, "FINISHED", "gamma", "2026-02-02T02:02:02Z", 0.05, "ivan", "4444444"),
    (10, "FINISHED", "run 20", "2026-04-04T04:04:04Z", 7, "judy", "5555555"),
    (None, "FAILED", "delta", "2026-05-05T05:05:05Z", 1, "mallory", "6666666"),
    (None, "RUNNING", "epsilon", "2026-07-07T07:07:07Z", 2, "oscar", "7777777"),
]
SMALL_OTHER_VALUES: list[tuple[Any, ...]] = [
    # lr, model, evil, rmse, rmse.min, team
    (0.01, "xgb", PAYLOAD, 0.123456789, 0.12, "vision"),
    (0.1, "lgbm", "plain", 0.2, 0.19, "nlp"),
    (1e-5, "XGB-large", None, 0.3, 0.3, None),
    (None, "mlp", None, 0.45, 0.4, None),
    ("NaN", "mlp", None, 0.5, 0.5, None),
    ("inf", "xgb", None, 0.51, 0.5, None),
    (0.003, "svm", None, 0.6, 0.55, None),
    (0.3, "svm", None, 0.75, 0.7, None),
    (0.05, "xgb", None, 0.9, 0.9, None),
    (2, "xgb", None, 1.5, 1.5, None),
    (0.02, "xgb", None, None, None, None),
    (0.5, "xgb", None, "NaN", None, None),
]
# fmt: on


def run_id(index: int) -> str:
    """A run id in the store's shape, unique per index."""
    return f"20261127-{index:06d}-{index:010x}"


def small_data() -> dict[str, Any]:
    """The hand-made 12-run experiment most tests use."""
    rows = []
    for index, (run, other) in enumerate(
        zip(SMALL_RUN_VALUES, SMALL_OTHER_VALUES, strict=True), start=1
    ):
        rid = run_id(index)
        rows.append(
            {"id": rid, "ref": f"demo/{rid}", "href": f"runs/{rid}.html", "values": [*run, *other]}
        )
    # A hostile href must never become a link.
    rows[5]["href"] = "javascript:window.__pwned=1"
    return {
        "experiment": "fixture " + PAYLOAD,
        "compareUrl": "../../compare.html",
        "downloads": {"csv": "runs.csv", "json": "runs.json"},
        "primary": {"key": "metrics.rmse", "direction": "minimize"},
        "columns": SMALL_COLUMNS,
        "hidden": ["metrics.rmse.min", "tags.team"],
        "rows": rows,
    }


def big_data(count: int = 10_000) -> dict[str, Any]:
    """A 45-column experiment with ``count`` runs, some values missing or NaN."""
    rng = random.Random(7)
    params = [
        {"key": f"params.p{k}", "label": f"p{k}", "kind": "number", "group": "params"}
        for k in range(17)
    ]
    params.append({"key": "params.model", "label": "model", "kind": "text", "group": "params"})
    metrics = [
        {"key": f"metrics.m{k}", "label": f"m{k}", "kind": "number", "group": "metrics"}
        for k in range(19)
    ]
    tags = [{"key": "tags.team", "label": "team", "kind": "text", "group": "tags"}]
    columns = [*RUN_COLUMNS, *params, *metrics, *tags]
    rows = []
    for index in range(1, count + 1):
        rid = run_id(index)
        numbers: list[Any] = []
        for _ in range(17 + 19):
            roll = rng.random()
            numbers.append(
                None if roll < 0.03 else "NaN" if roll < 0.05 else round(rng.random(), 6)
            )
        values = [
            index,
            "FINISHED",
            f"run {index}",
            f"2026-{1 + index % 12:02d}-{1 + index % 28:02d}T{index % 24:02d}:00:00Z",
            rng.uniform(1, 5000),
            f"user{index % 17}",
            f"{index:07x}",
            *numbers[:17],
            rng.choice(["xgb", "mlp", "svm"]),
            *numbers[17:],
            rng.choice(["vision", "nlp", None]),
        ]
        rows.append({"id": rid, "ref": f"big/{rid}", "href": f"runs/{rid}.html", "values": values})
    return {
        "experiment": "big",
        "compareUrl": "../../compare.html",
        "downloads": {"csv": "runs.csv", "json": "runs.json"},
        "primary": {"key": "metrics.m0", "direction": "minimize"},
        "columns": columns,
        "hidden": [],
        "rows": rows,
    }


def make_site(root: Path, data: dict[str, Any]) -> Path:
    """Write a contract-shaped site holding one leaderboard; return that page's path."""
    assets = root / "assets"
    assets.mkdir(parents=True)
    shutil.copy(STATIC / "leaderboard.js", assets)
    shutil.copy(STATIC / "leaderboard.css", assets)
    shutil.copy(FIXTURE / "theme-stub.css", assets)
    shutil.copy(FIXTURE / "compare.html", root)
    page = root / "experiments" / "demo" / "index.html"
    page.parent.mkdir(parents=True)
    html = (FIXTURE / "index.html").read_text(encoding="utf-8")
    page.write_text(html.replace(PLACEHOLDER, json_for_script(data)), encoding="utf-8")
    return page


@pytest.fixture
def small_url(tmp_path: Path, serve_dir) -> str:
    """The small leaderboard served under /repo/."""
    make_site(tmp_path, small_data())
    return serve_dir(tmp_path) + "experiments/demo/index.html"


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The 10k-run site, generated once for the module."""
    data = big_data()
    root = tmp_path_factory.mktemp("big")
    make_site(root, data)
    return root, data


# JS helpers: the texts (or an attribute) of one visible column's body cells, by header label.
COLUMN_CELLS = """([label, attr]) => {
    const heads = [...document.querySelectorAll('#runs-table tr.lb-head th')];
    const k = heads.findIndex((th) => {
        const span = th.querySelector('.lb-label');
        return span !== null && span.textContent === label;
    });
    if (k < 0) return null;
    return [...document.querySelectorAll('#runs-table tbody tr')].map((tr) => {
        const cell = tr.children[k];
        return attr ? cell.getAttribute(attr) : cell.textContent;
    });
}"""


def column(page, label: str, attr: str | None = None) -> list[str] | None:
    """The visible column's cell texts (or ``attr`` values), top to bottom; None if hidden."""
    return page.evaluate(COLUMN_CELLS, [label, attr])


def wait_count(page, text: str) -> None:
    """Wait until the live count says ``text`` (filters apply after a short input delay)."""
    page.wait_for_function(
        "t => document.querySelector('.lb-count').textContent === t", arg=text, timeout=5000
    )


def sort_by(page, label: str) -> None:
    """Click the sort button of a column header."""
    page.get_by_role("button", name=label, exact=True).click()


# --- rendering ------------------------------------------------------------------------


def test_cells_are_formatted_by_kind(page, small_url: str) -> None:
    page.goto(small_url)
    assert page.text_content(".lb-count") == "12 of 12 runs"
    assert (
        page.eval_on_selector("#leaderboard-controls .lb-count", "e => e.getAttribute('aria-live')")
        == "polite"
    )
    assert column(page, "rmse") == [
        "0.123457", "0.2", "0.3", "0.45", "0.5", "0.51", "0.6", "0.75", "0.9", "1.5", DASH, "NaN",
    ]  # fmt: skip
    assert column(page, "rmse", "title")[0] == "0.123456789"
    assert column(page, "lr")[2:6] == ["0.00001", DASH, "NaN", "inf"]
    assert column(page, "Duration")[:6] == ["13s", "3m 05s", "1h 02m", DASH, "4.2s", "1d 01h"]
    assert column(page, "Duration")[7:9] == ["59s", "50ms"]
    assert column(page, "Start")[:2] == ["2026-11-27 04:56", "2026-11-20 10:00"]
    times = page.eval_on_selector_all(
        "#runs-table tbody time", "ts => ts.map(t => t.getAttribute('datetime'))"
    )
    assert times[0] == "2026-11-27T04:56:04.000Z"
    assert column(page, "Start")[4] == DASH
    # Hidden by default, the column picker says so.
    assert column(page, "rmse (min)") is None and column(page, "team") is None
    assert not page.get_by_label("team", exact=True).is_checked()

    first = page.locator("#runs-table tbody tr").first
    assert first.get_attribute("class") == "best"
    assert page.locator("#runs-table tbody tr.best").count() == 1
    badge = first.locator("span.status")
    assert (
        badge.get_attribute("class") == "status status-finished"
        and badge.text_content() == "FINISHED"
    )
    assert page.locator("span.status-crashed").text_content() == "CRASHED"
    link = first.locator("a")
    assert (
        link.text_content() == "run 10" and link.get_attribute("href") == f"runs/{run_id(1)}.html"
    )
    # An empty name falls back to the run id, still linked.
    assert page.locator(f"a[href='runs/{run_id(4)}.html']").text_content() == run_id(4)
    # Numbers right-aligned, the primary metric marked in head and body.
    assert page.eval_on_selector("td.num", "e => getComputedStyle(e).textAlign") == "right"
    assert page.locator("th.primary .lb-label").text_content() == "rmse"
    assert page.locator("tbody td.primary").count() == 12
    downloads = page.locator(".lb-downloads a")
    assert downloads.all_text_contents() == ["Download CSV", "Download JSON"]
    assert [downloads.nth(i).get_attribute("href") for i in range(2)] == ["runs.csv", "runs.json"]
    # Every control has an accessible name; every button is type=button.
    assert page.get_by_label("Search runs").count() == 1
    assert page.get_by_label("Filter lr", exact=True).count() == 1
    assert page.get_by_label("Select run 2", exact=True).count() == 1
    types = page.eval_on_selector_all(".leaderboard button", "bs => bs.map(b => b.type)")
    assert types and set(types) == {"button"}


def test_hostile_strings_stay_text(page, small_url: str) -> None:
    page.goto(small_url)
    assert page.evaluate("() => window.__pwned") is None
    assert (
        page.locator("#runs-table img").count() == 0
        and page.locator(".leaderboard img").count() == 0
    )
    # As a run name, a parameter value and a column label, the payload is plain text.
    assert page.locator(f"a[href='runs/{run_id(3)}.html']").text_content() == PAYLOAD
    assert column(page, PAYLOAD)[0] == PAYLOAD
    assert page.get_by_label(f"Select {PAYLOAD}", exact=True).count() == 1
    # A javascript: href is not linked; clicking the name runs nothing.
    assert page.locator("a[href^='javascript']").count() == 0
    page.get_by_text("alpha", exact=True).click()
    page.get_by_label("Search runs").fill("onerror")
    wait_count(page, "2 of 12 runs")
    assert page.evaluate("() => window.__pwned") is None


# --- sorting ------------------------------------------------------------------------


def test_sort_toggles_and_keeps_missing_last(page, small_url: str) -> None:
    page.goto(small_url)
    header = page.locator("th", has=page.get_by_role("button", name="lr", exact=True))
    assert header.get_attribute("aria-sort") is None
    sort_by(page, "lr")
    assert header.get_attribute("aria-sort") == "ascending"
    assert column(page, "lr") == [
        "0.00001", "0.003", "0.01", "0.02", "0.05", "0.1", "0.3", "0.5", "2", "inf", DASH, "NaN",
    ]  # fmt: skip
    sort_by(page, "lr")
    assert header.get_attribute("aria-sort") == "descending"
    assert column(page, "lr") == [
        "inf", "2", "0.5", "0.3", "0.1", "0.05", "0.02", "0.01", "0.003", "0.00001", DASH, "NaN",
    ]  # fmt: skip
    # Natural, case-insensitive text order; the previous column is no longer marked.
    sort_by(page, "Name")
    assert header.get_attribute("aria-sort") is None
    names = column(page, "Name")
    assert [n for n in names if n.lower().startswith("run ")] == [
        "Run 1",
        "run 2",
        "run 3",
        "run 10",
        "run 20",
    ]
    assert names.index("alpha") < names.index("Beta") < names.index("delta")
    # Time chronologically, missing last; descending too.
    sort_by(page, "Start")
    starts = column(page, "Start", "title")
    assert starts[-1] is None and starts[:-1] == sorted(starts[:-1])
    sort_by(page, "Start")
    starts = column(page, "Start", "title")
    assert starts[-1] is None and starts[:-1] == sorted(starts[:-1], reverse=True)
    # Sorting by rank gives back the ranked order, unranked last.
    sort_by(page, "#")
    assert column(page, "#") == [str(n) for n in range(1, 11)] + [DASH, DASH]


# --- filtering ----------------------------------------------------------------------


def test_numeric_filter_and_free_text_search(page, small_url: str) -> None:
    page.goto(small_url)
    page.get_by_label("Filter rmse", exact=True).fill(">0.5")
    wait_count(page, "5 of 12 runs")
    assert column(page, "rmse") == ["0.51", "0.6", "0.75", "0.9", "1.5"]
    page.get_by_label("Filter rmse", exact=True).fill("0.3..0.5")
    wait_count(page, "3 of 12 runs")
    assert column(page, "rmse") == ["0.3", "0.45", "0.5"]
    # A text filter on another column narrows further, case-insensitively.
    page.get_by_label("Filter model", exact=True).fill("MLP")
    wait_count(page, "2 of 12 runs")
    assert column(page, "model") == ["mlp", "mlp"]
    page.get_by_role("button", name="Clear filters").click()
    wait_count(page, "12 of 12 runs")
    assert page.get_by_label("Filter rmse", exact=True).input_value() == ""
    # The search box matches the text of any visible cell.
    page.get_by_label("Search runs").fill("XGB")
    wait_count(page, "7 of 12 runs")
    page.get_by_label("Search runs").fill("1h 02m")
    wait_count(page, "1 of 12 runs")
    assert column(page, "Author") == ["carol"]
    page.get_by_label("Search runs").fill("vision")  # only in the hidden team column
    wait_count(page, "0 of 12 runs")
    assert page.text_content("td.lb-empty") == "No runs match the filters."


def test_filter_expressions(page, small_url: str) -> None:
    page.goto(small_url)
    lr = page.get_by_label("Filter lr", exact=True)
    # Each count differs from the one before, so waiting for it cannot pass on stale rows.
    for expression, expected in [
        ("nan", ["NaN"]),  # not a number: matches the shown text
        ("<=0.01", ["0.01", "0.00001", "0.003"]),  # missing and NaN never match a comparison
        ("inf", ["inf"]),
        ("2..", ["inf", "2"]),
        ("=2", ["2"]),
    ]:
        lr.fill(expression)
        wait_count(page, f"{len(expected)} of 12 runs")
        assert column(page, "lr") == expected
    lr.fill(">abc")
    wait_count(page, "12 of 12 runs")
    assert lr.get_attribute("aria-invalid") == "true"
    lr.fill("")
    assert lr.get_attribute("aria-invalid") is None
    duration = page.get_by_label("Filter Duration", exact=True)
    duration.fill(">=1h")
    wait_count(page, "2 of 12 runs")
    assert column(page, "Duration") == ["1h 02m", "1d 01h"]
    duration.fill("")
    wait_count(page, "12 of 12 runs")
    start = page.get_by_label("Filter Start", exact=True)
    start.fill("<2026-02-01")
    wait_count(page, "2 of 12 runs")
    assert column(page, "Start") == ["2025-01-02 03:04", "2026-01-01 00:00"]
    start.fill("2026-11")
    wait_count(page, "3 of 12 runs")


# --- columns ------------------------------------------------------------------------


def test_hide_and_show_columns_is_remembered(page, small_url: str) -> None:
    page.goto(small_url)
    page.get_by_text("Columns", exact=True).click()
    assert page.is_checked("#lb-col-8") and column(page, "model") is not None
    legends = page.locator(".lb-columns legend").all_text_contents()
    assert legends == ["Run", "Parameters", "Metrics", "Tags"]
    page.get_by_label("model", exact=True).uncheck()
    assert column(page, "model") is None
    page.get_by_label("team", exact=True).check()
    assert column(page, "team")[0] == "vision"
    # The search covers the cells of a column once it is shown.
    page.get_by_label("Search runs").fill("vision")
    wait_count(page, "1 of 12 runs")

    page.reload()
    assert column(page, "model") is None and column(page, "team") is not None
    page.get_by_text("Columns", exact=True).click()
    page.get_by_role("button", name="Reset to default").click()
    assert column(page, "model") is not None and column(page, "team") is None
    page.reload()
    assert column(page, "model") is not None and column(page, "team") is None


# --- selection and compare ------------------------------------------------------------


def test_selected_runs_survive_sort_and_filter_and_open_compare(page, small_url: str) -> None:
    page.goto(small_url)
    compare = page.get_by_role("button", name="Compare selected (0)")
    assert compare.is_disabled()
    page.get_by_label("Select run 20", exact=True).check()
    assert page.get_by_role("button", name="Compare selected (1)").is_disabled()
    sort_by(page, "lr")
    page.get_by_label("Search runs").fill("lgbm")
    wait_count(page, "1 of 12 runs")
    page.get_by_label("Select run 2", exact=True).check()
    page.get_by_label("Search runs").fill("")
    wait_count(page, "12 of 12 runs")
    assert page.is_checked("[aria-label='Select run 20']")
    compare = page.get_by_role("button", name="Compare selected (2)")
    assert compare.is_enabled()
    compare.click()
    page.wait_for_url("**/compare.html?*")
    refs = f"demo/{run_id(2)},demo/{run_id(10)}"  # in ranked order
    assert page.url == small_url.replace(
        "experiments/demo/index.html", "compare.html?runs=" + quote(refs, safe="")
    )


# --- scale --------------------------------------------------------------------------


def _expected_order(data: dict[str, Any], key: str, descending: bool) -> list[float]:
    """The column's numbers sorted as the table must: missing and NaN last, stable."""
    index = next(i for i, c in enumerate(data["columns"]) if c["key"] == key)
    present = [
        r["values"][index] for r in data["rows"] if isinstance(r["values"][index], float | int)
    ]
    return sorted(present, reverse=descending)


def test_ten_thousand_rows_page_sort_and_filter(page, big_site, serve_dir) -> None:
    root, data = big_site
    page.goto(serve_dir(root) + "experiments/demo/index.html")
    assert page.text_content(".lb-count") == "10,000 of 10,000 runs"
    assert page.locator("#runs-table tbody tr").count() == 100
    assert page.locator("#runs-table tr.lb-head th").count() == 46  # 45 columns + selection
    assert column(page, "#") == [str(n) for n in range(1, 101)]
    page.get_by_label("Select run 1", exact=True).check()

    page.get_by_role("button", name="Next").click()
    assert page.text_content(".lb-page-status") == "Page 2 of 100 (rows 101\u2013200)"
    assert column(page, "#") == [str(n) for n in range(101, 201)]
    page.get_by_label("Select run 150", exact=True).check()
    page.get_by_label("Rows per page").select_option("500")
    assert page.locator("#runs-table tbody tr").count() == 500
    page.get_by_label("Rows per page").select_option("100")

    sort_by(page, "m3")
    shown = [float(t) for t in column(page, "m3", "title")]
    assert shown == _expected_order(data, "metrics.m3", descending=False)[:100]
    sort_by(page, "m3")
    shown = [float(t) for t in column(page, "m3", "title")]
    assert shown == _expected_order(data, "metrics.m3", descending=True)[:100]
    page.get_by_role("button", name="Last").click()
    assert column(page, "m3")[-1] in ("NaN", DASH)

    sort_by(page, "Name")  # natural order, not run 1, run 10, run 100 ...
    assert column(page, "Name")[:12] == [f"run {n}" for n in range(1, 13)]

    m5 = next(i for i, c in enumerate(data["columns"]) if c["key"] == "metrics.m5")
    matching = sum(
        1 for r in data["rows"] if isinstance(r["values"][m5], float) and r["values"][m5] > 0.5
    )
    page.get_by_label("Filter m5", exact=True).fill(">0.5")
    wait_count(page, f"{matching:,} of 10,000 runs")

    page.get_by_role("button", name="Compare selected (2)").click()
    page.wait_for_url("**/compare.html?*")
    assert page.url.endswith("?runs=" + quote(f"big/{run_id(1)},big/{run_id(150)}", safe=""))


# --- environments -------------------------------------------------------------------


def test_works_from_a_file_url(page, tmp_path: Path) -> None:
    path = make_site(tmp_path, small_data())
    page.goto(path.as_uri())
    assert page.text_content(".lb-count") == "12 of 12 runs"
    sort_by(page, "rmse")
    sort_by(page, "rmse")
    assert column(page, "rmse")[:2] == ["1.5", "0.9"]
    page.get_by_text("Columns", exact=True).click()
    page.get_by_label("team", exact=True).check()
    assert column(page, "team")[9] == "vision"  # run 10: last of the rmse values, descending
    page.get_by_label("Select run 10", exact=True).check()
    page.get_by_label("Select gamma", exact=True).check()
    page.get_by_role("button", name="Compare selected (2)").click()
    page.wait_for_url("**/compare.html?*")
    expected = (
        (tmp_path / "compare.html").as_uri()
        + "?runs="
        + quote(f"demo/{run_id(1)},demo/{run_id(9)}", safe="")
    )
    assert page.url == expected


def test_no_serious_accessibility_violations(page, small_url: str) -> None:
    page.goto(small_url)
    page.get_by_text("Columns", exact=True).click()
    violations = run_axe(page)
    assert not violations, format_violations(violations)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_width_scrolls_the_table_not_the_page(page, small_url: str, scheme: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme=scheme)
    page.goto(small_url)
    sizes = page.evaluate(
        """() => {
            const wrap = document.querySelector('.table-wrap');
            return [document.documentElement.scrollWidth, wrap.scrollWidth, wrap.clientWidth];
        }"""
    )
    page_width, table_width, wrap_width = sizes
    assert page_width <= 390 and table_width > wrap_width
    controls = page.locator("#leaderboard-controls").bounding_box()
    assert controls is not None and controls["width"] <= 390


def test_unreadable_data_is_reported_not_thrown(page, tmp_path: Path, serve_dir) -> None:
    make_site(tmp_path, small_data())
    index = tmp_path / "experiments" / "demo" / "index.html"
    index.write_text(
        index.read_text(encoding="utf-8").replace('{"experiment"', "{oops"), encoding="utf-8"
    )
    page.goto(serve_dir(tmp_path) + "experiments/demo/index.html")
    assert page.text_content("#leaderboard-controls") == "The runs table could not be read."
