"""Opening MLflow's own client on a tracking URI, and reading it a page at a time.

Everything goes through :class:`mlflow.MlflowClient`, so an SQLite or other database,
a legacy ``mlruns/`` folder and a running tracking server are all read the same way.
MLflow 3 refuses the plain-files store unless ``MLFLOW_ALLOW_FILE_STORE`` is set; a
migration tool must read exactly those old folders, so the variable is set while
runfolio's client is open on a file store, and restored afterwards.

A bad address fails fast with one line: a tracking server is probed once with a short
timeout before MLflow gets it (MLflow's own client retries a refused connection for
minutes), a URI MLflow has no store for is named as such, and an MLflow error while the
client is open ends the command as an :class:`InteropError` rather than a traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runfolio.errors import RunfolioError

if TYPE_CHECKING:
    from mlflow import MlflowClient

PAGE_SIZE = 1000
METRIC_PAGE_SIZE = 25_000
PROBE_TIMEOUT = 10.0
"""Seconds a tracking server has to answer the first request before the command gives up."""
_ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
_URI_FORMS = (
    "sqlite:///mlflow.db, postgresql://, mysql://, mssql://, http(s)://host:port, "
    "databricks, file:///path/mlruns, or the path of an mlruns/ folder or .db file"
)


class InteropError(RunfolioError):
    """An import or export cannot start or cannot go on (missing extra, bad source)."""


def require_mlflow(command: str) -> Any:
    """Import and return the ``mlflow`` module.

    Raises:
        InteropError: MLflow is not installed; the message says how to install it.
    """
    try:
        import mlflow
    except ImportError as exc:
        raise InteropError(
            f"runfolio {command} needs MLflow: pip install 'runfolio[mlflow]'"
        ) from exc
    return mlflow


def normalise_uri(uri: str, *, must_exist: bool) -> str:
    """Turn a path given as a tracking URI into the URI MLflow expects.

    ``mlflow.db`` (an existing SQLite file) becomes ``sqlite:///<absolute path>``; a
    folder stays a file-store path (absolute). URIs with a scheme pass unchanged.

    Raises:
        InteropError: ``must_exist`` and the path names nothing.
    """
    if uri.startswith(("file:", "sqlite:")):
        if must_exist and _file_path(uri):
            _require_path(Path(_file_path(uri)))
        return uri
    if "://" in uri or uri.startswith("databricks"):
        return uri
    path = Path(uri).expanduser().absolute()
    if path.is_file():
        return f"sqlite:///{path}"
    if must_exist:
        _require_path(path)
    return str(path)


def _file_path(uri: str) -> str:
    """The local path of a ``file:`` or ``sqlite:///`` URI."""
    from urllib.parse import unquote, urlparse

    if uri.startswith("sqlite:///"):  # sqlite:///rel.db is relative, sqlite:////abs.db not
        return unquote(uri[len("sqlite:///") :].split("?", 1)[0])
    return unquote(urlparse(uri).path)


def _require_path(path: Path) -> None:
    """Refuse a store path that does not exist (MLflow would create an empty one)."""
    if not path.exists():
        raise InteropError(f"no MLflow store at {path}: it does not exist")


def is_file_store(uri: str) -> bool:
    """Tell whether ``uri`` names MLflow's plain-files store."""
    return uri.startswith("file:") or ("://" not in uri and not uri.startswith("databricks"))


@contextlib.contextmanager
def open_client(uri: str, command: str, *, must_exist: bool) -> Iterator[MlflowClient]:
    """An :class:`mlflow.MlflowClient` for tracking and registry at ``uri``.

    Raises:
        InteropError: MLflow is missing; the store named does not exist; the URI is
            not one MLflow can open; a tracking server does not answer within
            :data:`PROBE_TIMEOUT` seconds; or MLflow failed while the client was open
            (the message is MLflow's first line).
    """
    mlflow = require_mlflow(command)
    from mlflow.exceptions import MlflowException

    resolved = normalise_uri(uri, must_exist=must_exist)
    if urlsplit_scheme(resolved) in ("http", "https"):
        probe_server(resolved)
    previous = os.environ.get(_ALLOW_FILE_STORE)
    if is_file_store(resolved):
        os.environ[_ALLOW_FILE_STORE] = "true"
    try:
        try:
            client = mlflow.MlflowClient(tracking_uri=resolved, registry_uri=resolved)
        except MlflowException as exc:
            raise InteropError(_open_failure(uri, exc)) from exc
        except ImportError as exc:  # a database URI whose driver is not installed
            raise InteropError(f"cannot open MLflow at {uri!r}: {exc}") from exc
        try:
            yield client
        except MlflowException as exc:
            raise InteropError(f"MLflow at {uri!r} failed: {_first_line(exc)}") from exc
    finally:
        if previous is None:
            os.environ.pop(_ALLOW_FILE_STORE, None)
        else:
            os.environ[_ALLOW_FILE_STORE] = previous


def urlsplit_scheme(uri: str) -> str:
    """The scheme of a URI in lower case ('' for a plain path)."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(uri).scheme.lower()
    except ValueError:
        return ""


def probe_server(uri: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Make one request to the tracking server at ``uri``; refuse one that cannot be reached.

    Any HTTP answer (even 401 or 404) means a server is there, and MLflow is left to
    judge it with its own credentials. Only a failure to connect, a name that does not
    resolve, or no answer within ``timeout`` seconds is refused.

    Raises:
        InteropError: the server cannot be reached; the message says why, in one line.
    """
    import ssl
    import urllib.error
    import urllib.request

    url = f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/search?max_results=1"
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # a server answered
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLError):
            return  # TLS settings are MLflow's business (MLFLOW_TRACKING_INSECURE_TLS ...)
        reason = exc.reason
    except (TimeoutError, OSError, ValueError) as exc:
        reason = exc
    if isinstance(reason, TimeoutError):
        why = f"no answer within {timeout:g} seconds"
    else:
        why = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    raise InteropError(
        f"cannot reach the MLflow tracking server at {uri}: {why}. "
        "Check the address and that the server is running."
    )


