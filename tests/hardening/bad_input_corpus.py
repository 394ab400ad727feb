"""A corpus of damaged store files: each case names one file, how it is broken, and the
problem a reader must report for it (docs/store-format.md is the contract they break).

Stores are written by hand here, byte for byte in the documented format, so that the
tests do not depend on runfolio's own writer. :func:`write_store` lays out one good run
plus one damaged run (or experiment) per case; the tests then read, list, search and
build that store and check each case's problem, and that nothing was rewritten.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPERIMENT = "exp"
"""The experiment holding the good run and every damaged run."""

GOOD_ID = "20261127-045604-00000000aa"
RUN_ID = "@RUN_ID@"
"""Placeholder for the id of the run a file belongs to, filled in by :func:`write_store`."""

CANARY = "runfolio-canary-created"
"""A file that a YAML tag running ``os.system`` would create in the current folder."""

OUTSIDE = "outside-the-store.yaml"
"""A file next to the store that damaged runs link to (its content must not be read)."""

SECRET = "canary-secret-outside-the-store"


def run_yaml(**changes: Any) -> dict[str, Any]:
    """A finished run's run.yaml as data, with ``changes`` applied (``...`` deletes a key)."""
    data: dict[str, Any] = {
        "description": "Notes of this run.",
        "end_time": "2026-11-27T04:57:10.480Z",
        "environment": {"implementation": "CPython", "python": "3.11.7"},
        "experiment": EXPERIMENT,
        "format": 1,
        "git": {"branch": "main", "commit": "4f1c" * 10, "dirty": False},
        "id": RUN_ID,
        "metrics": {
            "loss": {
                "count": 2,
                "last": 0.5,
                "max": 1.0,
                "min": 0.5,
                "step": 1,
                "timestamp": 1795755828702,
            }
        },
        "name": "a-run",
        "parent_run_id": None,
        "process": {"host": "trainer-01", "pid": 4385},
        "source": {"argv": ["--epochs", "2"], "entry_point": "train.py"},
        "start_time": "2026-11-27T04:56:04.123Z",
        "status": "FINISHED",
        "tags": {"team": "vision"},
        "user": "alice",
    }
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def running_yaml(**changes: Any) -> dict[str, Any]:
    """run.yaml of a run whose process died (RUNNING, no summary): readers use metrics.csv."""
    return run_yaml(status="RUNNING", end_time=None, metrics=..., **changes)


def dump(data: Any) -> bytes:
    """YAML as the store writes it: block style, sorted keys, UTF-8."""
    text = yaml.safe_dump(data, sort_keys=True, allow_unicode=True, default_flow_style=False)
    return text.encode("utf-8")


GOOD_RUN = dump(run_yaml(name="good-run"))
PARAMS = b"lr: 0.1\noptimizer:\n  name: adam\n"
METRICS = b"key,step,value,timestamp\nloss,0,1.0,1795755828642\nloss,1,0.5,1795755828702\n"
EXPERIMENT_YAML = dump(
    {
        "created": "2026-11-27T04:56:04.123Z",
        "description": "Runs of the corpus.",
        "format": 1,
        "name": EXPERIMENT,
        "primary_metric": {"direction": "minimize", "name": "loss"},
    }
)


Content = bytes | Callable[[Path], None] | None
"""What a damaged file becomes: its bytes, None to delete it, or a function making it."""


