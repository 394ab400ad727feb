"""``search_runs`` over 10,000 runs (20 params, 10 metrics, 3 tags each) vs MLflow.

The same runs exist in a runfolio store and in an MLflow SQLite database, built once
and cached under ``benchmarks/.data/`` (gitignored). The runfolio store is written
directly, file by file, with the store's own helpers (``dump_yaml`` for run.yaml and
params.yaml, the metrics.csv row format, ``MetricSummary`` for run.yaml's summary),
starting from a template run made by the real API (auto-capture on, in a temporary git
repository), so the files look exactly like real runs. MLflow's database is filled
through ``MlflowClient`` (``create_run``, ``log_batch``, ``set_terminated``).

runfolio is measured cold (``RUNFOLIO_CACHE_DIR`` an empty folder, so every run's files
are parsed) and warm (the derived cache filled by an earlier search); the files stay in
the OS page cache either way. A correctness check then edits one run's params.yaml by
hand, adds a run, and asserts that a warm search sees both.

Run: ``.venv/bin/python benchmarks/bench_search.py [--quick] [--no-mlflow]``
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common

EXPERIMENT = "bench-search"
BUILD_VERSION = 1
# Pushed into SQL by MLflow (a metric and a param comparison); selects about 1/2 * 1/3.
FILTER = "metrics.m0 < 0.5 and params.p1 = 'a'"
BASE_MS = 1_790_000_000_000  # runs start a minute apart from here (2026-09-21)


def run_content(i: int) -> tuple[dict[str, Any], dict[str, float], dict[str, str]]:
    """Params, final metrics and tags of run ``i``, the same in both stores."""
    rng = random.Random(i)
    params: dict[str, Any] = {"p0": rng.randrange(1000), "p1": rng.choice("abc")}
    params.update({f"p{j}": rng.choice(["adam", "sgd", "rmsprop"]) for j in range(2, 8)})
    params.update({f"p{j}": rng.randrange(1, 512) for j in range(8, 14)})
    params.update({f"p{j}": round(rng.uniform(1e-5, 1.0), 6) for j in range(14, 20)})
    metrics = {f"m{j}": rng.random() for j in range(10)}
    tags = {"team": rng.choice(["vision", "nlp"]), "stage": "sweep", "seed": str(i)}
    return params, metrics, tags


def data_folder(args: Any, runs: int) -> Path:
    """The cache folder of the data sets of this size."""
    return (args.data_dir or common.DATA_DIR) / f"search-{runs}"


def _manifest(folder: Path) -> dict[str, Any]:
    """What the data folder says it holds."""
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _mark_built(folder: Path, what: str, seconds: float) -> None:
    """Record that ``what`` is complete, so later invocations reuse it."""
    manifest = _manifest(folder)
    manifest.update({"version": BUILD_VERSION, what: round(seconds, 1)})
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


# -- building the runfolio store -------------------------------------------------------


def make_template_run(store: Path) -> None:
    """Log run 0 through the API (called by the template repository's ``train.py``)."""
    from runfolio import Store

    params, metrics, tags = run_content(0)
    with Store(store).start_run(EXPERIMENT, tags=tags) as run:
        run.log_params(params)
        run.log_metrics(metrics)


def _template_run(folder: Path, store: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Make one real run through the API, from a script in a temporary git repository.

    Like a training script, ``train.py`` lives in the repository, so auto-capture
    records that repository (commit, dirty flag, patch). Returns run.yaml's data and
    the text of the run's captured files (by file name).
    """
    from runfolio.store.serialize import load_yaml

    launcher = (
        "import sys\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(common.BENCH_DIR)!r})\n"
        "from bench_search import make_template_run\n"
        "make_template_run(Path(sys.argv[1]))\n"
    )
    repo = common.make_git_repo(folder / "template-repo", launcher)
    subprocess.run(
        [sys.executable, "train.py", str(store)],
        cwd=repo,
        env={**common.git_env(), "RUNFOLIO_CAPTURE_GIT": "1"},
        check=True,
    )
    run_dir = next(p for p in store.glob("*/*") if p.is_dir())
    data = load_yaml((run_dir / "run.yaml").read_text(encoding="utf-8"))
    captured = {p.name: p.read_text(encoding="utf-8") for p in (run_dir / "captured").iterdir()}
    if data.get("git", {}).get("commit") is None or len(captured.get("git.patch", "")) > 10_000:
        raise SystemExit(f"{run_dir}: the template run did not capture the template repository")
    shutil.rmtree(run_dir)
    shutil.rmtree(repo)
    return data, captured


def build_runfolio(folder: Path, runs: int) -> Path:
    """Write ``runs`` runs into ``folder/store`` (reused when already built)."""
    store = folder / "store"
    if _manifest(folder).get("version") == BUILD_VERSION and "runfolio" in _manifest(folder):
        return store
    from runfolio.store.layout import new_run_id
    from runfolio.store.metrics import HEADER, MetricSummary, csv_field
    from runfolio.store.records import ms_to_iso
    from runfolio.store.serialize import dump_yaml, format_float

    shutil.rmtree(store, ignore_errors=True)
    start = time.perf_counter()
    template, captured = _template_run(folder, store)
    exp_dir = store / next(p.name for p in store.iterdir() if p.is_dir())
    for i in range(runs):
        params, metrics, tags = run_content(i)
        start_ms = BASE_MS + i * 60_000
        end_ms = start_ms + 45_000
        run_id = new_run_id(start_ms / 1000)
        run_dir = exp_dir / run_id
        (run_dir / "captured").mkdir(parents=True)
        for name, text in captured.items():
            (run_dir / "captured" / name).write_text(text, encoding="utf-8", newline="\n")
        data = dict(template)
        data.update(
            id=run_id,
            name=f"sweep-{i:05d}",
            start_time=ms_to_iso(start_ms),
            end_time=ms_to_iso(end_ms),
            tags=tags,
            metrics={k: MetricSummary.first(v, 0, end_ms).to_dict() for k, v in metrics.items()},
        )
        (run_dir / "run.yaml").write_text(dump_yaml(data), encoding="utf-8", newline="\n")
        (run_dir / "params.yaml").write_text(dump_yaml(params), encoding="utf-8", newline="\n")
        rows = "".join(f"{csv_field(k)},0,{format_float(v)},{end_ms}\n" for k, v in metrics.items())
        (run_dir / "metrics.csv").write_text(HEADER + rows, encoding="utf-8", newline="\n")
    _mark_built(folder, "runfolio", time.perf_counter() - start)
    return store


# -- building the MLflow database ------------------------------------------------------


def build_mlflow(folder: Path, runs: int) -> tuple[str, str]:
    """Fill ``folder/mlflow.db`` with the same runs; return (tracking URI, experiment id).

    The database is filled in a RAM folder when there is one (``/dev/shm``), where
    SQLite's per-transaction fsync costs nothing, then moved into place: the same file,
    built several times faster.
    """
    common.import_mlflow()
    from mlflow.tracking import MlflowClient

    db = folder / "mlflow.db"
    uri = common.sqlite_uri(db)
    if _manifest(folder).get("version") == BUILD_VERSION and "mlflow" in _manifest(folder):
        experiment = MlflowClient(uri).get_experiment_by_name(EXPERIMENT)
        return uri, experiment.experiment_id
    db.unlink(missing_ok=True)
    ram = Path("/dev/shm")
    with tempfile.TemporaryDirectory(
        prefix="runfolio-bench-", dir=ram if ram.is_dir() else None
    ) as tmp:
        start = time.perf_counter()
        _fill_mlflow(Path(tmp) / "mlflow.db", folder / "mlartifacts", runs)
        shutil.move(Path(tmp) / "mlflow.db", db)
    _mark_built(folder, "mlflow", time.perf_counter() - start)
    experiment = MlflowClient(uri).get_experiment_by_name(EXPERIMENT)
    return uri, experiment.experiment_id


def _fill_mlflow(db: Path, artifacts: Path, runs: int) -> None:
    """Create the experiment and ``runs`` finished runs in the SQLite file ``db``."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(common.sqlite_uri(db))
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri())
    for i in range(runs):
        params, metrics, tags = run_content(i)
        start_ms = BASE_MS + i * 60_000
        end_ms = start_ms + 45_000
        run = client.create_run(experiment_id, start_time=start_ms, run_name=f"sweep-{i:05d}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, end_ms, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        client.set_terminated(run.info.run_id, "FINISHED", end_time=end_ms)
        if (i + 1) % 1000 == 0:
            print(f"  mlflow: {i + 1:,}/{runs:,} runs built", file=sys.stderr, flush=True)


# -- measuring -------------------------------------------------------------------------


def runfolio_search(store: Path, cache: Path, filter_string: str) -> tuple[float, int]:
    """Seconds for ``Store.search_runs`` (a DataFrame) with ``cache`` as cache dir, and rows."""
    from runfolio import Store

    os.environ["RUNFOLIO_CACHE_DIR"] = str(cache)
    start = time.perf_counter()
    frame = Store(store).search_runs([EXPERIMENT], filter_string)
    return time.perf_counter() - start, len(frame)


def mlflow_search(uri: str, experiment_id: str, filter_string: str) -> tuple[float, int]:
    """Seconds for ``mlflow.search_runs`` (all pages, a DataFrame), and rows."""
    mlflow = common.import_mlflow()
    mlflow.set_tracking_uri(uri)
    start = time.perf_counter()
    frame = mlflow.search_runs([experiment_id], filter_string)
    return time.perf_counter() - start, len(frame)


def check_changes_seen(store: Path, warm: Path, expected_filtered: int) -> list[str]:
    """Edit one matching run's params.yaml by hand and add a run; a warm search must see both.

    Everything is put back afterwards, so the cached store stays as built. Returns the
    lines to print; raises SystemExit when the change was not seen.
    """
    from runfolio import Store

    os.environ["RUNFOLIO_CACHE_DIR"] = str(warm)
    matching = Store(store).search_runs([EXPERIMENT], FILTER, output_format="list")
    victim = matching[len(matching) // 2]
    params_file = victim.path / "params.yaml"
    original = params_file.read_text(encoding="utf-8")
    exp_dir = victim.path.parent
    added = exp_dir / (victim.run_id[:-10] + "ffffffffff")
    edited = original.replace("p1: a\n", "p1: z\n")
    if edited == original:
        raise SystemExit(f"{params_file}: expected a 'p1: a' line")
    try:
        shutil.copytree(victim.path, added)
        (added / "run.yaml").write_text(
            (added / "run.yaml").read_text(encoding="utf-8").replace(victim.run_id, added.name),
            encoding="utf-8",
        )
        # A hand edit in place (same size, same inode), the hardest change for a cache to see.
        with open(params_file, "r+", encoding="utf-8") as handle:
            handle.write(edited)
        seconds, rows = runfolio_search(store, warm, FILTER)
        everything = Store(store).search_runs([EXPERIMENT])
    finally:
        params_file.write_text(original, encoding="utf-8")
        shutil.rmtree(added, ignore_errors=True)
    edited_row = everything[everything["run_id"] == victim.run_id]
    seen_edit = edited_row["params.p1"].tolist() == ["z"]
    seen_added = added.name in set(everything["run_id"])
    # The edited run left the filter's result and the added copy (p1 still 'a') joined it.
    ok = seen_edit and seen_added and rows == expected_filtered
    lines = [
        f"Correctness (warm cache): edited params.yaml of run {victim.run_id} in place "
        f"(p1 'a' → 'z') and added run {added.name}; the next search "
        f"({seconds:.3f} s) saw the edit: {'yes' if seen_edit else 'NO'}, saw the new run: "
        f"{'yes' if seen_added else 'NO'}, filtered rows {rows} (expected {expected_filtered}): "
        f"**{'PASS' if ok else 'FAIL'}**."
    ]
    if not ok:
        print("\n".join(lines))
        raise SystemExit("a changed or added run was not seen by search_runs")
    return lines


def main() -> int:
    """Build (or reuse) the data, measure, print the table, return the exit status."""
    args = common.parse_args(__doc__.splitlines()[0])
    runs = 1_000 if args.quick else 10_000
    reps = args.reps or (2 if args.quick else 5)
    mlflow_missing = common.mlflow_status(args.no_mlflow)
    folder = data_folder(args, runs)
    folder.mkdir(parents=True, exist_ok=True)

    store = build_runfolio(folder, runs)
    uri = experiment_id = None
    if mlflow_missing is None:
        uri, experiment_id = build_mlflow(folder, runs)
    built = _manifest(folder)

    with tempfile.TemporaryDirectory(prefix="runfolio-bench-") as tmp:
        caches = Path(tmp)
        warm = caches / "warm"
        counter = iter(range(1_000_000))

        def cold(filter_string: str) -> tuple[float, int]:
            return runfolio_search(store, caches / f"cold-{next(counter)}", filter_string)

        runfolio_search(store, warm, "")  # fill the warm cache
        contenders: dict[str, Any] = {
            "rf-all-cold": lambda: cold(""),
            "rf-all-warm": lambda: runfolio_search(store, warm, ""),
            "rf-filter-cold": lambda: cold(FILTER),
            "rf-filter-warm": lambda: runfolio_search(store, warm, FILTER),
        }
        if uri is not None:
            contenders["ml-all"] = lambda: mlflow_search(uri, experiment_id, "")
            contenders["ml-filter"] = lambda: mlflow_search(uri, experiment_id, FILTER)
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in contenders}
        for _ in range(reps):
            for name, measure in contenders.items():
                results[name].append(measure())
        counts = {name: {rows for _, rows in found} for name, found in results.items()}
        filtered = counts["rf-filter-warm"]
        if counts["rf-all-cold"] != {runs} or len(filtered) != 1:
            raise SystemExit(f"runfolio returned unexpected row counts: {counts}")
        if uri is not None and (counts["ml-all"] != {runs} or counts["ml-filter"] != filtered):
            raise SystemExit(f"runfolio and MLflow disagree on the rows: {counts}")
        correctness = check_changes_seen(store, warm, next(iter(filtered)))

    seconds = {name: common.median([s for s, _ in found]) for name, found in results.items()}
    ml_all, ml_filter = seconds.get("ml-all"), seconds.get("ml-filter")
    n_filtered = next(iter(filtered))

    def cell(value: float | None) -> str:
        return f"{value:.3f}" if value is not None else (mlflow_missing or "—")

    rows = [
        ["runfolio, cold (empty cache)", f"{runs:,}", cell(seconds["rf-all-cold"]),
         common.ratio(ml_all, seconds["rf-all-cold"]), f"{n_filtered:,}",
         cell(seconds["rf-filter-cold"]), common.ratio(ml_filter, seconds["rf-filter-cold"])],
        ["runfolio, warm (derived cache)", f"{runs:,}", cell(seconds["rf-all-warm"]),
         common.ratio(ml_all, seconds["rf-all-warm"]), f"{n_filtered:,}",
         cell(seconds["rf-filter-warm"]), common.ratio(ml_filter, seconds["rf-filter-warm"])],
        ["MLflow `mlflow.search_runs` (SQLite)", f"{runs:,}" if ml_all else "—", cell(ml_all),
         "1.00x" if ml_all else "—", f"{n_filtered:,}" if ml_all else "—", cell(ml_filter),
         "1.00x" if ml_filter else "—"],
    ]  # fmt: skip
    table = common.markdown_table(
        ["contender", "rows", "unfiltered s (median)", "MLflow / this", "filtered rows",
         "filtered s (median)", "MLflow / this"],
        rows,
    )  # fmt: skip
    build = f"built in {built.get('runfolio', '?')} s"
    if "mlflow" in built:
        build += f" (MLflow's: {built['mlflow']} s)"
    notes = [
        f"{reps} interleaved repetitions; medians. {common.machine_line()}.",
        f"Data: {runs:,} runs with 20 params, 10 metrics, 3 tags, in {folder} ({build}; reused "
        "across invocations). Both return a pandas DataFrame with MLflow's columns.",
        f"Filter: `{FILTER}` (MLflow pushes both comparisons into SQLite).",
    ]
    if ml_all is not None and ml_filter is not None:
        best_all = min(seconds["rf-all-warm"], seconds["rf-all-cold"])
        unfiltered = ml_all / best_all
        filtered_ratio = ml_filter / seconds["rf-filter-warm"]
        filtered_cold = ml_filter / seconds["rf-filter-cold"]
        notes += [
            f"Target unfiltered ≥ 20x faster than MLflow: warm **{unfiltered:.1f}x**, cold "
            f"**{ml_all / seconds['rf-all-cold']:.1f}x**: "
            f"**{'met' if unfiltered >= 20 else 'MISSED'}** (warm).",
            f"Target filtered no slower than MLflow: warm **{filtered_ratio:.2f}x**, cold "
            f"**{filtered_cold:.2f}x** as fast: **{'met' if filtered_ratio >= 1 else 'MISSED'}** "
            "(warm).",
        ]
    notes += correctness
    common.print_report(f"search_runs over {runs:,} runs", notes, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
