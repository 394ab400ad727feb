"""A FAILED run's page says why it failed, escaped, in real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page

import runfolio
from runfolio.site.build import build_site


@pytest.fixture
def failed_site(tmp_path: Path) -> Path:
    store = tmp_path / "runs"
    runfolio.set_store(store)
    try:
        runfolio.set_experiment("failing")
        with pytest.raises(ValueError), runfolio.start_run(run_name="diverged") as run:
            runfolio.log_metric("loss", 0.5)
            raise ValueError("loss is nan at step 3 <img src=x onerror=alert(1)>")
        with runfolio.start_run(run_name="fine"):
            runfolio.log_metric("loss", 0.1)
    finally:
        runfolio.set_store(None)
    record = yaml.safe_load((run.path / "run.yaml").read_text(encoding="utf-8"))
    assert record["failure"]["type"] == "ValueError"
    build_site(store, tmp_path / "site")
    return tmp_path / "site"


def test_the_run_page_shows_why_the_run_failed(failed_site: Path, page: Page) -> None:
    (diverged,) = [
        p
        for p in failed_site.rglob("*.html")
        if "diverged" in p.read_text() and "/runs/" in p.as_posix()
    ]
    page.goto(diverged.as_uri())
    section = page.locator("#failure")
    assert section.locator("h2").inner_text() == "Why it failed"
    assert section.locator(".failure-type").inner_text() == "ValueError"
    message = section.locator(".failure-message").inner_text()
    assert message == "loss is nan at step 3 <img src=x onerror=alert(1)>"
    assert section.locator("img").count() == 0  # escaped, never markup
    traceback = section.locator(".failure-traceback").inner_text()
    assert "raise ValueError(" in traceback and traceback.rstrip().endswith(message)
    page.screenshot(path=str(failed_site.parent / "failed-run.png"))


def test_other_runs_show_no_failure_section(failed_site: Path, page: Page) -> None:
    pages = [p for p in failed_site.rglob("*.html") if "/runs/" in p.as_posix()]
    (fine,) = [p for p in pages if ">fine<" in p.read_text()]
    page.goto(fine.as_uri())
    assert page.locator("#failure").count() == 0
