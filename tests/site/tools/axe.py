"""Accessibility checks with axe-core, run inside a Playwright page."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SEVERE_IMPACTS = ("serious", "critical")

_RUN_AXE = """async (options) => {
    const results = await window.axe.run(document, options);
    return results.violations;
}"""


def axe_source() -> str:
    """Return the vendored axe-core script, after checking it is the pinned release.

    Raises:
        RuntimeError: The file's sha256 is not the pinned one (edited or replaced).
    """
    data = AXE_JS.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise RuntimeError(f"{AXE_JS} has sha256 {digest}, expected {AXE_SHA256} (see README)")
    return data.decode("utf-8")


def run_axe(
    page: Page,
    *,
    impacts: Iterable[str] = SEVERE_IMPACTS,
    options: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run axe-core on the page's current document and return its violations.

    The script is evaluated through the DevTools protocol rather than added as a
    ``<script>`` element, so a page's Content-Security-Policy cannot block it and the
    document under test gains no element. On ``file://`` pages axe's stylesheet preload
    is off (Chromium forbids those fetches), which only weakens the
    ``css-orientation-lock`` rule; serve the site with ``serve_dir`` to keep it.

    Args:
        page: A Playwright page, already navigated and loaded.
        impacts: Keep only violations of these impacts (axe: minor, moderate, serious,
            critical); by default serious and critical.
        options: axe.run options, e.g. ``{"runOnly": ["wcag2a", "wcag2aa"]}``.

    Returns:
        axe's violation objects (``id``, ``impact``, ``help``, ``nodes`` ...).
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {axe_source()}\n}}")
    settings: dict[str, Any] = {"resultTypes": ["violations"]}
    if page.url.startswith("file:"):
        # axe re-fetches stylesheets for its CSS rules; Chromium refuses XHR on file://
        # and logs console errors, which the page fixture would count against the page.
        settings["preload"] = False
    violations = page.evaluate(_RUN_AXE, {**settings, **(options or {})})
    wanted = set(impacts)
    return [v for v in violations if v.get("impact") in wanted]


def format_violations(violations: Iterable[dict[str, Any]]) -> str:
    """Return one line per violation and affected element, for an assertion message."""
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"]]
        lines.append(
            f"{violation['impact']}: {violation['id']}: {violation['help']} "
            f"({violation.get('helpUrl', '')}) at {', '.join(targets)}"
        )
    return "\n".join(lines)
