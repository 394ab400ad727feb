"""Artifact previews from real files: kinds, limits, and links that must never be followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runfolio.config_values import SiteLimits
from runfolio.site.previews import (
    MAX_TEXT_BYTES,
    MAX_TEXT_LINES,
    PreviewKind,
    build_preview,
    classify_artifact,
)

SECRET = "CANARY-SECRET-7f3a"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run folder with an empty artifacts/ folder, and a secret file outside the store."""
    run = tmp_path / "store" / "exp" / "20261127-045604-3f9a2c1b7d"
    (run / "artifacts").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    return run


def _artifact(run_dir: Path, name: str, content: str | bytes) -> str:
    path = run_dir / "artifacts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return f"artifacts/{name}"


def _leaks(preview: object) -> bool:
    return SECRET in repr(preview)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("plot.png", PreviewKind.IMAGE),
        ("photo.JPG", PreviewKind.IMAGE),
        ("a.jpeg", PreviewKind.IMAGE),
        ("anim.gif", PreviewKind.IMAGE),
        ("x.webp", PreviewKind.IMAGE),
        ("diagram.svg", PreviewKind.SVG),
        ("README.md", PreviewKind.MARKDOWN),
        ("data.csv", PreviewKind.TABLE),
        ("data.tsv", PreviewKind.TABLE),
        ("m.json", PreviewKind.JSON),
        ("c.yaml", PreviewKind.YAML),
        ("c.yml", PreviewKind.YAML),
        ("report.html", PreviewKind.HTML),
        ("train.log", PreviewKind.TEXT),
        ("notes.txt", PreviewKind.TEXT),
        ("model.py", PreviewKind.TEXT),
        ("model.pkl", PreviewKind.FILE),
        ("weights", PreviewKind.FILE),
        ("dir/archive.tar.gz", PreviewKind.FILE),
    ],
)
def test_classify_by_suffix(name: str, kind: PreviewKind) -> None:
    assert classify_artifact(name, 10) is kind


def test_classify_withholds_files_above_the_limit() -> None:
    assert classify_artifact("plot.png", 101, size_limit=100) is PreviewKind.WITHHELD
    assert classify_artifact("plot.png", 100, size_limit=100) is PreviewKind.IMAGE


def test_image_is_published_without_reading(run_dir: Path) -> None:
    rel = _artifact(run_dir, "plots/loss.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    preview = build_preview(run_dir, rel)
    assert preview.kind is PreviewKind.IMAGE
    assert preview.published and not preview.active_content
    assert preview.size == 10
    assert preview.name == "loss.png"
    assert preview.text is None


def test_malicious_svg_is_only_an_image(run_dir: Path) -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    )
    preview = build_preview(run_dir, _artifact(run_dir, "evil.svg", svg))
    assert preview.kind is PreviewKind.SVG
    assert preview.active_content
    # Its markup is never handed to a template, only its path for an <img src>.
    assert preview.text is None and preview.sanitized_html is None


def test_html_is_shown_as_source_text(run_dir: Path) -> None:
    html = "<html><body><script>alert(1)</script></body></html>"
    preview = build_preview(run_dir, _artifact(run_dir, "report.html", html))
    assert preview.kind is PreviewKind.HTML
    assert preview.text == html  # raw: the template escapes it
    assert preview.sanitized_html is None
    assert preview.active_content


def test_markdown_is_rendered_and_sanitised(run_dir: Path) -> None:
    text = "# Result\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> {{7*7}}\n"
    preview = build_preview(run_dir, _artifact(run_dir, "notes.md", text))
    assert preview.kind is PreviewKind.MARKDOWN
    assert preview.text is None
    html = preview.sanitized_html
    assert html is not None
    assert "<h1>Result</h1>" in html
    assert "javascript" not in html and "onerror" not in html
    assert "{{7*7}}" in html


def test_json_is_pretty_printed(run_dir: Path) -> None:
    preview = build_preview(run_dir, _artifact(run_dir, "m.json", '{"b":[1,2],"a":"</script>"}'))
    assert preview.kind is PreviewKind.JSON
    assert preview.text == '{\n  "b": [\n    1,\n    2\n  ],\n  "a": "</script>"\n}'
    assert preview.note is None


def test_invalid_json_is_shown_as_written(run_dir: Path) -> None:
    preview = build_preview(run_dir, _artifact(run_dir, "m.json", "{not json"))
    assert (preview.kind, preview.text) == (PreviewKind.JSON, "{not json")
    assert preview.note == "not valid JSON, shown as written"


def test_deeply_nested_json_does_not_crash(run_dir: Path) -> None:
    preview = build_preview(run_dir, _artifact(run_dir, "deep.json", "[" * 100_000))
    assert preview.kind is PreviewKind.JSON
    assert preview.note == "not valid JSON, shown as written"


