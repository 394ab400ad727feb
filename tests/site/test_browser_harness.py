"""The browser harness and the checkers catch what they must, on tiny fixture pages.

Each checker is shown passing a good page and failing a bad one with the specific
problem, so a harness that silently passes everything cannot go unnoticed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from tools.axe import AXE_JS, AXE_SHA256, format_violations, run_axe
from tools.harness import PageProblems, is_local_url, unavailable
from tools.html_validator import find_vnu_jar, validate_html
from tools.link_checker import check_links

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"


@pytest.fixture(scope="module")
def vnu_jar() -> Path:
    """The Nu validator's jar, or a skip (a failure under RUNFOLIO_REQUIRE_BROWSER=1)."""
    jar = find_vnu_jar()
    if jar is None:
        unavailable("vnu.jar not found: run .ci/run once, or set RUNFOLIO_VNU_JAR")
    return jar


# --- the page fixture ----------------------------------------------------------------


def test_good_page_loads_from_file_with_its_assets(page, page_problems: PageProblems) -> None:
    page.goto((GOOD / "index.html").as_uri())
    assert page.text_content("#status") == "script ran"
    assert page.eval_on_selector("h1", "e => getComputedStyle(e).color") == "rgb(0, 85, 170)"
    assert page.eval_on_selector("img", "e => e.naturalWidth") == 16
    assert not page_problems


@pytest.mark.allow_page_problems
def test_console_error_is_recorded(page, page_problems: PageProblems) -> None:
    page.goto((BAD / "console_error.html").as_uri())
    page.evaluate("() => 0")
    assert any("deliberate console error" in m for m in page_problems.console_errors)
    with pytest.raises(AssertionError, match="console error: harness fixture: deliberate"):
        page_problems.assert_clean()


@pytest.mark.allow_page_problems
def test_uncaught_error_is_recorded(page, page_problems: PageProblems) -> None:
    page.goto((BAD / "page_error.html").as_uri())
    page.evaluate("() => 0")
    assert any("deliberate uncaught error" in m for m in page_problems.page_errors)


@pytest.mark.allow_page_problems
def test_outside_request_is_recorded_and_blocked(page, page_problems: PageProblems) -> None:
    page.goto((BAD / "external_image.html").as_uri())
    page.evaluate("() => 0")
    assert page_problems.outside_requests == ["https://example.com/x.png"]
    # Aborted by the route handler, not merely failed on the closed network.
    assert page_problems.blocked_requests == ["https://example.com/x.png"]
    assert page.eval_on_selector("img", "e => e.naturalWidth") == 0
    with pytest.raises(AssertionError, match=r"outside file:// and 127\.0\.0\.1: https://example"):
        page_problems.assert_clean()


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("file:///tmp/site/index.html", True),
        ("data:image/png;base64,AAAA", True),
        ("blob:http://127.0.0.1:8000/3f2a", True),
        ("about:blank", True),
        ("http://127.0.0.1:8123/repo/index.html", True),
        ("http://localhost:8123/", True),
        ("https://example.com/x.png", False),
        ("http://127.0.0.2/", False),
        ("http://example.com/?to=127.0.0.1", False),
        ("http://localhost.example.com/", False),
    ],
)
def test_which_urls_count_as_local(url: str, local: bool) -> None:
    assert is_local_url(url) is local


def test_a_test_whose_page_has_a_console_error_fails() -> None:
    """End to end: the harness fails an unmarked test, naming the error (a pytest run)."""
    if not Path("/usr/bin/chromium").is_file():
        unavailable("needs /usr/bin/chromium")
    # Named so that normal collection skips it; given explicitly, pytest runs it with
    # this folder's conftest.
    probe = FIXTURES / "probe_unclean_page.py"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "console error: harness fixture: deliberate console error" in done.stdout


# --- serve_dir -------------------------------------------------------------------------


def test_site_served_under_a_sub_path_loads_relative_assets(
    page, page_problems: PageProblems, serve_dir: Callable[..., str]
) -> None:
    base = serve_dir(GOOD, prefix="repo")
    assert base.startswith("http://127.0.0.1:") and base.endswith("/repo/")
    page.goto(base + "index.html")
    assert page.text_content("#status") == "script ran"
    assert page.eval_on_selector("h1", "e => getComputedStyle(e).color") == "rgb(0, 85, 170)"
    page.click("text=Results")
    page.wait_for_url(base + "sub/page2.html#results")
    assert page.text_content("h1") == "Second page"
    assert not page_problems


