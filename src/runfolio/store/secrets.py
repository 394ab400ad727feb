"""The one secrets policy: what runfolio never records, publishes or shows as written.

Every place that records or publishes text that may hold a secret asks this module:

* file names (:func:`credential_reason`): a changed or untracked file named like a
  credential never goes into ``captured/git.patch``; a run's file so named is never
  published;
* names of options, ``NAME=value`` assignments, environment variables, URL query
  parameters and configuration keys (:func:`secret_name`);
* URLs (:func:`strip_credentials`): no user name, password or secret query parameter;
* command lines (:func:`redact_argv`) and free text such as an exception message
  (:func:`redact_text`): secret values and well-known token shapes become ``<redacted>``;
* file contents (:func:`holds_secret_shape`): a token of a well-known shape or a private
  key block keeps a file out of the captured patch.

It lives in ``store`` because the store's readers (what a site publishes) and every
writer above them (tracking, git capture, object storage settings) apply it; it imports
nothing of runfolio.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import PurePosixPath

__all__ = [
    "REDACTED",
    "credential_reason",
    "holds_secret_shape",
    "redact_argv",
    "redact_text",
    "secret_name",
    "strip_credentials",
]

REDACTED = "<redacted>"
"""What a secret value is replaced with."""

# ----------------------------------------------------------------------------- file names

# Names of files that usually hold a secret, matched case-insensitively (fnmatch-style)
# against the file name; the folder rules against any folder of the path. Each rule costs
# a false positive somewhere (a Keynote file is also ``*.key``), so each is a known format.
_CREDENTIAL_NAMES = (
    (".env", "an environment file"),
    (".env.*", "an environment file"),
    ("*.env", "an environment file"),
    (".envrc", "a direnv file"),
    (".netrc", "a netrc file"),
    ("_netrc", "a netrc file"),
    (".pgpass", "a PostgreSQL password file"),
    (".my.cnf", "a MySQL option file"),
    (".git-credentials", "a git credential store"),
    (".pypirc", "a PyPI configuration"),
    (".npmrc", "an npm configuration"),
    (".yarnrc.yml", "a Yarn configuration"),
    (".htpasswd", "a web server password file"),
    (".s3cfg", "an s3cmd configuration"),
    (".boto", "a boto configuration"),
    (".databrickscfg", "a Databricks configuration"),
    (".vault-token", "a Vault token"),
    (".terraformrc", "a Terraform CLI configuration"),
    ("terraform.rc", "a Terraform CLI configuration"),
    (".dockercfg", "a Docker login"),
    ("kaggle.json", "a Kaggle API token"),
    ("*.tfvars", "Terraform variables"),
    ("*.tfvars.json", "Terraform variables"),
    ("*.tfstate", "Terraform state"),
    ("*.tfstate.*", "Terraform state"),
    ("secrets", "a secrets file"),
    ("secrets.*", "a secrets file"),
    ("secret.*", "a secrets file"),
    ("*.secrets.*", "a secrets file"),
    ("*_secrets.*", "a secrets file"),
    ("*-secrets.*", "a secrets file"),
    ("credentials", "a credentials file"),
    ("credentials.*", "a credentials file"),
    ("*credentials*.json", "a credentials file"),
    ("client_secret*.json", "an OAuth client secret"),
    ("token.json", "an OAuth token"),
    ("token.pickle", "an OAuth token"),
    ("*service-account*.json", "a service account key"),
    ("*service_account*.json", "a service account key"),
    ("id_rsa*", "an SSH key"),
    ("id_dsa*", "an SSH key"),
    ("id_ecdsa*", "an SSH key"),
    ("id_ed25519*", "an SSH key"),
    ("*.pem", "a key or certificate"),
    ("*.key", "a private key"),
    ("*.p8", "a private key"),
    ("*.p12", "a key store"),
    ("*.pfx", "a key store"),
    ("*.jks", "a key store"),
    ("*.keystore", "a key store"),
    ("*.ppk", "a PuTTY key"),
    ("*.ovpn", "a VPN profile"),
)
_CREDENTIAL_FOLDERS = {
    ".ssh": "an SSH folder",
    ".aws": "an AWS folder",
    ".gnupg": "a GnuPG folder",
    ".azure": "an Azure folder",
    ".kaggle": "a Kaggle folder",
}
_CREDENTIAL_PAIRS = {
    (".docker", "config.json"): "a Docker login",
    (".kube", "config"): "a kubeconfig",
    ("huggingface", "token"): "a Hugging Face token",
    ("gh", "hosts.yml"): "a GitHub CLI login",
}
# Source and documentation files are code about credentials, not credentials; an
# ``.env.example`` is the shared template of a secret file, by convention free of secrets.
_NOT_CREDENTIAL_SUFFIXES = frozenset(
    {".py", ".ipynb", ".md", ".rst", ".js", ".ts", ".go", ".rs", ".java", ".pub"}
    | {".example", ".sample", ".template", ".dist"}
)


def credential_reason(path: str | PurePosixPath) -> str | None:
    """Say why the file at ``path`` looks like it holds a secret, or return None.

    ``path`` is ``/``-separated and relative (to a run's folder, or a repository's root).
    The rule is by name only, case-insensitive, and documented in docs/store-format.md
    ("What is never recorded"): environment and tool configuration files (``.env*``,
    ``*.env``, ``.envrc``, ``.netrc``, ``.pgpass``, ``.my.cnf``, ``.git-credentials``,
    ``.pypirc``, ``.npmrc``, ``.s3cfg``, ``.databrickscfg``, ``.vault-token`` ...),
    ``secrets.*``, ``credentials*``, ``kaggle.json``, service account and OAuth files,
    Terraform variables and state, keys and key stores (``id_rsa*``, ``*.pem``, ``*.key``
    ...); anything under ``.ssh``, ``.aws``, ``.gnupg``, ``.azure`` or ``.kaggle``;
    ``.docker/config.json``, ``.kube/config``, ``huggingface/token``,
    ``gh/hosts.yml``. A name ending in a source or documentation suffix (``.py``,
    ``.md`` ...), in ``.pub`` (a public key) or in ``.example``, ``.sample``,
    ``.template``, ``.dist`` (a shared template) is not.

    Returns:
        A short description such as ``"an SSH key (id_rsa*)"``, or None.
    """
    parts = [part.casefold() for part in str(path).split("/") if part]
    if not parts:
        return None
    name = parts[-1]
    for folder in parts[:-1]:
        if folder in _CREDENTIAL_FOLDERS:
            return f"{_CREDENTIAL_FOLDERS[folder]} ({folder}/)"
    if len(parts) >= 2 and (parts[-2], name) in _CREDENTIAL_PAIRS:
        return f"{_CREDENTIAL_PAIRS[(parts[-2], name)]} ({parts[-2]}/{name})"
    if PurePosixPath(name).suffix in _NOT_CREDENTIAL_SUFFIXES:
        return None
    for pattern, what in _CREDENTIAL_NAMES:
        if fnmatch.fnmatchcase(name, pattern):
            return f"{what} ({pattern})"
    return None


# ----------------------------------------------------------------------------- names

# A name is split into lower-case words (``--hub_token``, ``apiKey``, ``db.password``,
# ``X-Amz-Signature``); one of these words makes its value a secret.
_SECRET_WORDS = frozenset(
    {"secret", "secrets", "password", "passwd", "passphrase", "credential", "credentials"}
    | {"apikey", "accesskey", "secretkey", "privatekey", "auth", "authorization", "cookie"}
    | {"sig", "signature", "sas", "bearer", "dsn"}
)
# Words glued to a name that end so: hftoken, dbpassword, clientsecret.
_SECRET_ENDINGS = ("token", "password", "passwd", "secret", "apikey")
# "<word> key" is a secret after these words (api_key, access-key, wandb_key), not after
# others (sort_key, metric_key).
_KEY_OWNERS = frozenset(
    {"api", "access", "secret", "private", "ssh", "signing", "encryption", "account"}
    | {"master", "client", "subscription", "storage", "wandb", "openai", "comet", "hf"}
    | {"session", "auth", "license", "app", "service"}
)
# "token" is a word of the vocabulary after these (pad_token, eos_token) and a count
# before these (token_ids, max_token_length): no secret.
_VOCABULARY_WORDS = frozenset(
    {"pad", "eos", "bos", "unk", "mask", "sep", "cls", "start", "end", "special", "stop"}
    | {"begin", "new", "max", "min", "num", "decoder", "image", "sample"}
)
_TOKEN_COUNTS = frozenset({"id", "ids", "type", "types", "length", "len", "count", "limit"})


def secret_name(name: str, *, bare_key: bool = False) -> bool:
    """Tell whether an option, variable, parameter or key name says its value is a secret.

    The name is split into words at ``-``, ``_``, ``.``, other punctuation and camelCase.
    It is secret when a word is ``token`` (not after ``pad``, ``eos``, ``max``, ``num``
    ... nor before ``id(s)``, ``type``, ``length``, ``count``), ``secret(s)``,
    ``password``, ``passwd``, ``passphrase``, ``credential(s)``, ``auth``,
    ``authorization``, ``cookie``, ``bearer``, ``dsn``, ``sig``, ``signature``, ``sas``,
    ``apikey``, ``accesskey`` ...; or ``key`` after ``api``, ``access``, ``secret``,
    ``private``, ``client``, ``session`` ...; or a word ends in ``token``, ``password``,
    ``passwd``, ``secret`` or ``apikey`` (``hftoken``).

    Args:
        name: the name as written.
        bare_key: also count the name ``key`` alone (a URL's ``?key=`` or a settings key),
            which on a command line (``--key loss``) usually is not a secret.
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)  # camelCase → words
    words = [word for word in re.split(r"[^0-9a-z]+", spaced.lower()) if word]
    if bare_key and words == ["key"]:
        return True
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


