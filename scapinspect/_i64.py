"""u64 values from a capture as the int64 sysdig prints (2**64-1 -> -1): safe for Int64/int64 columns."""
from __future__ import annotations

_TOP = 1 << 63
_WRAP = 1 << 64


def i64(values):
    return [int(v) - _WRAP if v is not None and not isinstance(v, (bool, float)) and v >= _TOP else v
            for v in values]
