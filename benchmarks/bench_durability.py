"""What the durability policy costs: fsync on vs off vs MLflow's SQLite, per run and per metric.

Run creation: each repetition is a fresh process creating runs (``start_run``, 20 params
with ``log_params``, 10 metrics with ``log_metrics``, ``end``) in a store on the disk of
this checkout, with runfolio's fsync policy on (the default), with it off
(``RUNFOLIO_FSYNC=0``), and with MLflow's fluent API on its SQLite backend (which
fsyncs every commit) and a file artifact store. ``log_metric``: calls in one run with
fsync on and off, against the floor, ``csv.writer`` with a ``flush()`` per row. The
contenders' repetitions are interleaved; medians are reported.

Run: ``.venv/bin/python benchmarks/bench_durability.py [--quick] [--no-mlflow]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common
import bench_log_metric

N_PARAMS = 20
N_METRICS = 10


def run_content(i: int) -> tuple[dict[str, Any], dict[str, float]]:
    """The params and final metrics of run ``i`` (the same for every contender)."""
    params: dict[str, Any] = {f"p{j}": (i * 31 + j) % 97 for j in range(N_PARAMS // 2)}
    params.update({f"s{j}": f"value-{(i + j) % 7}" for j in range(N_PARAMS - len(params))})
    metrics = {f"m{j}": ((i * 7919 + j * 104729) % 1000) / 1000 for j in range(N_METRICS)}
    return params, metrics


def _count_fsyncs() -> list[int]:
    """Count this process's ``os.fsync`` calls (a wrapper costs ~0.1 µs against ~1 ms)."""
    count = [0]
    real = os.fsync

    def counting(fd: int) -> None:
        count[0] += 1
        real(fd)

    os.fsync = counting  # type: ignore[assignment]
    return count


def _time_runs(api: Any, runs: int) -> dict[str, float]:
    """Create ``runs`` runs with a fluent API (runfolio's or mlflow's); seconds, fsyncs per run."""
    with api.start_run():  # warm-up, not timed: runfolio's once-per-process package capture
        pass
    fsyncs = _count_fsyncs()  # SQLite syncs in C: this sees none of MLflow's fsyncs
    start = time.perf_counter()
    for i in range(runs):
        params, metrics = run_content(i)
        with api.start_run():
            api.log_params(params)
            api.log_metrics(metrics)
    return {"seconds": time.perf_counter() - start, "fsyncs": fsyncs[0] / runs}


def worker_create_runfolio(runs: int, store: Path) -> dict[str, float]:
    """Create ``runs`` runs with runfolio's fluent API; seconds, and fsyncs per run."""
    import runfolio

    runfolio.set_store(store)
    runfolio.set_experiment("bench-durability")
    result = _time_runs(runfolio, runs)
    found = runfolio.search_runs(["bench-durability"], output_format="list")
    full = sum(len(r.params) == N_PARAMS for r in found)  # type: ignore[union-attr]
    if len(found) != runs + 1 or full != runs:
        raise SystemExit(f"runfolio stored {len(found)} runs, expected {runs + 1}")
    return result


