"""Deterministic YAML and float text, so that a run's files diff cleanly in review."""

from __future__ import annotations

import math
from typing import Any

import yaml

try:  # libyaml makes dumping and loading several times faster; PyYAML wheels ship it.
    _Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Dumper = yaml.SafeDumper
    _Loader = yaml.SafeLoader


def format_float(value: float) -> str:
    """Return the shortest text that reads back as exactly ``value``.

    ``repr`` is already shortest-round-trip; this only spells the non-finite values the
    way :func:`parse_float` (and ``float()``) read them: ``nan``, ``inf``, ``-inf``.
    """
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def parse_float(text: str) -> float:
    """Read a float written by :func:`format_float` (``ValueError`` on anything else)."""
    return float(text)


def dump_yaml(data: Any) -> str:
    """Return ``data`` as block-style YAML with sorted keys, UTF-8 text and ``\\n`` endings.

    Floats keep full precision (NaN and infinities as ``.nan``/``.inf``/``-.inf``); strings
    that would read back as another type are quoted, so a load returns equal data.
    """
    from runfolio.store import yaml_emit

    try:
        return yaml_emit.dump(data)
    except TypeError:  # a type outside the store's data model: let PyYAML decide
        pass
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
        line_break="\n",
    )


def load_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader (no arbitrary Python objects).

    The common shape of store files is read by :mod:`runfolio.store.yaml_read`, several
    times faster; anything else goes to PyYAML. Both give the same data.
    """
    from runfolio.store.yaml_read import NotSimple, load_simple

    try:
        return load_simple(text)
    except NotSimple:
        return yaml.load(text, Loader=_Loader)
