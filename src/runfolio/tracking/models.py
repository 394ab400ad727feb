"""Saving models into a run (pickle plus a ``model.yaml`` descriptor) and loading them back.

Loading unpickles, which runs code from the file: only call :func:`load_model` on
models you trust. Nothing in runfolio loads a model unless the user asks.

With object storage configured, a pickle above the threshold goes to the bucket (the
descriptor stays in the run folder), and loading fetches it into the local object cache.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from runfolio.errors import InvalidInputError, RunfolioError
from runfolio.objectstore.manifest import read_manifest
from runfolio.objectstore.transfer import fetch_artifact, offload_bytes
from runfolio.store import FORMAT_VERSION
from runfolio.store.atomic import make_dir, write_bytes_atomic, write_text_atomic
from runfolio.store.layout import (
    ARTIFACTS_DIR,
    MODEL_DESCRIPTOR_FILE,
    MODEL_PICKLE_FILE,
    REMOTE_ARTIFACTS_FILE,
    RUN_FILE,
    check_artifact_path,
)
from runfolio.store.serialize import dump_yaml, load_yaml
from runfolio.tracking.artifacts import artifact_target, forget_remote, remote_settings

DESCRIPTOR_FILE = MODEL_DESCRIPTOR_FILE
PICKLE_FILE = MODEL_PICKLE_FILE
# The names log_model gives pickles: model.pkl, or model-<16 hex of its sha256>.pkl when
# model.yaml names model.pkl already (a re-logged model never overwrites the named file).
_PICKLE_NAME_RE = re.compile(r"model(?:-[0-9a-f]{16})?\.pkl")


class ModelLoadError(RunfolioError):
    """A logged model cannot be found or loaded."""


def model_folder_name(artifact_path: str) -> PurePosixPath:
    """Validate the folder a model is logged to (relative to ``artifacts/``)."""
    folder = check_artifact_path(artifact_path, "model artifact path")
    if not folder.parts:
        raise InvalidInputError("log_model needs a non-empty artifact_path, e.g. 'model'")
    return folder


def save_model(artifact_dir: Path, model: Any, artifact_path: str, extra: dict[str, Any]) -> Path:
    """Pickle ``model`` into ``artifacts/<artifact_path>/`` next to its descriptor.

    The descriptor names the flavour (``sklearn`` for scikit-learn estimators, else
    ``pickle``), the model's class, the versions needed to load it, and the pickle's
    name, size and sha256, so a page can describe the model without unpickling it. A
    pickle above the object storage threshold is uploaded instead of written.

    ``model.yaml`` is the commit point: the pickle is written (durably) first, under a
    name the current descriptor does not use (``model.pkl``, else
    ``model-<sha256 prefix>.pkl``), then the descriptor is replaced atomically, and only
    then is the previous pickle removed. A process killed at any instant leaves the old
    model or the new one, each whole, and at most an unnamed pickle that the next
    ``log_model`` to the folder removes.

    Raises:
        InvalidInputError: the model cannot be pickled, or extra fields are not plain data.
        ConfigError: the store's ``artifacts`` settings are bad.
        ObjectStoreError: the upload failed (nothing is written).
    """
    relative = model_folder_name(artifact_path)
    # Refuses a symlinked folder or descriptor, which the writes below would go through.
    folder = artifact_target(artifact_dir, relative / DESCRIPTOR_FILE).parent
    try:
        payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise InvalidInputError(f"log_model cannot pickle {type(model).__name__}: {exc}") from exc
    sha256 = hashlib.sha256(payload).hexdigest()
    previous = _named_pickle(folder)
    file_name = PICKLE_FILE if previous != PICKLE_FILE else f"model-{sha256[:16]}.pkl"
    artifact_target(artifact_dir, relative / file_name)  # no symlink under that name either
    module = type(model).__module__
    descriptor: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "flavor": _flavor(module),
        "class": f"{module}.{type(model).__qualname__}",
        "file": file_name,
        "loader": "pickle",
        "pickle_protocol": pickle.HIGHEST_PROTOCOL,
        "python_version": ".".join(map(str, sys.version_info[:3])),
        "requirements": _requirements(module),
        "sha256": sha256,
        "size": len(payload),
    }
    for key, value in extra.items():
        if key in descriptor:
            raise InvalidInputError(f"log_model: {key!r} is set by runfolio and cannot be given")
        descriptor[key] = value
    try:
        text = dump_yaml(descriptor)
    except Exception as exc:
        raise InvalidInputError(f"log_model: descriptor fields must be plain data: {exc}") from exc
    remote = remote_settings(artifact_dir)
    # Written only once the descriptor is known good: a refused call leaves no stray pickle.
    make_dir(folder, parents=True, exist_ok=True)
    if remote is not None and len(payload) > remote.threshold:
        offload_bytes(artifact_dir.parent, payload, relative / file_name, remote)
    else:
        write_bytes_atomic(folder / file_name, payload)
        forget_remote(artifact_dir, [relative / file_name])
    write_text_atomic(folder / DESCRIPTOR_FILE, text)
    _remove_unnamed_pickles(artifact_dir, relative, folder, file_name)
    return folder


def _named_pickle(folder: Path) -> str | None:
    """The pickle the folder's current ``model.yaml`` names, None without a readable one."""
    try:
        named = read_descriptor(folder).get("file")
    except ModelLoadError:
        return None
    return named if isinstance(named, str) else None


