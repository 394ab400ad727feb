"""The ``runfolio`` command line, over the store that ``--store`` names.

Commands, each a few lines over a documented function:

- reading runs: ``ls``, ``show``, ``search``, ``diff`` (:mod:`runfolio.query`,
  printed by :mod:`runfolio.console`);
- the site: ``build``, ``serve`` (:mod:`runfolio.site`) and ``init github``, the
  workflow that publishes it (:mod:`runfolio.publish`);
- pull requests and history: ``report``, ``reproduce`` (:mod:`runfolio.query`);
- the model registry: ``models ls|show|register|alias`` (:mod:`runfolio.registry`);
- object storage: ``pull`` (:mod:`runfolio.objectstore`);
- other trackers: ``import mlflow|dvclive``, ``export mlflow`` (:mod:`runfolio.interop`);
- upkeep: ``repair`` (:mod:`runfolio.store.repair`).

Options shared by several commands are defined once, below (``store_option``,
``strict_option``, ``format_option`` ...). The store is named one way, ``--store PATH``,
before the command name or after it; ``ls``, ``build``, ``serve`` and ``repair`` still
read it as a positional argument too, the older spelling, no longer shown in help.

Commands import their modules inside their bodies, so ``runfolio --help`` loads click
and nothing heavy (a test keeps pandas and yaml out). Every
:class:`~runfolio.errors.RunfolioError` ends the command with a one-line ``Error: ...``
on stderr and exit status 1 (2 for a filter or order-by clause that does not parse),
never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runfolio import __version__
from runfolio.console.safe import terminal_text
from runfolio.errors import FilterError, GitError, RunfolioError

_F = TypeVar("_F", bound=Callable[..., Any])


class _CommandError(click.ClickException):
    """A runfolio error shown as ``Error: message``, with its exit status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(terminal_text(message))
        # click types exit_code as a ClassVar, yet documents setting it per exception.
        self.exit_code = exit_code  # type: ignore[misc]


