"""An import SIGKILLed midway leaves no run folder without run.yaml, and a rerun completes it.

The kill is real (``workers/import_kill_worker.py`` sends SIGKILL to itself at a chosen
write of ``runfolio import dvclive``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_dvclive_import import write_dvclive

from runfolio.interop.dvclive import import_dvclive
from runfolio.site.build import build_site
from runfolio.store.scan import scan_store

WORKER = Path(__file__).parent / "workers" / "import_kill_worker.py"


@pytest.mark.parametrize("kill_at", ["artifact", "run-yaml", "publish"])
def test_an_import_killed_midway_leaves_no_run_folder_without_run_yaml(
    tmp_path: Path, kill_at: str
) -> None:
    live = write_dvclive(tmp_path / "project")
    store = tmp_path / "runs"
    env = {**os.environ, "RUNFOLIO_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("RUNFOLIO_STORE", None)
    proc = subprocess.run(
        [sys.executable, str(WORKER), str(store), str(live), kill_at],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, (proc.stdout, proc.stderr)

    [experiment] = [p for p in store.iterdir() if p.is_dir()]
    visible = [p.name for p in experiment.iterdir() if not p.name.startswith(".")]
    assert visible == ["experiment.yaml"]
    scan = scan_store(store, use_cache=False)
    assert (scan.problems, scan.runs) == ([], [])
    build_site(store, tmp_path / "site", strict=True)

    # Importing again starts the run over and completes it; nothing is left hidden.
    report = import_dvclive(store, live)
    assert report.runs_created == 1
    [run] = scan_store(store, use_cache=False).runs
    assert run.params["epochs"] == 20 and run.metrics["acc"]["count"] == 3
    assert sorted(p.name for p in experiment.iterdir()) == sorted(["experiment.yaml", run.run_id])
