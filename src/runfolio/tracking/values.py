"""Turning what training code passes in into values the store can hold exactly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runfolio.errors import InvalidInputError
from runfolio.store.layout import check_key, check_utf8
from runfolio.store.serialize import MAX_NESTING

MAX_INT_DIGITS = 4300
"""Longest integer a param may hold: Python reads no longer decimal text by default."""

_INT_LIMIT = 10**MAX_INT_DIGITS
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""The range of a step or timestamp (MLflow's 64-bit integers)."""


def plain_param(key: str, value: Any) -> Any:
    """Return ``value`` as YAML-safe data: str, int, float, bool, None, lists and dicts.

    NumPy and similar scalars become Python numbers; tuples become lists; nested
    mappings become nested dicts with checked keys; anything else is stored as its
    ``str()``, as MLflow does with every param.

    Raises:
        InvalidInputError: a nested key is invalid, a string is not valid UTF-8, an
            integer has more than :data:`MAX_INT_DIGITS` digits, or lists and mappings
            nest deeper than params.yaml may (:data:`~runfolio.store.serialize.MAX_NESTING`
            levels, the file's own mapping included; a list holding itself never ends).
    """
    return _plain(key, value, 1)


def _plain(key: str, value: Any, depth: int) -> Any:
    """Turn one value into plain data; ``depth`` counts the collections around it."""
    if value is None or isinstance(value, bool):
        return value
    # int(), float() and str() also turn subclasses (numpy.float64, IntEnum, numpy.str_)
    # into the plain types the YAML writer knows.
    if isinstance(value, int):
        if not -_INT_LIMIT < value < _INT_LIMIT:
            raise InvalidInputError(
                f"param {key!r}: an integer of more than {MAX_INT_DIGITS} digits cannot be "
                "stored (log it as text, or as a float)"
            )
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        check_utf8(value, f"value of param {key!r}")
        return str(value)
    if isinstance(value, Mapping | list | tuple) and depth >= MAX_NESTING:
        raise InvalidInputError(
            f"param {key!r}: lists and mappings nest deeper than {MAX_NESTING - 1} levels "
            "(or hold themselves)"
        )
    if isinstance(value, Mapping):
        return {
            check_key(str(k) if not isinstance(k, str) else k, "param"): _plain(
                f"{key}.{k}", v, depth + 1
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_plain(key, item, depth + 1) for item in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return _plain(key, item(), depth)  # a NumPy/PyTorch scalar
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

    NumPy integers and integral floats are accepted; the value must fit in 64 signed
    bits, as in MLflow (a step of 2**53 + 1 is kept exactly; 2**63 is refused).

    Raises:
        InvalidInputError: the value is not an integer or out of range; the message
            names ``what``.
    """
    if isinstance(step, bool):
        raise InvalidInputError(f"metric {key!r}: {what} must be an integer, got {step!r}")
    try:
        number = int(step.__index__())
    except (AttributeError, TypeError):
        if not (isinstance(step, float) and step.is_integer()):
            raise InvalidInputError(
                f"metric {key!r}: {what} must be an integer, got {type(step).__name__} {step!r}"
            ) from None
        number = int(step)
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidInputError(
            f"metric {key!r}: {what} must fit in 64 bits (-2**63 to 2**63 - 1); "
            f"got an integer of {number.bit_length()} bits"
        )
    return number


def tag_value(key: str, value: Any) -> str:
    """Return a tag value as text (tags are strings, as in MLflow).

    Raises:
        InvalidInputError: the text is not valid UTF-8, or the value has no text (an
            integer over Python's 4300-digit limit).
    """
    try:
        text = str(value)  # also turns str subclasses (numpy.str_) into plain str
    except ValueError as exc:
        raise InvalidInputError(f"value of tag {key!r} cannot be written as text: {exc}") from exc
    check_utf8(text, f"value of tag {key!r}")
    return text
