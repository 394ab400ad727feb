"""The registry's pages as data: each registered model, its versions and its history.

Read from the registry (run tags) and its git history; the templates ``models.html``
and ``model.html`` render these views. The build never loads a model: descriptors are
read as YAML, the pickled files are not opened.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from runfolio.query.leaderboard import metric_value
from runfolio.registry import ModelVersion, Registry, RegistryEvent
from runfolio.site.model import SiteModel, run_path
from runfolio.store.artifact_listing import list_artifacts
from runfolio.store.records import RunRecord

MODELS_INDEX = "models/index.html"


@dataclass(frozen=True)
class VersionView:
    """One version as the pages show it."""

    version: int
    aliases: tuple[str, ...]
    run_path: str
    run_name: str
    experiment: str
    status: str
    start: str | None
    metric_name: str | None
    metric: float | None
    model_path: str
    descriptor: dict[str, Any]


@dataclass(frozen=True)
class EventView:
    """One registration or alias move, with a link to its commit when the remote is known."""

    text: str
    sha: str
    author: str
    date: str
    subject: str
    url: str | None


@dataclass
class ModelView:
    """A registered model's page."""

    name: str
    path: str
    versions: list[VersionView] = field(default_factory=list)
    aliases: list[tuple[str, VersionView]] = field(default_factory=list)
    history: list[EventView] | None = None

    @property
    def latest(self) -> VersionView | None:
        """The highest version."""
        return self.versions[0] if self.versions else None

    @property
    def last_change(self) -> EventView | None:
        """The newest event of the history."""
        return self.history[-1] if self.history else None


def model_page_path(name: str) -> str:
    """Site path of a model's page; names that are not plain words get a stable suffix."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "model"
    if slug != name:
        slug = f"{slug}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"
    return f"models/{slug}/index.html"


def build_model_views(
    registry: Registry, site: SiteModel, history: dict[str, list[RegistryEvent]] | None
) -> list[ModelView]:
    """The pages of every registered model, by name."""
    primaries = {page.experiment.slug: page.primary for page in site.experiments}
    views = []
    for name in sorted(registry.models):
        model = registry.models[name]
        versions = {
            number: _version_view(version, version.run, primaries)
            for number, version in model.versions.items()
            if version.run is not None
        }
        view = ModelView(
            name=name,
            path=model_page_path(name),
            versions=[versions[number] for number in sorted(versions, reverse=True)],
            aliases=[
                (alias, versions[number])
                for alias, number in sorted(model.aliases.items())
                if number in versions
            ],
        )
        if history is not None:
            view.history = [
                EventView(
                    e.text,
                    e.sha,
                    e.author,
                    e.date,
                    e.subject,
                    site.repository.commit_url(e.sha) if site.repository else None,
                )
                for e in history.get(name, [])
            ]
        views.append(view)
    return views


def _version_view(version: ModelVersion, run: RunRecord, primaries: dict[str, Any]) -> VersionView:
    """A version (of ``run``) with the run's primary metric and its model descriptor."""
    primary = primaries.get(run.experiment_slug)
    descriptor: dict[str, Any] = {}
    for logged in list_artifacts(run.path).models:
        if logged.path == version.model_path:
            descriptor = dict(logged.descriptor)
    return VersionView(
        version=version.version,
        aliases=version.aliases,
        run_path=run_path(run),
        run_name=run.name or run.run_id,
        experiment=run.experiment,
        status=run.status,
        start=run.start_time,
        metric_name=primary.name if primary else None,
        metric=metric_value(run, primary.name) if primary else None,
        model_path=version.model_path,
        descriptor=descriptor,
    )
