"""``runfolio import mlflow``: experiments, runs, metric histories, artifacts and models.

Each MLflow run becomes the runfolio run whose id is derived from it (its start second
and a hash of the MLflow run id, see :func:`.mlflow_mapping.run_id_for`), tagged
``mlflow.run_id``. Importing again therefore finds every run of the first import and
only adds what is new: runs, metric rows, params, tags (MLflow's values win for its
keys), artifact files, an end. An ended run whose end time and latest metric values are
unchanged is not asked for its histories again.

Runs are read a page at a time and metric histories 25,000 values at a time, written
to ``metrics.csv`` in batches, so 10,000 runs or a million steps fit in little memory.
MLflow 3 keeps logged models outside the run's artifacts; they are copied into the run
as ``artifacts/<model name>/``, and every MLflow model folder (one with an ``MLmodel``
file) gets a ``model.yaml`` descriptor with ``loader: mlflow`` so the site lists it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runfolio.errors import RunfolioError
from runfolio.interop import mlflow_source as mlsource
from runfolio.interop.mlflow_mapping import (
    NOTE_TAG,
    ORIGIN_TAG,
    PARENT_TAG,
    param_value,
    run_id_for,
    split_tags,
    status_from_mlflow,
)
from runfolio.interop.mlflow_registry import ImportedRun, import_registry
from runfolio.interop.report import TransferReport
from runfolio.interop.store_writer import (
    RunFields,
    RunMerge,
    ensure_experiment_from,
    index_runs,
    staged,
)
from runfolio.store import FORMAT_VERSION, layout
from runfolio.store.atomic import write_text_atomic
from runfolio.store.records import ExperimentRecord
from runfolio.store.serialize import dump_yaml, load_yaml

MLMODEL_FILE = "MLmodel"
"""The file that makes a folder an MLflow model."""


@dataclass
class _Context:
    """What every run of one import needs."""

    client: Any
    uri: str
    root: Path
    index: dict[str, Path]
    imported: dict[str, ImportedRun]
    report: TransferReport
    errors: tuple[type[BaseException], ...]
    parent_ids: dict[str, str | None] = field(default_factory=dict)


def import_mlflow(root: Path, tracking_uri: str, experiments: Sequence[str] = ()) -> TransferReport:
    """Import MLflow experiments (all active ones, or those named) into the store at ``root``.

    Args:
        root: the runfolio store (created when missing).
        tracking_uri: an MLflow tracking URI: ``sqlite:///mlflow.db``, a database URL,
            ``http://host:5000``, or the path of an ``mlruns/`` folder or ``.db`` file.
        experiments: experiment names; empty means every active experiment (an empty
            ``Default`` experiment is skipped).

    Returns:
        What was imported, skipped as already present, and left out with why.

    Raises:
        InteropError: MLflow is not installed, the store named does not exist, or a named
            experiment is not in it.
    """
    report = TransferReport()
    uri = mlsource.resolved_uri(tracking_uri, must_exist=True)
    with mlsource.open_client(tracking_uri, "import mlflow", must_exist=True) as client:
        from mlflow.exceptions import MlflowException

        context = _Context(
            client, uri, root, index_runs(root), {}, report, (MlflowException, RunfolioError)
        )
        for experiment in mlsource.iter_experiments(client, tuple(experiments)):
            _import_experiment(context, experiment, explicit=bool(experiments))
        import_registry(client, root, context.imported, report)
    return report


def _import_experiment(context: _Context, experiment: Any, *, explicit: bool) -> None:
    """Import one MLflow experiment and its runs."""
    runs = mlsource.iter_runs(context.client, experiment.experiment_id)
    first = next(runs, None)
    if first is None and not explicit and experiment.name == "Default":
        return  # MLflow makes it on its own; an empty one is not the user's
    tags = dict(getattr(experiment, "tags", None) or {})
    record, created = ensure_experiment_from(
        context.root, experiment.name, tags.get(NOTE_TAG), experiment.creation_time
    )
    if created:
        context.report.experiments_created += 1
    else:
        context.report.experiments_present += 1
    if first is None:
        return
    logged_models = mlsource.logged_models_by_run(context.client, experiment.experiment_id)
    _import_one(context, record, first, logged_models)
    for run in runs:
        _import_one(context, record, run, logged_models)


def _import_one(
    context: _Context, record: ExperimentRecord, run: Any, logged_models: dict[str, list[Any]]
) -> None:
    """Import one run, turning its failure into a reported problem."""
    try:
        _import_run(context, record, run, logged_models.get(run.info.run_id, []))
    except context.errors as exc:
        context.report.problems.append(f"MLflow run {run.info.run_id} left out: {exc}")


def _import_run(
    context: _Context, record: ExperimentRecord, run: Any, logged_models: list[Any]
) -> None:
    """Merge one MLflow run into its runfolio run."""
    info, data = run.info, run.data
    tags = dict(data.tags)
    start_ms = int(info.start_time or info.end_time or 0)
    run_id = run_id_for(info.run_id, start_ms, tags)
    run_dir = context.index.get(run_id) or record.path / run_id
    context.index[run_id] = run_dir
    merge = RunMerge(record, run_dir)
    fields, kept = split_tags(tags)
    kept[ORIGIN_TAG] = info.run_id
    parent = None
    if "parent" in fields:
        parent = _parent_id(context, fields["parent"])
        if parent is None:
            kept[PARENT_TAG] = fields["parent"]  # not importable: keep the link as text
    status = status_from_mlflow(info.status)
    end_ms = int(info.end_time) if info.end_time is not None and status != "RUNNING" else None
    merge.add_params({key: param_value(value) for key, value in data.params.items()})
    latest = dict(data.metrics)
    if not merge.holds(status, end_ms, latest):
        for key in sorted(latest):
            history = mlsource.iter_metric_history(context.client, info.run_id, key)
            merge.add_metric_rows((m.key, int(m.step), m.value, int(m.timestamp)) for m in history)
    _import_artifacts(context, merge, info.run_id)
    folders = _import_logged_models(context, merge, logged_models)
    _describe_mlflow_models(merge)
    merge.finish(
        RunFields(
            name=info.run_name or fields.get("name") or info.run_id,
            status=status,
            start_ms=start_ms,
            end_ms=end_ms,
            user=fields.get("user") or info.user_id or None,
            description=fields.get("description", ""),
            parent_run_id=parent,
            tags=kept,
            source=fields.get("source"),
            git=fields.get("git"),
        )
    )
    report = context.report
    report.count_run(merge)
    context.imported[info.run_id] = ImportedRun(run_id, run_dir, info.artifact_uri or "", folders)
    context.parent_ids[info.run_id] = run_id


def _parent_id(context: _Context, mlflow_parent: str) -> str | None:
    """The runfolio id of a parent run (imported or not), None if MLflow has no such run."""
    if mlflow_parent not in context.parent_ids:
        try:
            parent = context.client.get_run(mlflow_parent)
        except context.errors:
            context.parent_ids[mlflow_parent] = None
        else:
            start = int(parent.info.start_time or parent.info.end_time or 0)
            context.parent_ids[mlflow_parent] = run_id_for(
                mlflow_parent, start, dict(parent.data.tags)
            )
    return context.parent_ids[mlflow_parent]


def _import_artifacts(context: _Context, merge: RunMerge, mlflow_run_id: str) -> None:
    """Copy the run's artifact files that the store does not have yet."""
    import mlflow.artifacts

    files = [info.path for info in mlsource.iter_artifacts(context.client, mlflow_run_id)]
    missing = [path for path in files if not merge.has_artifact(path)]
    if not missing:
        return
    with staged(merge) as staging:
        if len(missing) == len(files):  # a new run: one download of the whole tree
            tree = mlflow.artifacts.download_artifacts(
                run_id=mlflow_run_id, dst_path=str(staging), tracking_uri=context.uri
            )
            downloads = [(path, Path(tree).joinpath(*path.split("/"))) for path in missing]
        else:  # each file in a folder of its own: repositories differ in where they put it
            downloads = [
                (
                    path,
                    Path(
                        mlflow.artifacts.download_artifacts(
                            run_id=mlflow_run_id,
                            artifact_path=path,
                            dst_path=str(_fresh(staging / str(number))),
                            tracking_uri=context.uri,
                        )
                    ),
                )
                for number, path in enumerate(missing)
            ]
        for path, local in downloads:
            if local.is_file():
                merge.add_artifact(path, local, move=True)


