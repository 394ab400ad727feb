"""Tests for the terminal views in :mod:`runfolio.console`, called without the command line."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from runfolio import Store
from runfolio.console.diff_view import render_diff
from runfolio.console.jsonout import json_safe, to_json
from runfolio.console.listing import render_listing
from runfolio.console.run_view import render_run, render_run_details
from runfolio.console.search_view import (
    ColumnError,
    render_search,
    render_search_table,
    resolve_columns,
    search_item,
)
from runfolio.query.details import build_run_details
from runfolio.query.diff import diff_runs
from runfolio.query.runs import search_records
from runfolio.store.records import RunRecord
from runfolio.store.scan import scan_store


@pytest.fixture
def store(tmp_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Two runs of ``exp`` (``lr`` is both a metric and a param) and an empty experiment."""
    monkeypatch.chdir(tmp_path)  # outside any git repository
    store = Store(tmp_store)
    store.set_experiment("empty", description="\n\n  Nothing yet.  \nmore")
    one = store.start_run("exp", run_name="one", tags={"team": "a"})
    one.log_params({"lr": 0.1, "opt": {"name": "sgd"}})
    one.log_metrics({"lr": 0.1, "loss": math.inf})
    one.log_text("x" * 2048, "out/data.txt")
    one.end()
    # Start times have millisecond resolution: "newest first" must not fall back to the
    # random part of the ids (the rare flake seen when the suite ran under load).
    time.sleep(0.002)
    two = store.start_run("exp", run_name="two")
    two.log_params({"lr": 0.2})
    two.log_metric("loss", 0.5)
    two.end()
    return store


def _runs(store: Store) -> list[RunRecord]:
    """Every run of the store, newest first."""
    return search_records(store.root)


# --------------------------------------------------------------------------- run view


def test_render_run_details_from_built_details(store: Store) -> None:
    run = _runs(store)[1]
    text = render_run_details(build_run_details(store.root, run))
    assert text.startswith(f"Run {run.run_id}  one\n")
    assert "\nArtifacts\n  out/data.txt  2.0 KB\n" in text
    assert "\nTags\n  team  a\n" in text
    assert "\nGit\n  no git repository\n" in text
    assert "\nChild runs\n" not in text and "\nModels\n" not in text


def test_render_run_details_shows_symlinks_and_a_crashed_note(store: Store) -> None:
    details = build_run_details(store.root, _runs(store)[1])
    details["artifacts"].append({"path": "out/link", "size": None, "model": None, "symlink": True})
    details["status"] = "CRASHED"
    details["stored_status"] = "RUNNING"
    text = render_run_details(details)
    assert "  out/link      symlink\n" in text
    assert "CRASHED  (run.yaml says RUNNING, but its process is gone)" in text


def test_render_run_json_and_yaml_keep_non_finite_numbers(store: Store) -> None:
    details = build_run_details(store.root, _runs(store)[1])
    as_json = render_run(details, "json")
    assert as_json.endswith("}\n")
    assert json.loads(as_json)["metrics"]["loss"]["last"] == "inf"
    assert yaml.safe_load(render_run(details, "yaml"))["metrics"]["loss"]["last"] == math.inf
    assert render_run(details) == render_run_details(details)
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render_run(details, "xml")


def test_to_json_is_strict_json() -> None:
    data = {"a": [math.nan, (math.inf, -math.inf)], 1: {"b": 0.5}}
    assert json_safe(data) == {"a": ["nan", ["inf", "-inf"]], "1": {"b": 0.5}}
    assert json.loads(to_json(data)) == json_safe(data)


# --------------------------------------------------------------------------- listing


def test_render_listing_of_an_empty_store() -> None:
    from runfolio.store.reader import StoreScan

    assert render_listing(StoreScan(), {}) == "No experiments in this store.\n"


def test_render_listing_shows_empty_experiments_and_full_ids_without_short_ones(
    store: Store,
) -> None:
    text = render_listing(scan_store(store.root), short={})
    blocks = text.split("\n\n")
    assert blocks[0].splitlines() == [
        "empty  ·  folder empty/  ·  0 runs",
        "  Nothing yet.",
        "  (no runs)",
    ]
    assert all(run.run_id in text for run in _runs(store))
    limited = render_listing(scan_store(store.root), short={}, limit=0)
    assert "2 runs, newest 0 shown" in limited and "(no runs)" not in limited.split("\n\n")[1]


