"""A fast reader for the common shape of the store's YAML, with PyYAML as the fallback.

PyYAML's C parser is quick, but it builds every value through its Python constructor
and resolver: about 0.4 ms for a run.yaml, the largest cost of reading a store with no
cache (a site build on a fresh clone). Most store files use only a small, regular part
of YAML: block mappings, sequences of scalars, plain or simply quoted text, numbers,
booleans and nulls, exactly as :mod:`runfolio.store.yaml_emit` writes them. This module
reads that part directly and gives up on anything else (comments, anchors, tags, flow
collections, escapes, block scalars, explicit ``? key`` entries, lists of mappings, the
characters YAML reads as line breaks, hand-written oddities) by
raising :class:`NotSimple`, so the caller parses the text with PyYAML instead. Whatever
it does return equals what PyYAML's safe loader returns (a property test holds it to
that), so it changes speed only.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_DEC_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DEC_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+(?:e[-+][0-9]+)?")
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/+]*(?: [A-Za-z0-9_.\-/+()]+)*")
_QUOTED = re.compile(r'"[^"\\]*"')
# What YAML accepts unescaped in a document, minus the characters it reads as line
# breaks or a byte-order mark inside quotes (those make PyYAML fold or refuse the text).
_PRINTABLE = re.compile(r"[\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
_BREAKS = frozenset("\x85\u2028\u2029\ufeff")
# Deeper files are rare and go to PyYAML, whose loader enforces the store's nesting limit.
_MAX_DEPTH = 32
_CONSTANTS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    ".nan": float("nan"),
    ".inf": float("inf"),
    "-.inf": float("-inf"),
}


class NotSimple(ValueError):
    """The text uses YAML this reader does not handle; parse it with PyYAML."""


def load_simple(text: str) -> Any:
    """Parse ``text`` if it is simple block YAML (see the module docstring).

    Raises:
        NotSimple: anything outside that subset (the caller falls back to PyYAML).
    """
    if "#" in text or "\t" in text or "\r" in text or "&" in text or "*" in text:
        raise NotSimple("needs the full parser")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return None
    if len(lines) == 1 and ":" not in lines[0]:
        return _scalar(lines[0])
    root: dict[str, Any] = {}
    # (indent of the keys, mapping) for open mappings; a sequence is open under a key
    stack: list[tuple[int, dict[str, Any]]] = [(0, root)]
    pending_key: tuple[int, dict[str, Any], str] | None = None
    open_list: tuple[int, list[Any]] | None = None
    for line in lines:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if not stripped or line != line.rstrip(" "):
            raise NotSimple("blank or trailing-space line")
        if stripped.startswith("- "):
            if pending_key is not None and indent == pending_key[0]:
                key_indent, parent, key = pending_key
                open_list = (indent, [])
                parent[key] = open_list[1]
                pending_key = None
            if open_list is None or indent != open_list[0]:
                raise NotSimple("sequence item out of place")
            item = stripped[2:]
            if item.startswith(("- ", "-\n")) or _is_mapping_entry(item):
                raise NotSimple("nested collection in a sequence")
            open_list[1].append(_scalar(item))
            continue
        open_list = None
        if pending_key is not None:
            key_indent, parent, key = pending_key
            pending_key = None
            if indent == key_indent + 2:
                if len(stack) >= _MAX_DEPTH:
                    raise NotSimple("deeply nested")
                child: dict[str, Any] = {}
                parent[key] = child
                stack.append((indent, child))
            elif indent > key_indent:
                raise NotSimple("unexpected indentation")
            # else: the key had an empty value (null), and this line is a sibling
        while stack and stack[-1][0] > indent:
            stack.pop()
        if not stack or stack[-1][0] != indent:
            raise NotSimple("indentation does not match a mapping")
        mapping = stack[-1][1]
        key_text, sep, rest = stripped.partition(":")
        if not sep or (rest and not rest.startswith(" ")):
            raise NotSimple("not a mapping entry")
        key = _key(key_text)
        if key in mapping:
            raise NotSimple("duplicate key")
        value = rest[1:] if rest else ""
        if value == "":
            pending_key = (indent, mapping, key)
            mapping[key] = None  # an empty value, unless a block follows
        else:
            mapping[key] = _scalar(value)
    return root


def _is_mapping_entry(item: str) -> bool:
    """Tell whether a sequence item starts a mapping (``- key: value``)."""
    quoted = _QUOTED.match(item)
    if quoted:
        return item[quoted.end() :].startswith(":")
    return ": " in item or item.endswith(":")


def _quoted_text(text: str) -> str:
    """The content of a double-quoted scalar without escapes, if YAML reads it as is."""
    content = text[1:-1]
    if not _PRINTABLE.fullmatch(content) or any(ch in _BREAKS for ch in content):
        raise NotSimple("quoted text with characters YAML treats specially")
    return content


def _key(text: str) -> str:
    """A mapping key that PyYAML would read as this very text."""
    if _QUOTED.fullmatch(text):
        return _quoted_text(text)
    if _PLAIN.fullmatch(text) and _plain_is_text(text):
        return text
    raise NotSimple(f"key {text!r}")


def _scalar(text: str) -> Any:
    """One value: a number, a constant, ``{}``/``[]``, or text PyYAML reads as text."""
    if _DEC_INT.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # over Python's 4300-digit limit: PyYAML's loader reports it
            raise NotSimple("integer too long") from None
    if _DEC_FLOAT.fullmatch(text):
        return float(text)
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if _QUOTED.fullmatch(text):
        return _quoted_text(text)
    if _PLAIN.fullmatch(text) and _plain_is_text(text):
        return text
    raise NotSimple(f"value {text!r}")


@functools.lru_cache(maxsize=8192)
def _plain_is_text(text: str) -> bool:
    """Tell whether YAML 1.1 resolves this plain scalar to a string (not a number, date...)."""
    import yaml

    resolver = yaml.resolver.Resolver()
    # types-PyYAML leaves Resolver.resolve unannotated.
    resolved = resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(resolved == "tag:yaml.org,2002:str")
