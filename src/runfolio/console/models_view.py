"""Terminal views of the model registry: the list of models and one model's versions."""

from __future__ import annotations

from runfolio.console.table import render_table
from runfolio.registry import ModelVersion, RegisteredModel, Registry


def render_models(registry: Registry) -> str:
    """One line per registered model: latest version, its aliases and where they point."""
    if not registry.models:
        return "No registered models. Register one with: runfolio models register RUN NAME\n"
    rows = []
    for name in sorted(registry.models):
        model = registry.models[name]
        latest = model.latest
        aliases = ", ".join(
            f"{alias}→v{version}" for alias, version in sorted(model.aliases.items())
        )
        rows.append(
            [
                name,
                str(len(model.versions)),
                f"v{latest.version}" if latest else "—",
                aliases or "—",
            ]
        )
    return render_table(["MODEL", "VERSIONS", "LATEST", "ALIASES"], rows, align="llll") + (
        _conflicts(registry)
    )


def render_model(model: RegisteredModel, registry: Registry) -> str:
    """A model's versions, newest first: run, experiment, aliases, primary metric."""
    rows = [_version_row(model.versions[number]) for number in sorted(model.versions, reverse=True)]
    lines = render_table(
        ["VERSION", "RUN", "NAME", "EXPERIMENT", "STATUS", "ALIASES", "SOURCE"], rows
    )
    usage = f'\nLoad a version: runfolio.load_model("models:/{model.name}/<version>")'
    if model.aliases:
        alias = sorted(model.aliases)[0]
        usage += f' or runfolio.load_model("models:/{model.name}@{alias}")'
    conflicts = [c for c in registry.conflicts if c.startswith(f"{model.name!r} ")]
    tail = "".join(f"conflict: {c}\n" for c in conflicts)
    return f"{model.name}\n\n{lines}{usage}\n{tail}"


def _version_row(version: ModelVersion) -> list[str]:
    """One version as table cells."""
    run = version.run
    return [
        f"v{version.version}",
        version.run_id,
        (run.name if run else "") or "—",
        version.experiment,
        run.status if run else "—",
        ", ".join(version.aliases) or "—",
        version.source,
    ]


def _conflicts(registry: Registry) -> str:
    """The registry's conflicts, one line each."""
    return "".join(f"conflict: {conflict}\n" for conflict in registry.conflicts)
