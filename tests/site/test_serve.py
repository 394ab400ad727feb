"""``runfolio serve``: a real server on 127.0.0.1 over a copy of the example store.

The server runs in a thread (:class:`LiveSite`) or as the real command in a subprocess.
Rebuilds are awaited by polling with a generous deadline; nothing asserts on speed.
"""

from __future__ import annotations

import errno
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from runfolio import Run, Store
from runfolio.site.livereload import EPOCH_PATH, SCRIPT_PATH
from runfolio.site.serve import LiveSite, ServeError
from runfolio.site.watch import SiteWatcher
from waiting import wait_until

EXAMPLE_STORE = Path(__file__).resolve().parents[2] / "example_runs"
DEADLINE = 30.0  # seconds; a loaded CI machine is slow, a broken watcher never gets there
NEW_ID = "20261127-235959-0123456789"


class Messages:
    """Collects what the server prints (it runs in other threads)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, bool]] = []
        self._lock = threading.Lock()

    def __call__(self, message: str, err: bool = False) -> None:
        with self._lock:
            self.lines.append((message, err))

    def errors(self) -> list[str]:
        with self._lock:
            return [message for message, err in self.lines if err]


def _get(url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` exactly as written (no client-side normalisation of ``..``)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _get_as(url: str, path: str, host: str | None) -> int:
    """The status of GET ``path`` sent with ``Host: host`` (no Host header when None)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _copy_run(store: Path, new_id: str) -> Path:
    """Add a run to the store: a copy of an existing one under a new id (folder and run.yaml)."""
    source = sorted((store / "digits-mlp").glob("2026*"))[0]
    target = source.parent / new_id
    shutil.copytree(source, target)
    run_yaml = target / "run.yaml"
    text = re.sub(r"(?m)^id: .*$", f"id: {new_id}", run_yaml.read_text(encoding="utf-8"))
    run_yaml.write_text(text, encoding="utf-8")
    return target


