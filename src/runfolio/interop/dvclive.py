"""``runfolio import dvclive``: one DVCLive output folder into one runfolio run.

DVCLive is not needed (nor imported): its output is plain files, read as DVCLive's
documentation lays them out:

- "How it Works", directory structure: https://dvc.org/doc/dvclive/how-it-works
  (``params.yaml``, ``metrics.json``, ``plots/metrics``, ``plots/images``,
  ``plots/sklearn``, ``plots/custom``, ``artifacts/``, ``report.html``/``report.md``,
  and ``dvc.yaml`` beside the folder);
- ``Live.log_metric()``: https://dvc.org/doc/dvclive/live/log_metric (one
  tab-separated file per metric, ``plots/metrics/<name>.tsv``, columns ``timestamp``
  (only when logged with ``timestamp=True``), ``step`` and the metric; a name with
  slashes, ``train/loss``, is a sub-folder);
- ``Live.make_summary()`` and ``Live.log_param()``: https://dvc.org/doc/dvclive/live
  (``metrics.json`` holds the latest value of each metric, nested by the parts of its
  name, plus ``step``; ``params.yaml`` the params).

What goes where: ``params.yaml`` becomes the run's params; each TSV becomes that
metric's history under its full name (``train/loss`` stays one name), with the
timestamps it has, else the run's start time; values in ``metrics.json`` that no TSV
holds (logged with ``plot=False``) become one row at the summary's step; text or
boolean summary values become tags. Every other file of the folder (images, plots,
reports, artifacts) and a ``dvc.yaml`` beside it are copied into the run's
``artifacts/`` with the same relative paths.

The run's id is derived from the folder's absolute path and the first logged
timestamp, so importing the same folder again updates the same run (new rows, params
and files only), while a new training into the folder (DVCLive starts it afresh) is a
new run. Without any timestamp the folder is one run: the run an earlier import made
from it (tag ``dvclive.path``) is updated.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runfolio.errors import InvalidInputError, MalformedRunError
from runfolio.interop.report import TransferReport
from runfolio.interop.store_writer import (
    RunFields,
    RunMerge,
    derived_run_id,
    ensure_experiment_from,
    index_runs,
)
from runfolio.store import layout
from runfolio.store.reader import iter_run_dirs, read_yaml_file
from runfolio.store.records import ExperimentRecord, iso_to_ms
from runfolio.store.run_document import RunDocument
from runfolio.store.serialize import load_yaml

PARAMS_FILE = "params.yaml"
SUMMARY_FILE = "metrics.json"
METRICS_DIR = ("plots", "metrics")
DVC_FILE = "dvc.yaml"
SOURCE_TAG = "dvclive.path"
"""Tag naming the folder an imported DVCLive run came from."""


def import_dvclive(
    root: Path,
    path: Path,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
) -> TransferReport:
    """Import the DVCLive output folder ``path`` as one run of ``experiment``.

    Args:
        root: the runfolio store (created when missing).
        path: the folder DVCLive wrote (``dvclive/`` by default).
        experiment: the experiment's name; default: the folder holding ``path`` when
            ``path`` is called ``dvclive``, else ``path``'s own name.
        run_name: the run's name; default: ``path``'s name.

    Raises:
        InvalidInputError: ``path`` is not a DVCLive folder, or a file in it is malformed
            (the message names the file).
    """
    folder = path.expanduser().absolute()
    if not folder.is_dir():
        raise InvalidInputError(f"{path} is not a folder")
    metrics_dir = folder.joinpath(*METRICS_DIR)
    if not any((folder / name).exists() for name in (PARAMS_FILE, SUMMARY_FILE)) and (
        not metrics_dir.is_dir()
    ):
        raise InvalidInputError(
            f"{path} holds no DVCLive output (no {PARAMS_FILE}, {SUMMARY_FILE} or plots/metrics/)"
        )
    params = _read_params(folder / PARAMS_FILE)
    histories = sorted(_metric_files(metrics_dir))
    summary = _read_summary(folder / SUMMARY_FILE)
    stamps = [t for _, file in histories for t in _first_last(file) if t is not None]
    for key, file in histories:  # every file is checked before anything is written
        for _ in _read_tsv(file, key, 0):
            pass
    name = experiment or (folder.parent.name if folder.name == "dvclive" else folder.name)
    report = TransferReport()
    record, created = ensure_experiment_from(root, name or "dvclive", None, None)
    report.experiments_created += int(created)
    report.experiments_present += int(not created)
    if stamps:
        start_ms = min(stamps)
        run_id = derived_run_id(start_ms, f"dvclive:{folder}")
    else:  # no timestamps logged: the folder's earlier import, else now
        run_id, start_ms = _earlier_import(record, folder) or _new_id(folder)
    end_ms = max([*stamps, start_ms])
    run_dir = index_runs(root).get(run_id) or record.path / run_id
    merge = RunMerge(record, run_dir)
    merge.add_params(params)
    for key, file in histories:
        merge.add_metric_rows(_read_tsv(file, key, start_ms))
    plotted = {key for key, _ in histories}
    step = logged if type(logged := summary.get("step")) is int else 0
    extra_rows, tags = [], {SOURCE_TAG: str(folder)}
    for key, value in _flatten_summary(summary):
        if key in plotted or key == "step":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            tags[key] = str(value)
        else:
            extra_rows.append((key, step, float(value), start_ms))
    merge.add_metric_rows(extra_rows)
    for relative, file in _artifact_files(folder):
        merge.add_artifact(relative, file)
    earlier = merge.existing
    merge.finish(
        RunFields(
            name=run_name or (earlier.name if earlier else None) or folder.name,
            status="FINISHED",
            start_ms=start_ms,
            end_ms=end_ms,
            user=earlier.user if earlier else None,
            tags=tags,
        )
    )
    report.count_run(merge)
    return report


def _read_params(path: Path) -> dict[str, Any]:
    """DVCLive's ``params.yaml`` (absent means no params)."""
    if not path.exists():
        return {}
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except Exception as exc:
        raise InvalidInputError(f"{path}: not readable YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a mapping of params")
    return {str(key): value for key, value in data.items()}


