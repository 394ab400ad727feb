"""The built wheel holds every module and the themes (data), so `pip install .` works."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_module_and_the_themes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("runfolio-*.whl")
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
