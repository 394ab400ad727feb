"""Tests for :mod:`runfolio.query.details` (one run's details) and its artifact listing."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from runfolio import Store
from runfolio.errors import ExperimentNotFoundError
from runfolio.query.details import build_run_details, scan_experiments
from runfolio.query.runs import get_run
from runfolio.store.artifact_listing import ArtifactFile, list_artifacts
from runfolio.store.layout import MODEL_DESCRIPTOR_FILE as DESCRIPTOR_FILE

needs_symlinks = pytest.mark.skipif(
    not hasattr(os, "symlink") or sys.platform == "win32", reason="needs POSIX symlinks"
)


@pytest.fixture(autouse=True)
def _outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start runs outside any git repository, so nothing captures this checkout's state."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def family(tmp_store: Path) -> tuple[Store, str, str, str]:
    """A store with a parent run (artifacts, a nested model) and two children."""
    store = Store(tmp_store)
    store.set_experiment("iris", primary_metric="accuracy", direction="maximize")
    parent = store.start_run("iris", run_name="parent")
    parent.log_params({"optimizer": {"lr": 0.1}, "C": 1.0})
    parent.log_metric("loss", math.nan)
    parent.log_metric("accuracy", 0.9)
    parent.log_text("top\n", "z.txt")
    parent.log_text("hello\n", "notes/readme.txt")
    parent.log_model({"w": [1, 2]}, "model")
    parent.log_model([1], "model/inner")
    parent.end()
    first = store.start_run("iris", run_name="first", parent_run_id=parent.run_id)
    first.end()
    # Start times have millisecond resolution; on a fast disk two runs can share one,
    # and "oldest first" would then fall back to the random part of the ids.
    time.sleep(0.002)
    second = store.start_run("iris", run_name="second", parent_run_id=parent.run_id)
    second.end("FAILED")
    return store, parent.run_id, first.run_id, second.run_id


def _artifacts_dir(store: Store, run_id: str) -> Path:
    """The artifacts folder of a run of the ``iris`` experiment."""
    return store.root / "iris" / run_id / "artifacts"


def _rewrite_run_yaml(run_dir: Path, **changes: object) -> None:
    """Change top-level fields of a run.yaml in place (as a hand edit would)."""
    run_yaml = run_dir / "run.yaml"
    data = yaml.safe_load(run_yaml.read_text(encoding="utf-8"))
    data.update(changes)
    run_yaml.write_text(yaml.safe_dump(data), encoding="utf-8")


# --------------------------------------------------------------------------- details


def test_build_run_details_gathers_relatives_params_metrics_and_artifacts(
    family: tuple[Store, str, str, str],
) -> None:
    store, parent_id, first_id, second_id = family
    details = build_run_details(store.root, get_run(store.root, parent_id))

    assert details["id"] == parent_id
    assert details["name"] == "parent"
    assert details["experiment"] == "iris" and details["experiment_folder"] == "iris"
    assert details["status"] == details["stored_status"] == "FINISHED"
    assert details["path"] == str(store.root / "iris" / parent_id)
    assert details["parent"] is None
    # Children come oldest first.
    assert details["children"] == [
        {"id": first_id, "name": "first", "status": "FINISHED"},
        {"id": second_id, "name": "second", "status": "FAILED"},
    ]
    assert details["params"] == {"C": 1.0, "optimizer.lr": 0.1}
    assert list(details["metrics"]) == ["accuracy", "loss"]
    assert math.isnan(details["metrics"]["loss"]["last"])
    assert details["models"] == [
        {"path": "model", "flavor": "pickle", "class": "builtins.dict"},
        {"path": "model/inner", "flavor": "pickle", "class": "builtins.list"},
    ]
    base = _artifacts_dir(store, parent_id)
    readme = {"path": "notes/readme.txt", "size": 6, "model": None, "symlink": False}
    assert readme in details["artifacts"]
    for item in details["artifacts"]:
        assert item["size"] == (base / item["path"]).stat().st_size
    packages = Path(details["environment"]["packages"])
    assert packages == store.root / "iris" / parent_id / "captured" / "packages.txt"
    assert details["git"] == {}  # the store is not inside a git repository
    assert details["problems"] == []


def test_build_run_details_of_a_child_names_its_parent(
    family: tuple[Store, str, str, str],
) -> None:
    store, parent_id, first_id, _ = family
    details = build_run_details(store.root, get_run(store.root, first_id))
    assert details["parent"] == {"id": parent_id, "name": "parent", "status": "FINISHED"}
    assert details["children"] == []
    assert details["artifacts"] == [] and details["models"] == []


def test_build_run_details_marks_a_parent_missing_from_the_store(tmp_store: Path) -> None:
    run = Store(tmp_store).start_run("exp", parent_run_id="20200101-000000-0123456789")
    run.end()
    details = build_run_details(tmp_store, get_run(tmp_store, run.run_id))
    assert details["parent"] == {"id": "20200101-000000-0123456789", "name": None, "status": None}


def test_details_are_plain_data_for_json_and_yaml(family: tuple[Store, str, str, str]) -> None:
    store, parent_id, _, _ = family
    details = build_run_details(store.root, get_run(store.root, parent_id))
    assert yaml.safe_load(yaml.safe_dump(details))["id"] == parent_id
    assert json.loads(json.dumps(details))["id"] == parent_id  # NaN is allowed by default


@pytest.mark.parametrize(
    "packages",
    ["../../outside.txt", "ABSOLUTE", "captured/../../../outside.txt", "captured/none", "", 42],
)
def test_captured_paths_must_stay_inside_the_run_folder(tmp_store: Path, packages: object) -> None:
    run = Store(tmp_store).start_run("exp")
    run.end()
    outside = tmp_store / "outside.txt"
    outside.write_text("secret\n", encoding="utf-8")
    if packages == "ABSOLUTE":
        packages = str(outside)
    run_dir = tmp_store / "exp" / run.run_id
    environment = yaml.safe_load((run_dir / "run.yaml").read_text(encoding="utf-8"))["environment"]
    _rewrite_run_yaml(run_dir, environment={**environment, "packages": packages})
    details = build_run_details(tmp_store, get_run(tmp_store, run.run_id))
    assert details["environment"]["packages"] is None


@needs_symlinks
def test_a_symlinked_captured_file_is_not_reported(tmp_store: Path) -> None:
    run = Store(tmp_store).start_run("exp")
    run.end()
    captured = tmp_store / "exp" / run.run_id / "captured"
    secret = tmp_store / "secret.txt"
    secret.write_text("secret\n", encoding="utf-8")
    (captured / "packages.txt").unlink()
    (captured / "packages.txt").symlink_to(secret)
    details = build_run_details(tmp_store, get_run(tmp_store, run.run_id))
    assert details["environment"]["packages"] is None


# --------------------------------------------------------------------------- artifacts


def test_list_artifacts_goes_folder_by_folder_and_assigns_models(
    family: tuple[Store, str, str, str],
) -> None:
    store, parent_id, _, _ = family
    listing = list_artifacts(store.root / "iris" / parent_id)
    # A folder's own files first, then its subfolders in name order.
    assert [(f.path, f.model) for f in listing.files] == [
        ("z.txt", None),
        ("model/model.pkl", "model"),
        ("model/model.yaml", "model"),
        ("model/inner/model.pkl", "model"),  # nested models belong to the outermost one
        ("model/inner/model.yaml", "model"),
        ("notes/readme.txt", None),
    ]
    assert [m.path for m in listing.models] == ["model", "model/inner"]
    assert listing.models[0].descriptor["flavor"] == "pickle"
    assert listing.models[0].class_name == "builtins.dict"
    assert listing.problems == []
    assert not any(f.symlink for f in listing.files)


def test_list_artifacts_of_a_run_without_artifacts_is_empty(tmp_path: Path) -> None:
    listing = list_artifacts(tmp_path)
    assert (listing.files, listing.models, listing.problems) == ([], [], [])


def test_a_descriptor_at_the_artifacts_root_is_no_model(tmp_path: Path) -> None:
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts" / DESCRIPTOR_FILE).write_text("flavor: pickle\n", encoding="utf-8")
    listing = list_artifacts(tmp_path)
    assert listing.models == []
    assert listing.files == [ArtifactFile(DESCRIPTOR_FILE, 15, None)]


def test_an_unreadable_descriptor_is_a_model_with_a_problem(tmp_path: Path) -> None:
    model = tmp_path / "artifacts" / "bad"
    model.mkdir(parents=True)
    (model / DESCRIPTOR_FILE).write_text("flavor: [unclosed\n", encoding="utf-8")
    listing = list_artifacts(tmp_path)
    assert [(m.path, m.flavor, m.class_name) for m in listing.models] == [("bad", None, None)]
    assert len(listing.problems) == 1
    assert listing.problems[0].startswith(f"{model / DESCRIPTOR_FILE}: invalid YAML")
    assert [f.model for f in listing.files] == ["bad"]


def test_an_artifacts_file_instead_of_a_folder_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "artifacts").write_text("not a folder\n", encoding="utf-8")
    listing = list_artifacts(tmp_path)
    assert listing.files == []
    assert listing.problems == [f"{tmp_path / 'artifacts'}: is not a folder"]


@needs_symlinks
def test_symlinks_are_listed_as_such_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"x" * 5000)
    (outside / "inner.txt").write_text("inside a linked folder\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    base = run_dir / "artifacts"
    (base / "data").mkdir(parents=True)
    (base / "data" / "real.txt").write_text("real\n", encoding="utf-8")
    (base / "data" / "file-link").symlink_to(outside / "secret.bin")
    (base / "data" / "folder-link").symlink_to(outside, target_is_directory=True)
    (base / "dangling").symlink_to(tmp_path / "gone")

    listing = list_artifacts(run_dir)
    assert listing.files == [
        ArtifactFile("dangling", None, None, symlink=True),
        ArtifactFile("data/file-link", None, None, symlink=True),
        ArtifactFile("data/folder-link", None, None, symlink=True),
        ArtifactFile("data/real.txt", 5, None),
    ]
    assert listing.problems == []


@needs_symlinks
def test_a_symlinked_descriptor_is_not_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("flavor: sklearn\nclass: secret.Model\n", encoding="utf-8")
    model = tmp_path / "run" / "artifacts" / "model"
    model.mkdir(parents=True)
    (model / DESCRIPTOR_FILE).symlink_to(elsewhere)
    (model / "model.pkl").write_bytes(b"pickle")
    listing = list_artifacts(tmp_path / "run")
    assert listing.models == []
    assert listing.problems == [f"{model / DESCRIPTOR_FILE}: is a symlink; " + _NOT_FOLLOWED]
    assert listing.files == [
        ArtifactFile("model/model.pkl", 6, None),
        ArtifactFile("model/model.yaml", None, None, symlink=True),
    ]


@needs_symlinks
def test_a_symlinked_artifacts_folder_lists_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "artifacts").symlink_to(outside, target_is_directory=True)
    listing = list_artifacts(run_dir)
    assert listing.files == [] and listing.models == []
    assert listing.problems == [f"{run_dir / 'artifacts'}: is a symlink; " + _NOT_FOLLOWED]


@needs_symlinks
def test_show_details_carry_symlinks(family: tuple[Store, str, str, str], tmp_path: Path) -> None:
    store, parent_id, _, _ = family
    (tmp_path / "big.bin").write_bytes(b"x" * 4096)
    (_artifacts_dir(store, parent_id) / "link.bin").symlink_to(tmp_path / "big.bin")
    details = build_run_details(store.root, get_run(store.root, parent_id))
    assert {"path": "link.bin", "size": None, "model": None, "symlink": True} in details[
        "artifacts"
    ]


_NOT_FOLLOWED = "runfolio does not follow symlinks in a store"


# --------------------------------------------------------------------------- scan, imports


def test_scan_experiments_names_every_missing_experiment(
    family: tuple[Store, str, str, str],
) -> None:
    store = family[0]
    assert [e.name for e in scan_experiments(store.root).experiments] == ["iris"]
    assert len(scan_experiments(store.root, ["iris"]).runs) == 3
    with pytest.raises(ExperimentNotFoundError) as caught:
        scan_experiments(store.root, ["nope", "iris", "also"])
    assert str(caught.value) == f"no experiment named 'also', 'nope' in {store.root}"


def test_reading_details_does_not_import_tracking_or_click() -> None:
    code = (
        "import sys, runfolio.query.details, runfolio.query.ids\n"
        "print(sorted(m for m in sys.modules if m.startswith(('runfolio.tracking', 'click'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
