"""HTML validation with the Nu HTML Checker (vnu.jar), many files in one JVM run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: The vnu-jar release that ``.ci/run`` fetches from the npm registry (keep the two in sync).
VNU_VERSION = "26.9.27"


@dataclass(frozen=True)
class HtmlError:
    """One error reported by the validator."""

    file: Path
    line: int | None
    column: int | None
    message: str
    extract: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else str(self.file)
        return f"{where}: {self.message}"


def default_vnu_jar() -> Path:
    """Return where ``.ci/run`` puts vnu.jar: ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "runfolio-test" / f"vnu-jar-{VNU_VERSION}" / "vnu.jar"


def find_vnu_jar() -> Path | None:
    """Return the vnu.jar to use: ``$RUNFOLIO_VNU_JAR`` if set, else the default cache path.

    Returns:
        The jar's path, or None when that file does not exist.
    """
    configured = os.environ.get("RUNFOLIO_VNU_JAR")
    jar = Path(configured) if configured else default_vnu_jar()
    return jar if jar.is_file() else None


def validate_html(
    paths: Iterable[Path],
    *,
    jar: Path | None = None,
    ignore: Iterable[str] = (),
) -> list[HtmlError]:
    """Validate HTML files with the Nu HTML Checker and return its errors (not warnings).

    Args:
        paths: HTML files and/or folders; a folder is checked recursively (its non-HTML
            files are skipped), all in one Java process.
        jar: The vnu.jar to run; by default :func:`find_vnu_jar`.
        ignore: Substrings; an error whose message contains one is dropped. Say why at
            the call site when using this.

    Returns:
        The errors, in the validator's order (by file, then position). An empty list
        means every file is valid.

    Raises:
        FileNotFoundError: No vnu.jar or no ``java`` on PATH.
        RuntimeError: The validator did not produce a JSON report.
    """
    jar = jar or find_vnu_jar()
    if jar is None:
        raise FileNotFoundError(
            f"vnu.jar not found (set RUNFOLIO_VNU_JAR or run .ci/run; "
            f"default place: {default_vnu_jar()})"
        )
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError("java is not on PATH (Debian: default-jre-headless)")
    targets = [str(Path(p)) for p in paths]
    if not targets:
        return []
    command = [
        java,
        "-jar",
        str(jar),
        "--format",
        "json",
        "--errors-only",
        "--skip-non-html",
        "--exit-zero-always",
        "--stdout",
        *targets,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"vnu gave no JSON report (exit {done.returncode}): {done.stderr[-2000:]}"
        ) from exc
    patterns = tuple(ignore)
    errors = []
    for message in report.get("messages", []):
        if message.get("type") not in ("error", "non-document-error"):
            continue
        text = message.get("message", "")
        if any(pattern in text for pattern in patterns):
            continue
        errors.append(
            HtmlError(
                file=_path_of(message.get("url", "")),
                line=message.get("lastLine"),
                column=message.get("firstColumn") or message.get("lastColumn"),
                message=text,
                extract=message.get("extract", ""),
            )
        )
    return errors


def _path_of(url: str) -> Path:
    """Turn vnu's ``file:/abs/path`` report URL back into a path."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else Path(url)
