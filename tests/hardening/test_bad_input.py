"""Bad input (issue 7): broken or hostile store files and API values, tried one by one.

Each case of :mod:`bad_input_corpus` is a store file damaged one way. One store holds a
good run and every damaged run or experiment; it is scanned, listed, searched and built
once, and each case then checks its own part of the results (a named test id per case):

- nothing crashes, the good run is read and its page built;
- the damage is reported as a problem that names the file (and the key at fault), the
  run is left out or kept as the case says, and ``--strict`` makes it fatal;
- no reader rewrites anything, and logging more into a run with a damaged metrics.csv
  keeps every old row;
- no YAML tag runs code, and aliases or nesting cannot exhaust memory or the stack.

The second half holds valid but extreme values passed to the API: each round-trips
exactly or is refused up front with an InvalidInputError naming the key.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
import unicodedata
from contextlib import chdir
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from bad_input_corpus import (
    CANARY,
    CASES,
    EXPERIMENT,
    GOOD_ID,
    PROBLEM_CASES,
    SECRET,
    VALID_CASES,
    Case,
    case_run_id,
    laughs,
    snapshot,
    write_store,
)
from click.testing import CliRunner, Result

from runfolio import InvalidInputError, Store
from runfolio.cli import main
from runfolio.errors import MalformedRunError, StoreError
from runfolio.site.build import BuildReport, build_site
from runfolio.site.writer import MANIFEST
from runfolio.store.metrics import MetricRow, read_metrics
from runfolio.store.reader import Problem, StoreScan, read_yaml_bytes
from runfolio.store.scan import scan_store
from runfolio.store.serialize import MAX_ALIAS_EXPANSION, MAX_NESTING


@dataclass
class World:
    """The corpus store and everything read or built from it, once per module."""

    root: Path
    store: Path
    damaged: dict[str, Path]
    before: dict[str, str]
    after: dict[str, str]
    scan: StoreScan
    warm_scan: StoreScan
    ls: Result
    ls_strict: Result
    search_ids: set[str]
    report: BuildReport
    site: Path
    strict_build: Result

    def problems_of(self, case: Case, scan: StoreScan | None = None) -> list[Problem]:
        """The scan problems about a case's file, its run or its experiment folder."""
        target = self.damaged[case.name]
        folders = {target, target.parent}
        return [p for p in (scan or self.scan).problems if p.path in folders]

    def run_ids(self) -> set[str]:
        """Ids of the runs the scan read."""
        return {run.run_id for run in self.scan.runs}


def _store_files(snap: dict[str, str]) -> dict[str, str]:
    """The part of a snapshot that is the store and the file beside it (not the sites)."""
    return {k: v for k, v in snap.items() if not k.startswith(("site", "strict-site"))}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, isolated_env: None) -> World:
    """Write the corpus store, then scan, list, search and build it (in its own folder,
    where a YAML tag that ran ``touch`` would leave the canary)."""
    root = tmp_path_factory.mktemp("bad-input")
    store = root / "runs"
    with chdir(root):
        damaged = write_store(store, CASES)
        before = _store_files(snapshot(root))
        scan = scan_store(store)
        warm_scan = scan_store(store)  # through the record cache the first scan filled
        runner = CliRunner()
        ls = runner.invoke(main, ["ls", str(store)])
        ls_strict = runner.invoke(main, ["ls", str(store), "--strict"])
        frame = Store(store).search_runs()
        report = build_site(store, root / "site", config_root=root)
        strict_build = runner.invoke(
            main, ["build", str(store), "-o", str(root / "strict-site"), "--strict", "-q"]
        )
        after = _store_files(snapshot(root))
    return World(
        root=root,
        store=store,
        damaged=damaged,
        before=before,
        after=after,
        scan=scan,
        warm_scan=warm_scan,
        ls=ls,
        ls_strict=ls_strict,
        search_ids=set(frame["run_id"]),
        report=report,
        site=root / "site",
        strict_build=strict_build,
    )


def names_file(problem: Problem, damaged: Path) -> bool:
    """Whether a problem points at the damaged file, not just at its folder.

    A problem is about a folder (the run left out) and its reason starts with the file
    inside it (``run.yaml: 'status' is ...``); a missing file is named in the reason.
    """
    if problem.path == damaged:
        return True
    head = problem.reason.split(": ", 1)[0]
    if problem.path / head == damaged:
        return True
    return problem.path == damaged.parent and damaged.name in problem.reason


def run_page(world: World, case: Case) -> Path:
    """The page the site would have for the case's run."""
    return world.site / "experiments" / EXPERIMENT / "runs" / f"{case_run_id(case.name)}.html"


def case_id(case: Case) -> str:
    return case.name


