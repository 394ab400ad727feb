"""The registry as the store's tagged runs say it is: models, versions, aliases, conflicts.

A run that logged a model becomes version N of a registered model through three tags on
the run: ``registry.model`` (the model's name), ``registry.version`` (assigned once, at
registration, so numbering is stable) and ``registry.model_path`` (the model's folder
under ``artifacts/``). An alias is a tag ``registry.alias.<alias>`` on the version's run
whose value is a claim number: the highest claim of an alias within a model wins.
Everything here reads; :mod:`runfolio.registry.write` changes the tags.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from runfolio.errors import RunfolioError
from runfolio.store import layout
from runfolio.store.records import RunRecord
from runfolio.store.scan import scan_store

MODEL_TAG = "registry.model"
VERSION_TAG = "registry.version"
PATH_TAG = "registry.model_path"
ALIAS_PREFIX = "registry.alias."

STAGES = {"None": None, "Staging": "staging", "Production": "production", "Archived": "archived"}
"""MLflow's stages and the alias each one is here (None: no alias)."""

_MODEL_URI_RE = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))")


class RegistryError(RunfolioError):
    """A registry request that cannot be met: unknown model, version or alias, bad input."""


class RegistryConflictError(RegistryError):
    """The store disagrees with itself: two runs claim one version, or one alias equally."""


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model: a run and the model folder it logged."""

    name: str
    version: int
    run_id: str
    experiment: str
    model_path: str
    aliases: tuple[str, ...] = ()
    run: RunRecord | None = field(default=None, compare=False, repr=False)

    @property
    def source(self) -> str:
        """Where the model files are: ``runs:/<run id>/<model path>``."""
        return f"runs:/{self.run_id}/{self.model_path}"


@dataclass
class RegisteredModel:
    """A model name, its versions (by number) and where each alias points."""

    name: str
    versions: dict[int, ModelVersion] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)

    @property
    def latest(self) -> ModelVersion | None:
        """The highest version."""
        return self.versions[max(self.versions)] if self.versions else None


@dataclass
class Registry:
    """Every registered model of a store, and what the store says inconsistently."""

    models: dict[str, RegisteredModel] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    claimed: dict[str, set[int]] = field(default_factory=dict)
    """Every version number some run claims, per model, conflicting ones included."""

    def model(self, name: str) -> RegisteredModel:
        """A registered model by name.

        Raises:
            RegistryError: no run registers a model of that name.
        """
        found = self.models.get(name)
        if found is None:
            known = ", ".join(sorted(self.models)) or "none yet"
            raise RegistryError(f"no registered model is named {name!r} (models: {known})")
        return found

    def version(self, name: str, version: int) -> ModelVersion:
        """One version of a model.

        Raises:
            RegistryError: unknown model or version.
            RegistryConflictError: several runs claim this version.
        """
        model = self.model(name)
        found = model.versions.get(version)
        if found is None:
            self._raise_conflict(f"{name!r} version {version}")
            known = ", ".join(str(v) for v in sorted(model.versions)) or "none"
            raise RegistryError(f"model {name!r} has no version {version} (versions: {known})")
        return found

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias of a model points to.

        Raises:
            RegistryError: unknown model or alias.
            RegistryConflictError: two versions claim the alias equally.
        """
        model = self.model(name)
        version = model.aliases.get(alias)
        if version is None:
            self._raise_conflict(f"{name!r} alias {alias!r}")
            known = ", ".join(sorted(model.aliases)) or "none"
            raise RegistryError(f"model {name!r} has no alias {alias!r} (aliases: {known})")
        return model.versions[version]

    def _raise_conflict(self, what: str) -> None:
        """Raise the conflict about ``what`` if the store has one."""
        for conflict in self.conflicts:
            if conflict.startswith(what + ":"):
                raise RegistryConflictError(conflict)


