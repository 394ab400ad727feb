"""The built wheel holds every module and the themes (data), so `pip install .` works."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout, as `pip install .` would build it."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (built,) = folder.glob("runfolio-*.whl")
    return built


def test_wheel_contains_every_module_and_the_themes(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    modules = {
        "runfolio/" + path.relative_to(ROOT / "src" / "runfolio").as_posix()
        for path in (ROOT / "src" / "runfolio").rglob("*.py")
    }
    assert modules <= names, f"missing from the wheel: {sorted(modules - names)}"
    assert "runfolio/py.typed" in names

    theme_files = {
        "runfolio/themes/" + path.relative_to(ROOT / "themes").as_posix()
        for path in (ROOT / "themes").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert theme_files, "themes/ holds no files"
    assert theme_files <= names, f"missing theme files: {sorted(theme_files - names)}"


def test_an_installed_wheel_builds_a_site(wheel: Path, tmp_path: Path) -> None:
    """The wheel installed away from the checkout renders a site with its own theme."""
    target = tmp_path / "lib"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = tmp_path / "site"
    script = (
        "import runfolio, sys; from runfolio.cli import main; "
        "print(runfolio.__file__, file=sys.stderr); main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "build", str(ROOT / "example_runs"), "-o", str(site)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith(str(target))  # not the checkout
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Digits MLP" in home
    for asset in ("site.css", "site.js", "leaderboard.js", "vendor/vega.min.js"):
        assert (site / "assets" / asset).is_file(), asset
    assert list(site.glob("experiments/*/runs/*.html"))
