"""Reading runs back: one run, one metric's history, or a searched table of runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runfolio.errors import ExperimentNotFoundError
from runfolio.store import layout
from runfolio.store.metrics import MetricRow, read_metrics
from runfolio.store.reader import read_run
from runfolio.store.records import RunRecord
from runfolio.store.scan import find_run, scan_store

if TYPE_CHECKING:
    import pandas as pd

_BASE_COLUMNS = [
    "run_id",
    "run_name",
    "experiment_id",
    "experiment_name",
    "status",
    "artifact_uri",
    "start_time",
    "end_time",
    "user_id",
    "parent_run_id",
]


def get_run(root: Path, run_ref: str) -> RunRecord:
    """Read the run whose id is, or uniquely starts with, ``run_ref``.

    Raises:
        RunNotFoundError: no run, or more than one, matches.
        MalformedRunError: the run's files cannot be read.
    """
    experiment, run_dir = find_run(root, run_ref)
    return read_run(run_dir, experiment)


def get_metric_history(root: Path, run_ref: str, key: str) -> list[MetricRow]:
    """Every logged value of metric ``key``, in file order.

    Each row has ``key``, ``step``, ``value`` and ``timestamp``, as MLflow's ``Metric``.

    Raises:
        RunNotFoundError: no run matches ``run_ref``.
    """
    _, run_dir = find_run(root, run_ref)
    return [row for row in read_metrics(run_dir / layout.METRICS_FILE).rows if row.key == key]


def filter_record(run: RunRecord) -> dict[str, Any]:
    """The mapping a search filter is evaluated against (see :mod:`runfolio.query.filter`)."""
    return {
        "attributes": {
            "run_id": run.run_id,
            "run_name": run.name,
            "status": run.status,
            "start_time": run.start_ms,
            "end_time": run.end_ms,
            "user_id": run.user,
            "experiment_id": run.experiment_slug,
            "experiment_name": run.experiment,
            "parent_run_id": run.parent_run_id,
            "artifact_uri": (run.path / layout.ARTIFACTS_DIR).as_uri(),
        },
        "params": run.flat_params(),
        "metrics": run.latest_metrics(),
        "tags": run.tags,
        "run": run,
    }


def search_records(
    root: Path,
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[RunRecord]:
    """Return the runs matching ``filter_string``, ordered as ``order_by`` asks.

    Malformed runs are skipped (see :func:`runfolio.store.scan.scan_store` to list them).

    Raises:
        FilterError: the filter or an order-by clause does not parse.
        ExperimentNotFoundError: a named experiment does not exist.
    """
    from runfolio.query.filter import parse_filter, sort_records

    run_filter = parse_filter(filter_string or "")
    wanted = set(experiment_names) if experiment_names else None
    scan = scan_store(root, experiments=wanted)
    if wanted:
        missing = wanted - {e.name for e in scan.experiments}
        if missing:
            raise ExperimentNotFoundError(
                f"no experiment named {', '.join(map(repr, sorted(missing)))} in {root}"
            )
    records = [r for r in map(filter_record, scan.runs) if run_filter.matches(r)]
    ordered = sort_records(records, order_by)
    if max_results is not None:
        ordered = ordered[:max_results]
    return [r["run"] for r in ordered]


def search_runs(
    root: Path,
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[RunRecord]:
    """Search runs like ``mlflow.search_runs``: a DataFrame with MLflow's column names.

    Columns: ``run_id``, ``run_name``, ``experiment_id`` (the experiment folder),
    ``experiment_name``, ``status``, ``artifact_uri``, ``start_time``, ``end_time``
    (UTC datetimes), ``user_id``, ``parent_run_id``, then ``metrics.<key>`` (latest
    values), ``params.<key>`` (nested params dotted) and ``tags.<key>``, each group
    sorted by key. ``output_format="list"`` returns the run records instead.

    Raises:
        FilterError: the filter or an order-by clause does not parse.
    """
    runs = search_records(root, experiment_names, filter_string, order_by, max_results)
    if output_format == "list":
        return runs
    return runs_to_frame(runs)


def runs_to_frame(runs: Sequence[RunRecord]) -> pd.DataFrame:
    """Build the search_runs DataFrame for ``runs``, in their order."""
    import pandas as pd

    metric_keys: set[str] = set()
    param_keys: set[str] = set()
    tag_keys: set[str] = set()
    rows: list[dict[str, Any]] = []
    for run in runs:
        metrics = run.latest_metrics()
        params = run.flat_params()
        metric_keys.update(metrics)
        param_keys.update(params)
        tag_keys.update(run.tags)
        row: dict[str, Any] = {
            "run_id": run.run_id,
            "run_name": run.name,
            "experiment_id": run.experiment_slug,
            "experiment_name": run.experiment,
            "status": run.status,
            "artifact_uri": (run.path / layout.ARTIFACTS_DIR).as_uri(),
            "start_time": run.start_ms,
            "end_time": run.end_ms,
            "user_id": run.user,
            "parent_run_id": run.parent_run_id,
        }
        row.update({f"metrics.{k}": v for k, v in metrics.items()})
        row.update({f"params.{k}": _param_cell(v) for k, v in params.items()})
        row.update({f"tags.{k}": v for k, v in run.tags.items()})
        rows.append(row)
    columns = (
        _BASE_COLUMNS
        + [f"metrics.{k}" for k in sorted(metric_keys)]
        + [f"params.{k}" for k in sorted(param_keys)]
        + [f"tags.{k}" for k in sorted(tag_keys)]
    )
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    for key in metric_keys:
        frame[f"metrics.{key}"] = frame[f"metrics.{key}"].astype("float64")
    return frame


def _param_cell(value: Any) -> Any:
    """Keep scalars typed; show lists and dicts as text so a cell holds one value."""
    return value if not isinstance(value, list | dict) else str(value)