def _small_store(parent: Path) -> Path:
    """A copy of one experiment of the example store (a third of the build time)."""
    copy = parent / "runs"
    shutil.copytree(EXAMPLE_STORE / "digits-mlp", copy / "digits-mlp")
    return copy


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store of its own for the test; runfolio.yaml would live in tmp_path (no repository)."""
    return _small_store(tmp_path)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """One site, in a temporary folder, for the tests that only read; no watcher thread."""
    store = _small_store(tmp_path_factory.mktemp("shared"))
    with LiveSite(store, port=0, watch=False, echo=Messages()) as site:
        yield site


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Run]]:
    """A store with one run still being logged (experiment ``live``), and that run."""
    monkeypatch.chdir(tmp_path)  # outside any git repository: the run captures no git state
    store = Store(tmp_path / "runs")
    with store.start_run("live", run_name="training") as run:
        run.log_metric("loss", 0.5, step=0)
        yield store.root, run


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    """A theme folder that changes nothing yet (static/ only)."""
    folder = tmp_path / "theme"
    (folder / "static").mkdir(parents=True)
    (folder / "static" / "extra.css").write_text("body {}\n", encoding="utf-8")
    return folder


@pytest.fixture
def live(store: Path, theme: Path, tmp_path: Path) -> Iterator[tuple[LiveSite, Messages]]:
    """The site of ``store`` served in this process, rebuilt 0.1 s after changes settle."""
    messages = Messages()
    site = LiveSite(store, tmp_path / "site", theme=theme, port=0, debounce=0.1, echo=messages)
    with site:
        yield site, messages


def test_a_same_size_rewrite_that_keeps_the_mtime_triggers_a_rebuild(
    live: tuple[LiveSite, Messages], store: Path
) -> None:
    """As ``cp -p`` or ``rsync -t`` would leave it: only the ctime (and content) differ."""
    site, _messages = live
    run_yaml = sorted((store / "digits-mlp").glob("2026*"))[0] / "run.yaml"
    before = run_yaml.stat()
    text = run_yaml.read_text(encoding="utf-8")
    name = re.search(r"(?m)^name: (.+)$", text)
    assert name is not None
    renamed = "Z" * len(name.group(1))
    with open(run_yaml, "r+b") as handle:  # in place: same inode, same size
        handle.write(text.replace(name.group(0), f"name: {renamed}").encode())
    os.utime(run_yaml, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = run_yaml.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    page = "/experiments/digits-mlp/index.html"
    wait_until(
        lambda: renamed.encode() in _get(site.url, page)[2],
        "the renamed run",
        DEADLINE,
        interval=0.05,
    )


def test_serves_the_site_uncached_on_localhost(shared_site: LiveSite) -> None:
    site = shared_site
    assert site.url.startswith("http://127.0.0.1:")
    status, headers, body = _get(site.url, "/index.html")
    assert status == 200
    assert b"digits-mlp" in body and b"</html>" in body
    assert headers["Cache-Control"] == "no-store"
    status, _headers, root = _get(site.url, "/")
    assert (status, root) == (200, body)
    assert _get(site.url, "/assets/site.css")[0] == 200


def test_never_serves_files_outside_the_site(shared_site: LiveSite, tmp_path: Path) -> None:
    site = shared_site
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    assert site.output is not None
    os.symlink(secret, site.output / "linked.html")
    os.symlink(tmp_path, site.output / "linked-folder")
    for path in (
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2f..%2fsecret.txt",
        "/linked.html",
        "/linked-folder/secret.txt",
        "/linked-folder/",
        "/experiments/",  # a folder without index.html: no listing
    ):
        status, _headers, body = _get(site.url, path)
        assert status in (403, 404), path
        assert b"TOP SECRET" not in body and b"root:" not in body, path


def test_rebuilds_on_changes_and_keeps_the_last_good_site(
    live: tuple[LiveSite, Messages], store: Path, theme: Path
) -> None:
    site, messages = live
    status, _headers, css = _get(site.url, "/assets/extra.css")  # the theme is in use
    assert (status, css) == (200, b"body {}\n")
    page = f"/experiments/digits-mlp/runs/{NEW_ID}.html"
    assert _get(site.url, page)[0] == 404

    _copy_run(store, NEW_ID)
    wait_until(
        lambda: _get(site.url, page)[0] == 200, "the new run's page", DEADLINE, interval=0.05
    )
    assert NEW_ID.encode() in _get(site.url, page)[2]

    # A malformed run is reported, left out, and the rest is served.
    broken_run = store / "digits-mlp" / "20261127-235959-00000000ff"
    broken_run.mkdir()
    (broken_run / "run.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    # Awaited by its warning: a rebuild still finishing the copy above may count first.
    wait_until(
        lambda: any(broken_run.name in line for line in messages.errors()),
        "the rebuild after a malformed run",
        DEADLINE,
        interval=0.05,
    )
    status, _headers, home = _get(site.url, "/index.html")
    assert status == 200 and broken_run.name.encode() in home
    assert _get(site.url, page)[0] == 200

    # A template that does not parse fails the rebuild; the last good site stays.
    (theme / "templates").mkdir()
    (theme / "templates" / "home.html").write_text("{% if %}\n", encoding="utf-8")
    wait_until(lambda: site.failures == 1, "the failed rebuild", DEADLINE, interval=0.05)
    assert any("Rebuild failed" in line for line in messages.errors())
    status, _headers, body = _get(site.url, "/index.html")
    assert (status, body) == (200, home)
    assert _get(site.url, page)[0] == 200

    # Fixing the theme is a change like any other.
    builds = site.builds
    (theme / "templates" / "home.html").write_text(
        '{% extends "default:home.html" %}{% block title %}FIXED-THEME{% endblock %}\n',
        encoding="utf-8",
    )
    wait_until(lambda: site.builds > builds, "the rebuild after the fix", DEADLINE, interval=0.05)
    assert b"FIXED-THEME" in _get(site.url, "/index.html")[2]


def test_taken_port_is_an_error(store: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"port {port}"):
            LiveSite(store, port=port, echo=Messages()).start()


def test_a_store_past_the_systems_watch_limit_is_an_error_that_names_the_setting(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: SiteWatcher, paths: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached", str(store / "digits-mlp"))

    monkeypatch.setattr(SiteWatcher, "watch", refuse)
    site = LiveSite(store, port=0, echo=Messages())
    with pytest.raises(ServeError, match=re.escape("fs.inotify.max_user_watches")) as raised:
        site.start()
    assert str(store / "digits-mlp") in str(raised.value)


def test_cli_serves_until_sigint_and_exits_0(store: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from runfolio.cli import main; main()"]
    process = subprocess.Popen(
        [*command, "serve", str(store), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        lines: list[str] = []
        # readline blocks: read in a thread so a hung server fails the test instead.
        reader = threading.Thread(
            target=lambda: lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        wait_until(
            lambda: any(line.startswith("Serving ") for line in lines),
            "Serving <url>",
            DEADLINE,
            interval=0.05,
        )
        match = re.search(r"Serving (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)", "".join(lines))
        assert match, lines
        built_in = re.search(r"Building the site of .* in (.+)", lines[0])
        assert built_in, lines
        output = Path(built_in.group(1).strip())
        assert output.is_dir()
        status, _headers, body = _get(match.group(1), "/index.html")
        assert status == 200 and b"digits-mlp" in body

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=DEADLINE) == 0
        assert not output.exists()  # the temporary site is cleaned up
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# ------------------------------------------------------------------ watching a live run


def test_a_metric_logged_by_a_live_run_is_rebuilt_and_served(
    running: tuple[Path, Run], tmp_path: Path
) -> None:
    root, run = running
    page = f"/experiments/live/runs/{run.run_id}.html"
    with LiveSite(root, tmp_path / "site", port=0, debounce=0.1, echo=Messages()) as site:
        status, _headers, body = _get(site.url, page)
        assert status == 200 and b">0.5<" in body and b"0.123456" not in body
        epoch = site.epoch.value
        run.log_metric("loss", 0.123456, step=1)  # one row appended to metrics.csv
        wait_until(
            lambda: b">0.123456<" in _get(site.url, page)[2],
            "the new value served",
            DEADLINE,
            interval=0.05,
        )
        # Once the rebuild is reported (just after its files are written), pages reload.
        wait_until(lambda: site.epoch.value != epoch, "the new epoch", DEADLINE, interval=0.05)


def test_a_burst_of_appends_is_rebuilt_a_few_times_not_once_per_append(
    running: tuple[Path, Run], tmp_path: Path
) -> None:
    root, run = running
    page = f"/experiments/live/runs/{run.run_id}.html"
    appends = 60
    with LiveSite(root, tmp_path / "site", port=0, debounce=0.5, echo=Messages()) as site:
        builds = site.builds
        for step in range(1, appends + 1):
            run.log_metric("loss", 0.25 + step / 1000, step=step)
            time.sleep(0.02)  # a fast training loop: well within the debounce
        final = f">{0.25 + appends / 1000}<".encode()
        wait_until(
            lambda: final in _get(site.url, page)[2],
            "the last value served",
            DEADLINE,
            interval=0.05,
        )
        wait_until(
            lambda: site.builds > builds, "the rebuild to be counted", DEADLINE, interval=0.05
        )
        assert site.builds - builds <= 2, f"{site.builds - builds} rebuilds for {appends} appends"


def test_a_site_and_caches_written_inside_the_store_do_not_rebuild_it(
    running: tuple[Path, Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their writes would be reported with the next change (the watcher reports in order)."""
    root, run = running
    messages = Messages()
    page = f"/experiments/live/runs/{run.run_id}.html"
    output, caches = root / "_site", root / "_cache"
    monkeypatch.setenv("RUNFOLIO_CACHE_DIR", str(caches))
    with LiveSite(root, output, port=0, debounce=0.1, verbose=True, echo=messages) as site:
        for step, value in ((1, "0.111111"), (2, "0.222222")):
            run.log_metric("loss", float(value), step=step)
            wait_until(
                lambda: f">{value}<".encode() in _get(site.url, page)[2],  # noqa: B023
                value,
                DEADLINE,
                interval=0.05,
            )
    assert any(caches.rglob("*.marshal")), "the build wrote no cache inside the store"
    changed = [line for line in messages.errors() if line.startswith("Changed: ")]
    assert changed, messages.lines
    assert not [line for line in changed if str(output) in line or str(caches) in line]
    assert any(line.endswith(f"{run.run_id}/metrics.csv") for line in changed), changed