def read_registry(root: Path, runs: Iterable[RunRecord] | None = None) -> Registry:
    """Derive the registry from the runs of the store at ``root`` (or from ``runs``).

    Conflicts are collected, not resolved: a version two runs claim is left out, and so
    is an alias whose highest claim two versions share; each is described in
    ``conflicts`` (``"'name' version 3: claimed by runs A and B"``).
    """
    registry = Registry()
    claimed: dict[tuple[str, int], list[RunRecord]] = {}
    for run in scan_store(root).runs if runs is None else runs:
        name = run.tags.get(MODEL_TAG)
        if not name:
            continue
        try:
            version = int(run.tags.get(VERSION_TAG, ""))
        except ValueError:
            registry.conflicts.append(
                f"{name!r} run {run.run_id}: {VERSION_TAG} is not a whole number "
                f"({run.tags.get(VERSION_TAG)!r})"
            )
            continue
        claimed.setdefault((name, version), []).append(run)
    alias_claims: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for (name, version), holders in sorted(claimed.items()):
        model = registry.models.setdefault(name, RegisteredModel(name))
        registry.claimed.setdefault(name, set()).add(version)
        if len(holders) > 1:
            ids = " and ".join(sorted(run.run_id for run in holders))
            registry.conflicts.append(f"{name!r} version {version}: claimed by runs {ids}")
            continue
        run = holders[0]
        model.versions[version] = ModelVersion(
            name=name,
            version=version,
            run_id=run.run_id,
            experiment=run.experiment,
            model_path=run.tags.get(PATH_TAG) or "model",
            run=run,
        )
        for key, value in run.tags.items():
            if key.startswith(ALIAS_PREFIX):
                with contextlib.suppress(ValueError):
                    claim = int(value)
                    alias_claims.setdefault((name, key[len(ALIAS_PREFIX) :]), []).append(
                        (claim, version)
                    )
    for (name, alias), claims in sorted(alias_claims.items()):
        best = max(claim for claim, _ in claims)
        winners = sorted({version for claim, version in claims if claim == best})
        if len(winners) > 1:
            listed = " and ".join(str(v) for v in winners)
            registry.conflicts.append(
                f"{name!r} alias {alias!r}: versions {listed} claim it equally (claim {best})"
            )
            continue
        registry.models[name].aliases[alias] = winners[0]
    for model in registry.models.values():
        for alias, version in model.aliases.items():
            held = model.versions[version]
            model.versions[version] = with_alias(held, alias)
    return registry


def get_model_version(root: Path, name: str, version: int) -> ModelVersion:
    """One version of a registered model (see :meth:`Registry.version`)."""
    return read_registry(root).version(name, int(version))


def get_model_version_by_alias(root: Path, name: str, alias: str) -> ModelVersion:
    """The version an alias points to (see :meth:`Registry.by_alias`)."""
    return read_registry(root).by_alias(name, alias)


def search_model_versions(root: Path, filter_string: str = "") -> list[ModelVersion]:
    """Versions of every model, by name then version, filtered like MLflow's.

    The filter is empty or clauses joined by ``and``: ``name = 'x'``, ``name LIKE 'x%'``
    (``%`` any text, ``_`` one character) and ``run_id = '...'``.

    Raises:
        RegistryError: a clause outside that grammar.
    """
    tests = [
        _clause(part) for part in re.split(r"\s+and\s+", filter_string.strip(), flags=re.I) if part
    ]
    found = [
        version
        for model in read_registry(root).models.values()
        for version in model.versions.values()
        if all(test(version) for test in tests)
    ]
    return sorted(found, key=lambda v: (v.name, v.version))


def resolve_model_uri(root: Path, uri: str) -> Path:
    """The model folder of ``models:/<name>/<version>`` or ``models:/<name>@<alias>``.

    Raises:
        RegistryError: a malformed URI, or an unknown model, version or alias.
    """
    match = _MODEL_URI_RE.fullmatch(uri)
    if match is None:
        raise RegistryError(
            f"bad model URI {uri!r}: use models:/<name>/<version> or models:/<name>@<alias>"
        )
    registry = read_registry(root)
    name = match["name"]
    found = (
        registry.by_alias(name, match["alias"])
        if match["alias"]
        else registry.version(name, int(match["version"]))
    )
    return layout.artifact_file(
        version_run_dir(found), layout.check_artifact_path(found.model_path)
    )


def version_run_dir(version: ModelVersion) -> Path:
    """The folder of a version's run (versions read from a store always know their run)."""
    if version.run is None:
        raise RegistryError(f"{version.name!r} version {version.version} was not read from a store")
    return version.run.path


def with_alias(version: ModelVersion, alias: str) -> ModelVersion:
    """The same version, listing one more alias."""
    return replace(version, aliases=tuple(sorted((*version.aliases, alias))))


def _clause(text: str) -> Callable[[ModelVersion], bool]:
    """One ``field op 'value'`` clause of :func:`search_model_versions` as a test."""
    match = re.fullmatch(r"\s*(name|run_id)\s*(=|!=|LIKE|ILIKE)\s*'((?:[^']|'')*)'\s*", text, re.I)
    if match is None:
        raise RegistryError(
            f"cannot read {text.strip()!r}: use name = '...', name LIKE '...' or run_id = '...'"
        )
    field_name, op, value = match[1].lower(), match[2].upper(), match[3].replace("''", "'")
    if op in ("LIKE", "ILIKE"):
        pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in value)
        flags = re.I if op == "ILIKE" else 0
        return lambda v: re.fullmatch(pattern, getattr(v, field_name), flags) is not None
    if op == "!=":
        return lambda v: getattr(v, field_name) != value
    return lambda v: getattr(v, field_name) == value
