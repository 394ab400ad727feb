"""Background threads that never take a signal meant for the process.

The kernel hands a process-wide signal (SIGTERM from ``kill`` or ``Pool.terminate()``,
SIGINT from Ctrl-C) to any thread that does not block it. Python runs a handler only in
the main thread, when it next runs bytecode: a signal taken by a helper thread while the
main thread waits in a C call (a pool worker reading its next task, a read of git's
pipes) would be handled only once that call returns, or never. runfolio's own threads
(the run heartbeat, the git watchdog) are therefore started with those signals blocked,
so the kernel delivers them to the main thread.
"""

from __future__ import annotations

import signal
import threading

ASYNC_SIGNALS = frozenset(
    getattr(signal, name)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")
    if hasattr(signal, name)
)
"""Signals a process is sent as a whole, which runfolio's threads leave to the main one."""


def start_without_signals(thread: threading.Thread) -> None:
    """Start ``thread`` with :data:`ASYNC_SIGNALS` blocked in it from its first moment."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no per-thread signal masks
        thread.start()
        return
    # A new thread inherits its creator's mask: block, start, restore.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ASYNC_SIGNALS)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
