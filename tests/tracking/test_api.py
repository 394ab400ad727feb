"""The fluent tracking API: run lifecycle, experiments, tags and key checks, read back from disk."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import runfolio
from runfolio.errors import InvalidInputError
from runfolio.store.layout import name_hash


@pytest.fixture(autouse=True)
def store(fluent_store: Path) -> Path:
    """Every test here logs through the fluent API into a fresh store."""
    return fluent_store


def read_yaml(path: Path) -> Any:
    """Load a YAML file the way any other tool would."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def run_yaml(run: runfolio.Run) -> dict[str, Any]:
    """The run.yaml of a run, as stored."""
    return read_yaml(run.path / "run.yaml")


def run_dirs(store: Path) -> list[Path]:
    """Every run folder of the store."""
    return sorted(p.parent for p in store.glob("*/*/run.yaml"))


# -- starting and ending runs --------------------------------------------------------------


def test_with_block_ends_run_as_finished(store: Path) -> None:
    with runfolio.start_run(run_name="baseline", tags={"team": "vision"}) as run:
        assert runfolio.active_run() is run
        assert run_yaml(run)["status"] == "RUNNING"
        assert run_yaml(run)["end_time"] is None
    assert runfolio.active_run() is None
    data = run_yaml(run)
    assert data["status"] == "FINISHED"
    assert data["name"] == "baseline"
    assert data["tags"] == {"team": "vision"}
    assert data["experiment"] == "Default"
    assert data["id"] == run.path.name
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["end_time"])
    assert data["start_time"] <= data["end_time"]
    assert run.path.parent == store / "default"
    assert not (run.path / "heartbeat").exists()


def test_exception_in_with_block_fails_run_and_propagates() -> None:
    with pytest.raises(ZeroDivisionError), runfolio.start_run() as run:
        _ = 1 / 0
    assert run_yaml(run)["status"] == "FAILED"
    assert runfolio.active_run() is None


def test_end_run_records_the_given_status() -> None:
    run = runfolio.start_run()
    runfolio.end_run("KILLED")
    assert run_yaml(run)["status"] == "KILLED"
    assert runfolio.active_run() is None


def test_end_run_with_an_unknown_status_keeps_the_run_active() -> None:
    run = runfolio.start_run()
    with pytest.raises(InvalidInputError, match="DONE"):
        runfolio.end_run("DONE")
    assert runfolio.active_run() is run
    assert run_yaml(run)["status"] == "RUNNING"
    runfolio.end_run()
    assert run_yaml(run)["status"] == "FINISHED"


def test_end_run_without_an_active_run_does_nothing(store: Path) -> None:
    runfolio.end_run()
    runfolio.end_run("FAILED")
    assert runfolio.active_run() is None
    assert not store.exists()


def test_ending_twice_keeps_the_first_status() -> None:
    with runfolio.start_run() as run:
        pass
    run.end("FAILED")
    assert run_yaml(run)["status"] == "FINISHED"


def test_nested_runs_record_their_parent() -> None:
    with runfolio.start_run() as parent:
        with runfolio.start_run(nested=True) as child:
            assert runfolio.active_run() is child
            with runfolio.start_run(nested=True) as grandchild:
                pass
        assert runfolio.active_run() is parent
    assert run_yaml(parent)["parent_run_id"] is None
    assert run_yaml(child)["parent_run_id"] == parent.run_id
    assert run_yaml(grandchild)["parent_run_id"] == child.run_id
    assert runfolio.get_run(child.run_id).parent_run_id == parent.run_id


def test_explicit_parent_run_id_is_recorded() -> None:
    with runfolio.start_run() as first:
        pass
    with runfolio.start_run(parent_run_id=first.run_id) as second:
        pass
    assert run_yaml(second)["parent_run_id"] == first.run_id


def test_second_run_without_nested_raises_and_writes_nothing(store: Path) -> None:
    first = runfolio.start_run()
    with pytest.raises(runfolio.ActiveRunError, match=first.run_id):
        runfolio.start_run()
    assert runfolio.active_run() is first
    assert run_dirs(store) == [first.path]