@dataclass(frozen=True)
class Case:
    """One damaged file, and what a reader must say about it.

    Attributes:
        name: the test id.
        category: the group the case is counted in.
        file: the damaged file, relative to its run folder (or experiment folder when
            ``level`` is "experiment"); "." for the folder itself.
        content: what the file becomes.
        expect: a fragment of the problem text; None for input that is valid (a BOM,
            CRLF line ends ...), which must be read without any problem.
        key: the key the problem must name (quoted, as ``'status'``), when one is at fault.
        kept: the run is still read and its page built, with the problem reported beside
            it (a bad metrics row); otherwise it is left out.
        level: "run" (a damaged run among good ones) or "experiment" (a damaged
            experiment.yaml in its own folder, holding one run).
        run_files: the other files of the damaged run (run.yaml, params.yaml, metrics.csv).
        scan_sees: the scan reports it (False: only a site build reads the file).
    """

    name: str
    category: str
    file: str
    content: Content
    expect: str | None
    key: str | None = None
    kept: bool = False
    level: str = "run"
    run_files: dict[str, bytes] = field(default_factory=dict)
    scan_sees: bool = True

    @property
    def folder_name(self) -> str:
        """The damaged run's (or experiment's) folder name."""
        if self.level == "experiment":
            return f"bad-{self.name}"
        return case_run_id(self.name)


def case_run_id(name: str) -> str:
    """A stable, valid run id for a case (ids sort by case order within one second)."""
    index = CASE_INDEX[name]
    return f"20261127-0500{index % 60:02d}-{index:010x}"


# ------------------------------------------------------------------------- content helpers


def _symlink_to_outside(path: Path) -> None:
    """Make ``path`` a symlink to a readable YAML file outside the store."""
    target = next(parent / OUTSIDE for parent in path.parents if (parent / OUTSIDE).exists())
    path.symlink_to(target)


def _moved_out_and_linked(folder: Path) -> None:
    """Move a run or experiment folder out of the store and leave a symlink to it."""
    outside = next(p for p in folder.parents if (p / OUTSIDE).exists()) / f"linked-{folder.name}"
    folder.rename(outside)
    folder.symlink_to(outside, target_is_directory=True)


def _folder(path: Path) -> None:
    """Make ``path`` a folder (a file the reader expects is a directory)."""
    path.mkdir()
    (path / "inside.txt").write_text("x", encoding="utf-8")


def laughs(levels: int = 6, width: int = 10) -> bytes:
    """A "billion laughs" document: ``width ** levels`` values once aliases expand.

    The corpus uses a million (ten times the limit), which a reader without the limit
    would still survive, so a regression fails the tests instead of exhausting the
    machine; the full billion is tried in a memory-capped subprocess (test_bad_input).
    """
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def nested_flow(depth: int) -> bytes:
    """A params.yaml whose one value is ``depth`` lists deep, in flow style."""
    return b"deep: " + b"[" * depth + b"]" * depth + b"\n"


def nested_block(depth: int) -> bytes:
    """A params.yaml nested ``depth`` sequences deep in block style, on one line."""
    return b"deep:\n  " + b"- " * depth + b"x\n"


def nested_mappings(depth: int) -> bytes:
    """A params.yaml of ``depth`` nested mappings, each indented two more spaces."""
    return b"".join(b"  " * level + b"k%d:\n" % level for level in range(depth)) + (
        b"  " * depth + b"x: 1\n"
    )


def with_line(base: bytes, old: bytes, new: bytes) -> bytes:
    """``base`` with one line replaced (the line must be there)."""
    assert old in base, old
    return base.replace(old, new, 1)


RUNNING = dump(running_yaml(name="crashed-run"))
"""run.yaml for the metrics.csv cases: the run crashed, so readers summarise metrics.csv."""

HEADER = b"key,step,value,timestamp\n"


def _metrics(*rows: bytes, header: bytes = HEADER) -> bytes:
    return header + b"".join(rows)


ROW0 = b"loss,0,1.0,1795755828642\n"
ROW1 = b"loss,1,0.5,1795755828702\n"


# ------------------------------------------------------------------------- the corpus


