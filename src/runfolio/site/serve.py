"""``runfolio serve``: build the site, serve it on 127.0.0.1, rebuild it when its inputs change.

A :class:`~http.server.ThreadingHTTPServer` serves the site folder; a
:class:`~runfolio.site.watch.SiteWatcher` is told by the operating system when the
store, the theme folders or ``runfolio.yaml`` change. A change is rebuilt once the
files have stopped changing for a moment (debounce), incrementally, in place; a
rebuild that fails is reported and the last good site stays served, because rendering
finishes before :func:`~runfolio.site.writer.write_site` touches the folder. Open pages
reload themselves when a rebuild changed the site (:mod:`runfolio.site.livereload`:
the server adds the script to the pages it sends, never to the files it built).

Every response says ``Cache-Control: no-store``, so a reload shows the latest build.
Only regular files inside the site folder are served: ``..`` is normalised away, and a
path whose real location (symlinks resolved) is outside the folder is a 404, as is a
folder without ``index.html`` (no listings) and a dot-named file or folder outside a
run's own files (the build's manifest, ``.nojekyll``, a ``.git`` of a Pages worktree);
the live-reload script and its poll are answered from memory.

The preview is for this machine only, and a web page the user visits elsewhere can
still reach 127.0.0.1 by DNS rebinding (its own host name, re-pointed at 127.0.0.1):
so a request is answered only when its ``Host`` header names this server (``127.0.0.1``
or ``localhost`` at its port); any other gets 421, a missing one 400. Every response
also carries ``X-Content-Type-Options: nosniff`` and the Content-Security-Policy the
site's pages declare, so a published file is never run as another type than its own.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from runfolio.config import CONFIG_FILE, store_config_root
from runfolio.errors import RunfolioError
from runfolio.site.build import BuildReport, build_site
from runfolio.site.config import load_site_config
from runfolio.site.livereload import EPOCH_PATH, SCRIPT, SCRIPT_PATH, BuildEpoch, inject_script
from runfolio.site.theme import resolve_theme_chain
from runfolio.site.watch import SiteWatcher
from runfolio.store.cache import cache_dir
from runfolio.store.layout import is_run_id

HOST = "127.0.0.1"
"""The only address served: the preview is for this machine, never the network."""

LOCAL_NAMES = (HOST, "localhost")
"""The host names a request may address the server by (with its port)."""

_CHANGES_SHOWN = 10
"""How many changed files a verbose server names before a rebuild."""

_PAGE_SUFFIXES = (".html", ".htm")
"""The files the live-reload script is added to."""

_META_POLICY = re.compile(
    rb'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', re.IGNORECASE
)


class Echo(Protocol):
    """Prints a message, to stderr when ``err`` (``click.echo`` fits)."""

    def __call__(self, message: str, *, err: bool = False) -> None: ...


class ServeError(RunfolioError):
    """The preview server cannot start (the port is taken, or cannot be bound)."""


def _print(message: str, err: bool = False) -> None:
    """Print a line at once (a parent process may be reading the pipe)."""
    print(message, file=sys.stderr if err else sys.stdout, flush=True)


class _SiteHandler(SimpleHTTPRequestHandler):
    """Serve the files of one site folder, uncached, and nothing outside it.

    HTML pages are sent with the live-reload script of ``epoch``; the script and its
    poll are answered from memory.
    """

    server_version = "runfolio"

    def __init__(
        self, *args: Any, directory: str, log: Echo | None, epoch: BuildEpoch, **kwargs: Any
    ) -> None:
        self._log = log
        self._epoch = epoch
        super().__init__(*args, directory=directory, **kwargs)

    def send_head(self) -> Any:
        """Refuse other hosts, dot-named files, and anything not a file inside the site."""
        address = self.server.server_address
        assert isinstance(address, tuple)  # an IP socket's (host, port)
        problem = _host_problem(self.headers.get("Host"), address[1])
        if problem is not None:
            self.send_error(*problem)
            return None
        route = urlsplit(self.path)
        if route.path == SCRIPT_PATH:
            return self._send_bytes(SCRIPT, "text/javascript; charset=utf-8")
        if route.path == EPOCH_PATH:
            since = parse_qs(route.query).get("since", [""])[0]
            epoch = self._epoch.wait_past(since)
            return self._send_bytes(str(epoch).encode("ascii"), "text/plain; charset=utf-8")
        if _is_hidden(self.path):
            self.send_error(404, "File not found")
            return None
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?", 1)[0].split("#", 1)[0].endswith("/"):
            # The stdlib then serves the folder's index.html: check that file instead.
            path = os.path.join(path, "index.html")
        root = os.path.realpath(self.directory)
        real = os.path.realpath(path)
        if real != root and os.path.commonpath([root, real]) != root:
            self.send_error(404, "File not found")
            return None
        if real.lower().endswith(_PAGE_SUFFIXES) and not path.endswith("/"):
            # The epoch first: a page read after a rebuild with an older epoch only
            # reloads once more, whereas the other order could miss the rebuild.
            epoch = self._epoch.value
            try:
                with open(real, "rb") as file:
                    body = file.read()
            except OSError:
                self.send_error(404, "File not found")
                return None
            return self._send_bytes(inject_script(body, epoch), self.guess_type(real))
        return super().send_head()

    def _send_bytes(self, body: bytes, content_type: str) -> io.BytesIO:
        """Send the headers of a 200 answer with ``body``; return the body to copy out."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        """No folder listings: a published site has none either."""
        self.send_error(404, "File not found")

    def end_headers(self) -> None:
        # A reload must show the latest build, never a cached page of an older one.
        self.send_header("Cache-Control", "no-store")
        # A file is only ever what its suffix says (a .txt copy never runs as script),
        # and the pages' policy holds for every response, published files included.
        self.send_header("X-Content-Type-Options", "nosniff")
        policy = getattr(self.server, "content_security_policy", None)
        if policy:
            self.send_header("Content-Security-Policy", policy)
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request, when verbose."""
        if self._log is not None:
            self._log(f"{self.command} {self.path} {getattr(code, 'value', code)}", err=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are logged by :meth:`log_request` only."""


def _host_problem(host: str | None, port: int) -> tuple[int, str] | None:
    """The error to answer a request with for its ``Host`` header, None when it is ours."""
    if not host:
        return 400, "Missing Host header"
    name, sep, given_port = host.strip().lower().rpartition(":")
    if sep and name in LOCAL_NAMES and given_port == str(port):
        return None
    return 421, "Misdirected Request: this server answers only to its own address"


def _is_hidden(request_path: str) -> bool:
    """Whether a request names a dot-named file or folder that is not a run's own file.

    The path is read as ``translate_path`` reads it (query and fragment cut, then
    percent-decoded and normalised), so no spelling (``%2E``, ``//.git``, ``a/../.git``)
    reaches a file it refuses.
    A run's own files (``experiments/<folder>/runs/<run id>/...``) may be dot-named
    (``.hydra/config.yaml``): the build published them, having refused ``.git``
    folders, ``.htaccess`` and credential-named files. Elsewhere a dot-named part is
    never the site's: the build's manifest, ``.nojekyll``, a Pages worktree's ``.git``.
    """
    import posixpath
    from urllib.parse import unquote

    path = posixpath.normpath(unquote(request_path.split("?", 1)[0].split("#", 1)[0]))
    parts = [part for part in path.split("/") if part]
    hidden = [index for index, part in enumerate(parts) if part.startswith(".")]
    if not hidden:
        return False
    in_run = len(parts) > 4 and parts[0] == "experiments" and parts[2] == "runs"
    return not (in_run and is_run_id(parts[3]) and hidden[0] > 3)


def site_policy(output: Path) -> str | None:
    """The Content-Security-Policy the site's home page declares, None when it has none.

    Read from the built page rather than repeated here, so a theme that changes the
    policy (the ``content_security_policy`` block) is served with its own.
    """
    try:
        with open(output / "index.html", "rb") as page:
            head = page.read(4096)
    except OSError:
        return None
    found = _META_POLICY.search(head)
    return found.group(1).decode("utf-8", "replace").replace("&#39;", "'") if found else None


class _QuietServer(ThreadingHTTPServer):
    """A threading server that does not print tracebacks when a browser drops a connection."""

    daemon_threads = True
    content_security_policy: str | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore: a closed connection or cancelled download harms nothing."""


class LiveSite:
    """A site built from a store, served on 127.0.0.1 and rebuilt when its inputs change.

    Use it as a context manager (tests do)::

        with LiveSite(store, port=0) as site:
            urllib.request.urlopen(site.url + "index.html")

    or call :meth:`start` and :meth:`close`. :attr:`builds` and :attr:`failures` count
    the builds that worked and failed; :attr:`epoch` moves when a rebuild changed the site.
    """

    def __init__(
        self,
        store: Path,
        output: Path | None = None,
        *,
        theme: str | os.PathLike[str] | None = None,
        port: int = 8000,
        verbose: bool = False,
        debounce: float = 0.3,
        watch: bool = True,
        echo: Echo = _print,
    ) -> None:
        """Prepare (nothing runs until :meth:`start`).

        Args:
            store: the run store folder.
            output: the site folder; default a new temporary folder, removed on close.
            theme: as for :func:`~runfolio.site.build.build_site`.
            port: the port on 127.0.0.1; 0 picks a free one.
            verbose: print one line per request, and the changes that start a rebuild.
            debounce: after a change, wait until the inputs have been still this long.
            watch: watch the inputs and rebuild on changes (off: call :meth:`rebuild`).
            echo: prints messages (default: print to stdout / stderr).
        """
        self.store = Path(store).absolute()
        self._own_output = output is None
        self.output = Path(output).absolute() if output is not None else None
        self.theme = theme
        self.port = port
        self.verbose = verbose
        self.debounce = debounce
        self._watch = watch
        self._echo = echo
        self.config_root = store_config_root(self.store)
        self.builds = 0
        self.failures = 0
        self.last_error: BaseException | None = None
        self._problems: set[str] = set()
        self._server: _QuietServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.epoch = BuildEpoch()
        self.watcher = SiteWatcher()

    @property
    def url(self) -> str:
        """The site's address, ending in ``/``."""
        if self._server is None:
            raise ServeError("the site is not being served yet")
        return f"http://{HOST}:{self._server.server_port}/"

    def start(self) -> str:
        """Bind the port, build the site, start serving and watching. Returns the URL.

        Raises:
            ServeError: the port cannot be bound, or the inputs cannot be watched.
            RunfolioError: the first build failed (nothing is served then).
        """
        if self._stop.is_set():
            raise ServeError("a closed site cannot be started again")
        try:
            server = self._bind()
            if self.output is None:
                self.output = Path(tempfile.mkdtemp(prefix="runfolio-serve-"))
            self._echo(f"Building the site of {self.store} in {self.output}")
            # The build writes the site and the reading caches: neither is a change.
            self.watcher = SiteWatcher(ignore=[self.output, cache_dir()])
            if self._watch:
                # Before the build, so that a change made during it is rebuilt.
                self._watch_inputs()
            self._report(build_site(self.store, self.output, **self._build_options()), first=True)
            server.content_security_policy = site_policy(self.output)
        except BaseException:
            self.close()
            raise
        handler = partial(
            _SiteHandler,
            directory=str(self.output),
            log=self._echo if self.verbose else None,
            epoch=self.epoch,
        )
        server.RequestHandlerClass = handler
        self._spawn(server.serve_forever, "runfolio-serve-http")
        if self._watch:
            self._spawn(self._watch_loop, "runfolio-serve-watch")
        return self.url

    def rebuild(self) -> bool:
        """Build again; on failure report the error and keep the last good site."""
        assert self.output is not None
        try:
            report = build_site(self.store, self.output, **self._build_options())
        except Exception as exc:  # any failure, a theme's template error included
            self.failures += 1
            self.last_error = exc
            message = str(exc) if isinstance(exc, RunfolioError) else f"{type(exc).__name__}: {exc}"
            self._echo(f"Rebuild failed, still serving the last good site: {message}", err=True)
            return False
        finally:
            if self._watch:
                # The theme runfolio.yaml names may have changed, or the store been re-made.
                self._watch_inputs()
        if self._server is not None:
            self._server.content_security_policy = site_policy(self.output)
        self._report(report, first=False)
        if report.files_written or report.files_removed:
            self.epoch.advance()  # open pages reload
        return True

    def wait(self) -> None:
        """Block until :meth:`close` (or Ctrl-C, as KeyboardInterrupt, in the main thread)."""
        # A timed wait keeps the main thread responsive to SIGINT on every platform.
        while not self._stop.wait(0.5):
            pass

    def close(self) -> None:
        """Stop serving and watching; remove the site folder if it was a temporary one."""
        self._stop.set()
        self.watcher.close()
        self.epoch.close()  # pages waiting for a rebuild are answered, their threads end
        if self._server is not None and self._threads:
            # Only once serve_forever runs: shutdown() would wait for it forever otherwise.
            self._server.shutdown()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        if self._server is not None:
            self._server.server_close()
        if self._own_output and self.output is not None:
            shutil.rmtree(self.output, ignore_errors=True)

    def __enter__(self) -> LiveSite:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _bind(self) -> _QuietServer:
        """Listen on 127.0.0.1 before building, so a taken port fails at once."""
        try:
            server = _QuietServer((HOST, self.port), SimpleHTTPRequestHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(
                    f"port {self.port} of {HOST} is in use; choose another with --port "
                    "(--port 0 picks a free one)"
                ) from exc
            raise ServeError(f"cannot listen on {HOST}:{self.port}: {exc.strerror}") from exc
        self._server = server
        return server

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        """Run ``target`` in a daemon thread that :meth:`close` joins."""
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch_loop(self) -> None:
        """Rebuild after each burst of changes until closed; an error is printed, never fatal."""
        # A run that logs all the time never lets its store settle: rebuild at least this often.
        longest = max(5.0, 10 * self.debounce)
        while (changed := self.watcher.wait(quiet=self.debounce, longest=longest)) is not None:
            if self.verbose:
                self._echo_changes(changed)
            try:
                self.rebuild()
            except Exception as exc:  # the watcher must outlive any one bad moment
                self._echo(f"Watching failed: {type(exc).__name__}: {exc}", err=True)

    def _echo_changes(self, changed: frozenset[str]) -> None:
        """Say which files start a rebuild (a few: a git checkout changes thousands)."""
        paths = sorted(changed)
        for path in paths[:_CHANGES_SHOWN]:
            self._echo(f"Changed: {path}", err=True)
        if len(paths) > _CHANGES_SHOWN:
            self._echo(f"Changed: ... and {len(paths) - _CHANGES_SHOWN:,} more", err=True)

    def _watch_inputs(self) -> None:
        """Watch what a build reads now (see :meth:`_inputs`).

        Raises:
            ServeError: a folder cannot be watched (the system's limit of watches, say).
        """
        try:
            self.watcher.watch(self._inputs())
        except OSError as exc:
            raise ServeError(
                f"cannot watch {exc.filename or self.store} for changes: {exc.strerror or exc} "
                "(on Linux, a store of very many folders may need a higher "
                "fs.inotify.max_user_watches)"
            ) from exc

    def _build_options(self) -> dict[str, Any]:
        """The keyword arguments of every build."""
        return {"theme": self.theme, "config_root": self.config_root}

    def _inputs(self) -> list[Path]:
        """What a build reads: the store, runfolio.yaml and the theme folders."""
        return [self.store, self.config_root / CONFIG_FILE, *self._theme_folders()]

    def _theme_folders(self) -> list[Path]:
        """The folders of the theme chain, or the ones watched so far when it cannot be found.

        A broken runfolio.yaml or a theme folder being edited must not stop the watching:
        its next fix is a change like any other.
        """
        try:
            theme = self.theme
            if theme is None:
                theme = load_site_config(self.config_root).theme
            chain = resolve_theme_chain(theme, base=self.config_root)
        except RunfolioError:
            fixed = (str(self.store), str(self.config_root / CONFIG_FILE))
            return [Path(p) for p in self.watcher.paths if p not in fixed]
        return list(chain.folders)

    def _report(self, report: BuildReport, *, first: bool) -> None:
        """Print what a build did, and the store problems not printed before."""
        self.builds += 1
        problems = set(report.problems)
        for problem in report.problems:
            if problem not in self._problems:
                self._echo(f"warning: {problem}", err=True)
        self._problems = problems
        if not first:
            self._echo(
                f"Rebuilt in {report.seconds:.1f}s: {report.pages_rendered:,} pages rendered, "
                f"{report.files_written:,} files written, {report.files_removed:,} removed."
            )


def serve_site(
    store: Path,
    output: Path | None = None,
    *,
    theme: str | os.PathLike[str] | None = None,
    port: int = 8000,
    verbose: bool = False,
    echo: Echo = _print,
) -> None:
    """Build the site of ``store``, serve it on 127.0.0.1 and rebuild it on changes, until Ctrl-C.

    Prints ``Serving <url> (Ctrl-C to stop)`` once the site is served. Changes to the
    store, the theme folders or ``runfolio.yaml`` are rebuilt once they have settled
    (0.3 s), and open pages reload when the site changed; a failed rebuild prints its
    error and the last good site stays served. Ctrl-C (KeyboardInterrupt) stops the
    server and returns normally.

    Args:
        store: the run store folder.
        output: the site folder (empty, new, or a previous runfolio site); default a
            temporary folder, deleted on exit.
        theme: a shipped theme name or a theme folder, as for ``runfolio build``.
        port: the port on 127.0.0.1; 0 picks a free one.
        verbose: print one line per request, and the changes that start a rebuild.
        echo: prints messages (``click.echo`` fits); default print.

    Raises:
        ServeError: the port cannot be bound, or the inputs cannot be watched.
        RunfolioError: the first build failed (bad runfolio.yaml, unknown theme, ...).
    """
    site = LiveSite(store, output, theme=theme, port=port, verbose=verbose, echo=echo)
    restore = _stop_on_sigterm()
    try:
        url = site.start()
        echo(f"Serving {url} (Ctrl-C to stop)")
        site.wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.close()
        restore()


def _stop_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM stop the server as Ctrl-C does (so the temporary site is removed).

    Returns what puts the previous handler back. Signals belong to the main thread:
    elsewhere (a test running the server in a thread) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
