"""Registry writes from several users at once: one lock every writer of the store shares.

Each writer below is a separate process with its own cache folder (as two users, or two
CI jobs with different ``HOME``, would have), so a lock kept in a cache folder would not
be shared and two registrations would both take the same version.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runfolio.registry import read_registry, register_model, set_model_alias
from runfolio.store.reader import read_yaml_file
from store_helpers import log_model_runs
from waiting import wait_until

_WRITER = """
import os, sys, time
from pathlib import Path
from runfolio import registry
go, deadline = Path(sys.argv[2]), time.monotonic() + 60
Path(sys.argv[5]).touch()  # imported and at the start line
while not go.exists():  # the start line; give up if the test died before opening it
    if time.monotonic() > deadline:
        sys.exit("never started")
    time.sleep(0.005)
root, action = Path(sys.argv[1]), sys.argv[3]
if action == "register":
    print(registry.register_model(root, sys.argv[4], "churn").version)
else:
    print(registry.set_model_alias(root, "churn", "champion", int(sys.argv[4])).version)
"""


def _race(root: Path, tmp_path: Path, action: str, args: list[str]) -> list[str]:
    """Start one writer process per argument, each with its own cache folder, at once."""
    go = tmp_path / "go"
    procs, ready = [], []
    for index, arg in enumerate(args):
        ready.append(tmp_path / f"ready-{index}")
        env = {
            **os.environ,
            "RUNFOLIO_CACHE_DIR": str(tmp_path / f"cache-{index}"),
            "HOME": str(tmp_path / f"home-{index}"),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _WRITER, str(root), str(go), action, arg, str(ready[-1])],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    try:
        # Every writer has imported runfolio and waits at the start line: they go at once.
        def all_ready() -> bool:
            for proc in procs:
                assert proc.poll() is None, proc.communicate()[1]
            return all(path.exists() for path in ready)

        wait_until(all_ready, "every writer to be ready")
        go.touch()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            outputs.append(out.strip())
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return outputs


def test_writers_with_different_cache_folders_get_distinct_versions(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    ids = log_model_runs(root, 6)
    versions = _race(root, tmp_path, "register", ids)
    assert sorted(map(int, versions)) == list(range(1, 7))
    registry = read_registry(root)
    assert registry.conflicts == []
    assert sorted(registry.model("churn").versions) == list(range(1, 7))


def test_alias_moves_from_different_cache_folders_leave_one_holder(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for run_id in log_model_runs(root, 6):
        register_model(root, run_id, "churn")
    _race(root, tmp_path, "alias", [str(v) for v in range(1, 7)])
    registry = read_registry(root)
    assert registry.conflicts == []
    holders = [v for v in registry.model("churn").versions.values() if "champion" in v.aliases]
    assert len(holders) == 1


def test_the_lock_writes_nothing_into_the_store(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    (run_id,) = log_model_runs(root, 1)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    register_model(root, run_id, "churn")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


_TAGGER = """
import sys
from pathlib import Path
from runfolio import Store
root, run_id, ready, stop = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
run = Store(root).start_run("exp", run_id=run_id)
ready.touch()
count = 0
while not stop.exists() or count < 50:  # tag until the registry writer is done
    run.set_tag(f"child.{count}", str(count))
    count += 1
run.end()
print(count)
"""


def test_registry_writes_keep_tags_another_process_sets_meanwhile(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    (run_id,) = log_model_runs(root, 1)
    register_model(root, run_id, "churn")
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    tagger = subprocess.Popen(
        [sys.executable, "-c", _TAGGER, str(root), run_id, str(ready), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: ready.exists() or tagger.poll() is not None, "the tagger to start")
        assert ready.exists(), tagger.communicate(timeout=60)[1]
        for index in range(40):  # each alias move rewrites the run's run.yaml
            set_model_alias(root, "churn", f"a{index}", 1)
        stop.touch()
        out, err = tagger.communicate(timeout=120)
    finally:
        if tagger.poll() is None:
            tagger.kill()
            tagger.wait()
    assert tagger.returncode == 0, err
    tags = read_yaml_file(root / "exp" / run_id / "run.yaml")["tags"]
    lost = [f"child.{i}" for i in range(int(out)) if tags.get(f"child.{i}") != str(i)]
    assert lost == [], f"{len(lost)} tags set by the other process were lost"
    assert all(tags.get(f"registry.alias.a{index}") for index in range(40))
    assert tags["registry.version"] == "1"
