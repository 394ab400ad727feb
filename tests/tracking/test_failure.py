"""A run ended by an exception says why: type, message and traceback in run.yaml (bounded,
secrets redacted), shown by ``runfolio show``. Real training processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from runfolio.cli import main
from runfolio.store.run_document import MAX_FAILURE_MESSAGE, MAX_TRACEBACK_LINE, MAX_TRACEBACK_LINES

IN_A_WITH_BLOCK = """\
import runfolio

def load(path):
    raise FileNotFoundError(f"no such data: {path} (password=hunter2)")

runfolio.set_experiment("failing")
with runfolio.start_run():
    runfolio.log_param("lr", 0.1)
    load("data/train.csv")
"""

UNCAUGHT_WITHOUT_WITH = """\
import runfolio

runfolio.set_experiment("failing")
runfolio.start_run()
runfolio.log_metric("loss", 0.5)
raise RuntimeError("diverged: loss is nan " + "x" * 5000)
"""

DEEP_RECURSION = """\
import runfolio

def descend(n):
    return descend(n + 1)

runfolio.set_experiment("failing")
with runfolio.start_run():
    descend(0)
"""

INTERRUPTED = """\
import runfolio

runfolio.set_experiment("failing")
with runfolio.start_run():
    raise KeyboardInterrupt
"""


def _run(tmp_path: Path, script: str) -> tuple[Path, dict]:
    """Run ``script`` in a fresh process with a store in ``tmp_path``; return its run."""
    store = tmp_path / "runs"
    (tmp_path / "train.py").write_text(script, encoding="utf-8")
    env = {**os.environ, "RUNFOLIO_STORE": str(store), "RUNFOLIO_CAPTURE_GIT": "0"}
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert done.returncode != 0
    (run_dir,) = (store / "failing").glob("2*")
    return store, yaml.safe_load((run_dir / "run.yaml").read_text(encoding="utf-8"))


def test_an_exception_in_the_with_block_is_recorded_and_shown(tmp_path: Path) -> None:
    store, record = _run(tmp_path, IN_A_WITH_BLOCK)
    assert record["status"] == "FAILED"
    failure = record["failure"]
    assert failure["type"] == "FileNotFoundError"
    assert failure["message"] == "no such data: data/train.csv (password=<redacted>)"
    assert failure["traceback"].endswith(
        "FileNotFoundError: no such data: data/train.csv (password=<redacted>)\n"
    )
    assert 'load("data/train.csv")' in failure["traceback"]
    assert "hunter2" not in str(record)
    shown = CliRunner().invoke(main, ["--store", str(store), "show", record["id"]])
    assert shown.exit_code == 0, shown.output
    section = shown.output.split("\nFailure\n", 1)[1].split("\n\n", 1)[0]
    assert section.startswith(
        "  FileNotFoundError: no such data: data/train.csv (password=<redacted>)\n"
    )
    assert "in load" in section


def test_an_uncaught_exception_outside_a_with_block_is_recorded(tmp_path: Path) -> None:
    _, record = _run(tmp_path, UNCAUGHT_WITHOUT_WITH)
    assert record["status"] == "FAILED"
    assert record["failure"]["type"] == "RuntimeError"
    message = record["failure"]["message"]
    assert message.startswith("diverged: loss is nan xxx")
    assert len(message) == MAX_FAILURE_MESSAGE
    assert message.endswith("…[truncated]")


def test_the_traceback_is_bounded(tmp_path: Path) -> None:
    _, record = _run(tmp_path, DEEP_RECURSION)
    lines = record["failure"]["traceback"].splitlines()
    assert len(lines) <= MAX_TRACEBACK_LINES
    assert all(len(line) <= MAX_TRACEBACK_LINE for line in lines)
    assert lines[-1].startswith("RecursionError: maximum recursion depth exceeded")
    assert record["failure"]["type"] == "RecursionError"


def test_an_interrupted_run_records_no_failure(tmp_path: Path) -> None:
    _, record = _run(tmp_path, INTERRUPTED)
    assert record["status"] == "KILLED" and "failure" not in record


@pytest.mark.parametrize(
    ("text", "kept", "hidden"),
    [
        ("connect to postgresql://app:s3cret@db/x failed", "postgresql://db/x", "s3cret"),
        ("header Authorization: Bearer abcdefghijklmnop", "Bearer <redacted>", "abcdefghij"),
        ("api_key='k-123456' refused", "api_key='<redacted>", "k-123456"),
        ("token ghp_" + "a" * 36 + " expired", "<redacted>", "a" * 36),
        (
            "bad key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKCAQ\n"
            "-----END RSA PRIVATE KEY----- ok",
            "bad key <redacted> ok",
            "MIIEow",
        ),
    ],
)
def test_failure_text_is_redacted_by_the_secrets_policy(text: str, kept: str, hidden: str) -> None:
    from runfolio.tracking.lifecycle import describe_failure

    failure = describe_failure(ValueError(text))
    assert kept in failure["message"] and hidden not in failure["message"]
    assert hidden not in failure["traceback"]
