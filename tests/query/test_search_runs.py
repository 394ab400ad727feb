"""search_runs: MLflow's DataFrame columns and dtypes, filtering, ordering, limits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import runfolio
from runfolio.store.records import RunRecord

BASE_COLUMNS = [
    "run_id",
    "run_name",
    "experiment_id",
    "experiment_name",
    "status",
    "artifact_uri",
    "start_time",
    "end_time",
    "user_id",
    "parent_run_id",
]


@pytest.fixture(autouse=True)
def runs(tmp_store: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, runfolio.Run]:
    """Five runs in two experiments (one still running), by run name."""
    monkeypatch.chdir(tmp_store.parent)
    runfolio.set_store(tmp_store)
    made: dict[str, runfolio.Run] = {}
    specs = [
        ("Iris", "svm-1", {"model": "svm", "C": 1.0, "opt": {"lr": 0.1}}, 0.90, "vision-a"),
        ("Iris", "svm-2", {"model": "svm", "C": 10.0, "opt": {"lr": 0.01}}, 0.95, "vision-b"),
        ("Iris", "knn", {"model": "knn", "k": 5, "layers": [1, 2]}, 0.85, "nlp"),
        ("Wine Quality", "tree", {"model": "tree", "depth": 3}, 0.70, "vision-a"),
    ]
    for experiment, name, params, accuracy, team in specs:
        with runfolio.start_run(experiment_name=experiment, run_name=name) as run:
            runfolio.log_params(params)
            runfolio.log_metric("accuracy", accuracy, step=1)
            if name != "tree":
                runfolio.log_metric("loss", 1 - accuracy)
            runfolio.set_tag("team", team)
            if name == "svm-2":
                with runfolio.start_run(
                    experiment_name="Iris", run_name="child", nested=True
                ) as child:
                    runfolio.log_metric("accuracy", 0.5)
                made["child"] = child
        made[name] = run
    made["live"] = runfolio.start_run(experiment_name="Wine Quality", run_name="live")
    runfolio.log_metric("accuracy", 0.6)
    return made


def test_columns_follow_mlflow_naming() -> None:
    frame = runfolio.search_runs()
    assert list(frame.columns) == [
        *BASE_COLUMNS,
        "metrics.accuracy",
        "metrics.loss",
        "params.C",
        "params.depth",
        "params.k",
        "params.layers",
        "params.model",
        "params.opt.lr",
        "tags.team",
    ]
    assert len(frame) == 6


def test_dtypes(runs: dict[str, runfolio.Run]) -> None:
    frame = runfolio.search_runs()
    for column in ("start_time", "end_time"):
        assert isinstance(frame[column].dtype, pd.DatetimeTZDtype)
        assert str(frame[column].dt.tz) == "UTC"
    assert frame["metrics.accuracy"].dtype == "float64"
    assert frame["metrics.loss"].dtype == "float64"
    by_name = frame.set_index("run_name")
    assert pd.isna(by_name.loc["tree", "metrics.loss"])
    assert pd.isna(by_name.loc["live", "end_time"])
    assert by_name.loc["live", "status"] == "RUNNING"
    assert by_name.loc["svm-1", "status"] == "FINISHED"
    assert by_name.loc["svm-1", "end_time"] >= by_name.loc["svm-1", "start_time"]
    record = runfolio.get_run(runs["svm-1"].run_id)
    assert by_name.loc["svm-1", "start_time"] == pd.Timestamp(record.start_ms, unit="ms", tz="UTC")


def test_values(runs: dict[str, runfolio.Run]) -> None:
    frame = runfolio.search_runs().set_index("run_name")
    svm = frame.loc["svm-1"]
    assert svm["run_id"] == runs["svm-1"].run_id
    assert svm["experiment_id"] == "iris"
    assert svm["experiment_name"] == "Iris"
    assert svm["artifact_uri"] == (runs["svm-1"].path / "artifacts").as_uri()
    assert svm["params.model"] == "svm"
    assert svm["params.C"] == 1.0
    assert svm["params.opt.lr"] == 0.1
    assert svm["metrics.accuracy"] == 0.90
    assert svm["tags.team"] == "vision-a"
    assert frame.loc["knn", "params.layers"] == "[1, 2]"
    assert frame.loc["tree", "experiment_id"] == "wine-quality"
    assert frame.loc["child", "parent_run_id"] == runs["svm-2"].run_id
    assert pd.isna(frame.loc["svm-1", "parent_run_id"])


def test_filter_order_and_limit(runs: dict[str, runfolio.Run]) -> None:
    frame = runfolio.search_runs(
        filter_string="params.model = 'svm' and metrics.accuracy > 0.8",
        order_by=["metrics.accuracy DESC"],
    )
    assert list(frame["run_name"]) == ["svm-2", "svm-1"]
    frame = runfolio.search_runs(order_by=["metrics.accuracy ASC"], max_results=2)
    assert list(frame["run_name"]) == ["child", "live"]
    frame = runfolio.search_runs(filter_string="tags.team LIKE 'vision%'", order_by=["run_name"])
    assert list(frame["run_name"]) == ["svm-1", "svm-2", "tree"]
    frame = runfolio.search_runs(filter_string="attributes.status = 'RUNNING'")
    assert list(frame["run_name"]) == ["live"]
    frame = runfolio.search_runs(filter_string="params.opt.lr < 0.05")
    assert list(frame["run_name"]) == ["svm-2"]
    assert runfolio.search_runs(max_results=0).empty


def test_experiment_names(runs: dict[str, runfolio.Run]) -> None:
    frame = runfolio.search_runs(["Wine Quality"], order_by=["run_name"])
    assert list(frame["run_name"]) == ["live", "tree"]
    assert list(frame.columns) == [
        *BASE_COLUMNS,
        "metrics.accuracy",
        "params.depth",
        "params.model",
        "tags.team",
    ]
    both = runfolio.search_runs(["Iris", "Wine Quality"])
    assert len(both) == 6
    with pytest.raises(runfolio.ExperimentNotFoundError, match="Nope"):
        runfolio.search_runs(["Iris", "Nope"])
    with pytest.raises(runfolio.ExperimentNotFoundError):
        runfolio.search_runs(["iris"])  # names are exact, not slugs


def test_no_match_gives_an_empty_frame_with_the_base_columns() -> None:
    frame = runfolio.search_runs(filter_string="metrics.accuracy > 2")
    assert frame.empty
    assert list(frame.columns) == BASE_COLUMNS
    assert isinstance(frame["start_time"].dtype, pd.DatetimeTZDtype)


def test_output_format_list(runs: dict[str, runfolio.Run]) -> None:
    records = runfolio.search_runs(
        filter_string="params.model = 'svm'", order_by=["run_name DESC"], output_format="list"
    )
    assert isinstance(records, list)
    assert all(isinstance(r, RunRecord) for r in records)
    assert [r.name for r in records] == ["svm-2", "svm-1"]
    assert records[0].params == {"model": "svm", "C": 10.0, "opt": {"lr": 0.01}}
    assert records[0].run_id == runs["svm-2"].run_id


def test_invalid_filter_raises_filter_error() -> None:
    with pytest.raises(runfolio.FilterError):
        runfolio.search_runs(filter_string="metrics.accuracy >")
    with pytest.raises(runfolio.FilterError):
        runfolio.search_runs(order_by=["metrics.accuracy SIDEWAYS"])


def test_search_through_the_store_object(tmp_store: Path) -> None:
    frame = runfolio.Store(tmp_store).search_runs(["Iris"], "params.k = 5")
    assert list(frame["run_name"]) == ["knn"]


def test_malformed_runs_are_skipped(runs: dict[str, runfolio.Run]) -> None:
    (runs["knn"].path / "run.yaml").write_text("- broken\n", encoding="utf-8")
    frame = runfolio.search_runs(["Iris"])
    assert sorted(frame["run_name"]) == ["child", "svm-1", "svm-2"]
