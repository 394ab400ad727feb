"""Themes: where templates and static files come from, as a chain of folders.

A site is rendered from, in order of precedence:

1. the user's override folder (``templates/`` and ``static/`` inside it), which may
   replace single templates or static files;
2. the chosen theme, when it is not the default: a theme name shipped with runfolio or
   a folder path;
3. the default theme (``themes/default``), which every theme extends.

A template can always reach the default theme's version of itself through the
``default:`` prefix (``{% extends "default:run.html" %}``), so an override can change
one block instead of copying the page. Templates whose names start with ``_`` are
partials, included by others, never rendered as pages. This is the only module that
imports jinja2.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runfolio.errors import RunfolioError

if TYPE_CHECKING:
    import jinja2

DEFAULT_THEME = "default"
TEMPLATES_DIR = "templates"
STATIC_DIR = "static"


class ThemeError(RunfolioError):
    """A theme cannot be found or is not a theme folder."""


@dataclass(frozen=True)
class ThemeChain:
    """The theme folders of one build, highest precedence first."""

    folders: tuple[Path, ...]

    @property
    def template_dirs(self) -> list[Path]:
        """The ``templates/`` folders that exist, highest precedence first."""
        return [f / TEMPLATES_DIR for f in self.folders if (f / TEMPLATES_DIR).is_dir()]

    @property
    def default_folder(self) -> Path:
        """The default theme's folder (always last in the chain)."""
        return self.folders[-1]

    def static_files(self) -> Iterator[tuple[str, Path]]:
        """Yield ``(relative POSIX path, file)`` for every static file, overrides winning.

        Symlinks are skipped: a theme is copied into the published site, and a link
        could point anywhere on the machine.
        """
        seen: set[str] = set()
        for folder in self.folders:
            root = folder / STATIC_DIR
            if not root.is_dir():
                continue
            for current, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not Path(current, d).is_symlink())
                for name in sorted(files):
                    path = Path(current, name)
                    relative = path.relative_to(root).as_posix()
                    if relative in seen or path.is_symlink():
                        continue
                    seen.add(relative)
                    yield relative, path


def default_theme_folder() -> Path:
    """The default theme shipped with runfolio."""
    return builtin_theme_folder(DEFAULT_THEME)


def builtin_theme_folder(name: str) -> Path:
    """The folder of a theme shipped with runfolio.

    Raises:
        ThemeError: no such theme ships with runfolio (the message lists those that do).
    """
    themes = importlib.resources.files("runfolio.themes")
    folder = Path(str(themes)) / name
    if not name or "/" in name or "\\" in name or name.startswith(".") or not folder.is_dir():
        shipped = sorted(
            p.name
            for p in Path(str(themes)).iterdir()
            if p.is_dir() and not p.name.startswith(("_", "."))
        )
        raise ThemeError(
            f"no theme named {name!r} ships with runfolio; available: {', '.join(shipped)}"
        )
    return folder


def resolve_theme_chain(
    theme: str | os.PathLike[str] | None = None,
    overrides: str | os.PathLike[str] | None = None,
    base: Path | None = None,
) -> ThemeChain:
    """Build the chain for a theme (a shipped name or a folder) and an override folder.

    Args:
        theme: ``None`` or ``"default"`` for the default theme, another shipped theme's
            name, or a path to a theme folder (relative paths start at ``base``).
        overrides: a folder whose ``templates/`` and ``static/`` override single files.
        base: where relative paths start (the repository root); the current folder
            when None.

    Raises:
        ThemeError: a named theme does not exist, or a folder is missing or holds
            neither ``templates/`` nor ``static/``.
    """
    start = base or Path.cwd()
    folders: list[Path] = []
    if overrides is not None:
        folders.append(_theme_folder(start / Path(overrides), "template override folder"))
    if theme is not None and str(theme) != DEFAULT_THEME:
        candidate = start / Path(theme)
        if isinstance(theme, str) and not candidate.exists() and os.sep not in theme:
            folders.append(builtin_theme_folder(theme))
        else:
            folders.append(_theme_folder(candidate, "theme folder"))
    folders.append(default_theme_folder())
    return ThemeChain(tuple(dict.fromkeys(f.resolve() for f in folders)))


def make_environment(chain: ThemeChain) -> jinja2.Environment:
    """A Jinja2 environment over the chain: autoescaping on, undefined names are errors.

    Every store value reaches templates as data, and autoescaping escapes it; only
    values the site marked safe on purpose (sanitised markdown) are not escaped.
    """
    import jinja2

    chain_loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(d) for d in chain.template_dirs])
    default_templates = chain.default_folder / TEMPLATES_DIR
    loader = jinja2.ChoiceLoader(
        [
            jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(default_templates)}, ":"),
            chain_loader,
        ]
    )
    return jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def page_templates(env: jinja2.Environment, names: Sequence[str] | None = None) -> list[str]:
    """Names of the page templates (not partials: those start with ``_``)."""
    listed = names if names is not None else env.list_templates(extensions=["html"])
    return sorted(
        name for name in listed if ":" not in name and not Path(name).name.startswith("_")
    )


def _theme_folder(path: Path, what: str) -> Path:
    """Check that ``path`` is a folder with templates/ or static/ inside."""
    if not path.is_dir():
        raise ThemeError(f"{what} {path} does not exist")
    if not (path / TEMPLATES_DIR).is_dir() and not (path / STATIC_DIR).is_dir():
        raise ThemeError(f"{what} {path} holds neither {TEMPLATES_DIR}/ nor {STATIC_DIR}/")
    return path
