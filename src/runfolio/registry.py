"""The model registry, derived from run tags, so every registration is a reviewed git change.

A run that logged a model becomes version N of a registered model through three tags on
the run (see ``docs/registry.md``): ``registry.model`` (the model's name),
``registry.version`` (assigned once, at registration, so numbering is stable) and
``registry.model_path`` (the model's folder under ``artifacts/``). An alias is a tag
``registry.alias.<alias>`` on the version's run whose value is a claim number: the
highest claim of an alias within a model wins. Moving an alias writes one file (the new
version's ``run.yaml``, replaced atomically) with a higher claim, so at no moment do two
versions hold it; the old version's tag is removed afterwards, and until then it is
simply outranked. MLflow's stages are the conventional aliases ``staging``,
``production`` and ``archived``.

Registry writes take a lock on the store folder itself (shared by every user and job that
writes it, without writing into it), so concurrent registrations on one machine get
distinct versions. Two branches that each register
version 3 meet in a merge: readers report such a conflict and never pick a winner.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from runfolio.errors import MalformedRunError, RunfolioError, StoreError
from runfolio.store import layout
from runfolio.store.atomic import write_text_atomic
from runfolio.store.locking import folder_lock
from runfolio.store.reader import read_yaml_file
from runfolio.store.records import RunRecord
from runfolio.store.run_document import RunDocument
from runfolio.store.scan import scan_store
from runfolio.store.serialize import dump_yaml

if TYPE_CHECKING:
    from runfolio.gitrepo import FileChange, FileCommit

MODEL_TAG = "registry.model"
VERSION_TAG = "registry.version"
PATH_TAG = "registry.model_path"
ALIAS_PREFIX = "registry.alias."

STAGES = {"None": None, "Staging": "staging", "Production": "production", "Archived": "archived"}
"""MLflow's stages and the alias each one is here (None: no alias)."""

_ALIAS_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_RESERVED_ALIAS_RE = re.compile(r"(v\d+|latest)", re.IGNORECASE)
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
            model.versions[version] = _with_alias(held, alias)
    return registry


def register_model(
    root: Path, run_id: str, name: str, model_path: str | None = None
) -> ModelVersion:
    """Register the model a run logged as the next version of ``name``.

    Args:
        root: the store.
        run_id: the run (full id or unique prefix); it must have ended and logged a model.
        name: the registered model's name (no ``/`` or ``@``).
        model_path: the model's folder under ``artifacts/``; default: the run's only
            logged model, else ``model``.

    Returns:
        The new version; registering a run already registered under ``name`` returns
        its existing version.

    Raises:
        RegistryError: a bad name, a running run, a run without that model, or a run
            registered under another name.
        RunNotFoundError: no such run.
    """
    from runfolio.query.details import list_artifacts
    from runfolio.query.runs import get_run

    check_model_name(name)
    with registry_lock(root):
        run = get_run(root, run_id)
        if run.stored_status == "RUNNING" and run.status == "RUNNING":
            raise RegistryError(f"run {run.run_id} is still running; register it once it ended")
        registered = run.tags.get(MODEL_TAG)
        if registered:
            if registered != name:
                raise RegistryError(
                    f"run {run.run_id} is already version {run.tags.get(VERSION_TAG)} of "
                    f"{registered!r}; a run registers one model"
                )
            return read_registry(root).version(name, int(run.tags[VERSION_TAG]))
        models = list_artifacts(run.path).models
        if model_path is None:
            model_path = models[0].path if len(models) == 1 else "model"
        if model_path not in {model.path for model in models}:
            logged = ", ".join(model.path for model in models) or "none"
            raise RegistryError(
                f"run {run.run_id} logged no model at {model_path!r} (logged models: {logged}); "
                "log one with log_model first"
            )
        version = max(read_registry(root).claimed.get(name, ()), default=0) + 1
        rewrite_run_tags(
            run.path,
            {MODEL_TAG: name, VERSION_TAG: str(version), PATH_TAG: model_path},
        )
        return ModelVersion(name, version, run.run_id, run.experiment, model_path, (), run)


