"""The site settings in ``runfolio.yaml``, validated whole before anything is built.

Every problem in the file is collected, each under its key path, and reported in one
:class:`SiteConfigError`, so that a user fixes them all in one go instead of one per build.
The rules live in :mod:`runfolio.config_schema`; this module holds the validated values
(plain frozen dataclasses, light to import) and loads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from runfolio.config import CONFIG_FILE, ConfigError, read_config
from runfolio.config import parse_size as parse_size  # re-exported: sizes are site settings
from runfolio.objectstore.settings import RemoteSettings

DIRECTIONS = ("minimize", "maximize")
DEFAULT_TITLE = "runfolio"
DEFAULT_THEME = "default"
DEFAULT_ARTIFACT_SIZE_LIMIT = 5_000_000  # "5 MB", decimal like the unit it is written in

# The run attributes a leaderboard can show besides ``metrics.*``, ``params.*`` and
# ``tags.*``: ``search_runs``' (MLflow's) column names, plus the two the site derives.
RUN_COLUMNS = (
    "run_id",
    "run_name",
    "experiment_name",
    "status",
    "start_time",
    "end_time",
    "duration",
    "user_id",
    "commit",
    "parent_run_id",
)
COLUMN_GROUPS = ("metrics", "params", "tags")


class SiteConfigError(ConfigError):
    """``runfolio.yaml`` holds one or more bad site settings; ``problems`` lists them all."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source}: {count} in the site settings:\n{lines}")


@dataclass(frozen=True)
class ExperimentSettings:
    """Overrides for one experiment; ``None`` keeps what its ``experiment.yaml`` says."""

    primary_metric: str | None = None
    direction: str | None = None


@dataclass(frozen=True)
class SiteLimits:
    """How much of the store one page renders: every untrusted input has a budget.

    A store may come from a pull request: without these, a few kilobytes (in git) of
    notes, previews or metric keys made a build take minutes and a page hundreds of
    megabytes. What a budget leaves out is named on the page, with where to find it.
    The ``limits`` key of ``runfolio.yaml`` overrides each (docs/configuration.md).

    Attributes:
        notes_chars: characters of one markdown text rendered (a run's or experiment's
            notes, the site description); the rest is left out with a note.
        preview_size: bytes of one file read for its text preview.
        preview_lines: lines of one file's text preview.
        preview_rows: rows of a CSV/TSV preview's table, besides the header.
        preview_columns: columns of a CSV/TSV preview's table.
        page_preview_size: bytes of previews on one run page (as escaped HTML), all
            files together; a file whose preview does not fit in what is left is
            listed with its download link only.
        charts: metric charts on one run page (the first metrics by name).
        table_rows: rows of a run page's params, metrics and tags tables (each).
    """

    notes_chars: int = 100_000
    preview_size: int = 256 * 1024
    preview_lines: int = 2_000
    preview_rows: int = 100
    preview_columns: int = 30
    page_preview_size: int = 4_000_000
    charts: int = 100
    table_rows: int = 1_000


DEFAULT_LIMITS = SiteLimits()


@dataclass(frozen=True)
class SiteConfig:
    """The validated site settings, with a default for every key that is absent."""

    title: str = DEFAULT_TITLE
    description: str = ""
    repository_url: str | None = None
    experiments: Mapping[str, ExperimentSettings] = field(
        default_factory=lambda: MappingProxyType({})
    )
    default_columns: tuple[str, ...] = ()
    artifact_size_limit: int = DEFAULT_ARTIFACT_SIZE_LIMIT
    theme: str = DEFAULT_THEME
    store: str | None = None
    site_url: str | None = None
    artifacts: RemoteSettings | None = None
    refs: tuple[str, ...] = ()
    capture_untracked: str | None = None
    limits: SiteLimits = DEFAULT_LIMITS


def load_site_config(root: Path) -> SiteConfig:
    """Read and validate the site settings in ``<root>/runfolio.yaml``.

    A missing file gives the defaults.

    Raises:
        SiteConfigError: the file is not valid YAML, or holds any bad or unknown key;
            the error lists every problem found, each with its key path.
    """
    source = str(root / CONFIG_FILE)
    try:
        data = read_config(root)
    except SiteConfigError:
        raise
    except ConfigError as exc:
        raise SiteConfigError(source, [str(exc).removeprefix(f"{source}: ")]) from exc
    return parse_site_config(data, source)


def parse_site_config(data: Mapping[str, Any], source: str = CONFIG_FILE) -> SiteConfig:
    """Validate a mapping of settings (as read from ``runfolio.yaml``) into a :class:`SiteConfig`.

    A key set to null counts as absent. The rules are those of
    :mod:`runfolio.config_schema`, the one schema of the file.

    Raises:
        SiteConfigError: listing every problem; ``source`` names the file in the message.
    """
    from runfolio.config_schema import ConfigProblems, validate_site

    try:
        return validate_site(data)
    except ConfigProblems as exc:
        raise SiteConfigError(source, list(exc.problems)) from None


def parse_site_url(value: object, source: str = "--site-url") -> str:
    """Validate the URL of the published site's root; return it ending in ``/``.

    Args:
        value: an absolute ``http://`` or ``https://`` URL, such as
            ``https://org.github.io/repo``.
        source: what the value came from, for the error message.

    Raises:
        SiteConfigError: not such a URL (the problem is listed under ``site_url``).
    """
    from runfolio.config_schema import ConfigProblems, validate_site_url

    try:
        return validate_site_url(value)
    except ConfigProblems as exc:
        raise SiteConfigError(source, list(exc.problems)) from None
