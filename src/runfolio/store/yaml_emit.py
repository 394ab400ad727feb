"""A small, fast YAML emitter for the store's data model (PyYAML's representer is the
slowest step of creating a run).

It writes dicts with text keys, lists, text, ints, floats, bools and None, in block
style with sorted keys. Text is written plain only when the YAML 1.1 resolver would read
it back as the same string; otherwise double-quoted with escapes, or as a literal block
for readable multi-line notes. Anything else raises TypeError so the caller can fall back
to PyYAML. The output always loads back (with PyYAML's safe loader and libyaml's) to
equal data; a property test holds it to that.

Two YAML rules shape the output beyond that. U+0085, U+2028 and U+2029 are line breaks
to YAML 1.1 (a literal block ends or chomps at them), so text holding one is always
double-quoted, where they are escaped (``\\N``, ``\\L``, ``\\P``): no file holds them
raw. An implicit key (``key: value``) may be at most 1,024 characters long as written,
so a longer key (a 250-character key of escaped characters, a long key of ``log_dict``)
is written in the explicit form, ``? key`` on one line and ``: value`` on the next.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

# Plain text that no YAML 1.1 implicit resolver claims (bool, int, float, null,
# timestamp, merge, value) and that needs no quoting: a conservative shape plus a check
# against PyYAML's own resolvers.
_PLAIN_SHAPE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/+]*(?: [A-Za-z0-9_.\-/+()]+)*")
_PRINTABLE = re.compile(r"[\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
# What a literal block cannot hold as itself: besides what YAML never takes raw, the
# byte-order mark and the characters YAML reads as line breaks (U+0085, U+2028, U+2029).
_BLOCK_UNSAFE = re.compile(
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
MAX_IMPLICIT_KEY = 1024
"""Longest key, as written (quotes and escapes included), that YAML reads as ``key: value``."""
_ESCAPES = {
    "\0": "\\0",
    "\x07": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    '"': '\\"',
    "\\": "\\\\",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def dump(data: Any) -> str:
    """Return ``data`` as block YAML with sorted keys.

    Raises:
        TypeError: ``data`` holds a value of another type (or a non-text key).
    """
    lines: list[str] = []
    if isinstance(data, dict) and data:
        _mapping(data, 0, lines)
    elif isinstance(data, list) and data:
        _sequence(data, 0, lines)
    else:
        lines.append(_scalar(data, 2))
    return "\n".join(lines) + "\n"


def _mapping(data: dict[Any, Any], indent: int, lines: list[str]) -> None:
    """Append a block mapping at ``indent``."""
    pad = " " * indent
    for key in sorted(data):
        if not isinstance(key, str):
            raise TypeError(f"mapping keys must be text, got {type(key).__name__}")
        value = data[key]
        written = _key(key)
        if len(written) > MAX_IMPLICIT_KEY:
            lines.append(f"{pad}? {written}")
            head = f"{pad}:"
        else:
            head = f"{pad}{written}:"
        if isinstance(value, dict) and value:
            lines.append(head)
            _mapping(value, indent + 2, lines)
        elif isinstance(value, list) and value:
            lines.append(head)
            _sequence(value, indent, lines)
        else:
            lines.append(f"{head} {_scalar(value, indent + 2)}")


def _sequence(items: list[Any], indent: int, lines: list[str]) -> None:
    """Append a block sequence whose dashes sit at ``indent``."""
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            start = len(lines)
            _mapping(item, indent + 2, lines)
            lines[start] = f"{pad}- {lines[start][indent + 2 :]}"
        elif isinstance(item, list) and item:
            start = len(lines)
            _sequence(item, indent + 2, lines)
            lines[start] = f"{pad}- {lines[start][indent + 2 :]}"
        else:
            lines.append(f"{pad}- {_scalar(item, indent + 2)}")


def _scalar(value: Any, indent: int) -> str:
    """Return one scalar (or an empty collection) as YAML text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return _text(value, indent)
    if kind is int:
        return str(value)
    if kind is float:
        return _float(value)
    if kind is dict and not value:
        return "{}"
    if kind is list and not value:
        return "[]"
    raise TypeError(f"cannot write {kind.__name__} values")


def _float(value: float) -> str:
    """A float in shortest round-trip form that YAML 1.1 resolves as a float."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if e and exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}{e}{exponent}"


def _key(text: str) -> str:
    """A mapping key: plain when safe, else double-quoted."""
    return text if _plain_ok(text) else _quoted(text)


def _text(text: str, indent: int) -> str:
    """A text value: plain, a literal block for multi-line notes, or double-quoted."""
    if _plain_ok(text):
        return text
    if "\n" in text.rstrip("\n") and _block_ok(text):
        chomp = "" if text.endswith("\n") else "-"
        pad = " " * indent
        body = "\n".join(f"{pad}{line}" if line else "" for line in text.rstrip("\n").split("\n"))
        return f"|{chomp}\n{body}"
    return _quoted(text)


def _block_ok(text: str) -> bool:
    """Tell whether a literal block reproduces ``text`` exactly."""
    return (
        not text.startswith((" ", "\n"))
        and not text.endswith("\n\n")
        and not _BLOCK_UNSAFE.search(text)
        and not any(line != line.rstrip(" ") or line.startswith("\t") for line in text.split("\n"))
    )


def _quoted(text: str) -> str:
    """Double-quoted text; anything not printable is escaped."""
    out = []
    for index, ch in enumerate(text):
        escape = _ESCAPES.get(ch)
        if escape is not None:
            out.append(escape)
        elif _PRINTABLE.fullmatch(ch) and ch != "\ufeff":
            out.append(ch)
        elif "\ud800" <= ch <= "\udfff":
            # YAML loaders reject a "\uD800" escape: fail as writing it raw would, not later.
            raise UnicodeEncodeError("utf-8", text, index, index + 1, "surrogates not allowed")
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02X}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    return '"' + "".join(out) + '"'


@functools.lru_cache(maxsize=4096)
def _plain_ok(text: str) -> bool:
    """Tell whether ``text`` can be written without quotes and read back as itself."""
    if not _PLAIN_SHAPE.fullmatch(text):
        return False
    import yaml

    resolver = yaml.resolver.Resolver()
    # types-PyYAML leaves Resolver.resolve unannotated.
    resolved = resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(resolved == "tag:yaml.org,2002:str")
