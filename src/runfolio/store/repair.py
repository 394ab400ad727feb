"""Rewriting store files that older runfolio versions wrote in a form YAML misreads.

Earlier runfolio versions wrote U+2028 and U+2029 raw inside blocks of text, where YAML
reads them as line breaks (the text ends early and the file stops parsing, or a trailing
one is lost), and wrote keys longer than YAML's 1,024-character limit for implicit keys.
Readers refuse such files with :class:`~runfolio.store.serialize.OlderFormError`;
:func:`repair_store` reads each as it was meant
(:func:`~runfolio.store.serialize.load_yaml_as_written`) and writes it again the way
runfolio writes YAML now. ``runfolio repair`` is this function.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from runfolio.errors import MalformedRunError, StoreError
from runfolio.store.atomic import write_text_atomic
from runfolio.store.reader import read_yaml_file
from runfolio.store.serialize import OlderFormError, dump_yaml, load_yaml, load_yaml_as_written

_SUFFIXES = (".yaml", ".yml")


@dataclass
class RepairReport:
    """What :func:`repair_store` rewrote (or, in a dry run, would rewrite)."""

    rewritten: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """YAML files it could not read, even as an older version meant them, each with its
    path and why; they are left as they are."""


def repair_store(root: Path, *, dry_run: bool = False) -> RepairReport:
    """Rewrite every YAML file of the store at ``root`` that readers refuse as an older form.

    Every ``.yaml``/``.yml`` file under ``root`` is read (hidden folders and symlinks
    are skipped, never followed). A file in an older form is read as it was meant and
    written again atomically with :func:`~runfolio.store.serialize.dump_yaml` (keys
    sorted, comments dropped), after checking that the new text reads back to the
    same data. Other files are left untouched; one that cannot be read at all is
    reported, not changed.

    Args:
        root: the store folder.
        dry_run: report what would be rewritten without writing anything.

    Raises:
        StoreError: ``root`` is not a folder.
    """
    if not root.is_dir():
        raise StoreError(f"run store {root} does not exist or is not a folder")
    report = RepairReport()
    for path in _yaml_files(root):
        try:
            read_yaml_file(path)
            continue  # readable as it is
        except MalformedRunError as exc:
            if not isinstance(exc.__cause__, OlderFormError):
                report.problems.append(str(exc))
                continue
        try:
            data = load_yaml_as_written(path.read_bytes().decode("utf-8"))
            fixed = dump_yaml(data)
            if dump_yaml(load_yaml(fixed)) != fixed:  # compared as text: NaN equals NaN
                raise yaml.YAMLError("the rewritten file would not read back the same")
        except (OSError, yaml.YAMLError) as exc:
            report.problems.append(f"{path}: cannot rewrite it: {exc}")
            continue
        if not dry_run:
            write_text_atomic(path, fixed)
        report.rewritten.append(path)
    return report


def _yaml_files(root: Path) -> list[Path]:
    """The YAML files under ``root`` in path order; hidden folders and symlinks skipped."""
    found = []
    for folder, dirs, files in os.walk(root):  # os.walk never follows folder symlinks
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            if name.lower().endswith(_SUFFIXES) and not path.is_symlink():
                found.append(path)
    return found
