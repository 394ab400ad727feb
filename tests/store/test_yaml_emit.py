"""The fast YAML emitter must always load back (with PyYAML) to exactly the data given."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from strict_values import same

from runfolio.store import yaml_emit
from runfolio.store.serialize import load_yaml

LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]


# Any text, and multi-line text built from every kind of YAML line break.
BREAKS = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029"]
text = st.text(st.characters(exclude_categories=("Cs",))) | st.lists(
    st.sampled_from([*BREAKS, "a", "b c", " ", "\ufeff", "\t"]), max_size=12
).map("".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | text
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(text, values, max_size=6))
def test_any_store_data_round_trips(data: dict[str, Any]) -> None:
    out = yaml_emit.dump(data)
    for loader in LOADERS:
        assert same(yaml.load(out, Loader=loader), data), out


@pytest.mark.parametrize(
    "value",
    [
        "yes", "No", "on", "null", "~", "true", "1", "0x1F", "0o17", "1_000", "1:20", "2026-11-27",
        "2026-11-27T04:56:04.123Z", ".nan", "-.inf", "1e3", "<<", "=", "- a", "a: b", "#x", "a #b",
        "", " ", " lead", "trail ", "multi\nline\n", "multi\nline", "\n", "a\n\n", "\tx\ny",
        "x\ny \n", "\x00\x07\x1b\x7f\x85\u2028\u2029\ufeff", "'q'", '"d"', "é😀", "%TAG", "@x",
        "`x", "!tag", "&a", "*a", "{a}", "[a]", "a,b", "20261127-045604-3f9a2c1b7d",
        "a\nb\u2028", "a\nb\u2029", "a\nb\x85", "a\nb\u2028c", "a\n\u2029\nb\n", "x\ny\u2028z: w",
        "\u2028\nx", "a\nb\u2028\n",
    ],
)  # fmt: skip
def test_tricky_text_round_trips(value: str) -> None:
    for data in ({value: value}, {"k": [value, {value: [value]}]}):
        out = yaml_emit.dump(data)
        for loader in LOADERS:
            assert yaml.load(out, Loader=loader) == data, out


@pytest.mark.parametrize(
    ("value", "written"),
    [(1e300, "1.0e+300"), (1e-05, "1.0e-05"), (-0.0, "-0.0"), (0.1, "0.1"), (float("nan"), ".nan")],
)
def test_floats_are_written_in_shortest_form(value: float, written: str) -> None:
    assert yaml_emit.dump({"x": value}) == f"x: {written}\n"


def test_keys_are_sorted_and_notes_stay_readable() -> None:
    out = yaml_emit.dump({"b": 1, "a": {"note": "line one\nline two\n"}})
    assert out == "a:\n  note: |\n    line one\n    line two\nb: 1\n"


def test_unsupported_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        yaml_emit.dump({"x": (1, 2)})
    with pytest.raises(TypeError):
        yaml_emit.dump({1: "x"})


@pytest.mark.parametrize("written", [1024, 1025, 5000])
@pytest.mark.parametrize("unit", ["", "\ufeff", "日", "\u2028", '"'])
def test_keys_of_any_written_length_read_back(written: int, unit: str) -> None:
    key = unit * 100
    key += "k" * (written + 1 - len(yaml_emit._key(key + "k")))  # one written character each
    assert len(yaml_emit._key(key)) == written
    data = {key: {key: [1, {key: key}]}, "list": [{key: 1, "a": [key]}], "m": {key: "a\nb\n"}}
    out = yaml_emit.dump(data)
    for loader in LOADERS:
        assert yaml.load(out, Loader=loader) == data
    assert load_yaml(out) == data
    # YAML's limit on an implicit key is 1,024 written characters; beyond, "? key".
    assert (f"? {yaml_emit._key(key)}\n" in out) is (written > 1024)


def test_line_breaks_are_never_written_raw() -> None:
    for value in ("a\nb\u2028", "a\nb\u2029c", "a\nb\x85"):
        out = yaml_emit.dump({"k": value, value: [value]})
        assert not any(ch in out for ch in "\x85\u2028\u2029"), out
