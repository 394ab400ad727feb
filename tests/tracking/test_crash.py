"""Real crashes and failing disks: what a killed or refused writer leaves behind.

* A worker (``workers/kill_worker.py``) is SIGKILLed at random moments; everything it
  reported as returned must be on disk, YAML files are whole (old or new), the run reads
  as CRASHED, and resuming it works with any torn row kept on a line of its own.
  ``RUNFOLIO_KILL_ROUNDS`` workers are fresh interpreters (30 by default);
  ``RUNFOLIO_FORK_KILL_ROUNDS`` more are forked from this process, runfolio already
  imported, so hundreds of kills stay cheap (270 by default: 300 kills in all).
* A store that becomes read-only, and a disk that fills up, make logging raise
  ``StoreError`` naming the file, and leave what was already logged intact.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from workers.worker_common import load_worker_module

from runfolio import Store, StoreError
from runfolio.store import layout
from runfolio.store.atomic import write_text_atomic
from runfolio.store.metrics import HEADER, MetricRow, read_metrics
from runfolio.store.reader import read_yaml_file
from runfolio.store.scan import scan_store
from runfolio.tracking.capture import capture_environment, installed_packages
from waiting import wait_until

WORKERS = Path(__file__).parent / "workers"
KILL_ROUNDS = int(os.environ.get("RUNFOLIO_KILL_ROUNDS", "30"))
FORK_KILL_ROUNDS = int(os.environ.get("RUNFOLIO_FORK_KILL_ROUNDS", "270"))
MAX_KILL_DELAY = 0.15
RESUME_STEP = 10**6
# The kill tests grow with their round counts (raised by hand for a longer soak): their
# time limit grows with them, instead of pytest's 300 s per test.
SECONDS_PER_KILL_ROUND = 3


kill_worker = load_worker_module("kill_worker")


# -- SIGKILL at random points ---------------------------------------------------------


@dataclass
class Killed:
    """What a killed worker reported before it died: the run and each returned call."""

    run_id: str
    metric_steps: list[int] = field(default_factory=list)
    batch_steps: list[int] = field(default_factory=list)
    tag_steps: list[int] = field(default_factory=list)
    param_steps: list[int] = field(default_factory=list)


def _kill_at_random(store: Path, delay: float, work: Path, env: dict[str, str]) -> Killed:
    """Start a kill worker, SIGKILL it ``delay`` seconds after its run exists, reap it."""
    out, err = work / "stdout.txt", work / "stderr.txt"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(WORKERS / "kill_worker.py"), str(store)],
            stdout=stdout,
            stderr=stderr,
            env=env,
            cwd=work,
        )
    try:

        def started() -> bool:
            assert proc.poll() is None, err.read_text()
            return out.read_bytes().startswith(b"run ")

        wait_until(started, "the worker to start its run")
        time.sleep(delay)  # the point of the test: a kill at a random moment of the run
        proc.send_signal(signal.SIGKILL)
    finally:
        # Reaped before anything reads the run: a zombie's pid still looks alive.
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, err.read_text()
    return _parse_report(out.read_text())


def _expected_rows(steps: int) -> Iterator[tuple[str, int, float]]:
    """The rows the kill worker logs for its first ``steps`` steps, in file order."""
    for step in range(steps):
        yield ("loss", step, kill_worker.loss_value(step))
        if step % kill_worker.BATCH_EVERY == 0:
            for index, key in enumerate(kill_worker.BATCH_KEYS):
                yield (key, step, kill_worker.batch_value(step, index))


def _rows(rows: list[MetricRow]) -> list[tuple[str, int, float]]:
    """Rows without timestamps, for comparison."""
    return [(row.key, row.step, row.value) for row in rows]


def _check_metrics_after_kill(metrics_path: Path, killed: Killed) -> list[MetricRow]:
    """Every reported row is there, exact and in order; at most a torn last row is skipped."""
    text = metrics_path.read_text(encoding="utf-8") if metrics_path.exists() else ""
    metrics = read_metrics(metrics_path)
    if text and not text.endswith("\n"):
        assert len(metrics.problems) == 1, metrics.problems
        assert "incomplete last row" in metrics.problems[0]
    else:
        assert metrics.problems == []
    last_metric = max(killed.metric_steps, default=-1)
    expected = list(_expected_rows(last_metric + 2))
    got = _rows(metrics.rows)
    assert got == expected[: len(got)]  # a prefix of what was logged: nothing lost, nothing wrong
    # Reported calls returned, so their rows must be there ...
    needed = 0
    if last_metric >= 0:
        needed = expected.index(("loss", last_metric, kill_worker.loss_value(last_metric))) + 1
    if killed.batch_steps:
        step, last = max(killed.batch_steps), len(kill_worker.BATCH_KEYS) - 1
        row = (kill_worker.BATCH_KEYS[last], step, kill_worker.batch_value(step, last))
        needed = max(needed, expected.index(row) + 1)
    assert len(got) >= needed
    # ... and nothing beyond the one call that may have returned without being reported.
    step = last_metric + 1
    assert len(got) <= expected.index(("loss", step, kill_worker.loss_value(step))) + 1
    return metrics.rows


def _check_yaml_after_kill(run_dir: Path, killed: Killed) -> None:
    """run.yaml and params.yaml parse and hold the old or the new state, never a mix."""
    data = read_yaml_file(run_dir / layout.RUN_FILE)
    assert data["id"] == killed.run_id
    assert data["status"] == "RUNNING"
    assert data["process"]["pid"] != os.getpid()
    last_metric = max(killed.metric_steps, default=-1)
    tags = data["tags"]
    if "progress" in tags:
        progress = int(tags["progress"])
        assert progress % kill_worker.TAG_EVERY == 0
        assert progress >= max(killed.tag_steps, default=0)
        assert progress <= last_metric  # set after "m <step>" was printed
        # Both tags go in one write, so they always agree.
        assert tags["phase"] == ("even" if progress % 2 == 0 else "odd")
    else:
        assert killed.tag_steps == []
    params_path = run_dir / layout.PARAMS_FILE
    params = read_yaml_file(params_path) if params_path.exists() else {}
    logged = sorted(int(key[1:]) for key in params)
    assert params == {f"p{step}": step for step in logged}
    assert logged == list(range(0, len(logged) * kill_worker.PARAM_EVERY, kill_worker.PARAM_EVERY))
    assert set(killed.param_steps) <= set(logged)
    assert all(step <= last_metric for step in logged)  # logged after its "m <step>"


def _tear_last_row(metrics_path: Path) -> bool:
    """Cut the last row inside its value field, as a write cut short by a kill leaves it.

    Returns:
        Whether there was a row to tear.
    """
    data = metrics_path.read_bytes() if metrics_path.exists() else b""
    if not data.endswith(b"\n") or data.count(b"\n") < 2:
        return False
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    second_comma = data.index(b",", data.index(b",", last_start) + 1)
    os.truncate(metrics_path, second_comma + 1)
    return True


def _resume_and_check(store: Path, run_id: str, rows_before: list[MetricRow]) -> None:
    """Resume the crashed run, log more, end it: the torn fragment is gone, new rows whole."""
    run_dir = store / "x" / run_id
    metrics_path = run_dir / layout.METRICS_FILE
    text_before = metrics_path.read_text(encoding="utf-8") if metrics_path.exists() else ""
    torn = bool(text_before) and not text_before.endswith("\n")
    # No logging call returned from the torn row, so resuming cuts it off rather than
    # risk a fragment cut inside its timestamp parsing as a real row.
    kept = text_before.rsplit("\n", 1)[0] + "\n" if torn else text_before

    run = Store(store).start_run("x", run_id=run_id)
    assert read_yaml_file(run_dir / layout.RUN_FILE)["status"] == "RUNNING"
    run.log_metric("loss", 0.125, step=RESUME_STEP)
    run.log_metrics({"after_resume": -2.5, "loss": 0.0625}, step=RESUME_STEP + 1)
    run.end()

    text = metrics_path.read_text(encoding="utf-8")
    prefix = kept if kept.strip() else HEADER
    assert text.startswith(prefix)
    new_lines = text[len(prefix) :].split("\n")
    assert new_lines[-1] == ""
    assert [line.split(",")[:3] for line in new_lines[:-1]] == [
        ["loss", str(RESUME_STEP), "0.125"],
        ["after_resume", str(RESUME_STEP + 1), "-2.5"],
        ["loss", str(RESUME_STEP + 1), "0.0625"],
    ]
    metrics = read_metrics(metrics_path)
    assert _rows(metrics.rows) == [
        *_rows(rows_before),
        ("loss", RESUME_STEP, 0.125),
        ("after_resume", RESUME_STEP + 1, -2.5),
        ("loss", RESUME_STEP + 1, 0.0625),
    ]
    assert metrics.problems == []

    record = next(r for r in scan_store(store).runs if r.run_id == run_id)
    assert record.status == "FINISHED"
    assert record.metrics["loss"]["last"] == 0.0625
    losses = [r for r in metrics.rows if r.key == "loss"]
    assert record.metrics["loss"]["count"] == len(losses)
    assert not (run_dir / layout.HEARTBEAT_FILE).exists()


@pytest.mark.timeout(max(300, KILL_ROUNDS * SECONDS_PER_KILL_ROUND))
def test_sigkill_at_random_points_keeps_every_returned_write(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    rng = random.Random(20261127)
    delays = [rng.uniform(0, MAX_KILL_DELAY) for _ in range(KILL_ROUNDS)]
    works = [tmp_path / f"round-{round_no}" for round_no in range(KILL_ROUNDS)]
    for work in works:
        work.mkdir()
    # Two workers live at a time (one per core); each is killed and reaped before its
    # round is checked here, in order.
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        kills = [
            pool.submit(_kill_at_random, work / "store", delay, work, worker_env)
            for work, delay in zip(works, delays, strict=True)
        ]
        tears = sum(
            _check_kill_round(work / "store", kill.result(), tear=round_no % 2 == 1)
            for round_no, (work, kill) in enumerate(zip(works, kills, strict=True))
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert tears > 0 or KILL_ROUNDS < 2, "no round resumed from a torn row"


FORK_BATCH = 4
"""Forked workers alive at once: their runs' disk writes overlap, so rounds go faster."""


