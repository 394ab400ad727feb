"""Params and metrics: what is accepted, how it is stored, what is refused (losing nothing)."""

from __future__ import annotations

import csv
import enum
import math
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import runfolio
from runfolio.errors import InvalidInputError, ParamConflictError

# Every test here logs through the fluent API into a fresh store.
pytestmark = pytest.mark.usefixtures("fluent_store")


def read_yaml(path: Path) -> Any:
    """Load a YAML file the way any other tool would."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def params_file(run: runfolio.Run) -> Path:
    return run.path / "params.yaml"


def metric_rows(run: runfolio.Run) -> list[list[str]]:
    """The rows of metrics.csv after the header, parsed as CSV."""
    path = run.path / "metrics.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["key", "step", "value", "timestamp"]
    return rows[1:]


def summary(run: runfolio.Run, key: str) -> dict[str, Any]:
    """The metric summary run.yaml holds once the run has ended."""
    return read_yaml(run.path / "run.yaml")["metrics"][key]


# -- params ----------------------------------------------------------------------------------


def test_log_param_returns_the_stored_value(run: runfolio.Run) -> None:
    assert runfolio.log_param("lr", 0.1) == 0.1
    assert runfolio.log_param("layers", (64, 32)) == [64, 32]
    assert read_yaml(params_file(run)) == {"layers": [64, 32], "lr": 0.1}


def test_same_param_value_again_is_a_no_op(run: runfolio.Run) -> None:
    runfolio.log_params({"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}})
    before = params_file(run).stat()
    runfolio.log_param("lr", 0.1)
    runfolio.log_params({"opt": {"name": "adam"}})
    runfolio.log_params({"opt": {"betas": (0.9, 0.99)}})
    after = params_file(run).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_nan_param_repeats_itself(run: runfolio.Run) -> None:
    runfolio.log_param("x", float("nan"))
    runfolio.log_param("x", float("nan"))
    assert math.isnan(read_yaml(params_file(run))["x"])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (0.1, 0.2),
        (1, 1.0),
        (1, True),
        (0.0, -0.0),
        ("1", 1),
        ([1, 2], [2, 1]),
        (None, "None"),
    ],
)
def test_different_param_value_raises_and_writes_nothing(
    run: runfolio.Run, first: Any, second: Any
) -> None:
    runfolio.log_params({"lr": first, "other": "x"})
    before = params_file(run).read_bytes()
    with pytest.raises(ParamConflictError, match="'lr'"):
        runfolio.log_param("lr", second)
    with pytest.raises(ParamConflictError, match="'lr'"):
        runfolio.log_params({"fresh": 1, "lr": second})
    assert params_file(run).read_bytes() == before
    assert "fresh" not in run.params


def test_param_conflict_is_an_invalid_input_error() -> None:
    assert issubclass(ParamConflictError, InvalidInputError)


def test_nested_params_are_stored_nested_and_searched_flat(run: runfolio.Run) -> None:
    runfolio.log_params({"optimizer": {"name": "adam", "lr": 0.001}, "batch": 32})
    runfolio.log_params({"optimizer": {"schedule": {"kind": "cosine"}}})
    runfolio.end_run()
    assert read_yaml(params_file(run)) == {
        "batch": 32,
        "optimizer": {"lr": 0.001, "name": "adam", "schedule": {"kind": "cosine"}},
    }
    frame = runfolio.search_runs()
    assert frame.loc[0, "params.optimizer.lr"] == 0.001
    assert frame.loc[0, "params.optimizer.schedule.kind"] == "cosine"
    assert "params.optimizer" not in frame.columns
    found = runfolio.search_runs(filter_string="params.optimizer.name = 'adam'")
    assert list(found["run_id"]) == [run.run_id]


def test_conflict_in_a_nested_key(run: runfolio.Run) -> None:
    runfolio.log_params({"optimizer": {"name": "adam", "lr": 0.001}})
    before = params_file(run).read_bytes()
    with pytest.raises(ParamConflictError, match=r"optimizer\.lr"):
        runfolio.log_params({"optimizer": {"lr": 0.01, "momentum": 0.9}})
    with pytest.raises(ParamConflictError, match=r"optimizer\.lr"):
        runfolio.log_param("optimizer.lr", 0.01)
    assert params_file(run).read_bytes() == before
    runfolio.log_param("optimizer.lr", 0.001)  # the dotted name of the same value: no-op
    assert params_file(run).read_bytes() == before


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"opt": {"lr": 0.1}}, {"opt": "adam"}),
        ({"opt": "adam"}, {"opt": {"lr": 0.1}}),
        ({"opt": "adam"}, {"opt.lr": 0.1}),
        ({"a": {"b": {"c": 1}}}, {"a": {"b": 2}}),
    ],
)
def test_structure_conflict_raises(
    run: runfolio.Run, first: dict[str, Any], second: dict[str, Any]
) -> None:
    runfolio.log_params(first)
    before = params_file(run).read_bytes()
    with pytest.raises(ParamConflictError, match="both a value and a group"):
        runfolio.log_params(second)
    assert params_file(run).read_bytes() == before


@pytest.mark.parametrize(
    "params",
    [
        {"opt": "adam", "opt.lr": 0.1},
        {"opt": {"lr": 0.1}, "opt.lr": 0.2},
        {"opt.lr": 0.1, "opt": {"lr": 0.1}},
    ],
)
def test_conflicts_within_one_call_raise(run: runfolio.Run, params: dict[str, Any]) -> None:
    with pytest.raises(ParamConflictError, match=r"'opt(\.lr)?'"):
        runfolio.log_params(params)
    assert not params_file(run).exists()
    assert run.params == {}


def test_numpy_scalars_are_stored_as_python_numbers(run: runfolio.Run) -> None:
    stored = {
        "f64": runfolio.log_param("f64", np.float64(0.5)),
        "f32": runfolio.log_param("f32", np.float32(0.25)),
        "i64": runfolio.log_param("i64", np.int64(7)),
        "u8": runfolio.log_param("u8", np.uint8(255)),
        "b": runfolio.log_param("b", np.bool_(True)),
        "s": runfolio.log_param("s", np.str_("adam")),
        "nested": runfolio.log_param("nested", {"x": np.float64(1.5), "l": [np.int32(2)]}),
    }
    expected = {
        "f64": 0.5,
        "f32": 0.25,
        "i64": 7,
        "u8": 255,
        "b": True,
        "s": "adam",
        "nested": {"l": [2], "x": 1.5},
    }
    assert stored == expected
    assert [type(v) for v in stored.values()] == [float, float, int, int, bool, str, dict]
    on_disk = read_yaml(params_file(run))
    assert on_disk == expected
    assert type(on_disk["f64"]) is float and type(on_disk["i64"]) is int
    assert "numpy" not in params_file(run).read_text(encoding="utf-8")
    runfolio.log_param("f64", np.float64(0.5))  # the same value again: a no-op
    runfolio.log_param("f64", 0.5)


def test_other_values_become_plain_data(run: runfolio.Run) -> None:
    class Color(enum.IntEnum):
        RED = 1

    class Thing:
        def __str__(self) -> str:
            return "a thing"

    runfolio.log_params(
        {
            "tuple": (1, (2, 3)),
            "object": Thing(),
            "decimal": Decimal("0.1"),
            "fraction": Fraction(1, 3),
            "set": {3},
            "none": None,
            "enum": Color.RED,
            "path": Path("data") / "train.csv",
            "huge": 10**40,
        }
    )
    assert read_yaml(params_file(run)) == {
        "tuple": [1, [2, 3]],
        "object": "a thing",
        "decimal": "0.1",
        "fraction": "1/3",
        "set": "{3}",
        "none": None,
        "enum": 1,
        "path": str(Path("data") / "train.csv"),
        "huge": 10**40,
    }


def test_param_value_that_is_not_utf8_raises(run: runfolio.Run) -> None:
    runfolio.log_param("ok", 1)
    with pytest.raises(InvalidInputError, match="'bad'"):
        runfolio.log_params({"bad": "x\udcff"})
    with pytest.raises(InvalidInputError):
        runfolio.log_params({"bad": ["fine", "x\ud800"]})
    assert read_yaml(params_file(run)) == {"ok": 1}


def test_params_must_be_a_mapping(run: runfolio.Run) -> None:
    with pytest.raises(InvalidInputError, match="mapping"):
        runfolio.log_params([("a", 1)])  # type: ignore[arg-type]


# -- metrics ---------------------------------------------------------------------------------


def test_metric_defaults_step_zero_and_now(run: runfolio.Run) -> None:
    before = time.time_ns() // 1_000_000
    runfolio.log_metric("loss", 0.5)
    after = time.time_ns() // 1_000_000
    [row] = metric_rows(run)
    assert row[:3] == ["loss", "0", "0.5"]
    assert before <= int(row[3]) <= after


def test_metric_explicit_step_and_timestamp(run: runfolio.Run) -> None:
    runfolio.log_metric("loss", 0.25, step=7, timestamp=1_700_000_000_123)
    assert metric_rows(run) == [["loss", "7", "0.25", "1700000000123"]]
    [history] = runfolio.get_metric_history(run.run_id, "loss")
    assert (history.key, history.step, history.value, history.timestamp) == (
        "loss",
        7,
        0.25,
        1_700_000_000_123,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float64(0.1), 0.1),
        (np.float32(0.5), 0.5),
        (np.int64(3), 3.0),
        (7, 7.0),
        (True, 1.0),
        (Decimal("0.1"), 0.1),
        (Fraction(1, 4), 0.25),
        (np.array(2.5), 2.5),
    ],
)
def test_numeric_metric_values_are_stored_as_floats(
    run: runfolio.Run, value: Any, expected: float
) -> None:
    runfolio.log_metric("m", value)
    runfolio.log_metrics({"n": value})
    rows = metric_rows(run)
    assert [r[2] for r in rows] == [repr(expected), repr(expected)]
    assert runfolio.get_metric_history(run.run_id, "m")[0].value == expected


@pytest.mark.parametrize("value", ["0.5", b"1", None, object(), [1.0], {"a": 1}, 1j, 10**400])
def test_non_numeric_metric_values_raise_naming_the_key(run: runfolio.Run, value: Any) -> None:
    runfolio.log_metric("kept", 1.0)
    with pytest.raises(InvalidInputError, match="'acc'"):
        runfolio.log_metric("acc", value)
    with pytest.raises(InvalidInputError, match="'acc'"):
        runfolio.log_metrics({"fine": 1.0, "acc": value})
    assert [r[0] for r in metric_rows(run)] == ["kept"]
    runfolio.end_run()
    assert set(read_yaml(run.path / "run.yaml")["metrics"]) == {"kept"}


@pytest.mark.parametrize("step", [True, False, 1.5, "1", float("nan"), float("inf")])
def test_bad_steps_raise(run: runfolio.Run, step: Any) -> None:
    with pytest.raises(InvalidInputError, match="step"):
        runfolio.log_metric("loss", 1.0, step=step)
    with pytest.raises(InvalidInputError, match="step"):
        runfolio.log_metrics({"loss": 1.0}, step=step)
    assert metric_rows(run) == []


@pytest.mark.parametrize(("step", "stored"), [(3.0, "3"), (np.int64(4), "4"), (-2, "-2")])
def test_integral_steps_are_accepted(run: runfolio.Run, step: Any, stored: str) -> None:
    runfolio.log_metric("loss", 1.0, step=step)
    runfolio.log_metrics({"acc": 1.0}, step=step)
    assert [r[1] for r in metric_rows(run)] == [stored, stored]


def test_bad_timestamp_raises(run: runfolio.Run) -> None:
    with pytest.raises(InvalidInputError):
        runfolio.log_metric("loss", 1.0, timestamp=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        runfolio.log_metric("loss", 1.0, timestamp=True)  # type: ignore[arg-type]
    assert metric_rows(run) == []


@pytest.mark.parametrize("key", ["val,acc", 'say "hi"', '"', ",", 'a,"b",c', "ü,ñ 😀"])
def test_keys_needing_csv_quotes_round_trip(run: runfolio.Run, key: str) -> None:
    runfolio.log_metric(key, 0.5, step=1)
    runfolio.log_metrics({key: 0.75, "plain": 1.0}, step=2)
    runfolio.end_run()
    assert [r[0] for r in metric_rows(run)] == [key, key, "plain"]
    assert [r.value for r in runfolio.get_metric_history(run.run_id, key)] == [0.5, 0.75]
    record = runfolio.get_run(run.run_id)
    assert record.metrics[key]["last"] == 0.75
    assert record.problems == []


def test_log_metrics_writes_all_or_nothing(run: runfolio.Run) -> None:
    runfolio.log_metrics({"a": 1.0, "b": 2.0}, step=1, timestamp=1000)
    with pytest.raises(InvalidInputError):
        runfolio.log_metrics({"a": 3.0, "b": "oops", "c": 4.0}, step=2)
    with pytest.raises(InvalidInputError):
        runfolio.log_metrics({"a": 3.0, "bad/key": 4.0}, step=2)
    with pytest.raises(InvalidInputError):
        runfolio.log_metrics([("a", 1.0)])  # type: ignore[arg-type]
    assert metric_rows(run) == [["a", "1", "1.0", "1000"], ["b", "1", "2.0", "1000"]]
    runfolio.end_run()
    assert summary(run, "a")["count"] == 1


def test_summary_follows_the_latest_rule(run: runfolio.Run) -> None:
    # The highest step wins whatever the order; ties go to the later timestamp, then
    # to the later row.
    runfolio.log_metric("loss", 5.0, step=10, timestamp=100)
    runfolio.log_metric("loss", 1.0, step=2, timestamp=900)
    runfolio.log_metric("loss", 4.0, step=10, timestamp=50)
    runfolio.log_metric("acc", 0.1, step=3, timestamp=100)
    runfolio.log_metric("acc", 0.2, step=3, timestamp=100)
    runfolio.log_metric("acc", 0.05, step=1, timestamp=200)
    live = runfolio.get_run(run.run_id).metrics  # computed from metrics.csv while RUNNING
    runfolio.end_run()
    assert summary(run, "loss") == {
        "count": 3,
        "last": 5.0,
        "max": 5.0,
        "min": 1.0,
        "step": 10,
        "timestamp": 100,
    }
    assert summary(run, "acc") == {
        "count": 3,
        "last": 0.2,
        "max": 0.2,
        "min": 0.05,
        "step": 3,
        "timestamp": 100,
    }
    assert live == {"loss": summary(run, "loss"), "acc": summary(run, "acc")}
    assert runfolio.get_run(run.run_id).metrics == live


def test_summary_ignores_nan_in_min_and_max(run: runfolio.Run) -> None:
    runfolio.log_metric("only_nan", float("nan"))
    runfolio.log_metric("mixed", float("nan"), step=0)
    runfolio.log_metric("mixed", 2.0, step=1)
    runfolio.log_metric("mixed", -1.0, step=2)
    runfolio.log_metric("mixed", float("nan"), step=3)
    runfolio.log_metric("inf", float("inf"), step=0)
    runfolio.log_metric("inf", float("-inf"), step=1)
    runfolio.end_run()
    only_nan = summary(run, "only_nan")
    assert math.isnan(only_nan["last"])
    assert only_nan["min"] is None and only_nan["max"] is None
    mixed = summary(run, "mixed")
    assert math.isnan(mixed["last"])
    assert (mixed["min"], mixed["max"], mixed["count"], mixed["step"]) == (-1.0, 2.0, 4, 3)
    assert summary(run, "inf")["min"] == float("-inf")
    assert summary(run, "inf")["max"] == float("inf")
    assert summary(run, "inf")["last"] == float("-inf")


def test_metric_text_is_shortest_round_trip(run: runfolio.Run) -> None:
    values = [0.1, 1e-300, -0.0, 1e16, 5e-324, 1.7976931348623157e308, float("nan"), -math.inf]
    for step, value in enumerate(values):
        runfolio.log_metric("v", value, step=step, timestamp=0)
    assert [r[2] for r in metric_rows(run)] == [
        "0.1",
        "1e-300",
        "-0.0",
        "1e+16",
        "5e-324",
        "1.7976931348623157e+308",
        "nan",
        "-inf",
    ]


def test_a_bad_timestamp_is_named_in_the_error(run: runfolio.Run) -> None:
    with pytest.raises(InvalidInputError, match="timestamp must be an integer"):
        run.log_metric("loss", 1.0, timestamp="yesterday")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="timestamp must be an integer"):
        run.log_metrics({"loss": 1.0}, timestamp=1.5)  # type: ignore[arg-type]
    assert not (run.path / "metrics.csv").exists()


def test_an_unhashable_metric_key_is_invalid_input(run: runfolio.Run) -> None:
    with pytest.raises(InvalidInputError, match="metric key must be a string"):
        run.log_metric(["loss"], 1.0)  # type: ignore[arg-type]
