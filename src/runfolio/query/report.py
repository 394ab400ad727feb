"""What changed in a run store between two git revisions: the pull-request report's data.

Both revisions are read from git's objects (:mod:`runfolio.gitobjects`), never from a
checkout, so the report works in a CI clone where only the head is checked out and the
base branch was merely fetched. Runs are matched by experiment folder and run id; a run
counts as changed when any of its files (artifacts included) has another blob.

Like a pull request's diff, the changes are those the head made since it forked from the
base (their merge base), so runs the base gained meanwhile are not reported as removed.
New runs are then ranked against the base's *current* leaderboard, the question a
reviewer asks: would this run beat what is on the main branch now? Registry changes
(new versions, alias moves) compare the registry at the merge base and at the head.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from runfolio.gitobjects import (
    StoreTree,
    list_store_tree,
    locate_store,
    merge_base,
    resolve_commit,
)
from runfolio.query.diff import diff_records
from runfolio.query.leaderboard import (
    LeaderboardEntry,
    PrimaryMetric,
    best_entry,
    metric_value,
    primary_metric_of,
    rank_runs,
)
from runfolio.query.revision_scan import RecordMemo, scan_revision
from runfolio.registry import Registry, read_registry
from runfolio.store import layout
from runfolio.store.reader import StoreScan
from runfolio.store.records import ExperimentRecord, RunRecord

Verdict = Literal["better", "worse", "equal"]

REGISTRY_TAG_PREFIX = "registry."
"""Tags the registry section reports; a run whose only change is one of these is not
listed again among changed runs."""


@dataclass(frozen=True)
class ParamDifference:
    """A param that a new run sets differently from the base's best run."""

    key: str
    base: Any
    head: Any
    in_base: bool
    in_head: bool


@dataclass(frozen=True)
class AddedRun:
    """A run the head adds, placed on the base revision's leaderboard.

    Attributes:
        run: the run as the head holds it.
        value: its primary metric's latest finite value (None when it has none).
        rank: where it would rank among the base's ranked runs (1 = new best).
        ranked_of: how many places that leaderboard would have with it.
        delta: ``value`` minus the base best's value.
        verdict: better, worse or equal than the base's best, by the metric's direction.
        params: the params where it differs from the base's best run.
    """

    run: RunRecord
    value: float | None
    rank: int | None
    ranked_of: int
    delta: float | None
    verdict: Verdict | None
    params: tuple[ParamDifference, ...]


@dataclass(frozen=True)
class ChangedRun:
    """A run both revisions hold with different files, and what differs, in words."""

    run: RunRecord
    changes: tuple[str, ...]


@dataclass
class ExperimentChanges:
    """The runs one experiment gained, changed and lost between the revisions."""

    experiment: ExperimentRecord
    primary: PrimaryMetric | None
    base_best: LeaderboardEntry | None
    base_runs: int
    is_new: bool = False
    is_removed: bool = False
    added: list[AddedRun] = field(default_factory=list)
    changed: list[ChangedRun] = field(default_factory=list)
    removed: list[RunRecord] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to report for this experiment."""
        return not (self.added or self.changed or self.removed or self.is_new)


@dataclass(frozen=True)
class RegistryChange:
    """A model version registered or removed, or an alias set, moved or removed."""

    model: str
    kind: Literal["registered", "unregistered", "alias set", "alias moved", "alias removed"]
    version: int
    run_id: str
    alias: str | None = None
    previous_version: int | None = None

    def describe(self, alias: str | None = None, run: str | None = None) -> str:
        """The change in one sentence (``@production moved from version 2 to version 3``).

        ``alias`` and ``run`` replace ``@<alias>`` and ``run <id>`` in the sentence, for a
        renderer that marks them up.
        """
        alias = alias if alias is not None else f"@{self.alias}"
        run = run if run is not None else f"run {self.run_id}"
        if self.kind == "registered":
            return f"version {self.version} registered ({run})"
        if self.kind == "unregistered":
            return f"version {self.version} removed ({run})"
        if self.kind == "alias set":
            return f"{alias} set to version {self.version}"
        if self.kind == "alias moved":
            before = self.previous_version
            return f"{alias} moved from version {before} to version {self.version}"
        return f"{alias} removed from version {self.version}"


@dataclass
class StoreChanges:
    """Everything the report says: per-experiment run changes and registry changes."""

    base_ref: str
    head_ref: str
    base_commit: str
    head_commit: str
    store_path: str
    experiments: list[ExperimentChanges] = field(default_factory=list)
    registry: list[RegistryChange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No run and no registry change between the revisions."""
        return not self.registry and all(e.empty for e in self.experiments)

    def counts(self) -> dict[str, int]:
        """How many runs were added, changed and removed, over all experiments."""
        return {
            "added": sum(len(e.added) for e in self.experiments),
            "changed": sum(len(e.changed) for e in self.experiments),
            "removed": sum(len(e.removed) for e in self.experiments),
        }


