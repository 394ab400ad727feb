"""Fetched objects kept by their sha256, outside the store, so nothing is fetched twice.

``$RUNFOLIO_CACHE_DIR/objects/sha256/<ab>/<hash>`` (else ``~/.cache/runfolio/...``): a
file enters only after its bytes were checked against the hash that names it, so a
cached object is the file the manifest means. Deleting the folder is always safe.
"""

from __future__ import annotations

import os
from pathlib import Path

from runfolio.objectstore.bucket import Bucket
from runfolio.objectstore.manifest import RemoteArtifact
from runfolio.store.cache import cache_dir


def objects_dir() -> Path:
    """The folder of cached objects."""
    return cache_dir() / "objects" / "sha256"


def cached_path(sha256: str) -> Path:
    """Where the object with this hash is (or would be) cached."""
    return objects_dir() / sha256[:2] / sha256


def cached_object(artifact: RemoteArtifact) -> Path | None:
    """The cached copy of ``artifact``, None when it is not cached (or is truncated)."""
    path = cached_path(artifact.sha256)
    try:
        if os.stat(path).st_size == artifact.size:
            return path
    except OSError:
        pass
    return None


def fetch_cached(bucket: Bucket, artifact: RemoteArtifact) -> Path:
    """Return the cached copy of ``artifact``, downloading and checking it first if needed.

    Raises:
        HashMismatchError: the object's bytes are not the recorded ones (nothing is cached).
        ObjectStoreError: the object cannot be fetched.
    """
    found = cached_object(artifact)
    if found is not None:
        return found
    path = cached_path(artifact.sha256)
    bucket.download(artifact.uri, path, artifact.sha256, artifact.size)
    return path
