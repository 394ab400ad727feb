"""Real storage servers for the object storage tests, each on 127.0.0.1.

S3 is moto's server, in this process. It binds to the loopback address on a free port;
clients reach it only through the ``endpoint_url`` that the test's ``runfolio.yaml``
names. Credentials are dummies, AWS's config files are hidden and the instance-metadata
lookup is off, so nothing leaves the machine. Each test gets its own bucket, so tests
share the server safely.

Google Cloud Storage (gcp-storage-emulator, in this process) and Azure Blob Storage
(Azurite, a node program) are used when installed, and their tests skip otherwise:
``pip install 'runfolio[gcs,azure]' gcp-storage-emulator`` and ``npm install -g azurite``.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

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


# Azurite's documented development account: a public, fixed key, not a secret.
_AZURITE_ACCOUNT = "devstoreaccount1"
_AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


REQUIRE_EMULATORS_ENV = "RUNFOLIO_REQUIRE_EMULATORS"
"""Set to 1 (.ci/run does) to fail, not skip, when an emulator or its client is missing."""


def _missing(reason: str) -> NoReturn:
    """Skip for want of an emulator, or fail where they are required (CI)."""
    if os.environ.get(REQUIRE_EMULATORS_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_EMULATORS_ENV}=1)")
    pytest.skip(reason)


def _need_module(name: str, reason: str) -> Any:
    """Import ``name``, or skip (fail under RUNFOLIO_REQUIRE_EMULATORS=1) saying why."""
    try:
        return importlib.import_module(name)
    except ImportError:
        _missing(reason)


@pytest.fixture(scope="session")
def gcs_endpoint() -> Iterator[str]:
    """The address of a Google Cloud Storage emulator running for the whole session."""
    with pytest.MonkeyPatch.context() as patch:
        # Read when google-auth and gcsfs are imported: no probe of a cloud metadata
        # server, no experimental bucket-type lookup.
        patch.setenv("NO_GCE_CHECK", "true")
        patch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        _need_module("gcsfs", "needs gcsfs (pip install 'runfolio[gcs]')")
        emulator = _need_module("gcp_storage_emulator.server", "needs gcp-storage-emulator")
        port = _free_port()
        server = emulator.create_server("127.0.0.1", port, in_memory=True)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture
def gcs_bucket(gcs_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket of the emulator; gcsfs reaches it through STORAGE_EMULATOR_HOST."""
    import fsspec

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    name = f"rf-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("gs", skip_instance_cache=True).mkdir(name)
    return name


@pytest.fixture(scope="session")
def azurite_connection() -> Iterator[str]:
    """The connection string of an Azurite blob server running for the whole session."""
    _need_module("adlfs", "needs adlfs (pip install 'runfolio[azure]')")
    program = shutil.which("azurite-blob")
    if program is None:
        _missing("needs azurite-blob on PATH (npm install -g azurite)")
    port = _free_port()
    server = subprocess.Popen(
        [
            program,
            *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
            *("--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck"),
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"azurite-blob did not start on 127.0.0.1:{port}")
                time.sleep(0.2)
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={_AZURITE_ACCOUNT};"
            f"AccountKey={_AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{_AZURITE_ACCOUNT};"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def az_container(azurite_connection: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty container of Azurite; adlfs finds it through the environment."""
    import fsspec

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_connection)
    name = f"rf-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("az", skip_instance_cache=True).mkdir(name)
    return name
