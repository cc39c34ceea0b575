"""Capture strings keep undecodable bytes as lone surrogates (surrogateescape), which pandas' Arrow
strings refuse; tables get them as visible ``\\xNN`` text instead."""
from __future__ import annotations

import re

import numpy as np

_SURROGATE = re.compile("[\udc80-\udcff]")


def table_text(v):
    """``v`` with undecodable bytes shown as ``\\xNN`` when it is a str; anything else unchanged."""
    if isinstance(v, str) and _SURROGATE.search(v):
        return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", v)
    return v


def table_texts(values):
    return [table_text(v) for v in values]


def codes_among(labels: list, index: dict, items: list) -> np.ndarray:
    """The code of each of ``items`` among ``labels`` (``index``: label -> code), appending the new
    ones; None -> -1; then a final -1 (so that code -1 indexes to -1)."""
    out = np.empty(len(items) + 1, dtype=np.int64)
    for i, x in enumerate(items):
        if x is None:
            out[i] = -1
            continue
        j = index.get(x)
        if j is None:
            j = index[x] = len(labels)
            labels.append(x)
        out[i] = j
    out[-1] = -1
    return out