# ----------------------------------------------------------------------------- URLs

_URL_PARTS_RE = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+)://(?P<netloc>[^/?#]*)(?P<rest>.*)$", re.DOTALL
)
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})


def strip_credentials(url: str) -> str:
    """Remove secrets from a URL so it can be stored and published.

    For ``http``, ``https``, ``ftp``, database and other URL schemes the whole userinfo
    goes (a token is often passed as the user name). For ``ssh://`` the user stays, since
    it is not a secret, and only a password goes. Query parameters whose name is secret
    (:func:`secret_name`, ``key`` alone included: ``?key=``, ``?access_token=``,
    ``?X-Amz-Signature=``, ``?sig=``) go as well. scp-like remotes
    (``git@github.com:o/r.git``) and local paths are returned unchanged.

    Args:
        url: A URL, such as a remote URL as written in the git config.

    Returns:
        The URL without credentials; otherwise exactly as given.
    """
    match = _URL_PARTS_RE.match(url)
    if match is None:
        return url
    scheme, netloc, rest = match.group("scheme", "netloc", "rest")
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user = userinfo.partition(":")[0]
        netloc = f"{user}@{host}" if scheme.lower() in _SSH_SCHEMES and user else host
    return f"{scheme}://{netloc}{_strip_secret_params(rest)}"


