"""Tolerant readers: a store's files in, plain records out, problems reported not raised."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runfolio.errors import MalformedRunError, StoreError
from runfolio.store import layout
from runfolio.store.liveness import effective_status
from runfolio.store.metrics import parse_metrics, read_metrics, summarize
from runfolio.store.records import (
    DIRECTIONS,
    RUN_STATUSES,
    ExperimentRecord,
    RunRecord,
    iso_to_ms,
)
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

    Raises (from the source): MalformedRunError when a file exists but cannot be read.
    """

    def read(name: str) -> bytes | None:
        path = folder / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise MalformedRunError(f"{path}: cannot read ({exc.strerror})") from exc

    return read


def read_yaml_file(path: Path) -> Any:
    """Load one YAML file, turning every failure into a MalformedRunError naming the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise MalformedRunError(f"{path}: file is missing") from exc
    except OSError as exc:
        raise MalformedRunError(f"{path}: cannot read ({exc.strerror})") from exc
    return read_yaml_bytes(data, path)


def read_yaml_bytes(data: bytes, path: Path) -> Any:
    """Parse the bytes of a YAML file; failures become MalformedRunError naming ``path``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRunError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return plain_data(load_yaml(text))
    except yaml.YAMLError as exc:
        raise MalformedRunError(f"{path}: invalid YAML: {_first_line(exc)}") from exc


def plain_data(value: Any) -> Any:
    """Normalise YAML data to JSON-like types: string keys, dates as ISO text."""
    if isinstance(value, dict):
        return {str(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, list):
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
    data = _expect_mapping(raw, path)
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
            f"{path}: primary_metric.direction is {direction!r}; use 'minimize' or 'maximize'"
        )
    metric = primary.get("name")
    return ExperimentRecord(
        name=name,
        slug=exp_dir.name,
        path=exp_dir,
        description=str(data.get("description") or ""),
        primary_metric=str(metric) if metric else None,
        direction=direction,
        created=_optional_str(data.get("created")),
    )


def read_run(run_dir: Path, experiment: ExperimentRecord) -> RunRecord:
    """Read one run folder into a record (metrics summarised, status made effective).

    Raises:
        MalformedRunError: run.yaml or params.yaml is missing, unreadable or has fields of
            the wrong type; the message names the file and the field.
    """
    record = read_run_files(run_dir, experiment)
    refresh_status(record)
    return record


def read_run_files(
    run_dir: Path, experiment: ExperimentRecord, files: FileSource | None = None
) -> RunRecord:
    """Read a run's files without judging liveness (``status`` is the stored one).

    ``files`` reads them from elsewhere than ``run_dir`` on disk (a git revision, say);
    ``run_dir`` then only names the run in records and messages.
    """
    read = files or disk_files(run_dir)
    run_path = run_dir / layout.RUN_FILE
    run_bytes = read(layout.RUN_FILE)
    if run_bytes is None:
        raise MalformedRunError(f"{run_path}: file is missing")
    data = _expect_mapping(read_yaml_bytes(run_bytes, run_path), run_path)
    status = data.get("status")
    if status not in RUN_STATUSES:
        raise MalformedRunError(
            f"{run_path}: 'status' is {status!r}; expected one of {', '.join(RUN_STATUSES)}"
        )
    run_id = data.get("id")
    if run_id != run_dir.name:
        raise MalformedRunError(
            f"{run_path}: 'id' is {run_id!r} but the folder is named {run_dir.name!r}"
        )
    start_time = _time_field(data, "start_time", run_path, required=True)
    params_path = run_dir / layout.PARAMS_FILE
    params_bytes = read(layout.PARAMS_FILE)
    params = read_yaml_bytes(params_bytes, params_path) if params_bytes is not None else {}
    params = _expect_mapping(params if params is not None else {}, params_path)
    problems: list[str] = []
    metrics = data.get("metrics")
    if status == "RUNNING" or not _usable_summaries(metrics):
        if metrics is not None and status != "RUNNING":
            problems.append(f"{run_path}: 'metrics' summary is malformed; read metrics.csv instead")
        metrics_path = run_dir / layout.METRICS_FILE
        if files is None:
            metrics_file = read_metrics(metrics_path)
        else:
            metrics_bytes = files(layout.METRICS_FILE) or b""
            text = metrics_bytes.decode("utf-8", "replace")
            metrics_file = parse_metrics(text, str(metrics_path))
        problems.extend(metrics_file.problems)
        metrics = {k: s.to_dict() for k, s in summarize(metrics_file.rows).items()}
    return RunRecord(
        run_id=run_id,
        experiment=experiment.name,
        experiment_slug=experiment.slug,
        path=run_dir,
        name=str(data.get("name") or run_id),
        status=status,
        stored_status=status,
        start_time=start_time or "",
        end_time=_time_field(data, "end_time", run_path, required=False),
        user=_optional_str(data.get("user")),
        description=str(data.get("description") or ""),
        parent_run_id=_optional_str(data.get("parent_run_id")),
        tags={str(k): str(v) for k, v in _mapping_field(data, "tags", run_path).items()},
        params=params,
        metrics={str(k): v for k, v in metrics.items() if isinstance(v, dict)},
        source=_mapping_field(data, "source", run_path),
        git=_mapping_field(data, "git", run_path),
        environment=_mapping_field(data, "environment", run_path),
        process=_mapping_field(data, "process", run_path),
        problems=problems,
    )


