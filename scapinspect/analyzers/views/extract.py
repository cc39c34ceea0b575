"""One replay of a capture that extracts the fields a view needs for every event sinsp returns.

What csysdig's table sees: every event ``sinsp::next`` returns, internal ones such as procinfo
included (the container descriptions that lead a file are consumed at open, and current captures'
user/group/container records never reach it), then at the end of the file one synthetic
``sysdigevent`` per thread left in the thread table, stamped with the last event's time rounded down
to the second minus 1 ns. The view filter is evaluated on all of them with the filter language's
vectorised mask.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..._i64 import i64
from ..._text import table_texts
from ...filters import FilterError, compile_filter, dialect_for
from ...filters import fields as ff
from ...parsers import eventtable as et
from ...parsers.reader import Event, ScapReader
from ...render.events import HIDDEN_041, LEADING_CONTAINER_EVENTS, EventStream, Rendered, profile
from ...state import fields as sf
from ...state.engine import EventContext
from ...state.fields import FieldContext
from ...state.tracking import ViewState
from .fields import CPU_TICKS, VIEW_OVERRIDES, view_getter

SYSDIGEVENT_X = 197
ONE_S = 1_000_000_000
THREAD_SERIAL = "_thread.serial"        # a getter-less column: the thread object's serial number
_FILTER_PREFIX = "filter:"
_NARROW_PREFIX = "narrow:"
_FILTER_OVERRIDES = {k: v for k, v in VIEW_OVERRIDES.items() if k != "evt.time"}


@dataclass
class Extracted:
    """Field values of the events a view's filter kept, in replay order (synthetic events last).

    Attributes:
        values: field name -> one value per kept event (None = not extractable).
        count: number of kept events.
        time_delta: last minus first event timestamp over all events, in ns.
        warnings: reader warnings (damage found in the file).
    """

    values: dict[str, list]
    count: int
    time_delta: int
    warnings: list[str]


def extract(cap, fields: list[str], flt: str | None, with_cpu: bool = False) -> Extracted:
    """Values of ``fields`` for the events of ``cap`` that pass the sysdig filter ``flt``; with
    ``with_cpu`` also the procinfo ticks and thread serials thread.cpu is computed from."""
    compiled = _compile(cap, flt) if flt else None
    filter_fields = sorted(compiled.fields) if compiled else []
    plan: list[tuple[str, Callable | None]] = [(f, view_getter(f)) for f in fields]
    if with_cpu:
        plan += [(CPU_TICKS, view_getter(CPU_TICKS)), (THREAD_SERIAL, None)]
    plan += [(_FILTER_PREFIX + f, _filter_getter(f)) for f in filter_fields]
    # a narrowed capture: its hidden events and the end-of-file events are tested against how it was
    # narrowed (its selection holds the numbers of the frame's rows only)
    narrowing = getattr(cap, "_narrowing", ())
    selection = getattr(cap, "_selection", None)
    narrow_fields = sorted({f for step in narrowing if step[0] == "filter"
                            for f in _compile(cap, step[1]).fields})
    cand_plan = [(_NARROW_PREFIX + f, _filter_getter(f)) for f in narrow_fields]
    rows = None
    if narrowing and selection is not None:
        rows = np.sort(cap._all_events["evt.num"].to_numpy(dtype=np.int64))
    values, first_ts, last_ts, warnings, cand = _replay(cap, plan, selection, cand_plan, rows)
    values = {name: table_texts(col) for name, col in values.items()}
    n = len(values[plan[0][0]]) if plan else 0
    mask = None
    if compiled is not None and n:
        frame = _filter_frame({f: values[_FILTER_PREFIX + f] for f in filter_fields})
        mask = np.asarray(compiled.mask(frame), dtype=bool)
    pos, ts, cvals = cand
    narrow = narrowing_mask(cap, len(pos), lambda: np.asarray(ts, dtype=np.int64),
                            passes_on(lambda f: cvals[_NARROW_PREFIX + f]))
    if narrow is not None and n:
        mask = np.ones(n, dtype=bool) if mask is None else mask.copy()
        mask[np.asarray(pos, dtype=np.int64)[~narrow]] = False
    if mask is not None:
        keep = np.flatnonzero(mask)
        kept = {name: [col[i] for i in keep] for name, col in values.items()
                if not name.startswith(_FILTER_PREFIX)}
        n = len(keep)
    else:
        kept = {name: col for name, col in values.items() if not name.startswith(_FILTER_PREFIX)}
    delta = last_ts - first_ts if first_ts is not None else 0
    return Extracted(kept, n, delta, warnings)


def _compile(cap, expr: str):
    """``expr`` compiled in the filter dialect of the capture's sysdig (0.29 or current)."""
    return compile_filter(expr, dialect=dialect_for(cap.compat))


def eof_time(last_ts: int) -> int:
    """The time of the end-of-file events: the last event's, rounded down to the second, minus 1 ns."""
    return last_ts - last_ts % ONE_S - 1


def narrowing_mask(cap, count: int, ts: Callable[[], np.ndarray],
                   passes: Callable[[Any], np.ndarray]) -> np.ndarray | None:
    """Which of ``count`` events that are not rows of the frame (hidden events, end-of-file events)
    pass the filters and time ranges a narrowed capture was narrowed by (Capture._narrowing), as
    csysdig tests every event it is given against its filter: ``ts()`` gives their times (asked only
    for a time range), ``passes(compiled)`` which of them pass a compiled filter. None when the capture
    was not narrowed."""
    steps = getattr(cap, "_narrowing", ())
    if not steps:
        return None
    keep = np.ones(count, dtype=bool)
    times = None
    for step in steps:
        if step[0] == "time":
            times = ts() if times is None else times
            t0, t1 = step[1], step[2]
            if t0 is not None:
                keep &= times >= t0
            if t1 is not None:
                keep &= times < t1
        elif count:
            keep &= np.asarray(passes(_compile(cap, step[1])), dtype=bool)
    return keep


