"""A progress bar for long commands, on stderr, only where a person is watching.

It stays silent when stderr is not a terminal (CI logs, pipes) and for work that ends
within :data:`DELAY_S`, so short builds print nothing but their closing line.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

DELAY_S = 0.5
"""Work shorter than this shows no bar."""

_WIDTH = 30
_REDRAW_S = 0.1


class ProgressBar:
    """A callable ``progress(done, total)`` that draws ``label [#####     ] 50% 5/10``."""

    def __init__(self, label: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and _is_terminal(self.stream)
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        """Record progress; redraw at most ten times a second."""
        if not self.enabled or total <= 0:
            return
        now = time.monotonic()
        if now - self._started < DELAY_S or (now - self._last_draw < _REDRAW_S and done < total):
            return
        self._last_draw = now
        filled = int(_WIDTH * done / total)
        bar = "#" * filled + " " * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {100 * done // total:3d}% {done:,}/{total:,}")
        self.stream.flush()
        self._drawn = True

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
