"""What a run page shows beyond its record: charts, artifact previews, captured files.

This is the part of a build that reads a run's folder (its metric history, artifacts and
captured files). Everything it returns is plain data for the run template, plus the
files to copy into the site and the run's compare data, so a page whose inputs did not
change need not be gathered again (see :mod:`runfolio.site.build`).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from runfolio.config_values import DEFAULT_LIMITS, SiteLimits
from runfolio.objectstore.bucket import Bucket
from runfolio.objectstore.cache import cached_object, fetch_cached
from runfolio.objectstore.errors import ManifestError, ObjectStoreError
from runfolio.objectstore.manifest import read_manifest
from runfolio.query.leaderboard import PrimaryMetric
from runfolio.site.charts import metric_history_json
from runfolio.site.downsample import Downsampled, downsample
from runfolio.site.previews import (
    Preview,
    PreviewKind,
    build_detached_preview,
    build_preview,
    format_bytes,
    read_file_bytes,
    withheld_reason,
)
from runfolio.site.sanitize import json_for_script
from runfolio.store import layout
from runfolio.store.artifact_listing import LoggedModel, list_artifacts
from runfolio.store.metrics import missing_rows, problems_of_run, read_metrics
from runfolio.store.records import RunRecord
from runfolio.store.run_document import MAX_FAILURE_MESSAGE, MAX_TRACEBACK_LINE, MAX_TRACEBACK_LINES

if TYPE_CHECKING:
    from runfolio.config_values import RemoteSettings
    from runfolio.objectstore.bucket import Bucket
    from runfolio.objectstore.manifest import RemoteArtifact

COMPARE_POINTS = 1000
"""Points per metric kept in a run's compare data (the overlaid curves)."""

MAX_PATCH_CHARS = 200_000
"""A longer captured diff is cut on the page; the whole file stays downloadable."""

