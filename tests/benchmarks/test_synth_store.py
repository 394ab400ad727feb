"""The synthetic store of the site benchmarks is a valid store that the readers accept.

``benchmarks/synth_store.py`` writes files directly (not through the tracking API), so
these tests hold it to the format: a scan finds no problem, run.yaml's summaries agree
with metrics.csv, ``runfolio ls --strict`` and ``search_runs`` read it, and the same
spec gives the same bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runfolio.cli import main
from runfolio.query.runs import search_runs
from runfolio.store import layout
from runfolio.store.metrics import read_metrics, summarize
from runfolio.store.scan import scan_store

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import synth_store  # noqa: E402

SMALL = synth_store.SynthSpec(runs=20, experiments=2, long_steps=5_000)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> synth_store.SynthStore:
    """20 runs in two experiments; the first run's ``loss`` has 5,000 steps."""
    return synth_store.write_store(tmp_path_factory.mktemp("synth") / "runs", SMALL)


def test_scan_reads_every_run_without_a_problem(small_store: synth_store.SynthStore) -> None:
    for use_cache in (False, True, True):  # parsed, then written to and read from the cache
        scan = scan_store(small_store.root, use_cache=use_cache)
        assert [str(p) for p in scan.problems] == []
        assert len(scan.runs) == 20
    assert sorted(e.name for e in scan.experiments) == ["Synthetic sweep 1", "Synthetic sweep 2"]
    assert {e.primary_metric for e in scan.experiments} == {"val_loss"}
    assert [len(e.run_ids) for e in small_store.experiments] == [10, 10]
    ids = [run.run_id for run in scan.runs]
    assert len(set(ids)) == 20 and all(layout.is_run_id(i) for i in ids)
    for run in scan.runs:
        assert run.status == "FINISHED" and run.problems == []
        assert len(run.flat_params()) == 20
        assert len(run.metrics) == 10 and len(run.tags) == 3
        assert run.git["commit"] and run.user and run.end_time and run.duration_seconds > 0
        assert (run.path / run.environment["packages"]).is_file()


def test_run_yaml_summaries_agree_with_metrics_csv(small_store: synth_store.SynthStore) -> None:
    long_slug, long_id = small_store.long_run or ("", "")
    for run in scan_store(small_store.root, use_cache=False).runs:
        history = read_metrics(run.path / layout.METRICS_FILE)
        assert history.problems == []
        from_csv = {key: s.to_dict() for key, s in summarize(history.rows).items()}
        assert run.metrics == from_csv
        expected_steps = 5_000 if (run.experiment_slug, run.run_id) == (long_slug, long_id) else 100
        assert run.metrics["loss"]["count"] == expected_steps
        assert run.metrics["val_loss"]["count"] == 100


def test_cli_ls_strict_and_search_runs_accept_it(small_store: synth_store.SynthStore) -> None:
    listed = CliRunner().invoke(main, ["ls", str(small_store.root), "--strict"])
    assert listed.exit_code == 0, listed.output
    assert "Synthetic sweep 1" in listed.stdout and "sweep-00009" in listed.stdout
    frame = search_runs(small_store.root, ["Synthetic sweep 2"], "params.optimizer.lr > 0")
    assert len(frame) == 10
    assert {"metrics.val_loss", "params.model.depth", "tags.team"} <= set(frame.columns)


def test_same_spec_gives_the_same_bytes(tmp_path: Path) -> None:
    spec = synth_store.SynthSpec(runs=3, experiments=1, long_steps=50)
    first = synth_store.write_store(tmp_path / "a", spec)
    second = synth_store.write_store(tmp_path / "b", spec)
    files = sorted(p.relative_to(first.root) for p in first.root.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(second.root) for p in second.root.rglob("*") if p.is_file()
    )
    for name in files:
        assert (first.root / name).read_bytes() == (second.root / name).read_bytes(), name
    other = synth_store.write_store(tmp_path / "c", synth_store.SynthSpec(runs=3, seed=1))
    assert other.experiments[0].run_ids != first.experiments[0].run_ids


def test_an_added_run_is_the_newest_and_valid_and_can_be_pruned(tmp_path: Path) -> None:
    spec = synth_store.SynthSpec(runs=4)
    made = synth_store.write_store(tmp_path / "runs", spec)
    experiment = made.experiments[0]
    added = synth_store.write_run(
        made.root / experiment.slug, experiment.name, spec, 0, spec.runs_in(0)
    )
    scan = scan_store(made.root, use_cache=False)
    assert scan.problems == [] and len(scan.runs) == 5
    assert max(scan.runs, key=lambda r: r.start_time).run_id == added
    assert synth_store.prune_extra_runs(made) == 1  # what a benchmark left behind goes
    assert not (made.root / experiment.slug / added).exists()
    assert len(scan_store(made.root, use_cache=False).runs) == 4


def test_cached_store_is_built_once_per_spec(tmp_path: Path) -> None:
    spec = synth_store.SynthSpec(runs=2)
    built = synth_store.cached_store(spec, tmp_path)
    marker = built.root / "marker.txt"  # a plain file at the store root: readers ignore it
    marker.write_text("kept\n", encoding="utf-8")
    again = synth_store.cached_store(spec, tmp_path)
    assert again.root == built.root and marker.exists()
    assert again.experiments == built.experiments
    other = synth_store.cached_store(synth_store.SynthSpec(runs=3), tmp_path)
    assert other.root != built.root
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [built.root.parent.name, other.root.parent.name]
    )
