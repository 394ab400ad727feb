"""A process SIGKILLed inside ``start_run`` leaves no run folder that readers refuse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runfolio import Store
from runfolio.site.build import BuildError, build_site
from runfolio.store.scan import scan_store

WORKER = Path(__file__).parent / "workers" / "start_kill_worker.py"


@pytest.mark.parametrize("kill_at", ["run-yaml", "publish"])
def test_a_start_killed_midway_leaves_nothing_a_strict_build_refuses(
    tmp_path: Path, worker_env: dict[str, str], kill_at: str
) -> None:
    store = tmp_path / "store"
    proc = subprocess.run(
        [sys.executable, str(WORKER), str(store), kill_at],
        capture_output=True,
        text=True,
        env=worker_env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, (proc.stdout, proc.stderr)

    scan = scan_store(store)
    assert (scan.problems, scan.runs) == ([], [])
    build_site(store, tmp_path / "site", strict=True)

    # What the killed start left is hidden; a later start removes it once it is old.
    [leftover] = (store / "e" / ".creating").iterdir()
    an_hour_ago = time.time() - 3601
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    with Store(store).start_run("e") as run:
        run.log_metric("loss", 0.5)
    assert not leftover.exists()
    assert [r.run_id for r in scan_store(store).runs] == [run.run_id]
    assert sorted(p.name for p in (store / "e").iterdir()) == sorted(
        ["experiment.yaml", run.run_id]
    )


def test_a_run_folder_without_run_yaml_is_reported_with_the_command_that_heals_it(
    tmp_path: Path,
) -> None:
    # What a start killed midway left in stores written before run folders were staged.
    store = tmp_path / "store"
    with Store(store).start_run("e") as run:
        run.log_metric("loss", 0.5)
    leftover = run.path.parent / "20261201-120000-0123456789"
    (leftover / "captured").mkdir(parents=True)
    (leftover / "captured" / "packages.txt").write_text("pyyaml==6.0\n", encoding="utf-8")

    [problem] = scan_store(store).problems
    assert problem.path == leftover
    assert "rm -r <folder>" in problem.reason
    with pytest.raises(BuildError, match=r"run folder has no run\.yaml"):
        build_site(store, tmp_path / "site", strict=True)
    subprocess.run(["rm", "-r", str(leftover)], check=True, timeout=60)
    build_site(store, tmp_path / "site", strict=True)
