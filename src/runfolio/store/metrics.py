"""``metrics.csv``: one appended row per logged value, and a reader that survives torn tails.

The header is ``key,step,value,timestamp``; ``step`` is an integer, ``value`` a float in
shortest round-trip form (``nan``, ``inf``, ``-inf`` included), ``timestamp`` integer
milliseconds since the Unix epoch. Keys are quoted CSV-style only when they need it.
"""

from __future__ import annotations

import csv
import errno
import io
import math
import operator
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import Any

from runfolio.errors import MalformedRunError
from runfolio.store.atomic import sync_file, sync_folder
from runfolio.store.files import read_store_file

HEADER = "key,step,value,timestamp\n"

# Control characters (C0, DEL, C1) and lone surrogates (undecodable bytes) never belong
# in a key: the API refuses them. (In a number, int() and float() refuse them anyway.)
_BAD_KEY_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_KEY_OF = operator.attrgetter("key")

TORN_TAIL = "incomplete last row"
"""How a problem names a last row cut short: a killed writer's, or a live one's mid-append."""


def problems_of_run(problems: list[str], status: str) -> list[str]:
    """The problems worth reporting for a run in ``status`` (its effective status).

    A live run's last row may be half written at the moment it is read: that is not a
    problem of the run. Once the run is no longer running, a torn row is one.
    """
    if status != "RUNNING":
        return problems
    return [problem for problem in problems if TORN_TAIL not in problem]


def missing_rows(metrics: MetricsFile, summaries: Mapping[str, Any], source: str) -> list[str]:
    """Problems of metrics whose rows are fewer than the ended run's summary counts.

    run.yaml's summary is written only once metrics.csv is on disk, so a shortfall means
    rows were lost afterwards (a truncated copy, a hand edit) or before the durability
    policy existed (a power cut). Rows that are there but malformed already have their
    problems: only a shortfall beyond them is reported (and none for a file that cannot
    be read at all).

    Args:
        metrics: what was read from the file.
        summaries: run.yaml's ``metrics`` mapping (key to summary with ``count``).
        source: the file, as problems name it.
    """
    if metrics.unreadable:
        return []
    counts = Counter(map(_KEY_OF, metrics.rows))
    short = []
    for key, summary in sorted(summaries.items()):
        expected = summary.get("count") if isinstance(summary, Mapping) else None
        found = counts.get(key, 0)
        if isinstance(expected, int) and found < expected:
            short.append((key, found, expected))
    # Each of the file's problems is one line skipped: it may be one of the rows counted.
    if sum(expected - found for _, found, expected in short) <= len(metrics.problems):
        return []
    return [
        f"{source}: {found} row(s) of metric {key!r}, but run.yaml's summary counts "
        f"{expected}; the rest are lost (a power cut, a truncated copy?)"
        for key, found, expected in short
    ]


