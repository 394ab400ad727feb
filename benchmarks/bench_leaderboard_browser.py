"""The leaderboard of a 10,000-run experiment in headless Chromium: first render and sort.

The site of a ``synth_store.py`` store (one experiment; 10,000 runs, and 1,000 runs
side by side to show how the page scales) is built with ``runfolio build`` into the
store's cache folder (incrementally: an unchanged store and theme rebuild in seconds),
served over http://127.0.0.1 by ``http.server`` in a thread, and opened in Debian's
Chromium through Playwright, a fresh browser context per repetition.

Measured in the page with ``performance.now()`` (time origin: navigation start):

- first row: when ``#runs-table tbody tr`` first exists (an init script's
  MutationObserver, called right after the script that inserted it), and when the next
  frame after it has been painted;
- charts drawn: the last change inside a ``[data-chart]`` element (Vega renders after
  the load event);
- sort, once the charts are drawn and the page has been quiet for a second: a click on
  a metric column's sort button until the table's first row differs (leaderboard.js
  sorts synchronously, so this is the click handler), and until the next frame has been
  painted; then the second click (the reverse order).

The page must load with no console error and no request leaving 127.0.0.1, or the
script fails. Without Playwright or Chromium it prints why and measures nothing.

Run: ``.venv/bin/python benchmarks/bench_leaderboard_browser.py [--quick] [--reps N]
[--runs N] [--data-dir DIR]`` (``--quick``: 20 and 200 runs).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import _common as common
import bench_site
import synth_store

CHROMIUM = Path("/usr/bin/chromium")
# As tests/site/conftest.py: without them Chromium keeps calling Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 120_000

# Installed before any page script: notes when the first table row appears, then when
# the frame showing it has been painted (a task queued from requestAnimationFrame runs
# after that frame's paint), and the time of the latest change inside a chart.
FIRST_ROW_PROBE = """
(() => {
  const observer = new MutationObserver((records) => {
    if (records.some((r) => r.target.closest && r.target.closest('[data-chart]'))) {
      window.__rfChartsLast = performance.now();
    }
    if (window.__rfFirstRow !== undefined) return;
    if (!document.querySelector('#runs-table tbody tr')) return;
    window.__rfFirstRow = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__rfFirstPaint = performance.now(); }));
  });
  observer.observe(document, { childList: true, subtree: true });
})();
"""

# True once every chart holds its drawing and nothing in them changed for a second.
SETTLED = """
() => {
  const charts = [...document.querySelectorAll('[data-chart]')];
  const drawn = charts.every((c) => c.querySelector('svg, canvas, .chart-error'));
  return window.__rfFirstPaint !== undefined && document.readyState === 'complete' && drawn
    && performance.now() - (window.__rfChartsLast || 0) > 1000;
}
"""

PAGE_FIGURES = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paints = performance.getEntriesByType('paint');
  const paint = paints.find((e) => e.name === 'first-contentful-paint');
  return {
    domInteractive: nav.domInteractive,
    domContentLoaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    fcp: paint ? paint.startTime : null,
    chartsDrawn: window.__rfChartsLast || null,
    charts: document.querySelectorAll('[data-chart]').length,
    chartChars: [...document.querySelectorAll('script[type="application/json"]')]
      .filter((s) => s.id !== 'leaderboard-data')
      .reduce((sum, s) => sum + s.textContent.length, 0),
    firstRow: window.__rfFirstRow,
    firstPaint: window.__rfFirstPaint,
    htmlBytes: nav.decodedBodySize,
    jsonChars: document.getElementById('leaderboard-data').textContent.length,
    rowsShown: document.querySelectorAll('#runs-table tbody tr').length,
  };
}
"""

# One click on a sort button, timed in the page. Resolves with the milliseconds until the
# first row changed and until the next frame was painted.
SORT_CLICK = """
async (key) => {
  const firstRow = () => document.querySelector('#runs-table tbody tr');
  const data = JSON.parse(document.getElementById('leaderboard-data').textContent);
  const index = data.columns.findIndex((c) => c.key === key);
  const button = document.querySelector(`#runs-table thead button.lb-sort[data-col="${index}"]`);
  if (!button) throw new Error(`no sort button for ${key}`);
  const before = firstRow().textContent;
  const start = performance.now();
  button.click();
  let changed = performance.now();
  while (!firstRow() || firstRow().textContent === before) {
    if (changed - start > 30000) throw new Error(`sorting by ${key} left the first row as it was`);
    await new Promise((resolve) => setTimeout(resolve));
    changed = performance.now();
  }
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  return { dom: changed - start, painted: performance.now() - start };
}
"""

# A metric column shown by default that is not the ranking one (sorting by it reorders).
SORT_KEY = """
() => {
  const data = JSON.parse(document.getElementById('leaderboard-data').textContent);
  const hidden = new Set(data.hidden || []);
  const primary = data.primary ? data.primary.key : null;
  const shown = data.columns.filter(
    (c) => c.group === 'metrics' && !hidden.has(c.key) && c.key !== primary);
  const preferred = shown.find((c) => c.key === 'metrics.accuracy') || shown[0];
  return preferred ? [preferred.key, preferred.label] : null;
}
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that does not log every request."""

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the benchmark's output to its table."""


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free port of 127.0.0.1 in a thread; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="bench-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def unavailable() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install '.[test]')"
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    return None


