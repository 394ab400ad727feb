"""A run's ``artifacts.remote.yaml``: the artifacts that live in a bucket, not in git.

::

    artifacts:
    - path: model/model.pkl          # where the file belongs, relative to artifacts/
      sha256: 9c0f...                # of its bytes; checked on every fetch
      size: 183422
      uri: s3://ml-artifacts/iris-lab/sha256/9c/9c0f...
    format: 1

Entries are sorted by path and the file is replaced atomically, only after the upload it
records has succeeded, so an entry never names an object that is not there. Next to it,
a ``.gitignore`` names the same paths, so files that ``runfolio pull`` brings back into
``artifacts/`` are never committed by accident.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from runfolio.config_values import split_uri
from runfolio.errors import InvalidInputError
from runfolio.objectstore.errors import ManifestError
from runfolio.store import layout
from runfolio.store.atomic import write_text_atomic
from runfolio.store.serialize import dump_yaml, load_yaml

MANIFEST_FILE = layout.REMOTE_ARTIFACTS_FILE
MANIFEST_VERSION = 1
"""The ``format`` this release writes; a reader refuses a higher one."""

GITIGNORE_HEADER = "# Written by runfolio: artifacts kept in object storage"
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# One process writes a run; its threads may log artifacts at once.
_lock = threading.Lock()


@dataclass(frozen=True)
class RemoteArtifact:
    """One entry of the manifest.

    Attributes:
        path: the file's place under ``artifacts/``, ``/``-separated.
        size: its size in bytes.
        sha256: the hex SHA-256 of its bytes.
        uri: the object holding it, ``s3://bucket/key`` (or another scheme's URI).
    """

    path: str
    size: int
    sha256: str
    uri: str

    def to_dict(self) -> dict[str, Any]:
        """The entry as the manifest writes it."""
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "uri": self.uri}


def read_manifest(run_dir: Path) -> dict[str, RemoteArtifact]:
    """Return the run's remote artifacts by path; empty when the run has no manifest.

    Raises:
        ManifestError: the file is unreadable, not valid YAML, of a newer format, or
            holds a bad entry (the message names the file and the entry).
    """
    _, entries = _read(run_dir)
    return {entry.path: entry for entry in entries}


def record_artifacts(run_dir: Path, artifacts: Iterable[RemoteArtifact]) -> None:
    """Add ``artifacts`` to the manifest (replacing entries of the same path), atomically.

    Call only once their objects are in the bucket.

    Raises:
        ManifestError: the existing manifest cannot be read (it is left untouched).
    """
    new = {artifact.path: artifact.to_dict() for artifact in artifacts}
    if not new:
        return
    with _lock:
        raw, _ = _read(run_dir)
        kept = [entry for entry in raw.get("artifacts", []) if entry["path"] not in new]
        _write(run_dir, raw, [*kept, *new.values()])


def forget_artifacts(run_dir: Path, paths: Iterable[str]) -> None:
    """Drop the entries of ``paths`` (now plain files in ``artifacts/`` again), if any.

    Raises:
        ManifestError: the existing manifest cannot be read (it is left untouched).
    """
    gone = set(paths)
    if not gone or not (run_dir / MANIFEST_FILE).exists():
        return
    with _lock:
        raw, _ = _read(run_dir)
        entries = raw.get("artifacts", [])
        kept = [entry for entry in entries if entry["path"] not in gone]
        if len(kept) != len(entries):
            _write(run_dir, raw, kept)


def gitignore_text(paths: Iterable[str]) -> str:
    """The run folder's ``.gitignore``: one anchored, escaped pattern per remote artifact."""
    lines = [
        GITIGNORE_HEADER + f" ({MANIFEST_FILE}).",
        "# `runfolio pull` brings them back into artifacts/; they stay out of git.",
    ]
    lines += [f"/{layout.ARTIFACTS_DIR}/{_escape_pattern(path)}" for path in sorted(paths)]
    return "\n".join(lines) + "\n"


def _read(run_dir: Path) -> tuple[dict[str, Any], list[RemoteArtifact]]:
    """The manifest's raw mapping (entries validated) and its entries."""
    path = run_dir / MANIFEST_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from exc
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a mapping with 'format' and 'artifacts'")
    version = data.get("format")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ManifestError(f"{path}: 'format' must be a positive whole number, got {version!r}")
    if version > MANIFEST_VERSION:
        raise ManifestError(
            f"{path}: written in format {version} by a newer runfolio; this one reads "
            f"format {MANIFEST_VERSION}: upgrade runfolio"
        )
    raw_entries = data.get("artifacts")
    if raw_entries is None:
        raw_entries = data["artifacts"] = []
    if not isinstance(raw_entries, list):
        raise ManifestError(f"{path}: 'artifacts' must be a list of entries")
    entries: list[RemoteArtifact] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entries):
        entry = _entry(raw, f"{path}: artifacts[{index}]")
        if entry.path in seen:
            raise ManifestError(f"{path}: artifacts[{index}]: {entry.path!r} is listed twice")
        seen.add(entry.path)
        entries.append(entry)
    return data, entries


def _entry(raw: object, where: str) -> RemoteArtifact:
    """Validate one manifest entry."""
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: expected a mapping with path, size, sha256 and uri")
    missing = [key for key in ("path", "size", "sha256", "uri") if key not in raw]
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(missing)}")
    path, size, sha256, uri = raw["path"], raw["size"], raw["sha256"], raw["uri"]
    try:
        relative = layout.check_artifact_path(path)
    except InvalidInputError as exc:
        raise ManifestError(f"{where}: {exc}") from exc
    if not relative.parts or relative.as_posix() != path:
        raise ManifestError(f"{where}: path {path!r} must name a file, written normalised")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{where}: size must be a whole number of bytes, got {size!r}")
    if not isinstance(sha256, str) or not _SHA256_RE.match(sha256):
        raise ManifestError(f"{where}: sha256 must be 64 lower-case hex digits, got {sha256!r}")
    if not isinstance(uri, str):
        raise ManifestError(f"{where}: uri must be s3://bucket/key or alike, got {uri!r}")
    try:
        split_uri(uri)
    except ValueError as exc:
        raise ManifestError(
            f"{where}: uri must be s3://bucket/key or alike, normalised: {exc}"
        ) from None
    return RemoteArtifact(path, size, sha256, uri)


def _write(run_dir: Path, raw: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Replace the manifest and its ``.gitignore``; remove both when no entry is left."""
    path = run_dir / MANIFEST_FILE
    ignore = run_dir / layout.RUN_GITIGNORE_FILE
    ours = _is_ours(ignore)
    if not entries:
        path.unlink(missing_ok=True)
        if ours:
            ignore.unlink(missing_ok=True)
        return
    entries = sorted(entries, key=lambda entry: entry["path"])
    write_text_atomic(path, dump_yaml({**raw, "format": MANIFEST_VERSION, "artifacts": entries}))
    # A .gitignore someone else wrote stays as it is.
    if ours or not ignore.exists():
        write_text_atomic(ignore, gitignore_text(entry["path"] for entry in entries))


def _is_ours(ignore: Path) -> bool:
    """Whether the run folder's ``.gitignore`` was written by runfolio."""
    with contextlib.suppress(OSError, UnicodeDecodeError), open(ignore, encoding="utf-8") as file:
        return file.readline().startswith(GITIGNORE_HEADER)
    return False


def _escape_pattern(path: str) -> str:
    """Make a path match itself only as a gitignore pattern."""
    escaped = re.sub(r"([*?\[\]!#])", r"\\\1", path)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped
