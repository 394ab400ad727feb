"""The example store's site, checked with real tools: browser, Nu validator, links, axe.

One build of ``example_runs/`` per session (``built_site``) and one shared Chromium. Each
page type is loaded served under ``/repo/`` (as GitHub Pages serves a project) and from
``file://``; the ``page`` fixture fails a test on any console error or request leaving
the machine. The run pages are chosen from the store by what they show (artifacts, a
model, children, a failed or killed status, notes), so a regenerated example store with
new run ids is still covered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import pytest
from tools.axe import format_violations, run_axe
from tools.harness import unavailable
from tools.html_validator import find_vnu_jar, validate_html
from tools.link_checker import check_links

from html_helpers import parse_file
from runfolio.site.build import build_site
from runfolio.store.records import RunRecord
from runfolio.store.scan import scan_store

if TYPE_CHECKING:
    from playwright.sync_api import Page

EXAMPLE_STORE = Path(__file__).resolve().parents[2] / "example_runs"
# The page kinds the browser tests visit; ``sample_pages`` maps each to site paths.
KINDS = ("home", "experiment", "run", "compare", "404", "models")
CHART_KINDS = frozenset({"experiment", "run"})
# What the sampled run pages must show between them, and how to recognise it in a page.
RUN_ROLES: dict[str, tuple[Callable[[RunRecord, set[str]], bool], tuple[str, ...]]] = {
    "artifacts": (
        lambda run, parents: {".png", ".csv", ".json"} <= _artifact_suffixes(run),
        ('<img class="artifact-image"', 'class="artifact artifact-table"', "artifact-json"),
    ),
    "model": (
        lambda run, parents: any(run.path.glob("artifacts/**/model.yaml")),
        ('<section id="models"', "runfolio.load_model("),
    ),
    "parent": (lambda run, parents: run.run_id in parents, ('<ul class="child-runs">',)),
    "failed": (
        lambda run, parents: run.status in ("FAILED", "KILLED"),
        ('class="status status-failed"', 'class="status status-killed"'),
    ),
    "notes": (
        lambda run, parents: bool(run.description.strip()),
        ('<section id="notes"', '<div class="prose">'),
    ),
    "curves": (
        lambda run, parents: any(summary.get("count", 0) >= 2 for summary in run.metrics.values()),
        ('<div class="chart" data-chart="spec-metric-0"',),
    ),
}
PHONE = {"width": 390, "height": 844}
LANDMARKS = ("header", "nav", "main", "footer")
FORM_CONTROLS = frozenset({"input", "select", "textarea"})

# The controls of the rendered page (the leaderboard and compare scripts add some) that
# have no accessible name from a label, aria-label, aria-labelledby or title.
_UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden')
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby') && !el.getAttribute('title'))
  .map((el) => el.outerHTML.slice(0, 200))"""

# The drawn charts narrower than their container: [container width, chart width].
_NARROW_CHARTS = """() => [...document.querySelectorAll('[data-chart]')]
  .map((box) => [box.clientWidth, box.querySelector('svg, canvas')])
  .filter(([, chart]) => chart)
  .map(([width, chart]) => [width, Math.round(chart.getBoundingClientRect().width)])
  .filter(([width, drawn]) => drawn < 0.95 * width)"""

# How many CSS pixels the page is wider than the window (positive = sideways scrolling).
_PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example store built once into a temporary folder."""
    output = tmp_path_factory.mktemp("example-site") / "site"
    report = build_site(EXAMPLE_STORE, output)
    assert report.problems == []
    return output


@pytest.fixture(scope="session")
def run_roles() -> dict[str, str]:
    """For each of ``RUN_ROLES``, the site URL of a run page that plays it.

    A run already picked for another role is preferred, so few pages cover every role.
    """
    runs = scan_store(EXAMPLE_STORE, use_cache=False).runs
    parents = {run.parent_run_id for run in runs if run.parent_run_id}
    picked: dict[str, str] = {}
    for role, (wanted, _) in RUN_ROLES.items():
        candidates = [_run_url(run) for run in runs if wanted(run, parents)]
        assert candidates, f"the example store has no run for {role!r}"
        reused = [url for url in candidates if url in picked.values()]
        picked[role] = (reused or candidates)[0]
    return picked


@pytest.fixture(scope="session")
def sample_pages(built_site: Path, run_roles: dict[str, str]) -> dict[str, list[str]]:
    """Site-relative URLs of each page kind in ``KINDS``."""
    scan = scan_store(EXAMPLE_STORE, use_cache=False)
    refs = ",".join(_ref(run) for run in scan.runs[:2])
    pages = {
        "home": ["index.html"],
        "experiment": [f"experiments/{quote(e.slug)}/index.html" for e in scan.experiments],
        "run": sorted(set(run_roles.values())),
        "compare": [f"compare.html?runs={quote(refs, safe='')}"],
        "404": ["404.html"],
        "models": ["models/index.html", *_model_pages(built_site)],
    }
    assert len(pages["experiment"]) == 3
    for urls in pages.values():
        for url in urls:
            assert (built_site / unquote(url.split("?")[0])).is_file(), url
    return pages


def _model_pages(site: Path) -> list[str]:
    """Site-relative URLs of the registered models' pages (the example store has one)."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.glob("models/*/index.html"))
    assert pages, "the example store registers no model"
    return pages


