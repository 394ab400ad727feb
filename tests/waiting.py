"""Wait for something to happen instead of sleeping for a guessed time.

Importable from every test module (``tests/`` is on ``sys.path`` through its conftest) and
from the worker scripts (through ``workers/worker_common.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object],
    what: str | Callable[[], str],
    seconds: float = 60.0,
    *,
    interval: float = 0.005,
) -> None:
    """Poll ``condition()`` until it is true; fail loudly (never hang) after ``seconds``.

    Args:
        condition: Checked at once, then every ``interval`` seconds. It may itself fail
            (``assert``) to stop waiting early, e.g. when the process it waits for died.
        what: What is awaited, for the failure message; a callable is called only on
            failure (a server's log tail, say).
        seconds: The deadline: generous, since a loaded CI machine is slow.
        interval: The pause between two checks.

    Raises:
        AssertionError: ``condition`` did not hold within ``seconds``.
    """
    give_up = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up waiting for {what() if callable(what) else what}")
        time.sleep(interval)
