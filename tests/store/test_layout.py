"""The on-disk layout: run ids, experiment folders, key and path rules, where the store is."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

import runfolio
from runfolio.config import ConfigError, resolve_store
from runfolio.errors import InvalidInputError
from runfolio.store import layout


def read_yaml(path: Path) -> Any:
    """Load a YAML file the way any other tool would."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# -- run ids ---------------------------------------------------------------------------------


def test_run_ids_carry_the_utc_start_second_and_random_bits() -> None:
    moment = 1_795_755_364.9  # 2026-11-27 04:56:04 UTC
    run_id = layout.new_run_id(moment)
    assert re.fullmatch(r"20261127-045604-[0-9a-f]{10}", run_id)
    assert layout.is_run_id(run_id)
    assert len({layout.new_run_id(moment) for _ in range(200)}) == 200


def test_run_ids_sort_by_start_time() -> None:
    ids = [layout.new_run_id(t) for t in (1e9, 1.5e9, 1.5e9 + 1, 2e9, 4e9)]
    assert ids == sorted(ids)


@pytest.mark.parametrize(
    "name",
    [
        "20261127-045604-3f9a2c1b7",
        "20261127-045604-3F9A2C1B7D",
        "20261127-045604-3f9a2c1b7dd",
        "2026112-045604-3f9a2c1b7d",
        "20261127_045604_3f9a2c1b7d",
        "model",
        "",
    ],
)
def test_other_names_are_not_run_ids(name: str) -> None:
    assert not layout.is_run_id(name)


# -- experiment folders ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Iris sweep", "iris-sweep"),
        ("  Iris  sweep!! ", "iris-sweep"),
        ("Café Größe", "cafe-groe"),
        ("ﬁne-tune v2.1", "fine-tune-v2-1"),
        ("a/b\\c..d", "a-b-c-d"),
        ("x" * 80, "x" * 60),
        ("a" * 59 + " b", "a" * 59),
    ],
)
def test_experiment_slugs(name: str, slug: str) -> None:
    assert layout.experiment_slug(name) == slug


@pytest.mark.parametrize("name", ["実験", "!!!", "—", "🚀🚀"])
def test_names_without_ascii_letters_get_a_hash(name: str) -> None:
    assert layout.experiment_slug(name) == f"experiment-{layout.name_hash(name)}"
    assert re.fullmatch(r"[0-9a-f]{8}", layout.name_hash(name))


def test_experiment_folders_are_what_the_docs_say(tmp_path: Path) -> None:
    store = runfolio.Store(tmp_path / "runs")
    names = ["Iris", "iris", "IRIS", "I.R.I.S"]
    paths = [store.set_experiment(name).path.name for name in names]
    assert paths == [
        "iris",
        f"iris-{layout.name_hash('iris')}",
        f"iris-{layout.name_hash('IRIS')}",
        "i-r-i-s",
    ]
    for name in names:
        assert store.get_experiment(name).name == name


# -- keys and names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        (" \t", "empty"),
        ("k" * 251, "251 characters"),
        ("a/b", "'/'"),
        ("a\\b", "'/'"),
        ("a..b", "'..'"),
        ("a\x00", "control"),
        ("a\x1f", "control"),
        ("a\x9f", "control"),
        ("a\ud800", "surrogate"),
    ],
)
def test_check_key_names_the_key_and_the_rule(key: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        layout.check_key(key, "metric")
    message = str(info.value)
    assert repr(key) in message
    assert reason in message
    assert "metric" in message


@pytest.mark.parametrize("key", ["k" * 250, "a.b", "é", "a b", "a,b", "a\u2028b", "-", "0"])
def test_check_key_accepts(key: str) -> None:
    assert layout.check_key(key, "param") == key


@pytest.mark.parametrize("key", [None, 1, 1.5, b"a", ("a",)])
def test_check_key_refuses_non_text(key: Any) -> None:
    with pytest.raises(InvalidInputError, match="must be a string"):
        layout.check_key(key, "tag")


def test_check_text() -> None:
    assert layout.check_text("x" * 500, "run name") == "x" * 500
    for bad in ("", "  ", "x" * 501, "a\udc80", None, 3):
        with pytest.raises(InvalidInputError, match="run name"):
            layout.check_text(bad, "run name")


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        (None, ()),
        ("", ()),
        (".", ()),
        ("./", ()),
        ("a", ("a",)),
        ("a/b/", ("a", "b")),
        ("a//b/./c", ("a", "b", "c")),
        ("...", ("...",)),
        ("a..b", ("a..b",)),
        ("sp ace/é", ("sp ace", "é")),
    ],
)
def test_artifact_paths_are_normalised(path: str | None, parts: tuple[str, ...]) -> None:
    assert layout.check_artifact_path(path).parts == parts
    run_dir = Path("/store/e/run")
    assert layout.artifact_file(run_dir, PurePosixPath(*parts)) == run_dir.joinpath(
        "artifacts", *parts
    )


