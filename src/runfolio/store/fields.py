"""The fields of run.yaml and experiment.yaml: their types checked, problems described.

Fields that identify a run or experiment (``id``, ``status``, times, ``format``, a section
that is not a mapping) raise :class:`~runfolio.errors.MalformedRunError`: the run cannot be
shown. A descriptive field of the wrong type (a list where text is due) is left out and
described by :class:`FieldReader`, and the rest is read. Every message names the file
and the key (``'git.commit' must be text, got list``), as docs/store-format.md promises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runfolio.errors import MalformedRunError
from runfolio.store import FORMAT_VERSION
from runfolio.store.records import MAX_TIME_MS, iso_to_ms

SECTIONS = ("source", "git", "environment", "process", "failure")
"""The mappings of run.yaml that describe where and how a run ran."""

# The documented fields of run.yaml's sections and their types: "text" (a scalar, kept as
# text), "texts" (a list of scalars), "bool" or "int". Other keys are kept as they are.
_SECTION_FIELDS: dict[str, dict[str, str]] = {
    "source": {"argv": "texts", "entry_point": "text"},
    "git": {
        "branch": "text",
        "commit": "text",
        "dirty": "bool",
        "patch": "text",
        "remote_url": "text",
        "patch_not_captured": "text",
        "untracked_not_captured": "texts",
        "credentials_not_captured": "texts",
        "untracked_not_captured_count": "int",
        "credentials_not_captured_count": "int",
    },
    "environment": dict.fromkeys(
        ("executable", "implementation", "machine", "packages", "platform", "python"), "text"
    ),
    "process": {"host": "text", "pid": "int"},
    "failure": {"type": "text", "message": "text", "traceback": "text"},
}
MAX_FAILURE_MESSAGE = 2_000
"""Characters of an exception's message kept in run.yaml's ``failure.message``."""
MAX_TRACEBACK_LINES = 20
"""Last lines of the traceback kept in ``failure.traceback``."""
MAX_TRACEBACK_LINE = 300
"""Characters kept of each of those lines."""

_SCALARS = (str, int, float, bool)
_EXPECTED = {
    "text": "text",
    "texts": "a list of text",
    "bool": "true or false",
    "int": "an integer",
}


class FieldReader:
    """Reads the descriptive fields of one file, leaving out those of the wrong type.

    Each one left out is described in ``problems``; the run is still shown, since its
    identity is intact.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def text(self, data: dict[str, Any], key: str, name: str | None = None) -> str | None:
        """A text field (numbers and booleans written unquoted become text); None if absent."""
        value = data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, _SCALARS):
            return str(value)
        self._left_out(name or key, value, "text")
        return None

    def texts(self, data: dict[str, Any], section: str) -> dict[str, str]:
        """A mapping of text values (tags), leaving out those of the wrong type."""
        found = {}
        for key, value in data.items():
            if isinstance(value, _SCALARS) or value is None:
                found[key] = str(value)
            else:
                self._left_out(f"{section}.{key}", value, "text")
        return found

    def section(self, data: dict[str, Any], section: str) -> dict[str, Any]:
        """A section of run.yaml, with its documented fields checked (see _SECTION_FIELDS)."""
        kinds = _SECTION_FIELDS[section]
        checked: dict[str, Any] = {}
        for key, value in data.items():
            kind = kinds.get(key)
            if kind is None or value is None:
                checked[key] = value
            elif kind == "text" and isinstance(value, _SCALARS):
                checked[key] = str(value)
            elif kind == "texts" and isinstance(value, list):
                if all(isinstance(item, _SCALARS) for item in value):
                    checked[key] = [str(item) for item in value]
                else:
                    self._left_out(f"{section}.{key}", value, _EXPECTED[kind])
            elif (kind == "bool" and type(value) is bool) or (kind == "int" and type(value) is int):
                checked[key] = value
            else:
                self._left_out(f"{section}.{key}", value, _EXPECTED[kind])
        return checked

    def _left_out(self, name: str, value: Any, expected: str) -> None:
        self.problems.append(
            f"{self.path}: '{name}' must be {expected}, got {type(value).__name__}; left out"
        )


def check_format(data: dict[str, Any], path: Path) -> None:
    """Refuse a file written in a newer (or unknown) version of the format.

    Raises:
        MalformedRunError: ``format`` is present and is not this reader's version.
    """
    version = data.get("format", FORMAT_VERSION)
    if version == FORMAT_VERSION and type(version) is int:
        return
    if type(version) is int and version > FORMAT_VERSION:
        raise MalformedRunError(
            f"{path}: 'format' is {version}: written by a newer runfolio, which this one "
            f"(format {FORMAT_VERSION}) cannot read; upgrade runfolio"
        )
    raise MalformedRunError(f"{path}: 'format' is {version!r}; expected {FORMAT_VERSION}")


def expect_mapping(data: Any, path: Path, *, required: bool = False) -> dict[str, Any]:
    """Return ``data`` if it is a mapping, else raise naming the file.

    An empty file (or one holding only comments) is an empty mapping, unless ``required``.

    Raises:
        MalformedRunError: not a mapping (or empty, when ``required``).
    """
    if data is None:
        if required:
            raise MalformedRunError(f"{path}: file is empty (expected a YAML mapping)")
        return {}
    if not isinstance(data, dict):
        raise MalformedRunError(
            f"{path}: expected a mapping at the top level, got {type(data).__name__}"
        )
    return data


def mapping_field(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    """Return ``data[key]`` as a dict ({} when absent).

    Raises:
        MalformedRunError: the field is there but is not a mapping.
    """
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRunError(f"{path}: '{key}' must be a mapping, got {type(value).__name__}")
    return value


def time_field(data: dict[str, Any], key: str, path: Path, *, required: bool) -> str | None:
    """Return an ISO 8601 time field (None when absent and not ``required``).

    Raises:
        MalformedRunError: missing when required, not a time, or outside 1970-2262.
    """
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise MalformedRunError(f"{path}: '{key}' is missing")
        return None
    try:
        ms = iso_to_ms(str(value))
    except (ValueError, OverflowError) as exc:
        raise MalformedRunError(f"{path}: '{key}' is not an ISO 8601 time: {value!r}") from exc
    if not 0 <= ms <= MAX_TIME_MS:
        raise MalformedRunError(
            f"{path}: '{key}' is {value!r}, outside the years 1970 to 2262 that runfolio handles"
        )
    return str(value)
