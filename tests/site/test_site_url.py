"""``site_url``: the 404 page works wherever GitHub Pages serves it; the rest stays relative.

GitHub Pages answers any missing path of a project site (``/repo/a/b/missing.html``)
with the site's ``404.html``, so that page's relative links would resolve against the
missing path. Built with the site's address, the 404 page (and only it) carries
``<base href>``. The browser tests serve the example site under ``/repo/`` with a small
server that answers unknown paths the way Pages does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from tools.harness import PageProblems, unavailable
from tools.html_validator import find_vnu_jar, validate_html
from tools.link_checker import check_links

from runfolio.cli import main
from runfolio.site.build import build_site
from runfolio.site.config import SiteConfigError, load_site_config, parse_site_url

if TYPE_CHECKING:
    from playwright.sync_api import Page

EXAMPLE_STORE = Path(__file__).resolve().parents[2] / "example_runs"
NESTED_MISSING = "experiments/digits-mlp/runs/20990101-000000-0000000000.html"
_BASE_RE = re.compile(r"<base\b[^>]*>", re.IGNORECASE)
_ABSOLUTE_RE = re.compile(r"""(?:href|src|action)\s*=\s*["']?(?:[a-z][a-z0-9+.-]*:)?//""", re.I)


# ----------------------------------------------------------------------------- the setting


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://org.github.io/repo", "https://org.github.io/repo/"),
        ("https://org.github.io/repo/", "https://org.github.io/repo/"),
        ("  http://localhost:8000  ", "http://localhost:8000/"),
        ("https://lab.example.org/sites/ml/", "https://lab.example.org/sites/ml/"),
    ],
)
def test_site_url_ends_with_a_slash(given: str, expected: str) -> None:
    assert parse_site_url(given) == expected


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("org.github.io/repo", "must be an http:// or https:// URL of the published site's root"),
        ("ftp://org.github.io/repo/", "must be an http:// or https:// URL"),
        ("https://org.github.io/my repo/", "must not contain spaces"),
        ("https://user:token@org.github.io/repo/", "must not contain a user name or password"),
        ("https://org.github.io/repo/?v=2", "must not have a ?query or a #fragment"),
        ("https://org.github.io/repo/#top", "must not have a ?query or a #fragment"),
        ("", "must not be empty"),
    ],
)
def test_bad_site_url_is_refused(given: str, problem: str) -> None:
    with pytest.raises(SiteConfigError) as info:
        parse_site_url(given)
    assert info.value.problems[0].startswith("site_url: ")
    assert problem in info.value.problems[0]


def test_site_url_in_runfolio_yaml_is_validated_with_the_other_keys(tmp_path: Path) -> None:
    (tmp_path / "runfolio.yaml").write_text(
        "site_url: https://org.github.io/lab\ntitle: Lab\n", encoding="utf-8"
    )
    assert load_site_config(tmp_path).site_url == "https://org.github.io/lab/"
    assert load_site_config(tmp_path / "elsewhere").site_url is None
    (tmp_path / "runfolio.yaml").write_text(
        "site_url: [https://org.github.io/lab]\nsite_ur1: x\n", encoding="utf-8"
    )
    with pytest.raises(SiteConfigError) as info:
        load_site_config(tmp_path)
    assert info.value.problems == (
        "site_url: expected text, got a list ['https://org.github.io/lab']",
        "site_ur1: unknown key; did you mean 'site_url'?",
    )


# ----------------------------------------------------------------------------- the build


def _base_tags(site: Path) -> dict[str, list[str]]:
    """The ``<base>`` elements of every HTML page, by site path (pages without one left out)."""
    found = {}
    for page in sorted(site.rglob("*.html")):
        tags = _BASE_RE.findall(page.read_text(encoding="utf-8"))
        if tags:
            found[page.relative_to(site).as_posix()] = tags
    return found


def test_only_the_404_page_has_a_base_and_the_site_stays_relative(tmp_path: Path) -> None:
    site = tmp_path / "site"
    report = build_site(EXAMPLE_STORE, site, site_url="https://org.github.io/repo")
    assert report.problems == []
    assert _base_tags(site) == {"404.html": ['<base href="https://org.github.io/repo/">']}
    head = (site / "404.html").read_text(encoding="utf-8").split("<link", 1)[0]
    assert "<base " in head  # before the stylesheet, whose URL it must resolve

    # Every link of every page is relative and resolves from the page's own folder; the
    # 404 page's base is the one absolute URL of the site.
    assert check_links(site) == []
    absolute = [
        f"{page.relative_to(site)}: {match.group(0)}"
        for page in site.rglob("*.html")
        for match in _ABSOLUTE_RE.finditer(_BASE_RE.sub("", page.read_text(encoding="utf-8")))
    ]
    assert absolute == []
    # What GitHub Pages needs, and nothing it must not get.
    assert (site / ".nojekyll").is_file()
    assert [path for path in site.rglob("*") if path.is_symlink()] == []

    jar = find_vnu_jar()
    if jar is None:
        unavailable("vnu.jar not found: run .ci/run once, or set RUNFOLIO_VNU_JAR")
    errors = validate_html([site / "404.html"], jar=jar)
    assert errors == [], "\n".join(map(str, errors))

    # Rebuilt without the address, the 404 page is plain relative again, and readable.
    build_site(EXAMPLE_STORE, site)
    assert _base_tags(site) == {}
    text = (site / "404.html").read_text(encoding="utf-8")
    assert "<h1>Page not found</h1>" in text


