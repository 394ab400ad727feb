"""runfolio import mlflow, against a real MLflow filled by MLflow's fluent API."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mlflow_compare import (
    assert_run_matches,
    file_digests,
    mlflow_runs,
    registry_state,
    runs_by_origin,
    stored_history,
)
from mlflow_logging import EXPERIMENT, MODEL, SECOND, MlflowSource, log_runs

from runfolio.cli import main
from runfolio.interop.mlflow_import import import_mlflow
from runfolio.registry import read_registry
from runfolio.store.metrics import read_metrics


@pytest.fixture(scope="module")
def imported(mlflow_source: MlflowSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store one import of the source made (read-only for the tests)."""
    root = tmp_path_factory.mktemp("imported") / "runs"
    report = import_mlflow(root, mlflow_source.uri)
    assert report.problems == []
    assert (report.runs_created, report.experiments_created) == (5, 2)
    return root


def test_every_run_matches_mlflow_value_by_value(
    mlflow_source: MlflowSource, imported: Path, tmp_path: Path
) -> None:
    import mlflow

    client = mlflow.MlflowClient(mlflow_source.uri, mlflow_source.uri)
    runs = runs_by_origin(imported)
    source_runs = mlflow_runs(client)
    assert sorted(runs) == sorted(r.info.run_id for r in source_runs)
    for mlflow_run in source_runs:
        assert_run_matches(client, mlflow_run, runs[mlflow_run.info.run_id], imported, tmp_path)
    child = runs[mlflow_source.children[0]]
    assert child.params == {"lr": 0.1, "batch_size": 32, "use_bias": True}
    assert runs[mlflow_source.parent].params["ratio"] == "0.10"  # not the float 0.1
    assert child.metrics["loss"]["count"] == 40
    assert child.parent_run_id == runs[mlflow_source.parent].run_id
    assert runs[mlflow_source.failed].status == "FAILED"
    assert runs[mlflow_source.parent].description == "The **sweep** parent."
    assert runs[mlflow_source.parent].git["commit"] == "4f1c0ffee"
    assert child.experiment == EXPERIMENT and runs[mlflow_source.other].experiment == SECOND


def test_run_ids_come_from_start_time_and_mlflow_id(
    mlflow_source: MlflowSource, imported: Path
) -> None:
    import hashlib
    import time

    import mlflow

    run = mlflow.MlflowClient(mlflow_source.uri).get_run(mlflow_source.other)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(run.info.start_time / 1000))
    digest = hashlib.sha256(mlflow_source.other.encode()).hexdigest()[:10]
    assert runs_by_origin(imported)[mlflow_source.other].run_id == f"{stamp}-{digest}"


def test_registry_versions_and_aliases_become_registry_tags(
    mlflow_source: MlflowSource, imported: Path
) -> None:
    import mlflow

    expected = registry_state(mlflow.MlflowClient(mlflow_source.uri, mlflow_source.uri))[MODEL]
    registry = read_registry(imported)
    assert registry.conflicts == []
    model = registry.model(MODEL)
    origin = {run.run_id: mlflow_id for mlflow_id, run in runs_by_origin(imported).items()}
    assert {n: origin[v.run_id] for n, v in model.versions.items()} == expected["versions"]
    assert model.aliases == expected["aliases"] == {"champion": 2, "challenger": 1}
    version = model.versions[2]
    folder = version.run.path / "artifacts" / version.model_path
    assert (folder / "MLmodel").is_file()
    descriptor = (folder / "model.yaml").read_text(encoding="utf-8")
    assert "flavor: sklearn" in descriptor and "loader: mlflow" in descriptor
    assert version.run.path.joinpath("run.yaml").read_text().count("- model") == 1


def test_an_imported_mlflow_model_loads_through_the_registry(imported: Path) -> None:
    from runfolio.registry import resolve_model_uri
    from runfolio.tracking.models import load_model_dir

    champion = load_model_dir(resolve_model_uri(imported, f"models:/{MODEL}@champion"))
    challenger = load_model_dir(resolve_model_uri(imported, f"models:/{MODEL}/1"))
    # MLflow's pyfunc wrappers of the two sklearn models the source run logged.
    assert type(champion).__name__ == "PyFuncModel"
    assert list(champion.predict([[0.0], [2.0]])) == [0, 1]
    assert list(challenger.predict([[2.0]])) == [1]


