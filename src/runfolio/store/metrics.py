"""``metrics.csv``: one appended row per logged value, and a reader that survives torn tails.

The header is ``key,step,value,timestamp``; ``step`` is an integer, ``value`` a float in
shortest round-trip form (``nan``, ``inf``, ``-inf`` included), ``timestamp`` integer
milliseconds since the Unix epoch. Keys are quoted CSV-style only when they need it.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

HEADER = "key,step,value,timestamp\n"


def csv_field(text: str) -> str:
    """Return ``text`` as one CSV field, quoted only when it holds ``,`` or ``"``."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def open_for_append(path: Path) -> TextIO:
    """Open ``metrics.csv`` for appending, writing the header when the file is new.

    When an earlier writer was killed mid-row, the file ends with a partial row that no
    logging call ever returned from. It is cut off first: left in place, a fragment cut
    inside its timestamp would still parse, as a row with a wrong value.
    """
    _drop_torn_tail(path)
    handle = open(path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115 - kept open by the run
    if handle.tell() == 0:
        handle.write(HEADER)
        handle.flush()
    return handle


def _drop_torn_tail(path: Path) -> None:
    """Truncate ``path`` after its last newline, if it does not end with one."""
    try:
        handle = open(path, "rb+")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return
    with handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            start = max(0, position - 65536)
            handle.seek(start)
            chunk = handle.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                cut = start + newline + 1
                if cut != end:
                    handle.truncate(cut)
                return
            position = start
        if end:
            handle.truncate(0)  # not even a complete header: start afresh


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One logged value."""

    key: str
    step: int
    value: float
    timestamp: int


@dataclass(slots=True)
class MetricSummary:
    """What run.yaml keeps per metric: latest value and its step, min, max, count.

    "Latest" follows MLflow: the value at the highest step, ties broken by the later
    timestamp, then by the later row. Min and max ignore NaN (None when all are NaN).
    """

    last: float
    step: int
    timestamp: int
    min: float | None
    max: float | None
    count: int

    @classmethod
    def first(cls, value: float, step: int, timestamp: int) -> MetricSummary:
        """Start a summary from the first value of a metric."""
        finite = None if math.isnan(value) else value
        return cls(value, step, timestamp, finite, finite, 1)

    def add(self, value: float, step: int, timestamp: int) -> None:
        """Fold one more value into the summary."""
        self.count += 1
        if step > self.step or (step == self.step and timestamp >= self.timestamp):
            self.last, self.step, self.timestamp = value, step, timestamp
        if value == value:  # not NaN
            if self.min is None or value < self.min:
                self.min = value
            if self.max is None or value > self.max:
                self.max = value

    def to_dict(self) -> dict[str, float | int | None]:
        """Return the summary as stored under ``metrics:`` in run.yaml."""
        return {
            "count": self.count,
            "last": self.last,
            "max": self.max,
            "min": self.min,
            "step": self.step,
            "timestamp": self.timestamp,
        }


def summarize(rows: Iterable[MetricRow]) -> dict[str, MetricSummary]:
    """Return a summary per metric key for ``rows`` in file order."""
    summaries: dict[str, MetricSummary] = {}
    for row in rows:
        summary = summaries.get(row.key)
        if summary is None:
            summaries[row.key] = MetricSummary.first(row.value, row.step, row.timestamp)
        else:
            summary.add(row.value, row.step, row.timestamp)
    return summaries


@dataclass
class MetricsFile:
    """The rows of one ``metrics.csv`` and the problems met while reading it."""

    rows: list[MetricRow]
    problems: list[str]


def read_metrics(path: Path) -> MetricsFile:
    """Read every well-formed row of ``path``; a missing file has no rows.

    Malformed rows (a torn last line from a killed process, a hand-edit gone wrong) are
    skipped and described in ``problems`` with their line number; they never raise.
    """
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        return MetricsFile([], [])
    return parse_metrics(text, str(path))


def parse_metrics(text: str, source: str = "metrics.csv") -> MetricsFile:
    """Parse the text of a ``metrics.csv`` (see :func:`read_metrics`)."""
    rows: list[MetricRow] = []
    problems: list[str] = []
    lines = text.split("\n")
    torn_tail = lines[-1] != ""
    if not torn_tail:
        lines.pop()
    if not lines:
        return MetricsFile(rows, problems)
    if lines[0].rstrip("\r") != HEADER.rstrip("\n"):
        problems.append(f"{source}: line 1: expected header {HEADER.strip()!r}")
        return MetricsFile(rows, problems)
    append = rows.append
    last_index = len(lines) - 1
    for index in range(1, len(lines)):
        line = lines[index]
        if index == last_index and torn_tail:
            problems.append(
                f"{source}: line {index + 1}: incomplete last row skipped (writer killed?)"
            )
            break
        try:
            if '"' in line:
                key, step, value, stamp = next(csv.reader(io.StringIO(line)))
            else:
                key, step, value, stamp = line.split(",")
            append(MetricRow(key, int(step), float(value), int(stamp)))
        except (ValueError, StopIteration):
            if line.strip():
                problems.append(f"{source}: line {index + 1}: malformed row skipped: {line[:80]!r}")
    return MetricsFile(rows, problems)
