"""Tests for the search_runs filter language and order_by clauses in runfolio.query.filter."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runfolio.errors import FilterError
from runfolio.query.filter import OrderKey, RunFilter, parse_filter, parse_order_by, sort_records


def _ms(iso: str) -> int:
    """Return an ISO-8601 UTC time as milliseconds since the epoch."""
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


def _record(
    run_id: str,
    *,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    **attributes: Any,
) -> dict[str, Any]:
    """Build a record in the shape the filter evaluates, with dull default attributes."""
    attrs: dict[str, Any] = {
        "run_id": run_id,
        "run_name": run_id,
        "status": "FINISHED",
        "start_time": _ms("2026-11-25T00:00:00"),
        "end_time": None,
        "user_id": "alice",
        "experiment_id": "1",
        "experiment_name": "housing",
        "parent_run_id": None,
        "artifact_uri": f"runs/{run_id}/artifacts",
    }
    attrs.update(attributes)
    return {
        "attributes": attrs,
        "params": dict(params or {}),
        "metrics": dict(metrics or {}),
        "tags": dict(tags or {}),
    }


RECORDS = [
    _record(
        "a1",
        run_name="ridge-baseline",
        start_time=_ms("2026-11-26T12:00:00"),
        end_time=_ms("2026-11-26T12:05:00"),
        params={
            "model": "ridge",
            "lr": 0.01,
            "n": 10,
            "flag": True,
            "optimizer.lr": 0.001,
            "layers": [64, 32],
            "note": None,
        },
        metrics={"rmse": 0.75, "val.loss": 0.3, "my metric": 1.0},
        tags={"team": "ml", "mlflow.runName": "ridge-baseline"},
    ),
    _record(
        "b2",
        run_name="lasso (v2)",
        status="FAILED",
        user_id="bob",
        start_time=_ms("2026-11-27T10:00:00"),
        # Params imported from MLflow arrive as strings.
        params={"model": "lasso", "lr": 0.1, "n": "20", "flag": False, "learning rate": "1e-3"},
        metrics={"rmse": 0.9, "acc": math.nan},
        tags={"team": "ML", "note": "50% off [promo]"},
    ),
    _record(
        "c3",
        run_name="forest.v3",
        status="RUNNING",
        start_time=_ms("2026-11-28T00:00:00"),
        parent_run_id="a1",
        experiment_id="2",
        experiment_name="churn",
        params={"model": "forest", "n": 100},
        metrics={"rmse": math.inf, "acc": 0.9},
    ),
    _record("d4", run_name=""),
]


def _matching(text: str, records: list[dict[str, Any]] = RECORDS) -> list[str]:
    """Return the run ids of the records that ``text`` matches, in record order."""
    run_filter = parse_filter(text)
    return [r["attributes"]["run_id"] for r in records if run_filter.matches(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["a1", "b2", "c3", "d4"]),
        ("  \n ", ["a1", "b2", "c3", "d4"]),
        # metrics: numeric, NaN false except !=, inf is a number, missing never matches
        ("metrics.rmse < 0.8", ["a1"]),
        ("metric.rmse <= 0.9", ["a1", "b2"]),
        ("metrics.rmse > 1", ["c3"]),
        ("metrics.rmse >= -1e3", ["a1", "b2", "c3"]),
        ("metrics.rmse != 0.75", ["b2", "c3"]),
        ("metrics.rmse = '0.75'", ["a1"]),
        ("metrics.rmse = 'inf'", ["c3"]),
        ("metrics.acc > 0.5", ["c3"]),
        ("metrics.acc < 0.5", []),
        ("metrics.acc = 0.9", ["c3"]),
        ("metrics.acc != 0.5", ["b2", "c3"]),
        ("metrics.val.loss < 0.5", ["a1"]),
        ("metrics.`val.loss` < 0.5", ["a1"]),
        ('metrics."my metric" = 1', ["a1"]),
        ("metrics.`my metric` >= 1.0", ["a1"]),
        ("metrics.rmse IS NULL", ["d4"]),
        ("metrics.acc IS NULL", ["a1", "d4"]),
        ("metrics.rmse IS NOT NULL", ["a1", "b2", "c3"]),
        ("metrics.rmse IN (0.75, 0.9)", ["a1", "b2"]),
        ("metrics.acc IN (0.9, 'nan')", ["c3"]),
        ("metrics.acc NOT IN (0.9)", ["b2"]),
        # params: numeric when both sides are numbers, else MLflow's str(value)
        ("params.model = 'ridge'", ["a1"]),
        ('params.model = "ridge"', ["a1"]),
        ("param.model != 'ridge'", ["b2", "c3"]),
        ("params.lr < 0.05", ["a1"]),
        ("params.lr = '0.01'", ["a1"]),
        ("params.lr = 0.010", ["a1"]),
        ("params.lr = '0.010'", []),
        ("params.n = 10", ["a1"]),
        ("params.n > 15", ["b2", "c3"]),
        ("params.n = '20'", ["b2"]),
        ("params.n = '100'", ["c3"]),
        ("params.flag = 'True'", ["a1"]),
        ("params.flag = 'False'", ["b2"]),
        ("params.flag = 1", []),
        ("params.optimizer.lr = 0.001", ["a1"]),
        ('params."learning rate" < 0.01', ["b2"]),
        ("parameters.layers = '[64, 32]'", ["a1"]),
        ("params.note = 'None'", ["a1"]),
        ("params.note IS NULL", ["b2", "c3", "d4"]),
        ("params.model > 'm'", ["a1"]),
        ("params.model LIKE '%o'", ["b2"]),
        ("params.model ILIKE 'R%'", ["a1"]),
        ("params.model IN ('ridge', 'forest')", ["a1", "c3"]),
        ("params.n IN (10, 20)", ["a1", "b2"]),
        ("params.lr IN ('0.01', 0.1)", ["a1", "b2"]),
        ("params.model NOT IN ('ridge')", ["b2", "c3"]),
        # tags: strings
        ("tags.team = 'ml'", ["a1"]),
        ("tag.team != 'ml'", ["b2"]),
        ("tags.team ILIKE 'ML'", ["a1", "b2"]),
        ("tags.team LIKE 'M%'", ["b2"]),
        ("tags.mlflow.runName = 'ridge-baseline'", ["a1"]),
        ("tags.note = '50% off [promo]'", ["b2"]),
        ("tags.team IS NULL", ["c3", "d4"]),
        ("tags.team IN ('ml', 'ML')", ["a1", "b2"]),
        # attributes, bare or prefixed, with aliases
        ("status = 'FINISHED'", ["a1", "d4"]),
        ("STATUS = 'FINISHED'", ["a1", "d4"]),
        ("attributes.status IN ('FAILED', 'RUNNING')", ["b2", "c3"]),
        ("attr.status NOT IN ('FINISHED')", ["b2", "c3"]),
        ("run_name LIKE '%v_'", ["c3"]),
        ("run_name = ''", ["d4"]),
        ("user = 'bob'", ["b2"]),
        ("attribute.user_id = 'alice'", ["a1", "c3", "d4"]),
        ("experiment = 'churn'", ["c3"]),
        ("experiment_id = 2", ["c3"]),
        ("run_id IN ('a1', 'd4')", ["a1", "d4"]),
        ("parent_run_id = 'a1'", ["c3"]),
        ("parent_run_id IS NULL", ["a1", "b2", "d4"]),
        ("artifact_uri LIKE 'runs/b2/%'", ["b2"]),
        ("end_time IS NOT NULL", ["a1"]),
        ("end_time > 0", ["a1"]),
        ("start_time >= '2026-11-27'", ["b2", "c3"]),
        ("created < '2026-11-27T10:00:00Z'", ["a1", "d4"]),
        ("start_time = '2026-11-27T11:00:00+01:00'", ["b2"]),
        (f"attributes.start_time = {_ms('2026-11-27T10:00:00')}", ["b2"]),
        (f"start_time IN ('{_ms('2026-11-28T00:00:00')}', '2026-11-25')", ["c3", "d4"]),
        # connectors: AND binds tighter than OR; keywords are case-insensitive
        ("metrics.rmse < 0.8 OR status = 'RUNNING'", ["a1", "c3"]),
        ("status = 'FINISHED' OR status = 'FAILED' AND metrics.rmse < 0.8", ["a1", "d4"]),
        ("(status = 'FINISHED' OR status = 'FAILED') AND metrics.rmse < 0.8", ["a1"]),
        ("params.model in ('ridge', 'lasso') and metrics.rmse is not null", ["a1", "b2"]),
        ("Metrics.rmse<0.8 AND tags.team='ml' AND params.n=10", ["a1"]),
        ("((metrics.rmse < 0.8))", ["a1"]),
        (
            "status = 'RUNNING' OR (tags.team = 'ML' AND params.n >= 20) OR run_name = ''",
            ["b2", "c3", "d4"],
        ),
    ],
)
def test_filter_matches_expected_runs(text: str, expected: list[str]) -> None:
    assert _matching(text) == expected


def test_empty_filter_matches_records_without_sub_mappings() -> None:
    assert parse_filter("").matches({})
    assert not parse_filter("metrics.rmse < 1").matches({})
    assert parse_filter("metrics.rmse IS NULL AND params.x IS NULL").matches({})


@pytest.mark.parametrize(
    ("text", "run_name"),
    [
        ("run_name = 'it''s'", "it's"),
        ("run_name = 'it\\'s'", "it's"),
        ('run_name = "say ""hi"""', 'say "hi"'),
        ('run_name = "say \\"hi\\""', 'say "hi"'),
        ("run_name = 'C:\\data'", "C:\\data"),
        ("run_name = 'C:\\\\data'", "C:\\data"),
        ("run_name = 'tab\there'", "tab\there"),
    ],
)
def test_string_literal_escapes(text: str, run_name: str) -> None:
    assert parse_filter(text).matches(_record("x", run_name=run_name))


