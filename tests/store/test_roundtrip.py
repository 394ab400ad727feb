"""Round-trip properties: whatever the API accepts comes back from the files exactly.

Each example writes into a fresh temporary store through the object API, then reads the
files back twice: with PyYAML's pure-Python safe loader (any other tool) and through
runfolio's own readers. Hypothesis runs derandomized, so the suite stays deterministic.
"""

from __future__ import annotations

import math
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strict_values import same

from runfolio import InvalidInputError, Run, Store

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None)


@pytest.fixture(autouse=True)
def _outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder outside any git repository, so runs capture no git state."""
    monkeypatch.chdir(tmp_path)


@contextmanager
def fresh_run(experiment: str = "e", **kwargs: Any) -> Iterator[tuple[Store, Run]]:
    """A new store in its own temporary folder, and a run started in it."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "runs")
        yield store, store.start_run(experiment, **kwargs)


def read_yaml(path: Path) -> Any:
    """Load a YAML file with PyYAML's pure-Python safe loader."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def documented_key_ok(key: str) -> bool:
    """The key rules of the docs, restated independently of runfolio's code."""
    return (
        bool(key.strip())
        and len(key) <= 250
        and "/" not in key
        and "\\" not in key
        and ".." not in key
        and not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key)
    )


def documented_name_ok(name: str) -> bool:
    """Experiment and run names: any text that is not blank, at most 500 characters, UTF-8."""
    return (
        bool(name.strip())
        and len(name) <= 500
        and not any("\ud800" <= ch <= "\udfff" for ch in name)
    )


# Text that trips YAML and CSV writers: implicit types, indicators, breaks, odd code points.
TRICKY = [
    "yes", "No", "ON", "off", "y", "n", "null", "Null", "~", "true", "False", "1", "-1", "0x1F",
    "0o17", "017", "1_000", "1:20", "190:20:30", "1e3", "1.0e+3", ".5", "+.inf", "-.inf", ".NaN",
    "2026-11-27", "2026-11-27T04:56:04Z", "<<", "=", "- a", "-", "a: b", "a:b", "#x", "a #b",
    "&a", "*a", "!t", "%x", "@x", "`x", "'", '"', "'quoted'", "{}", "[]", "{a: 1}", "|", ">",
    "?", ",", "a,b", " lead", "trail ", "  ", "a\nb", "a\n", "\n", "a\n\nb\n", "a\r\nb", "\r",
    "\t", "tab\tin", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\xa0", "\u2028", "\u2029",
    "\ufeff", "\ufeffbom", "\ufffe", "\uffff", "é", "e\u0301", "日本語", "😀", "\U0010ffff",
    "ǅ", "ﬁ", "\u200b", "k" * 250, "x" * 5000, "a  b", "a\\b", "\\", "...", "---", "a.b",
    # Multi-line text ending in, or holding, what YAML also reads as a line break.
    "a\nb\u2028", "a\nb\u2029", "a\nb\x85", "a\n\u2028b\n", "a\nb\u2029c: d", "\u2028\na",
    "a\nb\rc", "a\r\n", "a\nb\ufeff", "\ufeff" * 171, "k" + "\u2028" * 249,
]  # fmt: skip

# Text built from every kind of line break (\n, \r, \r\n, U+0085, U+2028, U+2029),
# between words and the spaces and indicators that decide a block's shape.
LINE_PIECES = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "a", "bc", " ", "  ", "-", ":", "#"]
multi_line = st.lists(st.sampled_from(LINE_PIECES), min_size=1, max_size=10).map("".join)

any_text = st.one_of(
    st.text(),
    multi_line,
    st.sampled_from(TRICKY),
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(TRICKY),
        st.text(max_size=5),
        st.sampled_from(TRICKY),
    ),
)
keys = any_text.filter(documented_key_ok)
# Nested keys without dots, so that no two nested keys flatten to the same dotted name.
nested_keys = keys.filter(lambda k: "." not in k)
floats = st.floats() | st.sampled_from(
    [-0.0, 5e-324, -5e-324, 2.2250738585072009e-308, 1e308, 1.7976931348623157e308, 1e16, 0.1]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**40, -(10**40), 2**63, -(2**64) - 1])
    | floats
    | any_text
)
param_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nested_keys, inner, max_size=4),
    max_leaves=12,
)
surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
with_surrogate = st.builds(
    lambda a, s, b: a + s + b, st.text(max_size=5), surrogate, st.text(max_size=5)
)


# -- metrics ---------------------------------------------------------------------------------


