"""Moving artifacts between a run and its bucket: offload on logging, pull, fetch on demand.

Order matters for crash safety: an object is uploaded first and recorded in the run's
manifest only once the upload succeeded, so a crash mid-upload leaves at most an
unreferenced object (harmless: the next upload of the same bytes reuses it), never an
entry naming nothing.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from runfolio.config_values import RemoteSettings, split_location
from runfolio.objectstore.bucket import Bucket, file_sha256
from runfolio.objectstore.cache import cached_object, fetch_cached
from runfolio.objectstore.errors import HashMismatchError, ObjectStoreError
from runfolio.objectstore.manifest import RemoteArtifact, read_manifest, record_artifacts
from runfolio.objectstore.settings import settings_for_store
from runfolio.store import layout
from runfolio.store.atomic import copy_file_atomic, make_dir


def offload_file(
    run_dir: Path,
    source: Path,
    relative: PurePosixPath,
    settings: RemoteSettings,
    bucket: Bucket | None = None,
) -> RemoteArtifact:
    """Upload ``source`` as the run's artifact ``relative`` and record it in the manifest.

    ``bucket`` reuses an open connection (when logging a folder of files).

    A plain file already at that place in ``artifacts/`` (logged small earlier) is
    removed once the manifest names the new one.

    Raises:
        ObjectStoreError: the upload failed (nothing is recorded), or ``source`` changed
            while it was being sent.
        ManifestError: the run's manifest cannot be read.
    """
    before = os.stat(source)
    sha256, size = file_sha256(source)
    artifact = RemoteArtifact(relative.as_posix(), size, sha256, settings.object_uri(sha256))
    (bucket or Bucket(settings)).upload_file(source, artifact.uri, size)
    after = os.stat(source)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise ObjectStoreError(
            f"{source} changed while it was uploaded; log it again once it is complete"
        )
    _record(run_dir, artifact)
    return artifact


def offload_bytes(
    run_dir: Path, data: bytes, relative: PurePosixPath, settings: RemoteSettings
) -> RemoteArtifact:
    """Upload ``data`` as the artifact ``relative`` and record it, as :func:`offload_file` does."""
    import hashlib

    sha256 = hashlib.sha256(data).hexdigest()
    artifact = RemoteArtifact(relative.as_posix(), len(data), sha256, settings.object_uri(sha256))
    Bucket(settings).upload_bytes(data, artifact.uri)
    _record(run_dir, artifact)
    return artifact


def _record(run_dir: Path, artifact: RemoteArtifact) -> None:
    """Name ``artifact`` in the manifest, then drop a stale local file of the same path."""
    record_artifacts(run_dir, [artifact])
    local = layout.artifact_file(run_dir, PurePosixPath(artifact.path))
    with contextlib.suppress(FileNotFoundError):
        if not local.is_dir():
            local.unlink()


@dataclass
class PullReport:
    """What :func:`pull_run` did.

    Attributes:
        destination: the folder the files went to.
        pulled: paths (relative to it) written by this pull.
        present: paths that were there already with the recorded hash.
        bytes_pulled: the bytes written.
    """

    destination: Path
    pulled: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    bytes_pulled: int = 0


def pull_run(run_dir: Path, destination: Path | None = None) -> PullReport:
    """Fetch a run's remote artifacts into its ``artifacts/`` folder, or into ``destination``.

    Each file is checked against the manifest's size and sha256 before it is put in
    place; a file already there with the recorded hash is kept as it is. A file already
    there with other bytes is not overwritten. Objects fetched before (by a site build or
    ``load_model``) are copied from the cache instead of downloaded again.

    Returns:
        What was pulled, and what was already there.

    Raises:
        HashMismatchError: a fetched object does not have the recorded hash (it is not
            left in place); other files are still pulled and every failure is listed.
        ObjectStoreError: a file could not be fetched or written; every failure is listed.
        ManifestError: the run's manifest cannot be read.
        ConfigError: the store's ``artifacts`` settings are bad.
    """
    target_root = destination if destination is not None else run_dir / layout.ARTIFACTS_DIR
    report = PullReport(target_root)
    manifest = read_manifest(run_dir)
    if not manifest:
        return report
    buckets: dict[str, Bucket] = {}  # by scheme: one connection each
    failures: list[str] = []
    mismatch = False
    for artifact in sorted(manifest.values(), key=lambda a: a.path):
        target = target_root.joinpath(*PurePosixPath(artifact.path).parts)
        try:
            _check_no_symlink(target_root, target)
            if target.exists() and _matches(target, artifact):
                report.present.append(artifact.path)
                continue
            if target.exists() or target.is_symlink():
                raise ObjectStoreError(
                    f"{target} exists and is not the recorded file; move it away to pull it"
                )
            cached = cached_object(artifact)
            if cached is not None:
                _copy_into_place(cached, target)
            else:
                scheme = split_location(artifact.uri)[0]
                bucket = buckets.get(scheme) or open_bucket_for(run_dir, artifact)
                buckets[scheme] = bucket
                bucket.download(artifact.uri, target, artifact.sha256, artifact.size)
        except ObjectStoreError as exc:
            mismatch = mismatch or isinstance(exc, HashMismatchError)
            failures.append(f"{artifact.path}: {exc}")
            continue
        except OSError as exc:
            failures.append(f"{artifact.path}: cannot write {target}: {exc.strerror or exc}")
            continue
        report.pulled.append(artifact.path)
        report.bytes_pulled += artifact.size
    if failures:
        error = HashMismatchError if mismatch else ObjectStoreError
        lines = "\n".join(f"  - {failure}" for failure in failures)
        raise error(
            f"pulled {len(report.pulled) + len(report.present)} of {len(manifest)} remote "
            f"artifacts of run {run_dir.name}; {len(failures)} failed:\n{lines}"
        )
    return report


def fetch_artifact(run_dir: Path, relative: str) -> Path | None:
    """The local (cached) copy of the run's remote artifact ``relative``, fetched if needed.

    Returns:
        The cached file, or None when the manifest does not name ``relative``.

    Raises:
        HashMismatchError: the object's bytes are not the recorded ones.
        ObjectStoreError: it cannot be fetched.
        ManifestError: the manifest cannot be read.
    """
    artifact = read_manifest(run_dir).get(relative)
    if artifact is None:
        return None
    cached = cached_object(artifact)
    if cached is not None:
        return cached
    return fetch_cached(open_bucket_for(run_dir, artifact), artifact)


def open_bucket_for(run_dir: Path, artifact: RemoteArtifact) -> Bucket:
    """A connection to the server holding ``artifact``, with the store's settings.

    A store whose ``runfolio.yaml`` has no ``artifacts`` key (say, it was removed) still
    reads its objects, with its client's defaults; so does an object of another scheme
    than the configured one (the store moved to another kind of storage).
    """
    settings = settings_for_store(run_dir.parent.parent)
    scheme, bucket, _ = split_location(artifact.uri)
    if settings is None or settings.scheme != scheme:
        settings = RemoteSettings(bucket=bucket, scheme=scheme)
    return Bucket(settings)


def _matches(path: Path, artifact: RemoteArtifact) -> bool:
    """Whether the regular file at ``path`` is the recorded one."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode) or info.st_size != artifact.size:
        return False
    return file_sha256(path)[0] == artifact.sha256


def _check_no_symlink(root: Path, target: Path) -> None:
    """Refuse to write through a symlink between ``root`` and ``target``."""
    for folder in [target, *target.parents]:
        if folder == root.parent:
            break
        if folder.is_symlink():
            raise ObjectStoreError(f"refusing to write through the symlink {folder}")


def _copy_into_place(source: Path, target: Path) -> None:
    """Copy a cached object to ``target`` in one step, durably (the store's writer)."""
    make_dir(target.parent, parents=True, exist_ok=True)
    copy_file_atomic(source, target)


def should_offload(size: int, settings: RemoteSettings | None) -> bool:
    """Whether a file of ``size`` bytes goes to the bucket under ``settings``."""
    return settings is not None and size > settings.threshold