@pytest.mark.parametrize(
    ("pattern", "value", "like", "ilike"),
    [
        ("a.c", "abc", False, False),
        ("a.c", "a.c", True, True),
        ("(x)", "(x)", True, True),
        ("(x)", "x", False, False),
        ("[ab]", "a", False, False),
        ("[ab]", "[ab]", True, True),
        ("^a$", "a", False, False),
        ("^a$", "^a$", True, True),
        ("a*", "aaa", False, False),
        ("a+?{2}|b", "a+?{2}|b", True, True),
        ("a\\d", "a5", False, False),
        ("a\\d", "a\\d", True, True),
        ("a_c", "abc", True, True),
        ("a_c", "ac", False, False),
        ("a_c", "abbc", False, False),
        ("%", "", True, True),
        ("_", "", False, False),
        ("a%", "a\nb", True, True),
        ("%b%", "abc", True, True),
        ("50%", "50% off", True, True),
        ("ABC", "abc", False, True),
        ("é%", "École", False, True),
        ("É%", "école", False, True),
        ("abc", "abcd", False, False),
        ("bc", "abc", False, False),
    ],
)
def test_like_and_ilike_wildcards(pattern: str, value: str, like: bool, ilike: bool) -> None:
    record = _record("x", tags={"t": value}, params={"p": value})
    quoted = "'" + pattern.replace("\\", "\\\\").replace("'", "''") + "'"
    assert parse_filter(f"tags.t LIKE {quoted}").matches(record) is like
    assert parse_filter(f"tags.t ILIKE {quoted}").matches(record) is ilike
    assert parse_filter(f"params.p LIKE {quoted}").matches(record) is like


