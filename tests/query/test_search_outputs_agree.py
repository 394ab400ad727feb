"""search_runs' two outputs (a DataFrame, a list of records) name the same runs in order.

Random stores, random filters and orderings, cold and warm caches: whichever output is
asked for first, and whichever cache serves it, both must select and order alike.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runfolio
from runfolio.errors import FilterError
from runfolio.query.runs import search_runs

_VALUES = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -0.0, math.inf, math.nan, 1e300]),
    st.sampled_from(["a", "b", "10", "A b", ""]),
    st.booleans(),
    st.none(),
)
_RUN = st.fixed_dictionaries(
    {
        "experiment": st.sampled_from(["alpha", "Beta"]),
        "name": st.sampled_from(["x", "y", "x-1", ""]),
        "params": st.dictionaries(st.sampled_from(["p", "q", "opt.lr"]), _VALUES, max_size=3),
        "metrics": st.dictionaries(
            st.sampled_from(["m", "n"]),
            st.one_of(st.floats(-2, 2), st.sampled_from([math.nan, math.inf])),
            max_size=2,
        ),
        "tags": st.dictionaries(
            st.sampled_from(["t", "u"]), st.sampled_from(["a", "b"]), max_size=2
        ),
        "end": st.sampled_from(["FINISHED", "FAILED", "KILLED", None]),
    }
)

_KEYS = [
    "metrics.m",
    "metrics.n",
    "params.p",
    "params.q",
    "params.`opt.lr`",
    "tags.t",
    "attributes.status",
    "attributes.run_name",
    "attributes.start_time",
    "experiment_name",
]
_PATTERNS = ["'%'", "'x%'", "'A%'", "'_'"]
_LITERALS = ["0", "1", "-1", "0.5", "'a'", "'10'", "'x'", "'FINISHED'", "'RUNNING'"]


@st.composite
def _comparisons(draw: st.DrawFn) -> str:
    """One comparison, sometimes one that does not parse (both outputs must refuse it)."""
    key = draw(st.sampled_from(_KEYS))
    op = draw(st.sampled_from(["=", "!=", "<", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS"]))
    if op == "IS":
        return f"{key} IS {draw(st.sampled_from(['NULL', 'NOT NULL']))}"
    if op in ("IN", "NOT IN"):
        items = draw(st.lists(st.sampled_from(_LITERALS), min_size=1, max_size=3))
        return f"{key} {op} ({', '.join(items)})"
    if op in ("LIKE", "ILIKE"):
        return f"{key} {op} {draw(st.sampled_from(_PATTERNS))}"
    return f"{key} {op} {draw(st.sampled_from(_LITERALS))}"


_FILTERS = st.one_of(
    st.just(""),
    st.lists(_comparisons(), min_size=1, max_size=3).flatmap(
        lambda parts: st.lists(
            st.sampled_from([" AND ", " OR "]), min_size=len(parts) - 1, max_size=len(parts) - 1
        ).map(lambda joins: "".join(p + j for p, j in zip(parts, [*joins, ""], strict=True)))
    ),
)
_ORDER = st.one_of(
    st.none(),
    st.lists(
        st.builds(
            lambda k, d: f"{k} {d}", st.sampled_from(_KEYS), st.sampled_from(["ASC", "DESC"])
        ),
        max_size=2,
    ),
)


def _make_store(root: Path, runs: list[dict[str, Any]]) -> list[runfolio.Run]:
    """Log ``runs`` through the API; a run without ``end`` is left RUNNING (and returned)."""
    store = runfolio.Store(root)
    live = []
    for spec in runs:
        run = store.start_run(spec["experiment"], run_name=spec["name"] or None, tags=spec["tags"])
        if spec["params"]:
            run.log_params(spec["params"])
        for key, value in spec["metrics"].items():
            run.log_metric(key, value)
        if spec["end"] is not None:
            run.end(spec["end"])
        else:
            live.append(run)
    return live


def _both(root: Path, query: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The (run id, status) pairs each output names, the DataFrame's asked for first."""
    frame = search_runs(root, **query)
    records = search_runs(root, output_format="list", **query)
    assert isinstance(records, list)
    return list(zip(frame["run_id"], frame["status"], strict=True)), [
        (run.run_id, run.status) for run in records
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    runs=st.lists(_RUN, max_size=6),
    filter_string=_FILTERS,
    order_by=_ORDER,
    max_results=st.one_of(st.none(), st.integers(0, 4)),
    list_first=st.booleans(),
)
def test_dataframe_and_list_name_the_same_runs_in_the_same_order(
    runs: list[dict[str, Any]],
    filter_string: str,
    order_by: list[str] | None,
    max_results: int | None,
    list_first: bool,
) -> None:
    query = {"filter_string": filter_string, "order_by": order_by, "max_results": max_results}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        live = _make_store(root, runs)
        root.mkdir(exist_ok=True)
        try:
            cold, warm = _search_twice(root, query, list_first=list_first)
        finally:
            for run in live:
                run.end()
    if cold is None:
        return  # both refused the filter
    assert cold[0] == cold[1]
    assert warm == cold
    if max_results is not None:
        assert len(cold[0]) <= max_results


def _search_twice(root: Path, query: dict[str, Any], *, list_first: bool) -> tuple[Any, Any]:
    """Both outputs cold, then warm; (None, None) when both refuse the query."""
    if list_first:  # the records cache filled before the rows cache
        with contextlib.suppress(FilterError):
            search_runs(root, output_format="list", **query)
    try:
        cold = _both(root, query)
    except FilterError:
        try:
            search_runs(root, output_format="list", **query)
        except FilterError:
            return None, None
        raise AssertionError("only the DataFrame refused the query") from None
    return cold, _both(root, query)