def _ref(run: RunRecord) -> str:
    """Return the compare page's reference of a run."""
    return f"{quote(run.experiment_slug, safe='')}/{quote(run.run_id, safe='')}"


def _run_url(run: RunRecord) -> str:
    """Return the site-relative URL of a run's page."""
    return f"experiments/{quote(run.experiment_slug)}/runs/{quote(run.run_id)}.html"


def _artifact_suffixes(run: RunRecord) -> set[str]:
    """Return the file name suffixes of a run's artifacts."""
    return {p.suffix.lower() for p in run.path.glob("artifacts/**/*") if p.is_file()}


def test_sampled_run_pages_show_what_they_were_picked_for(
    built_site: Path, run_roles: dict[str, str]
) -> None:
    for role, url in run_roles.items():
        html = (built_site / unquote(url)).read_text(encoding="utf-8")
        markers = RUN_ROLES[role][1]
        # A failed-or-killed run shows one of its two badges; other roles show every marker.
        found = [marker in html for marker in markers]
        assert any(found) if role == "failed" else all(found), (role, url, markers, found)


def _open(page: Page, base: str, url: str, kind: str) -> None:
    """Load a page and wait until its scripts have drawn what it shows."""
    page.goto(base + url)
    if kind == "experiment":
        page.wait_for_selector("#runs-table tbody tr")
    if kind == "compare":
        page.wait_for_selector("#compare[data-charts='done']", state="attached")
    if _has_charts(page, kind):
        # Long pages draw their charts only when scrolled near them.
        page.locator("[data-chart]").first.scroll_into_view_if_needed()
        page.wait_for_selector("[data-chart] svg, [data-chart] canvas")


def _has_charts(page: Page, kind: str) -> bool:
    """Leaderboards always have charts; a run page has one per metric with two values."""
    return kind == "experiment" or (
        kind in CHART_KINDS and page.locator("[data-chart]").count() > 0
    )


def _check_drawn(page: Page, url: str, kind: str) -> None:
    """Assert what every loaded page of ``kind`` must show once its scripts ran."""
    assert page.title(), url
    assert page.locator("h1").count() == 1, url
    assert page.evaluate(_UNLABELLED_CONTROLS) == [], url
    if _has_charts(page, kind):
        assert page.locator("[data-chart] svg, [data-chart] canvas").count() >= 1, url
        assert page.locator(".chart-error").count() == 0, url
        # Specs say width "container": a drawn chart fills its card, on a phone too.
        assert page.evaluate(_NARROW_CHARTS) == [], url
    if kind == "compare":
        assert page.locator("#compare").get_attribute("data-runs") == "2"
    images = page.locator("img.artifact-image")
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        # decode() waits for the (lazy) image and rejects when it is broken.
        assert image.evaluate("(img) => img.decode().then(() => img.naturalWidth)") > 0, url


def _assert_accessible(page: Page, url: str, scheme: str) -> None:
    """Assert axe-core finds no serious or critical violation on the page as it is."""
    violations = run_axe(page)
    assert violations == [], f"{url} ({scheme}):\n{format_violations(violations)}"


# --- browser: every page kind, served and from file://, light and dark --------------------


@pytest.mark.parametrize("kind", KINDS)
def test_page_served_under_a_sub_path_draws_and_is_accessible(
    page: Page,
    serve_dir: Callable[..., str],
    built_site: Path,
    sample_pages: dict[str, list[str]],
    kind: str,
) -> None:
    base = serve_dir(built_site, prefix="repo")
    page.emulate_media(color_scheme="light")
    for url in sample_pages[kind]:
        _open(page, base, url, kind)
        _check_drawn(page, url, kind)
        _assert_accessible(page, url, "light")


