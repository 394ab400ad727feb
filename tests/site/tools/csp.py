"""Watch a Playwright page for Content-Security-Policy violations and for injected code.

:func:`watch` installs, before any script of the page runs, a listener for
``securitypolicyviolation`` events (the browser fires one for every load or execution
the page's policy refused, including ``eval`` refusals that log no console message) and
records every ``alert``/``confirm``/``prompt`` dialog; :func:`observe` reads what was
recorded for the page as it is now. Injected test payloads call those sinks:
``window.__pwned = n``, ``alert(n)``, ``document.title = ...`` or ``fetch('/pwned')``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page, Request

# Runs in every document of the page (frames too) before its own scripts; a policy
# cannot block it, since Playwright evaluates it through the DevTools protocol.
_WATCH_JS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ':' + event.lineNumber,
    sample: event.sample,
  });
});
"""

_OBSERVE_JS = """() => ({
  pwned: window.__pwned === undefined ? null : String(window.__pwned),
  title: document.title,
  violations: window.__cspViolations || [],
})"""

_META_RE = re.compile(
    r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', flags=re.IGNORECASE
)


@dataclass
class Watch:
    """What the page did that it should not have, across every document it loaded."""

    dialogs: list[str] = field(default_factory=list)
    sink_requests: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Observation:
    """The sinks and policy violations of the page's current document."""

    pwned: str | None
    title: str
    violations: list[dict[str, Any]]


def watch(page: Page, sink_path: str = "/pwned") -> Watch:
    """Record the page's dialogs, requests whose path ends with ``sink_path``, and CSP violations.

    Call before the first ``goto``. Dialogs are dismissed, so a payload that calls
    ``alert`` cannot stall the page.
    """
    seen = Watch()

    def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_request(request: Request) -> None:
        if urlsplit(request.url).path.endswith(sink_path):
            seen.sink_requests.append(request.url)

    page.add_init_script(_WATCH_JS)
    page.on("dialog", on_dialog)
    page.on("request", on_request)
    return seen


def observe(page: Page) -> Observation:
    """Read the sinks and the recorded policy violations of the page's current document."""
    found = page.evaluate(_OBSERVE_JS)
    return Observation(found["pwned"], found["title"], found["violations"])


def meta_policy(html: str) -> dict[str, list[str]] | None:
    """Parse the ``<meta http-equiv="Content-Security-Policy">`` of a page's HTML text.

    Returns:
        Directive name → its source list, or None when the page has no such element.
    """
    match = _META_RE.search(html)
    if match is None:
        return None
    policy: dict[str, list[str]] = {}
    for directive in match.group(1).split(";"):
        if directive.strip():
            name, *sources = directive.split()
            policy[name.lower()] = sources
    return policy
