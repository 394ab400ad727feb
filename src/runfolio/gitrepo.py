"""What runfolio asks of a git working tree: a run's code, a folder's revision, file history.

Every command goes through :func:`runfolio.gitrunner.run_git` (one environment, one
timeout); :mod:`runfolio.gitobjects` reads snapshots of a store from git's objects.
:func:`capture_git` records where a run's code came from: the commit, the branch, the
remote and a patch that recreates the uncommitted working tree on top of the commit.
It never writes to the user's index or object database: the patch is built in a
temporary index whose new blobs go to a temporary object directory.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runfolio.errors import GitError, GitNotFoundError
from runfolio.gitrunner import run_git
from runfolio.store.secrets import credential_reason, holds_secret_shape, strip_credentials

__all__ = ["GitSnapshot", "capture_git", "find_repo_root", "strip_credentials"]

# Each option pins down a setting that user config could change and that would make the patch
# unusable by `git apply`: prefixes (diff.noprefix), external/textconv drivers, submodule log
# format (diff.submodule=log), blank context lines. diff.relative is moot: git runs at the root.
_DIFF_ARGS = [
    "-c",
    "diff.suppressBlankEmpty=false",
    "diff",
    "--cached",
    "--binary",
    "--full-index",
    "--find-renames",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--submodule=short",
    "--src-prefix=a/",
    "--dst-prefix=b/",
]

_STATUS_ARGS = [
    "status",
    "--porcelain=v2",
    "-z",
    "--branch",
    "--untracked-files=all",
    "--no-renames",
]

# update-index, unlike `add`, ignores a listed file that vanished since status ran; --replace
# lets a file take the place of a directory and vice versa. A split index would make git write
# a shared-index file into the user's .git directory.
_UPDATE_INDEX_ARGS = [
    "-c",
    "core.splitIndex=false",
    "update-index",
    "--add",
    "--remove",
    "--replace",
    "-z",
    "--stdin",
]


@dataclass(frozen=True)
class GitSnapshot:
    """Where a run's code came from, as :func:`capture_git` found it.

    Attributes:
        root: Top level of the working tree.
        commit: Full sha of HEAD; None in a repository with no commit yet.
        branch: Current branch name (also for an unborn branch); None when HEAD is detached.
        dirty: True when tracked files differ from HEAD or untracked, non-ignored files exist,
            leaving out the excluded paths. A change git cannot express in a patch (such as
            uncommitted work inside a submodule) makes the tree dirty with an empty patch.
        remote_url: URL of ``origin`` (else of the first remote), credentials stripped.
        patch: ``""`` when nothing is captured; else a ``git diff --binary`` patch from
            ``commit`` (or from nothing, when ``commit`` is None) to the working tree,
            untracked non-ignored files included. ``git apply`` on a clean checkout of
            ``commit`` recreates the working tree byte for byte. Write it with
            ``patch.encode("utf-8", "surrogateescape")``: it is UTF-8 except in the rare case
            of a non-UTF-8 text file that the repository's own attributes force to be
            diffed as text, whose bytes survive only as surrogate escapes.
        skipped_untracked: Repo-relative paths of untracked files left out of the patch,
            because the ``untracked`` mode does not want them, they are larger than
            ``max_untracked_bytes`` or they are nested git repositories (those end in
            ``/``).
        skipped_credentials: Repo-relative paths of changed or untracked files left out
            of the patch, since a patch is published with its run: their names look like
            credentials (``.env``, ``*.pem``, ``kaggle.json``...:
            :func:`runfolio.store.secrets.credential_reason`) or their new lines hold a
            well-known token shape or a private key block. Tracked ones too: ``git
            apply`` then leaves them as committed.
    """

    root: Path
    commit: str | None
    branch: str | None
    dirty: bool
    remote_url: str | None
    patch: str
    skipped_untracked: tuple[str, ...]
    skipped_credentials: tuple[str, ...] = ()


def find_repo_root(start: Path) -> Path | None:
    """Find the top of the git working tree holding ``start`` by looking at the filesystem.

    Walks up from ``start`` (or from its nearest existing ancestor) to the first directory
    holding a ``.git`` directory or a ``.git`` file, as in linked worktrees and submodules.
    No git process runs, so this is cheap enough to call anywhere; it does not honour
    ``GIT_DIR`` or ``GIT_CEILING_DIRECTORIES``, which :func:`capture_git` does through git.

    Args:
        start: A file or directory, which need not exist.

    Returns:
        The working-tree root (symlinks resolved), or None outside any repository.
    """
    current = Path(start).expanduser().resolve()
    for directory in (current, *current.parents):
        if _has_git_marker(directory):
            return directory
    return None


def capture_git(
    path: Path,
    exclude: Sequence[Path] = (),
    max_untracked_bytes: int = 1_000_000,
    exclude_subfolders_of: Sequence[Path] = (),
    untracked: str = "all",
) -> GitSnapshot | None:
    """Snapshot the git state of the working tree holding ``path``, without changing it.

    Runs three git commands on a clean tree (rev-parse, status, config) and two more when it
    is dirty (update-index and diff into a temporary index). The user's index, object
    database and refs are left untouched.

    Args:
        path: Any file or directory inside the working tree; it need not exist yet.
        exclude: Paths to ignore entirely, typically the run store inside the repository,
            which changes while runs train. Paths outside the repository or missing are
            ignored; excluding the repository root itself is ignored too.
        max_untracked_bytes: Untracked files larger than this stay out of the patch and are
            listed in :attr:`GitSnapshot.skipped_untracked`. Tracked files are never skipped.
        exclude_subfolders_of: Folders whose subfolders are ignored entirely while the
            files directly inside them still count: a run store whose experiment folders
            are data but whose root may hold the training script.
        untracked: Which untracked, non-ignored files go into the patch: ``"all"``,
            ``"code"`` (only :data:`CODE_SUFFIXES` and :data:`CODE_NAMES`) or ``"none"``.
            The others are listed in :attr:`GitSnapshot.skipped_untracked`.

    Whatever the arguments, runfolio's own outputs are ignored entirely (a folder holding
    a built site's ``.runfolio-site.json``, any ``mlruns/`` or ``mlartifacts/`` folder),
    files named like credentials (:func:`runfolio.store.secrets.credential_reason`) and
    files whose added lines hold a well-known token shape or a private key block
    (:func:`runfolio.store.secrets.holds_secret_shape`) stay out of the patch and are
    listed in :attr:`GitSnapshot.skipped_credentials`, and ignored files (``.gitignore``,
    ``.git/info/exclude``, ``core.excludesFile``) are never looked at.

    Returns:
        The snapshot, or None when ``path`` is not inside a git working tree (a bare
        repository or the inside of a ``.git`` directory included) or git is not installed.

    Raises:
        GitError: git failed on an existing repository, for instance because it refuses a
            repository owned by another user ("dubious ownership"), the repository is
            corrupt, git is older than 2.18, or a command ran longer than two minutes. The
            message names the repository and carries git's own explanation.
    """
    start = _start_in_repo(Path(path))  # skip git altogether when plainly not in a repository
    if start is None:
        return None
    try:
        return _capture(start, exclude, max_untracked_bytes, exclude_subfolders_of, untracked)
    except GitNotFoundError:
        return None


def _capture(
    start: Path,
    exclude: Sequence[Path],
    max_bytes: int,
    exclude_subfolders_of: Sequence[Path] = (),
    untracked_mode: str = "all",
) -> GitSnapshot | None:
    """Run the git commands of :func:`capture_git` from the existing directory ``start``."""
    if untracked_mode not in UNTRACKED_MODES:
        raise ValueError(f"untracked must be one of {', '.join(UNTRACKED_MODES)}")
    status, out, err = run_git(
        start,
        ["rev-parse", "--show-toplevel", "--git-path", "index", "--git-path", "objects"],
        check=False,
    )
    if status != 0:
        if "not a git repository" in err or "must be run in a work tree" in err:
            return None
        raise GitError(f"git could not read the repository holding {start}: {err.strip()}")
    # --git-path answers relative to the directory git ran in (or absolute).
    root, index_path, objects_dir = (start / os.fsdecode(p) for p in out.splitlines()[:3])
    pathspec = _pathspec(root, exclude, exclude_subfolders_of)

    out = run_git(root, [*_STATUS_ARGS, "--", *pathspec]).stdout
    commit, branch, changed, untracked = _parse_status(out)
    outputs = _output_folders(root, changed + untracked)
    changed = [rel for rel in changed if not _is_output(rel, outputs)]
    untracked = [rel for rel in untracked if not _is_output(rel, outputs)]
    pathspec += [f":(exclude,literal){folder}" for folder in sorted(outputs)]

    patch = ""
    skipped: list[str] = []
    secret = sorted({os.fsdecode(rel) for rel in changed + untracked if _looks_secret(rel)})
    if changed or untracked:
        selected = []
        for rel in untracked:
            if rel.endswith(b"/"):  # a nested repository, which a patch cannot hold
                skipped.append(os.fsdecode(rel))
                continue
            if os.fsdecode(rel) in secret:
                continue
            size = _size(root, rel)
            if size > max_bytes or (size >= 0 and not _wanted(rel, untracked_mode)):
                skipped.append(os.fsdecode(rel))
            elif size >= 0:  # -1: deleted since status ran
                selected.append(rel)
        kept = [rel for rel in changed if os.fsdecode(rel) not in secret]
        if kept or selected:
            # A tracked credential file stays in the temporary index as the user staged
            # it, so only an exclusion keeps its changes out of the diff.
            diff_spec = pathspec + [f":(exclude,literal){path}" for path in secret]
            paths = kept + selected
            patch = _build_patch(root, commit, diff_spec, paths, index_path, objects_dir)
            patch, holding_secrets = _without_secret_sections(patch)
            secret = sorted({*secret, *holding_secrets})

    return GitSnapshot(
        root=root,
        commit=commit,
        branch=branch,
        dirty=bool(changed or untracked),
        remote_url=_remote_url(root),
        patch=patch,
        skipped_untracked=tuple(skipped),
        skipped_credentials=tuple(secret),
    )


UNTRACKED_MODES = ("all", "code", "none")
"""The values of ``capture_git(untracked=...)``: which untracked files a patch holds."""

CODE_SUFFIXES = frozenset(
    {".py", ".pyi", ".pyx", ".pxd", ".ipynb", ".sh", ".bash", ".r", ".jl", ".sql", ".jsonnet"}
    | {".c", ".h", ".cc", ".cpp", ".hpp", ".cu", ".cuh", ".rs", ".go", ".java", ".kt"}
    | {".scala", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".lua", ".rb", ".proto", ".cmake"}
    | {".yaml", ".yml", ".toml", ".cfg", ".ini", ".json", ".md", ".rst"}
)
"""Suffixes (case-insensitive) of untracked files captured with ``untracked="code"``."""

CODE_NAMES = frozenset(
    {"makefile", "dockerfile", "requirements.txt", "environment.yml", "pyproject.toml"}
    | {"setup.cfg", "dvc.yaml", "params.yaml", "mlproject", "procfile", ".gitignore"}
    | {".gitattributes", ".dockerignore"}
)
"""Untracked file names (case-insensitive) also captured with ``untracked="code"``."""

SITE_MANIFEST = ".runfolio-site.json"
"""The file marking a folder as a site runfolio built (``runfolio.site.writer.MANIFEST``)."""

# Folders MLflow writes (`runfolio export mlflow`, `mlflow.start_run()` with no server).
_OUTPUT_FOLDER_NAMES = frozenset({b"mlruns", b"mlartifacts"})


def _wanted(rel: bytes, mode: str) -> bool:
    """Whether an untracked file goes into the patch under the untracked ``mode``."""
    if mode == "all":
        return True
    if mode == "none":
        return False
    name = os.fsdecode(rel).rsplit("/", 1)[-1].casefold()
    return name in CODE_NAMES or os.path.splitext(name)[1] in CODE_SUFFIXES


def _output_folders(root: Path, paths: list[bytes]) -> set[str]:
    """The repo-relative folders among ``paths``' ancestors that hold a built site."""
    folders: set[str] = set()
    seen: set[bytes] = set()
    for rel in paths:
        parts = rel.rstrip(b"/").split(b"/")
        for depth in range(1, len(parts)):
            folder = b"/".join(parts[:depth])
            if folder not in seen:
                seen.add(folder)
                if (root / os.fsdecode(folder) / SITE_MANIFEST).is_file():
                    folders.add(os.fsdecode(folder))
    return folders