def test_serve_dir_answers_only_under_its_prefix(serve_dir: Callable[..., str]) -> None:
    base = serve_dir(GOOD, prefix="repo")
    origin = base.removesuffix("repo/")
    with urllib.request.urlopen(base + "assets/data.csv") as response:
        assert response.read() == b"key,value\nloss,0.5\n"
    with pytest.raises(urllib.error.HTTPError) as outside:
        urllib.request.urlopen(origin + "index.html")
    assert outside.value.code == 404
    # "/repo" and "/repo/sub" redirect to the slashed form, keeping the prefix.
    with urllib.request.urlopen(origin + "repo/sub") as response:
        assert response.url == base + "sub/"


# --- HTML validation -------------------------------------------------------------------


def test_valid_pages_pass_the_validator(vnu_jar: Path) -> None:
    assert validate_html([GOOD], jar=vnu_jar) == []


def test_validator_reports_the_invalid_construct_with_file_and_line(vnu_jar: Path) -> None:
    errors = validate_html([BAD], jar=vnu_jar)
    assert [(e.file.name, e.line) for e in errors] == [("invalid_html.html", 11)], errors
    assert "“div” not allowed as child of element “ul”" in errors[0].message
    assert str(errors[0]).startswith(f"{BAD / 'invalid_html.html'}:11:")


def test_validator_ignore_drops_matching_messages(vnu_jar: Path) -> None:
    assert validate_html([BAD / "invalid_html.html"], jar=vnu_jar, ignore=["not allowed"]) == []


# --- link checking ---------------------------------------------------------------------


def test_good_site_has_no_broken_links() -> None:
    assert check_links(GOOD) == []


def test_link_checker_reports_each_broken_link() -> None:
    problems = {(str(p.file), p.line, p.url): p.reason for p in check_links(BAD)}
    assert problems == {
        ("broken_links.html", 12, "missing.html"): "target file does not exist",
        ("broken_links.html", 13, "console_error.html#nowhere"): (
            "no element with id 'nowhere' in console_error.html"
        ),
        ("broken_links.html", 14, "/repo/index.html"): (
            "root-relative link (breaks under a sub-path such as /repo/); use a relative one"
        ),
        ("broken_links.html", 15, "folder/"): (
            "links to a folder (file:// shows a listing); link to its index.html"
        ),
        ("broken_links.html", 16, "../good/index.html"): "points outside the site",
        ("external_image.html", 10, "https://example.com/x.png"): (
            "external URL not in the allow-list"
        ),
    }


def test_link_checker_allow_list_admits_external_urls() -> None:
    problems = check_links(BAD, allowed_external=["https://example.com/"])
    assert all(p.file.name != "external_image.html" for p in problems)


def test_link_checker_reads_css_srcset_and_inline_styles(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "style.css").write_text(
        'body { background: url("a.png"); }\n@import "gone.css";\n.x { b: url(b.png) }\n',
        encoding="utf-8",
    )
    (tmp_path / "index.html").write_text(
        '<img srcset="a.png 1x, c.png 2x" alt="">\n'
        "<div style=\"background: url('d.png')\"></div>\n"
        "<a href=\"javascript:alert(1)\">x</a> <a href='mailto:a@b.c'>m</a>\n",
        encoding="utf-8",
    )
    found = sorted((str(p.file), p.line, p.url) for p in check_links(tmp_path))
    assert found == [
        ("index.html", 1, "c.png"),
        ("index.html", 2, "d.png"),
        ("index.html", 3, "javascript:alert(1)"),
        ("style.css", 2, "gone.css"),
        ("style.css", 3, "b.png"),
    ]


# --- accessibility ---------------------------------------------------------------------


def test_vendored_axe_is_the_pinned_release() -> None:
    assert hashlib.sha256(AXE_JS.read_bytes()).hexdigest() == AXE_SHA256


def test_good_page_has_no_serious_accessibility_violations(page) -> None:
    page.goto((GOOD / "index.html").as_uri())
    violations = run_axe(page)
    assert violations == [], format_violations(violations)


def test_unlabeled_input_is_a_critical_violation_even_under_csp(page) -> None:
    # The fixture's Content-Security-Policy forbids every script: axe must still run.
    page.goto((BAD / "unlabeled_input.html").as_uri())
    violations = run_axe(page)
    assert [(v["id"], v["impact"]) for v in violations] == [("label", "critical")]
    assert violations[0]["nodes"][0]["target"] == ["input"]
    assert "critical: label: " in format_violations(violations)
