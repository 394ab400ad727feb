"""What a run records about itself without being asked: code, environment, author.

Git state and the package list are captured once per process and reused by every run
it starts: the code a process runs was loaded when it started, and capturing again for
each run of a sweep would cost more than the runs themselves.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runfolio.gitrepo import find_repo_root


@dataclass(frozen=True)
class CapturedContext:
    """Everything captured for a new run."""

    user: str | None
    source: dict[str, Any]
    git: dict[str, Any]
    git_patch: bytes
    environment: dict[str, Any]
    packages: str


def capture_context(store_root: Path) -> CapturedContext:
    """Capture user, entry point, git state, environment and installed packages.

    The repository is the one holding the entry-point script (as MLflow does), else
    the one holding the current folder.

    Args:
        store_root: the run store; its experiment folders are left out of the git dirty
            check and patch (files at its root, such as a training script, are not).
    """
    repo_root = find_repo_root(_entry_dir()) or find_repo_root(Path.cwd())
    git_info, patch = _git_state(repo_root, store_root.resolve()) if repo_root else ({}, b"")
    return CapturedContext(
        user=current_user(),
        source=capture_source(repo_root or Path.cwd()),
        git=git_info,
        git_patch=patch,
        environment=capture_environment(),
        packages=installed_packages(),
    )


def _entry_dir() -> Path:
    """The folder of the script being run, or the current folder for ``-c``/REPL."""
    entry = _entry_script()
    if entry and os.path.isfile(entry):
        return Path(entry).resolve().parent
    return Path.cwd()


def _entry_script() -> str:
    """``sys.argv[0]``, made absolute through ``__main__.__file__`` when it was relative.

    A script that changed folder before starting its run would otherwise have its
    relative ``argv[0]`` resolved against the wrong folder.
    """
    entry = sys.argv[0] if sys.argv else ""
    if not entry or entry in ("-c", "-") or os.path.isabs(entry) or os.path.exists(entry):
        return entry
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and os.path.basename(main_file) == os.path.basename(entry):
        return str(main_file)
    return entry


def current_user() -> str | None:
    """The login name of the user running the process (MLflow records the same)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. a bare container uid
        return None


def capture_source(root: Path) -> dict[str, Any]:
    """The entry point (relative to ``root`` when inside it) and the command-line arguments.

    The arguments are recorded with their secrets redacted (see :func:`redact_argv`).
    """
    return {"entry_point": _entry_point(_entry_script(), root), "argv": redact_argv(sys.argv[1:])}


REDACTED = "<redacted>"
"""What a secret in the recorded command line is replaced with."""

# A name is split into lower-case words (``--hub_token``, ``apiKey``, ``db.password``);
# one of these words makes its value a secret.
_SECRET_WORDS = frozenset(
    {"secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials"}
    | {"apikey", "accesskey", "secretkey", "privatekey", "auth", "authorization", "cookie"}
)
# Words glued to a name that end so: hftoken, dbpassword, clientsecret.
_SECRET_ENDINGS = ("token", "password", "passwd", "secret", "apikey")
# "<word> key" is a secret after these words (api_key, access-key, wandb_key), not after
# others (sort_key, metric_key).
_KEY_OWNERS = frozenset(
    {"api", "access", "secret", "private", "ssh", "signing", "encryption", "account"}
    | {"master", "client", "subscription", "storage", "wandb", "openai", "comet", "hf"}
)
# "token" is a word of the vocabulary after these (pad_token, eos_token) and a count
# before these (token_ids, max_token_length): no secret.
_VOCABULARY_WORDS = frozenset(
    {"pad", "eos", "bos", "unk", "mask", "sep", "cls", "start", "end", "special", "stop"}
    | {"begin", "new", "max", "min", "num", "decoder", "image", "sample"}
)
_TOKEN_COUNTS = frozenset({"id", "ids", "type", "types", "length", "len", "count", "limit"})
_OPTION_RE = re.compile(r"^(--?)([A-Za-z][\w.\-]*)(=.*)?$", re.DOTALL)
_ASSIGNMENT_RE = re.compile(r"^([+~]*[A-Za-z_][\w.\-/@]*)=(.*)$", re.DOTALL)
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")
# Well-known token shapes, redacted wherever they stand: GitHub, GitLab, AWS key ids,
# Slack, Hugging Face, Google API keys, OpenAI/Anthropic keys, JSON web tokens.
_TOKEN_SHAPES_RE = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|glpat-[\w-]{20,}"
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}|xox[abposr]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{30,}"
    r"|AIza[\w-]{35}|sk-[\w-]{40,}|eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,})"
)


