"""The fluent API: module-level functions acting on the active run, named as in MLflow.

Each thread has its own stack of active runs (as in MLflow 2): ``start_run`` pushes,
``end_run`` pops, and a ``with`` block does both. Logging with no active run starts
one in the current experiment, as MLflow does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runfolio.errors import RunfolioError
from runfolio.tracking.client import Store
from runfolio.tracking.run import Run

if TYPE_CHECKING:
    import pandas as pd

    from runfolio.store.metrics import MetricRow
    from runfolio.store.records import ExperimentRecord, RunRecord

DEFAULT_EXPERIMENT = "Default"

_local = threading.local()
_state_lock = threading.Lock()
_explicit_store: Path | None = None
_store_cache: tuple[tuple[Any, ...], Store] | None = None
_experiment_name: str | None = None
_forking_run_id: str | None = None  # the active run of the thread calling fork(), if any
_parent_run_id: str | None = None  # in a forked child: that run, the default parent of nested runs


class ActiveRunError(RunfolioError):
    """A run is already active and ``nested=True`` was not given."""


def _stack() -> list[Run]:
    """This thread's stack of active runs, with ended runs dropped from the top."""
    stack: list[Run] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    while stack and stack[-1].ended:
        stack.pop()
    return stack


def set_store(path: str | os.PathLike[str] | None) -> Store:
    """Use the run store at ``path`` from now on (``None`` goes back to the default).

    The default is ``$RUNFOLIO_STORE``, else the ``store`` key of ``runfolio.yaml`` at
    the repository root, else ``runs/`` at the repository root.
    """
    global _explicit_store, _store_cache
    with _state_lock:
        _explicit_store = Path(path).absolute() if path is not None else None
        _store_cache = None  # resolve afresh: runfolio.yaml may have changed since
    return get_store()


def get_store() -> Store:
    """The store the fluent API writes to."""
    global _store_cache
    key = (_explicit_store, os.environ.get("RUNFOLIO_STORE"), os.getcwd())
    cached = _store_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    store = Store(_explicit_store)
    _store_cache = (key, store)
    return store


def set_experiment(
    experiment_name: str,
    *,
    description: str | None = None,
    primary_metric: str | None = None,
    direction: Literal["minimize", "maximize"] | None = None,
) -> ExperimentRecord:
    """Make ``experiment_name`` the current experiment, creating it if needed.

    Args:
        experiment_name: the experiment's name (any text; its folder name is derived).
        description: markdown shown on the experiment's page (saved when given).
        primary_metric: the metric leaderboards rank by (saved when given).
        direction: ``minimize`` (default) or ``maximize`` for the primary metric.
    """
    global _experiment_name
    experiment = get_store().set_experiment(
        experiment_name,
        description=description,
        primary_metric=primary_metric,
        direction=direction,
    )
    _experiment_name = experiment.name
    return experiment


def start_run(
    run_id: str | None = None,
    experiment_name: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    force: bool = False,
) -> Run:
    """Start a run (or resume ``run_id``) and make it the active run.

    Use as ``with runfolio.start_run(): ...`` to end it automatically: FINISHED on
    normal exit, FAILED on an exception (re-raised), KILLED on KeyboardInterrupt or
    SIGTERM.

    Args:
        run_id: resume this existing run instead of starting a new one.
        experiment_name: the experiment (default: the one from ``set_experiment``,
            else ``$RUNFOLIO_EXPERIMENT``, else ``Default``).
        run_name: display name; a memorable one is generated when omitted.
        nested: allow starting while another run is active; it becomes the parent.
            In a process forked while a run was active (a ``multiprocessing`` pool),
            no run is active at first, and the run that was active in the forking
            thread becomes the parent.
        parent_run_id: the parent run, when not the active one.
        tags: initial tags.
        description: markdown notes for the run.
        force: resume ``run_id`` even while it is live in another process; both
            processes then log into it (params, tags, name, description and models of
            each are kept).

    Raises:
        ActiveRunError: a run is active and ``nested`` is False.
        RunInUseError: ``run_id`` is live (its process runs on this host, or its
            heartbeat is fresh) and ``force`` is False.
    """
    stack = _stack()
    if stack and not nested:
        raise ActiveRunError(
            f"run {stack[-1].run_id} is already active; end it with end_run() or pass "
            "nested=True to start a child run"
        )
    if nested and parent_run_id is None:
        parent_run_id = stack[-1].run_id if stack else _parent_run_id
    name = experiment_name or _current_experiment()
    run = get_store().start_run(
        name,
        run_name=run_name,
        tags=tags,
        description=description,
        parent_run_id=parent_run_id,
        run_id=run_id,
        force=force,
    )
    stack.append(run)
    return run


