"""The pull-request report as GitHub-flavoured markdown, sized for one PR comment.

Every string from the store is untrusted: it is escaped so that it can neither open
markup (HTML, links, emphasis, tables) nor ping people (``@name``) nor reference
things by accident. A comment on GitHub holds at most 65,536 characters; when the
report would be longer, whole table rows are left off at the end and a note says how
many, so no table is ever cut in half.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from runfolio.console.cells import format_value
from runfolio.query.report import (
    AddedRun,
    ExperimentChanges,
    ParamDifference,
    RegistryChange,
    StoreChanges,
    run_page_url,
)
from runfolio.store.layout import is_run_id
from runfolio.store.records import RunRecord

GITHUB_COMMENT_LIMIT = 65536
"""GitHub refuses issue and pull-request comments longer than this many characters."""

WRAPPER_ROOM = 1000
"""Characters left free for what a workflow adds around the report (a marker line, a
link to the site preview), so the whole comment still fits."""

_NOTE_RESERVE = 400
_NAME_CHARS = 80
_VALUE_CHARS = 40
_PARAMS_SHOWN = 6
# Inside a table cell nothing starts a line, so list and heading markers are inert; these
# are what can still open emphasis, code, links, images, HTML, strike-through or a cell.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~<>&!:])")
# GitHub turns bare addresses into links (www.x, scheme://x, name@host): a zero-width
# space after "www", ":" and "@" keeps the text as it reads while breaking the pattern.
_AUTOLINK_START = re.compile(r"(?i)(\bwww(?=\\?\.)|:(?=//)|@)")
# Bidirectional overrides and isolates reorder how text reads (a "Trojan source" trick).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def render_report_markdown(
    changes: StoreChanges,
    *,
    site_url: str | None = None,
    max_chars: int = GITHUB_COMMENT_LIMIT - WRAPPER_ROOM,
) -> str:
    """Render the report; ``site_url`` (ending in ``/``) links runs to their site pages."""
    links = _Links(site_url)
    heading = "## runfolio report"
    where = f"the store at `{changes.store_path or '.'}/`" if changes.store_path else "the store"
    versus = (
        f"**{escape(changes.head_ref)}** (`{changes.head_commit[:7]}`) against "
        f"**{escape(changes.base_ref)}** (`{changes.base_commit[:7]}`)"
    )
    if changes.empty and not changes.problems:
        return f"{heading}\n\nNo changes to runs or models in {where}: {versus}.\n"
    doc = _Document(max_chars)
    doc.text(heading)
    doc.text(f"Runs in {where}, {versus}: {_summary(changes)}.")
    for experiment in changes.experiments:
        if not experiment.empty or experiment.is_removed:
            _experiment_section(doc, experiment, links)
    if changes.registry:
        doc.text("### Model registry")
        doc.table(
            ["Model", "Change"],
            [[escape(c.model), _registry_text(c)] for c in changes.registry],
        )
    if changes.problems:
        doc.text("### Not read")
        doc.table(["Problem"], [[escape(problem)] for problem in changes.problems])
    return doc.render()


def escape(text: object, limit: int | None = None) -> str:
    """Make untrusted text inert in GitHub markdown, on one line, at most ``limit`` chars.

    Markdown punctuation and HTML characters are backslash-escaped, control and
    bidirectional-override characters are dropped, and a zero-width space after every
    ``@``, ``www`` and ``://``'s colon stops text from a run mentioning a user or team or
    becoming a link.
    """
    value = str(text)
    value = "".join(
        " " if char in "\r\n\t" else char
        for char in value
        if char in "\r\n\t" or unicodedata.category(char) != "Cc"
    )
    value = _BIDI_CONTROLS.sub("", value)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    return _AUTOLINK_START.sub("\\1\u200b", value)


@dataclass
class _Links:
    """Run page addresses on the published site, when its address is known."""

    site_url: str | None

    def run(self, run: RunRecord) -> str:
        """The run's name, linked to its page when the site's address is known."""
        name = escape(run.name or run.run_id, _NAME_CHARS)
        label = f"{name} {run_id_text(run.run_id)}"
        url = run_page_url(self.site_url, run)
        return f"[{name}]({url}) {run_id_text(run.run_id)}" if url else label


def run_id_text(run_id: str) -> str:
    """A run id in a code span; anything not shaped like one is escaped text instead.

    Readers never return a run whose folder name is not an id, but ids also come from
    tags typed by hand (the registry's): a backtick in one would end the code span.
    """
    return f"`{run_id}`" if is_run_id(run_id) else escape(run_id, _NAME_CHARS)


@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class _Document:
    """Blocks of markdown, laid out within a character budget by whole rows."""

    max_chars: int
    blocks: list[str | _Table] = field(default_factory=list)

    def text(self, paragraph: str) -> None:
        self.blocks.append(paragraph)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        if rows:
            self.blocks.append(_Table(header, rows))

    def render(self) -> str:
        budget = self.max_chars - _NOTE_RESERVE
        out: list[str] = []
        used = 0
        left_off = 0
        truncated = False
        for block in self.blocks:
            if isinstance(block, str):
                piece = block + "\n\n"
                truncated = truncated or used + len(piece) > budget
                if not truncated:
                    out.append(piece)
                    used += len(piece)
                continue
            head = _row(block.header) + _row([":--"] * len(block.header))
            rows = [_row(cells) for cells in block.rows]
            truncated = truncated or used + len(head) + len(rows[0]) + 1 > budget
            if truncated:
                left_off += len(rows)
                continue
            out.append(head)
            used += len(head)
            for position, row in enumerate(rows):
                if used + len(row) + 1 > budget:
                    left_off += len(rows) - position
                    truncated = True
                    break
                out.append(row)
                used += len(row)
            out.append("\n")
            used += 1
        if truncated:
            out.append(
                f"_Cut short: {left_off:,} more table rows and what follows them are not "
                f"shown, as a GitHub comment holds at most {GITHUB_COMMENT_LIMIT:,} "
                "characters. Run `runfolio report` locally for the whole report._\n"
            )
        return "".join(out).rstrip("\n") + "\n"


def _row(cells: Sequence[str]) -> str:
    """One table row; cells are escaped already, so their pipes are too."""
    return "| " + " | ".join(cells) + " |\n"


def _summary(changes: StoreChanges) -> str:
    """``2 runs added, 1 changed, 0 removed; 1 registry change``."""
    counts = changes.counts()
    runs = "run" if counts["added"] == 1 else "runs"
    text = (
        f"{counts['added']} {runs} added, {counts['changed']} changed, {counts['removed']} removed"
    )
    if changes.registry:
        plural = "change" if len(changes.registry) == 1 else "changes"
        text += f"; {len(changes.registry)} registry {plural}"
    return text


def _experiment_section(doc: _Document, changes: ExperimentChanges, links: _Links) -> None:
    """The heading, base-best line and tables of one experiment."""
    name = escape(changes.experiment.name, _NAME_CHARS)
    label = " (new experiment)" if changes.is_new else " (removed)" if changes.is_removed else ""
    doc.text(f"### {name}{label}")
    primary = changes.primary
    if primary is not None:
        direction = "lower" if primary.direction == "minimize" else "higher"
        line = f"Ranked by **{escape(primary.name)}** ({direction} is better)."
        best = changes.base_best
        if best is not None and best.value is not None:
            line += (
                f" Best on the base: {links.run(best.run)} at **{_number(best.value)}**, "
                f"out of {changes.base_runs:,} runs."
            )
        elif not changes.is_new:
            line += " No run on the base has a value for it."
        doc.text(line)
    if changes.added:
        doc.text(f"**Added ({len(changes.added)})**")
        if primary is not None:
            header = ["Run", escape(primary.name), "Against the base's best", "Rank", "Params"]
            rows = [
                _added_row(added, links, changes.base_best is not None) for added in changes.added
            ]
            doc.table(header, rows)
        else:
            doc.table(
                ["Run", "Status"],
                [[links.run(a.run), a.run.status] for a in changes.added],
            )
    if changes.changed:
        doc.text(f"**Changed ({len(changes.changed)})**")
        doc.table(
            ["Run", "What changed"],
            [[links.run(c.run), escape("; ".join(c.changes))] for c in changes.changed],
        )
    if changes.removed:
        doc.text(f"**Removed ({len(changes.removed)})**")
        doc.table(["Run", "Status"], [[links.run(run), run.status] for run in changes.removed])


def _added_row(added: AddedRun, links: _Links, has_base: bool) -> list[str]:
    """Run, value, delta with verdict, rank and differing params of a new run.

    Without a ranked run on the base there is nothing to rank or compare against.
    """
    value = "—" if added.value is None else _number(added.value)
    if added.delta is None or added.verdict is None:
        delta = "—"
    else:
        mark = {"better": "✅ better", "worse": "❌ worse", "equal": "= equal"}[added.verdict]
        delta = f"{_signed(added.delta)} {mark}"
    if not has_base:
        return [links.run(added.run), value, "—", "—", "—"]
    if added.rank is None:
        rank = "not ranked"
    else:
        rank = f"{added.rank} of {added.ranked_of}"
        if added.rank == 1 and added.verdict == "better":
            rank = f"**{rank}** (new best)"
    return [links.run(added.run), value, delta, rank, _params_text(added.params)]


def _params_text(params: Sequence[ParamDifference]) -> str:
    """``lr 0.1 → 0.01, depth 3 → 5`` (base → new), a few at most."""
    if not params:
        return "same as the base's best"
    shown = [
        f"{escape(p.key, _VALUE_CHARS)}: {_param_value(p.base, p.in_base)} → "
        f"{_param_value(p.head, p.in_head)}"
        for p in params[:_PARAMS_SHOWN]
    ]
    more = f", +{len(params) - _PARAMS_SHOWN} more" if len(params) > _PARAMS_SHOWN else ""
    return ", ".join(shown) + more


def _param_value(value: object, present: bool) -> str:
    """A param value for a table cell; ``unset`` when the run has no such param."""
    return escape(format_value(value), _VALUE_CHARS) if present else "_unset_"


def _registry_text(change: RegistryChange) -> str:
    """A registry change with aliases in code spans (an ``@alias`` must not ping anyone)."""
    alias = ""
    if change.alias:
        # Aliases the registry writes are plain; one typed into run.yaml by hand may not be.
        plain = re.fullmatch(r"[A-Za-z0-9_-]+", change.alias)
        alias = f"`@{change.alias}`" if plain else escape(f"@{change.alias}", _NAME_CHARS)
    return change.describe(alias=alias, run=f"run {run_id_text(change.run_id)}")


def _number(value: float) -> str:
    """A metric value with six significant digits (numbers need no escaping)."""
    return format_value(float(value), 6)


def _signed(value: float) -> str:
    """A difference with its sign and four significant digits."""
    return f"{value:+.4g}"
