"""runfolio import mlflow from a running ``mlflow server`` (on 127.0.0.1, a free port)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow_compare import assert_run_matches, mlflow_runs, registry_state, runs_by_origin
from mlflow_logging import MODEL, MlflowSource

from runfolio.interop.mlflow_import import import_mlflow
from runfolio.registry import read_registry
from waiting import wait_until

_STARTUP_LIMIT = 180  # seconds; a busy 2-core machine starts it in 5 to 20


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tracking_server(mlflow_source: MlflowSource, tmp_path: Path) -> Iterator[str]:
    """An MLflow tracking server over a copy of the source database; stopped afterwards."""
    database = tmp_path / "server.db"
    shutil.copyfile(mlflow_source.folder / "mlflow.db", database)
    port = _free_port()
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
         f"sqlite:///{database}", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its workers form one process group, stopped together
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def server_log() -> str:
        log.flush()
        return _tail(tmp_path / "server.log")

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return True
        except OSError:
            assert server.poll() is None, f"mlflow server exited:\n{server_log()}"
            return False

    try:
        wait_until(
            answers,
            lambda: f"the mlflow server to start; its log:\n{server_log()}",
            _STARTUP_LIMIT,
            interval=0.25,
        )
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _tail(path: Path) -> str:
    """The last lines of a log file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-30:])


def test_import_from_a_tracking_server_matches_it_value_by_value(
    tracking_server: str, tmp_path: Path
) -> None:
    import mlflow

    root = tmp_path / "runs"
    report = import_mlflow(root, tracking_server)
    assert report.problems == [] and report.runs_created == 5
    client = mlflow.MlflowClient(tracking_server, tracking_server)
    runs = runs_by_origin(root)
    for mlflow_run in mlflow_runs(client):
        assert_run_matches(client, mlflow_run, runs[mlflow_run.info.run_id], root, tmp_path)
    expected = registry_state(client)[MODEL]
    assert read_registry(root).model(MODEL).aliases == expected["aliases"]
    again = import_mlflow(root, tracking_server)
    assert (again.runs_present, again.metric_values, again.artifacts) == (5, 0, 0)
