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
from runfolio.site.build import build_site
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
        [".creating", "experiment.yaml", run.run_id]
    )
