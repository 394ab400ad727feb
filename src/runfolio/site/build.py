"""``runfolio build``: a run store in, a static site out, re-rendering only what changed.

Gather, then write: the settings are validated, the store is scanned once, the site
model is built, every page is rendered to bytes, and :func:`~runfolio.site.writer.write_site`
alone touches the output folder.

Incremental builds: each run page is keyed by fingerprints of its inputs
(:mod:`runfolio.site.fingerprints`). The run folders are fingerprinted before the store
is read, so a page is keyed by what was read: a write landing during the build changes
the next build's fingerprint and the page is rendered again. When a run's fingerprint
equals the one the previous build recorded in the site's manifest, its page, compare
data and copied files are kept as they are, unread; every other page is rendered afresh.
The experiment, home and compare pages summarise every run and are always rendered; the
writer still skips files whose bytes did not change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeGuard

from runfolio import __version__
from runfolio.config import store_config_root
from runfolio.errors import GitError, RunfolioError
from runfolio.gitrepo import folder_revision, repository_remote
from runfolio.registry import Registry, read_registry, registry_history
from runfolio.site.branches import BranchSnapshot
from runfolio.site.charts import parallel_coordinates_spec, primary_metric_spec, spec_to_json
from runfolio.site.config import load_site_config, parse_site_url
from runfolio.site.fingerprints import (
    STATE_VERSION,
    digested_files,
    read_folder_states,
    run_base_key,
    run_key,
    shared_key,
)
from runfolio.site.leaderboard_data import (
    encode_leaderboard,
    leaderboard_table,
)
from runfolio.site.model import (
    ExperimentPage,
    RunPage,
    SiteModel,
    StoreCommit,
    build_site_model,
    run_path,
)
from runfolio.site.registry_pages import MODELS_INDEX, build_model_views
from runfolio.site.render import ASSETS_DIR, Renderer
from runfolio.site.run_content import gather_run_content, metric_direction
from runfolio.site.theme import resolve_theme_chain
from runfolio.site.writer import StaleReuseError, read_previous_site, write_site
from runfolio.store.cache import DerivedCache
from runfolio.store.reader import Problem
from runfolio.store.scan import scan_store

Progress = Callable[[int, int], None]


class BuildError(RunfolioError):
    """The build stopped: ``--strict`` and a problem, or the output cannot be written."""


@dataclass
class BuildReport:
    """What one build did.

    ``pages`` counts every HTML page of the site; ``pages_written`` those rendered by
    this build (the rest are run pages kept from the previous one, ``runs_reused``).
    """

    output: Path
    pages: int = 0
    pages_written: int = 0
    pages_rendered: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    runs: int = 0
    runs_reused: int = 0
    runs_skipped: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def build_site(
    store: Path,
    output: Path,
    *,
    theme: str | os.PathLike[str] | None = None,
    strict: bool = False,
    clean: bool = False,
    config_root: Path | None = None,
    progress: Progress | None = None,
    site_url: str | None = None,
    branches: BranchSnapshot | None = None,
) -> BuildReport:
    """Render the store at ``store`` into a static site in ``output``.

    Args:
        store: the run store folder.
        output: the site folder (created; must be empty or a previous runfolio site).
        theme: a shipped theme name or a theme folder; default: ``theme`` in
            ``runfolio.yaml``, else the default theme. A folder may hold only the
            templates and static files it changes; the rest comes from the default.
        strict: fail (BuildError) when any run or file could not be read, instead of
            reporting it and building the rest.
        clean: delete the previous build first and render every page.
        config_root: the folder holding ``runfolio.yaml``; default: the root of the git
            repository holding the store, else the store's parent folder.
        progress: called as ``progress(done, total)`` while run pages are rendered.
        site_url: the published site's root URL, which the 404 page needs (GitHub
            Pages serves it at any missing path); overrides ``site_url`` in
            ``runfolio.yaml``.
        branches: the store was merged from several branches
            (:func:`~runfolio.site.branches.snapshot_branches`; ``store`` is its folder):
            runs are labelled with their branches and the footer names each branch's
            commit instead of the store's.

    Raises:
        SiteConfigError: ``runfolio.yaml`` has bad settings (all are listed).
        ThemeError: the theme cannot be found.
        BuildError: ``strict`` and a problem, or the output folder cannot be written.
        StoreError: the store folder does not exist.
    """
    started = time.perf_counter()
    store = Path(store).absolute()
    root = config_root or store_config_root(store)
    config = load_site_config(root)
    if site_url is not None:
        config = replace(config, site_url=parse_site_url(site_url))
    chain = resolve_theme_chain(theme if theme is not None else config.theme, base=root)
    with ThreadPoolExecutor(max_workers=1) as git_thread:
        revision_lookup = git_thread.submit(folder_revision, store)
        # The code links' repository: configured, else the remote of the repository
        # holding the store (of the working tree a --refs snapshot was made from).
        remote_lookup = (
            None
            if config.repository_url
            else git_thread.submit(repository_remote, branches.source if branches else store)
        )
        # Before the scan: each page is keyed by the files as they were when read.
        folders = read_folder_states(store)
        scan = scan_store(store)
    report = BuildReport(output=Path(output))
    report.problems = [str(p) for p in scan.problems]
    if branches is not None:
        report.problems += branches.problems
    report.runs_skipped = len(scan.problems)
    if strict and report.problems:
        raise BuildError(_strict_message(report.problems))
    model = build_site_model(
        scan, config, branches.runs if branches else None, store_remote=_remote(remote_lookup)
    )
    commit = _store_commit(store, revision_lookup, model, report.problems)
    registry = read_registry(store, scan.runs)
    refs = branches.refs if branches else None
    shared = shared_key(chain, config, commit, has_models=bool(registry.models), refs=refs)
    renderer = Renderer(
        chain,
        {**_site_globals(model, commit), "has_models": bool(registry.models), "branches": refs},
    )
    experiments = {page.path: page for page in model.experiments}

    # Read once: it also refuses a folder that is not a runfolio site before any work.
    previous_site = read_previous_site(Path(output))
    previous = {} if clean else previous_site.state
    old_runs = previous.get("runs", {}) if previous.get("version") == STATE_VERSION else {}
    files: dict[str, bytes | Path] = {}
    reuse: list[str] = []
    run_state: dict[str, Any] = {}
    total = len(model.runs)
    run_keys: dict[str, str] = {}
    for done, (run_id, page) in enumerate(sorted(model.runs.items()), start=1):
        experiment = experiments.get(page.experiment_path)
        folder = folders.get(str(page.run.path))
        old = old_runs.get(run_id)
        base = run_base_key(page, shared, experiment)
        key = run_keys[run_id] = run_key(base, folder, folder.racy if folder else ())
        # The previous build hashed the files that were racy then: compare those.
        if (
            folder is not None
            and _reusable(old)
            and run_key(base, folder, old["digested"]) == old["key"]
        ):
            reuse.extend(old["files"])
            # A kept page's problems (say, unreadable metrics.csv rows) still count, so an
            # incremental build reports, and --strict fails on, what a clean build would.
            report.problems.extend(old["problems"])
            run_state[run_id] = {**old, "key": key, "digested": digested_files(folder)}
            report.runs_reused += 1
        else:
            found = len(report.problems)
            rendered = _render_run(renderer, model, commit, page, experiment, files, report)
            # Named inside the store, as kept ones are: the manifest is published.
            report.problems[found:] = [_inside_store(p, store) for p in report.problems[found:]]
            run_state[run_id] = {
                "key": key,
                "digested": digested_files(folder),
                "files": sorted(rendered),
                "problems": report.problems[found:],
            }
        if progress is not None:
            progress(done, total)
    report.runs = total
    if strict and len(report.problems) > len(scan.problems):
        raise BuildError(_strict_message(report.problems[len(scan.problems) :]))

    for experiment_page in model.experiments:
        _render_experiment(renderer, model, commit, experiment_page, files, run_keys)
        report.pages_rendered += 1
    home = {
        "model": model,
        "problems": [_site_problem(problem, store) for problem in scan.problems],
        "raw_url": _raw_url(model, commit, ""),
    }
    files["index.html"] = _page(renderer, "home.html", "index.html", home)
    files["compare.html"] = _page(renderer, "compare.html", "compare.html", {"model": model})
    files["404.html"] = _page(renderer, "404.html", "404.html", {"model": model})
    report.pages_rendered += 3
    if registry.models:
        # A merged snapshot has no git history of its own: the working tree's has it.
        history_store = branches.source if branches else store
        _render_registry(renderer, model, registry, history_store, files, report)
    files[".nojekyll"] = b""
    for relative, source in chain.static_files():
        files[f"{ASSETS_DIR}/{relative}"] = source

    state = {"version": STATE_VERSION, "runs": run_state}
    try:
        written = write_site(
            Path(output),
            files,
            clean=clean,
            reuse=reuse,
            state=state,
            previous=previous_site,
        )
    except StaleReuseError:
        # The previous build's files were touched by hand: render everything again.
        return build_site(
            store,
            output,
            theme=theme,
            strict=strict,
            clean=True,
            config_root=config_root,
            progress=progress,
            site_url=site_url,
            branches=branches,
        )
    report.files_written = written.written
    report.files_unchanged = written.unchanged
    report.files_removed = written.removed
    report.pages_written = sum(1 for path in files if path.endswith(".html"))
    report.pages = report.pages_written + report.runs_reused
    report.seconds = time.perf_counter() - started
    return report


def _reusable(old: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a previous build's record of a run is intact."""
    return (
        isinstance(old, dict)
        and isinstance(old.get("key"), str)
        and isinstance(old.get("digested"), list)
        and all(isinstance(path, str) for path in old["digested"])
        and isinstance(old.get("files"), list)
        and isinstance(old.get("problems"), list)
        and all(isinstance(problem, str) for problem in old["problems"])
    )