def compare_revisions(
    store: Path,
    base_ref: str,
    head_ref: str = "HEAD",
    *,
    override: Callable[[ExperimentRecord], PrimaryMetric | None] | None = None,
) -> StoreChanges:
    """Compare the store at ``store`` as two git revisions hold it.

    Args:
        store: the store folder in a working tree (it need not exist there: only its
            path inside the repository is used).
        base_ref: the revision the changes are measured against (``origin/main``).
        head_ref: the revision with the changes.
        override: the primary metric ``runfolio.yaml`` sets for an experiment, if any;
            it takes precedence over the one in ``experiment.yaml``.

    Raises:
        NotInRepositoryError: ``store`` is not inside a git repository.
        RevisionNotFoundError: a revision is unknown to the repository.
        GitError: git failed.
    """
    repo_root, store_path = locate_store(store, "the report compares commits, but")
    base_commit = resolve_commit(repo_root, base_ref)
    head_commit = resolve_commit(repo_root, head_ref)
    changes = StoreChanges(base_ref, head_ref, base_commit, head_commit, store_path)
    fork = merge_base(repo_root, base_commit, head_commit)
    if fork is None:
        fork = base_commit
        changes.problems.append(
            f"{base_ref} and {head_ref} have no common ancestor in this clone (shallow?): "
            f"the report compares the two revisions directly"
        )
    head_tree = list_store_tree(repo_root, head_commit, store_path)
    base_tree = list_store_tree(repo_root, base_commit, store_path)
    fork_tree = base_tree if fork == base_commit else list_store_tree(repo_root, fork, store_path)
    memo: RecordMemo = {}
    head_scan = scan_revision(repo_root, head_tree, Path(head_ref), memo)
    base_scan = scan_revision(repo_root, base_tree, Path(base_ref), memo)
    fork_scan = (
        base_scan
        if fork_tree is base_tree
        else scan_revision(repo_root, fork_tree, Path(fork), memo)
    )
    changes.problems += _problems(base_ref, base_scan, Path(base_ref))
    changes.problems += _problems(head_ref, head_scan, Path(head_ref))
    changes.experiments = _experiment_changes(
        _Side(fork_scan, fork_tree),
        _Side(head_scan, head_tree),
        base_scan,
        override or (lambda _: None),
    )
    changes.registry = registry_changes(
        read_registry(store, fork_scan.runs), read_registry(store, head_scan.runs)
    )
    return changes


def run_page_url(site_url: str | None, run: RunRecord) -> str | None:
    """The address of a run's page on the site at ``site_url`` (which ends in ``/``)."""
    if not site_url:
        return None
    from urllib.parse import quote

    return f"{site_url}experiments/{quote(run.experiment_slug)}/runs/{quote(run.run_id)}.html"


def _problems(ref: str, scan: StoreScan, label: Path) -> list[str]:
    """Scan problems named by revision and path inside the store.

    :func:`scan_revision` put the records under ``label``; the path below it is the one
    inside the store.
    """
    return [
        f"{ref}: {problem.path.relative_to(label).as_posix() or '.'}: {problem.reason}"
        for problem in scan.problems
    ]


@dataclass(frozen=True)
class _Side:
    """One revision of the store: its scanned records and its file listing."""

    scan: StoreScan
    tree: StoreTree


