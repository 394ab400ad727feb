"""The site model: experiments ranked, runs with family and code links, settings applied."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import runfolio
from runfolio.config_values import ExperimentSettings, SiteConfig
from runfolio.site.model import build_site_model
from runfolio.store.scan import scan_store

SHA = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"


@pytest.fixture
def store(tmp_path: Path) -> runfolio.Store:
    store = runfolio.Store(tmp_path / "runs")
    store.set_experiment("Iris sweep", primary_metric="acc", direction="maximize")
    store.set_experiment("bare")
    with store.start_run("Iris sweep", run_name="parent") as parent:
        for lr, acc in ((0.1, 0.8), (0.01, 0.9)):
            time.sleep(0.002)  # start times are in ms: keep the logging order unambiguous
            with store.start_run(
                "Iris sweep", run_name=f"lr={lr}", parent_run_id=parent.run_id
            ) as child:
                child.log_params({"lr": lr, "seed": 1})
                child.log_metrics({"acc": acc, "loss": 1 - acc})
    with store.start_run("bare", run_name="lonely") as run:
        run.log_metric("loss", 0.5)
    return store


def _model(store: runfolio.Store, **settings):  # type: ignore[no-untyped-def]
    return build_site_model(scan_store(store.root), SiteConfig(**settings))


def test_experiments_are_ranked_by_their_primary_metric(store: runfolio.Store) -> None:
    model = _model(store)
    names = [page.experiment.name for page in model.experiments]
    assert names == ["bare", "Iris sweep"]
    iris = model.experiments[1]
    assert iris.path == "experiments/iris-sweep/index.html"
    assert [(e.run.name, e.rank) for e in iris.entries] == [
        ("lr=0.01", 1),
        ("lr=0.1", 2),
        ("parent", None),
    ]
    assert iris.best is not None and iris.best.value == 0.9
    assert iris.varying_params == ["lr", "seed"]  # seed is missing on the parent
    assert iris.metric_keys == ["acc", "loss"]
    assert iris.run_count == 3
    assert model.experiments[0].best is None  # no primary metric, no ranking


def test_site_settings_override_the_primary_metric(store: runfolio.Store) -> None:
    model = _model(
        store,
        experiments={
            "Iris sweep": ExperimentSettings(primary_metric="loss", direction="minimize"),
            "bare": ExperimentSettings(primary_metric="loss"),
        },
    )
    iris, bare = model.experiments[1], model.experiments[0]
    assert iris.best is not None and iris.best.run.name == "lr=0.01"  # lowest loss
    assert bare.primary is not None and bare.primary.direction == "minimize"
    assert bare.best is not None and bare.best.run.name == "lonely"


def test_runs_know_their_family_and_pages(store: runfolio.Store) -> None:
    model = _model(store)
    parent = next(page for page in model.runs.values() if page.run.name == "parent")
    assert [child.name for child in parent.children] == ["lr=0.1", "lr=0.01"]
    child_page = model.runs[parent.children[0].run_id]
    assert child_page.parent is not None and child_page.parent.run_id == parent.run.run_id
    assert child_page.path == f"experiments/iris-sweep/runs/{child_page.run.run_id}.html"
    assert child_page.experiment_path == "experiments/iris-sweep/index.html"
    assert model.recent_runs[0].name == "lonely"


def test_code_links_come_from_settings_or_the_store_repository(store: runfolio.Store) -> None:
    scan = scan_store(store.root)
    for run in scan.runs:
        run.git = {"commit": SHA, "remote_url": "git@github.com:evil/repo.git"}
        run.source = {"entry_point": "train.py"}
    # A remote a run recorded is not the store's: it gives no links.
    assert build_site_model(scan, SiteConfig()).repository is None
    model = build_site_model(scan, SiteConfig(), store_remote="git@github.com:org/repo.git")
    page = next(iter(model.runs.values()))
    assert page.commit_url == f"https://github.com/org/repo/commit/{SHA}"
    assert page.source_url == f"https://github.com/org/repo/blob/{SHA}/train.py"
    configured = build_site_model(
        scan,
        SiteConfig(repository_url="https://gitlab.com/g/r"),
        store_remote="git@github.com:org/repo.git",
    )
    page = next(iter(configured.runs.values()))
    assert page.commit_url == f"https://gitlab.com/g/r/-/commit/{SHA}"


def test_no_remote_means_no_code_links(store: runfolio.Store) -> None:
    model = _model(store)
    assert model.repository is None
    assert all(page.commit_url is None for page in model.runs.values())
