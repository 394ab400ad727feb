"""Links from the site to the code: a git remote turned into its web UI's URLs.

Only GitHub and GitLab (and self-hosted GitLab under a host named ``gitlab.*``) get
links, since their URL layouts are known; any other remote gets none rather than a
guess that 404s. The result is always an ``https://`` URL built from a parsed host and
path, never the remote string itself, so a crafted remote cannot become a
``javascript:`` link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")
_SAFE_PART = re.compile(r"^[\w.~-]+$")
_SHA = re.compile(r"^[0-9a-f]{7,64}$")


@dataclass(frozen=True)
class RepositoryWeb:
    """A repository's web UI: ``https://<host>/<owner>/.../<name>`` and its flavour."""

    base: str
    flavor: str  # "github" or "gitlab"

    def commit_url(self, commit: str) -> str | None:
        """The page of one commit, or None for something that is not a commit id."""
        if not _SHA.match(commit or ""):
            return None
        middle = "/-/commit/" if self.flavor == "gitlab" else "/commit/"
        return f"{self.base}{middle}{commit}"

    def file_url(self, commit: str, path: str) -> str | None:
        """A file (or folder) of the repository as of ``commit``."""
        if not _SHA.match(commit or "") or not path or path.startswith(("/", "<")):
            return None
        middle = "/-/blob/" if self.flavor == "gitlab" else "/blob/"
        return f"{self.base}{middle}{commit}/{quote(path.strip('/'))}"

    def tree_url(self, commit: str, path: str) -> str | None:
        """A folder of the repository as of ``commit`` (the store, a run folder)."""
        if not _SHA.match(commit or "") or path.startswith("/"):
            return None
        middle = "/-/tree/" if self.flavor == "gitlab" else "/tree/"
        suffix = f"/{quote(path.strip('/'))}" if path.strip("/") else ""
        return f"{self.base}{middle}{commit}{suffix}"


def repository_web(remote_or_url: str | None) -> RepositoryWeb | None:
    """Parse a git remote (``git@github.com:o/r.git``, ``https://gitlab.com/g/s/r``, ...).

    Returns None for hosts whose web layout is unknown, local paths and anything that
    does not parse cleanly.
    """
    if not remote_or_url:
        return None
    text = remote_or_url.strip()
    scp = _SCP_LIKE.match(text) if "://" not in text else None
    if scp:
        host, path = scp.group("host"), scp.group("path")
    else:
        try:
            parts = urlsplit(text)
        except ValueError:
            return None
        if parts.scheme not in ("https", "http", "ssh", "git", "git+ssh"):
            return None
        host, path = parts.hostname or "", parts.path
    host = host.lower()
    flavor = "github" if host == "github.com" else "gitlab" if _is_gitlab(host) else None
    if flavor is None:
        return None
    segments = [s for s in path.strip("/").split("/") if s]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
    if len(segments) < 2 or not all(_SAFE_PART.match(s) for s in segments):
        return None
    if flavor == "github" and len(segments) != 2:
        return None
    return RepositoryWeb(f"https://{host}/{'/'.join(segments)}", flavor)


def _is_gitlab(host: str) -> bool:
    """gitlab.com, or a self-hosted instance named gitlab.<domain>."""
    return host == "gitlab.com" or (host.startswith("gitlab.") and "." in host[7:])