@SETTINGS
@given(value=floats)
@example(value=float("nan"))
@example(value=float("inf"))
@example(value=float("-inf"))
@example(value=-0.0)
@example(value=5e-324)
@example(value=2.225073858507201e-308)
@example(value=1e308)
@example(value=-1.7976931348623157e308)
def test_any_float_metric_reads_back_bit_identical(value: float) -> None:
    with fresh_run() as (store, run):
        run.log_metric("m", value, step=1, timestamp=1_000)
        run.log_metrics({"n": value}, step=2, timestamp=2_000)
        live = store.get_run(run.run_id).metrics  # from metrics.csv while RUNNING
        run.end()
        for key, step in (("m", 1), ("n", 2)):
            [row] = store.get_metric_history(run.run_id, key)
            assert (row.step, row.timestamp) == (step, step * 1_000)
            assert same(row.value, value)
            stored = read_yaml(run.path / "run.yaml")["metrics"][key]
            assert same(stored["last"], value)
            assert same(live[key]["last"], value)
            assert same(store.get_run(run.run_id).metrics[key]["last"], value)
            if math.isnan(value):
                assert stored["min"] is None and stored["max"] is None
            else:
                assert same(stored["min"], value) and same(stored["max"], value)


@SETTINGS
@given(key=keys, values=st.lists(floats, min_size=1, max_size=5))
def test_metric_keys_and_histories_round_trip_through_the_csv(
    key: str, values: list[float]
) -> None:
    with fresh_run() as (store, run):
        for step, value in enumerate(values):
            run.log_metric(key, value, step=step, timestamp=step)
        run.end()
        history = store.get_metric_history(run.run_id, key)
        assert [r.key for r in history] == [key] * len(values)
        assert all(same(r.value, v) for r, v in zip(history, values, strict=True))
        assert store.get_run(run.run_id).problems == []


@SETTINGS
@given(key=any_text)
def test_invalid_keys_are_refused_and_valid_ones_accepted(key: str) -> None:
    with fresh_run() as (store, run):
        if documented_key_ok(key):
            run.log_metric(key, 1.0)
            run.log_param(key, 1)
            run.set_tag(key, "v")
            record = store.get_run(run.run_id)
            assert (record.metrics[key]["last"], record.params[key], record.tags[key]) == (
                1.0,
                1,
                "v",
            )
        else:
            for call in (
                lambda: run.log_metric(key, 1.0),
                lambda: run.log_param(key, 1),
                lambda: run.set_tag(key, "v"),
            ):
                with pytest.raises(InvalidInputError):
                    call()
            assert not (run.path / "metrics.csv").exists()
            assert not (run.path / "params.yaml").exists()


# -- params ----------------------------------------------------------------------------------


@SETTINGS
@given(key=keys, value=param_values)
def test_any_param_round_trips_through_params_yaml(key: str, value: Any) -> None:
    with fresh_run() as (store, run):
        stored = run.log_param(key, value)
        assert same(stored, value)
        assert same(read_yaml(run.path / "params.yaml"), {key: value})
        run.end()
        assert same(store.get_run(run.run_id).params, {key: value})
        # Logging the value read back from the file is a repeat, not a change.
        resumed = store.start_run("e", run_id=run.run_id)
        resumed.log_params({key: value})
        resumed.end()
        assert same(read_yaml(run.path / "params.yaml"), {key: value})


@SETTINGS
@given(params=st.dictionaries(nested_keys, param_values, min_size=1, max_size=6))
def test_params_are_written_deterministically(params: dict[str, Any]) -> None:
    with fresh_run() as (_, first), fresh_run() as (_, second):
        first.log_params(params)
        for key in reversed(list(params)):  # another order, one call per key
            second.log_params({key: params[key]})
        text = (first.path / "params.yaml").read_bytes()
        other = (second.path / "params.yaml").read_bytes()
        if other != text:  # not a bare assert: pytest's diff of big texts, per shrink step, is huge
            pytest.fail(f"params.yaml differs between runs:\n{text[:500]!r}\n{other[:500]!r}")
        assert text.endswith(b"\n") and b"\r" not in text
        top_keys = list(read_yaml(first.path / "params.yaml"))
        assert top_keys == sorted(top_keys)


@SETTINGS
@given(key=keys, value=with_surrogate)
def test_params_that_cannot_be_encoded_raise(key: str, value: str) -> None:
    with fresh_run() as (_, run):
        run.log_param("kept", 1)
        for bad in (value, [value], {"inner": value}):
            with pytest.raises(InvalidInputError):
                run.log_param(key, bad)
        assert read_yaml(run.path / "params.yaml") == {"kept": 1}


