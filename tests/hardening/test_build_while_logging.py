"""A build running while runs are being logged completes, with a consistent snapshot.

A worker process logs runs without pause (metrics every few milliseconds, tags,
artifacts, new runs starting and ending) while the site is built again and again. Every
build must succeed, even with ``--strict``: a run being written is not a broken run.
And each run page must show one moment of its run: the metric history drawn ends with
the last value the leaderboard and the metrics table show, never rows logged after the
run was read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from runfolio.site.build import build_site

WORKERS = Path(__file__).resolve().parents[1] / "tracking" / "workers"
BUILDS = 6


def _compare_data(js: Path) -> dict:
    """The run's compare data, as the run page's script file holds it."""
    match = re.search(r"JSON\.parse\((\".*\")\)", js.read_text(encoding="utf-8"))
    assert match, js
    return json.loads(json.loads(match.group(1)))


def test_builds_during_logging_succeed_and_show_one_moment_per_run(tmp_path: Path) -> None:
    store = tmp_path / "store"
    stop = tmp_path / "stop"
    env = {"RUNFOLIO_CAPTURE_GIT": "0", "PYTHONUNBUFFERED": "1"}
    import os

    worker = subprocess.Popen(
        [sys.executable, str(WORKERS / "live_logger_worker.py"), str(store), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    checked_runs = 0
    running_seen = 0
    try:
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
        for number in range(BUILDS):
            site = tmp_path / f"site-{number % 2}"  # rebuilds too: incremental under load
            report = build_site(store, site, config_root=tmp_path, strict=True)
            assert report.problems == []
            table = json.loads((site / "experiments" / "live" / "runs.json").read_text())
            columns = table["columns"]
            status_at = columns.index("status")
            for row in table["data"]:
                run_id = row[0]
                data = _compare_data(site / "experiments" / "live" / "runs" / f"{run_id}.js")
                assert data["status"] == row[status_at]
                running_seen += data["status"] == "RUNNING"
                for key in ("loss", "acc"):
                    summary = data["metrics"].get(key)
                    points = data["history"].get(key, [])
                    if summary is None:
                        assert points == []
                        continue
                    # The page's history is the snapshot its summary was made from.
                    assert points, (run_id, key)
                    assert points[-1][1] == summary["last"], (run_id, key, points[-1], summary)
                    assert points[-1][0] == summary["step"]
                    leaderboard_last = row[columns.index(f"metrics.{key}")]
                    assert leaderboard_last == summary["last"]
                checked_runs += 1
    finally:
        stop.touch()
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert checked_runs > BUILDS and running_seen > 0  # builds really overlapped logging


def test_a_live_run_s_half_written_last_row_is_not_a_problem(tmp_path: Path) -> None:
    from runfolio import Store
    from runfolio.store.scan import scan_store

    store = Store(tmp_path / "store")
    run = store.start_run("live")  # alive: this very process is logging it
    run.log_metric("loss", 0.5, step=0)
    run.log_metric("loss", 0.25, step=1)
    with open(run.path / "metrics.csv", "a", encoding="utf-8") as handle:
        handle.write("loss,2,0.1")  # an append caught halfway
    scan = scan_store(store.root)
    assert [r.status for r in scan.runs] == ["RUNNING"] and scan.problems == []
    report = build_site(store.root, tmp_path / "site", config_root=tmp_path, strict=True)
    assert report.problems == []
    run.end()
    # Finished (or crashed), a torn row is a real problem of the run again.
    with open(run.path / "metrics.csv", "a", encoding="utf-8") as handle:
        handle.write("loss,3,0.1")
    again = build_site(store.root, tmp_path / "site", config_root=tmp_path)
    assert any("incomplete last row" in p for p in again.problems)
