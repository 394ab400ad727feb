"""The read model: every reader of a store's runs on disk goes through one pass here.

One pass (:func:`_read_store`) lists the experiments and run folders, takes each run's
signature, then either reuses what a cache holds for it or parses its files once with
:func:`~runfolio.store.reader.read_run_files`, and makes the run's status effective
once. What it hands out are two views of the same runs:

- **records** (:func:`scan_store`): a :class:`RunRecord` per run, with every problem met;
- **rows** (:func:`read_rows`): the mapping ``search_runs`` filters, orders and
  tabulates (:func:`run_row`: MLflow's attribute names, flat params, latest metric
  values, tags); with ``with_records`` each row also carries its record as ``run``, so
  one filtered, ordered list of rows yields both outputs of ``search_runs``.

A store at a git revision is read by :mod:`runfolio.query.revision_scan`, from blobs,
with the same record reader and the same problem wording (:func:`problem_reason`).

Caches behind it (all derived and disposable: the files stay the source of truth):

- ``records`` and ``search`` (:class:`~runfolio.store.cache.DerivedCache`, one file per
  experiment folder and view, in :func:`~runfolio.store.cache.cache_dir`): a run's
  record fields, resp. its row with the stored status, keyed by its
  :func:`~runfolio.store.cache.run_signature` (inode, mtime, ctime and size of
  run.yaml, params.yaml and metrics.csv, plus the SHA-256 of any file changed within
  :data:`~runfolio.store.cache.RACY_WINDOW_NS`), taken before the files are read. An
  entry is reused only while the signature matches; any change to those files, an
  added or removed run, a damaged file, another ``CACHE_VERSION`` or Python version
  invalidates it. Runs read with problems are never cached. The rows file exists
  because decoding whole records (20 MB for 10,000 runs) takes about 2.5 times as long
  as decoding rows (8 MB). Status is never cached: a RUNNING run is judged alive or
  CRASHED on every read.
- the revision memo (:data:`runfolio.query.revision_scan.RecordMemo`): records read
  from git blobs, in memory for one report, keyed by the experiment.yaml blob and the
  run files' blobs (content addresses: never stale).
- ``site-rows`` (``runfolio.site.build``): a leaderboard row encoded as JSON and CSV,
  derived from the records :func:`scan_store` returned, keyed by the run page's
  fingerprint and the table's columns; any change to the run folder, its family, the
  settings, the theme or the columns invalidates it. It caches rendering, not reading.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runfolio.errors import ExperimentNotFoundError, MalformedRunError, RunNotFoundError
from runfolio.store import layout
from runfolio.store.cache import DerivedCache, RecordCache, run_signature
from runfolio.store.liveness import effective_status
from runfolio.store.metrics import problems_of_run
from runfolio.store.reader import (
    NO_RUN_FILE,
    FileSource,
    Problem,
    StoreScan,
    iter_experiment_dirs,
    iter_experiment_entries,
    iter_run_dirs,
    last_activity_ms,
    read_experiment,
    read_run_files,
    refresh_status,
)
from runfolio.store.records import ExperimentRecord, RunRecord

ROWS_CACHE = "search"
"""The kind of the rows cache (see :class:`~runfolio.store.cache.DerivedCache`)."""

Row = dict[str, Any]
"""A run as search sees it: ``attributes``, ``params``, ``metrics``, ``tags`` (see
:func:`read_rows`)."""

_View = Literal["records", "rows", "both"]


def scan_store(
    root: Path, *, experiments: set[str] | None = None, use_cache: bool = True
) -> StoreScan:
    """Read every experiment and run of the store at ``root``.

    A malformed experiment or run never stops the scan: it is left out and described in
    ``problems`` with its path. Folders without ``experiment.yaml`` that hold run-like
    folders are reported too; other folders are ignored.

    Args:
        root: the store folder.
        experiments: only these experiment names (all when None).
        use_cache: reuse parsed records whose files are unchanged (see the module doc).

    Raises:
        StoreError: ``root`` does not exist or is not a folder.
    """
    with paused_gc():
        return _read_store(root, experiments, "records", use_cache).scan


def read_rows(
    root: Path, experiment_names: Iterable[str] | None = None, *, with_records: bool = False
) -> list[Row]:
    """Read the row of every readable run (malformed runs are skipped), in store order.

    Each row holds ``attributes`` (MLflow's names, ``artifact_uri`` and the effective
    status: CRASHED for a RUNNING run whose process is gone), ``params`` (flat),
    ``metrics`` (latest values) and ``tags``: the mapping :mod:`runfolio.query.filter`
    evaluates. With ``with_records``, rows are made from the runs' records, each row
    carrying its record (status the same) as ``run``.

    Raises:
        ExperimentNotFoundError: a named experiment does not exist.
        StoreError: the store folder does not exist.
    """
    wanted = set(experiment_names) if experiment_names else None
    with paused_gc():
        found = _read_store(root, wanted, "both" if with_records else "rows", True)
    require_experiments(root, found.scan.experiments, wanted)
    return found.rows


def run_row(run: RunRecord) -> Row:
    """The row of a run as the rows cache keeps it: status as stored, no ``artifact_uri``.

    ``process`` and ``last_activity`` are what judging a RUNNING run's liveness needs.
    """
    return {
        "attributes": {
            "run_id": run.run_id,
            "run_name": run.name,
            "status": run.stored_status,
            "start_time": run.start_ms,
            "end_time": run.end_ms,
            "user_id": run.user,
            "experiment_id": run.experiment_slug,
            "experiment_name": run.experiment,
            "parent_run_id": run.parent_run_id,
        },
        "params": run.flat_params(),
        "metrics": run.latest_metrics(),
        "tags": dict(run.tags),
        "process": dict(run.process),
        "last_activity": last_activity_ms(run),
    }


def live_row(row: Row, run_dir: Path, artifact_uri: str, run: RunRecord | None = None) -> Row:
    """A cached ``row`` as readers get it: with its ``artifact_uri`` and effective status.

    With ``run`` (the record the row was made from, its status already effective), the
    row takes that status and carries the record as ``run``; otherwise the status is
    judged here, from the row's own ``process`` and ``last_activity``.
    """
    attributes = dict(row["attributes"])
    attributes["artifact_uri"] = artifact_uri
    if run is not None:
        attributes["status"] = run.status
        return {**row, "attributes": attributes, "run": run}
    if attributes["status"] == "RUNNING":
        attributes["status"] = effective_status(
            "RUNNING", run_dir, row["process"], row["last_activity"]
        )
    return {**row, "attributes": attributes}


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small containers are created.

    Reading a large store allocates hundreds of thousands of dicts and lists, none of
    them garbage; each automatic collection would walk them all again (a third of a
    warm search of 10,000 runs). The previous state is restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Found:
    """What one pass read: the scan and the rows.

    The scan holds the experiments and every problem met; its runs are the records,
    unless only rows were asked for (a row from the rows cache has no record).
    """

    scan: StoreScan = field(default_factory=StoreScan)
    rows: list[Row] = field(default_factory=list)


def _read_store(root: Path, experiments: set[str] | None, view: _View, use_cache: bool) -> _Found:
    """Read the store's experiments, then the runs of the wanted ones, in one pass."""
    found = _Found()
    scan = found.scan
    for exp_dir, problem in iter_experiment_entries(root):
        if problem is not None:
            scan.problems.append(Problem(exp_dir, problem))
            continue
        experiment = open_experiment(
            exp_dir,
            os.path.lexists(exp_dir / layout.EXPERIMENT_FILE),
            (p.name for p in exp_dir.iterdir()),
            scan.problems,
            wanted=experiments,
        )
        if experiment is not None:
            scan.experiments.append(experiment)
            _read_runs(experiment, found, view, use_cache)
    return found


