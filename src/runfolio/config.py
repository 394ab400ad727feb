"""Finding the run store: explicit choice, environment, ``runfolio.yaml``, or ``runs/``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from runfolio.errors import RunfolioError
from runfolio.gitrepo import find_repo_root
from runfolio.store.serialize import load_yaml

if TYPE_CHECKING:
    from decimal import Decimal

CONFIG_FILE = "runfolio.yaml"
STORE_ENV = "RUNFOLIO_STORE"
DEFAULT_STORE_DIR = "runs"


class ConfigError(RunfolioError):
    """``runfolio.yaml`` cannot be read or holds a bad value."""


def project_root(cwd: Path | None = None) -> Path:
    """The repository root containing ``cwd``, or ``cwd`` itself outside a repository."""
    here = Path.cwd() if cwd is None else cwd
    return find_repo_root(here) or here.resolve()


def store_config_root(store: Path) -> Path:
    """Where ``runfolio.yaml`` lives for a store: its repository's root, else its parent."""
    return find_repo_root(store) or store.parent


def resolve_store(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """Return the run store folder to use, in order of precedence.

    1. ``explicit`` (``runfolio.set_store`` or a ``--store`` option);
    2. the ``RUNFOLIO_STORE`` environment variable;
    3. the ``store`` key of ``runfolio.yaml`` at the repository root (relative to it);
    4. ``runs/`` at the repository root (or the current folder outside a repository).

    Raises:
        ConfigError: ``runfolio.yaml`` exists but is not valid YAML or ``store`` is not text.
    """
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser().absolute()
    from_env = os.environ.get(STORE_ENV)
    if from_env:
        return Path(from_env).expanduser().absolute()
    root = project_root(cwd)
    configured = read_config(root).get("store")
    if configured is not None:
        if not isinstance(configured, str) or not configured:
            raise ConfigError(f"{root / CONFIG_FILE}: 'store' must be a path, got {configured!r}")
        return (root / Path(configured).expanduser()).absolute()
    return root / DEFAULT_STORE_DIR


def read_config(root: Path) -> dict[str, object]:
    """Return the mapping in ``<root>/runfolio.yaml``, or {} when there is none.

    Raises:
        ConfigError: the file is not valid YAML or not a mapping.
    """
    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    import yaml

    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(value: object) -> int:
    """Return a byte count from an int or a text like ``"5 MB"``, ``"512KiB"`` or ``"300"``.

    KB/MB/GB are powers of 1000, KiB/MiB/GiB powers of 1024; the unit's case is ignored.

    Raises:
        ValueError: not a non-negative whole number of bytes.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a byte count like 5000000 or '5 MB', got {value!r}")
    number: int | Decimal
    if isinstance(value, int):
        number, unit = value, 1
    else:
        match = _SIZE_RE.match(value)
        unit_name = match.group(2).lower() if match else ""
        if match is None or unit_name not in {"", *_UNITS}:
            raise ValueError(
                f"{value!r} is not a size like '5 MB' (units: B, KB, MB, GB, KiB, MiB, GiB)"
            )
        from decimal import Decimal  # only here: the tracking API reads this module too

        # Decimal, so that "0.1 KB" is exactly 100 bytes.
        number, unit = Decimal(match.group(1)), _UNITS.get(unit_name, 1)
    size = number * unit
    if size < 0 or size != int(size):
        raise ValueError(f"{value!r} is not a whole, non-negative number of bytes")
    return int(size)
