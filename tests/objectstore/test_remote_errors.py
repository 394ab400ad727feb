"""Failures of object storage: each a clear error, and nothing recorded that is not there."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from objectstore_helpers import Project, big_file

import runfolio
from runfolio.cli import main
from runfolio.config import ConfigError
from runfolio.objectstore.errors import ObjectStoreError
from runfolio.objectstore.transfer import pull_run


def _nothing_recorded(run: runfolio.Run) -> None:
    assert not (run.path / "artifacts.remote.yaml").exists()
    assert not (run.path / ".gitignore").exists()
    assert not (run.artifact_dir / "weights.bin").exists()


def test_a_missing_bucket_is_named_and_nothing_is_recorded(
    project: Project, tmp_path: Path
) -> None:
    project.configure(uri="s3://no-such-bucket-here/x")
    large = big_file(tmp_path, "weights.bin")
    with runfolio.start_run() as run:
        with pytest.raises(ObjectStoreError) as caught:
            runfolio.log_artifact(str(large))
        _nothing_recorded(run)
        runfolio.log_metric("still", 1.0)  # the run goes on
    message = str(caught.value)
    assert "the bucket 'no-such-bucket-here' does not exist at http://127.0.0.1:" in message
    assert "fix artifacts.uri in runfolio.yaml" in message


def test_wrong_credentials_are_refused_with_a_hint(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enforced_auth: None
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
    large = big_file(tmp_path, "weights.bin")
    with runfolio.start_run() as run:
        with pytest.raises(ObjectStoreError) as caught:
            runfolio.log_artifact(str(large))
        _nothing_recorded(run)
    message = str(caught.value)
    assert "access denied" in message
    assert "AWS_ACCESS_KEY_ID" in message and "runfolio.yaml never holds them" in message


def test_pull_with_wrong_credentials_fails_clearly(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_endpoint: str
) -> None:
    from objectstore_helpers import moto_auth

    with runfolio.start_run() as run:
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin")))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
    moto_auth(s3_endpoint, "0")
    try:
        result = CliRunner().invoke(main, ["--store", str(project.store), "pull", run.run_id])
    finally:
        moto_auth(s3_endpoint, "inf")
    assert result.exit_code == 1
    assert "weights.bin: cannot download s3://" in result.output
    assert "access denied" in result.output
    assert not (run.artifact_dir / "weights.bin").exists()


def test_no_credentials_at_all_is_its_own_error(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with (
        runfolio.start_run(),
        pytest.raises(ObjectStoreError, match="no AWS credentials found; check the credentials"),
    ):
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin")))


def test_an_unreachable_server_is_named(project: Project, tmp_path: Path) -> None:
    project.configure(endpoint_url="http://127.0.0.1:9")  # the discard port: nothing listens
    with (
        runfolio.start_run(),
        pytest.raises(ObjectStoreError, match=r"the server at http://127\.0\.0\.1:9 cannot be"),
    ):
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin")))


def test_without_s3fs_the_error_says_what_to_install(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs now raises ImportError
    large = big_file(tmp_path, "weights.bin")
    with runfolio.start_run() as run:
        with pytest.raises(ObjectStoreError) as caught:
            runfolio.log_artifact(str(large))
        _nothing_recorded(run)
        # Small files need no client, so they still log.
        runfolio.log_artifact(str(big_file(tmp_path / "s", "small.txt", 10)))
    assert str(caught.value) == (
        f"this store keeps artifacts in s3://{project.bucket}/team/lab, which needs s3fs: "
        "pip install 'runfolio[s3]'"
    )


def test_bad_settings_stop_the_logging_call_before_anything_is_written(
    project: Project, tmp_path: Path
) -> None:
    (project.root / "runfolio.yaml").write_text(
        "title: 5\n"  # a bad site setting: not the tracking API's business
        "artifacts:\n"
        "  uri: ftp://bucket\n"
        "  secret_access_key: hunter2\n"
        "  treshold: 1 KB\n",
        encoding="utf-8",
    )
    large = big_file(tmp_path, "weights.bin")
    with runfolio.start_run() as run:
        with pytest.raises(ConfigError) as caught:
            runfolio.log_artifact(str(large))
        _nothing_recorded(run)
    message = str(caught.value)
    assert message.startswith(f"{project.root / 'runfolio.yaml'}: bad object storage settings:")
    assert "artifacts.uri: 'ftp://bucket' must be an s3://, gs://" in message
    assert "artifacts.secret_access_key: credentials never go in runfolio.yaml" in message
    assert "artifacts.treshold: unknown key; did you mean 'artifacts.threshold'?" in message
    assert "title" not in message


def test_a_bad_manifest_is_a_clear_error_for_pull(project: Project, tmp_path: Path) -> None:
    with runfolio.start_run() as run:
        runfolio.log_artifact(str(big_file(tmp_path, "weights.bin")))
    manifest = run.path / "artifacts.remote.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("path: weights.bin", "path: ../../escape"),
        encoding="utf-8",
    )
    with pytest.raises(ObjectStoreError) as caught:
        pull_run(run.path)
    assert str(caught.value).startswith(f"{manifest}: artifacts[0]: invalid artifact path")
    assert not (run.path.parent / "escape").exists()
