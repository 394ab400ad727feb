"""Writing runs that come from another tool into a store, in the store's own format.

Imported runs are not written through :class:`runfolio.tracking.run.Run`: their id,
times, status and user come from the source, nothing is captured from this machine, and
a second import merges into the folder of the first. A merge only ever adds: metric
rows not already in ``metrics.csv``, params not yet logged, tags (the source's value
wins for the keys it has; other tags stay), artifact files that are missing. Every YAML
file is replaced atomically and ``metrics.csv`` is appended in batches; a new run's
folder is built out of sight and renamed into place once its ``run.yaml`` is written.
So an import that is stopped half way leaves a store that reads, and running it again
completes it.

Keys are kept as the source spells them (MLflow and DVCLive both allow ``train/loss``);
only keys no reader could handle (empty, control characters, over 250 characters) are
refused, with a problem naming them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from runfolio.errors import InvalidInputError, MalformedRunError, StoreError
from runfolio.store import FORMAT_VERSION, layout
from runfolio.store.atomic import (
    copy_file_atomic,
    create_text_exclusive,
    make_dir,
    move_file_atomic,
    write_text_atomic,
)
from runfolio.store.metrics import (
    HEADER,
    MetricRow,
    MetricSummary,
    csv_field,
    open_for_append,
    parse_metrics,
)
from runfolio.store.reader import (
    iter_experiment_dirs,
    read_experiment,
    read_yaml_file,
)
from runfolio.store.records import ExperimentRecord, flatten, ms_to_iso, now_iso, same_value
from runfolio.store.run_document import RunDocument
from runfolio.store.serialize import dump_yaml
from runfolio.store.staging import publish_run_dir, stage_run_dir
from runfolio.tracking.experiments import ensure_experiment, experiment_dirs, find_experiment

_BATCH_ROWS = 10_000
_READ_BLOCK_LINES = 50_000
STAGING_PREFIX = ".import-"
"""Hidden folder inside a run where downloads land before they are moved into place."""


def derived_run_id(start_ms: int, source_id: str) -> str:
    """The runfolio id of a run imported from elsewhere: its start second, then a hash.

    ``YYYYMMDD-HHMMSS-<first 10 hex of sha256(source_id)>``, so importing the same run
    again yields the same id.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(start_ms / 1000))
    digest = hashlib.sha256(source_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{stamp}-{digest}"


def index_runs(root: Path) -> dict[str, Path]:
    """Map every run id of the store to its folder (folder names only: nothing is read)."""
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for exp_dir in iter_experiment_dirs(root):
        with os.scandir(exp_dir) as entries:
            for entry in entries:
                if layout.is_run_id(entry.name) and entry.is_dir(follow_symlinks=False):
                    found.setdefault(entry.name, Path(entry.path))
    return found


def ensure_experiment_from(
    root: Path, name: str, description: str | None, created_ms: int | None
) -> tuple[ExperimentRecord, bool]:
    """Find or create the experiment ``name``, keeping the source's creation time.

    A new experiment gets ``created`` from the source; an existing one keeps its own
    and takes the source's description when one is given. Returns the experiment and
    whether it was created now.

    Raises:
        InvalidInputError: a name the store cannot hold.
        StoreError: the store cannot be written.
    """
    layout.check_text(name, "experiment name")
    try:
        make_dir(root, parents=True, exist_ok=True)
        if find_experiment(root, name) is None:
            data = {
                "format": FORMAT_VERSION,
                "name": name,
                "description": description or "",
                "created": ms_to_iso(created_ms) if created_ms is not None else now_iso(),
                "primary_metric": None,
            }
            for folder in experiment_dirs(root, name):
                path = folder / layout.EXPERIMENT_FILE
                if not path.exists():
                    make_dir(folder, parents=True, exist_ok=True)
                    if create_text_exclusive(path, dump_yaml(data)):
                        return read_experiment(folder), True
                if read_experiment(folder).name == name:
                    break  # a concurrent writer made it meanwhile
    except OSError as exc:
        raise StoreError(f"cannot write experiment {name!r} in {root}: {exc}") from exc
    return ensure_experiment(root, name, description=description or None), False


def key_problem(key: str) -> str | None:
    """Why a metric, param or tag key from another tool cannot be stored, or None."""
    if not isinstance(key, str) or not key.strip():
        return "it is empty"
    if len(key) > layout.MAX_KEY_LENGTH:
        return f"it is longer than {layout.MAX_KEY_LENGTH} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        return "it holds control characters"
    return None


def iter_metric_rows(path: Path) -> Iterator[MetricRow]:
    """Yield the rows of a ``metrics.csv`` a block at a time (memory stays bounded).

    Malformed rows are skipped as :func:`runfolio.store.metrics.read_metrics` skips them.
    """
    try:
        handle = open(path, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115
    except FileNotFoundError:
        return
    with handle:
        if handle.readline().rstrip("\r\n") != HEADER.rstrip("\n"):
            return
        block: list[str] = []
        for line in handle:
            block.append(line)
            if len(block) >= _READ_BLOCK_LINES:
                yield from parse_metrics(HEADER + "".join(block)).rows
                block.clear()
        if block:
            yield from parse_metrics(HEADER + "".join(block)).rows


@dataclass
class RunFields:
    """What a source says about a run, in the terms of ``run.yaml``."""

    name: str
    status: str
    start_ms: int
    end_ms: int | None
    user: str | None = None
    description: str = ""
    parent_run_id: str | None = None
    tags: Mapping[str, str] | None = None
    source: Mapping[str, Any] | None = None
    git: Mapping[str, Any] | None = None


class RunMerge:
    """One imported run being written into (or merged with) its folder.

    Use :meth:`add_params`, :meth:`add_metric_rows` and :meth:`add_artifact`, then
    :meth:`finish`, which writes ``run.yaml`` last. A new run is built in its
    experiment's hidden ``.creating/`` folder (:mod:`runfolio.store.staging`) and
    renamed into place by :meth:`finish`: an interrupted import leaves no run folder
    without ``run.yaml``, and the next import starts that run over. ``path`` is where
    the run is being written (its final folder after :meth:`finish`).

    Raises (on creation):
        MalformedRunError: the run's ``run.yaml`` or ``params.yaml`` cannot be read, or
            a field of ``run.yaml`` that identifies the run has the wrong type; the
            file is then left as it is.
    """

    def __init__(self, experiment: ExperimentRecord, run_dir: Path) -> None:
        self.experiment = experiment
        self.created = not run_dir.exists()
        # A new run is built in the experiment's staging folder and renamed into place
        # by finish(), as start_run does, so a kill leaves no run folder without run.yaml.
        self._final: Path | None = run_dir if self.created else None
        self.path = stage_run_dir(experiment.path, run_dir.name) if self.created else run_dir
        self.changed = False
        self.problems: list[str] = []
        self.rows_written = 0
        self.params_written = 0
        self.files_written = 0
        run_file = run_dir / layout.RUN_FILE
        # As read, to tell whether finish() changes the file, and as checked, to merge into.
        self._existing_data: dict[str, Any] | None = None
        self._existing: RunDocument | None = None
        if run_file.exists():
            self._existing_data = read_yaml_file(run_file)
            self._existing = RunDocument.from_yaml_dict(self._existing_data, run_file)
        params_file = run_dir / layout.PARAMS_FILE
        params = read_yaml_file(params_file) if params_file.exists() else {}
        if params is not None and not isinstance(params, dict):
            raise MalformedRunError(f"{params_file}: expected a mapping at the top level")
        self._params: dict[str, Any] = params or {}
        self._summaries: dict[str, MetricSummary] | None = None
        self._seen: set[tuple[str, int, int, str]] | None = None

    @property
    def run_id(self) -> str:
        """The run's id (its folder name)."""
        return self.path.name

    @property
    def existing(self) -> RunDocument | None:
        """What ``run.yaml`` held before this import (None for a new run)."""
        return self._existing

    def holds(self, status: str, end_ms: int | None, latest: Mapping[str, float]) -> bool:
        """Tell whether the stored run already has this end and these latest values.

        A run that ended in the store with the same end time and the same latest value
        of every metric needs no metric history fetched again.
        """
        document = self._existing
        if document is None or document.status != status or status == "RUNNING":
            return False
        if document.end_time != (ms_to_iso(end_ms) if end_ms is not None else None):
            return False
        metrics = document.metrics
        if metrics is None or set(metrics) != set(latest):
            return False
        return all(
            same_value(metrics[key].get("last"), float(value)) for key, value in latest.items()
        )

    # -- params -----------------------------------------------------------------------

    def add_params(self, params: Mapping[str, Any]) -> None:
        """Add params the run does not have; a param that differs is kept and reported.

        Nested mappings (DVCLive's ``optimizer: {name: Adam}``) are compared by their
        dotted names, as search flattens them.
        """
        checked: dict[str, Any] = {}
        for key, value in params.items():
            problem = key_problem(key)
            if problem:
                self.problems.append(f"run {self.run_id}: param {key!r} left out: {problem}")
            else:
                checked[key] = value
        stored = flatten(self._params)
        fresh = 0
        for key, value in flatten(checked).items():
            if key not in stored:
                fresh += 1
            elif not same_value(stored[key], value):
                self.problems.append(
                    f"run {self.run_id}: param {key!r} is {stored[key]!r} in the store and "
                    f"{value!r} in the source; the store's value is kept"
                )
        if fresh:
            self._params = _merge_missing(self._params, checked)
            self._write(self.path / layout.PARAMS_FILE, dump_yaml(self._params))
            self.params_written += fresh
            self.changed = True

    # -- metrics ----------------------------------------------------------------------

    def add_metric_rows(self, rows: Iterable[tuple[str, int, float, int]]) -> None:
        """Append ``(key, step, value, timestamp)`` rows not already in ``metrics.csv``.

        Rows are written in batches; for a run that already has rows, each is compared
        with the stored ones (same key, step, timestamp and value bits) first.
        """
        self._load_metrics(need_seen=not self.created)
        summaries = self._summaries
        assert summaries is not None
        seen = self._seen
        batch: list[str] = []
        refused: set[str] = set()
        handle = None
        try:
            for key, step, value, stamp in rows:
                value = float(value)
                if key in refused:
                    continue
                problem = key_problem(key)
                if problem:
                    refused.add(key)
                    self.problems.append(f"run {self.run_id}: metric {key!r} left out: {problem}")
                    continue
                if seen is not None:
                    identity = (key, step, stamp, repr(value))
                    if identity in seen:
                        continue
                    seen.add(identity)
                batch.append(f"{csv_field(key)},{step},{value!r},{stamp}\n")
                summary = summaries.get(key)
                if summary is None:
                    summaries[key] = MetricSummary.first(value, step, stamp)
                else:
                    summary.add(value, step, stamp)
                if len(batch) >= _BATCH_ROWS:
                    handle = handle or self._open_metrics()
                    self._flush(handle, batch)
            if batch:
                handle = handle or self._open_metrics()
                self._flush(handle, batch)
            if handle is not None:  # on disk before finish() writes the summary into run.yaml
                try:
                    handle.sync()
                except OSError as exc:
                    raise StoreError(f"cannot write {handle.path}: {exc}") from exc
        finally:
            if handle is not None:
                handle.close()

    def _open_metrics(self) -> Any:
        """Open metrics.csv for appending (header written when new)."""
        try:
            return open_for_append(self.path / layout.METRICS_FILE)
        except OSError as exc:
            raise StoreError(f"cannot write {self.path / layout.METRICS_FILE}: {exc}") from exc

    def _flush(self, handle: Any, batch: list[str]) -> None:
        """Write a batch of rows in one call and empty it."""
        try:
            handle.write("".join(batch))
        except OSError as exc:
            raise StoreError(f"cannot write {self.path / layout.METRICS_FILE}: {exc}") from exc
        self.rows_written += len(batch)
        self.changed = True
        batch.clear()
        self._keep_fresh()

    def _load_metrics(self, *, need_seen: bool) -> None:
        """Summarise the stored rows (and remember them, when rows will be compared)."""
        if self._summaries is not None and (self._seen is not None or not need_seen):
            return
        summaries: dict[str, MetricSummary] = {}
        seen: set[tuple[str, int, int, str]] | None = set() if need_seen else None
        for row in iter_metric_rows(self.path / layout.METRICS_FILE):
            if seen is not None:
                seen.add((row.key, row.step, row.timestamp, repr(row.value)))
            summary = summaries.get(row.key)
            if summary is None:
                summaries[row.key] = MetricSummary.first(row.value, row.step, row.timestamp)
            else:
                summary.add(row.value, row.step, row.timestamp)
        self._summaries, self._seen = summaries, seen

    # -- artifacts --------------------------------------------------------------------

    def staging_dir(self) -> Path:
        """A fresh hidden folder inside the run for downloads (readers ignore it)."""
        folder = self.path / f"{STAGING_PREFIX}{os.getpid()}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return folder

    def has_artifact(self, relative: str) -> bool:
        """Tell whether ``artifacts/<relative>`` exists already."""
        try:
            checked = layout.check_artifact_path(relative)
        except Exception:
            return False
        return layout.artifact_file(self.path, checked).exists()

    def add_artifact(self, relative: str, source: Path, *, move: bool = False) -> bool:
        """Put ``source`` at ``artifacts/<relative>`` unless a file is there already.

        Returns whether the file was added. A path that would leave the run, or a
        write through a symlink, is refused and reported.
        """
        try:
            checked = layout.check_artifact_path(relative)
        except InvalidInputError as exc:
            self.problems.append(f"run {self.run_id}: artifact left out: {exc}")
            return False
        if not checked.parts:
            return False
        target = layout.artifact_file(self.path, checked)
        if target.exists() or target.is_symlink():
            return False
        if _through_symlink(self.path / layout.ARTIFACTS_DIR, checked):
            self.problems.append(
                f"run {self.run_id}: artifact {relative!r} left out: its folder is a symlink"
            )
            return False
        try:
            make_dir(target.parent, parents=True, exist_ok=True)
            if move:
                move_file_atomic(source, target)
            else:
                copy_file_atomic(source, target)
        except OSError as exc:
            raise StoreError(f"cannot write artifact {target}: {exc}") from exc
        self.files_written += 1
        self.changed = True
        self._keep_fresh()
        return True

    def model_folders(self) -> list[str]:
        """Folders under ``artifacts/`` that hold a ``model.yaml`` (outermost only)."""
        base = self.path / layout.ARTIFACTS_DIR
        found: list[str] = []
        if not base.is_dir():
            return found
        for current, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            if layout.MODEL_DESCRIPTOR_FILE in files and Path(current) != base:
                found.append(Path(current).relative_to(base).as_posix())
                dirs[:] = []
        return sorted(found)

    # -- run.yaml ---------------------------------------------------------------------

    def finish(self, fields: RunFields) -> None:
        """Write ``run.yaml`` from ``fields`` merged over what the store had.

        Keys the source does not know (``environment``, ``process``, fields added by
        later format versions) are kept; tags are merged with the source's winning.
        The file is written only when something changed.
        """
        old = self._existing
        changes: dict[str, Any] = {
            "name": fields.name,
            "status": fields.status,
            "start_time": ms_to_iso(fields.start_ms),
            "end_time": ms_to_iso(fields.end_ms) if fields.end_ms is not None else None,
            "user": fields.user,
            "description": fields.description or "",
            "parent_run_id": fields.parent_run_id,
            "tags": {**(old.tags if old else {}), **dict(fields.tags or {})},
            "source": dict(fields.source or (old.source if old else {})),
            "git": dict(fields.git or (old.git if old else {})),
        }
        models = self.model_folders()
        if models:
            changes["models"] = tuple(models)
        if fields.status == "RUNNING":
            changes["metrics"] = None
        elif self._summaries is not None or old is None or old.metrics is None:
            self._load_metrics(need_seen=False)
            assert self._summaries is not None
            changes["metrics"] = {k: s.to_dict() for k, s in sorted(self._summaries.items())}
        if old is None:
            document = RunDocument(id=self.run_id, experiment=self.experiment.name, **changes)
        else:
            changes["experiment"] = old.experiment or self.experiment.name
            document = dataclasses.replace(old, **changes)
        data = document.to_yaml_dict()
        if data != self._existing_data:
            self._write(self.path / layout.RUN_FILE, dump_yaml(data))
            self.changed = True
            self._existing, self._existing_data = document, data
        for leftover in self.path.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        if self._final is not None:
            self.path, self._final = publish_run_dir(self.path, self._final), None

    def _keep_fresh(self) -> None:
        """Renew a staged run's mtime: other writers remove staged folders an hour old."""
        if self._final is not None:
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def _write(self, path: Path, text: str) -> None:
        """Replace a YAML file atomically, as a StoreError on failure."""
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc}") from exc


def _merge_missing(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` plus whatever of ``extra`` it lacks (nested mappings merged, no overwrite)."""
    merged = dict(base)
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], dict) and isinstance(value, Mapping):
            merged[key] = _merge_missing(merged[key], value)
    return merged


def _through_symlink(base: Path, relative: PurePosixPath) -> bool:
    """Tell whether any folder between ``base`` and the file is a symlink."""
    current = base
    if current.is_symlink():
        return True
    for part in relative.parts[:-1]:
        current = current / part
        if current.is_symlink():
            return True
    return False


@contextlib.contextmanager
def staged(merge: RunMerge) -> Iterator[Path]:
    """A staging folder inside the run, removed afterwards whatever happens."""
    folder = merge.staging_dir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
