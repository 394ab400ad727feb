"""Vega-Lite chart specs for the site, built with Altair.

Every function returns a plain spec dict (``chart.to_dict()``) with its data inlined as
values, sized to its container and with tooltips; the page embeds it as JSON and the
vendored vega-embed bundle draws it (``themes/default/static/vendor/``).

Safety: run names, metric names and param keys and values come from the store and are
untrusted. They reach a spec only as data *values* or as plain-text titles, never as field
names, Vega expressions (``calculate``, ``filter``), ``labelExpr`` or sort arrays (which
Vega-Lite compiles to expressions). Field names are fixed or generated (``p0``, ``r0``, ...)
because Vega-Lite reads ``.`` and ``[`` in a field name as nesting. (Vega-Lite itself
copies titles into the tooltip and aria expressions of the compiled Vega spec, as quoted
string literals; ``tests/site/test_charts.py`` parses those with Vega's own parser to
check they stay literals.) Use :func:`spec_to_json` to put a spec inside an HTML page.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import altair as alt

from runfolio.site.downsample import DEFAULT_MAX_POINTS, Downsampled, downsample
from runfolio.site.sanitize import escape_json_for_script
from runfolio.store.records import DIRECTIONS

HEIGHT = 260
"""Chart height in pixels; the width follows the page (``width: "container"``)."""

FEW_POINTS = 30
"""A metric line with at most this many points also marks each point."""

MAX_CATEGORY_LABELS = 12
"""A categorical parallel-coordinates axis labels each value up to this many values."""


def metric_history_spec(
    series: Mapping[str, Sequence[tuple[int, float]]],
    metric: str,
    *,
    max_points: int = DEFAULT_MAX_POINTS,
) -> dict[str, Any]:
    """Build a line chart of one metric over steps, one line per run.

    Each series is downsampled for display (:func:`~runfolio.site.downsample.downsample`);
    NaN and ±inf values are left off the line and counted in ``usermeta``.

    Args:
        series: Run label → ``(step, value)`` points, in any order. The label is shown in
            the legend and tooltip.
        metric: Metric name, shown as the y-axis title.
        max_points: Budget of points per series.

    Returns:
        A Vega-Lite spec dict. ``usermeta["runfolio"]`` holds, per label, the number of
        points in the input, drawn, and left out as non-finite.
    """
    rows, meta = _history_rows(series, max_points)
    spec = copy.deepcopy(_history_skeleton(metric, len(series) > 1, _few_points(meta)))
    spec["data"] = {"values": rows}
    spec["usermeta"] = {"runfolio": {"kind": "metric_history", "series": meta}}
    return spec


def metric_history_json(
    series: Mapping[str, Sequence[tuple[int, float]] | Downsampled],
    metric: str,
    *,
    max_points: int = DEFAULT_MAX_POINTS,
) -> tuple[str, dict[str, dict[str, int]]]:
    """``spec_to_json(metric_history_spec(...))`` and the spec's per-series counts, faster.

    The chart's fixed part is built with Altair and serialised once per process (per
    legend and point style), with slots for the metric's title, the data and usermeta;
    each call only encodes those. Building it per metric title cost ~8 ms of schema
    validation per distinct metric key, which a hostile metrics.csv with thousands of
    keys turned into minutes. A series may be given already downsampled (a
    :class:`Downsampled`), and is then drawn as is.
    """
    rows, meta = _history_rows(series, max_points)
    usermeta = {"runfolio": {"kind": "metric_history", "series": meta}}
    fill = {
        _TITLE_SLOT: spec_to_json(metric),
        _DATA_SLOT: spec_to_json({"values": rows}),
        _META_SLOT: spec_to_json(usermeta),
    }
    template = _history_template(len(series) > 1, _few_points(meta))
    # Every odd part is a slot: values are inserted in one pass, so a title or label
    # that reads like a slot is never replaced in turn.
    return "".join(fill.get(part, part) if i % 2 else part for i, part in enumerate(template)), meta


_TITLE_SLOT = '"@runfolio-title@"'
_DATA_SLOT = '"@runfolio-data@"'
_META_SLOT = '"@runfolio-usermeta@"'
_SLOT_RE = re.compile(r'("@runfolio-(?:title|data|usermeta)@")')


def _few_points(meta: Mapping[str, Mapping[str, int]]) -> bool:
    """Whether every line is short enough that its points should show (one alone is no line)."""
    return all(counts["drawn"] <= FEW_POINTS for counts in meta.values())


@functools.lru_cache(maxsize=4)
def _history_template(legend: bool, points: bool) -> tuple[str, ...]:
    """The skeleton as JSON text split around its quoted slots (odd parts are the slots)."""
    spec = dict(_history_skeleton(_TITLE_SLOT.strip('"'), legend, points))
    spec["data"] = _DATA_SLOT.strip('"')
    spec["usermeta"] = _META_SLOT.strip('"')
    return tuple(_SLOT_RE.split(spec_to_json(spec)))


def _history_rows(
    series: Mapping[str, Sequence[tuple[int, float]] | Downsampled], max_points: int
) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """The chart rows of every series, downsampled, and per-series point counts."""
    rows: list[dict[str, Any]] = []
    meta: dict[str, dict[str, int]] = {}
    for label, points in series.items():
        reduced = points if isinstance(points, Downsampled) else downsample(points, max_points)
        rows.extend({"run": label, "step": step, "value": value} for step, value in reduced.points)
        meta[label] = {
            "total": reduced.total,
            "drawn": len(reduced.points),
            "nonfinite": reduced.nonfinite,
        }
    return rows, meta


@functools.lru_cache(maxsize=256)
def _history_skeleton(metric: str, legend: bool, points: bool) -> dict[str, Any]:
    """The line chart of one metric without its data, built with Altair once per title.

    Building a chart through Altair costs tens of milliseconds (schema validation); a
    site of 10,000 runs with 10 metrics each draws 100,000 of them, which differ only
    in their data. Callers deep-copy the result and set ``data``.
    """
    chart = (
        # Altair leaves Data.__init__ unannotated (*args, **kwds).
        alt.Chart(alt.Data(values=[]))  # type: ignore[no-untyped-call]
        .mark_line(point=points, interpolate="linear")
        .encode(
            x=alt.X("step:Q", title="step", axis=alt.Axis(format="~d", tickMinStep=1)),
            y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
            color=alt.Color("run:N", title="run", legend=alt.Legend() if legend else None),
            tooltip=[
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("step:Q", title="step"),
                alt.Tooltip("value:Q", title=metric, format=".6~g"),
            ],
        )
        .properties(width="container", height=HEIGHT)
    )
    spec: dict[str, Any] = chart.to_dict()
    spec.pop("data", None)
    return spec


def primary_metric_spec(
    points: Sequence[Mapping[str, Any]], metric: str, direction: str
) -> dict[str, Any]:
    """Build a scatter chart of an experiment's primary metric across runs.

    Each run is a point at its start time; the best run (ties included) is drawn larger
    and in another colour, and a step line shows the best value reached so far.

    Args:
        points: One mapping per run with ``name`` (label), ``start_time`` (ISO string or
            datetime) and ``value`` (the metric); ``run_id`` is shown in the tooltip when
            present. Runs without a start time or a finite value are skipped and counted.
        metric: Metric name, shown as the y-axis title.
        direction: ``"minimize"`` or ``"maximize"``; decides which run is best.

    Returns:
        A Vega-Lite spec dict; ``usermeta["runfolio"]["skipped"]`` counts skipped runs.

    Raises:
        ValueError: If ``direction`` is not one of the two above.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    rows: list[dict[str, Any]] = []
    for point in points:
        value = _finite(point.get("value"))
        start = _iso(point.get("start_time"))
        if value is None or start is None:
            continue
        rows.append(
            {
                "run": str(point.get("name", "")),
                "run_id": str(point.get("run_id", "")),
                "start": start,
                "value": value,
            }
        )
    pick = max if direction == "maximize" else min
    best = pick((row["value"] for row in rows), default=None)
    for row in rows:
        row["rank"] = "best" if row["value"] == best else "other"
    rows.sort(key=lambda row: row["start"])
    running: float | None = None
    for row in rows:
        running = row["value"] if running is None else pick(running, row["value"])
        row["best_so_far"] = running

    base = alt.Chart(_slot("rows")).encode(
        x=alt.X("start:T", title="run start", axis=alt.Axis(format=_time_format(rows))),
    )
    frontier = base.mark_line(interpolate="step-after", opacity=0.7, color="#8a8f98").encode(
        y=alt.Y("best_so_far:Q", title=metric, scale=alt.Scale(zero=False)),
    )
    dots = base.mark_point(filled=True).encode(
        y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
        color=alt.Color(
            "rank:N",
            title=None,
            scale=alt.Scale(domain=["best", "other"], range=["#e4572e", "#4c9be8"]),
        ),
        # Ordinal, not nominal: Vega-Lite warns about size on an unordered field.
        size=alt.Size(
            "rank:O", scale=alt.Scale(domain=["best", "other"], range=[140, 50]), legend=None
        ),
        tooltip=[
            alt.Tooltip("run:N", title="run"),
            alt.Tooltip("run_id:N", title="id"),
            alt.Tooltip("start:T", title="start", format="%Y-%m-%d %H:%M"),
            alt.Tooltip("value:Q", title=metric, format=".6~g"),
        ],
    )
    chart = alt.layer(frontier, dots).properties(width="container", height=HEIGHT)
    spec = _to_dict_with_data(chart, {"rows": rows})
    spec["usermeta"] = {
        "runfolio": {
            "kind": "primary_metric",
            "direction": direction,
            "drawn": len(rows),
            "skipped": len(points) - len(rows),
        }
    }
    return spec


