"""The committed example store has the shape example_runs/README.md promises.

These tests read ``example_runs/`` through the public read API only. When one fails after
a change to the store format or to ``example_runs/train.py``, regenerate the store with the
command in example_runs/README.md.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import runfolio
from runfolio.store.records import RunRecord
from runfolio.store.scan import scan_store

EXAMPLE_STORE = Path(__file__).resolve().parents[1] / "example_runs"
REGENERATE = "python example_runs/train.py --fresh"
MAX_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runfolio.Store]:
    """The example store, read with a private record cache so no user cache is touched."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield runfolio.Store(EXAMPLE_STORE)


@pytest.fixture(scope="module")
def runs(store: runfolio.Store) -> list[RunRecord]:
    """Every run of the example store."""
    return store.search_runs(output_format="list")


def _artifacts(run: RunRecord, pattern: str) -> list[Path]:
    """The run's artifact files matching a glob pattern (searched recursively)."""
    return sorted((run.path / "artifacts").rglob(pattern))


def test_readme_documents_the_regeneration_command() -> None:
    readme = (EXAMPLE_STORE / "README.md").read_text(encoding="utf-8")
    assert REGENERATE in readme
    assert (EXAMPLE_STORE / "train.py").is_file()


def test_store_scans_without_problems(store: runfolio.Store, runs: list[RunRecord]) -> None:
    scan = scan_store(EXAMPLE_STORE, use_cache=False)
    assert [str(problem) for problem in scan.problems] == []
    assert {run.run_id for run in scan.runs} == {run.run_id for run in runs}
    for run in runs:
        again = store.get_run(run.run_id)
        assert again.problems == []
        assert again.params == run.params


def test_at_least_two_described_experiments_and_thirty_runs(
    store: runfolio.Store, runs: list[RunRecord]
) -> None:
    experiments = store.list_experiments()
    assert len(experiments) >= 2
    for experiment in experiments:
        assert experiment.description.strip(), experiment.name
        assert experiment.primary_metric, experiment.name
        assert experiment.direction in ("minimize", "maximize")
    assert len(runs) >= 30
    assert {run.experiment for run in runs} == {e.name for e in experiments}


def test_every_run_has_ended_and_one_failed(runs: list[RunRecord]) -> None:
    statuses = {run.status for run in runs}
    assert statuses <= {"FINISHED", "FAILED", "KILLED"}
    assert "FINISHED" in statuses
    assert "FAILED" in statuses
    for run in runs:
        assert run.end_time is not None, run.name


def test_every_run_captured_git_and_packages(runs: list[RunRecord]) -> None:
    for run in runs:
        assert re.fullmatch(r"[0-9a-f]{40}", str(run.git.get("commit"))), run.name
        assert run.source.get("entry_point") == "example_runs/train.py"
        packages = (run.path / "captured" / "packages.txt").read_text(encoding="utf-8")
        assert re.search(r"^scikit-learn==", packages, re.MULTILINE), run.name


def test_a_per_step_curve_of_ten_steps_or_more(
    store: runfolio.Store, runs: list[RunRecord]
) -> None:
    longest = 0
    for run in runs:
        for key, summary in run.metrics.items():
            if summary["count"] >= 10:
                history = store.get_metric_history(run.run_id, key)
                longest = max(longest, len({row.step for row in history}))
    assert longest >= 10


def test_nested_params_tags_and_descriptions(runs: list[RunRecord]) -> None:
    nested = [run for run in runs if any(isinstance(v, dict) for v in run.params.values())]
    assert nested
    assert any("." in key for key in nested[0].flat_params())
    assert all(run.tags for run in runs)
    assert any(run.description.strip() for run in runs)


def test_a_parent_run_with_children(runs: list[RunRecord]) -> None:
    by_id = {run.run_id: run for run in runs}
    children = [run for run in runs if run.parent_run_id]
    assert children
    for child in children:
        parent = by_id[child.parent_run_id]
        assert parent.experiment == child.experiment


def test_png_csv_and_json_artifacts(runs: list[RunRecord]) -> None:
    pngs = [path for run in runs for path in _artifacts(run, "*.png")]
    csvs = [path for run in runs for path in _artifacts(run, "*.csv")]
    reports = [path for run in runs for path in _artifacts(run, "*.json")]
    assert pngs and csvs and reports
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    for table in csvs:
        rows = list(csv.reader(table.read_text(encoding="utf-8").splitlines()))
        assert len(rows) >= 2 and len({len(row) for row in rows}) == 1, table
    for report in reports:
        assert isinstance(json.loads(report.read_text(encoding="utf-8")), dict), report


def test_logged_models_have_descriptors_and_load(runs: list[RunRecord]) -> None:
    descriptors = [path for run in runs for path in _artifacts(run, "model.yaml")]
    assert descriptors
    for path in descriptors:
        descriptor = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert descriptor["flavor"] == "sklearn", path
        assert (path.parent / descriptor["file"]).stat().st_size == descriptor["size"]
    pytest.importorskip("sklearn")
    smallest = min(descriptors, key=lambda path: path.with_name("model.pkl").stat().st_size)
    model = runfolio.load_model(str(smallest.parent))
    assert callable(model.predict)


def test_store_stays_small() -> None:
    total = sum(path.stat().st_size for path in EXAMPLE_STORE.rglob("*") if path.is_file())
    assert total < MAX_BYTES, f"example_runs/ holds {total / 1e6:.1f} MB; keep it under 10 MB"
