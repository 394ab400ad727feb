"""Read HTML the way the tests need it: parse a page once into a tree, then query it.

One parser for every test that inspects built pages or sanitized markup: elements by tag,
class and attribute, the text inside an element, links, scripts and JSON data blocks.
Importable from every test module (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

# Elements that never have content or an end tag (HTML's void elements).
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)


@dataclass(eq=False)
class Element:
    """One element: its tag, attributes, source line and content (elements and text)."""

    tag: str
    attrs: dict[str, str | None]
    line: int = 0
    parent: Element | None = field(default=None, repr=False)
    children: list[Element | str] = field(default_factory=list, repr=False)

    def attr(self, name: str) -> str:
        """The value of attribute ``name``; ``""`` when it is absent or has no value."""
        return self.attrs.get(name) or ""

    @property
    def classes(self) -> list[str]:
        """The names in the ``class`` attribute."""
        return self.attr("class").split()

    @property
    def text(self) -> str:
        """All text inside the element, tags dropped; text of nested ``<script>`` left out."""
        parts: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag != "script":
                parts.append(child.text)
        return "".join(parts)

    @property
    def elements(self) -> list[Element]:
        """Every element inside this one, in document order."""
        return list(self._descendants())

    def _descendants(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child._descendants()

    def ancestors(self) -> Iterator[Element]:
        """The enclosing elements, innermost first."""
        current = self.parent
        while current is not None:
            yield current
            current = current.parent

    def find(
        self, tag: str | None = None, *, class_: str | None = None, **attrs: str
    ) -> list[Element]:
        """Elements inside this one, in document order, that match every condition given.

        Args:
            tag: The tag name, or None for any.
            class_: A name the ``class`` attribute must contain.
            attrs: Attribute values that must match exactly (``id="x"``, ``type="..."``);
                pass other names with ``**{"data-x": "..."}``.
        """
        return [
            e
            for e in self._descendants()
            if (tag is None or e.tag == tag)
            and (class_ is None or class_ in e.classes)
            and all(e.attrs.get(name) == value for name, value in attrs.items())
        ]

    def one(self, tag: str | None = None, *, class_: str | None = None, **attrs: str) -> Element:
        """The only element matching :meth:`find`'s conditions (an assertion error otherwise)."""
        found = self.find(tag, class_=class_, **attrs)
        assert len(found) == 1, f"{len(found)} elements match {tag} {class_} {attrs}"
        return found[0]

    def texts(self, tag: str, *, class_: str | None = None, **attrs: str) -> list[str]:
        """The stripped text of every matching element, in document order."""
        return [e.text.strip() for e in self.find(tag, class_=class_, **attrs)]

    def links(self) -> list[str]:
        """The ``href`` of every ``<a>`` inside, in document order."""
        return [a.attr("href") for a in self.find("a") if "href" in a.attrs]

    def scripts(self) -> list[Element]:
        """Every ``<script>`` inside, in document order."""
        return self.find("script")


class Page(Element):
    """A whole parsed document: the root of the tree."""

    def __init__(self) -> None:
        super().__init__("#document", {})

    def by_id(self, element_id: str) -> Element:
        """The only element with ``id=element_id``."""
        return self.one(id=element_id)

    def json_block(self, block_id: str) -> object:
        """The parsed content of ``<script type="application/json" id=block_id>``."""
        block = self.one("script", id=block_id)
        assert block.attrs.get("type") == "application/json"
        return json.loads(block.text)


class _TreeBuilder(HTMLParser):
    """Build a :class:`Page` from html.parser's events, as a browser splits tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._open: list[Element] = [self.page]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self._open[-1]
        element = Element(tag, dict(attrs), self.getpos()[0], parent)
        parent.children.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self._open[-1]
        parent.children.append(Element(tag, dict(attrs), self.getpos()[0], parent))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the innermost open element of that tag; a stray end tag changes nothing.
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)


def parse_html(html: str) -> Page:
    """Parse an HTML document or fragment into a tree."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.page


def parse_file(path: Path) -> Page:
    """Parse one UTF-8 HTML file into a tree."""
    return parse_html(path.read_text(encoding="utf-8"))
