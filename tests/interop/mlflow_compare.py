"""Comparing an MLflow with a runfolio store, value by value (shared by the MLflow tests)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from runfolio.interop.mlflow_mapping import ORIGIN_TAG, param_text
from runfolio.store.metrics import read_metrics
from runfolio.store.records import RunRecord
from runfolio.store.scan import scan_store

SYSTEM_FIELDS = {
    "mlflow.runName",
    "mlflow.user",
    "mlflow.note.content",
    "mlflow.parentRunId",
    "mlflow.source.name",
    "mlflow.source.git.commit",
    "mlflow.source.git.branch",
    "mlflow.source.git.repoURL",
    "runfolio.run_id",
}


def runs_by_origin(root: Path) -> dict[str, RunRecord]:
    """The store's runs by the MLflow run id they were imported from."""
    scan = scan_store(root, use_cache=False)
    assert not scan.problems, scan.problems
    return {run.tags[ORIGIN_TAG]: run for run in scan.runs}


def mlflow_runs(client: Any) -> list[Any]:
    """Every active run of every experiment of an MLflow."""
    experiments = client.search_experiments()
    return client.search_runs([e.experiment_id for e in experiments], max_results=1000)


def history(client: Any, run_id: str) -> list[tuple[str, int, int, str]]:
    """Every logged metric value of an MLflow run, sorted, floats by their exact text."""
    rows = [
        (m.key, m.step, m.timestamp, repr(float(m.value)))
        for key in client.get_run(run_id).data.metrics
        for m in client.get_metric_history(run_id, key)
    ]
    return sorted(rows)


def stored_history(run: RunRecord) -> list[tuple[str, int, int, str]]:
    """Every row of a runfolio run's metrics.csv, sorted like :func:`history`."""
    file = read_metrics(run.path / "metrics.csv")
    assert not file.problems
    return sorted((r.key, r.step, r.timestamp, repr(r.value)) for r in file.rows)


def file_digests(folder: Path, *, skip_descriptors: bool = True) -> dict[str, str]:
    """sha256 of every file under ``folder`` by relative path."""
    from runfolio.interop.mlflow_import import is_generated_descriptor

    digests = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not (skip_descriptors and is_generated_descriptor(path)):
            digests[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return digests


def assert_run_matches(
    client: Any, mlflow_run: Any, run: RunRecord, root: Path, scratch: Path
) -> None:
    """Assert that one imported run holds exactly what MLflow has for it."""
    info, data = mlflow_run.info, mlflow_run.data
    assert run.name == info.run_name
    assert run.stored_status == info.status
    assert run.start_ms == info.start_time
    assert run.end_ms == info.end_time
    assert run.user == info.user_id
    assert run.description == data.tags.get("mlflow.note.content", "")
    assert {k: param_text(v) for k, v in run.flat_params().items()} == data.params
    kept = {k: v for k, v in data.tags.items() if k not in SYSTEM_FIELDS}
    own = {k: v for k, v in run.tags.items() if not k.startswith("registry.")}
    assert own == {**kept, ORIGIN_TAG: info.run_id}
    assert run.source.get("entry_point") == data.tags.get("mlflow.source.name")
    assert run.git.get("commit") == data.tags.get("mlflow.source.git.commit")
    assert run.git.get("branch") == data.tags.get("mlflow.source.git.branch")
    mlflow_parent = data.tags.get("mlflow.parentRunId")
    if mlflow_parent is None:
        assert run.parent_run_id is None
    else:
        parent = runs_by_origin(root)[mlflow_parent]
        assert run.parent_run_id == parent.run_id
    assert stored_history(run) == history(client, info.run_id)
    for key, value in data.metrics.items():
        assert repr(run.metrics[key]["last"]) == repr(float(value)), key
    assert_artifacts_match(client, info.run_id, run, scratch)


def assert_artifacts_match(client: Any, mlflow_run_id: str, run: RunRecord, scratch: Path) -> None:
    """Every artifact file of the MLflow run (and its logged models) is in the run, same bytes."""
    import mlflow.artifacts

    expected: dict[str, str] = {}
    if client.list_artifacts(mlflow_run_id):  # MLflow 2 cannot download an empty tree
        download = mlflow.artifacts.download_artifacts(
            run_id=mlflow_run_id,
            dst_path=tempfile.mkdtemp(dir=scratch),
            tracking_uri=client._tracking_client.tracking_uri,
        )
        expected = file_digests(Path(download))
    experiment = client.get_run(mlflow_run_id).info.experiment_id
    search = getattr(client, "search_logged_models", None)  # MLflow 3: models beside runs
    for model in search(experiment_ids=[experiment]) if search else []:
        if model.source_run_id == mlflow_run_id:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=model.artifact_location,
                    dst_path=tempfile.mkdtemp(dir=scratch),
                    tracking_uri=client._tracking_client.tracking_uri,
                )
            )
            expected.update(
                {f"{model.name}/{path}": digest for path, digest in file_digests(local).items()}
            )
    assert file_digests(run.path / "artifacts") == expected


def registry_state(client: Any) -> dict[str, dict[str, Any]]:
    """Each registered model's versions (number -> run id) and aliases, from MLflow."""
    state = {}
    for model in client.search_registered_models():
        versions = {
            int(v.version): v.run_id for v in client.search_model_versions(f"name='{model.name}'")
        }
        aliases = {alias: int(number) for alias, number in model.aliases.items()}
        state[model.name] = {"versions": versions, "aliases": aliases}
    return state