# ---------------------------------------------------------------------- the whole store


def test_every_reader_finishes_and_reads_the_good_run(world: World) -> None:
    assert GOOD_ID in world.run_ids()
    assert GOOD_ID in world.search_ids
    assert world.ls.exit_code == 0, world.ls.output
    assert "Traceback" not in world.ls.output
    assert "good-run" in world.ls.stdout
    assert (world.site / "experiments" / EXPERIMENT / "runs" / f"{GOOD_ID}.html").is_file()
    assert (world.site / "index.html").is_file()


def test_cold_and_warm_scans_agree(world: World) -> None:
    assert [r.run_id for r in world.warm_scan.runs] == [r.run_id for r in world.scan.runs]
    assert world.warm_scan.problems == world.scan.problems


def test_strict_commands_fail_and_write_nothing(world: World) -> None:
    assert world.ls_strict.exit_code == 1
    assert world.strict_build.exit_code == 1, world.strict_build.output
    assert world.strict_build.stderr.startswith("Error: --strict: ")
    assert "Traceback" not in world.strict_build.output
    assert not (world.root / "strict-site").exists()


def test_no_reader_rewrites_anything(world: World) -> None:
    assert world.after == world.before


def test_no_yaml_tag_ran_code(world: World) -> None:
    assert not (world.root / CANARY).exists()
    assert not list(world.root.rglob(CANARY))


def test_nothing_outside_the_store_is_read_through_a_symlink(world: World) -> None:
    for run in world.scan.runs:
        assert SECRET not in repr(vars(run))
    for path in world.site.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_the_site_names_problems_by_their_place_in_the_store(world: World) -> None:
    home = (world.site / "index.html").read_text(encoding="utf-8")
    for path in world.site.rglob("*"):
        # The build's own state file (not a page) records where it built from.
        if path.is_file() and path.name != MANIFEST:
            assert str(world.root).encode() not in path.read_bytes(), path
    for problem in world.scan.problems:
        assert problem.path.relative_to(world.store).as_posix() in home


def test_search_lists_exactly_the_readable_runs(world: World) -> None:
    assert world.search_ids == world.run_ids()
    kept = {case_run_id(c.name) for c in CASES if c.level == "run" and (c.kept or c.expect is None)}
    kept |= {case_run_id(c.name) for c in CASES if c.level == "experiment" and c.kept}
    assert world.run_ids() == kept | {GOOD_ID}


# ---------------------------------------------------------------------- one case at a time


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=case_id)
def test_the_damage_is_reported_naming_the_file(world: World, case: Case) -> None:
    damaged = world.damaged[case.name]
    run_id = case_run_id(case.name)
    problems = world.problems_of(case)
    if not case.scan_sees:
        assert problems == []
        # Found when the run's page is built: named by its path inside the store.
        named = damaged.relative_to(world.store).as_posix()
        problems_text = [p for p in world.report.problems if named in p]
        assert problems_text and all(case.expect in p for p in problems_text)
        assert run_page(world, case).is_file()
        return
    assert problems, f"no problem reported for {damaged}"
    assert all(names_file(p, damaged) for p in problems), problems
    reasons = " | ".join(p.reason for p in problems)
    assert case.expect in reasons
    if case.key is not None:
        assert f"'{case.key}'" in reasons
    assert (run_id in world.run_ids()) == case.kept
    assert (run_id in world.search_ids) == case.kept
    for problem in problems:
        assert str(problem) in world.report.problems
        assert f"warning: {problem}" in world.ls.stderr
    if case.level == "run":
        assert run_page(world, case).is_file() == case.kept
    else:
        experiment_pages = list((world.site / "experiments").glob(f"{case.folder_name}*"))
        assert bool(experiment_pages) == case.kept


@pytest.mark.parametrize("case", VALID_CASES, ids=case_id)
def test_valid_variants_are_read_without_a_problem(world: World, case: Case) -> None:
    assert world.problems_of(case) == []
    run_id = case_run_id(case.name)
    assert run_id in world.run_ids()
    assert run_page(world, case).is_file()
    assert not [p for p in world.report.problems if run_id in p]


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=case_id)
def test_the_damaged_file_is_left_as_it_was(world: World, case: Case) -> None:
    relative = world.damaged[case.name].relative_to(world.root).as_posix()
    assert world.after.get(relative) == world.before.get(relative)


