"""The one neutraliser of store text printed on a terminal.

Everything in a store is untrusted (a pull request can write any byte into a run name,
a note or a recorded command). Printed raw, a control sequence drives the terminal: it
can rewrite what was printed before it (so a command shown before ``--exec`` runs is
not the one that runs), set the window title, or write the clipboard (OSC 52).
Bidirectional controls reorder a line, line separators break it. Every console view
passes its text through :func:`visible` (one value) or :func:`terminal_text` (a whole
multi-line view), which show such characters as escapes, as Python's ``repr`` does.
"""

from __future__ import annotations

import re

# C0 controls and DEL, C1 controls (0x9b is CSI on its own), the line and paragraph
# separators, the bidirectional embeddings, overrides, isolates and marks.
_INVISIBLE = {
    code: ascii(chr(code))[1:-1]
    for block in (
        range(0x20),
        range(0x7F, 0xA0),
        range(0x2028, 0x202F),
        range(0x2066, 0x206A),
        (0x061C, 0x200E, 0x200F),
    )
    for code in block
}
# JSON writes C0 controls as escapes itself; outside strings it holds newlines of layout.
_JSON_UNSAFE_RE = re.compile(
    "[" + "".join(re.escape(chr(code)) for code in _INVISIBLE if code >= 0x7F) + "]"
)
_KEEP_NEWLINES = {code: value for code, value in _INVISIBLE.items() if code != 0x0A}


def visible(text: str) -> str:
    """Return one value with every control, bidirectional and separator character escaped.

    ``"\\x1b]52;c;...\\x07"`` becomes the harmless text ``\\x1b]52;c;...\\x07``; a newline
    becomes ``\\n``, so one value stays on one line.
    """
    return text.translate(_INVISIBLE)


def terminal_text(text: str) -> str:
    """Return a multi-line view with everything :func:`visible` escapes escaped but ``\\n``.

    Escaping is idempotent on its own output (a backslash is kept), so a view whose
    tables escaped their cells already can pass through it again.
    """
    return text.translate(_KEEP_NEWLINES)


def json_escaped(text: str) -> str:
    """Return JSON text with the characters :func:`visible` escapes written as ``\\uXXXX``.

    JSON writes C0 controls so already; C1 controls, separators and bidirectional
    controls only ever appear inside JSON strings, where ``\\uXXXX`` means the same
    character: the data read back is unchanged.
    """
    return _JSON_UNSAFE_RE.sub(lambda match: f"\\u{ord(match.group(0)):04x}", text)
