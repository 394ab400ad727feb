"""A bad MLflow address fails fast with one line (issue 12, point 27).

``runfolio import mlflow`` and ``export mlflow`` run as real commands against real MLflow.
Before the fix a closed port kept MLflow's client retrying for about four minutes and then
printed a 100-line traceback, and so did a URI scheme MLflow has no store for. The
subprocess timeout only turns such a hang into a failure; nothing measures time.
"""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mlflow", reason="the interop tests need the 'test' extra (mlflow)")

# Far below MLflow's own retries on a refused connection (minutes), far above the
# seconds the command needs to start and give up on a busy 2-core machine.
_COMMAND_TIMEOUT = 90


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound by this test, never listening."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


@pytest.fixture
def not_mlflow() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers every request with 404: not an MLflow."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            """Keep the test's output clean."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def runfolio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the runfolio CLI with a store in ``cwd``."""
    store = cwd / "runs"
    return subprocess.run(
        [sys.executable, "-m", "runfolio", "--store", str(store), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_COMMAND_TIMEOUT,
    )


def a_store(folder: Path) -> Path:
    """A store with one finished run, for export."""
    from runfolio import Store

    run = Store(folder / "runs").start_run("exported")
    run.log_metric("loss", 0.5)
    run.end()
    return folder


def assert_one_line_error(done: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The command failed with exit status 1 and one line saying ``expected``."""
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert "Traceback" not in done.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", ["import", "export"])
def test_a_closed_port_fails_fast_with_one_line(
    command: str, closed_port: int, mlflow_env: Path
) -> None:
    uri = f"http://127.0.0.1:{closed_port}"
    done = runfolio(command, "mlflow", "--tracking-uri", uri, cwd=a_store(mlflow_env))
    assert_one_line_error(
        done, f"cannot reach the MLflow tracking server at {uri}: Connection refused."
    )
    assert done.stdout == ""


@pytest.mark.parametrize("command", ["import", "export"])
def test_a_scheme_mlflow_cannot_open_is_named(command: str, mlflow_env: Path) -> None:
    done = runfolio(command, "mlflow", "--tracking-uri", "foo://bar", cwd=a_store(mlflow_env))
    assert_one_line_error(done, "MLflow cannot open 'foo://bar': no MLflow store reads 'foo' URIs")


def test_a_server_that_is_not_mlflow_fails_with_mlflows_reason(
    not_mlflow: str, mlflow_env: Path
) -> None:
    """The server answers, so MLflow is asked, and its error becomes one line."""
    done = runfolio("import", "mlflow", "--tracking-uri", not_mlflow, cwd=mlflow_env)
    line = assert_one_line_error(done, f"MLflow at '{not_mlflow}' failed:")
    assert "404" in line
