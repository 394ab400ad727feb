"""Serve a folder over HTTP on 127.0.0.1 under a sub-path, as GitHub Pages serves a repo."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class _PrefixHandler(SimpleHTTPRequestHandler):
    """Serve ``directory`` at ``/<prefix>/``; everything else is 404, like a project site."""

    prefix = "/"

    def __init__(self, *args: Any, prefix: str, **kwargs: Any) -> None:
        self.prefix = prefix
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self._inside_prefix():
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._inside_prefix():
            super().do_HEAD()

    def translate_path(self, path: str) -> str:
        """Map ``/<prefix>/a/b`` to ``<directory>/a/b``."""
        return super().translate_path("/" + path[len(self.prefix) :])

    def _inside_prefix(self) -> bool:
        """Tell whether the request is under the prefix; answer it here when it is not."""
        path = urlsplit(self.path).path
        if path == self.prefix.rstrip("/") and self.prefix != "/":
            # "/repo" -> "/repo/", the redirect GitHub Pages gives too.
            self.send_response(301)
            self.send_header("Location", self.prefix)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        if not path.startswith(self.prefix):
            self.send_error(404, "outside the served prefix")
            return False
        return True

    def end_headers(self) -> None:
        # Each test sees the files as they are now, not as a previous test cached them.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@contextmanager
def serve_directory(directory: Path, prefix: str = "repo") -> Iterator[str]:
    """Serve ``directory`` on a free port of 127.0.0.1, in a background thread.

    Args:
        directory: The folder to serve.
        prefix: The sub-path to serve it under (``"repo"`` gives ``/repo/``); ``""``
            serves it at the root.

    Yields:
        The base URL, ending in ``/``: ``http://127.0.0.1:<port>/<prefix>/``.
    """
    clean = prefix.strip("/")
    url_prefix = f"/{clean}/" if clean else "/"
    handler = partial(_PrefixHandler, directory=str(directory), prefix=url_prefix)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="serve_directory", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{url_prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