def _echo(message: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Print text that may hold store values, through the console's one neutraliser."""
    click.echo(terminal_text(message), nl=nl, err=err)


class _Group(click.Group):
    """The command group; turns runfolio's own errors into clean messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FilterError as exc:
            raise _CommandError(str(exc), exit_code=2) from exc
        except RunfolioError as exc:
            raise _CommandError(str(exc)) from exc


# --------------------------------------------------------------------------- shared options

_STORE_KEY = "runfolio.store"
"""Where ``ctx.meta`` (shared by the group and its commands) keeps the named store."""


def _remember_store(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """Keep the store a command line names; one named after the command name wins."""
    if value is None:
        return
    named = ctx.meta.get(_STORE_KEY)
    if named is not None and named[0] is ctx:
        raise click.UsageError("the store is named twice: give --store once", ctx)
    ctx.meta[_STORE_KEY] = (ctx, value)


def _store_root(ctx: click.Context) -> Path:
    """The store to read: the one ``--store`` names, else the configured default."""
    # Not at the top: the configuration reads YAML, which `runfolio --help` never needs.
    from runfolio.config import resolve_store

    named = ctx.meta.get(_STORE_KEY)
    return resolve_store(named[1] if named is not None else None)


store_option = click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    expose_value=False,
    callback=_remember_store,
    help="The run store folder. Default: $RUNFOLIO_STORE, else the 'store' key of "
    "runfolio.yaml, else runs/ at the root of the git repository.",
)
"""``--store PATH``, taken before the command name (``runfolio --store runs ls``) or after it."""


class _UnlistedArgument(click.Argument):
    """A positional argument left out of the usage line (kept for older command lines)."""

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        return []


legacy_store_argument = click.argument(
    "legacy_store",
    metavar="STORE",
    cls=_UnlistedArgument,
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
    expose_value=False,
    callback=_remember_store,
)
"""The store as a positional argument (``runfolio build runs``): the older spelling of
``--store``, still read by ls, build, serve and repair, and no longer shown in help."""

run_argument = click.argument("run_ref", metavar="RUN")
"""A run id, or a unique prefix of it."""

strict_option = click.option(
    "--strict", is_flag=True, help="Fail (exit status 1) if any run or file cannot be read."
)


def experiments_option(help: str) -> Callable[[_F], _F]:
    """``--experiment/-e NAME``, repeatable, as the ``experiments`` tuple."""
    return click.option(
        "--experiment", "-e", "experiments", multiple=True, metavar="NAME", help=help
    )


def format_option(choices: list[str], help: str) -> Callable[[_F], _F]:
    """``--format``, as ``output_format``; the first choice is the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def site_url_option(rest: str) -> Callable[[_F], _F]:
    """``--site-url URL``, checked as ``site_url`` is; ``rest`` ends its help sentence."""
    return click.option(
        "--site-url",
        default=None,
        metavar="URL",
        callback=lambda ctx, param, value: _check_site_url(value),
        help=f"The address the site is published at (https://org.github.io/repo/){rest}",
    )


def theme_option(rest: str) -> Callable[[_F], _F]:
    """``--theme NAME|PATH``, a theme's name or folder; ``rest`` ends its help sentence."""
    return click.option(
        "--theme",
        default=None,
        metavar="NAME|PATH",
        help=f"A shipped theme or a theme folder, {rest}",
    )


def tracking_uri_option(help: str) -> Callable[[_F], _F]:
    """``--tracking-uri URI`` (required): the MLflow to read or write."""
    return click.option("--tracking-uri", required=True, metavar="URI", help=help)


def _check_site_url(value: str | None) -> str | None:
    """Validate --site-url as a usage error, before anything is built."""
    from runfolio.site.config import SiteConfigError, parse_site_url

    if value is None:
        return None
    try:
        return parse_site_url(value)
    except SiteConfigError as exc:
        raise click.BadParameter(exc.problems[0].removeprefix("site_url: ")) from exc


# --------------------------------------------------------------------------- runfolio


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="runfolio", message="%(prog)s %(version)s"
)
@store_option
def main() -> None:
    """Track experiments in your repository and publish them as a static site.

    Run ids may be shortened to any unique prefix of the id or of its random part
    (the short ids that `runfolio ls` prints). --store may come before the command
    name or after it.
    """


# --------------------------------------------------------------------------- ls


@main.command("ls")
@legacy_store_argument
@experiments_option("Only this experiment (repeat for several).")
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Show at most N runs per experiment, newest first.",
)
@strict_option
@store_option
@click.pass_context
def ls_command(
    ctx: click.Context, experiments: tuple[str, ...], limit: int | None, strict: bool
) -> None:
    """List experiments and their runs, newest run first.

    A run or experiment that cannot be read is reported on stderr with its path and
    the reason, and the listing goes on (with --strict the exit status is then 1).
    """
    from runfolio.console.listing import render_listing
    from runfolio.query.details import scan_experiments
    from runfolio.query.ids import store_short_ids

    root = _store_root(ctx)
    scan = scan_experiments(root, experiments)
    for problem in scan.problems:
        _echo(f"warning: {problem}", err=True)
    _echo(render_listing(scan, store_short_ids(root), limit), nl=False)
    if strict and scan.problems:
        ctx.exit(1)


# --------------------------------------------------------------------------- show


@main.command("show")
@run_argument
@format_option(
    ["text", "json", "yaml"],
    'json and yaml are for programs; in json NaN and infinities are the strings "nan", '
    '"inf" and "-inf".',
)
@store_option
@click.pass_context
def show_command(ctx: click.Context, run_ref: str, output_format: str) -> None:
    """Show everything about one run: RUN is its id or a unique prefix."""
    from runfolio.console.run_view import render_run
    from runfolio.query.details import build_run_details
    from runfolio.query.runs import get_run

    root = _store_root(ctx)
    details = build_run_details(root, get_run(root, run_ref))
    text = render_run(details, output_format)
    # YAML is data for programs, written exactly; JSON is escaped already (to_json).
    (_echo if output_format == "text" else click.echo)(text, nl=False)


# --------------------------------------------------------------------------- search