def _yaml_cases() -> Iterable[Case]:
    """Malformed YAML, tags, aliases, nesting, duplicate keys, tabs, encodings."""
    cat = "yaml syntax"
    yield Case("yaml-unclosed-flow", cat, "run.yaml", b"id: [unclosed\nstatus: {\n", "invalid YAML")
    yield Case(
        "yaml-bad-indent",
        cat,
        "run.yaml",
        with_line(GOOD_RUN, b"\nstatus: FINISHED", b"\n   status: FINISHED"),
        "invalid YAML",
    )
    yield Case(
        "yaml-tab-indent",
        cat,
        "run.yaml",
        with_line(GOOD_RUN, b"  python: 3.11.7", b"\tpython: 3.11.7"),
        "invalid YAML",
    )
    yield Case(
        "yaml-tab-indent-params", cat, "params.yaml", b"optimizer:\n\tname: adam\n", "invalid YAML"
    )
    yield Case(
        "yaml-two-documents", cat, "run.yaml", GOOD_RUN + b"---\n" + GOOD_RUN, "single document"
    )
    yield Case("yaml-unterminated-quote", cat, "params.yaml", b'lr: "0.1\n', "invalid YAML")
    yield Case("yaml-stray-colons", cat, "params.yaml", b": : :\n", "invalid YAML")
    yield Case("yaml-unhashable-key", cat, "params.yaml", b"? [a, b]\n: 1\n", "unhashable")
    yield Case("yaml-bad-date-value", cat, "params.yaml", b"when: 2026-02-30\n", "not a valid date")
    yield Case(
        "yaml-bad-date-start-time",
        cat,
        "run.yaml",
        with_line(
            GOOD_RUN, b"start_time: '2026-11-27T04:56:04.123Z'", b"start_time: 2026-02-30 04:56:04"
        ),
        "not a valid date",
    )
    yield Case(
        "yaml-int-over-4300-digits", cat, "params.yaml", b"big: " + b"7" * 5000 + b"\n", "integer"
    )

    cat = "duplicate keys"
    yield Case(
        "dup-key-run-status",
        cat,
        "run.yaml",
        GOOD_RUN + b"status: FAILED\n",
        "duplicate key",
        key="status",
    )
    yield Case(
        "dup-key-params-nested",
        cat,
        "params.yaml",
        b"optimizer:\n  name: adam\n  name: sgd\n",
        "duplicate key",
        key="name",
    )
    yield Case(
        "dup-key-params-int-and-text",
        cat,
        "params.yaml",
        b"1: a\n'1': b\n",
        "duplicate key",
        key="1",
    )
    yield Case(
        "dup-key-quoted-and-plain",
        cat,
        "run.yaml",
        GOOD_RUN + b'"tags": {}\n',
        "duplicate key",
        key="tags",
    )
    yield Case(
        "dup-key-flow-mapping",
        cat,
        "params.yaml",
        b"opt: {lr: 0.1, lr: 0.2}\n",
        "duplicate key",
        key="lr",
    )

    cat = "yaml tags"
    for name, tag in (
        ("tag-python-object-apply", "!!python/object/apply:os.system"),
        ("tag-python-object-new", "!!python/object/new:os.system"),
        ("tag-python-name", "!!python/name:os.system"),
        ("tag-python-module", "!!python/module:os"),
        ("tag-python-tuple", "!!python/tuple"),
    ):
        yield Case(
            name,
            cat,
            "params.yaml",
            f"cmd: {tag} ['touch {CANARY}']\n".encode(),
            "could not determine a constructor",
        )
    yield Case(
        "tag-python-in-run-yaml",
        cat,
        "run.yaml",
        GOOD_RUN.replace(
            b"user: alice", f"user: !!python/object/apply:os.system ['touch {CANARY}']".encode()
        ),
        "could not determine a constructor",
    )
    yield Case(
        "tag-custom-local",
        cat,
        "params.yaml",
        b"x: !secret value\n",
        "could not determine a constructor",
    )
    yield Case(
        "tag-custom-uri",
        cat,
        "params.yaml",
        b"x: !<tag:example.com,2026:thing> v\n",
        "could not determine a constructor",
    )
    for name in ("set", "omap", "pairs"):
        yield Case(
            f"tag-{name}",
            cat,
            "params.yaml",
            f"x: !!{name} [{{a: 1}}, {{b: 2}}]\n".encode()
            if name != "set"
            else b"x: !!set {a, b}\n",
            "could not determine a constructor",
        )
    yield Case(
        "tag-lone-surrogate-escape",
        cat,
        "run.yaml",
        with_line(GOOD_RUN, b"name: good-run", b'name: "bad\\ud800name"'),
        "invalid Unicode",
    )
    yield Case("tag-lone-surrogate-key", cat, "params.yaml", b'"k\\udfff": 1\n', "invalid Unicode")

    cat = "yaml expansion and nesting"
    yield Case("laughs-million-params", cat, "params.yaml", laughs(), "aliases expand")
    yield Case(
        "laughs-million-run-yaml",
        cat,
        "run.yaml",
        GOOD_RUN + laughs().replace(b"a", b"z"),
        "aliases expand",
    )
    yield Case(
        "laughs-wide-160000", cat, "params.yaml", laughs(levels=2, width=400), "aliases expand"
    )
    yield Case(
        "recursive-alias",
        cat,
        "params.yaml",
        b"a: &a [1, *a]\n",
        "alias refers to a node that contains it",
    )
    yield Case(
        "recursive-alias-mapping",
        cat,
        "params.yaml",
        b"a: &a {self: *a}\n",
        "alias refers to a node that contains it",
    )
    yield Case("nested-10000-flow", cat, "params.yaml", nested_flow(10_000), "invalid YAML")
    yield Case("nested-10000-block", cat, "params.yaml", nested_block(10_000), "invalid YAML")
    yield Case("nested-999-flow", cat, "params.yaml", nested_flow(999), "nested deeper than 100")
    yield Case("nested-150-block", cat, "params.yaml", nested_block(150), "nested deeper than 100")
    yield Case(
        "nested-120-mappings", cat, "params.yaml", nested_mappings(120), "nested deeper than 100"
    )
    yield Case(
        "nested-150-beside-an-anchor",
        cat,
        "params.yaml",
        b"first: &a 1\nagain: *a\n" + nested_flow(150),
        "nested deeper than 100",
    )

    cat = "encoding and characters"
    yield Case(
        "run-yaml-latin-1",
        cat,
        "run.yaml",
        with_line(GOOD_RUN, b"user: alice", "user: Zoë".encode("latin-1")),
        "not UTF-8",
    )
    yield Case("params-utf-16", cat, "params.yaml", "lr: 0.1\n".encode("utf-16"), "not UTF-8")
    yield Case(
        "run-yaml-nul-byte",
        cat,
        "run.yaml",
        with_line(GOOD_RUN, b"user: alice", b"user: al\x00ice"),
        "control characters",
    )
    yield Case(
        "run-yaml-escape-char",
        cat,
        "run.yaml",
        with_line(GOOD_RUN, b"user: alice", b"user: \x1b[2Jalice"),
        "control characters",
    )
    yield Case("params-random-binary", cat, "params.yaml", bytes(range(256)) * 4, "not UTF-8")