def _fresh(folder: Path) -> Path:
    """Make an empty folder and return it."""
    folder.mkdir()
    return folder


def _import_logged_models(context: _Context, merge: RunMerge, models: list[Any]) -> dict[str, str]:
    """Copy MLflow 3 logged models of the run into ``artifacts/<name>/``; map id -> folder."""
    import mlflow.artifacts

    folders: dict[str, str] = {}
    taken: set[str] = set()
    for model in models:
        folder = _model_folder(merge, model, taken)
        taken.add(folder)
        folders[model.model_id] = folder
        if merge.has_artifact(f"{folder}/{MLMODEL_FILE}"):
            continue  # models are immutable: present means complete
        with staged(merge) as staging:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=model.artifact_location,
                    dst_path=str(staging),
                    tracking_uri=context.uri,
                )
            )
            # MLmodel last: its presence is what marks the copy complete
            files = sorted(
                (p for p in local.rglob("*") if p.is_file()), key=lambda p: p.name == MLMODEL_FILE
            )
            for path in files:
                merge.add_artifact(
                    f"{folder}/{path.relative_to(local).as_posix()}", path, move=True
                )
    return folders


def _model_folder(merge: RunMerge, model: Any, taken: set[str]) -> str:
    """The artifact folder for a logged model: its name, unless that is someone else's."""
    name = str(model.name or model.model_id)
    if name not in taken:
        mlmodel = merge.path / layout.ARTIFACTS_DIR / name / MLMODEL_FILE
        if not mlmodel.exists() or _mlmodel_id(mlmodel) in (None, model.model_id):
            return name
    return f"{name}-{model.model_id}"


