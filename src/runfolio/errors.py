"""Exceptions raised by runfolio. Standard library only, so any module may import it."""

from __future__ import annotations


class RunfolioError(Exception):
    """Base class of every error runfolio raises on purpose."""


class InvalidInputError(RunfolioError, ValueError):
    """A key, value or path given to the API is not acceptable; nothing was written."""


class ParamConflictError(InvalidInputError):
    """A param was logged again with a different value (params are immutable, as in MLflow)."""


class StoreError(RunfolioError):
    """The store on disk cannot be read or written as asked."""


class MalformedRunError(StoreError):
    """One run directory holds files runfolio cannot read."""


class RunNotFoundError(RunfolioError, LookupError):
    """No run matches the given id or prefix, or more than one does."""


class ExperimentNotFoundError(RunfolioError, LookupError):
    """No experiment has the given name."""


class FilterError(RunfolioError, ValueError):
    """A search filter or order-by clause does not parse; the message points at the token."""


class GitError(RunfolioError):
    """A git operation failed (not a repository, missing commit, ...)."""


class GitNotFoundError(GitError):
    """No git program could be started (git is not installed, or not on PATH)."""


class GitTimeoutError(GitError):
    """A git command ran longer than ``runfolio.gitrunner.GIT_TIMEOUT_S`` and was stopped."""
