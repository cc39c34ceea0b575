"""Rows of a view from extracted values: defaults, key merge, group-by merge, order and cell values.

Order: key rows (and group rows) come out in the iteration order of csysdig's hash tables
(hashorder.py), then a stable sort on the sorting column. Ties therefore keep the hash-table order;
csysdig's own std::sort is not stable, so for tables of more than 16 rows tied rows may come out in
a different order than csysdig's (the rows themselves are the same).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import aggregate as ag
from .definitions import LIST, NONE, TIME_AVG, Column, View
from .fieldinfo import COUNTER, FieldType, field_type
from .hashorder import map_order
from .render import cell_number, key_text


@dataclass
class Rows:
    """Printed columns, row keys as csysdig prints them, and cell numbers (durations in ns)."""

    columns: list[Column]
    keys: list[str]
    cells: list[list]


def build_rows(view: View, layout: tuple[Column, ...], values: dict[str, list], n: int,
               time_delta: int, containers: bool = True) -> Rows:
    """Turn the kept events' field values into the view's rows."""
    types = [field_type(c.field) for c in layout]
    keys, cols = _event_rows(view, layout, types, values, n)
    if view.kind != LIST:
        keys, cols = ag.premerge(keys, cols[1:])
    return finish_rows(view, layout, keys, cols, time_delta, containers)


def finish_rows(view: View, layout: tuple[Column, ...], keys: list, cols: list[ag.Cells], time_delta: int,
                containers: bool = True) -> Rows:
    """The view's rows from its event rows (lists: one per kept event, keyed by the event counter) or
    its key rows (tables: merged per key, in the order the keys first appeared, without the key column):
    csysdig's hash-table order, the group-by merge, the sort and the cell values. fast.py computes the
    key rows itself and joins here."""
    types = [field_type(c.field) for c in layout]
    if view.kind == LIST:
        visible, key_type = list(layout), COUNTER
    else:
        keys, cols = _hash_ordered(keys, cols, types[0].type)
        visible, key_type = list(layout[1:]), types[0]
        g = next((j for j, c in enumerate(visible) if c.groupby_key), None)
        if g is not None:
            keys, cols = ag.groupby_merge(cols[g].values, cols[:g] + cols[g + 1:])
            keys, cols = _hash_ordered(keys, cols, types[1 + g].type)
            key_type = types[1 + g]
            visible = visible[:g] + visible[g + 1:]
    order = list(range(len(keys)))
    sort_col = view.sorting_col(containers) - 1
    if 0 <= sort_col < len(cols):
        order = ag.sort_rows(order, cols[sort_col], cols[sort_col].ftype.descending)
    cells = [[cell_number(col.values[i], col.counts[i], col.ftype.type, TIME_AVG in (c.agg, c.groupby_agg),
                          time_delta) for c, col in zip(visible, cols, strict=True)] for i in order]
    return Rows(visible, [key_text(keys[i], key_type.type) for i in order], cells)


def _event_rows(view: View, layout, types: list[FieldType], values: dict[str, list], n: int):
    """One row per kept event: missing values take the type's default (count 0) with use_defaults,
    else, or when the type has none, drop the row. Lists key rows with a counter that also counts
    the dropped events (csysdig extracts util.cnt first)."""
    fields = [values[c.field] for c in layout]
    vals: list[list] = [[] for _ in layout]
    counts: list[list[int]] = [[] for _ in layout]
    keys: list = []
    for i in range(n):
        row, cnt = [], []
        for ft, col in zip(types, fields, strict=True):
            v = col[i]
            if v is None:
                v = ft.default() if view.use_defaults else None
                if v is None:
                    break
                cnt.append(0)
            else:
                cnt.append(1)
            row.append(v)
        else:
            for j, v in enumerate(row):
                vals[j].append(v)
                counts[j].append(cnt[j])
            keys.append(i + 1 if view.kind == LIST else row[0])
    cols = [ag.Cells(vals[j], counts[j], types[j], NONE if view.kind == LIST else c.agg, c.groupby_agg)
            for j, c in enumerate(layout)]
    return keys, cols


def _hash_ordered(keys: list, cols: list[ag.Cells], ftype: str) -> tuple[list, list[ag.Cells]]:
    """Rows rearranged into the iteration order of csysdig's hash table for these keys."""
    perm = map_order(keys, ftype)
    return [keys[i] for i in perm], [
        ag.Cells([c.values[i] for i in perm], [c.counts[i] for i in perm], c.ftype, c.agg, c.groupby_agg)
        for c in cols]