def _is_output(rel: bytes, site_folders: set[str]) -> bool:
    """Whether a path is runfolio's own output: inside a built site or an MLflow folder."""
    parts = rel.rstrip(b"/").split(b"/")
    if any(part in _OUTPUT_FOLDER_NAMES for part in parts):
        return True
    text = os.fsdecode(rel)
    return any(text.startswith(f"{folder}/") for folder in site_folders)


_DIFF_HEADER = "diff --git "


def _without_secret_sections(patch: str) -> tuple[str, list[str]]:
    """Drop the files of a patch whose added lines hold a token or private key.

    A patch is a sequence of independent per-file sections, so ``git apply`` takes it
    without them (those files then keep their committed content).

    Returns:
        The patch, and the repo-relative paths of the dropped files.
    """
    # One pass over the whole patch first: nearly every patch holds no secret at all.
    if not patch or not holds_secret_shape(patch.encode("utf-8", "surrogateescape")):
        return patch, []
    sections = re.split(r"(?m)^(?=diff --git )", patch)
    kept, dropped = [], []
    for section in sections:
        added = "\n".join(
            line for line in section.splitlines() if line[:1] == "+" and line[:4] != "+++ "
        )
        if section.startswith(_DIFF_HEADER) and holds_secret_shape(
            added.encode("utf-8", "surrogateescape")
        ):
            dropped.append(_section_path(section))
        else:
            kept.append(section)
    return "".join(kept), dropped


