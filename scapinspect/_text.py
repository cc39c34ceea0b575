"""Capture strings keep undecodable bytes as lone surrogates (surrogateescape), which pandas' Arrow
strings refuse; tables get them as visible ``\\xNN`` text instead."""
from __future__ import annotations

import re

_SURROGATE = re.compile("[\udc80-\udcff]")


def table_text(v):
    """``v`` with undecodable bytes shown as ``\\xNN`` when it is a str; anything else unchanged."""
    if isinstance(v, str) and _SURROGATE.search(v):
        return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", v)
    return v


def table_texts(values):
    return [table_text(v) for v in values]
