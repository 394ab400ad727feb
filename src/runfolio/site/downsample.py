"""Shape-preserving downsampling of a metric series for display.

A run page draws every metric as a line over steps; a history of a million steps would
make the page heavy and the browser slow while adding nothing visible. The full data
stays downloadable; only the chart gets a reduced copy.

The reduction is **LTTB** (Largest-Triangle-Three-Buckets, Sveinn Steinarsson, "Downsampling
Time Series for Visual Representation", 2013):

1. The first and the last point are always kept.
2. The points in between are split into ``n - 2`` buckets of (nearly) equal count.
3. Walking the buckets left to right, each bucket keeps the one point that forms the
   largest triangle with the point kept in the previous bucket and the *average* point of
   the next bucket. Large triangles are where the line turns, so peaks, dips and trends
   survive while flat stretches thin out.

LTTB usually keeps the global extremes but does not guarantee it (a spike can lose to a
neighbour when the line around it is steep). A chart whose y range silently shrinks would
mislead, so :func:`downsample` runs LTTB with two points fewer than allowed and then adds
the global minimum and maximum explicitly.

NaN and ±inf cannot be drawn on a line and would poison the triangle areas, so they are
split out first and only counted; the line is computed over finite values only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MAX_POINTS = 2000
"""Points per series drawn at most; well below what a browser renders smoothly."""

MIN_MAX_POINTS = 4
"""Smallest budget :func:`downsample` accepts: first, last, minimum and maximum."""

Point = tuple[int, float]


@dataclass(frozen=True)
class Downsampled:
    """A series reduced for display.

    Attributes:
        points: The finite points kept, sorted by step (stable), at most the budget.
        total: How many points the input had, finite or not.
        finite: How many of them were finite (the population ``points`` was drawn from).
        nan: How many values were NaN (not drawn).
        posinf: How many values were +inf (not drawn).
        neginf: How many values were -inf (not drawn).
    """

    points: list[Point]
    total: int
    finite: int
    nan: int = 0
    posinf: int = 0
    neginf: int = 0

    @property
    def nonfinite(self) -> int:
        """How many points were left off the line because they are NaN or ±inf."""
        return self.nan + self.posinf + self.neginf

    @property
    def reduced(self) -> bool:
        """Whether finite points were dropped to meet the budget."""
        return len(self.points) < self.finite


def downsample(points: Iterable[Point], max_points: int = DEFAULT_MAX_POINTS) -> Downsampled:
    """Reduce a metric series to at most ``max_points`` finite points, keeping its shape.

    Points are sorted by step (stably, so repeated steps keep their logged order); NaN and
    ±inf values are counted and left out; if more than ``max_points`` finite points remain
    they are reduced with LTTB, always keeping the first and last point and the global
    minimum and maximum (see the module docstring). The kept points are the original
    ``(step, value)`` tuples, in order: a subsequence of the sorted finite input.

    Args:
        points: ``(step, value)`` pairs in any order.
        max_points: Budget of points to return; at least :data:`MIN_MAX_POINTS`.

    Returns:
        The kept points and counts of what was left out.

    Raises:
        ValueError: If ``max_points`` is below :data:`MIN_MAX_POINTS`.
    """
    if max_points < MIN_MAX_POINTS:
        raise ValueError(f"max_points must be at least {MIN_MAX_POINTS}, got {max_points}")
    finite: list[Point] = []
    nan = posinf = neginf = total = 0
    for step, value in points:
        total += 1
        value = float(value)
        if math.isfinite(value):
            finite.append((step, value))
        elif math.isnan(value):
            nan += 1
        elif value > 0:
            posinf += 1
        else:
            neginf += 1
    finite.sort(key=lambda point: point[0])
    kept = finite if len(finite) <= max_points else _reduce(finite, max_points)
    return Downsampled(kept, total, len(finite), nan, posinf, neginf)


def _reduce(points: list[Point], max_points: int) -> list[Point]:
    """Return LTTB's pick with two slots kept back for the global extremes, then add them."""
    import numpy as np

    xs = np.fromiter((float(step) for step, _ in points), dtype=float, count=len(points))
    ys = np.fromiter((value for _, value in points), dtype=float, count=len(points))
    keep = set(lttb_indices(xs, ys, max_points - 2))
    keep.add(int(np.argmin(ys)))
    keep.add(int(np.argmax(ys)))
    return [points[i] for i in sorted(keep)]


def lttb_indices(
    xs: np.ndarray | Sequence[float], ys: np.ndarray | Sequence[float], n: int
) -> list[int]:
    """Return the indices LTTB keeps when reducing a finite series to ``n`` points.

    Args:
        xs: X values, sorted ascending (repeats allowed), all finite.
        ys: Y values of the same length, all finite.
        n: How many points to keep; at least 2.

    Returns:
        Sorted indices into ``xs``/``ys``: all of them when there are at most ``n``,
        otherwise ``n`` of them including the first and the last.

    Raises:
        ValueError: If ``n`` is below 2 or the lengths differ.
    """
    import numpy as np

    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    if n < 2:
        raise ValueError(f"LTTB needs to keep at least 2 points, got {n}")
    if x.shape != y.shape:
        raise ValueError(f"xs and ys differ in length: {x.shape} != {y.shape}")
    size = len(x)
    if size <= n:
        return list(range(size))
    buckets = n - 2
    # Integer bucket edges over the inner points (indices 1 .. size-2), so no bucket is
    # empty and float rounding cannot skip or repeat a point.
    edges = [1 + (i * (size - 2)) // buckets for i in range(buckets + 1)] if buckets else []
    kept = [0]
    # Huge values can overflow the sums and areas to inf/nan; the pick is then arbitrary
    # within its bucket but still a real point, which is all a display needs.
    with np.errstate(all="ignore"):
        if buckets:
            starts = np.asarray(edges[:-1])
            counts = np.diff(np.asarray(edges))
            mean_x = np.add.reduceat(x[:-1], starts) / counts
            mean_y = np.add.reduceat(y[:-1], starts) / counts
        a = 0
        for i in range(buckets):
            start, end = edges[i], edges[i + 1]
            if i + 1 < buckets:
                next_x, next_y = mean_x[i + 1], mean_y[i + 1]
            else:
                next_x, next_y = x[-1], y[-1]
            ax, ay = x[a], y[a]
            areas = np.abs(
                (ax - next_x) * (y[start:end] - ay) - (ax - x[start:end]) * (next_y - ay)
            )
            a = start + int(np.argmax(areas))
            kept.append(a)
    kept.append(size - 1)
    return kept