def _run_yaml_cases() -> Iterable[Case]:
    """run.yaml missing, empty, not a mapping, and every field of the wrong type."""
    cat = "run.yaml shape"
    yield Case("run-yaml-missing", cat, "run.yaml", None, "no run.yaml")
    yield Case("run-yaml-empty", cat, "run.yaml", b"", "empty")
    yield Case("run-yaml-only-comments", cat, "run.yaml", b"# nothing here\n", "empty")
    yield Case(
        "run-yaml-list", cat, "run.yaml", b"- a list\n- not a mapping\n", "expected a mapping"
    )
    yield Case("run-yaml-scalar", cat, "run.yaml", b"just text\n", "expected a mapping")
    yield Case("run-yaml-is-a-folder", cat, "run.yaml", _folder, "folder")
    yield Case("run-yaml-symlink-outside", cat, "run.yaml", _symlink_to_outside, "symlink")
    yield Case("params-symlink-outside", cat, "params.yaml", _symlink_to_outside, "symlink")
    yield Case("params-is-a-folder", cat, "params.yaml", _folder, "folder")
    yield Case("run-folder-symlink-outside", cat, ".", _moved_out_and_linked, "symlink")

    cat = "run.yaml field types"
    fields: list[tuple[str, Any, str]] = [
        ("status-missing", {"status": ...}, "status"),
        ("status-unknown", {"status": "DONE"}, "status"),
        ("status-lower-case", {"status": "finished"}, "status"),
        ("status-derived-crashed", {"status": "CRASHED"}, "status"),
        ("status-int", {"status": 1}, "status"),
        ("status-list", {"status": ["FINISHED"]}, "status"),
        ("id-missing", {"id": ...}, "id"),
        ("id-other-run", {"id": "20200101-000000-0000000000"}, "id"),
        ("id-int", {"id": 20261127}, "id"),
        ("start-time-missing", {"start_time": ...}, "start_time"),
        ("start-time-words", {"start_time": "yesterday"}, "start_time"),
        ("start-time-int", {"start_time": 1795755364123}, "start_time"),
        ("start-time-list", {"start_time": ["2026-11-27T04:56:04.123Z"]}, "start_time"),
        ("start-time-mapping", {"start_time": {"at": "now"}}, "start_time"),
        ("start-time-year-1", {"start_time": "0001-01-01T00:00:00+01:00"}, "start_time"),
        ("start-time-year-9999", {"start_time": "9999-12-31T23:59:59-01:00"}, "start_time"),
        ("start-time-before-1970", {"start_time": "1969-07-20T20:17:40Z"}, "start_time"),
        ("end-time-words", {"end_time": "soon"}, "end_time"),
        ("end-time-list", {"end_time": [1, 2]}, "end_time"),
        ("tags-list", {"tags": ["a", "b"]}, "tags"),
        ("tags-text", {"tags": "team=vision"}, "tags"),
        ("source-list", {"source": ["train.py"]}, "source"),
        ("git-text", {"git": "4f1c0ffee"}, "git"),
        ("environment-list", {"environment": ["python"]}, "environment"),
        ("process-int", {"process": 4385}, "process"),
        ("format-newer", {"format": 2}, "format"),
        ("format-text", {"format": "one"}, "format"),
    ]
    for name, changes, key in fields:
        yield Case(f"run-{name}", cat, "run.yaml", dump(run_yaml(**changes)), "", key=key)

    # Fields that only describe the run: it is still read, the field left out.
    soft: list[tuple[str, Any, str]] = [
        ("name-list", {"name": ["a", "b"]}, "name"),
        ("name-mapping", {"name": {"first": "a"}}, "name"),
        ("description-list", {"description": ["notes"]}, "description"),
        ("user-mapping", {"user": {"login": "alice"}}, "user"),
        ("parent-run-id-list", {"parent_run_id": ["x"]}, "parent_run_id"),
        ("tag-value-list", {"tags": {"team": ["a", "b"]}}, "tags.team"),
        ("tag-value-mapping", {"tags": {"team": {"x": 1}}}, "tags.team"),
        ("git-commit-list", {"git": {"commit": ["4f1c"], "dirty": False}}, "git.commit"),
        ("git-dirty-text", {"git": {"commit": "4f1c", "dirty": "maybe"}}, "git.dirty"),
        (
            "source-argv-mapping",
            {"source": {"argv": {"a": 1}, "entry_point": "t.py"}},
            "source.argv",
        ),
        (
            "source-entry-point-list",
            {"source": {"argv": [], "entry_point": ["t.py"]}},
            "source.entry_point",
        ),
        ("environment-python-list", {"environment": {"python": [3, 11]}}, "environment.python"),
        ("process-pid-text", {"process": {"host": "trainer-01", "pid": "4385"}}, "process.pid"),
        ("metrics-summary-list", {"metrics": ["loss"]}, "metrics"),
        ("metrics-summary-text", {"metrics": {"loss": {"last": "x", "step": 1}}}, "metrics"),
    ]
    for name, changes, key in soft:
        yield Case(
            f"run-{name}", cat, "run.yaml", dump(run_yaml(**changes)), "", key=key, kept=True
        )

    cat = "params.yaml shape"
    yield Case("params-list", cat, "params.yaml", b"- 1\n- 2\n", "expected a mapping")
    yield Case("params-scalar", cat, "params.yaml", b"0.1\n", "expected a mapping")


