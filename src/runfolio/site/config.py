"""The site settings in ``runfolio.yaml``, validated whole before anything is built.

Every problem in the file is collected, each under its key path, and reported in one
:class:`SiteConfigError`, so that a user fixes them all in one go instead of one per build.
The rules live in :mod:`runfolio.config_schema`, the validated values (plain frozen
dataclasses) in :mod:`runfolio.config_values`; this module loads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runfolio.config import CONFIG_FILE, ConfigError, read_config
from runfolio.config import parse_size as parse_size  # re-exported: sizes are site settings
from runfolio.config_values import SiteConfig


class SiteConfigError(ConfigError):
    """``runfolio.yaml`` holds one or more bad site settings; ``problems`` lists them all."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source}: {count} in the site settings:\n{lines}")


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