def _render_run(
    renderer: Renderer,
    model: SiteModel,
    commit: StoreCommit | None,
    page: RunPage,
    experiment: ExperimentPage | None,
    files: dict[str, bytes | Path],
    report: BuildReport,
) -> list[str]:
    """Render one run's page and compare data; plan its copies. Returns the paths."""
    run = page.run
    run_dir = page.path.removesuffix(".html")
    primary = experiment.primary if experiment else None
    content = gather_run_content(
        run,
        run_dir,
        primary,
        model.config.artifact_size_limit,
        remote=model.config.artifacts,
        limits=model.config.limits,
    )
    report.problems.extend(f"{run.path}: {problem}" for problem in content.problems)
    directions = {key: metric_direction(key, primary) for key in run.metrics}
    context = {
        "model": model,
        "page": page,
        "run": run,
        "experiment": experiment,
        "content": content,
        "directions": directions,
        "raw_url": _raw_url(model, commit, f"{run.experiment_slug}/{run.run_id}"),
        # Run pages name the store's commit without "plus uncommitted changes": see
        # fingerprints.shared_key. The home and experiment pages say whether the store was dirty.
        "store_commit": replace(commit, dirty=False) if commit else None,
    }
    files[page.path] = _page(renderer, "run.html", page.path, context)
    files[f"{run_dir}.js"] = content.compare_js
    files.update(content.copies)
    report.pages_rendered += 1
    return [page.path, f"{run_dir}.js", *content.copies]


