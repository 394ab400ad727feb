"""A derived, disposable cache of parsed run records, so large stores read fast.

The files stay the source of truth. Each cached record carries the identity of the
files it came from (inode, mtime and ctime in ns, size of run.yaml, params.yaml,
metrics.csv), taken before they were read; a record is reused only while all of them
match, so a changed or added run is always read afresh. The ctime is there because tools
that copy files keep their mtime (``cp -p``, ``rsync -t``, ``tar``) but cannot keep a
ctime. A filesystem with coarse timestamps (whole seconds; FAT: two) can still show two
versions of a file written within one tick with the same identity, so git's racy-clean
rule applies: a file whose mtime or ctime is not older than :data:`RACY_WINDOW_NS` before
the moment its identity was taken is also hashed, then, before it is read, and its entry
is reused only while its content hashes the same (see :func:`run_signature`).

The cache lives outside the store (it must never be committed), in the user's own cache
folder, written with :mod:`marshal`: plain data only (no code runs on load, unlike
pickle), and it decodes 2.5x faster than JSON, which was the largest cost of a warm
search. Its file name carries the Python version, whose marshal format it is.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from runfolio.store import layout
from runfolio.store.atomic import write_bytes_atomic
from runfolio.store.records import RunRecord

CACHE_VERSION = 5  # 3: older-form YAML; 4: ``failure``; 5: stamps with ctime, racy hashes
_SIGNED_FILES = (layout.RUN_FILE, layout.PARAMS_FILE, layout.METRICS_FILE)
_RECORD_FIELDS = {f.name for f in fields(RunRecord)} - {"path"}

RACY_WINDOW_NS = 3_000_000_000
"""How recent a change must be for a file's identity not to be trusted alone.

