"""Chart specs: inline data, neutral field names, hostile strings only as data, vendored runtime.

The last tests compile and draw the specs with the vendored Vega bundle in headless
Chromium (the ``page`` fixture of ``conftest.py``), so a spec Vega-Lite cannot compile, a
bundle that does not load, or a user string that turns into code, fails here.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import altair as alt
import pytest
from tools.vega_inspect import INSPECT_SPEC_JS

from runfolio.site.charts import (
    metric_history_spec,
    parallel_coordinates_spec,
    primary_metric_spec,
    spec_to_json,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

VENDOR = Path(__file__).resolve().parents[2] / "themes" / "default" / "static" / "vendor"
BUNDLE = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
HOSTILE = (
    "a.b",
    "x[0]",
    '"}',
    "</script><script>alert(1)</script>",
    "{{7*7}}",
    "datum.x || alert(1)",
)
# Keys under which Vega-Lite reads expression text, or reads a field path.
EXPRESSION_KEYS = {"calculate", "filter", "labelExpr", "expr", "signal", "test", "param"}
FIELD = re.compile(r"^[a-z][a-z0-9_]*$")


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield every (path, value) in a JSON-like tree, containers included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))


def hostile_specs() -> dict[str, dict[str, Any]]:
    """Return one spec of each kind with hostile run names, metric names and params."""
    history = {
        name: [(step, float(step % 5 + i)) for step in range(30)] + [(7, math.nan)]
        for i, name in enumerate(HOSTILE)
    }
    points = [
        {"name": name, "run_id": name, "start_time": f"2026-11-27T0{i}:00:00+00:00", "value": i}
        for i, name in enumerate(HOSTILE)
    ]
    rows = [
        {
            "name": name,
            **{key: (i * 0.5 if j % 2 else HOSTILE[(i + j) % 6]) for j, key in enumerate(HOSTILE)},
            "score": float(i),
        }
        for i, name in enumerate(HOSTILE)
    ]
    return {
        "history": metric_history_spec(history, HOSTILE[5]),
        "primary": primary_metric_spec(points, HOSTILE[3], "maximize"),
        "parallel": parallel_coordinates_spec(rows, list(HOSTILE), HOSTILE[1]),
    }


def data_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the rows of the spec's main inline dataset (the layer with the most rows)."""
    candidates = [spec.get("data", {}).get("values", [])]
    candidates += [layer.get("data", {}).get("values", []) for layer in spec.get("layer", [])]
    return max(candidates, key=len)


# --- what every spec must be -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["history", "primary", "parallel"])
def test_specs_are_inline_responsive_and_current(kind: str) -> None:
    spec = hostile_specs()[kind]

    assert spec["$schema"].endswith(f"/vega-lite/{alt.SCHEMA_VERSION}.json")
    assert spec["width"] == "container"
    assert not [path for path, _ in walk(spec) if path and path[-1] in {"url", "datasets"}]
    assert any(path and path[-1] == "tooltip" for path, _ in walk(spec))
    json.loads(spec_to_json(spec))  # strict JSON: no NaN or Infinity anywhere


@pytest.mark.parametrize("kind", ["history", "primary", "parallel"])
def test_field_names_are_neutral(kind: str) -> None:
    spec = hostile_specs()[kind]

    fields = [
        value
        for path, value in walk(spec)
        if path and path[-1] in {"field", "lookup", "key"} and isinstance(value, str)
    ]
    fields += [
        name
        for path, value in walk(spec)
        if path and path[-1] in {"fold", "fields", "as"} and isinstance(value, list)
        for name in value
    ]
    assert fields
    # row_number() windows carry an empty field, which names nothing.
    assert [name for name in fields if name and not FIELD.match(name)] == []
    for row in data_rows(spec):
        assert all(FIELD.match(key) for key in row)