# --------------------------------------------------------------------------- search


def test_resolve_columns_defaults_prefixes_and_errors(store: Store) -> None:
    runs = _runs(store)
    assert resolve_columns(None, runs) == [
        "metrics.loss",
        "metrics.lr",
        "params.lr",
        "params.opt.name",
    ]
    assert resolve_columns(None, runs, ("tags",)) == ["tags.team"]
    assert resolve_columns(" param.lr, ,tag.team,opt.name", runs) == [
        "params.lr",
        "tags.team",
        "params.opt.name",
    ]
    with pytest.raises(ColumnError) as ambiguous:
        resolve_columns("lr", runs)
    assert str(ambiguous.value) == "'lr' is ambiguous; write metrics.lr or params.lr"
    with pytest.raises(ColumnError, match="no metric, param or tag named 'nope'"):
        resolve_columns("nope", runs)
    assert resolve_columns("nope", []) == ["metrics.nope"]


def test_render_search_formats(store: Store) -> None:
    runs = _runs(store)
    table = render_search(runs, "table", "loss,team", short={runs[0].run_id: "abc"})
    header, first, second = table.splitlines()
    assert header.split()[5:] == ["(UTC)", "metrics.loss", "tags.team"]
    assert first.split()[:2] == ["abc", "two"] and first.split()[-2:] == ["0.5", "—"]
    assert second.split()[0] == runs[1].run_id and second.split()[-2:] == ["inf", "a"]
    assert table == render_search_table(
        runs, ["metrics.loss", "tags.team"], {runs[0].run_id: "abc"}
    )

    items = json.loads(render_search(runs, "json"))
    assert items[1]["metrics"] == {"loss": "inf", "lr": 0.1}
    assert items[1]["params"] == {"lr": 0.1, "opt.name": "sgd"}
    assert items[0]["tags"] == {}

    rows = list(csv.DictReader(io.StringIO(render_search(runs, "csv", "team"))))
    assert list(rows[0]) == [
        "run_id",
        "run_name",
        "experiment_name",
        "status",
        "start_time",
        "end_time",
        "tags.team",
    ]
    assert [row["tags.team"] for row in rows] == ["", "a"]

    assert render_search([], "table") == "No runs match.\n"
    assert render_search([], "json") == "[]\n"
    with pytest.raises(ValueError, match="unknown output format"):
        render_search(runs, "html")


def test_search_item_leaves_out_missing_keys(store: Store) -> None:
    newest = _runs(store)[0]
    item = search_item(newest, ["metrics.lr", "params.lr", "tags.team"])
    assert item["metrics"] == {} and item["params"] == {"lr": 0.2} and item["tags"] == {}
    assert item["run_name"] == "two" and item["parent_run_id"] is None


# --------------------------------------------------------------------------- diff


def test_render_diff_hides_equal_rows_unless_asked(store: Store) -> None:
    one, two = _runs(store)[1], _runs(store)[0]
    diff = diff_runs(store.root, one.run_id, two.run_id)
    text = render_diff(diff)
    assert text.splitlines()[0].split() == ["A", one.run_id, "one", "exp", "FINISHED"]
    assert "BETTER" not in text  # exp has no primary metric
    assert [line.split()[:3] for line in text.splitlines() if line.startswith("≠")] == [
        ["≠", "params", "lr"],
        ["≠", "params", "opt.name"],
        ["≠", "metrics", "loss"],
        ["≠", "metrics", "lr"],
        ["≠", "tags", "team"],
    ]
    assert "hidden" not in text
    same = render_diff(diff_runs(store.root, one.run_id, one.run_id))
    assert same.endswith("\nNo differences in git, params, metrics or tags.\n")


# --------------------------------------------------------------------------- imports


def test_views_do_not_import_click_or_heavy_modules() -> None:
    code = (
        "import sys\n"
        "import runfolio.console.diff_view, runfolio.console.listing\n"
        "import runfolio.console.run_view, runfolio.console.search_view\n"
        "heavy = ('click', 'pandas', 'runfolio.cli', 'runfolio.tracking')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
