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

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from runfolio.config import CONFIG_FILE, ConfigError, parse_size, read_config, store_config_root
from runfolio.store.secrets import secret_name

CONFIG_KEY = "artifacts"
DEFAULT_THRESHOLD = 1_000_000  # "1 MB": decimal, like the site's size limit
SCHEMES = ("s3", "gs", "az", "abfs", "file")
"""URI schemes of ``artifacts.uri``; :mod:`runfolio.objectstore.filesystems` serves each."""

_KEYS = ("uri", "endpoint_url", "region", "profile", "threshold", "public_url", "previews")
_CONTROL_RE = re.compile(r"[\x00-\x20\x7f]")
_CONTROL_CHAR_RE = re.compile(r"[\x00-\x1f\x7f]")
_REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

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
    problems: list[str] = []
    settings = None if value is None else check_remote_settings(value, CONFIG_KEY, problems)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"{path}: bad object storage settings:\n{lines}")
    _loaded[path] = (signature, settings)
    return settings


def _signature(path: Path) -> tuple[int, int, int]:
    """Identify the file's current contents cheaply (a training loop logs often)."""
    info = os.stat(path)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def check_remote_settings(value: object, path: str, problems: list[str]) -> RemoteSettings | None:
    """Validate the ``artifacts`` setting, appending each problem under its key path.

    Accepts a URI text (``s3://bucket/prefix``) or a mapping with ``uri`` and the
    optional ``endpoint_url``, ``region``, ``profile``, ``threshold``, ``public_url``
    and ``previews``. A key set to null counts as absent.

    Returns:
        The settings, or None when there was a problem (then ``problems`` says which).
    """
    if isinstance(value, str):
        value = {"uri": value}
    if not isinstance(value, Mapping):
        problems.append(
            f"{path}: expected an s3://bucket/prefix URI or a mapping with 'uri', "
            f"got {type(value).__name__}"
        )
        return None
    count = len(problems)
    values: dict[str, Any] = {}
    for key, item in value.items():
        where = f"{path}.{key}"
        if secret_name(str(key), bare_key=True):  # where people paste credentials
            problems.append(
                f"{where}: credentials never go in {CONFIG_FILE} (it is committed, and may be "
                "published); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                "environment, or name an AWS profile with 'profile'"
            )
        elif key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = (
                f"; did you mean '{path}.{close[0]}'?" if close else f" (known: {', '.join(_KEYS)})"
            )
            problems.append(f"{where}: unknown key{hint}")
        elif item is not None:
            values[key] = item
    if "uri" not in values:
        problems.append(f"{path}.uri: required (the bucket and folder, s3://bucket/prefix)")
        return None
    fields: dict[str, Any] = {}
    location = _check_uri(values["uri"], f"{path}.uri", problems)
    if location is not None:
        fields["scheme"], fields["bucket"], fields["prefix"] = location
    for key in ("endpoint_url", "public_url"):
        if key in values:
            fields[key] = _check_http_url(values[key], f"{path}.{key}", problems)
    if "region" in values:
        fields["region"] = _check_region(values["region"], f"{path}.region", problems)
    if "profile" in values:
        fields["profile"] = _check_name(values["profile"], f"{path}.profile", problems)
    if "threshold" in values:
        fields["threshold"] = _check_threshold(values["threshold"], f"{path}.threshold", problems)
    if "previews" in values:
        if isinstance(values["previews"], bool):
            fields["previews"] = values["previews"]
        else:
            problems.append(f"{path}.previews: expected true or false, got {values['previews']!r}")
    if len(problems) > count:
        return None
    return RemoteSettings(**fields)


def _check_uri(value: object, where: str, problems: list[str]) -> tuple[str, str, str] | None:
    """Accept ``s3://bucket/folder/...`` or another scheme's; return scheme, bucket, prefix."""
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: expected an s3://bucket/prefix URI, got {value!r}")
        return None
    text = value.strip()
    try:
        scheme, bucket, prefix = split_location(text)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return None
    prefix = prefix.strip("/")
    problem = None
    if scheme == "file" and not prefix:
        problem = f"{text!r} names no folder"
    elif _CONTROL_RE.search(bucket) or _CONTROL_CHAR_RE.search(prefix) or "\\" in prefix:
        problem = f"{text!r}: no spaces in the bucket, no control characters or backslashes"
    elif "@" in bucket or ":" in bucket:
        problem = f"{text!r}: put the server in 'endpoint_url' and credentials in the environment"
    elif prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        problem = f"{text!r}: the folder must not have empty, '.' or '..' parts"
    if problem:
        problems.append(f"{where}: {problem}")
        return None
    return scheme, bucket, prefix


def _check_http_url(value: object, where: str, problems: list[str]) -> str | None:
    """Accept an absolute http(s) URL without credentials; drop a trailing slash."""
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: expected an http:// or https:// URL, got {value!r}")
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        problems.append(f"{where}: {text!r} is not a URL ({exc})")
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        problems.append(f"{where}: {text!r} must be an http:// or https:// URL")
    elif _CONTROL_RE.search(text):
        problems.append(f"{where}: {text!r} must not contain spaces or control characters")
    elif parts.username or parts.password:
        problems.append(
            f"{where}: must not contain a user name or password; credentials come from the "
            "environment or an AWS profile"
        )
    elif parts.query or parts.fragment:
        problems.append(f"{where}: {text!r} must not have a ?query or #fragment")
    else:
        return text.rstrip("/")
    return None


def _check_region(value: object, where: str, problems: list[str]) -> str | None:
    """Accept a region name such as ``eu-west-1`` (or ``auto`` for R2)."""
    if isinstance(value, str) and _REGION_RE.match(value):
        return value
    problems.append(f"{where}: expected a region name like 'eu-west-1', got {value!r}")
    return None


def _check_name(value: object, where: str, problems: list[str]) -> str | None:
    """Accept non-blank text without control characters."""
    if isinstance(value, str) and value.strip() and not _CONTROL_RE.search(value.strip()):
        return value.strip()
    problems.append(f"{where}: expected a name without spaces, got {value!r}")
    return None


def _check_threshold(value: object, where: str, problems: list[str]) -> int | None:
    """Accept a byte count or a size text, as ``artifact_size_limit`` does."""

    try:
        return parse_size(value)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return None
