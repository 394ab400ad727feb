"""A ``--clean`` build SIGKILLed while it deletes the old site leaves a folder the next
build takes over (instead of refusing it as "not built by runfolio")."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runfolio import Store
from runfolio.site.build import build_site

WORKER = Path(__file__).parent / "workers" / "clean_kill_worker.py"


def _files(folder: Path) -> set[str]:
    """Every file under ``folder``, relative to it."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_a_clean_build_killed_mid_delete_is_healed_by_the_next_build(
    tmp_path: Path, order: str
) -> None:
    store = tmp_path / "store"
    with Store(store).start_run("e", run_name="one") as run:
        run.log_metric("loss", 0.5)
        run.log_text("notes", "notes.txt")
    site = tmp_path / "site"
    build_site(store, site)
    expected = _files(site)
    entries = len(list(site.iterdir()))

    killed = 0
    for kill_at in range(1, entries + 1):  # before each top-level deletion in turn
        copy = tmp_path / f"site-{kill_at}"
        shutil.copytree(site, copy)
        proc = subprocess.run(
            [sys.executable, str(WORKER), str(copy), str(kill_at), order],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
        killed += proc.returncode == -signal.SIGKILL
        build_site(store, copy)  # raised "not built by runfolio" when the manifest went first
        assert _files(copy) == expected, kill_at
        shutil.rmtree(copy)
    assert killed >= entries - 1  # every deletion but the manifest's was a kill point