def _section_path(section: str) -> str:
    """The path a patch section adds lines to (its ``+++ b/...`` line), as git spells it."""
    for line in section.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            if name.startswith('"') and name.endswith('"'):  # quoted C-style, octal escapes
                import ast

                with contextlib.suppress(ValueError, SyntaxError):
                    raw = ast.literal_eval(f"b{name}")
                    name = raw.decode("utf-8", "surrogateescape")
            return name.removeprefix("b/")
    return section.partition("\n")[0][len(_DIFF_HEADER) :]


def _looks_secret(rel: bytes) -> bool:
    """Whether a changed or untracked path looks like a credential file (never patched)."""
    return not rel.endswith(b"/") and credential_reason(os.fsdecode(rel)) is not None


def _build_patch(
    root: Path,
    commit: str | None,
    pathspec: list[str],
    paths: list[bytes],
    index_path: Path,
    objects_dir: Path,
) -> str:
    """Diff ``commit`` against the working tree through a throwaway index and object store."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="runfolio-git-") as tmp:
        tmp_dir = Path(tmp)
        tmp_index = tmp_dir / "index"
        # Starting from a copy of the user's index keeps its stat data, so git re-hashes only
        # the listed paths, and keeps staged-only and skip-worktree entries as they are.
        # The copy keeps the index's mtime too: git trusts an entry's stat data only when
        # the file is older than the index (its racy-clean rule), and a copy stamped "now"
        # would let a same-size edit made in the index's last second pass as unchanged.
        if index_path.is_file():
            shutil.copy2(index_path, tmp_index)
        (tmp_dir / "objects").mkdir()
        env = {
            "GIT_INDEX_FILE": str(tmp_index),
            "GIT_OBJECT_DIRECTORY": str(tmp_dir / "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": _alternates(objects_dir.absolute()),
        }
        list_file = tmp_dir / "paths"
        list_file.write_bytes(b"".join(p + b"\0" for p in paths))
        with list_file.open("rb") as stdin:
            run_git(root, _UPDATE_INDEX_ARGS, env=env, stdin=stdin)
        diff_args = [*_DIFF_ARGS, *([commit] if commit else []), "--", *pathspec]
        raw = run_git(root, diff_args, env=env).stdout
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        # A text file that is not UTF-8: diff everything as binary (base85, pure ASCII)
        # unless the repository's own attributes insist on text.
        attributes = tmp_dir / "attributes"
        attributes.write_text("* -diff\n", encoding="utf-8")
        raw = run_git(root, ["-c", f"core.attributesFile={attributes}", *diff_args], env=env).stdout
        return raw.decode("utf-8", "surrogateescape")


def _parse_status(
    out: bytes,
) -> tuple[str | None, str | None, list[bytes], list[bytes]]:
    """Split ``status --porcelain=v2 -z --branch`` into commit, branch, changed, untracked."""
    commit: str | None = None
    branch: str | None = None
    changed: list[bytes] = []
    untracked: list[bytes] = []
    fields = iter(out.split(b"\0"))
    for entry in fields:
        kind = entry[:2]
        if entry.startswith(b"# branch.oid "):
            oid = entry[len(b"# branch.oid ") :].decode("ascii")
            commit = None if oid == "(initial)" else oid
        elif entry.startswith(b"# branch.head "):
            head = os.fsdecode(entry[len(b"# branch.head ") :])
            branch = None if head == "(detached)" else head
        elif kind == b"1 ":
            changed.append(entry.split(b" ", 8)[8])
        elif kind == b"2 ":
            # A rename entry is followed by a separate NUL-terminated field: the old path.
            changed += [entry.split(b" ", 9)[9], next(fields)]
        elif kind == b"u ":
            changed.append(entry.split(b" ", 10)[10])
        elif kind == b"? ":
            untracked.append(entry[2:])
    return commit, branch, changed, untracked


def repository_remote(folder: Path) -> str | None:
    """The remote URL of the repository holding ``folder``, as :func:`capture_git` records it.

    Origin's URL, else the first remote's, without credentials. A site links to the code
    through it (unless ``repository_url`` is set), never through a URL a run recorded:
    a run in a pull request is written by its author.

    Returns:
        The URL, or None outside a git working tree, without git, or without a remote.

    Raises:
        GitError: git failed on an existing repository.
    """
    start = _start_in_repo(folder)
    if start is None:
        return None
    try:
        return _remote_url(start)
    except GitNotFoundError:
        return None


def _remote_url(root: Path) -> str | None:
    """Return the credential-free URL of origin, else of the first remote, else None."""
    status, out, _ = run_git(
        root, ["config", "-z", "--get-regexp", r"^remote\..*\.url$"], check=False
    )
    if status != 0:  # 1 means no remote at all
        return None
    urls: dict[str, str] = {}
    for entry in out.split(b"\0"):
        key, sep, value = entry.partition(b"\n")
        if sep:
            name = os.fsdecode(key)[len("remote.") : -len(".url")]
            urls.setdefault(name, os.fsdecode(value))
    if not urls:
        return None
    return strip_credentials(urls.get("origin", next(iter(urls.values()))))


def _pathspec(
    root: Path, exclude: Sequence[Path], exclude_subfolders_of: Sequence[Path] = ()
) -> list[str]:
    """Build the pathspec for the whole tree minus the excluded paths inside it."""
    spec = ["."]
    for relative in _relative_spellings(root, exclude):
        spec.append(f":(exclude,literal){relative}")
    for relative in _relative_spellings(root, exclude_subfolders_of, allow_root=True):
        prefix = f"{_glob_escape(relative)}/" if relative != "." else ""
        spec.append(f":(exclude,glob){prefix}*/**")
    return list(dict.fromkeys(spec))


def _relative_spellings(
    root: Path, paths: Sequence[Path], *, allow_root: bool = False
) -> list[str]:
    """Repo-relative POSIX spellings of the paths inside the work tree at ``root``."""
    roots = {root, root.resolve()}
    found = []
    for path in paths:
        absolute = Path(path).expanduser().absolute()
        # Both spellings: a store reached through a symlink inside the repo is excluded by
        # the symlink's own path, one outside the repo but symlinked in by its target.
        for candidate in {Path(os.path.normpath(absolute)), absolute.resolve()}:
            for base in roots:
                if candidate == base and allow_root:
                    found.append(".")
                elif candidate != base and candidate.is_relative_to(base):
                    found.append(candidate.relative_to(base).as_posix())
    return found


def _glob_escape(text: str) -> str:
    """Escape git glob-pathspec metacharacters so ``text`` matches literally."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _alternates(objects_dir: Path) -> str:
    """Return GIT_ALTERNATE_OBJECT_DIRECTORIES with ``objects_dir`` added, quoted if needed."""
    entry = str(objects_dir)
    if os.pathsep in entry or entry.startswith('"'):
        escaped = entry.replace("\\", "\\\\").replace('"', '\\"')
        entry = f'"{escaped}"'
    inherited = os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES")
    return f"{entry}{os.pathsep}{inherited}" if inherited else entry


