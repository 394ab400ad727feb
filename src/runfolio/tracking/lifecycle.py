"""What keeps runs honest about their status: heartbeats, SIGTERM, and interpreter exit.

* A daemon thread rewrites the ``heartbeat`` file of every live run, so readers can
  tell a crashed run (SIGKILL, power loss) from a running one.
* SIGTERM (when nothing else handles it) ends live runs as KILLED, then exits.
* At interpreter exit, runs still open end as FINISHED, or FAILED/KILLED when an
  uncaught exception or KeyboardInterrupt is ending the program.
* After ``fork()`` (a ``multiprocessing`` pool started while a run is live), the child
  starts afresh: it neither heartbeats nor ends its parent's runs, its own runs get a
  heartbeat thread of their own, and no lock another thread held at the fork stays
  held in the child.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from runfolio.background import start_without_signals
from runfolio.store import liveness
from runfolio.store.layout import HEARTBEAT_FILE
from runfolio.store.liveness import this_host
from runfolio.store.run_document import MAX_FAILURE_MESSAGE, MAX_TRACEBACK_LINE, MAX_TRACEBACK_LINES
from runfolio.store.secrets import redact_text

if TYPE_CHECKING:
    from pathlib import Path


class LiveRun(Protocol):
    """What this module needs of a started run (:class:`runfolio.tracking.run.Run` is one).

    A protocol rather than the class itself: the run module registers its runs here, so
    naming the class would make the two modules import each other.
    """

    def write_heartbeat(self) -> None:
        """Record that the run is alive (called from the heartbeat thread)."""

    def detach_after_fork(self) -> None:
        """Make the parent's run inert in a forked child."""

    def record_failure(self, exc: BaseException) -> None:
        """Note why the run failed, before it ends as FAILED."""

    def end(self, status: str = "FINISHED") -> None:
        """End the run with ``status``."""


_live: dict[int, LiveRun] = {}
_live_lock = threading.Lock()
_installed = False  # the process-wide hooks (atexit, excepthook, SIGTERM): a child inherits them
_heartbeat_running = False  # threads do not survive fork(): a child starts its own
_heartbeat_wakeup = threading.Event()
_exit_status: str | None = None
_exit_exception: BaseException | None = None


class TerminatedBySignal(SystemExit):
    """Raised from the SIGTERM handler so ``with`` blocks unwind and end runs as KILLED."""


def process_info() -> dict[str, Any]:
    """The ``process`` mapping of run.yaml: host and pid, for crash detection."""
    return {"host": this_host(), "pid": os.getpid()}


def status_for_exception(exc: BaseException | None) -> str:
    """The status a run ends with when ``exc`` (or nothing) ends its block."""
    if exc is None:
        return "FINISHED"
    if isinstance(exc, KeyboardInterrupt | TerminatedBySignal):
        return "KILLED"
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return "FINISHED"
    return "FAILED"


def describe_failure(exc: BaseException) -> dict[str, str]:
    """The ``failure`` mapping of run.yaml for an exception that ended a run (FAILED).

    The type (qualified by its module unless built in), the message and the last
    :data:`MAX_TRACEBACK_LINES` lines of the formatted traceback, each bounded, with
    secrets redacted by the one secrets policy
    (:func:`runfolio.store.secrets.redact_text`): the run and its page are published.
    """
    import traceback

    kind = type(exc)
    module = kind.__module__
    name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    # Redacted whole, then cut: a secret must not survive by being cut in two.
    message = _bounded(redact_text(str(exc)), MAX_FAILURE_MESSAGE, " …[truncated]")
    text = redact_text("".join(traceback.format_exception(exc)))
    lines = [_bounded(line, MAX_TRACEBACK_LINE, " …") for line in text.splitlines()]
    return {
        "type": name,
        "message": message,
        "traceback": "\n".join(lines[-MAX_TRACEBACK_LINES:]) + "\n",
    }


