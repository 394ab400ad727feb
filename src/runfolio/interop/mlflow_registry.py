"""MLflow's model registry onto runfolio's registry tags, and back.

runfolio keeps a registered model version as tags on the run that logged it
(``registry.model``, ``registry.version``, ``registry.model_path``,
``registry.alias.<alias>``; see docs/registry.md), so one run holds at most one version.
MLflow version numbers are kept. When MLflow has several versions from one run, the
latest is kept and the others are reported. MLflow 2 stages become the conventional
aliases (``Production`` is ``production``...) unless an alias of that name is set.
Aliases are moved to where MLflow has them; an alias MLflow no longer has is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runfolio import registry as reg
from runfolio.interop import mlflow_source as mlsource
from runfolio.interop.report import TransferReport
from runfolio.store import layout
from runfolio.store.reader import read_yaml_file
from runfolio.store.run_document import tags_from_yaml_dict


@dataclass
class ImportedRun:
    """Where an MLflow run went in the store, for the registry step."""

    run_id: str
    path: Path
    artifact_uri: str
    model_folders: dict[str, str] = field(default_factory=dict)
    """MLflow 3 logged model id -> folder under ``artifacts/``."""


def import_registry(
    client: Any, root: Path, imported: Mapping[str, ImportedRun], report: TransferReport
) -> None:
    """Tag the imported runs with the registered versions and aliases MLflow has.

    Only versions whose run was imported are carried over; the rest are reported.
    """
    from mlflow.exceptions import MlflowException

    if not imported:
        return
    try:
        models = list(mlsource.iter_registered_models(client))
    except MlflowException as exc:  # pragma: no cover - a tracking server without a registry
        report.problems.append(f"MLflow's model registry could not be read: {exc}")
        return
    for model in models:
        try:
            reg.check_model_name(model.name)
        except reg.RegistryError as exc:
            report.problems.append(f"registered model left out: {exc}")
            continue
        versions = sorted(mlsource.iter_model_versions(client, model.name), key=_number)
        numbers = _tag_versions(root, model.name, versions, imported, report)
        if numbers:
            _set_aliases(root, model, versions, numbers, report)


def _number(version: Any) -> int:
    """A model version's number."""
    return int(version.version)


def _tag_versions(
    root: Path,
    name: str,
    versions: list[Any],
    imported: Mapping[str, ImportedRun],
    report: TransferReport,
) -> set[int]:
    """Write the registry tags of each version onto its run; return the numbers held."""
    chosen: dict[str, tuple[int, str, ImportedRun]] = {}
    for version in versions:
        number = _number(version)
        target = imported.get(version.run_id or "")
        if target is None:
            report.problems.append(
                f"model {name!r} version {number} left out: its run "
                f"{version.run_id or '(none)'} was not imported"
            )
            continue
        path = _model_path(version, target)
        if path is None or not (target.path / layout.ARTIFACTS_DIR / path).is_dir():
            report.problems.append(
                f"model {name!r} version {number} left out: its files ({version.source}) "
                f"are not among run {target.run_id}'s artifacts"
            )
            continue
        earlier = chosen.get(target.run_id)
        if earlier is not None:
            report.problems.append(
                f"model {name!r} version {earlier[0]} left out: run {target.run_id} also holds "
                f"version {number}, and a runfolio run holds one version"
            )
        chosen[target.run_id] = (number, path, target)
    current = reg.read_registry(root)
    held = current.models.get(name)
    numbers: set[int] = set()
    for number, path, target in chosen.values():
        holder = held.versions.get(number) if held else None
        if holder is not None and holder.run_id != target.run_id:
            report.problems.append(
                f"model {name!r} version {number} left out: run {holder.run_id} of the store "
                "already is that version"
            )
            continue
        run_file = target.path / layout.RUN_FILE
        tags = tags_from_yaml_dict(read_yaml_file(run_file), run_file)
        registered = tags.get(reg.MODEL_TAG)
        if registered and registered != name:
            report.problems.append(
                f"model {name!r} version {number} left out: run {target.run_id} is already "
                f"a version of {registered!r}"
            )
            continue
        wanted = {reg.MODEL_TAG: name, reg.VERSION_TAG: str(number), reg.PATH_TAG: path}
        numbers.add(number)
        if all(tags.get(key) == value for key, value in wanted.items()):
            report.model_versions_present += 1
            continue
        reg.rewrite_run_tags(target.path, wanted)
        report.model_versions += 1
    return numbers