def parallel_coordinates_spec(
    rows: Sequence[Mapping[str, Any]],
    params: Sequence[str],
    metric: str,
    *,
    label_key: str = "name",
) -> dict[str, Any]:
    """Build a parallel-coordinates chart of params against the primary metric.

    One axis per param plus a last axis for the metric, one line per run coloured by the
    metric. Every axis is normalised to 0..1 in Python: numeric params by min/max,
    categorical ones (strings, booleans, mixed) by the rank of their sorted distinct
    values. The wide per-run rows are folded in the browser (Vega-Lite ``fold``), which
    keeps the page small for thousands of runs; a lookup table supplies each axis's title
    and order, and a text layer labels the ends of each axis (every value when
    categorical with few values).

    Args:
        rows: One mapping per run holding ``label_key``, every key of ``params`` and
            ``metric``. Runs without a finite metric value are skipped and counted;
            a missing or non-finite param leaves a gap on that axis.
        params: Param keys to draw, in axis order.
        metric: Key of the primary metric in each row; also its axis and legend title.
        label_key: Key of the run's label in each row.

    Returns:
        A Vega-Lite spec dict; ``usermeta["runfolio"]`` maps generated fields to keys
        (``axes``) and counts skipped runs.
    """
    keys = [*params, metric]
    fields = [f"p{i}" for i in range(len(keys))]
    titles = _unique_titles(keys)
    kept = [row for row in rows if _finite(row.get(metric)) is not None]

    data: list[dict[str, Any]] = [
        {"run": str(row.get(label_key, "")), "metric": _finite(row.get(metric))} for row in kept
    ]
    labels: list[dict[str, Any]] = []
    for index, (key, field) in enumerate(zip(keys, fields, strict=True)):
        raw = [row.get(key) for row in kept]
        scaled, ticks = _normalise(raw)
        for item, value, position in zip(data, raw, scaled, strict=True):
            item[field] = position
            item[f"r{index}"] = _display(value)
        labels.extend(
            {"axis": titles[index], "order": index, "y": y, "text": text} for y, text in ticks
        )
    axes = [
        {"key": field, "axis": title, "order": order}
        for order, (field, title) in enumerate(zip(fields, titles, strict=True))
    ]

    x = alt.X(
        "axis:N",
        title=None,
        sort=alt.EncodingSortField(field="order", op="min"),
        axis=alt.Axis(
            orient="top",
            labelAngle=0 if len(keys) <= 5 else -30,
            labelAlign="center" if len(keys) <= 5 else "left",
            domain=False,
            ticks=False,
            labelLimit=120 if len(keys) <= 5 else 90,
        ),
    )
    y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    lines = (
        alt.Chart(_slot("data"))
        .transform_window(index="row_number()")
        # Altair asks for a list[str | FieldName], which (list being invariant) no list[str] is.
        .transform_fold(fields, as_=["key", "y"])  # type: ignore[arg-type]
        .transform_lookup(
            lookup="key",
            from_=alt.LookupData(_slot("axes"), key="key", fields=["axis", "order"]),
        )
        .mark_line(opacity=0.6)
        .encode(
            x=x,
            y=y,
            order=alt.Order("order:Q"),
            detail=alt.Detail("index:N"),
            # Viridis without its darkest fifth, which vanishes on a dark page.
            color=alt.Color(
                "metric:Q",
                title=metric,
                scale=alt.Scale(scheme=alt.SchemeParams(name="viridis", extent=[0.2, 1.0])),
            ),
            tooltip=[
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("metric:Q", title=metric, format=".6~g"),
                *(
                    alt.Tooltip(f"r{i}:N", title=title)
                    for i, title in enumerate(titles[: len(params)])
                ),
            ],
        )
    )
    rules = (
        alt.Chart(_slot("axes"))
        .mark_rule(color="#888")
        .encode(
            x=x.copy(), y=alt.Y(datum=0, axis=None, scale=alt.Scale(domain=[0, 1])), y2=alt.datum(1)
        )
    )
    ticks = (
        alt.Chart(_slot("labels"))
        .mark_text(align="left", dx=4, fontSize=10, color="#666")
        .encode(x=x.copy(), y=y, text=alt.Text("text:N"))
    )
    chart = (
        alt.layer(rules, lines, ticks)
        .properties(width="container", height=HEIGHT)
        .configure_view(stroke=None)
    )
    spec = _to_dict_with_data(chart, {"data": data, "axes": axes, "labels": labels})
    spec["usermeta"] = {
        "runfolio": {
            "kind": "parallel_coordinates",
            "axes": dict(zip(fields, keys, strict=True)),
            "drawn": len(kept),
            "skipped": len(rows) - len(kept),
        }
    }
    return spec


