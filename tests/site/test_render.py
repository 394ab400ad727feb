"""Rendering helpers: relative links, value formatting, and a Renderer over a small theme."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from runfolio.site.render import (
    Renderer,
    format_duration,
    format_number,
    format_size,
    format_time,
    format_value,
    relative_root,
    relative_url,
    short_sha,
)
from runfolio.site.theme import resolve_theme_chain

# ---------------------------------------------------------------------- links


@pytest.mark.parametrize(
    ("page", "root"),
    [
        ("index.html", "."),
        ("experiments/a/index.html", "../.."),
        ("experiments/a/runs/r.html", "../../.."),
    ],
)
def test_relative_root_climbs_one_level_per_folder(page: str, root: str) -> None:
    assert relative_root(page) == root


@pytest.mark.parametrize(
    ("page", "target", "link"),
    [
        ("index.html", "experiments/a/index.html", "experiments/a/index.html"),
        ("experiments/a/index.html", "index.html", "../../index.html"),
        ("experiments/a/index.html", "experiments/a/runs/r.html", "runs/r.html"),
        ("experiments/a/runs/r.html", "experiments/a/index.html", "../index.html"),
        ("experiments/a/runs/r.html", "experiments/b/runs/s.html", "../../b/runs/s.html"),
        ("experiments/a/runs/r.html", "assets/site.css", "../../../assets/site.css"),
        # Every path segment is percent-encoded: spaces, unicode, and the characters a
        # browser would read as the start of a query or fragment, or as an escape.
        (
            "index.html",
            "experiments/my exp ü/index.html",
            "experiments/my%20exp%20%C3%BC/index.html",
        ),
        ("index.html", "experiments/a#1/index.html", "experiments/a%231/index.html"),
        ("index.html", "experiments/a?b/index.html", "experiments/a%3Fb/index.html"),
        ("index.html", "experiments/100%/index.html", "experiments/100%25/index.html"),
        ("index.html", 'experiments/"><x/index.html', "experiments/%22%3E%3Cx/index.html"),
    ],
)
def test_relative_url_is_relative_and_percent_encoded(page: str, target: str, link: str) -> None:
    assert relative_url(page, target) == link


def test_relative_url_appends_an_encoded_fragment() -> None:
    assert relative_url("index.html", "compare.html", "a b") == "compare.html#a%20b"
    assert relative_url("experiments/a/runs/r.html", "", "metrics") == "#metrics"


# ---------------------------------------------------------------------- formats


def test_format_time_shows_utc_and_passes_odd_text_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A build machine far from UTC must not shift the times the site shows.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    assert format_time("2026-11-27T04:56:04.123Z") == "2026-11-27 04:56:04"
    assert format_time("2026-11-27T06:56:04+02:00") == "2026-11-27 04:56:04"
    # A time without an offset is taken as UTC, never as the build machine's zone.
    assert format_time("2026-11-27T04:56:04") == "2026-11-27 04:56:04"
    assert format_time("yesterday") == "yesterday"
    assert format_time(None) == format_time("") == "—"
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (4.2, "4.2s"),
        (12.4, "12s"),
        (59.4, "59s"),
        (59.6, "1m 00s"),
        (185, "3m 05s"),
        (3720, "1h 02m"),
        (3 * 86400 + 7200, "3d 02h"),
        (None, "—"),
        (-1, "—"),
        (math.nan, "—"),
        (True, "—"),
    ],
)
def test_format_duration(seconds: object, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_number_and_value() -> None:
    assert format_number(0.123456789) == "0.123457"
    assert format_number(math.nan) == "NaN"
    assert format_number(-math.inf) == "-inf"
    assert format_number(10**30) == str(10**30)
    assert format_number(None) == "—"
    assert format_number(False) == "false"
    assert format_value([1, 0.5, "a"]) == "[1, 0.5, a]"
    assert format_value({"lr": 0.1}) == "{lr: 0.1}"
    assert format_value("<b>") == "<b>"  # escaping is the template's job


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (999, "999 B"), (1500, "1.5 KB"), (999_999, "1.0 MB"), (12_000_000, "12.0 MB")],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


def test_short_sha() -> None:
    assert short_sha("0123456789abcdef") == "01234567"
    assert short_sha(None) == "—"


# ---------------------------------------------------------------------- renderer


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    theme = tmp_path / "theme" / "templates"
    theme.mkdir(parents=True)
    (theme / "probe.html").write_text(
        '<a href="{{ url(target) }}">{{ name }}</a><link href="{{ asset(\'site.css\') }}">'
        '<p data-root="{{ root }}">{{ markdown(notes) }}</p>'
        '<script type="application/json">{{ data | json_script | safe }}</script>',
        encoding="utf-8",
    )
    chain = resolve_theme_chain(tmp_path / "theme")
    return Renderer(chain, {})


def test_renderer_links_relative_to_the_page(renderer: Renderer) -> None:
    html = renderer.render(
        "probe.html",
        "experiments/a/runs/r.html",
        {"target": "experiments/b c/index.html", "name": "n", "notes": "", "data": {}},
    )
    assert '<a href="../../b%20c/index.html">' in html
    assert 'href="../../../assets/site.css"' in html
    assert 'data-root="../../.."' in html


def test_renderer_escapes_data_and_never_evaluates_it(renderer: Renderer) -> None:
    payload = '"><script>alert(1)</script>{{ 7*7 }}{% raw %}'
    html = renderer.render(
        "probe.html",
        "index.html",
        {
            "target": "index.html",
            "name": payload,
            # A blank line ends the raw HTML block (CommonMark), so the link is parsed.
            "notes": "<script>alert(1)</script>\n\n[x](javascript:alert(1)) {{ 7*7 }}",
            "data": {"name": "</script><script>alert(1)</script>"},
        },
    )
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert "{{ 7*7 }}" in html and "49" not in html
    assert "javascript:" not in html
    assert html.count("</script>") == 1  # only the JSON block's own end tag