def _strict_store(tmp_path: Path, cases: list[Case]) -> Path:
    """A small store: the good run and the given cases."""
    with chdir(tmp_path):
        write_store(tmp_path / "runs", cases)
    return tmp_path / "runs"


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=case_id)
def test_strict_makes_the_damage_fatal(tmp_path: Path, case: Case) -> None:
    store = _strict_store(tmp_path, [case])
    runner = CliRunner()
    listed = runner.invoke(main, ["ls", str(store), "--strict"])
    built = runner.invoke(main, ["build", str(store), "-o", str(tmp_path / "site"), "--strict"])
    assert built.exit_code == 1, built.output
    assert built.stderr.startswith("Error: --strict: ") and "Traceback" not in built.output
    assert case.folder_name in built.stderr
    assert not (tmp_path / "site").exists()
    if case.scan_sees:
        assert listed.exit_code == 1, listed.output
        assert "good-run" in listed.stdout


def test_valid_variants_pass_a_strict_build(tmp_path: Path) -> None:
    store = _strict_store(tmp_path, VALID_CASES)
    built = CliRunner().invoke(main, ["build", str(store), "-o", str(tmp_path / "site"), "-q"])
    assert built.exit_code == 0, built.output
    strict = CliRunner().invoke(
        main, ["build", str(store), "-o", str(tmp_path / "site"), "--strict", "-q"]
    )
    assert strict.exit_code == 0, strict.output
    assert len(list((tmp_path / "site").glob("experiments/*/runs/*.html"))) == 1 + len(VALID_CASES)


# ---------------------------------------------------------------------- YAML resources


def _load_error(text: bytes) -> str:
    """Read YAML bytes as every store file is read; the error message ("" if none)."""
    try:
        read_yaml_bytes(text, Path("params.yaml"))
    except MalformedRunError as exc:
        return str(exc)
    return ""


# Run in a child process capped at 1 GB of address space: should a protection be lost, the
# child fails with a MemoryError instead of the machine running out of memory.
_HOSTILE_YAML_CHILD = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from runfolio.errors import MalformedRunError
from runfolio.store.reader import read_yaml_bytes
read_yaml_bytes(b"warm: [1, 2]\\nup: {a: b}\\n", Path("params.yaml"))
results = {}
for name, text in json.loads(sys.stdin.read()).items():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        read_yaml_bytes(text.encode(), Path("params.yaml"))
        message = ""
    except MalformedRunError as exc:
        message = str(exc)
    except MemoryError:
        message = "MemoryError"
    seconds = time.perf_counter() - started
    extra_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    results[name] = {"message": message, "seconds": seconds, "extra_kb": extra_kb}
