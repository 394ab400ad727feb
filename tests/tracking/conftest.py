"""Fixtures shared by the tests that launch real worker processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import runfolio


@pytest.fixture
def worker_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for worker processes: a private cache, no git capture, no store override."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(cache))
    env = {
        k: v for k, v in os.environ.items() if k not in ("RUNFOLIO_STORE", "RUNFOLIO_EXPERIMENT")
    }
    env["RUNFOLIO_CACHE_DIR"] = str(cache)
    # The workers live in this repository: capturing its git state would only add time.
    env["RUNFOLIO_CAPTURE_GIT"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def fluent_store(tmp_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the fluent API at a fresh store, from a folder outside any git repository."""
    monkeypatch.chdir(tmp_store.parent)
    runfolio.set_store(tmp_store)
    return tmp_store


@pytest.fixture
def run(fluent_store: Path) -> runfolio.Run:
    """A fresh active run in the fluent store."""
    return runfolio.start_run()
