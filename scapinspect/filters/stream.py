"""Filters applied to a replayed capture: field values are taken from the state as each event is
parsed, collected in chunks, and the compiled filter's vectorised mask picks the events to keep."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..state.fields import FieldContext, getter
from .compile import compile_filter
from .errors import FilterError
from .parser import dialect_for

CHUNK = 4096


def _getters(columns) -> list:
    out = []
    for c in columns:
        g = getter(c)
        if g is None:
            raise FilterError(f"field {c!r} cannot be evaluated on events yet", 1)
        out.append(g)
    return out


def iter_matching(stream, expr: str) -> Iterator:
    """Events of ``stream`` that ``expr`` accepts, as (num) in order; fields are evaluated in chunks
    with the state as it was right after each event."""
    from ..capture import to_frame
    compiled = compile_filter(expr, dialect=dialect_for(stream.prof.name))
    cols = sorted(compiled.fields)
    getters = _getters(cols)
    nums: list[int] = []
    values: list[list] = [[] for _ in cols]

    def flush():
        mask = compiled.mask(to_frame(dict(zip(cols, values, strict=True))))
        return [n for n, keep in zip(nums, mask, strict=True) if keep]

    for item in stream.events():
        fc = FieldContext(stream, item)
        for vals, g in zip(values, getters, strict=True):
            vals.append(g(fc))
        nums.append(item.num)
        if len(nums) >= CHUNK:
            yield from flush()
            nums.clear()
            values = [[] for _ in cols]
    if nums:
        yield from flush()


def row_predicate(stream, expr: str):
    """accept(item) -> bool evaluating ``expr`` on one event at a time (for capture-filter semantics,
    where whether an event passes changes how the next ones are parsed)."""
    from .rowwise import compile_row
    pred, cols = compile_row(expr, dialect=dialect_for(stream.prof.name))
    table = {c: getter(c) for c in cols}
    missing = [c for c, g in table.items() if g is None]
    if missing:
        raise FilterError(f"field {missing[0]!r} cannot be evaluated on events yet", 1)
    state = stream.state

    def accept(item) -> bool:
        if item.ctx.tinfo is None:
            item.ctx.tinfo = state.find_thread(item.ev.tid)
        fc = FieldContext(stream, item)
        cache: dict = {}

        def get(col: str):
            if col not in cache:
                cache[col] = table[col](fc)
            return cache[col]
        return pred(get)
    return accept


class FilteredStream:
    """An EventStream replayed twice: once to evaluate the filter, once to yield the events it keeps
    (numbering kept), so that each kept event is rendered with the state of its own time."""

    def __init__(self, make_stream, expr: str):
        self._make = make_stream
        self._s = make_stream()
        self.expr = expr
        compile_filter(expr, dialect=dialect_for(self._s.prof.name))  # errors early

    def __getattr__(self, name):
        return getattr(self._s, name)

    def events(self, include_hidden: bool = False) -> Iterator:
        if self._s.prof.name == "0.29":
            # sysdig 0.29.3 filters while parsing: a rejected event may change how the next ones parse
            yield from self._s.events(include_hidden, accept=row_predicate(self._s, self.expr))
            return
        keep = np.fromiter(iter_matching(self._make(), self.expr), dtype=np.int64)
        if not len(keep):
            return
        last = keep[-1]
        for item in self._s.events(include_hidden):
            if item.num > last:
                break
            i = np.searchsorted(keep, item.num)
            if i < len(keep) and keep[i] == item.num:
                yield item


def filter_stream(make_stream, expr: str) -> FilteredStream:
    """Only the events of ``make_stream()`` matching the sysdig filter ``expr``. Raises FilterError
    (a ValueError) with the column of the problem."""
    return FilteredStream(make_stream, expr)


def matching_numbers(cap, expr: str) -> np.ndarray:
    """The evt.num of every event of ``cap`` that ``expr`` selects, sorted: the compiled filter's
    mask over the loaded events frame when it holds every field the filter reads (the values the
    replay would compute, column for column), else over a replay of the capture."""
    nums = frame_numbers(cap, expr)
    if nums is not None:
        return nums
    s, it = cap.replay()
    return np.fromiter(iter_matching(_Bound(s, it), expr), dtype=np.int64)


def frame_numbers(cap, expr: str) -> np.ndarray | None:
    """``matching_numbers`` from ``cap.events`` alone; None when the capture is not loaded by the
    fast loader (or too big to be) or the filter reads a field the frame lacks."""
    if not (cap.loadable and cap.fast_loaded):
        return None
    compiled = compile_filter(expr, dialect=dialect_for(cap.compat))
    ev = cap.events
    if not all(f in ev.columns for f in compiled.fields):
        return None
    return ev["evt.num"].to_numpy(dtype=np.int64)[np.asarray(compiled.mask(ev), dtype=bool)]


class _Bound:
    def __init__(self, s, it):
        self._s, self._it = s, it

    def __getattr__(self, name):
        return getattr(self._s, name)

    def events(self, include_hidden: bool = False):
        return self._it