def test_like_on_param_uses_mlflow_string_form() -> None:
    record = _record("x", params={"lr": 0.001, "flag": True, "n": 10})
    assert parse_filter("params.lr LIKE '0.00_'").matches(record)
    assert parse_filter("params.flag ILIKE 'true'").matches(record)
    assert parse_filter("params.n LIKE '1%'").matches(record)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.m = 'nan'", []),
        ("metrics.m != 0", ["nan", "inf", "-inf"]),
        ("metrics.m > 1e308", ["inf"]),
        ("metrics.m < -1e308", ["-inf"]),
        ("metrics.m = 'inf'", ["inf"]),
        ("metrics.m = '-inf'", ["-inf"]),
        ("metrics.m >= 0", ["inf", "zero"]),
        ("metrics.m = -0.0", ["zero"]),
        ("metrics.m IS NOT NULL", ["nan", "inf", "-inf", "zero"]),
        ("metrics.m NOT IN (0)", ["nan", "inf", "-inf"]),
    ],
)
def test_nan_and_inf_metrics(text: str, expected: list[str]) -> None:
    records = [
        _record("nan", metrics={"m": math.nan}),
        _record("inf", metrics={"m": math.inf}),
        _record("-inf", metrics={"m": -math.inf}),
        _record("zero", metrics={"m": 0.0}),
        _record("none"),
    ]
    assert _matching(text, records) == expected


