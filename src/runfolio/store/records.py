"""Plain records of what a store holds, as read from disk (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
"""Statuses a run.yaml may hold."""

CRASHED = "CRASHED"
"""Derived status of a RUNNING run whose process is gone (never written to disk)."""

DIRECTIONS = ("minimize", "maximize")

MAX_TIME_MS = 9_223_372_036_854
"""The latest time a run may have (2262-04-11, epoch ms): the limit of pandas' timestamps."""


@dataclass(frozen=True)
class ExperimentRecord:
    """An experiment: its folder and what experiment.yaml says."""

    name: str
    slug: str
    path: Path
    description: str = ""
    primary_metric: str | None = None
    direction: str = "minimize"
    created: str | None = None
    problems: tuple[str, ...] = ()
    """Fields of experiment.yaml that were left out, as ``path: 'key' ...`` messages."""


@dataclass
class RunRecord:
    """Everything about one run, as plain data.

    ``status`` is the effective status: a RUNNING run whose process has died reads as
    ``CRASHED``; ``stored_status`` is what run.yaml says. ``metrics`` maps each metric
    key to its summary dict (``last``, ``step``, ``min``, ``max``, ``count``,
    ``timestamp``).
    """

    run_id: str
    experiment: str
    experiment_slug: str
    path: Path
    name: str
    status: str
    stored_status: str
    start_time: str
    end_time: str | None = None
    user: str | None = None
    description: str = ""
    parent_run_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    process: dict[str, Any] = field(default_factory=dict)
    failure: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def start_ms(self) -> int:
        """Start time in milliseconds since the epoch (MLflow's unit)."""
        return iso_to_ms(self.start_time)

    @property
    def end_ms(self) -> int | None:
        """End time in milliseconds since the epoch, None while running."""
        return iso_to_ms(self.end_time) if self.end_time else None

    @property
    def duration_seconds(self) -> float | None:
        """Wall-clock seconds from start to end, None while running."""
        end = self.end_ms
        return None if end is None else (end - self.start_ms) / 1000

    def flat_params(self) -> dict[str, Any]:
        """Params with nested dicts flattened to dotted keys (``optimizer.lr``)."""
        return flatten(self.params)

    def latest_metrics(self) -> dict[str, float]:
        """The latest value of every metric."""
        return {key: summary["last"] for key, summary in self.metrics.items()}


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts to ``a.b`` keys; other values (lists included) stay as they are."""
    if not prefix and not any(type(value) is dict for value in params.values()):
        return dict(params)  # the common flat case, without rebuilding every key
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def same_value(a: Any, b: Any) -> bool:
    """Tell whether two stored values are the same value, as the store sees them.

    Types must match (``1`` is not ``1.0`` is not ``True`` is not ``"1"``), so equal
    values also print alike; floats compare by their exact text, so NaN equals NaN and
    -0.0 differs from 0.0. Logging a param again with a same value is a repeat, with any
    other value a change; ``runfolio diff`` marks rows whose values are not the same.
    """
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def now_iso() -> str:
    """The current UTC time as ISO 8601 with milliseconds and a ``Z``."""
    return ms_to_iso(int(datetime.now(UTC).timestamp() * 1000))


def ms_to_iso(ms: int) -> str:
    """Milliseconds since the epoch as ``2026-11-27T04:56:04.123Z``."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_to_ms(text: str) -> int:
    """Parse an ISO 8601 time (``Z`` or offset; naive means UTC) to epoch milliseconds.

    Raises:
        ValueError: the text is not an ISO 8601 time.
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)