def test_yaml_is_shown_as_written_without_parsing(run_dir: Path) -> None:
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n# comment kept\n'
    preview = build_preview(run_dir, _artifact(run_dir, "c.yaml", bomb))
    assert (preview.kind, preview.text) == (PreviewKind.YAML, bomb)


def test_csv_keeps_formula_cells_as_raw_text(run_dir: Path) -> None:
    text = "name,score\n=cmd|' /C calc'!A0,-1.5\n\"@SUM(1,2)\",+3\n"
    preview = build_preview(run_dir, _artifact(run_dir, "scores.csv", text))
    assert preview.kind is PreviewKind.TABLE
    assert preview.table == (
        ("name", "score"),
        ("=cmd|' /C calc'!A0", "-1.5"),
        ("@SUM(1,2)", "+3"),
    )
    assert not preview.truncated and preview.note is None


def test_tsv_and_table_limits(run_dir: Path) -> None:
    rows = ["\t".join(f"c{r}-{c}" for c in range(8)) for r in range(20)]
    limits = SiteLimits(preview_rows=5, preview_columns=3)
    preview = build_preview(run_dir, _artifact(run_dir, "t.tsv", "\n".join(rows)), limits=limits)
    assert preview.table is not None
    assert len(preview.table) == 6  # the header and 5 rows
    assert preview.table[1] == ("c1-0", "c1-1", "c1-2")
    assert preview.truncated
    assert preview.note == "showing the first 5 rows and first 3 columns"


def test_unreadable_csv_falls_back_to_text(run_dir: Path) -> None:
    text = "a\n" + '"' + "x" * 200_000 + '"\n'
    preview = build_preview(run_dir, _artifact(run_dir, "huge-field.csv", text))
    assert preview.kind is PreviewKind.TEXT
    assert preview.note is not None and "not a readable table" in preview.note


def test_long_text_is_truncated_with_a_note(run_dir: Path) -> None:
    text = "".join(f"step {i}\n" for i in range(MAX_TEXT_LINES + 500))
    preview = build_preview(run_dir, _artifact(run_dir, "train.log", text))
    assert preview.kind is PreviewKind.TEXT and preview.published
    assert preview.truncated
    assert preview.text is not None
    assert preview.text.count("\n") == MAX_TEXT_LINES
    assert preview.note == f"showing the first {MAX_TEXT_LINES:,} lines"