def active_run() -> Run | None:
    """The innermost active run of this thread, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def end_run(status: str = "FINISHED") -> None:
    """End the active run with ``status`` (FINISHED, FAILED or KILLED); no-op without one."""
    stack = _stack()
    if stack:
        stack[-1].end(status)  # first, so a bad status leaves the run active
        stack.pop()


def log_param(key: str, value: Any) -> Any:
    """Log a parameter of the active run; returns the value as stored."""
    return _active().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Log several parameters (nested dicts allowed) of the active run."""
    _active().log_params(params)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    """Append a metric value to the active run (step 0 and now by default)."""
    stack = getattr(_local, "stack", None)
    run = stack[-1] if stack and not stack[-1].ended else _active()
    run.log_metric(key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
) -> None:
    """Append several metric values to the active run."""
    _active().log_metrics(metrics, step, timestamp)


def set_tag(key: str, value: Any) -> None:
    """Set a tag of the active run."""
    _active().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags of the active run."""
    _active().set_tags(tags)


def delete_tag(key: str) -> None:
    """Delete a tag of the active run."""
    _active().delete_tag(key)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> Path:
    """Copy a file into the active run's artifacts."""
    return _active().log_artifact(local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None
) -> list[Path]:
    """Copy a folder's files into the active run's artifacts."""
    return _active().log_artifacts(local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> Path:
    """Write text as an artifact of the active run."""
    return _active().log_text(text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> Path:
    """Write a mapping as a JSON or YAML artifact of the active run."""
    return _active().log_dict(dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> Path:
    """Save a matplotlib figure or Altair chart as an artifact of the active run."""
    return _active().log_figure(figure, artifact_file)


def log_model(model: Any, artifact_path: str = "model", **descriptor: Any) -> Path:
    """Pickle a model into the active run with a ``model.yaml`` descriptor."""
    return _active().log_model(model, artifact_path, **descriptor)


def get_run(run_id: str) -> RunRecord:
    """Read a run by id or unique id prefix; its ``problems`` list what could not be read."""
    return get_store().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[MetricRow]:
    """Every logged value of metric ``key`` of a run (see :meth:`Store.get_metric_history`).

    Raises a ``MalformedRunError`` when the run's metrics.csv cannot be read at all.
    """
    return get_store().get_metric_history(run_id, key)


def search_runs(
    experiment_names: Sequence[str] | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[RunRecord]:
    """Search runs with MLflow's filter grammar; a DataFrame with MLflow's column names.

    Example: ``search_runs(["iris"], "metrics.accuracy > 0.9 and params.model = 'svm'",
    order_by=["metrics.accuracy DESC"])``.
    """
    return get_store().search_runs(
        experiment_names, filter_string, order_by, max_results, output_format
    )


def _current_experiment() -> str:
    """The experiment new runs go to."""
    return _experiment_name or os.environ.get("RUNFOLIO_EXPERIMENT") or DEFAULT_EXPERIMENT


def _active() -> Run:
    """The active run, starting one (as MLflow does) when there is none."""
    stack = _stack()
    return stack[-1] if stack else start_run()


def _before_fork() -> None:
    """Note the forking thread's active run, for the child (see :func:`_after_fork_in_child`)."""
    global _forking_run_id
    stack = getattr(_local, "stack", None)
    _forking_run_id = next((run.run_id for run in reversed(stack or []) if not run.ended), None)


def _after_fork_in_child() -> None:
    """Start a forked child with no active run and a free state lock.

    The runs active in the parent stay the parent's (:mod:`.lifecycle` detaches them);
    the one active in the forking thread becomes the default parent of nested runs.
    """
    global _state_lock, _parent_run_id
    _state_lock = threading.Lock()
    _parent_run_id = _forking_run_id
    stack = getattr(_local, "stack", None)
    if stack is not None:
        stack.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork()
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
