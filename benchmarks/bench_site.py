"""``runfolio build`` of a 10,000-run store: clean, no-change and one-run-added builds.

The store comes from ``synth_store.py`` (10,000 FINISHED runs in one experiment, 20
params, 10 metrics x 100 steps each), cached under ``benchmarks/.data/``. Every build
runs in a fresh process (``build_site`` timed inside it, imports excluded), which also
reports its peak resident memory (``ru_maxrss``). Each round builds, in this order:

- clean: ``clean=True`` into a site folder, with an empty record cache
  (``RUNFOLIO_CACHE_DIR``), as on CI; the first round's clean build makes the site that
  the next two update, and fills their record cache;
- no change: the unchanged store into that site;
- one run added: a new run written into the store, then an incremental build.

The store is kept out of git (``GIT_CEILING_DIRECTORIES``), so these figures measure the
builder, not the state of the checkout around it. Two more builds (once each, not with
``--quick``) put the store in git as a user has it: committed, then one new run not yet
committed, as after a training run. A last table compares the weight of a run page whose
``loss`` has 1,000,000 steps with a normal run page (100 steps), on a 10-run store.

Run: ``.venv/bin/python benchmarks/bench_site.py [--quick] [--reps N] [--runs N]
[--no-git] [--data-dir DIR]`` (``--quick``: 200 runs, one round, no git).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _common as common
import synth_store

INCREMENTAL_TARGET = 0.05  # an added run rebuilds in under 5% of a clean build's time
LONG_STEPS = 1_000_000

# Runs in a fresh interpreter: one build, then its figures as one JSON line on stdout.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from runfolio.site.build import build_site

args = json.loads(sys.argv[1])
start = time.perf_counter()
report = build_site(
    Path(args["store"]), Path(args["output"]), clean=args["clean"],
    config_root=Path(args["config_root"]),
)
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "reported_seconds": report.seconds,
    "pages_written": report.pages_written,
    "files_written": report.files_written,
    "files_unchanged": report.files_unchanged,
    "runs_skipped": report.runs_skipped,
    "runs_reused": getattr(report, "runs_reused", None),
    "problems": [str(p) for p in report.problems][:5],
    "problem_count": len(report.problems),
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def build(
    store: Path, output: Path, *, clean: bool, cache: Path, git_ceiling: Path | None
) -> dict[str, Any]:
    """Build ``store`` into ``output`` in a fresh process; return the child's figures.

    Raises:
        SystemExit: the build failed or reported problems (the store is valid, so a
            problem means the figures would be of a build that did not do its work).
    """
    # write_site(clean=True) lists the output folder before creating it: make it first.
    output.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RUNFOLIO_CACHE_DIR": str(cache)}
    env.pop("GIT_CEILING_DIRECTORIES", None)
    if git_ceiling is not None:
        env["GIT_CEILING_DIRECTORIES"] = str(git_ceiling)
    args = {
        "store": str(store),
        "output": str(output),
        "clean": clean,
        "config_root": str(store.parent),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=store.parent,
    )
    if done.returncode != 0:
        raise SystemExit(f"build of {store} failed (exit {done.returncode}):\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    print(
        f"  built {output.name} (clean={clean}): {figures['seconds']:.2f} s, "
        f"{figures['pages_written']} pages rendered, {figures['runs_reused']} runs reused",
        file=sys.stderr,
        flush=True,
    )
    if figures["problem_count"]:
        raise SystemExit(f"build of {store} reported problems: {figures['problems']}")
    return figures


def ensure_committed(made: synth_store.SynthStore) -> None:
    """Make the store's cache folder a git repository whose one commit holds the store.

    Done once and kept (about 10 s for 10,000 runs); the other builds keep git from
    seeing the repository with ``GIT_CEILING_DIRECTORIES``.
    """
    folder = made.root.parent
    marker = folder / "committed"
    if marker.exists():
        return
    shutil.rmtree(folder / ".git", ignore_errors=True)
    env = common.git_env()
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--", "store"],
        ["commit", "--quiet", "--no-gpg-sign", "--message", "runs"],
    ):
        subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, env=env)
    marker.write_text("", encoding="utf-8")


def add_run(made: synth_store.SynthStore, store: Path, extra: int) -> Path:
    """Write one more run (the ``extra``-th added) into ``store``; return its folder."""
    experiment = made.experiments[0]
    index = made.spec.runs_in(0) + extra
    run_id = synth_store.write_run(store / experiment.slug, experiment.name, made.spec, 0, index)
    return store / experiment.slug / run_id


def run_weight(site: Path, slug: str, run_id: str) -> dict[str, int]:
    """Bytes of a run's page and of every other file of the site named after the run."""
    html = site / "experiments" / slug / "runs" / f"{run_id}.html"
    others = [
        path
        for path in site.rglob(f"*{run_id}*")
        if path.is_file() and path != html and run_id in path.relative_to(site).as_posix()
    ]
    others += [p for d in site.rglob(run_id) if d.is_dir() for p in d.rglob("*") if p.is_file()]
    data = sum(path.stat().st_size for path in set(others))
    packed = sum(len(gzip.compress(p.read_bytes(), 6)) for p in {html, *others})
    return {"html": html.stat().st_size, "data": data, "files": 1 + len(set(others)), "gz": packed}