def _experiment_changes(
    old: _Side,
    new: _Side,
    base: StoreScan,
    override: Callable[[ExperimentRecord], PrimaryMetric | None],
) -> list[ExperimentChanges]:
    """Per experiment (by folder), the runs ``new`` added, changed and removed since
    ``old``, with added runs ranked on the leaderboard of ``base``."""
    old_digests = old.tree.run_digests()
    new_digests = new.tree.run_digests()
    old_experiments = {e.slug: e for e in old.scan.experiments}
    new_experiments = {e.slug: e for e in new.scan.experiments}
    base_experiments = {e.slug: e for e in base.experiments}
    old_runs = _runs_by_experiment(old.scan.runs)
    new_runs = _runs_by_experiment(new.scan.runs)
    base_runs = _runs_by_experiment(base.runs)
    report = []
    for slug in sorted(old_experiments.keys() | new_experiments.keys()):
        experiment = new_experiments.get(slug) or old_experiments[slug]
        primary = primary_metric_of(experiment, override(experiment))
        before = old_runs.get(slug, {})
        after = new_runs.get(slug, {})
        board = rank_runs(base_runs.get(slug, {}).values(), primary)
        changes = ExperimentChanges(
            experiment,
            primary,
            best_entry(board),
            len(base_runs.get(slug, {})),
            is_new=slug not in old_experiments and slug not in base_experiments,
            is_removed=slug not in new_experiments,
        )
        ranked = [entry for entry in board if entry.rank is not None]
        for run_id in sorted(after.keys() - before.keys()):
            changes.added.append(_place(after[run_id], ranked, primary, changes.base_best))
        for run_id in sorted(after.keys() & before.keys()):
            key = (slug, run_id)
            if old_digests.get(key) != new_digests.get(key):
                described = describe_changes(
                    before[run_id],
                    after[run_id],
                    _artifact_files(old.tree, key),
                    _artifact_files(new.tree, key),
                )
                if described:
                    changes.changed.append(ChangedRun(after[run_id], tuple(described)))
        changes.removed = [before[run_id] for run_id in sorted(before.keys() - after.keys())]
        changes.added.sort(key=lambda added: _added_order(added, primary))
        report.append(changes)
    return report


def _runs_by_experiment(runs: Iterable[RunRecord]) -> dict[str, dict[str, RunRecord]]:
    """Runs by experiment folder, then run id."""
    grouped: dict[str, dict[str, RunRecord]] = {}
    for run in runs:
        grouped.setdefault(run.experiment_slug, {})[run.run_id] = run
    return grouped


def _added_order(added: AddedRun, primary: PrimaryMetric | None) -> tuple[bool, float, str]:
    """Best value first; runs without a value after, oldest first."""
    if added.value is None or primary is None:
        return (True, 0.0, added.run.start_time)
    sign = 1.0 if primary.direction == "minimize" else -1.0
    return (False, sign * added.value, added.run.start_time)


def _place(
    run: RunRecord,
    ranked: Sequence[LeaderboardEntry],
    primary: PrimaryMetric | None,
    best: LeaderboardEntry | None,
) -> AddedRun:
    """Rank a new run against the base's ranked runs and compare it with the best."""
    value = metric_value(run, primary.name) if primary else None
    params = tuple(_param_differences(best.run, run)) if best else ()
    if value is None or primary is None:
        return AddedRun(run, None, None, len(ranked), None, None, params)
    rank = 1 + sum(
        1 for entry in ranked if entry.value is not None and primary.better(entry.value, value)
    )
    if best is None or best.value is None:
        return AddedRun(run, value, rank, len(ranked) + 1, None, None, params)
    delta = value - best.value
    verdict: Verdict = (
        "better"
        if primary.better(value, best.value)
        else "worse"
        if primary.better(best.value, value)
        else "equal"
    )
    if not math.isfinite(delta):
        delta = None  # type: ignore[assignment]
    return AddedRun(run, value, rank, len(ranked) + 1, delta, verdict, params)


def _param_differences(base: RunRecord, head: RunRecord) -> Iterable[ParamDifference]:
    """The params of ``head`` that differ from ``base``'s (set on one side only included)."""
    for row in diff_records(base, head):
        if row.section == "params" and row.differs:
            yield ParamDifference(row.key, row.a, row.b, row.has_a, row.has_b)


