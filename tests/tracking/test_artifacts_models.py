"""Artifacts, figures and models logged into a run, read back from its folder."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import runfolio
from runfolio.errors import InvalidInputError
from runfolio.tracking.models import ModelLoadError

# Every test here logs through the fluent API into a fresh store.
pytestmark = pytest.mark.usefixtures("fluent_store")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A folder of files to log: a.txt, data/b.csv, data/deep/c.bin."""
    root = tmp_path / "source"
    (root / "data" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n", encoding="utf-8")
    (root / "data" / "b.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (root / "data" / "deep" / "c.bin").write_bytes(bytes(range(256)))
    return root


def read_yaml(path: Path) -> Any:
    """Load a YAML file the way any other tool would."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def tree(root: Path) -> list[str]:
    """Every file and folder under ``root``, relative and sorted."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


# -- files -----------------------------------------------------------------------------------


def test_log_artifact_into_the_root_and_into_a_folder(run: runfolio.Run, source: Path) -> None:
    first = runfolio.log_artifact(source / "a.txt")
    second = runfolio.log_artifact(source / "data" / "b.csv", artifact_path="tables/raw")
    third = runfolio.log_artifact(str(source / "a.txt"), artifact_path="./copies/")
    artifacts = run.path / "artifacts"
    assert first == artifacts / "a.txt"
    assert second == artifacts / "tables" / "raw" / "b.csv"
    assert third == artifacts / "copies" / "a.txt"
    assert first.read_text(encoding="utf-8") == "alpha\n"
    assert second.read_bytes() == (source / "data" / "b.csv").read_bytes()
    assert tree(artifacts) == [
        "a.txt",
        "copies",
        "copies/a.txt",
        "tables",
        "tables/raw",
        "tables/raw/b.csv",
    ]


def test_log_artifact_of_a_missing_file_raises(run: runfolio.Run, tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(InvalidInputError, match=r"nope\.txt"):
        runfolio.log_artifact(missing)
    assert not (run.path / "artifacts").exists()


def test_log_artifact_of_a_folder_points_to_log_artifacts(run: runfolio.Run, source: Path) -> None:
    with pytest.raises(InvalidInputError, match="log_artifacts"):
        runfolio.log_artifact(source / "data")
    assert not (run.path / "artifacts").exists()


def test_log_artifacts_copies_a_tree_in_sorted_order(run: runfolio.Run, source: Path) -> None:
    copied = runfolio.log_artifacts(source)
    artifacts = run.path / "artifacts"
    assert [p.relative_to(artifacts).as_posix() for p in copied] == [
        "a.txt",
        "data/b.csv",
        "data/deep/c.bin",
    ]
    assert (artifacts / "data" / "deep" / "c.bin").read_bytes() == bytes(range(256))
    nested = runfolio.log_artifacts(source / "data", artifact_path="inputs")
    assert [p.relative_to(artifacts).as_posix() for p in nested] == [
        "inputs/b.csv",
        "inputs/deep/c.bin",
    ]


def test_log_artifacts_does_not_follow_a_symlinked_folder(
    run: runfolio.Run, source: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not copy", encoding="utf-8")
    (source / "linked").symlink_to(outside, target_is_directory=True)
    copied = runfolio.log_artifacts(source)
    names = [p.relative_to(run.path / "artifacts").as_posix() for p in copied]
    assert names == ["a.txt", "data/b.csv", "data/deep/c.bin"]
    assert not (run.path / "artifacts" / "linked").exists()


def test_log_artifacts_of_a_file_or_missing_folder_raises(run: runfolio.Run, source: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a folder"):
        runfolio.log_artifacts(source / "a.txt")
    with pytest.raises(InvalidInputError, match="not a folder"):
        runfolio.log_artifacts(source / "missing")
    assert not (run.path / "artifacts").exists()


BAD_ARTIFACT_PATHS = [
    "../escape",
    "a/../../escape",
    "..",
    "/abs/path",
    "\\\\server\\share",
    "a\\b",
    "C:",
    "c:/windows",
    "new\nline",
    "nul\x00",
    "bad\ud800",
]


@pytest.mark.parametrize("artifact_path", BAD_ARTIFACT_PATHS)
def test_escaping_artifact_paths_raise_and_write_nothing(
    run: runfolio.Run, source: Path, tmp_path: Path, artifact_path: str
) -> None:
    before = tree(tmp_path)
    calls = [
        lambda: runfolio.log_artifact(source / "a.txt", artifact_path=artifact_path),
        lambda: runfolio.log_artifacts(source, artifact_path=artifact_path),
        lambda: runfolio.log_text("x", f"{artifact_path}/x.txt"),
        lambda: runfolio.log_dict({"a": 1}, f"{artifact_path}/x.json"),
        lambda: runfolio.log_model({"a": 1}, artifact_path),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError):
            call()
    assert tree(tmp_path) == before


def test_artifact_writes_never_go_through_a_symlink(run: runfolio.Run, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (run.path / "artifacts").mkdir()
    (run.path / "artifacts" / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInputError, match="symlink"):
        runfolio.log_text("x", "link/x.txt")
    with pytest.raises(InvalidInputError, match="symlink"):
        runfolio.log_dict({"a": 1}, "link/x.json")
    assert list(outside.iterdir()) == []


# -- text, dicts and figures -----------------------------------------------------------------


def test_log_text(run: runfolio.Run) -> None:
    path = runfolio.log_text("héllo\nwörld\n", "notes/readme.md")
    assert path == run.path / "artifacts" / "notes" / "readme.md"
    assert path.read_bytes() == "héllo\nwörld\n".encode()
    runfolio.log_text("replaced", "notes/readme.md")
    assert path.read_text(encoding="utf-8") == "replaced"
    with pytest.raises(InvalidInputError):
        runfolio.log_text("x", "")
    with pytest.raises(InvalidInputError):
        runfolio.log_text(b"bytes", "b.txt")  # type: ignore[arg-type]


def test_log_dict_json_has_sorted_keys(run: runfolio.Run) -> None:
    data = {"b": 1, "a": {"z": [1, 2], "y": None}, "ü": "ñ"}
    path = runfolio.log_dict(data, "report.json")
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == data
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert text.index('"a"') < text.index('"b"')


@pytest.mark.parametrize("name", ["config.yaml", "config.yml"])
def test_log_dict_yaml(run: runfolio.Run, name: str) -> None:
    data = {"b": 1, "a": {"lr": 0.1, "layers": [64, 32]}, "flag": "yes"}
    path = runfolio.log_dict(data, name)
    text = path.read_text(encoding="utf-8")
    assert read_yaml(path) == data
    assert text.index("a:") < text.index("b:")


def test_log_dict_needs_a_mapping(run: runfolio.Run) -> None:
    with pytest.raises(InvalidInputError, match="mapping"):
        runfolio.log_dict([1, 2], "list.json")  # type: ignore[arg-type]


def test_log_figure_with_matplotlib(run: runfolio.Run) -> None:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend involved

    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1, 2], [2, 1, 3])
    path = runfolio.log_figure(figure, "plots/curve.png")
    assert path == run.path / "artifacts" / "plots" / "curve.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = runfolio.log_figure(figure, "plots/curve.svg")
    assert "<svg" in svg.read_text(encoding="utf-8")


def test_log_figure_with_altair(run: runfolio.Run) -> None:
    import altair as alt
    import pandas as pd

    chart = (
        alt.Chart(pd.DataFrame({"step": [0, 1, 2], "loss": [1.0, 0.5, 0.25]}))
        .mark_line()
        .encode(x="step", y="loss")
    )
    path = runfolio.log_figure(chart, "loss.json")
    spec = json.loads(path.read_text(encoding="utf-8"))
    mark = spec["mark"]
    assert (mark["type"] if isinstance(mark, dict) else mark) == "line"
    assert spec["encoding"]["x"]["field"] == "step"
    assert "vega-lite" in spec["$schema"]
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_log_figure_refuses_other_objects(run: runfolio.Run) -> None:
    with pytest.raises(InvalidInputError, match="matplotlib"):
        runfolio.log_figure({"not": "a figure"}, "x.png")


# -- models ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted() -> tuple[Any, Any]:
    """A small fitted scikit-learn classifier and the data it was fitted on."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=300).fit(features, labels), features


def test_log_model_writes_pickle_and_descriptor(run: runfolio.Run, fitted: tuple[Any, Any]) -> None:
    import sklearn

    model, _ = fitted
    folder = runfolio.log_model(model, "model", description="iris classifier")
    assert folder == run.path / "artifacts" / "model"
    assert sorted(p.name for p in folder.iterdir()) == ["model.pkl", "model.yaml"]
    payload = (folder / "model.pkl").read_bytes()
    descriptor = read_yaml(folder / "model.yaml")
    assert descriptor["flavor"] == "sklearn"
    assert descriptor["class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert descriptor["file"] == "model.pkl"
    assert descriptor["loader"] == "pickle"
    assert descriptor["sha256"] == hashlib.sha256(payload).hexdigest()
    assert descriptor["size"] == len(payload)
    assert descriptor["requirements"] == [f"scikit-learn=={sklearn.__version__}"]
    assert descriptor["description"] == "iris classifier"
    assert descriptor["format"] == 1
    assert read_yaml(run.path / "run.yaml")["models"] == ["model"]


def test_load_model_returns_an_equivalent_estimator(
    run: runfolio.Run, fitted: tuple[Any, Any]
) -> None:
    model, features = fitted
    runfolio.log_model(model)
    runfolio.log_model(model, "candidates/second")
    runfolio.end_run()
    expected = model.predict_proba(features)
    for uri in (
        f"runs:/{run.run_id}/model",
        f"runs:/{run.run_id[-10:-4]}/model",
        f"runs:/{run.run_id}",
        str(run.path / "artifacts" / "candidates" / "second"),
    ):
        loaded = runfolio.load_model(uri)
        assert type(loaded) is type(model)
        assert (loaded.predict_proba(features) == expected).all()
    assert read_yaml(run.path / "run.yaml")["models"] == ["candidates/second", "model"]


def test_logging_a_model_again_lists_it_once(run: runfolio.Run) -> None:
    runfolio.log_model({"version": 1}, "model")
    runfolio.log_model({"version": 2}, "model/")
    runfolio.log_model({"version": 3}, "./model")
    assert read_yaml(run.path / "run.yaml")["models"] == ["model"]
    assert runfolio.load_model(f"runs:/{run.run_id}/model") == {"version": 3}


def test_plain_python_objects_get_the_pickle_flavor(run: runfolio.Run) -> None:
    folder = runfolio.log_model({"weights": [1.0, 2.0]}, "lookup")
    descriptor = read_yaml(folder / "model.yaml")
    assert descriptor["flavor"] == "pickle"
    assert descriptor["class"] == "builtins.dict"
    assert descriptor["requirements"] == []


def test_tampered_model_raises_model_load_error(run: runfolio.Run, fitted: tuple[Any, Any]) -> None:
    model, _ = fitted
    folder = runfolio.log_model(model)
    pickle_path = folder / "model.pkl"
    data = bytearray(pickle_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pickle_path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="sha256"):
        runfolio.load_model(f"runs:/{run.run_id}/model")


def test_model_load_errors(run: runfolio.Run, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError):
        runfolio.load_model(f"runs:/{run.run_id}/model")  # nothing logged there
    with pytest.raises(ModelLoadError):
        runfolio.load_model(str(tmp_path / "no-such-folder"))
    with pytest.raises(runfolio.RunNotFoundError):
        runfolio.load_model("runs:/fffffffff/model")
    with pytest.raises(InvalidInputError, match="URI"):
        runfolio.load_model("s3://bucket/model")
    with pytest.raises(runfolio.RegistryError, match="no registered model is named 'iris'"):
        runfolio.load_model("models:/iris/1")
    with pytest.raises(InvalidInputError):
        runfolio.load_model(f"runs:/{run.run_id}/../../model")
    folder = runfolio.log_model({"a": 1})
    descriptor = read_yaml(folder / "model.yaml")
    descriptor["loader"] = "onnx"
    (folder / "model.yaml").write_text(yaml.safe_dump(descriptor), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="loader"):
        runfolio.load_model(str(folder))


def test_log_model_refuses_bad_input(run: runfolio.Run) -> None:
    with pytest.raises(InvalidInputError, match="pickle"):
        runfolio.log_model(lambda x: x, "fn")
    with pytest.raises(InvalidInputError, match="artifact_path"):
        runfolio.log_model({"a": 1}, "")
    with pytest.raises(InvalidInputError, match="sha256"):
        runfolio.log_model({"a": 1}, "m", sha256="0" * 64)
    with pytest.raises(InvalidInputError, match="plain data"):
        runfolio.log_model({"a": 1}, "m", input_example=object())
    assert "models" not in read_yaml(run.path / "run.yaml")
    assert not (run.path / "artifacts").exists()


def test_files_are_not_written_with_crlf(run: runfolio.Run) -> None:
    runfolio.log_text("a\nb\n", "t.txt")
    runfolio.log_dict({"a": "x\ny"}, "d.yaml")
    runfolio.log_model({"a": 1})
    for path in (run.path / "artifacts").rglob("*"):
        if path.suffix in (".txt", ".yaml"):
            assert b"\r" not in path.read_bytes(), path
    assert os.sep not in read_yaml(run.path / "run.yaml")["models"][0]
