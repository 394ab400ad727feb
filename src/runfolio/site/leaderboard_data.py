"""An experiment's leaderboard as data: the table the page's script draws, and its downloads.

One table, three forms: the JSON the leaderboard script renders (columns plus value
rows, see ``docs/site.md``), the CSV download (formula cells neutralised) and the JSON
download (one object per run, keyed by column). All three come from
:func:`leaderboard_table`, so they always agree.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from runfolio.site.model import ExperimentPage
from runfolio.site.run_content import json_value, run_ref
from runfolio.site.sanitize import neutralize_csv_cell

SUMMARY_FIELDS = ("min", "max")
"""Metric summaries beyond the last value; hidden until the user shows them."""

_CONFIG_RUN_COLUMNS = {"run_name": "name", "start_time": "start", "user_id": "user"}
"""``default_columns`` names (those of ``search_runs``) whose table column is named otherwise."""

_NON_FINITE = frozenset({"NaN", "inf", "-inf"})


@dataclass(frozen=True)
class Column:
    """One leaderboard column."""

    key: str
    label: str
    kind: str
    group: str

    def as_json(self) -> dict[str, str]:
        """The column as the page's script reads it."""
        return {"key": self.key, "label": self.label, "kind": self.kind, "group": self.group}


@dataclass(frozen=True)
class LeaderboardTable:
    """Columns, the ones hidden at first, and one row of values per run."""

    columns: list[Column]
    hidden: list[str]
    rows: list[dict[str, Any]]


def leaderboard_table(
    page: ExperimentPage, default_columns: tuple[str, ...] = ()
) -> LeaderboardTable:
    """Build the table of one experiment's leaderboard, ranked best first.

    Args:
        page: the experiment page.
        default_columns: the ``default_columns`` setting: column names (``status``,
            ``run_name``, ``params.lr``, ``metrics.rmse`` ...) to show at first; a param
            named there gets a column even when every run has the same value. When
            empty, run fields, varying params and the last value of every metric are
            shown, min/max and tags hidden.
    """
    runs = [entry.run for entry in page.entries]
    columns: list[Column] = []
    if page.primary is not None:
        columns.append(Column("rank", "#", "number", "run"))
    columns += [
        Column("status", "Status", "status", "run"),
        Column("name", "Name", "link", "run"),
        Column("start", "Start", "time", "run"),
        Column("duration", "Duration", "duration", "run"),
        Column("user", "Author", "text", "run"),
        Column("commit", "Commit", "text", "run"),
    ]
    flats = [run.flat_params() for run in runs]
    param_keys = list(page.varying_params)
    for column in default_columns:
        key = column.removeprefix("params.")
        if key != column and key not in param_keys and any(key in flat for flat in flats):
            param_keys.append(key)
    for key in param_keys:
        numeric = all(
            _is_number(flat[key]) for flat in flats if key in flat and flat[key] is not None
        )
        columns.append(Column(f"params.{key}", key, "number" if numeric else "text", "params"))
    metric_keys = list(page.metric_keys)
    if page.primary is not None and page.primary.name in metric_keys:
        metric_keys.remove(page.primary.name)
        metric_keys.insert(0, page.primary.name)
    for key in metric_keys:
        columns.append(Column(f"metrics.{key}", key, "number", "metrics"))
    for key in metric_keys:
        for name in SUMMARY_FIELDS:
            columns.append(Column(f"metrics.{key}.{name}", f"{key} ({name})", "number", "metrics"))
    tag_keys = sorted({key for run in runs for key in run.tags})
    columns += [Column(f"tags.{key}", key, "text", "tags") for key in tag_keys]

    if default_columns:
        shown = {_CONFIG_RUN_COLUMNS.get(key, key) for key in default_columns} | {"name", "rank"}
        hidden = [c.key for c in columns if c.key not in shown]
    else:
        hidden = [c.key for c in columns if c.group == "tags" or c.key.endswith((".min", ".max"))]
        hidden = [k for k in hidden if not _is_metric_last(k, metric_keys)]

    rows = []
    for entry, flat in zip(page.entries, flats, strict=True):
        run = entry.run
        values: dict[str, Any] = {
            "rank": entry.rank,
            "status": run.status,
            "name": run.name,
            "start": run.start_time,
            "duration": run.duration_seconds,
            "user": run.user,
            "commit": _short_commit(run.git.get("commit")),
        }
        for key in param_keys:
            values[f"params.{key}"] = flat.get(key)
        for key in metric_keys:
            summary = run.metrics.get(key) or {}
            values[f"metrics.{key}"] = summary.get("last")
            for name in SUMMARY_FIELDS:
                values[f"metrics.{key}.{name}"] = summary.get(name)
        for key in tag_keys:
            values[f"tags.{key}"] = run.tags.get(key)
        rows.append(
            {
                "id": run.run_id,
                "ref": run_ref(run),
                "href": f"runs/{run.run_id}.html",
                "values": [_cell(values.get(c.key), c.kind) for c in columns],
            }
        )
    return LeaderboardTable(columns, hidden, rows)


def leaderboard_json(page: ExperimentPage, table: LeaderboardTable) -> dict[str, Any]:
    """The ``leaderboard-data`` block of the experiment page."""
    primary = (
        {"key": f"metrics.{page.primary.name}", "direction": page.primary.direction}
        if page.primary is not None
        else None
    )
    return {
        "experiment": page.experiment.name,
        "compareUrl": "../../compare.html",
        "downloads": {"csv": "runs.csv", "json": "runs.json"},
        "primary": primary,
        "columns": [c.as_json() for c in table.columns],
        "hidden": table.hidden,
        "rows": table.rows,
    }


def leaderboard_csv(table: LeaderboardTable) -> bytes:
    """The table as CSV: run id first, then every column; formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run_id", *(neutralize_csv_cell(c.key) for c in table.columns)])
    kinds = [column.kind for column in table.columns]
    for row in table.rows:
        writer.writerow(
            [
                row["id"],
                *(_csv_cell(value, kind) for value, kind in zip(row["values"], kinds, strict=True)),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def leaderboard_download_json(table: LeaderboardTable) -> bytes:
    """The table as JSON: a list of ``{"run_id": ..., column key: value}`` objects."""
    keys = [column.key for column in table.columns]
    records = [
        {"run_id": row["id"], **dict(zip(keys, row["values"], strict=True))} for row in table.rows
    ]
    return (json.dumps(records, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _cell(value: Any, kind: str) -> Any:
    """A value as the table holds it: numbers stay numbers, NaN/inf as words, rest as text."""
    if value is None:
        return None
    if kind in ("number", "duration"):
        if _is_number(value):
            return json_value(value)
        return json_value(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    from runfolio.site.render import format_value

    return format_value(value)


def _csv_cell(value: Any, kind: str) -> str:
    """One CSV cell: a number column's NaN/inf words stay numbers, other text is neutralised."""
    if kind in ("number", "duration") and value in _NON_FINITE:
        # Back to the float the table spelled out: written as the store writes it (nan,
        # -inf), fixed words that carry no formula, where a quote would hide a number.
        return neutralize_csv_cell(float(value))
    return neutralize_csv_cell(value)


def _short_commit(commit: Any) -> str | None:
    """The first 8 characters of a recorded commit sha."""
    return commit[:8] if isinstance(commit, str) and commit else None


def _is_number(value: Any) -> bool:
    """A real number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_metric_last(key: str, metric_keys: list[str]) -> bool:
    """Whether ``key`` is the last-value column of a metric whose name ends in .min/.max."""
    return key.startswith("metrics.") and key[len("metrics.") :] in metric_keys
