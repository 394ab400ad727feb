"""The text of ``runfolio diff``: the two runs, then their differing (or all) rows."""

from __future__ import annotations

from runfolio.console.cells import MISSING, format_value
from runfolio.console.table import render_table
from runfolio.query.diff import RunDiff

_CELL_WIDTH = 48
_BETTER = {"a": "A", "b": "B", "tie": "tie"}


def render_diff(diff: RunDiff, *, show_all: bool = False) -> str:
    """Return the text of ``runfolio diff`` for ``diff``.

    A header names both runs (and the shared primary metric, if any); then one row per
    compared key, marked ``≠`` when the runs differ, with a BETTER column when a row
    says which run is better. Cells longer than 48 columns are cut.

    Args:
        diff: what :func:`runfolio.query.diff.diff_runs` returned.
        show_all: show equal rows too; otherwise a last line counts the hidden ones.
    """
    header = [
        [label, run.run_id, run.name, run.experiment, run.status]
        for label, run in (("A", diff.run_a), ("B", diff.run_b))
    ]
    out = [render_table(None, header, max_width=_CELL_WIDTH)]
    if diff.primary_metric:
        out.append(f"primary metric: {diff.primary_metric} ({diff.direction})\n")
    rows = diff.rows if show_all else diff.differing
    hidden = len(diff.rows) - len(rows)
    if not rows:
        out.append("\nNo differences in git, params, metrics or tags.\n")
        return "".join(out)
    with_better = any(row.better for row in diff.rows)
    table = []
    for row in rows:
        cells = [
            "≠" if row.differs else "",
            row.section,
            row.key,
            format_value(row.a) if row.has_a else MISSING,
            format_value(row.b) if row.has_b else MISSING,
        ]
        if with_better:
            cells.append(_BETTER.get(row.better or "", ""))
        table.append(cells)
    headers = ["", "SECTION", "KEY", "A", "B"] + (["BETTER"] if with_better else [])
    out.append("\n" + render_table(headers, table, max_width=_CELL_WIDTH))
    if hidden:
        out.append(f"{hidden} equal row{'s' if hidden != 1 else ''} hidden (--all shows them).\n")
    return "".join(out)