@pytest.mark.parametrize("kind", ["history", "primary", "parallel"])
def test_user_strings_reach_the_spec_only_as_data_or_titles(kind: str) -> None:
    spec = hostile_specs()[kind]
    allowed = {"values", "title", "usermeta"}

    seen = 0
    for path, value in walk(spec):
        if isinstance(value, str) and any(name in value for name in HOSTILE):
            seen += 1
            assert allowed & set(path), path
            assert not EXPRESSION_KEYS & set(path), path
    assert seen
    expressions = [value for path, value in walk(spec) if path and path[-1] in EXPRESSION_KEYS]
    assert not [e for e in expressions if any(name in json.dumps(e) for name in HOSTILE)]


def test_spec_to_json_cannot_close_a_script_element() -> None:
    spec = hostile_specs()["history"]

    text = spec_to_json(spec)

    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text) == spec


def test_spec_to_json_escapes_line_separators_and_refuses_nan() -> None:
    assert spec_to_json({"a": "x\u2028y\u2029"}) == '{"a":"x\\u2028y\\u2029"}'
    with pytest.raises(ValueError):
        spec_to_json({"a": math.nan})


# --- metric history ------------------------------------------------------------------


def test_metric_history_draws_one_line_per_run_without_nonfinite_values() -> None:
    series = {
        "run-a": [(2, 0.5), (0, 1.0), (1, math.nan), (3, math.inf)],
        "run-b": [(0, 2.0), (1, -math.inf)],
    }

    spec = metric_history_spec(series, "loss")

    assert spec["data"]["values"] == [
        {"run": "run-a", "step": 0, "value": 1.0},
        {"run": "run-a", "step": 2, "value": 0.5},
        {"run": "run-b", "step": 0, "value": 2.0},
    ]
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["color"]["field"] == "run"
    assert spec["encoding"]["y"]["title"] == "loss"
    assert spec["usermeta"]["runfolio"]["series"] == {
        "run-a": {"total": 4, "drawn": 2, "nonfinite": 2},
        "run-b": {"total": 2, "drawn": 1, "nonfinite": 1},
    }


def test_metric_history_downsamples_each_series() -> None:
    long = [(step, math.sin(step / 100)) for step in range(20_000)]

    spec = metric_history_spec({"a": long, "b": long[:50]}, "acc", max_points=300)

    rows = spec["data"]["values"]
    assert sum(row["run"] == "a" for row in rows) <= 300
    assert sum(row["run"] == "b" for row in rows) == 50
    assert spec["usermeta"]["runfolio"]["series"]["a"] == {
        "total": 20_000,
        "drawn": sum(row["run"] == "a" for row in rows),
        "nonfinite": 0,
    }


def test_metric_history_of_nothing_is_an_empty_chart() -> None:
    assert metric_history_spec({}, "loss")["data"]["values"] == []


# --- primary metric across runs ------------------------------------------------------


def runs(*values: float) -> list[dict[str, Any]]:
    """Return primary-metric points, one hour apart, named r0, r1, ..."""
    return [
        {
            "name": f"r{i}",
            "run_id": f"id{i}",
            "start_time": f"2026-11-27T{i:02d}:00:00Z",
            "value": v,
        }
        for i, v in enumerate(values)
    ]


@pytest.mark.parametrize(
    ("direction", "best", "frontier"),
    [
        ("minimize", {"r1", "r3"}, [0.5, 0.2, 0.2, 0.2]),
        ("maximize", {"r2"}, [0.5, 0.5, 0.9, 0.9]),
    ],
)
def test_primary_metric_marks_the_best_runs(direction, best, frontier) -> None:
    spec = primary_metric_spec(runs(0.5, 0.2, 0.9, 0.2), "acc", direction)

    rows = spec["data"]["values"]
    assert {row["run"] for row in rows if row["rank"] == "best"} == best
    assert [row["best_so_far"] for row in rows] == frontier
    assert spec["layer"][1]["encoding"]["x"]["type"] == "temporal"
    tooltip_fields = [item["field"] for item in spec["layer"][1]["encoding"]["tooltip"]]
    assert {"run", "value", "start"} <= set(tooltip_fields)


