"""Read a store as a git revision holds it, from blobs, with the store's own readers.

No file is written: the tree listing says which run folders exist, one ``cat-file
--batch`` brings every ``experiment.yaml``, ``run.yaml`` and ``params.yaml``, and the
records are parsed from those bytes and judged by the same functions of the read model
(:mod:`runfolio.store.scan`) as a store on disk. A ``metrics.csv`` is fetched only for
the rare run whose ``run.yaml`` has no usable metric summaries (one still running when
it was committed).

Records carry paths under a label (``<base>/sweep/<run id>``), not real paths: they name
runs in messages. Their status is the stored one: a commit holds no live process.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from runfolio.gitobjects import StoreTree, read_blobs
from runfolio.store import layout
from runfolio.store.reader import NO_RUN_FILE, FileSource, Problem, StoreScan
from runfolio.store.records import RunRecord
from runfolio.store.scan import open_experiment, problem_reason, read_run_record

_PREFETCHED = (layout.EXPERIMENT_FILE, layout.RUN_FILE, layout.PARAMS_FILE)


RecordMemo = dict[tuple[str, str, frozenset[tuple[str, str]]], RunRecord]
"""Records already read, by experiment folder, experiment.yaml blob and run file blobs."""


def scan_revision(
    repo_root: Path, tree: StoreTree, label: Path, memo: RecordMemo | None = None
) -> StoreScan:
    """Read every experiment and run of ``tree``; problems are collected, not raised.

    Args:
        repo_root: the repository holding the blobs.
        tree: the store's files at one commit (:func:`~runfolio.gitobjects.list_store_tree`).
        label: the folder the records' paths are put under.
        memo: records of runs read from another revision, reused (not read again) for
            runs whose files have the same blobs here. Two branches share most runs.
    """
    memo = {} if memo is None else memo
    experiments: dict[str, str | None] = {}  # folder → blob of experiment.yaml
    runs: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)  # folder → run → files
    for path, entry in tree.files.items():
        parts = path.split("/")
        if any(part.startswith(".") for part in parts) or len(parts) < 2:
            continue
        if len(parts) == 2:
            if parts[1] == layout.EXPERIMENT_FILE:
                experiments[parts[0]] = entry.blob
            continue
        experiments.setdefault(parts[0], None)
        if len(parts) == 3:
            runs[parts[0]].setdefault(parts[1], {})[parts[2]] = entry.blob
        else:
            runs[parts[0]].setdefault(parts[1], {})
    wanted = [blob for blob in experiments.values() if blob]
    wanted += [
        blob
        for slug, folder in runs.items()
        for files in folder.values()
        if _memo_key(slug, experiments.get(slug), files) not in memo
        for name, blob in files.items()
        if name in _PREFETCHED
    ]
    contents = read_blobs(repo_root, wanted)
    scan = StoreScan()
    for slug in sorted(experiments):
        exp_dir = label / slug
        blob = experiments[slug]
        folder_runs = runs.get(slug, {})
        experiment = open_experiment(
            exp_dir, blob is not None, folder_runs, scan.problems, contents[blob] if blob else None
        )
        if experiment is None:
            continue
        scan.experiments.append(experiment)
        for run_id in sorted(folder_runs):
            files = folder_runs[run_id]
            run_dir = exp_dir / run_id
            if not layout.is_run_id(run_id):
                # As on disk: never a run, and a problem when it holds a run.yaml.
                if layout.RUN_FILE in files:
                    scan.problems.append(Problem(run_dir, layout.NOT_A_RUN_ID))
                continue
            if layout.RUN_FILE not in files:
                scan.problems.append(Problem(run_dir, NO_RUN_FILE))
                continue
            key = _memo_key(slug, blob, files)
            record = memo.get(key)
            if record is None:
                source = _source(repo_root, files, contents)
                record = read_run_record(run_dir, experiment, scan.problems, source)
                if record is None:
                    continue
                memo[key] = record
            scan.problems.extend(
                Problem(run_dir, problem_reason(p, run_dir)) for p in record.problems
            )
            scan.runs.append(record)
    return scan


def _memo_key(
    slug: str, experiment_blob: str | None, files: dict[str, str]
) -> tuple[str, str, frozenset[tuple[str, str]]]:
    """What a run's record is read from: its experiment and the blobs of its files."""
    return (slug, experiment_blob or "", frozenset(files.items()))


def _source(repo_root: Path, files: dict[str, str], contents: dict[str, bytes]) -> FileSource:
    """A file source for one run: prefetched bytes, else the blob read on demand."""

    def read(name: str) -> bytes | None:
        blob = files.get(name)
        if blob is None:
            return None
        if blob not in contents:
            contents.update(read_blobs(repo_root, [blob]))
        return contents[blob]

    return read