@main.command("search")
@click.argument("filter_string", metavar="FILTER")
@experiments_option("Only runs of this experiment (repeat for several).")
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    metavar="CLAUSE",
    help="Sort key such as 'metrics.rmse ASC' (repeat for ties). Default: newest first.",
)
@click.option(
    "--max-results",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Show at most N runs (after ordering).",
)
@format_option(
    ["table", "csv", "json"],
    "csv has search_runs' (MLflow's) columns; json has one object per run.",
)
@click.option(
    "--columns",
    metavar="A,B,...",
    default=None,
    help="Metric, param and tag columns to show, e.g. 'rmse,params.lr,tags.team'. "
    "Default: every metric and param (and tag, for csv and json).",
)
@store_option
@click.pass_context
def search_command(
    ctx: click.Context,
    filter_string: str,
    experiments: tuple[str, ...],
    order_by: tuple[str, ...],
    max_results: int | None,
    output_format: str,
    columns: str | None,
) -> None:
    """Find runs matching an MLflow filter string.

    FILTER is e.g. "metrics.rmse < 0.8 and params.model = 'ridge'"; an empty FILTER ("")
    matches every run. Runs that cannot be read are left out (`runfolio ls` names them).
    """
    from runfolio.console.search_view import ColumnError, render_search
    from runfolio.query.ids import store_short_ids
    from runfolio.query.runs import search_records

    root = _store_root(ctx)
    runs = search_records(root, experiments or None, filter_string, order_by or None, max_results)
    short = store_short_ids(root) if output_format == "table" and runs else None
    try:
        text = render_search(runs, output_format, columns, short)
    except ColumnError as exc:
        raise click.BadParameter(str(exc), param_hint="--columns") from exc
    # CSV is data for programs, written exactly; JSON is escaped already (to_json).
    (_echo if output_format == "table" else click.echo)(text, nl=False)


# --------------------------------------------------------------------------- diff


@main.command("diff")
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--all", "show_all", is_flag=True, help="Show equal rows too, not only differences.")
@store_option
@click.pass_context
def diff_command(ctx: click.Context, run_a: str, run_b: str, show_all: bool) -> None:
    """Compare two runs: git commit, params, final metrics and tags.

    Rows that differ are marked ≠; a key only one run has shows — on the other side.
    When both runs share a primary metric, BETTER names the better run for it.
    """
    from runfolio.console.diff_view import render_diff
    from runfolio.query.diff import diff_runs

    diff = diff_runs(_store_root(ctx), run_a, run_b)
    _echo(render_diff(diff, show_all=show_all), nl=False)


# --------------------------------------------------------------------------- build


@main.command("build")
@legacy_store_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site"),
    show_default=True,
    help="The folder to write the site into (empty, new, or a previous runfolio site).",
)
@theme_option(
    "which may override single templates. Default: 'theme' in runfolio.yaml, else the "
    "default theme."
)
@strict_option
@click.option("--clean", is_flag=True, help="Delete the previous build and render everything.")
@site_url_option(", for the 404 page. Default: 'site_url' in runfolio.yaml.")
@click.option(
    "--refs",
    default=None,
    metavar="BRANCHES",
    help="Build one site from the store on several branches, read from git "
    "(e.g. 'main,feature/*'); each run is labelled with the branches holding it. "
    "Default: 'refs' in runfolio.yaml, else the store as it is on disk.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and errors.")
