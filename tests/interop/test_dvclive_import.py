"""runfolio import dvclive, on output folders written here in DVCLive's documented layout.

DVCLive itself is not installed: the files are made as https://dvc.org/doc/dvclive/how-it-works
and https://dvc.org/doc/dvclive/live/log_metric describe them (tab-separated histories with
``timestamp`` only when asked for, ``step`` and the metric's full name as columns).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runfolio.cli import main
from runfolio.errors import InvalidInputError
from runfolio.interop.dvclive import import_dvclive
from runfolio.store.metrics import read_metrics
from runfolio.store.scan import scan_store

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da6364f8ff3f0005fe02fea7d6a4ab0000000049454e44ae426082"
)


def write_dvclive(project: Path, *, timestamps: bool = True, steps: int = 3) -> Path:
    """Write a DVCLive output folder like ``Live()`` leaves it after ``steps`` steps."""
    live = project / "dvclive"
    (live / "plots" / "metrics" / "train").mkdir(parents=True, exist_ok=True)
    (live / "plots" / "images" / "img").mkdir(parents=True, exist_ok=True)
    (live / "plots" / "sklearn").mkdir(parents=True, exist_ok=True)
    (live / "params.yaml").write_text(
        "epochs: 20\nlearning_rate: 0.002\noptimizer:\n  name: Adam\n", encoding="utf-8"
    )
    base = 1_795_000_000_000
    for name, values in (("acc", [0.5 + s / 10 for s in range(steps)]),
                         ("train/loss", [1 / (s + 1) for s in range(steps)])):  # fmt: skip
        columns = ["timestamp", "step", name] if timestamps else ["step", name]
        lines = ["\t".join(columns)]
        for step, value in enumerate(values):
            row = [str(base + 1000 * step), str(step), repr(value)]
            lines.append("\t".join(row if timestamps else row[1:]))
        (live / "plots" / "metrics" / f"{name}.tsv").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    summary = {
        "step": steps - 1,
        "acc": 0.5 + (steps - 1) / 10,
        "train": {"loss": 1 / steps},
        "test": {"f1": 0.81},
        "note": "converged",
    }
    (live / "metrics.json").write_text(json.dumps(summary), encoding="utf-8")
    for step in range(steps):
        (live / "plots" / "images" / "img" / f"{step}.png").write_bytes(PNG)
    (live / "plots" / "sklearn" / "confusion_matrix.json").write_text(
        '{"confusion_matrix": [{"actual": 0, "predicted": 1}]}', encoding="utf-8"
    )
    (live / "report.html").write_text("<html><body>report</body></html>", encoding="utf-8")
    (project / "dvc.yaml").write_text(
        "params:\n- dvclive/params.yaml\nmetrics:\n- dvclive/metrics.json\n"
        "plots:\n- dvclive/plots/metrics:\n    x: step\n",
        encoding="utf-8",
    )
    return live


def test_a_dvclive_folder_becomes_one_run(tmp_path: Path) -> None:
    live = write_dvclive(tmp_path / "churn")
    root = tmp_path / "runs"
    report = import_dvclive(root, live)
    assert report.problems == []
    scan = scan_store(root, use_cache=False)
    assert scan.problems == []
    [run] = scan.runs
    assert run.experiment == "churn" and run.name == "dvclive" and run.status == "FINISHED"
    assert run.params == {"epochs": 20, "learning_rate": 0.002, "optimizer": {"name": "Adam"}}
    rows = read_metrics(run.path / "metrics.csv").rows
    assert [(r.key, r.step, r.value, r.timestamp) for r in rows if r.key == "train/loss"] == [
        ("train/loss", 0, 1.0, 1_795_000_000_000),
        ("train/loss", 1, 0.5, 1_795_000_001_000),
        ("train/loss", 2, 1 / 3, 1_795_000_002_000),
    ]
    assert run.metrics["acc"]["count"] == 3 and run.metrics["acc"]["last"] == 0.7
    assert run.metrics["test/f1"] == {
        "count": 1,
        "last": 0.81,
        "max": 0.81,
        "min": 0.81,
        "step": 2,
        "timestamp": 1_795_000_000_000,
    }
    assert run.tags["note"] == "converged"
    assert run.start_ms == 1_795_000_000_000 and run.end_ms == 1_795_000_002_000
    artifacts = sorted(
        p.relative_to(run.path / "artifacts").as_posix()
        for p in (run.path / "artifacts").rglob("*")
        if p.is_file()
    )
    assert artifacts == [
        "dvc.yaml",
        "plots/images/img/0.png",
        "plots/images/img/1.png",
        "plots/images/img/2.png",
        "plots/sklearn/confusion_matrix.json",
        "report.html",
    ]
    assert (run.path / "artifacts" / "plots/images/img/1.png").read_bytes() == PNG


def test_importing_again_adds_only_new_steps(tmp_path: Path) -> None:
    project = tmp_path / "churn"
    root = tmp_path / "runs"
    import_dvclive(root, write_dvclive(project, steps=2))
    report = import_dvclive(root, write_dvclive(project, steps=4))  # resumed training
    assert (report.runs_created, report.runs_updated) == (0, 1)
    assert report.metric_values == 2 * 2 + 1  # two new steps of two metrics, test/f1's new step
    assert report.artifacts == 2  # images 2.png and 3.png
    [run] = scan_store(root, use_cache=False).runs
    rows = read_metrics(run.path / "metrics.csv").rows
    assert len(rows) == len(set(rows))
    assert run.metrics["train/loss"]["count"] == 4
    again = import_dvclive(root, project / "dvclive")
    assert (again.runs_present, again.metric_values, again.artifacts) == (1, 0, 0)


def test_without_timestamps_the_folder_stays_one_run(tmp_path: Path) -> None:
    project = tmp_path / "churn"
    root = tmp_path / "runs"
    import_dvclive(root, write_dvclive(project, timestamps=False, steps=2))
    report = import_dvclive(root, write_dvclive(project, timestamps=False, steps=3))
    assert (report.runs_created, report.runs_updated, report.metric_values) == (0, 1, 3)
    [run] = scan_store(root, use_cache=False).runs
    assert run.metrics["acc"]["count"] == 3
    assert {r.timestamp for r in read_metrics(run.path / "metrics.csv").rows} == {run.start_ms}


def test_cli_names_experiment_and_run_and_the_site_builds(tmp_path: Path) -> None:
    live = write_dvclive(tmp_path / "churn")
    root = tmp_path / "runs"
    result = CliRunner().invoke(
        main,
        ["--store", str(root), "import", "dvclive", str(live),
         "--experiment", "Churn model", "--run-name", "baseline"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "runs:          1 (1 new, 0 updated, 0 skipped as already present)" in result.output
    assert "metric values: 7" in result.output
    [run] = scan_store(root, use_cache=False).runs
    assert (run.experiment, run.name) == ("Churn model", "baseline")
    built = CliRunner().invoke(
        main, ["build", str(root), "-o", str(tmp_path / "site"), "--strict", "--quiet"]
    )
    assert built.exit_code == 0, built.output


def test_bad_input_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="holds no DVCLive output"):
        import_dvclive(tmp_path / "runs", tmp_path)
    live = write_dvclive(tmp_path / "p")
    (live / "plots" / "metrics" / "acc.tsv").write_text("step\tacc\n0\tnope\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"acc\.tsv: line 2: not a number"):
        import_dvclive(tmp_path / "runs", live)
    assert not (tmp_path / "runs").exists()  # checked before anything was written
    (live / "metrics.json").write_text("{", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"metrics\.json: not readable JSON"):
        import_dvclive(tmp_path / "runs", live)
    result = CliRunner().invoke(
        main, ["--store", str(tmp_path / "runs"), "import", "dvclive", str(live)]
    )
    assert result.exit_code == 1 and "Error: " in result.output and "metrics.json" in result.output
