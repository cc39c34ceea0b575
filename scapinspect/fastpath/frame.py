"""Columns of the shown events as typed pandas arrays, built with numpy takes from per-type tables and
from the thread/fd snapshot tables of the ordered pass (the dtypes of ``capture.to_frame``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..parsers import eventtable as et
from ..render.errno import errno_name
from ..state.fields import _CATEGORY, _SUBCAT, _typechar_null
from ..state.model import TYPE_CHARS, TYPE_CHARS_HEAD, TYPE_NAMES


def ints(values: np.ndarray, valid: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    values = np.asarray(values, dtype=np.int64)
    mask = np.zeros(len(values), dtype=bool) if valid is None else ~np.asarray(valid, dtype=bool)
    return pd.arrays.IntegerArray(values, mask)


def bools(values: np.ndarray) -> pd.arrays.BooleanArray:
    values = np.asarray(values, dtype=bool)
    return pd.arrays.BooleanArray(values, np.zeros(len(values), dtype=bool))


def categorical(codes: np.ndarray, labels: list) -> pd.Categorical:
    """``labels[code]`` per row (None, or a code < 0, is missing), as pd.Categorical(values) builds it:
    categories are the sorted distinct values present."""
    codes = np.asarray(codes, dtype=np.int64)
    missing = codes < 0
    if missing.any():
        used = np.flatnonzero(np.bincount(codes[~missing], minlength=len(labels))).tolist()
        codes = np.where(missing, len(labels), codes)      # (remap[len(labels)]: missing)
    else:
        used = np.flatnonzero(np.bincount(codes, minlength=len(labels))).tolist()
    present = sorted({labels[c] for c in used if labels[c] is not None})
    rank = {v: k for k, v in enumerate(present)}
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    kept = [c for c in used if labels[c] is not None]
    remap[kept] = [rank[labels[c]] for c in kept]
    if present:
        cats = pd.Index(present, dtype=object if any(isinstance(v, str) and not v.isascii() and _surrogate(v) for v in present) else None)
    else:   # what pd.Categorical infers from no values (object) or only missing ones (float)
        cats = pd.Index([], dtype=float if len(codes) else object)
    # the codes are in range by construction: no validation pass
    return pd.Categorical.from_codes(remap[codes], categories=cats, validate=False)


def type_columns(prof_table: et.EventTable) -> dict[str, list]:
    """Per event type (prof table): res param index, static category, is_io, typechar when no fd."""
    res_idx, cat, io_cat, is_io, tc_null = [], [], [], [], []

    class _FC:
        def __init__(self, info):
            self.einfo = info

    for e in prof_table.events:
        names = [p.name for p in e.params]
        if "res" in names:
            r = names.index("res")
        elif e.flags & et.EF_CREATES_FD and e.id % 2 == 1 and "fd" in names:
            r = names.index("fd")
        else:
            r = -1
        res_idx.append(r)
        c = e.category & 0xFF
        io_cat.append(bool(c & 32))
        cat.append("other" if e.id in (0, 1) else _CATEGORY.get(c, "unknown"))
        is_io.append(bool(e.flags & (et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD)))
        tc_null.append(_typechar_null(_FC(e)))
    return {"res_idx": res_idx, "cat": cat, "io_cat": io_cat, "is_io": is_io, "tc_null": tc_null}


def res_strings(raw: np.ndarray) -> tuple[np.ndarray, list]:
    """evt.res of each rawres value: codes into a label list ('SUCCESS', errno names, numbers)."""
    raw = np.asarray(raw, dtype=np.int64)
    inv = np.zeros(len(raw), dtype=np.int64)        # every value >= 0 is SUCCESS (label 0)
    labels = ["SUCCESS"]
    neg = np.flatnonzero(raw < 0)                   # only the failures need sorting
    if len(neg):
        uniq, sub = np.unique(raw[neg], return_inverse=True)
        inv[neg] = sub + 1
        labels += [errno_name(-r) or str(r) for r in uniq.tolist()]
    return inv, labels


def fd_columns(fds: list, head: bool) -> tuple[list, list, list]:
    """fd.name, fd.type and fd.typechar labels of the fd snapshots (replay.FD_SNAPSHOT tuples)."""
    chars = TYPE_CHARS_HEAD if head else TYPE_CHARS
    names = [f[0] for f in fds]
    types = [TYPE_NAMES.get(f[1], "<NA>") for f in fds]
    tchars = [chars.get(f[1], "?") for f in fds]
    return names, types, tchars


def subcat_labels(fds_types: list[int]) -> list[str]:
    return [_SUBCAT.get(t, "unknown") for t in fds_types]


__all__ = ["ints", "bools", "categorical", "type_columns", "res_strings", "fd_columns", "subcat_labels"]


def _surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
