"""Rendering: page templates plus a context in, HTML text out.

Templates see site-root-relative targets (``experiments/a/index.html``) and turn them
into links relative to the page being rendered with ``url()``, so the published site
works from ``file://`` and under any sub-path. Filters format the values a run store
holds (times, durations, numbers, sizes) the same way on every page. Rendering never
reads the store and never writes a file.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from runfolio.config_values import DEFAULT_LIMITS
from runfolio.site.sanitize import (
    escape_json_for_script,
    json_for_script,
    render_markdown,
    safe_url,
)
from runfolio.site.theme import ThemeChain, make_environment
from runfolio.store.secrets import redact_argv, strip_credentials

if TYPE_CHECKING:
    import jinja2

ASSETS_DIR = "assets"
"""Where the theme's static files go in the site."""


def relative_root(page_path: str) -> str:
    """The relative path from the page at ``page_path`` up to the site root (``.`` at the top)."""
    depth = page_path.count("/")
    return "/".join([".."] * depth) if depth else "."


def relative_url(page_path: str, target: str, fragment: str = "") -> str:
    """Link from the page at ``page_path`` to the site-root-relative ``target``, percent-encoded.

    ``target`` is a path, never parsed for ``#`` or ``?``: folder and artifact names from
    the store may hold either. A ``fragment`` is appended, encoded, after a ``#``.
    """
    if target:
        link = posixpath.relpath(target, posixpath.dirname(page_path) or ".")
        link = quote(link, safe="/")
    else:
        link = ""
    return f"{link}#{quote(fragment, safe='')}" if fragment else link


def format_time(value: Any) -> str:
    """Show an ISO 8601 UTC time as ``YYYY-MM-DD HH:MM:SS``; anything else as given."""
    if not isinstance(value, str) or not value:
        return "—"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        # astimezone() would read a naive time as the build machine's local time.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: Any) -> str:
    """Show seconds as ``4.2s``, ``3m 05s`` or ``1h 02m``; missing as an em dash."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return "—"
    if not math.isfinite(seconds) or seconds < 0:
        return "—"
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if not minutes:
        return f"{secs}s"
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def format_number(value: Any) -> str:
    """Show a metric or param value: up to 6 significant digits, NaN/inf as words."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    if isinstance(value, int):
        return str(value)
    return str(value)


def format_value(value: Any) -> str:
    """Show any stored value (params and tags): numbers as above, lists and text as written."""
    if isinstance(value, int | float | bool) or value is None:
        return format_number(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def format_size(size: Any) -> str:
    """Show a byte count as ``512 B``, ``3.4 KB``, ``12.0 MB``."""
    if not isinstance(size, int):
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        # Compare the value as shown, so 999,999 B is "1.0 MB", not "1000.0 KB".
        if round(value, 1) < 1000 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def short_sha(value: Any) -> str:
    """The first 8 characters of a commit sha, or an em dash."""
    return value[:8] if isinstance(value, str) and value else "—"


def _redacted_argv(argv: Any) -> list[str]:
    """A recorded command line with secret values hidden, as capture hides them now.

    Applied again on the page because runs recorded before the rule (or written by hand)
    may still hold them.
    """
    items = argv if isinstance(argv, list) else [argv]
    return redact_argv([str(item) for item in items])


def _without_credentials(url: Any) -> str:
    """A recorded remote URL without user name, password or secret query parameters."""
    return strip_credentials(str(url))


class Renderer:
    """Renders page templates of one theme chain with the site's filters and globals."""

    def __init__(self, chain: ThemeChain, site_globals: Mapping[str, Any]) -> None:
        self.env: jinja2.Environment = make_environment(chain)
        self.env.filters.update(
            time=format_time,
            duration=format_duration,
            number=format_number,
            value=format_value,
            filesize=format_size,
            short_sha=short_sha,
            json_script=json_for_script,
            script_safe_json=escape_json_for_script,
            redact_argv=_redacted_argv,
            without_credentials=_without_credentials,
        )
        self.env.globals.update(site_globals)
        site = site_globals.get("site")
        limits = getattr(site, "limits", DEFAULT_LIMITS)

        def markdown(text: Any, source: str = "", href: str | None = None) -> Any:
            return _markdown(text, limits.notes_chars, source, href)

        self.env.globals["markdown"] = markdown
        self.env.globals["safe_url"] = safe_url
        self._templates: dict[str, jinja2.Template] = {}

    def render(self, template: str, page_path: str, context: Mapping[str, Any]) -> str:
        """Render ``template`` as the page at site path ``page_path``.

        The template gets ``context`` plus ``page_path``, ``root`` (the relative way up
        to the site root), ``url(target, fragment="")`` and ``asset(name)``.
        """
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._templates[template] = self.env.get_template(template)

        def url(target: str, fragment: str = "") -> str:
            return relative_url(page_path, target, fragment)

        def asset(name: str) -> str:
            return relative_url(page_path, f"{ASSETS_DIR}/{name}")

        return compiled.render(
            {
                **context,
                "page_path": page_path,
                "root": relative_root(page_path),
                "url": url,
                "asset": asset,
            }
        )


def _markdown(text: Any, max_chars: int, source: str, href: str | None) -> Any:
    """Render untrusted markdown to sanitised HTML, marked safe for the template.

    Only the first ``max_chars`` characters are rendered; then a note says how much was
    left out and that the whole text is in ``source`` (a file of the repository, linked
    to ``href`` when given).
    """
    from markupsafe import Markup, escape

    if not isinstance(text, str) or not text.strip():
        return ""
    if len(text) <= max_chars:
        return Markup(render_markdown(text))
    where = ""
    if source:
        link = safe_url(href) if href else None
        named = f'<a href="{escape(link)}">{escape(source)}</a>' if link else escape(source)
        where = f": the whole text is in {named}"
    note = (
        f'<p class="note truncated">Truncated: showing the first {max_chars:,} of '
        f"{len(text):,} characters{where}.</p>"
    )
    return Markup(render_markdown(text[:max_chars]) + "\n" + note)
