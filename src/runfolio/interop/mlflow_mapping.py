"""How MLflow's run data maps onto runfolio's, both ways (pure functions, no MLflow import).

=============================  ===========================================
MLflow                         runfolio ``run.yaml``
=============================  ===========================================
run name (``mlflow.runName``)  ``name``
``mlflow.user`` / user_id      ``user``
``mlflow.note.content``        ``description``
``mlflow.parentRunId``         ``parent_run_id`` (the parent's runfolio id)
``mlflow.source.name``         ``source.entry_point``
``mlflow.source.git.commit``   ``git.commit``
``mlflow.source.git.branch``   ``git.branch``
``mlflow.source.git.repoURL``  ``git.remote_url``
run id                         tag ``mlflow.run_id`` (where the run came from)
other tags                     ``tags``, unchanged
=============================  ===========================================

A run exported from runfolio carries its id as the MLflow tag ``runfolio.run_id``;
importing it back uses that id instead of deriving one, so runs keep their ids across a
round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runfolio.interop.store_writer import derived_run_id
from runfolio.store import layout

ORIGIN_TAG = "mlflow.run_id"
"""runfolio tag naming the MLflow run an imported run came from."""

RUNFOLIO_ID_TAG = "runfolio.run_id"
"""MLflow tag naming the runfolio run an exported run came from."""

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
NOTE_TAG = "mlflow.note.content"
PARENT_TAG = "mlflow.parentRunId"
SOURCE_NAME_TAG = "mlflow.source.name"
GIT_TAGS = {
    "mlflow.source.git.commit": "commit",
    "mlflow.source.git.branch": "branch",
    "mlflow.source.git.repoURL": "remote_url",
}
REGISTRY_TAG_PREFIX = "registry."
"""runfolio's registry tags: exported as MLflow registry entries, not as run tags."""

_STATUSES = {"RUNNING": "RUNNING", "SCHEDULED": "RUNNING", "FINISHED": "FINISHED"}


def run_id_for(mlflow_run_id: str, start_ms: int, tags: Mapping[str, str]) -> str:
    """The runfolio id of an MLflow run: its exported id if it has one, else derived.

    Derived ids are the UTC start second and the first 10 hex digits of the SHA-256 of
    the MLflow run id, so importing the same run again finds it.
    """
    exported = tags.get(RUNFOLIO_ID_TAG)
    if exported and layout.is_run_id(exported):
        return exported
    return derived_run_id(start_ms, mlflow_run_id)


def status_from_mlflow(status: str) -> str:
    """runfolio's status for an MLflow status (SCHEDULED is RUNNING; KILLED, FAILED kept)."""
    return _STATUSES.get(status, status if status in ("FAILED", "KILLED") else "FAILED")


def param_value(text: str) -> Any:
    """An MLflow param (always text) as the typed value it reads as, when that is lossless.

    ``"32"`` becomes 32, ``"0.1"`` 0.1, ``"True"`` True, because writing them back as
    MLflow does (``str()``) gives the same text; ``"0.10"``, ``"1e3"`` or ``"[1, 2]"`` stay
    text. Searching and charts then see numbers, and an export restores every byte.
    """
    if text in ("True", "False"):
        return text == "True"
    try:
        number = int(text)
    except ValueError:
        pass
    else:
        return number if str(number) == text else text
    try:
        real = float(text)
    except ValueError:
        return text
    return real if repr(real) == text else text


def param_text(value: Any) -> str:
    """A runfolio param value as MLflow text (the inverse of :func:`param_value`)."""
    if isinstance(value, float):
        return repr(value)  # shortest round-trip text, as MLflow's str() of a float
    return str(value)


def split_tags(tags: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Split MLflow tags into runfolio fields and the tags kept as tags.

    Returns ``(fields, tags)``: ``fields`` may hold ``name``, ``user``, ``description``,
    ``parent`` (the MLflow parent run id), ``source`` and ``git``.
    """
    fields: dict[str, Any] = {}
    kept: dict[str, str] = {}
    git: dict[str, str] = {}
    for key, value in tags.items():
        if key == RUN_NAME_TAG:
            fields["name"] = value
        elif key == USER_TAG:
            fields["user"] = value
        elif key == NOTE_TAG:
            fields["description"] = value
        elif key == PARENT_TAG:
            fields["parent"] = value
        elif key == SOURCE_NAME_TAG:
            fields["source"] = {"entry_point": value}
        elif key in GIT_TAGS:
            git[GIT_TAGS[key]] = value
        elif key != RUNFOLIO_ID_TAG:
            kept[key] = value
    if git:
        fields["git"] = git
    return fields, kept


def tags_for_mlflow(
    *,
    tags: Mapping[str, str],
    run_id: str,
    user: str | None,
    description: str,
    parent_mlflow_id: str | None,
    source: Mapping[str, Any],
    git: Mapping[str, Any],
) -> dict[str, str]:
    """The MLflow tags of a runfolio run: its own tags plus the system tags of its fields.

    The ``mlflow.run_id`` origin tag and the ``registry.*`` tags are left out (the
    registry is exported as MLflow registered models).
    """
    out = {
        key: value
        for key, value in tags.items()
        if key != ORIGIN_TAG and not key.startswith(REGISTRY_TAG_PREFIX)
    }
    out[RUNFOLIO_ID_TAG] = run_id
    if user:
        out[USER_TAG] = user
    if description:
        out[NOTE_TAG] = description
    if parent_mlflow_id:
        out[PARENT_TAG] = parent_mlflow_id
    if source.get("entry_point"):
        out[SOURCE_NAME_TAG] = str(source["entry_point"])
    for tag, field_name in GIT_TAGS.items():
        if git.get(field_name):
            out[tag] = str(git[field_name])
    return out
