"""The MLflow <-> runfolio mapping on its own: params, tags, ids (no MLflow needed)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from runfolio.interop.mlflow_mapping import (
    param_text,
    param_value,
    run_id_for,
    split_tags,
    status_from_mlflow,
    tags_for_mlflow,
)
from runfolio.store.layout import is_run_id


@given(st.one_of(st.text(), st.integers().map(str), st.floats().map(repr), st.booleans().map(str)))
def test_a_param_goes_back_to_the_same_text(text: str) -> None:
    assert param_text(param_value(text)) == text


def test_params_read_as_numbers_only_when_that_loses_nothing() -> None:
    assert param_value("32") == 32 and param_value("0.1") == 0.1
    assert param_value("True") is True and param_value("1e-05") == 1e-05
    for text in ("0.10", "1e3", "007", "true", "[1, 2]", "None", " 1", "nan "):
        assert param_value(text) == text


def test_system_tags_become_fields_and_come_back() -> None:
    tags = {
        "mlflow.runName": "lr-0.1",
        "mlflow.user": "alice",
        "mlflow.note.content": "notes",
        "mlflow.parentRunId": "abc",
        "mlflow.source.name": "train.py",
        "mlflow.source.type": "LOCAL",
        "mlflow.source.git.commit": "4f1c",
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.repoURL": "https://example.com/r.git",
        "runfolio.run_id": "20261127-045604-3f9a2c1b7d",
        "team": "vision",
    }
    fields, kept = split_tags(tags)
    assert kept == {"mlflow.source.type": "LOCAL", "team": "vision"}
    assert fields == {
        "name": "lr-0.1",
        "user": "alice",
        "description": "notes",
        "parent": "abc",
        "source": {"entry_point": "train.py"},
        "git": {"commit": "4f1c", "branch": "main", "remote_url": "https://example.com/r.git"},
    }
    back = tags_for_mlflow(
        tags={**kept, "mlflow.run_id": "old", "registry.model": "m"},
        run_id="20261127-045604-3f9a2c1b7d",
        user="alice",
        description="notes",
        parent_mlflow_id="abc",
        source=fields["source"],
        git=fields["git"],
    )
    assert back == {k: v for k, v in tags.items() if k != "mlflow.runName"}


def test_run_ids_are_derived_unless_the_run_was_exported_from_runfolio() -> None:
    derived = run_id_for("0123abcd", 1_795_000_000_123, {})
    assert is_run_id(derived) and derived.startswith("20261118-")
    assert derived == run_id_for("0123abcd", 1_795_000_000_999, {"team": "x"})
    assert derived != run_id_for("0123abce", 1_795_000_000_123, {})
    kept = "20200101-000000-0000000000"
    assert run_id_for("0123abcd", 5, {"runfolio.run_id": kept}) == kept
    assert run_id_for("0123abcd", 5, {"runfolio.run_id": "not-an-id"}) != "not-an-id"


def test_statuses() -> None:
    assert [status_from_mlflow(s) for s in ("RUNNING", "SCHEDULED", "FINISHED")] == [
        "RUNNING",
        "RUNNING",
        "FINISHED",
    ]
    assert [status_from_mlflow(s) for s in ("FAILED", "KILLED", "ODD")] == [
        "FAILED",
        "KILLED",
        "FAILED",
    ]
