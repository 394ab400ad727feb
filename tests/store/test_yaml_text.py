"""Text YAML reads as line breaks, and keys longer than YAML's implicit-key limit.

U+2028, U+2029 and U+0085 are line breaks to YAML 1.1: written raw inside a block of
text they end the block (the run or experiment becomes unreadable) or are chomped away
(a trailing one is silently lost). Keys whose written form is over 1,024 characters
are refused by YAML as implicit keys. Everything here goes through the public API and
reads the files back with PyYAML (pure Python and libyaml) and runfolio's readers; files
written by older versions are reported and rewritten by ``runfolio repair``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from strict_values import same

import runfolio
from runfolio.cli import main
from runfolio.errors import MalformedRunError
from runfolio.store.reader import read_yaml_file
from runfolio.store.scan import scan_store
from runfolio.store.serialize import dump_yaml, load_yaml

LOADERS = [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)]
SEPARATORS = ["\u2028", "\u2029", "\x85"]


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store for the fluent API, from a folder outside any git repository."""
    monkeypatch.chdir(tmp_path)
    runfolio.set_store(tmp_path / "runs")
    return tmp_path / "runs"


def read_back(path: Path) -> Any:
    """Load a file with both of PyYAML's safe loaders; they must agree."""
    text = path.read_text(encoding="utf-8")
    pure, fast = (yaml.load(text, Loader=loader) for loader in LOADERS)
    assert same(pure, fast), text
    return pure