print(json.dumps(results))
"""

HOSTILE_YAML = {
    "billion-laughs-9^9": (laughs(levels=9, width=9), "aliases expand"),
    "laughs-10^12": (laughs(levels=12, width=10), "aliases expand"),
    "laughs-wide-400^3": (laughs(levels=3, width=400), "aliases expand"),
    "nested-999": (b"a: " + b"[" * 999 + b"]" * 999 + b"\n", "nested deeper"),
    "nested-10000": (b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", "nesting"),
    "nested-10000-block": (b"a:\n  " + b"- " * 10_000 + b"x\n", "nesting"),
    "recursive-alias": (b"a: &a [*a, *a]\n", "contains it"),
}


@pytest.fixture(scope="module")
def hostile_yaml_results() -> dict[str, dict[str, Any]]:
    """Read every HOSTILE_YAML document once, in a memory-capped child process."""
    payload = json.dumps({name: text.decode() for name, (text, _) in HOSTILE_YAML.items()})
    child = subprocess.run(
        [sys.executable, "-c", _HOSTILE_YAML_CHILD],
        input=payload,
        capture_output=True,
        text=True,
        timeout=300,  # a guard against a hang, not a measurement
        check=False,
    )
    assert child.returncode == 0, child.stderr
    results: dict[str, dict[str, Any]] = json.loads(child.stdout)
    return results


@pytest.mark.parametrize("name", HOSTILE_YAML)
def test_hostile_yaml_fails_fast_in_bounded_memory(
    hostile_yaml_results: dict[str, dict[str, Any]], name: str
) -> None:
    result = hostile_yaml_results[name]
    assert HOSTILE_YAML[name][1] in result["message"], result
    # Expanding the first three would take gigabytes; refusing them takes a few hundred KB.
    assert result["extra_kb"] < 50_000, result


def test_aliases_within_the_limit_are_read_and_expanded() -> None:
    width = math.isqrt(MAX_ALIAS_EXPANSION) // 2
    text = f"row: &r [{', '.join(['1'] * width)}]\ngrid: [{', '.join(['*r'] * width)}]\n"
    data = read_yaml_bytes(text.encode(), Path("params.yaml"))
    assert data["grid"] == [[1] * width] * width
    assert data["grid"][0] is not data["grid"][1]  # plain data: no shared, mutable lists


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_NESTING - 1  # the file's own mapping is the first level
    data = read_yaml_bytes(b"a: " + b"[" * depth + b"]" * depth + b"\n", Path("params.yaml"))
    assert nesting(data) == MAX_NESTING


def nesting(value: Any) -> int:
    """How many lists and mappings deep ``value`` goes."""
    if isinstance(value, dict):
        return 1 + max(map(nesting, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(nesting, value), default=0)
    return 0


def test_a_duplicate_key_is_refused_by_both_readers() -> None:
    # The fast reader steps aside on a repeated key; the full parser must then refuse it.
    for text in (b"a: 1\na: 2\n", b"a:\n  b: 1\n  b: 2\n", b"a: {b: 1, b: 2}\n"):
        with pytest.raises(MalformedRunError, match=r"duplicate key '(a|b)' \(line \d+"):
            read_yaml_bytes(text, Path("params.yaml"))
    # A merge key is YAML's way to override, not a duplicate.
    merged = read_yaml_bytes(b"b: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n", Path("p.yaml"))
    assert merged["c"] == {"x": 3, "y": 2}


# ---------------------------------------------------------------------- logging more


APPEND_CASES = [c for c in CASES if c.file == "metrics.csv" and "run.yaml" in c.run_files]
NEW_ROW = MetricRow("loss", 7, 0.125, 1795755829000)


def same_rows(found: list[MetricRow], expected: list[MetricRow]) -> bool:
    """Rows equal field by field, values bit for bit (NaN equals NaN, -0.0 is not 0.0)."""
    return [_row_bits(r) for r in found] == [_row_bits(r) for r in expected]


def _row_bits(row: MetricRow) -> tuple[str, int, bytes, int]:
    return row.key, row.step, bits(row.value), row.timestamp


def _complete_lines(data: bytes) -> bytes:
    """``data`` up to its last newline: what a writer keeps of a torn file."""
    return data[: data.rfind(b"\n") + 1]


@pytest.mark.parametrize("case", APPEND_CASES, ids=case_id)
def test_logging_into_a_damaged_metrics_file_keeps_every_old_row(
    tmp_path: Path, case: Case
) -> None:
    store = _strict_store(tmp_path, [case])
    run_id = case_run_id(case.name)
    path = store / EXPERIMENT / run_id / "metrics.csv"
    regular = path.is_file() and not path.is_symlink()
    old_bytes = path.read_bytes() if regular else None
    old_rows = read_metrics(path).rows
    before = snapshot(tmp_path)

    run = Store(store).start_run(EXPERIMENT, run_id=run_id)
    if path.exists() and not regular:  # a folder, or a symlink out of the store
        with pytest.raises(StoreError, match=r"metrics\.csv"):
            run.log_metric("loss", NEW_ROW.value, step=NEW_ROW.step, timestamp=NEW_ROW.timestamp)
        run.end()
        # Nothing written through the symlink or into the folder; only run.yaml changed.
        assert snapshot(tmp_path) == before | _changed_run_yaml(tmp_path, run_id)
        return
    if case.name in ("metrics-wrong-header", "metrics-no-header"):
        # Rows appended after a foreign first line could never be read: none are.
        with pytest.raises(MalformedRunError, match=r"metrics\.csv: line 1 is .* not the header"):
            run.log_metric("loss", NEW_ROW.value, step=NEW_ROW.step, timestamp=NEW_ROW.timestamp)
        run.end()
        assert path.read_bytes() == old_bytes
        assert read_metrics(path).problems  # still reported
        return
    run.log_metric("loss", NEW_ROW.value, step=NEW_ROW.step, timestamp=NEW_ROW.timestamp)
    run.end()

    data = path.read_bytes()
    if old_bytes is not None and b"\n" in old_bytes:
        assert data.startswith(_complete_lines(old_bytes))  # only a torn tail is cut
    after = read_metrics(path)
    assert same_rows(after.rows, [*old_rows, NEW_ROW])
    assert Store(store).get_run(run_id).metrics["loss"]["count"] == len(after.rows)


def _changed_run_yaml(root: Path, run_id: str) -> dict[str, str]:
    """The run.yaml entry of a snapshot after the run was resumed and ended."""
    return {k: v for k, v in snapshot(root).items() if k.endswith(f"{run_id}/run.yaml")}


RUN_YAML_DAMAGE = [
    c
    for c in PROBLEM_CASES
    if c.file == "run.yaml"
    and c.level == "run"
    and c.content is not None
    and c.category != "run.yaml field types"  # a resumed run rewrites its fields anyway
]


@pytest.mark.parametrize(
    "case",
    RUN_YAML_DAMAGE,
    ids=case_id,
)
def test_resuming_a_run_with_a_damaged_run_yaml_refuses_and_keeps_it(
    tmp_path: Path, case: Case
) -> None:
    store = _strict_store(tmp_path, [case])
    before = snapshot(tmp_path)
    with pytest.raises((MalformedRunError, InvalidInputError)) as error:
        Store(store).start_run(EXPERIMENT, run_id=case_run_id(case.name))
    assert "run.yaml" in str(error.value)
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------- extreme API values


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """An empty store, the current folder outside any git repository."""
    monkeypatch.chdir(tmp_path)
    return Store(tmp_path / "runs")


def bits(value: float) -> bytes:
    """A float's bits; every NaN alike (YAML and CSV have one NaN, without a sign)."""
    return struct.pack("<d", math.nan if math.isnan(value) else value)