def set_model_alias(root: Path, name: str, alias: str, version: int) -> ModelVersion:
    """Point ``alias`` of model ``name`` at ``version``, taking it from any other version.

    Raises:
        RegistryError: a bad alias, or an unknown model or version.
    """
    check_alias(alias)
    with registry_lock(root):
        registry = read_registry(root)
        target = registry.version(name, version)
        claims = [
            int(value)
            for held in registry.model(name).versions.values()
            if held.run is not None
            for key, value in held.run.tags.items()
            if key == ALIAS_PREFIX + alias and value.isdigit()
        ]
        rewrite_run_tags(_run_dir(target), {ALIAS_PREFIX + alias: str(max(claims, default=0) + 1)})
        _drop_alias_elsewhere(registry, name, alias, keep=version)
    return target if alias in target.aliases else _with_alias(target, alias)


def transition_model_version_stage(root: Path, name: str, version: int, stage: str) -> ModelVersion:
    """MLflow's stage transition, as aliases: ``Staging``, ``Production``, ``Archived``, ``None``.

    Moving a version to a stage points that stage's alias at it (taking it from the
    version that had it) and removes the other stage aliases from this version; ``None``
    removes every stage alias from it.

    Raises:
        RegistryError: an unknown stage, model or version.
    """
    if stage not in STAGES:
        raise RegistryError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    target = STAGES[stage]
    with registry_lock(root):
        registry = read_registry(root)
        held = registry.version(name, int(version))
        stale = [
            ALIAS_PREFIX + alias
            for alias in STAGES.values()
            if alias is not None
            and alias != target
            and registry.model(name).aliases.get(alias) == held.version
        ]
        if stale:
            rewrite_run_tags(_run_dir(held), {}, stale)
    if target is not None:
        return set_model_alias(root, name, target, int(version))
    return read_registry(root).version(name, int(version))


def delete_model_alias(root: Path, name: str, alias: str) -> None:
    """Remove ``alias`` from model ``name``.

    Raises:
        RegistryError: unknown model or alias.
    """
    with registry_lock(root):
        registry = read_registry(root)
        registry.by_alias(name, alias)
        _drop_alias_elsewhere(registry, name, alias, keep=None)


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
    return layout.artifact_file(_run_dir(found), layout.check_artifact_path(found.model_path))


def check_model_name(name: str) -> str:
    """Refuse a model name that cannot appear in a ``models:/`` URI."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or name != name.strip()
        or len(name) > 255
        or any(char in name for char in "/@\\")
        or any(ord(char) < 32 for char in name)
    ):
        raise RegistryError(
            f"bad model name {name!r}: 1 to 255 characters, no '/', '@', '\\' or control "
            "characters, no leading or trailing spaces"
        )
    return name


def check_alias(alias: str) -> str:
    """Refuse an alias that is not letters, digits, ``_`` or ``-``, or looks like a version."""
    if not isinstance(alias, str) or not _ALIAS_RE.fullmatch(alias):
        raise RegistryError(f"bad alias {alias!r}: 1 to 64 letters, digits, '_' or '-'")
    if _RESERVED_ALIAS_RE.fullmatch(alias):
        raise RegistryError(f"bad alias {alias!r}: 'latest' and 'v<number>' are reserved")
    return alias


def rewrite_run_tags(
    run_dir: Path, set_tags: Mapping[str, str], delete: Iterable[str] = ()
) -> None:
    """Set and delete tags in a run's ``run.yaml``, replacing the file atomically.

    The file is read, changed and replaced under the run folder's lock (the one every
    writer of ``run.yaml`` takes, see :mod:`runfolio.store.locking`), so tags or other
    keys another process writes meanwhile (a resumed run setting tags) are kept.

    Raises:
        RegistryError: the run folder cannot be locked, or its run.yaml cannot be read
            (a field of the wrong type, say: the message names it).
    """
    path = run_dir / layout.RUN_FILE
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(run_dir))
        except StoreError as exc:
            raise RegistryError(str(exc)) from exc  # names the folder and the reason
        try:
            document = RunDocument.from_yaml_dict(read_yaml_file(path), path)
        except MalformedRunError as exc:
            raise RegistryError(str(exc)) from exc
        tags = {**document.tags, **set_tags}
        for key in delete:
            tags.pop(key, None)
        document = dataclasses.replace(document, tags=tags)
        write_text_atomic(path, dump_yaml(document.to_yaml_dict()))


@contextlib.contextmanager
def registry_lock(root: Path) -> Iterator[None]:
    """Hold the store's registry lock: registry writes happen one at a time.

    The lock is an ``flock`` on a read-only descriptor of the store folder itself, so
    every writer of that folder shares it (other users, CI jobs with another ``HOME`` or
    ``RUNFOLIO_CACHE_DIR``) and nothing is written into the store; the kernel releases it
    if the process dies. A filesystem that cannot lock a folder (some network mounts)
    gets an error naming the store, rather than a lock that only this user would see.

    Raises:
        RegistryError: the store folder cannot be opened or locked.
    """
    with contextlib.ExitStack() as stack:
        try:  # only taking the lock: errors of the holder's own writes pass unchanged
            stack.enter_context(folder_lock(Path(root), required=True))
        except StoreError as exc:
            raise RegistryError(
                f"{exc} for a registry write; register from a machine where the store is "
                "on a local disk"
            ) from exc
        yield


def _drop_alias_elsewhere(registry: Registry, name: str, alias: str, keep: int | None) -> None:
    """Remove the alias tag from every version of ``name`` but ``keep``."""
    for held in registry.model(name).versions.values():
        if held.version != keep and held.run is not None and ALIAS_PREFIX + alias in held.run.tags:
            rewrite_run_tags(held.run.path, {}, [ALIAS_PREFIX + alias])


def _run_dir(version: ModelVersion) -> Path:
    """The folder of a version's run (versions read from a store always know their run)."""
    if version.run is None:
        raise RegistryError(f"{version.name!r} version {version.version} was not read from a store")
    return version.run.path


