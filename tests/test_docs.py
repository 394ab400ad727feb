"""Docs that cannot rot: every public name, CLI command and store file is documented."""

from __future__ import annotations

import re
from pathlib import Path

import runfolio
from runfolio.store import FORMAT_VERSION, layout

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_public_api_name_is_documented() -> None:
    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in runfolio.__all__
        if not name.startswith("_") and not re.search(rf"`{re.escape(name)}[(`]", text)
    ]
    assert not missing, f"undocumented in docs/python-api.md: {missing}"


def test_store_format_doc_names_every_file_and_the_version() -> None:
    text = (DOCS / "store-format.md").read_text(encoding="utf-8")
    assert f"version {FORMAT_VERSION}" in text
    for name in (
        layout.EXPERIMENT_FILE,
        layout.RUN_FILE,
        layout.PARAMS_FILE,
        layout.METRICS_FILE,
        layout.HEARTBEAT_FILE,
        layout.ARTIFACTS_DIR,
        layout.GIT_PATCH_FILE,
        layout.PACKAGES_FILE,
    ):
        assert name in text, name


def test_every_cli_command_and_option_is_documented() -> None:
    import click

    from runfolio import cli

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    group = cli.main
    assert isinstance(group, click.Group)
    missing = []
    for name, command in group.commands.items():
        if f"runfolio {name}" not in text:
            missing.append(f"command {name}")
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt not in text:
                    missing.append(f"{name} {opt}")
    assert not missing, f"undocumented in docs/cli.md: {missing}"