def open_experiment(
    exp_dir: Path,
    has_file: bool,
    entries: Iterable[str],
    problems: list[Problem],
    content: bytes | None = None,
    *,
    wanted: set[str] | None = None,
) -> ExperimentRecord | None:
    """Read an experiment folder's experiment.yaml as every reader of a store judges it.

    A folder without the file is no experiment (a problem when one of its ``entries``
    is named like a run); an unreadable file is a problem; fields left out of it are
    problems of an experiment that is still read.

    Args:
        exp_dir: the folder (a label under which a git revision's files are named).
        has_file: whether the folder holds experiment.yaml.
        entries: the names in the folder (only looked at when it has no experiment.yaml).
        problems: where problems are appended.
        content: the file's bytes, when not read from disk.
        wanted: only experiments of these names (None: all); others are None, unjudged.
    """
    if not has_file:
        if any(layout.is_run_id(name) for name in entries):
            problems.append(Problem(exp_dir, "experiment folder has no experiment.yaml"))
        return None
    file = exp_dir / layout.EXPERIMENT_FILE
    try:
        experiment = read_experiment(exp_dir, content)
    except MalformedRunError as exc:
        problems.append(Problem(file, problem_reason(exc, file)))
        return None
    if wanted is not None and experiment.name not in wanted:
        return None
    problems.extend(Problem(file, problem_reason(p, file)) for p in experiment.problems)
    return experiment


