"""Where things live in a store, and which names are allowed there.

::

    <store>/<experiment-dir>/experiment.yaml
    <store>/<experiment-dir>/<run-id>/run.yaml
                                     params.yaml
                                     metrics.csv
                                     heartbeat          (only while a run is alive or after a crash)
                                     artifacts/...
                                     artifacts.remote.yaml (artifacts kept in object storage)
                                     .gitignore         (keeps pulled remote artifacts out of git)
                                     captured/git.patch, captured/packages.txt
"""

from __future__ import annotations

import os
import re
import time
import unicodedata
from pathlib import Path, PurePosixPath

from runfolio.errors import InvalidInputError

EXPERIMENT_FILE = "experiment.yaml"
RUN_FILE = "run.yaml"
PARAMS_FILE = "params.yaml"
METRICS_FILE = "metrics.csv"
HEARTBEAT_FILE = "heartbeat"
ARTIFACTS_DIR = "artifacts"
MODEL_DESCRIPTOR_FILE = "model.yaml"
MODEL_PICKLE_FILE = "model.pkl"
CAPTURED_DIR = "captured"
GIT_PATCH_FILE = "git.patch"
PACKAGES_FILE = "packages.txt"
REMOTE_ARTIFACTS_FILE = "artifacts.remote.yaml"
RUN_GITIGNORE_FILE = ".gitignore"

MAX_KEY_LENGTH = 250
MAX_NAME_LENGTH = 500

# fullmatch and [0-9]: "$" would also match before a trailing newline, and \d any
# script's digits, both of which a hand-made folder name can hold.
_RUN_ID_RE = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{10}")
_SLUG_STRIP_RE = re.compile(r"[^a-z0-9]+")
_SLUG_MAX = 60


def new_run_id(now: float | None = None) -> str:
    """Return a fresh run id: UTC start time to the second, then 40 random bits.

    ``20261127-045604-3f9a2c1b7d``: ids sort by start time, read well in a file list,
    and two machines starting runs in the same second still differ (the creator also
    makes the directory exclusively, so a clash within one store is retried).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{os.urandom(5).hex()}"


def is_run_id(name: str) -> bool:
    """Tell whether a directory name has the shape of a run id."""
    return _RUN_ID_RE.fullmatch(name) is not None


NOT_A_RUN_ID = (
    "folder holds a run.yaml but its name is not a run id (YYYYMMDD-HHMMSS-<10 hex "
    "digits>), so it is not read: rename it (and its run.yaml 'id') or move it out"
)
"""The problem reported for a run folder whose name could carry anything into a page,
a report or a file name: readers accept only names of the documented shape."""


def experiment_slug(name: str) -> str:
    """Return the directory name for an experiment name (lower-case ASCII, dashes).

    A name with no ASCII letters or digits (say, all CJK) gets a short hash instead.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _SLUG_STRIP_RE.sub("-", ascii_name.lower()).strip("-")[:_SLUG_MAX].strip("-")
    return slug or f"experiment-{name_hash(name)}"


def name_hash(name: str) -> str:
    """Return 8 hex digits identifying ``name``, used to tell apart names sharing a slug."""
    import hashlib  # rarely needed, and slow to import

    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def check_key(key: object, what: str) -> str:
    """Validate a param, metric or tag key and return it.

    Raises:
        InvalidInputError: the key is not a string, is empty or too long, contains a
            path separator, a ``..`` sequence, a control character, or cannot be
            encoded as UTF-8. The message names the key and the rule it broke.
    """
    if not isinstance(key, str):
        raise InvalidInputError(f"{what} key must be a string, got {type(key).__name__}: {key!r}")
    problem = _key_problem(key)
    if problem:
        raise InvalidInputError(f"invalid {what} key {key!r}: {problem}")
    return key


def _key_problem(key: str) -> str | None:
    """Return why ``key`` is not acceptable, or None."""
    if not key.strip():
        return "it is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"it is {len(key)} characters long, the limit is {MAX_KEY_LENGTH}"
    if "/" in key or "\\" in key:
        return "keys may not contain '/' or '\\'"
    if ".." in key:
        return "keys may not contain '..'"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        return "keys may not contain control characters or lone surrogates"
    return None


