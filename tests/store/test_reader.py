"""Tolerant readers: one malformed run or experiment is reported, never fatal."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import runfolio
from runfolio.errors import MalformedRunError, StoreError
from runfolio.query.runs import MetricHistoryWarning
from runfolio.store.layout import new_run_id
from runfolio.store.reader import Problem
from runfolio.store.scan import list_experiments, scan_store


@pytest.fixture(autouse=True)
def _outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder outside any git repository, so runs capture no git state."""
    monkeypatch.chdir(tmp_path)


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def clone_run(good: Path, edit: Any = None, *, run_id: str | None = None) -> Path:
    """Copy a run folder under a new id (run.yaml's id updated), then let ``edit`` change it."""
    run_id = run_id or new_run_id(1_900_000_000 + len(list(good.parent.iterdir())))
    target = good.parent / run_id
    shutil.copytree(good, target)
    data = read_yaml(target / "run.yaml")
    data["id"] = run_id
    write_yaml(target / "run.yaml", data)
    if edit is not None:
        edit(target, data)
    return target


def set_fields(**changes: Any) -> Any:
    """An edit that rewrites run.yaml with some fields changed (None deletes a field)."""

    def edit(run_dir: Path, data: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        write_yaml(run_dir / "run.yaml", data)

    return edit


def replace_file(name: str, content: str | bytes) -> Any:
    """An edit that replaces one file of the run."""

    def edit(run_dir: Path, data: dict[str, Any]) -> None:
        path = run_dir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return edit


@pytest.fixture
def good_store(tmp_path: Path) -> tuple[Path, runfolio.Run]:
    """A store with one finished run holding params and metrics."""
    store = runfolio.Store(tmp_path / "runs")
    with store.start_run("exp", run_name="good") as run:
        run.log_params({"lr": 0.1})
        run.log_metric("loss", 1.0, step=0)
        run.log_metric("loss", 0.5, step=1)
    return store.root, run


def test_scan_reports_every_bad_item_and_keeps_the_good_runs(
    good_store: tuple[Path, runfolio.Run], tmp_path: Path
) -> None:
    root, good = good_store
    bad: dict[Path, str] = {}

    bad[clone_run(good.path, replace_file("run.yaml", "id: [unclosed\nstatus: {\n"))] = (
        "invalid YAML"
    )
    bad[clone_run(good.path, replace_file("run.yaml", "- a list\n- not a mapping\n"))] = (
        "expected a mapping"
    )
    bad[clone_run(good.path, replace_file("run.yaml", b"status: \xff\xfe\n"))] = "not UTF-8"
    bad[clone_run(good.path, set_fields(status="DONE"))] = "'status' is 'DONE'"
    bad[clone_run(good.path, set_fields(start_time=None))] = "'start_time' is missing"
    bad[clone_run(good.path, set_fields(start_time="yesterday"))] = "not an ISO 8601 time"
    bad[clone_run(good.path, set_fields(id="20200101-000000-0000000000"))] = "folder is named"
    bad[clone_run(good.path, set_fields(tags=["a", "b"]))] = "'tags' must be a mapping"
    bad[clone_run(good.path, replace_file("params.yaml", "- 1\n- 2\n"))] = "expected a mapping"
    bad[clone_run(good.path, replace_file("params.yaml", "lr: [\n"))] = "invalid YAML"

    interrupted = root / "exp" / new_run_id(1_950_000_000)
    interrupted.mkdir()
    bad[interrupted] = "no run.yaml"

    outside = tmp_path / "elsewhere" / new_run_id(1_960_000_000)
    shutil.copytree(good.path, outside)
    linked = root / "exp" / outside.name
    linked.symlink_to(outside, target_is_directory=True)
    bad[linked] = "symlink"

    orphan = root / "orphan"
    shutil.copytree(good.path, orphan / good.run_id)
    bad[orphan] = "no experiment.yaml"

    sideways = root / "sideways"
    shutil.copytree(good.path.parent, sideways, symlinks=True)
    write_yaml(
        sideways / "experiment.yaml",
        {"name": "sideways", "primary_metric": {"name": "loss", "direction": "sideways"}},
    )
    bad[sideways / "experiment.yaml"] = "direction"

    nameless = root / "nameless"
    nameless.mkdir()
    write_yaml(nameless / "experiment.yaml", {"description": "no name"})
    bad[nameless / "experiment.yaml"] = "'name'"

    # Things a store may hold that are not runs: ignored without a word.
    (root / "README.md").write_text("# my runs\n", encoding="utf-8")
    (root / ".hidden").mkdir()
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("x", encoding="utf-8")
    (root / "exp" / "plots").mkdir()
    (root / "exp" / ".DS_Store").write_bytes(b"\0")

    scan = scan_store(root)

    assert [r.run_id for r in scan.runs] == [good.run_id]
    assert [e.name for e in scan.experiments] == ["exp"]
    assert {p.path for p in scan.problems} == set(bad)
    assert len(scan.problems) == len(bad)
    for problem in scan.problems:
        assert bad[problem.path] in problem.reason, problem
        assert str(problem).startswith(str(problem.path))


def test_torn_and_garbled_metric_rows_are_skipped_and_reported(tmp_path: Path) -> None:
    store = runfolio.Store(tmp_path / "runs")
    run = store.start_run("exp")
    try:
        run.log_metric("loss", 1.0, step=0, timestamp=10)
        run.log_metric("loss", 0.5, step=1, timestamp=20)
        run.log_metric("loss", 0.25, step=2, timestamp=30)
        path = run.path / "metrics.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines.insert(2, "loss,one,0.7,15")
        path.write_text("\n".join(lines) + "\nloss,3,0.1", encoding="utf-8")

        scan = scan_store(store.root)
        [record] = scan.runs
        assert record.metrics["loss"]["count"] == 3
        assert record.metrics["loss"]["last"] == 0.25
        # The garbled row is reported; the torn last row is skipped too, but not reported:
        # this process is alive and logging, so the row may just be half written.
        # (A killed writer's torn row is reported: see tests/tracking/test_crash.py.)
        assert [(p.path, "line 3: malformed row skipped" in p.reason) for p in scan.problems] == [
            (run.path, True)
        ]
        with pytest.warns(MetricHistoryWarning, match="line 3: malformed row skipped"):
            history = store.get_metric_history(run.run_id, "loss")
        assert [r.value for r in history] == [1.0, 0.5, 0.25]
    finally:
        run.end()


def test_a_malformed_summary_falls_back_to_metrics_csv(
    good_store: tuple[Path, runfolio.Run],
) -> None:
    root, good = good_store
    data = read_yaml(good.path / "run.yaml")
    data["metrics"] = {"loss": {"last": "x", "timestamp": "soon", "step": 1}}
    write_yaml(good.path / "run.yaml", data)
    scan = scan_store(root)
    [record] = scan.runs
    assert record.metrics["loss"]["last"] == 0.5
    assert record.metrics["loss"]["count"] == 2
    [problem] = scan.problems
    assert "'metrics'" in problem.reason
    assert list(runfolio.Store(root).search_runs()["metrics.loss"]) == [0.5]


@pytest.mark.parametrize(
    "metrics",
    [
        ["loss"],
        {"loss": 0.5},
        {"loss": {"last": 0.5, "step": 1, "timestamp": 5, "count": True}},
        {"loss": {"last": None, "step": 1, "timestamp": 5, "count": 2}},
    ],
)
def test_other_malformed_summaries_never_raise(
    good_store: tuple[Path, runfolio.Run], metrics: Any
) -> None:
    root, good = good_store
    data = read_yaml(good.path / "run.yaml")
    data["metrics"] = metrics
    write_yaml(good.path / "run.yaml", data)
    [record] = scan_store(root).runs
    assert record.metrics["loss"]["last"] == 0.5
    frame = runfolio.Store(root).search_runs()
    assert frame["metrics.loss"].dtype == "float64"


def test_get_run_of_a_malformed_run_names_the_file(good_store: tuple[Path, runfolio.Run]) -> None:
    root, good = good_store
    broken = clone_run(good.path, set_fields(status="DONE"))
    with pytest.raises(MalformedRunError, match=r"run\.yaml") as info:
        runfolio.Store(root).get_run(broken.name)
    assert str(broken) in str(info.value)
    frame = runfolio.Store(root).search_runs()
    assert list(frame["run_id"]) == [good.run_id]


def test_list_experiments_reports_bad_ones(good_store: tuple[Path, runfolio.Run]) -> None:
    root, _ = good_store
    (root / "bad").mkdir()
    (root / "bad" / "experiment.yaml").write_text(": : :\n", encoding="utf-8")
    found, problems = list_experiments(root)
    assert [e.name for e in found] == ["exp"]
    assert problems == [Problem(root / "bad" / "experiment.yaml", problems[0].reason)]


def test_a_missing_store_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        scan_store(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="not a directory"):
        scan_store(tmp_path / "file")


def test_an_empty_store_has_nothing(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    scan = scan_store(tmp_path / "runs")
    assert (scan.runs, scan.experiments, scan.problems) == ([], [], [])


def test_hand_written_yaml_is_read_leniently(good_store: tuple[Path, runfolio.Run]) -> None:
    root, good = good_store
    data = read_yaml(good.path / "run.yaml")
    # Written unquoted, a time loads as a datetime and tag values as numbers or booleans.
    data["start_time"] = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    data["tags"] = {"n": 3, "flag": True}
    data["extra_field"] = "kept"
    write_yaml(good.path / "run.yaml", data)
    assert "start_time: 2026-01-02 03:04:05" in (good.path / "run.yaml").read_text("utf-8")
    scan = scan_store(root)
    assert scan.problems == []
    [record] = scan.runs
    assert record.start_time.startswith("2026-01-02T03:04:05")
    assert record.start_ms == 1_767_323_045_000
    assert record.tags == {"n": "3", "flag": "True"}


def test_a_crashed_run_reads_as_crashed(tmp_path: Path) -> None:
    store = runfolio.Store(tmp_path / "runs")
    with store.start_run("exp") as run:
        pass
    data = read_yaml(run.path / "run.yaml")
    data.update(status="RUNNING", end_time=None, process={"host": "elsewhere", "pid": 1})
    data["start_time"] = "2020-01-01T00:00:00.000Z"
    data.pop("metrics")
    write_yaml(run.path / "run.yaml", data)
    [record] = scan_store(store.root).runs
    assert (record.status, record.stored_status) == ("CRASHED", "RUNNING")
