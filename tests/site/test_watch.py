"""The serve watcher: real files changed on disk, the operating system's notifications awaited.

Every wait has a generous deadline; nothing asserts on speed.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runfolio.site.watch import SiteWatcher

DEADLINE = 30.0  # seconds; a loaded CI machine is slow, a broken watcher never gets there


def _next_changes(watcher: SiteWatcher, *, quiet: float = 0.2, longest: float = 5.0) -> set[str]:
    """The next changes the watcher reports; fail when none come before the deadline."""
    result: list[frozenset[str] | None] = []
    waiter = threading.Thread(
        target=lambda: result.append(watcher.wait(quiet=quiet, longest=longest)), daemon=True
    )
    waiter.start()
    waiter.join(DEADLINE)
    if waiter.is_alive():
        watcher.close()
        waiter.join(DEADLINE)
        pytest.fail("the watcher reported no change")
    assert result[0] is not None, "the watcher was closed"
    return set(result[0])


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A folder to watch, with a file in a sub-folder, and a site folder inside it."""
    root = Path(os.path.realpath(tmp_path))  # events name real paths
    (root / "store" / "a").mkdir(parents=True)
    (root / "store" / "a" / "file.txt").write_text("one", encoding="utf-8")
    (root / "store" / "site").mkdir()
    return root


@pytest.fixture
def watcher(tree: Path) -> Iterator[SiteWatcher]:
    """A watcher of ``store`` (recursive) and ``runfolio.yaml`` (missing yet), ignoring the site."""
    watcher = SiteWatcher(ignore=[tree / "store" / "site"])
    watcher.watch([tree / "store", tree / "runfolio.yaml"])
    yield watcher
    watcher.close()


def test_reports_changes_to_watched_folders_and_files(tree: Path, watcher: SiteWatcher) -> None:
    file = tree / "store" / "a" / "file.txt"
    file.write_text("two!", encoding="utf-8")
    assert str(file) in _next_changes(watcher)

    config = tree / "runfolio.yaml"  # a watched file that did not exist
    config.write_text("title: x\n", encoding="utf-8")
    assert _next_changes(watcher) == {str(config)}

    # A new folder (a run) is watched as soon as it appears.
    run = tree / "store" / "a" / "run-1"
    run.mkdir()
    (run / "metrics.csv").write_text("key,step,value,timestamp\n", encoding="utf-8")
    _next_changes(watcher)
    with open(run / "metrics.csv", "a", encoding="utf-8") as metrics:
        metrics.write("loss,0,0.5,1\n")
    assert _next_changes(watcher) == {str(run / "metrics.csv")}

    # A run staged in a dot folder and renamed into place (the store's atomic creation).
    staged = tree / "store" / ".creating" / "run-2"
    staged.mkdir(parents=True)
    (staged / "run.yaml").write_text("id: run-2\n", encoding="utf-8")
    os.rename(staged, tree / "store" / "a" / "run-2")
    assert str(tree / "store" / "a" / "run-2") in _next_changes(watcher)

    file.unlink()
    assert _next_changes(watcher) == {str(file)}


def test_ignores_the_site_dot_folders_caches_and_other_files(
    tree: Path, watcher: SiteWatcher
) -> None:
    # All of this happens first; were any of it reported, it would be in the next batch.
    (tree / "store" / "site" / "index.html").write_text("the site itself", encoding="utf-8")
    (tree / "store" / "site" / "assets").mkdir()
    (tree / "store" / "site" / "assets" / "site.css").write_text("body {}", encoding="utf-8")
    (tree / "store" / "a" / ".file.txt.swp").write_text("editor noise", encoding="utf-8")
    (tree / "store" / ".git").mkdir()
    (tree / "store" / ".git" / "index").write_bytes(b"git")
    (tree / "store" / "a" / "__pycache__").mkdir()
    (tree / "store" / "a" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    (tree / "notes.txt").write_text("next to runfolio.yaml, not watched", encoding="utf-8")

    file = tree / "store" / "a" / "file.txt"
    file.write_text("changed", encoding="utf-8")
    assert _next_changes(watcher) == {str(file)}


def test_an_in_place_rewrite_that_keeps_size_and_mtime_is_reported(
    tree: Path, watcher: SiteWatcher
) -> None:
    """As ``cp -p`` or ``rsync -t`` leave a file: a stat tells nothing but the ctime."""
    file = tree / "store" / "a" / "file.txt"
    before = file.stat()
    with open(file, "r+b") as handle:
        handle.write(b"ONE")
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = file.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert _next_changes(watcher) == {str(file)}


def test_a_burst_of_appends_is_reported_once(tree: Path, watcher: SiteWatcher) -> None:
    metrics = tree / "store" / "a" / "metrics.csv"
    with open(metrics, "a", encoding="utf-8") as handle:
        for step in range(50):
            handle.write(f"loss,{step},0.5,1\n")
            handle.flush()
            threading.Event().wait(0.005)
    assert _next_changes(watcher, quiet=0.5) == {str(metrics)}
    # Had the burst been reported in pieces, the rest would come before this change.
    sentinel = tree / "store" / "a" / "file.txt"
    sentinel.write_text("after the burst", encoding="utf-8")
    assert _next_changes(watcher, quiet=0.5) == {str(sentinel)}


def test_changes_that_never_settle_are_reported_after_the_longest_wait(
    tree: Path, watcher: SiteWatcher
) -> None:
    """A training run appending every moment still gets its page rebuilt now and then."""
    stop = threading.Event()
    metrics = tree / "store" / "a" / "metrics.csv"

    def append_until_stopped() -> None:
        with open(metrics, "a", encoding="utf-8") as handle:
            while not stop.wait(0.02):
                handle.write("loss,0,0.5,1\n")
                handle.flush()

    writer = threading.Thread(target=append_until_stopped, daemon=True)
    writer.start()
    try:
        # quiet is never reached while the writer runs; longest ends the wait anyway.
        assert _next_changes(watcher, quiet=2.0, longest=0.5) == {str(metrics)}
        assert writer.is_alive()
    finally:
        stop.set()
        writer.join()


def test_close_wakes_a_waiting_thread(watcher: SiteWatcher) -> None:
    result: list[frozenset[str] | None] = []
    waiter = threading.Thread(target=lambda: result.append(watcher.wait(quiet=0.1, longest=1)))
    waiter.start()
    watcher.close()
    waiter.join(DEADLINE)
    assert not waiter.is_alive() and result == [None]


def test_a_new_set_of_paths_replaces_the_old(tree: Path, watcher: SiteWatcher) -> None:
    theme = tree / "theme"
    theme.mkdir()
    watcher.watch([tree / "store", theme])
    assert watcher.paths == (str(tree / "store"), str(theme))
    (tree / "runfolio.yaml").write_text("title: no longer watched\n", encoding="utf-8")
    (theme / "extra.css").write_text("body {}", encoding="utf-8")
    assert _next_changes(watcher) == {str(theme / "extra.css")}


def test_a_folder_deleted_and_made_again_is_watched_again(tree: Path, watcher: SiteWatcher) -> None:
    store, config = tree / "store", tree / "runfolio.yaml"
    shutil.rmtree(store)
    assert str(store) in _next_changes(watcher)
    watcher.watch([store, config])  # as serve does after every rebuild
    store.mkdir()
    assert _next_changes(watcher) == {str(store)}
    watcher.watch([store, config])
    (store / "new.txt").write_text("a run copied in", encoding="utf-8")
    assert _next_changes(watcher) == {str(store / "new.txt")}