def csv_field(text: str) -> str:
    """Return ``text`` as one CSV field, quoted only when it holds ``,`` or ``"``."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def open_for_append(path: Path) -> MetricsAppender:
    """Open ``metrics.csv`` for appending, writing the header when the file is new or empty.

    When an earlier writer was killed mid-row, the file ends with a partial row that no
    logging call ever returned from. It is cut off first: left in place, a fragment cut
    inside its timestamp would still parse, as a row with a wrong value.

    Raises:
        MalformedRunError: the file's first line is not the header (missing, or another
            tool's): rows appended to it could never be read, so none are.
        OSError: also when ``path`` is a symlink (ELOOP): rows are never written through
            one, which could point anywhere outside the store.
    """
    _drop_torn_tail(path)
    try:
        fd = _open_no_follow(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL)
        created = True
    except FileExistsError:
        fd = _open_no_follow(path, os.O_RDWR | os.O_APPEND)
        created = False
    try:
        if created or os.fstat(fd).st_size == 0:
            # Empty: nothing to lose, so writing the header is a safe repair.
            appender = MetricsAppender(path, fd, created=created)
            appender.write(HEADER)
            return appender
        _check_header(path, os.pread(fd, len(_HEADER_BYTES) + 8, 0))
    except BaseException:
        os.close(fd)
        raise
    return MetricsAppender(path, fd, created=False)


class MetricsAppender:
    """``metrics.csv`` open for appending whole rows, each write all or nothing.

    Rows go out in one ``os.write`` on an unbuffered descriptor: a call that raised left
    no text behind in a buffer for a later flush to write. ``sync`` makes what was
    written durable (the heartbeat calls it, and ending a run does before run.yaml says
    so); ``write`` never waits for the disk.
    """

    __slots__ = ("_check_at", "_dir_dirty", "_dirty", "_fd", "_synced_at", "path")

    def __init__(self, path: Path, fd: int, *, created: bool) -> None:
        self.path = path
        self._fd = fd
        self._dirty = False
        self._dir_dirty = created  # a new file's name is durable once its folder is synced
        self._synced_at = -math.inf
        self._check_at = monotonic() + LINK_CHECK_INTERVAL

    def write(self, text: str) -> None:
        """Append ``text`` (whole rows): all of it lands, or none of it and this raises.

        Raises:
            OSError: the write failed (disk full, file too large ...); nothing was
                appended. ENOENT when the file was deleted (its run folder removed by
                ``git clean``, say): the text went nowhere.
        """
        data = text.encode()  # keys with lone surrogates were refused
        fd = self._fd
        written = os.write(fd, data)
        if written != len(data):
            self._finish(data, written)
        self._dirty = True
        if monotonic() >= self._check_at:  # a stat per row would double the cost of a row
            self._check_at = monotonic() + LINK_CHECK_INTERVAL
            self._check_linked()

    def sync(self, min_interval: float = 0.0) -> None:
        """Flush what was written to the disk (fsync), unless synced under ``min_interval`` ago.

        Raises:
            OSError: the disk refused the data, or the file was deleted (ENOENT).
        """
        self._check_linked()
        if not (self._dirty or self._dir_dirty):
            return
        now = monotonic()
        if now - self._synced_at < min_interval:
            return
        self._dirty = False
        try:
            sync_file(self._fd)
            if self._dir_dirty:
                sync_folder(self.path.parent)
                self._dir_dirty = False
        except BaseException:
            self._dirty = True
            raise
        self._synced_at = now

    def _check_linked(self) -> None:
        """Raise ENOENT when the file was deleted (link count 0): writes go nowhere."""
        if os.fstat(self._fd).st_nlink == 0:
            raise OSError(errno.ENOENT, DELETED_WHILE_OPEN, str(self.path))

    def close(self) -> None:
        """Close the file (without syncing it; see :meth:`sync`)."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def _finish(self, data: bytes, written: int) -> None:
        """Complete a short write, or take its part back and raise why it stopped."""
        try:
            while written < len(data):
                more = os.write(self._fd, data[written:])
                if more == 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
                written += more
        except OSError:
            # O_APPEND put the part at the end: cut exactly it off again.
            os.ftruncate(self._fd, os.fstat(self._fd).st_size - written)
            raise


LINK_CHECK_INTERVAL = 0.1
"""Seconds between checks, as rows are written, that metrics.csv still has a name."""

DELETED_WHILE_OPEN = (
    "it was deleted while the run was logging (its folder removed, by git clean?); "
    "rows logged since went nowhere"
)

_HEADER_BYTES = HEADER.encode("ascii")


def _check_header(path: Path, start: bytes) -> None:
    """Refuse a file whose first line is not the header (a byte-order mark, CRLF allowed)."""
    line = start.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
    if line + b"\n" != _HEADER_BYTES:
        shown = ascii(line[:40].decode("utf-8", "replace"))
        raise MalformedRunError(
            f"{path}: line 1 is {shown}, not the header {HEADER.strip()!r}; rows appended "
            "to it could not be read, so none are. Move the file aside (or put the header "
            "back as its first line), then log again"
        )


def sync_metrics_file(path: Path) -> None:
    """fsync a ``metrics.csv`` no :class:`MetricsAppender` holds open, and its folder.

    Raises:
        OSError: the disk refused it. A missing file, or a symlink (never written
            through), is not an error: nothing of the run's is there to sync.
    """
    try:
        fd = _open_no_follow(path, os.O_RDONLY)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            return
        raise
    try:
        sync_file(fd)
    finally:
        os.close(fd)
    sync_folder(path.parent)


def _drop_torn_tail(path: Path) -> None:
    """Truncate ``path`` after its last newline, if it does not end with one.

    A file without any newline is emptied only when it is a cut-short header: anything
    else is not runfolio's, and the header check refuses it untouched.
    """
    try:
        fd = _open_no_follow(path, os.O_RDWR)
    except FileNotFoundError:
        return
    with os.fdopen(fd, "rb+") as handle:
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
        handle.seek(0)
        if end and _HEADER_BYTES.startswith(handle.read(len(_HEADER_BYTES))):
            handle.truncate(0)  # a header cut short by a killed writer: start afresh


