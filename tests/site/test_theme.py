"""Theme chain: overrides first, then the chosen theme, then the default; default: prefix."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from runfolio.site.theme import (
    ThemeChain,
    ThemeError,
    default_theme_folder,
    make_environment,
    page_templates,
    resolve_theme_chain,
)


def _theme(root: Path, templates: dict[str, str], static: dict[str, str] | None = None) -> Path:
    for name, text in templates.items():
        (root / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "templates" / name).write_text(text, encoding="utf-8")
    for name, text in (static or {}).items():
        (root / "static" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "static" / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def chain(tmp_path: Path) -> ThemeChain:
    default = _theme(
        tmp_path / "default",
        {
            "base.html": "<h1>{% block title %}default{% endblock %}</h1>",
            "run.html": "{% extends 'base.html' %}{% block title %}run {{ name }}{% endblock %}",
            "_row.html": "row",
        },
        {"css/site.css": "default css", "js/app.js": "default js"},
    )
    custom = _theme(
        tmp_path / "custom",
        {
            "run.html": "{% extends 'default:run.html' %}"
            "{% block title %}**{{ super() }}**{% endblock %}"
        },
        {"css/site.css": "custom css"},
    )
    return ThemeChain((custom, default))


def test_an_override_extends_the_default_version_of_itself(chain: ThemeChain) -> None:
    env = make_environment(chain)
    assert env.get_template("run.html").render(name="x") == "<h1>**run x**</h1>"
    assert env.get_template("default:run.html").render(name="x") == "<h1>run x</h1>"


def test_values_are_escaped_and_undefined_names_fail(chain: ThemeChain) -> None:
    env = make_environment(chain)
    rendered = env.get_template("run.html").render(name="<script>alert(1)</script>")
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("run.html").render()


def test_static_files_take_the_first_folder_that_has_them(
    chain: ThemeChain, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (chain.folders[0] / "static" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    files = dict(chain.static_files())
    assert files["css/site.css"].read_text(encoding="utf-8") == "custom css"
    assert files["js/app.js"].read_text(encoding="utf-8") == "default js"
    assert "leak.txt" not in files  # symlinks are never published


def test_partials_are_not_pages(chain: ThemeChain) -> None:
    assert page_templates(make_environment(chain)) == ["base.html", "run.html"]


def test_the_default_theme_ships_with_the_package() -> None:
    assert default_theme_folder().name == "default"
    assert resolve_theme_chain().folders == (default_theme_folder().resolve(),)


def test_resolving_a_theme_folder_and_overrides(tmp_path: Path) -> None:
    theme = _theme(tmp_path / "mine", {"base.html": "mine"})
    overrides = _theme(tmp_path / "over", {}, {"x.css": ""})
    chain = resolve_theme_chain("mine", overrides="over", base=tmp_path)
    assert chain.folders == (overrides.resolve(), theme.resolve(), default_theme_folder().resolve())


@pytest.mark.parametrize("theme", ["no-such-theme", "../etc", "missing/folder"])
def test_unknown_themes_get_a_clear_error(tmp_path: Path, theme: str) -> None:
    with pytest.raises(ThemeError, match="theme"):
        resolve_theme_chain(theme, base=tmp_path)


def test_a_folder_without_templates_or_static_is_not_a_theme(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ThemeError, match="neither templates/ nor static/"):
        resolve_theme_chain("empty", base=tmp_path)
