"""Comparing two runs: git state, params, final metrics and tags, row by row.

:func:`diff_records` works on two :class:`RunRecord` objects already in hand;
:func:`diff_runs` reads them from a store by id or prefix and also decides which
primary metric, if any, says which run is better. ``runfolio diff`` prints the rows;
the site and the pull-request report can use the same rows.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runfolio.store.reader import read_run
from runfolio.store.records import ExperimentRecord, RunRecord, same_value
from runfolio.store.scan import find_run

SECTIONS = ("git", "params", "metrics", "tags")
"""The row groups of a diff, in the order rows come."""

GIT_KEYS = ("commit", "branch", "dirty")
"""The git fields compared (the remote and the patch path rarely tell runs apart)."""

Side = Literal["a", "b", "tie"]


@dataclass(frozen=True)
class DiffRow:
    """One compared key.

    Attributes:
        section: one of :data:`SECTIONS`.
        key: the git field, dotted param key, metric key or tag key.
        a: run A's value (the metric's last value for metrics); None when absent.
        b: run B's value, likewise.
        has_a: whether run A has the key at all (a param may hold None).
        has_b: whether run B has the key.
        differs: the values differ, or only one run has the key.
        better: for the experiment's primary metric when both runs have a non-NaN
            value: ``"a"``, ``"b"`` or ``"tie"``; None otherwise.
    """

    section: str
    key: str
    a: Any
    b: Any
    has_a: bool
    has_b: bool
    differs: bool
    better: Side | None = None


@dataclass
class RunDiff:
    """Two runs and their compared rows (see :func:`diff_runs`)."""

    run_a: RunRecord
    run_b: RunRecord
    primary_metric: str | None = None
    direction: str = "minimize"
    rows: list[DiffRow] = field(default_factory=list)

    @property
    def differing(self) -> list[DiffRow]:
        """Only the rows whose values differ."""
        return [row for row in self.rows if row.differs]


def diff_runs(root: str | os.PathLike[str], ref_a: str, ref_b: str) -> RunDiff:
    """Read two runs of the store at ``root`` and compare them.

    The better run is judged on the experiment's primary metric when both runs share
    one: the same experiment, or two experiments naming the same metric and direction.

    Args:
        root: the store folder.
        ref_a: run A's id or unique prefix.
        ref_b: run B's id or unique prefix.

    Raises:
        RunNotFoundError: a ref matches no run, or several.
        MalformedRunError: a run's files cannot be read.
    """
    exp_a, dir_a = find_run(Path(root), ref_a)
    exp_b, dir_b = find_run(Path(root), ref_b)
    run_a, run_b = read_run(dir_a, exp_a), read_run(dir_b, exp_b)
    primary, direction = shared_primary_metric(exp_a, exp_b)
    rows = diff_records(run_a, run_b, primary_metric=primary, direction=direction)
    return RunDiff(run_a, run_b, primary, direction, rows)


def shared_primary_metric(
    exp_a: ExperimentRecord, exp_b: ExperimentRecord
) -> tuple[str | None, str]:
    """Return the primary metric and direction two experiments agree on, else ``(None, ...)``."""
    if exp_a.primary_metric and (exp_a.primary_metric, exp_a.direction) == (
        exp_b.primary_metric,
        exp_b.direction,
    ):
        return exp_a.primary_metric, exp_a.direction
    return None, "minimize"


def diff_records(
    run_a: RunRecord,
    run_b: RunRecord,
    *,
    primary_metric: str | None = None,
    direction: str = "minimize",
) -> list[DiffRow]:
    """Compare two runs key by key: git fields, params (dotted), last metric values, tags.

    Every key either run has gets a row, equal or not, sorted by key within its section.
    Values compare as :func:`values_equal` says.

    Args:
        run_a: the first run.
        run_b: the second run.
        primary_metric: the metric whose row gets a ``better`` verdict.
        direction: ``minimize`` or ``maximize``, for ``primary_metric``.

    Returns:
        Rows in :data:`SECTIONS` order.
    """
    rows: list[DiffRow] = []
    git_a = {k: run_a.git[k] for k in GIT_KEYS if k in run_a.git}
    git_b = {k: run_b.git[k] for k in GIT_KEYS if k in run_b.git}
    rows += _compare("git", git_a, git_b, GIT_KEYS)
    rows += _compare("params", run_a.flat_params(), run_b.flat_params())
    metric_rows = _compare("metrics", run_a.latest_metrics(), run_b.latest_metrics())
    rows += [_judge(row, direction) if row.key == primary_metric else row for row in metric_rows]
    rows += _compare("tags", run_a.tags, run_b.tags)
    return rows


values_equal = same_value
"""Two stored values are the same (see :func:`runfolio.store.records.same_value`)."""


def _is_number(value: Any) -> bool:
    """True for ints and floats, not for booleans."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(
    section: str,
    a: dict[str, Any],
    b: dict[str, Any],
    order: tuple[str, ...] | None = None,
) -> list[DiffRow]:
    """Rows for one section: every key of either side, in ``order`` or sorted."""
    keys = [k for k in order if k in a or k in b] if order else sorted(a.keys() | b.keys())
    rows = []
    for key in keys:
        has_a, has_b = key in a, key in b
        value_a, value_b = a.get(key), b.get(key)
        differs = has_a != has_b or not values_equal(value_a, value_b)
        rows.append(DiffRow(section, key, value_a, value_b, has_a, has_b, differs))
    return rows


def _judge(row: DiffRow, direction: str) -> DiffRow:
    """Return the primary metric's row with ``better`` set, when both values compare."""
    a, b = row.a, row.b
    if not (_is_number(a) and _is_number(b)) or math.isnan(a) or math.isnan(b):
        return row
    if a == b:
        better: Side = "tie"
    elif (a < b) == (direction == "minimize"):
        better = "a"
    else:
        better = "b"
    return DiffRow(row.section, row.key, a, b, row.has_a, row.has_b, row.differs, better)
