"""Downsampling a metric series for display: LTTB with the extremes kept, NaN/inf split out."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runfolio.site.downsample import (
    DEFAULT_MAX_POINTS,
    MIN_MAX_POINTS,
    downsample,
    lttb_indices,
)

steps = st.integers(min_value=-(10**12), max_value=10**12)
any_floats = st.floats(allow_nan=True, allow_infinity=True)
finite_floats = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
budgets = st.integers(min_value=MIN_MAX_POINTS, max_value=40)


def is_subsequence(short: list, long: list) -> bool:
    """Return whether ``short`` appears in ``long`` in order (not necessarily contiguous)."""
    remaining = iter(long)
    return all(any(item == other for other in remaining) for item in short)


def sorted_finite(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Return the finite points stably sorted by step: the population downsample draws from."""
    return sorted(((s, v) for s, v in points if math.isfinite(v)), key=lambda p: p[0])


@given(st.lists(st.tuples(steps, any_floats), max_size=300), budgets)
def test_any_input_gives_a_bounded_subsequence_and_exact_counts(points, budget) -> None:
    result = downsample(points, budget)
    population = sorted_finite(points)

    assert len(result.points) <= budget
    assert is_subsequence(result.points, population)
    assert all(math.isfinite(value) for _, value in result.points)
    assert result.total == len(points)
    assert result.finite == len(population)
    assert result.nan == sum(math.isnan(v) for _, v in points)
    assert result.posinf == sum(v == math.inf for _, v in points)
    assert result.neginf == sum(v == -math.inf for _, v in points)
    assert result.finite + result.nonfinite == result.total


@given(st.lists(st.tuples(steps, finite_floats), min_size=1, max_size=300), budgets)
def test_first_last_min_and_max_are_kept(points, budget) -> None:
    result = downsample(points, budget)
    population = sorted_finite(points)
    values = [value for _, value in result.points]

    assert result.points[0] == population[0]
    assert result.points[-1] == population[-1]
    assert min(values) == min(v for _, v in population)
    assert max(values) == max(v for _, v in population)


@given(st.lists(st.tuples(steps, finite_floats), max_size=60))
def test_a_series_within_budget_is_returned_whole_and_sorted(points) -> None:
    result = downsample(points, 60)

    assert result.points == sorted_finite(points)
    assert not result.reduced


@given(
    st.lists(finite_floats, min_size=2, max_size=400),
    budgets,
    st.booleans(),
)
def test_a_monotone_series_stays_monotone(values, budget, increasing) -> None:
    values = sorted(values, reverse=not increasing)
    result = downsample(list(enumerate(values)), budget)
    kept = [value for _, value in result.points]

    assert kept == sorted(kept, reverse=not increasing)


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=2**32 - 1), budgets)
def test_spiky_series_keep_their_spikes(seed, budget) -> None:
    rng = random.Random(seed)
    values = [rng.gauss(0, 1) for _ in range(2000)]
    for _ in range(3):
        values[rng.randrange(1, 1999)] = rng.choice([-1, 1]) * rng.uniform(50, 100)
    result = downsample(list(enumerate(values)), budget)
    kept = {value for _, value in result.points}

    assert max(values) in kept
    assert min(values) in kept
    # Two slots are held back for the extremes; LTTB fills the rest.
    assert budget - 2 <= len(result.points) <= budget


def test_nan_and_inf_are_counted_and_kept_off_the_line() -> None:
    points = [(0, 1.0), (1, math.nan), (2, math.inf), (3, -math.inf), (4, 2.0), (5, math.nan)]

    result = downsample(points, 10)

    assert result.points == [(0, 1.0), (4, 2.0)]
    assert (result.nan, result.posinf, result.neginf, result.nonfinite) == (2, 1, 1, 4)
    assert result.total == 6
    assert result.finite == 2


def test_only_nonfinite_values_give_an_empty_line() -> None:
    result = downsample([(0, math.nan), (1, math.inf)])

    assert result.points == []
    assert result.nonfinite == 2


def test_unsorted_and_repeated_steps_are_sorted_stably() -> None:
    points = [(3, 30.0), (1, 10.0), (2, 21.0), (1, 11.0), (2, 20.0)]

    result = downsample(points, 10)

    assert result.points == [(1, 10.0), (1, 11.0), (2, 21.0), (2, 20.0), (3, 30.0)]