def test_primary_metric_skips_runs_without_value_or_start() -> None:
    points = [
        *runs(1.0, math.nan),
        {"name": "inf", "start_time": "2026-11-27T05:00:00Z", "value": math.inf},
        {"name": "nostart", "value": 3.0},
        {"name": "text", "start_time": "2026-11-27T06:00:00Z", "value": "3"},
        {"name": "dt", "start_time": datetime(2026, 11, 27, 7, tzinfo=UTC), "value": 2},
    ]

    spec = primary_metric_spec(points, "loss", "minimize")

    rows = spec["data"]["values"]
    assert [row["run"] for row in rows] == ["r0", "dt"]
    assert rows[1]["start"] == "2026-11-27T07:00:00+00:00"
    assert spec["usermeta"]["runfolio"]["skipped"] == 4


def test_primary_metric_rejects_an_unknown_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        primary_metric_spec(runs(1.0), "loss", "max")


# --- parallel coordinates ------------------------------------------------------------


def test_parallel_coordinates_normalise_numbers_and_rank_categories() -> None:
    rows = [
        {"name": "a", "lr": 0.1, "opt": "sgd", "bn": True, "depth": 3, "acc": 0.9},
        {"name": "b", "lr": 0.3, "opt": "adam", "bn": False, "depth": 3, "acc": 0.7},
        {"name": "c", "lr": 0.2, "opt": "rmsprop", "acc": 0.8},
        {"name": "d", "lr": 0.2, "opt": "sgd", "acc": math.nan},
    ]

    spec = parallel_coordinates_spec(rows, ["lr", "opt", "bn", "depth"], "acc")

    data = spec["layer"][1]["data"]["values"]
    assert [row["run"] for row in data] == ["a", "b", "c"]
    assert [row["p0"] for row in data] == pytest.approx([0.0, 1.0, 0.5])
    assert [row["p1"] for row in data] == [1.0, 0.0, 0.5]  # adam < rmsprop < sgd
    assert [row["p2"] for row in data] == [1.0, 0.0, None]  # false < true; missing: gap
    assert [row["p3"] for row in data] == [0.5, 0.5, None]  # constant axis sits mid-way
    assert [row["p4"] for row in data] == pytest.approx([1.0, 0.0, 0.5])
    assert [row["r1"] for row in data] == ["sgd", "adam", "rmsprop"]
    assert [row["metric"] for row in data] == [0.9, 0.7, 0.8]
    meta = spec["usermeta"]["runfolio"]
    assert meta["axes"] == {"p0": "lr", "p1": "opt", "p2": "bn", "p3": "depth", "p4": "acc"}
    assert meta["skipped"] == 1
    lines = spec["layer"][1]
    assert lines["transform"][1]["fold"] == ["p0", "p1", "p2", "p3", "p4"]
    assert lines["encoding"]["color"]["field"] == "metric"
    labels = {(row["axis"], row["text"]) for row in spec["layer"][2]["data"]["values"]}
    assert {("lr", "0.1"), ("lr", "0.3"), ("opt", "adam"), ("bn", "true")} <= labels


def test_parallel_coordinates_keep_axes_apart_when_titles_repeat() -> None:
    rows = [{"name": "a", "acc": 1.0}, {"name": "b", "acc": 2.0}]

    spec = parallel_coordinates_spec(rows, ["acc"], "acc")

    axes = spec["layer"][0]["data"]["values"]
    assert [axis["axis"] for axis in axes] == ["acc", "acc (2)"]


def test_parallel_coordinates_treat_nonfinite_params_as_gaps() -> None:
    rows = [
        {"name": "a", "lr": math.inf, "acc": 1.0},
        {"name": "b", "lr": 0.5, "acc": 2.0},
        {"name": "c", "lr": 1.5, "acc": 3.0},
    ]

    spec = parallel_coordinates_spec(rows, ["lr"], "acc")

    data = spec["layer"][1]["data"]["values"]
    assert [row["p0"] for row in data] == [None, 0.0, 1.0]
    assert data[0]["r0"] == "inf"
    json.loads(spec_to_json(spec))


# --- the vendored browser bundle -----------------------------------------------------


