"""The run handle: one live run, normally written by one process.

``Run`` is the object API; the fluent functions (``runfolio.log_metric`` ...) call the
active ``Run``. Every method validates its input before touching disk, so a bad call
raises and loses nothing already logged.

A run that is live elsewhere is only resumed when asked with ``force=True``; then several
processes write it. So that none loses another's params, tags, name, description or
models, every rewrite of ``params.yaml`` and ``run.yaml`` reads the file again, merges its
change and replaces the file under the run folder's lock (:mod:`runfolio.store.locking`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from runfolio.errors import (
    InvalidInputError,
    MalformedRunError,
    ParamConflictError,
    RunfolioError,
    StoreError,
)
from runfolio.store import layout
from runfolio.store.atomic import make_dir, write_bytes_atomic, write_text_atomic
from runfolio.store.liveness import effective_status
from runfolio.store.locking import folder_lock
from runfolio.store.metrics import (
    MetricsAppender,
    MetricSummary,
    csv_field,
    open_for_append,
    read_metrics,
    summarize,
    sync_metrics_file,
)
from runfolio.store.reader import read_yaml_mapping
from runfolio.store.records import ExperimentRecord, flatten, iso_to_ms, now_iso, same_value
from runfolio.store.run_document import RunDocument
from runfolio.store.serialize import dump_yaml
from runfolio.store.staging import publish_run_dir, stage_run_dir
from runfolio.tracking import artifacts, lifecycle, models
from runfolio.tracking.capture import capture_context
from runfolio.tracking.names import random_run_name
from runfolio.tracking.values import (
    INT64_MAX,
    INT64_MIN,
    metric_step,
    metric_value,
    plain_param,
    tag_value,
)

_ENDED_STATUSES = ("FINISHED", "FAILED", "KILLED")

_PROCESS_FIELDS = ("status", "end_time", "process", "metrics")
"""Fields of run.yaml that describe the writing process's life of the run: each write takes
them from that process's memory. Every other field is kept as it is on disk, and changed
only by the write's own edit (a tag set, the name ...)."""

_T = TypeVar("_T")

RunChange = Callable[[RunDocument], RunDocument]
"""An edit of run.yaml: the document as it is on disk in, the document to write out."""


class RunEndedError(RunfolioError):
    """Something was logged to a run after it ended."""


class RunInUseError(RunfolioError):
    """The run to resume is live in a process (``start_run(..., force=True)`` shares it)."""


