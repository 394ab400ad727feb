"""Shared pytest fixtures."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from git_helpers import init_repo


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a real git repository on branch ``main`` with one commit (README.md, train.py).

    Global and system git config are hidden so that a developer's settings (signing, hooks,
    default branch) cannot change what the tests see.
    """
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "1")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("# demo\n", encoding="utf-8")
    (repo / "train.py").write_text("print('training')\n", encoding="utf-8")
    init_repo(repo)
    return repo


@pytest.fixture(scope="module")
def isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What ``_isolated_runfolio_env`` does per test, for a module-scoped store or site."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
        patch.setenv("RUNFOLIO_FSYNC", "0")
        patch.delenv("RUNFOLIO_STORE", raising=False)
        patch.delenv("RUNFOLIO_EXPERIMENT", raising=False)
        yield


@pytest.fixture(autouse=True)
def _isolated_runfolio_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the user's record cache, store and experiment settings."""
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path_factory.mktemp("runfolio-cache")))
    # Runs started by tests would otherwise capture the git state of this checkout
    # (the entry point is pytest inside it): slow, and dependent on the developer's
    # working tree. Tests of the capture opt back in through the git_repo fixture.
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    # fsync would double the suite's time on a disk; tests of durability switch it back
    # on (tests/store/test_atomic.py, tests/tracking/test_durable_artifacts.py).
    monkeypatch.setenv("RUNFOLIO_FSYNC", "0")
    monkeypatch.delenv("RUNFOLIO_STORE", raising=False)
    monkeypatch.delenv("RUNFOLIO_EXPERIMENT", raising=False)


@pytest.fixture(autouse=True)
def _reset_fluent_state() -> Iterator[None]:
    """End runs a test left active and forget its store and experiment (fluent module state)."""
    yield
    fluent = sys.modules.get("runfolio.tracking.fluent")
    if fluent is None:
        return
    while fluent.active_run() is not None:
        fluent.end_run()
    fluent._explicit_store = None
    fluent._store_cache = None
    fluent._experiment_name = None


@pytest.fixture
def tmp_store(tmp_path: Path) -> Path:
    """Path of a run store (not created yet) inside the test's temporary folder."""
    return tmp_path / "runs"
