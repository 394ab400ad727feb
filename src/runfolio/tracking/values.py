"""Turning what training code passes in into values the store can hold exactly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runfolio.errors import InvalidInputError
from runfolio.store.layout import check_key, check_utf8


def plain_param(key: str, value: Any) -> Any:
    """Return ``value`` as YAML-safe data: str, int, float, bool, None, lists and dicts.

    NumPy and similar scalars become Python numbers; tuples become lists; nested
    mappings become nested dicts with checked keys; anything else is stored as its
    ``str()``, as MLflow does with every param.

    Raises:
        InvalidInputError: a nested key is invalid or a string is not valid UTF-8.
    """
    if value is None or isinstance(value, bool):
        return value
    # int(), float() and str() also turn subclasses (numpy.float64, IntEnum, numpy.str_)
    # into the plain types the YAML writer knows.
    if isinstance(value, int | float):
        return int(value) if isinstance(value, int) else float(value)
    if isinstance(value, str):
        check_utf8(value, f"value of param {key!r}")
        return str(value)
    if isinstance(value, Mapping):
        return {
            check_key(str(k) if not isinstance(k, str) else k, "param"): plain_param(
                f"{key}.{k}", v
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [plain_param(key, item) for item in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return plain_param(key, item())  # a NumPy/PyTorch scalar
    text = str(value)
    check_utf8(text, f"value of param {key!r}")
    return text


def metric_value(key: str, value: Any) -> float:
    """Return a metric value as a float.

    Raises:
        InvalidInputError: the value is text, None or anything without a float value.
    """
    if isinstance(value, str | bytes) or value is None:
        raise InvalidInputError(
            f"metric {key!r} got {value!r}; metric values must be numbers "
            "(log text as a tag or param)"
        )
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(
            f"metric {key!r} got {type(value).__name__} {value!r}, which is not a number"
        ) from exc


def metric_step(key: str, step: Any, what: str = "step") -> int:
    """Return a step (or, with ``what="timestamp"``, a timestamp) as an int.

    NumPy integers and integral floats are accepted.

    Raises:
        InvalidInputError: the value is not an integer; the message names ``what``.
    """
    if isinstance(step, bool):
        raise InvalidInputError(f"metric {key!r}: {what} must be an integer, got {step!r}")
    try:
        return int(step.__index__())
    except (AttributeError, TypeError):
        if isinstance(step, float) and step.is_integer():
            return int(step)
        raise InvalidInputError(
            f"metric {key!r}: {what} must be an integer, got {type(step).__name__} {step!r}"
        ) from None


def tag_value(key: str, value: Any) -> str:
    """Return a tag value as text (tags are strings, as in MLflow)."""
    text = str(value)  # also turns str subclasses (numpy.str_) into plain str
    check_utf8(text, f"value of tag {key!r}")
    return text
