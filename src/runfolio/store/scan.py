"""One pass over a whole store: every experiment and run, problems collected."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from runfolio.errors import ExperimentNotFoundError, MalformedRunError, RunNotFoundError
from runfolio.store import layout
from runfolio.store.cache import RecordCache, run_signature
from runfolio.store.metrics import problems_of_run
from runfolio.store.reader import (
    NO_RUN_FILE,
    Problem,
    StoreScan,
    iter_experiment_dirs,
    iter_experiment_entries,
    iter_run_dirs,
    read_experiment,
    read_run_files,
    refresh_status,
)
from runfolio.store.records import ExperimentRecord, RunRecord


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
        use_cache: reuse parsed records whose files are unchanged (see :mod:`.cache`).

    Raises:
        StoreError: ``root`` does not exist or is not a folder.
    """
    with paused_gc():
        return _scan(root, experiments, use_cache)


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


def _scan(root: Path, experiments: set[str] | None, use_cache: bool) -> StoreScan:
    """Read the store (see :func:`scan_store`)."""
    scan = StoreScan()
    for exp_dir, problem in iter_experiment_entries(root):
        if problem is not None:
            scan.problems.append(Problem(exp_dir, problem))
            continue
        if not os.path.lexists(exp_dir / layout.EXPERIMENT_FILE):
            if any(layout.is_run_id(p.name) for p in exp_dir.iterdir()):
                scan.problems.append(Problem(exp_dir, "experiment folder has no experiment.yaml"))
            continue
        file = exp_dir / layout.EXPERIMENT_FILE
        try:
            experiment = read_experiment(exp_dir)
        except MalformedRunError as exc:
            scan.problems.append(Problem(file, problem_reason(exc, file)))
            continue
        if experiments is not None and experiment.name not in experiments:
            continue
        scan.problems.extend(Problem(file, problem_reason(p, file)) for p in experiment.problems)
        scan.experiments.append(experiment)
        scan.runs.extend(_read_runs(experiment, scan.problems, use_cache))
    return scan


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


def _read_runs(
    experiment: ExperimentRecord, problems: list[Problem], use_cache: bool
) -> list[RunRecord]:
    """Read the runs of one experiment, through the cache when allowed."""
    cache = RecordCache(experiment.path) if use_cache else None
    runs: list[RunRecord] = []
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
        if cached is not None:
            record = RunRecord(path=run_dir, **cached)
        else:
            try:
                record = read_run_files(run_dir, experiment)
            except MalformedRunError as exc:
                problems.append(Problem(run_dir, problem_reason(exc, run_dir)))
                continue
            if cache and signature is not None:
                cache.put_record(record, signature)
        refresh_status(record)
        problems.extend(
            Problem(run_dir, problem_reason(p, run_dir))
            for p in problems_of_run(record.problems, record.status)
        )
        runs.append(record)
    if cache:
        cache.save()
    return runs


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
