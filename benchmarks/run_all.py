"""Run every benchmark and write ``benchmarks/results.md`` (machine, date, each table).

Run: ``.venv/bin/python benchmarks/run_all.py [--quick] [--no-mlflow] [--output FILE]``

Each script runs in its own process, one after the other (never in parallel: they
would slow each other down). Their tables are printed as they finish and gathered into
the results file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import _common as common

SCRIPTS = (
    "bench_log_metric.py",
    "bench_import.py",
    "bench_create_runs.py",
    "bench_durability.py",
    "bench_search.py",
    "bench_report.py",
    "bench_git_layer.py",
    "bench_site.py",
    "bench_leaderboard_browser.py",
    "bench_serve_watch.py",
)


def machine_info() -> list[str]:
    """Lines describing where and when the figures were taken."""
    import runfolio

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=common.REPO_ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return [
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} CPUs, {platform.platform()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        f"- runfolio {runfolio.__version__} (checkout {commit or 'unknown'}), "
        f"MLflow {common.mlflow_version()}",
        f"- Load average at the start (1, 5, 15 min): {_load()}",
    ]


def _load() -> str:
    """The system load averages, which say how busy the machine was."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> int:
    """Run the scripts, write the results file; non-zero if any script failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--no-mlflow", action="store_true", help="leave MLflow out")
    parser.add_argument("--output", type=Path, default=common.BENCH_DIR / "results.md")
    args = parser.parse_args()
    passed = [flag for flag, on in (("--quick", args.quick), ("--no-mlflow", args.no_mlflow)) if on]

    sections = ["# runfolio benchmark results", "", *machine_info()]
    if passed:
        sections.append(f"- Options: {' '.join(passed)}")
    sections.append("")
    failed = []
    for script in SCRIPTS:
        print(f"running {script} {' '.join(passed)}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(common.BENCH_DIR / script), *passed],
            cwd=common.REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        took = time.perf_counter() - start
        print(done.stdout, flush=True)
        if done.returncode != 0:
            failed.append(script)
            sections += [
                f"## {script}",
                "",
                f"FAILED (exit {done.returncode}); see its stderr.",
                "",
            ]
            continue
        sections += [done.stdout.rstrip(), "", f"_{script}: {took:,.0f} s in all._", ""]
    sections.append(f"Load average at the end (1, 5, 15 min): {_load()}.")
    args.output.write_text("\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
