"""``runfolio init github``: a GitHub Actions workflow that publishes the site on Pages.

The workflow is written once and then belongs to the user, like any file they commit:
runfolio never reads it back or updates it. On a push to the default branch it builds
the site with ``--strict`` and deploys it to GitHub Pages; on a pull request it posts
(and keeps updating) one comment with ``runfolio report`` and uploads the site built
from the pull request as a downloadable preview.

Every value the workflow's shell scripts use reaches them through ``env:``, never through
``${{ }}`` inside ``run:``, so a branch name or pull-request title cannot inject shell
code; the values runfolio writes itself are checked and quoted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runfolio import __version__
from runfolio.errors import GitError, RunfolioError
from runfolio.gitrepo import find_repo_root
from runfolio.gitrunner import run_git

WORKFLOW_PATH = ".github/workflows/runfolio.yml"
"""Where the workflow goes, relative to the repository root."""

REPORT_MARKER = "<!-- runfolio-report -->"
"""The hidden first line of the pull-request comment, by which the workflow finds it again."""

DEFAULT_PYTHON = "3.11"
DEFAULT_BRANCH = "main"

# The current major versions of the official actions the workflow uses.
ACTIONS = {
    "checkout": "actions/checkout@v7",
    "setup-python": "actions/setup-python@v7",
    "configure-pages": "actions/configure-pages@v6",
    "upload-pages-artifact": "actions/upload-pages-artifact@v5",
    "deploy-pages": "actions/deploy-pages@v5",
    "upload-artifact": "actions/upload-artifact@v7",
}

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# What git refuses in a branch name (git check-ref-format), plus spaces.
_BAD_BRANCH_RE = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|\.lock(?:/|$)")
_PYTHON_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+\-]*$")
_GITHUB_REMOTE_RE = re.compile(
    r"github\.com[:/]+(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


class WorkflowError(RunfolioError):
    """The workflow cannot be written: no repository, a bad option, or the file exists."""


@dataclass(frozen=True)
class WorkflowSettings:
    """What the generated workflow is made from.

    Attributes:
        store: the store's path relative to the repository root, ``/``-separated.
        branch: the branch whose pushes publish the site.
        python: the Python version the workflow sets up.
        install: what ``pip install`` installs to get runfolio.
    """

    store: str
    branch: str
    python: str = DEFAULT_PYTHON
    install: str = f"runfolio>={__version__}"


@dataclass(frozen=True)
class WrittenWorkflow:
    """What :func:`write_github_workflow` did.

    Attributes:
        path: the workflow file written.
        repo_root: the root of the repository holding the store.
        settings: what the workflow was made from.
        pages_url: where GitHub Pages will serve the site, when ``origin`` is on GitHub.
        store_exists: whether the store folder exists yet (the build fails without it).
    """

    path: Path
    repo_root: Path
    settings: WorkflowSettings
    pages_url: str | None
    store_exists: bool


def write_github_workflow(
    store: Path,
    *,
    branch: str | None = None,
    python: str = DEFAULT_PYTHON,
    install: str | None = None,
    force: bool = False,
) -> WrittenWorkflow:
    """Write ``.github/workflows/runfolio.yml`` at the root of the repository holding ``store``.

    Args:
        store: the run store the site is built from; it must be inside a git repository.
        branch: the branch to publish from. Default: the remote's default branch
            (``origin/HEAD``), else the current branch, else ``main``.
        python: the Python version for ``actions/setup-python``.
        install: the pip requirement that installs runfolio (a version range, a git URL,
            ``.``). Default: ``runfolio>=`` this version.
        force: overwrite an existing workflow file.

    Raises:
        WorkflowError: the store is not in a git repository, an option is not usable,
            or the file exists and ``force`` is false.
    """
    store = Path(store).expanduser().absolute()
    root = find_repo_root(store)
    if root is None:
        raise WorkflowError(
            f"{store} is not inside a git repository: the workflow goes into the repository "
            "that holds the store (run `git init` there, or pass --store)"
        )
    settings = WorkflowSettings(
        store=_store_path(store, root),
        branch=_check_branch(branch if branch is not None else detect_default_branch(root)),
        python=_check_python(python),
        install=_check_install(install if install is not None else f"runfolio>={__version__}"),
    )
    path = root / WORKFLOW_PATH
    if path.exists() and not force:
        raise WorkflowError(
            f"{path} already exists; pass --force to replace it (edits made to it are lost)"
        )
    text = render_github_workflow(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return WrittenWorkflow(path, root, settings, github_pages_url(root), store.is_dir())


def detect_default_branch(repo_root: Path) -> str:
    """The branch a repository publishes from: ``origin/HEAD``'s, else the current one, else main.

    ``origin/HEAD`` is set by ``git clone`` (and ``git remote set-head origin --auto``) to
    the branch GitHub calls the default. A detached HEAD, a repository without git
    installed or any git failure falls through to the next choice.
    """
    for args, prefix in (
        (["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"], "origin/"),
        (["symbolic-ref", "--quiet", "--short", "HEAD"], ""),
    ):
        name = _git_text(repo_root, args)
        if name and name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return DEFAULT_BRANCH


def github_pages_url(repo_root: Path) -> str | None:
    """Where GitHub Pages serves the repository's site, from its ``origin`` remote.

    Returns:
        ``https://<owner>.github.io/<repo>/`` (``https://<owner>.github.io/`` for the
        ``<owner>.github.io`` repository), or None when ``origin`` is not on github.com.
    """
    url = _git_text(repo_root, ["remote", "get-url", "origin"])
    match = _GITHUB_REMOTE_RE.search(url or "")
    if match is None:
        return None
    owner, repo = match.group("owner").lower(), match.group("repo")
    if repo.lower() == f"{owner}.github.io":
        return f"https://{owner}.github.io/"
    return f"https://{owner}.github.io/{repo}/"


def render_github_workflow(settings: WorkflowSettings) -> str:
    """Return the workflow's YAML text for ``settings`` (already checked)."""
    values = {
        "@VERSION@": __version__,
        "@BRANCH@": settings.branch,
        "@STORE@": settings.store,
        "@BRANCH_FILTER@": _yaml_quote(_branch_filter(settings.branch)),
        "@STORE_VALUE@": _yaml_quote(settings.store),
        "@INSTALL_VALUE@": _yaml_quote(settings.install),
        "@PYTHON_VALUE@": _yaml_quote(settings.python),
        "@MARKER@": REPORT_MARKER,
        **{f"@{name.upper()}@": action for name, action in ACTIONS.items()},
    }
    text = _TEMPLATE
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def _store_path(store: Path, root: Path) -> str:
    """The store's path from the repository root, as the workflow's shell sees it."""
    try:
        relative = store.resolve().relative_to(root)
    except ValueError as exc:
        raise WorkflowError(f"the store {store} is not inside the repository {root}") from exc
    text = relative.as_posix()
    if _CONTROL_RE.search(text) or "${{" in text:
        raise WorkflowError(
            f"the store path {text!r} holds a control character or '${{{{', which a "
            "workflow cannot carry; move the store"
        )
    # A path starting with '-' would read as an option of `runfolio build`.
    return f"./{text}" if text.startswith("-") else text


