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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from runfolio.site.model import ExperimentPage
from runfolio.site.render import format_value
from runfolio.site.run_content import json_value, run_ref
from runfolio.site.sanitize import neutralize_csv_cell
from runfolio.store.layout import is_run_id
from runfolio.store.records import RunRecord
from runfolio.store.serialize import format_float

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
class RowPlan:
    """Where each value of a row comes from, in column order (after the rank, if ranked)."""

    ranked: bool
    param_columns: list[tuple[str, str]]
    metric_keys: list[str]
    tag_keys: list[str]
    branches: Mapping[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class LeaderboardTable:
    """Columns, the ones hidden at first, and one row of values per run."""

    columns: list[Column]
    hidden: list[str]
    rows: list[dict[str, Any]]
    plan: RowPlan | None = None


def leaderboard_table(
    page: ExperimentPage,
    default_columns: tuple[str, ...] = (),
    flats: Sequence[dict[str, Any]] | None = None,
    *,
    with_rows: bool = True,
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
        with_rows: False leaves ``rows`` empty (for :func:`encode_leaderboard`, which
            lays out only the rows it has not cached).
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
    if page.branches is not None:
        columns.append(Column("branches", "Branches", "text", "run"))
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
        known = set(metric_keys)  # a set: thousands of metric keys made a list quadratic
        hidden = [k for k in hidden if not _is_metric_last(k, known)]

    param_columns = [
        (key, column.kind)
        for key, column in zip(param_keys, [c for c in columns if c.group == "params"], strict=True)
    ]
    plan = RowPlan(page.primary is not None, param_columns, metric_keys, tag_keys, page.branches)
    rows = []
    if with_rows:
        for entry, flat in zip(page.entries, flats, strict=True):
            run = entry.run
            values = row_values(run, flat, plan)
            if plan.ranked:
                values.insert(0, entry.rank)
            rows.append(
                {
                    "id": run.run_id,
                    "ref": run_ref(run),
                    "href": f"runs/{run.run_id}.html",
                    "values": values,
                }
            )
    return LeaderboardTable(columns, hidden, rows, plan)


def row_values(run: RunRecord, flat: Mapping[str, Any], plan: RowPlan) -> list[Any]:
    """A run's values in column order, the rank left out (it depends on the other runs).

    Runs over every cell of the table (600,000 for 10,000 runs), so values are laid
    out directly rather than looked up by column key.
    """
    values: list[Any] = [
        run.status,
        run.name,
        run.start_time,
        _cell(run.duration_seconds, "duration"),
        _cell(run.user, "text"),
        _short_commit(run.git.get("commit")),
    ]
    if plan.branches is not None:
        values.append(", ".join(plan.branches.get(run.run_id, ())))
    values += [_cell(flat.get(key), kind) for key, kind in plan.param_columns]
    summaries = [run.metrics.get(key) or _EMPTY for key in plan.metric_keys]
    values += [_cell(summary.get("last"), "number") for summary in summaries]
    for summary in summaries:
        values += [_cell(summary.get(name), "number") for name in SUMMARY_FIELDS]
    tags = run.tags
    values += [_cell(tags.get(key), "text") for key in plan.tag_keys]
    return values


_EMPTY: dict[str, Any] = {}


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
    """The page's data block and both downloads, as :func:`encode_leaderboard` makes them."""

    page_json: str
    download_json: bytes
    csv: bytes


class RowCache(Protocol):
    """Where encoded rows are kept between builds, such as a ``DerivedCache``."""

    def get(self, run_name: str, signature: Any) -> Any:
        """The payload kept for ``run_name`` under ``signature``, else None."""

    def put(self, run_name: str, signature: Any, payload: Any) -> None:
        """Keep ``payload`` for ``run_name`` under ``signature``."""


def encode_leaderboard(
    page: ExperimentPage,
    table: LeaderboardTable,
    flats: Sequence[Mapping[str, Any]] | None = None,
    *,
    cache: RowCache | None = None,
    run_keys: Mapping[str, str] | None = None,
) -> EncodedLeaderboard:
    """Encode the page's data block, the JSON download and the CSV download at once.

    The results equal ``json.dumps(leaderboard_json(...))``, :func:`leaderboard_download_json`
    and :func:`leaderboard_csv`. Each run's values are encoded once, as JSON and as CSV
    cells, without its rank (which moves when another run is added); with ``cache`` and
    the runs' fingerprints in ``run_keys``, a run whose fingerprint and the table's
    columns are unchanged since the previous build is not laid out or encoded again.
    A rebuild after one new run thus pays for one row, not for 10,000.

    Args:
        page: the experiment page.
        table: its table; ``rows`` may be empty (``with_rows=False``) when ``plan`` is set.
        flats: each entry's flat params (computed when missing).
        cache: where encoded rows are kept between builds.
        run_keys: run id → fingerprint of everything the run's row is made from.
    """
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    plan = table.plan
    columns = table.columns
    kinds = [column.kind for column in columns]
    if plan is not None and plan.ranked:
        kinds = kinds[1:]
    signature_text = dumps([[column.key, column.kind] for column in columns])
    if flats is None:
        flats = [entry.run.flat_params() for entry in page.entries]
    given = {row["id"]: row["values"] for row in table.rows}
    page_rows: list[str] = []
    data_rows: list[str] = []
    csv_lines: list[str] = []
    for entry, flat in zip(page.entries, flats, strict=True):
        run = entry.run
        run_id = run.run_id
        key = run_keys.get(run_id) if run_keys is not None else None
        fragments = cache.get(run_id, [key, signature_text]) if cache and key else None
        if not _valid_fragments(fragments):
            if run_id in given:
                values = given[run_id][1:] if plan is None or plan.ranked else given[run_id]
            elif plan is not None:
                values = row_values(run, flat, plan)
            else:
                raise ValueError("a table without rows needs its row plan")
            fragments = [dumps(values), _csv_cells(values, kinds)]
            if cache is not None and key:
                cache.put(run_id, [key, signature_text], fragments)
        values_json, cells = fragments
        id_json = dumps(run_id)
        if plan is None or plan.ranked:
            rank = entry.rank
            rank_json = "null" if rank is None else str(rank)
            values_json = (
                f"[{rank_json}]" if values_json == "[]" else f"[{rank_json},{values_json[1:]}"
            )
            cells = f"{'' if rank is None else rank},{cells}"
        page_rows.append(
            f'{{"id":{id_json},"ref":{dumps(run_ref(run))},'
            f'"href":{dumps(f"runs/{run_id}.html")},"values":{values_json}}}'
        )
        data_rows.append(f"[{id_json}]" if values_json == "[]" else f"[{id_json},{values_json[1:]}")
        csv_lines.append(f"{_csv_id(run_id)},{cells}\n")
    head = leaderboard_json(page, table)
    del head["rows"]
    page_json = f'{dumps(head)[:-1]},"rows":[{",".join(page_rows)}]}}'
    names = dumps(["run_id", *(column.key for column in columns)])
    download = f'{{"columns":{names},"data":[{",".join(data_rows)}]}}\n'
    csv_text = _csv_header(columns) + "".join(csv_lines)
    return EncodedLeaderboard(page_json, download.encode("utf-8"), csv_text.encode("utf-8"))


def _csv_header(columns: Sequence[Column]) -> str:
    """The CSV header line: ``run_id`` and every column key, neutralised."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        ["run_id", *(neutralize_csv_cell(column.key) for column in columns)]
    )
    return buffer.getvalue()


def _csv_id(run_id: str) -> str:
    """The run id cell: an id as it is; anything else quoted and neutralised like text.

    Readers only return runs whose folder name is an id, but the row must stay one row
    of inert cells whatever reaches it (a comma, a newline, a leading ``=``).
    """
    if is_run_id(run_id):
        return run_id
    return _csv_cells([run_id], ["text"])


def _csv_cells(values: list[Any], kinds: list[str]) -> str:
    """The CSV cells of ``values`` (one row, no line end), text neutralised."""
    buffer = io.StringIO()
    cells = [
        _csv_cell(value, kind) if type(value) is str else value
        for value, kind in zip(values, kinds, strict=True)
    ]
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def _valid_fragments(fragments: Any) -> TypeGuard[list[str]]:
    """Whether a cached row is two texts, as :func:`encode_leaderboard` keeps it."""
    return (
        isinstance(fragments, list)
        and len(fragments) == 2
        and all(isinstance(text, str) for text in fragments)
        and fragments[0].startswith("[")
    )


def leaderboard_csv(table: LeaderboardTable) -> bytes:
    """The table as CSV: run id first, then every column; formula-like cells neutralised.

    The reference form of :attr:`EncodedLeaderboard.csv` (which the build writes), from
    the same header and cell encoding.
    """
    kinds = [column.kind for column in table.columns]
    lines = [_csv_header(table.columns)]
    lines += [f"{_csv_id(row['id'])},{_csv_cells(row['values'], kinds)}\n" for row in table.rows]
    return "".join(lines).encode("utf-8")


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
    return format_float(value)


def _short_commit(commit: Any) -> str | None:
    """The first 8 characters of a recorded commit sha."""
    return commit[:8] if isinstance(commit, str) and commit else None


def _is_number(value: Any) -> bool:
    """A real number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_metric_last(key: str, metric_keys: set[str]) -> bool:
    """Whether ``key`` is the last-value column of a metric whose name ends in .min/.max."""
    return key.startswith("metrics.") and key[len("metrics.") :] in metric_keys
