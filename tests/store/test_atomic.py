"""The store's one atomic writer: what is fsynced, in which order, before a write returns.

A patched ``os.fsync`` records every sync with what the synced file or folder held at
that instant (through ``/proc/self/fd``), so the tests see the order a power cut cares
about: the temporary file's complete bytes synced before the rename, the folder synced
after it, and a new folder synced into its parent.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from runfolio import Store
from runfolio.store import atomic, layout
from runfolio.store.atomic import (
    atomic_writer,
    copy_file_atomic,
    create_text_exclusive,
    make_dir,
    move_file_atomic,
    write_bytes_atomic,
    write_text_atomic,
)

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="needs /proc to name a synced descriptor"
)


@dataclass(frozen=True)
class Sync:
    """One fsync: of a file (with its bytes then) or of a folder (with its names then)."""

    path: Path
    is_dir: bool
    content: bytes | frozenset[str]


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[Sync]:
    """Record every ``os.fsync`` (fsync switched on, whatever the suite's default)."""
    monkeypatch.setenv("RUNFOLIO_FSYNC", "1")
    seen: list[Sync] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        # A run folder is built in <experiment>/.creating/ and renamed into place: what
        # was synced there is synced as the run folder (the rename keeps the inode).
        real = os.readlink(f"/proc/self/fd/{fd}")
        path = Path(real.replace("/.creating/", "/"))
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            seen.append(Sync(path, True, frozenset(os.listdir(real))))
        else:
            seen.append(Sync(path, False, Path(real).read_bytes()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return seen


def _file_synced_before_rename(syncs: list[Sync], final: Path, content: bytes) -> int:
    """Index of the sync of a temporary file beside ``final`` holding exactly ``content``."""
    for index, sync in enumerate(syncs):
        if (
            not sync.is_dir
            and sync.path.parent == final.parent
            and sync.path.name.startswith(f".{final.name}.")
            and sync.content == content
        ):
            return index
    raise AssertionError(f"no complete temporary file of {final} was fsynced: {syncs}")


def _folder_synced_with(syncs: list[Sync], folder: Path, name: str, after: int = -1) -> int:
    """Index of a sync of ``folder`` (after ``after``) at which it held ``name``."""
    for index, sync in enumerate(syncs):
        if index > after and sync.is_dir and sync.path == folder and name in sync.content:
            return index
    raise AssertionError(f"{folder} was not fsynced holding {name!r} after sync {after}")


def test_a_text_write_syncs_the_whole_file_before_the_rename_and_the_folder_after(
    tmp_path: Path, syncs: list[Sync]
) -> None:
    target = tmp_path / "run.yaml"
    target.write_text("old\n", encoding="utf-8")
    write_text_atomic(target, "status: FINISHED\n")
    file_sync = _file_synced_before_rename(syncs, target, b"status: FINISHED\n")
    assert syncs[file_sync].path != target  # synced under its temporary name: pre-rename
    folder_sync = _folder_synced_with(syncs, tmp_path, "run.yaml", after=file_sync)
    # At the folder's sync the rename had happened, and no temporary file was left.
    assert syncs[folder_sync].content == frozenset({"run.yaml"})
    assert target.read_text(encoding="utf-8") == "status: FINISHED\n"


def test_bytes_copies_and_handles_are_synced_the_same_way(
    tmp_path: Path, syncs: list[Sync]
) -> None:
    write_bytes_atomic(tmp_path / "a.bin", b"\x00\x01")
    source = tmp_path / "source.bin"
    source.write_bytes(b"copied" * 1000)
    copy_file_atomic(source, tmp_path / "b.bin")
    with atomic_writer(tmp_path / "c.bin") as handle:
        handle.write(b"streamed")
    written = {"a.bin": b"\x00\x01", "b.bin": b"copied" * 1000, "c.bin": b"streamed"}
    for name, content in written.items():
        index = _file_synced_before_rename(syncs, tmp_path / name, content)
        _folder_synced_with(syncs, tmp_path, name, after=index)


def test_a_moved_file_and_an_exclusive_create_are_synced(tmp_path: Path, syncs: list[Sync]) -> None:
    staged = tmp_path / "staging" / "download.bin"
    staged.parent.mkdir()
    staged.write_bytes(b"downloaded")
    (tmp_path / "artifacts").mkdir()
    move_file_atomic(staged, tmp_path / "artifacts" / "model.bin")
    moved = next(i for i, s in enumerate(syncs) if s.path == staged and s.content == b"downloaded")
    _folder_synced_with(syncs, tmp_path / "artifacts", "model.bin", after=moved)
    assert create_text_exclusive(tmp_path / "experiment.yaml", "name: x\n")
    made = _file_synced_before_rename(syncs, tmp_path / "experiment.yaml", b"name: x\n")
    _folder_synced_with(syncs, tmp_path, "experiment.yaml", after=made)


def test_each_folder_created_is_synced_into_its_parent(tmp_path: Path, syncs: list[Sync]) -> None:
    make_dir(tmp_path / "a" / "b" / "c", parents=True)
    for folder in (tmp_path, tmp_path / "a", tmp_path / "a" / "b"):
        child = {tmp_path: "a", tmp_path / "a": "b", tmp_path / "a" / "b": "c"}[folder]
        _folder_synced_with(syncs, folder, child)
    count = len(syncs)
    make_dir(tmp_path / "a" / "b" / "c", parents=True, exist_ok=True)
    assert len(syncs) == count  # nothing new, nothing to sync
    with pytest.raises(FileExistsError):
        make_dir(tmp_path / "a")


def test_derived_output_and_fsync_off_skip_every_sync(
    tmp_path: Path, syncs: list[Sync], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_bytes_atomic(tmp_path / "page.html", b"<p>", durable=False)
    assert syncs == []
    monkeypatch.setenv("RUNFOLIO_FSYNC", "0")
    write_text_atomic(tmp_path / "run.yaml", "x: 1\n")
    make_dir(tmp_path / "folder")
    assert syncs == []
    assert (tmp_path / "page.html").read_bytes() == b"<p>"


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "checkpoint.bin"
    target.write_bytes(b"acknowledged" * 100)
    source = tmp_path / "new.bin"
    source.write_bytes(b"n" * 10_000)

    def copy_half_then_fail(src: object, dst: object, length: int = 0) -> None:
        dst.write(src.read(5_000))  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", copy_half_then_fail)
    with pytest.raises(OSError, match="No space"):
        copy_file_atomic(source, target)
    assert target.read_bytes() == b"acknowledged" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.bin", "new.bin"]


def test_a_run_written_through_the_api_is_synced_before_each_call_returns(
    tmp_path: Path, syncs: list[Sync]
) -> None:
    """Every file of a finished run was fsynced complete, and every folder into its parent."""
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(50_000))
    with Store(tmp_path / "runs").start_run("durable") as run:
        run.log_params({"lr": 0.1})
        run.set_tags({"team": "a"})
        run.log_artifact(source, "ckpt")
        run.log_text("notes\n", "notes.md")
        run.log_model({"w": [1, 2, 3]}, "model")
        after_logging = len(syncs)
    run_dir = run.path
    experiment = run_dir.parent
    _folder_synced_with(syncs, experiment.parent, experiment.name)
    _folder_synced_with(syncs, experiment, layout.EXPERIMENT_FILE)
    _folder_synced_with(syncs, experiment, run_dir.name)
    for relative in ("run.yaml", "params.yaml", "captured/packages.txt", "artifacts/notes.md",
                     "artifacts/ckpt/weights.bin",
                     "artifacts/model/model.yaml", "artifacts/model/model.pkl"):  # fmt: skip
        final = run_dir / relative
        index = _file_synced_before_rename(syncs, final, final.read_bytes())
        _folder_synced_with(syncs, final.parent, final.name, after=index)
    for folder in ("captured", "artifacts", "artifacts/ckpt", "artifacts/model"):
        _folder_synced_with(syncs, (run_dir / folder).parent, Path(folder).name)
    # The artifacts were durable when their calls returned, before end() wrote anything.
    weights = run_dir / "artifacts" / "ckpt" / "weights.bin"
    assert _file_synced_before_rename(syncs, weights, source.read_bytes()) < after_logging
    assert pickle.loads((run_dir / "artifacts" / "model" / "model.pkl").read_bytes()) == {
        "w": [1, 2, 3]
    }


def test_the_store_sync_helpers_live_in_one_module() -> None:
    """Every write path of the store imports its fsync from store.atomic (one policy)."""
    source = Path(atomic.__file__).parents[1]
    offenders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if path.name != "atomic.py" and "os.fsync" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
