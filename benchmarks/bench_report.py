"""``runfolio report`` on a 1,000-run store in git, against checking the base out.

A pull-request job must compare the store on the base branch with the store on the head.
runfolio reads the base straight from git's objects (``ls-tree`` and one ``cat-file
--batch``, metadata files only). The obvious alternative, and the baseline here, checks
the base out into a worktree and scans both folders. Both give the same added runs (the
script checks it); the table compares their times.

The store is the synthetic one of ``synth_store.py`` (1,000 runs with 20 params and 10 metrics
of 100 steps), committed on ``main``; a branch adds ten runs. The repository is built once
and cached under ``benchmarks/.data/`` (gitignored).

Run: ``.venv/bin/python benchmarks/bench_report.py [--quick] [--reps N]``
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import _common as common
from synth_store import SynthSpec, cached_store

ADDED = 10
BUILD_VERSION = 1


def build_repo(folder: Path, runs: int, data_dir: Path | None) -> Path:
    """A git repository with the synthetic store on main and a branch adding runs."""
    marker = folder / "built.json"
    repo = folder / "repo"
    if marker.exists() and json.loads(marker.read_text())["version"] == BUILD_VERSION:
        return repo
    shutil.rmtree(folder, ignore_errors=True)
    made = cached_store(SynthSpec(runs=runs, experiments=1), data_dir)
    repo.mkdir(parents=True)
    shutil.copytree(made.root, repo / "runs")
    env = common.git_env()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)

    git("init", "--quiet", "--initial-branch=main")
    git("add", "--all")
    git("commit", "--quiet", "--no-gpg-sign", "--message", "the store")
    git("checkout", "--quiet", "-b", "feature")
    experiment = made.experiments[0]
    for number, source in enumerate(experiment.run_ids[:ADDED]):
        new_id = f"{source[:-10]}{number:010x}"
        target = repo / "runs" / experiment.slug / new_id
        shutil.copytree(repo / "runs" / experiment.slug / source, target)
        run_yaml = target / "run.yaml"
        text = re.sub(r"(?m)^id: .*$", f"id: {new_id}", run_yaml.read_text(encoding="utf-8"))
        run_yaml.write_text(text, encoding="utf-8")
    git("add", "--all")
    git("commit", "--quiet", "--no-gpg-sign", "--message", "ten more runs")
    marker.write_text(json.dumps({"version": BUILD_VERSION}))
    return repo


def runfolio_report(repo: Path) -> tuple[float, int]:
    """Seconds for the report (compare and render), and how many runs it found added."""
    from runfolio.console.report_markdown import render_report_markdown
    from runfolio.query.report import compare_revisions

    start = time.perf_counter()
    changes = compare_revisions(repo / "runs", "main", "feature")
    render_report_markdown(changes)
    seconds = time.perf_counter() - start
    return seconds, changes.counts()["added"]


def checkout_and_scan(repo: Path) -> tuple[float, int]:
    """Seconds to check the base out into a worktree and scan both stores; added runs."""
    from runfolio.store.scan import scan_store

    env = common.git_env()
    with tempfile.TemporaryDirectory() as scratch:
        worktree = Path(scratch) / "base"
        start = time.perf_counter()
        subprocess.run(
            ["git", "worktree", "add", "--quiet", "--detach", str(worktree), "main"],
            cwd=repo,
            check=True,
            capture_output=True,
            env=env,
        )
        base = scan_store(worktree / "runs", use_cache=False)
        head = scan_store(repo / "runs", use_cache=False)
        added = {r.run_id for r in head.runs} - {r.run_id for r in base.runs}
        seconds = time.perf_counter() - start
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(worktree)],
            cwd=repo,
            check=True,
            capture_output=True,
            env=env,
        )
    return seconds, len(added)


def main() -> int:
    """Measure both contenders, interleaved, and print the table."""
    args = common.parse_args(__doc__.splitlines()[0])
    runs = 100 if args.quick else 1000
    reps = args.reps or (2 if args.quick else 5)
    folder = (args.data_dir or common.DATA_DIR) / f"report-{runs}"
    repo = build_repo(folder, runs, args.data_dir)
    subprocess.run(["git", "checkout", "--quiet", "feature"], cwd=repo, check=True)
    found: dict[str, set[int]] = {"report": set(), "checkout": set()}

    def measure(name: str, action: object) -> float:
        seconds, added = action(repo)  # type: ignore[operator]
        found[name].add(added)
        return seconds

    results = common.interleave(
        {
            "report": lambda: measure("report", runfolio_report),
            "checkout": lambda: measure("checkout", checkout_and_scan),
        },
        reps,
    )
    if found["report"] != {ADDED} or found["checkout"] != {ADDED}:
        raise SystemExit(f"the contenders disagree on the added runs: {found}")
    report = common.median(results["report"])
    checkout = common.median(results["checkout"])
    table = common.markdown_table(
        ["Contender", "Median", "Per base run", "vs runfolio report"],
        [
            [
                "runfolio report (git objects, metadata only)",
                f"{report:.2f} s",
                f"{report / runs * 1000:.2f} ms",
                "1.00x",
            ],
            [
                "check the base out, scan both stores",
                f"{checkout:.2f} s",
                f"{checkout / runs * 1000:.2f} ms",
                common.ratio(checkout, report),
            ],
        ],
    )
    common.print_report(
        f"Pull-request report: {runs:,} runs on main, a branch adding {ADDED}",
        [
            common.machine_line(),
            f"medians of {reps} interleaved repetitions; both found the {ADDED} added runs",
            "record cache off for the baseline's scans (use_cache=False), as the report's",
        ],
        table,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
