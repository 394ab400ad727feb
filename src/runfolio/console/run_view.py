"""The text of ``runfolio show``: one run's overview, then a titled section per topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runfolio.console.cells import (
    MISSING,
    format_duration,
    format_size,
    format_time,
    format_value,
)
from runfolio.console.jsonout import to_json
from runfolio.console.safe import visible
from runfolio.console.table import render_table

OUTPUT_FORMATS = ("text", "json", "yaml")
"""The formats :func:`render_run` writes."""


def render_run(details: dict[str, Any], output_format: str = "text") -> str:
    """Return run details as ``runfolio show --format`` prints them.

    Args:
        details: what :func:`runfolio.query.details.build_run_details` returned.
        output_format: ``text`` (:func:`render_run_details`), ``json`` (NaN and
            infinities as the strings ``"nan"``, ``"inf"``, ``"-inf"``) or ``yaml``.

    Returns:
        The text, ending in a newline.

    Raises:
        ValueError: an unknown ``output_format``.
    """
    if output_format == "text":
        return render_run_details(details)
    if output_format == "json":
        return to_json(details) + "\n"
    if output_format == "yaml":
        import yaml

        return yaml.safe_dump(details, sort_keys=False, allow_unicode=True)
    raise ValueError(f"unknown output format {output_format!r}; use one of {OUTPUT_FORMATS}")


def render_run_details(details: dict[str, Any]) -> str:
    """Return run details as the text ``runfolio show`` prints.

    An overview of ``key  value`` lines, then the sections Failure (why a FAILED run
    failed, when it recorded so), Child runs, Source, Git,
    Environment, Description, Tags, Params, Metrics, Artifacts, Models and Problems,
    each after a blank line; empty optional sections are left out. A symlinked
    artifact shows ``symlink`` where a size would be.

    Args:
        details: what :func:`runfolio.query.details.build_run_details` returned.
    """
    out = [visible(f"Run {details['id']}  {details['name']}") + "\n"]
    overview = [
        ("experiment", f"{details['experiment']}  (folder {details['experiment_folder']}/)"),
        ("status", details["status"] + _stored_note(details)),
        ("start", _utc(format_time(details["start_time"], seconds=True))),
        ("end", _utc(format_time(details["end_time"], seconds=True))),
        ("duration", format_duration(details["duration_seconds"])),
        ("user", details["user"] or MISSING),
        ("parent", _relative(details["parent"])),
        ("path", details["path"]),
    ]
    out.append(_pairs(overview))
    if details.get("failure"):
        out.append(_section("Failure", _failure(details["failure"])))
    if details["children"]:
        children = [
            [c["id"], c["name"] or MISSING, c["status"] or MISSING] for c in details["children"]
        ]
        out.append(_section("Child runs", render_table(None, children, indent=2)))
    source = details["source"]
    source_rows = [
        ("entry point", str(source.get("entry_point") or MISSING)),
        ("argv", " ".join(map(str, source.get("argv") or [])) or MISSING),
    ]
    out.append(_section("Source", _pairs(source_rows)))
    out.append(_section("Git", _git(details["git"])))
    environment = [(k, format_value(v)) for k, v in details["environment"].items()]
    out.append(_section("Environment", _pairs(environment)))
    if details["description"]:
        text = "".join(f"  {visible(line)}\n" for line in details["description"].splitlines())
        out.append(_section("Description", text))
    if details["tags"]:
        out.append(_section("Tags", _pairs(list(details["tags"].items()))))
    if details["params"]:
        params = [(k, format_value(v)) for k, v in details["params"].items()]
        out.append(_section("Params", _pairs(params)))
    if details["metrics"]:
        out.append(_section("Metrics", _metrics(details["metrics"])))
    if details["artifacts"]:
        out.append(_section("Artifacts", _artifacts(details["artifacts"])))
    if details["models"]:
        rows = [
            [m["path"] + "/", str(m["flavor"] or MISSING), str(m["class"] or MISSING)]
            for m in details["models"]
        ]
        out.append(_section("Models", render_table(["PATH", "FLAVOR", "CLASS"], rows, indent=2)))
    if details["problems"]:
        problems = "".join(f"  {visible(p)}\n" for p in details["problems"])
        out.append(_section("Problems", problems))
    return "".join(out)


def _failure(failure: dict[str, Any]) -> str:
    """Render the Failure section: ``Type: message``, then the traceback's last lines."""
    head = f"{failure.get('type') or 'exception'}: {failure.get('message') or ''}".rstrip()
    lines = [head, *str(failure.get("traceback") or "").splitlines()]
    return "".join(f"  {visible(line)}\n" for line in lines)


def _relative(item: dict[str, Any] | None) -> str:
    """Describe a parent run on one line."""
    if item is None:
        return MISSING
    if item["name"] is None:
        return f"{item['id']} (not found in the store)"
    return f"{item['id']}  {item['name']}  {item['status']}"


def _git(git: dict[str, Any]) -> str:
    """Render the Git section's body."""
    rows = [
        (
            key,
            _yes_no(value)
            if isinstance(value, bool)
            else MISSING
            if value is None  # no remote, a detached HEAD: absent, not the text "None"
            else format_value(value),
        )
        for key, value in git.items()
        if key != "patch"
    ]
    if git:
        rows.append(("patch", git["patch"] or "none captured"))
    return _pairs(rows) if rows else "  no git repository\n"


def _metrics(metrics: dict[str, dict[str, Any]]) -> str:
    """Render the Metrics section's table: last value, its step, min, max and count."""
    rows = [
        [
            key,
            format_value(summary.get("last")),
            str(summary.get("step", MISSING)),
            _optional_number(summary.get("min")),
            _optional_number(summary.get("max")),
            str(summary.get("count", MISSING)),
        ]
        for key, summary in metrics.items()
    ]
    headers = ["KEY", "LAST", "STEP", "MIN", "MAX", "COUNT"]
    return render_table(headers, rows, align="lrrrrr", indent=2)


def _artifacts(artifacts: list[dict[str, Any]]) -> str:
    """Render the Artifacts section's table: path, size (or ``symlink``), model folder."""
    rows = [
        [
            item["path"],
            "symlink" if item.get("symlink") else format_size(item["size"]),
            f"model {item['model']}/" if item["model"] else "",
        ]
        for item in artifacts
    ]
    return render_table(None, rows, align="lr", indent=2)


def _pairs(pairs: Sequence[tuple[str, str]]) -> str:
    """Render ``key  value`` lines, aligned and indented by two spaces."""
    return render_table(None, [[key, value] for key, value in pairs], indent=2)


def _section(title: str, body: str) -> str:
    """Title a block, after a blank line."""
    return f"\n{title}\n{body}"


def _stored_note(details: dict[str, Any]) -> str:
    """Explain a CRASHED status, which run.yaml itself never holds."""
    if details["status"] != details["stored_status"]:
        return f"  (run.yaml says {details['stored_status']}, but its process is gone)"
    return ""


def _utc(text: str) -> str:
    """Append the time zone to a formatted time."""
    return text if text == MISSING else f"{text} UTC"


def _yes_no(flag: bool) -> str:
    """Write a boolean as ``yes``/``no``."""
    return "yes" if flag else "no"


def _optional_number(value: Any) -> str:
    """Show a metric's min or max (None when every value was NaN)."""
    return MISSING if value is None else format_value(value)
