"""A real power cut: what a run wrote through the API survives it once the calls returned.

A small ext4 image is loop-mounted; a fresh interpreter logs a run into a store on it
(params, tags, an artifact logged twice, text, a model logged twice) and ends it; then
the filesystem is shut down with ``EXT4_IOC_SHUTDOWN`` and ``NOLOGFLUSH``, which drops
everything not yet on the (loop) disk, as a power cut does: dirty pages and the
uncommitted journal. After a remount every acknowledged file must hold what the API
returned from. Needs root, loop devices and mkfs.ext4; skipped elsewhere.

metrics.csv is not checked here: its own policy (fsync before FINISHED, periodically
from the heartbeat) is tested with it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from runfolio.query.runs import get_run
from runfolio.tracking.models import load_model_dir

EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32)
EXT4_GOING_FLAGS_NOLOGFLUSH = 0x2

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from runfolio import Store

    store, old, new = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    with Store(store).start_run("power") as run:
        run.log_params({"lr": 0.01, "layers": [64, 32]})
        run.set_tags({"stage": "cut"})
        run.log_artifact(old, "ckpt")
        run.log_artifact(new, "ckpt")
        run.log_text("# notes\\n", "notes.md")
        run.log_model({"weights": "first"}, "model")
        run.log_model({"weights": "second"}, "model")
    print(run.run_id)
    """
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a system command, never hanging the suite."""
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


@pytest.fixture
def ext4_mount(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A freshly made ext4 filesystem loop-mounted at a folder: (image, mount point)."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("a loop-mounted ext4 needs Linux and root")
    if shutil.which("mkfs.ext4") is None or shutil.which("mount") is None:
        pytest.skip("mkfs.ext4 or mount is not installed")
    image, mount = tmp_path / "disk.img", tmp_path / "mnt"
    mount.mkdir()
    with open(image, "wb") as handle:
        handle.truncate(64 << 20)
    made = _run("mkfs.ext4", "-q", "-F", str(image))
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    mounted = _run("mount", "-o", "loop", str(image), str(mount))
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount an ext4 image here: {mounted.stderr.strip()}")
    try:
        yield image, mount
    finally:
        if os.path.ismount(mount):
            _run("umount", "-l", str(mount))


def _power_cut(mount: Path) -> None:
    """Shut the filesystem down without flushing its journal (what is not on disk is lost)."""
    fd = os.open(mount, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", EXT4_GOING_FLAGS_NOLOGFLUSH))
    finally:
        os.close(fd)


def test_everything_a_run_returned_from_survives_a_power_cut(
    ext4_mount: tuple[Path, Path], tmp_path: Path
) -> None:
    image, mount = ext4_mount
    old, new = tmp_path / "old" / "weights.bin", tmp_path / "new" / "weights.bin"
    for path, byte in ((old, b"o"), (new, b"n")):
        path.parent.mkdir()
        path.write_bytes(byte * 300_000)
    env = {**os.environ, "RUNFOLIO_FSYNC": "1", "RUNFOLIO_CAPTURE_GIT": "0"}
    store = mount / "runs"
    wrote = subprocess.run(
        [sys.executable, "-c", WRITER, str(store), str(old), str(new)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert wrote.returncode == 0, wrote.stderr
    run_id = wrote.stdout.split()[-1]

    _power_cut(mount)
    assert _run("umount", str(mount)).returncode == 0
    remounted = _run("mount", "-o", "loop", str(image), str(mount))
    assert remounted.returncode == 0, remounted.stderr

    run = get_run(store, run_id)
    assert run.stored_status == "FINISHED"
    assert run.params == {"lr": 0.01, "layers": [64, 32]}
    assert run.tags == {"stage": "cut"}
    artifacts = run.path / "artifacts"
    assert (artifacts / "ckpt" / "weights.bin").read_bytes() == new.read_bytes()
    assert (artifacts / "notes.md").read_text(encoding="utf-8") == "# notes\n"
    assert load_model_dir(artifacts / "model") == {"weights": "second"}
    assert (run.path / "captured" / "packages.txt").stat().st_size > 0