def cli(*args: str) -> Result:
    """Invoke the command group in-process."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- line separators in text -------------------------------------------------------------


@pytest.mark.parametrize("sep", SEPARATORS)
def test_descriptions_with_a_separator_keep_runs_visible(sep: str, store: Path) -> None:
    experiment_text = f"about\nthe{sep}experiment"
    run_text = f"line one\nline{sep}two\nthree{sep}"
    runfolio.set_experiment("e", description=experiment_text)
    with runfolio.start_run(description=run_text) as first:
        pass
    with runfolio.start_run() as second:  # the experiment still reads back
        pass
    found = runfolio.search_runs(["e"], output_format="list")
    assert sorted(r.run_id for r in found) == sorted([first.run_id, second.run_id])
    assert runfolio.get_run(first.run_id).description == run_text
    assert read_back(first.path / "run.yaml")["description"] == run_text
    assert read_back(first.path.parent / "experiment.yaml")["description"] == experiment_text
    scan = scan_store(store)
    assert scan.problems == []
    assert [e.description for e in scan.experiments] == [experiment_text]


@pytest.mark.parametrize("sep", SEPARATORS)
@pytest.mark.parametrize("before", ["a\nb", "a\n", "a\r\nb", "a\n\n"])
def test_a_trailing_separator_is_kept_in_every_field(sep: str, before: str) -> None:
    text = before + sep
    runfolio.set_experiment("e")
    with runfolio.start_run(run_name=text) as run:
        runfolio.log_param("p", text)
        runfolio.log_param("nested", {"k": [text]})
        runfolio.set_tag("t", text)
        runfolio.log_dict({"k": text, text: 1}, "x.yaml")
    record = runfolio.get_run(run.run_id)
    assert (record.name, record.params["p"], record.tags["t"]) == (text, text, text)
    assert record.params["nested"] == {"k": [text]}
    stored = read_back(run.path / "run.yaml")
    assert (stored["name"], stored["tags"]["t"]) == (text, text)
    assert read_back(run.path / "params.yaml") == {"nested": {"k": [text]}, "p": text}
    assert read_back(run.path / "artifacts" / "x.yaml") == {"k": text, text: 1}
    # Logging the same value again is a repeat, not a conflict.
    with runfolio.start_run(run_id=run.run_id):
        runfolio.log_params({"p": text, "nested": {"k": [text]}})


# -- files written by older versions --------------------------------------------------------


def _legacy_store(root: Path) -> tuple[Path, Path]:
    """A store as runfolio 0.1 wrote it: raw separators inside blocks of text.

    Returns the experiment folder and the run folder. The files are made by writing
    text without separators, then putting the separators where the old writer did.
    """
    runfolio.set_experiment("old", description="about\nthe experiment")
    with runfolio.start_run(description="line one\nline two") as run:
        runfolio.log_param("p", "a\nb")
    exp_dir = run.path.parent
    for path, old, new in (
        (exp_dir / "experiment.yaml", "  the experiment\n", "  the\u2029experiment\n"),
        (run.path / "run.yaml", "  line two\n", "  line\u2028two\n"),
        (run.path / "params.yaml", "  b\n", "  b\u2028\n"),
    ):
        text = path.read_text(encoding="utf-8")
        assert old in text, text
        path.write_text(text.replace(old, new), encoding="utf-8")
    return exp_dir, run.path


def test_files_an_older_version_wrote_are_reported_and_repaired(store: Path) -> None:
    exp_dir, run_dir = _legacy_store(store)
    files = [exp_dir / "experiment.yaml", run_dir / "run.yaml", run_dir / "params.yaml"]
    before = [f.read_bytes() for f in files]

    # Readers name the file and the command that rewrites it (no silent vanish or loss).
    problems = scan_store(store).problems
    assert [p.path for p in problems] == [exp_dir / "experiment.yaml"]
    assert "U+2029" in problems[0].reason and "runfolio repair" in problems[0].reason
    with pytest.raises(MalformedRunError, match=r"experiment\.yaml.*runfolio repair"):
        runfolio.start_run(experiment_name="old")
    for path, text, char in zip(files, before, ["\u2029", "\u2028", "\u2028"], strict=True):
        line = text.decode()[: text.decode().index(char)].count("\n") + 1
        with pytest.raises(MalformedRunError) as error:
            read_yaml_file(path)  # the one reader of every store YAML file
        message = str(error.value)
        assert message.startswith(f"{path}: "), message
        assert f"U+{ord(char):04X}" in message and f"on line {line}," in message, message
        assert message.endswith("run `runfolio repair` to rewrite it"), message
    # With a readable experiment, the run is reported (the trailing separator in
    # params.yaml included, which YAML alone would silently drop).
    (exp_dir / "experiment.yaml").write_bytes(before[0].replace("\u2029".encode(), b" "))
    (run_dir / "run.yaml").write_bytes(before[1].replace("\u2028".encode(), b" "))
    [problem] = scan_store(store).problems
    assert problem.path == run_dir
    assert problem.reason.startswith("params.yaml: ") and "runfolio repair" in problem.reason
    for path, text in zip(files, before, strict=True):
        path.write_bytes(text)

    dry = cli("repair", "--dry-run", str(store))
    assert dry.exit_code == 0, dry.output
    assert sorted(dry.stdout.splitlines()) == sorted(f"would rewrite {f}" for f in files)
    assert [f.read_bytes() for f in files] == before

    done = cli("repair", str(store))
    assert done.exit_code == 0, done.output
    assert sorted(done.stdout.splitlines()) == sorted(f"rewrote {f}" for f in files)
    assert scan_store(store).problems == []
    record = runfolio.get_run(run_dir.name)
    assert (record.description, record.params) == ("line one\nline\u2028two", {"p": "a\nb\u2028"})
    assert read_back(exp_dir / "experiment.yaml")["description"] == "about\nthe\u2029experiment"
    assert read_back(run_dir / "params.yaml") == {"p": "a\nb\u2028"}
    with runfolio.start_run(experiment_name="old", run_id=run_dir.name):
        runfolio.log_param("p", "a\nb\u2028")  # the value as logged: no conflict

    again = cli("repair", str(store))
    assert (again.exit_code, again.stdout) == (0, "nothing to repair\n")


def test_repair_leaves_what_it_cannot_read_and_says_so(store: Path) -> None:
    _, run_dir = _legacy_store(store)
    broken = run_dir / "artifacts" / "notes.yaml"
    broken.parent.mkdir()
    broken.write_text("a: [\u2028\n", encoding="utf-8")
    result = cli("repair", str(store))
    assert result.exit_code == 1
    assert f"error: {broken}: " in result.stderr
    assert broken.read_text(encoding="utf-8") == "a: [\u2028\n"
    assert f"rewrote {run_dir / 'params.yaml'}" in result.stdout.splitlines()


def test_a_long_key_an_older_version_wrote_is_reported_and_repaired(store: Path) -> None:
    runfolio.set_experiment("e")
    with runfolio.start_run() as run:
        runfolio.log_param("short", 1)
    key = "\ufeff" * 171
    path = run.path / "params.yaml"
    escaped = "\\uFEFF" * 171
    path.write_text(f'"{escaped}": 1\nshort: 1\n', encoding="utf-8")  # as 0.1 wrote it
    with pytest.raises(MalformedRunError, match=r"params\.yaml.*1,024.*runfolio repair"):
        runfolio.get_run(run.run_id)
    assert cli("repair", str(store)).stdout == f"rewrote {path}\n"
    assert runfolio.get_run(run.run_id).params == {key: 1, "short": 1}


# -- long keys --------------------------------------------------------------------------------


def test_keys_longer_than_yamls_implicit_key_limit_read_back() -> None:
    bom_key = "\ufeff" * 171  # 250 characters is the API's limit; escaped, 1,028
    sep_key = "k" + "\u2028" * 249
    long_key = "k" * 5000  # log_dict and model descriptors have no key limit
    runfolio.set_experiment("e")
    with runfolio.start_run() as run:
        runfolio.log_param(bom_key, 1)
        runfolio.log_param(sep_key, {bom_key: [1, {bom_key: 2}]})
        runfolio.set_tag(bom_key, "v")
        runfolio.log_metric(bom_key, 0.5)
        runfolio.log_dict({long_key: {long_key: [1]}, "list": [{long_key: 1, "a": 2}]}, "d.yaml")
        runfolio.log_model({"w": 1}, "model", input_example={long_key: "x"})
    params = {bom_key: 1, sep_key: {bom_key: [1, {bom_key: 2}]}}
    assert read_back(run.path / "params.yaml") == params
    stored = read_back(run.path / "run.yaml")
    assert stored["tags"] == {bom_key: "v"}
    assert stored["metrics"][bom_key]["last"] == 0.5
    record = runfolio.get_run(run.run_id)
    assert (record.params, record.tags) == (params, {bom_key: "v"})
    assert record.metrics[bom_key]["last"] == 0.5
    assert read_back(run.path / "artifacts" / "d.yaml") == {
        long_key: {long_key: [1]},
        "list": [{long_key: 1, "a": 2}],
    }
    descriptor = read_back(run.path / "artifacts" / "model" / "model.yaml")
    assert descriptor["input_example"] == {long_key: "x"}
    assert runfolio.load_model(f"runs:/{run.run_id}/model") == {"w": 1}


# -- the writer's fallback and hostile text -------------------------------------------------


def test_the_pyyaml_fallback_never_writes_a_raw_line_break_either() -> None:
    data = {"k": "a\nb\u2028", "l": ["x\ny\u2029z", "é"], "when": dt.date(2026, 1, 2)}
    text = dump_yaml(data)  # a date is outside the fast writer's data model
    assert not any(ch in text for ch in "\x85\u2028\u2029"), text
    assert load_yaml(text) == data
    for loader in LOADERS:
        assert yaml.load(text, Loader=loader) == data


def test_raw_breaks_yaml_reads_as_written_are_no_problem() -> None:
    assert load_yaml("# a note\u2028\nx: 1\n") == {"x": 1}
    assert load_yaml("# only a comment\u2029\n") is None


def test_a_file_holding_every_stand_in_character_is_judged_by_yaml_alone() -> None:
    private = [*range(0xE000, 0xF900), *range(0xF0000, 0xFFFFE)]
    text = 'x: "' + "".join(map(chr, private)) + '"\ny: |-\n  a\n  b\u2028\n'
    assert load_yaml(text)["y"] == "a\nb"  # YAML's reading: no stand-in left to compare


def test_the_site_shows_such_runs_and_reports_older_files(store: Path, tmp_path: Path) -> None:
    from runfolio.site.build import build_site

    runfolio.set_experiment("e", description="about\u2029it")
    with runfolio.start_run(description="one\ntwo\u2028three") as run:
        pass
    report = build_site(store, tmp_path / "site")
    assert (report.runs, report.problems) == (1, [])
    [page] = [p for p in (tmp_path / "site").rglob("*.html") if run.run_id in p.name]
    assert "three" in page.read_text(encoding="utf-8")

    _legacy_store(store)
    report = build_site(store, tmp_path / "site")
    assert report.problems and all("runfolio repair" in p for p in report.problems)
    cli("repair", str(store))
    report = build_site(store, tmp_path / "site")
    assert (report.runs, report.problems) == (2, [])


def test_repair_prints_store_names_through_the_terminal_neutraliser(store: Path) -> None:
    """A hostile experiment folder name cannot drive the terminal through `repair`."""
    exp_dir, _ = _legacy_store(store)
    hostile = exp_dir.with_name("old\x1b]0;owned\x07\x1b[2K")
    exp_dir.rename(hostile)
    result = cli("repair", "--dry-run", str(store))
    assert result.exit_code == 0, result.output
    assert "would rewrite" in result.output
    for raw in ("\x1b", "\x07"):
        assert raw not in result.output, result.output
    assert "old\\x1b]0;owned\\x07\\x1b[2K" in result.output
