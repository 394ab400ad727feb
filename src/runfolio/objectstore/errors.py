"""Errors of the object storage: unreachable, refused, missing, or not what was promised."""

from __future__ import annotations

from runfolio.errors import RunfolioError


class ObjectStoreError(RunfolioError):
    """A transfer to or from the bucket failed; the message names the URI and the cause."""


class HashMismatchError(ObjectStoreError):
    """Bytes fetched from the bucket do not have the sha256 the manifest records."""


class ManifestError(ObjectStoreError):
    """A run's ``artifacts.remote.yaml`` cannot be read or holds a bad entry."""