# ------------------------------------------------------------------------ live reload


def test_pages_are_served_with_the_live_reload_script_and_files_on_disk_are_not(
    shared_site: LiveSite,
) -> None:
    site = shared_site
    assert site.output is not None
    for path in ("/index.html", "/", "/experiments/digits-mlp/index.html"):
        status, headers, body = _get(site.url, path)
        assert status == 200
        tag = (
            f'<script src="{SCRIPT_PATH}" data-poll="{EPOCH_PATH}" '
            f'data-epoch="{site.epoch.value}"></script></body>'
        )
        assert tag.encode() in body, path
        assert int(headers["Content-Length"]) == len(body)
    status, headers, script = _get(site.url, SCRIPT_PATH)
    assert status == 200 and b"location.reload()" in script
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    # The built files are the site as published: nothing of the preview in them.
    for file in site.output.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert b"livereload" not in data and b".runfolio/" not in data, file


def test_the_live_reload_poll_answers_a_stale_epoch_at_once_and_a_current_one_after_a_change(
    live: tuple[LiveSite, Messages], store: Path
) -> None:
    site, _messages = live
    status, _headers, body = _get(site.url, f"{EPOCH_PATH}?since=1")
    assert (status, body) == (200, str(site.epoch.value).encode())  # at once: well within 10 s

    epoch = str(site.epoch.value)
    answers: list[tuple[int, dict[str, str], bytes]] = []
    poll = threading.Thread(
        target=lambda: answers.append(_get(site.url, f"{EPOCH_PATH}?since={epoch}")), daemon=True
    )
    poll.start()
    _copy_run(store, NEW_ID)  # the site changes: the held poll is answered
    poll.join(DEADLINE)
    assert answers, "the poll was not answered after the rebuild"
    status, headers, body = answers[0]
    assert status == 200 and body.decode() == str(site.epoch.value) != epoch
    assert headers["Cache-Control"] == "no-store"
    assert _get(site.url, f"/experiments/digits-mlp/runs/{NEW_ID}.html")[0] == 200


def test_a_rebuild_that_changes_nothing_does_not_reload_pages(shared_site: LiveSite) -> None:
    epoch = shared_site.epoch.value
    assert shared_site.rebuild() is True
    assert shared_site.epoch.value == epoch


@pytest.mark.parametrize(
    "path", ["/.runfolio/", "/.runfolio/livereload.css", "/%2Erunfolio/livereload.js"]
)
def test_nothing_else_is_served_under_the_live_reload_folder(
    shared_site: LiveSite, path: str
) -> None:
    assert _get(shared_site.url, path)[0] == 404


@pytest.mark.parametrize("path", [f"{EPOCH_PATH}?since=1", SCRIPT_PATH])
@pytest.mark.parametrize(
    "host", ["attacker.example:{port}", "127.0.0.1.attacker.example:{port}", "localhost", None]
)
def test_the_live_reload_paths_refuse_a_foreign_host(
    shared_site: LiveSite, path: str, host: str | None
) -> None:
    port = urlsplit(shared_site.url).port
    assert _get_as(shared_site.url, path, f"127.0.0.1:{port}") == 200
    expected = 400 if host is None else 421
    assert _get_as(shared_site.url, path, host and host.format(port=port)) == expected