def _mlmodel_id(path: Path) -> str | None:
    """The ``model_id`` an MLmodel file names, if any."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except Exception:
        return None
    return str(data.get("model_id")) if isinstance(data, dict) and data.get("model_id") else None


def _describe_mlflow_models(merge: RunMerge) -> None:
    """Give every MLflow model folder of the run a ``model.yaml`` (``loader: mlflow``)."""
    base = merge.path / layout.ARTIFACTS_DIR
    if not base.is_dir():
        return
    for mlmodel in sorted(base.rglob(MLMODEL_FILE)):
        descriptor = mlmodel.parent / layout.MODEL_DESCRIPTOR_FILE
        if descriptor.exists() or mlmodel.is_symlink() or not mlmodel.is_file():
            continue
        write_text_atomic(descriptor, dump_yaml(mlflow_descriptor(mlmodel.parent)))


def mlflow_descriptor(folder: Path) -> dict[str, Any]:
    """The ``model.yaml`` runfolio keeps next to an MLflow model (read from its MLmodel).

    ``flavor`` is the model's own flavour (``sklearn``...), ``loader: mlflow`` says to
    load it with ``mlflow.pyfunc.load_model`` on the folder; ``requirements`` come from
    the model's ``requirements.txt``.
    """
    try:
        meta = load_yaml((folder / MLMODEL_FILE).read_text(encoding="utf-8"))
    except Exception:
        meta = None
    meta = meta if isinstance(meta, dict) else {}
    flavors = [str(name) for name in meta.get("flavors") or {}]
    own = [name for name in flavors if name != "python_function"]
    descriptor: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "flavor": own[0] if own else (flavors[0] if flavors else "mlflow"),
        "loader": "mlflow",
        "file": MLMODEL_FILE,
    }
    if meta.get("mlflow_version"):
        descriptor["mlflow_version"] = str(meta["mlflow_version"])
    requirements = folder / "requirements.txt"
    if requirements.is_file():
        lines = requirements.read_text(encoding="utf-8", errors="replace").splitlines()
        descriptor["requirements"] = [
            line.strip() for line in lines if line.strip() and not line.startswith("#")
        ]
    return descriptor


def is_generated_descriptor(path: Path) -> bool:
    """Tell whether ``path`` is a ``model.yaml`` runfolio wrote next to an MLflow model."""
    if path.name != layout.MODEL_DESCRIPTOR_FILE or not (path.parent / MLMODEL_FILE).is_file():
        return False
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except Exception:
        return False
    return isinstance(data, dict) and data.get("loader") == "mlflow"