def _metrics_cases() -> Iterable[Case]:
    """metrics.csv of a crashed run: garbage, torn tails, encodings, missing pieces."""
    cat = "metrics.csv"
    running = {"run.yaml": RUNNING}

    def case(name: str, content: Content, expect: str | None, **extra: Any) -> Case:
        return Case(
            name, cat, "metrics.csv", content, expect, kept=True, run_files=running, **extra
        )

    yield case(
        "metrics-garbage-row", _metrics(ROW0, b"\x00\xff\xfe garbage \x01\n", ROW1), "line 3"
    )
    yield case("metrics-binary-junk", _metrics(ROW0, bytes(range(1, 255)) + b"\n"), "line 3")
    yield case("metrics-three-columns", _metrics(ROW0, b"loss,2,0.25\n"), "line 3")
    yield case(
        "metrics-five-columns", _metrics(ROW0, b"loss,2,0.25,1795755828762,extra\n"), "line 3"
    )
    yield case("metrics-text-value", _metrics(ROW0, b"loss,2,low,1795755828762\n"), "line 3")
    yield case(
        "metrics-fractional-step", _metrics(ROW0, b"loss,2.5,0.25,1795755828762\n"), "line 3"
    )
    yield case("metrics-text-timestamp", _metrics(ROW0, b"loss,2,0.25,yesterday\n"), "line 3")
    yield case(
        "metrics-step-5000-digits",
        _metrics(ROW0, b"loss," + b"9" * 5000 + b",0.25,1795755828762\n"),
        "line 3",
    )
    yield case("metrics-empty-key", _metrics(ROW0, b",2,0.25,1795755828762\n"), "line 3")
    yield case(
        "metrics-unterminated-quote", _metrics(ROW0, b'"loss,2,0.25,1795755828762\n'), "line 3"
    )
    yield case(
        "metrics-quoted-key-over-csv-limit",
        _metrics(ROW0, b'"' + b"k" * 200_000 + b'",2,0.25,1795755828762\n'),
        "line 3",
    )
    yield case("metrics-nul-in-key", _metrics(ROW0, b"lo\x00ss,2,0.25,1795755828762\n"), "line 3")
    yield case(
        "metrics-escape-in-key", _metrics(ROW0, b"\x1b[2Jloss,2,0.25,1795755828762\n"), "line 3"
    )
    yield case(
        "metrics-latin-1-key",
        _metrics(ROW0, "größe,2,0.25,1795755828762\n".encode("latin-1")),
        "not UTF-8",
    )
    yield case("metrics-torn-last-line", _metrics(ROW0, ROW1, b"loss,2,0.2"), "incomplete")
    yield case("metrics-torn-header", b"key,st", "line 1")
    yield case(
        "metrics-wrong-header", _metrics(ROW0, header=b"step,key,value,timestamp\n"), "line 1"
    )
    yield case("metrics-no-header", ROW0 + ROW1, "line 1")
    yield case("metrics-is-a-folder", _folder, "folder")
    yield case("metrics-symlink-outside", _symlink_to_outside, "symlink")
    yield case(
        "metrics-huge-garbage-line", _metrics(ROW0, b"x" * 2_000_000 + b"\n", ROW1), "line 3"
    )
    # Valid variants: read exactly, with no problem.
    yield case("metrics-crlf", (HEADER + ROW0 + ROW1).replace(b"\n", b"\r\n"), None)
    yield case("metrics-bom", b"\xef\xbb\xbf" + HEADER + ROW0 + ROW1, None)
    yield case("metrics-empty-file", b"", None)
    yield case("metrics-header-only", HEADER, None)
    yield case("metrics-missing", None, None)
    yield case("metrics-blank-lines", _metrics(ROW0, b"\n", b"   \n", ROW1), None)
    yield case(
        "metrics-extreme-values",
        _metrics(
            b"loss,0,nan,1\n",
            b"loss,1,inf,2\n",
            b"loss,2,-inf,3\n",
            b"loss,3,-0.0,4\n",
            b"loss,4,1e+308,5\n",
            b"loss,5,5e-324,6\n",
            b"loss,-3,0.5,7\n",
            b"loss,9007199254740993,0.25,8\n",
            b"loss,1,0.125,9\n",
            b"loss,1,0.0625,9\n",
        ),
        None,
    )
    # A finished run's summary is in run.yaml: only a site build reads the history.
    yield Case(
        "metrics-garbage-finished-run",
        cat,
        "metrics.csv",
        _metrics(ROW0, b"x,y\n"),
        "line 3",
        kept=True,
        scan_sees=False,
    )
    yield Case(
        "metrics-missing-finished-run",
        cat,
        "metrics.csv",
        None,
        "metrics.csv is missing",
        kept=True,
    )


