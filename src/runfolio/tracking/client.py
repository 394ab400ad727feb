"""``Store``: the explicit object API, for code that does not want global state."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runfolio.config import resolve_store
from runfolio.errors import ExperimentNotFoundError
from runfolio.query.runs import get_metric_history, get_run, search_runs
from runfolio.store.scan import find_run, list_experiments
from runfolio.tracking.experiments import ensure_experiment, find_experiment
from runfolio.tracking.run import Run

if TYPE_CHECKING:
    import pandas as pd

    from runfolio.store.metrics import MetricRow
    from runfolio.store.records import ExperimentRecord, RunRecord

# The read side (store.scan, its cache, query) is imported inside the methods that use
# it: a training script that only logs never loads it.


class Store:
    """A run store on disk: create experiments and runs, read them back.

    ``Store()`` resolves the store like the fluent API does (``RUNFOLIO_STORE``,
    ``runfolio.yaml``, else ``runs/`` at the repository root); ``Store(path)`` uses
    ``path``. Example::

        store = Store("runs")
        with store.start_run("iris", run_name="baseline") as run:
            run.log_params({"lr": 0.1})
            run.log_metric("loss", 0.42, step=1)
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_store(path)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def set_experiment(
        self,
        name: str,
        *,
        description: str | None = None,
        primary_metric: str | None = None,
        direction: Literal["minimize", "maximize"] | None = None,
    ) -> ExperimentRecord:
        """Return the experiment ``name``, creating it if needed; given settings are saved."""
        return ensure_experiment(
            self.root,
            name,
            description=description,
            primary_metric=primary_metric,
            direction=direction,
        )

    def get_experiment(self, name: str) -> ExperimentRecord:
        """Return the experiment called ``name``.

        Raises:
            ExperimentNotFoundError: there is none.
        """
        found = find_experiment(self.root, name) if self.root.is_dir() else None
        if found is None:
            raise ExperimentNotFoundError(f"no experiment named {name!r} in {self.root}")
        return found

    def list_experiments(self) -> list[ExperimentRecord]:
        """Every readable experiment of the store, by folder name."""
        return list_experiments(self.root)[0] if self.root.is_dir() else []

    def start_run(
        self,
        experiment: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        parent_run_id: str | None = None,
        run_id: str | None = None,
        force: bool = False,
    ) -> Run:
        """Start a new run in ``experiment`` (created if missing), or resume ``run_id``.

        When resuming, a given ``run_name`` renames the run, ``tags`` are set and
        ``description`` replaces the old one, as MLflow does for a resumed run. A run
        that is live in a process is refused unless ``force`` (see :meth:`Run.resume`).

        Raises:
            RunInUseError: ``run_id`` is live elsewhere and ``force`` is False.

        Returns:
            The live :class:`Run`; use it as a context manager or call ``end()``.
        """
        if run_id is not None:
            record, run_dir = find_run(self.root, run_id)
            run = Run.resume(record, run_dir, force=force)
            if run_name is not None:
                run.set_name(run_name)
            if tags:
                run.set_tags(tags)
            if description is not None:
                run.set_description(description)
            return run
        return Run.create(
            self.set_experiment(experiment),
            run_name=run_name,
            tags=tags,
            description=description,
            parent_run_id=parent_run_id,
        )

    def get_run(self, run_id: str) -> RunRecord:
        """Read a run by id or unique id prefix (see :func:`runfolio.query.runs.get_run`).

        The record's ``problems`` list what could not be read, metrics.csv included:
        unreadable rows, a foreign header, fewer rows than run.yaml's summary counts.
        """
        return get_run(self.root, run_id)

    def get_metric_history(self, run_id: str, key: str) -> list[MetricRow]:
        """Every logged value of one metric of a run, in logging order.

        Raises:
            MalformedRunError: the run's metrics.csv cannot be read at all.

        Rows that cannot be read are left out with a ``MetricHistoryWarning`` saying so.
        """
        return get_metric_history(self.root, run_id, key)

    def search_runs(
        self,
        experiment_names: Sequence[str] | None = None,
        filter_string: str = "",
        order_by: Sequence[str] | None = None,
        max_results: int | None = None,
        output_format: Literal["pandas", "list"] = "pandas",
    ) -> pd.DataFrame | list[RunRecord]:
        """Search runs with MLflow's filter grammar (see :func:`runfolio.query.runs.search_runs`).

        Returns a DataFrame, or run records with ``output_format="list"``.
        """
        return search_runs(
            self.root, experiment_names, filter_string, order_by, max_results, output_format
        )

    @property
    def path(self) -> Path:
        """The store folder."""
        return self.root
