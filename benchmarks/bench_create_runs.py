"""Creating runs: 1,000 runs in one process (20 params, 10 metrics, 3 tags) vs MLflow.

Each repetition is a fresh process started in a real temporary git repository (one
commit plus an uncommitted change), through its committed ``train.py``, so both
trackers record a real entry point and runfolio's auto-capture (git commit, branch,
dirty flag, patch, installed packages) really happens: once per process, inside the
timed loop. Importing the tracker and creating its experiment (for MLflow: creating
the SQLite database) happen before the clock starts.

Run: ``.venv/bin/python benchmarks/bench_create_runs.py [--quick] [--no-mlflow]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common

N_PARAMS = 20
N_METRICS = 10
N_TAGS = 3


def run_content(i: int) -> tuple[dict[str, Any], dict[str, float], dict[str, str]]:
    """The params, final metrics and tags of run ``i`` (the same for both trackers)."""
    params: dict[str, Any] = {f"p{j}": (i * 31 + j) % 97 for j in range(N_PARAMS // 2)}
    params.update({f"s{j}": f"value-{(i + j) % 7}" for j in range(N_PARAMS - len(params))})
    metrics = {f"m{j}": ((i * 7919 + j * 104729) % 1000) / 1000 for j in range(N_METRICS)}
    tags = {f"t{j}": f"tag-{(i + j) % 5}" for j in range(N_TAGS)}
    return params, metrics, tags


def worker_runfolio(runs: int) -> dict[str, float]:
    """Create ``runs`` runs with runfolio's fluent API; seconds for all and for the first."""
    import runfolio

    runfolio.set_experiment("bench-create")
    first = 0.0
    start = time.perf_counter()
    for i in range(runs):
        params, metrics, tags = run_content(i)
        with runfolio.start_run():
            runfolio.log_params(params)
            runfolio.log_metrics(metrics)
            runfolio.set_tags(tags)
        if i == 0:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    store = runfolio.get_store()
    found = store.search_runs(["bench-create"], output_format="list")
    if len(found) != runs or any(len(r.params) != N_PARAMS for r in found):  # type: ignore[arg-type]
        raise SystemExit(f"runfolio stored {len(found)} runs, expected {runs}")
    if not found[0].git.get("patch") or not found[0].git.get("commit"):  # type: ignore[union-attr]
        raise SystemExit("runfolio did not capture the git state")
    return {"seconds": total, "first": first}


def worker_floor(runs: int, store: Path) -> dict[str, float]:
    """The file-system floor: the files runfolio writes per run, with bare ``os`` calls.

    Per run: two folders, the two captured files, run.yaml written atomically (temporary
    file, then rename) at start, after the tags and at the end, params.yaml atomically,
    and metrics.csv appended with a flush. Sizes match runfolio's files; no YAML, no
    validation, no git: what is left is the cost of the store's layout on this disk.
    """
    from runfolio.tracking.capture import installed_packages

    packages = installed_packages().encode()
    patch = b"x" * 200
    run_yaml = b"y" * 1500
    params_yaml = b"p: 1\n" * N_PARAMS
    experiment = store / "bench-create"
    experiment.mkdir(parents=True)
    first = 0.0
    start = time.perf_counter()
    for i in range(runs):
        run_dir = experiment / f"run-{i:06d}"
        run_dir.mkdir()
        (run_dir / "captured").mkdir()
        (run_dir / "captured" / "packages.txt").write_bytes(packages)
        (run_dir / "captured" / "git.patch").write_bytes(patch)
        _atomic(run_dir / "run.yaml", run_yaml)
        _atomic(run_dir / "params.yaml", params_yaml)
        with open(run_dir / "metrics.csv", "ab") as handle:
            handle.write(b"key,step,value,timestamp\n")
            handle.flush()
            handle.write(b"m0,0,0.5,1790000000000\n" * N_METRICS)
            handle.flush()
        _atomic(run_dir / "run.yaml", run_yaml)
        _atomic(run_dir / "run.yaml", run_yaml + b"metrics: {}\n" * N_METRICS)
        if i == 0:
            first = time.perf_counter() - start
    return {"seconds": time.perf_counter() - start, "first": first}


