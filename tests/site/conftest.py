"""Browser harness for the site tests: headless Chromium through Playwright, a local server.

Every test that takes ``page`` fails when the page logged a console error, threw an
uncaught error, or tried to reach anything but ``file:``, ``data:``, ``blob:``, ``about:``
or the local test server (such requests are aborted, so nothing leaves the machine). A
negative test opts out with ``@pytest.mark.allow_page_problems`` and asserts on the
``page_problems`` fixture itself.

Without Chromium or Playwright the browser tests are skipped, unless
``RUNFOLIO_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns the skip into a failure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

SITE_TESTS = Path(__file__).resolve().parent
if str(SITE_TESTS) not in sys.path:
    # Lets tests import the checkers as ``tools.<module>`` without making tests a package.
    sys.path.insert(0, str(SITE_TESTS))

from tools.harness import PageProblems, is_local_url, unavailable  # noqa: E402
from tools.server import serve_directory  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Route

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps calling Google's services, which this
# closed network refuses; Playwright adds --headless and a fresh temporary user-data-dir.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP = {"width": 1280, "height": 800}


def pytest_configure(config: pytest.Config) -> None:
    """Register the opt-out marker of the page checks."""
    config.addinivalue_line(
        "markers",
        "allow_page_problems: the page fixture does not fail the test on console errors, "
        "page errors or outside requests (negative tests assert on page_problems instead)",
    )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver (Python package only; it never downloads a browser here)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install '.[test]')")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium, shared by the session's tests."""
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page_problems() -> PageProblems:
    """The problems recorded on the test's ``page`` (and on any popup it opened)."""
    return PageProblems()


_REPORT_CSP_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (event) => {
  window.__runfolioCspViolation(
    event.violatedDirective + ' blocked ' + event.blockedURI + ' at ' + event.sourceFile
  );
});
"""


@pytest.fixture
def page(browser: Browser, page_problems: PageProblems) -> Iterator[Page]:
    """A fresh page in its own browser context, with the checks described in this module.

    The checks run after the test body (see ``pytest_runtest_call``), so a problem fails
    the test itself rather than its teardown.
    """
    context = browser.new_context(viewport=DESKTOP, service_workers="block")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})"
            page_problems.console_errors.append(message.text + where)

    def on_request(request: Request) -> None:
        if not is_local_url(request.url):
            page_problems.outside_requests.append(request.url)

    def on_route(route: Route) -> None:
        url = route.request.url
        if is_local_url(url):
            route.continue_()
        else:
            page_problems.blocked_requests.append(url)
            route.abort("blockedbyclient")

    context.on("console", on_console)
    context.on("weberror", lambda error: page_problems.page_errors.append(str(error.error)))
    # Every document reports what its Content-Security-Policy refused (an eval refusal
    # logs no console message), so every browser test also checks the policy.
    context.expose_function(
        "__runfolioCspViolation", lambda text: page_problems.csp_violations.append(text)
    )
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    context.on("request", on_request)
    context.route("**/*", on_route)
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test that used ``page`` when the page had problems, unless it opted out."""
    result = yield
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    problems = funcargs.get("page_problems")
    if (
        "page" in funcargs
        and isinstance(problems, PageProblems)
        and item.get_closest_marker("allow_page_problems") is None
    ):
        page = funcargs["page"]
        if not page.is_closed():
            # A round trip delivers the events the browser sent before it.
            page.evaluate("() => 0")
        problems.assert_clean()
    return result


@pytest.fixture
def serve_dir() -> Iterator[Callable[..., str]]:
    """Serve folders over http://127.0.0.1:<free port>/<prefix>/ for the test's duration.

    Call it as ``serve_dir(folder, prefix="repo")``; it returns the base URL ending in
    ``/``. ``prefix=""`` serves at the root.
    """
    with ExitStack() as stack:

        def serve(directory: Path, prefix: str = "repo") -> str:
            return stack.enter_context(serve_directory(directory, prefix))

        yield serve