_MINIMIZE_WORDS = re.compile(
    r"(loss|err|error|rmse|mse|mae|mape|perplexity|latency|time|seconds|duration|cost|regret)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MetricChart:
    """One metric's line chart over steps on a run page."""

    key: str
    anchor: str
    spec_json: str
    total: int
    drawn: int
    nonfinite: int


MAX_INLINE_SVG_BYTES = 1_000_000
"""An SVG up to this size is shown inline (as a ``data:`` image); larger ones are listed."""

ACTIVE_COPY_SUFFIX = ".txt"
"""Appended to the published copy of a file whose suffix is not known to be inert (SVG,
HTML, XML and anything unlisted), so a web server sends it as plain text."""


@dataclass(frozen=True)
class RemoteLink:
    """Where an artifact kept in object storage is.

    Attributes:
        uri: its object, ``s3://bucket/key``.
        sha256: the hash of its bytes.
        href: its public web address (``public_url`` plus the key, percent-encoded), None
            when the bucket has no configured public address.
    """

    uri: str
    sha256: str
    href: str | None = None


@dataclass(frozen=True)
class ArtifactView:
    """An artifact (or captured file) with where its copy lives in the site, if published.

    Attributes:
        preview: how the page shows the file.
        site_path: the copy in the site, None when the file is not published. A file
            whose suffix is not on the allow-list of inert ones (``preview.active_content``:
            SVG, HTML, XML, anything unknown) is published as text under its name plus
            ``.txt``: opened directly, a copy under its own suffix could run script on the
            site's origin. The page's download link restores the name.
        model: the logged model folder the file belongs to.
        inline_src: for an SVG image, a ``data:`` URL the page shows it from through
            ``<img>`` (where a browser runs no script in it).
        remote: for an artifact kept in object storage, where it is.
    """

    preview: Preview
    site_path: str | None
    model: str | None = None
    inline_src: str | None = None
    remote: RemoteLink | None = None


@dataclass(frozen=True)
class FailureView:
    """Why a FAILED run failed, as its page shows it (from run.yaml's ``failure``).

    Each part is bounded as the tracking API bounds it, since a store written by hand can
    hold anything; ``truncated`` says a part was cut here.
    """

    type: str
    message: str
    traceback: str
    truncated: bool


@dataclass
class RunContent:
    """Everything a run page shows that is read from the run folder itself."""

    charts: list[MetricChart] = field(default_factory=list)
    artifacts: list[ArtifactView] = field(default_factory=list)
    models: list[LoggedModel] = field(default_factory=list)
    patch: ArtifactView | None = None
    packages: ArtifactView | None = None
    copies: dict[str, Path] = field(default_factory=dict)
    compare_js: bytes = b""
    problems: list[str] = field(default_factory=list)
    failure: FailureView | None = None
    charts_left_out: int = 0
    """Drawable metrics past the page's chart budget (listed in the metrics table only)."""
    previews_left_out: int = 0
    """Files listed without their preview because the page's preview budget was spent."""
    preview_budget: int = DEFAULT_LIMITS.page_preview_size
    """Bytes of previews the page may still show."""


def metric_direction(key: str, primary: PrimaryMetric | None) -> str | None:
    """Which way a metric is better: the primary metric's configured direction, else a guess.

    Names that read like a cost (loss, error, rmse, mae, time ...) are minimised; names
    that read like a score (acc, f1, auc, r2, precision, recall ...) maximised; others
    have no known direction and no "best".
    """
    if primary is not None and key == primary.name:
        return primary.direction
    if _MINIMIZE_WORDS.search(key):
        return "minimize"
    if re.search(r"(acc|accuracy|f1|auc|r2|precision|recall|score|iou|map|bleu)", key, re.I):
        return "maximize"
    return None


def gather_run_content(
    run: RunRecord,
    run_site_dir: str,
    primary: PrimaryMetric | None,
    size_limit: int,
    *,
    max_points: int = 2000,
    remote: RemoteSettings | None = None,
    limits: SiteLimits = DEFAULT_LIMITS,
) -> RunContent:
    """Read what a run page needs from the run folder.

    Artifacts the run keeps in object storage (named in its ``artifacts.remote.yaml``)
    are listed with the others; those within ``size_limit`` are fetched into the local
    object cache (once: the cache is keyed by their sha256) to be previewed and copied.
    Only objects at the configured location under their own hash are fetched, and a
    fetch that fails is a problem of the page, never an exception.

    Args:
        run: the run.
        run_site_dir: the site folder that receives the run's published files
            (``experiments/<slug>/runs/<id>``).
        primary: the experiment's primary metric (for the compare data's directions).
        size_limit: artifacts larger than this are listed, not copied.
        max_points: chart budget per metric series.
        remote: the ``artifacts`` settings of ``runfolio.yaml``; without them remote
            artifacts are listed but neither fetched nor linked.
        limits: the page's budgets: charts drawn, and bytes of previews shown
            (files past it are listed and published, not previewed); those of each
            preview are passed on to :func:`~runfolio.site.previews.build_preview`.
    """
    content = RunContent(failure=failure_view(run), preview_budget=limits.page_preview_size)
    history = _read_history(run, content.problems)
    reduced = {key: downsample(points, max_points) for key, points in history.items()}
    label = run.name or run.run_id
    # One value makes no line: the metrics table shows it.
    drawable = sorted(key for key, points in history.items() if len(points) >= 2)
    content.charts_left_out = max(len(drawable) - limits.charts, 0)
    for index, key in enumerate(drawable[: limits.charts]):
        spec_json, meta = metric_history_json({label: reduced[key]}, key, max_points=max_points)
        series = meta.get(label, {})
        content.charts.append(
            MetricChart(
                key=key,
                anchor=f"metric-{index}",
                spec_json=spec_json,
                total=series.get("total", 0),
                drawn=series.get("drawn", 0),
                nonfinite=series.get("nonfinite", 0),
            )
        )
    listing = list_artifacts(run.path)
    content.models = listing.models
    content.problems.extend(listing.problems)
    manifest = _read_manifest(run, content.problems)
    for entry in listing.files:
        if entry.path in manifest:
            continue  # a pulled copy: the manifest's entry stands for it
        relative = f"{layout.ARTIFACTS_DIR}/{entry.path}"
        view = _view(run, relative, run_site_dir, size_limit, content, limits)
        content.artifacts.append(replace(view, model=entry.model))
    if manifest:
        fetcher = _Fetcher(remote) if remote is not None else None
        for artifact in manifest.values():
            view = _remote_view(
                artifact, run_site_dir, size_limit, remote, fetcher, content, limits
            )
            content.artifacts.append(replace(view, model=_model_of(artifact.path, listing.models)))
        content.artifacts.sort(key=lambda view: _listing_order(view.preview.relative_path))
    patch = run.git.get("patch")
    if isinstance(patch, str) and patch:
        content.patch = _view(
            run, patch, run_site_dir, size_limit, content, limits, MAX_PATCH_CHARS
        )
    packages = run.environment.get("packages")
    if isinstance(packages, str) and packages:
        content.packages = _view(run, packages, run_site_dir, size_limit, content, limits)
    content.compare_js = compare_data_js(run, reduced, primary)
    return content


def failure_view(run: RunRecord) -> FailureView | None:
    """The failure a FAILED run recorded, bounded for its page; None for any other run.

    A resumed run that then ended otherwise may still hold an old failure: not shown.
    """
    failure = run.failure
    if run.stored_status != "FAILED" or not failure:
        return None
    kind = str(failure.get("type") or "")[:MAX_TRACEBACK_LINE]
    message = str(failure.get("message") or "")
    lines = str(failure.get("traceback") or "").splitlines()
    truncated = len(message) > MAX_FAILURE_MESSAGE or len(lines) > MAX_TRACEBACK_LINES
    kept = []
    for line in lines[-MAX_TRACEBACK_LINES:]:
        truncated = truncated or len(line) > MAX_TRACEBACK_LINE
        kept.append(line[:MAX_TRACEBACK_LINE])
    return FailureView(kind, message[:MAX_FAILURE_MESSAGE], "\n".join(kept), truncated)


def compare_data_js(
    run: RunRecord, history: Mapping[str, Downsampled], primary: PrimaryMetric | None
) -> bytes:
    """The run's compare data file: a script that registers the run for ``compare.html``.

    ``history`` holds each metric's finite points, already downsampled for the run's
    own charts; the overlaid curves get at most :data:`COMPARE_POINTS` of them.
    """
    ref = run_ref(run)
    data = {
        "ref": ref,
        "id": run.run_id,
        "name": run.name,
        "experiment": run.experiment,
        "href": f"experiments/{run.experiment_slug}/runs/{run.run_id}.html",
        "status": run.status,
        "start": run.start_time,
        "duration": run.duration_seconds,
        "params": {key: json_value(value) for key, value in sorted(run.flat_params().items())},
        "metrics": {
            key: {name: json_value(summary.get(name)) for name in ("last", "min", "max", "step")}
            for key, summary in sorted(run.metrics.items())
        },
        "directions": {
            key: direction
            for key in sorted(run.metrics)
            if (direction := metric_direction(key, primary)) is not None
        },
        "history": {
            key: _compare_points(reduced.points) for key, reduced in sorted(history.items())
        },
    }
    # Through JSON.parse, not an object literal: a key such as "__proto__" stays a key.
    text = (
        "(window.runfolioRuns = window.runfolioRuns || {})"
        f"[{json_for_script(ref)}] = JSON.parse({json_for_script(json_for_script(data))});\n"
    )
    return text.encode("utf-8")


def run_ref(run: RunRecord) -> str:
    """How the site's scripts name a run: its experiment folder and id, each percent-encoded."""
    return f"{quote(run.experiment_slug, safe='')}/{quote(run.run_id, safe='')}"


def json_value(value: Any) -> Any:
    """A stored value as the site's JSON shows it: NaN and infinities as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def _compare_points(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """A series for the compare page: finite points, at most COMPARE_POINTS of them."""
    if len(points) <= COMPARE_POINTS:
        return points
    return downsample(points, COMPARE_POINTS).points


def _read_history(run: RunRecord, problems: list[str]) -> dict[str, list[tuple[int, float]]]:
    """Every metric's ``(step, value)`` points, in file order, as of the run's summary.

    A run being logged keeps appending while the site is built: the page shows the
    moment its record was read, so each metric keeps only as many rows as its summary
    counted (metrics.csv only ever grows at the end), and a metric that appeared since
    is left out. The chart then ends at the value the metrics table and leaderboard show.
    """
    path = run.path / layout.METRICS_FILE
    metrics = read_metrics(path)
    problems.extend(problems_of_run(metrics.problems, run.status))
    if run.stored_status != "RUNNING":  # an ended run's summary must not outnumber its rows
        problems.extend(missing_rows(metrics, run.metrics, str(path)))
    counts = {key: summary.get("count") for key, summary in run.metrics.items()}
    history: dict[str, list[tuple[int, float]]] = {}
    for row in metrics.rows:
        count = counts.get(row.key)
        points = history.get(row.key)
        if points is None:
            if count is None:
                continue  # first logged after the run was read
            history[row.key] = points = []
        if isinstance(count, int) and len(points) >= count:
            continue
        points.append((row.step, row.value))
    return history


def _view(
    run: RunRecord,
    relative: str,
    run_site_dir: str,
    size_limit: int,
    content: RunContent,
    limits: SiteLimits,
    max_chars: int | None = None,
) -> ArtifactView:
    """Preview one file of the run folder and plan its copy into the site when allowed."""
    preview = build_preview(run.path, relative, size_limit, limits=limits)
    if max_chars is not None and preview.text is not None and len(preview.text) > max_chars:
        preview = replace(preview, text=preview.text[:max_chars], truncated=True)
    preview = _within_budget(preview, content)
    if not preview.published or preview.kind is PreviewKind.WITHHELD:
        return ArtifactView(preview, None)
    source = run.path / preview.relative_path
    site_path = _claim(content, f"{run_site_dir}/{preview.relative_path}", preview, source)
    if site_path is None:
        return ArtifactView(_name_taken(preview), None)
    inline_src = None
    if preview.kind is PreviewKind.SVG:
        data = read_file_bytes(run.path, preview.relative_path, MAX_INLINE_SVG_BYTES)
        if data is not None and preview.size is not None and len(data) == preview.size:
            inline_src = _inline_svg(data, content)
    return ArtifactView(preview, site_path, inline_src=inline_src)


def _read_manifest(run: RunRecord, problems: list[str]) -> dict[str, RemoteArtifact]:
    """The run's remote artifacts by path; none (and a problem) when the manifest is bad."""
    if not (run.path / layout.REMOTE_ARTIFACTS_FILE).exists():
        return {}

    try:
        return read_manifest(run.path)
    except ManifestError as exc:
        problems.append(str(exc))
        return {}


class _Fetcher:
    """Fetches remote artifacts into the object cache, connecting on the first miss only."""

    def __init__(self, settings: RemoteSettings) -> None:
        self.settings = settings
        self._bucket: Bucket | None = None

    def fetch(self, artifact: RemoteArtifact) -> Path:
        """The cached copy of ``artifact``; raises ObjectStoreError when it cannot be had."""
        found = cached_object(artifact)
        if found is not None:
            return found
        self._bucket = self._bucket or Bucket(self.settings)
        return fetch_cached(self._bucket, artifact)


def _remote_view(
    artifact: RemoteArtifact,
    run_site_dir: str,
    size_limit: int,
    remote: RemoteSettings | None,
    fetcher: _Fetcher | None,
    content: RunContent,
    limits: SiteLimits,
) -> ArtifactView:
    """List one artifact kept in object storage; fetch, preview and publish it when allowed."""
    relative = f"{layout.ARTIFACTS_DIR}/{artifact.path}"
    # A name that keeps a file off the site also keeps its object unfetched and unlinked.
    withheld_by_name = withheld_reason(relative)
    href = remote.public_href(artifact.uri) if remote and withheld_by_name is None else None
    link = RemoteLink(artifact.uri, artifact.sha256, href)
    settings = remote if fetcher is not None else None
    reason = withheld_by_name or _not_fetched_reason(artifact, size_limit, settings)
    if reason is None and fetcher is not None:
        try:
            cached = fetcher.fetch(artifact)
            preview = build_detached_preview(cached, relative, size_limit, limits=limits)
            preview = _within_budget(preview, content)
        except (ObjectStoreError, OSError) as exc:
            content.problems.append(f"{relative}: cannot fetch it for its preview: {exc}")
            reason = "not previewed: it could not be fetched (see the build's problems)"
    if reason is not None:
        note = f"{reason[0].upper()}{reason[1:]}."
        withheld = Preview(relative, artifact.size, PreviewKind.WITHHELD, False, note=note)
        return ArtifactView(withheld, None, remote=link)
    if not preview.published or preview.kind is PreviewKind.WITHHELD:
        return ArtifactView(preview, None, remote=link)
    site_path = _claim(content, f"{run_site_dir}/{relative}", preview, cached)
    if site_path is None:
        return ArtifactView(_name_taken(preview), None, remote=link)
    inline_src = None
    if preview.kind is PreviewKind.SVG and artifact.size <= MAX_INLINE_SVG_BYTES:
        inline_src = _inline_svg(cached.read_bytes(), content)
    return ArtifactView(preview, site_path, inline_src=inline_src, remote=link)


def _not_fetched_reason(
    artifact: RemoteArtifact, size_limit: int, remote: RemoteSettings | None
) -> str | None:
    """Why a remote artifact is not fetched for its page, or None when it is."""
    if remote is None:
        return "not previewed: runfolio.yaml has no artifacts settings"
    if artifact.size > size_limit:
        return f"larger than the {format_bytes(size_limit)} limit, not previewed"
    if not remote.previews:
        return "not previewed (artifacts.previews is off)"
    if not remote.holds(artifact.uri, artifact.sha256):
        # What a site publishes is only what the configured location holds under its hash.
        return f"not previewed: it is not stored under {remote.uri}/sha256/"
    return None


def _within_budget(preview: Preview, content: RunContent) -> Preview:
    """Charge a preview to the page's budget; one that does not fit is listed without it.

    The budget counts what the page shows (text, rendered markdown, table cells, inline
    SVG), so many files each within the per-file limit, or a file that renders larger
    than it is, cannot make a page of hundreds of megabytes.
    """
    shown = _shown_size(preview)
    if shown <= content.preview_budget:
        content.preview_budget -= shown
        return preview
    content.previews_left_out += 1
    note = (
        "Not previewed: the previews on this page reached their limit (limits.page_preview_size)."
    )
    kind = PreviewKind.FILE if preview.published else preview.kind
    return replace(
        preview, kind=kind, text=None, sanitized_html=None, table=None, truncated=False, note=note
    )


def _inline_svg(data: bytes, content: RunContent) -> str | None:
    """An SVG as a ``data:`` URL charged to the page's budget; None when it does not fit."""
    inline = "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")
    if len(inline) > content.preview_budget:
        content.previews_left_out += 1
        return None
    content.preview_budget -= len(inline)
    return inline


