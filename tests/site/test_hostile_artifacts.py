"""Artifacts a browser would run as pages are never published under their own suffix.

A web server picks the Content-Type from the suffix, and browsers run script in far more
types than a deny-list names: ``.shtml`` is HTML, and ``.xsl``, ``.rdf``, ``.wsdl``,
``.xhtm`` ... are XML, where an XHTML ``<script>`` runs. Opened from the site (GitHub
Pages, whose origin all of an owner's Pages sites share), such a file would run its
script on that origin. Only suffixes on an allow-list of inert ones are published as
they are; everything else gets a ``.txt`` copy. Checked in real Chromium, against the
site served as GitHub Pages serves it (no headers of runfolio's).
"""

from __future__ import annotations

from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from runfolio import Store
from runfolio.site.build import build_site
from runfolio.site.previews import INERT_SUFFIXES, build_preview

if TYPE_CHECKING:
    from playwright.sync_api import Page

_SINK = "window.__pwned=1;document.title='pwned';"
_HTML = f"<!doctype html><title>x</title><script>{_SINK}</script>"
_XHTML = (
    '<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
    f"<head><title>x</title></head><body><script>{_SINK}</script></body></html>"
)
# Every suffix the old deny-list missed that GitHub Pages or `runfolio serve` sends as
# HTML or XML, some in capitals (servers match suffixes case-insensitively), and a few
# more that a browser may render: none is on the allow-list.
HOSTILE = {
    "page.shtml": _HTML,
    "PAGE2.SHTML": _HTML,
    "style.xsl": _XHTML,
    "style.xslt": _XHTML,
    "schema.xsd": _XHTML,
    "schema.rng": _XHTML,
    "graph.rdf": _XHTML,
    "service.wsdl": _XHTML,
    "page.xhtm": _XHTML,
    "process.xpdl": _XHTML,
    "Page.XHTML": _XHTML,
    "page.mht": _HTML,
    "script.js": _SINK,
    "no-suffix": _HTML,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A site of one run holding the hostile artifacts; its folder and the run's id."""
    root = tmp_path_factory.mktemp("artifacts")
    store = Store(root / "runs")
    with store.start_run("sweep", run_name="hostile artifacts") as run:
        for name, text in HOSTILE.items():
            run.log_text(text, name)
        run.log_text("a,b\n1,2\n", "TABLE.CSV")
    report = build_site(store.root, root / "site", config_root=root)
    assert report.problems == []
    return root / "site", run.run_id


def test_only_inert_suffixes_are_published_under_their_own_name(site: tuple[Path, str]) -> None:
    output, run_id = site
    published = {
        p.name for p in (output / "experiments/sweep/runs" / run_id / "artifacts").iterdir()
    }
    assert published == {f"{name}.txt" for name in HOSTILE} | {"TABLE.CSV"}
    assert all(s == s.lower() and s.startswith(".") for s in INERT_SUFFIXES)


def test_the_suffix_rule_ignores_letter_case(tmp_path: Path) -> None:
    for name in ("a.PNG", "b.Json", "c.CSV", "d.PKL"):
        (tmp_path / name).write_bytes(b"x")
        assert not build_preview(tmp_path, name).active_content, name
    for name in ("a.SHTML", "b.Xsl", "c.svg", "d.HTM"):
        (tmp_path / name).write_bytes(b"x")
        assert build_preview(tmp_path, name).active_content, name


# Python's MIME table makes Chromium download these; GitHub Pages sends them as XML,
# which Chromium renders, running an XHTML <script> in them. Serve them so.
_AS_GITHUB_PAGES = {
    suffix: "application/xml"
    for suffix in (".xsl", ".xslt", ".xsd", ".rng", ".rdf", ".wsdl", ".xpdl")
}


def test_no_published_artifact_runs_script_when_opened(
    site: tuple[Path, str],
    page: Page,
    serve_dir: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for suffix, mime in _AS_GITHUB_PAGES.items():
        monkeypatch.setitem(SimpleHTTPRequestHandler.extensions_map, suffix, mime)
    output, run_id = site
    base = serve_dir(output)
    folder = output / "experiments/sweep/runs" / run_id / "artifacts"
    from playwright.sync_api import Error

    opened = 0
    for path in sorted(folder.iterdir()):
        try:
            page.goto(base + path.relative_to(output).as_posix())
        except Error as exc:  # a download (the CSV) runs nothing
            assert "Download is starting" in str(exc), path.name
            continue
        opened += 1
        assert page.evaluate("() => window.__pwned") is None, path.name
        assert page.title() != "pwned", path.name
        shown = page.evaluate("() => document.body ? document.body.innerText : ''")
        assert "__pwned" in shown, f"{path.name} is not shown as text"
    assert opened == len(HOSTILE)
