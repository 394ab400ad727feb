"""Denial of service from a small pull request (issue 12, point 25): every input has a budget.

Each hostile store is written by hand, as a pull request's author would write it, and
built. The checks are on the work done (page size, charts drawn, Altair charts built,
linear growth between two input sizes) and on the visible "truncated" notes; the one
subprocess build has a timeout only to turn a hang into a failure.

Before the fix: 40 kB of notes took 33 s (Python-Markdown rescans the rest of the text
from every unclosed ``[``), 20,000 nested ``<ul><li>`` took 19 s in the sanitizer, a store
of many previewed files or deeply nested JSON made a page of 234 MB, and every distinct
metric key cost ~8 ms of Altair schema validation.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import altair as alt
import pytest
import yaml

from runfolio.config_values import DEFAULT_LIMITS, SiteLimits
from runfolio.site.build import build_site
from runfolio.site.config import SiteConfigError, parse_site_config

EXPERIMENT = "e"
RUN_ID = "20261207-120000-aaaaaaaaaa"
PAGE = f"experiments/{EXPERIMENT}/runs/{RUN_ID}.html"


def write_run(
    root: Path,
    *,
    notes: str = "",
    metric_keys: int = 0,
    steps: int = 2,
    files: dict[str, str] | None = None,
    run_id: str = RUN_ID,
) -> Path:
    """Write one finished run by hand (no tracking API) into ``root/runs``; return the store."""
    store = root / "runs"
    run = store / EXPERIMENT / run_id
    (run / "artifacts").mkdir(parents=True)
    (store / EXPERIMENT / "experiment.yaml").write_text(f"name: {EXPERIMENT}\n")
    keys = [f"m{index:05d}" for index in range(metric_keys)]
    summary = {
        key: {"count": steps, "last": 1.0, "min": 0.0, "max": 1.0, "step": steps - 1}
        for key in keys
    }
    record: dict[str, Any] = {
        "format": 1,
        "id": run_id,
        "experiment": EXPERIMENT,
        "name": "hostile",
        "status": "FINISHED",
        "start_time": "2026-12-07T12:00:00.000Z",
        "end_time": "2026-12-07T12:01:00.000Z",
        "description": notes,
        "metrics": summary,
        "tags": {},
        "git": {},
        "environment": {},
        "parent_run_id": None,
    }
    (run / "run.yaml").write_text(yaml.safe_dump(record), encoding="utf-8")
    rows = "".join(
        f"{key},{step},{step / 2},1796681758934\n" for key in keys for step in range(steps)
    )
    (run / "metrics.csv").write_text("key,step,value,timestamp\n" + rows)
    for name, text in (files or {}).items():
        (run / "artifacts" / name).write_text(text, encoding="utf-8")
    return store


def build_page(root: Path, store: Path) -> str:
    """Build the site of ``store`` and return the run page's HTML."""
    site = root / "site"
    build_site(store, site, config_root=root, clean=True)
    return (site / PAGE).read_text(encoding="utf-8")


def truncated_notes(html: str) -> list[str]:
    """The text of every "truncated" note on a page."""
    found = re.findall(r'<p class="note truncated">(.*?)</p>', html, re.DOTALL)
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", note)) for note in found]


# Hostile notes: each was quadratic (or worse) in the markdown renderer or the sanitizer.
NOTES = {
    "unclosed links": "[a](",
    "unclosed tags": "<a ",
    "nested quotes": ">",
    "nested lists": "<ul><li>",
    "unclosed bold": "<b>",
}