def _strip_secret_params(rest: str) -> str:
    """Drop secret-looking query parameters from the path?query#fragment part of a URL."""
    from urllib.parse import unquote_plus

    before_fragment, hash_, fragment = rest.partition("#")
    path, question, query = before_fragment.partition("?")
    if not question:
        return rest
    kept = [
        param
        for param in query.split("&")
        if not secret_name(unquote_plus(param.partition("=")[0]), bare_key=True)
    ]
    query_part = "?" + "&".join(kept) if kept else ""
    return f"{path}{query_part}{hash_}{fragment}"


# ----------------------------------------------------------------------------- text

_OPTION_RE = re.compile(r"^(--?)([A-Za-z][\w.\-]*)(=.*)?$", re.DOTALL)
_ASSIGNMENT_RE = re.compile(r"^([+~]*[A-Za-z_][\w.\-/@]*)=(.*)$", re.DOTALL)
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")
# ``NAME=value`` or ``NAME: value`` inside free text (an exception message, a log line).
_TEXT_ASSIGNMENT_RE = re.compile(
    r"(?P<name>[A-Za-z_][\w.\-]*)(?P<sep>\s*[=:]\s*)(?P<quote>[\"']?)"
    r"(?=(?P<value>[^\s\"',;&()\[\]{}<>]+))"  # looked at, not consumed: it may hold a name
)
# Well-known token shapes, redacted wherever they stand: GitHub, GitLab, AWS key ids,
# Slack, Hugging Face, Google API and OAuth, OpenAI/Anthropic, Stripe, npm, PyPI,
# SendGrid keys, JSON web tokens.
_TOKEN_SHAPES_RE = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|glpat-[\w-]{20,}"
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"
    r"|hf_[A-Za-z0-9]{30,}|AIza[\w-]{35}|ya29\.[\w-]{20,}|sk-[\w-]{40,}"
    r"|[sr]k_live_[A-Za-z0-9]{20,}|npm_[A-Za-z0-9]{36}|pypi-[\w-]{50,}"
    r"|SG\.[\w-]{20,}\.[\w-]{20,}|eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,})"
)
_PRIVATE_KEY_RE = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# The whole block, to its END line (or the end of the text), for redaction.
_PRIVATE_KEY_BLOCK_RE = re.compile(
    _PRIVATE_KEY_RE.pattern + r"[\s\S]*?(?:-----END [^-\n]*-----|\Z)"
)
# An HTTP credential after its scheme word: ``Authorization: Bearer <token>``.
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token"})
_AUTH_SCHEME_RE = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=\-]{8,}")