def read_run_record(
    run_dir: Path,
    experiment: ExperimentRecord,
    problems: list[Problem],
    files: FileSource | None = None,
) -> RunRecord | None:
    """Parse a run's files (status as stored); a run that cannot be read is a problem.

    ``files`` reads them from elsewhere than ``run_dir`` (a git revision's blobs).
    """
    try:
        return read_run_files(run_dir, experiment, files)
    except MalformedRunError as exc:
        problems.append(Problem(run_dir, problem_reason(exc, run_dir)))
        return None


def require_experiments(
    root: Path, found: Iterable[ExperimentRecord], wanted: Iterable[str] | None
) -> None:
    """Raise ExperimentNotFoundError naming every wanted experiment that was not found."""
    missing = set(wanted or ()) - {e.name for e in found}
    if missing:
        listed = ", ".join(map(repr, sorted(missing)))
        raise ExperimentNotFoundError(f"no experiment named {listed} in {root}")


def list_experiments(root: Path) -> tuple[list[ExperimentRecord], list[Problem]]:
    """Read only the experiments of a store (no runs), with any problems met."""
    found: list[ExperimentRecord] = []
    problems: list[Problem] = []
    for exp_dir in iter_experiment_dirs(root):
        if not os.path.exists(exp_dir / layout.EXPERIMENT_FILE):
            continue
        file = exp_dir / layout.EXPERIMENT_FILE
        try:
            found.append(read_experiment(exp_dir))
        except MalformedRunError as exc:
            problems.append(Problem(file, problem_reason(exc, file)))
    return found, problems