# -- tags and names --------------------------------------------------------------------------


@SETTINGS
@given(tags=st.dictionaries(keys, any_text, min_size=1, max_size=5))
def test_tag_values_round_trip(tags: dict[str, str]) -> None:
    with fresh_run() as (store, run):
        run.set_tags(tags)
        assert read_yaml(run.path / "run.yaml")["tags"] == tags
        run.end()
        assert store.get_run(run.run_id).tags == tags
        text = (run.path / "run.yaml").read_bytes()
        assert text.endswith(b"\n") and b"\r" not in text


@SETTINGS
@given(names=st.lists(any_text, min_size=1, max_size=4, unique=True), run_name=any_text)
def test_experiment_and_run_names_round_trip(names: list[str], run_name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "runs")
        good = [n for n in names if documented_name_ok(n)]
        for name in names:
            if documented_name_ok(name):
                store.set_experiment(name)
            else:
                with pytest.raises(InvalidInputError):
                    store.set_experiment(name)
        folders = {store.get_experiment(name).path for name in good}
        assert len(folders) == len(good)  # names sharing a slug still get their own folder
        for name in good:
            record = store.get_experiment(name)
            assert record.name == name
            assert read_yaml(record.path / "experiment.yaml")["name"] == name
        if not good:
            return
        if documented_name_ok(run_name):
            with store.start_run(good[0], run_name=run_name) as run:
                pass
            assert read_yaml(run.path / "run.yaml")["name"] == run_name
            record = store.get_run(run.run_id)
            assert (record.name, record.experiment) == (run_name, good[0])
        else:
            with pytest.raises(InvalidInputError):
                store.start_run(good[0], run_name=run_name)


@SETTINGS
@given(text=with_surrogate)
def test_text_that_cannot_be_encoded_never_reaches_a_file(text: str) -> None:
    with fresh_run() as (store, run):
        calls = [
            lambda: store.set_experiment(text),
            lambda: store.set_experiment("e", description=text),
            lambda: store.start_run("e", run_name=text),
            lambda: store.start_run("e", description=text),
            lambda: store.start_run("e", tags={"t": text}),
            lambda: run.set_tag("t", text),
            lambda: run.set_description(text),
            lambda: run.log_param("p", text),
        ]
        for call in calls:
            with pytest.raises(InvalidInputError):
                call()
        run.end()
        root = store.root
        for path in root.rglob("*.yaml"):
            read_yaml(path)  # every file still loads
        assert [p.parent for p in root.rglob("run.yaml")] == [run.path]
        assert read_yaml(run.path / "run.yaml")["tags"] == {}


# -- determinism, by example -----------------------------------------------------------------


def test_same_params_and_tags_give_identical_files() -> None:
    params = {"b": 1, "a": {"z": 0.1, "y": [1, 2]}, "c": "text"}
    tags = {"team": "vision", "stage": "dev"}
    with (
        fresh_run(tags=tags) as (_, first),
        fresh_run(tags=dict(reversed(tags.items()))) as (
            _,
            second,
        ),
    ):
        first.log_params(params)
        second.log_params(dict(reversed(params.items())))
        assert (first.path / "params.yaml").read_bytes() == (
            second.path / "params.yaml"
        ).read_bytes()
        assert (first.path / "params.yaml").read_text(encoding="utf-8") == (
            "a:\n  y:\n  - 1\n  - 2\n  z: 0.1\nb: 1\nc: text\n"
        )
        tag_blocks = [
            (run.path / "run.yaml")
            .read_text(encoding="utf-8")
            .split("tags:\n")[1]
            .split("\nuser:")[0]
            for run in (first, second)
        ]
        assert tag_blocks[0] == tag_blocks[1] == "  stage: dev\n  team: vision"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (1e16, "1.0e+16"),
        (1e-05, "1.0e-05"),
        (1 / 3, "0.3333333333333333"),
        (5e-324, "5.0e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (float("nan"), ".nan"),
        (float("inf"), ".inf"),
        (float("-inf"), "-.inf"),
    ],
)
def test_param_floats_are_written_in_shortest_round_trip_form(value: float, text: str) -> None:
    with fresh_run() as (_, run):
        run.log_param("x", value)
        assert (run.path / "params.yaml").read_text(encoding="utf-8") == f"x: {text}\n"
        assert same(read_yaml(run.path / "params.yaml")["x"], value)