def _read_summary(path: Path) -> dict[str, Any]:
    """DVCLive's ``metrics.json`` (absent means nothing beyond the TSV files)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a JSON object")
    return data


def _flatten_summary(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``metrics.json`` entries as ``(name, value)``, nested keys joined with ``/``."""
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten_summary(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", value


def _metric_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """``(metric name, file)`` for every ``.tsv``/``.csv`` under ``plots/metrics``."""
    if not folder.is_dir():
        return
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            file = Path(current) / name
            if file.suffix in (".tsv", ".csv") and not file.is_symlink():
                yield file.relative_to(folder).with_suffix("").as_posix(), file


def _rows(file: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of one metric file with their line numbers."""
    with open(file, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t" if file.suffix == ".tsv" else ",")
        if not reader.fieldnames or "step" not in reader.fieldnames:
            raise InvalidInputError(f"{file}: expected a header with a 'step' column")
        yield from enumerate(reader, start=2)


def _read_tsv(file: Path, key: str, fallback: int) -> Iterator[tuple[str, int, float, int]]:
    """The rows of one metric file as ``(key, step, value, timestamp)``.

    The value is the last column (DVCLive names it after the metric); rows without a
    timestamp get ``fallback`` (the run's start), which stays the same on a re-import.
    """
    with open(file, encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("\t" if file.suffix == ".tsv" else ",")
    value_column = [c for c in header if c not in ("timestamp", "step")][-1:]
    if not value_column:
        raise InvalidInputError(f"{file}: no column holds the metric's values")
    for number, row in _rows(file):
        try:
            step = int(row["step"])
            value = float(row[value_column[0]])
            stamp = int(row["timestamp"]) if row.get("timestamp") else fallback
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{file}: line {number}: not a number: {exc}") from exc
        yield key, step, value, stamp


def _first_last(file: Path) -> tuple[int | None, int | None]:
    """The earliest and latest timestamp of a metric file (None when it has none)."""
    try:
        stamps = [int(row["timestamp"]) for _, row in _rows(file) if row.get("timestamp")]
    except ValueError as exc:
        raise InvalidInputError(f"{file}: a timestamp is not a whole number: {exc}") from exc
    if not stamps:
        return None, None
    return min(stamps), max(stamps)


def _earlier_import(record: ExperimentRecord, folder: Path) -> tuple[str, int] | None:
    """The id and start of the run an earlier import made from ``folder``, if any."""
    for run_dir, problem in iter_run_dirs(record.path):
        if problem:
            continue
        path = run_dir / layout.RUN_FILE
        with contextlib.suppress(MalformedRunError):
            document = RunDocument.from_yaml_dict(read_yaml_file(path), path)
            if document.tags.get(SOURCE_TAG) == str(folder):
                return run_dir.name, iso_to_ms(document.start_time)
    return None


def _new_id(folder: Path) -> tuple[str, int]:
    """A fresh id (and start time, now) for a folder first imported without timestamps."""
    now = time.time_ns() // 1_000_000
    return derived_run_id(now, f"dvclive:{folder}"), now


def _artifact_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """Files to copy into ``artifacts/``: all but params, summary and metric histories."""
    skip = {folder / PARAMS_FILE, folder / SUMMARY_FILE}
    metrics_dir = folder.joinpath(*METRICS_DIR)
    for current, dirs, files in os.walk(folder):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if here / d != metrics_dir and not d.startswith("."))
        for name in sorted(files):
            file = here / name
            if file in skip or file.is_symlink() or name.startswith("."):
                continue
            yield file.relative_to(folder).as_posix(), file
    for dvc_file in (folder / DVC_FILE, folder.parent / DVC_FILE):
        if dvc_file.is_file() and dvc_file.parent != folder:
            yield DVC_FILE, dvc_file
