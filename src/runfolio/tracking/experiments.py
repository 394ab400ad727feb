"""Creating experiments safely when many processes start at once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runfolio.errors import InvalidInputError, StoreError
from runfolio.store import FORMAT_VERSION, layout
from runfolio.store.atomic import create_text_exclusive, make_dir, write_text_atomic
from runfolio.store.locking import folder_lock
from runfolio.store.reader import read_experiment, read_yaml_mapping
from runfolio.store.records import DIRECTIONS, ExperimentRecord, now_iso
from runfolio.store.serialize import dump_yaml

_UNSET: Any = object()


def experiment_dirs(root: Path, name: str) -> Iterator[Path]:
    """Yield, in order, the folders an experiment called ``name`` may live in.

    The slug first, then the slug with a hash of the name (for two names sharing a
    slug, say ``Iris`` and ``iris``), then numbered variants. Every process probes the
    same sequence, so concurrent creators of one experiment agree on its folder.
    """
    slug = layout.experiment_slug(name)
    yield root / slug
    tagged = f"{slug}-{layout.name_hash(name)}"
    yield root / tagged
    for number in itertools.count(2):
        yield root / f"{tagged}-{number}"


def find_experiment(root: Path, name: str) -> ExperimentRecord | None:
    """Return the experiment called ``name`` in the store, or None."""
    for folder in experiment_dirs(root, name):
        if not (folder / layout.EXPERIMENT_FILE).exists():
            return None
        existing = read_experiment(folder)
        if existing.name == name:
            return existing
    return None  # pragma: no cover - the probe sequence is endless


def ensure_experiment(
    root: Path,
    name: str,
    *,
    description: str | None = None,
    primary_metric: str | None = None,
    direction: str | None = None,
) -> ExperimentRecord:
    """Return the experiment called ``name``, creating it (and the store) when missing.

    Arguments that are given update an existing experiment's description, primary
    metric or direction. Safe under concurrency: of many processes creating the same
    experiment, one writes it and the others find it.

    Raises:
        InvalidInputError: a bad name or direction.
        StoreError: the store cannot be written (read-only, disk full...).
    """
    layout.check_text(name, "experiment name")
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInputError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    if primary_metric is not None:
        layout.check_key(primary_metric, "primary metric")
    if description is not None:
        if not isinstance(description, str):
            raise InvalidInputError(f"description must be text, got {type(description).__name__}")
        layout.check_utf8(description, "experiment description")
    try:
        return _ensure(root, name, description, primary_metric, direction)
    except OSError as exc:
        raise StoreError(
            f"cannot write experiment {name!r} in {root}: {exc.strerror or exc}"
        ) from exc


def _ensure(
    root: Path,
    name: str,
    description: str | None,
    primary_metric: str | None,
    direction: str | None,
) -> ExperimentRecord:
    """Find or create the experiment (see :func:`ensure_experiment`)."""
    for folder in experiment_dirs(root, name):
        path = folder / layout.EXPERIMENT_FILE
        if not path.exists():
            make_dir(folder, parents=True, exist_ok=True)
            data = {
                "format": FORMAT_VERSION,
                "name": name,
                "description": description or "",
                "created": now_iso(),
                "primary_metric": _primary(primary_metric, direction),
            }
            if create_text_exclusive(path, dump_yaml(data)):
                return read_experiment(folder)
        existing = read_experiment(folder)
        if existing.name == name:
            return _update(existing, description, primary_metric, direction)
    raise AssertionError("unreachable: the folder sequence is endless")  # pragma: no cover


def _primary(metric: str | None, direction: str | None) -> dict[str, str] | None:
    """The ``primary_metric`` mapping of experiment.yaml."""
    if metric is None:
        return None
    return {"name": metric, "direction": direction or "minimize"}


def _update(
    existing: ExperimentRecord,
    description: str | None,
    primary_metric: str | None,
    direction: str | None,
) -> ExperimentRecord:
    """Rewrite experiment.yaml when given settings differ from what it holds.

    The file is read again under the folder's lock and only the given settings change:
    keys this version does not know (written by a newer runfolio or by hand) are kept,
    and so are settings another process saved meanwhile.
    """
    if _holds(existing, description, primary_metric, direction):
        return existing
    path = existing.path / layout.EXPERIMENT_FILE
    with folder_lock(existing.path):
        current = read_experiment(existing.path)
        if _holds(current, description, primary_metric, direction):
            return current
        data = read_yaml_mapping(path)
        if description is not None:
            data["description"] = description
        if primary_metric is not None or direction is not None:
            primary = data.get("primary_metric")
            primary = dict(primary) if isinstance(primary, dict) else {}
            primary["name"] = current.primary_metric if primary_metric is None else primary_metric
            primary["direction"] = current.direction if direction is None else direction
            data["primary_metric"] = primary if primary["name"] is not None else None
        write_text_atomic(path, dump_yaml(data))
    return read_experiment(existing.path)


def _holds(
    record: ExperimentRecord,
    description: str | None,
    primary_metric: str | None,
    direction: str | None,
) -> bool:
    """Tell whether the experiment already has every setting that is given."""
    return (
        (description is None or description == record.description)
        and (primary_metric is None or primary_metric == record.primary_metric)
        and (direction is None or direction == record.direction)
    )