@store_option
@click.pass_context
def build_command(
    ctx: click.Context,
    output: Path,
    theme: str | None,
    strict: bool,
    clean: bool,
    site_url: str | None,
    refs: str | None,
    quiet: bool,
) -> None:
    """Build the static site of a run store.

    A run that cannot be read is reported on stderr with its path and left out; with
    --strict the build fails instead.
    """
    from runfolio.config import store_config_root
    from runfolio.console.progress import ProgressBar
    from runfolio.site.branches import parse_refs, snapshot_branches
    from runfolio.site.build import build_site
    from runfolio.site.config import load_site_config

    root = _store_root(ctx)
    config_root = store_config_root(root.absolute())
    patterns = parse_refs(refs) if refs is not None else load_site_config(config_root).refs
    # The snapshot stays locked until its build is done (see site.branches).
    snapshot = snapshot_branches(root, patterns) if patterns else contextlib.nullcontext()
    with snapshot as branches, ProgressBar("Rendering runs", enabled=not quiet) as bar:
        report = build_site(
            branches.root if branches else root,
            output,
            theme=theme,
            strict=strict,
            clean=clean,
            config_root=config_root,
            progress=bar,
            site_url=site_url,
            branches=branches,
        )
    for problem in report.problems:
        _echo(f"warning: {problem}", err=True)
    if not quiet:
        index = (output / "index.html").absolute()
        _echo(
            f"Built {report.pages:,} pages ({report.pages_written:,} rendered, "
            f"{report.runs_reused:,} kept), {report.files_written:,} files written, "
            f"{report.files_unchanged:,} unchanged, {report.files_removed:,} removed; "
            f"{report.runs_skipped:,} runs skipped; {report.seconds:.1f}s."
        )
        _echo(f"Open {index.as_uri()}")


# --------------------------------------------------------------------------- serve


@main.command("serve")
@legacy_store_argument
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8000,
    show_default=True,
    help="The port on 127.0.0.1 to serve on; 0 picks a free one.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Build the site into this folder and keep it. Default: a temporary folder, "
    "deleted on exit.",
)
@theme_option("as for `runfolio build`.")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Print one line per request, and the files whose change starts a rebuild.",
)
@store_option
@click.pass_context
def serve_command(
    ctx: click.Context,
    port: int,
    output: Path | None,
    theme: str | None,
    verbose: bool,
) -> None:
    """Build the site, serve it on 127.0.0.1 and rebuild it when anything changes.

    Changes to the store, the theme or runfolio.yaml are rebuilt once they settle, and
    open pages reload themselves. A failed rebuild prints its error and the last good
    site stays served. Ctrl-C stops.
    """
    from runfolio.site.serve import serve_site

    serve_site(_store_root(ctx), output, theme=theme, port=port, verbose=verbose, echo=_echo)


# --------------------------------------------------------------------------- repair


@main.command("repair")
@legacy_store_argument
@click.option("--dry-run", is_flag=True, help="List the files to rewrite; change nothing.")
@store_option
@click.pass_context
def repair_command(ctx: click.Context, dry_run: bool) -> None:
    """Rewrite the store's YAML files that an older runfolio wrote in a form YAML misreads.

    Such files (raw line separators inside text, keys over 1,024 characters) are
    reported by every reader with this command's name. Each is read as it was meant
    and written again; a file that cannot be read even so is reported on stderr,
    left as it is, and the exit status is 1.
    """
    from runfolio.store.repair import repair_store

    report = repair_store(_store_root(ctx), dry_run=dry_run)
    for path in report.rewritten:
        _echo(f"{'would rewrite' if dry_run else 'rewrote'} {path}")
    if not report.rewritten:
        _echo("nothing to repair")
    for problem in report.problems:
        _echo(f"error: {problem}", err=True)
    if report.problems:
        ctx.exit(1)


# --------------------------------------------------------------------------- models


@main.group("models")
def models_group() -> None:
    """The model registry: versions and aliases of models logged by runs."""


@models_group.command("ls")
@store_option
@click.pass_context
def models_ls_command(ctx: click.Context) -> None:
    """List registered models with their latest version and aliases."""
    from runfolio.console.models_view import render_models
    from runfolio.registry import read_registry

    _echo(render_models(read_registry(_store_root(ctx))), nl=False)


@models_group.command("show")
@click.argument("name")
@store_option
@click.pass_context
def models_show_command(ctx: click.Context, name: str) -> None:
    """Show every version of model NAME, newest first, and its history from git."""
    from runfolio.console.models_view import render_model
    from runfolio.registry import read_registry, registry_history

    root = _store_root(ctx)
    registry = read_registry(root)
    model = registry.model(name)
    no_history = "the store is not in a git repository"
    try:
        history = registry_history(root, registry)
    except GitError as exc:  # the versions are still worth showing
        history, no_history = None, f"git could not be read: {exc}"
    events = None if history is None else history.get(name, [])
    _echo(render_model(model, registry, events, no_history), nl=False)


