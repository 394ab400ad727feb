"""The model registry, derived from run tags, so every registration is a reviewed git change.

A run that logged a model becomes version N of a registered model through tags on the
run (see ``docs/registry.md``); aliases are tags too, and MLflow's stages are the
conventional aliases ``staging``, ``production`` and ``archived``. The package reads the
registry from a store (:mod:`~runfolio.registry.model`), changes it under the store's
registry lock (:mod:`~runfolio.registry.write`) and reads its history from git
(:mod:`~runfolio.registry.history`).
"""

from runfolio.registry.history import RegistryEvent, registry_history
from runfolio.registry.model import (
    ALIAS_PREFIX,
    MODEL_TAG,
    PATH_TAG,
    STAGES,
    VERSION_TAG,
    ModelVersion,
    RegisteredModel,
    Registry,
    RegistryConflictError,
    RegistryError,
    get_model_version,
    get_model_version_by_alias,
    read_registry,
    resolve_model_uri,
    search_model_versions,
)
from runfolio.registry.write import (
    check_alias,
    check_model_name,
    delete_model_alias,
    register_model,
    rewrite_run_tags,
    set_model_alias,
    transition_model_version_stage,
)

__all__ = [
    "ALIAS_PREFIX",
    "MODEL_TAG",
    "PATH_TAG",
    "STAGES",
    "VERSION_TAG",
    "ModelVersion",
    "RegisteredModel",
    "Registry",
    "RegistryConflictError",
    "RegistryError",
    "RegistryEvent",
    "check_alias",
    "check_model_name",
    "delete_model_alias",
    "get_model_version",
    "get_model_version_by_alias",
    "read_registry",
    "register_model",
    "registry_history",
    "resolve_model_uri",
    "rewrite_run_tags",
    "search_model_versions",
    "set_model_alias",
    "transition_model_version_stage",
]
