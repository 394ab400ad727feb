"""The rows ``search_runs`` filters, orders and tabulates, read through their own cache.

A search needs far less than a full :class:`RunRecord`: the attributes, flat params,
latest metric values and tags. Those rows are derived from each run's files and cached
per experiment (:class:`~runfolio.store.cache.DerivedCache`, kind ``search``) under the
same signature rule as the record cache (stamps, and content hashes of recently changed
files, taken before the read), so a changed or added run is always re-read,
and a warm search decodes a few dozen small objects per run instead of a whole record.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runfolio.errors import MalformedRunError
from runfolio.store import layout
from runfolio.store.cache import DerivedCache, run_signature
from runfolio.store.liveness import effective_status
from runfolio.store.reader import iter_run_dirs, read_run_files
from runfolio.store.records import ExperimentRecord, RunRecord
from runfolio.store.scan import list_experiments, paused_gc, require_experiments

SEARCH_CACHE = "search"


def run_attributes(run: RunRecord, status: str) -> dict[str, Any]:
    """The ``attributes`` of a run as search filters name them (MLflow's names)."""
    return {
        "run_id": run.run_id,
        "run_name": run.name,
        "status": status,
        "start_time": run.start_ms,
        "end_time": run.end_ms,
        "user_id": run.user,
        "experiment_id": run.experiment_slug,
        "experiment_name": run.experiment,
        "parent_run_id": run.parent_run_id,
    }


def search_row(run: RunRecord) -> dict[str, Any]:
    """The cacheable search row of a run (status as stored; see :func:`read_search_rows`)."""
    return {
        "attributes": run_attributes(run, run.stored_status),
        "params": run.flat_params(),
        "metrics": run.latest_metrics(),
        "tags": dict(run.tags),
        "process": dict(run.process),
        "last_activity": max(
            [run.start_ms] + [int(m.get("timestamp") or 0) for m in run.metrics.values()]
        ),
    }


def read_search_rows(
    root: Path, experiment_names: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Read the search rows of every readable run (malformed runs are skipped).

    Each row holds ``attributes`` (with ``artifact_uri`` and the effective status:
    CRASHED for a RUNNING run whose process is gone), ``params``, ``metrics`` and
    ``tags``, the mapping :mod:`runfolio.query.filter` evaluates.

    Raises:
        ExperimentNotFoundError: a named experiment does not exist.
        StoreError: the store folder does not exist.
    """
    wanted = set(experiment_names) if experiment_names else None
    experiments = [e for e in list_experiments(root)[0] if wanted is None or e.name in wanted]
    require_experiments(root, experiments, wanted)
    rows: list[dict[str, Any]] = []
    with paused_gc():
        for experiment in experiments:
            rows.extend(_experiment_rows(experiment))
    return rows


def _experiment_rows(experiment: ExperimentRecord) -> list[dict[str, Any]]:
    """The rows of one experiment, through its search cache."""
    cache = DerivedCache(experiment.path, SEARCH_CACHE)
    # as_uri() quotes the path; a run id needs no quoting, so one call per experiment.
    base_uri = (experiment.path / "x").as_uri()[:-1]
    rows = []
    for run_dir, problem in iter_run_dirs(experiment.path, check_run_file=False):
        if problem:
            continue
        signature = run_signature(run_dir)  # before reading (see store.cache)
        if not signature.has_run_file:
            continue
        cached = cache.get(run_dir.name, signature)
        if cached is None:
            try:
                record = read_run_files(run_dir, experiment)
            except MalformedRunError:
                continue
            cached = search_row(record)
            if not record.problems:
                cache.put(run_dir.name, signature, cached)
        attributes = dict(cached["attributes"])
        attributes["artifact_uri"] = f"{base_uri}{run_dir.name}/{layout.ARTIFACTS_DIR}"
        if attributes["status"] == "RUNNING":
            attributes["status"] = effective_status(
                "RUNNING", run_dir, cached["process"], cached["last_activity"]
            )
        rows.append({**cached, "attributes": attributes})
    cache.save()
    return rows
