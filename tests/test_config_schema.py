"""The one schema of runfolio.yaml: every problem at once, and the JSON Schema editors use."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from runfolio.cli import main
from runfolio.config_schema import (
    ArtifactsSchema,
    ConfigProblems,
    ExperimentSchema,
    LimitsSchema,
    SiteSchema,
    json_schema,
    render_json_schema,
    validate_site,
)
from runfolio.config_values import ExperimentSettings, RemoteSettings, SiteConfig, SiteLimits
from runfolio.site.config import SiteConfigError, load_site_config

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMA_FILE = DOCS / "runfolio.schema.json"


def test_problems_in_every_section_are_reported_at_once_with_their_location(
    tmp_path: Path,
) -> None:
    (tmp_path / "runfolio.yaml").write_text(
        """
title: ''
limits:
  page_preview_size: 0
  charts: many
experiments:
  iris: {direction: up, primary_metric: acc}
artifacts:
  uri: gopher://bucket
  threshold: 1 parsec
  password: hunter2
default_columns: [status, metrics.]
capture_untracked: some
refs: [main, --force]
site_ur1: https://x.org
""",
        encoding="utf-8",
    )
    with pytest.raises(SiteConfigError) as info:
        load_site_config(tmp_path)
    problems = info.value.problems
    assert [problem.split(": ")[0] for problem in problems] == [
        "title",
        "limits.page_preview_size",
        "limits.charts",
        "experiments.iris.direction",
        "artifacts.uri",
        "artifacts.threshold",
        "artifacts.password",
        "default_columns[1]",
        "capture_untracked",
        "refs",
        "site_ur1",
    ]
    assert problems[1] == "limits.page_preview_size: must be at least 1 byte"
    assert problems[3] == "experiments.iris.direction: 'up' is not one of minimize, maximize"
    assert problems[6].startswith("artifacts.password: credentials never go in runfolio.yaml")
    assert problems[8] == "capture_untracked: 'some' is not one of all, code, none"
    assert problems[9] == "refs: '--force' is not a branch name or pattern"
    assert problems[10] == "site_ur1: unknown key; did you mean 'site_url'?"
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'runfolio.yaml'}: 11 problems in the site settings:")


def test_keys_that_are_not_text_are_unknown_keys() -> None:
    with pytest.raises(ConfigProblems) as info:
        validate_site({3: "x", "limits": {None: 1}})
    assert info.value.problems[0].startswith("3: unknown key (known: title, description,")
    assert info.value.problems[1].startswith("limits.None: unknown key (known: notes_chars,")


@pytest.mark.parametrize(
    ("schema", "values"),
    [
        (SiteSchema, dataclasses.fields(SiteConfig)),
        (LimitsSchema, dataclasses.fields(SiteLimits)),
        (ExperimentSchema, dataclasses.fields(ExperimentSettings)),
    ],
)
def test_the_schema_has_a_key_for_every_setting(schema: Any, values: Any) -> None:
    assert list(schema.model_fields) == [field.name for field in values]


def test_the_artifacts_keys_are_the_remote_settings_but_the_parts_of_the_uri() -> None:
    names = [f.name for f in dataclasses.fields(RemoteSettings)]
    from_uri = ("bucket", "prefix", "scheme")
    assert list(ArtifactsSchema.model_fields) == [
        "uri",
        *(name for name in names if name not in from_uri),
    ]


def test_the_committed_json_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_json_schema(), (
        "regenerate it: runfolio config schema > docs/runfolio.schema.json"
    )


def test_the_cli_prints_the_json_schema() -> None:
    result = CliRunner().invoke(main, ["config", "schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json_schema()
    assert result.output == render_json_schema()


def _documented_configs() -> list[tuple[str, dict[str, Any]]]:
    """Every ```yaml block of docs/ that is a runfolio.yaml (only its keys, at least one)."""
    configs = []
    for page in sorted(DOCS.glob("*.md")):
        blocks = re.findall(r"^```yaml\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)
        for index, block in enumerate(blocks):
            data = yaml.safe_load(block)
            if isinstance(data, dict) and data and set(data) <= set(SiteSchema.model_fields):
                configs.append((f"{page.name}#{index}", data))
    return configs


DOCUMENTED = _documented_configs()


def test_the_docs_have_examples_of_every_key() -> None:
    seen = {key for _, data in DOCUMENTED for key in data}
    assert seen == set(SiteSchema.model_fields)


@pytest.mark.parametrize(("where", "data"), DOCUMENTED, ids=[where for where, _ in DOCUMENTED])
def test_documented_configs_pass_both_the_json_schema_and_the_validator(
    where: str, data: dict[str, Any]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(json_schema()).validate(data)
    validate_site(data)


@pytest.mark.parametrize(
    "data",
    [
        {"titel": "x"},
        {"title": 3},
        {"title": ""},
        {"repository_url": "github.com/org/repo"},
        {"experiments": {"iris": {"direction": "max"}}},
        {"experiments": {"iris": {"primay_metric": "acc"}}},
        {"default_columns": ["stauts"]},
        {"default_columns": "status"},
        {"artifact_size_limit": "5 parsecs"},
        {"artifact_size_limit": -1},
        {"limits": {"charts": 0}},
        {"limits": {"chart": 3}},
        {"limits": {"page_preview_size": 0}},
        {"artifacts": {"threshold": "1 MB"}},
        {"artifacts": {"uri": "s3://b", "secret": "x"}},
        {"artifacts": {"uri": "s3://b", "previews": "yes"}},
        {"artifacts": ["s3://b"]},
        {"capture_untracked": "some"},
        {"refs": 3},
    ],
)
def test_what_the_validator_refuses_the_json_schema_refuses(data: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(ConfigProblems):
        validate_site(data)
    assert not jsonschema.Draft202012Validator(json_schema()).is_valid(data)


def test_null_is_absent_for_both() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = {"title": None, "limits": {"charts": None}, "experiments": {"iris": None}}
    assert jsonschema.Draft202012Validator(json_schema()).is_valid(data)
    config = validate_site(data)
    assert config.title == "runfolio" and config.limits == SiteLimits()
    assert config.experiments["iris"] == ExperimentSettings()


def test_the_spelled_out_literals_are_the_allowed_values() -> None:
    # The type checker needs the literals spelled out; the tuples are what is enforced.
    from typing import get_args

    from runfolio.config_schema import DirectionValue, UntrackedValue
    from runfolio.config_values import DIRECTIONS
    from runfolio.gitrepo import UNTRACKED_MODES

    assert get_args(DirectionValue) == DIRECTIONS
    assert get_args(UntrackedValue) == UNTRACKED_MODES
