"""100,000 ``log_metric`` calls in one run: runfolio vs a raw csv append vs MLflow.

The floor is ``csv.writer`` appending the same rows (key, step, value, timestamp) with
a ``flush()`` per row: the least any logger can do for every returned call to be in
the operating system's hands (and so survive a killed process). MLflow is about a
thousand times slower per call, so it logs fewer calls and we compare per-call times.

Run: ``.venv/bin/python benchmarks/bench_log_metric.py [--quick] [--no-mlflow]``
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import _common as common

KEY = "loss"


def value_of(i: int) -> float:
    """The value logged at step ``i`` (the same for every contender)."""
    return 0.5 + i * 1e-6


def measure_raw_csv(folder: Path, calls: int) -> float:
    """Append ``calls`` rows with csv.writer and a flush per row; seconds taken."""
    path = folder / f"raw-{time.perf_counter_ns()}.csv"
    with open(path, "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("key", "step", "value", "timestamp"))
        handle.flush()
        start = time.perf_counter()
        for i in range(calls):
            writer.writerow((KEY, i, value_of(i), time.time_ns() // 1_000_000))
            handle.flush()
        elapsed = time.perf_counter() - start
    _check_rows(path, calls)
    return elapsed


def measure_runfolio_fluent(store: Path, calls: int) -> float:
    """``runfolio.log_metric`` ``calls`` times in one run; seconds taken by the calls."""
    import runfolio

    runfolio.set_store(store)
    runfolio.set_experiment("bench-log-metric")
    log_metric = runfolio.log_metric
    with runfolio.start_run() as run:
        start = time.perf_counter()
        for i in range(calls):
            log_metric(KEY, value_of(i), step=i)
        elapsed = time.perf_counter() - start
    _check_rows(run.path / "metrics.csv", calls)
    return elapsed


def measure_runfolio_object(store: Path, calls: int) -> float:
    """``Run.log_metric`` (object API, no global state) ``calls`` times; seconds taken."""
    from runfolio import Store

    with Store(store).start_run("bench-log-metric-object") as run:
        start = time.perf_counter()
        for i in range(calls):
            run.log_metric(KEY, value_of(i), step=i)
        elapsed = time.perf_counter() - start
    _check_rows(run.path / "metrics.csv", calls)
    return elapsed


def measure_mlflow(folder: Path, calls: int) -> float:
    """``mlflow.log_metric`` ``calls`` times in one run on a fresh SQLite backend."""
    mlflow = common.import_mlflow()
    db = folder / f"mlflow-{time.perf_counter_ns()}.db"
    mlflow.set_tracking_uri(common.sqlite_uri(db))
    artifacts = folder / f"mlartifacts-{time.perf_counter_ns()}"
    experiment_id = mlflow.create_experiment("bench", artifact_location=artifacts.as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run() as run:
        start = time.perf_counter()
        for i in range(calls):
            mlflow.log_metric(KEY, value_of(i), step=i)
        elapsed = time.perf_counter() - start
    history = mlflow.tracking.MlflowClient().get_metric_history(run.info.run_id, KEY)
    if len(history) != calls:
        raise SystemExit(f"mlflow kept {len(history)} of {calls} values")
    return elapsed


def _check_rows(path: Path, calls: int) -> None:
    """Fail loudly if a contender did not write every row (a benchmark must not cheat)."""
    with open(path, encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    if lines != calls + 1:
        raise SystemExit(f"{path}: {lines - 1} rows written, expected {calls}")


def main() -> int:
    """Measure, print the table, return the exit status."""
    args = common.parse_args(__doc__.splitlines()[0])
    calls = 10_000 if args.quick else 100_000
    mlflow_calls = 200 if args.quick else 2_000
    reps = args.reps or (2 if args.quick else 5)
    mlflow_missing = common.mlflow_status(args.no_mlflow)

    with tempfile.TemporaryDirectory(prefix="runfolio-bench-") as tmp:
        folder = Path(tmp)
        # Run start-up (outside the timed calls) would capture the git state of the
        # repository holding this script: this checkout, whatever state it is in.
        os.environ["RUNFOLIO_CAPTURE_GIT"] = "0"
        os.chdir(folder)
        os.environ["RUNFOLIO_CACHE_DIR"] = str(folder / "cache")
        contenders = {
            "raw": lambda: measure_raw_csv(folder, calls) / calls,
            "fluent": lambda: measure_runfolio_fluent(folder / "store", calls) / calls,
            "object": lambda: measure_runfolio_object(folder / "store", calls) / calls,
        }
        if mlflow_missing is None:
            contenders["mlflow"] = lambda: measure_mlflow(folder, mlflow_calls) / mlflow_calls
        results = common.interleave(contenders, reps)
        os.chdir(common.REPO_ROOT)

    per_call = {name: common.median(times) for name, times in results.items()}
    raw = per_call["raw"]
    fluent = per_call["fluent"]
    mlflow = per_call.get("mlflow")

    def us(seconds: float | None) -> str:
        return f"{seconds * 1e6:,.2f}" if seconds is not None else (mlflow_missing or "—")

    rows = [
        ["raw `csv.writer` + `flush()` per row (floor)", f"{calls:,}", us(raw), "1.00x", "—"],
        ["`runfolio.log_metric` (fluent)", f"{calls:,}", us(fluent), common.ratio(fluent, raw),
         common.ratio(mlflow, fluent)],
        ["`Run.log_metric` (object API)", f"{calls:,}", us(per_call["object"]),
         common.ratio(per_call["object"], raw), common.ratio(mlflow, per_call["object"])],
        ["`mlflow.log_metric` (SQLite)",
         f"{mlflow_calls:,}" if mlflow is not None else "—", us(mlflow),
         common.ratio(mlflow, raw), "1.00x" if mlflow is not None else "—"],
    ]  # fmt: skip
    table = common.markdown_table(
        ["contender", "calls per rep", "µs per call (median)", "vs raw csv", "MLflow / this"],
        rows,
    )
    fluent_ratio = fluent / raw
    notes = [
        f"{reps} interleaved repetitions, each a fresh run; medians. {common.machine_line()}.",
        f"MLflow logs {mlflow_calls:,} calls per repetition (it is far slower per call); "
        "every row compares per-call time.",
        f"Target runfolio/raw ≤ 2x: **{fluent_ratio:.2f}x, "
        f"{'met' if fluent_ratio <= 2 else 'MISSED'}**.",
    ]
    if mlflow is not None:
        notes.append(f"MLflow/runfolio (fluent): **{mlflow / fluent:,.0f}x**.")
    common.print_report(f"log_metric: {calls:,} calls in one run", notes, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