def _experiment_cases() -> Iterable[Case]:
    """experiment.yaml missing, malformed, or with fields of the wrong type."""
    cat = "experiment.yaml"

    def case(
        name: str, content: Content, expect: str, key: str | None = None, kept: bool = False
    ) -> Case:
        return Case(
            name, cat, "experiment.yaml", content, expect, key=key, kept=kept, level="experiment"
        )

    def exp(**changes: Any) -> bytes:
        data = {
            "created": "2026-11-27T04:56:04.123Z",
            "description": "d",
            "format": 1,
            "name": "damaged experiment",
            "primary_metric": None,
        }
        for key, value in changes.items():
            if value is ...:
                data.pop(key)
            else:
                data[key] = value
        return dump(data)

    yield case("exp-yaml-missing", None, "no experiment.yaml")
    yield case("exp-yaml-empty", b"", "empty")
    yield case("exp-yaml-list", b"- name\n", "expected a mapping")
    yield case("exp-yaml-syntax", b"name: [unclosed\n", "invalid YAML")
    yield case("exp-yaml-duplicate-name", exp() + b"name: other\n", "duplicate key", "name")
    yield case(
        "exp-yaml-python-tag",
        b"name: !!python/object/apply:os.system ['x']\n",
        "could not determine a constructor",
    )
    yield case("exp-yaml-laughs-million", exp() + laughs(), "aliases expand")
    yield case("exp-yaml-not-utf8", b"name: caf\xe9\n", "not UTF-8")
    yield case("exp-yaml-is-a-folder", _folder, "folder")
    yield case("exp-yaml-symlink-outside", _symlink_to_outside, "symlink")
    yield Case(
        "exp-folder-symlink-outside", cat, ".", _moved_out_and_linked, "symlink", level="experiment"
    )
    yield case("exp-name-missing", exp(name=...), "", "name")
    yield case("exp-name-empty", exp(name=""), "", "name")
    yield case("exp-name-int", exp(name=7), "", "name")
    yield case("exp-name-list", exp(name=["a"]), "", "name")
    yield case("exp-primary-metric-list", exp(primary_metric=["loss"]), "", "primary_metric")
    yield case(
        "exp-direction-sideways",
        exp(primary_metric={"name": "loss", "direction": "sideways"}),
        "",
        "primary_metric.direction",
    )
    yield case("exp-format-newer", exp(format=3), "", "format")
    yield case("exp-description-list", exp(description=["a"]), "", "description", kept=True)
    yield case("exp-created-mapping", exp(created={"at": 1}), "", "created", kept=True)
    yield case(
        "exp-primary-name-list",
        exp(primary_metric={"name": ["loss"], "direction": "minimize"}),
        "",
        "primary_metric.name",
        kept=True,
    )