def test_hostile_notes_build_fast_and_deep_nesting_is_shown_as_text(tmp_path: Path) -> None:
    """100 kB (the default budget) of each: minutes before, a few seconds now."""
    for index, unit in enumerate(NOTES.values()):
        write_run(tmp_path / str(index), notes=unit * (DEFAULT_LIMITS.notes_chars // len(unit)))
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from runfolio.site.build import build_site

        for folder in sorted(Path(sys.argv[1]).iterdir()):
            build_site(folder / "runs", folder / "site", config_root=folder)
        """
    )
    # A timeout, not a measurement: before the fix this build ran for many minutes.
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=240)
    for index, name in enumerate(NOTES):
        page = (tmp_path / str(index) / "site" / PAGE).read_text(encoding="utf-8")
        assert not truncated_notes(page), name  # within the budget: nothing left out
        notes = page.split('id="notes-heading"')[1].split("</section>")[0]
        if name in ("nested quotes", "nested lists", "unclosed bold"):
            assert "Shown as plain text: it nests more than 32 levels deep." in notes, name
            assert "<blockquote>" not in notes and "<ul>" not in notes, name


def test_notes_past_the_budget_are_cut_with_a_note(tmp_path: Path) -> None:
    """A page holds the first notes_chars characters, then says where the rest is."""
    sizes = {}
    for count in (150_000, 300_000):
        store = write_run(tmp_path / str(count), notes="word " * (count // 5))
        page = build_page(tmp_path / str(count), store)
        sizes[count] = len(page)
        assert truncated_notes(page) == [
            f"Truncated: showing the first {DEFAULT_LIMITS.notes_chars:,} of {count:,} "
            "characters: the whole text is in run.yaml (description) in the run's folder."
        ]
    # Twice the notes, the same page: only the budget is rendered.
    assert sizes[150_000] == sizes[300_000]


def nested_json(depth: int, items: int) -> str:
    """A JSON value whose indented form grows with depth times items."""
    return "[" * depth + ",".join(["0"] * items) + "]" * depth


def test_previews_have_a_page_budget(tmp_path: Path) -> None:
    """Many files each at the per-file limit, and nested JSON, stay within the page budget.

    Before the fix 30 such files made a 7.7 MB page, and the nested JSON alone, indented,
    24 MB; every file now counts against limits.page_preview_size.
    """
    per_file = DEFAULT_LIMITS.preview_size
    sizes = {}
    for count in (30, 60):
        files = {f"log{i:03d}.txt": "x" * (per_file - 1) + "\n" for i in range(count)}
        files["deep.json"] = nested_json(400, 60_000)
        store = write_run(tmp_path / str(count), files=files)
        page = build_page(tmp_path / str(count), store)
        sizes[count] = len(page.encode())
        assert len(page.encode()) <= DEFAULT_LIMITS.page_preview_size + 200_000
        left_out = count + 1 - page.count('<pre class="code artifact-body"')
        assert left_out > 0
        assert truncated_notes(page) == [
            f"Truncated: {left_out:,} files are listed without a preview: the previews on "
            "this page reached their limit of 4.0 MB (limits.page_preview_size). "
            "Download them, or read them in the run's folder."
        ]
        # Each file left out says why, and keeps its download link.
        assert page.count("Not previewed: the previews on this page reached") == left_out
        assert page.count('class="download"') == count + 1
    assert abs(sizes[60] - sizes[30]) < 100_000  # twice the files, the same page budget


def test_nested_json_is_shown_as_written(tmp_path: Path) -> None:
    """Indenting would make 120 kB of JSON into 24 MB: it is shown as written, with a note."""
    store = write_run(tmp_path, files={"deep.json": nested_json(400, 60_000)})
    page = build_page(tmp_path, store)
    assert "shown as written: indented, it would be many times longer" in page
    assert len(page.encode()) < 400_000
    small = write_run(tmp_path / "small", files={"ok.json": '{"a": [1, 2]}'})
    assert "{\n  &#34;a&#34;: [\n    1," in build_page(tmp_path / "small", small)


class AltairBuilds:
    """Counts the charts built through Altair (each costs milliseconds of validation)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = alt.Chart.to_dict

        def counted(chart: alt.Chart, *args: Any, **kwargs: Any) -> dict[str, Any]:
            self.count += 1
            return original(chart, *args, **kwargs)

        monkeypatch.setattr(alt.Chart, "to_dict", counted)


def test_metric_keys_cost_no_chart_build_each_and_charts_are_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of distinct metric keys: a bounded number of charts, built from one skeleton."""
    builds = AltairBuilds(monkeypatch)
    pages = {}
    counts = {}
    for keys in (600, 1200):
        store = write_run(tmp_path / str(keys), metric_keys=keys)
        before = builds.count
        pages[keys] = build_page(tmp_path / str(keys), store)
        counts[keys] = builds.count - before
    for keys, page in pages.items():
        assert page.count('class="chart-card"') == DEFAULT_LIMITS.charts
        shown_rows = min(keys, DEFAULT_LIMITS.table_rows)
        notes = truncated_notes(page)
        assert (
            f"Truncated: charts of {keys - DEFAULT_LIMITS.charts:,} more metrics are left out "
            f"(at most {DEFAULT_LIMITS.charts} charts a page, limits.charts); their values are "
            "in the table above and their history in the run's data and metrics.csv."
        ) in notes
        metrics_table = page.split('id="metrics-heading"')[1].split("</table>")[0]
        assert metrics_table.count('<th scope="row">') == shown_rows
        if keys > DEFAULT_LIMITS.table_rows:
            assert (
                f"Truncated: showing the first {DEFAULT_LIMITS.table_rows:,} of {keys:,} rows "
                "(limits.table_rows); all of them are in run.yaml (metrics) in the run's "
                "folder and the run's data."
            ) in notes
    # No Altair build per metric key: the charts reuse skeletons built once per process.
    assert counts[600] <= 4 and counts[1200] <= 4
    # The page grows with the table rows shown (linear), never with the keys past it.
    assert len(pages[1200]) / len(pages[600]) < 2


def test_metric_chart_from_the_skeleton_is_the_one_altair_builds() -> None:
    """The title slot gives exactly the spec Altair builds for that title, escaped."""
    from runfolio.site.charts import metric_history_json, metric_history_spec, spec_to_json

    series = {"run": [(0, 1.0), (1, 0.5)]}
    for title in ('"@runfolio-data@"', "@runfolio-title@ </script><!--", "loss\u2028x"):
        text, _ = metric_history_json(series, title)
        assert json.loads(text) == json.loads(spec_to_json(metric_history_spec(series, title)))
        assert "<" not in text and "\u2028" not in text


def test_limits_are_read_from_runfolio_yaml(tmp_path: Path) -> None:
    """Every budget can be changed in runfolio.yaml; the page follows it."""
    (tmp_path / "runfolio.yaml").write_text(
        "limits:\n  charts: 2\n  table_rows: 3\n  notes_chars: 10\n  page_preview_size: 1 KB\n"
    )
    files = {"a.txt": "a" * 900, "b.txt": "b" * 900}
    store = write_run(tmp_path, notes="0123456789abcdef", metric_keys=5, files=files)
    page = build_page(tmp_path, store)
    assert page.count('class="chart-card"') == 2
    assert "showing the first 10 of 16 characters" in page and "abcdef" not in page
    assert "showing the first 3 of 5 rows" in page
    assert page.count('<pre class="code artifact-body"') == 1


def test_limits_settings_are_validated_all_at_once() -> None:
    assert parse_site_config({"limits": {"preview_size": "1 MiB", "charts": 7}}).limits == (
        SiteLimits(preview_size=1024 * 1024, charts=7)
    )
    with pytest.raises(SiteConfigError) as info:
        parse_site_config(
            {"limits": {"chart": 3, "table_rows": 0, "notes_chars": True, "preview_size": "x"}}
        )
    assert info.value.problems == (
        "limits.chart: unknown key; did you mean 'limits.charts'?",
        "limits.table_rows: expected a whole number of at least 1, got 0",
        "limits.notes_chars: expected a whole number of at least 1, got True",
        "limits.preview_size: 'x' is not a size like '5 MB' (units: B, KB, MB, GB, KiB, MiB, GiB)",
    )
