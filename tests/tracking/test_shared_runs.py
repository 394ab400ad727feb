"""Several processes on one run: a live run is not resumed by accident, and when it is
shared on purpose (``force=True``) no writer loses another's params, tags or models.

Each writer is a real process (``workers/shared_run_worker.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import runfolio
from runfolio import RunInUseError, Store
from runfolio.store import layout
from runfolio.store.reader import read_yaml_file

WORKER = Path(__file__).parent / "workers" / "shared_run_worker.py"
WRITES = 40  # the worker's WRITES


def _start(
    store: Path, run_id: str, mode: str, index: int, env: dict[str, str], work: Path
) -> subprocess.Popen[str]:
    """Launch one shared-run worker."""
    args = [str(store), run_id, mode, str(index), str(work / "start"), str(work / "stop")]
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=work,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    """Wait for a worker (killing it when it hangs); return its output, checking it exited 0."""
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return out


def test_resuming_a_run_live_in_this_process_is_refused(fluent_store: Path) -> None:
    store = Store(fluent_store)
    live = store.start_run("e", run_name="first", tags={"a": "1"})
    before = (live.path / layout.RUN_FILE).read_bytes()
    with pytest.raises(RunInUseError, match=rf"run {live.run_id} is live .*force=True"):
        store.start_run("e", run_id=live.run_id, run_name="second")
    assert (live.path / layout.RUN_FILE).read_bytes() == before
    live.end()
    resumed = store.start_run("e", run_id=live.run_id)  # ended: resumable again
    assert resumed.status == "RUNNING"
    resumed.end()


def test_a_live_run_is_resumed_by_one_process_only(
    fluent_store: Path, worker_env: dict[str, str], tmp_path: Path
) -> None:
    run = Store(fluent_store).start_run("e")
    run.end("KILLED")  # ended: either worker may resume it, but only one of them
    procs = [_start(fluent_store, run.run_id, "resume", i, worker_env, tmp_path) for i in (0, 1)]
    (tmp_path / "start").touch()
    try:
        lines = sorted(p.stdout.readline() for p in procs if p.stdout is not None)
    finally:
        (tmp_path / "stop").touch()
        outputs = [_finish(p) for p in procs]
    assert [line.split()[0] for line in lines] == ["in-use", "ok"], (lines, outputs)
    assert f"run {run.run_id} is live (process " in lines[0]
    assert read_yaml_file(run.path / layout.RUN_FILE)["status"] == "FINISHED"


def test_forced_writers_of_one_run_keep_every_param_tag_and_model(
    fluent_store: Path, worker_env: dict[str, str], tmp_path: Path
) -> None:
    run = runfolio.start_run(run_name="shared", tags={"owner": "parent"})
    procs = [_start(fluent_store, run.run_id, "log", i, worker_env, tmp_path) for i in (0, 1)]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        (tmp_path / "start").touch()
        # This process writes too, at the same time.
        for number in range(WRITES):
            runfolio.log_param(f"parent.p{number}", number)
            runfolio.set_tag(f"parent-t{number}", str(number))
    finally:
        outputs = [_finish(p) for p in procs]
    assert outputs == ["done\n", "done\n"]
    runfolio.end_run()

    params = read_yaml_file(run.path / layout.PARAMS_FILE)
    assert params == {f"{w}.p{n}": n for w in ("w0", "w1", "parent") for n in range(WRITES)}
    data = read_yaml_file(run.path / layout.RUN_FILE)
    expected_tags = {"owner": "parent"}
    for writer in ("w0", "w1", "parent"):
        expected_tags.update({f"{writer}-t{n}": str(n) for n in range(WRITES)})
    assert data["tags"] == expected_tags
    assert data["models"] == ["model-0", "model-1"]
    assert data["name"] == "shared"
    assert data["status"] == "FINISHED"
    record = runfolio.get_run(run.run_id)
    assert record.params["w1.p7"] == 7 and record.tags["parent-t3"] == "3"


def test_a_conflicting_param_from_another_writer_is_refused(fluent_store: Path) -> None:
    store = Store(fluent_store)
    first = store.start_run("e")
    second = store.start_run("e", run_id=first.run_id, force=True)
    first.log_param("lr", 0.1)
    with pytest.raises(runfolio.ParamConflictError, match=r"'lr' is 0.1, not 0.2"):
        second.log_param("lr", 0.2)
    assert second.log_param("lr", 0.1) == 0.1
    second.log_param("batch", 32)
    first.log_param("epochs", 3)
    second.set_tags({"b": "2"})
    first.set_tags({"a": "1"})
    first.delete_tag("b")  # set by the other handle: deleting it is not refused
    first.end()
    second.end()
    assert read_yaml_file(first.path / layout.PARAMS_FILE) == {"lr": 0.1, "batch": 32, "epochs": 3}
    assert read_yaml_file(first.path / layout.RUN_FILE)["tags"] == {"a": "1"}
