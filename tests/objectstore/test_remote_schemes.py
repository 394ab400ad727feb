"""Object storage other than S3: ``file://`` end to end, and ``gs://`` / ``az://`` resolution.

``file://`` needs nothing but fsspec, so it is tested for real: log, pull, build a site
that previews the fetched files. ``gs://`` and ``az://`` run against local emulators in
test_remote_emulators.py when those are installed; here, what needs no server: parsing,
and the error that names the package to install.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from objectstore_helpers import big_file, configure_store, export_folder

import runfolio
from runfolio.cli import main
from runfolio.config import ConfigError
from runfolio.config_schema import ConfigProblems, validate_artifacts
from runfolio.config_values import RemoteSettings
from runfolio.objectstore.bucket import Bucket
from runfolio.objectstore.errors import HashMismatchError, ObjectStoreError
from runfolio.objectstore.manifest import read_manifest
from runfolio.objectstore.transfer import pull_run
from runfolio.site.build import build_site


def _parse(value: object) -> tuple[RemoteSettings | None, list[str]]:
    try:
        return validate_artifacts(value), []
    except ConfigProblems as exc:
        return None, list(exc.problems)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "gs://ml-artifacts/iris/",
            RemoteSettings(bucket="ml-artifacts", prefix="iris", scheme="gs"),
        ),
        ("az://container/a/b", RemoteSettings(bucket="container", prefix="a/b", scheme="az")),
        ("ABFS://container", RemoteSettings(bucket="container", scheme="abfs")),
        (
            "file:///srv/ml artifacts/",
            RemoteSettings(bucket="", prefix="srv/ml artifacts", scheme="file"),
        ),
    ],
)
def test_every_scheme_parses_into_bucket_and_prefix(uri: str, expected: RemoteSettings) -> None:
    settings, problems = _parse(uri)
    assert problems == []
    assert settings == expected
    sha = "ab" + "0" * 62
    assert settings.object_uri(sha).startswith(f"{expected.scheme}://{expected.bucket}/")
    assert settings.holds(settings.object_uri(sha), sha)


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("file://host/srv/x", "'file://host/srv/x' must name an absolute folder: file:///path"),
        ("file:///", "'file:///' names no folder"),
        ("file:///srv/../etc", "'file:///srv/../etc': the folder must not have empty"),
        ("gs://", "'gs://' names no bucket"),
        ("hdfs://x/y", "'hdfs://x/y' must be an s3://, gs://, az://, abfs:// or file:// URI"),
    ],
)
def test_bad_uris_of_the_new_schemes(uri: str, problem: str) -> None:
    settings, problems = _parse(uri)
    assert settings is None
    assert len(problems) == 1 and problems[0].startswith(f"artifacts.uri: {problem}")


def test_public_links_name_only_objects_of_the_same_scheme() -> None:
    settings = RemoteSettings(bucket="b", public_url="https://cdn.example.org", scheme="gs")
    key = "sha256/ab/" + "ab" + "0" * 62
    assert settings.public_href(f"gs://b/{key}") == f"https://cdn.example.org/{key}"
    assert settings.public_href(f"s3://b/{key}") is None


@pytest.mark.parametrize(
    ("scheme", "module", "hint"),
    [
        ("gs", "gcsfs", "which needs gcsfs: pip install 'runfolio[gcs]'"),
        ("az", "adlfs", "which needs adlfs: pip install 'runfolio[azure]'"),
        ("abfs", "adlfs", "which needs adlfs: pip install 'runfolio[azure]'"),
    ],
)
def test_a_missing_client_names_the_package_to_install(
    scheme: str, module: str, hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # importing it now raises ImportError
    with pytest.raises(ObjectStoreError) as caught:
        Bucket(RemoteSettings(bucket="b", prefix="p", scheme=scheme))
    assert str(caught.value) == f"this store keeps artifacts in {scheme}://b/p, {hint}"


def test_s3_only_settings_are_refused_for_other_schemes(tmp_path: Path) -> None:
    settings = RemoteSettings(
        bucket="", prefix=tmp_path.as_posix().lstrip("/"), endpoint_url="http://x", scheme="file"
    )
    with pytest.raises(ObjectStoreError, match=r"artifacts\.endpoint_url in runfolio\.yaml"):
        Bucket(settings)


# --------------------------------------------------------------------------- file://


def _configure(root: Path, folder: Path, **settings: object) -> Path:
    """Send files over 1 KB to ``folder``; return the store, now runfolio's store."""
    # Written literally, as fsspec reads it: "shared drive", not "shared%20drive".
    store = configure_store(root, f"file://{folder.as_posix()}", **settings)
    runfolio.set_store(store)
    return store


