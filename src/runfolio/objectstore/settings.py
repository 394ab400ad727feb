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
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from runfolio.config import CONFIG_FILE, ConfigError, read_config, store_config_root

CONFIG_KEY = "artifacts"
DEFAULT_THRESHOLD = 1_000_000  # "1 MB": decimal, like the site's size limit
SCHEMES = ("s3", "gs", "az", "abfs", "file")
"""URI schemes of ``artifacts.uri``; :mod:`runfolio.objectstore.filesystems` serves each."""

_CONTROL_RE = re.compile(r"[\x00-\x20\x7f]")
_CONTROL_CHAR_RE = re.compile(r"[\x00-\x1f\x7f]")

# Parsed settings by runfolio.yaml path, with the file identity they were read from.
_loaded: dict[Path, tuple[tuple[int, int, int], RemoteSettings | None]] = {}


@dataclass(frozen=True)
class RemoteSettings:
    """Validated object storage settings.

    Attributes:
        bucket: the bucket name.
        prefix: the folder inside the bucket, without leading or trailing ``/`` ("" for
            the bucket's root).
        endpoint_url: the S3 API address of a non-AWS server, None for AWS itself.
        region: the bucket's region, None to let the client decide.
        profile: an AWS profile name (from ``~/.aws/config``), None for the default chain.
        threshold: files larger than this many bytes go to the bucket.
        public_url: the public web address of the bucket's root, None when it has none.
        previews: whether a site build fetches small remote artifacts to preview them.
        scheme: the URI scheme, one of :data:`SCHEMES` (for ``file://`` the bucket is ""
            and the prefix is the folder's absolute path without its leading ``/``).
    """

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    threshold: int = DEFAULT_THRESHOLD
    public_url: str | None = None
    previews: bool = True
    scheme: str = "s3"

    @property
    def uri(self) -> str:
        """The configured location, ``s3://bucket/prefix`` (``file:///folder``)."""
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")

    def object_key(self, sha256: str) -> str:
        """The content-addressed key of a file: ``<prefix>/sha256/<ab>/<hash>``."""
        key = f"sha256/{sha256[:2]}/{sha256}"
        return f"{self.prefix}/{key}" if self.prefix else key

    def object_uri(self, sha256: str) -> str:
        """The URI of a file's object, as the manifest records it."""
        return f"{self.scheme}://{self.bucket}/{self.object_key(sha256)}"

    def holds(self, uri: str, sha256: str) -> bool:
        """Whether ``uri`` is the object this configuration would store ``sha256`` under.

        A site build publishes only such objects: a manifest that names another bucket,
        another folder or a key that is not its own hash fetches nothing.
        """
        return uri == self.object_uri(sha256)

    def public_href(self, uri: str) -> str | None:
        """The public link of an object in this bucket, None without ``public_url``.

        ``public_url`` is the address of the bucket's root; for ``file://``, which has no
        bucket, the address of the configured folder.
        """
        if self.public_url is None:
            return None
        bucket, key = split_uri(uri)
        if bucket != self.bucket or not uri.startswith(f"{self.scheme}://"):
            return None
        if self.scheme == "file":
            if not key.startswith(f"{self.prefix}/"):
                return None  # outside the folder
            key = key[len(self.prefix) + 1 :]
        return f"{self.public_url}/{quote(key, safe='/')}"


def split_location(text: str) -> tuple[str, str, str]:
    """Split ``scheme://bucket/rest`` into its lower-case scheme, its bucket and the rest.

    A ``file://`` URI names an absolute folder (``file:///srv/artifacts``): its bucket is
    "" and the rest is the path without its leading ``/``.

    Raises:
        ValueError: the scheme is not one of :data:`SCHEMES`, a bucket is missing, or a
            ``file://`` URI names a host.
    """
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    bucket, _, path = rest.partition("/")
    if not sep or scheme not in SCHEMES:
        schemes = ", ".join(f"{name}://" for name in SCHEMES[:-1])
        raise ValueError(f"{text!r} must be an {schemes} or {SCHEMES[-1]}:// URI")
    if scheme == "file" and bucket:
        raise ValueError(f"{text!r} must name an absolute folder: file:///path/to/folder")
    if scheme != "file" and not bucket:
        raise ValueError(f"{text!r} names no bucket")
    return scheme, bucket, path


def split_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` (or another scheme's URI) into bucket and key.

    The key must be written normalised: a key with an empty, ``.`` or ``..`` part (or
    starting with ``/``), a backslash or a control character is refused, since a link
    built from it (``public_url`` plus the key) would resolve somewhere else than the
    object. Manifests are written by whoever made the run, a pull request's author too.

    Raises:
        ValueError: not a URI of :data:`SCHEMES` with a bucket and such a key; the
            message says which rule it broke.
    """
    scheme, bucket, key = split_location(uri)
    if not key:
        raise ValueError(f"{uri!r} is not a {scheme}://bucket/key URI")
    if "\\" in key or _CONTROL_CHAR_RE.search(key):
        raise ValueError(f"{uri!r}: the key must not hold backslashes or control characters")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"{uri!r}: the key must not have empty, '.' or '..' parts")
    return bucket, key


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


def parse_bucket_uri(value: object) -> tuple[str, str, str]:
    """Split ``s3://bucket/folder/...`` (or another scheme's) into scheme, bucket and folder.

    This is the one rule for the configured location (``artifacts.uri``), which
    :mod:`runfolio.config_schema` applies; the folder comes back without leading or
    trailing ``/``. A ``file:///path`` location has bucket "" and must name a folder.

    Raises:
        ValueError: not such a URI; the message says which rule it broke.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an s3://bucket/prefix URI, got {value!r}")
    text = value.strip()
    scheme, bucket, prefix = split_location(text)
    prefix = prefix.strip("/")
    if scheme == "file" and not prefix:
        raise ValueError(f"{text!r} names no folder")
    if _CONTROL_RE.search(bucket) or _CONTROL_CHAR_RE.search(prefix) or "\\" in prefix:
        raise ValueError(f"{text!r}: no spaces in the bucket, no control characters or backslashes")
    if "@" in bucket or ":" in bucket:
        raise ValueError(
            f"{text!r}: put the server in 'endpoint_url' and credentials in the environment"
        )
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise ValueError(f"{text!r}: the folder must not have empty, '.' or '..' parts")
    return scheme, bucket, prefix
