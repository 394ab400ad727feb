"""experiment.yaml rewrites keep what they do not change."""

from __future__ import annotations

from pathlib import Path

import runfolio
from runfolio.store.reader import read_yaml_file


def test_set_experiment_keeps_keys_it_does_not_know(fluent_store: Path) -> None:
    runfolio.set_experiment("iris", primary_metric="acc", direction="maximize")
    path = fluent_store / "iris" / "experiment.yaml"
    # Written by a newer runfolio, or by hand: keys this version has never heard of.
    text = path.read_text(encoding="utf-8").replace("  name: acc\n", "  name: acc\n  unit: '%'\n")
    text += "owner: team-vision\nlinks:\n  dataset: https://example.org/iris\n"
    path.write_text(text, encoding="utf-8")
    before = read_yaml_file(path)
    assert before["primary_metric"]["unit"] == "%"

    record = runfolio.set_experiment("iris", description="# Iris\n\nSVMs on iris.")
    runfolio.set_experiment("iris", primary_metric="f1")

    data = read_yaml_file(path)
    assert record.description == "# Iris\n\nSVMs on iris."
    assert data["owner"] == "team-vision"
    assert data["links"] == {"dataset": "https://example.org/iris"}
    assert data["primary_metric"] == {"name": "f1", "direction": "maximize", "unit": "%"}
    assert data["created"] == before["created"]
    assert data["description"] == "# Iris\n\nSVMs on iris."
