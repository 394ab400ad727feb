"""Tests for the ``runfolio`` command line: ls, show, search, diff, errors and start-up cost."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from runfolio import Store, __version__
from runfolio.cli import main
from runfolio.console.cells import format_duration, format_size
from runfolio.console.table import display_width, render_table
from runfolio.query.ids import short_ids


@dataclass
class Demo:
    """The store built by the ``demo`` fixture and the ids of its runs."""

    root: Path
    baseline: str
    deeper: str
    ridge: str


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the record cache in tmp_path, ignore any RUNFOLIO_STORE, and work outside git."""
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RUNFOLIO_STORE", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    """A store with two experiments: iris (primary metric accuracy, maximize) and housing."""
    store = Store(tmp_path / "runs")
    store.set_experiment(
        "iris",
        description="Classify iris flowers.\nThe second line stays out of ls.",
        primary_metric="accuracy",
        direction="maximize",
    )
    baseline = store.start_run("iris", run_name="baseline", tags={"team": "vision"})
    baseline.log_params({"C": 1.0, "model": "logreg", "optimizer": {"lr": 0.1}})
    for step, loss in enumerate([0.9, 0.5, 0.25]):
        baseline.log_metric("loss", loss, step=step)
    baseline.log_metric("accuracy", 0.9)
    baseline.log_text("hello\n", "notes/readme.txt")
    baseline.log_model({"weights": [1, 2, 3]}, "model")
    baseline.set_description("First try.\n\nWith **markdown**.")
    baseline.end()

    deeper = store.start_run("iris", run_name="deeper", parent_run_id=baseline.run_id)
    deeper.log_params({"C": 10.0, "model": "logreg", "optimizer": {"lr": 0.1}, "layers": [4, 8]})
    deeper.log_metric("accuracy", 0.95)
    deeper.log_metric("odd", math.nan)
    deeper.set_tag("team", "nlp")
    deeper.end()

    ridge = store.start_run("housing", run_name="ridge")
    ridge.log_params({"alpha": 0.5})
    ridge.log_metrics({"rmse": 0.5, "mae": 0.4})
    ridge.end("FAILED")
    return Demo(store.root, baseline.run_id, deeper.run_id, ridge.run_id)


def _cli(*args: str) -> Result:
    """Invoke the command group in-process; stdout and stderr stay apart."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _lines_with(text: str, word: str) -> list[str]:
    """The lines of ``text`` that contain ``word``."""
    return [line for line in text.splitlines() if word in line]


def _field(text: str, key: str) -> list[str]:
    """The words after ``key`` on the first indented ``key  value`` line of ``text``."""
    for line in text.splitlines():
        words = line.split()
        if line.startswith("  ") and words and words[0] == key:
            return words[1:]
    raise AssertionError(f"no {key!r} line in:\n{text}")


def _break_run(exp_dir: Path, run_id: str = "20260101-000000-00000000aa") -> Path:
    """Add a run folder whose run.yaml is not YAML; return the folder."""
    run_dir = exp_dir / run_id
    run_dir.mkdir()
    (run_dir / "run.yaml").write_text("status: [unclosed\n", encoding="utf-8")
    return run_dir


# --------------------------------------------------------------------------- start-up


