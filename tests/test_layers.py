"""runfolio's modules import each other in one direction: layers, no cycles, lazy only at edges.

The layers are the import-linter contract in pyproject.toml (``[tool.importlinter]``):
errors < store < {config, git} < {registry, objectstore} < query < tracking <
{site, console, interop, publish} < cli. import-linter reads every import of a module,
function-level and ``TYPE_CHECKING`` ones included, so a lazy import cannot hide a
dependency from it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

LAZY_IMPORT_EDGES = {"runfolio/cli.py"}

LAZY_HEAVY_MODULES = {"runfolio.config_schema"}
"""runfolio modules that may be imported inside a function anywhere: each is the boundary
of a heavy third-party library (``config_schema`` defines pydantic models at import), so
only the code that needs it pays for it: a training script logging to no bucket never
imports pydantic."""
"""Where a runfolio import may wait inside a function: each CLI command imports the module
it runs, so ``runfolio --help`` stays instant. (The public API table of
``runfolio/__init__.py`` loads its names with importlib, not an import statement.)"""


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """The import graph of the runfolio package in this checkout."""
    sys.path.insert(0, str(SRC))
    try:
        return grimp.build_graph("runfolio", cache_dir=None)
    finally:
        sys.path.remove(str(SRC))


def test_the_layer_contract_is_kept() -> None:
    code = (
        "import sys\n"
        "from importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_two_modules_import_each_other(graph: grimp.ImportGraph) -> None:
    cycles = set()
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain is not None:
                cycles.add(" -> ".join((module, *chain)))
    assert not cycles, "import cycles (type-only imports count):\n" + "\n".join(sorted(cycles))


def test_runfolio_imports_wait_inside_functions_only_at_the_edges() -> None:
    lazy = [
        f"{relative}:{line}"
        for path in sorted((SRC / "runfolio").rglob("*.py"))
        if (relative := path.relative_to(SRC).as_posix()) not in LAZY_IMPORT_EDGES
        for line, module in _function_level_runfolio_imports(path)
        if module not in LAZY_HEAVY_MODULES
    ]
    assert not lazy, "import these at the top of the module (or move code down a layer):\n" + (
        "\n".join(lazy)
    )


def _function_level_runfolio_imports(path: Path) -> list[tuple[int, str]]:
    """Line numbers and modules of the ``runfolio`` imports made inside a function of ``path``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom):
                names = [inner.module or ""] if not inner.level else ["runfolio"]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            else:
                continue
            lines.extend(
                (inner.lineno, name)
                for name in names
                if name == "runfolio" or name.startswith("runfolio.")
            )
    return sorted(set(lines))
