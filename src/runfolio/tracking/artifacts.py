"""Copying files into a run's ``artifacts/`` folder, and writing text, dicts and figures.

When the store's ``runfolio.yaml`` configures object storage (``artifacts:``), a file
above its threshold is uploaded and named in the run's ``artifacts.remote.yaml``
instead of being copied (see :mod:`runfolio.objectstore`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

from runfolio.errors import InvalidInputError
from runfolio.objectstore.bucket import Bucket
from runfolio.objectstore.manifest import forget_artifacts
from runfolio.objectstore.settings import settings_for_store
from runfolio.objectstore.transfer import offload_file
from runfolio.store.atomic import atomic_writer, copy_file_atomic, make_dir, write_text_atomic
from runfolio.store.layout import REMOTE_ARTIFACTS_FILE, check_artifact_path, is_git_folder_name
from runfolio.store.serialize import dump_yaml

if TYPE_CHECKING:
    from runfolio.config_values import RemoteSettings


def copy_file(
    artifact_dir: Path, local_path: str | os.PathLike[str], artifact_path: str | None
) -> Path:
    """Copy one file to ``artifacts/<artifact_path>/<its name>`` and return the copy.

    A file above the object storage threshold is uploaded instead; the returned path is
    then where ``runfolio pull`` puts it back. The copy replaces a file already logged
    there in one step, durably (see :mod:`runfolio.store.atomic`): until it is complete,
    the previous file stays whole.

    Raises:
        InvalidInputError: the source is missing or a folder, or ``artifact_path`` escapes.
        ConfigError: the store's ``artifacts`` settings are bad.
        ObjectStoreError: the upload failed (nothing is recorded).
    """
    source = Path(local_path)
    if not source.exists():
        raise InvalidInputError(f"cannot log artifact {str(source)!r}: no such file")
    if source.is_dir():
        raise InvalidInputError(
            f"cannot log artifact {str(source)!r}: it is a folder; use log_artifacts for folders"
        )
    _check_regular(source)
    folder = check_artifact_path(artifact_path)
    name = check_artifact_path(source.name, "artifact file name")
    target = artifact_target(artifact_dir, folder / name)
    remote = remote_settings(artifact_dir)
    if remote is not None and source.stat().st_size > remote.threshold:
        _offload(artifact_dir, source, folder / name, remote)
        return target
    make_dir(target.parent, parents=True, exist_ok=True)
    copy_file_atomic(source, target)
    forget_remote(artifact_dir, [folder / name])
    return target


def copy_tree(
    artifact_dir: Path, local_dir: str | os.PathLike[str], artifact_path: str | None
) -> list[Path]:
    """Copy every file under ``local_dir`` and return the copies.

    Symlinked folders and ``.git`` folders are not entered (a ``.git`` file or folder is
    git's, which git refuses to commit); a symlinked file is copied as the file it points
    to. Every name and file is checked before anything is copied, so a refused call logs
    nothing. Each file above the object storage threshold is uploaded instead (see
    :func:`copy_file`).

    Raises:
        InvalidInputError: ``local_dir`` is missing or not a folder, ``artifact_path``
            escapes, or a file under it has a name artifacts cannot have or is not a
            regular file (a fifo, a socket, a dangling symlink).
        ConfigError: the store's ``artifacts`` settings are bad.
        ObjectStoreError: an upload failed (files already handled stay logged).
    """
    source = Path(local_dir)
    if not source.is_dir():
        raise InvalidInputError(f"cannot log artifacts from {str(source)!r}: not a folder")
    folder = check_artifact_path(artifact_path)
    planned: list[tuple[Path, PurePosixPath]] = []
    for current, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not is_git_folder_name(d))
        relative = Path(current).relative_to(source)
        for name in sorted(f for f in files if not is_git_folder_name(f)):
            inner = check_artifact_path((relative / name).as_posix(), "artifact file name")
            file = Path(current) / name
            _check_regular(file)
            planned.append((file, inner))
    remote = remote_settings(artifact_dir)
    bucket: Bucket | None = None
    copied: list[Path] = []
    local: list[PurePosixPath] = []
    for file, inner in planned:
        target = artifact_target(artifact_dir, folder / inner)
        if remote is not None and file.stat().st_size > remote.threshold:
            bucket = _offload(artifact_dir, file, folder / inner, remote, bucket)
        else:
            make_dir(target.parent, parents=True, exist_ok=True)
            copy_file_atomic(file, target)
            local.append(folder / inner)
        copied.append(target)
    forget_remote(artifact_dir, local)
    return copied


def _check_regular(file: Path) -> None:
    """Refuse a source that is not a regular file (after symlinks): copying a fifo blocks."""
    try:
        mode = file.stat().st_mode
    except OSError as exc:
        raise InvalidInputError(
            f"cannot log artifact {str(file)!r}: {exc.strerror or exc} (a dangling symlink?)"
        ) from exc
    if not stat.S_ISREG(mode):
        raise InvalidInputError(f"cannot log artifact {str(file)!r}: not a regular file")


def remote_settings(artifact_dir: Path) -> RemoteSettings | None:
    """The object storage settings of the store holding ``artifact_dir``, None when unset.

    Raises:
        ConfigError: the ``artifacts`` key of ``runfolio.yaml`` is bad.
    """
    # <store>/<experiment>/<run>/artifacts
    return settings_for_store(artifact_dir.parent.parent.parent)


def forget_remote(artifact_dir: Path, relatives: list[PurePosixPath]) -> None:
    """Drop manifest entries for artifacts that are now plain files again."""
    run_dir = artifact_dir.parent
    if not relatives or not (run_dir / REMOTE_ARTIFACTS_FILE).exists():
        return  # the common case: no manifest to rewrite

    forget_artifacts(run_dir, [relative.as_posix() for relative in relatives])


def _forget_written(artifact_dir: Path, target: Path) -> None:
    """A file just written in ``artifacts/`` replaces a remote artifact of the same path."""
    forget_remote(artifact_dir, [PurePosixPath(target.relative_to(artifact_dir).as_posix())])


def _offload(
    artifact_dir: Path,
    source: Path,
    relative: PurePosixPath,
    settings: RemoteSettings,
    bucket: Bucket | None = None,
) -> Bucket:
    """Upload one file as an artifact; return the bucket connection for the next one."""
    bucket = bucket or Bucket(settings)
    offload_file(artifact_dir.parent, source, relative, settings, bucket)
    return bucket


def write_text(artifact_dir: Path, text: str, artifact_file: str) -> Path:
    """Write ``text`` (UTF-8) to ``artifacts/<artifact_file>``."""
    if not isinstance(text, str):
        raise InvalidInputError(f"log_text needs text, got {type(text).__name__}")
    target = _file_target(artifact_dir, artifact_file)
    write_text_atomic(target, text)
    _forget_written(artifact_dir, target)
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
    _forget_written(artifact_dir, target)
    return target


def write_figure(artifact_dir: Path, figure: Any, artifact_file: str) -> Path:
    """Save a matplotlib figure (``savefig``) or an Altair chart (``save``/``to_json``).

    An Altair chart saved as ``.json`` writes its Vega-Lite spec, which the site renders;
    ``.html`` writes a standalone page; ``.png``/``.svg`` need ``vl-convert-python``.
    Either way the file replaces an earlier one in one step (the format comes from the
    suffix, as when saving to the path).

    Raises:
        InvalidInputError: the object is neither kind of figure.
    """
    target = _file_target(artifact_dir, artifact_file)
    suffix = target.suffix.lower().lstrip(".") or None
    if hasattr(figure, "savefig"):
        with atomic_writer(target) as handle:
            figure.savefig(handle, format=suffix)
    elif hasattr(figure, "to_json") and hasattr(figure, "save"):
        if suffix == "json":
            write_text_atomic(target, figure.to_json(indent=2) + "\n")
        else:
            with atomic_writer(target) as handle:
                figure.save(_TextOrBytes(handle), format=suffix)
    else:
        raise InvalidInputError(
            f"log_figure needs a matplotlib figure or an Altair chart, got {type(figure).__name__}"
        )
    _forget_written(artifact_dir, target)
    return target


class _TextOrBytes:
    """A binary handle that also takes text (UTF-8): Altair writes either, by format."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def write(self, data: str | bytes) -> int:
        """Write bytes as given and text as UTF-8."""
        return self._handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def _file_target(artifact_dir: Path, artifact_file: str) -> Path:
    """Validate an artifact file path and make its parent folder."""
    relative = check_artifact_path(artifact_file, "artifact file")
    if not relative.parts:
        raise InvalidInputError("artifact file name must not be empty")
    target = artifact_target(artifact_dir, relative)
    make_dir(target.parent, parents=True, exist_ok=True)
    return target


def artifact_target(artifact_dir: Path, relative: PurePosixPath) -> Path:
    """The on-disk path of the artifact ``relative`` (already checked), for writing it.

    Raises:
        InvalidInputError: the file or a folder on its way (up to the run folder) is a
            symlink, which a write would go through to wherever it points.
    """
    target = artifact_dir.joinpath(*relative.parts)
    for parent in [target, *target.parents]:
        if parent == artifact_dir.parent:
            break
        if parent.is_symlink():
            raise InvalidInputError(f"refusing to write artifact through the symlink {parent}")
    return target
