"""Aligned plain-text tables that measure text in terminal columns (wide characters count 2).

Standard library only: ``runfolio ls`` renders its tables without pandas, so it stays quick.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from runfolio.console.safe import visible

_ELLIPSIS = "…"


def display_width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (wide East Asian characters count 2)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def truncate(text: str, width: int) -> str:
    """Shorten ``text`` to at most ``width`` columns, ending in ``…`` when cut."""
    if display_width(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for ch in text:
        step = display_width(ch)
        if used + step > width - 1:
            break
        kept.append(ch)
        used += step
    return "".join(kept) + _ELLIPSIS


def render_table(
    headers: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    *,
    align: str | None = None,
    indent: int = 0,
    max_width: int | None = None,
) -> str:
    """Return ``rows`` as an aligned text table, one line per row.

    Args:
        headers: one title per column, printed first; None for a table without a header
            line (a list of ``key  value`` pairs, say).
        rows: cells as text, all rows as long as ``headers`` (or as each other).
        align: one letter per column, ``l`` (default) or ``r``; right-align numbers.
        indent: spaces before every line.
        max_width: cut longer cells to this many columns (with ``…``).

    Returns:
        The table, ending in a newline (``""`` when there is nothing to show); trailing
        spaces are stripped from each line.
    """
    table = [[visible(cell) for cell in headers]] if headers is not None else []
    body = [[visible(cell) for cell in row] for row in rows]
    if max_width is not None:
        body = [[truncate(cell, max_width) for cell in row] for row in body]
    table += body
    if not table:
        return ""
    columns = max(len(row) for row in table)
    alignment = (align or "").ljust(columns, "l")
    widths = [0] * columns
    for row in table:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], display_width(cell))
    pad = " " * indent
    lines = []
    for row in table:
        cells = []
        for index, cell in enumerate(row):
            gap = " " * (widths[index] - display_width(cell))
            cells.append(gap + cell if alignment[index] == "r" else cell + gap)
        lines.append((pad + "  ".join(cells)).rstrip())
    return "\n".join(lines) + "\n"
