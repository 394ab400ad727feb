"""RunDocument: the one place where the types of run.yaml's fields are checked."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from runfolio.errors import MalformedRunError
from runfolio.store.run_document import RunDocument, tags_from_yaml_dict

RUN_ID = "20261127-045604-3f9a2c1b7d"
PATH = Path("runs", "exp", RUN_ID, "run.yaml")


def run_yaml(**changes: Any) -> dict[str, Any]:
    """A valid run.yaml as parsed, with ``changes`` (``...`` removes a key)."""
    data: dict[str, Any] = {
        "format": 1,
        "id": RUN_ID,
        "name": "swift-otter",
        "experiment": "Iris",
        "status": "FINISHED",
        "start_time": "2026-11-27T04:56:04.123Z",
        "end_time": "2026-11-27T04:57:10.480Z",
        "user": "alice",
        "description": "",
        "parent_run_id": None,
        "tags": {"team": "vision"},
        "source": {"argv": ["--epochs", "50"], "entry_point": "train.py"},
        "git": {"commit": "4f1c", "dirty": False},
        "environment": {"python": "3.11.7"},
        "process": {"host": "trainer-01", "pid": 4385},
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


def test_a_valid_file_reads_and_writes_back_unchanged() -> None:
    data = run_yaml(
        models=["model"],
        failure={"type": "ValueError", "message": "m", "traceback": "t"},
        metrics={
            "loss": {"count": 1, "last": 0.5, "max": 0.5, "min": 0.5, "step": 0, "timestamp": 1}
        },
        later_key={"kept": [1, 2]},
    )
    document = RunDocument.from_yaml_dict(data, PATH)
    assert document.problems == ()
    assert document.models == ("model",)
    assert document.extra == {"later_key": {"kept": [1, 2]}}
    assert document.to_yaml_dict() == data


def test_unset_optional_keys_are_not_written() -> None:
    document = RunDocument(id=RUN_ID, status="RUNNING", start_time="2026-11-27T04:56:04.123Z")
    data = document.to_yaml_dict()
    assert "failure" not in data and "metrics" not in data and "models" not in data
    assert data["end_time"] is None and data["tags"] == {} and data["format"] == 1


def test_to_yaml_dict_copies_so_the_document_stays_as_built() -> None:
    document = RunDocument.from_yaml_dict(run_yaml(), PATH)
    data = document.to_yaml_dict()
    data["git"]["commit"] = "changed"
    data["tags"]["team"] = "changed"
    assert document.git["commit"] == "4f1c" and document.tags["team"] == "vision"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "DONE"}, "'status' is 'DONE'; expected one of"),
        ({"id": "20200101-000000-0000000000"}, "but the folder is named"),
        ({"start_time": ...}, "'start_time' is missing"),
        ({"start_time": "yesterday"}, "'start_time' is not an ISO 8601 time"),
        ({"end_time": "1969-07-20T20:17:40Z"}, "'end_time' is .* outside the years 1970"),
        ({"tags": ["a"]}, "'tags' must be a mapping, got list"),
        ({"failure": "boom"}, "'failure' must be a mapping, got str"),
        ({"format": 2}, "'format' is 2: written by a newer runfolio"),
    ],
)
def test_a_field_that_identifies_the_run_raises_naming_file_and_field(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(MalformedRunError, match=message) as caught:
        RunDocument.from_yaml_dict(run_yaml(**changes), PATH)
    assert str(caught.value).startswith(f"{PATH}: ")


def test_a_file_that_is_not_a_mapping_raises() -> None:
    with pytest.raises(MalformedRunError, match="expected a mapping"):
        RunDocument.from_yaml_dict(["a"], PATH)
    with pytest.raises(MalformedRunError, match="file is empty"):
        RunDocument.from_yaml_dict(None, PATH)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ["a"]}, "name"),
        ({"experiment": {"a": 1}}, "experiment"),
        ({"user": {"login": "alice"}}, "user"),
        ({"tags": {"team": ["a"]}}, "tags.team"),
        ({"git": {"dirty": "maybe"}}, "git.dirty"),
        ({"process": {"pid": "4385"}}, "process.pid"),
        ({"models": "model"}, "models"),
        ({"models": [{"a": 1}]}, "models"),
    ],
)
def test_a_descriptive_field_of_the_wrong_type_is_left_out_and_described(
    changes: dict[str, Any], field: str
) -> None:
    document = RunDocument.from_yaml_dict(run_yaml(**changes), PATH)
    assert len(document.problems) == 1
    assert document.problems[0].startswith(f"{PATH}: '{field}' must be ")
    assert document.problems[0].endswith("; left out")


def test_numbers_where_text_is_due_become_text() -> None:
    document = RunDocument.from_yaml_dict(
        run_yaml(user=42, tags={"n": 1}, git={"commit": 123}, models=[1]), PATH
    )
    assert (document.user, document.tags, document.git, document.models) == (
        "42",
        {"n": "1"},
        {"commit": "123"},
        ("1",),
    )


def test_a_malformed_summary_is_left_out_and_described_unless_running() -> None:
    bad = {"loss": {"last": "x", "step": 1}}
    ended = RunDocument.from_yaml_dict(run_yaml(metrics=bad), PATH)
    assert ended.metrics is None
    assert ended.problems == (f"{PATH}: 'metrics' summary is malformed; read metrics.csv instead",)
    running = RunDocument.from_yaml_dict(run_yaml(metrics=bad, status="RUNNING"), PATH)
    assert running.metrics is None and running.problems == ()


def test_problems_do_not_make_documents_differ() -> None:
    clean = RunDocument.from_yaml_dict(run_yaml(), PATH)
    assert dataclasses.replace(clean, problems=("x",)) == clean


def test_tags_are_read_whatever_the_other_fields_say() -> None:
    data = run_yaml(status="DONE", id="other", tags={"team": "vision", "n": 1})
    assert tags_from_yaml_dict(data, Path("run.yaml")) == {"team": "vision", "n": "1"}
    with pytest.raises(MalformedRunError, match="'tags' must be a mapping"):
        tags_from_yaml_dict(run_yaml(tags="x"), Path("run.yaml"))
