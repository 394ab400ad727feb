"""Cell text for values the command line shows: params, metrics, times, durations, sizes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

MISSING = "—"
"""What a cell shows for a value that is absent."""


def first_line(text: str | None) -> str:
    """Return the first non-blank line of ``text`` (a description's summary), or ``""``."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def format_value(value: Any, digits: int | None = None) -> str:
    """Return a param, metric or tag value as cell text.

    Args:
        value: any plain value; None shows as ``None`` (a param may hold it).
        digits: significant digits for floats; None keeps the exact shortest form,
            so two different values never print alike.
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value) if digits is None else f"{value:.{digits}g}"
    return str(value)


def format_time(iso: str | None, *, seconds: bool = False) -> str:
    """Return an ISO 8601 time as UTC ``YYYY-MM-DD HH:MM`` (``:SS`` with ``seconds``)."""
    if not iso:
        return MISSING
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_duration(seconds: float | None) -> str:
    """Return a duration as ``850ms``, ``12.3s``, ``4m 05s``, ``2h 07m`` or ``3d 04h``."""
    if seconds is None or seconds != seconds:
        return MISSING
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def format_size(size: int) -> str:
    """Return a byte count as ``512 B``, ``1.5 KB``, ``3.2 MB`` ... (powers of 1024)."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