def _model_path(version: Any, target: ImportedRun) -> str | None:
    """The folder under the run's ``artifacts/`` holding a version's model files."""
    model_id = getattr(version, "model_id", None)
    source = str(version.source or "")
    if not model_id and source.startswith("models:/m-"):
        model_id = source[len("models:/") :].split("/", 1)[0]
    if model_id and model_id in target.model_folders:
        return target.model_folders[model_id]
    prefixes = [f"runs:/{version.run_id}/"]
    if target.artifact_uri:
        prefixes.append(target.artifact_uri.rstrip("/") + "/")
    for prefix in prefixes:
        if source.startswith(prefix) and source[len(prefix) :].strip("/"):
            return source[len(prefix) :].strip("/")
    return None


def _set_aliases(
    root: Path, model: Any, versions: list[Any], numbers: set[int], report: TransferReport
) -> None:
    """Point each MLflow alias (and stage) of ``model`` at its version in the store."""
    aliases = {}
    for version in versions:
        stage = reg.STAGES.get(str(getattr(version, "current_stage", None) or "None"))
        if stage:
            aliases[stage] = _number(version)
    aliases.update(mlsource.model_aliases(model))
    for alias, number in sorted(aliases.items()):
        if number not in numbers:
            report.problems.append(
                f"alias {model.name}@{alias} left out: version {number} was not imported"
            )
            continue
        try:
            reg.check_alias(alias)
        except reg.RegistryError as exc:
            report.problems.append(f"alias of model {model.name!r} left out: {exc}")
            continue
        if reg.read_registry(root).model(model.name).aliases.get(alias) == number:
            continue
        reg.set_model_alias(root, model.name, alias, number)
        report.aliases += 1


def export_registry(
    client: Any, root: Path, mlflow_ids: Mapping[str, str], report: TransferReport
) -> None:
    """Create MLflow registered models, versions and aliases for the store's registry.

    Versions are created in number order with the run's model folder as source; a
    version MLflow already has for that run is not created again.
    """
    from mlflow.exceptions import MlflowException

    registry = reg.read_registry(root)
    report.problems.extend(f"registry: {conflict}" for conflict in registry.conflicts)
    for name, model in sorted(registry.models.items()):
        wanted = {
            number: version
            for number, version in sorted(model.versions.items())
            if version.run_id in mlflow_ids
        }
        if not wanted:
            continue
        try:
            client.get_registered_model(name)
        except MlflowException:
            client.create_registered_model(name)
        existing = {
            v.run_id: _number(v) for v in mlsource.iter_model_versions(client, name) if v.run_id
        }
        numbers: dict[int, int] = {}
        for number, version in wanted.items():
            mlflow_run = mlflow_ids[version.run_id]
            if mlflow_run in existing:
                numbers[number] = existing[mlflow_run]
                report.model_versions_present += 1
                continue
            artifact_uri = client.get_run(mlflow_run).info.artifact_uri.rstrip("/")
            created = client.create_model_version(
                name, f"{artifact_uri}/{version.model_path}", run_id=mlflow_run
            )
            numbers[number] = _number(created)
            report.model_versions += 1
            if numbers[number] != number:
                report.problems.append(
                    f"model {name!r}: runfolio version {number} is MLflow version "
                    f"{numbers[number]} (MLflow numbers versions itself)"
                )
        held = mlsource.model_aliases(client.get_registered_model(name))
        for alias, number in sorted(model.aliases.items()):
            if number in numbers and held.get(alias) != numbers[number]:
                client.set_registered_model_alias(name, alias, numbers[number])
                report.aliases += 1
