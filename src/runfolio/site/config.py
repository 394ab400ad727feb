"""The site settings in ``runfolio.yaml``, validated whole before anything is built.

Every problem in the file is collected, each under its key path, and reported in one
:class:`SiteConfigError`, so that a user fixes them all in one go instead of one per build.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from runfolio.config import CONFIG_FILE, ConfigError, parse_size, read_config
from runfolio.gitrepo import UNTRACKED_MODES
from runfolio.objectstore.settings import RemoteSettings, check_remote_settings

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

_CONTROL_RE = re.compile(r"[\x00-\x20\x7f]")


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

    A key set to null counts as absent.

    Raises:
        SiteConfigError: listing every problem; ``source`` names the file in the message.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    known = [f.name for f in fields(SiteConfig)]
    for key, value in data.items():
        if key not in known:
            problems.append(_unknown_key(key, known, ""))
        elif value is not None:
            checked = _CHECKS[key](value, key, problems)
            if checked is not None:
                values[key] = checked
    if problems:
        raise SiteConfigError(source, problems)
    return SiteConfig(**values)


def parse_site_url(value: object, source: str = "--site-url") -> str:
    """Validate the URL of the published site's root; return it ending in ``/``.

    Args:
        value: an absolute ``http://`` or ``https://`` URL, such as
            ``https://org.github.io/repo``.
        source: what the value came from, for the error message.

    Raises:
        SiteConfigError: not such a URL (the problem is listed under ``site_url``).
    """
    problems: list[str] = []
    url = _check_site_url(value, "site_url", problems)
    if url is None:
        raise SiteConfigError(source, problems)
    return url


def _unknown_key(key: object, known: list[str], prefix: str) -> str:
    """Describe an unknown key, suggesting the closest known one."""
    path = f"{prefix}{key}"
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean '{prefix}{close[0]}'?" if close else f" (known: {', '.join(known)})"
    return f"{path}: unknown key{hint}"


def _type_name(value: object) -> str:
    """Name a YAML value's type the way a user wrote it."""
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _check_text(value: object, path: str, problems: list[str]) -> str | None:
    """Accept any text."""
    if isinstance(value, str):
        return value
    problems.append(f"{path}: expected text, got {_type_name(value)} {value!r}")
    return None


def _check_name(value: object, path: str, problems: list[str]) -> str | None:
    """Accept non-blank text."""
    text = _check_text(value, path, problems)
    if text is not None and not text.strip():
        problems.append(f"{path}: must not be empty")
        return None
    return text


def _check_http_url(value: object, path: str, problems: list[str], what: str) -> str | None:
    """Accept an absolute http(s) URL without credentials, spaces or control characters."""
    text = _check_name(value, path, problems)
    if text is None:
        return None
    text = text.strip()
    problem = None
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        parts, problem = None, f"{text!r} is not a URL ({exc})"
    if parts is None:
        pass
    elif parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        problem = f"{text!r} must be an http:// or https:// URL of {what}"
    elif _CONTROL_RE.search(text):
        problem = f"{text!r} must not contain spaces or control characters"
    elif parts.username or parts.password:
        # The URL is published on every page: a token pasted into it would leak.
        problem = "must not contain a user name or password (it is published on every page)"
    if problem:
        problems.append(f"{path}: {problem}")
        return None
    return text


def _check_url(value: object, path: str, problems: list[str]) -> str | None:
    """Accept the repository's web page; drop a trailing slash."""
    text = _check_http_url(value, path, problems, "the repository's web page")
    return None if text is None else text.rstrip("/")


def _check_site_url(value: object, path: str, problems: list[str]) -> str | None:
    """Accept the URL of the published site's root; end it with a slash."""
    text = _check_http_url(
        value, path, problems, "the published site's root, such as https://org.github.io/repo/"
    )
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        problems.append(f"{path}: {text!r} must not have a ?query or a #fragment")
        return None
    # The 404 page's <base href> must name a folder: without the slash, relative links
    # would resolve against the site's parent (https://org.github.io/ for /repo).
    return text if text.endswith("/") else f"{text}/"


