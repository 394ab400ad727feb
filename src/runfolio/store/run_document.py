"""What one ``run.yaml`` holds, as one typed value: :class:`RunDocument`.

The tracker and the importers build a :class:`RunDocument` and write
:meth:`RunDocument.to_yaml_dict` through the store's atomic writer; every reader turns a
parsed ``run.yaml`` into one with :meth:`RunDocument.from_yaml_dict`, which is where the
types of its fields are checked. The contract is docs/store-format.md (``run.yaml`` and
"What readers refuse").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from runfolio.errors import MalformedRunError
from runfolio.store import FORMAT_VERSION
from runfolio.store.fields import FieldReader, check_format, expect_mapping
from runfolio.store.records import MAX_TIME_MS, RUN_STATUSES, iso_to_ms

MAX_FAILURE_MESSAGE = 2_000
"""Characters of an exception's message kept in run.yaml's ``failure.message``."""
MAX_TRACEBACK_LINES = 20
"""Last lines of the traceback kept in ``failure.traceback``."""
MAX_TRACEBACK_LINE = 300
"""Characters kept of each of those lines."""

# The documented fields of run.yaml's sections and their kinds (see FieldReader.section).
# Other keys of a section are kept as they are.
_SECTION_FIELDS: dict[str, dict[str, str]] = {
    "source": {"argv": "texts", "entry_point": "text"},
    "git": {
        "branch": "text",
        "commit": "text",
        "dirty": "bool",
        "patch": "text",
        "remote_url": "text",
        "patch_not_captured": "text",
        "untracked_not_captured": "texts",
        "credentials_not_captured": "texts",
        "untracked_not_captured_count": "int",
        "credentials_not_captured_count": "int",
    },
    "environment": dict.fromkeys(
        ("executable", "implementation", "machine", "packages", "platform", "python"), "text"
    ),
    "process": {"host": "text", "pid": "int"},
    "failure": {"type": "text", "message": "text", "traceback": "text"},
}


@dataclass(frozen=True)
class RunDocument:
    """The fields of one ``run.yaml``, typed; docs/store-format.md is their contract.

    ``None`` stands for a field written ``null`` (``end_time`` while RUNNING) or, for
    ``failure``, ``metrics`` and ``models``, for a key the file does not have. The
    sections (``source``, ``git``, ``environment``, ``process``, ``failure``) are
    mappings whose documented fields have their documented types; ``extra`` holds the
    keys this version does not know, written back unchanged so later minor additions
    survive a rewrite. ``problems`` describes the descriptive fields a reader left out
    because they had the wrong type (the document is still usable without them).
    """

    id: str
    status: str
    start_time: str
    name: str | None = None
    experiment: str | None = None
    end_time: str | None = None
    user: str | None = None
    description: str = ""
    parent_run_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict)
    git: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    process: Mapping[str, Any] = field(default_factory=dict)
    failure: Mapping[str, Any] | None = None
    """Why the run failed (``type``, ``message``, ``traceback``); only when it did."""
    metrics: Mapping[str, Mapping[str, Any]] | None = None
    """Each metric's summary (``last``, ``step``, ``min``, ``max``, ``count``,
    ``timestamp``), written when the run ends; None when absent or malformed."""
    models: tuple[str, ...] | None = None
    """Artifact folders holding a logged model."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = field(default=(), compare=False)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The mapping to write as ``run.yaml`` (plain dicts and lists, fresh copies).

        Every documented key is present (``null`` when unset), except ``failure``,
        ``metrics`` and ``models``, which appear only when set.
        """
        data: dict[str, Any] = _plain(dict(self.extra))
        data.update(
            format=FORMAT_VERSION,
            id=self.id,
            name=self.name,
            experiment=self.experiment,
            status=self.status,
            start_time=self.start_time,
            end_time=self.end_time,
            user=self.user,
            description=self.description,
            parent_run_id=self.parent_run_id,
            tags=dict(self.tags),
            source=_plain(self.source),
            git=_plain(self.git),
            environment=_plain(self.environment),
            process=_plain(self.process),
        )
        if self.failure is not None:
            data["failure"] = _plain(self.failure)
        if self.metrics is not None:
            data["metrics"] = _plain(self.metrics)
        if self.models is not None:
            data["models"] = list(self.models)
        return data

    @classmethod
    def from_yaml_dict(cls, data: Any, path: Path) -> RunDocument:
        """Check the types of a parsed ``run.yaml`` and return it as a document.

        A field that identifies the run (``format``, ``status``, ``id``, the times, a
        section or ``tags`` that is not a mapping) raises. A descriptive field of the
        wrong type (a list where text is due) is left out and described in
        ``problems``; numbers and booleans where text is due become text. A ``metrics``
        summary without the documented shape is left out (and, unless the run is
        RUNNING, described): its rows are in ``metrics.csv``.

        Args:
            data: the file's content as parsed (string keys).
            path: the file, in its run folder: messages name it, and ``id`` must be
                the folder's name.

        Raises:
            MalformedRunError: naming ``path`` and the field (``'status' is 'DONE'``).
        """
        data = expect_mapping(data, path, required=True)
        check_format(data, path)
        status = data.get("status")
        if status not in RUN_STATUSES:
            raise MalformedRunError(
                f"{path}: 'status' is {status!r}; expected one of {', '.join(RUN_STATUSES)}"
            )
        run_id = data.get("id")
        if run_id != path.parent.name:
            raise MalformedRunError(
                f"{path}: 'id' is {run_id!r} but the folder is named {path.parent.name!r}"
            )
        start_time = _time(data, "start_time", path)
        if start_time is None:
            raise MalformedRunError(f"{path}: 'start_time' is missing")
        end_time = _time(data, "end_time", path)
        tags = _mapping(data, "tags", path)
        sections = {key: _mapping(data, key, path) for key in _SECTION_FIELDS}
        reader = FieldReader(path)
        metrics = data.get("metrics")
        if not _usable_summaries(metrics):
            if metrics is not None and status != "RUNNING":
                reader.problems.append(
                    f"{path}: 'metrics' summary is malformed; read metrics.csv instead"
                )
            metrics = None
        name = reader.text(data, "name")
        user = reader.text(data, "user")
        description = reader.text(data, "description") or ""
        parent_run_id = reader.text(data, "parent_run_id")
        checked_tags = reader.texts(tags, "tags")
        checked = {
            key: reader.section(sections[key], key, kinds) for key, kinds in _SECTION_FIELDS.items()
        }
        experiment = reader.text(data, "experiment")
        models = reader.text_list(data, "models")
        return cls(
            id=run_id,
            status=status,
            start_time=start_time,
            name=name,
            experiment=experiment,
            end_time=end_time,
            user=user,
            description=description,
            parent_run_id=parent_run_id,
            tags=checked_tags,
            source=checked["source"],
            git=checked["git"],
            environment=checked["environment"],
            process=checked["process"],
            failure=checked["failure"] if data.get("failure") is not None else None,
            metrics=metrics,
            models=tuple(models) if models is not None else None,
            extra={key: value for key, value in data.items() if key not in _KNOWN_KEYS},
            problems=tuple(reader.problems),
        )


_KNOWN_KEYS = frozenset({f.name for f in fields(RunDocument)} - {"extra", "problems"} | {"format"})
"""The keys of run.yaml that RunDocument types; every other key goes to ``extra``."""


def tags_from_yaml_dict(data: Any, path: Path) -> dict[str, str]:
    """The tags of a parsed ``run.yaml``, checked as :meth:`RunDocument.from_yaml_dict` does.

    Only ``format`` and ``tags`` are checked, so every version of a run.yaml that git
    holds yields its tags (the registry's history), whatever its other fields say.

    Raises:
        MalformedRunError: not a mapping, a newer format, or ``tags`` not a mapping.
    """
    data = expect_mapping(data, path, required=True)
    check_format(data, path)
    return FieldReader(path).texts(_mapping(data, "tags", path), "tags")


def _mapping(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    """``data[key]`` as a dict ({} when absent or null); any other type raises."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRunError(f"{path}: '{key}' must be a mapping, got {type(value).__name__}")
    return value


def _time(data: Mapping[str, Any], key: str, path: Path) -> str | None:
    """An ISO 8601 time between 1970 and 2262 (None when absent or empty); others raise."""
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        ms = iso_to_ms(str(value))
    except (ValueError, OverflowError) as exc:
        raise MalformedRunError(f"{path}: '{key}' is not an ISO 8601 time: {value!r}") from exc
    if not 0 <= ms <= MAX_TIME_MS:
        raise MalformedRunError(
            f"{path}: '{key}' is {value!r}, outside the years 1970 to 2262 that runfolio handles"
        )
    return str(value)


def _usable_summaries(metrics: Any) -> bool:
    """Tell whether ``metrics`` has the documented shape (numbers where due)."""
    if not isinstance(metrics, dict):
        return False
    for summary in metrics.values():
        if not isinstance(summary, dict):
            return False
        if any(type(summary.get(k)) is not int for k in ("count", "step", "timestamp")):
            return False
        extremes = [summary.get("min"), summary.get("max")]  # None when every value was NaN
        numbers = [summary.get("last"), *(n for n in extremes if n is not None)]
        if any(type(n) not in (int, float) for n in numbers):
            return False
    return True


def _plain(value: Any) -> Any:
    """A fresh copy of nested mappings and lists as the dicts and lists YAML writes."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