def passes_on(values: Callable[[str], list]) -> Callable[[Any], np.ndarray]:
    """``narrowing_mask``'s ``passes`` for events whose filter field values ``values(field)`` gives."""
    def passes(compiled) -> np.ndarray:
        return compiled.mask(_filter_frame({f: table_texts(values(f)) for f in sorted(compiled.fields)}))
    return passes


def _filter_getter(name: str) -> Callable:
    g = _FILTER_OVERRIDES.get(name) or sf.getter(name)
    if g is None and name.startswith("evt.type.is."):
        g = view_getter(name)
    if g is None:
        raise FilterError(f"field {name!r} cannot be evaluated on events yet", 0)
    return g


def _filter_frame(values: dict[str, list]) -> pd.DataFrame:
    """Filter columns typed as the filter language expects them (by the field catalog)."""
    data = {}
    for name, vals in values.items():
        info = ff.lookup(name)
        kind = ff.type_kind(info.type) if info is not None else "string"
        if kind == "numeric":
            data[name] = pd.array(i64(vals), dtype="Int64")
        elif kind == "bool":
            data[name] = pd.array(vals, dtype="boolean")
        else:
            data[name] = pd.Series(vals, dtype=object)
    return pd.DataFrame(data)


def _replay(cap, plan, selection, cand_plan=(), rows=None):
    """Run ``plan`` ((name, getter); getter None = thread serial) on every returned event (in
    ``selection`` when given; with ``rows``, the frame's row numbers, also on the events that are not
    rows), then on the end-of-file thread events; ``cand_plan`` on those hidden and end-of-file
    events. Returns (values, first ts, last ts, warnings, (their positions among the values, their
    times, cand_plan's values))."""
    prof = profile(cap.compat)
    reader = ScapReader(cap.path, strict=getattr(cap, "strict", False))
    state = ViewState(et.head(), modern=prof.name != "0.29")
    stream = EventStream(reader, prof, state)
    values: dict[str, list] = {name: [] for name, _ in plan}
    cols = [(g, values[name]) for name, g in plan]
    cand_values: dict[str, list] = {name: [] for name, _ in cand_plan}
    cand_cols = [(g, cand_values[name]) for name, g in cand_plan]
    cand_pos: list[int] = []
    cand_ts: list[int] = []
    count = 0
    unseen = frozenset(e.id for e in prof.table.events if e.name in HIDDEN_041) if state.modern else frozenset()
    first_ts = last_ts = None
    leading = True
    try:
        for item in stream.events(include_hidden=True):
            etype = item.ev.type
            if leading and etype in LEADING_CONTAINER_EVENTS:
                continue
            leading = False
            if etype in unseen:
                continue
            if first_ts is None:
                first_ts = item.ev.ts
            last_ts = item.ev.ts
            if selection is None or _selected(selection, item.num):
                _run(FieldContext(stream, item), cols, state)
                count += 1
            elif rows is not None and not _selected(rows, item.num):
                fc = FieldContext(stream, item)
                _run(fc, cols, state)
                _run(fc, cand_cols, state)
                cand_pos.append(count)
                cand_ts.append(item.ev.ts)
                count += 1
        if last_ts is not None:
            ts = eof_time(last_ts)
            for t in list(state.threads.values()):
                ev = Event(b"", 0, ts, t.tid, 0, SYSDIGEVENT_X, 0, [], [])
                fc = FieldContext(stream, Rendered(0, ev, EventContext(t, None, -1, 0, 0)))
                _run(fc, cols, state)
                _run(fc, cand_cols, state)
                cand_pos.append(count)
                cand_ts.append(ts)
                count += 1
    finally:
        reader.close()
    return values, first_ts, last_ts, list(reader.warnings), (cand_pos, cand_ts, cand_values)


def _selected(selection, num: int) -> bool:
    i = int(np.searchsorted(selection, num))
    return i < len(selection) and selection[i] == num


def _run(fc: FieldContext, cols, state: ViewState) -> None:
    for g, col in cols:
        if g is None:
            t = fc.ctx.tinfo
            col.append(state.extra.serial(t) if t is not None else None)
        else:
            col.append(g(fc))


def cpu_values(ticks: list, serials: list, field: str) -> list:
    """thread.cpu[.user|.system] for the kept events: per thread, the tick delta since the previous
    kept procinfo event of that thread (0 the first time, capped at 100); None for other events.
    libsinsp keeps the previous value in per-thread storage that only extraction updates, so only
    the events the filter kept count."""
    pick = {"thread.cpu": lambda u, s: u + s, "thread.cpu.user": lambda u, s: u,
            "thread.cpu.system": lambda u, s: s}[field]
    last: dict[int, int] = {}
    out: list = []
    for tk, serial in zip(ticks, serials, strict=True):
        if tk is None or serial is None:
            out.append(None)
            continue
        q = pick(*tk)
        prev = last.get(serial, 0)
        out.append(min(float((q - prev) & 0xFFFFFFFFFFFFFFFF), 100.0) if prev != 0 else 0.0)
        last[serial] = q
    return out
