"""The bytes of run.yaml as the tracker and the importers write it, pinned exactly.

Both writers build a :class:`~runfolio.store.run_document.RunDocument`; these tests
freeze every input that varies (time, id, host, captured context) and compare each
version of the file with the text the format promises, byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runfolio.interop.store_writer import RunFields, RunMerge, ensure_experiment_from
from runfolio.store.run_document import RunDocument
from runfolio.tracking import capture, lifecycle
from runfolio.tracking.experiments import ensure_experiment
from runfolio.tracking.run import Run

RUN_ID = "20261127-045604-3f9a2c1b7d"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fix the run id, the clock, the process and the captured context."""
    monkeypatch.setattr("runfolio.store.layout.new_run_id", lambda: RUN_ID)
    times = iter(f"2026-11-27T04:5{i}:04.123Z" for i in range(10))
    monkeypatch.setattr("runfolio.tracking.run.now_iso", lambda: next(times))
    monkeypatch.setattr(lifecycle, "process_info", lambda: {"host": "trainer-01", "pid": 4385})
    monkeypatch.setattr(lifecycle, "register", lambda run: None)
    monkeypatch.setattr(lifecycle, "unregister", lambda run: None)
    context = capture.CapturedContext(
        user="alice",
        source={"argv": ["--epochs", "50"], "entry_point": "train.py"},
        git={"branch": "main", "commit": "4f1c", "dirty": True, "remote_url": None},
        git_patch=b"diff\n",
        environment={"python": "3.11.7", "platform": "Linux"},
        packages="numpy==2.0\n",
    )
    monkeypatch.setattr("runfolio.tracking.run.capture_context", lambda root: context)
    failure = {"type": "ValueError", "message": "bad: 1", "traceback": "line 1\nline 2\n"}
    monkeypatch.setattr(lifecycle, "describe_failure", lambda exc: failure)


TRACKER_START = """\
description: ""
end_time: null
environment:
  packages: captured/packages.txt
  platform: Linux
  python: 3.11.7
experiment: Iris sweep
format: 1
git:
  branch: main
  commit: 4f1c
  dirty: true
  patch: captured/git.patch
  remote_url: null
id: 20261127-045604-3f9a2c1b7d
name: swift-otter
parent_run_id: 20261127-045600-aaaaaaaaaa
process:
  host: trainer-01
  pid: 4385
source:
  argv:
  - "--epochs"
  - "50"
  entry_point: train.py
start_time: "2026-11-27T04:50:04.123Z"
status: RUNNING
tags:
  team: vision
user: alice
"""

TRACKER_END = """\
description: |
  first line
  second line
end_time: "2026-11-27T04:51:04.123Z"
environment:
  packages: captured/packages.txt
  platform: Linux
  python: 3.11.7
experiment: Iris sweep
failure:
  message: "bad: 1"
  traceback: |
    line 1
    line 2
  type: ValueError
format: 1
git:
  branch: main
  commit: 4f1c
  dirty: true
  patch: captured/git.patch
  remote_url: null
id: 20261127-045604-3f9a2c1b7d
metrics:
  loss:
    count: 2
    last: 0.5
    max: 2.0
    min: 0.5
    step: 1
    timestamp: 1795755828702
models:
- model
name: renamed
parent_run_id: 20261127-045600-aaaaaaaaaa
process:
  host: trainer-01
  pid: 4385
source:
  argv:
  - "--epochs"
  - "50"
  entry_point: train.py
start_time: "2026-11-27T04:50:04.123Z"
status: FAILED
tags:
  stage: done
  team: vision
user: alice
"""


def _run_yaml(run: Run) -> str:
    return (run.path / "run.yaml").read_bytes().decode("utf-8")


def test_the_tracker_writes_run_yaml_byte_for_byte(tmp_path: Path, frozen: None) -> None:
    experiment = ensure_experiment(tmp_path / "runs", "Iris sweep")
    run = Run.create(
        experiment,
        run_name="swift-otter",
        tags={"team": "vision"},
        parent_run_id="20261127-045600-aaaaaaaaaa",
    )
    assert _run_yaml(run) == TRACKER_START
    run.log_metric("loss", 2.0, step=0, timestamp=1795755828642)
    run.log_metric("loss", 0.5, step=1, timestamp=1795755828702)
    run.set_tags({"stage": "done", "gone": "x"})
    run.delete_tag("gone")
    run.set_name("renamed")
    run.set_description("first line\nsecond line\n")
    run.log_model({"weights": [1, 2]})
    with pytest.raises(ValueError), run:
        raise ValueError("bad: 1")
    assert _run_yaml(run) == TRACKER_END


