"""runfolio: experiment tracking that lives in your repository and publishes as a static site.

The fluent API mirrors MLflow's::

    import runfolio

    runfolio.set_experiment("iris")
    with runfolio.start_run(run_name="baseline"):
        runfolio.log_params({"C": 1.0})
        runfolio.log_metric("accuracy", 0.93)

Importing runfolio stays light: no pandas, altair, jinja2, markdown or git. The API
below is loaded on first use (PEP 562), so ``import runfolio`` costs about a millisecond
and a script pays for the tracking modules only when it calls them.
"""

from __future__ import annotations

import importlib

# typing.TYPE_CHECKING without importing typing (8 ms at start-up); type checkers
# treat any name TYPE_CHECKING as the real one.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from runfolio.errors import (
        ExperimentNotFoundError,
        FilterError,
        InvalidInputError,
        ParamConflictError,
        RunfolioError,
        RunNotFoundError,
        StoreError,
    )
    from runfolio.registry import ModelVersion, RegistryConflictError, RegistryError
    from runfolio.tracking.client import Store
    from runfolio.tracking.fluent import (
        ActiveRunError,
        active_run,
        delete_tag,
        end_run,
        get_metric_history,
        get_run,
        get_store,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_metric,
        log_metrics,
        log_model,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_experiment,
        set_store,
        set_tag,
        set_tags,
        start_run,
    )
    from runfolio.tracking.fluent_models import (
        delete_model_alias,
        get_model_version,
        get_model_version_by_alias,
        load_model,
        register_model,
        search_model_versions,
        set_model_alias,
        transition_model_version_stage,
    )
    from runfolio.tracking.run import Run, RunEndedError, RunInUseError

__version__ = "0.1.0"

_ORIGINS = {
    "runfolio.errors": (
        "ExperimentNotFoundError", "FilterError", "InvalidInputError", "ParamConflictError",
        "RunfolioError", "RunNotFoundError", "StoreError",
    ),
    "runfolio.tracking.client": ("Store",),
    "runfolio.tracking.run": ("Run", "RunEndedError", "RunInUseError"),
    "runfolio.tracking.fluent": (
        "ActiveRunError", "active_run", "delete_tag", "end_run", "get_metric_history", "get_run",
        "get_store", "log_artifact", "log_artifacts", "log_dict", "log_figure", "log_metric",
        "log_metrics", "log_model", "log_param", "log_params", "log_text", "search_runs",
        "set_experiment", "set_store", "set_tag", "set_tags", "start_run",
    ),
    "runfolio.tracking.fluent_models": (
        "load_model", "register_model", "set_model_alias", "delete_model_alias",
        "get_model_version", "get_model_version_by_alias", "search_model_versions",
        "transition_model_version_stage",
    ),
    "runfolio.registry": ("ModelVersion", "RegistryError", "RegistryConflictError"),
}  # fmt: skip
_ORIGIN_OF = {name: module for module, names in _ORIGINS.items() for name in names}


def __getattr__(name: str) -> object:
    """Load a public name from its module on first access, then keep it here."""
    module = _ORIGIN_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'runfolio' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_ORIGIN_OF])


__all__ = [
    "ActiveRunError",
    "ExperimentNotFoundError",
    "FilterError",
    "InvalidInputError",
    "ModelVersion",
    "ParamConflictError",
    "RegistryConflictError",
    "RegistryError",
    "Run",
    "RunEndedError",
    "RunInUseError",
    "RunNotFoundError",
    "RunfolioError",
    "Store",
    "StoreError",
    "__version__",
    "active_run",
    "delete_model_alias",
    "delete_tag",
    "end_run",
    "get_metric_history",
    "get_model_version",
    "get_model_version_by_alias",
    "get_run",
    "get_store",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_model_versions",
    "search_runs",
    "set_experiment",
    "set_model_alias",
    "set_store",
    "set_tag",
    "set_tags",
    "start_run",
    "transition_model_version_stage",
]
