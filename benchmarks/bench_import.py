"""Start-up cost: a fresh interpreter importing runfolio vs ``yaml, csv`` vs MLflow.

Each row is the wall time of ``python -c "<code>"`` in a new process, so it includes
the interpreter's own start-up (shown alone as ``pass``). ``import runfolio`` loads the
lazy public API only; touching ``runfolio.log_metric`` loads the tracking modules, and
is reported as its own row.

Run: ``.venv/bin/python benchmarks/bench_import.py [--quick] [--no-mlflow]``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import _common as common

BASELINE = "import yaml, csv"
COMMANDS = {
    "pass": "interpreter start-up alone",
    BASELINE: "baseline: what a YAML + CSV writer needs",
    "import runfolio": "the package (lazy API)",
    "import runfolio; runfolio.log_metric": "first touch of the API (tracking modules load)",
    "import mlflow": "MLflow",
}


def run_once(code: str, cwd: str, env: dict[str, str]) -> float:
    """Seconds for a fresh interpreter to run ``code`` and exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    """Measure, print the table, return the exit status."""
    args = common.parse_args(__doc__.splitlines()[0])
    reps = args.reps or (3 if args.quick else 20)
    mlflow_missing = common.mlflow_status(args.no_mlflow)
    commands = [c for c in COMMANDS if c != "import mlflow" or mlflow_missing is None]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="runfolio-bench-") as cwd:
        for code in commands:  # compile .pyc files first: no row pays for bytecode
            run_once(code, cwd, env)
        results = common.interleave(
            {code: (lambda code=code: run_once(code, cwd, env)) for code in commands}, reps
        )
    medians = {code: common.median(times) for code, times in results.items()}
    base = medians[BASELINE]
    rows = []
    for code, what in COMMANDS.items():
        if code not in medians:
            rows.append([f'`python -c "{code}"`', what, mlflow_missing, "—", "—"])
            continue
        seconds = medians[code]
        rows.append(
            [
                f'`python -c "{code}"`',
                what,
                f"{seconds * 1000:,.1f}",
                common.ratio(seconds, base),
                f"{(seconds - base) * 1000:+,.1f}",
            ]
        )
    table = common.markdown_table(
        ["command", "what", "ms (median)", "vs yaml+csv", "ms over yaml+csv"], rows
    )
    package = medians["import runfolio"] / base
    touched = medians["import runfolio; runfolio.log_metric"] / base
    notes = [
        f"{reps} interleaved repetitions of each command, fresh interpreter each; medians. "
        f"{common.machine_line()}.",
        f"Target `import runfolio` ≤ 1.5x of `import yaml, csv`: **{package:.2f}x, "
        f"{'met' if package <= 1.5 else 'MISSED'}**.",
        "`runfolio.log_metric` is loaded on first use; that row is what a training script "
        f"pays before its first call: **{touched:.2f}x** of the baseline.",
    ]
    common.print_report("import time: fresh interpreter", notes, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
