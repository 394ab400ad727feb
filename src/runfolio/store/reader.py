"""Tolerant readers: a store's files in, plain records out, problems reported not raised."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runfolio.errors import MalformedRunError, StoreError
from runfolio.store import layout
from runfolio.store.fields import FieldReader, check_format, expect_mapping
from runfolio.store.files import SYMLINK_PROBLEM, read_store_file
from runfolio.store.liveness import effective_status
from runfolio.store.metrics import missing_rows, parse_metrics_bytes, read_metrics, summarize
from runfolio.store.records import DIRECTIONS, ExperimentRecord, RunRecord
from runfolio.store.run_document import RunDocument, tags_from_yaml_dict
from runfolio.store.serialize import load_yaml


@dataclass(frozen=True)
class Problem:
    """A file or folder that could not be read, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class StoreScan:
    """What one pass over a store found."""

    experiments: list[ExperimentRecord] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


FileSource = Callable[[str], bytes | None]
"""Reads a file of a run folder by name (``run.yaml``): its bytes, or None when absent.

The store on disk is read through :func:`disk_files`; a store at a git revision is read
from blobs (:mod:`runfolio.query.revision_scan`) through the same record readers.
"""


def disk_files(folder: Path) -> FileSource:
    """A :data:`FileSource` reading the files of ``folder`` on disk.

    Raises (from the source): MalformedRunError when a file exists but cannot be read,
    is a folder, or is a symlink (never followed).
    """
    base = f"{folder}{os.sep}"

    def read(name: str) -> bytes | None:
        return read_store_file(base + name)

    return read


def read_yaml_file(path: Path) -> Any:
    """Load one YAML file, turning every failure into a MalformedRunError naming the file.

    A symlink is refused, not followed (see :mod:`runfolio.store.files`).
    """
    data = read_store_file(path)
    if data is None:
        raise MalformedRunError(f"{path}: file is missing")
    return read_yaml_bytes(data, path)


def read_yaml_mapping(path: Path, *, empty_ok: bool = False) -> dict[str, Any]:
    """Load a YAML file that must hold a mapping (run.yaml, params.yaml ...).

    Args:
        path: the file.
        empty_ok: an empty file (or only comments) is an empty mapping; otherwise an error.

    Raises:
        MalformedRunError: as :func:`read_yaml_file`, or the file holds no mapping.
    """
    return expect_mapping(read_yaml_file(path), path, required=not empty_ok)


