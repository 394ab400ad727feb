"""The text of ``runfolio ls``: each experiment's header line, then a table of its runs."""

from __future__ import annotations

from collections.abc import Iterable

from runfolio.console.cells import (
    MISSING,
    first_line,
    format_duration,
    format_time,
    format_value,
)
from runfolio.console.safe import visible
from runfolio.console.table import render_table, truncate
from runfolio.query.details import newest_first
from runfolio.store.reader import StoreScan
from runfolio.store.records import ExperimentRecord, RunRecord

_NAME_WIDTH = 40
_SUMMARY_WIDTH = 100


def render_listing(scan: StoreScan, short: dict[str, str], limit: int | None = None) -> str:
    """Return the text of ``runfolio ls``: each experiment's header, then its runs' table.

    The metric column shows the experiment's primary metric, else the alphabetically
    first metric any of its runs logged.

    Args:
        scan: what :func:`runfolio.store.scan.scan_store` found.
        short: short id of each run id (see :func:`runfolio.query.ids.store_short_ids`);
            a run missing from it shows its full id.
        limit: at most this many runs per experiment, newest first (None: all).
    """
    if not scan.experiments:
        return "No experiments in this store.\n"
    by_experiment: dict[str, list[RunRecord]] = {}
    for run in scan.runs:
        by_experiment.setdefault(run.experiment_slug, []).append(run)
    blocks = []
    for experiment in scan.experiments:
        runs = newest_first(by_experiment.get(experiment.slug, []))
        shown = runs if limit is None else runs[:limit]
        metric = experiment.primary_metric or _first_metric(runs)
        lines = [_experiment_header(experiment, len(runs), len(shown))]
        summary = first_line(experiment.description)
        if summary:
            lines.append(f"  {truncate(visible(summary), _SUMMARY_WIDTH)}\n")
        rows = [
            [
                short.get(run.run_id, run.run_id),
                truncate(run.name, _NAME_WIDTH),
                run.status,
                format_time(run.start_time),
                format_duration(run.duration_seconds),
                run.user or MISSING,
                _metric_cell(run, metric),
            ]
            for run in shown
        ]
        headers = ["ID", "NAME", "STATUS", "START (UTC)", "DURATION", "USER", metric or "METRIC"]
        if rows:
            lines.append(render_table(headers, rows, align="llllrlr", indent=2))
        elif not runs:
            lines.append("  (no runs)\n")
        blocks.append("".join(lines))
    return "\n".join(blocks)


def _experiment_header(experiment: ExperimentRecord, total: int, shown: int) -> str:
    """Build the first line of an experiment's block."""
    parts = [experiment.name, f"folder {experiment.slug}/"]
    if experiment.primary_metric:
        parts.append(f"primary metric {experiment.primary_metric} ({experiment.direction})")
    count = f"{total} run" + ("" if total == 1 else "s")
    parts.append(count if shown == total else f"{count}, newest {shown} shown")
    return visible("  ·  ".join(parts)) + "\n"


def _first_metric(runs: Iterable[RunRecord]) -> str | None:
    """Pick the alphabetically first metric any of ``runs`` logged."""
    keys = {key for run in runs for key in run.metrics}
    return min(keys) if keys else None


def _metric_cell(run: RunRecord, metric: str | None) -> str:
    """Show the last value of ``metric`` in ``run`` to 6 significant digits."""
    summary = run.metrics.get(metric) if metric else None
    return MISSING if summary is None else format_value(summary.get("last"), digits=6)
