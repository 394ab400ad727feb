"""A real S3 server for the object storage tests: moto's, in this process, on 127.0.0.1.

The server binds to the loopback address on a free port; clients reach it only through
the ``endpoint_url`` that the test's ``runfolio.yaml`` names. Credentials are dummies,
AWS's config files are hidden and the instance-metadata lookup is off, so nothing
leaves the machine. Each test gets its own bucket, so tests share the server safely.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from objectstore_helpers import Project, moto_auth, s3fs_for

import runfolio


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The endpoint URL of a moto S3 server running for the whole session."""
    pytest.importorskip("s3fs", reason="the object storage tests need the 'test' extra")
    server_module = pytest.importorskip("moto.server", reason="needs moto[server]")
    # werkzeug logs every request at INFO; the tests' output does not need them.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def _dummy_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials from the environment, and no other source of AWS settings."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    """The name of a new, empty bucket of the test server."""
    name = f"rf-{uuid.uuid4().hex[:12]}"
    s3fs_for(s3_endpoint).mkdir(name)
    return name


@pytest.fixture
def project(tmp_path: Path, s3_endpoint: str, bucket: str) -> Project:
    """A project using ``bucket`` with a 1 KB threshold; runfolio's store is set to it."""
    root = tmp_path / "project"
    root.mkdir()
    made = Project(root, root / "runs", s3_endpoint, bucket, "team/lab")
    made.configure()
    runfolio.set_store(made.store)
    return made


@pytest.fixture
def enforced_auth(s3_endpoint: str) -> Iterator[None]:
    """Turn on moto's signature checks for the test (and off again after it)."""
    moto_auth(s3_endpoint, "0")
    try:
        yield
    finally:
        moto_auth(s3_endpoint, "inf")