def built_site(runs: int, args: Any, tmp: Path) -> tuple[Path, str, int]:
    """Build (incrementally) the site of the ``runs``-run store; its folder, slug, seconds."""
    made = synth_store.cached_store(synth_store.SynthSpec(runs=runs), args.data_dir)
    synth_store.prune_extra_runs(made)
    site = made.root.parent / "site-browser"
    figures = bench_site.build(
        made.root, site, clean=False, cache=tmp / f"cache-{runs}", git_ceiling=made.root.parent
    )
    return site, made.experiments[0].slug, figures["seconds"]


def measure_once(browser: Any, url: str) -> dict[str, Any]:
    """Open the leaderboard in a fresh context, sort it twice; the page's figures."""
    problems: list[str] = []
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            problems.append(f"blocked request: {route.request.url}")
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    context.on(
        "console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None
    )
    context.on("weberror", lambda error: problems.append(f"page error: {error.error}"))
    context.add_init_script(FIRST_ROW_PROBE)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        # Sorting is timed on a page at rest: while the charts are still being drawn
        # the click would wait for them.
        page.wait_for_function(SETTLED, polling=100, timeout=TIMEOUT_MS)
        figures = page.evaluate(PAGE_FIGURES)
        sort_key = page.evaluate(SORT_KEY)
        if sort_key is None:
            raise SystemExit(f"{url}: no metric column to sort by")
        figures["sortKey"] = sort_key[1]
        figures["sort"] = page.evaluate(SORT_CLICK, sort_key[0])
        figures["reverse"] = page.evaluate(SORT_CLICK, sort_key[0])
        page.evaluate("() => 0")  # a round trip delivers the events sent before it
    finally:
        context.close()
    if problems:
        raise SystemExit(f"{url}: the page had problems:\n" + "\n".join(problems))
    return figures


def measure_sites(sites: dict[int, tuple[Path, str]], reps: int) -> dict[int, list[dict[str, Any]]]:
    """Serve each site and measure its leaderboard, the sizes interleaved; figures by size."""
    from playwright.sync_api import sync_playwright

    with ExitStack() as stack:
        driver = stack.enter_context(sync_playwright())
        browser = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        stack.callback(browser.close)
        urls = {
            runs: f"{stack.enter_context(serve(site))}experiments/{quote(slug)}/index.html"
            for runs, (site, slug) in sites.items()
        }
        for url in urls.values():  # warm-up: the browser's first page pays for start-up
            measure_once(browser, url)
        return common.interleave(
            {runs: partial(measure_once, browser, url) for runs, url in urls.items()}, reps
        )


def parse_args() -> argparse.Namespace:
    """The shared options, plus ``--runs N`` (the size of the store; default 10,000)."""
    sizing = argparse.ArgumentParser(add_help=False)
    sizing.add_argument("--runs", type=int, default=None)
    known, rest = sizing.parse_known_args()
    args = common.parse_args(__doc__.splitlines()[0] + " (also: --runs N)", rest)
    args.runs = known.runs
    return args


def main() -> int:
    """Build the sites, measure, print the table, return the exit status."""
    args = parse_args()
    large = args.runs or (200 if args.quick else 10_000)
    sizes = (large // 10, large)
    reps = args.reps or (2 if args.quick else 5)
    title = f"Leaderboard of {sizes[-1]:,} runs in headless Chromium"
    missing = unavailable()
    if missing:
        common.print_report(title, [f"Skipped: {missing}."], "")
        return 0
    with tempfile.TemporaryDirectory(prefix="runfolio-bench-browser-") as tmp_name:
        tmp = Path(tmp_name)
        sites = {runs: built_site(runs, args, tmp) for runs in sizes}
        found = measure_sites({runs: (site, slug) for runs, (site, slug, _) in sites.items()}, reps)

    def ms(runs: int, pick: Any) -> str:
        return f"{common.median([pick(f) for f in found[runs]]):,.0f}"

    measures = [
        ("HTML parsed (domInteractive)", lambda f: f["domInteractive"]),
        ("first contentful paint", lambda f: f["fcp"]),
        ("first table row in the DOM", lambda f: f["firstRow"]),
        ("first table row painted", lambda f: f["firstPaint"]),
        ("load event end", lambda f: f["load"]),
        ("charts drawn (last change inside a chart)", lambda f: f["chartsDrawn"] or 0),
        ("sort by a metric: first row changed", lambda f: f["sort"]["dom"]),
        ("sort by a metric: painted", lambda f: f["sort"]["painted"]),
        ("reverse that sort: first row changed", lambda f: f["reverse"]["dom"]),
        ("reverse that sort: painted", lambda f: f["reverse"]["painted"]),
    ]
    rows = [[what, *(ms(runs, pick) for runs in sizes)] for what, pick in measures]
    table = common.markdown_table(
        ["ms after navigation start / after the click (median)", *(f"{n:,} runs" for n in sizes)],
        rows,
    )
    sample = {runs: found[runs][0] for runs in sizes}
    notes = [
        f"{reps} interleaved repetitions after one warm-up each; medians; a fresh browser "
        f"context per repetition. {common.machine_line()}; Chromium headless "
        f"({CHROMIUM}).",
        "Pages served over http://127.0.0.1 by `http.server` in a thread. Sorted column: "
        f"`{sample[sizes[-1]]['sortKey']}` (first click ascending, second descending).",
        *(
            f"{runs:,} runs: leaderboard HTML {sample[runs]['htmlBytes']:,} bytes, of which the "
            f"table's JSON {sample[runs]['jsonChars']:,} characters and {sample[runs]['charts']} "
            f"charts' specs {sample[runs]['chartChars']:,}; {sample[runs]['rowsShown']} rows "
            f"shown per page; site (re)built in {sites[runs][2]:.1f} s before measuring."
            for runs in sizes
        ),
    ]
    common.print_report(title, notes, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