def test_help_does_not_import_heavy_modules() -> None:
    code = textwrap.dedent(
        """
        import sys
        from runfolio.cli import main
        try:
            main(["--help"], prog_name="runfolio")
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        heavy = ("pandas", "altair", "jinja2", "markdown", "git", "yaml")
        print(",".join(sorted(m for m in heavy if m in sys.modules)) or "none")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "Commands:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "none"


def test_version() -> None:
    result = _cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"runfolio {__version__}\n"


def test_console_script_runs_in_a_real_process(demo: Demo, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "runfolio"
    assert script.exists(), "the runfolio console script is not installed in this environment"
    # The child inherits RUNFOLIO_CACHE_DIR from the autouse fixture.
    listed = subprocess.run(
        [str(script), "ls", str(demo.root)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "baseline" in listed.stdout and "ridge" in listed.stdout
    missing = subprocess.run(
        [str(script), "--store", str(demo.root), "show", "fffffff"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: no run in ")
    assert "Traceback" not in missing.stderr


# --------------------------------------------------------------------------- ls


def test_ls_lists_experiments_and_runs_newest_first(demo: Demo) -> None:
    result = _cli("ls", str(demo.root))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    iris_header = _lines_with(out, "folder iris/")[0]
    assert iris_header.startswith("iris")
    assert "primary metric accuracy (maximize)" in iris_header
    assert "2 runs" in iris_header
    assert "  Classify iris flowers." in out
    assert "second line" not in out
    assert "1 run" in _lines_with(out, "folder housing/")[0]

    # Experiments come in folder order: housing, then iris.
    housing_header, iris_header = (line.split() for line in _lines_with(out, "START (UTC)"))
    assert iris_header[:2] == ["ID", "NAME"] and iris_header[-1] == "accuracy"
    # housing has no primary metric: the first metric by name is shown.
    assert housing_header[-1] == "mae"
    names = [
        line.split()[1] for line in out.splitlines() if line.startswith("  ") and "FINISHED" in line
    ]
    assert names == ["deeper", "baseline"]
    deeper = _lines_with(out, "deeper")[0].split()
    assert deeper[2] == "FINISHED"
    assert deeper[-1] == "0.95"
    ridge = _lines_with(out, "ridge")[0].split()
    assert ridge[2] == "FAILED" and ridge[-1] == "0.4"


def test_ls_short_ids_resolve_with_show(demo: Demo) -> None:
    out = _cli("ls", str(demo.root)).stdout
    short = _lines_with(out, "baseline")[0].split()[0]
    assert len(short) < len(demo.baseline)
    assert demo.baseline.rsplit("-", 1)[1].startswith(short)
    shown = _cli("--store", str(demo.root), "show", short)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.startswith(f"Run {demo.baseline}  baseline\n")


def test_ls_start_time_is_utc_to_the_minute(demo: Demo) -> None:
    out = _cli("ls", str(demo.root)).stdout
    stored = yaml.safe_load((demo.root / "iris" / demo.baseline / "run.yaml").read_text())
    minute = stored["start_time"][:16].replace("T", " ")
    assert minute in _lines_with(out, "baseline")[0]


def test_ls_positional_store_overrides_store_option(demo: Demo, tmp_path: Path) -> None:
    result = _cli("--store", str(tmp_path / "elsewhere"), "ls", str(demo.root))
    assert result.exit_code == 0
    assert "baseline" in result.stdout


def test_store_option_after_the_command_name(demo: Demo, tmp_path: Path) -> None:
    elsewhere = str(tmp_path / "elsewhere")
    assert "baseline" in _cli("ls", "--store", str(demo.root)).stdout
    # Named after the command name, it wins over the one named before it.
    assert "baseline" in _cli("--store", elsewhere, "ls", "--store", str(demo.root)).stdout
    shown = _cli("show", demo.baseline, "--store", str(demo.root))
    assert shown.exit_code == 0 and "baseline" in shown.stdout
    models = _cli("models", "ls", "--store", str(demo.root))
    assert models.exit_code == 0, models.output


def test_the_store_is_named_once_per_command(demo: Demo) -> None:
    result = _cli("ls", str(demo.root), "--store", str(demo.root))
    assert result.exit_code == 2
    assert "the store is named twice: give --store once" in result.stderr


@pytest.mark.parametrize("command", ["ls", "build", "serve", "repair"])
def test_the_positional_store_is_left_out_of_help(command: str) -> None:
    usage = _cli(command, "--help").stdout.splitlines()[0]
    assert usage == f"Usage: main {command} [OPTIONS]"


def test_ls_uses_store_option_then_environment(
    demo: Demo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert "baseline" in _cli("--store", str(demo.root), "ls").stdout
    monkeypatch.setenv("RUNFOLIO_STORE", str(demo.root))
    assert "baseline" in _cli("ls").stdout


def test_ls_default_store_is_runs_in_the_current_folder(demo: Demo) -> None:
    # The autouse fixture runs each test in tmp_path, where the demo store is runs/.
    assert "baseline" in _cli("ls").stdout


def test_ls_filters_experiments_and_limits_runs(demo: Demo) -> None:
    result = _cli("ls", str(demo.root), "--experiment", "iris", "--limit", "1")
    assert result.exit_code == 0
    assert "housing" not in result.stdout
    assert "2 runs, newest 1 shown" in result.stdout
    assert "deeper" in result.stdout and "baseline" not in result.stdout
    both = _cli("ls", str(demo.root), "-e", "iris", "-e", "housing", "-n", "5").stdout
    assert "ridge" in both and "baseline" in both


def test_ls_unknown_experiment_is_an_error(demo: Demo) -> None:
    result = _cli("ls", str(demo.root), "--experiment", "nope")
    assert result.exit_code == 1
    assert result.stderr == f"Error: no experiment named 'nope' in {demo.root}\n"


def test_ls_reports_malformed_runs_and_lists_the_rest(demo: Demo) -> None:
    broken = _break_run(demo.root / "iris")
    result = _cli("ls", str(demo.root))
    assert result.exit_code == 0
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: {broken}: run.yaml: invalid YAML")
    assert "baseline" in result.stdout and "deeper" in result.stdout and "ridge" in result.stdout
    assert "2 runs" in _lines_with(result.stdout, "folder iris/")[0]

    strict = _cli("ls", str(demo.root), "--strict")
    assert strict.exit_code == 1
    assert "baseline" in strict.stdout
    assert str(broken) in strict.stderr


def test_ls_strict_passes_on_a_clean_store(demo: Demo) -> None:
    assert _cli("ls", str(demo.root), "--strict").exit_code == 0


def test_ls_shows_a_dead_running_run_as_crashed(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    code = (
        "import os, runfolio\n"
        f"run = runfolio.Store({str(root)!r}).start_run('exp', run_name='doomed')\n"
        "run.log_metric('loss', 1.5)\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=tmp_path)
    line = _lines_with(_cli("ls", str(root)).stdout, "doomed")[0].split()
    assert line[2] == "CRASHED"
    assert line[5] == "—"  # no duration without an end time
    shown = _cli("--store", str(root), "show", line[0]).stdout
    assert "CRASHED  (run.yaml says RUNNING, but its process is gone)" in shown


def test_ls_missing_store_is_a_clean_error(tmp_path: Path) -> None:
    result = _cli("ls", str(tmp_path / "nothing"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: run store {tmp_path / 'nothing'} does not exist\n"


def test_bad_runfolio_yaml_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "runfolio.yaml").write_text("store: [unclosed\n", encoding="utf-8")
    result = _cli("ls")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'runfolio.yaml'}: invalid YAML")
    assert "Traceback" not in result.output


def test_ls_empty_store(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _cli("ls", str(tmp_path / "empty"))
    assert result.exit_code == 0
    assert result.stdout == "No experiments in this store.\n"


# --------------------------------------------------------------------------- show


def test_show_text_has_every_section(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "show", demo.baseline)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"Run {demo.baseline}  baseline\n")
    for title in ("Child runs", "Source", "Git", "Environment", "Description", "Tags"):
        assert f"\n{title}\n" in out
    for title in ("Params", "Metrics", "Artifacts", "Models"):
        assert f"\n{title}\n" in out
    assert "\nProblems\n" not in out
    assert _field(out, "experiment") == ["iris", "(folder", "iris/)"]
    assert _field(out, "status") == ["FINISHED"]
    assert _field(out, "start")[-1] == "UTC"
    assert _field(out, "duration") != ["—"]
    assert _field(out, "user") != []
    assert _field(out, "parent") == ["—"]
    assert f"  {demo.deeper}  deeper  FINISHED" in out
    assert "no git repository" in out
    assert "  team  vision" in out
    assert "  With **markdown**." in out
    assert _field(out, "optimizer.lr") == ["0.1"]
    assert _field(out, "loss") == ["0.25", "2", "0.25", "0.9", "3"]
    assert _field(out, "notes/readme.txt") == ["6", "B"]
    assert _field(out, "model/model.pkl")[-2:] == ["model", "model/"]
    assert _field(out, "model/") == ["pickle", "builtins.dict"]
    assert str(demo.root / "iris" / demo.baseline) in out


def test_show_child_names_its_parent(demo: Demo) -> None:
    out = _cli("--store", str(demo.root), "show", demo.deeper).stdout
    assert _field(out, "parent") == [demo.baseline, "baseline", "FINISHED"]
    assert "\nChild runs\n" not in out


def test_show_json_is_machine_readable(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "show", demo.deeper, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["id"] == demo.deeper
    assert data["parent"] == {"id": demo.baseline, "name": "baseline", "status": "FINISHED"}
    assert data["params"] == {"C": 10.0, "layers": [4, 8], "model": "logreg", "optimizer.lr": 0.1}
    assert data["metrics"]["odd"]["last"] == "nan"
    assert data["metrics"]["odd"]["min"] is None
    assert data["metrics"]["accuracy"]["last"] == 0.95
    assert data["tags"] == {"team": "nlp"}
    assert data["problems"] == []
    packages = Path(data["environment"]["packages"])
    assert packages.is_file() and packages.parent.name == "captured"

    baseline = json.loads(
        _cli("--store", str(demo.root), "show", demo.baseline, "--format", "json").stdout
    )
    assert baseline["children"] == [{"id": demo.deeper, "name": "deeper", "status": "FINISHED"}]
    models = {a["path"]: a["model"] for a in baseline["artifacts"]}
    assert models == {
        "model/model.pkl": "model",
        "model/model.yaml": "model",
        "notes/readme.txt": None,
    }
    assert baseline["models"] == [{"path": "model", "flavor": "pickle", "class": "builtins.dict"}]


def test_show_yaml_parses(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "show", demo.deeper, "--format", "yaml")
    data = yaml.safe_load(result.stdout)
    assert data["id"] == demo.deeper
    assert math.isnan(data["metrics"]["odd"]["last"])


def test_show_reports_metric_rows_it_could_not_read(demo: Demo) -> None:
    metrics = demo.root / "iris" / demo.baseline / "metrics.csv"
    with metrics.open("a", encoding="utf-8") as handle:
        handle.write("loss,notanumber,1.0,1\n")
    run_yaml = demo.root / "iris" / demo.baseline / "run.yaml"
    data = yaml.safe_load(run_yaml.read_text())
    data["metrics"] = None  # make the reader summarise metrics.csv again
    run_yaml.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = _cli("--store", str(demo.root), "show", demo.baseline).stdout
    assert "\nProblems\n" in out
    assert "malformed row skipped" in out


def test_show_ambiguous_prefix_is_a_one_line_error(demo: Demo) -> None:
    # Every run id starts with the year.
    result = _cli("--store", str(demo.root), "show", demo.baseline[:4])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {demo.baseline[:4]!r} matches 3 runs")
    assert "give more characters" in lines[0]


def test_show_unknown_run_is_an_error(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "show", "0000000000")
    assert result.exit_code == 1
    assert result.stderr == f"Error: no run in {demo.root} has an id starting with '0000000000'\n"


def test_show_malformed_run_is_a_clean_error(demo: Demo) -> None:
    broken = _break_run(demo.root / "iris")
    result = _cli("--store", str(demo.root), "show", broken.name)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {broken / 'run.yaml'}: invalid YAML")


def test_show_git_state_and_captured_patch(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(git_repo)
    # As if `python train.py` ran in the repository: git state follows the entry script.
    monkeypatch.setattr(sys, "argv", [str(git_repo / "train.py")])
    (git_repo / "train.py").write_text("print('changed')\n", encoding="utf-8")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=git_repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    store = Store(git_repo / "runs")
    run = store.start_run("exp", run_name="patched")
    run.end()

    out = _cli("show", run.run_id).stdout  # the default store: runs/ at the repository root
    assert _field(out, "commit") == [commit]
    assert _field(out, "branch") == ["main"]
    assert _field(out, "dirty") == ["yes"]
    patch = Path(_field(out, "patch")[0])
    assert patch == store.root / "exp" / run.run_id / "captured" / "git.patch"
    assert "print('changed')" in patch.read_text(encoding="utf-8")

    data = json.loads(_cli("show", run.run_id, "--format", "json").stdout)
    assert data["git"]["commit"] == commit
    assert data["git"]["dirty"] is True
    assert data["git"]["patch"] == str(patch)


# --------------------------------------------------------------------------- search


def test_search_table_shows_matching_runs_with_metric_and_param_columns(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "search", "metrics.accuracy > 0.5")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header[:6] == ["ID", "NAME", "EXPERIMENT", "STATUS", "START", "(UTC)"]
    assert header[6:] == [
        "metrics.accuracy",
        "metrics.loss",
        "metrics.odd",
        "params.C",
        "params.layers",
        "params.model",
        "params.optimizer.lr",
    ]
    assert [line.split()[1] for line in lines[1:]] == ["deeper", "baseline"]
    assert "ridge" not in result.stdout
    deeper = lines[1]
    assert "0.95" in deeper and "nan" in deeper and "[4, 8]" in deeper
    assert "tags.team" not in lines[0]


def test_search_order_by_max_results_and_experiment(demo: Demo) -> None:
    base = ["--store", str(demo.root), "search", ""]
    ascending = _cli(*base, "--order-by", "metrics.accuracy ASC").stdout.splitlines()
    # ridge has no accuracy, so it sorts last either way.
    assert [line.split()[1] for line in ascending[1:]] == ["baseline", "deeper", "ridge"]
    descending = _cli(*base, "--order-by", "metrics.accuracy DESC", "--max-results", "1").stdout
    assert [line.split()[1] for line in descending.splitlines()[1:]] == ["deeper"]
    housing = _cli(*base, "--experiment", "housing").stdout
    assert [line.split()[1] for line in housing.splitlines()[1:]] == ["ridge"]


def test_search_columns_picks_metrics_params_and_tags(demo: Demo) -> None:
    result = _cli(
        "--store", str(demo.root), "search", "", "-e", "iris", "--columns", "accuracy, C,tags.team"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[6:] == ["metrics.accuracy", "params.C", "tags.team"]
    assert lines[1].split()[-3:] == ["0.95", "10.0", "nlp"]
    assert lines[2].split()[-3:] == ["0.9", "1.0", "vision"]


def test_search_unknown_bare_column_is_a_usage_error(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "search", "", "--columns", "nope")
    assert result.exit_code == 2
    assert "no metric, param or tag named 'nope'" in result.stderr


def test_search_csv_has_search_runs_columns(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "search", "params.model = 'logreg'", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["run_name"] for row in rows] == ["deeper", "baseline"]
    assert rows[0]["run_id"] == demo.deeper
    assert rows[0]["metrics.accuracy"] == "0.95"
    assert rows[1]["params.optimizer.lr"] == "0.1"
    assert rows[1]["tags.team"] == "vision"

    picked = _cli(
        "--store", str(demo.root), "search", "", "--format", "csv", "--columns", "rmse"
    ).stdout
    header = picked.splitlines()[0].split(",")
    assert header[-1] == "metrics.rmse"
    assert "params.C" not in header


def test_search_json_parses(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "search", "", "--format", "json")
    items = json.loads(result.stdout)
    assert [item["run_name"] for item in items] == ["ridge", "deeper", "baseline"]
    deeper = items[1]
    assert deeper["run_id"] == demo.deeper
    assert deeper["metrics"] == {"accuracy": 0.95, "odd": "nan"}
    assert deeper["params"]["layers"] == [4, 8]
    assert deeper["tags"] == {"team": "nlp"}
    assert deeper["parent_run_id"] == demo.baseline


def test_search_invalid_filter_exits_2_with_a_caret(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "search", "metrics.accuracy >> 1")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: Invalid filter at position 18")
    assert lines[1] == "  metrics.accuracy >> 1"
    assert lines[2] == "  " + " " * 18 + "^"
    assert "Traceback" not in result.stderr


def test_search_invalid_order_by_exits_2(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "search", "", "--order-by", "metrics.x SIDEWAYS")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Invalid order_by clause")
    assert "^" in result.stderr


def test_search_without_matches(demo: Demo) -> None:
    base = ["--store", str(demo.root), "search", "metrics.accuracy > 2"]
    assert _cli(*base).stdout == "No runs match.\n"
    assert json.loads(_cli(*base, "--format", "json").stdout) == []


def test_search_skips_malformed_runs(demo: Demo) -> None:
    _break_run(demo.root / "iris")
    result = _cli("--store", str(demo.root), "search", "", "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 3


# --------------------------------------------------------------------------- diff


def test_diff_marks_differences_and_hides_equal_rows(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "diff", demo.baseline, demo.deeper[-10:-2])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0].split() == ["A", demo.baseline, "baseline", "iris", "FINISHED"]
    assert out.splitlines()[1].split() == ["B", demo.deeper, "deeper", "iris", "FINISHED"]
    assert "primary metric: accuracy (maximize)" in out
    assert _lines_with(out, "SECTION")[0].split() == ["SECTION", "KEY", "A", "B", "BETTER"]
    assert _lines_with(out, "  C  ")[0].split() == ["≠", "params", "C", "1.0", "10.0"]
    assert _lines_with(out, "layers")[0].split() == ["≠", "params", "layers", "—", "[4,", "8]"]
    assert _lines_with(out, "accuracy  ")[0].split() == [
        "≠",
        "metrics",
        "accuracy",
        "0.9",
        "0.95",
        "B",
    ]
    assert _lines_with(out, "odd")[0].split() == ["≠", "metrics", "odd", "—", "nan"]
    assert _lines_with(out, "team")[0].split() == ["≠", "tags", "team", "vision", "nlp"]
    assert not _lines_with(out, "optimizer.lr")
    assert not _lines_with(out, "logreg")
    assert "2 equal rows hidden (--all shows them)." in out


def test_diff_all_shows_equal_rows_unmarked(demo: Demo) -> None:
    out = _cli("--store", str(demo.root), "diff", demo.baseline, demo.deeper, "--all").stdout
    assert _lines_with(out, "optimizer.lr")[0].split() == ["params", "optimizer.lr", "0.1", "0.1"]
    assert _lines_with(out, "logreg")[0].split() == ["params", "model", "logreg", "logreg"]
    assert "hidden" not in out


def test_diff_across_experiments_has_no_better_column(demo: Demo) -> None:
    out = _cli("--store", str(demo.root), "diff", demo.baseline, demo.ridge).stdout
    assert "BETTER" not in out and "primary metric" not in out
    assert _lines_with(out, "rmse")[0].split() == ["≠", "metrics", "rmse", "—", "0.5"]


def test_diff_of_a_run_with_itself(demo: Demo) -> None:
    out = _cli("--store", str(demo.root), "diff", demo.ridge, demo.ridge).stdout
    assert out.endswith("\nNo differences in git, params, metrics or tags.\n")


def test_diff_compares_git_commits(git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(git_repo)
    store = Store(git_repo / "runs")
    first = store.start_run("exp")
    first.end()
    second = store.start_run("exp")
    second.end()
    data = yaml.safe_load((store.root / "exp" / second.run_id / "run.yaml").read_text())
    data["git"]["commit"] = "0" * 40  # as if run from another commit
    (store.root / "exp" / second.run_id / "run.yaml").write_text(yaml.safe_dump(data))

    out = _cli("diff", first.run_id, second.run_id).stdout
    commit = _lines_with(out, "commit")[0].split()
    assert commit[:3] == ["≠", "git", "commit"] and commit[-1] == "0" * 40
    assert not _lines_with(out, "branch")  # equal, so hidden
    assert (
        "main"
        in _lines_with(_cli("diff", first.run_id, second.run_id, "--all").stdout, "branch")[0]
    )


def test_diff_unknown_run_is_an_error(demo: Demo) -> None:
    result = _cli("--store", str(demo.root), "diff", demo.baseline, "abcdefabcd")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no run in ")


# --------------------------------------------------------------------------- table helpers


def test_short_ids_are_unique_prefixes_of_the_random_part() -> None:
    ids = [
        "20261127-045604-3f9a2c1b7d",
        "20261127-045605-3f9a2c1ff0",
        "20261127-045606-0123456789",
        # An all-digit random part whose prefix is also the start of another id's date.
        "20261127-045607-2026112799",
        "imported-run",
    ]
    short = short_ids(ids)
    assert short["20261127-045604-3f9a2c1b7d"] == "3f9a2c1b"
    assert short["20261127-045605-3f9a2c1ff0"] == "3f9a2c1f"
    assert short["20261127-045606-0123456789"] == "0123456"
    assert short["20261127-045607-2026112799"] == "202611279"
    assert short["imported-run"] == "imported-run"


def test_render_table_aligns_wide_characters_and_numbers() -> None:
    text = render_table(["NAME", "N"], [["学习", "1"], ["ab", "100"]], align="lr", indent=2)
    assert text == "  NAME    N\n  学习    1\n  ab    100\n"
    assert display_width("学习") == 4
    assert render_table(None, [["a", "b"]], max_width=3) == "a  b\n"
    assert render_table(["X"], [["abcdef"]], max_width=4) == "X\nabc…\n"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0.25, "250ms"),
        (12.34, "12.3s"),
        (245, "4m 05s"),
        (7620, "2h 07m"),
        (3 * 86400 + 4 * 3600, "3d 04h"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_size() -> None:
    assert [format_size(n) for n in (5, 1536, 3 * 1024**2, 5 * 1024**3)] == [
        "5 B",
        "1.5 KB",
        "3.0 MB",
        "5.0 GB",
    ]