def _render_experiment(
    renderer: Renderer,
    model: SiteModel,
    commit: StoreCommit | None,
    page: ExperimentPage,
    files: dict[str, bytes | Path],
    run_keys: Mapping[str, str],
) -> None:
    """Render an experiment's leaderboard page and its table downloads."""
    flats = (
        page.flat_params
        if len(page.flat_params) == len(page.entries)
        else [entry.run.flat_params() for entry in page.entries]
    )
    table = leaderboard_table(page, model.config.default_columns, flats, with_rows=False)
    folder = page.path.removesuffix("index.html")
    charts: dict[str, str] = {}
    if page.primary is not None and page.entries:
        points = [
            {
                "name": entry.run.name or entry.run.run_id,
                "run_id": entry.run.run_id,
                "start_time": entry.run.start_time,
                "value": entry.value,
            }
            for entry in page.entries
        ]
        charts["primary"] = spec_to_json(
            primary_metric_spec(points, page.primary.name, page.primary.direction)
        )
        if page.varying_params:
            # The best runs only: beyond a thousand lines the chart is a solid block.
            rows = [
                {"name": entry.run.name or entry.run.run_id, **flat, page.primary.name: entry.value}
                for entry, flat in zip(
                    page.entries[:PARALLEL_RUNS], flats[:PARALLEL_RUNS], strict=True
                )
                if entry.value is not None
            ]
            params = _axes_worth_drawing(rows, page.varying_params, page.primary.name)
            if params:
                charts["parallel"] = spec_to_json(
                    parallel_coordinates_spec(rows, params, page.primary.name)
                )
    # Rows whose run is unchanged since the last build come encoded from the cache.
    cache = DerivedCache(page.experiment.path, "site-rows")
    encoded = encode_leaderboard(page, table, flats, cache=cache, run_keys=run_keys)
    cache.save()
    context = {
        "model": model,
        "page": page,
        "leaderboard_json": encoded.page_json,
        "charts": charts,
        "parallel_runs": PARALLEL_RUNS,
        "raw_url": _raw_url(model, commit, page.experiment.slug),
    }
    files[page.path] = _page(renderer, "experiment.html", page.path, context)
    files[f"{folder}runs.csv"] = encoded.csv
    files[f"{folder}runs.json"] = encoded.download_json


