"""Untrusted text made safe: markdown payloads, URLs, CSV formula cells, JSON inside <script>."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from html_helpers import parse_html
from runfolio.site.sanitize import (
    json_for_script,
    neutralize_csv_cell,
    render_markdown,
    safe_url,
)


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag with its attributes, as a browser would parse them."""
    return [(e.tag, e.attrs) for e in parse_html(html).elements]


def _assert_inert(html: str) -> None:
    """No scripting element, no event handler or style, and every URL is allowed."""
    for tag, attrs in _tags(html):
        assert tag not in {"script", "style", "iframe", "svg", "math", "form", "input", "object"}
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in {"style", "id", "srcdoc", "action", "formaction"}, (tag, name)
            if name in ("href", "src"):
                assert value is not None
                squashed = re.sub(r"[\x00-\x20]", "", value).lower()
                assert not squashed.startswith(("javascript:", "data:", "vbscript:")), value


PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "[x](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "[x](&#106;avascript:alert(1))",
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="javascript&#58;alert(1)">x</a>',
    '<a href="java&#9;script:alert(1)">x</a>',
    '<a href="&#x0A;javascript:alert(1)">x</a>',
    "[x][evil]\n\n[evil]: javascript:alert(1)",
    "![x][evil]\n\n[evil]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<form action="https://evil.example"><input name=a><button>go</button></form>',
    '<p style="position:fixed;top:0" onclick="alert(1)" id="nav">x</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
    '<a href="https://ok.example" onmouseover="alert(1)">x</a>',
    "<!-- <script>alert(1)</script> -->",
    '<div><a href="x" target="_blank">x</a></div>',
    "```\n</code></pre><script>alert(1)</script>\n```",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_come_out_inert(payload: str) -> None:
    html = render_markdown(payload)
    _assert_inert(html)


def test_script_content_is_dropped_not_shown() -> None:
    assert render_markdown("<script>alert(1)</script>") == ""
    assert "alert" not in render_markdown("<style>body{display:none}</style>")


def test_code_block_keeps_payload_as_escaped_text() -> None:
    html = render_markdown("```\n</code></pre><script>alert(1)</script>\n```")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert [tag for tag, _ in _tags(html)] == ["pre", "code"]


def test_javascript_links_lose_their_href_but_keep_their_text() -> None:
    for payload in (
        "[click](javascript:alert(1))",
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        "[click][r]\n\n[r]: javascript:alert(1)",
        '<a href="&#106;avascript:alert(1)">click</a>',
    ):
        html = render_markdown(payload)
        (attrs,) = [a for tag, a in _tags(html) if tag == "a"]
        assert "href" not in attrs, payload
        assert "click" in html


def test_safe_links_survive_with_rel() -> None:
    html = render_markdown(
        "[a](https://example.com/x?y=1) [b](http://e.org) [c](mailto:me@example.com) "
        "[d](#results) [e](../other/page.html) <https://auto.example/link>"
    )
    links = [attrs for tag, attrs in _tags(html) if tag == "a"]
    assert [link["href"] for link in links] == [
        "https://example.com/x?y=1",
        "http://e.org",
        "mailto:me@example.com",
        "#results",
        "../other/page.html",
        "https://auto.example/link",
    ]
    assert {link["rel"] for link in links} == {"nofollow noopener noreferrer"}


def test_images_keep_only_relative_sources() -> None:
    # The pages' Content-Security-Policy loads images from the site only (img-src 'self').
    html = render_markdown(
        "![a](plots/loss.png) ![b](https://e.org/i.png) ![c](mailto:x@y.z) "
        "![d](data:image/png;base64,AAAA) ![e](javascript:alert(1)) ![f](//e.org/i.png)"
    )
    images = [attrs for tag, attrs in _tags(html) if tag == "img"]
    assert [image.get("src") for image in images] == ["plots/loss.png"] + [None] * 5
    assert [image["alt"] for image in images] == ["a", "b", "c", "d", "e", "f"]


@pytest.mark.parametrize("text", ["{{7*7}}", "{% raw %}x{% endraw %}", "{{ config }}", "${7*7}"])
def test_template_syntax_stays_literal_text(text: str) -> None:
    assert render_markdown(text) == f"<p>{text}</p>"


def test_markdown_features_render() -> None:
    html = render_markdown(
        "# Notes\n\n**bold** _it_ `code`\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
        "```python\nprint(1 < 2)\n```\n\n- one\n- two\n"
    )
    tags = [tag for tag, _ in _tags(html)]
    for tag in ("h1", "strong", "em", "code", "table", "th", "td", "pre", "ul", "li"):
        assert tag in tags
    assert ("th", {"align": "left"}) in _tags(html)
    assert ("code", {"class": "language-python"}) in _tags(html)
    assert "print(1 &lt; 2)" in html


def test_code_class_is_restricted_to_language_names() -> None:
    html = render_markdown('<code class="language-py evil x">a</code><span class="x">b</span>')
    assert _tags(html) == [("p", {}), ("code", {"class": "language-py"}), ("span", {})]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        ("mailto:a@b.c", "mailto:a@b.c"),
        ("  https://x.org  ", "https://x.org"),
        ("#frag", "#frag"),
        ("../a/b.html", "../a/b.html"),
        ("plots/loss.png", "plots/loss.png"),
        ("?q=1", "?q=1"),
        ("", ""),
        ("./javascript:alert(1)", "./javascript:alert(1)"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("\x01javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:msgbox(1)", None),
        ("file:///etc/passwd", None),
        ("\\\\evil.example\\share", None),
        ("ftp://example.com", None),
    ],
)
def test_safe_url(url: str, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_safe_url_refuses_non_text() -> None:
    assert safe_url(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("--", "'--"),
        ("-", "'-"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        # A text that is exactly a number stays a number in a spreadsheet: no formula runs.
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("-2e-05", "-2e-05"),
        ("-.5", "-.5"),
        (-1.5, "-1.5"),
        (-3, "-3"),
        (0.1, "0.1"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (None, ""),
        (True, "true"),
        (False, "false"),
    ],
)
def test_neutralize_csv_cell(value: object, expected: str) -> None:
    assert neutralize_csv_cell(value) == expected


def test_neutralized_cells_round_trip_through_csv() -> None:
    row = [neutralize_csv_cell(v) for v in ('=HYPERLINK("http://e")', -1.5, 'a,"b"\nc')]
    out = io.StringIO()
    csv.writer(out).writerow(row)
    (back,) = list(csv.reader(io.StringIO(out.getvalue())))
    assert back == ['\'=HYPERLINK("http://e")', "-1.5", 'a,"b"\nc']
    assert float(back[1]) == -1.5


def test_json_for_script_cannot_break_out() -> None:
    data = {
        "name": "</script><script>alert(1)</script>",
        "comment": "<!-- x -->",
        "amp": "a & b",
        "lines": "a\u2028b\u2029c",
        "</script>": [1, 2.5, None, True],
    }
    text = json_for_script(data)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert "</script" not in text.lower()
    assert json.loads(text) == data


def test_json_for_script_keeps_unicode_and_nulls_non_finite() -> None:
    text = json_for_script({"μ": [float("nan"), float("inf"), -0.0, 1e308], "t": ("a",)})
    assert "μ" in text
    assert json.loads(text) == {"μ": [None, None, -0.0, 1e308], "t": ["a"]}
    assert "NaN" not in text and "Infinity" not in text


def test_json_for_script_refuses_unserialisable_data() -> None:
    with pytest.raises(TypeError):
        json_for_script({"x": object()})
