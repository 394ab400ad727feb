"""The site writer: incremental, equal to a clean build, contained, never via symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runfolio.site.writer import MANIFEST, SiteWriteError, write_site


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def test_first_build_writes_everything(tmp_path: Path) -> None:
    report = write_site(tmp_path / "site", {"index.html": b"home", "a/b/c.html": b"deep"})
    assert (report.written, report.unchanged, report.removed) == (2, 0, 0)
    assert _tree(tmp_path / "site") == {"index.html": b"home", "a/b/c.html": b"deep"}


def test_a_rebuild_writes_only_changes_and_equals_a_clean_build(tmp_path: Path) -> None:
    static = tmp_path / "style.css"
    static.write_bytes(b"body{}")
    first = {"index.html": b"v1", "old/page.html": b"gone soon", "s/style.css": static}
    write_site(tmp_path / "site", first)
    before = os.stat(tmp_path / "site" / "s" / "style.css").st_mtime_ns

    second = {"index.html": b"v2", "new.html": b"added", "s/style.css": static}
    report = write_site(tmp_path / "site", second)
    assert (report.written, report.unchanged, report.removed) == (2, 1, 1)
    assert os.stat(tmp_path / "site" / "s" / "style.css").st_mtime_ns == before
    assert not (tmp_path / "site" / "old").exists()  # emptied folders are pruned

    write_site(tmp_path / "clean", second)
    assert _tree(tmp_path / "site") == _tree(tmp_path / "clean")


def test_a_file_changed_by_hand_is_rewritten(tmp_path: Path) -> None:
    write_site(tmp_path / "site", {"index.html": b"v1"})
    (tmp_path / "site" / "index.html").unlink()
    report = write_site(tmp_path / "site", {"index.html": b"v1"})
    assert report.written == 1 and (tmp_path / "site" / "index.html").read_bytes() == b"v1"


def test_clean_starts_over(tmp_path: Path) -> None:
    write_site(tmp_path / "site", {"a.html": b"a"})
    report = write_site(tmp_path / "site", {"b.html": b"b"}, clean=True)
    assert report.written == 1 and _tree(tmp_path / "site") == {"b.html": b"b"}


def test_a_folder_runfolio_did_not_build_is_never_touched(tmp_path: Path) -> None:
    mine = tmp_path / "docs"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious", encoding="utf-8")
    for clean in (False, True):
        with pytest.raises(SiteWriteError, match="not empty and was not built by runfolio"):
            write_site(mine, {"index.html": b"x"}, clean=clean)
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize(
    "path", ["../escape.html", "/abs.html", "a/../../b.html", "a\\b.html", "", "a//b", MANIFEST]
)
def test_paths_that_leave_the_site_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(SiteWriteError, match="refusing"):
        write_site(tmp_path / "site", {path: b"x"})
    assert not (tmp_path / "escape.html").exists()


def test_symlinks_are_never_copied_or_written_through(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("canary", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(secret)
    with pytest.raises(SiteWriteError, match="cannot copy"):
        write_site(tmp_path / "site", {"leak.txt": link})

    write_site(tmp_path / "site", {"d/page.html": b"x"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "site" / "d" / "page.html").unlink()
    (tmp_path / "site" / "d").rmdir()
    (tmp_path / "site" / "d").symlink_to(outside)
    with pytest.raises(SiteWriteError, match="symlink"):
        write_site(tmp_path / "site", {"d/page.html": b"x"})
    assert list(outside.iterdir()) == []
