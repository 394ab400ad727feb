"""A real MLflow, filled once by a script using MLflow's own fluent API.

Everything MLflow writes stays in a temporary folder: the tracking database, the
artifact root (MLflow puts it under the current folder, so the fixture moves there),
and no variable of the developer's environment can point MLflow elsewhere. Telemetry
and the pip requirements check (both would reach the internet) are off.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow_logging import MlflowSource, log_runs, mlflow_offline


@pytest.fixture(autouse=True)
def mlflow_env(tmp_path: Path) -> Iterator[Path]:
    """Every test of this folder runs with MLflow offline, inside its own temporary folder."""
    with mlflow_offline(tmp_path) as folder:
        yield folder


@pytest.fixture(scope="session")
def mlflow_source(tmp_path_factory: pytest.TempPathFactory) -> MlflowSource:
    """An SQLite MLflow holding two experiments, nested runs, histories, a model registry."""
    pytest.importorskip("mlflow", reason="the interop tests need the 'test' extra (mlflow)")
    folder = tmp_path_factory.mktemp("mlflow-source")
    with mlflow_offline(folder):
        return log_runs(f"sqlite:///{folder / 'mlflow.db'}", folder)
