"""Type-strict, bit-exact equality of stored values, shared by the store's tests."""

from __future__ import annotations

import math
import struct
from typing import Any


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types: 1 is not 1.0 is not True; floats must be bit-identical.

    Any NaN matches any NaN (the files have one spelling of NaN); -0.0 differs from 0.0.
    """
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return math.isnan(b) if math.isnan(a) else struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)
