"""A run page cut by its budgets, seen in Chromium: every "truncated" note is visible.

The store is written by hand with small budgets in ``runfolio.yaml``, so one page shows
all of them at once: notes, charts, the metrics table and the previews (issue 12,
point 25; the hostile stores themselves are in ``tests/hardening/test_budgets.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from runfolio.site.build import build_site

if TYPE_CHECKING:
    from playwright.sync_api import Page

RUN_ID = "20261207-120000-bbbbbbbbbb"


def _store(root: Path) -> Path:
    """One run with more notes, metrics and previewed files than its budgets allow."""
    (root / "runfolio.yaml").write_text(
        "limits:\n  notes_chars: 200\n  charts: 2\n  table_rows: 4\n  page_preview_size: 2 KB\n"
    )
    run = root / "runs" / "e" / RUN_ID
    (run / "artifacts").mkdir(parents=True)
    (root / "runs" / "e" / "experiment.yaml").write_text("name: e\n")
    keys = [f"metric_{index}" for index in range(6)]
    record = {
        "format": 1,
        "id": RUN_ID,
        "experiment": "e",
        "name": "over-budget",
        "status": "FINISHED",
        "start_time": "2026-12-07T12:00:00.000Z",
        "end_time": "2026-12-07T12:01:00.000Z",
        "description": "**Long notes.** " + "word " * 100,
        "metrics": {key: {"count": 2, "last": 1.0, "min": 0.0, "max": 1.0} for key in keys},
        "tags": {},
        "git": {},
        "environment": {},
        "parent_run_id": None,
    }
    (run / "run.yaml").write_text(yaml.safe_dump(record))
    rows = "".join(f"{key},{step},{step},1796681758934\n" for key in keys for step in (0, 1))
    (run / "metrics.csv").write_text("key,step,value,timestamp\n" + rows)
    for name in ("a.log", "b.log", "c.log"):
        (run / "artifacts" / name).write_text(f"{name}\n" * 250)
    return root / "runs"


def test_truncated_notes_are_visible_in_chromium(tmp_path: Path, page: Page) -> None:
    site = tmp_path / "site"
    build_site(_store(tmp_path), site, config_root=tmp_path)
    page.goto((site / "experiments" / "e" / "runs" / f"{RUN_ID}.html").as_uri())
    notes = page.locator("p.note.truncated")
    texts = [text.strip() for text in notes.all_inner_texts()]
    assert texts == [
        "Truncated: showing the first 4 of 6 rows (limits.table_rows); all of them are in "
        "run.yaml (metrics) in the run's folder and the run's data.",
        "Truncated: charts of 4 more metrics are left out (at most 2 charts a page, "
        "limits.charts); their values are in the table above and their history in the "
        "run's data and metrics.csv.",
        "Truncated: showing the first 200 of 516 characters: the whole text is in run.yaml "
        "(description) in the run's folder.",
        "Truncated: 2 files are listed without a preview: the previews on this page reached "
        "their limit of 2.0 KB (limits.page_preview_size). Download them, or read them in "
        "the run's folder.",
    ]
    for index in range(notes.count()):
        assert notes.nth(index).is_visible()
    assert page.locator(".chart-card svg, .chart-card canvas").count() == 2
    assert page.locator("pre.artifact-body").count() == 1
    page.screenshot(path=str(tmp_path / "budget-page.png"), full_page=True)
