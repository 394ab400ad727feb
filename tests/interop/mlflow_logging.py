"""The runs the MLflow tests log, with MLflow's own fluent API, as a user would."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

EXPERIMENT = "Iris sweep"
SECOND = "Second study"
MODEL = "iris-classifier"


@dataclass(frozen=True)
class MlflowSource:
    """A filled MLflow: its tracking URI and the ids of what the script logged."""

    uri: str
    folder: Path
    parent: str
    children: tuple[str, str]
    failed: str
    other: str


def log_runs(uri: str, folder: Path) -> MlflowSource:
    """Log the test's runs into the MLflow at ``uri`` with the fluent API, as a user would."""
    import mlflow
    from sklearn.linear_model import LogisticRegression

    mlflow_3 = int(mlflow.__version__.split(".")[0]) >= 3  # models outside the run

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(EXPERIMENT)
    mlflow.set_experiment_tag("mlflow.note.content", "Learning-rate sweep on iris.")
    base = 1_795_000_000_000
    data = folder / "data.bin"
    data.write_bytes(bytes(range(256)))
    with mlflow.start_run(run_name="sweep", description="The **sweep** parent.") as parent:
        mlflow.log_params({"optimizer": "adam", "epochs": 3, "ratio": "0.10"})
        mlflow.set_tags(
            {
                "team": "vision",
                "mlflow.source.git.commit": "4f1c0ffee",
                "mlflow.source.git.branch": "main",
            }
        )
        children = []
        for lr in (0.1, 0.01):
            with mlflow.start_run(run_name=f"lr-{lr}", nested=True) as child:
                mlflow.log_params({"lr": lr, "batch_size": 32, "use_bias": True})
                for step in range(40):
                    mlflow.log_metric("loss", 2.0 / (step + 1) + lr, step=step, timestamp=base)
                    mlflow.log_metric("train/loss", 1.0 / (step + 2), step=step)
                mlflow.log_metric("accuracy", float("nan"), step=0)
                mlflow.log_metric("accuracy", 0.93 - lr, step=40)
                mlflow.log_text("# notes\nfine", "notes/readme.md")
                mlflow.log_dict({"lr": lr}, "config/params.json")
                mlflow.log_artifact(str(data), "blobs")
                model = LogisticRegression(C=1 / lr).fit([[0.0], [1.0], [2.0]], [0, 0, 1])
                where = {"name": "model"} if mlflow_3 else {"artifact_path": "model"}
                mlflow.sklearn.log_model(
                    model,
                    **where,
                    pip_requirements=["scikit-learn"],
                    registered_model_name=MODEL,
                )
                children.append(child.info.run_id)
    with mlflow.start_run(run_name="crashed") as failed:
        mlflow.log_metric("loss", 9.5)
        mlflow.end_run(status="FAILED")
    client = mlflow.MlflowClient(uri, uri)
    client.set_registered_model_alias(MODEL, "champion", 2)
    client.set_registered_model_alias(MODEL, "challenger", 1)
    mlflow.set_experiment(SECOND)
    with mlflow.start_run(run_name="other") as other:
        for step in range(3):
            mlflow.log_metrics({"f1": 0.5 + step / 10, "val acc": step / 3}, step=step)
    return MlflowSource(
        uri,
        folder,
        parent.info.run_id,
        (children[0], children[1]),
        failed.info.run_id,
        other.info.run_id,
    )


@contextlib.contextmanager
def mlflow_offline(folder: Path) -> Iterator[Path]:
    """Keep MLflow offline and inside ``folder`` (its current folder) while in the block."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("MLFLOW_"):
                patch.delenv(name)
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.setenv("DO_NOT_TRACK", "true")
        patch.setenv("MLFLOW_SKIP_PIP_REQUIREMENTS_CHECK", "true")
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'unused.db'}")
        patch.setenv("HOME", str(folder))  # MLflow keeps small state files under ~
        patch.chdir(folder)
        yield folder