def _read_runs(experiment: ExperimentRecord, found: _Found, view: _View, use_cache: bool) -> None:
    """Read the runs of one experiment into ``found``, through the view's cache."""
    cache: DerivedCache | None
    if not use_cache:
        cache = None
    elif view == "rows":
        cache = DerivedCache(experiment.path, ROWS_CACHE)
    else:
        cache = RecordCache(experiment.path)
    problems = found.scan.problems
    # as_uri() quotes the path; a run id needs no quoting, so one call per experiment.
    base_uri = (experiment.path / "x").as_uri()[:-1]
    for run_dir, problem in iter_run_dirs(experiment.path, check_run_file=not cache):
        if problem:
            problems.append(Problem(run_dir, problem))
            continue
        # Taken before the files are read, so a write landing during the read shows as a
        # changed signature next time rather than hiding behind the one taken after it.
        signature = run_signature(run_dir) if cache else None
        if signature is not None and not signature.has_run_file:  # stands in for exists()
            if layout.is_run_id(run_dir.name):
                problems.append(Problem(run_dir, NO_RUN_FILE))
            continue
        cached = cache.get(run_dir.name, signature) if cache else None
        artifact_uri = f"{base_uri}{run_dir.name}/{layout.ARTIFACTS_DIR}"
        if view == "rows" and cached is not None:
            found.rows.append(live_row(cached, run_dir, artifact_uri))
            continue
        if cached is not None:
            record = RunRecord(path=run_dir, **cached)
        else:
            fresh = read_run_record(run_dir, experiment, problems)
            if fresh is None:
                continue
            record = fresh
        stored_row = run_row(record) if view != "records" else None
        if cached is None and cache and signature is not None and not record.problems:
            cache.put(run_dir.name, signature, stored_row or _record_fields(record))
        refresh_status(record)
        problems.extend(
            Problem(run_dir, problem_reason(p, run_dir))
            for p in problems_of_run(record.problems, record.status)
        )
        if view != "rows":
            found.scan.runs.append(record)
        if stored_row is not None:
            # The status was judged once, above: a row and its record cannot disagree.
            row = live_row(stored_row, run_dir, artifact_uri, record)
            found.rows.append(row if view == "both" else _without_run(row))
    if cache:
        cache.save()


def _without_run(row: Row) -> Row:
    """A row without the record it was made from (rows alone were asked for)."""
    del row["run"]
    return row


def _record_fields(record: RunRecord) -> dict[str, Any]:
    """A record's fields but its path, as the records cache keeps them.

    A shallow copy: asdict's deep copy cost a sixth of a cold search, and nothing
    mutates the record's dicts before the cache is saved.
    """
    fields = dict(vars(record))
    del fields["path"]
    return fields


def problem_reason(exc: MalformedRunError | str, where: Path | None = None) -> str:
    """A problem's message without the path it starts with, which its Problem holds.

    With ``where`` (the problem's path), a message about a file inside that folder keeps
    the file's name relative to it: ``run.yaml: 'status' is ...``. So the file is named,
    and no absolute path of the machine that read the store reaches a published page.
    """
    text = str(exc)
    head, sep, rest = text.partition(": ")
    if not sep or os.sep not in head:
        return text
    if where is not None and head != str(where):
        try:
            return f"{Path(head).relative_to(where).as_posix()}: {rest}"
        except ValueError:
            pass
    return rest


def find_run(root: Path, run_ref: str) -> tuple[ExperimentRecord, Path]:
    """Locate a run by its full id or a unique prefix (of the id or of its random part).

    Raises:
        RunNotFoundError: nothing matches, or several runs do (the message lists them).
    """
    matches: list[tuple[Path, Path]] = []
    for exp_dir in iter_experiment_dirs(root):
        if not os.path.exists(exp_dir / layout.EXPERIMENT_FILE):
            continue
        exact = exp_dir / run_ref
        if layout.is_run_id(run_ref) and os.path.exists(exact / layout.RUN_FILE):
            return read_experiment(exp_dir), exact
        for run_dir, problem in iter_run_dirs(exp_dir):
            if problem is None and _id_matches(run_dir.name, run_ref):
                matches.append((exp_dir, run_dir))
    if not matches:
        raise RunNotFoundError(f"no run in {root} has an id starting with {run_ref!r}")
    if len(matches) > 1:
        listed = ", ".join(run_dir.name for _, run_dir in matches[:10])
        raise RunNotFoundError(
            f"{run_ref!r} matches {len(matches)} runs ({listed}); give more characters"
        )
    exp_dir, run_dir = matches[0]
    return read_experiment(exp_dir), run_dir


def _id_matches(run_id: str, ref: str) -> bool:
    """A ref matches an id by prefix, or by prefix of the id's random part."""
    if not ref:
        return False
    return run_id.startswith(ref) or run_id.rsplit("-", 1)[-1].startswith(ref)
