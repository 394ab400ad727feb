"""``import runfolio`` must stay light: training scripts pay for it on every start."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "altair", "jinja2", "markdown", "cmarkgfm", "nh3", "git", "numpy", "pydantic")


def _modules_loaded_by(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter and return the top-level modules it loaded."""
    report = "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"{code}\n{report}"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import runfolio",
        "import runfolio; runfolio.log_metric; runfolio.Store; runfolio.start_run",
        "from runfolio import log_metric, set_experiment, search_runs",
        "import runfolio.cli",
    ],
)
def test_import_does_not_load_heavy_modules(code: str) -> None:
    loaded = _modules_loaded_by(code)
    assert not loaded & set(HEAVY), f"{code!r} loaded {sorted(loaded & set(HEAVY))}"


def test_logging_a_run_does_not_load_heavy_modules(tmp_path) -> None:
    code = (
        "import runfolio\n"
        f"runfolio.set_store({str(tmp_path / 'runs')!r})\n"
        "with runfolio.start_run(run_name='light'):\n"
        "    runfolio.log_params({'a': 1})\n"
        "    runfolio.log_metric('m', 1.0, step=1)\n"
        "    runfolio.set_tag('t', 'x')\n"
    )
    loaded = _modules_loaded_by(code)
    assert not loaded & {"pandas", "altair", "jinja2", "markdown", "cmarkgfm", "numpy", "pydantic"}


def test_every_public_name_resolves() -> None:
    import runfolio

    for name in runfolio.__all__:
        assert getattr(runfolio, name) is not None, name
    with pytest.raises(AttributeError):
        runfolio.no_such_name  # noqa: B018
