"""JSON for programs reading command output: strict JSON, even for NaN and infinities."""

from __future__ import annotations

import json
import math
from typing import Any

from runfolio.console.safe import json_escaped


def to_json(data: Any) -> str:
    """Return ``data`` as indented JSON; NaN and infinities become ``"nan"``, ``"inf"``, ``"-inf"``.

    JSON has no such numbers, and these are the texts ``float()`` reads back.
    """
    # Escaped so a terminal showing it cannot be driven by control characters in values.
    return json_escaped(json.dumps(json_safe(data), indent=2, ensure_ascii=False, allow_nan=False))


def json_safe(value: Any) -> Any:
    """Return ``value`` with non-finite floats replaced by their names, recursively.

    Dict keys become strings and tuples become lists, as ``json.dumps`` would make them.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