def test_a_folder_bucket_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "shared drive" / "artifacts"
    folder.mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    store = _configure(project, folder, public_url="https://files.example.org/artifacts")
    export = export_folder(tmp_path / "export")
    with runfolio.start_run() as run:
        runfolio.log_artifacts(str(export))

    # Each large file is in the folder under its hash, whole; nothing half-written remains.
    entries = read_manifest(run.path)
    assert sorted(entries) == ["huge.bin", "plot.png", "tables/scores.csv"]
    for name, entry in entries.items():
        data = (export / name).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        assert entry.uri == f"file://{folder.as_posix()}/sha256/{sha[:2]}/{sha}"
        assert (folder / "sha256" / sha[:2] / sha).read_bytes() == data
        assert not (run.artifact_dir / name).exists()
    assert not list(folder.rglob("*.part"))

    # The site fetches the small ones to preview them, and links the large one.
    site = tmp_path / "site"
    report = build_site(store, site, config_root=project)
    assert report.problems == []
    published = site / "experiments" / run.experiment.slug / "runs" / run.run_id / "artifacts"
    assert (published / "plot.png").read_bytes() == (export / "plot.png").read_bytes()
    assert (published / "tables" / "scores.csv").exists()
    assert not list(site.rglob("huge.bin*"))
    page = (published.parent.parent / f"{run.run_id}.html").read_text(encoding="utf-8")
    assert f'src="{run.run_id}/artifacts/plot.png"' in page
    huge = entries["huge.bin"]
    assert f"https://files.example.org/artifacts/sha256/{huge.sha256[:2]}/{huge.sha256}" in page

    # `runfolio pull` brings every file back into the run folder, checked by hash.
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "empty-cache"))
    result = CliRunner().invoke(main, ["--store", str(store), "pull", run.run_id])
    assert result.exit_code == 0, result.output
    assert (run.artifact_dir / "huge.bin").read_bytes() == (export / "huge.bin").read_bytes()
    assert result.output.startswith("Pulled 3 file(s)")


def test_a_folder_bucket_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "unmounted"
    project = tmp_path / "project"
    project.mkdir()
    _configure(project, missing)
    with runfolio.start_run() as run, pytest.raises(ObjectStoreError) as caught:
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin")))
    assert "the folder " + missing.as_posix() + " does not exist" in str(caught.value)
    assert "create it, or fix artifacts.uri in runfolio.yaml" in str(caught.value)
    assert not missing.exists()
    assert not (run.path / "artifacts.remote.yaml").exists()


def test_a_folder_bucket_detects_a_replaced_object(tmp_path: Path) -> None:
    folder = tmp_path / "bucket"
    folder.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    _configure(project, folder)
    with runfolio.start_run() as run:
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin")))
    entry = read_manifest(run.path)["weights.bin"]
    (folder / "sha256" / entry.sha256[:2] / entry.sha256).write_bytes(b"y" * entry.size)
    with pytest.raises(HashMismatchError, match="does not hold the recorded file"):
        pull_run(run.path)
    assert not (run.artifact_dir / "weights.bin").exists()


def test_bad_folder_uris_stop_logging_with_a_config_error(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "runfolio.yaml").write_text(
        "store: runs\nartifacts: file://server/share\n", encoding="utf-8"
    )
    runfolio.set_store(project / "runs")
    with runfolio.start_run(), pytest.raises(ConfigError, match="must name an absolute folder"):
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin", 2_000_000)))