def _check_branch(branch: str) -> str:
    """Refuse a branch name git would refuse (the workflow filter needs a real one)."""
    if (
        not branch
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", ".", ".lock"))
        or branch == "@"
        or _BAD_BRANCH_RE.search(branch)
        or "${{" in branch
    ):
        raise WorkflowError(f"--branch: {branch!r} is not a valid git branch name")
    return branch


def _check_python(version: str) -> str:
    """Accept a Python version setup-python understands (``3.11``, ``3.x``, ``pypy3.10``)."""
    if not _PYTHON_RE.match(version):
        raise WorkflowError(f"--python: {version!r} is not a Python version such as 3.11")
    return version


def _check_install(spec: str) -> str:
    """Accept one pip requirement, URL or path on one line."""
    if not spec.strip() or _CONTROL_RE.search(spec) or "${{" in spec:
        raise WorkflowError(
            f"--install: {spec!r} must be one pip requirement on one line, "
            "such as 'runfolio>=0.1' or 'git+https://github.com/org/runfolio'"
        )
    return spec.strip()


def _branch_filter(branch: str) -> str:
    """Escape a branch name for an ``on.push.branches`` pattern (``+`` and a leading ``!``)."""
    escaped = branch.replace("+", "\\+")
    return f"\\{escaped}" if escaped.startswith("!") else escaped


def _yaml_quote(text: str) -> str:
    """A single-quoted YAML scalar: no escapes apply inside it but a doubled quote."""
    return "'" + text.replace("'", "''") + "'"


def _git_text(repo_root: Path, args: list[str]) -> str | None:
    """The first line git prints for ``args``, or None when it fails or is not installed."""
    try:
        status, out, _ = run_git(repo_root, args, check=False)
    except GitError:
        return None
    lines = out.decode("utf-8", "replace").splitlines()
    return lines[0].strip() if status == 0 and lines else None