_SLOT_KEY = "@runfolio-slot"


def _slot(name: str) -> alt.Data:
    """Placeholder inline data, swapped for the real rows after ``to_dict``."""
    return alt.Data(values=[{_SLOT_KEY: name}])  # type: ignore[no-untyped-call]  # see above


def _to_dict_with_data(chart: Any, data: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """``chart.to_dict()`` with each :func:`_slot` replaced by its rows.

    Altair validates and deep-copies inline data on ``to_dict``; for a leaderboard of
    10,000 runs that costs more than the rest of the page, and the rows are plain
    values built here, so they are put in after validation instead.
    """
    spec = chart.to_dict()

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            values = node.get("values")
            if (
                isinstance(values, list)
                and len(values) == 1
                and isinstance(values[0], dict)
                and _SLOT_KEY in values[0]
            ):
                return {**node, "values": data[values[0][_SLOT_KEY]]}
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(item) for item in node]
        return node

    filled: dict[str, Any] = fill(spec)
    return filled


def spec_to_json(spec: Mapping[str, Any] | str) -> str:
    """Serialise a spec for embedding in an HTML page, inside or outside ``<script>``.

    ``<``, ``>``, ``&`` and the JavaScript line separators are written as ``\\u`` escapes,
    so no string in the spec can close a script element or open a tag; the result is still
    plain JSON that ``JSON.parse`` reads back unchanged. NaN and infinities are refused
    (they are not JSON); the spec builders never emit them.

    Raises:
        ValueError: If the spec holds NaN or an infinity.
    """
    text = json.dumps(spec, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return escape_json_for_script(text)


def _time_format(rows: Sequence[Mapping[str, Any]]) -> str:
    """A time-axis label format that tells runs apart at the span they cover."""
    starts = sorted(row["start"] for row in rows)
    if len(starts) < 2:
        return "%Y-%m-%d %H:%M"
    span = (_parse_iso(starts[-1]) - _parse_iso(starts[0])).total_seconds()
    if span < 3600:
        return "%H:%M:%S"
    if span < 2 * 86400:
        return "%b %d %H:%M"
    return "%Y-%m-%d"


def _parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 time as written in the chart rows."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _finite(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _iso(value: Any) -> str | None:
    """Return a start time as an ISO string, or None when absent."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value:
        return value
    return None


def _display(value: Any) -> Any:
    """Return a param value as a JSON-safe tooltip value."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _normalise(values: Sequence[Any]) -> tuple[list[float | None], list[tuple[float, str]]]:
    """Map one axis's values to 0..1 and return them with the tick labels to draw."""
    present = [value for value in values if value is not None]
    numbers = [_finite(value) for value in present]
    if present and all(
        number is not None or (isinstance(value, float) and not math.isfinite(value))
        for value, number in zip(present, numbers, strict=True)
    ):
        finite = [number for number in numbers if number is not None]
        if not finite:
            return [None] * len(values), []
        low, high = min(finite), max(finite)
        span = high - low
        scaled = [
            None if (n := _finite(value)) is None else (0.5 if span == 0 else (n - low) / span)
            for value in values
        ]
        ticks = [(0.5, _fmt(low))] if span == 0 else [(0.0, _fmt(low)), (1.0, _fmt(high))]
        return scaled, ticks
    categories = sorted({_category(value) for value in present})
    if not categories:
        return [None] * len(values), []
    last = max(len(categories) - 1, 1)
    rank = {
        category: (i / last if len(categories) > 1 else 0.5)
        for i, category in enumerate(categories)
    }
    scaled = [None if value is None else rank[_category(value)] for value in values]
    shown = (
        categories if len(categories) <= MAX_CATEGORY_LABELS else [categories[0], categories[-1]]
    )
    return scaled, [(rank[category], category) for category in shown]


def _category(value: Any) -> str:
    """Return the text a categorical value is ranked and labelled by."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fmt(number: float) -> str:
    """Format an axis-end number compactly."""
    return f"{number:.4g}"


def _unique_titles(keys: Sequence[str]) -> list[str]:
    """Return ``keys`` as axis titles, suffixing repeats so no two axes merge."""
    seen: set[str] = set()
    titles = []
    for key in keys:
        title, n = str(key), 2
        while title in seen:
            title, n = f"{key} ({n})", n + 1
        seen.add(title)
        titles.append(title)
    return titles