@pytest.mark.parametrize(
    "path",
    ["..", "../a", "a/../../b", "a/..", "/etc/passwd", "//server", "C:", "c:\\x", "D:/x", "a\\b",
     "a\nb", "a\tb", "a\x00b", "\x7f", "a\ud800", 5],
)  # fmt: skip
def test_escaping_artifact_paths_are_refused(path: Any) -> None:
    with pytest.raises(InvalidInputError):
        layout.check_artifact_path(path)


# -- a run folder on disk --------------------------------------------------------------------


def test_a_finished_run_folder_holds_exactly_the_documented_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = runfolio.Store(tmp_path / "runs")
    with store.start_run("Iris sweep", run_name="r", tags={"b": "2", "a": "1"}) as run:
        run.log_params({"lr": 0.1})
        run.log_metric("loss", 0.5)
        run.log_text("x", "notes.txt")
        assert (run.path / "run.yaml").exists()
    experiment_dir = tmp_path / "runs" / "iris-sweep"
    assert sorted(p.name for p in experiment_dir.iterdir()) == sorted(
        ["experiment.yaml", run.run_id]
    )
    assert sorted(p.relative_to(run.path).as_posix() for p in run.path.rglob("*")) == [
        "artifacts",
        "artifacts/notes.txt",
        "captured",
        "captured/packages.txt",
        "metrics.csv",
        "params.yaml",
        "run.yaml",
    ]
    data = read_yaml(run.path / "run.yaml")
    assert data["format"] == 1
    assert data["id"] == run.run_id
    assert set(data) >= {
        "description",
        "end_time",
        "environment",
        "experiment",
        "git",
        "id",
        "metrics",
        "name",
        "parent_run_id",
        "process",
        "source",
        "start_time",
        "status",
        "tags",
        "user",
    }
    assert data["environment"]["packages"] == "captured/packages.txt"
    text = (run.path / "run.yaml").read_text(encoding="utf-8")
    top = [line.split(":")[0] for line in text.splitlines() if re.match(r"[a-z_]+:", line)]
    assert top == sorted(top)
    assert text.index("  a:") < text.index("  b:")
    for name in ("run.yaml", "params.yaml", "metrics.csv"):
        raw = (run.path / name).read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw
    assert read_yaml(experiment_dir / "experiment.yaml")["format"] == 1
    assert not list(tmp_path.rglob("*.tmp"))


def test_packages_txt_is_pip_freeze_style(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with runfolio.Store(tmp_path / "runs").start_run("e") as run:
        pass
    lines = (run.path / "captured" / "packages.txt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines, key=str.lower)
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==\S+", line) for line in lines)
    assert any(line.lower().startswith("pyyaml==") for line in lines)


def test_a_live_run_has_a_heartbeat_file_once_written(tmp_path: Path) -> None:
    with runfolio.Store(tmp_path / "runs").start_run("e") as run:
        run.write_heartbeat()
        beat = (run.path / "heartbeat").read_text(encoding="utf-8")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n", beat)
    assert not (run.path / "heartbeat").exists()


# -- where the store is ----------------------------------------------------------------------


def test_store_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "src" / "deep").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True, capture_output=True)
    monkeypatch.chdir(repo / "src" / "deep")
    assert resolve_store() == repo / "runs"
    (repo / "runfolio.yaml").write_text("store: experiments/store\n", encoding="utf-8")
    assert resolve_store() == repo / "experiments" / "store"
    monkeypatch.setenv("RUNFOLIO_STORE", str(tmp_path / "from-env"))
    assert resolve_store() == tmp_path / "from-env"
    assert resolve_store(tmp_path / "explicit") == tmp_path / "explicit"
    assert runfolio.set_store(tmp_path / "explicit").root == tmp_path / "explicit"
    assert runfolio.get_store().root == tmp_path / "explicit"
    runfolio.set_store(None)
    assert runfolio.get_store().root == tmp_path / "from-env"


def test_store_outside_a_repository_is_runs_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_store() == tmp_path.resolve() / "runs"


@pytest.mark.parametrize("text", ["store: [a, b]\n", "store: ''\n", "- a\n", "store: {\n"])
def test_bad_runfolio_yaml_raises_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "runfolio.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"runfolio\.yaml"):
        resolve_store()
