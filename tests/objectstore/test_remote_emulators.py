"""``gs://`` and ``az://`` against local emulators: log, publish previews, pull, fail clearly.

Each test skips, saying what to install, when the client package or the emulator is
missing (see conftest.py). The emulators listen on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from objectstore_helpers import big_file, configure_store, export_folder

import runfolio
from runfolio.objectstore.errors import HashMismatchError, ObjectStoreError
from runfolio.objectstore.manifest import read_manifest
from runfolio.objectstore.transfer import pull_run
from runfolio.site.build import build_site

# The URI scheme, and the fixture making a new bucket (container) of its emulator.
BACKENDS = [
    pytest.param("gs", "gcs_bucket", id="gs"),
    pytest.param("az", "az_container", id="az"),
]


def _filesystem(scheme: str) -> object:
    """A plain fsspec client of the emulator, to look at and tamper with the bucket."""
    import fsspec

    return fsspec.filesystem(scheme, skip_instance_cache=True, use_listings_cache=False)


@pytest.mark.parametrize(("scheme", "bucket_fixture"), BACKENDS)
def test_log_build_and_pull_through_the_emulator(
    scheme: str,
    bucket_fixture: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = request.getfixturevalue(bucket_fixture)
    project = tmp_path / "project"
    project.mkdir()
    store = configure_store(project, f"{scheme}://{bucket}/team/lab")
    runfolio.set_store(store)
    export = export_folder(tmp_path / "export")
    with runfolio.start_run() as run:
        runfolio.log_artifacts(str(export))

    fs = _filesystem(scheme)
    entries = read_manifest(run.path)
    assert sorted(entries) == ["huge.bin", "plot.png", "tables/scores.csv"]
    for name, entry in entries.items():
        data = (export / name).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        key = f"{bucket}/team/lab/sha256/{sha[:2]}/{sha}"
        assert entry.uri == f"{scheme}://{key}"
        assert fs.cat_file(key) == data
        assert not (run.artifact_dir / name).exists()

    site = tmp_path / "site"
    assert build_site(store, site, config_root=project).problems == []
    published = site / "experiments" / run.experiment.slug / "runs" / run.run_id / "artifacts"
    assert (published / "plot.png").read_bytes() == (export / "plot.png").read_bytes()
    assert not list(site.rglob("huge.bin*"))

    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "empty-cache"))
    report = pull_run(run.path)
    assert sorted(report.pulled) == sorted(entries)
    assert (run.artifact_dir / "huge.bin").read_bytes() == (export / "huge.bin").read_bytes()

    # An object replaced in the bucket is refused, and not left in place.
    huge = entries["huge.bin"]
    fs.pipe_file(huge.uri.split("://", 1)[1], b"x" * huge.size)
    (run.artifact_dir / "huge.bin").unlink()
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "another-empty-cache"))
    with pytest.raises(HashMismatchError, match="does not hold the recorded file"):
        pull_run(run.path)
    assert not (run.artifact_dir / "huge.bin").exists()


@pytest.mark.parametrize(("scheme", "bucket_fixture"), BACKENDS)
def test_a_missing_bucket_is_a_clear_error(
    scheme: str, bucket_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    request.getfixturevalue(bucket_fixture)  # the emulator runs, the bucket does not exist
    missing = f"rf-missing-{uuid.uuid4().hex[:8]}"
    project = tmp_path / "project"
    project.mkdir()
    runfolio.set_store(configure_store(project, f"{scheme}://{missing}/lab"))
    with runfolio.start_run() as run, pytest.raises(ObjectStoreError) as caught:
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin")))
    assert f"the bucket {missing!r} does not exist" in str(caught.value)
    assert not (run.path / "artifacts.remote.yaml").exists()