def test_logging_without_a_run_starts_one_in_default(store: Path) -> None:
    assert runfolio.active_run() is None
    runfolio.log_metric("loss", 0.5)
    run = runfolio.active_run()
    assert run is not None
    assert run.experiment.name == "Default"
    assert read_yaml(store / "default" / "experiment.yaml")["name"] == "Default"
    runfolio.log_param("lr", 0.1)
    assert runfolio.active_run() is run
    runfolio.end_run()
    assert run_dirs(store) == [run.path]
    assert read_yaml(run.path / "params.yaml") == {"lr": 0.1}


@pytest.mark.parametrize(
    "log",
    [
        lambda: runfolio.log_param("p", 1),
        lambda: runfolio.log_params({"p": 1}),
        lambda: runfolio.log_metrics({"m": 1.0}),
        lambda: runfolio.set_tag("t", "v"),
        lambda: runfolio.set_tags({"t": "v"}),
        lambda: runfolio.log_text("hi", "note.txt"),
    ],
)
def test_every_logging_call_auto_starts_a_run(log: Any) -> None:
    log()
    assert runfolio.active_run() is not None


def test_auto_started_run_goes_to_the_current_experiment(store: Path) -> None:
    runfolio.set_experiment("My Sweep")
    runfolio.log_metric("loss", 1.0)
    run = runfolio.active_run()
    assert run is not None
    assert run.path.parent == store / "my-sweep"
    assert run_yaml(run)["experiment"] == "My Sweep"


