"""GitPython vs runfolio's own git runner (plain ``subprocess``), side by side.

runfolio reads git in two ways: many short commands (``rev-parse``, ``status``,
``ls-tree``...) and the contents of many blobs at once (every run file of a store at a
commit, every version of every ``run.yaml`` for the registry's history). This script
measures both ways through each contender in one run, repetitions interleaved:

- blobs: reading N small blobs through GitPython's object database (``repo.odb``, a
  ``GitCmdObjectDB`` whose persistent ``git cat-file --batch`` answers one request at a
  time), cold (a new ``Repo``, so a new process) and warm (the process already running),
  against runfolio's :func:`runfolio.gitobjects.read_blobs`, which feeds every request
  to one ``cat-file --batch`` through :func:`runfolio.gitrunner.run_git` and reads its
  whole answer;
- launch: one short command (``git rev-parse HEAD``) through ``git.Git.execute`` against
  :func:`runfolio.gitrunner.run_git`;
- import: a fresh interpreter running ``import git`` against ``import runfolio.gitrunner``.

Run: ``.venv/bin/python benchmarks/bench_git_layer.py [--quick] [--reps N]``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common

from runfolio.gitobjects import read_blobs
from runfolio.gitrunner import GIT_TIMEOUT_S, run_git


def make_blob_repo(path: Path, count: int) -> list[str]:
    """A repository with one commit of ``count`` run-like files, packed; their blob ids."""
    env = common.git_env()
    path.mkdir(parents=True)
    for index in range(count):
        folder = path / "runs" / "exp" / f"{index:06d}"
        folder.mkdir(parents=True)
        (folder / "run.yaml").write_text(
            f"run_id: r{index:06d}\nstatus: FINISHED\nparams:\n  lr: {index / count}\n"
            f"tags:\n  note: run number {index}\n",
            encoding="utf-8",
        )
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["commit", "--quiet", "--no-gpg-sign", "--message", "runs"],
        ["gc", "--quiet"],  # packed, as in a clone (CI's report and build --refs)
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, env=env)
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--object-only", "HEAD"],
        cwd=path,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return listing.split()


def read_with_gitpython(repo: object, blobs: list[str]) -> int:
    """Read every blob through GitPython's object database; total bytes."""
    total = 0
    for blob in blobs:
        total += len(repo.odb.stream(bytes.fromhex(blob)).read())  # type: ignore[attr-defined]
    return total


def read_with_runner(path: Path, blobs: list[str]) -> int:
    """Read every blob as runfolio does (:func:`runfolio.gitobjects.read_blobs`); total bytes."""
    return sum(len(data) for data in read_blobs(path, blobs).values())


def import_seconds(code: str) -> float:
    """Wall seconds of a fresh interpreter running ``code``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> int:
    """Measure, print the table, return the exit status."""
    args = common.parse_args(__doc__.splitlines()[0])
    git = _gitpython()
    reps = args.reps or (3 if args.quick else 7)
    sizes = (200,) if args.quick else (200, 2000)
    launches = 20 if args.quick else 100
    began = time.perf_counter()
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-git-", dir=common.disk_dir(args)) as tmp:
        for count in sizes:
            path = Path(tmp) / f"repo-{count}"
            blobs = make_blob_repo(path, count)
            contenders = {
                "ours": lambda p=path, b=blobs: common.timed(lambda: read_with_runner(p, b))
            }
            if git is not None:
                warm = git.Repo(path)
                read_with_gitpython(warm, blobs[:1])  # starts its cat-file process
                contenders["cold"] = lambda p=path, b=blobs: common.timed(
                    lambda: _cold_read(git, p, b)
                )
                contenders["warm"] = lambda r=warm, b=blobs: common.timed(
                    lambda: read_with_gitpython(r, b)
                )
            times = common.interleave(contenders, reps)
            label = f"read {count:,} blobs"
            rows += [
                _row(f"{label}: GitPython `repo.odb` (new Repo)", times, "cold"),
                _row(f"{label}: GitPython `repo.odb` (cat-file already running)", times, "warm"),
                _row(f"{label}: runfolio `read_blobs` (one `cat-file --batch`)", times, "ours"),
            ]
            if git is not None:
                warm.close()

        path = Path(tmp) / f"repo-{sizes[0]}"
        calls = {"ours": lambda: run_git(path, ["rev-parse", "HEAD"])}
        if git is not None:
            gitpython = git.Git(str(path))
            calls["gitpython"] = lambda: gitpython.execute(
                ["git", "rev-parse", "HEAD"],
                stdout_as_string=False,
                kill_after_timeout=GIT_TIMEOUT_S,
            )
        # Calls alternate one by one, in turn first (ABBA): a launch is short enough for
        # the machine's drift (other processes on a shared box) to swamp blocks of calls.
        times = {name: [] for name in calls}
        for index in range(reps * launches):
            order = list(calls) if index % 2 == 0 else list(reversed(calls))
            for name in order:
                times[name].append(common.timed(calls[name]))
        rows += [
            _row("one `git rev-parse HEAD`: GitPython `Git.execute`", times, "gitpython"),
            _row("one `git rev-parse HEAD`: runfolio `run_git`", times, "ours"),
        ]

    imports = {"pass": "pass", "ours": "import runfolio.gitrunner"}
    if git is not None:
        imports["gitpython"] = "import git"
    times = common.interleave(
        {name: lambda code=code: import_seconds(code) for name, code in imports.items()}, reps
    )
    start_up = common.median(times.pop("pass"))
    times = {name: [value - start_up for value in values] for name, values in times.items()}
    rows += [
        _row(
            "fresh interpreter: `import git` (GitPython), start-up subtracted", times, "gitpython"
        ),
        _row("fresh interpreter: `import runfolio.gitrunner`, start-up subtracted", times, "ours"),
    ]
    version = f"GitPython {git.__version__}" if git is not None else "GitPython not installed"
    common.print_report(
        "git layer: GitPython vs runfolio's runner",
        [
            f"{reps} interleaved repetitions; medians. {common.machine_line()}; "
            f"{version}; {_git_version()}.",
            f"Launch rows: the median of {reps * launches} calls each, alternating. Import "
            f"rows: a fresh interpreter minus `python -c pass` ({start_up * 1000:.0f} ms).",
        ],
        common.markdown_table(["git layer", "ms (median)", "vs runfolio"], rows),
    )
    print(f"_bench_git_layer.py: {time.perf_counter() - began:.0f} s in all._\n")
    return 0


def _gitpython() -> Any:
    """GitPython, the contender (no longer a dependency of runfolio); None if not installed."""
    try:
        import git
    except ImportError:
        return None
    return git


def _cold_read(git: Any, path: Path, blobs: list[str]) -> None:
    """Open a new ``Repo`` (so a new ``cat-file`` process), read every blob, close it."""
    repo = git.Repo(path)
    read_with_gitpython(repo, blobs)
    repo.close()


def _row(label: str, times: dict[str, list[float]], name: str) -> list[object]:
    """A table row: the median in ms and its ratio to runfolio's, or "not installed"."""
    if name not in times:
        return [label, "GitPython: not installed", "—"]
    value = common.median(times[name])
    return [label, f"{value * 1000:,.2f}", common.ratio(value, common.median(times["ours"]))]


def _git_version() -> str:
    """The version of the git program."""
    return subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
