"""How each file of a run is shown on its page: inline image, rendered text, table, or a listing.

Artifact files are untrusted and so is their placement: a run folder may hold symlinks or
hardlinks that point outside the store, files too large to publish, or binary content
behind a text extension. :func:`build_preview` decides, reading without ever following a
link, and returns plain data for a template; it never writes anything.

HTML artifacts are shown as their source text (not in a frame), SVG only through ``<img>``
(where a browser runs no script in it). Only files whose suffix is on an allow-list of
inert ones (:data:`INERT_SUFFIXES`) are published under their own name; every other file
is flagged ``active_content``, because opening a copy under its own name could run
script on the site's origin.
"""

from __future__ import annotations

import codecs
import csv
import enum
import errno
import io
import json
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from runfolio.config_values import DEFAULT_ARTIFACT_SIZE_LIMIT, DEFAULT_LIMITS, SiteLimits
from runfolio.site.sanitize import render_markdown
from runfolio.store import layout
from runfolio.store.secrets import credential_reason

# The default budgets of one preview; runfolio.yaml's ``limits`` may change them.
MAX_TEXT_BYTES = DEFAULT_LIMITS.preview_size
MAX_TEXT_LINES = DEFAULT_LIMITS.preview_lines


class PreviewKind(enum.Enum):
    """How a template shows one file."""

    IMAGE = "image"  # inline <img>
    SVG = "svg"  # inline, but only ever through <img>, never as markup in the page
    MARKDOWN = "markdown"  # Preview.sanitized_html
    TABLE = "table"  # Preview.table (CSV/TSV), first row the header
    JSON = "json"  # Preview.text, pretty-printed when it parses
    YAML = "yaml"  # Preview.text as written
    HTML = "html"  # Preview.text: the source, shown as text
    TEXT = "text"  # Preview.text
    FILE = "file"  # listed with its size and a download link
    WITHHELD = "withheld"  # listed with Preview.note; not copied into the site


