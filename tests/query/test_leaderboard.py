"""Leaderboard ranking: primary metric, direction, ties, unranked runs, varying params."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import runfolio
from runfolio.query.leaderboard import (
    PrimaryMetric,
    best_entry,
    children_by_parent,
    metric_value,
    primary_metric_of,
    rank_runs,
    varying_params,
)
from runfolio.store.records import RunRecord
from runfolio.store.scan import scan_store


def _store_with(tmp_path: Path, runs: list[tuple[str, dict, dict]]) -> list[RunRecord]:
    """Log runs (name, params, final metrics) one after another; return their records."""
    store = runfolio.Store(tmp_path / "runs")
    store.set_experiment("exp", primary_metric="loss")
    for name, params, metrics in runs:
        time.sleep(0.002)  # start times are in ms: keep the logging order unambiguous
        with store.start_run("exp", run_name=name) as run:
            run.log_params(params)
            for key, value in metrics.items():
                run.log_metric(key, value)
    return sorted(scan_store(store.root).runs, key=lambda r: (r.start_time, r.run_id))


def _names(entries) -> list[tuple[str, int | None]]:
    return [(entry.run.name, entry.rank) for entry in entries]


def test_minimize_ranks_lowest_first_and_unranked_last(tmp_path: Path) -> None:
    runs = _store_with(
        tmp_path,
        [
            ("mid", {}, {"loss": 0.5}),
            ("best", {}, {"loss": 0.1}),
            ("nan", {}, {"loss": float("nan")}),
            ("none", {}, {"acc": 1.0}),
            ("worst", {}, {"loss": 0.9}),
            ("inf", {}, {"loss": float("-inf")}),
        ],
    )
    entries = rank_runs(runs, PrimaryMetric("loss", "minimize"))
    assert _names(entries)[:3] == [("best", 1), ("mid", 2), ("worst", 3)]
    # Unranked (missing, NaN, infinite) come last, newest first.
    assert _names(entries)[3:] == [("inf", None), ("none", None), ("nan", None)]
    assert best_entry(entries) is entries[0] and entries[0].value == 0.1


def test_maximize_ranks_highest_first(tmp_path: Path) -> None:
    runs = _store_with(tmp_path, [("a", {}, {"acc": 0.7}), ("b", {}, {"acc": 0.9})])
    assert _names(rank_runs(runs, PrimaryMetric("acc", "maximize"))) == [("b", 1), ("a", 2)]


def test_ties_share_a_rank_and_the_earlier_run_comes_first(tmp_path: Path) -> None:
    runs = _store_with(
        tmp_path,
        [("first", {}, {"loss": 0.2}), ("second", {}, {"loss": 0.2}), ("third", {}, {"loss": 0.3})],
    )
    assert _names(rank_runs(runs, PrimaryMetric("loss"))) == [
        ("first", 1),
        ("second", 1),
        ("third", 3),
    ]


def test_without_a_primary_metric_nothing_is_ranked(tmp_path: Path) -> None:
    runs = _store_with(tmp_path, [("a", {}, {"loss": 0.2}), ("b", {}, {"loss": 0.1})])
    entries = rank_runs(runs, None)
    assert _names(entries) == [("b", None), ("a", None)]
    assert best_entry(entries) is None


def test_primary_metric_override_wins_over_experiment_yaml(tmp_path: Path) -> None:
    store = runfolio.Store(tmp_path / "runs")
    experiment = store.set_experiment("exp", primary_metric="loss", direction="minimize")
    assert primary_metric_of(experiment) == PrimaryMetric("loss", "minimize")
    override = PrimaryMetric("acc", "maximize")
    assert primary_metric_of(experiment, override) is override
    bare = store.set_experiment("bare")
    assert primary_metric_of(bare) is None


def test_a_bad_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        PrimaryMetric("loss", "lowest")


def test_metric_value_ignores_non_numbers(tmp_path: Path) -> None:
    (run,) = _store_with(tmp_path, [("a", {}, {"loss": 0.25})])
    assert metric_value(run, "loss") == 0.25
    assert metric_value(run, "absent") is None
    run.metrics["odd"] = {"last": "text"}
    assert metric_value(run, "odd") is None


def test_varying_params_are_those_that_differ_or_are_missing_somewhere(tmp_path: Path) -> None:
    runs = _store_with(
        tmp_path,
        [
            ("a", {"lr": 0.1, "opt": {"name": "adam", "beta": 0.9}, "seed": 1, "n": 1}, {}),
            ("b", {"lr": 0.01, "opt": {"name": "adam", "beta": 0.9}, "seed": 1, "n": 1.0}, {}),
            ("c", {"lr": 0.1, "opt": {"name": "adam"}, "seed": 1, "n": 1}, {}),
        ],
    )
    # n: 1 and 1.0 are different stored values (types differ), as in the store.
    assert varying_params(runs) == ["lr", "n", "opt.beta"]
    assert varying_params(runs[:1]) == []


def test_children_are_grouped_under_their_parent(tmp_path: Path) -> None:
    store = runfolio.Store(tmp_path / "runs")
    with store.start_run("exp", run_name="parent") as parent:
        for name in ("one", "two"):
            time.sleep(0.002)  # start times are in ms: keep the logging order unambiguous
            with store.start_run("exp", run_name=name, parent_run_id=parent.run_id):
                pass
    grouped = children_by_parent(scan_store(store.root).runs)
    assert [child.name for child in grouped[parent.run_id]] == ["one", "two"]
    assert list(grouped) == [parent.run_id]