def measure_builds(
    made: synth_store.SynthStore, tmp: Path, reps: int, with_git: bool
) -> dict[str, list[dict[str, Any]]]:
    """Interleave the build kinds for ``reps`` rounds; each returns the child's figures."""
    store = made.root
    ceiling = store.parent  # git stops here: the cache folder is never taken as a repository
    warm = tmp / "cache-warm"
    site = tmp / "site"
    results: dict[str, list[dict[str, Any]]] = {"clean": [], "no-change": [], "add-one": []}
    added: list[Path] = []
    try:
        for rep in range(reps):
            if rep == 0:
                # Also makes the site the incremental builds update, and fills their cache.
                figures = build(store, site, clean=True, cache=warm, git_ceiling=ceiling)
            else:
                cold = tmp / f"cache-cold-{rep}"
                figures = build(
                    store, tmp / "site-clean", clean=True, cache=cold, git_ceiling=ceiling
                )
                shutil.rmtree(cold)
            results["clean"].append(figures)
            results["no-change"].append(
                build(store, site, clean=False, cache=warm, git_ceiling=ceiling)
            )
            added.append(add_run(made, store, len(added)))
            results["add-one"].append(
                build(store, site, clean=False, cache=warm, git_ceiling=ceiling)
            )
    finally:
        for run_dir in added:  # the cached store goes back to what its manifest says
            shutil.rmtree(run_dir, ignore_errors=True)
    if with_git:
        results.update(measure_git(made, tmp))
    return results


