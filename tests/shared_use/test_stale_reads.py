"""Readers never serve stale runs: the derived caches and the site's page fingerprints.

A file can change without changing what a stat shows of it: tools that keep mtimes
(``cp -p``, ``rsync -t``, ``tar``) rewrite it in place with the same size and mtime, and
on a filesystem with whole-second timestamps two writes within one second look alike
(``git checkout`` of another branch, right after a build). And a write can land while a
build is reading the store. Every case below must show the new content.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runfolio import Store
from runfolio.site import build as build_module
from runfolio.site.build import build_site
from runfolio.site.watch import SiteWatcher
from runfolio.store import cache as cache_module
from runfolio.store.scan import read_rows, scan_store


@pytest.fixture(autouse=True)
def _outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder outside any git repository, so runs capture no git state."""
    monkeypatch.chdir(tmp_path)


def _make_run(root: Path, name: str = "alpha") -> Path:
    """One ended run named ``name`` (the name is rewritten below with the same size)."""
    with Store(root).start_run("exp", run_name=name) as run:
        run.log_params({"lr": 0.1})
        run.log_metric("loss", 0.5)
    return root / "exp" / run.run_id


def _rewrite_in_place(path: Path, old: str, new: str) -> None:
    """Replace text of the same length in a file as ``cp -p`` would: same inode, same size,
    the old mtime put back."""
    before = path.stat()
    data = path.read_bytes()
    assert len(old) == len(new) and old.encode() in data
    with open(path, "r+b") as handle:
        handle.write(data.replace(old.encode(), new.encode()))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )


def _names(root: Path) -> set[str | None]:
    return {run.name for run in scan_store(root).runs}


def _search_names(root: Path) -> set[str]:
    return {row["attributes"]["run_name"] for row in read_rows(root)}


def _page(site: Path, run_dir: Path) -> str:
    [page] = site.glob(f"experiments/*/runs/{run_dir.name}.html")
    return page.read_text(encoding="utf-8")


def _identity(path: Path) -> tuple[int, int, int, int]:
    info = path.stat()
    return (info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)


# ------------------------------------------------ mtime-preserving rewrite (any filesystem)


@pytest.mark.parametrize("racy_window", [0, cache_module.RACY_WINDOW_NS])
def test_a_same_size_same_mtime_rewrite_is_seen_by_both_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, racy_window: int
) -> None:
    # Window 0: every file counts as settled, so the stat alone (its ctime) must tell.
    monkeypatch.setattr(cache_module, "RACY_WINDOW_NS", racy_window)
    root = tmp_path / "runs"
    run_dir = _make_run(root)
    assert _names(root) == {"alpha"} and _search_names(root) == {"alpha"}  # now cached
    _rewrite_in_place(run_dir / "run.yaml", "alpha", "omega")
    assert _names(root) == {"omega"}
    assert _search_names(root) == {"omega"}


@pytest.mark.parametrize("racy_window", [0, cache_module.RACY_WINDOW_NS])
def test_a_same_size_same_mtime_rewrite_is_seen_by_an_incremental_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, racy_window: int
) -> None:
    monkeypatch.setattr(cache_module, "RACY_WINDOW_NS", racy_window)
    root, site = tmp_path / "runs", tmp_path / "site"
    run_dir = _make_run(root)
    build_site(root, site)
    assert "alpha" in _page(site, run_dir)
    _rewrite_in_place(run_dir / "run.yaml", "alpha", "omega")
    report = build_site(root, site)
    assert report.runs_reused == 0
    assert "omega" in _page(site, run_dir) and "alpha" not in _page(site, run_dir)


# ------------------------------------------- whole-second timestamps (a real filesystem)


def _within_one_second(attempt: Callable[[], Any]) -> Any:
    """Run ``attempt`` starting just after a second boundary; retry if it crossed one.

    ``attempt`` returns None when its writes did not all land in one second.
    """
    for _ in range(5):
        time.sleep(1.02 - time.time() % 1)  # time itself is awaited: the next second
        result = attempt()
        if result is not None:
            return result
    pytest.skip("this machine is too slow to write twice within one second")


def test_two_versions_written_within_one_second_are_told_apart_by_the_caches(
    coarse_dir: Path,
) -> None:
    def attempt() -> Path | None:
        root = coarse_dir / f"runs-{time.time_ns()}"
        run_dir = _make_run(root)
        assert _names(root) == {"alpha"} and _search_names(root) == {"alpha"}
        before = _identity(run_dir / "run.yaml")
        _rewrite_in_place(run_dir / "run.yaml", "alpha", "omega")
        # Inode, mtime, ctime and size all equal: nothing a stat shows differs.
        return root if _identity(run_dir / "run.yaml") == before else None

    root = _within_one_second(attempt)
    assert _names(root) == {"omega"}
    assert _search_names(root) == {"omega"}


def test_two_versions_written_within_one_second_are_told_apart_by_the_site(
    coarse_dir: Path, tmp_path: Path
) -> None:
    build_site(_make_run(tmp_path / "warm-up").parent.parent, tmp_path / "warm-up-site")

    def attempt() -> tuple[Path, Path] | None:
        root, site = coarse_dir / f"runs-{time.time_ns()}", tmp_path / f"site-{time.time_ns()}"
        run_dir = _make_run(root)
        before = _identity(run_dir / "run.yaml")
        build_site(root, site)
        _rewrite_in_place(run_dir / "run.yaml", "alpha", "omega")
        return (site, run_dir) if _identity(run_dir / "run.yaml") == before else None

    site, run_dir = _within_one_second(attempt)
    build_site(run_dir.parent.parent, site)
    assert "omega" in _page(site, run_dir) and "alpha" not in _page(site, run_dir)


def test_two_versions_written_within_one_second_are_told_apart_by_the_serve_watcher(
    coarse_dir: Path,
) -> None:
    watcher = SiteWatcher()

    def attempt() -> Path | None:
        root = coarse_dir / f"runs-{time.time_ns()}"
        run_dir = _make_run(root)
        watcher.watch([root])
        before = _identity(run_dir / "run.yaml")
        _rewrite_in_place(run_dir / "run.yaml", "alpha", "omega")
        return run_dir if _identity(run_dir / "run.yaml") == before else None

    try:
        run_dir = _within_one_second(attempt)
        # The operating system reports the write, whatever the timestamps say.
        assert str(run_dir / "run.yaml") in (watcher.wait(quiet=0.1, longest=5) or ())
    finally:
        watcher.close()


# ------------------------------------------------------- a write landing during a build


def test_a_write_landing_during_a_build_is_rendered_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, site = tmp_path / "runs", tmp_path / "site"
    run_dir = _make_run(root)
    scan = build_module.scan_store

    def scan_then_write(*args: Any, **kwargs: Any) -> Any:
        found = scan(*args, **kwargs)
        # The store is read; a run is changed before the build takes its fingerprints.
        run_yaml = run_dir / "run.yaml"
        run_yaml.write_text(
            run_yaml.read_text(encoding="utf-8").replace("alpha", "later-name"), encoding="utf-8"
        )
        return found

    monkeypatch.setattr(build_module, "scan_store", scan_then_write)
    build_site(root, site)
    assert "alpha" in _page(site, run_dir)  # rendered from what was read
    monkeypatch.setattr(build_module, "scan_store", scan)
    report = build_site(root, site)
    assert report.runs_reused == 0
    assert "later-name" in _page(site, run_dir)
