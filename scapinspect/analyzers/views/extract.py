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

import numpy as np
import pandas as pd

from ..._i64 import i64
from ..._text import table_texts
from ...filters import FilterError, compile_filter
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
    compiled = compile_filter(flt, dialect="0.29" if cap.compat == "0.29" else "head") if flt else None
    filter_fields = sorted(compiled.fields) if compiled else []
    plan: list[tuple[str, Callable | None]] = [(f, view_getter(f)) for f in fields]
    if with_cpu:
        plan += [(CPU_TICKS, view_getter(CPU_TICKS)), (THREAD_SERIAL, None)]
    plan += [(_FILTER_PREFIX + f, _filter_getter(f)) for f in filter_fields]
    values, first_ts, last_ts, warnings = _replay(cap, plan, getattr(cap, "_selection", None))
    values = {name: table_texts(col) for name, col in values.items()}
    n = len(values[plan[0][0]]) if plan else 0
    if compiled is not None and n:
        frame = _filter_frame({f: values[_FILTER_PREFIX + f] for f in filter_fields})
        keep = np.flatnonzero(compiled.mask(frame))
        kept = {name: [col[i] for i in keep] for name, col in values.items()
                if not name.startswith(_FILTER_PREFIX)}
        n = len(keep)
    else:
        kept = {name: col for name, col in values.items() if not name.startswith(_FILTER_PREFIX)}
    delta = last_ts - first_ts if first_ts is not None else 0
    return Extracted(kept, n, delta, warnings)


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


def _replay(cap, plan, selection):
    """Run ``plan`` ((name, getter); getter None = thread serial) on every returned event, then on
    the end-of-file thread events. Returns (values, first ts, last ts, warnings)."""
    prof = profile(cap.compat)
    reader = ScapReader(cap.path, strict=getattr(cap, "strict", False))
    state = ViewState(et.head(), modern=prof.name != "0.29")
    stream = EventStream(reader, prof, state)
    values: dict[str, list] = {name: [] for name, _ in plan}
    cols = [(g, values[name]) for name, g in plan]
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
        if last_ts is not None:
            ts = last_ts - last_ts % ONE_S - 1
            for t in list(state.threads.values()):
                ev = Event(b"", 0, ts, t.tid, 0, SYSDIGEVENT_X, 0, [], [])
                _run(FieldContext(stream, Rendered(0, ev, EventContext(t, None, -1, 0, 0))), cols, state)
    finally:
        reader.close()
    return values, first_ts, last_ts, list(reader.warnings)


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