@pytest.mark.parametrize("kind", KINDS)
def test_page_on_a_phone_in_dark_scheme_draws_fits_and_is_accessible(
    page: Page,
    serve_dir: Callable[..., str],
    built_site: Path,
    sample_pages: dict[str, list[str]],
    kind: str,
) -> None:
    base = serve_dir(built_site, prefix="repo")
    page.set_viewport_size(PHONE)
    page.emulate_media(color_scheme="dark")
    for url in sample_pages[kind]:
        _open(page, base, url, kind)
        _check_drawn(page, url, kind)
        # Wide tables and code scroll inside their own boxes; the page never scrolls sideways.
        assert page.evaluate(_PAGE_OVERFLOW) <= 0, url
        _assert_accessible(page, url, "dark")


@pytest.mark.parametrize("kind", KINDS)
def test_page_from_file_draws(
    page: Page, built_site: Path, sample_pages: dict[str, list[str]], kind: str
) -> None:
    for url in sample_pages[kind]:
        _open(page, built_site.as_uri() + "/", url, kind)
        _check_drawn(page, url, kind)


# --- the whole site: validator, links, structure ------------------------------------------


@pytest.fixture(scope="module")
def vnu_jar() -> Path:
    """The Nu validator's jar, or a skip (a failure under RUNFOLIO_REQUIRE_BROWSER=1)."""
    jar = find_vnu_jar()
    if jar is None:
        unavailable("vnu.jar not found: run .ci/run once, or set RUNFOLIO_VNU_JAR")
    return jar


def test_every_page_is_valid_html(built_site: Path, vnu_jar: Path) -> None:
    errors = validate_html([built_site], jar=vnu_jar)
    assert errors == [], "\n".join(map(str, errors))


def test_every_link_and_anchor_resolves(built_site: Path) -> None:
    problems = check_links(built_site)
    assert problems == [], "\n".join(map(str, problems))


def _html_pages(site: Path) -> Iterator[Path]:
    """Every HTML page of the site (artifacts copied as files are not pages)."""
    for path in sorted(site.rglob("*.html")):
        relative = path.relative_to(site)
        if "artifacts" not in relative.parts and "captured" not in relative.parts:
            yield path


@dataclass
class _Outline:
    """What the structure checks need from one page."""

    h1: int = 0
    landmarks: dict[str, int] = field(default_factory=dict)
    breadcrumbs: list[dict[str, str]] = field(default_factory=list)
    images_without_alt: list[str] = field(default_factory=list)
    controls: list[dict[str, str]] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)


def _outline(path: Path) -> _Outline:
    """Parse one page into its outline."""
    page = parse_file(path)
    outline = _Outline()
    for element in page.elements:
        values = {name: value or "" for name, value in element.attrs.items()}
        if element.tag == "h1":
            outline.h1 += 1
        if element.tag in LANDMARKS:
            outline.landmarks[element.tag] = outline.landmarks.get(element.tag, 0) + 1
        if element.tag == "nav" and "breadcrumbs" in element.classes:
            outline.breadcrumbs.append(values)
        if element.tag == "img" and "alt" not in values:
            outline.images_without_alt.append(values.get("src", "?"))
        if element.tag == "label" and values.get("for"):
            outline.label_for.add(values["for"])
        if element.tag in FORM_CONTROLS and values.get("type") != "hidden":
            wrapped = str(any(a.tag == "label" for a in element.ancestors()))
            outline.controls.append({**values, "_tag": element.tag, "_wrapped": wrapped})
    return outline


def _labelled(control: dict[str, str], outline: _Outline) -> bool:
    """Tell whether a static form control has an accessible name."""
    return (
        control["_wrapped"] == "True"
        or control.get("id", "") in outline.label_for
        or bool(control.get("aria-label") or control.get("aria-labelledby"))
        or bool(control.get("title"))
    )


def test_every_page_has_one_h1_landmarks_breadcrumbs_alts_and_labels(built_site: Path) -> None:
    pages = list(_html_pages(built_site))
    assert len(pages) >= 30  # home, compare, 404, 3 leaderboards, 33 runs
    problems = []
    for path in pages:
        name = path.relative_to(built_site)
        outline = _outline(path)
        if outline.h1 != 1:
            problems.append(f"{name}: {outline.h1} h1 elements")
        for landmark in LANDMARKS:
            if not outline.landmarks.get(landmark):
                problems.append(f"{name}: no <{landmark}>")
        if outline.landmarks.get("main") != 1:
            problems.append(f"{name}: {outline.landmarks.get('main', 0)} <main> elements")
        if len(outline.breadcrumbs) != 1 or not outline.breadcrumbs[0].get("aria-label"):
            problems.append(f"{name}: no single breadcrumbs <nav> with an aria-label")
        problems += [f"{name}: <img src={src!r}> has no alt" for src in outline.images_without_alt]
        problems += [
            f"{name}: unlabelled <{c['_tag']} id={c.get('id', '')!r}>"
            for c in outline.controls
            if not _labelled(c, outline)
        ]
    assert problems == [], "\n".join(problems)