def _with_alias(version: ModelVersion, alias: str) -> ModelVersion:
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


@dataclass(frozen=True)
class RegistryEvent:
    """One change to a registered model, from the git history of the store."""

    model: str
    text: str
    sha: str
    author: str
    email: str
    date: str
    subject: str


def registry_history(
    root: Path, registry: Registry | None = None
) -> dict[str, list[RegistryEvent]] | None:
    """Each model's registrations and alias moves, oldest first, read from git.

    Every version of every run's ``run.yaml`` that a commit wrote is read from git once
    (one ``git log --raw``, then ``cat-file --batch`` per 2,000 versions) and parsed by
    the store's own reader, and the ``registry.*`` tags of consecutive versions are
    compared. A commit that sets ``registry.version`` on a run registers that version;
    one that adds ``registry.alias.<alias>`` points the alias at the run's version (a
    move when the same commit, or an earlier one, gave it to another version); a
    removal with no new holder in the same commit removes the alias. A version the
    reader cannot read holds no tags, as readers then see no run. In a shallow clone
    the history starts at the clone's oldest commit, whose tags are the starting
    state, not events.

    Returns:
        Events per model name, or None when the store is not in a git repository.

    Raises:
        GitError: git failed on an existing repository.
    """
    from runfolio.gitrepo import file_history

    found = file_history(root, f"*/*/{layout.RUN_FILE}")
    if found is None:
        return None
    tags = _registry_tags(found.repo_root, found.commits)
    registry = registry or read_registry(root)
    history: dict[str, list[RegistryEvent]] = {}
    holders: dict[tuple[str, str], int] = {}  # (model, alias) -> version, as of each commit
    versions: dict[str, tuple[str, int]] = {  # run -> (model, version)
        version.run_id: (model.name, number)
        for model in registry.models.values()
        for number, version in model.versions.items()
    }
    for commit in found.commits:
        added, removed = _tag_changes(commit.changes, tags)
        if commit.boundary:
            _start_from(added, versions, holders)
            continue
        for (run_id, key), value in added.items():
            if key == VERSION_TAG and value.isdigit():
                name = added.get((run_id, MODEL_TAG)) or versions.get(run_id, ("", 0))[0]
                if name:
                    versions[run_id] = (name, int(value))
        registered = sorted(
            (versions[run_id], run_id)
            for run_id, key in added
            if key == VERSION_TAG and (run_id, key) not in removed and run_id in versions
        )
        texts = [
            (name, f"registered version {number} (run {run_id})")
            for (name, number), run_id in registered
        ]
        for (run_id, key), _value in added.items():
            if not key.startswith(ALIAS_PREFIX) or run_id not in versions:
                continue
            name, number = versions[run_id]
            alias = key[len(ALIAS_PREFIX) :]
            before = holders.get((name, alias))
            holders[(name, alias)] = number
            if before is None:
                texts.append((name, f"@{alias} set to version {number}"))
            elif before != number:
                texts.append((name, f"@{alias} moved from version {before} to version {number}"))
        for (run_id, key), _value in removed.items():
            if not key.startswith(ALIAS_PREFIX) or (run_id, key) in added:
                continue
            name, number = versions.get(run_id, ("", 0))
            alias = key[len(ALIAS_PREFIX) :]
            if name and holders.get((name, alias)) == number:
                del holders[(name, alias)]
                texts.append((name, f"@{alias} removed from version {number}"))
        for name, text in texts:
            history.setdefault(name, []).append(
                RegistryEvent(
                    name, text, commit.sha, commit.author, commit.email, commit.date, commit.subject
                )
            )
    return history