def test_runfolio_experiment_environment_variable(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_EXPERIMENT", "from env")
    with runfolio.start_run() as run:
        pass
    assert run.path.parent == store / "from-env"
    with runfolio.start_run(experiment_name="explicit") as other:
        pass
    assert other.path.parent == store / "explicit"


def test_run_name_is_generated_when_omitted() -> None:
    with runfolio.start_run() as run:
        pass
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", run_yaml(run)["name"])


@pytest.mark.parametrize("name", ["", "   ", "x" * 501, "bad\ud800"])
def test_bad_run_name_raises_and_creates_no_run(store: Path, name: str) -> None:
    with pytest.raises(InvalidInputError, match="run name"):
        runfolio.start_run(run_name=name)
    assert run_dirs(store) == []
    assert runfolio.active_run() is None


# -- resuming --------------------------------------------------------------------------------


def test_resume_by_prefix_appends_and_summarises_old_and_new_rows() -> None:
    with runfolio.start_run() as run:
        for step, loss in enumerate([3.0, 2.0, 1.0]):
            runfolio.log_metric("loss", loss, step=step)
        runfolio.log_param("lr", 0.1)
    assert run_yaml(run)["metrics"]["loss"]["count"] == 3
    random_part = run.run_id.rsplit("-", 1)[1]

    resumed = runfolio.start_run(run_id=random_part[:6])
    assert resumed.run_id == run.run_id
    assert runfolio.active_run() is resumed
    data = run_yaml(resumed)
    assert data["status"] == "RUNNING"
    assert data["end_time"] is None
    runfolio.log_metric("loss", 0.5, step=3)
    runfolio.log_metric("loss", 0.25, step=4)
    runfolio.log_param("lr", 0.1)  # same value: still fine after resuming
    with pytest.raises(runfolio.ParamConflictError):
        runfolio.log_param("lr", 0.2)
    runfolio.end_run()

    data = run_yaml(run)
    assert data["status"] == "FINISHED"
    assert data["metrics"]["loss"] == {
        "count": 5,
        "last": 0.25,
        "max": 3.0,
        "min": 0.25,
        "step": 4,
        "timestamp": data["metrics"]["loss"]["timestamp"],
    }
    lines = (run.path / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "key,step,value,timestamp"
    assert [line.split(",")[1:3] for line in lines[1:]] == [
        ["0", "3.0"],
        ["1", "2.0"],
        ["2", "1.0"],
        ["3", "0.5"],
        ["4", "0.25"],
    ]
    assert [r.value for r in runfolio.get_metric_history(run.run_id, "loss")] == [
        3.0,
        2.0,
        1.0,
        0.5,
        0.25,
    ]


def test_resume_by_full_id_prefix() -> None:
    with runfolio.start_run(run_name="one") as run:
        pass
    with runfolio.start_run(run_id=run.run_id[:-3]) as resumed:
        assert resumed.name == "one"
    assert run_yaml(run)["status"] == "FINISHED"


def test_resume_unknown_run_raises() -> None:
    with runfolio.start_run():
        pass
    with pytest.raises(runfolio.RunNotFoundError):
        runfolio.start_run(run_id="ffffffffff")
    assert runfolio.active_run() is None


def test_logging_into_an_ended_run_raises_and_changes_nothing() -> None:
    with runfolio.start_run() as run:
        run.log_metric("loss", 1.0)
        run.log_param("p", 1)
        run.set_tag("t", "v")
    before = {p.name: p.read_bytes() for p in run.path.iterdir() if p.is_file()}
    for call in (
        lambda: run.log_metric("loss", 2.0),
        lambda: run.log_metrics({"loss": 2.0}),
        lambda: run.log_param("q", 2),
        lambda: run.log_params({"q": 2}),
        lambda: run.set_tag("t", "w"),
        lambda: run.delete_tag("t"),
        lambda: run.set_description("late"),
        lambda: run.log_text("late", "late.txt"),
        lambda: run.log_dict({"a": 1}, "late.json"),
    ):
        with pytest.raises(runfolio.RunEndedError, match=run.run_id):
            call()
    after = {p.name: p.read_bytes() for p in run.path.iterdir() if p.is_file()}
    assert after == before
    assert not (run.path / "artifacts").exists()


# -- experiments -----------------------------------------------------------------------------


def test_set_experiment_writes_experiment_yaml(store: Path) -> None:
    record = runfolio.set_experiment(
        "Iris sweep",
        description="# Notes\n\nSVMs.",
        primary_metric="accuracy",
        direction="maximize",
    )
    assert record.path == store / "iris-sweep"
    data = read_yaml(store / "iris-sweep" / "experiment.yaml")
    assert data["name"] == "Iris sweep"
    assert data["description"] == "# Notes\n\nSVMs."
    assert data["primary_metric"] == {"name": "accuracy", "direction": "maximize"}
    assert data["format"] == 1
    created = data["created"]

    runfolio.set_experiment("Iris sweep")  # nothing given: nothing changes
    assert read_yaml(store / "iris-sweep" / "experiment.yaml") == data

    runfolio.set_experiment("Iris sweep", description="new", primary_metric="loss")
    data = read_yaml(store / "iris-sweep" / "experiment.yaml")
    assert data["description"] == "new"
    assert data["primary_metric"] == {"name": "loss", "direction": "maximize"}
    assert data["created"] == created

    runfolio.set_experiment("Iris sweep", direction="minimize")
    data = read_yaml(store / "iris-sweep" / "experiment.yaml")
    assert data["primary_metric"] == {"name": "loss", "direction": "minimize"}
    assert [p.name for p in store.iterdir()] == ["iris-sweep"]


def test_primary_metric_direction_defaults_to_minimize(store: Path) -> None:
    runfolio.set_experiment("e", primary_metric="rmse")
    data = read_yaml(store / "e" / "experiment.yaml")
    assert data["primary_metric"] == {"name": "rmse", "direction": "minimize"}


def test_bad_experiment_settings_raise(store: Path) -> None:
    with pytest.raises(InvalidInputError, match="direction"):
        runfolio.set_experiment("e", primary_metric="acc", direction="up")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="primary metric"):
        runfolio.set_experiment("e", primary_metric="a/b")
    with pytest.raises(InvalidInputError, match="experiment name"):
        runfolio.set_experiment("  ")
    with pytest.raises(InvalidInputError):
        runfolio.set_experiment("e", description="bad \ud800")
    assert not (store / "e" / "experiment.yaml").exists()


def test_names_sharing_a_slug_get_distinct_folders(store: Path) -> None:
    upper = runfolio.set_experiment("Iris")
    lower = runfolio.set_experiment("iris")
    assert upper.path == store / "iris"
    assert lower.path == store / f"iris-{name_hash('iris')}"
    with runfolio.start_run(experiment_name="Iris") as a:
        pass
    with runfolio.start_run(experiment_name="iris") as b:
        pass
    assert a.path.parent == upper.path
    assert b.path.parent == lower.path
    client = runfolio.get_store()
    assert client.get_experiment("Iris").path == upper.path
    assert client.get_experiment("iris").path == lower.path
    assert runfolio.set_experiment("iris").path == lower.path  # found again, not a third folder
    assert len(list(store.iterdir())) == 2
    assert list(runfolio.search_runs(["iris"])["run_id"]) == [b.run_id]
    assert list(runfolio.search_runs(["Iris"])["run_id"]) == [a.run_id]


@pytest.mark.parametrize("name", ["実験", "Ωμέγα ✓", "🚀"])
def test_names_without_ascii_get_a_hash_slug(store: Path, name: str) -> None:
    record = runfolio.set_experiment(name)
    assert re.fullmatch(r"experiment-[0-9a-f]{8}", record.path.name)
    assert record.path.name == f"experiment-{name_hash(name)}"
    assert read_yaml(record.path / "experiment.yaml")["name"] == name
    with runfolio.start_run() as run:
        pass
    assert run.path.parent == record.path
    assert runfolio.get_store().get_experiment(name).path == record.path


def test_unknown_experiment_raises() -> None:
    with pytest.raises(runfolio.ExperimentNotFoundError, match="nope"):
        runfolio.get_store().get_experiment("nope")


# -- tags and descriptions -------------------------------------------------------------------


def test_tags_are_stored_as_text() -> None:
    with runfolio.start_run(tags={"n": 3}) as run:
        runfolio.set_tag("f", 1.5)
        runfolio.set_tags({"b": True, "none": None, "s": "text", "l": [1, 2]})
    assert run_yaml(run)["tags"] == {
        "n": "3",
        "f": "1.5",
        "b": "True",
        "none": "None",
        "s": "text",
        "l": "[1, 2]",
    }
    assert runfolio.get_run(run.run_id).tags["f"] == "1.5"


def test_tags_can_change_and_be_deleted() -> None:
    with runfolio.start_run() as run:
        runfolio.set_tag("stage", "dev")
        runfolio.set_tag("stage", "prod")
        runfolio.set_tag("keep", "yes")
        runfolio.delete_tag("stage")
        with pytest.raises(InvalidInputError, match="stage"):
            runfolio.delete_tag("stage")
    assert run_yaml(run)["tags"] == {"keep": "yes"}


def test_description_from_start_run_and_set_description() -> None:
    with runfolio.start_run(description="first *notes*") as run:
        assert run_yaml(run)["description"] == "first *notes*"
        run.set_description("line one\nline two\n")
    assert run_yaml(run)["description"] == "line one\nline two\n"
    assert runfolio.get_run(run.run_id).description == "line one\nline two\n"
    with pytest.raises(InvalidInputError):
        run.set_description(5)  # type: ignore[arg-type]


def test_description_that_is_not_utf8_raises_and_creates_no_run(store: Path) -> None:
    with pytest.raises(InvalidInputError, match="description"):
        runfolio.start_run(description="notes \udcff")
    assert run_dirs(store) == []
    assert [p for p in store.glob("*/*") if p.is_dir()] == []
    with runfolio.start_run() as run, pytest.raises(InvalidInputError, match="description"):
        run.set_description("\ud800")
    assert run_yaml(run)["description"] == ""


# -- key validation --------------------------------------------------------------------------

BAD_KEYS = [
    "",
    "   ",
    "k" * 251,
    "a/b",
    "a\\b",
    "..",
    "a..b",
    "tab\there",
    "new\nline",
    "nul\x00",
    "bell\x07",
    "del\x7f",
    "lone\ud800",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_raise_naming_the_key_and_lose_nothing(key: str) -> None:
    with runfolio.start_run() as run:
        runfolio.log_param("good", 1)
        runfolio.log_metric("good", 1.0)
        runfolio.set_tag("good", "yes")
        calls = [
            lambda: runfolio.log_param(key, 1),
            lambda: runfolio.log_params({"other": 2, key: 1}),
            lambda: runfolio.log_params({"group": {key: 1}}),
            lambda: runfolio.log_metric(key, 1.0),
            lambda: runfolio.log_metrics({"other": 2.0, key: 1.0}),
            lambda: runfolio.set_tag(key, "v"),
            lambda: runfolio.set_tags({"other": "v", key: "v"}),
        ]
        for call in calls:
            with pytest.raises(InvalidInputError) as info:
                call()
            assert repr(key) in str(info.value)
    assert read_yaml(run.path / "params.yaml") == {"good": 1}
    assert run_yaml(run)["tags"] == {"good": "yes"}
    assert set(run_yaml(run)["metrics"]) == {"good"}
    rows = (run.path / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2


@pytest.mark.parametrize("key", ["k" * 250, "a.b", ".hidden", "with space", "ü-ñ", "a,b", 'q"t'])
def test_keys_at_the_limits_are_accepted(key: str) -> None:
    with runfolio.start_run() as run:
        runfolio.log_param(key, 1)
        runfolio.log_metric(key, 1.0)
        runfolio.set_tag(key, "v")
    record = runfolio.get_run(run.run_id)
    assert record.params == {key: 1}
    assert record.metrics[key]["last"] == 1.0
    assert record.tags == {key: "v"}


@pytest.mark.parametrize("key", [None, 3, b"bytes"])
def test_non_text_keys_raise(key: Any) -> None:
    with runfolio.start_run(), pytest.raises(InvalidInputError, match="key"):
        runfolio.log_metric(key, 1.0)


# -- reading back ----------------------------------------------------------------------------


def test_get_run_reads_everything_back() -> None:
    with runfolio.start_run(run_name="r", description="d", tags={"t": "v"}) as run:
        runfolio.log_params({"lr": 0.1, "opt": {"name": "adam"}})
        runfolio.log_metric("loss", 0.5, step=2)
    record = runfolio.get_run(run.run_id[-10:-4])
    assert record.run_id == run.run_id
    assert record.name == "r"
    assert record.status == "FINISHED"
    assert record.experiment == "Default"
    assert record.description == "d"
    assert record.tags == {"t": "v"}
    assert record.params == {"lr": 0.1, "opt": {"name": "adam"}}
    assert record.flat_params() == {"lr": 0.1, "opt.name": "adam"}
    assert record.metrics["loss"]["last"] == 0.5
    assert record.metrics["loss"]["step"] == 2
    assert record.duration_seconds is not None and record.duration_seconds >= 0


def test_active_run_is_per_thread() -> None:
    import threading

    seen: list[object] = []
    with runfolio.start_run():
        thread = threading.Thread(target=lambda: seen.append(runfolio.active_run()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_resuming_with_a_name_tags_and_description_applies_them(tmp_path: Path) -> None:
    store = runfolio.Store(tmp_path / "runs")
    with store.start_run("exp", run_name="first", tags={"a": "1"}) as run:
        pass
    with store.start_run(
        "exp", run_id=run.run_id, run_name="renamed", tags={"b": "2"}, description="more"
    ):
        pass
    record = store.get_run(run.run_id)
    assert (record.name, record.tags, record.description) == (
        "renamed",
        {"a": "1", "b": "2"},
        "more",
    )