def test_imported_store_reads_searches_and_builds(imported: Path, tmp_path: Path) -> None:
    from runfolio.query.runs import search_runs

    found = search_runs(
        imported,
        [EXPERIMENT],
        "params.lr < 0.05 and metrics.`train/loss` < 0.1",
        output_format="list",
    )
    assert [run.name for run in found] == ["lr-0.01"]
    result = CliRunner().invoke(
        main, ["build", str(imported), "-o", str(tmp_path / "site"), "--strict", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    pages = {p.name for p in (tmp_path / "site").rglob("*.html")}
    assert "index.html" in pages and len(pages) > 7


def test_reimport_adds_nothing_and_rewrites_nothing(
    mlflow_source: MlflowSource, imported: Path, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    shutil.copytree(imported, root)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    report = import_mlflow(root, mlflow_source.uri)
    assert (report.runs_created, report.runs_updated, report.runs_present) == (0, 0, 5)
    assert (report.metric_values, report.params, report.artifacts, report.aliases) == (0, 0, 0, 0)
    assert report.model_versions_present == 2 and report.problems == []
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before


def test_reimport_after_more_logging_adds_only_what_is_new(
    mlflow_source: MlflowSource, imported: Path, tmp_path: Path
) -> None:
    import mlflow

    source_db = tmp_path / "mlflow.db"
    shutil.copyfile(mlflow_source.folder / "mlflow.db", source_db)
    uri = f"sqlite:///{source_db}"
    root = tmp_path / "runs"
    shutil.copytree(imported, root)
    child = runs_by_origin(root)[mlflow_source.children[1]]
    rows_before = stored_history(child)
    artifacts_before = file_digests(child.path / "artifacts")
    client = mlflow.MlflowClient(uri, uri)
    client.log_metric(mlflow_source.children[1], "loss", 0.05, step=40, timestamp=1)
    client.set_tag(mlflow_source.children[1], "reviewed", "yes")
    client.log_param(mlflow_source.children[1], "seed", "7")
    client.set_registered_model_alias(MODEL, "champion", 1)
    experiment = client.get_experiment_by_name(SECOND).experiment_id
    later = client.create_run(experiment, run_name="later")
    client.log_metric(later.info.run_id, "f1", 0.9, step=0)
    client.set_terminated(later.info.run_id)

    report = import_mlflow(root, uri)

    assert (report.runs_created, report.runs_updated, report.runs_present) == (1, 1, 4)
    assert (report.metric_values, report.params, report.aliases) == (2, 1, 1)
    child = runs_by_origin(root)[mlflow_source.children[1]]
    assert stored_history(child) == sorted([*rows_before, ("loss", 40, 1, "0.05")])
    assert child.tags["reviewed"] == "yes" and child.params["seed"] == 7
    assert file_digests(child.path / "artifacts") == artifacts_before
    assert read_registry(root).model(MODEL).aliases == {"champion": 1, "challenger": 1}
    for run in runs_by_origin(root).values():  # no row twice, anywhere
        rows = read_metrics(run.path / "metrics.csv").rows
        assert len(rows) == len(set(rows))


def test_an_interrupted_import_is_completed_without_duplicates(
    mlflow_source: MlflowSource, imported: Path, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    shutil.copytree(imported, root)
    run = runs_by_origin(root)[mlflow_source.children[0]]
    expected = stored_history(run)
    lines = (run.path / "metrics.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (run.path / "metrics.csv").write_text("".join(lines[:30]) + "loss,3,0.5", encoding="utf-8")
    (run.path / "run.yaml").unlink()  # written last: a stopped import has none yet
    shutil.rmtree(run.path / "artifacts" / "notes")

    report = import_mlflow(root, mlflow_source.uri)

    assert report.runs_updated == 1 and report.problems == []
    again = runs_by_origin(root)[mlflow_source.children[0]]
    assert stored_history(again) == expected
    assert (again.path / "artifacts" / "notes" / "readme.md").read_text() == "# notes\nfine"


def test_cli_prints_a_summary_and_imports_named_experiments(
    mlflow_source: MlflowSource, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    args = ["--store", str(root), "import", "mlflow", "--tracking-uri", mlflow_source.uri]
    result = CliRunner().invoke(main, [*args, "--experiment", SECOND])
    assert result.exit_code == 0, result.output
    assert "runs:          1 (1 new, 0 updated, 0 skipped as already present)" in result.output
    assert "metric values: 6" in result.output
    assert [p.name for p in root.iterdir()] == ["second-study"]
    # the registered model's runs were not imported: said, not hidden
    assert "model 'iris-classifier' version 1 left out" in result.output
    again = CliRunner().invoke(main, [*args, "--experiment", SECOND])
    assert "runs:          1 (0 new, 0 updated, 1 skipped as already present)" in again.output
    missing = CliRunner().invoke(main, [*args, "--experiment", "nope"])
    assert missing.exit_code == 1
    assert "Error: MLflow has no experiment named 'nope'" in missing.output


def test_a_missing_store_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--store", str(tmp_path / "runs"), "import", "mlflow", "--tracking-uri",
         f"sqlite:///{tmp_path / 'nothing.db'}"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Error: no MLflow store at" in result.output
    assert not (tmp_path / "nothing.db").exists()


def test_without_mlflow_the_command_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now fails
    for command in (["import", "mlflow"], ["export", "mlflow"]):
        result = CliRunner().invoke(
            main, ["--store", str(tmp_path), *command, "--tracking-uri", str(tmp_path)]
        )
        assert result.exit_code == 1
        name = " ".join(command)
        assert (
            f"Error: runfolio {name} needs MLflow: pip install 'runfolio[mlflow]'" in result.output
        )


def test_a_legacy_mlruns_folder_is_read(tmp_path: Path) -> None:
    import os

    import mlflow

    mlruns = tmp_path / "mlruns"
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # only to write the old format here
    try:
        logged = log_runs(str(mlruns), tmp_path)
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]
    root = tmp_path / "runs"
    report = import_mlflow(root, str(mlruns))
    assert report.problems == [] and report.runs_created == 5
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ  # set only while reading
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # for the comparison's own client
    try:
        client = mlflow.MlflowClient(str(mlruns), str(mlruns))
        runs = runs_by_origin(root)
        for mlflow_run in mlflow_runs(client):
            assert_run_matches(client, mlflow_run, runs[mlflow_run.info.run_id], root, tmp_path)
    finally:
        del os.environ["MLFLOW_ALLOW_FILE_STORE"]
    assert runs[logged.children[1]].metrics["loss"]["count"] >= 40
    assert read_registry(root).model(MODEL).aliases == {"champion": 2, "challenger": 1}
