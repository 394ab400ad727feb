"""Pieces of the browser harness that tests import: problem records and URL rules."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

REQUIRE_BROWSER_ENV = "RUNFOLIO_REQUIRE_BROWSER"
_LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def is_local_url(url: str) -> bool:
    """Tell whether a page may request ``url`` (file/data/blob/about, or the local server)."""
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "ws") and parts.hostname in _LOCAL_HOSTS


def unavailable(reason: str) -> NoReturn:
    """Skip the test for a missing tool, or fail it when the environment requires the tool."""
    if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_ENV}=1 requires it; .ci/run installs it)")
    pytest.skip(reason)


@dataclass
class PageProblems:
    """What went wrong on the pages of one test, as the browser reported it."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (
                self.console_errors,
                self.page_errors,
                self.outside_requests,
                self.blocked_requests,
                self.csp_violations,
            )
        )

    def report(self) -> str:
        """Return every problem, one per line, for a failure message."""
        lines = [f"console error: {m}" for m in self.console_errors]
        lines += [f"page error: {m}" for m in self.page_errors]
        lines += [f"Content-Security-Policy violation: {m}" for m in self.csp_violations]
        lines += [f"request outside file:// and 127.0.0.1: {u}" for u in self.outside_requests]
        lines += [
            f"blocked request: {u}" for u in self.blocked_requests if u not in self.outside_requests
        ]
        return "\n".join(lines)

    def assert_clean(self) -> None:
        """Raise AssertionError naming every problem, if there was any."""
        if self:
            raise AssertionError("the page had problems:\n" + self.report())