def read_yaml_bytes(data: bytes, path: Path) -> Any:
    """Parse the bytes of a YAML file; failures become MalformedRunError naming ``path``.

    The message says what is wrong and where (``line 3, column 1``), and names the key
    when one is at fault (a duplicate key, say).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MalformedRunError(f"{path}: not UTF-8 text ({exc.reason}, line {line})") from exc
    try:
        return plain_data(load_yaml(text))
    except yaml.YAMLError as exc:
        raise MalformedRunError(f"{path}: invalid YAML: {_yaml_problem(exc)}") from exc


def plain_data(value: Any) -> Any:
    """Normalise YAML data to JSON-like types: string keys, dates as ISO text."""
    if isinstance(value, dict):
        return {str(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(item) for item in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def read_experiment(exp_dir: Path, content: bytes | None = None) -> ExperimentRecord:
    """Read ``<exp_dir>/experiment.yaml`` (or ``content``, that file's bytes, when given).

    Raises:
        MalformedRunError: the file is missing, not YAML, or lacks a usable name.
    """
    path = exp_dir / layout.EXPERIMENT_FILE
    raw = read_yaml_file(path) if content is None else read_yaml_bytes(content, path)
    data = expect_mapping(raw, path, required=True)
    check_format(data, path)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise MalformedRunError(f"{path}: 'name' must be a non-empty string")
    primary = data.get("primary_metric") or {}
    if isinstance(primary, str):
        primary = {"name": primary}
    if not isinstance(primary, dict):
        raise MalformedRunError(f"{path}: 'primary_metric' must be a mapping with name/direction")
    direction = primary.get("direction") or "minimize"
    if direction not in DIRECTIONS:
        raise MalformedRunError(
            f"{path}: 'primary_metric.direction' is {direction!r}; use 'minimize' or 'maximize'"
        )
    fields = FieldReader(path)
    return ExperimentRecord(
        name=name,
        slug=exp_dir.name,
        path=exp_dir,
        description=fields.text(data, "description") or "",
        primary_metric=fields.text(primary, "name", "primary_metric.name"),
        direction=direction,
        created=fields.text(data, "created"),
        problems=tuple(fields.problems),
    )


def read_run(run_dir: Path, experiment: ExperimentRecord) -> RunRecord:
    """Read one run folder into a record (metrics summarised, status made effective).

    Unlike a scan, it reads an ended run's metrics.csv too, so its problems list every
    unreadable row and every metric with fewer rows than run.yaml's summary counts.

    Raises:
        MalformedRunError: the folder's name is not a run id, or run.yaml or params.yaml
            is missing, unreadable or has fields of the wrong type; the message names the
            file and the field.
    """
    record = read_run_files(run_dir, experiment, check_history=True)
    refresh_status(record)
    return record


def read_run_files(
    run_dir: Path,
    experiment: ExperimentRecord,
    files: FileSource | None = None,
    *,
    check_history: bool = False,
) -> RunRecord:
    """Read a run's files without judging liveness (``status`` is the stored one).

    ``files`` reads them from elsewhere than ``run_dir`` on disk (a git revision, say);
    ``run_dir`` then only names the run in records and messages.

    An ended run's summary in run.yaml stands for its metrics: its metrics.csv is only
    checked to exist, unless ``check_history`` asks for it to be read and its rows
    counted against the summary.

    Raises:
        MalformedRunError: as :func:`read_run`.
    """
    if not layout.is_run_id(run_dir.name):
        raise MalformedRunError(f"{run_dir}: {layout.NOT_A_RUN_ID}")
    read = files or disk_files(run_dir)
    run_path = run_dir / layout.RUN_FILE
    run_bytes = read(layout.RUN_FILE)
    if run_bytes is None:
        raise MalformedRunError(f"{run_path}: file is missing")
    document = RunDocument.from_yaml_dict(read_yaml_bytes(run_bytes, run_path), run_path)
    params_path = run_dir / layout.PARAMS_FILE
    params_bytes = read(layout.PARAMS_FILE)
    params = read_yaml_bytes(params_bytes, params_path) if params_bytes is not None else {}
    params = expect_mapping(params if params is not None else {}, params_path)
    problems = list(document.problems)
    metrics = document.metrics
    metrics_path = run_dir / layout.METRICS_FILE
    if document.status == "RUNNING" or metrics is None:
        if files is None:
            metrics_file = read_metrics(metrics_path)
        else:
            metrics_file = parse_metrics_bytes(files(layout.METRICS_FILE) or b"", str(metrics_path))
        problems.extend(metrics_file.problems)
        metrics = {k: s.to_dict() for k, s in summarize(metrics_file.rows).items()}
    elif metrics and files is None:
        problems.extend(_history_problems(metrics_path, metrics, check_history))
    return RunRecord(
        run_id=document.id,
        experiment=experiment.name,
        experiment_slug=experiment.slug,
        path=run_dir,
        name=document.name or document.id,
        status=document.status,
        stored_status=document.status,
        start_time=document.start_time,
        end_time=document.end_time,
        user=document.user,
        description=document.description,
        parent_run_id=document.parent_run_id,
        tags=dict(document.tags),
        params=params,
        metrics={k: dict(v) for k, v in metrics.items()},
        source=dict(document.source),
        git=dict(document.git),
        environment=dict(document.environment),
        process=dict(document.process),
        failure=dict(document.failure or {}),
        problems=problems,
    )


def read_run_tags(run_bytes: bytes, run_path: Path) -> dict[str, str]:
    """The tags of a ``run.yaml`` given as bytes, read as :func:`read_run_files` reads them.

    For the registry's history, which reads every version of a ``run.yaml`` that git
    holds: the same parser (:func:`read_yaml_bytes`) and the same rules for tag values.

    Raises:
        MalformedRunError: the bytes are not a run.yaml this reader can read.
    """
    return tags_from_yaml_dict(read_yaml_bytes(run_bytes, run_path), run_path)


def refresh_status(record: RunRecord) -> None:
    """Set ``record.status`` from its stored status and the liveness of its process."""
    if record.stored_status != "RUNNING":
        record.status = record.stored_status
        return
    record.status = effective_status(
        record.stored_status, record.path, record.process, last_activity_ms(record)
    )


def last_activity_ms(record: RunRecord) -> int:
    """The run's latest activity besides its heartbeat: its start or its last metric's time."""
    return max([record.start_ms] + [int(m.get("timestamp") or 0) for m in record.metrics.values()])


def iter_experiment_dirs(root: Path) -> Iterator[Path]:
    """Yield the experiment folders of a store in name order (hidden folders skipped)."""
    for path, problem in iter_experiment_entries(root):
        if problem is None:
            yield path


def iter_experiment_entries(root: Path) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(folder, problem)`` for the experiment folders of a store, in name order.

    ``problem`` is None for a real folder; a symlink to a folder is yielded with the
    reason it is not read (symlinks are never followed). Hidden entries and plain files
    are skipped.

    Raises:
        StoreError: ``root`` does not exist, is not a folder, or cannot be listed.
    """
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except FileNotFoundError as exc:
        raise StoreError(f"run store {root} does not exist") from exc
    except NotADirectoryError as exc:
        raise StoreError(f"run store {root} is not a directory") from exc
    except OSError as exc:
        raise StoreError(f"run store {root} cannot be read ({exc.strerror or exc})") from exc
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield Path(entry.path), None
        elif entry.is_symlink() and entry.is_dir():
            yield Path(entry.path), SYMLINK_PROBLEM


NO_RUN_FILE = (
    "run folder has no run.yaml: a run start was killed before writing it (runfolio 0.1 "
    "made the folder first), or run.yaml was deleted; if the folder holds nothing you "
    "need, delete it (rm -r <folder>)"
)


def iter_run_dirs(
    exp_dir: Path, *, check_run_file: bool = True
) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(run folder, problem)`` pairs of an experiment in id order.

    ``problem`` is None for a folder that holds a run.yaml; otherwise it says why a
    folder that looks like a run cannot be read. Symlinks are never followed. A folder
    whose name is not a run id is never a run (its name would reach pages, reports
    and file names): it is yielded with :data:`~runfolio.store.layout.NOT_A_RUN_ID`
    when it holds a run.yaml, and skipped otherwise. With ``check_run_file=False`` every
    other real folder is yielded unchecked (the caller stats run.yaml itself anyway).
    """
    for entry in sorted(os.scandir(exp_dir), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            if entry.is_dir() or layout.is_run_id(entry.name):
                yield path, SYMLINK_PROBLEM
            continue
        if not entry.is_dir():
            continue
        if not layout.is_run_id(entry.name):
            if os.path.lexists(os.path.join(entry.path, layout.RUN_FILE)):
                yield path, layout.NOT_A_RUN_ID
        elif not check_run_file or os.path.exists(os.path.join(entry.path, layout.RUN_FILE)):
            yield path, None
        else:
            yield path, NO_RUN_FILE


def _history_problems(path: Path, summaries: Mapping[str, Any], read_rows: bool) -> list[str]:
    """What is wrong with an ended run's metrics.csv, measured against its summaries."""
    if not os.path.lexists(path):
        # The summary survives, but every logged value behind it is gone.
        return [
            f"{path}: metrics.csv is missing, but run.yaml summarises "
            f"{len(summaries)} metric(s); their history is lost"
        ]
    if not read_rows:
        return []
    metrics_file = read_metrics(path)
    return [*metrics_file.problems, *missing_rows(metrics_file, summaries, str(path))]


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What a YAML error says is wrong, and where: ``found duplicate key 'a' (line 3, column 1)``.

    PyYAML's messages start with their context (``while constructing a mapping``); the
    problem itself, with its place, is what tells the user what to fix.
    """
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark or exc.context_mark
        place = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        context = f"{exc.context}, " if exc.context else ""
        return f"{context}{exc.problem}{place}"
    return _first_line(exc)


def _first_line(exc: Exception) -> str:
    """The first line of an exception message, for one-line problem reports."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