def refresh_status(record: RunRecord) -> None:
    """Set ``record.status`` from its stored status and the liveness of its process."""
    if record.stored_status != "RUNNING":
        record.status = record.stored_status
        return
    last_activity = max(
        [record.start_ms] + [int(m.get("timestamp") or 0) for m in record.metrics.values()]
    )
    record.status = effective_status(
        record.stored_status, record.path, record.process, last_activity
    )


def iter_experiment_dirs(root: Path) -> Iterator[Path]:
    """Yield the experiment folders of a store in name order (hidden folders skipped)."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except FileNotFoundError as exc:
        raise StoreError(f"run store {root} does not exist") from exc
    except NotADirectoryError as exc:
        raise StoreError(f"run store {root} is not a directory") from exc
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        yield Path(entry.path)


NO_RUN_FILE = "run folder has no run.yaml (creation interrupted?)"


def iter_run_dirs(
    exp_dir: Path, *, check_run_file: bool = True
) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(run folder, problem)`` pairs of an experiment in id order.

    ``problem`` is None for a folder that holds a run.yaml; otherwise it says why a
    folder that looks like a run cannot be read. Symlinks are never followed. With
    ``check_run_file=False`` every real folder is yielded unchecked (the caller stats
    run.yaml itself anyway).
    """
    for entry in sorted(os.scandir(exp_dir), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            if entry.is_dir() or layout.is_run_id(entry.name):
                yield path, "is a symlink; runfolio does not follow symlinks in a store"
            continue
        if not entry.is_dir():
            continue
        if not check_run_file or os.path.exists(os.path.join(entry.path, layout.RUN_FILE)):
            yield path, None
        elif layout.is_run_id(entry.name):
            yield path, NO_RUN_FILE


def _usable_summaries(metrics: Any) -> bool:
    """Tell whether run.yaml's ``metrics`` has the documented shape (numbers where due)."""
    if not isinstance(metrics, dict):
        return False
    for summary in metrics.values():
        if not isinstance(summary, dict):
            return False
        if any(type(summary.get(k)) is not int for k in ("count", "step", "timestamp")):
            return False
        extremes = [summary.get("min"), summary.get("max")]  # None when every value was NaN
        numbers = [summary.get("last"), *(n for n in extremes if n is not None)]
        if any(type(n) not in (int, float) for n in numbers):
            return False
    return True


def _expect_mapping(data: Any, path: Path) -> dict[str, Any]:
    """Return ``data`` if it is a mapping, else raise naming the file."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MalformedRunError(
            f"{path}: expected a mapping at the top level, got {type(data).__name__}"
        )
    return data


def _mapping_field(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    """Return ``data[key]`` as a dict ({} when absent), raising when it is another type."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRunError(f"{path}: '{key}' must be a mapping, got {type(value).__name__}")
    return value


def _time_field(data: dict[str, Any], key: str, path: Path, *, required: bool) -> str | None:
    """Return an ISO time field, checking that it parses."""
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise MalformedRunError(f"{path}: '{key}' is missing")
        return None
    try:
        iso_to_ms(str(value))
    except ValueError as exc:
        raise MalformedRunError(f"{path}: '{key}' is not an ISO 8601 time: {value!r}") from exc
    return str(value)


def _optional_str(value: Any) -> str | None:
    """``str(value)``, or None for None/empty."""
    return None if value is None or value == "" else str(value)


def _first_line(exc: Exception) -> str:
    """The first line of an exception message, for one-line problem reports."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
