"""Smoke test of the benchmark scripts: each runs at small scale and prints its table.

No timing is asserted (speed is reported by the benchmarks themselves, never tested);
this only keeps the scripts from rotting as the API under them changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = [
    "bench_log_metric.py",
    "bench_import.py",
    "bench_create_runs.py",
    "bench_durability.py",
    "bench_search.py",
    "bench_report.py",
    "bench_git_layer.py",
    "bench_serve_watch.py",
]
# MLflow has no pull-request report, no git layer and no preview server that watches files
NO_MLFLOW_ROW = {"bench_report.py", "bench_git_layer.py", "bench_serve_watch.py"}


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_quick_and_prints_a_table(script: str, tmp_path: Path) -> None:
    """``<script> --quick --no-mlflow`` exits 0 and prints a markdown table with runfolio rows."""
    env = {**os.environ, "RUNFOLIO_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / script), "--quick", "--no-mlflow",
         "--reps", "1", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("## ")
    header = next(i for i, line in enumerate(lines) if line.startswith("| "))
    assert set(lines[header + 1].replace(" ", "")) <= set("|-")
    body = [line for line in lines[header + 2 :] if line.startswith("|")]
    assert any("runfolio" in line for line in body)
    if script not in NO_MLFLOW_ROW:
        assert any("skipped (--no-mlflow)" in line for line in body)
    if script == "bench_search.py":  # its built-in check: an edited and an added run are seen
        assert "saw the edit: yes, saw the new run: yes" in done.stdout
        assert "**PASS**" in done.stdout
