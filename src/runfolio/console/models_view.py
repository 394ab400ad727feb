"""Terminal views of the model registry: the list of models, one model's versions and history."""

from __future__ import annotations

from runfolio.console.table import render_table
from runfolio.registry import ModelVersion, RegisteredModel, Registry, RegistryEvent


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


def render_model(
    model: RegisteredModel,
    registry: Registry,
    history: list[RegistryEvent] | None = None,
    no_history: str = "the store is not in a git repository",
) -> str:
    """A model's versions, newest first (run, experiment, aliases, source), then its history.

    Args:
        history: The model's events from :func:`runfolio.registry.registry_history`,
            shown newest first; None when there is none to show, said with ``no_history``.
    """
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
    return f"{model.name}\n\n{lines}{usage}\n{tail}\n{_history(history, no_history)}"


def _history(history: list[RegistryEvent] | None, no_history: str) -> str:
    """The history section: one row per registration or alias move, newest first."""
    if history is None:
        return f"History: none ({no_history}).\n"
    if not history:
        return "History: no commit has registered a version yet.\n"
    rows = [
        [event.date[:10], event.sha[:8], event.author, event.text, event.subject]
        for event in reversed(history)
    ]
    return "History:\n" + render_table(["DATE", "COMMIT", "AUTHOR", "CHANGE", "MESSAGE"], rows)


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