@models_group.command("register")
@run_argument
@click.argument("name")
@click.option(
    "--model-path",
    default=None,
    metavar="PATH",
    help="The model folder under artifacts/ (default: the run's only model, else 'model').",
)
@store_option
@click.pass_context
def models_register_command(
    ctx: click.Context, run_ref: str, name: str, model_path: str | None
) -> None:
    """Register the model RUN logged as the next version of NAME."""
    from runfolio.registry import register_model

    version = register_model(_store_root(ctx), run_ref, name, model_path)
    _echo(f"Registered run {version.run_id} as {name} version {version.version}.")


@models_group.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=int)
@store_option
@click.pass_context
def models_alias_command(ctx: click.Context, name: str, alias: str, version: int) -> None:
    """Point ALIAS of model NAME at VERSION (taking it from the version that had it)."""
    from runfolio.registry import set_model_alias

    set_model_alias(_store_root(ctx), name, alias, version)
    _echo(f"{name}@{alias} now points to version {version}.")


# --------------------------------------------------------------------------- report


@main.command("report")
@click.option(
    "--base",
    "base_ref",
    required=True,
    metavar="REF",
    help="The revision to compare against: a branch, tag or commit (e.g. origin/main).",
)
@click.option(
    "--head",
    "head_ref",
    default="HEAD",
    show_default=True,
    metavar="REF",
    help="The revision with the changes.",
)
@format_option(
    ["markdown", "json"], "GitHub-flavoured markdown for a pull-request comment, or JSON."
)
@site_url_option("; run names then link to their pages.")
@store_option
@click.pass_context
def report_command(
    ctx: click.Context, base_ref: str, head_ref: str, output_format: str, site_url: str | None
) -> None:
    """Report the runs and models that changed in the store between two git revisions.

    Both revisions are read from git's objects: nothing is checked out, and in a
    shallow clone it is enough to fetch the base branch. New runs are ranked against
    the base's leaderboard. The markdown fits in one GitHub comment.
    """
    from runfolio.config import store_config_root
    from runfolio.query.report import compare_revisions
    from runfolio.site.config import load_site_config
    from runfolio.site.model import primary_override

    root = _store_root(ctx)
    config = load_site_config(store_config_root(root.absolute()))
    changes = compare_revisions(
        root, base_ref, head_ref, override=lambda experiment: primary_override(experiment, config)
    )
    if output_format == "json":
        from runfolio.console.report_json import render_report_json

        click.echo(render_report_json(changes, site_url=site_url), nl=False)  # escaped
    else:
        from runfolio.console.report_markdown import render_report_markdown

        _echo(render_report_markdown(changes, site_url=site_url), nl=False)


# --------------------------------------------------------------------------- reproduce