@pytest.mark.timeout(max(300, FORK_KILL_ROUNDS * SECONDS_PER_KILL_ROUND))
def test_hundreds_of_sigkills_of_forked_workers_keep_every_returned_write(
    tmp_path: Path, worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")
    # What every new run captures once per process, captured here once for all children.
    capture_environment()
    installed_packages()
    rng = random.Random(20261128)
    tears = 0
    for first in range(0, FORK_KILL_ROUNDS, FORK_BATCH):
        rounds = range(first, min(first + FORK_BATCH, FORK_KILL_ROUNDS))
        works = [tmp_path / f"fork-{round_no}" for round_no in rounds]
        delays = [rng.uniform(0, MAX_KILL_DELAY) for _ in rounds]
        # Forked from this thread only, with no other thread running: a child never
        # inherits a lock some other thread held at the fork.
        batch = _fork_and_kill(works, delays)
        for round_no, work, killed in zip(rounds, works, batch, strict=True):
            tears += _check_kill_round(work / "store", killed, tear=round_no % 2 == 1)
            shutil.rmtree(work)  # hundreds of rounds: keep the disk use flat
    assert tears > 0 or FORK_KILL_ROUNDS < 2, "no round resumed from a torn row"


def _fork_and_kill(works: list[Path], delays: list[float]) -> list[Killed]:
    """Fork one kill worker per folder; SIGKILL each its delay after its run exists.

    Each child is a separate process like any other (its own pid, its own open files);
    only the interpreter start-up is skipped. It writes its report lines straight to a
    file descriptor and never returns into pytest. All are reaped before returning.
    """
    pids: list[int] = []
    outs = [work / "stdout.txt" for work in works]
    try:
        for work, out in zip(works, outs, strict=True):
            work.mkdir()
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            pid = os.fork()
            if pid == 0:  # the child: log until killed
                try:
                    sys.stdout = open(fd, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
                    sys.argv = ["kill_worker.py", str(work / "store")]
                    kill_worker.main()
                finally:
                    os._exit(3)
            os.close(fd)
            pids.append(pid)
        kill_at: dict[int, float] = {}
        give_up = time.monotonic() + 60
        while len(kill_at) < len(pids) or any(t > time.monotonic() for t in kill_at.values()):
            now = time.monotonic()
            assert now < give_up, "a forked worker never started its run"
            for pid, out, delay in zip(pids, outs, delays, strict=True):
                if pid not in kill_at and out.read_bytes().startswith(b"run "):
                    kill_at[pid] = now + delay
                    assert os.waitpid(pid, os.WNOHANG) == (0, 0), "a forked worker died early"
            for pid, when in kill_at.items():
                if when <= now:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.001)  # not a wait for one event: this loop also times the kills
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        statuses = [os.waitpid(pid, 0)[1] for pid in pids]  # reaped: zombies look alive
    for status in statuses:
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return [_parse_report(out.read_text()) for out in outs]


def _parse_report(text: str) -> Killed:
    """What a kill worker printed before it died (only lines it finished)."""
    lines = text.split("\n")[:-1]
    killed = Killed(run_id=lines[0].split()[1])
    lists = {"m": killed.metric_steps, "b": killed.batch_steps, "t": killed.tag_steps}
    lists["p"] = killed.param_steps
    for line in lines[1:]:
        kind, step = line.split()
        lists[kind].append(int(step))
    return killed


def _check_kill_round(store: Path, killed: Killed, *, tear: bool) -> bool:
    """Check one killed run, tear its last row when asked, resume it; return whether torn."""
    run_dir = store / "x" / killed.run_id
    metrics_path = run_dir / layout.METRICS_FILE
    rows = _check_metrics_after_kill(metrics_path, killed)
    _check_yaml_after_kill(run_dir, killed)
    scan = scan_store(store)
    assert [(r.run_id, r.status, r.stored_status) for r in scan.runs] == [
        (killed.run_id, "CRASHED", "RUNNING")
    ]
    assert all("incomplete last row" in p.reason for p in scan.problems), scan.problems

    # A real kill rarely lands inside a write: make half the rounds resume from a torn
    # row all the same, cut where a short write would cut it.
    torn = metrics_path.exists() and not metrics_path.read_bytes().endswith(b"\n")
    if not torn and tear and _tear_last_row(metrics_path):
        torn = True
        torn_read = read_metrics(metrics_path)
        assert _rows(torn_read.rows) == _rows(rows[:-1])
        assert len(torn_read.problems) == 1
        assert "incomplete last row" in torn_read.problems[0]
        assert str(metrics_path) in torn_read.problems[0]
        rows = torn_read.rows
        problems = scan_store(store).problems
        assert [(p.path, "incomplete last row" in p.reason) for p in problems] == [(run_dir, True)]
    _resume_and_check(store, killed.run_id, rows)
    return torn


# -- a store that cannot be written ---------------------------------------------------


def _unprivileged_command() -> list[str]:
    """A command prefix that runs a worker without the power to ignore file permissions.

    Root ignores permissions, so as root the worker runs as ``nobody`` via ``setpriv``;
    skips when that is impossible here.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv is not available to drop privileges")
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import runfolio.tracking.client"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot run Python as nobody here: {probe.stderr.strip()[-200:]}")
    return prefix


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary folder outside pytest's private one, so an unprivileged worker can reach it."""
    path = Path(tempfile.mkdtemp(prefix="runfolio-readonly-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for folder, _, _ in os.walk(path):
            os.chmod(folder, 0o755)
        shutil.rmtree(path)


def _make_read_only(root: Path) -> None:
    """Take away every write permission under ``root``."""
    for folder, _, files in os.walk(root):
        for name in files:
            os.chmod(os.path.join(folder, name), 0o444)
        os.chmod(folder, 0o555)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_read_only_store_raises_store_error_and_keeps_data(
    shared_tmp: Path, worker_env: dict[str, str]
) -> None:
    prefix = _unprivileged_command()
    store, go = shared_tmp / "store", shared_tmp / "go"
    store.mkdir()
    if prefix:
        os.chown(store, 65534, 65534)
    env = {**worker_env, "RUNFOLIO_CACHE_DIR": str(shared_tmp / "cache")}
    proc = subprocess.Popen(
        [*prefix, sys.executable, str(WORKERS / "readonly_worker.py"), str(store), str(go)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=shared_tmp,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[:1] == ["ready"], proc.stderr.read() if proc.stderr else ""
        run_id, untouched_id = ready[1], ready[2]
        _make_read_only(store)
        before = _snapshot(store)
        go.touch()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    results: dict[str, Any] = json.loads(out)

    run_dir = store / "ro" / run_id
    named = {
        "log_param": run_dir / layout.PARAMS_FILE,
        "set_tag": run_dir / layout.RUN_FILE,
        "log_text": run_dir,
        "first_metric": store / "ro" / untouched_id / layout.METRICS_FILE,
        "start_run": store / "ro",
        "new_experiment": store,
        "end": run_dir / layout.RUN_FILE,
    }
    for action, path in named.items():
        failure = results[action]
        assert failure is not None, f"{action} wrote into a read-only store"
        assert failure["store_error"], f"{action} raised {failure['type']}: {failure['message']}"
        assert str(path) in failure["message"], (action, failure["message"])
        assert "Permission denied" in failure["message"], (action, failure["message"])

    # Nothing changed on disk: what was logged is intact and no file is half written.
    assert _snapshot(store) == before
    assert not (store / "elsewhere").exists()
    data = read_yaml_file(run_dir / layout.RUN_FILE)
    assert (data["status"], data["tags"]) == ("RUNNING", {"t": "1"})
    assert read_yaml_file(run_dir / layout.PARAMS_FILE) == {"a": 1, "nested": {"b": "x"}}
    metrics = read_metrics(run_dir / layout.METRICS_FILE)
    assert metrics.problems == []
    assert _rows(metrics.rows) == [("m", step, step / 4) for step in range(5)]
    scan = scan_store(store)
    assert scan.problems == []
    assert {r.run_id: r.status for r in scan.runs} == {run_id: "CRASHED", untouched_id: "CRASHED"}

    # Building the site reads the read-only store and writes only the output folder,
    # run by the same unprivileged user (root would ignore the permissions).
    site = shared_tmp / "site"
    site.mkdir()
    if prefix:
        os.chown(site, 65534, 65534)
    build = subprocess.run(
        [*prefix, sys.executable, "-m", "runfolio", "build", str(store), "-o", str(site), "-q"],
        capture_output=True,
        text=True,
        env=env,
        cwd=shared_tmp,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    assert (site / "experiments" / "ro" / "runs" / f"{run_id}.html").is_file()
    assert _snapshot(store) == before


# -- a full disk ----------------------------------------------------------------------


def _fill_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every file opened by ``os.fdopen`` (the atomic writer's path) land on /dev/full.

    The kernel then answers the write with a genuine ENOSPC, as a full disk does, while
    the temporary file really exists in the target folder and must be cleaned up.
    """
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    real_fdopen = os.fdopen

    def fdopen_on_full_disk(fd: int, *args: Any, **kwargs: Any) -> Any:
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, fd)
        os.close(full)
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", fdopen_on_full_disk)


def test_disk_full_during_atomic_write_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "run.yaml"
    target.write_text("status: RUNNING\n", encoding="utf-8")
    _fill_disk(monkeypatch)
    with pytest.raises(OSError) as caught:
        write_text_atomic(target, "status: FINISHED\n" * 10_000)
    assert caught.value.errno == errno.ENOSPC
    assert target.read_text(encoding="utf-8") == "status: RUNNING\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.yaml"]


def test_disk_full_while_logging_raises_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RUNFOLIO_CAPTURE_GIT", "0")  # pytest's entry point is in this repo
    store = tmp_path / "store"
    run = Store(store).start_run("full", run_name="r")
    try:
        run.log_params({"a": 1})
        run.set_tags({"t": "1"})
        run.log_metric("m", 0.5, step=1)
        files = ("run.yaml", "params.yaml", "metrics.csv")
        before = {name: (run.path / name).read_bytes() for name in files}
        with monkeypatch.context() as patch:
            _fill_disk(patch)
            with pytest.raises(StoreError, match="No space left on device") as param_error:
                run.log_param("b", 2)
            with pytest.raises(StoreError, match="No space left on device") as tag_error:
                run.set_tag("t", "2")
        assert str(run.path / layout.PARAMS_FILE) in str(param_error.value)
        assert str(run.path / layout.RUN_FILE) in str(tag_error.value)
        assert {name: (run.path / name).read_bytes() for name in files} == before
        assert [p.name for p in run.path.rglob("*.tmp")] == []
        # The disk has room again: the same calls now work.
        run.log_param("b", 2)
        run.set_tag("t", "2")
    finally:
        run.end()
    data = read_yaml_file(run.path / layout.RUN_FILE)
    assert (data["status"], data["tags"]) == ("FINISHED", {"t": "2"})
    assert read_yaml_file(run.path / layout.PARAMS_FILE) == {"a": 1, "b": 2}


def _private_tmpfs_command(mountpoint: Path, size_kb: int) -> list[str]:
    """A command prefix running the rest on a tiny tmpfs at ``mountpoint``, seen only by it.

    Skips unless this process may make mount namespaces (root, or unprivileged user
    namespaces); the mount disappears with the worker, so nothing is left mounted.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not available")
    mount = f"mount -t tmpfs -o size={size_kb}k runfolio-full {mountpoint}"
    ns = [unshare, "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        ns.insert(1, "--map-root-user")
    probe = subprocess.run([*ns, "sh", "-c", mount], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a private tmpfs here: {probe.stderr.strip()}")
    return [*ns, "sh", "-c", f'{mount} && exec "$@"', "sh"]


def test_really_full_disk_raises_store_error_and_keeps_returned_rows(
    tmp_path: Path, worker_env: dict[str, str]
) -> None:
    mountpoint, out = tmp_path / "small", tmp_path / "copied"
    mountpoint.mkdir()
    prefix = _private_tmpfs_command(mountpoint, size_kb=256)
    proc = subprocess.run(
        [*prefix, sys.executable, str(WORKERS / "full_disk_worker.py"), str(mountpoint), str(out)],
        capture_output=True,
        text=True,
        env=worker_env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert list(mountpoint.iterdir()) == []  # the tmpfs was private to the worker
    results = json.loads(proc.stdout)
    run_dir = out / "full" / results["run_id"]
    inner_dir = mountpoint / "full" / results["run_id"]

    failure = results["metric"]
    assert failure is not None, "the disk never filled up"
    assert failure["store_error"], f"log_metric raised {failure['type']}: {failure['message']}"
    assert str(inner_dir / layout.METRICS_FILE) in failure["message"]
    assert "No space left on device" in failure["message"]
    failing = {"log_param": layout.PARAMS_FILE, "set_tag": layout.RUN_FILE, "end": layout.RUN_FILE}
    for action, name in failing.items():
        failure = results[action]
        assert failure is not None, f"{action} wrote to a full disk"
        assert failure["store_error"], f"{action} raised {failure['type']}: {failure['message']}"
        assert str(inner_dir / name) in failure["message"]
        assert "No space left on device" in failure["message"]

    # Every call that returned is on disk; the call that failed may have left a torn row.
    metrics_path = run_dir / layout.METRICS_FILE
    metrics = read_metrics(metrics_path)
    returned = results["returned"]
    assert returned > 1000
    assert _rows(metrics.rows) == [("m", step, step / 3) for step in range(returned)]
    if metrics_path.read_bytes().endswith(b"\n"):
        assert metrics.problems == []
    else:
        assert len(metrics.problems) == 1 and "incomplete last row" in metrics.problems[0]
    # The metadata files hold what was written before the disk filled up, whole.
    data = read_yaml_file(run_dir / layout.RUN_FILE)
    assert (data["status"], data["tags"]) == ("RUNNING", {"t": "1"})
    assert read_yaml_file(run_dir / layout.PARAMS_FILE) == {"a": 1}
    assert [p.name for p in out.rglob("*.tmp")] == []