def _check_experiments(
    value: object, path: str, problems: list[str]
) -> Mapping[str, ExperimentSettings] | None:
    """Accept ``{experiment name: {primary_metric, direction}}``."""
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping of experiment names, got {_type_name(value)}")
        return None
    known = [f.name for f in fields(ExperimentSettings)]
    result: dict[str, ExperimentSettings] = {}
    ok = True
    for name, settings in value.items():
        where = f"{path}.{name}"
        if not isinstance(name, str):
            problems.append(f"{where}: experiment names must be text, got {_type_name(name)}")
            ok = False
            continue
        if settings is None:
            settings = {}
        if not isinstance(settings, dict):
            problems.append(
                f"{where}: expected a mapping with primary_metric and direction, "
                f"got {_type_name(settings)}"
            )
            ok = False
            continue
        count = len(problems)
        entry: dict[str, str | None] = {}
        for key, item in settings.items():
            if key not in known:
                problems.append(_unknown_key(key, known, f"{where}."))
            elif item is None:
                continue
            elif key == "direction":
                if item in DIRECTIONS:
                    entry[key] = item
                else:
                    problems.append(
                        f"{where}.direction: {item!r} is not one of {', '.join(DIRECTIONS)}"
                    )
            else:
                entry[key] = _check_name(item, f"{where}.{key}", problems)
        if len(problems) > count:
            ok = False
        else:
            result[name] = ExperimentSettings(**entry)
    return MappingProxyType(result) if ok else None


def _check_columns(value: object, path: str, problems: list[str]) -> tuple[str, ...] | None:
    """Accept a list of run columns and ``metrics.X``/``params.X``/``tags.X`` names."""
    if not isinstance(value, list):
        problems.append(f"{path}: expected a list of column names, got {_type_name(value)}")
        return None
    count = len(problems)
    for index, column in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(column, str):
            problems.append(f"{where}: expected a column name, got {_type_name(column)} {column!r}")
            continue
        group, dot, key = column.partition(".")
        if dot and group in COLUMN_GROUPS:
            if not key:
                problems.append(f"{where}: {column!r} needs a key after '{group}.'")
            continue
        if column not in RUN_COLUMNS:
            choices = [*RUN_COLUMNS, *(f"{g}.<key>" for g in COLUMN_GROUPS)]
            close = difflib.get_close_matches(column, choices, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(
                f"{where}: unknown column {column!r}{hint} "
                f"(use {', '.join(RUN_COLUMNS)} or metrics.<key>, params.<key>, tags.<key>)"
            )
    return tuple(value) if len(problems) == count else None


def _check_size(value: object, path: str, problems: list[str]) -> int | None:
    """Accept a byte count or a size text."""
    try:
        return parse_size(value)
    except ValueError as exc:
        problems.append(f"{path}: {exc}")
        return None


def _check_refs(value: object, path: str, problems: list[str]) -> tuple[str, ...] | None:
    """Accept branch names or patterns: a list, or one text with commas (``main,exp/*``)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        problems.append(
            f"{path}: expected a list of branch names or patterns, like [main, 'exp/*']"
        )
        return None
    refs = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    bad = [ref for ref in refs if ref.startswith("-") or _CONTROL_RE.search(ref)]
    if bad:
        problems.append(f"{path}: {bad[0]!r} is not a branch name or pattern")
        return None
    return refs


def _check_untracked(value: object, path: str, problems: list[str]) -> str | None:
    """Accept which untracked files a run's patch holds (read by the tracking API)."""
    if value not in UNTRACKED_MODES:
        problems.append(f"{path}: {value!r} is not one of {', '.join(UNTRACKED_MODES)}")
        return None
    return str(value)


# The limits given as sizes (a byte count or a text with a unit); the others are counts.
_SIZE_LIMITS = frozenset({"preview_size", "page_preview_size"})


def _check_limits(value: object, path: str, problems: list[str]) -> SiteLimits | None:
    """Accept ``{limit name: positive number}``; sizes may be written with a unit."""
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping of limit names, got {_type_name(value)}")
        return None
    known = [f.name for f in fields(SiteLimits)]
    count = len(problems)
    checked: dict[str, int] = {}
    for key, item in value.items():
        where = f"{path}.{key}"
        if key not in known:
            problems.append(_unknown_key(key, known, f"{path}."))
        elif item is None:
            continue
        elif key in _SIZE_LIMITS:
            size = _check_size(item, where, problems)
            if size is not None and size < 1:
                problems.append(f"{where}: must be at least 1 byte")
            elif size is not None:
                checked[key] = size
        elif isinstance(item, bool) or not isinstance(item, int) or item < 1:
            problems.append(f"{where}: expected a whole number of at least 1, got {item!r}")
        else:
            checked[key] = item
    return SiteLimits(**checked) if len(problems) == count else None


_CHECKS = {
    "title": _check_name,
    "description": _check_text,
    "repository_url": _check_url,
    "experiments": _check_experiments,
    "default_columns": _check_columns,
    "refs": _check_refs,
    "artifact_size_limit": _check_size,
    "theme": _check_name,
    "store": _check_name,
    "site_url": _check_site_url,
    "artifacts": check_remote_settings,
    "capture_untracked": _check_untracked,
    "limits": _check_limits,
}