def _open_no_follow(path: Path, flags: int) -> int:
    """``os.open`` that refuses a symlink with an OSError saying so."""
    if not _NO_FOLLOW and os.path.islink(path):
        raise OSError(errno.ELOOP, "is a symlink; runfolio never writes through one", str(path))
    try:
        return os.open(path, flags | _NO_FOLLOW, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(
                errno.ELOOP, "is a symlink; runfolio never writes through one", str(path)
            ) from exc
        raise


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
    """The rows of one ``metrics.csv`` and the problems met while reading it.

    ``unreadable`` is set when no row could be read at all (the file is a folder or a
    symlink, or its first line is not the header), as opposed to a file with no rows.
    """

    rows: list[MetricRow]
    problems: list[str]
    unreadable: bool = False


def read_metrics(path: Path) -> MetricsFile:
    """Read every well-formed row of ``path``; a missing file has no rows.

    Malformed rows (a torn last line from a killed process, a hand-edit gone wrong) are
    skipped and described in ``problems`` with their line number; they never raise. A
    file that cannot be read at all (a folder, a symlink, which is never followed) has
    no rows and one problem.
    """
    try:
        data = read_store_file(path)
    except MalformedRunError as exc:
        return MetricsFile([], [str(exc)], unreadable=True)
    if data is None:
        return MetricsFile([], [])
    return parse_metrics_bytes(data, str(path))


def parse_metrics_bytes(data: bytes, source: str = "metrics.csv") -> MetricsFile:
    """Parse the bytes of a ``metrics.csv``; rows that are not UTF-8 are skipped and reported."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Undecodable bytes become lone surrogates, which mark their rows as malformed.
        text = data.decode("utf-8", "surrogateescape")
    return parse_metrics(text, source)


def parse_metrics(text: str, source: str = "metrics.csv") -> MetricsFile:
    """Parse the text of a ``metrics.csv`` (see :func:`read_metrics`).

    Accepted beside the written form, as other tools write CSV: a byte-order mark, and
    ``\\r\\n`` line ends (a checkout with git's ``core.autocrlf``).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    parsed = _parse(text, source, check_keys=False)
    # A file has few keys in many rows: check them once, after the fast pass. Only when
    # one is bad is the file parsed again, row by row, to report each bad row's line.
    keys = set(map(_KEY_OF, parsed.rows))
    if any(not key or _BAD_KEY_CHARS.search(key) for key in keys):
        return _parse(text, source, check_keys=True)
    return parsed


def _parse(text: str, source: str, *, check_keys: bool) -> MetricsFile:
    """Parse rows; with ``check_keys``, a row whose key is empty or unprintable is malformed."""
    rows: list[MetricRow] = []
    problems: list[str] = []
    lines = text.split("\n")
    torn_tail = lines[-1] != ""
    if not torn_tail:
        lines.pop()
    if not lines:
        return MetricsFile(rows, problems)
    if lines[0].rstrip("\r") != HEADER.rstrip("\n"):
        problems.append(
            f"{source}: line 1: expected header {HEADER.strip()!r}; no row of it can be read"
        )
        return MetricsFile(rows, problems, unreadable=True)
    append = rows.append
    last_index = len(lines) - 1
    for index in range(1, len(lines)):
        line = lines[index]
        if index == last_index and torn_tail:
            problems.append(f"{source}: line {index + 1}: {TORN_TAIL} skipped (writer killed?)")
            break
        try:
            if '"' in line:
                key, step, value, stamp = next(csv.reader(io.StringIO(line)))
            else:
                key, step, value, stamp = line.split(",")
            if check_keys and (not key or _BAD_KEY_CHARS.search(key)):
                raise ValueError("empty key, control character or undecodable byte")
            append(MetricRow(key, int(step), float(value), int(stamp)))
        except (ValueError, StopIteration, csv.Error):
            if line.strip():
                why = "row is not UTF-8 text," if _undecodable(line) else "malformed row"
                problems.append(f"{source}: line {index + 1}: {why} skipped: {_shown(line)}")
    return MetricsFile(rows, problems)


def _undecodable(line: str) -> bool:
    """Tell whether a line holds bytes that were not UTF-8 (decoded as lone surrogates)."""
    return any("\udc80" <= ch <= "\udcff" for ch in line)


def _shown(line: str) -> str:
    """The start of a skipped row, printable and safe to show anywhere."""
    return ascii(line[:80].encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
