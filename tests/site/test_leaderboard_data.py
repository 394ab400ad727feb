"""The leaderboard as data: the page's JSON, and the CSV and JSON downloads that agree with it."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pandas
import pytest

from runfolio import Store
from runfolio.config_values import SiteConfig
from runfolio.site.config import parse_site_config
from runfolio.site.leaderboard_data import (
    leaderboard_csv,
    leaderboard_download_json,
    leaderboard_json,
    leaderboard_table,
)
from runfolio.site.model import ExperimentPage, build_site_model
from runfolio.store.scan import scan_store

FORMULAS = ["=1+1", "@SUM(A1:A2)", "+x", "-x", '=HYPERLINK("http://x")']


def _page(root: Path, config: SiteConfig | None = None, name: str = "iris") -> ExperimentPage:
    model = build_site_model(scan_store(root), config or SiteConfig())
    return next(page for page in model.experiments if page.experiment.name == name)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """iris: ranked by accuracy (maximize); three runs, one without the metric."""
    store = Store(tmp_path / "runs")
    store.set_experiment("iris", primary_metric="accuracy", direction="maximize")
    runs = [
        ("low", {"lr": 0.1, "model": "svm", "seed": 1}, 0.5, "vision"),
        ("high", {"lr": -1.5, "model": "=1+1", "seed": 1}, 0.9, "=cmd|' /C calc'!A0"),
        ("none", {"lr": 0.01, "model": "@SUM(A1)", "seed": 1}, None, "-x"),
    ]
    for name, params, accuracy, team in runs:
        with store.start_run("iris", run_name=name, tags={"team": team}) as run:
            run.log_params(params)
            run.log_metric("loss", 1.0, step=0)
            run.log_metric("loss", -math.inf, step=1)
            if accuracy is not None:
                run.log_metric("accuracy", accuracy)
    return tmp_path / "runs"


def test_json_follows_the_page_contract(store: Path) -> None:
    page = _page(store)
    data = leaderboard_json(page, leaderboard_table(page))
    assert data["experiment"] == "iris"
    assert data["compareUrl"] == "../../compare.html"
    assert data["downloads"] == {"csv": "runs.csv", "json": "runs.json"}
    assert data["primary"] == {"key": "metrics.accuracy", "direction": "maximize"}
    keys = [column["key"] for column in data["columns"]]
    assert keys[:7] == ["rank", "status", "name", "start", "duration", "user", "commit"]
    # Only varying params; the primary metric's column first; summaries and tags hidden.
    assert "params.seed" not in keys
    assert keys.index("params.lr") < keys.index("metrics.accuracy") < keys.index("metrics.loss")
    kinds = {column["key"]: column["kind"] for column in data["columns"]}
    assert kinds["params.lr"] == "number" and kinds["params.model"] == "text"
    assert kinds["name"] == "link" and kinds["status"] == "status"
    assert {"metrics.accuracy.min", "metrics.loss.max", "tags.team"} <= set(data["hidden"])
    assert "metrics.accuracy" not in data["hidden"]

    rows = data["rows"]
    assert all(len(row["values"]) == len(keys) for row in rows)
    named = [dict(zip(keys, row["values"], strict=True)) for row in rows]
    assert [row["name"] for row in named] == ["high", "low", "none"]
    assert [row["rank"] for row in named] == [1, 2, None]  # unranked last
    assert named[0]["metrics.loss"] == "-inf" and named[0]["metrics.loss.max"] == 1.0
    assert named[2]["metrics.accuracy"] is None
    slug = page.experiment.slug
    for row in rows:
        assert row["href"] == f"runs/{row['id']}.html"
        assert row["ref"] == f"{slug}/{row['id']}"
    json.dumps(data, allow_nan=False)  # no NaN or infinity that JSON.parse would refuse


def test_no_primary_metric_means_no_rank_column(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs")
    for value in (1.0, 2.0):
        with store.start_run("plain") as run:
            run.log_metric("x", value)
    page = _page(tmp_path / "runs", name="plain")
    data = leaderboard_json(page, leaderboard_table(page))
    assert data["primary"] is None
    assert data["columns"][0]["key"] == "status"
    assert len(data["rows"]) == 2


def test_default_columns_use_the_documented_names(store: Path) -> None:
    config = parse_site_config(
        {"default_columns": ["run_name", "start_time", "user_id", "params.seed", "tags.team"]}
    )
    page = _page(store, config)
    table = leaderboard_table(page, config.default_columns)
    keys = [column.key for column in table.columns]
    shown = [key for key in keys if key not in table.hidden]
    assert shown == ["rank", "name", "start", "user", "params.seed", "tags.team"]
    # A param the settings ask for gets its column even though every run has seed=1.
    seed = keys.index("params.seed")
    assert [row["values"][seed] for row in table.rows] == [1, 1, 1]


def test_csv_neutralises_formulas_but_not_numbers(store: Path) -> None:
    page = _page(store)
    table = leaderboard_table(page)
    rows = list(csv.reader(io.StringIO(leaderboard_csv(table).decode("utf-8"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["run_id", "rank", "status"]
    cells = [dict(zip(header, row, strict=True)) for row in body]
    by_name = {cell["name"]: cell for cell in cells}
    assert by_name["high"]["params.model"] == "'=1+1"
    assert by_name["none"]["params.model"] == "'@SUM(A1)"
    assert by_name["high"]["tags.team"] == "'=cmd|' /C calc'!A0"
    assert by_name["none"]["tags.team"] == "'-x"
    assert by_name["low"]["tags.team"] == "vision"
    # Numbers, negative ones and infinities included, stay numbers.
    assert by_name["high"]["params.lr"] == "-1.5"
    assert by_name["high"]["metrics.loss"] == "-inf"
    assert by_name["high"]["metrics.accuracy"] == "0.9"
    assert by_name["none"]["metrics.accuracy"] == ""
    assert by_name["high"]["rank"] == "1"


@pytest.mark.parametrize("text", FORMULAS)
def test_every_formula_start_is_neutralised_in_names(tmp_path: Path, text: str) -> None:
    store = Store(tmp_path / "runs")
    for seed in (1, 2):
        with store.start_run("e", run_name=text) as run:
            run.log_param("seed", seed)
    page = _page(tmp_path / "runs", name="e")
    body = list(csv.DictReader(io.StringIO(leaderboard_csv(leaderboard_table(page)).decode())))
    assert [row["name"] for row in body] == ["'" + text] * 2
    assert sorted(row["params.seed"] for row in body) == ["1", "2"]


def test_json_download_agrees_with_the_table(store: Path) -> None:
    page = _page(store)
    table = leaderboard_table(page)
    download = leaderboard_download_json(table)
    split = json.loads(download)
    keys = [column.key for column in table.columns]
    assert split["columns"] == ["run_id", *keys]
    assert [values[0] for values in split["data"]] == [row["id"] for row in table.rows]
    assert [values[1:] for values in split["data"]] == [row["values"] for row in table.rows]
    records = [dict(zip(split["columns"], values, strict=True)) for values in split["data"]]
    # pandas reads it back as the same table.
    frame = pandas.read_json(io.StringIO(download.decode()), orient="split")
    assert list(frame.columns) == split["columns"] and len(frame) == len(table.rows)
    # The download keeps the original text: it is data, not a spreadsheet.
    assert {record["params.model"] for record in records} == {"svm", "=1+1", "@SUM(A1)"}


def test_encoded_leaderboard_is_the_page_data_and_the_download(store: Path) -> None:
    from runfolio.site.leaderboard_data import encode_leaderboard, leaderboard_json

    page = _page(store)
    table = leaderboard_table(page)
    encoded = encode_leaderboard(page, table)
    assert json.loads(encoded.page_json) == leaderboard_json(page, table)
    assert json.loads(encoded.download_json) == json.loads(leaderboard_download_json(table))
    assert list(json.loads(encoded.page_json)) == list(leaderboard_json(page, table))


class _DictCache:
    """A row cache in a dict that counts its hits."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[object, object]] = {}
        self.hits = 0

    def get(self, run_name: str, signature: object) -> object:
        kept = self.rows.get(run_name)
        if kept is None or kept[0] != signature:
            return None
        self.hits += 1
        return kept[1]

    def put(self, run_name: str, signature: object, payload: object) -> None:
        self.rows[run_name] = (signature, payload)