def readme_checksums() -> dict[str, str]:
    """Return file → sha256 from the vendor README's file table."""
    text = (VENDOR / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| (\S+) \| ([0-9a-f]{64}) \|", text, flags=re.MULTILINE))


def test_vendored_files_match_the_readme_checksums() -> None:
    checksums = readme_checksums()

    assert set(BUNDLE) <= set(checksums)
    assert {"LICENSE-vega.txt", "LICENSE-vega-lite.txt", "LICENSE-vega-embed.txt"} <= set(checksums)
    for name, expected in checksums.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == expected, name
    assert not (VENDOR / "node_modules").exists()


def test_vendored_vega_lite_matches_the_schema_altair_writes() -> None:
    text = (VENDOR / "README.md").read_text(encoding="utf-8")
    readme_version = re.search(r"^\| vega-lite\s+\| (\d+\.\d+\.\d+)", text, re.MULTILINE)
    schema = metric_history_spec({}, "m")["$schema"]
    schema_version = re.search(r"/v(\d+)\.(\d+)\.\d+\.json$", schema)
    bundle_head = (VENDOR / "vega-lite.min.js").read_text(encoding="utf-8")[:2000]
    bundle_version = re.search(r'="(\d+\.\d+\.\d+)"', bundle_head)

    assert readme_version and schema_version and bundle_version
    assert bundle_version.group(1) == readme_version.group(1)
    major_minor = ".".join(bundle_version.group(1).split(".")[:2])
    assert major_minor == f"{schema_version.group(1)}.{schema_version.group(2)}"


RENDER_JS = (
    "async () => {"
    + INSPECT_SPEC_JS
    + """
  const specs = JSON.parse(document.getElementById('specs').textContent);
  const result = {};
  for (const [kind, spec] of Object.entries(specs)) {
    const {warnings, expressions} = inspectSpec(spec);
    const embedded = await vegaEmbed('#' + kind, spec, {renderer: 'svg', actions: false});
    embedded.view.finalize();
    result[kind] = {warnings, expressions,
      marks: document.querySelectorAll('#' + kind + ' svg .mark-line path, #' + kind +
        ' svg .mark-symbol path').length};
  }
  return {result, alerted: window.alerted === true};
}
"""
)


def test_specs_render_with_the_vendored_bundle_and_user_strings_stay_data(
    page: Page, tmp_path: Path
) -> None:
    specs = hostile_specs()
    scripts = "\n".join(f'<script src="{(VENDOR / name).as_uri()}"></script>' for name in BUNDLE)
    divs = "\n".join(f'<div id="{kind}" style="width:600px"></div>' for kind in specs)
    html = tmp_path / "charts.html"
    html.write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>charts</title>"
        "<script>window.alert = () => { window.alerted = true; };</script>"
        f"{scripts}</head><body>{divs}"
        f'<script type="application/json" id="specs">{spec_to_json(specs)}</script>'
        "</body></html>",
        encoding="utf-8",
    )

    page.goto(html.as_uri())
    outcome = page.evaluate(RENDER_JS)

    assert outcome["alerted"] is False
    for kind, result in outcome["result"].items():
        assert result["warnings"] == [], kind
        assert result["marks"] > 0, kind
        for expression in result["expressions"]:
            # Vega-Lite quotes titles into tooltip/aria expressions: a hostile string may
            # appear there only inside a string literal, never as code.
            assert "alert" not in expression["identifiers"], expression["text"]
            for name in HOSTILE:
                if name in expression["text"]:
                    assert any(name in literal for literal in expression["literals"]), expression[
                        "text"
                    ]


@pytest.mark.parametrize(
    "series",
    [
        {"run": [(step, step * 0.5) for step in range(100)]},
        {"a</script>": [(0, 1.0), (1, math.nan), (2, math.inf)], "b\u2028": [(5, -0.0)]},
        {"only": []},
    ],
)
def test_metric_history_json_is_the_spec_as_json(
    series: dict[str, list[tuple[int, float]]],
) -> None:
    """The fast path gives exactly the spec metric_history_spec builds, safely escaped."""
    from runfolio.site.charts import metric_history_json

    metric = 'loss "quoted" </script><!--'
    text, meta = metric_history_json(series, metric)
    spec = metric_history_spec(series, metric)
    assert json.loads(text) == json.loads(spec_to_json(spec))
    assert meta == spec["usermeta"]["runfolio"]["series"]
    assert "<" not in text and "\u2028" not in text