def test_cli_site_url_overrides_runfolio_yaml(tmp_path: Path) -> None:
    config_root = tmp_path / "repo"
    config_root.mkdir()
    (config_root / "runfolio.yaml").write_text(
        "site_url: https://org.github.io/from-yaml\n", encoding="utf-8"
    )
    site = tmp_path / "site"
    build_site(EXAMPLE_STORE, site, config_root=config_root)
    assert _base_tags(site) == {"404.html": ['<base href="https://org.github.io/from-yaml/">']}
    build_site(EXAMPLE_STORE, site, config_root=config_root, site_url="https://x.org/cli")
    assert _base_tags(site) == {"404.html": ['<base href="https://x.org/cli/">']}


def test_cli_refuses_a_bad_site_url_before_building(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = CliRunner().invoke(
        main, ["build", str(EXAMPLE_STORE), "-o", str(site), "--site-url", "org.github.io/x"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--site-url': 'org.github.io/x' must be an http://" in result.output
    assert not site.exists()

    result = CliRunner().invoke(
        main,
        ["build", str(EXAMPLE_STORE), "-o", str(site), "-q", "--site-url", "http://h.io/r"],
    )
    assert result.exit_code == 0, result.output
    assert _base_tags(site) == {"404.html": ['<base href="http://h.io/r/">']}


# ----------------------------------------------------------------------------- in a browser


class _PagesHandler(SimpleHTTPRequestHandler):
    """Serve a folder at ``/repo/``; answer anything missing with its 404.html, like Pages."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith("/repo/"):
            self.send_error(404)
        else:
            super().do_GET()

    def translate_path(self, path: str) -> str:
        """Map ``/repo/a/b`` to ``<folder>/a/b``."""
        return super().translate_path(path.removeprefix("/repo"))

    def list_directory(self, path: Any) -> None:
        """Pages lists no folder: a folder without index.html is missing."""
        self.send_error(404)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(str(self.directory)) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def pages_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An empty folder served like a GitHub Pages project site; yields it and its URL."""
    folder = tmp_path / "site"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_PagesHandler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_port}/repo/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _watch_failures(page: Page) -> list[str]:
    """Record every request of ``page`` that failed or got an error status."""
    failures: list[str] = []

    def on_response(response: Any) -> None:
        if response.status >= 400:
            failures.append(f"{response.status}: {response.url}")

    page.on("requestfailed", lambda request: failures.append(f"failed: {request.url}"))
    page.on("response", on_response)
    return failures


def _stylesheets(page: Page) -> list[list[Any]]:
    """Each stylesheet of the page: its URL and how many rules it loaded."""
    return page.evaluate(
        "() => [...document.styleSheets].map((s) => {"
        "  try { return [s.href, s.cssRules.length]; } catch (e) { return [s.href, -1]; } })"
    )


@pytest.mark.allow_page_problems
def test_404_page_at_a_nested_path_is_styled_and_links_home(
    page: Page, page_problems: PageProblems, pages_server: tuple[Path, str]
) -> None:
    folder, url = pages_server
    build_site(EXAMPLE_STORE, folder, site_url=url)
    failures = _watch_failures(page)
    response = page.goto(url + NESTED_MISSING)
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    sheets = _stylesheets(page)
    assert [href for href, _ in sheets] == [f"{url}assets/site.css"] and sheets[0][1] > 0
    assert page.locator(".skip-link").evaluate("a => getComputedStyle(a).position") == "absolute"
    assert page.locator("a.brand").evaluate("a => a.href") == f"{url}index.html"
    # The only failure is the missing page itself, which the server answered with 404.html.
    assert failures == [f"404: {url}{NESTED_MISSING}"]

    page.get_by_role("link", name="Go to the experiments").click()
    page.wait_for_url(f"{url}index.html")
    assert page.locator(".site-header").is_visible()
    assert failures == [f"404: {url}{NESTED_MISSING}"]
    # The browser reports the 404 of the page itself; nothing else went wrong.
    (error,) = page_problems.console_errors
    assert "status of 404" in error and NESTED_MISSING in error
    assert not (page_problems.page_errors or page_problems.outside_requests)


@pytest.mark.allow_page_problems
def test_404_page_without_a_site_url_is_still_readable(
    page: Page, page_problems: PageProblems, pages_server: tuple[Path, str]
) -> None:
    """The documented limitation: at a nested path the page is unstyled but says what it is."""
    folder, url = pages_server
    build_site(EXAMPLE_STORE, folder)
    failures = _watch_failures(page)

    page.goto(url + "missing.html")  # at the site's top level, relative links still work
    sheets = _stylesheets(page)
    assert [href for href, _ in sheets] == [f"{url}assets/site.css"] and sheets[0][1] > 0
    assert failures == [f"404: {url}missing.html"]

    page.goto(url + NESTED_MISSING)
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.get_by_text("This page is not part of the site.").is_visible()
    assert f"404: {url}experiments/digits-mlp/runs/assets/site.css" in failures
    assert not (page_problems.page_errors or page_problems.outside_requests)