def _bounded(text: str, limit: int, marker: str) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``marker`` when cut."""
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def register(run: LiveRun) -> None:
    """Track a newly started run (starts the heartbeat and exit hooks on first use)."""
    with _live_lock:
        _live[id(run)] = run
        _install_hooks()


def unregister(run: LiveRun) -> None:
    """Stop tracking an ended run; with none left, give SIGTERM back its default."""
    with _live_lock:
        _live.pop(id(run), None)
        if not _live:
            _unhook_sigterm()


def live_runs() -> list[LiveRun]:
    """Runs started in this process and not ended yet, oldest first."""
    with _live_lock:
        return list(_live.values())


def remove_heartbeat(run_dir: Path) -> None:
    """Delete a run's heartbeat file once the run has ended."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(run_dir / HEARTBEAT_FILE)


def _install_hooks() -> None:
    """Start the heartbeat thread (once per process) and hook SIGTERM, excepthook and atexit."""
    global _installed, _heartbeat_running
    if not _heartbeat_running:
        _heartbeat_running = True
        # Started with process-wide signals blocked (runfolio.background): a SIGTERM it
        # took while the main thread waits in a C call would never be handled.
        start_without_signals(
            threading.Thread(target=_heartbeat_loop, name="runfolio-heartbeat", daemon=True)
        )
    _hook_sigterm()  # again after the last run ended, and in a forked child
    if _installed:
        return
    _installed = True
    atexit.register(_end_live_runs_at_exit)
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        global _exit_status, _exit_exception
        _exit_status = status_for_exception(exc)
        _exit_exception = exc
        previous_hook(kind, exc, tb)

    sys.excepthook = excepthook


def _hook_sigterm() -> None:
    """End live runs as KILLED on SIGTERM, unless something else handles SIGTERM."""
    if threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                signal.signal(signal.SIGTERM, _on_sigterm)
        except (ValueError, OSError):  # not allowed here (embedded interpreter)
            pass


def _unhook_sigterm() -> None:
    """Give SIGTERM its default back once no run is live.

    A Python handler runs only when the main thread runs bytecode, and the kernel may
    deliver the signal to the heartbeat thread: an idle process blocked in a C call
    (a ``multiprocessing`` worker waiting for a task) would then never end on SIGTERM.
    With no run to end as KILLED, the default (dying at once) is what callers expect.
    """
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signal.SIGTERM) is _on_sigterm:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _heartbeat_loop() -> None:
    """Rewrite each live run's heartbeat every HEARTBEAT_INTERVAL seconds."""
    wakeup = _heartbeat_wakeup  # this process's: a forked child replaces the module's
    # Looked up at each wait, not bound at import, so it can be tuned (tests, long jobs).
    while not wakeup.wait(liveness.HEARTBEAT_INTERVAL):
        for run in live_runs():
            # A full or read-only disk must not kill training; readers fall back on
            # the process check and metric timestamps.
            with contextlib.suppress(OSError):
                run.write_heartbeat()


def _on_sigterm(signum: int, frame: Any) -> None:
    """End live runs as KILLED and exit with the conventional 128+15 status."""
    global _exit_status
    _exit_status = "KILLED"
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise TerminatedBySignal(128 + signal.SIGTERM)


def _after_fork_in_child() -> None:
    """Start the child of a fork() with no live run, no heartbeat thread and free locks.

    The parent's runs stay the parent's: the child's copies are detached (they neither
    write nor end), so the parent's heartbeat, metrics handle and final status are its
    own. A lock some other parent thread held at the fork (the heartbeat thread holds
    ``_live_lock`` and a run's lock while it writes) would never be released in the
    child, so each is replaced by a new one.
    """
    global _live_lock, _heartbeat_running, _heartbeat_wakeup, _exit_status
    if signal.getsignal(signal.SIGTERM) is _on_sigterm:
        # A child with no run of its own dies of SIGTERM at once, as multiprocessing's
        # Pool.terminate() expects of idle workers; its first run hooks SIGTERM again.
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _live_lock = threading.Lock()
    _heartbeat_wakeup = threading.Event()
    _heartbeat_running = False
    _exit_status = None
    for run in _live.values():
        run.detach_after_fork()
    _live.clear()


def _end_live_runs_at_exit() -> None:
    """End runs the program left open, newest first, with the status of its exit."""
    status = _exit_status or "FINISHED"
    for run in reversed(live_runs()):
        with contextlib.suppress(Exception):
            if status == "FAILED" and _exit_exception is not None:
                run.record_failure(_exit_exception)
            run.end(status)


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork()
    os.register_at_fork(after_in_child=_after_fork_in_child)