@main.command("reproduce")
@run_argument
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="Where to recreate the code (a new or empty folder). Default: a temporary folder.",
)
@click.option(
    "--exec", "execute", is_flag=True, help="Run the recorded command there, with this Python."
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="Recreate the commit even when the run did not record its uncommitted changes.",
)
@click.option(
    "--worktree-store",
    is_flag=True,
    help="With --exec: log the command's runs into the worktree's own store (removed with "
    "it) instead of this store.",
)
@store_option
@click.pass_context
def reproduce_command(
    ctx: click.Context,
    run_ref: str,
    folder: Path | None,
    execute: bool,
    allow_incomplete: bool,
    worktree_store: bool,
) -> None:
    """Recreate the code RUN used: its commit, its uncommitted diff, its command.

    The commit is checked out into a new git worktree (your own working tree is left
    alone) and the diff the run captured is applied, so the files are the ones the run
    saw. The recorded command is printed, or run with --exec; the runs it logs go to
    this store.
    """
    import os
    import subprocess
    import sys

    from runfolio.query.reproduce import reproduce_run

    store = _store_root(ctx)
    made = reproduce_run(store, run_ref, folder, allow_incomplete=allow_incomplete)
    diff = "plus its uncommitted changes" if made.patched else "(a clean tree)"
    if made.missing:
        diff = "without part of what the run saw"
    _echo(f"Recreated the code of run {made.run_id}: commit {made.commit[:8]} {diff}")
    for line in made.missing:
        _echo(f"warning: {line}", err=True)
    _echo(f"in {made.folder}")
    _echo(f"remove it with: {made.remove_command}")
    if made.params:
        params = ", ".join(f"{k}={v!r}" for k, v in sorted(made.params.items()))
        _echo(f"params: {params}")
    if not made.argv:
        _echo("The run recorded no entry point; there is no command to run.")
        return
    _echo(f"command: cd {made.folder} && {made.command}")
    if execute:
        env = dict(os.environ)
        if not worktree_store:
            env["RUNFOLIO_STORE"] = str(store.absolute())
        done = subprocess.run([sys.executable, *made.argv], cwd=made.folder, env=env, check=False)
        ctx.exit(done.returncode)


# --------------------------------------------------------------------------- init


@main.group("init")
def init_group() -> None:
    """Add files to your repository that publish the site of its store."""


@init_group.command("github")
@click.option(
    "--branch",
    default=None,
    metavar="NAME",
    help="The branch whose pushes publish the site. Default: the remote's default branch "
    "(origin/HEAD), else the current branch, else main.",
)
@click.option(
    "--python",
    "python_version",
    default="3.11",
    show_default=True,
    metavar="VERSION",
    help="The Python version the workflow runs runfolio with.",
)
@click.option(
    "--install",
    default=None,
    metavar="SPEC",
    help="What the workflow pip-installs: a requirement, a git URL or '.'. "
    "Default: runfolio>= this version.",
)
@click.option("--force", is_flag=True, help="Replace an existing workflow file.")
@store_option
@click.pass_context
def init_github_command(
    ctx: click.Context, branch: str | None, python_version: str, install: str | None, force: bool
) -> None:
    """Write .github/workflows/runfolio.yml: publish the site on GitHub Pages.

    The workflow builds the store's site on every push to the branch and deploys it to
    GitHub Pages; on pull requests it comments a report of the changed runs and uploads
    a preview of the site. It goes to the root of the git repository holding the store.
    """
    from runfolio.publish.github_workflow import write_github_workflow

    made = write_github_workflow(
        _store_root(ctx), branch=branch, python=python_version, install=install, force=force
    )
    where = made.path.relative_to(made.repo_root).as_posix()
    _echo(f"Wrote {made.path}")
    settings = made.settings
    _echo(f"It publishes the store '{settings.store}' from branch '{settings.branch}'.")
    if not made.store_exists:
        _echo(f"warning: {settings.store} does not exist yet: commit runs first.", err=True)
    site = made.pages_url or "https://<owner>.github.io/<repository>/"
    _echo(
        "Next steps:\n"
        f"  1. Commit and push it:  git add {where} && git commit -m 'Publish the runfolio site'"
        " && git push\n"
        '  2. On GitHub: Settings → Pages → Build and deployment → Source: "GitHub Actions".\n'
        f"  3. After the next push to {settings.branch}, the site is at {site}\n"
        "Pull requests get a comment reporting the changed runs and a preview of the site.\n"
        "Keep what runfolio writes out of git: add site/ and mlruns/ to .gitignore "
        "(runs never capture them either)."
    )


# --------------------------------------------------------------------------- pull


