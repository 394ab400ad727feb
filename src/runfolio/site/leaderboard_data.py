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
from collections.abc import Sequence
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
    page: ExperimentPage,
    default_columns: tuple[str, ...] = (),
    flats: Sequence[dict[str, Any]] | None = None,
) -> LeaderboardTable:
    """Build the table of one experiment's leaderboard, ranked best first.

    Args:
        page: the experiment page.
        default_columns: the ``default_columns`` setting: column names (``status``,
            ``run_name``, ``params.lr``, ``metrics.rmse`` ...) to show at first; a param
            named there gets a column even when every run has the same value. When
            empty, run fields, varying params and the last value of every metric are
            shown, min/max and tags hidden.
        flats: each entry's ``run.flat_params()``, when the caller has them already.
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
    if flats is None:
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

    # Values are laid out in the order of ``columns`` directly: this loop runs over every
    # cell of the table (600,000 for 10,000 runs), on every rebuild.
    param_columns = [
        (key, column.kind)
        for key, column in zip(param_keys, [c for c in columns if c.group == "params"], strict=True)
    ]
    ranked = page.primary is not None
    empty: dict[str, Any] = {}
    rows = []
    for entry, flat in zip(page.entries, flats, strict=True):
        run = entry.run
        values: list[Any] = [entry.rank] if ranked else []
        values += (
            run.status,
            run.name,
            run.start_time,
            _cell(run.duration_seconds, "duration"),
            _cell(run.user, "text"),
            _short_commit(run.git.get("commit")),
        )
        values += [_cell(flat.get(key), kind) for key, kind in param_columns]
        summaries = [run.metrics.get(key) or empty for key in metric_keys]
        values += [_cell(summary.get("last"), "number") for summary in summaries]
        for summary in summaries:
            values += [_cell(summary.get(name), "number") for name in SUMMARY_FIELDS]
        tags = run.tags
        values += [_cell(tags.get(key), "text") for key in tag_keys]
        rows.append(
            {
                "id": run.run_id,
                "ref": run_ref(run),
                "href": f"runs/{run.run_id}.html",
                "values": values,
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


@dataclass(frozen=True)
class EncodedLeaderboard:
    """The page's data block and the JSON download, from one encoding of the values."""

    page_json: str
    download_json: bytes


def encode_leaderboard(page: ExperimentPage, table: LeaderboardTable) -> EncodedLeaderboard:
    """Encode :func:`leaderboard_json` for the page and :func:`leaderboard_download_json`.

    Both hold every value of the table; encoding each row's values once and joining
    the text halves the cost of a leaderboard's JSON, which a rebuild after one new run
    pays for every run of the experiment. The results equal ``json.dumps`` of the two.
    """
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    head = leaderboard_json(page, table)
    del head["rows"]
    values = [dumps(row["values"]) for row in table.rows]
    rows = ",".join(
        f'{{"id":{dumps(row["id"])},"ref":{dumps(row["ref"])},"href":{dumps(row["href"])},'
        f'"values":{text}}}'
        for row, text in zip(table.rows, values, strict=True)
    )
    page_json = f'{dumps(head)[:-1]},"rows":[{rows}]}}'
    columns = dumps(["run_id", *(column.key for column in table.columns)])
    data = ",".join(
        f"[{dumps(row['id'])}{',' if text != '[]' else ''}{text[1:]}"
        for row, text in zip(table.rows, values, strict=True)
    )
    download = f'{{"columns":{columns},"data":[{data}]}}\n'
    return EncodedLeaderboard(page_json, download.encode("utf-8"))


def leaderboard_csv(table: LeaderboardTable) -> bytes:
    """The table as CSV: run id first, then every column; formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run_id", *(neutralize_csv_cell(c.key) for c in table.columns)])
    # The table holds only text, finite numbers and None; the csv module writes
    # numbers with repr (the store's own float format) and None as an empty cell, so
    # only text needs a look: in text columns any text, in number columns the words
    # NaN/inf/-inf. This runs once per cell of a 10,000-run table.
    kinds = [column.kind for column in table.columns]
    lines = []
    for row in table.rows:
        cells = [row["id"], *row["values"]]
        for index, value in enumerate(row["values"], start=1):
            if type(value) is str:
                cells[index] = _csv_cell(value, kinds[index - 1])
        lines.append(cells)
    writer.writerows(lines)
    return buffer.getvalue().encode("utf-8")


def leaderboard_download_json(table: LeaderboardTable) -> bytes:
    """The table as JSON in pandas' "split" layout: ``{"columns": [...], "data": [[...]]}``.

    ``columns`` starts with ``run_id``; each row of ``data`` holds a run's values in that
    order, so ``pandas.read_json(path, orient="split")`` reads the table back. Column
    names once rather than in every record keep a 10,000-run download small and fast.
    """
    data = {
        "columns": ["run_id", *(column.key for column in table.columns)],
        "data": [[row["id"], *row["values"]] for row in table.rows],
    }
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _cell(value: Any, kind: str) -> Any:
    """A value as the table holds it: numbers stay numbers, NaN/inf as words, rest as text."""
    kind_of = type(value)
    # The common cases first, without isinstance chains: this runs once per cell.
    if value is None or kind_of is str:
        return value
    if kind in ("number", "duration") and (
        kind_of is int or (kind_of is float and value - value == 0)  # finite
    ):
        return value
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
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return _format_float(value)
    if kind in ("number", "duration") and value in _NON_FINITE:
        # Back to the float the table spelled out: written as the store writes it (nan,
        # -inf), fixed words that carry no formula, where a quote would hide a number.
        return neutralize_csv_cell(float(value))
    return neutralize_csv_cell(value)


def _format_float(value: float) -> str:
    """A float as the store writes it (shortest round trip)."""
    from runfolio.store.serialize import format_float

    return format_float(value)


def _short_commit(commit: Any) -> str | None:
    """The first 8 characters of a recorded commit sha."""
    return commit[:8] if isinstance(commit, str) and commit else None


def _is_number(value: Any) -> bool:
    """A real number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_metric_last(key: str, metric_keys: list[str]) -> bool:
    """Whether ``key`` is the last-value column of a metric whose name ends in .min/.max."""
    return key.startswith("metrics.") and key[len("metrics.") :] in metric_keys
