"""The test helpers themselves: the HTML tree (html_helpers) and the wait (waiting)."""

from __future__ import annotations

import pytest

from html_helpers import parse_html
from waiting import wait_until

PAGE = """<!doctype html>
<html><head><script type="application/json" id="data">{"a": [1, 2]}</script></head>
<body><nav class="breadcrumbs main"><a href="index.html">Home</a></nav>
<label>Name <input id="name"><br></label>
<p class="note">One <b>bold</b> word<script>var hidden = 1;</script></p></span>
<img src="x.png" alt=""><a name="anchor">no link</a><a href="b.html#top">B</a>
</body></html>"""


def test_void_elements_and_stray_end_tags_keep_the_tree_in_shape() -> None:
    page = parse_html(PAGE)
    assert [e.tag for e in page.one("body").find()] == [
        "nav", "a", "label", "input", "br", "p", "b", "script", "img", "a", "a",
    ]  # fmt: skip
    assert [a.parent.tag for a in page.find("a") if a.parent] == ["nav", "body", "body"]
    img = page.one("img")
    assert img.parent is page.one("body") and img.line == 6
    assert [a.tag for a in page.by_id("name").ancestors()] == ["label", "body", "html", "#document"]


def test_text_leaves_scripts_out_but_a_script_keeps_its_own() -> None:
    page = parse_html(PAGE)
    assert page.one("p", class_="note").text == "One bold word"
    assert page.texts("a") == ["Home", "no link", "B"]
    assert page.json_block("data") == {"a": [1, 2]}
    assert [s.attr("id") for s in page.scripts()] == ["data", ""]


def test_queries_by_class_and_attribute() -> None:
    page = parse_html(PAGE)
    assert page.links() == ["index.html", "b.html#top"]
    assert page.one(class_="breadcrumbs").tag == "nav"
    assert page.find("nav", class_="bread") == []
    assert page.find(**{"type": "application/json"}) == [page.by_id("data")]
    with pytest.raises(AssertionError, match="3 elements match a"):
        page.one("a")


def test_wait_until_returns_once_true_and_fails_with_what_it_waited_for() -> None:
    answers = iter([False, False, True])
    wait_until(lambda: next(answers), "the third answer", 5, interval=0)
    with pytest.raises(AssertionError, match="gave up waiting for the log: tail"):
        wait_until(lambda: False, lambda: "the log: tail", 0.01, interval=0)
