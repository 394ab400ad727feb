"""The pull-request report as JSON, for bots and dashboards that post their own comment."""

from __future__ import annotations

from typing import Any

from runfolio.console.jsonout import to_json
from runfolio.query.report import AddedRun, ExperimentChanges, StoreChanges, run_page_url
from runfolio.store.records import RunRecord

REPORT_FORMAT = 1
"""Bumped when a field of the JSON report changes meaning or goes away."""


def render_report_json(changes: StoreChanges, *, site_url: str | None = None) -> str:
    """Render the report as indented JSON (``format`` says which layout)."""
    data = {
        "format": REPORT_FORMAT,
        "store": changes.store_path,
        "base": {"ref": changes.base_ref, "commit": changes.base_commit},
        "head": {"ref": changes.head_ref, "commit": changes.head_commit},
        "counts": {**changes.counts(), "registry": len(changes.registry)},
        "experiments": [
            _experiment(e, site_url) for e in changes.experiments if not e.empty or e.is_removed
        ],
        "registry": [
            {
                "model": c.model,
                "change": c.kind,
                "version": c.version,
                "previous_version": c.previous_version,
                "alias": c.alias,
                "run_id": c.run_id,
                "text": c.describe(),
            }
            for c in changes.registry
        ],
        "problems": list(changes.problems),
    }
    return to_json(data) + "\n"


def _experiment(changes: ExperimentChanges, site_url: str | None) -> dict[str, Any]:
    """One experiment's changes."""
    best = changes.base_best
    return {
        "name": changes.experiment.name,
        "folder": changes.experiment.slug,
        "new_experiment": changes.is_new,
        "removed_experiment": changes.is_removed,
        "primary_metric": changes.primary.name if changes.primary else None,
        "direction": changes.primary.direction if changes.primary else None,
        "base_runs": changes.base_runs,
        "base_best": None if best is None else {**_run(best.run, site_url), "value": best.value},
        "added": [_added(a, site_url) for a in changes.added],
        "changed": [{**_run(c.run, site_url), "changes": list(c.changes)} for c in changes.changed],
        "removed": [_run(run, site_url) for run in changes.removed],
    }


def _added(added: AddedRun, site_url: str | None) -> dict[str, Any]:
    """A new run with its place on the base leaderboard."""
    return {
        **_run(added.run, site_url),
        "value": added.value,
        "rank": added.rank,
        "ranked_of": added.ranked_of,
        "delta": added.delta,
        "verdict": added.verdict,
        "params": [
            {
                "key": p.key,
                "base": p.base if p.in_base else None,
                "head": p.head if p.in_head else None,
                "in_base": p.in_base,
                "in_head": p.in_head,
            }
            for p in added.params
        ],
    }


def _run(run: RunRecord, site_url: str | None) -> dict[str, Any]:
    """The fields every listed run carries."""
    url = run_page_url(site_url, run)
    return {"id": run.run_id, "name": run.name, "status": run.status, "url": url}
