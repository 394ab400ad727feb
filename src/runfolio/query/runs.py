"""Reading runs back: one run, one metric's history, or a searched table of runs."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runfolio.errors import MalformedRunError
from runfolio.query.filter import parse_filter, sort_records
from runfolio.store import layout
from runfolio.store.metrics import MetricRow, missing_rows, problems_of_run, read_metrics
from runfolio.store.reader import read_run, read_run_files, refresh_status
from runfolio.store.records import RunRecord
from runfolio.store.scan import Row, find_run, live_row, paused_gc, read_rows, run_row

if TYPE_CHECKING:
    import pandas as pd

_BASE_COLUMNS = [
    "run_id",
    "run_name",
    "experiment_id",
    "experiment_name",
    "status",
    "artifact_uri",
    "start_time",
    "end_time",
    "user_id",
    "parent_run_id",
]


def get_run(root: Path, run_ref: str) -> RunRecord:
    """Read the run whose id is, or uniquely starts with, ``run_ref``.

    Raises:
        RunNotFoundError: no run, or more than one, matches.
        MalformedRunError: the run's files cannot be read.
    """
    experiment, run_dir = find_run(root, run_ref)
    return read_run(run_dir, experiment)


def get_metric_history(root: Path, run_ref: str, key: str) -> list[MetricRow]:
    """Every logged value of metric ``key``, in file order.

    Each row has ``key``, ``step``, ``value`` and ``timestamp``, as MLflow's ``Metric``.
    Rows that cannot be read are left out with a :class:`MetricHistoryWarning` naming
    them, as are rows an ended run's summary counts but the file lacks.

    Raises:
        RunNotFoundError: no run matches ``run_ref``.
        MalformedRunError: metrics.csv cannot be read at all (its first line is not the
            header, say): an empty list would claim nothing was logged.
    """
    experiment, run_dir = find_run(root, run_ref)
    metrics = read_metrics(run_dir / layout.METRICS_FILE)
    if metrics.unreadable:
        raise MalformedRunError(metrics.problems[0])
    rows = [row for row in metrics.rows if row.key == key]
    problems = list(metrics.problems)
    with contextlib.suppress(MalformedRunError):  # no summary to compare with
        run = read_run_files(run_dir, experiment)
        refresh_status(run)
        problems = problems_of_run(problems, run.status)
        if run.stored_status != "RUNNING":
            summary = {key: run.metrics[key]} if key in run.metrics else {}
            problems += missing_rows(metrics, summary, str(run_dir / layout.METRICS_FILE))
    if problems:
        warnings.warn(
            f"history of metric {key!r} of run {run_dir.name} may be incomplete: "
            + "; ".join(problems),
            MetricHistoryWarning,
            stacklevel=2,
        )
    return rows


class MetricHistoryWarning(UserWarning):
    """Some of a metric's history could not be read (the warning names the rows)."""


def search_records(
    root: Path,
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[RunRecord]:
    """Return the runs matching ``filter_string``, ordered as ``order_by`` asks.

    Malformed runs are skipped (see :func:`runfolio.store.scan.scan_store` to list them).

    Raises:
        FilterError: the filter or an order-by clause does not parse.
        ExperimentNotFoundError: a named experiment does not exist.
    """
    # read_rows pauses the collector while it reads: nothing heavy is left to pause for.
    rows = _search(root, experiment_names, filter_string, order_by, max_results, records=True)
    return [row["run"] for row in rows]


def search_runs(
    root: Path,
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[RunRecord]:
    """Search runs like ``mlflow.search_runs``: a DataFrame with MLflow's column names.

    Columns: ``run_id``, ``run_name``, ``experiment_id`` (the experiment folder),
    ``experiment_name``, ``status``, ``artifact_uri``, ``start_time``, ``end_time``
    (UTC datetimes), ``user_id``, ``parent_run_id``, then ``metrics.<key>`` (latest
    values), ``params.<key>`` (nested params dotted) and ``tags.<key>``, each group
    sorted by key. ``output_format="list"`` returns the run records instead.

    Both outputs are made from the rows :func:`_search` selected, so they always name
    the same runs in the same order.

    Raises:
        FilterError: the filter or an order-by clause does not parse.
        ExperimentNotFoundError: a named experiment does not exist.
    """
    if output_format == "list":
        return search_records(root, experiment_names, filter_string, order_by, max_results)
    # One pause around reading and tabulating: a collection in between would walk every
    # row just read.
    with paused_gc():
        rows = _search(root, experiment_names, filter_string, order_by, max_results, records=False)
        return _frame(rows)


def runs_to_frame(runs: Sequence[RunRecord]) -> pd.DataFrame:
    """Build the search_runs DataFrame for ``runs``, in their order."""
    return _frame([_record_row(run) for run in runs])


def _search(
    root: Path,
    experiment_names: Sequence[str] | None,
    filter_string: str,
    order_by: Sequence[str] | None,
    max_results: int | None,
    *,
    records: bool,
) -> list[Row]:
    """Read the store's rows, keep those matching the filter, order and cut them.

    The one path of every search: the filter and the order see the same rows whichever
    output is made from them; with ``records`` each row carries its record as ``run``.
    """
    run_filter = parse_filter(filter_string or "")
    rows = read_rows(root, experiment_names, with_records=records)
    ordered = sort_records([row for row in rows if run_filter.matches(row)], order_by)
    return ordered[:max_results] if max_results is not None else ordered


def _record_row(run: RunRecord) -> Row:
    """The row of a record already read (its status as the record says)."""
    return live_row(run_row(run), run.path, (run.path / layout.ARTIFACTS_DIR).as_uri(), run)


def _frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Build the DataFrame: one frame per group from plain dicts (pandas' fast path), joined."""
    import pandas as pd

    base = pd.DataFrame.from_records(
        [row["attributes"] for row in rows], columns=_BASE_COLUMNS, nrows=len(rows)
    )
    for column in ("start_time", "end_time"):
        base[column] = pd.to_datetime(base[column], unit="ms", utc=True)
    parts = [base]
    for group in ("metrics", "params", "tags"):
        mappings = [row[group] for row in rows]
        part = pd.DataFrame.from_records(mappings, nrows=len(rows)) if rows else pd.DataFrame()
        part = part.reindex(columns=sorted(part.columns))
        if group == "metrics":
            part = part.astype("float64")
        elif group == "params":
            part = part.apply(_param_column)
        part.columns = [f"{group}.{key}" for key in part.columns]
        part.index = base.index
        parts.append(part)
    return pd.concat(parts, axis=1)


def _param_column(column: pd.Series) -> pd.Series:
    """Show list and dict params as text, so each cell holds one value."""
    if column.dtype != object:
        return column
    return column.map(_param_cell, na_action="ignore")


def _param_cell(value: Any) -> Any:
    """Keep scalars typed; show lists and dicts as text so a cell holds one value."""
    return value if not isinstance(value, list | dict) else str(value)