class Run:
    """A live run. Create one with :meth:`Run.create` or :meth:`Run.resume`.

    Usable as a context manager: leaving the block ends the run as FINISHED, as FAILED
    when an exception escapes (the exception is re-raised), or as KILLED on
    KeyboardInterrupt or SIGTERM.
    """

    def __init__(
        self,
        experiment: ExperimentRecord,
        run_dir: Path,
        document: RunDocument,
        params: dict[str, Any],
        summaries: dict[str, MetricSummary],
    ) -> None:
        self.experiment = experiment
        self.path = run_dir
        self._document = document
        self._failure: dict[str, str] | None = None  # noted by record_failure, written by end
        self._params = params
        self._flat_params = flatten(params)
        self._summaries = summaries
        self._metric_prefixes: dict[str, str] = {}
        self._metrics_handle: MetricsAppender | None = None
        self._metrics_failure: OSError | None = None  # found by the heartbeat, raised next
        self._lock = threading.RLock()
        self._ended = False
        self._owner_pid = os.getpid()

    # -- creation -------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        experiment: ExperimentRecord,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        parent_run_id: str | None = None,
        capture: bool = True,
    ) -> Run:
        """Start a new run in ``experiment``: make its folder and write run.yaml.

        The folder is built under ``<experiment>/.creating/`` and renamed into place once
        run.yaml is in it, so a process killed while starting a run leaves no run folder
        without run.yaml (only a hidden leftover, removed by a later start after an hour).

        Raises:
            InvalidInputError: a bad name or tag; nothing is written.
            StoreError: the store is not writable.
        """
        name = layout.check_text(run_name, "run name") if run_name is not None else None
        checked_tags = _checked_tags(tags or {})
        if description is not None and not isinstance(description, str):
            raise InvalidInputError(f"description must be text, got {type(description).__name__}")
        if description:
            layout.check_utf8(description, "description")
        store_root = experiment.path.parent
        context = capture_context(store_root) if capture else None
        staging = stage_run_dir(experiment.path)
        run_id = staging.name
        document = RunDocument(
            id=run_id,
            name=name or random_run_name(),
            experiment=experiment.name,
            status="RUNNING",
            start_time=now_iso(),
            user=context.user if context else None,
            description=description or "",
            parent_run_id=parent_run_id,
            tags=checked_tags,
            source=context.source if context else {},
            git=context.git if context else {},
            environment=context.environment if context else {},
            process=lifecycle.process_info(),
        )
        run = cls(experiment, staging, document, {}, {})
        try:
            if context:
                try:
                    run._write_captured(context.git_patch, context.packages)
                except OSError as exc:
                    raise StoreError(f"cannot write run {staging}: {exc.strerror or exc}") from exc
            run._save_run_yaml()
            run.path = publish_run_dir(staging, experiment.path / run_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        lifecycle.register(run)
        return run

    @classmethod
    def resume(cls, experiment: ExperimentRecord, run_dir: Path, *, force: bool = False) -> Run:
        """Reopen an existing run for more logging (status goes back to RUNNING).

        Args:
            experiment: the run's experiment.
            run_dir: the run's folder.
            force: resume even when the run is live in another process (or in this
                one); both then write it, and params, tags, name, description and models
                written by either are kept.

        Raises:
            RunInUseError: the run is live (its process runs on this host, or its
                heartbeat is fresh) and ``force`` is False; nothing is written.
            MalformedRunError: its files cannot be read, or a field of its run.yaml that
                identifies it has the wrong type (the message names it).
            StoreError: the store is not writable.
        """
        # Checked and claimed under the folder's lock: of two processes resuming one
        # crashed run at once, the second finds it live and is refused.
        with folder_lock(run_dir):
            run_file = run_dir / layout.RUN_FILE
            document = RunDocument.from_yaml_dict(read_yaml_mapping(run_file), run_file)
            params_path = run_dir / layout.PARAMS_FILE
            params = read_yaml_mapping(params_path, empty_ok=True) if params_path.exists() else {}
            summaries = summarize(read_metrics(run_dir / layout.METRICS_FILE).rows)
            if not force:
                _refuse_if_live(run_dir, document, summaries)
            document = dataclasses.replace(
                document,
                status="RUNNING",
                end_time=None,
                process=lifecycle.process_info(),
                metrics=None,
            )
            run = cls(experiment, run_dir, document, params or {}, summaries)
            run._save_run_yaml_locked()
        lifecycle.register(run)
        return run

    # -- identity -------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """The run's id (also its folder name)."""
        return self._document.id

    @property
    def name(self) -> str:
        """The run's display name."""
        return self._document.name or self._document.id

    @property
    def status(self) -> str:
        """RUNNING until the run ends, then FINISHED, FAILED or KILLED."""
        return self._document.status

    @property
    def ended(self) -> bool:
        """Whether :meth:`end` has been called."""
        return self._ended

    @property
    def artifact_dir(self) -> Path:
        """The folder holding the run's artifacts."""
        return self.path / layout.ARTIFACTS_DIR

    @property
    def data(self) -> dict[str, Any]:
        """A copy of what run.yaml holds now."""
        return self._document.to_yaml_dict()

    @property
    def params(self) -> dict[str, Any]:
        """A copy of the params logged so far (nested as logged)."""
        return dict(self._params)

    def __repr__(self) -> str:
        return f"<Run {self.run_id} {self.name!r} {self.status}>"

    # -- params ---------------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> Any:
        """Log one parameter; logging it again with the same value is a no-op.

        Returns:
            The value as stored.

        Raises:
            ParamConflictError: the param already holds a different value.
            InvalidInputError: a bad key or value.
        """
        self.log_params({key: value})
        # "a.b" may already be stored nested (a: {b: ...}), as the same param
        return self._params[key] if key in self._params else self._flat_params[key]

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log several parameters at once (nested mappings allowed) in one write.

        Raises:
            ParamConflictError: naming every param whose value would change; nothing
                is written in that case.
            InvalidInputError: a bad key or value; nothing is written.
        """
        if not isinstance(params, Mapping):
            raise InvalidInputError(f"params must be a mapping, got {type(params).__name__}")
        incoming = {layout.check_key(k, "param"): plain_param(k, v) for k, v in params.items()}
        new_flat = flatten(incoming)
        within = _clashes_within(incoming, new_flat)
        with self._lock, folder_lock(self.path):
            # Read again under the lock: another process sharing the run may have logged
            # params since, and they must be neither lost nor contradicted.
            on_disk = self._read_params()
            current = _deep_merge(on_disk, self._params)
            current_flat = flatten(current)
            conflicts = [
                f"{key!r} is {current_flat[key]!r}, not {value!r}"
                for key, value in new_flat.items()
                if key in current_flat and not same_value(current_flat[key], value)
            ]
            conflicts += _structure_conflicts(current_flat, new_flat)
            if conflicts or within:
                raise ParamConflictError(
                    f"params of run {self.run_id} cannot change once logged: "
                    f"{'; '.join(conflicts + within)}. Start a new run to try other values."
                )
            fresh = {k: v for k, v in new_flat.items() if k not in current_flat}
            if fresh or current != on_disk:
                self._check_open()
                merged = _deep_merge(current, incoming)
                self._write(self.path / layout.PARAMS_FILE, dump_yaml(merged))
                current, current_flat = merged, {**current_flat, **fresh}
            self._params = current
            self._flat_params = current_flat

    # -- metrics --------------------------------------------------------------------

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Append one metric value (step defaults to 0 and timestamp to now, as in MLflow).

        The row is handed to the operating system before this returns, so it survives
        the process being killed; it reaches the disk at the next heartbeat (at most a
        second's worth of rows is synced at once) or when the run ends.

        Raises:
            InvalidInputError: a bad key, a non-numeric value or a non-integer step.
            StoreError: the row could not be written (disk full, run folder deleted ...);
                nothing of it is in metrics.csv, so the call can be retried.
        """
        try:
            prefix = self._metric_prefixes.get(key) or self._metric_prefix(key)
        except TypeError:  # an unhashable key (a list, a dict) never reaches check_key
            raise InvalidInputError(f"metric key must be a string, got {key!r}") from None
        if type(value) is not float:
            value = metric_value(key, value)
        if step is None:
            step = 0
        elif type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
            step = metric_step(key, step)
        stamp = (
            time.time_ns() // 1_000_000
            if timestamp is None
            else metric_step(key, timestamp, "timestamp")
        )
        with self._lock:
            handle = self._metrics_handle or self._open_metrics()
            try:
                handle.write(f"{prefix}{step},{value!r},{stamp}\n")
            except OSError as exc:  # disk full, file deleted, file system read-only ...
                raise self._metrics_write_error(exc) from exc
            summary = self._summaries.get(key)
            if summary is None:
                self._summaries[key] = MetricSummary.first(value, step, stamp)
            else:
                summary.add(value, step, stamp)

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Append several metric values with one step and timestamp, in one write.

        Raises:
            InvalidInputError: any bad key or value; then no row is written.
            StoreError: the rows could not be written; none of them is in metrics.csv.
        """
        if not isinstance(metrics, Mapping):
            raise InvalidInputError(f"metrics must be a mapping, got {type(metrics).__name__}")
        rows = [
            (key, self._metric_prefixes.get(key) or self._metric_prefix(key), metric_value(key, v))
            for key, v in metrics.items()
        ]
        first = next(iter(metrics), "")
        step_value = 0 if step is None else metric_step(first, step)
        stamp = (
            time.time_ns() // 1_000_000
            if timestamp is None
            else metric_step(first, timestamp, "timestamp")
        )
        text = "".join(f"{prefix}{step_value},{value!r},{stamp}\n" for _, prefix, value in rows)
        with self._lock:
            handle = self._metrics_handle or self._open_metrics()
            try:
                handle.write(text)  # every row, or (raising) none
            except OSError as exc:
                raise self._metrics_write_error(exc) from exc
            for key, _, value in rows:
                summary = self._summaries.get(key)
                if summary is None:
                    self._summaries[key] = MetricSummary.first(value, step_value, stamp)
                else:
                    summary.add(value, step_value, stamp)

    def metric_summaries(self) -> dict[str, dict[str, Any]]:
        """The summary (last, step, min, max, count) of every metric logged so far."""
        with self._lock:
            return {key: s.to_dict() for key, s in sorted(self._summaries.items())}

    # -- tags and notes -------------------------------------------------------------

    def set_tag(self, key: str, value: Any) -> None:
        """Set one tag (tags are mutable text)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags in one write."""
        checked = _checked_tags(tags)

        def change(document: RunDocument) -> RunDocument:
            return dataclasses.replace(document, tags={**document.tags, **checked})

        with self._lock:
            self._check_open()
            self._save_run_yaml(change)

    def delete_tag(self, key: str) -> None:
        """Remove a tag.

        Raises:
            InvalidInputError: the run has no such tag (as MLflow raises).
        """

        def change(document: RunDocument) -> RunDocument:
            tags = document.tags
            if key not in tags:
                raise InvalidInputError(f"run {self.run_id} has no tag {key!r} to delete")
            return dataclasses.replace(document, tags={k: v for k, v in tags.items() if k != key})

        with self._lock:
            self._check_open()
            self._save_run_yaml(change)

    def set_name(self, name: str) -> None:
        """Rename the run (its id, and so its folder, stays)."""
        layout.check_text(name, "run name")
        with self._lock:
            self._check_open()
            self._save_run_yaml(lambda document: dataclasses.replace(document, name=name))

    def set_description(self, text: str) -> None:
        """Replace the run's description (markdown notes shown on its page)."""
        if not isinstance(text, str):
            raise InvalidInputError(f"description must be text, got {type(text).__name__}")
        layout.check_utf8(text, "description")
        with self._lock:
            self._check_open()
            self._save_run_yaml(lambda document: dataclasses.replace(document, description=text))

    # -- artifacts and models -------------------------------------------------------

    def log_artifact(
        self, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> Path:
        """Copy a file into the run's artifacts (under ``artifact_path`` when given).

        Returns:
            Where the copy now lives.

        Raises:
            InvalidInputError: the file is missing or ``artifact_path`` leaves the run.
        """
        self._check_open()
        return self._storing(
            lambda: artifacts.copy_file(self.artifact_dir, local_path, artifact_path)
        )

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[Path]:
        """Copy every file under ``local_dir`` into the run's artifacts, keeping the layout."""
        self._check_open()
        return self._storing(
            lambda: artifacts.copy_tree(self.artifact_dir, local_dir, artifact_path)
        )

    def log_text(self, text: str, artifact_file: str) -> Path:
        """Write ``text`` as an artifact file (UTF-8)."""
        self._check_open()
        return self._storing(lambda: artifacts.write_text(self.artifact_dir, text, artifact_file))

    def log_dict(self, dictionary: Mapping[str, Any], artifact_file: str) -> Path:
        """Write a mapping as a JSON or YAML artifact, chosen by the file extension."""
        self._check_open()
        return self._storing(
            lambda: artifacts.write_dict(self.artifact_dir, dictionary, artifact_file)
        )

    def log_figure(self, figure: Any, artifact_file: str) -> Path:
        """Save a matplotlib figure or an Altair chart; the extension picks the format."""
        self._check_open()
        return self._storing(
            lambda: artifacts.write_figure(self.artifact_dir, figure, artifact_file)
        )

    def log_model(self, model: Any, artifact_path: str = "model", **descriptor: Any) -> Path:
        """Pickle ``model`` into its own artifact folder with a ``model.yaml`` descriptor.

        Extra keyword arguments (e.g. ``input_example``, ``description``) go into the
        descriptor. Returns the model folder.
        """
        self._check_open()
        folder = self._storing(
            lambda: models.save_model(self.artifact_dir, model, artifact_path, descriptor)
        )
        name = str(models.model_folder_name(artifact_path))  # "model/" is "model"

        def change(document: RunDocument) -> RunDocument:
            logged = [m for m in document.models or () if m != name]
            return dataclasses.replace(document, models=tuple(sorted([*logged, name])))

        with self._lock:
            self._save_run_yaml(change)
        return folder

    # -- ending ---------------------------------------------------------------------

    def end(self, status: str = "FINISHED") -> None:
        """End the run: write the metric summary, end time and final status to run.yaml.

        metrics.csv reaches the disk first, and the summary is computed from what it
        holds, so run.yaml never counts a row the file lacks. Ending an ended run does
        nothing; after a failure (disk full ...) the run is still live and ``end`` can be
        called again.

        Raises:
            InvalidInputError: ``status`` is not FINISHED, FAILED or KILLED.
            StoreError: metrics.csv or run.yaml could not be written.
        """
        if status not in _ENDED_STATUSES:
            raise InvalidInputError(
                f"a run ends as one of {', '.join(_ENDED_STATUSES)}, not {status!r}"
            )
        with self._lock:
            if self._ended:
                return
            metrics_path = self.path / layout.METRICS_FILE
            try:
                if self._metrics_handle is not None:
                    self._metrics_handle.sync()
                else:  # none logged, or the handle was dropped after a failed write
                    sync_metrics_file(metrics_path)
            except OSError as exc:
                raise self._metrics_write_error(exc) from exc
            summaries = summarize(read_metrics(metrics_path).rows)
            end_time = now_iso()
            metrics = {k: s.to_dict() for k, s in summaries.items()}

            def finish(document: RunDocument) -> RunDocument:
                failure = document.failure
                if status != "FAILED":  # a resumed run's earlier failure no longer applies
                    failure = None
                elif self._failure is not None:
                    failure = self._failure
                return dataclasses.replace(
                    document, status=status, end_time=end_time, metrics=metrics, failure=failure
                )

            # Merged into run.yaml as it is on disk, so another writer's tags survive.
            self._save_run_yaml(finish)
            # Only now is the run ended: a failure above leaves it live, to end again.
            self._summaries = summaries
            self._ended = True
            lifecycle.unregister(self)
            if self._metrics_handle is not None:
                with contextlib.suppress(OSError):
                    self._metrics_handle.close()
                self._metrics_handle = None
            lifecycle.remove_heartbeat(self.path)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        status = lifecycle.status_for_exception(exc)
        if status == "FAILED" and exc is not None:
            self.record_failure(exc)
        self.end(status)

    def record_failure(self, exc: BaseException) -> None:
        """Note in run.yaml why the run failed, before it ends as FAILED.

        The ``failure`` mapping (type, message, last lines of the traceback: see
        :func:`runfolio.tracking.lifecycle.describe_failure`) is written by :meth:`end`;
        an ended run is left as it is.
        """
        failure = lifecycle.describe_failure(exc)
        with self._lock:
            if not self._ended:
                self._failure = failure

    # -- internals ------------------------------------------------------------------

    def detach_after_fork(self) -> None:
        """Make this copy of the parent's run inert in a child made by ``fork()``.

        Called by :mod:`.lifecycle` in the child: the copy neither logs, heartbeats nor
        ends the run (the parent does), and its lock, which another thread of the
        parent may have held at the fork, is replaced.
        """
        self._lock = threading.RLock()
        # The parent's open metrics.csv: rows written through it would interleave.
        self._metrics_handle = None
        self._ended = True

    def write_heartbeat(self) -> None:
        """Record that the run is alive, and sync metrics.csv to disk (heartbeat thread).

        The sync runs at most once a second, so ``log_metric`` itself never waits for
        the disk. A metrics.csv found deleted is remembered: the next ``log_metric``
        raises.
        """
        with self._lock:
            if self._ended:
                return
            if self._metrics_handle is not None:
                try:
                    self._metrics_handle.sync(min_interval=1.0)
                except OSError as exc:
                    self._metrics_failure = exc
                    self._metrics_write_error(exc)  # drops the handle
            write_text_atomic(self.path / layout.HEARTBEAT_FILE, now_iso() + "\n")

    def _metric_prefix(self, key: str) -> str:
        """Validate a metric key once and remember its CSV prefix."""
        layout.check_key(key, "metric")
        prefix = csv_field(key) + ","
        self._metric_prefixes[key] = prefix
        return prefix

    def _open_metrics(self) -> MetricsAppender:
        """Open metrics.csv for appending on first use (or again after a failed write)."""
        self._check_open()
        failure, self._metrics_failure = self._metrics_failure, None
        if failure is not None:  # the heartbeat found the file deleted
            raise self._metrics_write_error(failure)
        try:
            self._metrics_handle = open_for_append(self.path / layout.METRICS_FILE)
        except OSError as exc:
            raise self._metrics_write_error(exc) from exc
        return self._metrics_handle

    def _metrics_write_error(self, exc: OSError) -> StoreError:
        """The StoreError reporting that metrics.csv could not be written.

        The handle is dropped: the next call opens the file again by its path, which
        checks it afresh (a torn row cut off, a deleted folder noticed).
        """
        handle, self._metrics_handle = self._metrics_handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
        return StoreError(f"cannot write {self.path / layout.METRICS_FILE}: {exc.strerror or exc}")

    def _check_open(self) -> None:
        """Refuse to log into an ended run."""
        if self._ended and self._owner_pid != os.getpid():
            raise RunEndedError(
                f"run {self.run_id} belongs to process {self._owner_pid}, which forked this "
                "one; start a run here (start_run(nested=True) makes it that run's child)"
            )
        if self._ended:
            raise RunEndedError(
                f"run {self.run_id} has ended ({self.status}); resume it with start_run(run_id=...)"
            )

    def _save_run_yaml(self, change: RunChange | None = None) -> None:
        """Merge this process's changes (and ``change``) into run.yaml, under the folder lock.

        See :meth:`_save_run_yaml_locked`.
        """
        with self._lock, folder_lock(self.path):
            self._save_run_yaml_locked(change)

    def _save_run_yaml_locked(self, change: RunChange | None = None) -> None:
        """Rewrite run.yaml as it is on disk now, with this process's fields and ``change``.

        The caller holds the folder lock. The process fields come from memory; every
        other field keeps what is on disk, so another writer's tags or name survive, and
        is changed only by ``change`` (which may raise: nothing is written). Memory is
        left holding what was written.
        """
        path = self.path / layout.RUN_FILE
        on_disk: dict[str, Any] | None = None
        document = self._document
        try:
            on_disk = read_yaml_mapping(path)
            document = RunDocument.from_yaml_dict(on_disk, path)
        except MalformedRunError:  # gone or unreadable: this process's view is all there is
            pass
        mine = {name: getattr(self._document, name) for name in _PROCESS_FIELDS}
        document = dataclasses.replace(document, **mine)
        if change is not None:
            document = change(document)
        data = document.to_yaml_dict()
        if data != on_disk:
            self._write(path, dump_yaml(data))
        self._document = document

    def _read_params(self) -> dict[str, Any]:
        """params.yaml as it is on disk now (this process's params when unreadable)."""
        path = self.path / layout.PARAMS_FILE
        try:
            return read_yaml_mapping(path, empty_ok=True) if path.exists() else {}
        except MalformedRunError:
            return self._params

    def _write(self, path: Path, text: str) -> None:
        """Replace a metadata file atomically, as a StoreError on failure."""
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc

    def _write_captured(self, git_patch: bytes, packages: str) -> None:
        """Write the auto-captured files and point run.yaml at them."""
        captured = self.path / layout.CAPTURED_DIR
        make_dir(captured)
        write_text_atomic(captured / layout.PACKAGES_FILE, packages)
        document = self._document
        environment = {**document.environment, "packages": _relative(layout.PACKAGES_FILE)}
        git = document.git
        if git_patch:
            write_bytes_atomic(captured / layout.GIT_PATCH_FILE, git_patch)
            git = {**git, "patch": _relative(layout.GIT_PATCH_FILE)}
        self._document = dataclasses.replace(document, environment=environment, git=git)

    def _storing(self, action: Callable[[], _T]) -> _T:
        """Run an artifact write, turning OS failures into StoreError."""
        try:
            return action()
        except OSError as exc:
            raise StoreError(f"cannot write artifacts of run {self.run_id}: {exc}") from exc


def _refuse_if_live(
    run_dir: Path, document: RunDocument, summaries: dict[str, MetricSummary]
) -> None:
    """Raise RunInUseError when run.yaml says RUNNING and the run still shows signs of life."""
    if document.status != "RUNNING":
        return
    process = dict(document.process)
    started = iso_to_ms(document.start_time)
    last_activity = max([started, *(s.timestamp for s in summaries.values())])
    if effective_status("RUNNING", run_dir, process, last_activity) != "RUNNING":
        return  # crashed (or never heard of since): resuming it is what it needs
    where = f"process {process.get('pid')} on {process.get('host')}"
    raise RunInUseError(
        f"run {run_dir.name} is live ({where}, RUNNING with a recent heartbeat); "
        "end it there first, or pass force=True to log into it from both processes"
    )


def _relative(name: str) -> str:
    """Path of a captured file relative to the run folder."""
    return f"{layout.CAPTURED_DIR}/{name}"


def _checked_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """Validate tag keys and turn values into text."""
    if not isinstance(tags, Mapping):
        raise InvalidInputError(f"tags must be a mapping, got {type(tags).__name__}")
    return {layout.check_key(k, "tag"): tag_value(k, v) for k, v in tags.items()}


def _structure_conflicts(existing: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Describe new params that would turn a group of params into a value or back."""
    groups = {key.rsplit(".", 1)[0] for key in existing if "." in key}
    new_groups = {key.rsplit(".", 1)[0] for key in new if "." in key}
    clashes = [k for k in new if k not in existing and _is_group(k, groups)]
    clashes += [k for k in existing if k not in new and _is_group(k, new_groups)]
    return [f"{key!r} cannot be both a value and a group of params" for key in sorted(set(clashes))]


def _clashes_within(params: dict[str, Any], flat: dict[str, Any]) -> list[str]:
    """Describe params of one call naming a key twice, or as both a value and a group."""
    if not any("." in key for key in flat):
        return []  # without a dotted key nothing can clash
    groups = {key.rsplit(".", 1)[0] for key in flat if "." in key}
    clashes = [
        f"{k!r} cannot be both a value and a group of params" for k in flat if _is_group(k, groups)
    ]
    counts = Counter(_flat_keys(params))
    clashes += [f"{k!r} is given twice" for k, n in counts.items() if n > 1]
    return sorted(clashes)


def _flat_keys(params: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Yield the dotted key of every param as :func:`flatten` names it, repeats included."""
    for key, value in params.items():
        if isinstance(value, dict) and value:
            yield from _flat_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _is_group(key: str, groups: set[str]) -> bool:
    """Tell whether ``key`` names a group (a prefix of dotted keys) in ``groups``."""
    return any(group == key or group.startswith(key + ".") for group in groups)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Merge nested param dicts (keys already checked not to conflict)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        elif key not in merged:
            merged[key] = value
    return merged