def redact_argv(argv: list[str]) -> list[str]:
    """Return command-line arguments with their secrets replaced by ``<redacted>``.

    The rule (docs/store-format.md repeats it):

    - the value of an option whose name looks secret (``--token X``, ``--api-key=X``,
      ``--password X``, ``--hub_token X``, ``-secret X``) is redacted; the option stays.
      A name looks secret when one of its words is ``token`` (but not ``pad_token``,
      ``token_ids``, ``max_tokens``...), ``secret``, ``password``, ``passwd``,
      ``passphrase``, ``credential(s)``, ``auth``, ``authorization``, ``cookie``,
      ``apikey``, or ``key`` after ``api``, ``access``, ``private``, ``client``...; or a
      word ends in ``token``, ``password``, ``secret`` (``hftoken``). The value is the
      text after ``=``, else the next argument unless it starts with ``--``;
    - ``name=value`` arguments (Hydra overrides, ``KEY=value``) whose name looks secret
      (``db.password=X``, ``WANDB_API_KEY=X``) keep the name only;
    - URLs lose their user name and password and secret-looking query parameters;
    - well-known token shapes (``ghp_...``, ``AKIA...``, ``hf_...``, JSON web tokens ...)
      are redacted wherever they stand.

    Short options (``-p``) are kept: a letter does not say what it means.
    """
    redacted: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("--"):
            redacted.append(REDACTED)
            hide_next = False
            continue
        hide_next = False
        option = _OPTION_RE.match(arg)
        assignment = None if option else _ASSIGNMENT_RE.match(arg)
        if option and _secret_name(option.group(2)):
            if option.group(3) is None:
                hide_next = True
            else:
                arg = f"{option.group(1)}{option.group(2)}={REDACTED}"
        elif assignment and _secret_name(assignment.group(1)):
            arg = f"{assignment.group(1)}={REDACTED}"
        redacted.append(_redact_text(arg))
    return redacted


def _secret_name(name: str) -> bool:
    """Whether an option or key name says its value is a secret."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)  # camelCase → words
    words = [word for word in re.split(r"[^0-9a-z]+", spaced.lower()) if word]
    for index, word in enumerate(words):
        before = words[index - 1] if index else ""
        after = words[index + 1] if index + 1 < len(words) else ""
        if word in _SECRET_WORDS:
            return True
        if word == "token" and before not in _VOCABULARY_WORDS and after not in _TOKEN_COUNTS:
            return True
        if word == "key" and before in _KEY_OWNERS:
            return True
        if word != "token" and word.endswith(_SECRET_ENDINGS) and word not in _SECRET_ENDINGS:
            return True
    return False


def _redact_text(text: str) -> str:
    """Strip credentials from URLs in ``text`` and redact well-known token shapes."""
    from runfolio.gitrepo import strip_credentials

    if "://" in text:
        text = _URL_RE.sub(lambda match: strip_credentials(match.group(0)), text)
    return _TOKEN_SHAPES_RE.sub(REDACTED, text)


@functools.lru_cache(maxsize=16)
def _entry_point(entry: str, root: Path) -> str:
    """The script's path relative to ``root`` (a sweep asks once per run: cached)."""
    if entry in ("", "-c", "-"):
        return "<interactive>" if not entry else f"<{entry}>"
    path = Path(entry).resolve()
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


@functools.cache
def capture_environment() -> dict[str, Any]:
    """Python version and implementation, operating system and machine type."""
    import platform

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "executable": Path(sys.executable).name,
    }


@functools.cache
def installed_packages() -> str:
    """The installed distributions, ``pip freeze`` style (``name==version``), sorted."""
    from importlib import metadata

    lines = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            lines.add(f"{name}=={dist.version}")
    return "".join(f"{line}\n" for line in sorted(lines, key=str.lower))


MAX_PATCH_BYTES = 5_000_000
"""A bigger uncommitted patch is not copied into each run (it is noted in run.yaml)."""


@functools.cache
def _git_state(repo_root: Path, store_root: Path) -> tuple[dict[str, Any], bytes]:
    """Git commit, branch, dirty flag and remote, plus the uncommitted patch as bytes."""
    if os.environ.get("RUNFOLIO_CAPTURE_GIT", "1") == "0":
        return {}, b""
    from runfolio.errors import GitError
    from runfolio.gitrepo import capture_git

    try:
        snapshot = capture_git(repo_root, exclude_subfolders_of=(store_root,))
    except GitError as exc:
        # A broken or foreign-owned repository (common in containers) must not stop
        # training; the run simply records no git state.
        import warnings

        warnings.warn(f"runfolio: git state not captured: {exc}", RuntimeWarning, stacklevel=4)
        return {}, b""
    if snapshot is None:
        return {}, b""
    info: dict[str, Any] = {
        "commit": snapshot.commit,
        "branch": snapshot.branch,
        "dirty": snapshot.dirty,
        "remote_url": snapshot.remote_url,
    }
    if snapshot.skipped_untracked:
        info["untracked_not_captured"] = list(snapshot.skipped_untracked)
    if snapshot.skipped_credentials:
        info["credentials_not_captured"] = list(snapshot.skipped_credentials)
    # surrogateescape keeps non-UTF-8 bytes of a text diff exactly as git wrote them
    patch = snapshot.patch.encode("utf-8", "surrogateescape")
    if len(patch) > MAX_PATCH_BYTES:
        info["patch_not_captured"] = (
            f"the uncommitted changes make a {len(patch):,}-byte patch, over the "
            f"{MAX_PATCH_BYTES:,}-byte limit; commit them (or ignore data files) to record them"
        )
        patch = b""
    return info, patch
