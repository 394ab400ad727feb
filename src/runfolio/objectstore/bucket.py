"""Talking to the bucket through fsspec, with every failure turned into a clear error.

The filesystem (s3fs, gcsfs, adlfs, or fsspec's own for ``file://``; see
:mod:`runfolio.objectstore.filesystems`) is imported when a :class:`Bucket` is opened,
never before: a run that sends nothing to a bucket never loads it. Credentials are
never passed in: each client finds them as its own tools do; for S3, botocore reads the
environment (``AWS_ACCESS_KEY_ID`` ...), ``~/.aws`` (the configured ``profile``) or the
machine's role.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from runfolio.config_values import RemoteSettings, split_uri
from runfolio.objectstore.errors import HashMismatchError, ObjectStoreError
from runfolio.objectstore.filesystems import open_filesystem
from runfolio.store.atomic import atomic_writer, make_dir

CHUNK = 8 * 2**20
"""Bytes read per request when downloading (and per hashing step)."""

_CREDENTIALS_HINT = (
    "check the credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) "
    "or the AWS profile; runfolio.yaml never holds them"
)
_OTHER_CREDENTIALS_HINT = (
    "check the credentials its client reads from the environment (docs/object-storage.md); "
    "runfolio.yaml never holds them"
)


class Bucket:
    """The configured bucket (or ``file://`` folder), reached through fsspec.

    Open one per batch of transfers: it keeps one connection pool.

    Raises:
        ObjectStoreError: the scheme's client is not installed (the message says what
            to install), or the settings do not apply to the scheme.
    """

    def __init__(self, settings: RemoteSettings) -> None:
        self.settings = settings
        self._fs = open_filesystem(settings)
        self._local = settings.scheme == "file"

    def upload_file(self, source: Path, uri: str, size: int) -> bool:
        """Put the file ``source`` at ``uri`` unless an object of that size is there already.

        Content-addressed keys make an existing object of the right size the same file, so
        it is not sent again. The object appears only once complete (see :meth:`_put`).

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
            self._put(path, lambda target: self._fs.put_file(os.fspath(source), target))
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
            self._put(path, lambda target: self._fs.pipe_file(target, data))
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

    def _put(self, path: str, write: Callable[[str], object]) -> None:
        """Call ``write`` with the path to write so that ``path`` appears only once complete.

        Object stores publish an object when its upload completes; a plain folder needs
        the bytes written beside the target and renamed over it, and the configured
        folder itself must exist (a missing mount is not silently replaced by a new one).
        """
        if not self._local:
            write(path)
            return
        if not self._fs.isdir(self._root):
            raise FileNotFoundError(f"{self._root} does not exist")
        self._fs.makedirs(posixpath.dirname(path), exist_ok=True)
        partial = f"{path}.{uuid.uuid4().hex}.part"
        try:
            write(partial)
            self._fs.mv(partial, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                self._fs.rm_file(partial)

    @property
    def _root(self) -> str:
        """The path that must exist for a transfer: the bucket, or the ``file://`` folder."""
        return f"/{self.settings.prefix}" if self._local else self.settings.bucket

    def _size_of(self, path: str) -> int | None:
        """The size of the object at ``path``, None when there is none."""
        try:
            info = self._fs.info(path)
        except FileNotFoundError as exc:
            if _no_bucket(exc):
                raise
            return None
        return int(info["size"]) if info.get("type") == "file" else None

    def _missing_root(self, exc: FileNotFoundError) -> bool:
        """Whether a failure comes from a missing bucket (or folder), not a missing object."""
        if _no_bucket(exc):
            return True
        if self.settings.scheme == "s3":
            return False  # s3fs says so in its message, checked above
        try:
            return not self._fs.exists(self._root)
        except Exception:  # the original error is the one to report
            return False

    @contextlib.contextmanager
    def _translated(self, action: str, uri: str) -> Iterator[None]:
        """Turn fsspec and client failures into an ObjectStoreError that says what to do."""
        where = f" at {self.settings.endpoint_url}" if self.settings.endpoint_url else ""
        failed = f"cannot {action} {uri}"
        try:
            yield
        except ObjectStoreError:
            raise
        except Exception as exc:
            error = self._error(_as_builtin(exc), failed, uri, where)
            if error is exc:
                raise
            raise error from exc

    def _error(self, exc: Exception, failed: str, uri: str, where: str) -> Exception:
        """The ObjectStoreError for ``exc``; ``exc`` itself when it is no storage error."""
        if isinstance(exc, FileNotFoundError):
            if not self._missing_root(exc):
                return ObjectStoreError(f"{failed}: no such object{where}")
            missing = (
                f"the folder {self._root}" if self._local else f"the bucket {split_uri(uri)[0]!r}"
            )
            return ObjectStoreError(
                f"{failed}: {missing} does not exist{where}; "
                "create it, or fix artifacts.uri in runfolio.yaml"
            )
        hint = {"s3": _CREDENTIALS_HINT, "file": "check the folder's permissions"}.get(
            self.settings.scheme, _OTHER_CREDENTIALS_HINT
        )
        if isinstance(exc, PermissionError):
            return ObjectStoreError(f"{failed}: access denied{where} ({exc}); {hint}")
        if isinstance(exc, ConnectionError):
            return ObjectStoreError(f"{failed}: the server{where} cannot be reached ({exc})")
        if isinstance(exc, OSError):
            return ObjectStoreError(f"{failed}{where}: {exc}")
        return _botocore_error(exc, failed, where) or exc


def _path(uri: str) -> str:
    """The fsspec path of an object's URI: ``bucket/key``, or ``/key`` for ``file://``."""
    bucket, key = split_uri(uri)
    return f"{bucket}/{key}"


def _no_bucket(exc: FileNotFoundError) -> bool:
    """Whether s3fs reports a missing bucket rather than a missing object."""
    return "bucket does not exist" in str(exc).lower()


def _as_builtin(exc: Exception) -> Exception:
    """Azure's client errors as the built-in ones fsspec's other clients raise.

    adlfs lets the Azure SDK's errors through where s3fs and gcsfs raise
    FileNotFoundError, PermissionError or a connection error.
    """
    module = type(exc).__module__
    if not module.startswith("azure."):
        return exc
    from azure.core import exceptions

    message = getattr(exc, "message", None) or str(exc)
    message = message.splitlines()[0] if message else type(exc).__name__
    if isinstance(exc, exceptions.ResourceNotFoundError):
        return FileNotFoundError(message)
    if isinstance(exc, exceptions.ClientAuthenticationError):
        return PermissionError(message)
    if isinstance(exc, exceptions.ServiceRequestError | exceptions.ServiceResponseError):
        return ConnectionError(message)
    if isinstance(exc, exceptions.AzureError):
        return OSError(message)
    return exc


def _botocore_error(exc: Exception, failed: str, where: str) -> Exception | None:
    """An ObjectStoreError for botocore's own errors; None for anything else."""
    try:
        from botocore import exceptions
    except ImportError:  # s3fs brings botocore; without it, no error can be botocore's
        return None
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
