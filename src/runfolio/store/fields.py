"""Checking the fields of run.yaml and experiment.yaml, and describing their problems.

The checks every structured store file shares: its ``format``, a mapping at the top
level, and :class:`FieldReader` for descriptive fields. Which fields a file has, and of
which kinds, is said by its reader: :mod:`runfolio.store.run_document` for run.yaml,
:func:`runfolio.store.reader.read_experiment` for experiment.yaml. A field that
identifies a run or experiment raises :class:`~runfolio.errors.MalformedRunError`: it
cannot be shown. A descriptive field of the wrong type (a list where text is due) is
left out and described by :class:`FieldReader`, and the rest is read. Every message
names the file and the key (``'git.commit' must be text, got list``), as
docs/store-format.md promises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runfolio.errors import MalformedRunError
from runfolio.store import FORMAT_VERSION

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

    def text_list(
        self, data: dict[str, Any], key: str, name: str | None = None
    ) -> list[str] | None:
        """A list of text (numbers and booleans become text); None if absent or left out."""
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, list) and all(isinstance(item, _SCALARS) for item in value):
            return [str(item) for item in value]
        self._left_out(name or key, value, _EXPECTED["texts"])
        return None

    def section(self, data: dict[str, Any], section: str, kinds: dict[str, str]) -> dict[str, Any]:
        """A mapping whose documented fields (``kinds``: key to kind) are checked.

        A kind is ``text`` (a scalar, kept as text), ``texts`` (a list of scalars),
        ``bool`` or ``int``. Other keys, and null values, are kept as they are.
        """
        checked: dict[str, Any] = {}
        for key, value in data.items():
            kind = kinds.get(key)
            if kind is None or value is None:
                checked[key] = value
            elif kind == "text" and isinstance(value, _SCALARS):
                checked[key] = str(value)
            elif kind == "texts":
                items = self.text_list(data, key, f"{section}.{key}")
                if items is not None:
                    checked[key] = items
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
