"""Tests for runfolio.query.diff: comparing two runs row by row."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from runfolio import Store
from runfolio.errors import RunNotFoundError
from runfolio.query.diff import DiffRow, diff_records, diff_runs, values_equal
from runfolio.store.records import RunRecord


def _record(run_id: str, **fields: object) -> RunRecord:
    """A finished run record with the given fields and dull defaults."""
    base: dict[str, object] = {
        "run_id": run_id,
        "experiment": "exp",
        "experiment_slug": "exp",
        "path": Path("/nowhere") / run_id,
        "name": run_id,
        "status": "FINISHED",
        "stored_status": "FINISHED",
        "start_time": "2026-11-27T04:56:04.000Z",
    }
    base.update(fields)
    return RunRecord(**base)  # type: ignore[arg-type]


def _metrics(**last: float) -> dict[str, dict[str, float]]:
    """Metric summaries holding only what the diff reads: the last value."""
    return {key: {"last": value} for key, value in last.items()}


def _row(rows: list[DiffRow], section: str, key: str) -> DiffRow:
    """The row for ``section``/``key``; fails the test when there is none."""
    matches = [r for r in rows if r.section == section and r.key == key]
    assert len(matches) == 1, f"{section}.{key} in {rows}"
    return matches[0]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the record cache in tmp_path and git capture out of the developer's repository."""
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RUNFOLIO_STORE", raising=False)
    monkeypatch.chdir(tmp_path)


def test_every_key_of_either_run_gets_a_row_in_section_order() -> None:
    a = _record(
        "a",
        git={"commit": "abc", "branch": "main", "remote_url": "https://example.com/r.git"},
        params={"lr": 0.1, "model": {"depth": 3}},
        metrics=_metrics(loss=0.5),
        tags={"team": "vision"},
    )
    b = _record(
        "b",
        git={"commit": "def", "branch": "main"},
        params={"lr": 0.1, "seed": 7},
        metrics=_metrics(loss=0.4, acc=0.9),
        tags={"team": "vision"},
    )
    rows = diff_records(a, b)
    assert [(r.section, r.key) for r in rows] == [
        ("git", "commit"),
        ("git", "branch"),
        ("params", "lr"),
        ("params", "model.depth"),
        ("params", "seed"),
        ("metrics", "acc"),
        ("metrics", "loss"),
        ("tags", "team"),
    ]
    assert [r.key for r in rows if r.differs] == ["commit", "model.depth", "seed", "acc", "loss"]
    depth = _row(rows, "params", "model.depth")
    assert (depth.has_a, depth.has_b, depth.a, depth.b) == (True, False, 3, None)
    assert all(r.better is None for r in rows)


def test_a_param_holding_none_differs_from_a_missing_param() -> None:
    rows = diff_records(_record("a", params={"x": None}), _record("b"))
    row = _row(rows, "params", "x")
    assert row.has_a and not row.has_b and row.differs


def test_identical_runs_have_no_differing_rows() -> None:
    fields = {"params": {"lr": 0.1}, "metrics": _metrics(loss=math.nan), "tags": {"t": "1"}}
    rows = diff_records(_record("a", **fields), _record("b", **fields))
    assert rows and not any(r.differs for r in rows)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1, True),
        (1, 1.0, False),
        (1, True, False),
        (1, "1", False),
        (math.nan, math.nan, True),
        (0.0, -0.0, False),
        ([1, 2], [1, 2], True),
        ([1, 2], [1, 2.0], False),
        ({"a": 1}, {"a": 1}, True),
        (None, None, True),
    ],
)
def test_values_equal_needs_the_same_type_and_text(a: object, b: object, equal: bool) -> None:
    assert values_equal(a, b) is equal


@pytest.mark.parametrize(
    ("direction", "a", "b", "better"),
    [
        ("minimize", 0.3, 0.5, "a"),
        ("minimize", 0.5, 0.3, "b"),
        ("maximize", 0.3, 0.5, "b"),
        ("maximize", 0.5, 0.3, "a"),
        ("maximize", 0.5, 0.5, "tie"),
        ("minimize", -math.inf, 0.0, "a"),
        ("minimize", math.nan, 0.3, None),
    ],
)
def test_primary_metric_row_names_the_better_run(
    direction: str, a: float, b: float, better: str | None
) -> None:
    rows = diff_records(
        _record("a", metrics=_metrics(score=a, other=1.0)),
        _record("b", metrics=_metrics(score=b, other=2.0)),
        primary_metric="score",
        direction=direction,
    )
    assert _row(rows, "metrics", "score").better == better
    assert _row(rows, "metrics", "other").better is None


def test_primary_metric_missing_on_one_side_has_no_verdict() -> None:
    rows = diff_records(
        _record("a", metrics=_metrics(score=0.1)), _record("b"), primary_metric="score"
    )
    assert _row(rows, "metrics", "score").better is None


def test_diff_runs_reads_the_store_and_uses_the_shared_primary_metric(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    store.set_experiment("iris", primary_metric="accuracy", direction="maximize")
    ids = []
    for name, c, accuracy in (("small", 1.0, 0.9), ("large", 10.0, 0.95)):
        run = store.start_run("iris", run_name=name)
        run.log_params({"C": c})
        run.log_metric("accuracy", accuracy)
        run.end()
        ids.append(run.run_id)
    other = store.start_run("housing", run_name="ridge")
    other.log_metric("accuracy", 0.99)
    other.end()

    diff = diff_runs(store.root, ids[0], ids[1][-10:-3])
    assert (diff.run_a.name, diff.run_b.name) == ("small", "large")
    assert (diff.primary_metric, diff.direction) == ("accuracy", "maximize")
    assert _row(diff.rows, "metrics", "accuracy").better == "b"
    assert [(r.key, r.a, r.b) for r in diff.differing] == [
        ("C", 1.0, 10.0),
        ("accuracy", 0.9, 0.95),
    ]

    across = diff_runs(store.root, ids[0], other.run_id)
    assert across.primary_metric is None
    assert _row(across.rows, "metrics", "accuracy").better is None


def test_diff_runs_unknown_ref_raises(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    run = store.start_run("exp")
    run.end()
    with pytest.raises(RunNotFoundError, match="'ffffffffff'"):
        diff_runs(store.root, run.run_id, "ffffffffff")