def check_text(value: object, what: str, limit: int = MAX_NAME_LENGTH) -> str:
    """Validate a free-text name (experiment or run name) and return it.

    Raises:
        InvalidInputError: not a string, empty, over ``limit`` characters, or not UTF-8.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{what} must not be empty")
    if len(value) > limit:
        raise InvalidInputError(f"{what} is {len(value)} characters long, the limit is {limit}")
    check_utf8(value, what)
    return value


def check_utf8(value: str, what: str) -> None:
    """Raise InvalidInputError when ``value`` holds lone surrogates (not encodable)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"{what} {value!r} cannot be stored as UTF-8: {exc.reason}"
        ) from exc


MAX_ARTIFACT_PART_BYTES = 200
"""The longest name in an artifact path, in UTF-8 bytes.

Filesystems allow 255; the rest is room for the temporary names that atomic writes,
site builds and snapshots give a file next to it (``.<name>.<pid>.<thread>.<n>.tmp``).
"""
MAX_ARTIFACT_PATH_BYTES = 1024
"""The longest artifact path, in UTF-8 bytes."""

# A name git refuses to commit anywhere in a tree (it would let a checkout write into a
# repository's own .git folder): ".git" in any letter case, with trailing dots or spaces or
# an NTFS stream suffix, and its NTFS short name. Git checks this by default on every OS.
_DOTGIT_RE = re.compile(r"^(?:\.git[. ]*(?::.*)?|git~1)$", re.IGNORECASE)
# Line and paragraph separators end a line in many viewers; bidirectional embeddings,
# overrides and isolates make a name display as another (``gpj.exe`` shown as ``exe.jpg``).
_INVISIBLE_CONTROLS = frozenset(
    "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def check_artifact_path(path: str | None, what: str = "artifact path") -> PurePosixPath:
    """Validate a path inside a run's ``artifacts/`` folder and return it normalised.

    ``None`` or ``""`` mean the folder itself. Refused, so that nothing can be written
    outside the run folder and the store stays committable with git: absolute paths,
    drive letters, backslashes, ``..`` parts, control characters (NUL and newlines
    included), line separators and bidirectional controls, a ``.git`` part in any of the
    spellings git itself refuses, a name over 200 UTF-8 bytes, a path over 1024.

    Raises:
        InvalidInputError: naming the path and the problem.
    """
    if path is None or path == "":
        return PurePosixPath()
    if not isinstance(path, str):
        raise InvalidInputError(f"{what} must be a string, got {type(path).__name__}")
    check_utf8(path, what)
    problem = artifact_path_problem(path)
    if problem:
        raise InvalidInputError(f"invalid {what} {path!r}: {problem}")
    return PurePosixPath(*(p for p in path.split("/") if p not in ("", ".")))


def artifact_path_problem(path: str) -> str | None:
    """Return why ``path`` (``/``-separated) is not an acceptable artifact path, or None.

    The rules of :func:`check_artifact_path`, which site builds also apply to the files
    they find in a run folder, so what the API refuses is never published either.
    """
    if "\\" in path:
        return "use '/' as the separator; '\\' is not allowed"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "it must be relative to the run's artifacts folder"
    if any(unicodedata.category(ch) == "Cc" for ch in path):
        return "it contains a control character (such as a newline or NUL)"
    if any(ch in _INVISIBLE_CONTROLS for ch in path):
        return "it contains a line separator or a bidirectional text control"
    if len(path.encode("utf-8")) > MAX_ARTIFACT_PATH_BYTES:
        return f"it is longer than {MAX_ARTIFACT_PATH_BYTES} bytes"
    for part in path.split("/"):
        if part == "..":
            return "'..' would leave the run's artifacts folder"
        if _DOTGIT_RE.match(part):
            return f"{part!r} is git's own folder name, which git refuses to commit"
        if len(part.encode("utf-8")) > MAX_ARTIFACT_PART_BYTES:
            return f"a name in it is longer than {MAX_ARTIFACT_PART_BYTES} bytes"
    return None


def is_git_folder_name(name: str) -> bool:
    """Tell whether ``name`` is one of the spellings of ``.git`` that git refuses in a tree."""
    return bool(_DOTGIT_RE.match(name))


def artifact_file(run_dir: Path, relative: PurePosixPath) -> Path:
    """Return the on-disk path of an artifact given its validated relative path."""
    return run_dir.joinpath(ARTIFACTS_DIR, *relative.parts)