def _remove_unnamed_pickles(
    artifact_dir: Path, relative: PurePosixPath, folder: Path, keep: str
) -> None:
    """Remove the pickles log_model wrote to ``folder`` that ``model.yaml`` no longer names.

    The previous model's pickle, and one a killed ``log_model`` left; local files and
    object storage entries alike. Other files in the folder are the user's and stay.
    """
    stale = {
        entry.name
        for entry in folder.iterdir()
        if entry.name != keep and _PICKLE_NAME_RE.fullmatch(entry.name) and not entry.is_dir()
    }
    remote_dir = artifact_dir.parent
    if (remote_dir / REMOTE_ARTIFACTS_FILE).exists():
        prefix = f"{relative.as_posix()}/"
        stale |= {
            path[len(prefix) :]
            for path in read_manifest(remote_dir)
            if path.startswith(prefix) and _PICKLE_NAME_RE.fullmatch(path[len(prefix) :])
        } - {keep}
    for name in sorted(stale):
        (folder / name).unlink(missing_ok=True)
    forget_remote(artifact_dir, [relative / name for name in sorted(stale)])


def read_descriptor(model_dir: Path) -> dict[str, Any]:
    """Read ``model.yaml`` from a model folder.

    Raises:
        ModelLoadError: there is no readable descriptor.
    """
    try:
        data = load_yaml((model_dir / DESCRIPTOR_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ModelLoadError(f"{model_dir} holds no readable {DESCRIPTOR_FILE}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"{model_dir / DESCRIPTOR_FILE} is not a mapping")
    return data


def load_model_dir(model_dir: Path) -> Any:
    """Unpickle the model in ``model_dir`` after checking its sha256 against the descriptor.

    A model file kept in object storage is fetched into the local object cache first
    (once: later loads read the cache).

    A model imported from MLflow (``loader: mlflow``) is loaded with MLflow's pyfunc
    loader instead.

    Raises:
        ModelLoadError: missing files, a hash mismatch, an unknown loader, or a remote
            model file that cannot be fetched.
    """
    descriptor = read_descriptor(model_dir)
    if descriptor.get("loader") == "mlflow":
        return _load_mlflow_model(model_dir)
    if descriptor.get("loader") != "pickle":
        raise ModelLoadError(f"{model_dir}: unknown loader {descriptor.get('loader')!r}")
    file_name = str(descriptor.get("file") or PICKLE_FILE)
    check_artifact_path(file_name, "model file")
    path = model_dir / file_name
    if not path.exists():
        path = _remote_model_file(model_dir, file_name) or path
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read model file {model_dir / file_name}: {exc}") from exc
    if hashlib.sha256(payload).hexdigest() != descriptor.get("sha256"):
        raise ModelLoadError(
            f"{model_dir / file_name} does not match the sha256 in {DESCRIPTOR_FILE}"
        )
    return pickle.loads(payload)


def _load_mlflow_model(model_dir: Path) -> Any:
    """Load a model ``runfolio import mlflow`` brought over, with MLflow's own pyfunc loader.

    Raises:
        ModelLoadError: MLflow is not installed, or it cannot load the model.
    """
    try:
        import mlflow.pyfunc
    except ImportError as exc:
        raise ModelLoadError(
            f"{model_dir} is an MLflow model: loading it needs MLflow "
            "(pip install 'runfolio[mlflow]')"
        ) from exc
    try:
        return mlflow.pyfunc.load_model(str(model_dir))
    except Exception as exc:  # MLflow raises many types; each is "cannot load"
        raise ModelLoadError(f"MLflow cannot load the model in {model_dir}: {exc}") from exc


def _remote_model_file(model_dir: Path, file_name: str) -> Path | None:
    """The cached copy of a model file the run keeps in object storage, None if it keeps none.

    Raises:
        ModelLoadError: the file is remote but cannot be fetched or is not the recorded one.
    """
    model_dir = model_dir.absolute()
    # The run's artifacts/ folder: the nearest one with a run.yaml beside it.
    artifacts = next(
        (
            folder
            for folder in (model_dir, *model_dir.parents)
            if folder.name == ARTIFACTS_DIR and (folder.parent / RUN_FILE).is_file()
        ),
        None,
    )
    if artifacts is None or not (artifacts.parent / REMOTE_ARTIFACTS_FILE).exists():
        return None

    relative = (model_dir / file_name).relative_to(artifacts).as_posix()
    try:
        return fetch_artifact(artifacts.parent, relative)
    except RunfolioError as exc:  # transfer, manifest and settings errors alike
        raise ModelLoadError(f"cannot load the model in {model_dir}: {exc}") from exc


def _flavor(module: str) -> str:
    """The model flavour, from the top-level package of its class."""
    top = module.split(".", 1)[0]
    return {"sklearn": "sklearn", "xgboost": "xgboost", "lightgbm": "lightgbm"}.get(top, "pickle")


def _requirements(module: str) -> list[str]:
    """The distribution of the model's package with its version, when known."""
    top = module.split(".", 1)[0]
    package = sys.modules.get(top)
    version = getattr(package, "__version__", None)
    if top in ("builtins", "__main__") or version is None:
        return []
    names = _packages_distributions().get(top, [top])
    return [f"{names[0]}=={version}"]


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    """Map import names to distribution names (slow to build, so built once)."""
    from importlib import metadata

    try:
        return dict(metadata.packages_distributions())
    except Exception:
        return {}
