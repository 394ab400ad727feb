"""Site settings in runfolio.yaml: defaults, every validation rule, all problems at once, docs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from runfolio.config import ConfigError
from runfolio.config_values import DEFAULT_ARTIFACT_SIZE_LIMIT, ExperimentSettings, SiteConfig
from runfolio.errors import RunfolioError
from runfolio.site.config import SiteConfigError, load_site_config, parse_size

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _write(root: Path, text: str) -> Path:
    (root / "runfolio.yaml").write_text(text, encoding="utf-8")
    return root


def _problems(root: Path, text: str) -> tuple[str, ...]:
    with pytest.raises(SiteConfigError) as info:
        load_site_config(_write(root, text))
    return info.value.problems


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load_site_config(tmp_path)
    assert config == SiteConfig()
    assert config.title == "runfolio"
    assert config.artifact_size_limit == DEFAULT_ARTIFACT_SIZE_LIMIT == 5_000_000
    assert config.experiments == {}
    assert config.theme == "default"


def test_full_valid_file(tmp_path: Path) -> None:
    config = load_site_config(
        _write(
            tmp_path,
            """
store: runs
title: Iris lab
description: |
  Our **experiments**.
repository_url: https://github.com/org/repo/
experiments:
  iris:
    primary_metric: accuracy
    direction: maximize
  housing:
    direction: minimize
  bare:
default_columns: [status, run_name, metrics.acc, params.lr, tags.team.name]
artifact_size_limit: 512KiB
theme: ./my-theme
""",
        )
    )
    assert config.store == "runs"
    assert config.title == "Iris lab"
    assert config.description == "Our **experiments**.\n"
    assert config.repository_url == "https://github.com/org/repo"
    assert config.experiments["iris"] == ExperimentSettings("accuracy", "maximize")
    assert config.experiments["housing"] == ExperimentSettings(None, "minimize")
    assert config.experiments["bare"] == ExperimentSettings()
    assert config.default_columns == (
        "status",
        "run_name",
        "metrics.acc",
        "params.lr",
        "tags.team.name",
    )
    assert config.artifact_size_limit == 512 * 1024
    assert config.theme == "./my-theme"


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_site_config(_write(tmp_path, "experiments: {a: {direction: maximize}}\n"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.experiments["b"] = ExperimentSettings()  # type: ignore[index]


def test_null_values_mean_default(tmp_path: Path) -> None:
    config = load_site_config(_write(tmp_path, "title:\ntheme: null\nexperiments:\n"))
    assert config == SiteConfig()


def test_the_error_is_a_runfolio_error_naming_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "title: 3\n")
    with pytest.raises(RunfolioError) as info:
        load_site_config(tmp_path)
    assert isinstance(info.value, ConfigError)
    assert str(tmp_path / "runfolio.yaml") in str(info.value)
    assert "title: expected text, got int 3" in str(info.value)


def test_invalid_yaml_is_a_site_config_error(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "title: [unclosed\n")
    assert len(problems) == 1
    assert "invalid YAML" in problems[0]


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    assert "expected a mapping" in _problems(tmp_path, "- a\n- b\n")[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: ''\n", "title: must not be empty"),
        ("title: [a]\n", "title: expected text, got a list ['a']"),
        ("description: 12\n", "description: expected text, got int 12"),
        ("theme: {a: 1}\n", "theme: expected text, got a mapping {'a': 1}"),
        ("store: true\n", "store: expected text, got true/false True"),
        ("store: '  '\n", "store: must not be empty"),
    ],
)
def test_text_keys(tmp_path: Path, text: str, expected: str) -> None:
    assert _problems(tmp_path, text) == (expected,)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("javascript:alert(1)", "must be an http:// or https:// URL"),
        ("ftp://example.com/repo", "must be an http:// or https:// URL"),
        ("github.com/org/repo", "must be an http:// or https:// URL"),
        ("https://", "must be an http:// or https:// URL"),
        ("'https://x.org/a b'", "must not contain spaces"),
        ("https://user:token@github.com/org/repo", "must not contain a user name or password"),
        ("'http://[::1'", "is not a URL"),
    ],
)
def test_repository_url_rules(tmp_path: Path, url: str, expected: str) -> None:
    (problem,) = _problems(tmp_path, f"repository_url: {url}\n")
    assert problem.startswith("repository_url: ")
    assert expected in problem


@pytest.mark.parametrize("url", ["http://gitlab.local/a/b", "HTTPS://GitHub.com/o/r"])
def test_repository_url_accepts_http_and_https(tmp_path: Path, url: str) -> None:
    assert load_site_config(_write(tmp_path, f"repository_url: {url}\n")).repository_url == url


def test_experiment_rules(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
experiments:
  iris:
    direction: max
    primary_metric: ''
  digits: fast
  housing:
    primay_metric: rmse
  3: {direction: minimize}
""",
    )
    assert problems == (
        "experiments.iris.direction: 'max' is not one of minimize, maximize",
        "experiments.iris.primary_metric: must not be empty",
        "experiments.digits: expected a mapping with primary_metric and direction, got text",
        "experiments.housing.primay_metric: unknown key; did you mean "
        "'experiments.housing.primary_metric'?",
        "experiments.3: experiment names must be text, got int",
    )


