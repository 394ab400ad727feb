"""The site model: everything the pages show, gathered once before anything renders.

"Gather, then write": this module turns one scan of the store and the site settings
into plain page objects (experiments with their leaderboards, runs with their family
and links); rendering reads them and never goes back to the store. Paths are relative
to the site root (``experiments/<slug>/index.html``); templates make them relative to
the page that links, so the site works from ``file://`` and under any sub-path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runfolio.config_values import SiteConfig
from runfolio.query.leaderboard import (
    LeaderboardEntry,
    PrimaryMetric,
    best_entry,
    children_by_parent,
    primary_metric_of,
    rank_runs,
    varying_params,
)
from runfolio.site.links import RepositoryWeb, repository_web
from runfolio.store.reader import Problem, StoreScan
from runfolio.store.records import ExperimentRecord, RunRecord

RECENT_RUNS = 20
"""How many runs the home page lists under "recent runs"."""


@dataclass(frozen=True)
class StoreCommit:
    """The commit the store was read at, for every page's footer."""

    sha: str | None
    dirty: bool
    url: str | None
    relative: str


@dataclass
class ExperimentPage:
    """One experiment's leaderboard page."""

    experiment: ExperimentRecord
    path: str
    primary: PrimaryMetric | None
    entries: list[LeaderboardEntry]
    varying_params: list[str]
    metric_keys: list[str]
    last_activity: str | None
    flat_params: list[dict[str, Any]] = field(default_factory=list)
    """Each entry's ``run.flat_params()``, in the order of ``entries``."""
    branches: Mapping[str, tuple[str, ...]] | None = None
    """Run id → the branches holding the run, in a site built from several branches."""

    @property
    def best(self) -> LeaderboardEntry | None:
        """The best-ranked run, if any run has a value of the primary metric."""
        return best_entry(self.entries)

    @property
    def run_count(self) -> int:
        """How many readable runs the experiment has."""
        return len(self.entries)


@dataclass
class RunPage:
    """One run's page: the run, where it sits, and its links to the code."""

    run: RunRecord
    path: str
    experiment_path: str
    parent: RunRecord | None = None
    children: list[RunRecord] = field(default_factory=list)
    commit_url: str | None = None
    source_url: str | None = None
    branches: tuple[str, ...] = ()
    """The branches holding the run, in a site built from several branches."""


@dataclass
class SiteModel:
    """The whole site, ready to render."""

    config: SiteConfig
    experiments: list[ExperimentPage]
    runs: dict[str, RunPage]
    recent_runs: list[RunRecord]
    problems: list[Problem]
    repository: RepositoryWeb | None

    def run_page(self, run_id: str) -> RunPage | None:
        """The page of a run, by id."""
        return self.runs.get(run_id)


def experiment_path(experiment: ExperimentRecord) -> str:
    """Site-root-relative path of an experiment's page."""
    return f"experiments/{experiment.slug}/index.html"


def run_path(run: RunRecord) -> str:
    """Site-root-relative path of a run's page."""
    return f"experiments/{run.experiment_slug}/runs/{run.run_id}.html"


def build_site_model(
    scan: StoreScan,
    config: SiteConfig,
    branches: Mapping[str, tuple[str, ...]] | None = None,
    *,
    store_remote: str | None = None,
) -> SiteModel:
    """Gather the pages of a site from a store scan and the site settings.

    ``branches`` (run id → branch names) labels the runs of a site built from several
    branches (:mod:`runfolio.site.branches`).

    The primary metric of an experiment comes from ``runfolio.yaml``'s ``experiments``
    settings when given there (a direction alone keeps experiment.yaml's metric), else
    from ``experiment.yaml``. The repository's web UI comes from ``repository_url``,
    else from ``store_remote``, the remote of the git repository holding the store
    (:func:`runfolio.gitrepo.repository_remote`). Never from a remote a run recorded: a
    run is written by whoever made it (a pull request's author), and every page's code
    links would follow it.
    """
    repository = repository_web(config.repository_url) or repository_web(store_remote)
    by_experiment: dict[str, list[RunRecord]] = {}
    for run in scan.runs:
        by_experiment.setdefault(run.experiment_slug, []).append(run)
    children = children_by_parent(scan.runs)
    known = {run.run_id: run for run in scan.runs}
    experiments = [
        _experiment_page(e, by_experiment.get(e.slug, []), primary_override(e, config))
        for e in sorted(scan.experiments, key=lambda e: e.name.casefold())
    ]
    runs = {
        run.run_id: _run_page(run, known, children.get(run.run_id, []), repository)
        for run in scan.runs
    }
    if branches is not None:
        for page in experiments:
            page.branches = branches
        for run_id, run_page in runs.items():
            run_page.branches = branches.get(run_id, ())
    recent = sorted(scan.runs, key=lambda r: (r.start_time, r.run_id), reverse=True)
    return SiteModel(
        config=config,
        experiments=experiments,
        runs=runs,
        recent_runs=recent[:RECENT_RUNS],
        problems=list(scan.problems),
        repository=repository,
    )


def _experiment_page(
    experiment: ExperimentRecord, runs: Sequence[RunRecord], override: PrimaryMetric | None
) -> ExperimentPage:
    """The leaderboard page of one experiment."""
    primary = primary_metric_of(experiment, override)
    times = [t for run in runs for t in (run.start_time, run.end_time) if t]
    entries = rank_runs(runs, primary)
    flats = [entry.run.flat_params() for entry in entries]
    return ExperimentPage(
        experiment=experiment,
        path=experiment_path(experiment),
        primary=primary,
        entries=entries,
        varying_params=varying_params([entry.run for entry in entries], flats),
        metric_keys=sorted({key for run in runs for key in run.metrics}),
        last_activity=max(times) if times else None,
        flat_params=flats,
    )


def _run_page(
    run: RunRecord,
    known: dict[str, RunRecord],
    children: list[RunRecord],
    repository: RepositoryWeb | None,
) -> RunPage:
    """The page of one run, with its family and code links."""
    commit = run.git.get("commit")
    entry = run.source.get("entry_point")
    commit_text = commit if isinstance(commit, str) else ""
    return RunPage(
        run=run,
        path=run_path(run),
        experiment_path=f"experiments/{run.experiment_slug}/index.html",
        parent=known.get(run.parent_run_id) if run.parent_run_id else None,
        children=children,
        commit_url=repository.commit_url(commit_text) if repository else None,
        source_url=(
            repository.file_url(commit_text, entry)
            if repository and isinstance(entry, str)
            else None
        ),
    )


def primary_override(experiment: ExperimentRecord, config: SiteConfig) -> PrimaryMetric | None:
    """The primary metric runfolio.yaml sets for an experiment, if it sets one."""
    settings = config.experiments.get(experiment.name)
    if settings is None:
        return None
    metric = settings.primary_metric or experiment.primary_metric
    if metric is None:
        return None
    return PrimaryMetric(metric, settings.direction or experiment.direction)