def test_cached_rows_give_the_same_page_data_and_downloads(store: Path) -> None:
    from runfolio.site.leaderboard_data import encode_leaderboard, leaderboard_json

    page = _page(store)
    full = leaderboard_table(page)
    expected = (
        json.loads(json.dumps(leaderboard_json(page, full))),
        json.loads(leaderboard_download_json(full)),
        leaderboard_csv(full),
    )
    plan_only = leaderboard_table(page, with_rows=False)
    assert plan_only.rows == [] and plan_only.plan is not None
    cache = _DictCache()
    keys = {entry.run.run_id: f"key-{entry.run.run_id}" for entry in page.entries}
    for round_ in range(2):  # cold, then every row from the cache
        encoded = encode_leaderboard(page, plan_only, cache=cache, run_keys=keys)
        got = (json.loads(encoded.page_json), json.loads(encoded.download_json), encoded.csv)
        assert got == expected, round_
    assert cache.hits == len(page.entries)
    # A changed fingerprint lays the row out again; a stale cached row is never used.
    victim = page.entries[0].run.run_id
    cache.rows[victim] = (cache.rows[victim][0], ['["stale"]', "stale"])
    keys[victim] = "changed"
    encoded = encode_leaderboard(page, plan_only, cache=cache, run_keys=keys)
    assert encoded.csv == expected[2] and b"stale" not in encoded.download_json