def test_repeated_steps_beyond_the_budget_do_not_break_lttb() -> None:
    points = [(step // 10, float(step % 7)) for step in range(1000)]

    result = downsample(points, 50)

    assert len(result.points) <= 50
    assert is_subsequence(result.points, sorted_finite(points))


def test_long_history_is_reduced_to_the_default_budget() -> None:
    points = [(step, math.sin(step / 500) + (step % 97) / 1000) for step in range(200_000)]

    result = downsample(points)

    assert len(result.points) <= DEFAULT_MAX_POINTS
    assert len(result.points) >= DEFAULT_MAX_POINTS - 2
    assert result.reduced
    assert result.points[0] == points[0]
    assert result.points[-1] == points[-1]


def test_huge_steps_and_values_do_not_raise() -> None:
    points = [(10**30 + step, (-1) ** step * 1e308) for step in range(100)]

    result = downsample(points, 10)

    assert len(result.points) <= 10
    assert result.points[0] == points[0]
    assert {value for _, value in result.points} == {1e308, -1e308}


def test_integer_values_are_accepted() -> None:
    assert downsample([(0, 1), (1, 2)]).points == [(0, 1.0), (1, 2.0)]


def test_a_budget_below_four_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        downsample([(0, 1.0)], 3)


def test_lttb_keeps_exactly_n_points_with_the_ends() -> None:
    xs = list(range(100))
    ys = [float((x * 37) % 11) for x in xs]

    kept = lttb_indices(xs, ys, 10)

    assert len(kept) == 10
    assert kept[0] == 0
    assert kept[-1] == 99
    assert kept == sorted(set(kept))


def test_lttb_picks_the_spike_in_a_flat_line() -> None:
    ys = [0.0] * 100
    ys[42] = 5.0

    kept = lttb_indices(list(range(100)), ys, 5)

    assert 42 in kept


def test_lttb_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        lttb_indices([0.0, 1.0], [0.0, 1.0], 1)
    with pytest.raises(ValueError, match="differ in length"):
        lttb_indices([0.0, 1.0], [0.0], 2)


def reference_lttb(xs: list[float], ys: list[float], n: int) -> list[int]:
    """Return LTTB's picks, written plainly from the paper with the same integer buckets."""
    size = len(xs)
    if size <= n:
        return list(range(size))
    buckets = n - 2
    if buckets == 0:
        return [0, size - 1]
    edges = [1 + (i * (size - 2)) // buckets for i in range(buckets + 1)]
    kept, a = [0], 0
    for i in range(buckets):
        if i + 1 < buckets:
            nxt = range(edges[i + 1], edges[i + 2])
            cx = sum(xs[j] for j in nxt) / len(nxt)
            cy = sum(ys[j] for j in nxt) / len(nxt)
        else:
            cx, cy = xs[-1], ys[-1]
        best, best_area = edges[i], -1.0
        for j in range(edges[i], edges[i + 1]):
            area = abs((xs[a] - cx) * (ys[j] - ys[a]) - (xs[a] - xs[j]) * (cy - ys[a]))
            if area > best_area:
                best, best_area = j, area
        kept.append(best)
        a = best
    return [*kept, size - 1]


@given(
    st.lists(st.floats(min_value=-1e3, max_value=1e3), min_size=2, max_size=200),
    st.integers(min_value=2, max_value=30),
)
def test_lttb_matches_a_plain_reference(values, n) -> None:
    # Integer-valued data keeps float sums exact, so ties cannot differ by rounding.
    ys = [float(round(v)) for v in values]
    xs = [float(i) for i in range(len(ys))]

    assert lttb_indices(xs, ys, n) == reference_lttb(xs, ys, n)


@pytest.mark.parametrize("seed", range(5))
def test_lttb_matches_the_reference_on_noisy_series(seed: int) -> None:
    rng = random.Random(seed)
    ys = [float(rng.randint(-100, 100)) for _ in range(997)]
    ys[-1] = 10_000.0  # a far last point: the next-bucket average must not include it
    xs = [float(i) for i in range(len(ys))]

    for n in (3, 4, 10, 57):
        assert lttb_indices(xs, ys, n) == reference_lttb(xs, ys, n)
