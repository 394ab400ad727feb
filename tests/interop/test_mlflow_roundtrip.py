"""runfolio export mlflow: MLflow -> runfolio -> a fresh MLflow -> runfolio gives the same runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from mlflow_compare import file_digests, history, mlflow_runs, stored_history
from mlflow_logging import MODEL, MlflowSource, mlflow_offline

from runfolio.cli import main
from runfolio.interop.mlflow_export import export_mlflow
from runfolio.interop.mlflow_import import import_mlflow
from runfolio.interop.mlflow_mapping import ORIGIN_TAG
from runfolio.registry import read_registry
from runfolio.store.records import RunRecord
from runfolio.store.scan import scan_store


@pytest.fixture(scope="module")
def round_trip(
    mlflow_source: MlflowSource, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, Path]:
    """(first store, the MLflow it was exported to, the store imported back from there)."""
    folder = tmp_path_factory.mktemp("round-trip")
    with mlflow_offline(folder):  # the new database's artifact root is ./mlruns
        return _round_trip(mlflow_source, folder)


def _round_trip(mlflow_source: MlflowSource, folder: Path) -> tuple[Path, str, Path]:
    """Import the source, export it to a new database, import that."""
    first = folder / "first"
    assert import_mlflow(first, mlflow_source.uri).problems == []
    target = f"sqlite:///{folder / 'exported.db'}"
    report = export_mlflow(first, target)
    assert report.problems == []
    assert (report.runs_created, report.model_versions, report.aliases) == (5, 2, 2)
    second = folder / "second"
    assert import_mlflow(second, target).problems == []
    return first, target, second


def _comparable(run: RunRecord) -> dict[str, object]:
    """A run record without what differs by nature: its folder and its MLflow origin."""
    data = dataclasses.asdict(run)
    data.pop("path")
    data["tags"] = {k: v for k, v in run.tags.items() if k != ORIGIN_TAG}
    return data


def test_import_of_the_export_gives_back_the_same_runs(
    round_trip: tuple[Path, str, Path],
) -> None:
    first, _, second = round_trip
    before = {run.run_id: run for run in scan_store(first, use_cache=False).runs}
    after = {run.run_id: run for run in scan_store(second, use_cache=False).runs}
    assert sorted(after) == sorted(before)  # the same ids, through runfolio.run_id
    for run_id, run in before.items():
        back = after[run_id]
        assert _comparable(back) == _comparable(run)
        assert stored_history(back) == stored_history(run)
        assert file_digests(back.path / "artifacts", skip_descriptors=False) == file_digests(
            run.path / "artifacts", skip_descriptors=False
        )
    first_registry, second_registry = read_registry(first), read_registry(second)
    assert second_registry.model(MODEL).aliases == first_registry.model(MODEL).aliases
    assert {n: v.run_id for n, v in second_registry.model(MODEL).versions.items()} == {
        n: v.run_id for n, v in first_registry.model(MODEL).versions.items()
    }
    experiments = {e.name: e.description for e in scan_store(second).experiments}
    assert experiments == {e.name: e.description for e in scan_store(first).experiments}


def test_the_exported_mlflow_holds_what_the_source_mlflow_held(
    mlflow_source: MlflowSource, round_trip: tuple[Path, str, Path]
) -> None:
    import mlflow

    source = mlflow.MlflowClient(mlflow_source.uri, mlflow_source.uri)
    _, target, _ = round_trip
    exported = mlflow.MlflowClient(target, target)

    def key(run: object) -> tuple[str, int]:
        return run.info.run_name, run.info.start_time  # type: ignore[attr-defined]

    originals = sorted(mlflow_runs(source), key=key)
    copies = sorted(mlflow_runs(exported), key=key)
    assert [key(r) for r in copies] == [key(r) for r in originals]
    names = {r.info.run_id: r.info.run_name for r in originals}
    copy_names = {r.info.run_id: r.info.run_name for r in copies}
    for original, copy in zip(originals, copies, strict=True):
        assert (copy.info.status, copy.info.end_time, copy.info.user_id) == (
            original.info.status,
            original.info.end_time,
            original.info.user_id,
        )
        assert copy.data.params == original.data.params
        links = {"mlflow.parentRunId", "runfolio.run_id"}  # ids differ between the two
        assert {k: v for k, v in copy.data.tags.items() if k not in links} == {
            k: v for k, v in original.data.tags.items() if k not in links
        }
        parent = original.data.tags.get("mlflow.parentRunId")
        assert copy_names.get(copy.data.tags.get("mlflow.parentRunId", "")) == names.get(
            parent or ""
        )
        assert history(exported, copy.info.run_id) == history(source, original.info.run_id)
    aliases = exported.get_registered_model(MODEL).aliases
    assert aliases == source.get_registered_model(MODEL).aliases


def test_exporting_again_duplicates_nothing(round_trip: tuple[Path, str, Path]) -> None:
    first, target, _ = round_trip
    result = CliRunner().invoke(
        main, ["--store", str(first), "export", "mlflow", "--tracking-uri", target]
    )
    assert result.exit_code == 0, result.output
    assert "runs:          5 (0 new, 0 updated, 5 skipped as already present)" in result.output
    assert "models:        0 versions (2 already present), 0 aliases set" in result.output


def test_exporting_to_the_mlflow_the_runs_came_from_duplicates_nothing(
    mlflow_source: MlflowSource, round_trip: tuple[Path, str, Path], tmp_path: Path
) -> None:
    import shutil

    first, _, _ = round_trip
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(mlflow_source.folder / "mlflow.db", copy)
    report = export_mlflow(first, f"sqlite:///{copy}")
    assert (report.runs_created, report.runs_present) == (0, 5)
    assert (report.model_versions, report.model_versions_present, report.aliases) == (0, 2, 0)