def _open_failure(uri: str, exc: Exception) -> str:
    """One line for an MLflow client that could not be made for ``uri``."""
    from mlflow.tracking.registry import UnsupportedModelRegistryStoreURIException

    if isinstance(exc, UnsupportedModelRegistryStoreURIException) or "unsupported URI" in str(exc):
        scheme = urlsplit_scheme(uri)
        return (
            f"MLflow cannot open {uri!r}: no MLflow store reads {scheme!r} URIs (use {_URI_FORMS})"
        )
    return f"cannot open MLflow at {uri!r}: {_first_line(exc)}"


def _first_line(exc: Exception) -> str:
    """The first non-empty line of an exception's message, without a server's reply body."""
    message = getattr(exc, "message", None) or str(exc)
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    line = lines[0] if lines else type(exc).__name__
    return line.split(" Response body:", 1)[0]


def resolved_uri(uri: str, *, must_exist: bool) -> str:
    """The URI :func:`open_client` connects to, for messages and artifact downloads."""
    return normalise_uri(uri, must_exist=must_exist)


def _pages(call: Any, **kwargs: Any) -> Iterator[Any]:
    """Yield the items of a paged MLflow search, one page in memory at a time."""
    token = None
    while True:
        page = call(page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def iter_experiments(client: MlflowClient, names: tuple[str, ...] = ()) -> Iterator[Any]:
    """Active experiments: the ones named (in that order), else all of them.

    Raises:
        InteropError: a named experiment does not exist.
    """
    if names:
        for name in names:
            found = client.get_experiment_by_name(name)
            if found is None or found.lifecycle_stage != "active":
                raise InteropError(f"MLflow has no experiment named {name!r}")
            yield found
        return
    from mlflow.entities import ViewType

    yield from _pages(
        client.search_experiments, view_type=ViewType.ACTIVE_ONLY, max_results=PAGE_SIZE
    )


def iter_runs(client: MlflowClient, experiment_id: str) -> Iterator[Any]:
    """Active runs of one experiment, oldest first (parents before their children)."""
    from mlflow.entities import ViewType

    yield from _pages(
        client.search_runs,
        experiment_ids=[experiment_id],
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=PAGE_SIZE,
        order_by=["attributes.start_time ASC"],
    )


def iter_metric_history(client: MlflowClient, run_id: str, key: str) -> Iterator[Any]:
    """Every logged value of one metric, fetched a page of 25,000 at a time.

    The public ``get_metric_history`` gathers all pages into one list first; the
    store's own paged call keeps a million-step history out of memory. Stores that
    cannot page answer with everything at once.
    """
    store = getattr(getattr(client, "_tracking_client", None), "store", None)
    if store is None:  # pragma: no cover - a client without the usual internals
        yield from client.get_metric_history(run_id, key)
        return
    token = None
    while True:
        try:
            page = store.get_metric_history(
                run_id, key, max_results=METRIC_PAGE_SIZE, page_token=token
            )
        except TypeError:  # pragma: no cover - an old store without paging
            yield from client.get_metric_history(run_id, key)
            return
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def iter_artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> Iterator[Any]:
    """Every artifact file of a run (``FileInfo``), folders walked in name order."""
    for info in sorted(client.list_artifacts(run_id, path), key=lambda i: i.path):
        if info.is_dir:
            yield from iter_artifacts(client, run_id, info.path)
        else:
            yield info


def logged_models_by_run(client: MlflowClient, experiment_id: str) -> dict[str, list[Any]]:
    """MLflow 3's logged models of an experiment, grouped by the run that logged them.

    Older MLflow keeps models inside the run's artifacts and has none of these.
    """
    search = getattr(client, "search_logged_models", None)
    found: dict[str, list[Any]] = {}
    if search is None:
        return found
    for model in _pages(search, experiment_ids=[experiment_id], max_results=PAGE_SIZE):
        if getattr(model, "source_run_id", None):
            found.setdefault(model.source_run_id, []).append(model)
    for models in found.values():
        models.sort(key=lambda m: (m.creation_timestamp or 0, m.model_id))
    return found


def iter_registered_models(client: MlflowClient) -> Iterator[Any]:
    """Every registered model."""
    yield from _pages(client.search_registered_models, max_results=PAGE_SIZE)


def iter_model_versions(client: MlflowClient, name: str) -> Iterator[Any]:
    """Every version of one registered model."""
    quoted = name.replace("'", "\\'")
    yield from _pages(
        client.search_model_versions, filter_string=f"name = '{quoted}'", max_results=PAGE_SIZE
    )


def model_aliases(model: Any) -> dict[str, int]:
    """A registered model's aliases as ``{alias: version}`` (MLflow 2.3 and later)."""
    aliases = getattr(model, "aliases", None) or {}
    if isinstance(aliases, dict):
        return {str(alias): int(version) for alias, version in aliases.items()}
    return {str(a.alias): int(a.version) for a in aliases}  # pragma: no cover - older shape