def describe_changes(
    before: RunRecord,
    after: RunRecord,
    artifacts_before: Mapping[str, str],
    artifacts_after: Mapping[str, str],
) -> list[str]:
    """What differs between two versions of a run, one short phrase per kind of change.

    Registry tags are left out (the report's registry section covers them), so a run
    whose only change is an alias move gives an empty list. Files outside run.yaml,
    params.yaml, metrics.csv and artifacts/ that changed give "other files changed".
    """
    phrases: list[str] = []
    if before.stored_status != after.stored_status:
        phrases.append(f"status {before.stored_status} → {after.stored_status}")
    if before.name != after.name:
        phrases.append(f"renamed from {before.name!r}")
    if before.description != after.description:
        phrases.append("notes edited")
    rows = diff_records(before, after)
    for section, noun in (("params", "param"), ("metrics", "metric"), ("tags", "tag")):
        keys = [
            row
            for row in rows
            if row.section == section
            and row.differs
            and not (section == "tags" and row.key.startswith(REGISTRY_TAG_PREFIX))
        ]
        if keys:
            phrases.append(_summarise_keys(noun, keys))
    added = artifacts_after.keys() - artifacts_before.keys()
    removed = artifacts_before.keys() - artifacts_after.keys()
    edited = [
        p
        for p in artifacts_after.keys() & artifacts_before.keys()
        if artifacts_after[p] != artifacts_before[p]
    ]
    if added or removed or edited:
        parts = [
            f"{len(added)} added" if added else "",
            f"{len(edited)} changed" if edited else "",
            f"{len(removed)} removed" if removed else "",
        ]
        phrases.append("artifacts: " + ", ".join(p for p in parts if p))
    return phrases


def _summarise_keys(noun: str, rows: Sequence[Any]) -> str:
    """``params: lr, depth (+1 more)`` with added and removed keys marked."""
    shown = []
    for row in rows[:_KEYS_SHOWN]:
        mark = "+" if not row.has_a else "-" if not row.has_b else ""
        shown.append(f"{mark}{row.key}")
    more = f" (+{len(rows) - _KEYS_SHOWN} more)" if len(rows) > _KEYS_SHOWN else ""
    return f"{noun}s: {', '.join(shown)}{more}"


_KEYS_SHOWN = 5


def _artifact_files(tree: StoreTree, key: tuple[str, str]) -> dict[str, str]:
    """A run's artifact files at one revision: path inside artifacts/ → blob."""
    prefix = f"{key[0]}/{key[1]}/{layout.ARTIFACTS_DIR}/"
    return {
        path[len(prefix) :]: entry.blob
        for path, entry in tree.files.items()
        if path.startswith(prefix)
    }


def registry_changes(base: Registry, head: Registry) -> list[RegistryChange]:
    """Versions registered or removed and aliases set, moved or removed, model by model."""
    found: list[RegistryChange] = []
    for name in sorted(base.models.keys() | head.models.keys()):
        before = base.models.get(name)
        after = head.models.get(name)
        old_versions = before.versions if before else {}
        new_versions = after.versions if after else {}
        for number in sorted(new_versions.keys() - old_versions.keys()):
            found.append(RegistryChange(name, "registered", number, new_versions[number].run_id))
        for number in sorted(old_versions.keys() - new_versions.keys()):
            found.append(RegistryChange(name, "unregistered", number, old_versions[number].run_id))
        old_aliases = before.aliases if before else {}
        new_aliases = after.aliases if after else {}
        for alias in sorted(old_aliases.keys() | new_aliases.keys()):
            was, now = old_aliases.get(alias), new_aliases.get(alias)
            if was == now:
                continue
            if now is None:
                run_id = old_versions[was].run_id if was in old_versions else ""
                found.append(RegistryChange(name, "alias removed", was, run_id, alias))  # type: ignore[arg-type]
            elif was is None:
                found.append(
                    RegistryChange(name, "alias set", now, new_versions[now].run_id, alias)
                )
            else:
                found.append(
                    RegistryChange(name, "alias moved", now, new_versions[now].run_id, alias, was)
                )
    return found
