"""Copying files into a run's ``artifacts/`` folder, and writing text, dicts and figures."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from runfolio.errors import InvalidInputError
from runfolio.store.atomic import write_text_atomic
from runfolio.store.layout import check_artifact_path
from runfolio.store.serialize import dump_yaml


def copy_file(
    artifact_dir: Path, local_path: str | os.PathLike[str], artifact_path: str | None
) -> Path:
    """Copy one file to ``artifacts/<artifact_path>/<its name>`` and return the copy.

    Raises:
        InvalidInputError: the source is missing or a folder, or ``artifact_path`` escapes.
    """
    source = Path(local_path)
    if not source.exists():
        raise InvalidInputError(f"cannot log artifact {str(source)!r}: no such file")
    if source.is_dir():
        raise InvalidInputError(
            f"cannot log artifact {str(source)!r}: it is a folder; use log_artifacts for folders"
        )
    folder = check_artifact_path(artifact_path)
    name = check_artifact_path(source.name, "artifact file name")
    target = _target(artifact_dir, folder / name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def copy_tree(
    artifact_dir: Path, local_dir: str | os.PathLike[str], artifact_path: str | None
) -> list[Path]:
    """Copy every file under ``local_dir`` (symlinked folders are not entered) and return them.

    Raises:
        InvalidInputError: ``local_dir`` is missing or not a folder, or ``artifact_path`` escapes.
    """
    source = Path(local_dir)
    if not source.is_dir():
        raise InvalidInputError(f"cannot log artifacts from {str(source)!r}: not a folder")
    folder = check_artifact_path(artifact_path)
    copied: list[Path] = []
    for current, dirs, files in os.walk(source, followlinks=False):
        dirs.sort()
        relative = Path(current).relative_to(source)
        for name in sorted(files):
            inner = check_artifact_path((relative / name).as_posix(), "artifact file name")
            target = _target(artifact_dir, folder / inner)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(current) / name, target)
            copied.append(target)
    return copied


def write_text(artifact_dir: Path, text: str, artifact_file: str) -> Path:
    """Write ``text`` (UTF-8) to ``artifacts/<artifact_file>``."""
    if not isinstance(text, str):
        raise InvalidInputError(f"log_text needs text, got {type(text).__name__}")
    target = _file_target(artifact_dir, artifact_file)
    write_text_atomic(target, text)
    return target


def write_dict(artifact_dir: Path, data: Mapping[str, Any], artifact_file: str) -> Path:
    """Write ``data`` as YAML (``.yaml``/``.yml``) or JSON (anything else), keys sorted."""
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"log_dict needs a mapping, got {type(data).__name__}")
    target = _file_target(artifact_dir, artifact_file)
    if target.suffix.lower() in (".yaml", ".yml"):
        text = dump_yaml(dict(data))
    else:
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    write_text_atomic(target, text)
    return target


def write_figure(artifact_dir: Path, figure: Any, artifact_file: str) -> Path:
    """Save a matplotlib figure (``savefig``) or an Altair chart (``save``/``to_json``).

    An Altair chart saved as ``.json`` writes its Vega-Lite spec, which the site renders;
    ``.html`` writes a standalone page; ``.png``/``.svg`` need ``vl-convert-python``.

    Raises:
        InvalidInputError: the object is neither kind of figure.
    """
    target = _file_target(artifact_dir, artifact_file)
    if hasattr(figure, "savefig"):
        figure.savefig(target)
    elif hasattr(figure, "to_json") and hasattr(figure, "save"):
        if target.suffix.lower() == ".json":
            write_text_atomic(target, figure.to_json(indent=2) + "\n")
        else:
            figure.save(str(target))
    else:
        raise InvalidInputError(
            f"log_figure needs a matplotlib figure or an Altair chart, got {type(figure).__name__}"
        )
    return target


def _file_target(artifact_dir: Path, artifact_file: str) -> Path:
    """Validate an artifact file path and make its parent folder."""
    relative = check_artifact_path(artifact_file, "artifact file")
    if not relative.parts:
        raise InvalidInputError("artifact file name must not be empty")
    target = _target(artifact_dir, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _target(artifact_dir: Path, relative: PurePosixPath) -> Path:
    """The on-disk path of an artifact, refusing to write through a symlink."""
    target = artifact_dir.joinpath(*relative.parts)
    for parent in [target, *target.parents]:
        if parent == artifact_dir.parent:
            break
        if parent.is_symlink():
            raise InvalidInputError(f"refusing to write artifact through the symlink {parent}")
    return target