def _shown_size(preview: Preview) -> int:
    """How many bytes of the file's content its preview puts on the page, once escaped."""
    if preview.sanitized_html is not None:
        return len(preview.sanitized_html.encode("utf-8", "surrogatepass"))
    if preview.table is not None:
        return sum(_escaped_size(cell) + 9 for row in preview.table for cell in row)
    return _escaped_size(preview.text) if preview.text is not None else 0


def _escaped_size(text: str) -> int:
    """The UTF-8 size of ``text`` escaped for HTML (each of ``<>&"'`` becomes 4-5 bytes)."""
    escaped = sum(text.count(char) for char in "<>&\"'")
    return len(text.encode("utf-8", "surrogatepass")) + 4 * escaped


def _claim(content: RunContent, site_path: str, preview: Preview, source: Path) -> str | None:
    """Plan the copy of a published file; None when another file already has its site path.

    A file whose suffix is not inert is published as ``<name>.txt``, which a run may
    also hold: the first one listed keeps the name, so a link never downloads another
    file than its own.
    """
    if preview.active_content:
        site_path += ACTIVE_COPY_SUFFIX
    if content.copies.get(site_path, source) != source:
        return None
    content.copies[site_path] = source
    return site_path


def _name_taken(preview: Preview) -> Preview:
    """The preview of a file left out because its published name is another file's."""
    note = "its published name is taken by another file of the run, not published"
    return replace(preview, kind=PreviewKind.WITHHELD, published=False, note=note)


def _model_of(path: str, models: list[LoggedModel]) -> str | None:
    """The outermost logged model folder holding ``path``, None outside every model."""
    owners = [m.path for m in models if path.startswith(f"{m.path}/")]
    return min(owners, key=len) if owners else None


def _listing_order(relative: str) -> tuple[tuple[int, str], ...]:
    """Sort key of list_artifacts' order: a folder's files by name, then its subfolders."""
    parts = PurePosixPath(relative).parts
    return (*((1, part) for part in parts[:-1]), (0, parts[-1]))
