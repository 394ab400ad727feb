"""``runfolio serve`` in headless Chromium: an open page reloads itself when the store changes.

The page is one in a sub-folder (a run page), under the site's own Content-Security-Policy;
the ``page`` fixture fails the test on a console error, a policy violation or a request
leaving 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from runfolio import Run, Store
from runfolio.site.serve import LiveSite

if TYPE_CHECKING:
    from playwright.sync_api import Page

DEADLINE_MS = 30_000  # a loaded CI machine is slow, a page that never reloads never gets there


class _Quiet:
    def __call__(self, message: str, err: bool = False) -> None:
        """Drop the server's messages."""


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveSite, Run]]:
    """A store with one run being logged, served and watched (closed after the page checks)."""
    monkeypatch.chdir(tmp_path)  # outside any git repository: the run captures no git state
    store = Store(tmp_path / "runs")
    with store.start_run("live", run_name="training") as run:
        run.log_metric("loss", 0.5, step=0)
        with LiveSite(store.root, tmp_path / "site", port=0, debounce=0.1, echo=_Quiet()) as site:
            yield site, run


def test_an_open_page_reloads_itself_and_shows_the_new_value(
    page: Page, served: tuple[LiveSite, Run], tmp_path: Path
) -> None:
    site, run = served
    page.goto(f"{site.url}experiments/live/runs/{run.run_id}.html")
    loss = page.locator("td.num span[title='0.5']")
    assert loss.count() > 0
    page.evaluate("() => { window.servedBeforeTheChange = true; }")

    run.log_metric("loss", 0.123456, step=1)  # nothing is done in the browser

    page.wait_for_function("() => !window.servedBeforeTheChange", timeout=DEADLINE_MS)
    page.wait_for_load_state("load")
    new_value = page.locator("td.num span[title='0.123456']").first
    new_value.wait_for(state="visible", timeout=DEADLINE_MS)
    page.screenshot(path=str(tmp_path / "reloaded.png"), full_page=True)
