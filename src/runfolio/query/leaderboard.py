"""Ranking an experiment's runs by its primary metric.

The site's leaderboards, the home page's "best value" and the pull-request report's
"ranked against the base" all rank the same way, so the rules live here once:

* the primary metric is the one configured for the site (``runfolio.yaml``), else the
  one in ``experiment.yaml``; without either an experiment has no ranking;
* a run's value is the metric's latest value (MLflow's "latest": highest step);
* runs whose value is missing, NaN or infinite are not ranked and come last;
* ties share a rank (1, 1, 3), and among equals the earlier run comes first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runfolio.query.diff import values_equal
from runfolio.store.records import DIRECTIONS, ExperimentRecord, RunRecord


@dataclass(frozen=True)
class PrimaryMetric:
    """The metric an experiment is ranked by, and whether lower or higher is better."""

    name: str
    direction: str = "minimize"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")

    def better(self, a: float, b: float) -> bool:
        """Tell whether value ``a`` is strictly better than ``b``."""
        return a < b if self.direction == "minimize" else a > b


@dataclass(frozen=True)
class LeaderboardEntry:
    """One run on a leaderboard: its rank (None when unranked) and its metric value."""

    run: RunRecord
    rank: int | None
    value: float | None


def primary_metric_of(
    experiment: ExperimentRecord, override: PrimaryMetric | None = None
) -> PrimaryMetric | None:
    """The primary metric of ``experiment``: the override (site settings) first."""
    if override is not None:
        return override
    if experiment.primary_metric:
        return PrimaryMetric(experiment.primary_metric, experiment.direction)
    return None


def metric_value(run: RunRecord, metric: str) -> float | None:
    """The latest finite value of ``metric`` in ``run``; None when absent, NaN or infinite."""
    summary = run.metrics.get(metric)
    value = summary.get("last") if summary else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def rank_runs(runs: Iterable[RunRecord], primary: PrimaryMetric | None) -> list[LeaderboardEntry]:
    """Order runs best first by ``primary``; unranked runs follow, newest first.

    Without a primary metric every run is unranked and the order is newest first.
    """
    valued: list[tuple[float, RunRecord]] = []
    unranked: list[RunRecord] = []
    for run in runs:
        value = metric_value(run, primary.name) if primary else None
        if value is None:
            unranked.append(run)
        else:
            valued.append((value, run))
    sign = 1.0 if primary is None or primary.direction == "minimize" else -1.0
    valued.sort(key=lambda item: (sign * item[0], item[1].start_time, item[1].run_id))
    entries: list[LeaderboardEntry] = []
    previous: float | None = None
    rank = 0
    for position, (value, run) in enumerate(valued, start=1):
        if previous is None or value != previous:
            rank = position
        previous = value
        entries.append(LeaderboardEntry(run, rank, value))
    unranked.sort(key=lambda run: (run.start_time, run.run_id), reverse=True)
    entries.extend(LeaderboardEntry(run, None, None) for run in unranked)
    return entries


def best_entry(entries: Sequence[LeaderboardEntry]) -> LeaderboardEntry | None:
    """The top-ranked entry, or None when no run has a value."""
    return entries[0] if entries and entries[0].rank is not None else None


def varying_params(
    runs: Sequence[RunRecord], flats: Sequence[Mapping[str, Any]] | None = None
) -> list[str]:
    """Dotted param keys whose value is not the same in every run (or missing in some).

    These are the columns worth showing on a leaderboard: a param every run shares
    tells the runs apart no better than the experiment's name. ``flats``, when given,
    are the runs' ``flat_params()``, in the same order.
    """
    if flats is None:
        flats = [run.flat_params() for run in runs]
    keys = sorted({key for flat in flats for key in flat})
    varying = []
    missing: Any = object()
    for key in keys:
        values = [flat.get(key, missing) for flat in flats]
        first = values[0]
        if first is missing or any(
            value is missing or not values_equal(value, first) for value in values[1:]
        ):
            varying.append(key)
    return varying


def children_by_parent(runs: Iterable[RunRecord]) -> Mapping[str, list[RunRecord]]:
    """Child runs grouped by their parent's id, oldest first."""
    children: dict[str, list[RunRecord]] = {}
    for run in runs:
        if run.parent_run_id:
            children.setdefault(run.parent_run_id, []).append(run)
    for group in children.values():
        group.sort(key=lambda run: (run.start_time, run.run_id))
    return children