_HISTORY_BATCH = 2000
"""Blobs read per ``cat-file --batch``: bounds the memory of a long history."""

_TagKey = tuple[str, str]  # (run id, tag key)


def _registry_tags(repo_root: Path, commits: list[FileCommit]) -> dict[str, dict[str, str]]:
    """The ``registry.*`` tags of every run.yaml blob the commits hold (none if unreadable)."""
    from runfolio.gitobjects import read_blobs
    from runfolio.store.reader import read_run_tags

    wanted = list(
        dict.fromkeys(
            blob
            for commit in commits
            for change in commit.changes
            for blob in (change.old_blob, change.new_blob)
            if blob is not None and _history_run_id(change.path) is not None
        )
    )
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(wanted), _HISTORY_BATCH):
        contents = read_blobs(repo_root, wanted[start : start + _HISTORY_BATCH])
        for blob, data in contents.items():
            tags[blob] = {}
            # Most versions (a run before it is registered) hold no registry tag, and
            # parsing is the whole cost: YAML can spell a key without its literal text
            # only through a backslash escape, so without both there is none to find.
            if b"registry." not in data and b"\\" not in data:
                continue
            with contextlib.suppress(RunfolioError):  # unreadable: readers see no run
                found = read_run_tags(data, Path(layout.RUN_FILE))
                tags[blob] = {k: v for k, v in found.items() if k.startswith("registry.")}
    return tags


def _history_run_id(path: str) -> str | None:
    """The run a changed ``<experiment>/<run id>/run.yaml`` belongs to, as readers see it."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0].startswith(".") or not layout.is_run_id(parts[1]):
        return None  # readers never take such a folder for a run
    return parts[1]


def _tag_changes(
    changes: Iterable[FileChange], tags: Mapping[str, dict[str, str]]
) -> tuple[dict[_TagKey, str], dict[_TagKey, str]]:
    """The registry tags one commit added and removed, by (run id, key).

    A changed value is both removed and added; a file added or deleted compares with none.
    """
    added: dict[_TagKey, str] = {}
    removed: dict[_TagKey, str] = {}
    for change in changes:
        run_id = _history_run_id(change.path)
        if run_id is None:
            continue
        old = tags[change.old_blob] if change.old_blob else {}
        new = tags[change.new_blob] if change.new_blob else {}
        for key in sorted(old):
            if new.get(key) != old[key]:
                removed[(run_id, key)] = old[key]
        for key in sorted(new):
            if old.get(key) != new[key]:
                added[(run_id, key)] = new[key]
    return added, removed


def _start_from(
    tags: Mapping[_TagKey, str],
    versions: dict[str, tuple[str, int]],
    holders: dict[tuple[str, str], int],
) -> None:
    """Take the tags of a shallow clone's first commit as where the history starts."""
    for (run_id, key), value in tags.items():
        name = tags.get((run_id, MODEL_TAG))
        if key == VERSION_TAG and value.isdigit() and name:
            versions[run_id] = (name, int(value))
    claims: dict[tuple[str, str], tuple[int, int]] = {}  # (model, alias) -> (claim, version)
    for (run_id, key), value in tags.items():
        if key.startswith(ALIAS_PREFIX) and run_id in versions and value.isdigit():
            name, number = versions[run_id]
            alias = (name, key[len(ALIAS_PREFIX) :])
            claims[alias] = max(claims.get(alias, (-1, 0)), (int(value), number))
    holders.update({alias: number for alias, (_claim, number) in claims.items()})