PARALLEL_AXES = 12
"""At most this many params get an axis in the parallel-coordinates chart."""

PARALLEL_RUNS = 1000
"""The parallel-coordinates chart draws the best-ranked runs, at most this many."""


def _axes_worth_drawing(rows: list[dict[str, Any]], params: list[str], metric: str) -> list[str]:
    """Params that take two or more values among the runs ranked by ``metric``.

    A param only some runs have (the parent of a sweep has none of its children's)
    varies across the experiment, yet draws as one flat line: leave it out.
    """
    ranked = [row for row in rows if row.get(metric) is not None]
    axes = []
    for key in params:
        if key == metric:
            continue
        values = {repr(row[key]) for row in ranked if row.get(key) is not None}
        if len(values) >= 2:
            axes.append(key)
    return axes[:PARALLEL_AXES]


def _render_registry(
    renderer: Renderer,
    model: SiteModel,
    registry: Registry,
    store: Path,
    files: dict[str, bytes | Path],
    report: BuildReport,
) -> None:
    """Render the registry's index and one page per registered model."""
    try:
        history = registry_history(store, registry)
    except GitError as exc:
        report.problems.append(f"{store}: cannot read the registry's history ({exc})")
        history = None
    views = build_model_views(registry, model, history)
    context = {"model": model, "models": views, "conflicts": registry.conflicts}
    files[MODELS_INDEX] = _page(renderer, "models.html", MODELS_INDEX, context)
    for view in views:
        page_context = {"model": model, "m": view, "history": view.history}
        files[view.path] = _page(renderer, "model.html", view.path, page_context)
    report.pages_rendered += 1 + len(views)


def _page(renderer: Renderer, template: str, path: str, context: dict[str, Any]) -> bytes:
    """Render one page to UTF-8 bytes."""
    return renderer.render(template, path, context).encode("utf-8")


def _site_globals(model: SiteModel, commit: StoreCommit | None) -> dict[str, Any]:
    """Values every template sees."""
    return {
        "site": model.config,
        "repository": model.repository,
        "store_commit": commit,
        "runfolio_version": __version__,
        "run_path": run_path,
    }


def _raw_url(model: SiteModel, commit: StoreCommit | None, inside_store: str) -> str | None:
    """The repository's web page for a folder of the store, at the commit the site shows."""
    if model.repository is None or commit is None or commit.sha is None:
        return None
    path = "/".join(part for part in (commit.relative, inside_store) if part)
    return model.repository.tree_url(commit.sha, path)


def _remote(remote_lookup: Future[str | None] | None) -> str | None:
    """The store repository's remote URL; None when not looked up or git failed.

    A failure here only costs the code links; :func:`_store_commit` reports git failing.
    """
    if remote_lookup is None:
        return None
    try:
        return remote_lookup.result()
    except GitError:
        return None


def _store_commit(
    store: Path, revision_lookup: Future[Any], model: SiteModel, problems: list[str]
) -> StoreCommit | None:
    """The commit the store is at; a git failure is a problem, not a failed build.

    ``revision_lookup`` runs :func:`~runfolio.gitrepo.folder_revision` in a thread
    started before the scan: git runs while the store is read.
    """
    try:
        revision = revision_lookup.result()
    except GitError as exc:
        problems.append(f"{store}: cannot read its git commit ({exc})")
        return None
    if revision is None:
        return None
    url = (
        model.repository.commit_url(revision.commit)
        if model.repository is not None and revision.commit
        else None
    )
    return StoreCommit(revision.commit, revision.dirty, url, revision.relative)


def _inside_store(text: str, store: Path) -> str:
    """A problem's text with the store's location on this machine taken out of its paths."""
    return text.replace(f"{store}{os.sep}", "").replace(str(store), ".")


def _site_problem(problem: Problem, store: Path) -> dict[str, str]:
    """A scan problem as the home page lists it: the path inside the store, not the disk's."""
    try:
        where = problem.path.relative_to(store).as_posix()
    except ValueError:
        where = problem.path.name
    return {"path": where or ".", "reason": problem.reason}


def _strict_message(problems: list[str]) -> str:
    """The error of a strict build: every problem, one per line."""
    count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"--strict: {count} in the store:\n{lines}"
