"""The csysdig table engine (libsinsp 0.29.3 ``sinsp_table``) over a frame of extracted values.

Every cell carries a value and a count: 1 when the field was extracted, 0 when the table stored a
default. Rows are built as csysdig builds them:

* per key, the first event makes the row; later events merge column by column by the column's
  aggregation (NONE keeps the first value, SUM/TIME_AVG add, AVG adds values and counts, MAX keeps
  the largest number or the last string, MIN keeps the smallest value that was really extracted);
* a group-by view then folds the key rows into group rows with each column's group-by aggregation,
  where a source count >= 2 adds the source's average instead of its sum;
* rows are sorted on the sorting column, descending for numbers, comparing averages when a count
  is above 1.

The per-event merge is done with pandas groupby; the group-by fold is a loop over key rows (few),
in the order the caller gives (table.py passes csysdig's hash-table order, which decides the result
when rows with and without averages meet). The sort is stable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .definitions import AVG, MAX, MIN, NONE, SUM, TIME_AVG
from .fieldinfo import CHARBUF, DOUBLE, IPADDR, UNSIGNED_BITS, FieldType


@dataclass
class Cells:
    """One column of a table: values, counts and how they merge."""

    values: list
    counts: list[int]
    ftype: FieldType
    agg: str
    groupby_agg: str = NONE

    @property
    def numeric(self) -> bool:
        return self.ftype.type not in (CHARBUF, IPADDR)


def premerge(keys: list, cols: list[Cells]) -> tuple[list, list[Cells]]:
    """Merge the event rows sharing a key; rows come out in the order their keys first appear."""
    if not keys:
        return [], [Cells([], [], c.ftype, c.agg, c.groupby_agg) for c in cols]
    frame = pd.DataFrame({"k": pd.Series(keys, dtype=object)})
    first = ~frame["k"].duplicated(keep="first").to_numpy()
    order = frame["k"][first].tolist()
    codes = pd.Index(order).get_indexer(frame["k"])
    out = []
    for c in cols:
        values, counts = _merge_column(c, codes, first, len(order))
        out.append(Cells(values, counts, c.ftype, c.agg, c.groupby_agg))
    return order, out


def _merge_column(c: Cells, codes: np.ndarray, first: np.ndarray, n: int) -> tuple[list, list[int]]:
    counts = np.asarray(c.counts, dtype=np.int64)
    df = pd.DataFrame({"g": codes, "c": counts})
    if c.numeric:
        df["v"] = np.asarray(c.values, dtype=np.float64 if c.ftype.type == DOUBLE else object)
    else:
        df["v"] = pd.Series(c.values, dtype=object, index=df.index)
    grouped = df.groupby("g", sort=True)
    firsts = df[first].set_index("g").sort_index()
    agg = c.agg
    if agg in (SUM, TIME_AVG, AVG) and c.ftype.type == DOUBLE:
        # left-to-right additions as the C++ table does (pandas would sum with compensation)
        sums = np.zeros(n)
        np.add.at(sums, codes, np.asarray(c.values, dtype=np.float64))
        values = sums.tolist()
    elif agg in (SUM, TIME_AVG, AVG) and c.numeric:
        values = grouped["v"].sum().tolist()
    elif agg == MAX and c.numeric:
        values = grouped["v"].max().tolist()
    elif agg == MAX:
        values = grouped["v"].last().tolist()
    elif agg == MIN:
        return _min_column(c, codes, n)
    else:
        values = firsts["v"].tolist()
    if agg == AVG:
        cnts = grouped["c"].sum().tolist()
    else:
        cnts = firsts["c"].tolist()
    return [_wrap(v, c.ftype) for v in values], [int(x) for x in cnts]


def _min_column(c: Cells, codes: np.ndarray, n: int) -> tuple[list, list[int]]:
    values: list = [None] * n
    counts = [0] * n
    for g, v, cnt in zip(codes, c.values, c.counts, strict=True):
        if values[g] is None:
            values[g], counts[g] = v, cnt
        elif cnt != 0:
            if counts[g] == 0:
                values[g] = values[g] + v if c.numeric else v
                counts[g] += 1
            elif v < values[g]:
                values[g] = v
    return values, counts


def _wrap(v, ftype: FieldType):
    """Keep unsigned sums inside their C type, as the table's in-place additions do."""
    bits = UNSIGNED_BITS.get(ftype.type)
    if bits and isinstance(v, int | np.integer):
        return int(v) & ((1 << bits) - 1)
    if isinstance(v, np.integer):
        return int(v)
    return v


def groupby_merge(group_keys: list, cols: list[Cells]) -> tuple[list, list[Cells]]:
    """Fold key rows into group rows (``create_sample`` with merging on)."""
    index: dict = {}
    order: list = []
    vals: list[list] = []
    cnts: list[list[int]] = []
    for r, gk in enumerate(group_keys):
        row = [c.values[r] for c in cols]
        rc = [c.counts[r] for c in cols]
        i = index.get(gk)
        if i is None:
            index[gk] = len(order)
            order.append(gk)
            vals.append(row)
            cnts.append(rc)
            continue
        dv, dc = vals[i], cnts[i]
        for j, c in enumerate(cols):
            dv[j], dc[j] = _add(c, c.groupby_agg, dv[j], dc[j], row[j], rc[j])
    out = [Cells([v[j] for v in vals], [k[j] for k in cnts], c.ftype, c.agg, c.groupby_agg)
           for j, c in enumerate(cols)]
    return order, out


def _add(c: Cells, agg: str, dst, dcnt: int, src, scnt: int):
    """``sinsp_table::add_fields`` for one cell: (new value, new count)."""
    if agg == NONE:
        return dst, dcnt
    if agg in (SUM, TIME_AVG):
        if scnt < 2:
            return (_wrap(dst + src, c.ftype) if c.numeric else dst), dcnt
        if not c.numeric:
            return dst, 1
        if dcnt > 1:
            dst = _div(dst, dcnt, c.ftype)
        return _wrap(dst + _div(src, scnt, c.ftype), c.ftype), 1
    if agg == AVG:
        return (_wrap(dst + src, c.ftype) if c.numeric else dst), dcnt + scnt
    if agg == MAX:
        if not c.numeric:
            return src, dcnt
        return (src if src > dst else dst), dcnt
    if agg == MIN:
        if scnt == 0:
            return dst, dcnt
        if dcnt == 0:
            return (dst + src if c.numeric else src), dcnt + 1
        return (src if src < dst else dst), dcnt
    raise ValueError(f"unknown aggregation {agg!r}")


def _div(v, n: int, ftype: FieldType):
    if ftype.type == DOUBLE:
        return v / n
    q = abs(int(v)) // n           # C integer division truncates toward zero
    return q if v >= 0 else -q


def sort_rows(order: list[int], cells: Cells, descending: bool) -> list[int]:
    """Row positions sorted on ``cells``, comparing value/count (count 0 taken as 1; csysdig compares
    averages when a count is above 1, which for counts of 0 or 1 is the value itself). Stable."""
    values, counts = cells.values, cells.counts
    if cells.numeric:
        def key(i: int):
            return _div(values[i], max(counts[i], 1), cells.ftype)
    else:
        def key(i: int):
            return values[i]
    return sorted(order, key=key, reverse=descending)