def _valid_variant_cases() -> Iterable[Case]:
    """Files that look odd but are valid: read exactly as their plain form, no problem."""
    cat = "valid variants"
    yield Case("yaml-crlf", cat, "run.yaml", GOOD_RUN.replace(b"\n", b"\r\n"), None)
    yield Case("yaml-bom", cat, "run.yaml", b"\xef\xbb\xbf" + GOOD_RUN, None)
    yield Case("yaml-tab-inside-value", cat, "params.yaml", b'lr: 0.1\nnote: "a\\tb"\n', None)
    yield Case(
        "yaml-anchors-and-merge",
        cat,
        "params.yaml",
        b"base: &b {lr: 0.1, depth: 3}\nmodel:\n  <<: *b\n  depth: 4\n",
        None,
    )
    yield Case("yaml-flow-style", cat, "params.yaml", b"{lr: 0.1, layers: [64, 32]}\n", None)
    yield Case("yaml-comments", cat, "params.yaml", b"# tuned by hand\nlr: 0.1  # best\n", None)
    yield Case("params-empty", cat, "params.yaml", b"", None)
    yield Case("params-missing", cat, "params.yaml", None, None)
    yield Case("yaml-nested-99", cat, "params.yaml", nested_flow(98), None)
    yield Case(
        "yaml-unquoted-time",
        cat,
        "run.yaml",
        with_line(
            GOOD_RUN,
            b"start_time: '2026-11-27T04:56:04.123Z'",
            b"start_time: 2026-11-27 04:56:04.123000+00:00",
        ),
        None,
    )


