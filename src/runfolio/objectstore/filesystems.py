"""Which fsspec filesystem serves a bucket URI, and what to install when it is missing.

``s3://`` is served by s3fs, ``gs://`` by gcsfs, ``az://`` and ``abfs://`` by adlfs and
``file://`` by fsspec itself. Only S3 takes settings from ``runfolio.yaml``
(``endpoint_url``, ``region``, ``profile``); every client finds its credentials the way
its own tools do (the environment, a profile, the machine's role), never in the file.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runfolio.config_values import S3_ONLY_KEYS, RemoteSettings
from runfolio.objectstore.errors import ObjectStoreError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


@dataclass(frozen=True)
class Backend:
    """The client package behind a URI scheme.

    Attributes:
        module: the module that registers the filesystem with fsspec.
        package: the name to install it by.
        extra: runfolio's extra that brings it, None when fsspec alone serves it.
    """

    module: str
    package: str
    extra: str | None

    @property
    def install_hint(self) -> str:
        """The command that installs the package."""
        return f"pip install 'runfolio[{self.extra}]'" if self.extra else "pip install fsspec"


BACKENDS: dict[str, Backend] = {
    "s3": Backend("s3fs", "s3fs", "s3"),
    "gs": Backend("gcsfs", "gcsfs", "gcs"),
    "az": Backend("adlfs", "adlfs", "azure"),
    "abfs": Backend("adlfs", "adlfs", "azure"),
    "file": Backend("fsspec.implementations.local", "fsspec", None),
}
"""Every scheme :data:`runfolio.config_values.SCHEMES` accepts, with its client."""


def open_filesystem(settings: RemoteSettings) -> AbstractFileSystem:
    """A new fsspec filesystem for the bucket ``settings`` names.

    Each call gets its own instance (no fsspec instance or listings cache), so it sees
    the bucket, and the credentials, as they are now.

    Raises:
        ObjectStoreError: the scheme's client package is not installed (the message
            names the command that installs it), or an S3-only setting is set for
            another scheme.
    """
    backend = BACKENDS[settings.scheme]
    try:
        # Imported here rather than left to fsspec, which remembers a class it loaded once.
        importlib.import_module(backend.module)
        import fsspec
    except ImportError as exc:
        raise ObjectStoreError(
            f"this store keeps artifacts in {settings.uri}, which needs {backend.package}: "
            f"{backend.install_hint}"
        ) from exc
    if settings.scheme == "s3":
        return fsspec.filesystem("s3", **_s3_options(settings))
    misplaced = [key for key in S3_ONLY_KEYS if getattr(settings, key) is not None]
    if misplaced:
        raise ObjectStoreError(
            f"artifacts.{misplaced[0]} in runfolio.yaml applies to s3:// only, and the store "
            f"keeps artifacts in {settings.uri}; remove it (the {backend.package} client "
            "reads its own settings from the environment)"
        )
    if settings.scheme == "file":
        return fsspec.filesystem("file", skip_instance_cache=True)
    return fsspec.filesystem(settings.scheme, skip_instance_cache=True, use_listings_cache=False)


def _s3_options(settings: RemoteSettings) -> dict[str, Any]:
    """The s3fs options for runfolio's S3 settings."""
    options: dict[str, Any] = {
        "endpoint_url": settings.endpoint_url,
        "client_kwargs": {"region_name": settings.region} if settings.region else {},
        "skip_instance_cache": True,
        "use_listings_cache": False,
        "config_kwargs": {
            "connect_timeout": 10,
            "read_timeout": 60,
            "retries": {"max_attempts": 3, "mode": "standard"},
        },
    }
    if settings.profile:
        options["profile"] = settings.profile
    return options
