"""Telling a live RUNNING run from one whose process died without ending it.

A live run records its host and pid in run.yaml and rewrites a ``heartbeat`` file
every :data:`HEARTBEAT_INTERVAL` seconds. A RUNNING run reads as crashed when its
process is gone from this host, or when its last sign of life is older than
:data:`STALE_AFTER` (which also covers runs logged on another machine).

A sign of life dated more than :data:`STALE_AFTER` ahead of the reader's clock is not
believed (a timestamp in microseconds, a host whose clock is far off): it would keep a
crashed run RUNNING for as long as the future lasts. One less far ahead (ordinary clock
skew between hosts) counts as "now", so it keeps a run alive at most that much longer.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

from runfolio.store.layout import HEARTBEAT_FILE
from runfolio.store.records import CRASHED, iso_to_ms

HEARTBEAT_INTERVAL = 30.0
STALE_AFTER = 4 * HEARTBEAT_INTERVAL


@functools.cache
def this_host() -> str:
    """The host name recorded with a run's process."""
    import socket

    return socket.gethostname()


def process_alive(pid: int) -> bool:
    """Tell whether a process with ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it is just not ours
        return True
    except OSError:
        return False
    return True


def read_heartbeat_ms(run_dir: Path) -> int | None:
    """Return the time written in the run's heartbeat file, None when absent or unreadable."""
    try:
        return iso_to_ms((run_dir / HEARTBEAT_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def effective_status(
    stored_status: str,
    run_dir: Path,
    process: dict[str, Any],
    last_activity_ms: int,
    now_ms: int | None = None,
) -> str:
    """Return ``stored_status``, or ``CRASHED`` for a RUNNING run that is no longer alive.

    Args:
        stored_status: the status in run.yaml.
        run_dir: the run's folder (for its heartbeat file).
        process: run.yaml's ``process`` mapping (``host``, ``pid``).
        last_activity_ms: latest known activity besides the heartbeat (start time or the
            last metric's timestamp), used when the heartbeat file is missing.
        now_ms: the current time, for tests.
    """
    if stored_status != "RUNNING":
        return stored_status
    pid = process.get("pid")
    if process.get("host") == this_host() and isinstance(pid, int) and not process_alive(pid):
        return CRASHED
    now = int(time.time() * 1000) if now_ms is None else now_ms
    heartbeat = read_heartbeat_ms(run_dir)
    last_seen = max(_believable(heartbeat or 0, now), _believable(last_activity_ms, now))
    if now - last_seen > STALE_AFTER * 1000:
        return CRASHED
    return stored_status


def _believable(when_ms: int, now_ms: int) -> int:
    """Return a sign of life's time, capped at ``now_ms``; 0 when it is too far ahead."""
    if when_ms > now_ms + STALE_AFTER * 1000:
        return 0
    return min(when_ms, now_ms)