def redact_argv(argv: list[str]) -> list[str]:
    """Return command-line arguments with their secrets replaced by ``<redacted>``.

    The rule (docs/store-format.md repeats it):

    - the value of an option whose name is secret (:func:`secret_name`: ``--token X``,
      ``--api-key=X``, ``--password X``, ``--hub_token X``, ``-secret X``) is redacted;
      the option stays. The value is the text after ``=``, else the next argument unless
      it starts with ``--``;
    - ``name=value`` arguments (Hydra overrides, ``KEY=value``) whose name is secret
      (``db.password=X``, ``WANDB_API_KEY=X``) keep the name only;
    - URLs lose their user name and password and secret query parameters;
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
        if option and secret_name(option.group(2)):
            if option.group(3) is None:
                hide_next = True
            else:
                arg = f"{option.group(1)}{option.group(2)}={REDACTED}"
        elif assignment and secret_name(assignment.group(1)):
            arg = f"{assignment.group(1)}={REDACTED}"
        redacted.append(_redact_urls_and_shapes(arg))
    return redacted


def redact_text(text: str) -> str:
    """Return free text (an exception message, a traceback) with its secrets redacted.

    URLs lose their credentials, well-known token shapes and whole private key blocks
    are redacted, and so is the value of a ``name=value`` or ``name: value`` whose name is
    secret (``password=hunter2``) and the credential after ``Bearer``, ``Basic`` or
    ``token``.
    """
    text = _PRIVATE_KEY_BLOCK_RE.sub(REDACTED, text)
    text = _AUTH_SCHEME_RE.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
    parts: list[str] = []
    done = 0
    for match in _TEXT_ASSIGNMENT_RE.finditer(text):
        value = match.group("value")
        if match.start() < done or not secret_name(match.group("name")):
            continue
        if value == REDACTED or value.casefold() in _AUTH_SCHEMES:
            continue  # ``Authorization: Bearer <redacted>`` is redacted already
        parts += [text[done : match.end()], REDACTED]
        done = match.end() + len(value)
    parts.append(text[done:])
    return _redact_urls_and_shapes("".join(parts))


def holds_secret_shape(data: bytes) -> bool:
    """Tell whether file contents hold a well-known token shape or a private key block."""
    text = data.decode("latin-1")  # every byte maps to one character; shapes are ASCII
    return bool(_TOKEN_SHAPES_RE.search(text) or _PRIVATE_KEY_RE.search(text))


def _redact_urls_and_shapes(text: str) -> str:
    """Strip credentials from URLs in ``text`` and redact well-known token shapes."""
    if "://" in text:
        text = _URL_RE.sub(lambda match: strip_credentials(match.group(0)), text)
    return _TOKEN_SHAPES_RE.sub(REDACTED, text)