def test_experiments_must_be_a_mapping(tmp_path: Path) -> None:
    assert _problems(tmp_path, "experiments: [iris]\n") == (
        "experiments: expected a mapping of experiment names, got a list",
    )


def test_default_columns_rules(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path, "default_columns: [status, metrics., stauts, 7, params.lr, bogus]\n"
    )
    assert problems[0] == "default_columns[1]: 'metrics.' needs a key after 'metrics.'"
    assert problems[1].startswith(
        "default_columns[2]: unknown column 'stauts'; did you mean 'status'?"
    )
    assert problems[2] == "default_columns[3]: expected a column name, got int 7"
    assert problems[3].startswith("default_columns[5]: unknown column 'bogus' (use run_id")
    assert len(problems) == 4


def test_default_columns_must_be_a_list(tmp_path: Path) -> None:
    assert _problems(tmp_path, "default_columns: status\n") == (
        "default_columns: expected a list of column names, got text",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1234, 1234),
        ("300", 300),
        ("5 MB", 5_000_000),
        ("5mb", 5_000_000),
        ("512KiB", 524_288),
        ("1.5 GiB", 1_610_612_736),
        ("0.1 KB", 100),
        ("2 B", 2),
    ],
)
def test_parse_size_accepts(value: object, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", [-1, True, 1.5, "5 XB", "MB", "-5 MB", "0.5 B", "", None, [5]])
def test_parse_size_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_size(value)


def test_artifact_size_limit_problem_names_the_key(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "artifact_size_limit: 5 parsecs\n")
    assert problem.startswith("artifact_size_limit: '5 parsecs' is not a size like '5 MB'")


def test_unknown_keys_with_and_without_suggestion(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "titel: x\nzzz_qqq: 1\n")
    assert problems[0] == "titel: unknown key; did you mean 'title'?"
    assert problems[1].startswith("zzz_qqq: unknown key (known: title, description,")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """
title: 5
repository_url: javascript:alert(1)
experiments:
  iris: {direction: max}
  digits: {primary_metric: [acc]}
default_columns: [stauts]
artifact_size_limit: lots
themes: dark
""",
    )
    with pytest.raises(SiteConfigError) as info:
        load_site_config(tmp_path)
    problems = info.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "title",
        "repository_url",
        "experiments.iris.direction",
        "experiments.digits.primary_metric",
        "default_columns[0]",
        "artifact_size_limit",
        "themes",
    ]
    message = str(info.value)
    assert "7 problems" in message
    assert all(f"  - {p}" in message for p in problems)
    assert "themes: unknown key; did you mean 'theme'?" in problems


def test_every_setting_is_documented() -> None:
    """Each key of SiteConfig (and of an experiment's settings) has its own heading."""
    text = DOCS.read_text(encoding="utf-8")
    keys = [f.name for f in dataclasses.fields(SiteConfig)]
    keys += [f"experiments.<name>.{f.name}" for f in dataclasses.fields(ExperimentSettings)]
    missing = [key for key in keys if not re.search(rf"^#+ `{re.escape(key)}`", text, re.MULTILINE)]
    assert not missing, f"undocumented in docs/configuration.md: {missing}"