def test_resuming_rewrites_only_what_the_process_owns(tmp_path: Path, frozen: None) -> None:
    experiment = ensure_experiment(tmp_path / "runs", "Iris sweep")
    with Run.create(experiment, run_name="swift-otter", tags={"team": "vision"}) as run:
        pass
    path = run.path / "run.yaml"
    # Keys another tool wrote are kept as they are, the old summary dropped on resume.
    path.write_text(path.read_text(encoding="utf-8") + "zz_later: {a: [1, 2]}\n")
    resumed = Run.resume(experiment, run.path)
    text = _run_yaml(resumed)
    assert "zz_later:\n  a:\n  - 1\n  - 2\n" in text
    assert "metrics:" not in text and "status: RUNNING\n" in text and "end_time: null\n" in text
    resumed.end("KILLED")
    assert "status: KILLED\n" in _run_yaml(resumed) and "metrics: {}\n" in _run_yaml(resumed)


IMPORTED = """\
description: from mlflow
end_time: "2026-11-27T04:57:10.480Z"
environment: {}
experiment: Imported
format: 1
git:
  commit: 4f1c
id: 20261127-045604-3f9a2c1b7d
metrics:
  acc:
    count: 2
    last: 0.75
    max: 0.75
    min: 0.5
    step: 2
    timestamp: 1795755830000
name: imported-run
parent_run_id: null
process: {}
source:
  entry_point: train.py
start_time: "2026-11-27T04:56:04.123Z"
status: FINISHED
tags:
  mlflow.origin: abc
user: bob
"""

IMPORTED_AGAIN = """\
description: ""
end_time: "2026-11-27T04:57:10.480Z"
environment: {}
experiment: Imported
format: 1
git:
  commit: 4f1c
id: 20261127-045604-3f9a2c1b7d
metrics:
  acc:
    count: 3
    last: 0.875
    max: 0.875
    min: 0.5
    step: 3
    timestamp: 1795755831000
name: imported-run
parent_run_id: null
process: {}
source:
  entry_point: train.py
start_time: "2026-11-27T04:56:04.123Z"
status: FINISHED
tags:
  extra: kept
  mlflow.origin: abc
  new: "yes"
user: null
zz_later: 1
"""


def _fields(**changes: Any) -> RunFields:
    values: dict[str, Any] = {
        "name": "imported-run",
        "status": "FINISHED",
        "start_ms": 1795755364123,
        "end_ms": 1795755430480,
        "user": "bob",
        "description": "from mlflow",
        "tags": {"mlflow.origin": "abc"},
        "source": {"entry_point": "train.py"},
        "git": {"commit": "4f1c"},
    }
    return RunFields(**{**values, **changes})


def test_the_importers_write_run_yaml_byte_for_byte(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    experiment, _ = ensure_experiment_from(root, "Imported", None, 1795755364123)
    run_dir = experiment.path / RUN_ID
    merge = RunMerge(experiment, run_dir)
    merge.add_metric_rows([("acc", 1, 0.5, 1795755829000), ("acc", 2, 0.75, 1795755830000)])
    merge.finish(_fields())
    path = run_dir / "run.yaml"
    assert path.read_bytes().decode("utf-8") == IMPORTED
    before = path.stat().st_mtime_ns
    again = RunMerge(experiment, run_dir)
    again.finish(_fields())
    assert not again.changed and path.stat().st_mtime_ns == before  # nothing new: no write

    text = path.read_text(encoding="utf-8").replace("tags:\n", "tags:\n  extra: kept\n")
    path.write_text(text + "zz_later: 1\n", encoding="utf-8")
    third = RunMerge(experiment, run_dir)
    third.add_metric_rows([("acc", 3, 0.875, 1795755831000)])
    third.finish(_fields(user=None, description="", tags={"new": "yes"}))
    assert path.read_bytes().decode("utf-8") == IMPORTED_AGAIN


def test_a_document_reads_back_as_written(tmp_path: Path, frozen: None) -> None:
    experiment = ensure_experiment(tmp_path / "runs", "Iris sweep")
    run = Run.create(experiment, run_name="swift-otter", tags={"team": "vision"})
    path = run.path / "run.yaml"
    from runfolio.store.reader import read_yaml_mapping
    from runfolio.store.serialize import dump_yaml

    data = read_yaml_mapping(path)
    document = RunDocument.from_yaml_dict(data, path)
    assert document.to_yaml_dict() == data
    assert dump_yaml(document.to_yaml_dict()) == TRACKER_START.replace(
        "parent_run_id: 20261127-045600-aaaaaaaaaa", "parent_run_id: null"
    )