def measure_git(made: synth_store.SynthStore, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """In git: an unchanged rebuild, then one with a new (uncommitted) run; once each.

    Once is enough: what this shows is whether the new run's page alone is rendered.
    """
    ensure_committed(made)
    store = made.root
    cache = tmp / "cache-git"
    site = tmp / "site-git"
    build(store, site, clean=True, cache=cache, git_ceiling=None)
    unchanged = build(store, site, clean=False, cache=cache, git_ceiling=None)
    run_dir = add_run(made, store, 0)
    try:
        added = build(store, site, clean=False, cache=cache, git_ceiling=None)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return {"no-change-git": [unchanged], "add-one-git": [added]}


def build_table(results: dict[str, list[dict[str, Any]]], runs: int) -> tuple[str, float, float]:
    """The markdown table of the builds; also the clean and the one-added medians."""
    labels = {
        "clean": "clean build (`clean=True`, empty record cache)",
        "no-change": "rebuild, nothing changed",
        "add-one": "rebuild after adding one run",
        "no-change-git": "store committed in git: rebuild, nothing changed",
        "add-one-git": "store committed in git: rebuild after adding one run (uncommitted)",
    }
    clean = common.median([r["seconds"] for r in results["clean"]])
    rows = []
    for name, found in results.items():
        seconds = common.median([r["seconds"] for r in found])
        pages = statistics.median_low([r["pages_written"] for r in found])
        rows.append(
            [
                labels[name],
                f"{seconds:.2f}",
                f"{seconds / clean:.1%}",
                f"{pages:,}",
                f"{pages / seconds:,.0f}" if pages >= 100 else "—",  # a rate of a few is noise
                f"{statistics.median_low([r['files_written'] for r in found]):,}",
                f"{statistics.median_low([r['files_unchanged'] for r in found]):,}",
                str(len(found)),
                f"{common.median([r['maxrss_kb'] for r in found]) / 1024:,.0f}",
            ]
        )
    table = common.markdown_table(
        [
            f"runfolio build, {runs:,} runs",
            "s (median)",
            "of a clean build",
            "pages rendered",
            "pages/s",
            "files written",
            "files unchanged",
            "builds",
            "peak RSS MB",
        ],
        rows,
    )
    added = common.median([r["seconds"] for r in results["add-one"]])
    return table, clean, added


def measure_weight(args: Any, tmp: Path) -> tuple[str, float]:
    """Build the small store with a 1,000,000-step metric; the weight table and build time."""
    spec = synth_store.SynthSpec(runs=10, long_steps=LONG_STEPS)
    made = synth_store.cached_store(spec, args.data_dir)
    site = tmp / "site-weight"
    figures = build(
        made.root, site, clean=True, cache=tmp / "cache-weight", git_ceiling=made.root.parent
    )
    slug, long_id = made.long_run or ("", "")
    normal_id = made.experiments[0].run_ids[1]
    rows = []
    for label, run_id, steps in (
        ("normal run", normal_id, spec.steps),
        ("run with one long metric", long_id, LONG_STEPS),
    ):
        weight = run_weight(site, slug, run_id)
        csv_bytes = (made.root / slug / run_id / "metrics.csv").stat().st_size
        rows.append(
            [
                label,
                f"{steps:,}",
                f"{csv_bytes:,}",
                f"{weight['html']:,}",
                f"{weight['data']:,}",
                f"{weight['html'] + weight['data']:,}",
                f"{weight['gz']:,}",
                str(weight["files"]),
            ]
        )
    table = common.markdown_table(
        [
            "run page",
            "`loss` steps",
            "metrics.csv bytes",
            "HTML bytes",
            "data bytes",
            "total bytes",
            "total gzip -6",
            "files",
        ],
        rows,
    )
    return table, figures["seconds"]


def parse_args() -> argparse.Namespace:
    """The shared options, plus ``--runs N`` (default 10,000) and ``--no-git`` (no git rows)."""
    sizing = argparse.ArgumentParser(add_help=False)
    sizing.add_argument("--runs", type=int, default=None)
    sizing.add_argument("--no-git", action="store_true")
    known, rest = sizing.parse_known_args()
    args = common.parse_args(__doc__.splitlines()[0] + " (also: --runs N, --no-git)", rest)
    args.runs, args.no_git = known.runs, known.no_git
    return args


def main() -> int:
    """Build (or reuse) the store, measure, print the tables, return the exit status."""
    args = parse_args()
    runs = args.runs or (200 if args.quick else 10_000)
    reps = args.reps or (1 if args.quick else 3)
    made = synth_store.cached_store(synth_store.SynthSpec(runs=runs), args.data_dir)
    synth_store.prune_extra_runs(made)
    with_git = shutil.which("git") is not None and not (args.quick or args.no_git)
    with tempfile.TemporaryDirectory(prefix="runfolio-bench-site-") as tmp_name:
        tmp = Path(tmp_name)
        results = measure_builds(made, tmp, reps, with_git)
        table, clean, added = build_table(results, runs)
        weight_table, weight_seconds = measure_weight(args, tmp)
    ratio = added / clean
    notes = [
        f"{reps} round(s) (clean, no change, one run added); medians; each build a fresh process. "
        f"{common.machine_line()}.",
        f"Store: {runs:,} FINISHED runs in one experiment, 20 params, 10 metrics x 100 steps, "
        f"in {made.root} (generated in {made.seconds:.0f} s; reused across invocations). "
        "Seconds are `build_site` alone (imports excluded); peak RSS is the build process's.",
        f"Target: adding one run rebuilds in < 5% of a clean build: **{ratio:.1%}**: "
        f"**{'met' if ratio < INCREMENTAL_TARGET else 'MISSED'}**.",
    ]
    common.print_report(f"runfolio build of {runs:,} runs", notes, table)
    print(
        f"Run page weight (a 10-run store whose first run logs `loss` at {LONG_STEPS:,} steps; "
        f"built in {weight_seconds:.1f} s). Data = every other file of the site named after "
        "the run (its compare data `.js`, copies).\n"
    )
    print(weight_table)
    print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