def worker_create_mlflow(runs: int, folder: Path) -> dict[str, float]:
    """Create ``runs`` runs with MLflow's fluent API on SQLite (file artifact store)."""
    mlflow = common.import_mlflow()
    mlflow.set_tracking_uri(common.sqlite_uri(folder / "mlflow.db"))
    artifacts = folder / "mlartifacts"
    experiment_id = mlflow.create_experiment("bench", artifact_location=artifacts.as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    result = _time_runs(mlflow, runs)
    found = mlflow.search_runs([experiment_id], output_format="list")
    if len(found) != runs + 1 or len(found[0].data.params) != N_PARAMS:
        raise SystemExit(f"mlflow stored {len(found)} runs, expected {runs + 1}")
    return result


def worker_metric_runfolio(calls: int, store: Path) -> dict[str, float]:
    """``runfolio.log_metric`` ``calls`` times in one run (bench_log_metric's measure)."""
    return {"seconds": bench_log_metric.measure_runfolio_fluent(store, calls)}


def worker_metric_raw(calls: int, folder: Path) -> dict[str, float]:
    """The floor: ``csv.writer`` with a ``flush()`` per row (bench_log_metric's measure)."""
    return {"seconds": bench_log_metric.measure_raw_csv(folder, calls)}


WORKERS = {
    "create-runfolio": worker_create_runfolio,
    "create-mlflow": worker_create_mlflow,
    "metric-runfolio": worker_metric_runfolio,
    "metric-raw": worker_metric_raw,
}


def worker_main(argv: list[str]) -> int:
    """Entry of one measured process: do the work, print a JSON line of timings."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=sorted(WORKERS), required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(WORKERS[args.worker](args.count, args.folder)))
    return 0


def run_worker(worker: str, count: int, folder: Path, fsync: bool) -> dict[str, float]:
    """Run one worker in a fresh process in a fresh folder; return its JSON result."""
    folder.mkdir(parents=True)
    env = {
        **os.environ,
        "RUNFOLIO_FSYNC": "1" if fsync else "0",
        "RUNFOLIO_CAPTURE_GIT": "0",  # not what is measured here (bench_create_runs is)
        "RUNFOLIO_CACHE_DIR": str(folder / "cache"),
    }
    env.pop("RUNFOLIO_STORE", None)
    done = subprocess.run(
        [sys.executable, __file__, "--worker", worker, "--count", str(count),
         "--folder", str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"worker {worker} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    """Measure, print the table, return the exit status."""
    if "--worker" in sys.argv:
        return worker_main(sys.argv[1:])
    args = common.parse_args(__doc__.splitlines()[0])
    runs = 20 if args.quick else 200
    mlflow_runs = 10 if args.quick else 50
    calls = 5_000 if args.quick else 100_000
    reps = args.reps or (2 if args.quick else 5)
    mlflow_missing = common.mlflow_status(args.no_mlflow)
    data_dir = common.disk_dir(args)  # a RAM disk has no fsync to pay

    with tempfile.TemporaryDirectory(prefix="runfolio-bench-durability-", dir=data_dir) as tmp:
        base = Path(tmp)
        counter = iter(range(1_000_000))

        def fresh() -> Path:
            return base / f"w{next(counter)}"

        contenders = {
            "create on": lambda: run_worker("create-runfolio", runs, fresh(), fsync=True),
            "create off": lambda: run_worker("create-runfolio", runs, fresh(), fsync=False),
            "metric raw": lambda: run_worker("metric-raw", calls, fresh(), fsync=True),
            "metric on": lambda: run_worker("metric-runfolio", calls, fresh(), fsync=True),
            "metric off": lambda: run_worker("metric-runfolio", calls, fresh(), fsync=False),
        }
        if mlflow_missing is None:
            contenders["create mlflow"] = lambda: run_worker(
                "create-mlflow", mlflow_runs, fresh(), fsync=True
            )
        results: dict[str, list[dict[str, float]]] = common.interleave(contenders, reps)  # type: ignore[arg-type]

    def per_op(name: str, count: int) -> float | None:
        found = results.get(name)
        return common.median([r["seconds"] / count for r in found]) if found else None

    def fsyncs(name: str) -> str:
        found = results.get(name)
        return f"{common.median([r['fsyncs'] for r in found]):.1f}" if found else "—"

    on, off = per_op("create on", runs), per_op("create off", runs)
    mlflow = per_op("create mlflow", mlflow_runs)
    raw, metric_on = per_op("metric raw", calls), per_op("metric on", calls)
    metric_off = per_op("metric off", calls)
    assert on and off and raw and metric_on and metric_off

    def ms(value: float | None) -> str:
        return f"{value * 1000:,.2f} ms" if value is not None else (mlflow_missing or "—")

    def us(value: float | None) -> str:
        return f"{value * 1e6:,.2f} µs" if value is not None else "—"

    rows = [
        ["run creation", "runfolio, fsync on (default)", f"{runs:,} runs", ms(on),
         fsyncs("create on"), "1.00x"],
        ["run creation", "runfolio, `RUNFOLIO_FSYNC=0`", f"{runs:,} runs", ms(off),
         fsyncs("create off"), common.ratio(off, on)],
        ["run creation", "MLflow fluent API (SQLite, fsyncs each commit)",
         f"{mlflow_runs:,} runs" if mlflow else "—", ms(mlflow), "in SQLite",
         common.ratio(mlflow, on)],
        ["log_metric", "raw `csv.writer` + `flush()` per row (floor)", f"{calls:,} calls",
         us(raw), "0", common.ratio(raw, metric_on)],
        ["log_metric", "`runfolio.log_metric`, fsync on (default)", f"{calls:,} calls",
         us(metric_on), "—", "1.00x"],
        ["log_metric", "`runfolio.log_metric`, `RUNFOLIO_FSYNC=0`", f"{calls:,} calls",
         us(metric_off), "—", common.ratio(metric_off, metric_on)],
    ]  # fmt: skip
    table = common.markdown_table(
        ["measure", "contender", "per rep", "median per run / call", "fsyncs per run",
         "time vs runfolio fsync on"],
        rows,
    )  # fmt: skip
    metric_ratio = metric_on / raw
    notes = [
        f"{reps} interleaved repetitions, each a fresh process in a fresh folder on the disk "
        f"of this checkout; medians. {common.machine_line()}.",
        f"Run creation: start_run, {N_PARAMS} params (log_params), {N_METRICS} metrics "
        "(log_metrics), end; git capture off; one untimed warm-up run first (runfolio "
        "captures the package list once per process). "
        f"Cost of the fsync policy: **{on / off:.2f}x** ({(on - off) * 1000:,.2f} ms a run)"
        + (f"; MLflow on SQLite / runfolio with fsync: **{mlflow / on:.1f}x**." if mlflow else "."),
        f"log_metric with the fsync policy / raw csv append: **{metric_ratio:.2f}x**, target "
        f"≤ 2x: **{'met' if metric_ratio <= 2 else 'MISSED'}**.",
    ]
    common.print_report("durability: the cost of fsync", notes, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
