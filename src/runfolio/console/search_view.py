"""The output of ``runfolio search``: a table for people, CSV or JSON for programs.

Columns are named ``metrics.<key>``, ``params.<key>`` (nested params dotted) and
``tags.<key>``, as in :func:`runfolio.query.runs.search_runs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runfolio.console.cells import MISSING, format_time, format_value
from runfolio.console.jsonout import to_json
from runfolio.console.table import render_table
from runfolio.errors import InvalidInputError
from runfolio.query.runs import runs_to_frame
from runfolio.store.records import RunRecord

OUTPUT_FORMATS = ("table", "csv", "json")
"""The formats :func:`render_search` writes."""

_CELL_WIDTH = 30
_PREFIXES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "tag": "tags",
    "tags": "tags",
}
_CSV_BASE = ["run_id", "run_name", "experiment_name", "status", "start_time", "end_time"]


class ColumnError(InvalidInputError):
    """A ``--columns`` name is no metric, param or tag of the runs, or names several."""


def render_search(
    runs: Sequence[RunRecord],
    output_format: str = "table",
    columns: str | None = None,
    short: dict[str, str] | None = None,
) -> str:
    """Return the runs a search found as ``runfolio search --format`` prints them.

    Args:
        runs: the runs, in order (see :func:`runfolio.query.runs.search_records`).
        output_format: ``table`` (metric and param columns by default, or
            ``No runs match.``), ``csv`` (search_runs' columns) or ``json`` (one object
            per run: attributes, then metrics, params and tags; NaN as ``"nan"``).
        columns: the ``--columns`` text (see :func:`resolve_columns`); None for the
            default columns of the format.
        short: short id of each run id for the table (full ids when absent).

    Returns:
        The text, ending in a newline.

    Raises:
        ColumnError: a bare column name is unknown or ambiguous.
        ValueError: an unknown ``output_format``.
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}; use one of {OUTPUT_FORMATS}")
    # Tables keep to metrics and params to stay readable; csv and json carry tags too.
    default = ("metrics", "params") if output_format == "table" else ("metrics", "params", "tags")
    chosen = resolve_columns(columns, runs, default)
    if output_format == "csv":
        return render_search_csv(runs, chosen if columns is not None else None)
    if output_format == "json":
        return to_json([search_item(run, chosen) for run in runs]) + "\n"
    if not runs:
        return "No runs match.\n"
    return render_search_table(runs, chosen, short or {})


def resolve_columns(
    spec: str | None,
    runs: Sequence[RunRecord],
    default: Sequence[str] = ("metrics", "params"),
) -> list[str]:
    """Return the ``metrics.x``/``params.y``/``tags.z`` columns ``spec`` asks for.

    Args:
        spec: comma-separated names; a bare name is looked up among the metrics, the
            params and the tags of ``runs``; ``metric.``/``param.``/``tag.`` prefixes
            may be singular. None means every key of the ``default`` groups that
            ``runs`` have, group by group, sorted.
        runs: the runs that will be shown.
        default: the groups shown when ``spec`` is None.

    Raises:
        ColumnError: a bare name is no metric, param or tag of ``runs``, or it names
            more than one of them. (With no runs, an unknown bare name is a metric.)
    """
    groups: dict[str, set[str]] = {"metrics": set(), "params": set(), "tags": set()}
    for run in runs:
        groups["metrics"].update(run.metrics)
        groups["params"].update(run.flat_params())
        groups["tags"].update(run.tags)
    if spec is None:
        return [f"{group}.{key}" for group in default for key in sorted(groups[group])]
    chosen: list[str] = []
    for name in (part.strip() for part in spec.split(",")):
        if not name:
            continue
        prefix, dot, key = name.partition(".")
        if dot and prefix in _PREFIXES:
            chosen.append(f"{_PREFIXES[prefix]}.{key}")
            continue
        found = [group for group, keys in groups.items() if name in keys]
        if len(found) > 1:
            options = " or ".join(f"{group}.{name}" for group in found)
            raise ColumnError(f"{name!r} is ambiguous; write {options}")
        if not found and runs:
            raise ColumnError(f"no metric, param or tag named {name!r} in the matching runs")
        chosen.append(f"{found[0] if found else 'metrics'}.{name}")
    return chosen


def render_search_table(
    runs: Sequence[RunRecord], columns: Sequence[str], short: dict[str, str]
) -> str:
    """Return the runs as the ``runfolio search`` table.

    Args:
        runs: the rows, in order.
        columns: the ``metrics.x``/``params.y``/``tags.z`` columns after the run's id,
            name, experiment, status and start; metrics show 6 significant digits.
        short: short id of each run id (full ids when absent).
    """
    headers = ["ID", "NAME", "EXPERIMENT", "STATUS", "START (UTC)", *columns]
    rows = []
    for run in runs:
        row = [short.get(run.run_id, run.run_id), run.name, run.experiment, run.status]
        row.append(format_time(run.start_time))
        for column in columns:
            present, value = _column_value(run, column)
            digits = 6 if column.startswith("metrics.") else None
            row.append(format_value(value, digits=digits) if present else MISSING)
        rows.append(row)
    align = "lllll" + "".join("r" if c.startswith("metrics.") else "l" for c in columns)
    return render_table(headers, rows, align=align, max_width=_CELL_WIDTH)


def render_search_csv(runs: Sequence[RunRecord], columns: Sequence[str] | None = None) -> str:
    """Return the runs as CSV with search_runs' (MLflow's) columns (loads pandas).

    Args:
        runs: the rows, in order.
        columns: None for every column of :func:`runfolio.query.runs.runs_to_frame`;
            otherwise the run id, name, experiment, status, start and end, then these
            columns (empty where no run has them).
    """
    frame = runs_to_frame(runs)
    if columns is not None:
        for column in columns:
            if column not in frame.columns:
                frame[column] = None
        frame = frame[_CSV_BASE + list(columns)]
    return frame.to_csv(index=False, lineterminator="\n")


def search_item(run: RunRecord, columns: Sequence[str]) -> dict[str, Any]:
    """Return one run of ``runfolio search --format json`` as plain data.

    Args:
        run: the run.
        columns: the ``metrics.x``/``params.y``/``tags.z`` values to include; a key the
            run lacks is left out of its group.

    Returns:
        ``run_id``, ``run_name``, ``experiment``, ``status``, ``start_time``,
        ``end_time``, ``user``, ``parent_run_id``, then the ``metrics`` (latest
        values), ``params`` and ``tags`` dicts.
    """
    groups: dict[str, dict[str, Any]] = {"metrics": {}, "params": {}, "tags": {}}
    for column in columns:
        present, value = _column_value(run, column)
        if present:
            group, _, key = column.partition(".")
            groups[group][key] = value
    return {
        "run_id": run.run_id,
        "run_name": run.name,
        "experiment": run.experiment,
        "status": run.status,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "user": run.user,
        "parent_run_id": run.parent_run_id,
        **groups,
    }


def _column_value(run: RunRecord, column: str) -> tuple[bool, Any]:
    """Say whether ``run`` has ``column`` (``metrics.x`` ...), and give its value."""
    group, _, key = column.partition(".")
    values: dict[str, Any]
    if group == "metrics":
        values = run.latest_metrics()
    elif group == "params":
        values = run.flat_params()
    else:
        values = run.tags
    return (key in values, values.get(key))