def _has_git_marker(directory: Path) -> bool:
    """Tell whether ``directory`` holds a git directory or a ``gitdir:`` file named .git."""
    marker = directory / ".git"
    try:
        if marker.is_dir():
            return (marker / "HEAD").exists()
        if marker.is_file():
            with marker.open("rb") as handle:
                return handle.read(7) == b"gitdir:"
    except OSError:
        return False
    return False


def _start_in_repo(folder: Path) -> Path | None:
    """The nearest existing folder of ``folder``; None when plainly outside any repository."""
    start = _nearest_existing_dir(Path(folder).expanduser().absolute())
    if find_repo_root(start) is None and "GIT_DIR" not in os.environ:
        return None
    return start


def _nearest_existing_dir(path: Path) -> Path:
    """Return ``path`` if it is a directory, else its nearest existing ancestor directory."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return path


def _size(root: Path, rel: bytes) -> int:
    """Return the size of an untracked file (a symlink's own size), or -1 if it vanished."""
    try:
        return os.lstat(root / os.fsdecode(rel)).st_size
    except OSError:
        return -1


@dataclass(frozen=True)
class FolderRevision:
    """The commit a folder of a working tree was last committed at, as a site shows it.

    Attributes:
        root: Top level of the working tree.
        commit: Full sha of HEAD; None in a repository with no commit yet.
        dirty: The folder holds changes or untracked files not in ``commit``.
        relative: The folder's path from ``root``, ``/``-separated ("" for the root).
    """

    root: Path
    commit: str | None
    dirty: bool
    relative: str


def folder_revision(folder: Path) -> FolderRevision | None:
    """Tell which commit ``folder`` comes from and whether it has uncommitted changes.

    Cheaper than :func:`capture_git`: two git commands and no patch, with untracked
    folders reported as one entry each, so a store of thousands of new runs stays fast.

    Returns:
        The revision, or None outside a git working tree or without git.

    Raises:
        GitError: git failed on an existing repository.
    """
    start = _start_in_repo(folder)
    if start is None:
        return None
    try:
        status, out, err = run_git(start, ["rev-parse", "--show-toplevel"], check=False)
        if status != 0:
            if "not a git repository" in err or "must be run in a work tree" in err:
                return None
            raise GitError(f"git could not read the repository holding {start}: {err.strip()}")
        root = Path(os.fsdecode(out.splitlines()[0]))
        status, head, _ = run_git(root, ["rev-parse", "--verify", "--quiet", "HEAD"], check=False)
        commit = head.decode().strip() if status == 0 and head.strip() else None
        relative = os.path.relpath(start.resolve(), root.resolve())
        relative = "" if relative == "." else relative.replace(os.sep, "/")
        changes = run_git(
            root, ["status", "--porcelain", "--untracked-files=normal", "--", relative or "."]
        ).stdout
    except GitNotFoundError:
        return None
    return FolderRevision(root=root, commit=commit, dirty=bool(changes.strip()), relative=relative)


@dataclass(frozen=True)
class FileChange:
    """A file a commit changed, with its blob before and after (None: absent then).

    Attributes:
        path: The file's ``/``-separated path from the folder whose history was read.
        old_blob: Its blob in the commit's first parent; None when it was added (or
            was not a regular file, such as a symlink, which readers never follow).
        new_blob: Its blob in the commit; None when it was deleted (or is not a
            regular file).
    """

    path: str
    old_blob: str | None
    new_blob: str | None


@dataclass(frozen=True)
class FileCommit:
    """A commit that changed files matched by :func:`file_history`.

    Attributes:
        boundary: The oldest commit of a shallow clone, whose parent the clone lacks:
            its ``changes`` list every matched file as added, and describe the state
            the history starts from rather than changes that commit made.
    """

    sha: str
    author: str
    email: str
    date: str
    subject: str
    changes: tuple[FileChange, ...]
    boundary: bool = False


@dataclass(frozen=True)
class FileHistory:
    """The commits of :func:`file_history`, oldest first, and the repository holding them."""

    repo_root: Path
    commits: list[FileCommit]


_HEADER_MARK = "\x1e"
_NO_BLOB = re.compile(r"0+")
_REGULAR_FILE_MODES = frozenset({"100644", "100755"})


def file_history(folder: Path, glob: str) -> FileHistory | None:
    """Every commit that added, changed or deleted files matching ``glob`` below ``folder``.

    One ``git log --raw`` from the first commit to HEAD, oldest first, gives the blob
    of each changed file before and after each commit (first parent; merges add no
    changes of their own, as in ``git log``). Renames are a deletion and an addition.
    The contents are left to the caller to read in one batch
    (:func:`runfolio.gitobjects.read_blobs`), so each version is read once and parsed
    by the store's own readers, never scraped from diff text.

    Args:
        folder: A folder of the working tree (a run store).
        glob: A git glob pathspec relative to ``folder`` (``*/*/run.yaml``): ``*``
            never matches a ``/``.

    Returns:
        The history, or None outside a git working tree or without git. A shallow
        clone's history stops at its boundary commits, marked ``boundary``.

    Raises:
        GitError: git failed on an existing repository.
    """
    revision = folder_revision(folder)
    if revision is None:
        return None
    if revision.commit is None:
        return FileHistory(revision.root, [])
    prefix = _glob_escape(revision.relative) + "/" if revision.relative else ""
    out = run_git(
        revision.root,
        [
            "log",
            "--reverse",
            "--root",  # a root (or shallow boundary) commit lists what it added
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-z",
            "--no-color",
            f"--format={_HEADER_MARK}%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%s",
            "--",
            f":(glob){prefix}{glob}",
        ],
    ).stdout
    shallow = _shallow_commits(revision.root)
    inside = f"{revision.relative}/" if revision.relative else ""
    return FileHistory(revision.root, _parse_raw_log(out, inside, shallow))


def _parse_raw_log(out: bytes, inside: str, shallow: frozenset[str]) -> list[FileCommit]:
    """Split ``git log --raw -z`` output into commits, with paths from the folder ``inside``."""
    entries: list[tuple[list[str], list[FileChange]]] = []
    tokens = iter(out.split(b"\0"))
    for token in tokens:
        token = token.lstrip(b"\n")
        if token.startswith(b":") and entries:
            # ":<old mode> <new mode> <old blob> <new blob> <status>", then the path.
            old_mode, new_mode, old, new = token[1:].decode("ascii").split()[:4]
            path = os.fsdecode(next(tokens, b"")).removeprefix(inside)
            entries[-1][1].append(FileChange(path, _blob(old_mode, old), _blob(new_mode, new)))
        elif token.startswith(_HEADER_MARK.encode()):
            # The subject comes last, so a separator inside it is kept as text.
            fields = token[1:].decode("utf-8", "replace").split("\x1f", 5)
            entries.append(((fields + [""] * 6)[:6], []))
    return [
        FileCommit(
            sha, author, email, date, subject, tuple(changes), not parents and sha in shallow
        )
        for (sha, parents, author, email, date, subject), changes in entries
        if changes
    ]


def _blob(mode: str, blob: str) -> str | None:
    """The blob of a raw diff side, or None when the file is absent or not a regular file."""
    return blob if mode in _REGULAR_FILE_MODES and not _NO_BLOB.fullmatch(blob) else None


def _shallow_commits(root: Path) -> frozenset[str]:
    """The boundary commits of a shallow clone (none in a complete repository)."""
    out = run_git(root, ["rev-parse", "--git-path", "shallow"]).stdout
    path = root / os.fsdecode(out.strip())
    try:
        return frozenset(path.read_text(encoding="ascii").split())
    except (OSError, UnicodeDecodeError):
        return frozenset()


def has_commit(repo_root: Path, sha: str) -> bool:
    """Whether the repository at ``repo_root`` holds commit ``sha``."""
    if not re.fullmatch(r"[0-9a-f]{7,64}", sha or ""):
        return False
    return run_git(repo_root, ["cat-file", "-e", f"{sha}^{{commit}}"], check=False).status == 0


def add_worktree(repo_root: Path, sha: str, target: Path) -> None:
    """Check out commit ``sha`` of the repository into a new linked worktree at ``target``.

    The user's own working tree, index and branches are left as they are (the worktree
    is detached).

    Raises:
        GitError: git refused (the folder exists and is not empty, say).
    """
    run_git(repo_root, ["worktree", "add", "--detach", "--quiet", str(target), sha])


def apply_patch(worktree: Path, patch: Path) -> None:
    """Apply a patch written by :func:`capture_git` to a worktree of its commit.

    Raises:
        GitError: the patch does not apply.
    """
    run_git(worktree, ["apply", "--binary", "--whitespace=nowarn", str(patch)])
