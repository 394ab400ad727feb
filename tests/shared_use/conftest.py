"""Fixtures for shared-use tests: a real filesystem with whole-second timestamps."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def coarse_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on a loop-mounted ext4 with 128-byte inodes: mtime and ctime in whole seconds
    (as on HFS+, FAT or many network mounts). Skipped where this machine cannot mount one."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        pytest.skip("mounting a coarse-timestamp filesystem needs root and mkfs.ext4")
    image, mount = tmp_path / "coarse.img", tmp_path / "coarse"
    mount.mkdir()
    with open(image, "wb") as handle:
        handle.truncate(32 << 20)
    made = subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-I", "128", str(image)], capture_output=True, timeout=60
    )
    mounted = made.returncode == 0 and (
        subprocess.run(
            ["mount", "-o", "loop", str(image), str(mount)], capture_output=True, timeout=60
        ).returncode
        == 0
    )
    if not mounted:
        pytest.skip("this machine cannot loop-mount a filesystem")
    try:
        probe = mount / "probe"
        probe.write_bytes(b"x")
        assert probe.stat().st_ctime_ns % 1_000_000_000 == 0, "timestamps are not coarse"
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=60)
