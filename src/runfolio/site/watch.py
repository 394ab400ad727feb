"""Notice changes to what a site build reads, as the operating system reports them.

``runfolio serve`` used to stat every file of the store once a second, which costs
seconds per look at a store of thousands of runs. :class:`SiteWatcher` asks the
operating system instead, through watchdog (inotify on Linux, FSEvents on macOS,
ReadDirectoryChangesW on Windows): nothing is read until something changes, and a
change is seen however its timestamps look (an in-place rewrite that keeps the mtime,
two writes within one tick of a coarse clock).

A folder is watched with everything below it; a file is watched through its parent
folder (its parent only, not below), so it may not exist yet and an editor that saves
by renaming a new copy over it is still seen. What the store's readers skip is skipped
here too: dot-named files and folders (``.git``, ``.creating``, editors' swap files)
and ``__pycache__``; so are the ``ignore`` folders (the site itself, should it be
written inside the store), so a build never triggers itself.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileAttribEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
]
"""The changes that matter. Not opening or reading a file (a build reads the whole store),
nor a folder's own mtime, which moves when an ignored entry (a swap file) comes or goes."""

_SKIPPED_NAMES = frozenset({"__pycache__"})


class SiteWatcher:
    """Tell when the files and folders a build reads have changed, and then settled.

    Call :meth:`watch` with the paths, then :meth:`wait` in a loop: it returns the paths
    that changed once a burst of changes is over. :meth:`close` stops the watching and
    wakes a waiting thread.
    """

    def __init__(self, *, ignore: Iterable[Path] = ()) -> None:
        """Prepare a watcher that never reports anything inside the ``ignore`` folders."""
        self._ignore = tuple(
            {os.path.abspath(p) for p in ignore} | {os.path.realpath(p) for p in ignore}
        )
        self._paths: tuple[str, ...] = ()
        self._observer: BaseObserver | None = None
        # (folder, files): a recursive watch when files is empty, else a watch of the
        # folder alone for those files.
        self._watches: dict[tuple[str, frozenset[str]], ObservedWatch] = {}
        self._changed = threading.Condition()
        self._pending: set[str] = set()
        self._events = 0  # grows with every change noted, a path changed again included
        self._closed = False

    @property
    def paths(self) -> tuple[str, ...]:
        """The watched paths, absolute."""
        return self._paths

    def watch(self, paths: Iterable[Path]) -> None:
        """Watch these paths from now on, instead of the previous ones.

        A folder is watched recursively, anything else (a file, a missing path) through
        its parent folder, which must exist. A watch still wanted is kept as it is, so
        none of its changes is missed; call again after a folder was deleted or created
        in place of a file.

        Raises:
            OSError: a folder cannot be watched (the system's limit of watches, say).
        """
        if self._closed:
            return  # a rebuild finishing after close: nothing is watched any more
        absolute = tuple(dict.fromkeys(os.path.abspath(p) for p in paths))
        wanted = self._plan(absolute)
        if self._observer is None:
            self._observer = Observer()
            self._observer.daemon = True
            self._observer.start()
        for key in [key for key in self._watches if key not in wanted]:
            self._observer.unschedule(self._watches.pop(key))
        for key, (recursive, accept) in wanted.items():
            if key not in self._watches:
                self._watches[key] = self._schedule(key[0], recursive=recursive, accept=accept)
        self._paths = absolute

    def wait(self, *, quiet: float, longest: float) -> frozenset[str] | None:
        """Block until something changed and then stayed still for ``quiet`` seconds.

        A burst of writes (a run copied in, a ``git checkout``) is reported once. A
        training run appending metrics every moment never goes quiet: after ``longest``
        seconds from the first change the changes are reported all the same.

        Returns:
            The changed paths (after the system dropped events, the folder it names),
            or None once :meth:`close` was called.
        """
        with self._changed:
            self._changed.wait_for(lambda: self._closed or bool(self._pending))
            settle_until = time.monotonic() + longest
            while not self._closed:
                seen = self._events
                remaining = settle_until - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(min(quiet, remaining))  # woken by a change or close
                if self._events == seen:
                    break
            if self._closed:
                return None
            changed, self._pending = frozenset(self._pending), set()
            return changed

    def close(self) -> None:
        """Stop watching; a thread in :meth:`wait` returns None."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)

    def _plan(
        self, paths: tuple[str, ...]
    ) -> dict[tuple[str, frozenset[str]], tuple[bool, Callable[[str], bool]]]:
        """The watches ``paths`` need: (folder, files) -> (recursive, what counts)."""
        folders = [path for path in paths if os.path.isdir(path)]
        plan: dict[tuple[str, frozenset[str]], tuple[bool, Callable[[str], bool]]] = {
            (folder, frozenset()): (True, self._accept_below(folder)) for folder in folders
        }
        by_parent: dict[str, set[str]] = {}
        for path in paths:
            if not any(_is_within(path, folder) for folder in folders):
                by_parent.setdefault(os.path.dirname(path), set()).add(path)
        for parent, files in by_parent.items():
            plan[(parent, frozenset(files))] = (False, _accept_only(files))
        return plan

    def _schedule(
        self, folder: str, *, recursive: bool, accept: Callable[[str], bool]
    ) -> ObservedWatch:
        """Watch ``folder`` (its real location: it may be a symlink) for the changes that matter."""
        assert self._observer is not None
        return self._observer.schedule(
            _Handler(accept, self._note),
            os.path.realpath(folder),
            recursive=recursive,
            event_filter=_EVENTS,
        )

    def _accept_below(self, folder: str) -> Callable[[str], bool]:
        """What counts below a watched folder: not dot-named, not cache, not ignored."""
        root = os.path.realpath(folder)

        def accept(path: str) -> bool:
            if any(_is_within(path, ignored) for ignored in self._ignore):
                return False
            relative = os.path.relpath(path, root)
            if relative == os.curdir:
                return True
            return not any(
                part.startswith(".") or part in _SKIPPED_NAMES for part in relative.split(os.sep)
            )

        return accept

    def _note(self, path: str) -> None:
        """Record one change (called in watchdog's thread)."""
        with self._changed:
            self._pending.add(path)
            self._events += 1
            self._changed.notify_all()


def _accept_only(files: Iterable[str]) -> Callable[[str], bool]:
    """What counts in the parent folder of watched files: those files only."""
    real = {
        os.path.join(os.path.realpath(os.path.dirname(file)), os.path.basename(file))
        for file in files
    }
    return lambda path: path in real


def _is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _Handler(FileSystemEventHandler):
    """Pass on the paths of one watch's events that its ``accept`` keeps."""

    def __init__(self, accept: Callable[[str], bool], note: Callable[[str], None]) -> None:
        self._accept = accept
        self._note = note

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Note the event's source and, for a move, its destination, when they count."""
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(raw)
            if path and (isinstance(event, EventsLostEvent) or self._accept(path)):
                self._note(path)