A change after the identity was taken gets a ctime at or after that moment, rounded down
to the filesystem's granularity; it is visible only if the recorded ctime is older than
that by more than one tick. Three seconds cover FAT's two-second mtimes plus a second of
disagreement between this machine's clock and a file server's."""

FileStamp = list[int] | None
"""[inode, mtime ns, ctime ns, size] of a file, or None when it does not exist."""


def cache_dir() -> Path:
    """Where cache files go: ``$RUNFOLIO_CACHE_DIR``, else the user's cache folder."""
    explicit = os.environ.get("RUNFOLIO_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "runfolio"


def file_stamp(info: os.stat_result) -> list[int]:
    """The identity of a file's current contents that a stat shows: inode, mtime, ctime, size."""
    return [info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size]


def is_racy(info: os.stat_result, since_ns: int) -> bool:
    """Whether a file changed too close to ``since_ns`` (when its stat was taken) to be
    told apart by its stat from a later change (git's racy-clean rule)."""
    return max(info.st_mtime_ns, info.st_ctime_ns) >= since_ns - RACY_WINDOW_NS


def file_digest(path: Path | str) -> str:
    """The SHA-256 of a regular file's bytes (hex); empty when it is not one or unreadable."""
    try:
        # Non-blocking and checked: a fifo put where a file was must not hang a reader.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""  # a folder or fifo where a file was: there is nothing to hash
        with open(fd, "rb", closefd=False) as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return ""
    finally:
        os.close(fd)


@dataclass
class RunSignature:
    """The identity of a run's metadata files, taken before they are read.

    Attributes:
        run_dir: the run folder.
        stamps: one :data:`FileStamp` per file, in a fixed order (run.yaml first).
        digests: file name → SHA-256 of the racy files (:func:`is_racy`), hashed right
            after the stat, before any read.
    """

    run_dir: str
    stamps: list[FileStamp]
    digests: dict[str, str] = field(default_factory=dict)
    _checked: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def has_run_file(self) -> bool:
        """Whether the run has a ``run.yaml``."""
        return self.stamps[0] is not None

    def digest_of(self, name: str) -> str:
        """The SHA-256 of one of the files now (taken with the stat when it was racy)."""
        if name not in _SIGNED_FILES:
            return "?"  # a damaged cache entry names another file: never a match
        found = self.digests.get(name, self._checked.get(name))
        if found is None:
            found = self._checked[name] = file_digest(os.path.join(self.run_dir, name))
        return found

    def matches(self, stamps: Any, digests: Any) -> bool:
        """Whether recorded ``stamps`` and ``digests`` describe the files as they are now."""
        if stamps != self.stamps or not isinstance(digests, dict):
            return False
        return all(self.digest_of(name) == digest for name, digest in digests.items())


def run_signature(run_dir: Path | str) -> RunSignature:
    """Identify the current contents of a run's metadata files, hashing only racy ones."""
    since = time.time_ns()  # before the stats: any change after it is a racy one at worst
    stamps: list[FileStamp] = []
    digests: dict[str, str] = {}
    base = f"{os.fspath(run_dir)}{os.sep}"
    for name in _SIGNED_FILES:
        try:
            info = os.stat(base + name)
        except OSError:
            stamps.append(None)
            continue
        stamps.append(file_stamp(info))
        if is_racy(info, since):
            digests[name] = file_digest(base + name)
    return RunSignature(os.fspath(run_dir), stamps, digests)


class DerivedCache:
    """Cached data derived from each run of one experiment folder, by run signature.

    ``kind`` names what is cached (full records, search rows ...); each kind has its
    own file, so a reader decodes only what it needs.
    """

    def __init__(self, exp_dir: Path, kind: str) -> None:
        key = hashlib.sha256(str(exp_dir.resolve()).encode("utf-8", "surrogateescape"))
        python = f"py{sys.version_info[0]}{sys.version_info[1]}"
        self.path = cache_dir() / f"{key.hexdigest()[:24]}-{kind}-{python}.marshal"
        self._entries: dict[str, Any] = self._load()
        self._fresh: dict[str, Any] = {}

    def get(self, run_name: str, signature: RunSignature | Any) -> Any:
        """Return what was cached for ``run_name`` if its files are unchanged, else None.

        ``signature`` is a :class:`RunSignature`, or any plain data that must equal the
        recorded one (a fingerprint computed by the caller).
        """
        entry = self._entries.get(run_name)
        if not isinstance(entry, dict):
            return None
        if isinstance(signature, RunSignature):
            if not signature.matches(entry.get("sig"), entry.get("digests", {})):
                return None
            if entry.get("digests", {}).keys() != signature.digests.keys():
                # Hashed when it was racy, verified by content now: record it as it is now,
                # so a file that has since aged is trusted by its stat alone from now on.
                entry = self._entry(signature, entry.get("data"))
        elif entry.get("sig") != signature:
            return None
        payload = entry.get("data")
        if payload is None or not self._valid(payload):
            return None  # a damaged cache file
        self._fresh[run_name] = entry
        return payload

    def put(self, run_name: str, signature: RunSignature | Any, payload: Any) -> None:
        """Remember what was derived from the run's files as ``signature`` describes them."""
        self._fresh[run_name] = self._entry(signature, payload)

    @staticmethod
    def _entry(signature: RunSignature | Any, payload: Any) -> dict[str, Any]:
        """A cache entry: the files' stamps, the digests of the racy ones, the payload."""
        if isinstance(signature, RunSignature):
            return {"sig": signature.stamps, "digests": dict(signature.digests), "data": payload}
        return {"sig": signature, "data": payload}

    def _valid(self, payload: Any) -> bool:
        """Tell whether a cached payload has the expected shape (subclasses check more)."""
        return True

    def save(self) -> None:
        """Write the cache back if anything changed; failures are ignored (it is a cache)."""
        if self._fresh.keys() == self._entries.keys() and all(
            self._fresh[k] is self._entries[k] for k in self._fresh
        ):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Not fsynced: a cache damaged by a power cut reads as empty and is rebuilt.
            write_bytes_atomic(
                self.path,
                marshal.dumps({"version": CACHE_VERSION, "runs": self._fresh}),
                durable=False,
            )
        except (OSError, TypeError, ValueError):
            pass

    def _load(self) -> dict[str, Any]:
        """Read the cache file; anything unexpected means an empty cache."""
        try:
            data = marshal.loads(self.path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        runs = data.get("runs")
        return runs if isinstance(runs, dict) else {}


class RecordCache(DerivedCache):
    """Cached :class:`RunRecord` fields of one experiment folder."""

    def __init__(self, exp_dir: Path) -> None:
        super().__init__(exp_dir, "records")

    def _valid(self, payload: Any) -> bool:
        """A record payload is a dict with exactly the RunRecord fields (but path)."""
        return isinstance(payload, dict) and payload.keys() == _RECORD_FIELDS
