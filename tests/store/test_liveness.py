"""Liveness of RUNNING runs whose signs of life are dated in the future."""

from __future__ import annotations

from pathlib import Path

import pytest

from runfolio.store import layout
from runfolio.store.liveness import STALE_AFTER, effective_status
from runfolio.store.records import CRASHED, iso_to_ms, ms_to_iso
from runfolio.store.scan import scan_store
from runfolio.store.serialize import dump_yaml

NOW_MS = iso_to_ms("2026-12-07T12:00:00+00:00")
FOREIGN = {"host": "gpu-node-7.elsewhere.example", "pid": 4242}


def _foreign_run(store: Path, start_ms: int, metric_ms: int, heartbeat_ms: int | None) -> Path:
    """Write, by hand, a RUNNING run another host left behind: one metric row, maybe a heartbeat."""
    experiment = store / "remote"
    experiment.mkdir(parents=True, exist_ok=True)
    (experiment / layout.EXPERIMENT_FILE).write_text("format: 1\nname: remote\n", encoding="utf-8")
    run_id = layout.new_run_id(start_ms / 1000)
    run_dir = experiment / run_id
    run_dir.mkdir()
    data = {
        "format": 1,
        "id": run_id,
        "name": "remote-run",
        "experiment": "remote",
        "status": "RUNNING",
        "start_time": ms_to_iso(start_ms),
        "end_time": None,
        "tags": {},
        "process": FOREIGN,
    }
    (run_dir / layout.RUN_FILE).write_text(dump_yaml(data), encoding="utf-8")
    (run_dir / layout.METRICS_FILE).write_text(
        f"key,step,value,timestamp\nloss,0,0.5,{metric_ms}\n", encoding="utf-8"
    )
    if heartbeat_ms is not None:
        (run_dir / layout.HEARTBEAT_FILE).write_text(ms_to_iso(heartbeat_ms) + "\n", "utf-8")
    return run_dir


@pytest.mark.parametrize(
    ("ahead_ms", "expected"),
    [
        # A timestamp logged in microseconds: 1000 times the epoch, centuries ahead.
        pytest.param(NOW_MS * 999, CRASHED, id="microseconds"),
        pytest.param(int(STALE_AFTER * 1000) + 1_000, CRASHED, id="just-beyond-skew"),
        # Ordinary clock skew between hosts still counts as a sign of life.
        pytest.param(5_000, "RUNNING", id="clock-skew"),
    ],
)
def test_future_activity_is_not_a_sign_of_life(
    tmp_path: Path, ahead_ms: int, expected: str
) -> None:
    run_dir = _foreign_run(tmp_path, NOW_MS - 3_600_000, NOW_MS + ahead_ms, None)
    status = effective_status("RUNNING", run_dir, FOREIGN, NOW_MS + ahead_ms, now_ms=NOW_MS)
    assert status == expected


def test_future_heartbeat_is_not_a_sign_of_life(tmp_path: Path) -> None:
    far = NOW_MS + 10 * int(STALE_AFTER * 1000)
    run_dir = _foreign_run(tmp_path, NOW_MS - 3_600_000, NOW_MS - 3_600_000, far)
    assert (
        effective_status("RUNNING", run_dir, FOREIGN, NOW_MS - 3_600_000, now_ms=NOW_MS) == CRASHED
    )
    # Time passes: once the heartbeat's time has come it is an ordinary (recent) one.
    assert effective_status("RUNNING", run_dir, FOREIGN, 0, now_ms=far + 1_000) == "RUNNING"


def test_scan_reads_a_crashed_run_with_microsecond_timestamps_as_crashed(tmp_path: Path) -> None:
    import time

    now = int(time.time() * 1000)
    _foreign_run(tmp_path, now - 3_600_000, now * 1000, None)
    [record] = scan_store(tmp_path).runs
    assert (record.status, record.stored_status) == (CRASHED, "RUNNING")