# Placeholders are @NAME@ so that the workflow's own ${{ }} expressions stay as written.
_TEMPLATE = """\
# Generated by `runfolio init github` (runfolio @VERSION@). It is yours to edit: runfolio
# never reads or rewrites it (`runfolio init github --force` writes a fresh one).
#
# One-time setup on GitHub: Settings -> Pages -> Build and deployment -> Source:
# "GitHub Actions".
#
# - A push to @BRANCH@ (or "Run workflow" in the Actions tab) builds the site of the
#   store "@STORE@" and publishes it on GitHub Pages.
# - A pull request gets one comment, updated on every push, reporting the runs and
#   models it adds or changes, and the site built from it as the artifact
#   "runfolio-site" (download it, unzip it, open index.html).
name: runfolio

on:
  push:
    branches: [@BRANCH_FILTER@]
  pull_request:
  workflow_dispatch:

# Each job asks for the permissions it needs, no more.
permissions: {}

env:
  # The store, relative to the repository root; runfolio reads RUNFOLIO_STORE.
  RUNFOLIO_STORE: @STORE_VALUE@
  # What pip installs: pin a version range, or use a git URL or '.' instead.
  RUNFOLIO_INSTALL: @INSTALL_VALUE@

jobs:
  build:
    if: github.event_name != 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 30
    permissions:
      contents: read
      pages: read
    steps:
      - uses: @CHECKOUT@
        with:
          # The whole history: the model registry pages read it.
          fetch-depth: 0
          persist-credentials: false
      - uses: @SETUP-PYTHON@
        with:
          python-version: @PYTHON_VALUE@
      - name: Install runfolio
        run: python -m pip install "$RUNFOLIO_INSTALL"
      - id: pages
        uses: @CONFIGURE-PAGES@
      - name: Build the site
        env:
          # The site's root URL: the 404 page, served at any missing path, needs it.
          SITE_URL: ${{ steps.pages.outputs.base_url }}/
        run: runfolio build "$RUNFOLIO_STORE" --output _site --strict --site-url "$SITE_URL"
      - uses: @UPLOAD-PAGES-ARTIFACT@
        with:
          path: _site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    timeout-minutes: 15
    permissions:
      pages: write
      id-token: write
    # One deployment at a time; a newer one waits rather than cancelling a running one.
    concurrency:
      group: pages
      cancel-in-progress: false
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: @DEPLOY-PAGES@

  pull-request:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 30
    permissions:
      contents: read
      pull-requests: write
    # A new push to the pull request supersedes the run for the previous one.
    concurrency:
      group: runfolio-pr-${{ github.event.pull_request.number }}
      cancel-in-progress: true
    steps:
      - uses: @CHECKOUT@
        with:
          # The whole history: the report compares the base branch with the pull request.
          fetch-depth: 0
          persist-credentials: false
      - uses: @SETUP-PYTHON@
        with:
          python-version: @PYTHON_VALUE@
      - name: Install runfolio
        run: python -m pip install "$RUNFOLIO_INSTALL"
      - name: Report the changed runs
        id: report
        env:
          BASE_REF: ${{ github.base_ref }}
        run: |
          {
            echo '@MARKER@'
            runfolio report --base "origin/$BASE_REF" --head HEAD
          } > report.md
      - name: Build the site preview
        id: build
        run: runfolio build "$RUNFOLIO_STORE" --output _site --strict
      - name: Upload the site preview
        id: preview
        uses: @UPLOAD-ARTIFACT@
        with:
          name: runfolio-site
          path: _site
          if-no-files-found: error
          retention-days: 14
      - name: Comment on the pull request
        if: ${{ !cancelled() && steps.report.outcome == 'success' }}
        env:
          GH_TOKEN: ${{ github.token }}
          REPOSITORY: ${{ github.repository }}
          PR_NUMBER: ${{ github.event.pull_request.number }}
          PREVIEW_URL: ${{ steps.preview.outputs.artifact-url }}
          FROM_FORK: ${{ github.event.pull_request.head.repo.full_name != github.repository }}
        run: |
          if [ -n "$PREVIEW_URL" ]; then
            printf '\\n[Preview of the site](%s): download it, unzip it, open index.html.\\n' \\
              "$PREVIEW_URL" >> report.md
          else
            printf '\\nThe site did not build with --strict: see the workflow run.\\n' >> report.md
          fi
          cat report.md >> "$GITHUB_STEP_SUMMARY"
          if [ "$FROM_FORK" = true ]; then
            echo "A fork's pull request has a read-only token: the report is in the job summary."
            exit 0
          fi
          jq --raw-input --slurp '{body: .}' report.md > comment.json
          # The comment this workflow posted before, found by its hidden first line.
          comment_id=$(gh api --paginate "repos/$REPOSITORY/issues/$PR_NUMBER/comments" \\
            --jq '.[] | select(.user.login == "github-actions[bot]")
              | select(.body | startswith("@MARKER@")) | .id' | sed -n 1p)
          if [ -n "$comment_id" ]; then
            gh api --method PATCH "repos/$REPOSITORY/issues/comments/$comment_id" \\
              --input comment.json --silent
          else
            gh api --method POST "repos/$REPOSITORY/issues/$PR_NUMBER/comments" \\
              --input comment.json --silent
          fi
"""
