"""Helpers shared by the worker scripts and by the tests that launch them."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

WORKERS = Path(__file__).resolve().parent
if str(WORKERS.parents[1]) not in sys.path:  # run as a worker script: tests/ has waiting.py
    sys.path.append(str(WORKERS.parents[1]))

from waiting import wait_until  # noqa: E402 - needs tests/ on sys.path


def wait_for_file(path: Path, seconds: float = 60.0) -> None:
    """Block until ``path`` exists (a start or stop signal from the parent), or fail."""
    wait_until(path.exists, f"{path} to appear", seconds, interval=0.001)


def attempt(action: Callable[[], Any]) -> dict[str, Any] | None:
    """Run one write and describe how it failed (None when it did not)."""
    from runfolio import StoreError

    try:
        action()
    except Exception as exc:  # the parent judges every kind of failure
        return {
            "type": type(exc).__name__,
            "store_error": isinstance(exc, StoreError),
            "message": str(exc),
        }
    return None


def load_worker_module(name: str) -> ModuleType:
    """Import a worker script as a module, to share its definition of the logged values."""
    spec = importlib.util.spec_from_file_location(f"_worker_{name}", WORKERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
