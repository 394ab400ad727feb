"""The progress bar: drawn on a terminal for long work, silent otherwise."""

from __future__ import annotations

import io

import pytest

from runfolio.console import progress
from runfolio.console.progress import ProgressBar


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A monotonic clock the test moves by hand."""
    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    return now


def test_draws_after_the_delay_and_clears_at_the_end(clock: list[float]) -> None:
    stream = _Terminal()
    with ProgressBar("Rendering runs", stream=stream) as bar:
        bar(1, 4)
        assert stream.getvalue() == ""  # quick work shows nothing
        clock[0] += progress.DELAY_S + 0.1
        bar(2, 4)
        clock[0] += 1
        bar(4, 4)
    text = stream.getvalue()
    assert "\rRendering runs [" + "#" * 15 + " " * 15 + "]  50% 2/4" in text
    assert "100% 4/4" in text
    assert text.endswith("\r\x1b[K")


def test_silent_when_not_a_terminal_or_disabled(clock: list[float]) -> None:
    for bar, stream in (
        (ProgressBar("x", stream=(plain := io.StringIO())), plain),
        (ProgressBar("x", stream=(tty := _Terminal()), enabled=False), tty),
    ):
        clock[0] += 10
        bar(1, 2)
        bar(2, 2)
        assert stream.getvalue() == ""
