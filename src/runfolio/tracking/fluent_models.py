"""The fluent API's model functions: loading a model, and the model registry of the store.

Apart from :mod:`runfolio.tracking.fluent` so that starting a run and logging to it never
load the registry (which reads the store and its git history); ``runfolio.load_model``
and ``runfolio.register_model`` come from here through the public API table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runfolio import registry
from runfolio.errors import InvalidInputError
from runfolio.registry import ModelVersion
from runfolio.store.layout import artifact_file, check_artifact_path
from runfolio.store.scan import find_run
from runfolio.tracking.fluent import get_store
from runfolio.tracking.models import load_model_dir


def load_model(model_uri: str) -> Any:
    """Load a model: ``runs:/<run id or prefix>/<artifact path>``, ``models:/<name>/<version>``,
    ``models:/<name>@<alias>`` (the registry, see :mod:`runfolio.registry`) or a model folder.

    Loading unpickles the file, which can run code: load only models you trust.

    Raises:
        InvalidInputError: the URI has an unknown scheme.
        ModelLoadError: the model is missing, altered, or cannot be loaded.
    """
    if model_uri.startswith("runs:/"):
        run_ref, _, inner = model_uri[len("runs:/") :].partition("/")
        _, run_dir = find_run(get_store().root, run_ref)
        return load_model_dir(artifact_file(run_dir, check_artifact_path(inner or "model")))
    if model_uri.startswith("models:/"):
        return load_model_dir(registry.resolve_model_uri(get_store().root, model_uri))
    if "://" in model_uri:
        raise InvalidInputError(
            f"unsupported model URI {model_uri!r}; use runs:/<run id>/<path>, "
            "models:/<name>/<version>, models:/<name>@<alias> or a folder path"
        )
    return load_model_dir(Path(model_uri))


def register_model(run_id: str, name: str, model_path: str | None = None) -> ModelVersion:
    """Register the model a run logged as the next version of ``name`` (in the current store).

    See :func:`runfolio.registry.register_model`.
    """
    return registry.register_model(get_store().root, run_id, name, model_path)


def set_model_alias(name: str, alias: str, version: int) -> ModelVersion:
    """Point ``alias`` of model ``name`` at ``version``, taking it from any other version."""
    return registry.set_model_alias(get_store().root, name, alias, int(version))


def delete_model_alias(name: str, alias: str) -> None:
    """Remove ``alias`` from model ``name``."""
    registry.delete_model_alias(get_store().root, name, alias)


def get_model_version(name: str, version: int) -> ModelVersion:
    """One version of a registered model."""
    return registry.get_model_version(get_store().root, name, int(version))


def get_model_version_by_alias(name: str, alias: str) -> ModelVersion:
    """The version of model ``name`` that ``alias`` points to."""
    return registry.get_model_version_by_alias(get_store().root, name, alias)


def search_model_versions(filter_string: str = "") -> list[ModelVersion]:
    """Registered model versions, filtered by ``name = '...'``, ``name LIKE '...'``, ``run_id``."""
    return registry.search_model_versions(get_store().root, filter_string)


def transition_model_version_stage(name: str, version: int, stage: str) -> ModelVersion:
    """MLflow's stage transition (Staging, Production, Archived, None), done with aliases."""
    return registry.transition_model_version_stage(get_store().root, name, int(version), stage)
