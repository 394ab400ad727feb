"""Live reload for ``runfolio serve``: open pages reload themselves when a rebuild changed the site.

As MkDocs does it: every HTML page the server sends (never a file the build writes)
gets one ``<script>`` tag before ``</body>``. The script, served from memory at
:data:`SCRIPT_PATH`, long-polls :data:`EPOCH_PATH` with the build epoch its page was
served at, and reloads the page once the server answers with another. The server holds
each poll until the epoch moves or :data:`LONG_POLL_S` pass, so an idle page costs one
request every twenty seconds. A restarted server has a new epoch, so its pages reload
too.

Both paths are absolute, so a page in any sub-folder finds them; both are same-origin,
so the pages' Content-Security-Policy (``script-src 'self'; connect-src 'self'``)
allows them without a change. A theme whose policy forbids them gets no live reload,
never a weaker policy.
"""

from __future__ import annotations

import threading
import time

SCRIPT_PATH = "/.runfolio/livereload.js"
"""Where the server answers with :data:`SCRIPT`."""

EPOCH_PATH = "/.runfolio/livereload"
"""Where the server answers ``?since=<epoch>`` with the current epoch, once it differs."""

LONG_POLL_S = 20.0
"""How long the server holds a poll whose epoch is still current."""

SCRIPT = b"""\
/* runfolio serve: reload this page when the site is rebuilt (never part of a built site). */
(() => {
  "use strict";
  const tag = document.currentScript;
  const served = tag.dataset.epoch;
  const pause = (ms) => new Promise((resume) => setTimeout(resume, ms));
  const visible = () => new Promise((resume) => {
    if (!document.hidden) { resume(); return; }
    // A hidden tab holds no connection: browsers allow only six per server.
    const shown = () => {
      if (!document.hidden) {
        document.removeEventListener("visibilitychange", shown);
        resume();
      }
    };
    document.addEventListener("visibilitychange", shown);
  });
  async function follow() {
    for (;;) {
      await visible();
      let epoch;
      try {
        const url = tag.dataset.poll + "?since=" + encodeURIComponent(served);
        const answer = await fetch(url, { cache: "no-store" });
        epoch = answer.ok ? (await answer.text()).trim() : null;
      } catch (error) {
        epoch = null;  /* the server is stopping or restarting: ask again soon */
      }
      if (epoch === null) {
        await pause(1000);
      } else if (epoch !== served) {
        location.reload();
        return;
      }
    }
  }
  follow();
})();
"""
"""The live-reload script; its tag says where to poll (``data-poll``) and the epoch its page
was served at (``data-epoch``)."""


class BuildEpoch:
    """A number that moves whenever a rebuild changed the site; threads can wait for it."""

    def __init__(self) -> None:
        """Start at the current time, so a restarted server never repeats an old epoch."""
        self._value = time.time_ns()
        self._moved = threading.Condition()
        self._closed = False

    @property
    def value(self) -> int:
        """The current epoch."""
        with self._moved:
            return self._value

    def advance(self) -> None:
        """Move the epoch (after a rebuild changed the site) and answer the waiting polls."""
        with self._moved:
            self._value = max(time.time_ns(), self._value + 1)
            self._moved.notify_all()

    def wait_past(self, since: str, timeout: float = LONG_POLL_S) -> int:
        """The current epoch as soon as it is not ``since``, or after ``timeout`` seconds.

        Returns at once when closed, so a server can stop while pages are polling.
        """
        with self._moved:
            self._moved.wait_for(lambda: self._closed or str(self._value) != since, timeout=timeout)
            return self._value

    def close(self) -> None:
        """Answer every waiting poll now and every later one at once."""
        with self._moved:
            self._closed = True
            self._moved.notify_all()


def inject_script(page: bytes, epoch: int) -> bytes:
    """``page`` with the live-reload script tag before its last ``</body>`` (else at its end)."""
    tag = (
        f'<script src="{SCRIPT_PATH}" data-poll="{EPOCH_PATH}" data-epoch="{epoch}"></script>'
    ).encode("ascii")
    end = page.lower().rfind(b"</body>")
    if end < 0:
        return page + tag
    return page[:end] + tag + page[end:]