# value, its metrics.csv text (Python's repr), its params.yaml text (docs/store-format.md)
EXTREME_FLOATS = {
    "nan": (math.nan, "nan", ".nan"),
    "inf": (math.inf, "inf", ".inf"),
    "-inf": (-math.inf, "-inf", "-.inf"),
    "-0.0": (-0.0, "-0.0", "-0.0"),
    "1e308": (1e308, "1e+308", "1.0e+308"),
    "max-float": (1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"),
    "5e-324": (5e-324, "5e-324", "5.0e-324"),
    "-5e-324": (-5e-324, "-5e-324", "-5.0e-324"),
    "smallest-normal": (2.2250738585072014e-308, "2.2250738585072014e-308", None),
    "0.1": (0.1, "0.1", "0.1"),
    "2**53+1-as-float": (float(2**53 + 1), "9007199254740992.0", "9007199254740992.0"),
}


@pytest.mark.parametrize("name", EXTREME_FLOATS)
def test_extreme_floats_round_trip_as_metrics(store: Store, name: str) -> None:
    value, csv_text, _ = EXTREME_FLOATS[name]
    with store.start_run("values") as run:
        run.log_metric("m", value, step=1, timestamp=5)
        run.log_metrics({"n": value}, step=2, timestamp=6)
    rows = (run.path / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1:] == [f"m,1,{csv_text},5", f"n,2,{csv_text},6"]
    [row] = store.get_metric_history(run.run_id, "m")
    assert bits(row.value) == bits(value)
    summary = store.get_run(run.run_id).metrics["n"]
    assert bits(summary["last"]) == bits(value)
    stored = yaml.safe_load((run.path / "run.yaml").read_text(encoding="utf-8"))
    assert bits(stored["metrics"]["m"]["last"]) == bits(value)


@pytest.mark.parametrize("name", EXTREME_FLOATS)
def test_extreme_floats_round_trip_as_params(store: Store, name: str) -> None:
    value, _, yaml_text = EXTREME_FLOATS[name]
    with store.start_run("values") as run:
        run.log_params({"p": value, "nested": {"list": [value, -value]}})
    text = (run.path / "params.yaml").read_text(encoding="utf-8")
    if yaml_text is not None:
        assert f"\np: {yaml_text}\n" in text
    params = store.get_run(run.run_id).params
    assert bits(params["p"]) == bits(value)
    assert [bits(v) for v in params["nested"]["list"]] == [bits(value), bits(-value)]
    assert bits(yaml.safe_load(text)["p"]) == bits(value)  # any YAML 1.1 reader agrees


STEPS = {
    "zero": 0,
    "negative": -1,
    "2**53+1": 2**53 + 1,
    "int64-max": 2**63 - 1,
    "int64-min": -(2**63),
}


@pytest.mark.parametrize("name", STEPS)
def test_extreme_steps_and_timestamps_round_trip(store: Store, name: str) -> None:
    step = STEPS[name]
    with store.start_run("values") as run:
        run.log_metric("m", 0.5, step=step, timestamp=step)
        run.log_metrics({"n": 0.25}, step=step, timestamp=step)
    rows = store.get_metric_history(run.run_id, "m") + store.get_metric_history(run.run_id, "n")
    assert [(r.step, r.timestamp) for r in rows] == [(step, step)] * 2
    assert store.get_run(run.run_id).metrics["m"]["step"] == step
    stored = yaml.safe_load((run.path / "run.yaml").read_text("utf-8"))
    assert stored["metrics"]["n"]["step"] == step


def test_out_of_order_and_repeated_steps_keep_logging_order(store: Store) -> None:
    logged = [(5, 0.5), (3, 0.3), (9, 0.9), (9, 0.95), (-2, 0.1), (9, 0.99), (1, 0.2)]
    with store.start_run("values") as run:
        for step, value in logged:
            run.log_metric("m", value, step=step, timestamp=1000)
    history = store.get_metric_history(run.run_id, "m")
    assert [(r.step, r.value) for r in history] == logged
    summary = store.get_run(run.run_id).metrics["m"]
    # MLflow's "latest": the highest step, then the latest timestamp, then the last row.
    assert (summary["step"], summary["last"], summary["count"]) == (9, 0.99, len(logged))
    assert (summary["min"], summary["max"]) == (0.1, 0.99)


OUT_OF_RANGE = {"2**63": 2**63, "-2**63-1": -(2**63) - 1, "5000-digits": 10**4999}


@pytest.mark.parametrize("name", OUT_OF_RANGE)
@pytest.mark.parametrize(
    "call",
    [
        "log_metrics-step",
        "log_metrics-timestamp",
        "log_metric-step",
        "log_metric-timestamp",
    ],
)
def test_steps_beyond_64_bits_are_refused_naming_the_key(
    store: Store, name: str, call: str
) -> None:
    number = OUT_OF_RANGE[name]
    method, what = call.split("-")
    with store.start_run("values") as run:
        run.log_metric("kept", 1.0)
        arguments = {"step": number} if what == "step" else {"step": 1, "timestamp": number}
        with pytest.raises(InvalidInputError, match=rf"'acc'.*{what}.*64 bits"):
            if method == "log_metric":
                run.log_metric("acc", 0.5, **arguments)
            else:
                run.log_metrics({"acc": 0.5}, **arguments)
    assert [r.key for r in read_metrics(run.path / "metrics.csv").rows] == ["kept"]


BIG_INTS = {
    "4300-digits": 10**4300 - 1,
    "-4300-digits": -(10**4300) + 1,
    "2**64": 2**64,
    "-2**200": -(2**200),
}
UNREADABLE_INTS = {
    "4301-digits": 10**4300,
    "-4301-digits": -(10**4300),
    "in-a-list": [1, 10**5000],
    "in-a-mapping": {"inner": 10**5000},
}


@pytest.mark.parametrize("name", BIG_INTS)
def test_big_integer_params_round_trip(store: Store, name: str) -> None:
    value = BIG_INTS[name]
    with store.start_run("values") as run:
        run.log_param("big", value)
        run.log_param("in_list", [value])
    params = store.get_run(run.run_id).params
    assert params["big"] == value and type(params["big"]) is int
    assert params["in_list"] == [value]


@pytest.mark.parametrize("name", UNREADABLE_INTS)
def test_integers_python_cannot_read_back_are_refused(store: Store, name: str) -> None:
    value = UNREADABLE_INTS[name]
    with store.start_run("values") as run:
        run.log_param("kept", 1)
        with pytest.raises(InvalidInputError, match=r"'big.*4300 digits"):
            run.log_param("big", value)
        with pytest.raises(InvalidInputError, match=r"'big'.*4300"):
            run.set_tag("big", 10**5000)
    assert yaml.safe_load((run.path / "params.yaml").read_text("utf-8")) == {"kept": 1}


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def test_params_nested_up_to_the_limit_round_trip(store: Store) -> None:
    deepest = _nested(MAX_NESTING - 1)  # params.yaml's own mapping is the first level
    with store.start_run("values") as run:
        run.log_param("deep", deepest)
    assert store.get_run(run.run_id).params["deep"] == deepest
    assert nesting(yaml.safe_load((run.path / "params.yaml").read_text("utf-8"))) == MAX_NESTING


@pytest.mark.parametrize("name", ["one-too-deep", "10000-deep", "holds-itself"])
def test_params_nested_too_deep_are_refused(store: Store, name: str) -> None:
    if name == "holds-itself":
        value: Any = []
        value.append(value)
    else:
        value = _nested(MAX_NESTING if name == "one-too-deep" else 10_000)
    with (
        store.start_run("values") as run,
        pytest.raises(InvalidInputError, match=r"param 'deep.*nest deeper than 99 levels"),
    ):
        run.log_param("deep", value)
    assert not (run.path / "params.yaml").exists()


TEN_MB = "x" * 10_000_000
TEXTS = {
    "10MB": TEN_MB,
    "many-lines": "line\n" * 200_000,
    "rtl-override": "safe\u202eexe.txt",
    "bidi-isolates": "\u2066a\u2069\u2067b\u2069\u2068c\u2069",
    "zero-width": "a\u200bb\u200cc\u200dd\u2060e\ufeff",
    "emoji-zwj": "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽",
    "combining-marks": "Z\u0351\u0352\u0353\u0354a\u0300\u0301\u0302l\u0303g\u0304o",
    "nfc": unicodedata.normalize("NFC", "café"),
    "nfd": unicodedata.normalize("NFD", "café"),
    "control-chars": "".join(map(chr, range(32))) + "\x7f\x85\u2028\u2029",
    "ansi-escape": "\x1b[2J\x1b]0;pwned\x07",
    "crlf-lines": "a\r\nb\rc\n",
    "yaml-and-csv-syntax": "- a: b\n? c\n'\"#&*!|>%@`,",
    "astral": "\U0001f600\U0010ffff",
}


@pytest.mark.parametrize("name", TEXTS)
def test_unusual_text_round_trips_in_every_text_field(store: Store, name: str) -> None:
    text = TEXTS[name]
    with store.start_run("values", description=text, tags={"t": text}) as run:
        run.log_param("p", text)
        run.log_params({"nested": {"list": [text]}})
    record = store.get_run(run.run_id)
    assert record.description == text
    assert record.tags["t"] == text
    assert record.params["p"] == text
    assert record.params["nested"] == {"list": [text]}
    assert record.problems == []


@pytest.mark.parametrize("name", [n for n in TEXTS if len(TEXTS[n]) <= 500])
def test_unusual_text_round_trips_as_names(store: Store, name: str) -> None:
    text = TEXTS[name]
    if not text.strip():
        pytest.skip("a blank name is refused")
    store.set_experiment(text, description=text)
    with store.start_run(text, run_name=text) as run:
        pass
    record = store.get_run(run.run_id)
    assert (record.name, record.experiment) == (text, text)
    assert store.get_experiment(text).description == text


@pytest.mark.parametrize(
    "key",
    [
        TEXTS["rtl-override"],
        TEXTS["zero-width"],
        TEXTS["emoji-zwj"],
        TEXTS["combining-marks"],
        TEXTS["astral"],
        "k" * 250,
    ],
    ids=["rtl-override", "zero-width", "emoji-zwj", "combining-marks", "astral", "250-chars"],
)
def test_unusual_keys_round_trip(store: Store, key: str) -> None:
    with store.start_run("values") as run:
        run.log_param(key, 1)
        run.log_metric(key, 0.5)
        run.set_tag(key, "v")
    record = store.get_run(run.run_id)
    assert (record.params, record.tags) == ({key: 1}, {key: "v"})
    assert record.metrics[key]["last"] == 0.5
    assert [r.key for r in store.get_metric_history(run.run_id, key)] == [key]


@pytest.mark.parametrize(
    "key",
    ["a\nb", "a\x00b", "tab\tkey", "\x1b[2J", "a\rb", "bell\x07", "del\x7f", "c1\x85", "k" * 251],
    ids=["newline", "nul", "tab", "ansi", "cr", "bell", "del", "c1-nel", "251-chars"],
)
def test_keys_with_control_characters_are_refused_naming_them(store: Store, key: str) -> None:
    with store.start_run("values") as run:
        for call in (
            lambda: run.log_param(key, 1),
            lambda: run.log_metric(key, 0.5),
            lambda: run.log_metrics({key: 0.5}),
            lambda: run.set_tag(key, "v"),
        ):
            with pytest.raises(InvalidInputError, match=r"key"):
                call()
    assert not (run.path / "params.yaml").exists()
    assert read_metrics(run.path / "metrics.csv").rows == []


def test_nfc_and_nfd_look_alikes_stay_distinct(store: Store) -> None:
    nfc, nfd = TEXTS["nfc"], TEXTS["nfd"]
    assert nfc != nfd and unicodedata.normalize("NFC", nfd) == nfc
    store.set_experiment(nfc)
    store.set_experiment(nfd)
    assert store.get_experiment(nfc).path != store.get_experiment(nfd).path
    with store.start_run(nfc, run_name=nfc) as run:
        run.log_params({nfc: 1, nfd: 2})
        run.log_metrics({nfc: 0.1, nfd: 0.2})
        run.set_tags({nfc: "c", nfd: "d"})
    record = store.get_run(run.run_id)
    assert record.params == {nfc: 1, nfd: 2}
    assert record.tags == {nfc: "c", nfd: "d"}
    assert {k: v["last"] for k, v in record.metrics.items()} == {nfc: 0.1, nfd: 0.2}
    assert record.experiment == nfc and record.name == nfc
    frame = store.search_runs(experiment_names=[nfc])
    assert list(frame[f"params.{nfd}"]) == [2] and list(frame[f"tags.{nfc}"]) == ["c"]


def test_lone_surrogates_are_refused_everywhere(store: Store) -> None:
    bad = "a\ud800b"
    with store.start_run("values") as run:
        for call in (
            lambda: run.log_param("p", bad),
            lambda: run.log_param(bad, 1),
            lambda: run.log_metric(bad, 1.0),
            lambda: run.set_tag("t", bad),
            lambda: run.set_tag(bad, "v"),
            lambda: run.set_description(bad),
        ):
            with pytest.raises(InvalidInputError):
                call()
    assert store.get_run(run.run_id).params == {}


def test_the_site_builds_from_every_extreme_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store(tmp_path / "runs")
    for name, text in TEXTS.items():
        short = text if text.strip() and len(text) <= 500 else name
        with store.start_run(short, run_name=short, tags={"t": text}, description=text) as run:
            run.log_params({"p": text, "floats": [v for v, _, _ in EXTREME_FLOATS.values()]})
            for index, (value, _, _) in enumerate(EXTREME_FLOATS.values()):
                run.log_metric("m", value, step=index)
            for step in STEPS.values():
                run.log_metric("steps", 0.5, step=step)
    report = build_site(store.root, tmp_path / "site", config_root=tmp_path, strict=True)
    assert report.problems == [] and report.runs == len(TEXTS)


# ---------------------------------------------------------------------- whole stores


def test_an_empty_store_reads_lists_searches_and_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "runs"
    store.mkdir()
    (store / "README.md").write_text("# runs\n", encoding="utf-8")  # not an experiment
    (store / ".cache").mkdir()
    scan = scan_store(store)
    assert (scan.experiments, scan.runs, scan.problems) == ([], [], [])
    listed = CliRunner().invoke(main, ["ls", str(store), "--strict"])
    assert listed.exit_code == 0 and "No experiments" in listed.stdout
    assert len(Store(store).search_runs()) == 0
    built = CliRunner().invoke(main, ["build", str(store), "-o", "site", "--strict", "-q"])
    assert built.exit_code == 0, built.output
    assert (tmp_path / "site" / "index.html").is_file()


@pytest.mark.parametrize("kind", ["a-file", "missing", "a-dangling-symlink"])
def test_a_store_that_is_not_a_folder_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    store = tmp_path / "runs"
    if kind == "a-file":
        store.write_text("not a folder\n", encoding="utf-8")
    elif kind == "a-dangling-symlink":
        store.symlink_to(tmp_path / "nowhere")
    with pytest.raises(StoreError, match=r"runs"):
        scan_store(store)
    with pytest.raises(StoreError, match=r"runs"):
        Store(store).search_runs()
    for command in (["ls", str(store)], ["build", str(store), "-o", str(tmp_path / "site")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code != 0, result.output
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
        assert "runs" in result.stderr
    assert not (tmp_path / "site").exists()
    assert store.is_file() == (kind == "a-file")


# ---------------------------------------------------------------------- without libyaml

YAML_CATEGORIES = (
    "yaml syntax",
    "duplicate keys",
    "yaml tags",
    "yaml expansion and nesting",
    "encoding and characters",
)
YAML_DAMAGE = [
    c
    for c in PROBLEM_CASES
    if isinstance(c.content, bytes)
    and (c.category in YAML_CATEGORIES or c.name.startswith("exp-yaml-"))
    and c.expect not in ("empty", "expected a mapping")
    and c.file.endswith(".yaml")
]


@pytest.fixture
def pure_python_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read YAML with PyYAML's pure-Python parser, as where libyaml is not installed."""
    from runfolio.store import serialize

    monkeypatch.setattr(serialize, "_StoreLoader", serialize.store_loader(yaml.SafeLoader))


@pytest.mark.parametrize("case", YAML_DAMAGE, ids=case_id)
def test_the_pure_python_parser_refuses_the_same_files(pure_python_yaml: None, case: Case) -> None:
    assert isinstance(case.content, bytes)
    content = case.content.replace(b"@RUN_ID@", b"20261127-050000-0000000001")
    message = _load_error(content)
    assert message.startswith(("params.yaml: invalid YAML: ", "params.yaml: not UTF-8")), message


def test_the_pure_python_parser_refuses_lone_surrogates(pure_python_yaml: None) -> None:
    # libyaml refuses the escape itself; PyYAML's own parser builds the character.
    message = _load_error(b'name: "bad\\ud800name"\n')
    assert "lone surrogate" in message and "line 1" in message


# ---------------------------------------------------------------------- the terminal


def test_ls_shows_control_characters_in_names_as_visible_text(store: Store) -> None:
    from runfolio.console.listing import render_listing

    hostile = "evil\x1b]0;pwned\x07\x1b[2J\nfake line\u202e"
    with store.start_run(hostile, run_name=hostile, description=hostile) as run:
        run.log_metric("m", 1.0)
    text = render_listing(scan_store(store.root), {})
    assert not [ch for ch in text if unicodedata.category(ch) == "Cc" and ch != "\n"]
    assert "\u202e" not in text
    assert not [line for line in text.splitlines() if line.startswith("fake line")]
