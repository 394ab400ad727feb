"""Making untrusted text safe for the published site: markdown, URLs, CSV cells, JSON in pages.

Anything read from a store (notes, names, params, artifact contents) may have been written
by anyone with commit access and ends up on a public page. Markdown is rendered first and
the resulting HTML is then cleaned with an allow-list sanitizer (ammonia, through ``nh3``):
sanitising after rendering is what catches raw HTML and links the markdown itself produced.

Markdown is rendered by cmark-gfm (GitHub's own parser, through ``cmarkgfm``), which parses
in time linear in its input, hostile input included. Python-Markdown, used before, rescans
the rest of the text from every ``[`` and ``<`` it cannot close: 40 kB of ``[a](`` took
over 30 seconds. The sanitizer's HTML parser (html5ever) is quadratic in how deeply
elements nest (20,000 nested ``<ul><li>`` took 19 seconds), so HTML nested deeper than
:data:`MAX_NESTING` is shown as plain text instead. Callers also cut each text to a size
budget before it is rendered (:class:`runfolio.config_values.SiteLimits`).
"""

from __future__ import annotations

import html as html_lib
import json
import math
import re
from typing import Any

from runfolio.store.serialize import format_float

# Only elements that carry text structure; nothing that runs code, loads a frame, submits a
# form or restyles the page (no style, class except code languages, id, on* attributes).
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p",
        "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"
# GitHub's extensions but tasklist (its checkboxes are form inputs the sanitizer drops) and
# tagfilter (the sanitizer's allow-list does that job for every tag).
MARKDOWN_EXTENSIONS = ("table", "strikethrough", "autolink")

MAX_NESTING = 32
"""Rendered markdown nested deeper than this is shown as plain text (see the module doc)."""

