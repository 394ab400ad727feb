"""The schema of ``runfolio.yaml``: every key, its type and its rules, in one place.

pydantic validates the whole file in one pass and collects every problem under its key
path (``limits.charts``, ``artifacts.threshold``, ``default_columns[2]``); the same
models emit the JSON Schema that editors use to complete and check the file
(``runfolio config schema``). The values the rest of runfolio reads stay plain frozen
dataclasses (:class:`~runfolio.config_values.SiteConfig`,
:class:`~runfolio.config_values.RemoteSettings`): importing this module imports
pydantic, so only code that reads settings does, inside its functions.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic import WithJsonSchema as _JsonSchema
from pydantic.config import JsonDict
from pydantic_core import core_schema

from runfolio.config import CONFIG_FILE, DEFAULT_STORE_DIR, parse_size
from runfolio.config_values import (
    COLUMN_GROUPS,
    CONTROL_RE,
    DEFAULT_ARTIFACT_SIZE_LIMIT,
    DEFAULT_LIMITS,
    DEFAULT_THEME,
    DEFAULT_THRESHOLD,
    DEFAULT_TITLE,
    DIRECTIONS,
    RUN_COLUMNS,
    S3_ONLY_KEYS,
    ExperimentSettings,
    RemoteSettings,
    SiteConfig,
    SiteLimits,
    parse_bucket_uri,
)
from runfolio.gitrepo import UNTRACKED_MODES
from runfolio.store.secrets import secret_name

_REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PUBLISHED = "(it is published on every page)"
_NOT_HERE = "; credentials come from the environment or an AWS profile"


class ConfigProblems(ValueError):
    """Settings that break the schema; ``problems`` lists each as ``key.path: what``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


# ----------------------------------------------------------------------------- rules
# Each rule takes the value as YAML gave it, returns it checked (and normalised), or
# raises ValueError with the message a user reads after the key path.


def _type_name(value: object) -> str:
    """Name a YAML value's type the way a user wrote it."""
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _text(value: object) -> str:
    """Accept any text."""
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_type_name(value)} {value!r}")
    return value


def _name(value: object) -> str:
    """Accept non-blank text."""
    if not _text(value).strip():
        raise ValueError("must not be empty")
    return str(value)


def _http_url(value: object, what: str, credentials: str, *, query: bool) -> str:
    """Accept an absolute http(s) URL without credentials, spaces or control characters."""
    text = _name(value).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} must be an http:// or https:// URL{what}")
    if CONTROL_RE.search(text):
        raise ValueError(f"{text!r} must not contain spaces or control characters")
    if parts.username or parts.password:
        # A token pasted into the URL would leak where the URL goes.
        raise ValueError(f"must not contain a user name or password{credentials}")
    if not query and (parts.query or parts.fragment or text.endswith(("?", "#"))):
        raise ValueError(f"{text!r} must not have a ?query or a #fragment")
    return text


def _repository_url(value: object) -> str:
    """Accept the repository's web page; drop a trailing slash."""
    what = " of the repository's web page"
    return _http_url(value, what, f" {_PUBLISHED}", query=True).rstrip("/")


def _site_url(value: object) -> str:
    """Accept the URL of the published site's root; end it with a slash."""
    what = " of the published site's root, such as https://org.github.io/repo/"
    text = _http_url(value, what, f" {_PUBLISHED}", query=False)
    # The 404 page's <base href> must name a folder: without the slash, relative links
    # would resolve against the site's parent (https://org.github.io/ for /repo).
    return text if text.endswith("/") else f"{text}/"


def _endpoint_url(value: object) -> str:
    """Accept an object storage server or public address; drop a trailing slash."""
    return _http_url(value, "", _NOT_HERE, query=False).rstrip("/")


def _column(value: object) -> str:
    """Accept a run column or a ``metrics.X``/``params.X``/``tags.X`` name."""
    if not isinstance(value, str):
        raise ValueError(f"expected a column name, got {_type_name(value)} {value!r}")
    group, dot, key = value.partition(".")
    if dot and group in COLUMN_GROUPS:
        if not key:
            raise ValueError(f"{value!r} needs a key after '{group}.'")
        return value
    if value not in RUN_COLUMNS:
        choices = [*RUN_COLUMNS, *(f"{g}.<key>" for g in COLUMN_GROUPS)]
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(
            f"unknown column {value!r}{hint} "
            f"(use {', '.join(RUN_COLUMNS)} or metrics.<key>, params.<key>, tags.<key>)"
        )
    return value


