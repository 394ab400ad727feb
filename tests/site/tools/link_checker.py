"""Link checker for a built static site: relative links only, every target and anchor exists.

The site must work from ``file://`` and under a sub-path (``https://org.github.io/repo/``),
so a link is good only when it is relative, stays inside the site, names a file (not a
folder: ``file://`` shows a folder as a listing, not its ``index.html``) that exists, and
its ``#fragment`` names an element id of the target page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from html_helpers import parse_html

# Attributes that load or link to a URL, by element ("*" = any element).
_URL_ATTRIBUTES = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "form": ("action",),
    "input": ("src",),
    "use": ("href", "xlink:href"),
    "image": ("href", "xlink:href"),
}
# Schemes that never leave the page or hand off to another program.
_LOCAL_SCHEMES = frozenset({"data", "blob", "mailto", "tel"})
_EXTERNAL_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss"})
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*?)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
_HTML_SUFFIXES = frozenset({".html", ".htm"})


@dataclass(frozen=True)
class LinkProblem:
    """One bad link: where it is, what it says, and why it is bad."""

    file: Path
    line: int
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.url!r}: {self.reason}"


@dataclass
class _Page:
    """What the checker needs from one HTML file."""

    ids: set[str]
    links: list[tuple[int, str]]


def check_links(site: Path, *, allowed_external: Iterable[str] = ()) -> list[LinkProblem]:
    """Check every link of every HTML and CSS file under ``site``.

    Args:
        site: The built site's root folder.
        allowed_external: URL prefixes (``"https://github.com/"``) that external links may
            start with; any other ``http(s)``/``//`` URL is a problem.

    Returns:
        The problems, sorted by file and line; empty when every link is good. File paths
        are relative to ``site``.
    """
    root = site.resolve()
    allowed = tuple(allowed_external)
    pages: dict[Path, _Page] = {}
    problems: list[LinkProblem] = []
    sources = sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in {*_HTML_SUFFIXES, ".css"}
    )
    for source in sources:
        if source.suffix.lower() == ".css":
            text = source.read_text(encoding="utf-8", errors="replace")
            links = [
                (text.count("\n", 0, match.start()) + 1, url)
                for match in _CSS_URL.finditer(text)
                if (url := match.group(2) or match.group(4))
            ]
        else:
            links = _page(source, pages).links
        for line, url in links:
            reason = _check_one(root, source, url, allowed, pages)
            if reason:
                problems.append(LinkProblem(source.relative_to(root), line, url, reason))
    return problems


def _check_one(
    root: Path, source: Path, url: str, allowed: tuple[str, ...], pages: dict[Path, _Page]
) -> str | None:
    """Return why ``url`` found in ``source`` is bad, or None when it is good."""
    url = url.strip()
    parts = urlsplit(url)
    if url.startswith("//") or parts.scheme in _EXTERNAL_SCHEMES:
        if any(url.startswith(prefix) for prefix in allowed):
            return None
        return "external URL not in the allow-list"
    if parts.scheme in _LOCAL_SCHEMES:
        return None
    if parts.scheme:
        return f"scheme {parts.scheme!r} not allowed"
    if url.startswith("/"):
        return "root-relative link (breaks under a sub-path such as /repo/); use a relative one"
    target = (source.parent / unquote(parts.path)).resolve() if parts.path else source
    if not target.is_relative_to(root):
        return "points outside the site"
    if target.is_dir():
        return "links to a folder (file:// shows a listing); link to its index.html"
    if not target.is_file():
        return "target file does not exist"
    fragment = unquote(parts.fragment)
    checks_anchor = fragment and fragment != "top" and target.suffix.lower() in _HTML_SUFFIXES
    if checks_anchor and fragment not in _page(target, pages).ids:
        return f"no element with id {fragment!r} in {target.relative_to(root)}"
    return None


def _page(path: Path, pages: dict[Path, _Page]) -> _Page:
    """Parse ``path`` once and remember its element ids and URLs."""
    if path not in pages:
        tree = parse_html(path.read_text(encoding="utf-8", errors="replace"))
        page = _Page(set(), [])
        for element in tree.elements:
            values = {name: value for name, value in element.attrs.items() if value is not None}
            if "id" in values:
                page.ids.add(values["id"])
            if element.tag == "a" and "name" in values:
                page.ids.add(values["name"])
            for name in _URL_ATTRIBUTES.get(element.tag, ()):
                if name not in values:
                    continue
                urls = _srcset_urls(values[name]) if name == "srcset" else [values[name]]
                page.links.extend((element.line, url) for url in urls)
            css = [values.get("style", "")]
            if element.tag == "style":
                css.append(element.text)
            page.links.extend((element.line, url) for text in css for url in _css_urls(text))
        pages[path] = page
    return pages[path]


def _srcset_urls(srcset: str) -> list[str]:
    """Return the URLs of a ``srcset`` value (``a.png 1x, b.png 2x``)."""
    return [candidate.split()[0] for candidate in srcset.split(",") if candidate.strip()]


def _css_urls(css: str) -> list[str]:
    """Return the URLs of ``url(...)`` and ``@import`` in a piece of CSS."""
    return [m.group(2) or m.group(4) for m in _CSS_URL.finditer(css) if m.group(2) or m.group(4)]