def _atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by writing a temporary file and renaming it over."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data)
    os.close(fd)
    os.replace(tmp, path)


def worker_mlflow(runs: int, db: Path, artifacts: Path) -> dict[str, float]:
    """Create ``runs`` runs with MLflow's fluent API on SQLite; seconds for all and the first."""
    mlflow = common.import_mlflow()
    mlflow.set_tracking_uri(common.sqlite_uri(db))
    experiment_id = mlflow.create_experiment("bench-create", artifact_location=artifacts.as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    first = 0.0
    start = time.perf_counter()
    for i in range(runs):
        params, metrics, tags = run_content(i)
        with mlflow.start_run():
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags(tags)
        if i == 0:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    found = mlflow.search_runs([experiment_id], output_format="list")
    if len(found) != runs or len(found[0].data.params) != N_PARAMS:
        raise SystemExit(f"mlflow stored {len(found)} runs, expected {runs}")
    return {"seconds": total, "first": first}


def worker_main(argv: list[str]) -> int:
    """Entry of one measured process: create the runs, print a JSON line of timings."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["runfolio", "floor", "mlflow"], required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--artifacts", type=Path)
    args = parser.parse_args(argv)
    if args.worker == "runfolio":
        result = worker_runfolio(args.runs)
    elif args.worker == "floor":
        result = worker_floor(args.runs, args.store)
    else:
        result = worker_mlflow(args.runs, args.db, args.artifacts)
    print(json.dumps(result))
    return 0


def launcher_code() -> str:
    """The committed ``train.py`` of the temporary repository: it calls :func:`worker_main`."""
    return (
        "import sys\n"
        f"sys.path.insert(0, {str(common.BENCH_DIR)!r})\n"
        "from bench_create_runs import worker_main\n"
        "sys.exit(worker_main(sys.argv[1:]))\n"
    )


def run_worker(repo: Path, args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``train.py`` in ``repo`` as a fresh process; return its JSON timings."""
    # Auto-capture is part of what is measured, whatever the caller's environment says.
    env = {**env, "RUNFOLIO_CAPTURE_GIT": "1"}
    done = subprocess.run(
        [sys.executable, "train.py", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_in(
    base: str | None, runs: int, mlflow_runs: int, reps: int, with_mlflow: bool
) -> dict[str, list[dict[str, float]]]:
    """Interleave runfolio, the floor and MLflow ``reps`` times in a repository under ``base``."""
    results: dict[str, list[dict[str, float]]] = {"runfolio": [], "floor": [], "mlflow": []}
    with tempfile.TemporaryDirectory(prefix="runfolio-bench-", dir=base) as tmp:
        folder = Path(tmp)
        repo = common.make_git_repo(folder / "repo", launcher_code())
        env = common.git_env()
        store = repo / "runs"
        env["RUNFOLIO_STORE"] = str(store)
        env["RUNFOLIO_CACHE_DIR"] = str(folder / "cache")
        for rep in range(reps):
            results["runfolio"].append(
                run_worker(repo, ["--worker", "runfolio", "--runs", str(runs)], env)
            )
            # A later repetition must not see this one's runs as untracked files to capture.
            shutil.rmtree(store)
            floor_store = folder / "floor"
            results["floor"].append(
                run_worker(repo, ["--worker", "floor", "--runs", str(runs),
                                  "--store", str(floor_store)], env)
            )  # fmt: skip
            shutil.rmtree(floor_store)
            if with_mlflow:
                results["mlflow"].append(
                    run_worker(
                        repo,
                        ["--worker", "mlflow", "--runs", str(mlflow_runs),
                         "--db", str(folder / f"mlflow-{rep}.db"),
                         "--artifacts", str(folder / f"mlartifacts-{rep}")],
                        env,
                    )
                )  # fmt: skip
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, env=env
        ).stdout
        if os.path.exists(repo / "mlruns") or "runs" in status.replace("config.py", ""):
            raise SystemExit(f"a tracker wrote into the repository:\n{status}")
    return results


def main() -> int:
    """Measure, print the table, return the exit status."""
    if "--worker" in sys.argv:
        return worker_main(sys.argv[1:])
    args = common.parse_args(__doc__.splitlines()[0])
    runs = 100 if args.quick else 1_000
    mlflow_runs = 20 if args.quick else 100
    reps = args.reps or (2 if args.quick else 5)
    mlflow_missing = common.mlflow_status(args.no_mlflow)
    # The disk where the repository lives is the case that counts (a store sits in it),
    # so the stores go under the data folder in this checkout, not the system temp
    # folder, which may be another file system or a far slower part of this one. A RAM
    # disk, where creating a file costs next to nothing, shows each tracker's own code.
    data_dir = common.disk_dir(args)
    places: dict[str, str | None] = {"disk": str(data_dir)}
    if not args.quick and os.path.isdir("/dev/shm"):
        places["RAM disk"] = "/dev/shm"

    def ms_per_run(found: list[dict[str, float]], count: int) -> float | None:
        return common.median([r["seconds"] / count for r in found]) * 1000 if found else None

    def first_ms(found: list[dict[str, float]]) -> float | None:
        return common.median([r["first"] for r in found]) * 1000 if found else None

    def cell(value: float | None) -> str:
        return f"{value:,.2f}" if value is not None else (mlflow_missing or "—")

    rows = []
    speedups: dict[str, float] = {}
    over_floor: dict[str, float] = {}
    for place, base in places.items():
        results = measure_in(base, runs, mlflow_runs, reps, mlflow_missing is None)
        rf_ms = ms_per_run(results["runfolio"], runs)
        floor_ms = ms_per_run(results["floor"], runs)
        ml_ms = ms_per_run(results["mlflow"], mlflow_runs)
        assert rf_ms is not None and floor_ms is not None
        over_floor[place] = rf_ms / floor_ms
        if ml_ms is not None:
            speedups[place] = ml_ms / rf_ms
        rows += [
            [place, "runfolio fluent API (files, auto-capture on)", f"{runs:,}", cell(rf_ms),
             cell(first_ms(results["runfolio"])), "1.00x"],
            [place, "floor: runfolio's files, bare `os` calls", f"{runs:,}", cell(floor_ms), "—",
             common.ratio(floor_ms, rf_ms)],
            [place, "MLflow fluent API (SQLite)", f"{mlflow_runs:,}" if ml_ms else "—",
             cell(ml_ms), cell(first_ms(results["mlflow"])), common.ratio(ml_ms, rf_ms)],
        ]  # fmt: skip
    table = common.markdown_table(
        ["storage", "contender", "runs per rep", "ms per run (median)", "first run ms (median)",
         "time vs runfolio"],
        rows,
    )  # fmt: skip
    notes = [
        f"{reps} interleaved repetitions, each a fresh process in a fresh store; medians. "
        f"{common.machine_line()}.",
        f"Each run: start_run, {N_PARAMS} params (log_params), {N_METRICS} final metrics "
        f"(log_metrics), {N_TAGS} tags (set_tags), end. MLflow creates {mlflow_runs:,} runs "
        "per repetition; rows compare per-run time.",
        "The first run includes the once-per-process capture (git state + patch, package list).",
        "The floor writes the files runfolio writes per run (2 folders, 2 captured files, "
        "run.yaml and params.yaml by temporary file + rename, 4 times in all, metrics.csv) "
        "with bare `os` calls: the cost of the store's layout itself. runfolio / floor: "
        + ", ".join(f"{place} **{value:.2f}x**" for place, value in over_floor.items())
        + ".",
    ]
    if "disk" in speedups:
        speedup = speedups["disk"]
        notes.append(
            f"Target runfolio ≥ 10x faster than MLflow (on disk): **{speedup:.1f}x, "
            f"{'met' if speedup >= 10 else 'MISSED'}**"
            + (f"; on a RAM disk: {speedups['RAM disk']:.1f}x." if "RAM disk" in speedups else ".")
        )
    common.print_report(f"create runs: {runs:,} runs in one process", notes, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