_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
_TEXT_KINDS = {
    ".md": PreviewKind.MARKDOWN,
    ".markdown": PreviewKind.MARKDOWN,
    ".csv": PreviewKind.TABLE,
    ".tsv": PreviewKind.TABLE,
    ".json": PreviewKind.JSON,
    ".yaml": PreviewKind.YAML,
    ".yml": PreviewKind.YAML,
    ".html": PreviewKind.HTML,
    ".htm": PreviewKind.HTML,
    **{
        suffix: PreviewKind.TEXT
        for suffix in (".txt", ".log", ".py", ".patch", ".diff", ".toml", ".ini", ".cfg")
    },
}
# The only suffixes a file is published under as it is. Web servers (GitHub Pages,
# ``runfolio serve``) pick the Content-Type from the suffix, and a browser runs script
# in many more types than anyone lists (.shtml, .xsl, .rdf, .wsdl, .xsd ... are served
# as HTML or XML), so the list names what is known to be inert: images, plain text and
# data formats, and binary formats a browser can only download. Any other file,
# whatever its letter case, is published under its name plus ``.txt`` (served as plain
# text; the page's download link restores its name).
INERT_SUFFIXES = frozenset(
    _IMAGE_SUFFIXES
    | {".bmp", ".ico", ".avif", ".tif", ".tiff"}
    | {".md", ".markdown", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".yaml", ".yml"}
    | {".txt", ".log", ".py", ".patch", ".diff", ".toml", ".ini", ".cfg", ".ipynb"}
    | {".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".safetensors", ".onnx"}
    | {".pb", ".tflite", ".h5", ".hdf5", ".keras", ".npy", ".npz", ".parquet", ".feather"}
    | {".arrow", ".bin", ".msgpack", ".gz", ".zip", ".tar", ".tgz", ".bz2", ".xz", ".zst"}
    | {".wav", ".mp3", ".flac", ".mp4", ".webm"}
)


def is_inert_name(path: str | PurePosixPath) -> bool:
    """Tell whether a file may be published under its own name (see ``INERT_SUFFIXES``)."""
    return PurePosixPath(path).suffix.lower() in INERT_SUFFIXES


@dataclass(frozen=True)
class Preview:
    """What a run page shows for one file; plain data for a template.

    Attributes:
        relative_path: the file's path inside the run folder, with ``/`` separators.
        size: its size in bytes, or None when it could not be looked at.
        kind: how to show it.
        published: whether the builder may copy the file into the site (False for
            ``WITHHELD``).
        active_content: the file's suffix is not on the allow-list of inert ones
            (``INERT_SUFFIXES``: SVG, HTML, XML and anything unknown), so a copy under its
            own name could run script when opened: it is published as text instead.
        text: raw (unescaped) text for TEXT, JSON, YAML and HTML kinds; templates escape it.
        sanitized_html: for MARKDOWN, HTML already cleaned by ``sanitize.render_markdown``,
            the only field a template may insert without escaping.
        table: for TABLE, rows of raw cell text (first row the header), cut to the limits.
        truncated: the text or table shows only the start of the file.
        note: why a file is withheld or not previewed, or what was cut; None otherwise.
    """

    relative_path: str
    size: int | None
    kind: PreviewKind
    published: bool = True
    active_content: bool = False
    text: str | None = None
    sanitized_html: str | None = None
    table: tuple[tuple[str, ...], ...] | None = None
    truncated: bool = False
    note: str | None = None

    @property
    def name(self) -> str:
        """The file's name, without its folders."""
        return PurePosixPath(self.relative_path).name


class _Withheld(Exception):
    """A file that must not be read or published, with the reason to show."""


def classify_artifact(
    path: str | PurePosixPath, size: int, size_limit: int = DEFAULT_ARTIFACT_SIZE_LIMIT
) -> PreviewKind:
    """Choose how to show a file from its name and size alone (its content is not read).

    The suffix decides, ignoring letter case: png/jpg/jpeg/gif/webp are IMAGE; svg is SVG;
    md, csv/tsv, json, yaml, html and plain-text suffixes (txt, log, py, ...) get their
    text kinds; anything else is FILE. A file larger than ``size_limit`` is WITHHELD.
    """
    if size > size_limit:
        return PreviewKind.WITHHELD
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _IMAGE_SUFFIXES:
        return PreviewKind.IMAGE
    if suffix == ".svg":
        return PreviewKind.SVG
    return _TEXT_KINDS.get(suffix, PreviewKind.FILE)


def build_preview(
    run_dir: Path,
    relative_path: str,
    size_limit: int = DEFAULT_ARTIFACT_SIZE_LIMIT,
    *,
    limits: SiteLimits = DEFAULT_LIMITS,
) -> Preview:
    """Look at ``run_dir/relative_path`` and decide how its page shows it.

    Args:
        run_dir: the run folder.
        relative_path: the file inside it, ``/``-separated (e.g. ``artifacts/plots/a.png``).
        size_limit: larger files are listed, neither previewed nor published.
        limits: the preview's budgets: bytes and lines of text read, table rows
            (besides the header) and columns for CSV/TSV.

    Returns:
        A Preview. Nothing raises for a bad file: a path that leaves the run folder, a
        symlink anywhere below ``run_dir`` (or ``run_dir`` itself), a hardlinked file, a
        non-regular file (fifo, device), one above the size limit or one whose name
        :func:`withheld_reason` refuses (a credential, git's own files) is WITHHELD with
        a note; a text-kind file with binary content becomes FILE with a note.
    """
    rel = relative_path.replace(os.sep, "/") if os.sep != "/" else relative_path
    active = not is_inert_name(rel)
    try:
        parts = _checked_parts(rel)
        fd = _open_no_follow(run_dir, parts)
    except _Withheld as why:
        return Preview(rel, None, PreviewKind.WITHHELD, published=False, note=str(why))
    info = os.fstat(fd)
    try:
        _check_file(info, size_limit)
        _check_name(rel)
    except _Withheld as why:
        os.close(fd)
        return Preview(rel, info.st_size, PreviewKind.WITHHELD, published=False, note=str(why))
    with os.fdopen(fd, "rb") as handle:
        kind = classify_artifact(rel, info.st_size, size_limit)
        base = Preview(rel, info.st_size, kind, active_content=active)
        if kind not in _TEXT_KINDS.values():
            return base
        data = handle.read(limits.preview_size + 1)
    return _text_preview(base, data, limits)


def build_detached_preview(
    source: Path,
    relative_path: str,
    size_limit: int = DEFAULT_ARTIFACT_SIZE_LIMIT,
    *,
    limits: SiteLimits = DEFAULT_LIMITS,
) -> Preview:
    """Decide how a page shows a run's file whose bytes are kept outside the run folder.

    For an artifact kept in object storage: ``source`` is its copy in runfolio's object
    cache (checked against its sha256 when it was fetched, so it is the file the run's
    manifest names), ``relative_path`` where it belongs in the run folder (it names the
    file on the page and its suffix picks the kind, as in :func:`build_preview`).

    Raises:
        OSError: ``source`` cannot be read.
    """
    rel = relative_path
    with open(source, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        kind = classify_artifact(rel, size, size_limit)
        active = not is_inert_name(rel)
        base = Preview(rel, size, kind, active_content=active)
        reason = withheld_reason(rel)
        if reason is not None:
            return replace(base, kind=PreviewKind.WITHHELD, published=False, note=reason)
        if kind is PreviewKind.WITHHELD:
            note = f"{format_bytes(size)}, larger than the {format_bytes(size_limit)} limit"
            return replace(base, published=False, note=f"{note}, not published")
        if kind not in _TEXT_KINDS.values():
            return base
        data = handle.read(limits.preview_size + 1)
    return _text_preview(base, data, limits)


def read_file_bytes(run_dir: Path, relative_path: str, size_limit: int) -> bytes | None:
    """Read a file of the run folder under the same rules as :func:`build_preview`.

    Returns None for anything :func:`build_preview` would withhold (a path leaving the
    folder, a symlink on the way, a hardlink, a non-regular or oversized file).
    """
    try:
        fd = _open_no_follow(run_dir, _checked_parts(relative_path))
    except _Withheld:
        return None
    with os.fdopen(fd, "rb") as handle:
        try:
            _check_file(os.fstat(handle.fileno()), size_limit)
            _check_name(relative_path)
        except _Withheld:
            return None
        return handle.read(size_limit + 1)[:size_limit]


def withheld_reason(relative_path: str) -> str | None:
    """Why a run's file is never published because of its name alone, or None.

    A file inside a ``.git`` folder (a repository's config can hold tokens), a path the
    tracking API would refuse (a newline or other control character, a bidirectional
    control, an over-long name: :func:`runfolio.store.layout.artifact_path_problem`),
    web server configuration (``.htaccess``, which could make a server run the site's
    text copies as pages) and a file whose name looks like a credential (the rule of
    :func:`runfolio.store.secrets.credential_reason`: ``.env``, ``id_rsa``, ``*.pem``,
    anything under ``.ssh/`` ...) are listed with this note, never copied or previewed.
    Rename a file to publish it.
    """
    parts = relative_path.split("/")
    if any(layout.is_git_folder_name(part) for part in parts[:-1]):
        return "inside a .git folder, not published"
    problem = layout.artifact_path_problem(relative_path)
    if problem is not None:
        return f"a name the tracking API refuses ({problem}), not published"
    if parts[-1].casefold() == ".htaccess":
        return "web server configuration, not published"
    reason = credential_reason(relative_path)
    return None if reason is None else f"looks like {reason}, not published"


def _check_name(rel: str) -> None:
    """Refuse a file whose name says it must not be published."""
    reason = withheld_reason(rel)
    if reason is not None:
        raise _Withheld(reason)


def _checked_parts(rel: str) -> list[str]:
    """Split a relative path, refusing anything that could leave the run folder."""
    # Split by hand: PurePosixPath would quietly drop "." and empty parts.
    parts = rel.split("/")
    if "\x00" in rel or "\\" in rel or any(part in ("", ".", "..") for part in parts):
        raise _Withheld("path outside the run folder, not published")
    return parts


def _open_no_follow(run_dir: Path, parts: list[str]) -> int:
    """Open the file at ``parts`` under ``run_dir``, one folder at a time, never via a link.

    Opening each folder relative to the previous one with O_NOFOLLOW leaves no window in
    which a folder checked to be real could be swapped for a symlink before the next step.
    """
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        if stat.S_ISLNK(os.lstat(run_dir).st_mode):
            raise _Withheld("the run folder is a symlink, not published")
        fd = os.open(run_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | nofollow)
    except OSError as exc:
        raise _Withheld(f"cannot open the run folder ({exc.strerror}), not published") from exc
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            try:
                mode = os.lstat(part, dir_fd=fd).st_mode
            except OSError as exc:
                raise _Withheld(f"cannot read ({exc.strerror}), not published") from exc
            if stat.S_ISLNK(mode):
                raise _Withheld("symlink, not published")
            if not last and not stat.S_ISDIR(mode):
                raise _Withheld("not found, not published")
            flags = os.O_RDONLY | nofollow
            # O_NONBLOCK keeps a fifo swapped in after the lstat from blocking the build.
            flags |= os.O_NONBLOCK if last else getattr(os, "O_DIRECTORY", 0)
            try:
                next_fd = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _Withheld("symlink, not published") from exc
                raise _Withheld(f"cannot read ({exc.strerror}), not published") from exc
            os.close(fd)
            fd = next_fd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _check_file(info: os.stat_result, size_limit: int) -> None:
    """Refuse a non-regular, hardlinked or oversized file."""
    if not stat.S_ISREG(info.st_mode):
        raise _Withheld("not a regular file, not published")
    if info.st_nlink > 1:
        # A hardlink is the same file as another name, possibly outside the store (a
        # hardlink to ~/.ssh/id_rsa looks like an ordinary file here). Files a run writes
        # or a git checkout makes have one link, so more means someone planted an alias.
        raise _Withheld("hardlinked, not published")
    if info.st_size > size_limit:
        raise _Withheld(
            f"{format_bytes(info.st_size)}, larger than the {format_bytes(size_limit)} "
            "limit, not published"
        )


def _text_preview(base: Preview, data: bytes, limits: SiteLimits) -> Preview:
    """Decode a text-kind file and fill in what its kind shows."""
    truncated = len(data) > limits.preview_size
    data = data[: limits.preview_size]
    text = _decode(data, final=not truncated)
    if text is None:
        return replace(base, kind=PreviewKind.FILE, note="binary content, not shown")
    lines = text.splitlines(keepends=True)
    if truncated and lines:
        lines.pop()  # the last line was cut mid-way
    if len(lines) > limits.preview_lines:
        lines, truncated = lines[: limits.preview_lines], True
    if truncated:
        text = "".join(lines)
    note = f"showing the first {len(lines):,} lines" if truncated else None

    if base.kind is PreviewKind.MARKDOWN:
        html = render_markdown(text)
        return replace(base, sanitized_html=html, truncated=truncated, note=note)
    if base.kind is PreviewKind.TABLE:
        delimiter = "\t" if base.relative_path.lower().endswith(".tsv") else ","
        table, cut = _read_table(text, delimiter, limits.preview_rows, limits.preview_columns)
        if table is None:
            return replace(base, kind=PreviewKind.TEXT, text=text, truncated=truncated, note=cut)
        if cut:
            note = cut if note is None else f"{note}; {cut}"
        return replace(base, table=table, truncated=truncated or bool(cut), note=note)
    if base.kind is PreviewKind.JSON and not truncated:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            note = "not valid JSON, shown as written"
        else:
            # Indenting costs twice the depth per value: deep nesting would grow a file
            # hundreds of times over (and json.dumps takes time in proportion).
            allowed = max(limits.preview_size, 2 * len(text)) - len(text)
            if _indent_cost(parsed, allowed) <= allowed:
                text = json.dumps(parsed, indent=2, ensure_ascii=False)
            else:
                note = "shown as written: indented, it would be many times longer"
    # YAML is shown as written: parsing untrusted YAML to re-print it would expand alias
    # bombs and drop the author's comments and order, for no gain in readability.
    return replace(base, text=text, truncated=truncated, note=note)


def _indent_cost(value: object, stop_above: int) -> int:
    """Characters that ``json.dumps(value, indent=2)`` adds, counted until past ``stop_above``.

    Each value inside a list or object goes on its own line, indented by two spaces per
    level, and each closing bracket on its own line; one linear walk, no encoding.
    """
    cost = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack and cost <= stop_above:
        item, depth = stack.pop()
        if not isinstance(item, dict | list) or not item:
            continue
        children = list(item.values()) if isinstance(item, dict) else item
        cost += len(children) * (2 * depth + 1) + 2 * (depth - 1) + 1
        stack.extend((child, depth + 1) for child in children)
    return cost


def _decode(data: bytes, *, final: bool) -> str | None:
    """Decode UTF-8 text (a BOM dropped), or None when the bytes are not text."""
    if b"\x00" in data:
        return None
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        # Not final when the read was cut: a character split at the cut is not an error.
        return decoder.decode(data, final=final)
    except UnicodeDecodeError:
        return None


def _read_table(
    text: str, delimiter: str, max_rows: int, max_columns: int
) -> tuple[tuple[tuple[str, ...], ...] | None, str | None]:
    """Return the first rows and columns of CSV text and a note on what was cut."""
    rows: list[tuple[str, ...]] = []
    more_rows = more_columns = False
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(rows) > max_rows:
                more_rows = True
                break
            more_columns = more_columns or len(row) > max_columns
            rows.append(tuple(row[:max_columns]))
    except csv.Error as exc:
        return None, f"not a readable table ({exc}), shown as text"
    cut = []
    if more_rows:
        cut.append(f"first {max_rows:,} rows")
    if more_columns:
        cut.append(f"first {max_columns:,} columns")
    return tuple(rows), ("showing the " + " and ".join(cut)) if cut else None


def format_bytes(size: int) -> str:
    """Spell a byte count the way the size limit is written (decimal units: ``5 MB``)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}".replace(".0 ", " ")
    return f"{size} bytes"