def _assert_points_at(error: FilterError, text: str, pos: int, fragment: str) -> None:
    """Check the message names the position and problem and puts a caret under ``pos``."""
    message = str(error)
    assert f"at position {pos}:" in message
    assert fragment in message
    lines = message.split("\n")
    assert lines[-2] == "  " + text
    assert lines[-1] == "  " + " " * pos + "^"


@pytest.mark.parametrize(
    ("text", "pos", "fragment"),
    [
        ("metrics.rmse 0.8", 13, "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN"),
        ("tags.team = 'ml", 12, "unterminated string"),
        ('tags.team = "ml', 12, "unterminated string"),
        ("tags.team = 'it\\'", 12, "unterminated string"),
        ("metrics.`my metric > 1", 8, "unterminated quoted name"),
        ("metricz.x > 1", 0, "unknown prefix 'metricz'"),
        ("status = 'x' AND tagz.team = 'ml'", 17, "unknown prefix 'tagz'"),
        ("metrics.rmse >", 14, "expected a value (a quoted string or a number) after '>'"),
        ("metrics.rmse > AND status = 'x'", 15, "found 'AND'"),
        ("metrics.rmse = ", 15, "found end of filter"),
        ("metrics.rmse > 1 AND", 17, "AND is not followed by a condition"),
        ("metrics.rmse > 1 or  ", 17, "OR is not followed by a condition"),
        ("metrics.rmse > 1 AND )", 21, "expected an identifier"),
        ("(metrics.rmse > 1", 0, "'(' is never closed"),
        ("status = 'x' AND ((metrics.rmse > 1)", 17, "'(' is never closed"),
        ("metrics.rmse > 1)", 16, "')' has no matching '('"),
        ("(metrics.rmse > 1 status = 'x')", 18, "expected AND, OR or ')'"),
        ("()", 1, "expected an identifier"),
        ("metrics.rmse LIKE '0.%'", 13, "LIKE needs a string, but metrics.rmse is numeric"),
        ("start_time ILIKE '2026%'", 11, "ILIKE needs a string"),
        ("tags.team LIKE 5", 15, "LIKE needs a quoted string pattern"),
        ("metrics. > 1", 0, "empty key"),
        ("tags.`` = 'x'", 0, "empty key"),
        ("metrics.rmse > 1 foo", 17, "expected AND, OR or end of filter, found 'foo'"),
        ("status = 'x' 'y'", 13, "expected AND, OR or end of filter"),
        ("metrics.rmse > 1 ; drop table runs", 17, "unexpected character ';'"),
        ("metrics.rmse == 1", 14, "found '='"),
        ("rmse > 1", 0, "unknown attribute 'rmse'"),
        ("attributes.bogus = 'x'", 0, "valid attributes: artifact_uri, created"),
        ("AND status = 'x'", 0, "expected an identifier"),
        ("0.5 < metrics.rmse", 0, "expected an identifier"),
        ("`rmse` > 1", 0, "backtick-quoted name needs a prefix"),
        ("metrics.rmse < 'low'", 15, "expected a number, found 'low'"),
        ("metrics.rmse IN (0.5, 'low')", 22, "expected a number"),
        ("start_time > 'yesterday'", 13, "ISO-8601"),
        ("tags.x NOT LIKE 'a'", 11, "expected IN after NOT"),
        ("tags.x IS 'a'", 10, "expected NULL or NOT NULL after IS"),
        ("tags.x IS NOT 'a'", 14, "expected NULL after IS"),
        ("tags.x IN 'a'", 10, "expected '(' after IN"),
        ("tags.x IN ('a' 'b')", 15, "expected ',' or ')' in the IN list"),
        ("tags.x IN ('a', 'b'", 19, "found end of filter"),
        ("tags.x IN ()", 11, "expected a value"),
    ],
)
def test_filter_errors_point_at_the_token(text: str, pos: int, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    _assert_points_at(info.value, text, pos, fragment)


def test_error_message_matches_documented_layout() -> None:
    with pytest.raises(FilterError) as info:
        parse_filter("metrics.rmse 0.8")
    first, shown, caret = str(info.value).split("\n")
    assert first.startswith("Invalid filter at position 13: expected a comparator (")
    assert first.endswith("), found '0.8'")
    assert shown == "  metrics.rmse 0.8"
    assert caret == "               ^"


def test_error_in_multiline_filter_shows_the_offending_line() -> None:
    text = "status = 'x'\n\tAND metricz.y > 1"
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    lines = str(info.value).split("\n")
    assert "at position 18:" in lines[0]
    assert lines[-2] == "  \tAND metricz.y > 1"
    assert lines[-1] == "  \t    ^"


def test_deep_nesting_is_a_filter_error() -> None:
    text = "(" * 500 + "status = 'x'" + ")" * 500
    with pytest.raises(FilterError, match="nest deeper"):
        parse_filter(text)
    assert parse_filter("(" * 50 + "status = 'x'" + ")" * 50).matches(_record("r", status="x"))


def test_run_filter_repr_and_reuse() -> None:
    run_filter = parse_filter("metrics.rmse < 0.8")
    assert isinstance(run_filter, RunFilter)
    assert repr(run_filter) == "RunFilter('metrics.rmse < 0.8')"
    assert [run_filter.matches(r) for r in RECORDS] == [True, False, False, False]


# --------------------------------------------------------------------------- order_by


def test_parse_order_by() -> None:
    assert parse_order_by(None) == []
    assert parse_order_by([]) == []
    assert parse_order_by(
        ["metrics.rmse", "params.lr desc", "created ASC", "tags.`my tag` DESC", "user"]
    ) == [
        OrderKey("metrics", "rmse", True),
        OrderKey("params", "lr", False),
        OrderKey("attributes", "start_time", True),
        OrderKey("tags", "my tag", False),
        OrderKey("attributes", "user_id", True),
    ]
    assert parse_order_by("metrics.val.loss DESC") == [OrderKey("metrics", "val.loss", False)]


@pytest.mark.parametrize(
    ("clause", "pos", "fragment"),
    [
        ("metrics.rmse UP", 13, "expected ASC or DESC, found 'UP'"),
        ("metrics.rmse DESC extra", 18, "expected end of order_by clause"),
        ("metricz.rmse", 0, "unknown prefix 'metricz'"),
        ("bogus DESC", 0, "unknown attribute 'bogus'"),
        ("", 0, "expected an identifier"),
        ("metrics.", 0, "empty key"),
        ("metrics.rmse > 1", 13, "expected ASC or DESC"),
    ],
)
def test_order_by_errors_point_at_the_token(clause: str, pos: int, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_order_by([clause])
    assert str(info.value).startswith("Invalid order_by clause")
    _assert_points_at(info.value, clause, pos, fragment)


def _ids(records: list[Mapping[str, Any]]) -> list[str]:
    """Return the run ids of ``records`` in order."""
    return [r["attributes"]["run_id"] for r in records]


SORTABLE = [
    _record("nan", metrics={"m": math.nan}, start_time=5),
    _record("low", metrics={"m": 1.0}, start_time=4),
    _record("none", start_time=3),
    _record("inf", metrics={"m": math.inf}, start_time=2),
    _record("high", metrics={"m": 2.0}, start_time=1),
]


def test_missing_and_nan_sort_last_ascending() -> None:
    # The missing and NaN records keep the default order: newest first.
    ordered = sort_records(SORTABLE, ["metrics.m ASC"])
    assert _ids(ordered) == ["low", "high", "inf", "nan", "none"]


def test_missing_and_nan_sort_last_descending() -> None:
    ordered = sort_records(SORTABLE, ["metrics.m DESC"])
    assert _ids(ordered) == ["inf", "high", "low", "nan", "none"]


def test_sort_without_tie_breakers_is_stable() -> None:
    records = [
        _record(name, metrics={"m": value})
        for name, value in zip("abcde", [2, 1, 2, 1, 2], strict=True)
    ]
    assert _ids(sort_records(records, ["metrics.m"], default=())) == list("bdace")
    assert _ids(sort_records(records, ["metrics.m DESC"], default=())) == list("acebd")
    missing = [_record(name) for name in "zyx"]
    assert _ids(sort_records(missing, ["metrics.m DESC"], default=())) == list("zyx")


def test_default_order_is_newest_first_then_run_id() -> None:
    records = [
        _record("b", start_time=10),
        _record("c", start_time=20),
        _record("a", start_time=10),
        _record("d", start_time=None),
    ]
    assert _ids(sort_records(records, None)) == ["c", "a", "b", "d"]
    assert _ids(sort_records(records, ["start_time ASC"])) == ["a", "b", "c", "d"]


def test_default_clauses_break_ties_after_user_clauses() -> None:
    records = [
        _record("b", tags={"team": "x"}, start_time=1),
        _record("a", tags={"team": "x"}, start_time=1),
        _record("c", tags={"team": "w"}, start_time=2),
        _record("d", tags={"team": "x"}, start_time=3),
    ]
    assert _ids(sort_records(records, ["tags.team"])) == ["c", "d", "a", "b"]
    ordered = sort_records(records, ["tags.team DESC"], default=["run_id DESC"])
    assert _ids(ordered) == ["d", "b", "a", "c"]


def test_params_sort_numbers_numerically_before_strings() -> None:
    records = [
        _record("s", params={"n": "many"}),
        _record("100", params={"n": 100}),
        _record("20", params={"n": "20"}),
        _record("10", params={"n": 10.0}),
        _record("huge", params={"n": 10**400}),
        _record("flag", params={"n": True}),
        _record("none"),
        _record("nan", params={"n": math.nan}),
    ]
    assert _ids(sort_records(records, ["params.n"], default=())) == [
        "10",
        "20",
        "100",
        "huge",
        "flag",
        "s",
        "none",
        "nan",
    ]
    assert _ids(sort_records(records, ["params.n DESC"], default=())) == [
        "s",
        "flag",
        "huge",
        "100",
        "20",
        "10",
        "none",
        "nan",
    ]


def test_sort_records_returns_a_new_list() -> None:
    records = list(RECORDS)
    ordered = sort_records(records, ["metrics.rmse"])
    assert records == RECORDS
    assert ordered is not records
    assert _ids(ordered) == ["a1", "b2", "c3", "d4"]


# --------------------------------------------------------------------------- properties

_FRAGMENTS = st.sampled_from(
    [
        "metrics.rmse",
        "params.lr",
        "tags.`a b`",
        'params."x"',
        "status",
        "start_time",
        "bogus",
        "metrics.",
        "=",
        "!=",
        "<",
        ">=",
        "LIKE",
        "ILIKE",
        "IN",
        "NOT",
        "IS",
        "NULL",
        "AND",
        "OR",
        "(",
        ")",
        ",",
        "'a%'",
        "'2026-11-27'",
        "'x",
        "0.5",
        "-1e3",
        "12",
        "`",
        ";",
    ]
)


@given(st.one_of(st.text(), st.lists(_FRAGMENTS, max_size=12).map(" ".join)))
def test_parse_filter_returns_a_filter_or_raises_filter_error(text: str) -> None:
    try:
        run_filter = parse_filter(text)
    except FilterError as error:
        lines = str(error).split("\n")
        assert lines[-1].endswith("^")
        return
    assert isinstance(run_filter, RunFilter)
    for record in RECORDS:
        assert run_filter.matches(record) in (True, False)


@given(st.text())
def test_parse_order_by_returns_keys_or_raises_filter_error(text: str) -> None:
    try:
        keys = parse_order_by([text])
    except FilterError:
        return
    assert len(keys) == 1
    sort_records(RECORDS, [text])


@given(st.text())
def test_any_string_round_trips_through_equality_and_like(value: str) -> None:
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    record = _record("x", run_name=value, tags={"t": value})
    assert parse_filter(f"run_name = {quoted}").matches(record)
    assert parse_filter(f"tags.t IN ('other', {quoted})").matches(record)
    if "%" not in value and "_" not in value:
        assert parse_filter(f"tags.t LIKE {quoted}").matches(record)