# A start or end tag; stopping at the next "<" keeps the scan linear on "<a <a <a ...".
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^<>]*?(/?)>")
# Elements that nest nothing (void) or that a parser closes when the next one opens: they
# never deepen the tree, so an unclosed run of them (<li><li><li>) is no deep nesting.
_FLAT_TAGS = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot",
        "option", "optgroup", "rb", "rp", "rt", "rtc", "caption", "colgroup",
    }
)  # fmt: skip
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_UNSAFE_URL_CHARS_RE = re.compile(r"[\x00-\x1f\x7f\\]")
_CODE_CLASS_RE = re.compile(r"^language-[A-Za-z0-9_+\-]{1,40}$")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
# OWASP's list of characters a spreadsheet reads as the start of a formula, plus their
# full-width forms, which some spreadsheet programs normalise to the ASCII ones.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def render_markdown(text: str) -> str:
    """Render untrusted markdown to HTML that is safe to insert into a page as is.

    Raw HTML in the text is kept only where the allow-list permits (no script, style,
    iframe, form, event handler or style attribute); links keep only http, https, mailto
    and relative or fragment URLs and get ``rel="nofollow noopener noreferrer"``; images
    keep only relative sources (a remote one loses its ``src`` and shows its alt text: the
    pages' Content-Security-Policy would refuse it, and it would tell a third party who
    reads the page). Template syntax such as ``{{ x }}`` stays literal text: the result is
    data for a template, never template source.
    """
    import cmarkgfm
    import nh3
    from cmarkgfm.cmark import Options

    html = cmarkgfm.markdown_to_html_with_extensions(
        text,
        # Raw HTML is passed on for the sanitizer to judge (cmark would replace it all by
        # a comment); invalid UTF-8 (lone surrogates) becomes U+FFFD. Tables get an align
        # attribute, not a style attribute the sanitizer drops.
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8,
        extensions=list(MARKDOWN_EXTENSIONS),
    )
    if nesting_depth(html, MAX_NESTING) > MAX_NESTING:
        return (
            f"<p><em>Shown as plain text: it nests more than {MAX_NESTING} levels deep."
            f"</em></p>\n<pre><code>{html_lib.escape(text)}</code></pre>"
        )
    return nh3.clean(
        html.rstrip("\n"),
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes=set(LINK_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def nesting_depth(html: str, stop_above: int | None = None) -> int:
    """How deeply the elements of ``html`` nest, counted from its tags in one linear scan.

    An estimate on the safe side: an unclosed element counts as open to the end (as a
    browser's parser keeps it), and elements a parser closes implicitly (``p``, ``li``,
    table cells ...) or that hold nothing (``br``, ``img`` ...) do not count. With
    ``stop_above``, the scan stops at the first depth beyond it.
    """
    depth = deepest = 0
    for match in _TAG_RE.finditer(html):
        closing, name, self_closing = match.groups()
        if name.lower() in _FLAT_TAGS or self_closing:
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
            if stop_above is not None and deepest > stop_above:
                break
    return deepest


def safe_url(url: str) -> str | None:
    """Return ``url`` (trimmed) if a page may link to it, else ``None``.

    Allowed: http, https and mailto URLs, and scheme-less (relative, fragment) URLs.
    Refused: any other scheme (``javascript:``, ``data:``, ``vbscript:``, ``file:``...)
    in any letter case, and URLs holding control characters or backslashes, which browsers
    strip or reinterpret in ways that can smuggle a scheme past a check like this one.
    Entities are not decoded here: pass the URL as the browser will see it.
    """
    if not isinstance(url, str):
        return None
    candidate = url.strip(" \t\n\r\f")
    if _UNSAFE_URL_CHARS_RE.search(candidate):
        return None
    match = _SCHEME_RE.match(candidate)
    if match is None:
        return candidate
    return candidate if match.group(1).lower() in LINK_SCHEMES else None


def neutralize_csv_cell(value: object) -> str:
    """Return the text of one cell for a downloadable CSV, unable to run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their
    full-width forms) gets a leading ``'``, per OWASP's CSV-injection guidance, so a
    spreadsheet shows it as text.

    Numbers stay numbers: an ``int`` or ``float`` is written as its number (``-1.5``,
    ``nan``, ``-inf``), and so is text that is exactly a plain decimal number
    (``"-1.5"``, ``"+3"``, ``"-2e-05"``), because a spreadsheet reads such a cell as that
    number and evaluates nothing. Anything more (``-1+2``, ``-2+cmd|...``) is prefixed.
    ``None`` is an empty cell; booleans are ``true``/``false``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_STARTS) and not _NUMBER_RE.match(text):
        return "'" + text
    return text


def json_for_script(data: Any) -> str:
    """Return ``data`` as JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (so
    ``</script>`` or ``<!--`` in a string cannot end or alter the block), and U+2028/U+2029
    as escapes too. ``JSON.parse`` reads the same values back. NaN and infinities, which
    JSON cannot express and which would make ``JSON.parse`` fail, become ``null``.

    Raises:
        TypeError: ``data`` holds something JSON cannot represent.
    """
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # NaN or an infinity somewhere: rare, so only then walk the data
        text = json.dumps(_finite(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return escape_json_for_script(text)


def escape_json_for_script(text: str) -> str:
    """Make JSON text safe inside a ``<script type="application/json">`` block.

    As :func:`json_for_script` does, for JSON already encoded elsewhere; ``JSON.parse``
    reads the same values back.
    """
    # These characters can only occur inside JSON strings, where an escape means the same.
    return text.translate(_SCRIPT_ESCAPES)


def _finite(data: Any) -> Any:
    """Replace non-finite floats with None, through lists, tuples and dicts."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep an attribute value the allow-list permits, else drop the attribute."""
    if attribute == "href":
        return safe_url(value)
    if attribute == "src":
        url = safe_url(value)
        # Only the site's own images (the policy's img-src 'self'): no scheme, no host.
        if url is None or _SCHEME_RE.match(url) or url.startswith("//"):
            return None
        return url
    if attribute == "class":
        kept = [name for name in value.split() if _CODE_CLASS_RE.match(name)]
        return " ".join(kept) or None
    if attribute in ("width", "height", "start"):
        return value if value.isdigit() and len(value) <= 6 else None
    if attribute == "align":
        return value if value in ("left", "center", "right") else None
    return value