def _refs(value: object) -> tuple[str, ...]:
    """Accept branch names or patterns: a list, or one text with commas (``main,exp/*``)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("expected a list of branch names or patterns, like [main, 'exp/*']")
    refs = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    for ref in refs:
        if ref.startswith("-") or CONTROL_RE.search(ref):
            raise ValueError(f"{ref!r} is not a branch name or pattern")
    return refs


def _count(value: object) -> int:
    """Accept a whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a whole number of at least 1, got {value!r}")
    return value


def _positive_size(value: object) -> int:
    """Accept a size of at least one byte."""
    size = parse_size(value)
    if size < 1:
        raise ValueError("must be at least 1 byte")
    return size


def _region(value: object) -> str:
    """Accept a region name such as ``eu-west-1`` (or ``auto`` for R2)."""
    if isinstance(value, str) and _REGION_RE.match(value):
        return value
    raise ValueError(f"expected a region name like 'eu-west-1', got {value!r}")


def _profile(value: object) -> str:
    """Accept non-blank text without spaces or control characters."""
    if isinstance(value, str) and value.strip() and not CONTROL_RE.search(value.strip()):
        return value.strip()
    raise ValueError(f"expected a name without spaces, got {value!r}")


def _flag(value: object) -> bool:
    """Accept true or false only (not yes/no, 1/0 or a text)."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _bucket_uri(value: object) -> str:
    """Accept the bucket and folder (checked by the object store's own rule)."""
    if value is _NO_URI:
        raise ValueError("required (the bucket and folder, s3://bucket/prefix)")
    parse_bucket_uri(value)
    return str(value).strip()


def _one_of(choices: tuple[str, ...]) -> Callable[[object], str]:
    """Make a rule accepting one of ``choices``."""

    def check(value: object) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return str(value)

    return check


def _mapping_of(what: str) -> Callable[[object], object]:
    """Make a rule refusing anything but a mapping (of ``what``)."""

    def check(value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping of {what}, got {_type_name(value)}")
        return value

    return check


def _list_of(what: str) -> Callable[[object], object]:
    """Make a rule refusing anything but a list (of ``what``)."""

    def check(value: object) -> object:
        if not isinstance(value, list):
            raise ValueError(f"expected a list of {what}, got {_type_name(value)}")
        return value

    return check


def _experiment_name(value: object) -> str:
    """Accept an experiment name (a mapping key)."""
    if not isinstance(value, str):
        raise ValueError(f"experiment names must be text, got {_type_name(value)}")
    return value


# ----------------------------------------------------------------------------- types
# The JSON Schema of each type says what an editor should accept and complete; the
# validator says the rest (and the message).

_SIZE_TEXT = r"^\s*\d+(\.\d+)?\s*([kKmMgG]?[bB]|[kKmMgG][iI][bB])?\s*$"


def _size_schema(minimum: int) -> dict[str, Any]:
    """The JSON Schema of a size: a byte count, or a text with a unit."""
    return {
        "anyOf": [
            {"type": "integer", "minimum": minimum},
            {"type": "string", "pattern": _SIZE_TEXT, "examples": ["5 MB", "512KiB"]},
        ]
    }


Text = Annotated[str, BeforeValidator(_text)]
_HTTP_URL = "^[hH][tT][tT][pP][sS]?://[^/?#@]+"

Name = Annotated[str, Field(min_length=1), BeforeValidator(_name)]
RepositoryUrl = Annotated[str, Field(pattern=_HTTP_URL), BeforeValidator(_repository_url)]
SiteUrl = Annotated[str, Field(pattern=_HTTP_URL), BeforeValidator(_site_url)]
EndpointUrl = Annotated[str, Field(pattern=_HTTP_URL), BeforeValidator(_endpoint_url)]
Size = Annotated[int, BeforeValidator(parse_size), _JsonSchema(_size_schema(0))]
PositiveSize = Annotated[int, BeforeValidator(_positive_size), _JsonSchema(_size_schema(1))]
Count = Annotated[int, Field(ge=1), BeforeValidator(_count)]
Column = Annotated[
    str,
    BeforeValidator(_column),
    _JsonSchema(
        {
            "anyOf": [
                {"enum": list(RUN_COLUMNS)},
                {"type": "string", "pattern": rf"^({'|'.join(COLUMN_GROUPS)})\..+"},
            ]
        }
    ),
]
Refs = Annotated[
    tuple[str, ...],
    BeforeValidator(_refs),
    _JsonSchema({"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}),
]
# Spelled out for the type checker; tests/test_config_schema.py checks they match the tuples.
DirectionValue = Literal["minimize", "maximize"]
UntrackedValue = Literal["all", "code", "none"]
Direction = Annotated[DirectionValue, BeforeValidator(_one_of(DIRECTIONS))]
UntrackedMode = Annotated[UntrackedValue, BeforeValidator(_one_of(UNTRACKED_MODES))]
ExperimentName = Annotated[str, BeforeValidator(_experiment_name)]
BucketUri = Annotated[str, Field(pattern="^[a-zA-Z0-9+.-]+://."), BeforeValidator(_bucket_uri)]
Region = Annotated[str, Field(pattern=_REGION_RE.pattern), BeforeValidator(_region)]
Profile = Annotated[str, Field(min_length=1), BeforeValidator(_profile)]
Flag = Annotated[bool, BeforeValidator(_flag)]


def _key(description: str, default: JsonValue = None) -> Any:
    """A key that may be absent or null; its JSON Schema says the default it then takes."""
    extra: JsonDict | None = None if default is None else {"default": default}
    return Field(None, description=description, json_schema_extra=extra)


@dataclass(frozen=True)
class _Unknown:
    """Stands for the value of a key its section does not know, to name it in the error."""

    known: tuple[str, ...]
    credentials: str | None

    def describe(self, key: object, parent: str) -> str:
        """The problem, with the closest known key (under ``parent``) as a hint."""
        if self.credentials is not None and secret_name(str(key), bare_key=True):
            return self.credentials
        prefix = f"{parent}." if parent else ""
        close = difflib.get_close_matches(str(key), self.known, n=1)
        if close:
            return f"unknown key; did you mean '{prefix}{close[0]}'?"
        return f"unknown key (known: {', '.join(self.known)})"


class _Section(BaseModel):
    """A mapping of settings: null means absent; an unknown key is a problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    expects: ClassVar[str] = "a mapping"
    """What the section must be, for the message when it is not a mapping."""

    credentials: ClassVar[str | None] = None
    """The message for a credential-looking key, when the section refuses them."""

    @classmethod
    def _as_mapping(cls, value: object) -> dict[Any, Any]:
        """Return the section's mapping, or raise ValueError naming what it must be."""
        if not isinstance(value, dict):
            raise ValueError(f"expected {cls.expects}, got {_type_name(value)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, value: object) -> dict[Any, Any]:
        """Drop null keys; mark each unknown (or credential-looking) one for the error."""
        data = cls._as_mapping(value)
        known = tuple(cls.model_fields)
        unknown = _Unknown(known, cls.credentials)
        refused = {
            key
            for key in data
            if key not in known
            or (cls.credentials is not None and secret_name(str(key), bare_key=True))
        }
        # A key that is not text (``3:``) is named as text: pydantic requires text keys.
        return {
            str(key) if key in refused else key: unknown if key in refused else item
            for key, item in data.items()
            if item is not None or key in refused
        }


# ----------------------------------------------------------------------------- models


class ExperimentSchema(_Section):
    """Overrides, for the site, of what an experiment's experiment.yaml declares."""

    expects: ClassVar[str] = "a mapping with primary_metric and direction"

    primary_metric: Name | None = _key("The metric leaderboards are ranked by.")
    direction: Direction | None = _key("Whether a smaller or a larger primary metric is better.")

    def settings(self) -> ExperimentSettings:
        """The validated overrides."""
        return ExperimentSettings(self.primary_metric, self.direction)


class LimitsSchema(_Section):
    """How much of the store one page renders (docs/configuration.md#limits)."""

    expects: ClassVar[str] = "a mapping of limit names"

    notes_chars: Count | None = _key(
        "Characters of one markdown text rendered.", DEFAULT_LIMITS.notes_chars
    )
    preview_size: PositiveSize | None = _key(
        "Bytes of one file read for its text preview.", DEFAULT_LIMITS.preview_size
    )
    preview_lines: Count | None = _key(
        "Lines of one file's text preview.", DEFAULT_LIMITS.preview_lines
    )
    preview_rows: Count | None = _key(
        "Rows of a CSV/TSV preview, besides the header.", DEFAULT_LIMITS.preview_rows
    )
    preview_columns: Count | None = _key(
        "Columns of a CSV/TSV preview.", DEFAULT_LIMITS.preview_columns
    )
    page_preview_size: PositiveSize | None = _key(
        "Bytes of previews on one run page, all files together.", DEFAULT_LIMITS.page_preview_size
    )
    charts: Count | None = _key("Metric charts on one run page.", DEFAULT_LIMITS.charts)
    table_rows: Count | None = _key(
        "Rows of each of a run page's params, metrics and tags tables.", DEFAULT_LIMITS.table_rows
    )

    def limits(self) -> SiteLimits:
        """The budgets, each set one replacing its default."""
        return SiteLimits(**self.model_dump(exclude_none=True))


_NO_URI = object()  # stands for a missing uri, so that its rule names what it must be


class ArtifactsSchema(_Section):
    """Where large artifacts go: a bucket (S3 and compatible, GCS, Azure) or a folder.

    See docs/object-storage.md.
    """

    expects: ClassVar[str] = (
        "an s3://bucket/prefix URI (or gs://, az://, abfs://, file://) or a mapping with 'uri'"
    )
    credentials: ClassVar[str | None] = (
        f"credentials never go in {CONFIG_FILE} (it is committed, and may be published); "
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or name an "
        "AWS profile with 'profile'"
    )

    uri: BucketUri = Field(
        description="The bucket and folder: s3://, gs://, az:// or abfs://bucket/prefix, or file:///folder."
    )
    endpoint_url: EndpointUrl | None = _key(
        "The S3 API address of a non-AWS server (MinIO, R2, Ceph ...)."
    )
    region: Region | None = _key("The bucket's region, such as eu-west-1.")
    profile: Profile | None = _key("An AWS profile name (never a secret).")
    threshold: Size | None = _key("Files larger than this go to the bucket.", DEFAULT_THRESHOLD)
    public_url: EndpointUrl | None = _key("The public web address of the bucket's root.")
    previews: Flag | None = _key(
        "Whether site builds fetch small remote artifacts to preview.", True
    )

    @classmethod
    def _as_mapping(cls, value: object) -> dict[Any, Any]:
        """A URI alone is the mapping with just ``uri``; ``uri`` must be there."""
        data = super()._as_mapping({"uri": value} if isinstance(value, str) else value)
        return data if data.get("uri") is not None else {**data, "uri": _NO_URI}

    @model_validator(mode="after")
    def _s3_keys_only_for_s3(self) -> ArtifactsSchema:
        """``endpoint_url``, ``region`` and ``profile`` configure the S3 client only."""
        s3_keys = [key for key in S3_ONLY_KEYS if getattr(self, key)]
        if s3_keys and (scheme := parse_bucket_uri(self.uri)[0]) != "s3":
            raise ValueError(
                f"{', '.join(s3_keys)}: for s3:// buckets only, not {scheme}://; "
                "other services take their settings from their own environment variables"
            )
        return self

    def settings(self) -> RemoteSettings:
        """The validated object storage settings."""
        scheme, bucket, prefix = parse_bucket_uri(self.uri)
        given = self.model_dump(exclude_none=True, exclude={"uri"})
        return RemoteSettings(scheme=scheme, bucket=bucket, prefix=prefix, **given)


class _OrUriText:
    """In the JSON Schema, let ``artifacts`` be a URI text as well as the mapping."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: Callable[[Any], dict[str, Any]]
    ) -> dict[str, Any]:
        """Offer the URI text alongside the mapping."""
        text = {"type": "string", "description": "The bucket and folder, s3://bucket/prefix."}
        return {"anyOf": [text, handler(schema)]}


Experiments = Annotated[
    dict[ExperimentName, ExperimentSchema | None],
    BeforeValidator(_mapping_of("experiment names")),
]
Columns = Annotated[list[Column], BeforeValidator(_list_of("column names"))]


class SiteSchema(_Section):
    """The settings of runfolio (docs/configuration.md); every key is optional."""

    model_config = ConfigDict(title=CONFIG_FILE)

    title: Name | None = _key("The site's name, in the header and every page title.", DEFAULT_TITLE)
    description: Text | None = _key("Markdown shown on the home page.", "")
    repository_url: RepositoryUrl | None = _key(
        "The repository's web page, for links to code and raw files."
    )
    experiments: Experiments | None = _key(
        "Per experiment: the primary metric and direction leaderboards rank by."
    )
    default_columns: Columns | None = _key("The leaderboard columns shown first.")
    artifact_size_limit: Size | None = _key(
        "Larger artifacts are listed but neither previewed nor copied into the site.",
        DEFAULT_ARTIFACT_SIZE_LIMIT,
    )
    theme: Name | None = _key("A shipped theme's name or a theme folder.", DEFAULT_THEME)
    store: Name | None = _key("The run store, relative to the repository root.", DEFAULT_STORE_DIR)
    site_url: SiteUrl | None = _key("Where the site is published, for the 404 page.")
    artifacts: Annotated[ArtifactsSchema, _OrUriText()] | None = _key(
        "Keep large artifacts in an S3 or S3-compatible bucket."
    )
    refs: Refs | None = _key("Build one site from the store on these branches (or patterns).")
    capture_untracked: UntrackedMode | None = _key(
        "Which untracked files a run's patch holds.", "code"
    )
    limits: LimitsSchema | None = _key("How much of the store one page renders.")

    def site_config(self) -> SiteConfig:
        """The validated settings; each absent key takes the default of :class:`SiteConfig`.

        An experiment named with no settings (``iris:``) keeps its own.
        """
        values: dict[str, Any] = {
            name: getattr(self, name)
            for name in type(self).model_fields
            if getattr(self, name) is not None
        }
        if self.experiments is not None:
            values["experiments"] = MappingProxyType(
                {
                    name: (entry or ExperimentSchema()).settings()
                    for name, entry in self.experiments.items()
                }
            )
        if self.default_columns is not None:
            values["default_columns"] = tuple(self.default_columns)
        if self.artifacts is not None:
            values["artifacts"] = self.artifacts.settings()
        if self.limits is not None:
            values["limits"] = self.limits.limits()
        return SiteConfig(**values)


# ----------------------------------------------------------------------------- API


def validate_site(data: Mapping[Any, Any]) -> SiteConfig:
    """Validate the whole of ``runfolio.yaml`` (as a mapping) into a :class:`SiteConfig`.

    Raises:
        ConfigProblems: listing every problem in the order of the file, each under its path.
    """
    return _validate(SiteSchema, dict(data), "").site_config()


def validate_artifacts(value: object) -> RemoteSettings:
    """Validate the value of the ``artifacts`` key alone (the tracking API reads only it).

    Raises:
        ConfigProblems: listing every problem, each under ``artifacts.``.
    """
    return _validate(ArtifactsSchema, value, "artifacts").settings()


def validate_site_url(value: object) -> str:
    """Validate a ``site_url`` given on its own (``--site-url``); return it ending in ``/``.

    Raises:
        ConfigProblems: with one problem, under ``site_url``.
    """
    try:
        return _site_url(value)
    except ValueError as exc:
        raise ConfigProblems([f"site_url: {exc}"]) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``runfolio.yaml``, for editors (``runfolio config schema``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **SiteSchema.model_json_schema(),
    }


def render_json_schema() -> str:
    """The JSON Schema of ``runfolio.yaml`` as text, as ``docs/runfolio.schema.json`` holds it."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


_SectionT = TypeVar("_SectionT", bound=_Section)


def _validate(model: type[_SectionT], value: object, root: str) -> _SectionT:
    """Validate ``value`` with ``model``; raise every problem, in the order of the input."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    described = [_describe(error, value, root) for error in errors]
    described.sort(key=lambda pair: pair[0])
    raise ConfigProblems([text for _, text in described]) from None


def _describe(error: Mapping[str, Any], data: object, root: str) -> tuple[list[int], str]:
    """Place one pydantic error in the input (for sorting) and word it as a problem."""
    path, parent, order = root, root, []
    node = data
    for item in error["loc"]:
        if item == "[key]":  # a bad mapping key: the problem is the key itself
            continue
        parent = path
        if isinstance(node, list) and isinstance(item, int):
            path += f"[{item}]"
            order.append(item)
            node = node[item] if item < len(node) else None
        else:
            path += f".{item}" if path else str(item)
            keys = [str(key) for key in node] if isinstance(node, dict) else []
            index = keys.index(str(item)) if str(item) in keys else len(keys)
            order.append(index)
            node = (
                list(node.values())[index] if isinstance(node, dict) and index < len(keys) else None
            )
    if isinstance(error.get("input"), _Unknown):
        message = error["input"].describe(error["loc"][-1], parent)
    elif error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = error["msg"]
    return order, f"{path}: {message}" if path else message