@main.command("pull")
@run_argument
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="Put the files in this folder instead of the run's artifacts/ folder.",
)
@store_option
@click.pass_context
def pull_command(ctx: click.Context, run_ref: str, dest: Path | None) -> None:
    """Fetch the artifacts RUN keeps in object storage, checking each file's sha256.

    Files already in place with the recorded hash are kept; a file that does not match
    its hash is not left in place, and the command fails naming it.
    """
    from runfolio.console.cells import format_size
    from runfolio.objectstore.transfer import pull_run
    from runfolio.store.scan import find_run

    _, run_dir = find_run(_store_root(ctx), run_ref)
    report = pull_run(run_dir, dest)
    if not report.pulled and not report.present:
        _echo(f"Run {run_dir.name} keeps no artifacts in object storage.")
        return
    _echo(
        f"Pulled {len(report.pulled)} file(s) ({format_size(report.bytes_pulled)}) of run "
        f"{run_dir.name} into {report.destination}"
        + (f"; {len(report.present)} already there." if report.present else ".")
    )


# --------------------------------------------------------------------------- import / export


def _echo_transfer(report: Any, verb: str, where: str) -> None:
    """Print an import or export summary, and what was left out as warnings."""
    for problem in report.problems:
        _echo(f"warning: {problem}", err=True)
    _echo(report.summary(verb, where), nl=False)


@main.group("import")
def import_group() -> None:
    """Bring runs from another tracker into the store (again: only what is new)."""


@import_group.command("mlflow")
@tracking_uri_option(
    "The MLflow to read: sqlite:///mlflow.db, a database URL, http://host:5000, "
    "or the path of an mlruns/ folder or .db file."
)
@experiments_option(
    "Import this MLflow experiment (repeat for several). Default: every active experiment."
)
@store_option
@click.pass_context
def import_mlflow_command(
    ctx: click.Context, tracking_uri: str, experiments: tuple[str, ...]
) -> None:
    """Import MLflow experiments, runs, metric histories, artifacts and registered models.

    Needs MLflow (pip install 'runfolio[mlflow]'). Running it again adds only new runs,
    rows, params, tags and files; runs already imported are not duplicated.
    """
    from runfolio.interop.mlflow_import import import_mlflow

    report = import_mlflow(_store_root(ctx), tracking_uri, experiments)
    _echo_transfer(report, "Imported", f"from {tracking_uri}")


@import_group.command("dvclive")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--experiment",
    default=None,
    metavar="NAME",
    help="The experiment to import into. Default: the folder's project (the folder "
    "holding PATH when PATH is named dvclive, else PATH's name).",
)
@click.option(
    "--run-name", default=None, metavar="NAME", help="The run's name. Default: PATH's name."
)
@store_option
@click.pass_context
def import_dvclive_command(
    ctx: click.Context, path: Path, experiment: str | None, run_name: str | None
) -> None:
    """Import a DVCLive output folder (params, metric histories, plots, images) as one run."""
    from runfolio.interop.dvclive import import_dvclive

    report = import_dvclive(_store_root(ctx), path, experiment=experiment, run_name=run_name)
    _echo_transfer(report, "Imported", f"from {path}")


@main.group("export")
def export_group() -> None:
    """Write the store's runs into another tracker."""


@export_group.command("mlflow")
@tracking_uri_option("The MLflow to write to (as for `runfolio import mlflow`).")
@experiments_option(
    "Export this experiment (repeat for several). Default: every experiment of the store."
)
@store_option
@click.pass_context
def export_mlflow_command(
    ctx: click.Context, tracking_uri: str, experiments: tuple[str, ...]
) -> None:
    """Export runs, metric histories, artifacts and the model registry to MLflow.

    Runs MLflow already has (from an earlier export, or imported from it) are skipped.
    """
    from runfolio.interop.mlflow_export import export_mlflow

    report = export_mlflow(_store_root(ctx), tracking_uri, experiments)
    _echo_transfer(report, "Exported", f"to {tracking_uri}")


# --------------------------------------------------------------------------- config


@main.group("config")
def config_group() -> None:
    """Work with runfolio.yaml, the settings file."""


@config_group.command("schema")
def config_schema_command() -> None:
    """Print the JSON Schema of runfolio.yaml, for editor completion and checks.

    docs/runfolio.schema.json holds the same text (docs/configuration.md shows how to
    point an editor at it).
    """
    from runfolio.config_schema import render_json_schema

    _echo(render_json_schema(), nl=False)
