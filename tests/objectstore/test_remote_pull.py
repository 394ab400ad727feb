"""``runfolio pull``: remote artifacts back into the run folder, each checked by its hash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from objectstore_helpers import Project, big_file, s3fs_for

import runfolio
from runfolio.cli import main
from runfolio.objectstore.errors import HashMismatchError, ObjectStoreError
from runfolio.objectstore.manifest import read_manifest
from runfolio.objectstore.transfer import pull_run


def _logged_run(project: Project, tmp_path: Path) -> runfolio.Run:
    """A run with two remote artifacts (one in a model folder) and one local file."""
    folder = tmp_path / "export"
    big_file(folder, "weights.bin", 6000, b"w")
    big_file(folder / "deep" / "er", "table.csv", 2500, b"a,b\n")
    big_file(folder, "small.txt", 5)
    with runfolio.start_run() as run:
        runfolio.log_artifacts(str(folder), "out")
    return run


def _leftovers(folder: Path) -> list[str]:
    """Temporary files a transfer may have left (there must be none)."""
    return [name for _, _, names in os.walk(folder) for name in names if name.startswith(".")]


def test_pull_restores_every_file_byte_for_byte_and_only_once(
    project: Project, tmp_path: Path
) -> None:
    run = _logged_run(project, tmp_path)
    report = pull_run(run.path)
    assert report.pulled == ["out/deep/er/table.csv", "out/weights.bin"]
    assert report.bytes_pulled == 8500
    assert (run.artifact_dir / "out" / "weights.bin").read_bytes() == (
        tmp_path / "export" / "weights.bin"
    ).read_bytes()
    assert (run.artifact_dir / "out" / "deep" / "er" / "table.csv").read_bytes() == (
        tmp_path / "export" / "deep" / "er" / "table.csv"
    ).read_bytes()
    again = pull_run(run.path)
    assert (again.pulled, again.present) == ([], report.pulled)


def test_the_pull_command_writes_to_a_destination(project: Project, tmp_path: Path) -> None:
    run = _logged_run(project, tmp_path)
    dest = tmp_path / "elsewhere"
    result = CliRunner().invoke(
        main, ["--store", str(project.store), "pull", run.run_id[-10:], "--dest", str(dest)]
    )
    assert result.exit_code == 0, result.output
    assert f"Pulled 2 file(s) (8.3 KB) of run {run.run_id} into {dest}." in result.output
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "out/deep/er/table.csv",
        "out/weights.bin",
    ]
    assert not (run.artifact_dir / "out" / "weights.bin").exists()


def test_the_pull_command_says_when_there_is_nothing_to_pull(project: Project) -> None:
    with runfolio.start_run() as run:
        runfolio.log_param("a", 1)
    result = CliRunner().invoke(main, ["--store", str(project.store), "pull", run.run_id])
    assert result.exit_code == 0, result.output
    assert "keeps no artifacts in object storage" in result.output


@pytest.mark.parametrize("replacement", [b"w" * 5999 + b"X", b"short", b"w" * 7000])
def test_a_hash_mismatch_fails_and_leaves_no_file(
    project: Project, tmp_path: Path, replacement: bytes
) -> None:
    run = _logged_run(project, tmp_path)
    entry = read_manifest(run.path)["out/weights.bin"]
    s3fs_for(project.endpoint).pipe_file(entry.uri.removeprefix("s3://"), replacement)

    result = CliRunner().invoke(main, ["--store", str(project.store), "pull", run.run_id])
    assert result.exit_code == 1
    assert result.output.startswith("Error: pulled 1 of 2 remote artifacts")
    assert f"out/weights.bin: {entry.uri} does not hold the recorded file" in result.output
    assert f"sha256 {entry.sha256}" in result.output
    with pytest.raises(HashMismatchError):
        pull_run(run.path)
    # The bad file is nowhere; the good one was still pulled.
    assert not (run.artifact_dir / "out" / "weights.bin").exists()
    assert (run.artifact_dir / "out" / "deep" / "er" / "table.csv").exists()
    assert _leftovers(run.artifact_dir) == []


def test_a_local_file_with_other_bytes_is_not_overwritten(project: Project, tmp_path: Path) -> None:
    run = _logged_run(project, tmp_path)
    mine = run.artifact_dir / "out" / "weights.bin"
    mine.write_bytes(b"my own edits")
    with pytest.raises(ObjectStoreError, match="exists and is not the recorded file"):
        pull_run(run.path)
    assert mine.read_bytes() == b"my own edits"


def test_a_missing_object_is_named(project: Project, tmp_path: Path) -> None:
    run = _logged_run(project, tmp_path)
    entry = read_manifest(run.path)["out/weights.bin"]
    s3fs_for(project.endpoint).rm(entry.uri.removeprefix("s3://"))
    with pytest.raises(ObjectStoreError) as caught:
        pull_run(run.path)
    assert f"cannot download {entry.uri}: no such object at {project.endpoint}" in str(caught.value)
    assert not isinstance(caught.value, HashMismatchError)


def test_pull_refuses_to_write_through_a_symlink(project: Project, tmp_path: Path) -> None:
    run = _logged_run(project, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (run.artifact_dir / "out").rename(tmp_path / "moved")
    (run.artifact_dir / "out").symlink_to(outside)
    with pytest.raises(ObjectStoreError, match="refusing to write through the symlink"):
        pull_run(run.path)
    assert list(outside.iterdir()) == []


def test_objects_fetched_before_are_copied_from_the_cache(project: Project, tmp_path: Path) -> None:
    with runfolio.start_run() as run:
        runfolio.log_model(list(range(3000)), "model")
    runfolio.load_model(f"runs:/{run.run_id}/model")  # fetches into the cache
    entry = read_manifest(run.path)["model/model.pkl"]
    s3fs_for(project.endpoint).rm(entry.uri.removeprefix("s3://"))
    assert pull_run(run.path).pulled == ["model/model.pkl"]
    assert runfolio.load_model(str(run.artifact_dir / "model")) == list(range(3000))