def test_big_text_is_cut_at_a_line_and_a_character_boundary(run_dir: Path) -> None:
    line = "é" * 99 + "\n"  # 2-byte characters: the byte cap falls inside one
    text = line * (MAX_TEXT_BYTES // len(line.encode()) + 10)
    preview = build_preview(run_dir, _artifact(run_dir, "big.txt", text))
    assert preview.kind is PreviewKind.TEXT
    assert preview.truncated
    assert preview.text is not None
    assert set(preview.text.splitlines()) == {"é" * 99}
    assert len(preview.text.encode()) <= MAX_TEXT_BYTES


@pytest.mark.parametrize(
    "content", [b"abc\x00def", b"\xff\xfe\xfa not utf-8", b"\x89PNG\r\n\x1a\n\x00"]
)
def test_binary_content_behind_a_text_suffix_is_listed(run_dir: Path, content: bytes) -> None:
    preview = build_preview(run_dir, _artifact(run_dir, "weird.txt", content))
    assert preview.kind is PreviewKind.FILE
    assert preview.published
    assert preview.text is None
    assert preview.note == "binary content, not shown"


def test_utf8_bom_is_dropped(run_dir: Path) -> None:
    preview = build_preview(run_dir, _artifact(run_dir, "bom.txt", b"\xef\xbb\xbfhello"))
    assert preview.text == "hello"


def test_file_above_the_size_limit_is_withheld(run_dir: Path) -> None:
    rel = _artifact(run_dir, "big.bin", b"x" * 2_000_001)
    preview = build_preview(run_dir, rel, size_limit=2_000_000)
    assert preview.kind is PreviewKind.WITHHELD
    assert not preview.published
    assert preview.size == 2_000_001
    assert preview.note == "2 MB, larger than the 2 MB limit, not published"
    at_limit = build_preview(run_dir, rel, size_limit=2_000_001)
    assert at_limit.kind is PreviewKind.FILE and at_limit.published


def test_sparse_huge_text_file_is_withheld_unread(run_dir: Path) -> None:
    path = run_dir / "artifacts" / "huge.log"
    with path.open("wb") as handle:
        handle.truncate(10**10)  # 10 GB without using the disk
    preview = build_preview(run_dir, "artifacts/huge.log")
    assert preview.kind is PreviewKind.WITHHELD
    assert preview.note == "10 GB, larger than the 5 MB limit, not published"


def test_symlink_to_a_file_outside_is_not_followed(run_dir: Path, tmp_path: Path) -> None:
    (run_dir / "artifacts" / "config.txt").symlink_to(tmp_path / "secret.txt")
    preview = build_preview(run_dir, "artifacts/config.txt")
    assert preview.kind is PreviewKind.WITHHELD
    assert not preview.published
    assert preview.note == "symlink, not published"
    assert not _leaks(preview)


def test_symlinked_folder_anywhere_in_the_path_is_not_followed(
    run_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    (outside / "deeper").mkdir(parents=True)
    (outside / "deeper" / "keys.txt").write_text(SECRET, encoding="utf-8")
    (run_dir / "artifacts" / "real").mkdir()
    (run_dir / "artifacts" / "real" / "linked").symlink_to(outside, target_is_directory=True)
    preview = build_preview(run_dir, "artifacts/real/linked/deeper/keys.txt")
    assert (preview.kind, preview.note) == (PreviewKind.WITHHELD, "symlink, not published")
    assert not _leaks(preview)


def test_symlinked_artifacts_folder_and_run_folder(run_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-run"
    (other / "artifacts").mkdir(parents=True)
    (other / "artifacts" / "a.txt").write_text(SECRET, encoding="utf-8")
    (run_dir / "artifacts").rmdir()
    (run_dir / "artifacts").symlink_to(other / "artifacts", target_is_directory=True)
    assert build_preview(run_dir, "artifacts/a.txt").note == "symlink, not published"
    linked_run = tmp_path / "linked-run"
    linked_run.symlink_to(other, target_is_directory=True)
    preview = build_preview(linked_run, "artifacts/a.txt")
    assert preview.note == "the run folder is a symlink, not published"
    assert not _leaks(preview)


def test_symlink_loop_and_dangling_symlink(run_dir: Path) -> None:
    arts = run_dir / "artifacts"
    (arts / "loop").symlink_to(arts / "loop")
    (arts / "gone.txt").symlink_to(arts / "missing.txt")
    for rel in ("artifacts/loop", "artifacts/loop/x.txt", "artifacts/gone.txt"):
        assert build_preview(run_dir, rel).note == "symlink, not published", rel


def test_hardlinked_file_is_withheld(run_dir: Path, tmp_path: Path) -> None:
    os.link(tmp_path / "secret.txt", run_dir / "artifacts" / "innocent.txt")
    preview = build_preview(run_dir, "artifacts/innocent.txt")
    assert (preview.kind, preview.note) == (PreviewKind.WITHHELD, "hardlinked, not published")
    assert not preview.published
    assert not _leaks(preview)


@pytest.mark.parametrize(
    "rel",
    [
        "../secret.txt",
        "artifacts/../../../secret.txt",
        "/etc/passwd",
        "artifacts\\..\\..\\secret.txt",
        "artifacts/./a.txt",
        "artifacts//a.txt",
        "",
        "artifacts/a\x00.txt",
    ],
)
def test_paths_leaving_the_run_folder_are_refused(run_dir: Path, rel: str) -> None:
    _artifact(run_dir, "a.txt", "fine")
    preview = build_preview(run_dir, rel)
    assert preview.kind is PreviewKind.WITHHELD
    assert preview.note == "path outside the run folder, not published"
    assert not _leaks(preview)


def test_missing_file_and_file_used_as_folder(run_dir: Path) -> None:
    _artifact(run_dir, "a.txt", "fine")
    missing = build_preview(run_dir, "artifacts/nope.txt")
    assert missing.kind is PreviewKind.WITHHELD
    assert missing.note == "cannot read (No such file or directory), not published"
    assert build_preview(run_dir, "artifacts/a.txt/b").note == "not found, not published"


def test_fifo_is_withheld_without_blocking(run_dir: Path) -> None:
    os.mkfifo(run_dir / "artifacts" / "pipe.txt")
    preview = build_preview(run_dir, "artifacts/pipe.txt")
    assert (preview.kind, preview.note) == (
        PreviewKind.WITHHELD,
        "not a regular file, not published",
    )


def test_folder_is_withheld(run_dir: Path) -> None:
    (run_dir / "artifacts" / "sub").mkdir()
    preview = build_preview(run_dir, "artifacts/sub")
    assert preview.note == "not a regular file, not published"


def test_captured_patch_is_previewed_as_text(run_dir: Path) -> None:
    (run_dir / "captured").mkdir()
    (run_dir / "captured" / "git.patch").write_text("+<script>x</script>\n", encoding="utf-8")
    preview = build_preview(run_dir, "captured/git.patch")
    assert (preview.kind, preview.text) == (PreviewKind.TEXT, "+<script>x</script>\n")
