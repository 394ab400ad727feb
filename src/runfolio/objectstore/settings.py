"""The ``artifacts`` key of ``runfolio.yaml``: where large artifacts go, validated whole.

Either a bucket URI alone (``s3://``, ``gs://``, ``az://``, ``abfs://`` or
``file:///absolute/folder``)::

    artifacts: s3://ml-artifacts/iris-lab

or a mapping::

    artifacts:
      uri: s3://ml-artifacts/iris-lab
      endpoint_url: http://127.0.0.1:9000   # S3-compatible servers (MinIO, R2, Ceph ...)
      region: eu-west-1                     # endpoint_url, region, profile: s3:// only
      profile: lab                          # an AWS profile name, never a secret
      threshold: 1 MB                       # larger files go to the bucket
      public_url: https://ml-artifacts.s3.eu-west-1.amazonaws.com
      previews: true                        # site builds fetch small ones to preview

Credentials are never read from here: the file is committed and its values may be
published. They come from the environment or an AWS profile, as for any AWS tool.
"""

from __future__ import annotations

import os
from pathlib import Path

from runfolio.config import CONFIG_FILE, ConfigError, read_config, store_config_root
from runfolio.config_values import RemoteSettings

CONFIG_KEY = "artifacts"
# Parsed settings by runfolio.yaml path, with the file identity they were read from.
_loaded: dict[Path, tuple[tuple[int, int, int], RemoteSettings | None]] = {}


def settings_for_store(store: Path) -> RemoteSettings | None:
    """The object storage settings that apply to the runs of ``store``, None when unset.

    They come from the ``runfolio.yaml`` that ``runfolio build`` reads for the store: at
    the root of its git repository, else in its parent folder. Only the ``artifacts``
    key is checked here, so a bad site setting never stops a training script.

    Raises:
        ConfigError: the file is unreadable, or ``artifacts`` is bad (every problem listed).
    """
    return load_remote_settings(store_config_root(store))


def load_remote_settings(root: Path) -> RemoteSettings | None:
    """Read and validate the ``artifacts`` key of ``<root>/runfolio.yaml``.

    Raises:
        ConfigError: naming the file and every problem of the key.
    """
    path = root / CONFIG_FILE
    try:
        signature = _signature(path)
    except FileNotFoundError:
        return None
    cached = _loaded.get(path)
    if cached is not None and cached[0] == signature:
        return cached[1]
    value = read_config(root).get(CONFIG_KEY)
    settings = None
    if value is not None:
        # Only here: a training script without object storage never imports pydantic.
        from runfolio.config_schema import ConfigProblems, validate_artifacts

        try:
            settings = validate_artifacts(value)
        except ConfigProblems as exc:
            lines = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise ConfigError(f"{path}: bad object storage settings:\n{lines}") from None
    _loaded[path] = (signature, settings)
    return settings


def _signature(path: Path) -> tuple[int, int, int]:
    """Identify the file's current contents cheaply (a training loop logs often)."""
    info = os.stat(path)
    return (info.st_ino, info.st_mtime_ns, info.st_size)
