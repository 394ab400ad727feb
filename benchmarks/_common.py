"""Shared helpers of the benchmark scripts: arguments, MLflow set-up, timing, tables.

Every script measures runfolio and its baselines side by side in one invocation, with
the contenders' repetitions interleaved (A B C, A B C, ...) so that drift of the
machine (another process, thermal throttling) hits them alike; it reports medians.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"

# MLflow's telemetry would phone home from the benchmark; there is no network here
# and the benchmark must not try. Set before any import of mlflow.
QUIET_MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "GIT_PYTHON_REFRESH": "quiet",
}
os.environ.update(QUIET_MLFLOW_ENV)

NOT_INSTALLED = "mlflow: not installed"
SKIPPED = "mlflow: skipped (--no-mlflow)"


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the options every benchmark script shares: ``--quick``, ``--no-mlflow``, ``--reps``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--no-mlflow", action="store_true", help="leave MLflow out")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per contender")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where built data sets are cached (default benchmarks/.data)",
    )
    return parser.parse_args(argv)


def disk_dir(args: argparse.Namespace) -> Path:
    """The data folder (``--data-dir`` or benchmarks/.data), made if missing.

    It is on the disk of this checkout, where a store lives: the system temp folder may
    be another file system, and on a RAM disk creating a file or an fsync costs nothing.
    """
    folder: Path = args.data_dir or DATA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def mlflow_status(no_mlflow: bool) -> str | None:
    """None when MLflow should be measured, else the text to print in its rows."""
    if no_mlflow:
        return SKIPPED
    if importlib.util.find_spec("mlflow") is None:
        return NOT_INSTALLED
    return None


def import_mlflow() -> Any:
    """Import mlflow with its INFO chatter (database creation, new experiment) silenced."""
    import mlflow

    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return mlflow


def mlflow_version() -> str:
    """The installed MLflow version, or 'not installed' (read without importing it)."""
    from importlib import metadata

    for dist in ("mlflow", "mlflow-skinny"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def sqlite_uri(path: Path) -> str:
    """An SQLAlchemy URI for an SQLite file at an absolute path."""
    return f"sqlite:///{path.resolve()}"


def median(values: Sequence[float]) -> float:
    """The median of the repetitions."""
    return statistics.median(values)


def timed(action: Callable[[], Any]) -> float:
    """Seconds ``action`` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def interleave(contenders: Mapping[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Run each contender once per round, ``reps`` rounds; collect what each returns.

    Each callable returns its own measurement (it may time only part of its work).
    """
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(reps):
        for name, measure in contenders.items():
            results[name].append(measure())
    return results


def ratio(numerator: float | None, denominator: float | None) -> str:
    """``a / b`` as ``1.23x``, or an em dash when either side is missing."""
    if numerator is None or denominator is None or denominator == 0:
        return "—"
    value = numerator / denominator
    return f"{value:,.0f}x" if value >= 100 else f"{value:.2f}x"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def git_env() -> dict[str, str]:
    """An environment where the user's and system git config cannot change what git does."""
    env = dict(os.environ)
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
        }
    )
    return env


def make_git_repo(path: Path, entry_code: str = "print('training')\n") -> Path:
    """Create a real git repository at ``path``: one commit, then one uncommitted change.

    ``train.py`` (holding ``entry_code``) is committed and stays clean, so it can be the
    entry point a tracker records; ``config.py`` is changed after the commit, so the
    working tree is dirty and auto-capture has a patch to write (the expensive case).
    """
    path.mkdir(parents=True, exist_ok=True)
    (path / "train.py").write_text(entry_code, encoding="utf-8")
    (path / "config.py").write_text("lr = 0.1\n", encoding="utf-8")
    (path / "README.md").write_text("# bench\n", encoding="utf-8")
    env = git_env()
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["commit", "--quiet", "--no-gpg-sign", "--message", "initial"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, env=env)
    (path / "config.py").write_text("lr = 0.05\nepochs = 20\n", encoding="utf-8")
    return path


def machine_line() -> str:
    """One line naming the interpreter and the CPU count."""
    return f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, MLflow {mlflow_version()}"


def print_report(title: str, notes: Sequence[str], table: str) -> None:
    """Print a benchmark's section: heading, notes, then its table."""
    print(f"## {title}\n")
    for note in notes:
        print(f"- {note}")
    if notes:
        print()
    print(table)
    print(flush=True)
