"""The values of ``runfolio.yaml``: plain frozen dataclasses, their defaults and rules.

This is what the rest of runfolio reads of its configuration: the site settings
(:class:`SiteConfig`) and the object storage settings (:class:`RemoteSettings`), with
the defaults every absent key takes. The checks that fill them from the file live in
:mod:`runfolio.config_schema` (pydantic, loaded only when a file is validated); this
module imports nothing heavy, so the tracking API and the site can hold these values
without paying for the schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import quote

DIRECTIONS = ("minimize", "maximize")
DEFAULT_TITLE = "runfolio"
DEFAULT_THEME = "default"
DEFAULT_ARTIFACT_SIZE_LIMIT = 5_000_000  # "5 MB", decimal like the unit it is written in

# The run attributes a leaderboard can show besides ``metrics.*``, ``params.*`` and
# ``tags.*``: ``search_runs``' (MLflow's) column names, plus the two the site derives.
RUN_COLUMNS = (
    "run_id",
    "run_name",
    "experiment_name",
    "status",
    "start_time",
    "end_time",
    "duration",
    "user_id",
    "commit",
    "parent_run_id",
)
COLUMN_GROUPS = ("metrics", "params", "tags")


DEFAULT_THRESHOLD = 1_000_000  # "1 MB": decimal, like the site's size limit
SCHEMES = ("s3", "gs", "az", "abfs", "file")
"""URI schemes of ``artifacts.uri``; :mod:`runfolio.objectstore.filesystems` serves each."""
S3_ONLY_KEYS = ("endpoint_url", "region", "profile")
"""Settings of the S3 client, refused with any other scheme."""

CONTROL_RE = re.compile(r"[\x00-\x20\x7f]")
"""Spaces and control characters: no bucket, URL or ref of the settings may hold one."""
_CONTROL_CHAR_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ExperimentSettings:
    """Overrides for one experiment; ``None`` keeps what its ``experiment.yaml`` says."""

    primary_metric: str | None = None
    direction: str | None = None


@dataclass(frozen=True)
class SiteLimits:
    """How much of the store one page renders: every untrusted input has a budget.

    A store may come from a pull request: without these, a few kilobytes (in git) of
    notes, previews or metric keys made a build take minutes and a page hundreds of
    megabytes. What a budget leaves out is named on the page, with where to find it.
    The ``limits`` key of ``runfolio.yaml`` overrides each (docs/configuration.md).

    Attributes:
        notes_chars: characters of one markdown text rendered (a run's or experiment's
            notes, the site description); the rest is left out with a note.
        preview_size: bytes of one file read for its text preview.
        preview_lines: lines of one file's text preview.
        preview_rows: rows of a CSV/TSV preview's table, besides the header.
        preview_columns: columns of a CSV/TSV preview's table.
        page_preview_size: bytes of previews on one run page (as escaped HTML), all
            files together; a file whose preview does not fit in what is left is
            listed with its download link only.
        charts: metric charts on one run page (the first metrics by name).
        table_rows: rows of a run page's params, metrics and tags tables (each).
    """

    notes_chars: int = 100_000
    preview_size: int = 256 * 1024
    preview_lines: int = 2_000
    preview_rows: int = 100
    preview_columns: int = 30
    page_preview_size: int = 4_000_000
    charts: int = 100
    table_rows: int = 1_000


DEFAULT_LIMITS = SiteLimits()


@dataclass(frozen=True)
class SiteConfig:
    """The validated site settings, with a default for every key that is absent."""

    title: str = DEFAULT_TITLE
    description: str = ""
    repository_url: str | None = None
    experiments: Mapping[str, ExperimentSettings] = field(
        default_factory=lambda: MappingProxyType({})
    )
    default_columns: tuple[str, ...] = ()
    artifact_size_limit: int = DEFAULT_ARTIFACT_SIZE_LIMIT
    theme: str = DEFAULT_THEME
    store: str | None = None
    site_url: str | None = None
    artifacts: RemoteSettings | None = None
    refs: tuple[str, ...] = ()
    capture_untracked: str | None = None
    limits: SiteLimits = DEFAULT_LIMITS


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
    if CONTROL_RE.search(bucket) or _CONTROL_CHAR_RE.search(prefix) or "\\" in prefix:
        raise ValueError(f"{text!r}: no spaces in the bucket, no control characters or backslashes")
    if "@" in bucket or ":" in bucket:
        raise ValueError(
            f"{text!r}: put the server in 'endpoint_url' and credentials in the environment"
        )
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise ValueError(f"{text!r}: the folder must not have empty, '.' or '..' parts")
    return scheme, bucket, prefix