def _all_cases() -> list[Case]:
    groups = (_yaml_cases, _run_yaml_cases, _metrics_cases, _experiment_cases, _valid_variant_cases)
    return [case for group in groups for case in group()]


CASE_INDEX: dict[str, int] = {}
CASES: list[Case] = []
for _index, _case in enumerate(_all_cases(), start=1):
    assert _case.name not in CASE_INDEX, _case.name
    CASE_INDEX[_case.name] = _index
    CASES.append(_case)

PROBLEM_CASES = [case for case in CASES if case.expect is not None]
VALID_CASES = [case for case in CASES if case.expect is None]


# ------------------------------------------------------------------------- writing stores


def write_store(root: Path, cases: Iterable[Case]) -> dict[str, Path]:
    """Write a store at ``root``: the good run, then one damaged run or experiment per case.

    Returns:
        The damaged file of each case by case name (it may not exist: a missing file).
    """
    (root.parent / OUTSIDE).write_text(f"secret: {SECRET}\nname: {SECRET}\n", encoding="utf-8")
    exp_dir = root / EXPERIMENT
    exp_dir.mkdir(parents=True)
    (exp_dir / "experiment.yaml").write_bytes(EXPERIMENT_YAML)
    _write_run(exp_dir / GOOD_ID, {"run.yaml": GOOD_RUN})
    damaged: dict[str, Path] = {}
    for case in cases:
        if case.level == "experiment":
            folder = root / case.folder_name
            folder.mkdir()
            _write_run(folder / case_run_id(case.name), {"run.yaml": GOOD_RUN})
        else:
            folder = exp_dir / case.folder_name
            _write_run(folder, case.run_files)
        target = folder if case.file == "." else folder / case.file
        if target.exists() and target != folder:
            target.unlink()
        if case.level == "experiment" and case.file == ".":
            (folder / "experiment.yaml").write_bytes(dump({"format": 1, "name": case.name}))
        if isinstance(case.content, bytes):
            target.write_bytes(case.content.replace(RUN_ID.encode(), folder.name.encode()))
        elif case.content is not None:
            case.content(target)
        damaged[case.name] = target
    return damaged


def _write_run(folder: Path, files: dict[str, bytes]) -> None:
    """Write a run folder: run.yaml, params.yaml and metrics.csv (``files`` overrides)."""
    folder.mkdir(parents=True)
    merged = {"run.yaml": GOOD_RUN, "params.yaml": PARAMS, "metrics.csv": METRICS, **files}
    for name, content in merged.items():
        (folder / name).write_bytes(content.replace(RUN_ID.encode(), folder.name.encode()))


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` by its SHA-256 (symlinks by target, folders as a marker).

    Digests, not bytes: a failed comparison then prints a short diff, not megabytes.
    """
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[relative] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            found[relative] = "<dir>"
        else:
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
