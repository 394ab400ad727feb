"""Logging artifacts with object storage configured: what goes to the bucket, what stays.

Everything runs against the real moto S3 server of conftest.py; the bucket is then read
back with a plain s3fs client, and the run folder with plain file reads.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from objectstore_helpers import Project, big_file, s3fs_for

import runfolio
from runfolio.objectstore.manifest import read_manifest
from runfolio.objectstore.settings import settings_for_store
from runfolio.store.serialize import dump_yaml
from runfolio.tracking.models import ModelLoadError


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_large_artifact_is_uploaded_and_named_in_the_manifest(
    project: Project, tmp_path: Path
) -> None:
    large = big_file(tmp_path / "out", "weights.bin", 4000)
    small = big_file(tmp_path / "out", "notes.txt", 1000)  # exactly the threshold: stays
    with runfolio.start_run() as run:
        returned = runfolio.log_artifact(str(large), "ckpt")
        runfolio.log_artifact(str(small))

    digest = _sha(large.read_bytes())
    key = f"{project.bucket}/team/lab/sha256/{digest[:2]}/{digest}"
    assert project.objects() == [key]
    assert s3fs_for(project.endpoint).cat_file(key) == large.read_bytes()
    # The run folder keeps the manifest and the small file, not the large one.
    assert returned == run.artifact_dir / "ckpt" / "weights.bin"
    assert not returned.exists()
    assert (run.artifact_dir / "notes.txt").read_bytes() == small.read_bytes()
    manifest = (run.path / "artifacts.remote.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(manifest) == {
        "artifacts": [
            {"path": "ckpt/weights.bin", "sha256": digest, "size": 4000, "uri": f"s3://{key}"}
        ],
        "format": 1,
    }
    # Deterministic: sorted keys, block style, so it diffs cleanly in review.
    assert manifest == dump_yaml(yaml.safe_load(manifest))
    assert manifest.splitlines()[:2] == ["artifacts:", "- path: ckpt/weights.bin"]
    ignore = (run.path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ignore[-1] == "/artifacts/ckpt/weights.bin"


def test_log_artifacts_splits_a_folder_by_size_and_dedupes_across_runs(
    project: Project, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    big_file(folder, "model.onnx", 5000, b"m")
    big_file(folder / "sub", "[odd] #name.bin", 3000, b"o")
    big_file(folder / "sub", "config.json", 20, b"{")
    runs = []
    for _ in range(2):
        with runfolio.start_run() as run:
            runfolio.log_artifacts(str(folder), "export")
        runs.append(run)

    # Same bytes in both runs: one object each, shared.
    assert len(project.objects()) == 2
    for run in runs:
        entries = read_manifest(run.path)
        assert sorted(entries) == ["export/model.onnx", "export/sub/[odd] #name.bin"]
        assert (run.artifact_dir / "export" / "sub" / "config.json").exists()
        assert not (run.artifact_dir / "export" / "model.onnx").exists()
        ignore = (run.path / ".gitignore").read_text(encoding="utf-8")
        # Escaped, so git ignores exactly that file and nothing else.
        assert "/artifacts/export/sub/\\[odd\\] \\#name.bin\n" in ignore
    assert read_manifest(runs[0].path) == {
        path: entry for path, entry in read_manifest(runs[1].path).items()
    }


def test_git_ignores_exactly_the_remote_paths(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    folder = tmp_path / "export"
    big_file(folder, "[odd] #name.bin", 3000)
    with runfolio.start_run() as run:
        runfolio.log_artifacts(str(folder))
    subprocess.run(["git", "init", "-q", str(project.root)], check=True)
    artifacts = run.artifact_dir.relative_to(project.root).as_posix()

    def ignored(name: str) -> bool:
        check = ["git", "-C", str(project.root), "check-ignore", "-q", f"{artifacts}/{name}"]
        return subprocess.run(check).returncode == 0

    # What `runfolio pull` brings back is ignored; a name the unescaped pattern would
    # match ("[odd]" is a character class) is not.
    assert ignored("[odd] #name.bin")
    assert not ignored("d #name.bin")
    assert not ignored("kept.bin")


def test_logging_small_over_a_remote_artifact_makes_it_local_again(
    project: Project, tmp_path: Path
) -> None:
    with runfolio.start_run() as run:
        runfolio.log_artifact(str(big_file(tmp_path / "a", "data.bin", 3000)))
        assert (run.path / "artifacts.remote.yaml").exists()
        runfolio.log_artifact(str(big_file(tmp_path / "b", "data.bin", 10)))
        assert (run.artifact_dir / "data.bin").stat().st_size == 10
        # No entry left: no manifest and no .gitignore.
        assert not (run.path / "artifacts.remote.yaml").exists()
        assert not (run.path / ".gitignore").exists()
        # And large again: the local file goes, the manifest names the new one.
        runfolio.log_artifact(str(big_file(tmp_path / "c", "data.bin", 2000)))
    assert not (run.artifact_dir / "data.bin").exists()
    assert read_manifest(run.path)["data.bin"].size == 2000


def test_a_large_model_is_uploaded_and_loads_back_through_the_cache(
    project: Project, tmp_path: Path
) -> None:
    model = {"weights": list(range(2000)), "name": "ü-model"}
    with runfolio.start_run() as run:
        runfolio.log_model(model, "model")
    folder = run.artifact_dir / "model"
    assert sorted(p.name for p in folder.iterdir()) == ["model.yaml"]
    descriptor = yaml.safe_load((folder / "model.yaml").read_text(encoding="utf-8"))
    entry = read_manifest(run.path)["model/model.pkl"]
    assert (entry.sha256, entry.size) == (descriptor["sha256"], descriptor["size"])

    assert runfolio.load_model(f"runs:/{run.run_id}/model") == model
    # The second load reads the cache: it works with the object gone from the bucket.
    s3fs_for(project.endpoint).rm(entry.uri.removeprefix("s3://"))
    assert runfolio.load_model(f"runs:/{run.run_id[-10:]}/model") == model


def test_a_remote_model_that_cannot_be_fetched_is_a_clear_error(
    project: Project, tmp_path: Path
) -> None:
    with runfolio.start_run() as run:
        runfolio.log_model(list(range(3000)), "model")
    entry = read_manifest(run.path)["model/model.pkl"]
    s3fs_for(project.endpoint).pipe_file(entry.uri.removeprefix("s3://"), pickle.dumps("evil"))
    with pytest.raises(ModelLoadError) as caught:
        runfolio.load_model(f"runs:/{run.run_id}/model")
    message = str(caught.value)
    assert entry.uri in message and "does not hold the recorded file" in message


def test_a_small_model_stays_in_the_run_folder(project: Project) -> None:
    with runfolio.start_run() as run:
        runfolio.log_model({"tiny": 1}, "model")
    assert (run.artifact_dir / "model" / "model.pkl").exists()
    assert not (run.path / "artifacts.remote.yaml").exists()
    assert project.objects() == []


def test_without_settings_nothing_changes(tmp_path: Path) -> None:
    runfolio.set_store(tmp_path / "runs")
    large = big_file(tmp_path, "weights.bin", 50_000)
    with runfolio.start_run() as run:
        runfolio.log_artifact(str(large))
    assert (run.artifact_dir / "weights.bin").read_bytes() == large.read_bytes()
    assert sorted(p.name for p in run.path.iterdir()) == [
        "artifacts",
        "captured",
        "run.yaml",
    ]
    assert settings_for_store(tmp_path / "runs") is None


def _loaded_modules(code: str) -> set[str]:
    """The top-level modules a fresh interpreter has loaded after running ``code``."""
    report = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"{code}\n{report}"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


S3_MODULES = {"s3fs", "fsspec", "botocore", "boto3", "aiobotocore", "moto"}


def test_import_and_small_artifacts_never_load_the_s3_client(project: Project) -> None:
    assert not _loaded_modules("import runfolio") & S3_MODULES
    # A configured store, and a file under the threshold: no client either.
    small = project.root / "small.txt"
    small.write_text("tiny\n", encoding="utf-8")
    code = (
        "import runfolio\n"
        f"runfolio.set_store({str(project.store)!r})\n"
        "with runfolio.start_run():\n"
        f"    runfolio.log_artifact({str(small)!r})\n"
        "    runfolio.log_model({'a': 1}, 'model')\n"
    )
    loaded = _loaded_modules(code)
    assert "runfolio" in loaded
    assert not loaded & S3_MODULES


def test_text_written_over_a_remote_artifact_replaces_it(project: Project, tmp_path: Path) -> None:
    with runfolio.start_run() as run:
        runfolio.log_artifact(str(big_file(tmp_path, "notes.md", 3000)))
        runfolio.log_text("# short now\n", "notes.md")
    assert (run.artifact_dir / "notes.md").read_text(encoding="utf-8") == "# short now\n"
    assert not (run.path / "artifacts.remote.yaml").exists()
