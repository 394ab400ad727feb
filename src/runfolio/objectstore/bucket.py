"""Talking to the bucket through s3fs, with every failure turned into a clear error.

s3fs (and with it fsspec and botocore) is imported when a :class:`Bucket` is opened,
never before: a run that sends nothing to a bucket never loads it. Credentials are
never passed in: botocore finds them in the environment (``AWS_ACCESS_KEY_ID`` ...),
in ``~/.aws`` (the configured ``profile``) or in the machine's role, as any AWS tool does.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runfolio.objectstore.errors import INSTALL_HINT, HashMismatchError, ObjectStoreError
from runfolio.objectstore.settings import RemoteSettings, split_uri
from runfolio.store.atomic import atomic_writer, make_dir

CHUNK = 8 * 2**20
"""Bytes read per request when downloading (and per hashing step)."""

_CREDENTIALS_HINT = (
    "check the credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) "
    "or the AWS profile; runfolio.yaml never holds them"
)


class Bucket:
    """The configured S3 or S3-compatible server, reached through s3fs.

    Open one per batch of transfers: it keeps one connection pool.

    Raises:
        ObjectStoreError: s3fs is not installed (``pip install 'runfolio[s3]'``).
    """

    def __init__(self, settings: RemoteSettings) -> None:
        try:
            import s3fs
        except ImportError as exc:
            raise ObjectStoreError(
                f"this store keeps artifacts in {settings.uri}, which needs s3fs: {INSTALL_HINT}"
            ) from exc
        self.settings = settings
        client_kwargs: dict[str, Any] = {}
        if settings.region:
            client_kwargs["region_name"] = settings.region
        options: dict[str, Any] = {}
        if settings.profile:
            options["profile"] = settings.profile
        self._fs = s3fs.S3FileSystem(
            endpoint_url=settings.endpoint_url,
            client_kwargs=client_kwargs,
            # Each Bucket sees the bucket as it is now, with the credentials of now.
            skip_instance_cache=True,
            use_listings_cache=False,
            config_kwargs={
                "connect_timeout": 10,
                "read_timeout": 60,
                "retries": {"max_attempts": 3, "mode": "standard"},
            },
            **options,
        )

    def upload_file(self, source: Path, uri: str, size: int) -> bool:
        """Put the file ``source`` at ``uri`` unless an object of that size is there already.

        Content-addressed keys make an existing object of the right size the same file, so
        it is not sent again. S3 makes an object visible only once its upload completed.

        Returns:
            Whether bytes were sent.

        Raises:
            ObjectStoreError: the bucket is missing or refuses us, the server is unreachable,
                or the stored object does not have the expected size afterwards.
        """
        path = _path(uri)
        with self._translated("upload to", uri):
            if self._size_of(path) == size:
                return False
            self._fs.put_file(os.fspath(source), path)
            stored = self._size_of(path)
        if stored != size:
            raise ObjectStoreError(
                f"upload to {uri} stored {stored} bytes instead of {size}; nothing was recorded"
            )
        return True

    def upload_bytes(self, data: bytes, uri: str) -> bool:
        """Put ``data`` at ``uri`` unless an object of that size is there already."""
        path = _path(uri)
        with self._translated("upload to", uri):
            if self._size_of(path) == len(data):
                return False
            self._fs.pipe_file(path, data)
            stored = self._size_of(path)
        if stored != len(data):
            raise ObjectStoreError(
                f"upload to {uri} stored {stored} bytes instead of {len(data)}; "
                "nothing was recorded"
            )
        return True

    def download(self, uri: str, target: Path, sha256: str, size: int) -> None:
        """Fetch ``uri`` into ``target``, checking its size and sha256 on the way.

        The bytes go to a temporary file beside ``target``, fsynced and renamed into place
        only when they match (the store's atomic writer); on any failure nothing is left
        at ``target`` (an existing file there is replaced only by a verified one).

        Raises:
            HashMismatchError: the object's bytes are not the ones the manifest records.
            ObjectStoreError: the bucket or object is missing, access is refused, or the
                server is unreachable.
        """
        make_dir(target.parent, parents=True, exist_ok=True)
        digest = hashlib.sha256()
        received = 0
        with self._translated("download", uri), atomic_writer(target) as sink:
            with self._fs.open(_path(uri), "rb", block_size=CHUNK, cache_type="none") as source:
                while chunk := source.read(CHUNK):
                    received += len(chunk)
                    if received > size:
                        break  # no need to fetch the rest of a file that is already wrong
                    digest.update(chunk)
                    sink.write(chunk)
            if received != size or digest.hexdigest() != sha256:
                raise HashMismatchError(
                    f"{uri} does not hold the recorded file: expected {size} bytes with sha256 "
                    f"{sha256}, got {'more than ' if received > size else ''}{received} bytes"
                    + ("" if received > size else f" with sha256 {digest.hexdigest()}")
                    + "; the object was altered or replaced, so it was not used"
                )

    def _size_of(self, path: str) -> int | None:
        """The size of the object at ``path``, None when there is none."""
        try:
            info = self._fs.info(path)
        except FileNotFoundError as exc:
            if _no_bucket(exc):
                raise
            return None
        return int(info["size"]) if info.get("type") == "file" else None

    @contextlib.contextmanager
    def _translated(self, action: str, uri: str) -> Iterator[None]:
        """Turn s3fs and botocore failures into an ObjectStoreError that says what to do."""
        where = f" at {self.settings.endpoint_url}" if self.settings.endpoint_url else ""
        bucket = split_uri(uri)[0]
        try:
            yield
        except ObjectStoreError:
            raise
        except FileNotFoundError as exc:
            if _no_bucket(exc):
                raise ObjectStoreError(
                    f"cannot {action} {uri}: the bucket {bucket!r} does not exist{where}; "
                    "create it, or fix artifacts.uri in runfolio.yaml"
                ) from exc
            raise ObjectStoreError(f"cannot {action} {uri}: no such object{where}") from exc
        except PermissionError as exc:
            raise ObjectStoreError(
                f"cannot {action} {uri}: access denied{where} ({exc}); {_CREDENTIALS_HINT}"
            ) from exc
        except OSError as exc:
            raise ObjectStoreError(f"cannot {action} {uri}{where}: {exc}") from exc
        except Exception as exc:
            translated = _botocore_error(exc, action, uri, where)
            if translated is None:
                raise
            raise translated from exc


def _path(uri: str) -> str:
    """The s3fs path (``bucket/key``) of an ``s3://`` URI."""
    bucket, key = split_uri(uri)
    return f"{bucket}/{key}"


def _no_bucket(exc: FileNotFoundError) -> bool:
    """Whether s3fs reports a missing bucket rather than a missing object."""
    return "bucket does not exist" in str(exc).lower()


def _botocore_error(exc: Exception, action: str, uri: str, where: str) -> Exception | None:
    """An ObjectStoreError for botocore's own errors; None for anything else."""
    try:
        from botocore import exceptions
    except ImportError:  # pragma: no cover - s3fs always brings botocore
        return None
    failed = f"cannot {action} {uri}"
    if isinstance(exc, exceptions.NoCredentialsError):
        return ObjectStoreError(f"{failed}: no AWS credentials found; {_CREDENTIALS_HINT}")
    if isinstance(exc, exceptions.ProfileNotFound):
        return ObjectStoreError(f"{failed}: {exc} (artifacts.profile in runfolio.yaml)")
    if isinstance(exc, exceptions.EndpointConnectionError | exceptions.ConnectTimeoutError):
        return ObjectStoreError(f"{failed}: the server{where} cannot be reached ({exc})")
    if isinstance(exc, exceptions.BotoCoreError | exceptions.ClientError):
        return ObjectStoreError(f"{failed}{where}: {exc}")
    return None


def file_sha256(path: Path) -> tuple[str, int]:
    """The hex sha256 and size of a local file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
