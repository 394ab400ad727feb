"""``runfolio export mlflow``: a store's runs, histories, artifacts and registry into MLflow.

Each run becomes an MLflow run with the same name, status, start and end times, user,
parent (``mlflow.parentRunId``), params, full metric history (``log_batch``, 1,000
values a call, read from ``metrics.csv`` a block at a time), tags and artifact files,
tagged ``runfolio.run_id`` with its runfolio id. Exporting again skips runs MLflow
already has (by that tag, or by the ``mlflow.run_id`` of a run imported from this very
MLflow), so nothing is duplicated. Registered versions and aliases follow (see
:mod:`.mlflow_registry`). The ``captured/`` files (git patch, package list) and the
``model.yaml`` runfolio wrote next to an imported MLflow model are not exported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from runfolio.interop import mlflow_source as mlsource
from runfolio.interop.mlflow_import import is_generated_descriptor
from runfolio.interop.mlflow_mapping import (
    NOTE_TAG,
    ORIGIN_TAG,
    RUNFOLIO_ID_TAG,
    param_text,
    tags_for_mlflow,
)
from runfolio.interop.mlflow_registry import export_registry
from runfolio.interop.report import TransferReport
from runfolio.interop.store_writer import iter_metric_rows
from runfolio.query.details import scan_experiments
from runfolio.store import layout
from runfolio.store.records import ExperimentRecord, RunRecord

_METRICS_PER_CALL = 1000
_PARAMS_PER_CALL = 100


def export_mlflow(root: Path, tracking_uri: str, experiments: Sequence[str] = ()) -> TransferReport:
    """Write the runs of the store at ``root`` into the MLflow at ``tracking_uri``.

    Args:
        root: the runfolio store.
        tracking_uri: where to write (a database URL, a server, or a folder/``.db`` path).
        experiments: experiment names to export; all when empty.

    Returns:
        What was exported, skipped as already there, and left out with why.

    Raises:
        InteropError: MLflow is not installed.
        ExperimentNotFoundError: a named experiment is not in the store.
    """
    scan = scan_experiments(root, experiments)
    report = TransferReport()
    report.problems.extend(str(problem) for problem in scan.problems)
    by_experiment: dict[str, list[RunRecord]] = {}
    for run in scan.runs:
        by_experiment.setdefault(run.experiment, []).append(run)
    mlflow_ids: dict[str, str] = {}
    with mlsource.open_client(tracking_uri, "export mlflow", must_exist=False) as client:
        from mlflow.exceptions import MlflowException

        for experiment in scan.experiments:
            experiment_id = _experiment_id(client, experiment, report)
            present, known = _exported_runs(client, experiment_id)
            for run in _parents_first(by_experiment.get(experiment.name, [])):
                origin = run.tags.get(ORIGIN_TAG)
                already = present.get(run.run_id) or (origin if origin in known else None)
                if already:
                    mlflow_ids[run.run_id] = already
                    report.runs_present += 1
                    continue
                try:
                    mlflow_ids[run.run_id] = _export_run(
                        client, experiment_id, run, mlflow_ids, report
                    )
                except (MlflowException, OSError) as exc:
                    report.problems.append(f"run {run.run_id} left out: {exc}")
        export_registry(client, root, mlflow_ids, report)
    return report


def _experiment_id(client: Any, experiment: ExperimentRecord, report: TransferReport) -> str:
    """The MLflow experiment of the same name, created when missing."""
    found = client.get_experiment_by_name(experiment.name)
    if found is not None:
        if found.lifecycle_stage != "active":
            client.restore_experiment(found.experiment_id)
        report.experiments_present += 1
        return str(found.experiment_id)
    tags = {NOTE_TAG: experiment.description} if experiment.description else None
    report.experiments_created += 1
    return str(client.create_experiment(experiment.name, tags=tags))


def _exported_runs(client: Any, experiment_id: str) -> tuple[dict[str, str], set[str]]:
    """Runs MLflow has in the experiment: runfolio id -> MLflow id, and every MLflow id."""
    present: dict[str, str] = {}
    known: set[str] = set()
    for run in mlsource.iter_runs(client, experiment_id):
        known.add(run.info.run_id)
        runfolio_id = run.data.tags.get(RUNFOLIO_ID_TAG)
        if runfolio_id:
            present[runfolio_id] = run.info.run_id
    return present, known


def _parents_first(runs: list[RunRecord]) -> Iterator[RunRecord]:
    """The runs ordered so that each parent comes before its children."""
    ids = {run.run_id for run in runs}
    done: set[str] = set()
    pending = sorted(runs, key=lambda r: (r.start_ms, r.run_id))
    while pending:
        waiting = []
        for run in pending:
            parent = run.parent_run_id
            if parent and parent in ids and parent not in done and parent != run.run_id:
                waiting.append(run)
            else:
                done.add(run.run_id)
                yield run
        if len(waiting) == len(pending):  # a cycle in hand-edited files: stop waiting
            yield from waiting
            return
        pending = waiting


def _export_run(
    client: Any,
    experiment_id: str,
    run: RunRecord,
    mlflow_ids: dict[str, str],
    report: TransferReport,
) -> str:
    """Create one MLflow run with everything the runfolio run holds; return its id.

    A run MLflow refuses half way is deleted again, so a later export retries it whole.
    """
    from mlflow.entities import Metric, Param

    tags = tags_for_mlflow(
        tags=run.tags,
        run_id=run.run_id,
        user=run.user,
        description=run.description,
        parent_mlflow_id=mlflow_ids.get(run.parent_run_id or ""),
        source=run.source,
        git=run.git,
    )
    created = client.create_run(
        experiment_id, start_time=run.start_ms, tags=tags, run_name=run.name
    )
    mlflow_id = str(created.info.run_id)
    try:
        params = [Param(key, param_text(value)) for key, value in run.flat_params().items()]
        for chunk in _chunks(params, _PARAMS_PER_CALL):
            client.log_batch(mlflow_id, params=chunk)
        values = 0
        batch: list[Any] = []
        for row in iter_metric_rows(run.path / layout.METRICS_FILE):
            batch.append(Metric(row.key, row.value, row.timestamp, row.step))
            if len(batch) == _METRICS_PER_CALL:
                client.log_batch(mlflow_id, metrics=batch)
                values += len(batch)
                batch = []
        if batch:
            client.log_batch(mlflow_id, metrics=batch)
            values += len(batch)
        files = _export_artifacts(client, mlflow_id, run.path / layout.ARTIFACTS_DIR)
        if run.stored_status != "RUNNING":
            client.set_terminated(mlflow_id, run.stored_status, end_time=run.end_ms)
    except BaseException:
        client.delete_run(mlflow_id)
        raise
    report.runs_created += 1
    report.params += len(params)
    report.metric_values += values
    report.artifacts += files
    return mlflow_id


def _export_artifacts(client: Any, mlflow_id: str, base: Path) -> int:
    """Upload the run's artifact files (symlinks and runfolio's MLflow descriptors skipped)."""
    if not base.is_dir() or base.is_symlink():
        return 0
    count = 0
    for current, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        folder = Path(current)
        relative = folder.relative_to(base).as_posix()
        for name in sorted(files):
            path = folder / name
            if path.is_symlink() or is_generated_descriptor(path):
                continue
            client.log_artifact(mlflow_id, str(path), None if relative == "." else relative)
            count += 1
    return count


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
