"""csysdig views computed from the loaded frame and the fast load's side data, without a replay.

The reference (extract.py) replays the whole capture through the state engine and calls a field
getter per event, ~8 s per view on 1M events. Most views only read what the fast load already knows
per shown event: the frame's columns (DEFAULT_COLUMNS), the thread and fd snapshot of each row
(fastpath.side) and per-type facts of the event table. For those, this module evaluates the view
filter with the vectorised filter on the frame, derives the view's fields per kept row with numpy
takes from the snapshot tables, merges the rows per key with numpy group operations (the rules of
aggregate.premerge) and hands the key rows to table.finish_rows, which does the rest exactly as for
the reference (csysdig's hash order, group-by, sort, cell values).

What the frame does not hold, and how it is dealt with:

* hidden events (procinfo, container descriptions, state-only events ...) and the end-of-file
  ``sysdigevent`` per thread are not rows. The covered views but io_by_type have filters an event of
  a hidden type present cannot pass (``_may_pass``, checked per capture against ``Side.hidden``);
  io_by_type has no filter, the hidden events are rows of it, which is exact when their values do
  not depend on their thread or an fd (``_Types.plain``, ``_with_hidden``); a user filter on it falls
  back. The time delta takes the hidden events into account.
* the end-of-file events (which pass ``syscall.type exists`` in 0.29 captures: syscalls,
  syscall_procs; and io_by_type) come from ``Side.eof_threads``, the thread table the load's pass
  ended with (the pass settles a thread removal that the hidden events it skips at the end of the
  file would have applied, as the reference does by parsing them).
* containers: the container table comes from the container events (hidden or rows) read with
  ViewState's parsers, in file order; the runc container of each thread is the ``runc`` entry of its
  thread snapshot (ViewExtras.container_of).
* proc.ppid of current (0.41) captures looks the parent up in the thread table (``_TableLog.ppid``).
* the thread-keyed views procs_cpu, threads and procs_errors (filter ``evt.type!=switch``, which the
  hidden events pass): the hidden events are rows of them, each with the thread it looked up by its tid
  (``_hidden_threads``: told from the sightings of that tid in the start table, the rows' snapshots
  and the end-of-file table, between which only rows the frame shows create or remove threads; falls
  back when a hidden event's thread is not determined that way). thread.cpu comes from the procinfo
  events' tick parameters, per tid (extract.cpu_values; falls back when one tid's procinfo events may
  have seen two thread objects); evt.count.error.* from the result and the type of the event's own fd
  (``Side.ctype``). A user filter is evaluated on the hidden events from the same thread facts
  (``_hidden_filter``; other filter fields fall back). page_faults (filter ``evt.type!=switch`` too)
  reads thread.pfmajor/pfminor: ViewState's ThreadMemory of the thread *object* the event saw (Side.objects:
  the load's pass numbers the ThreadInfo objects, per row, in the start and end tables and for the child a
  clone exit creates; a hidden event saw the object of the sightings around it, ``_Threads.hobj``), forward
  filled per object from the start table, clone exits, successful execve exits and switch events
  (``_memory``). procs and containers (the same thread-keyed rule; containers' own filter is evaluated
  on the hidden events) read what depends on the whole thread table from its changes, which the load's
  pass records (``Objects.table``, ``_TableLog``): proc.nthreads (the counted threads of the process
  when the getter ran), the main thread a switch event sets thread.vmsize/vmrss on, main-ness for the
  main-only memory fields and evt.count.procinfo, and proc.ppid of current captures (the parent's
  process looked up in the table).
* fd.directory is computed from the fd snapshot's name, which the load sanitizes (control characters
  dropped) while the reference getter does not: a directory whose name holds control characters
  would differ (the snapshots do not say whether sanitizing changed a name).

Anything else the fast path cannot reproduce exactly (a view or filter field it does not derive, an
I/O event whose fd snapshot is missing ...) makes ``fast_rows`` return None and the caller takes the
reference path.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..._i64 import i64
from ..._text import codes_among, table_text, table_texts
from ...fastpath.replay import FD_SNAPSHOT, K_NONE, K_SKIP_PROCINFO, THREAD_SNAPSHOT, type_tables
from ...fastpath.side import _Framed
from ...filters import fields as ff
from ...parsers import eventtable as et
from ...parsers import metadata as md
from ...parsers.params import ipv4_str, ipv6_str
from ...parsers.reader import Event, Section
from ...render.events import HIDDEN_041, LEADING_CONTAINER_EVENTS, profile
from ...state import fields as sf
from ...state.engine import CLONE_EXITS, EXECVE_EXITS, PROCEXIT, SCHEDSWITCH_6_E, StateEngine
from ...state.model import CL_IS_MAIN_THREAD, ROLE_NONE, FdInfo
from ...state.tracking import CONTAINER_E, CONTAINER_JSON_EVENTS, CONTAINER_TYPES, ViewState, match_runc
from ..fast_io import framed_ints, row_params
from . import aggregate as ag
from .definitions import AVG, LIST, MAX, NONE, SUM, TIME_AVG, Column, View
from .extract import ONE_S, SYSDIGEVENT_X, _compile, _filter_frame, narrowing_mask, passes_on
from .fieldinfo import CHARBUF, DOUBLE, IPADDR, UNSIGNED_BITS, field_type
from .fields import CPU_FIELDS, PROCINFO_E
from .table import Rows, finish_rows

# view id -> what an event must be to pass the view filter (see _may_pass)
COVERED: dict[str, str] = {
    "files": "fd", "directories": "fd", "connections": "fd", "sports": "fd", "slow_io": "fd",
    "port_bindings": "fd", "incoming_connections": "type", "file_opens": "type", "spy_users": "type",
    "errors": "res", "syscalls": "syscall", "syscall_procs": "syscall", "io_by_type": "all",
    "procs_cpu": "thread", "threads": "thread", "procs_errors": "thread", "page_faults": "thread",
    "procs": "thread", "containers": "thread",
}
_TYPE_NAMES = {"incoming_connections": frozenset({"accept"}), "file_opens": frozenset({"open"}),
               "spy_users": frozenset({"execve", "chdir"})}
# frame columns whose values are what the view filter's getters return (proc.ppid: legacy only;
# evt.time is the raw timestamp for filters, not the frame's datetime)
_FRAME_FILTER_COLUMNS = frozenset({
    "evt.num", "evt.rawtime", "evt.cpu", "thread.tid", "proc.pid", "proc.name", "evt.type", "evt.dir",
    "evt.category", "evt.rawres", "evt.res", "evt.failed", "fd.num", "fd.name", "fd.type", "fd.typechar",
    "evt.buflen", "evt.latency", "proc.exe", "proc.args", "user.name", "evt.is_io"})
CONTAINER_EVENTS = CONTAINER_JSON_EVENTS | {CONTAINER_E}
_T = {name: i for i, name in enumerate(THREAD_SNAPSHOT)}      # thread snapshot tuple positions
# per event type, the index of a parameter as the state engine names them (-1: none)
_STATE_PARAM_INDEX = {name: np.array([e.param_index(name) for e in et.head().events], dtype=np.int64)
                      for name in ("flags",)}
_F = {name: i for i, name in enumerate(FD_SNAPSHOT)}          # fd snapshot tuple positions
_SOURCE_BITS = et.EC_SYSCALL | et.EC_TRACEPOINT | et.EC_PLUGIN | et.EC_METAEVENT
_FD_FLAGS = et.EF_CREATES_FD | et.EF_USES_FD | et.EF_DESTROYS_FD
_FILE_DATA_FDS = (md.FD_FILE, md.FD_FILE_V2)
_NET_FDS = (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK, md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK)
# evt.buflen.* -> (category the event must have, or None for any I/O; fd types, or None for any)
_BUFLEN = {
    "evt.buflen.in": (et.EC_IO_READ, None), "evt.buflen.out": (et.EC_IO_WRITE, None),
    "evt.buflen.file": (None, _FILE_DATA_FDS), "evt.buflen.file.in": (et.EC_IO_READ, _FILE_DATA_FDS),
    "evt.buflen.file.out": (et.EC_IO_WRITE, _FILE_DATA_FDS), "evt.buflen.net": (None, _NET_FDS),
    "evt.buflen.net.in": (et.EC_IO_READ, _NET_FDS), "evt.buflen.net.out": (et.EC_IO_WRITE, _NET_FDS),
}
# the memory and page-fault fields derived here -> (the ThreadMemory attribute they read, the scale,
# whether only a main thread has it: views.fields._memory)
_MEMORY_FIELDS = {
    "thread.pfmajor": ("pfmajor", 1, False), "thread.pfminor": ("pfminor", 1, False),
    "thread.vmsize": ("vmsize_kb", 1, True), "thread.vmrss": ("vmrss_kb", 1, True),
    "thread.vmsize.b": ("vmsize_kb", 1024, True), "thread.vmrss.b": ("vmrss_kb", 1024, True),
    "proc.vmsize": ("vmsize_kb", 1, False), "proc.vmrss": ("vmrss_kb", 1, False),
}


class _Fallback(Exception):
    """The fast path cannot give the reference's answer here."""


def fast_rows(cap, view: View, layout: tuple[Column, ...], flt: str | None,
              containers: bool = True) -> tuple[Rows, int] | None:
    """(rows, time delta) of ``view`` over ``cap`` with the combined filter ``flt``, or None when the
    reference path must answer (uncovered view, capture read by the reference reader, a corner case
    the frame cannot reproduce). Filter syntax errors are raised as the reference raises them."""
    return _attempt(cap, view, layout, flt, containers)[0]


def why_not(cap, view: View, layout: tuple[Column, ...], flt: str | None, containers: bool = True) -> str | None:
    """Why ``fast_rows`` falls back for this view (None when it does not): for tests and diagnostics."""
    return _attempt(cap, view, layout, flt, containers)[1]


def _attempt(cap, view: View, layout: tuple[Column, ...], flt: str | None,
             containers: bool) -> tuple[tuple[Rows, int] | None, str | None]:
    """(rows and time delta, None) from the fast path, or (None, why it falls back)."""
    if view.id not in COVERED:
        return None, f"view {view.id!r} is not covered"
    get_side = getattr(cap, "_side", None)
    if get_side is None:
        return None, "not a Capture"
    side = get_side()
    if side is None:
        return None, "the capture was read by the reference reader"
    try:
        return _view_rows(cap, side, cap._all_events, view, layout, flt, containers), None
    except _Fallback as e:
        return None, str(e)


# -- per capture ----------------------------------------------------------------------------------------
@dataclass
class _Summary:
    """What the capture holds beyond the frame's rows, as the views need it."""
    time_delta: int                 # last minus first event timestamp (extract.py's time_delta)
    last_ts: int | None             # the last event's timestamp (None: no event)
    hidden_types: frozenset[int]    # types of the hidden events views see
    ipv4_addrs: frozenset[bytes]    # the machine's interface addresses (libsinsp's is-local test)
    ipv6_nets: frozenset[bytes]
    tables: list                    # the container table after 0, 1, 2 ... container events
    table_of_row: np.ndarray | None  # per row, the index in ``tables`` of the table it saw (None: 0)
    seen_at: np.ndarray             # per hidden event views see, in file order: the rows before it
    seen_types: np.ndarray          # and its type
    seen: np.ndarray | None = None  # and its index among the Side's hidden events

    @cached_property
    def table_ips(self) -> list[frozenset[bytes]]:
        """Per container table, the addresses of its containers."""
        return [frozenset(c.ip for c in t.values()) for t in self.tables]


class _Types:
    """Per-type facts of one profile's event table (what the view getters test on the event type)."""

    def __init__(self, compat: str) -> None:
        self.legacy = compat == "0.29"
        self.prof = profile(compat)
        table = self.prof.table.events
        self.names = [e.name for e in table]
        cat = np.array([e.category for e in table], dtype=np.int64)
        flags = np.array([e.flags for e in table], dtype=np.int64)
        self.cat = cat & ~_SOURCE_BITS                      # views.fields._category
        self.fd_type_flags = (flags & _FD_FLAGS) != 0        # FieldContext.fd_related
        if self.legacy:   # views.fields._syscall_type
            ok = (flags & (et.EC_INTERNAL | et.EF_SKIPPARSERESET)) == 0
            ok[SCHEDSWITCH_6_E] = False
        else:
            ok = (cat & et.EC_SYSCALL) != 0
        self.syscall_ok = ok
        res = []
        for e in table:             # FieldContext.res
            names = [p.name for p in e.params]
            res.append("res" in names or bool(e.flags & et.EF_CREATES_FD and e.id % 2 == 1 and "fd" in names))
        self.has_res = np.array(res, dtype=bool)
        ids = np.arange(len(table))
        self.internal = (cat & et.EC_INTERNAL) != 0
        self.unseen = np.array([not self.legacy and e.name in HIDDEN_041 for e in table], dtype=bool)
        self.leading = np.isin(ids, list(LEADING_CONTAINER_EVENTS))
        self.container = np.isin(ids, list(CONTAINER_EVENTS))
        # the events that change nothing in the state but apply the pending removals (no thread to
        # look up, no handler: the hidden ones are the events the load's pass skips, see
        # fastpath.loader._columns), and the thread exits (whose removal waits for the next event)
        st = StateEngine(et.head(), modern=not self.legacy)
        kind, _, hmode, *_ = type_tables(st.table, self.prof.table, st._handlers, st.modern)
        self.inert = ((np.isin(kind, (K_NONE, K_SKIP_PROCINFO))) & (np.array(hmode) == 0))[:len(table)]
        self.exits_thread = np.isin(ids, list(PROCEXIT))
        # hidden events whose getters' values do not depend on the thread: no fd (for the state either),
        # and a latency that is 0 or missing (internal events; current libs)
        head = et.head().events
        no_fd = ~self.fd_type_flags & np.array([not head[i].flags & _FD_FLAGS for i in ids], dtype=bool)
        self.plain = no_fd & (self.internal | (not self.legacy))
        # hidden events that neither create nor remove a thread (no thread lookup that creates one, no
        # thread handler): the threads the hidden events see can then be told from the rows (_Threads)
        self.keeps_threads = (np.isin(kind, (K_NONE, K_SKIP_PROCINFO)) & (np.array(hmode) != 6))[:len(table)]
        self.clone_exit = np.isin(ids, list(CLONE_EXITS))


_TYPES: dict[str, _Types] = {}


def _types(compat: str) -> _Types:
    """The type facts of profile ``compat`` (built once)."""
    got = _TYPES.get(compat)
    if got is None:
        got = _TYPES[compat] = _Types(compat)
    return got


class _Base:
    """Per capture (one Side): per-snapshot values, full-frame arrays and the summary, computed on
    first use. Holds neither the frame nor the Side (they own it, see ``_base``)."""

    def __init__(self, side, compat: str) -> None:
        self.types = _types(compat)
        self.legacy = self.types.legacy
        self.n = len(side.tsnap)
        self.etype = side.etype.astype(np.int64)
        self.tsnap = side.tsnap.astype(np.int64)
        self.fsnap = side.fsnap.astype(np.int64)
        self._summary: _Summary | None = None
        self._cols: dict[str, object] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.thread_rows = side.thread_rows
        self.fd_rows = side.fd_rows

    def summary(self, side, df: pd.DataFrame) -> _Summary:
        """The capture's _Summary (computed on first use)."""
        if self._summary is None:
            self._summary = self.memo("summary", lambda: _hidden_summary(self, side, df))
        return self._summary

    def memo(self, key: str, make: Callable[[], object]):
        """A full-frame array computed once per capture: a second thread asking while the first
        computes it waits for that (the TUI's workers ask for the same ones at once)."""
        got = self._cols.get(key)
        if got is None:
            with self._locks_lock:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:
                got = self._cols.get(key)
                if got is None:
                    got = self._cols[key] = make()
        return got

    # per fd snapshot ---------------------------------------------------------------------------------
    @cached_property
    def fd_infos(self) -> list[FdInfo]:
        """Per fd snapshot, an FdInfo holding what the snapshot recorded (for the state getters)."""
        out = []
        for r in self.fd_rows:
            f = FdInfo(r[_F["type"]], r[_F["name"]], r[_F["l4proto"]])
            f.role, f.sip, f.sport = r[_F["role"]], r[_F["sip"]], r[_F["sport"]]
            f.dip, f.dport = r[_F["dip"]], r[_F["dport"]]
            out.append(f)
        return out

    @cached_property
    def fd_type(self) -> np.ndarray:
        """libscap fd type per fd snapshot, then -1 for rows with no snapshot (index -1)."""
        return np.array([f[_F["type"]] for f in self.fd_rows] + [-1], dtype=np.int64)

    @cached_property
    def exelines(self) -> list[str]:
        """proc.exeline per thread snapshot: exe, a space, the arguments."""
        return [t[_T["exe"]] + " " + t[_T["args"]] for t in self.thread_rows]


_BASES: dict[int, tuple[weakref.ref, _Base]] = {}


def _base(side, compat: str) -> _Base:
    """The _Base of a Side, kept while the Side lives."""
    key = id(side)
    got = _BASES.get(key)
    if got is not None and got[0]() is side:
        return got[1]
    b = _Base(side, compat)
    _BASES[key] = (weakref.ref(side, lambda _r, key=key: _BASES.pop(key, None)), b)
    return b


def _hidden_summary(base: _Base, side, df: pd.DataFrame) -> _Summary:
    """What extract.py's replay sees beyond the rows, from the Side's hidden events (every event of
    the capture the frame leaves out, in file order, with the number of rows before each)."""
    hid = side.hidden
    if hid is None:
        raise _Fallback("the side data has no hidden events")
    types = base.types
    n = base.n
    het = np.asarray(hid.etype, dtype=np.int64)
    before = np.asarray(hid.before, dtype=np.int64)
    # the container descriptions leading the file are consumed at open; unseen types never reach views
    lead = types.leading[het] & (before == 0)
    first = int(np.argmin(lead)) if not lead.all() else len(het)
    seen = np.flatnonzero(~types.unseen[het])
    seen = seen[seen >= first]
    raw = df["evt.rawtime"]
    first_ts = last_ts = None
    if n:
        first_ts, last_ts = int(raw.iloc[0]), int(raw.iloc[-1])
    if len(seen):
        if not n or before[seen[0]] == 0:
            first_ts = int(hid.ts[seen[0]])
        if not n or before[seen[-1]] == n:
            last_ts = int(hid.ts[seen[-1]])
    present = set(het[seen].tolist())       # (the end-of-file events are handled apart: _eof_rows)
    seen_at, seen_types = before[seen], het[seen]
    delta = last_ts - first_ts if first_ts is not None else 0
    # the machine's interfaces, from the metadata blocks before the events (the mapped capture, read
    # without framing the rows' parameters)
    v = side.rows._v
    sec = _section(v)
    v4 = frozenset(bytes(i.addr) for i in sec.interfaces if i.family == 4)
    v6 = frozenset(bytes(i.addr)[:8] for i in sec.interfaces if i.family == 6)
    # the container table as each row saw it: container events (hidden or rows) in file order, a hidden
    # one sorting before the row it precedes, a row after its own event
    tables: list = [{}]
    table_of_row = None
    hpos = np.flatnonzero(types.container[het])
    rpos = np.flatnonzero(types.container[base.etype])
    if len(hpos) or len(rpos):
        keys = np.concatenate([2 * before[hpos], 2 * rpos + 1])
        order = np.argsort(keys, kind="stable")
        events = _events(hid, hpos, v) + _events(side.rows, rpos, v)
        tables += _container_tables([events[i] for i in order.tolist()], base.legacy)
        table_of_row = np.searchsorted(keys[order], 2 * np.arange(n) + 1, side="right")
    return _Summary(delta, last_ts, frozenset(present), v4, v6, tables, table_of_row, seen_at, seen_types, seen)


def _section(v: dict) -> Section:
    """The first section's metadata (interfaces, proc list ...), parsed from the mapped capture."""
    u8, u32 = v["u8"], v["u32"]
    size = len(u8)
    sec = Section(0)
    pos = int(u32[4]) if size >= 8 else size
    while pos + 8 <= size:
        btype, blen = int(u32[pos]), int(u32[pos + 4])
        if btype in md.EVENT_BLOCKS:
            break
        if btype == md.SHB or blen < 12 or pos + blen > size:
            raise _Fallback("unexpected block before the events")
        try:
            parsed = md.parse_block(btype, bytes(u8[pos:pos + blen]), 8, blen - 4)
        except md.CorruptBlock as e:
            raise _Fallback("damaged metadata") from e
        if parsed is not None:
            md.merge_into(sec, *parsed)
        pos += blen
    return sec


def _events(framed: _Framed, idx: np.ndarray, v: dict) -> list[Event]:
    """The reader's Events for events ``idx`` of a fastpath.side framing (rows or hidden events),
    framing only those."""
    if not len(idx):
        return []
    sub = _Framed(v, framed.evoff[idx], framed.version[idx], framed._table)
    params = sub.params
    out = []
    for i in range(len(idx)):
        one = np.array([i])
        poffs, lens = [], []
        for k in range(int(params.nparams[i])):
            pos, n = params.locate(one, k)
            poffs.append(int(pos[0]))
            lens.append(int(n[0]))
        out.append(Event(memoryview(v["u8"]), 0, int(sub.ts[i]), int(sub.tid[i]), 0, int(sub.etype[i]), 0,
                         tuple(lens), tuple(poffs)))
    return out


def _container_tables(events: list[Event], legacy: bool) -> list[dict]:
    """The container table (ViewState.extra.containers) after each of the container ``events``, read
    by ViewState's own parsers."""
    state = ViewState(et.head(), modern=not legacy)
    out = []
    for ev in events:
        if ev.type == CONTAINER_E:
            state._track_container_e(ev)
        else:
            state._track_container_json(ev)
        out.append(dict(state.extra.containers))
    return out


def _may_pass(types: _Types, view_id: str, etype: int) -> bool:
    """Whether an event of type ``etype`` (hidden, without an fd) might pass the filter of the view:
    conservative, from the part of the view filter every event must satisfy."""
    rule = COVERED[view_id]
    if rule == "fd":
        return bool(types.fd_type_flags[etype])
    if rule == "type":
        return etype in (0, 1) or types.names[etype] in _TYPE_NAMES[view_id]
    if rule == "res":
        return bool(types.has_res[etype])
    if rule == "all":
        return True
    if rule == "thread":        # evt.type!=switch
        return types.names[etype] != "switch"
    return bool(types.syscall_ok[etype])


# -- one view -------------------------------------------------------------------------------------------
@dataclass
class _Vals:
    """One field for a set of rows: integers, or codes into ``labels`` (strings); ``valid`` marks
    the rows where the field was extracted."""
    values: np.ndarray
    valid: np.ndarray
    labels: list | None = None

    @property
    def text(self) -> bool:
        return self.labels is not None


_EVERY_THREAD = "evt.type!=switch"     # the filter of the thread-keyed views: every hidden event passes it


def _view_rows(cap, side, df: pd.DataFrame, view: View, layout: tuple[Column, ...], flt: str | None,
               containers: bool) -> tuple[Rows, int]:
    base = _base(side, cap.compat)
    if len(df) != base.n:
        raise _Fallback("the frame and its side data differ")
    summ = base.summary(side, df)
    every = COVERED[view.id] == "all"
    threaded = COVERED[view.id] == "thread"
    if threaded:
        blocked = []        # the hidden events are rows of the view, with the thread each saw (_Threads)
    elif every:
        # every event passes: the hidden ones are rows of the view (_with_hidden)
        if flt:
            raise _Fallback("a filter on every event needs the hidden events' fields")
        blocked = [t for t in summ.hidden_types if not base.types.plain[t]]
    else:
        blocked = [t for t in summ.hidden_types if _may_pass(base.types, view.id, t)]
    if blocked:
        raise _Fallback(f"hidden events of type {base.types.names[blocked[0]]} may pass the view filter")
    fields = [c.field for c in layout]
    rows = np.arange(base.n)
    keep = cap._kept_positions()
    narrowed = keep is not None
    eof = _eof_rows(base, side, df, summ) if _may_pass(base.types, view.id, SYSDIGEVENT_X) else None
    eof_keep = None
    if flt:
        compiled = _compile(cap, flt)
        need = set(compiled.fields) | set(fields)
        _check_fields(base, need)
        frame = pd.DataFrame({f: _filter_column(base, side, df, summ, f) for f in sorted(compiled.fields)},
                             copy=False)
        mask = compiled.mask(frame)
        keep = mask if keep is None else keep & mask
        if eof is not None and eof.count:
            eof_keep = np.asarray(compiled.mask(_filter_frame({f: table_texts(eof.values(f))
                                                                for f in sorted(compiled.fields)})), dtype=bool)
    else:
        _check_fields(base, set(fields))
    if keep is not None:
        rows = np.flatnonzero(keep)
    vals = [_field(base, side, df, summ, f, rows) for f in fields]
    # a narrowed capture: its hidden events as its filters and time ranges select them (its selection
    # holds rows only; one narrowed without saying how has none)
    narrow = _hidden_narrowing(cap, base, side, df, summ) if narrowed and len(summ.seen_at) else None
    if every and (not narrowed or narrow is not None):
        vals = _with_hidden(base, summ, view, layout, vals, rows, narrow)
    hidden = plan = None
    if threaded and (not narrowed or narrow is not None) and len(summ.seen_at):
        hkeep = narrow
        if flt != _EVERY_THREAD:     # (a filter beyond evt.type!=switch: evaluated on the hidden events too)
            got = _hidden_filter(base, side, df, summ, compiled)
            hkeep = got if hkeep is None else hkeep & got
        hidden, hat = _hidden_thread_values(base, side, df, summ, fields, None if keep is None else rows, hkeep)
        plan = _Spread(len(rows), hat)
    if eof is not None and eof.count and narrowed and cap._narrowing:
        narrow = narrowing_mask(cap, eof.count, lambda: np.full(eof.count, eof.ts, dtype=np.int64),
                                passes_on(eof.values))
        eof_keep = narrow if eof_keep is None else eof_keep & narrow
    tail: list[list] = [[] for _ in fields]
    if eof is not None and eof.count:
        # the end-of-file events come last, whatever the capture's narrowing (extract._replay)
        picked = np.arange(eof.count) if eof_keep is None else np.flatnonzero(eof_keep)
        tail = [[eof.values(f)[i] for i in picked.tolist()] for f in fields]
    if plan is not None:
        vals = [_insert(v, plan, h, extra) for v, h, extra in zip(vals, hidden, tail, strict=True)]
    else:
        vals = [_append(v, extra) for v, extra in zip(vals, tail, strict=True)]
    keys, cols = _event_cells(view, layout, vals)
    return finish_rows(view, layout, keys, cols, summ.time_delta, containers), summ.time_delta


def _check_fields(base: _Base, names: set[str]) -> None:
    """Fall back unless every field in ``names`` is derived here (as the reference getter has it)."""
    for f in names:
        if not (f in _FRAME_FILTER_COLUMNS or f in _DERIVED or f in _BUFLEN or f == "evt.time"
                or f.startswith("evt.type.is.") or f == "proc.ppid"):
            raise _Fallback(f"field {f} is not derived from the frame")


# -- hidden events as rows -------------------------------------------------------------------------------
def _with_hidden(base: _Base, summ: _Summary, view: View, layout: tuple[Column, ...],
                 vals: list[_Vals], rows: np.ndarray, keep: np.ndarray | None = None) -> list[_Vals]:
    """The kept rows' (``rows``) values with the hidden events views see (those ``keep`` keeps) merged
    in, in file order (their types are ``_Types.plain``)."""
    at = summ.seen_at
    st = summ.seen_types
    if keep is not None:
        at, st = at[keep], st[keep]
    if not len(at):
        return vals
    plan = _Spread(len(rows), np.searchsorted(rows, at))
    out = []
    for c, v in zip(layout, vals, strict=True):
        hv, hok = _hidden_field(base.types, view, layout, c.field, st)
        if v.labels is not None and hok.any():
            raise _Fallback(f"text field {c.field} of hidden events")
        fill = np.where(hok, hv, -1 if v.labels is not None else 0).astype(v.values.dtype)
        out.append(_Vals(plan.put(v.values, fill), plan.put(v.valid, hok), v.labels))
    return out


def _hidden_narrowing(cap, base: _Base, side, df, summ: _Summary) -> np.ndarray | None:
    """Which hidden events views see a narrowed capture keeps: those its filters and time ranges
    select (Capture._narrowing); None when it does not say how it was narrowed."""
    seen = summ.seen
    return narrowing_mask(cap, len(seen), lambda: np.asarray(side.hidden.ts[seen]).astype(np.int64),
                          lambda compiled: _hidden_filter(base, side, df, summ, compiled))


def _hidden_field(types: _Types, view: View, layout: tuple[Column, ...], name: str,
                  etypes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, valid) the views' getter of ``name`` gives hidden events of types ``etypes`` (plain)."""
    n = len(etypes)
    ones, none = np.ones(n, dtype=np.int64), np.zeros(n, dtype=bool)
    if name == "evt.count":
        return ones, ~none
    if name == "evt.count.exit":
        return ones, etypes % 2 == 1
    if name.startswith("evt.type.is."):
        return (etypes == int(name.rsplit(".", 1)[1])).astype(np.int64), ~none
    if name in ("fd.type", "fd.name") or name in _BUFLEN:
        return ones, none       # not fd-related, no fd: the fd fields and the buffer lengths are missing
    if name == "evt.latency":
        # 0 (current libs, or no thread) or missing (an internal event of a thread): the same cell when
        # a missing value counts as 0 and the count does not reach the table (no average, no group-by)
        ok = view.use_defaults and field_type(name).default() == 0 and not any(c.groupby_key for c in layout) \
            and all(c.agg != AVG for c in layout if c.field == name)
        if not ok:
            raise _Fallback("the latency of hidden events")
        return np.zeros(n, dtype=np.int64), ~none
    raise _Fallback(f"field {name} of hidden events")


# -- the end-of-file events ---------------------------------------------------------------------------
def _eof_threads(base: _Base, side) -> tuple[list[tuple], list]:
    """The threads extract._replay finds in the thread table at the end of the file, in table order,
    as THREAD_SNAPSHOT tuples, and their runc containers (None outside): the table the load's pass
    ended with (it settles a removal the skipped events at the end would have applied)."""
    threads = side.eof_threads
    if threads is None:
        raise _Fallback("the side data does not hold the thread table at the end of the file")
    threads = list(threads)
    return threads, [t[_T["runc"]] for t in threads]


class _Eof:
    """extract._replay's synthetic end-of-file events, one per thread left in the table (a
    ``sysdigevent`` exit with no parameters, stamped with the last event's time rounded down to the
    second minus 1 ns): the values the views' getters give them."""

    def __init__(self, base: _Base, summ: _Summary, threads: list[tuple], containers: list, ts: int):
        self.base, self.summ, self.threads, self.containers, self.ts = base, summ, threads, containers, ts
        self.count = len(threads)
        self._memo: dict[str, list] = {}
        # a memory field, proc.nthreads and proc.ppid (current captures) of the threads (_eof_rows)
        self.memory: Callable[[str], list] | None = None
        self.nthreads: Callable[[], list] | None = None
        self.ppid: Callable[[], list] | None = None

    def values(self, name: str) -> list:
        got = self._memo.get(name)
        if got is None:
            got = self._memo[name] = self._values(name)
        return got

    def _values(self, name: str) -> list:
        types, n = self.base.types, self.count
        info = types.prof.table.events[SYSDIGEVENT_X]
        per = {"proc.pid": "pid", "proc.name": "comm", "proc.exe": "exe", "proc.args": "args", "user.name": "user",
               "thread.tid": "tid", "user.uid": "uid", "proc.tty": "tty"}
        if name in per:
            return [t[_T[per[name]]] for t in self.threads]
        if name in ("proc.vpid", "thread.vtid"):
            key = _T["vpid" if name == "proc.vpid" else "vtid"]
            return [None if t[key] == -1 else t[key] for t in self.threads]
        if name in _MEMORY_FIELDS or name == "proc.nthreads" or (name == "proc.ppid" and not types.legacy):
            if self.memory is None or self.nthreads is None or self.ppid is None:
                raise _Fallback("the thread objects at the end of the file are not known")
            return self.memory(name) if name in _MEMORY_FIELDS else \
                self.nthreads() if name == "proc.nthreads" else self.ppid()
        if name in ("evt.count.procinfo", "evt.count.threadinfo"):
            return [None if types.legacy else 0] * n
        if name in CPU_FIELDS or (name in _ERROR_KINDS and not types.has_res[SYSDIGEVENT_X]):
            return [None] * n       # (no procinfo ticks; no result to count)
        if name == "proc.ppid" and types.legacy:
            return [t[_T["ppid"]] for t in self.threads]
        if name == "proc.exeline":
            return [t[_T["exe"]] + " " + t[_T["args"]] for t in self.threads]
        if name in ("container.name", "container.id", "container.type", "container.image"):
            out = []
            for c in self.containers:
                if name == "container.id":
                    out.append("host" if c is None else c[0])
                    continue
                cids = _Cids()
                k = -1 if c is None else cids.add(c)
                out.append(_named_container(self.summ, cids, name.split(".")[1])(k, len(self.summ.tables) - 1))
            return out
        if name == "evt.type":
            return [types.names[SYSDIGEVENT_X]] * n
        if name == "syscall.type":
            return [types.names[SYSDIGEVENT_X] if types.syscall_ok[SYSDIGEVENT_X] else None] * n
        if name == "evt.latency" and (info.category & et.EC_INTERNAL or not types.legacy):
            return [None if info.category & et.EC_INTERNAL else 0] * n
        if name == "evt.dir":
            return ["<"] * n
        if name in ("evt.count", "evt.count.exit"):
            return [1] * n
        if name == "evt.failed":
            return [False] * n
        if name in ("evt.num", "evt.cpu"):
            return [0] * n
        if name in ("evt.rawtime", "evt.time"):         # filters read evt.time as the raw time
            return [self.ts] * n
        if name.startswith("evt.type.is."):
            return [int(SYSDIGEVENT_X == int(name.rsplit(".", 1)[1]))] * n
        nothing = ("evt.res", "evt.rawres", "evt.buflen", "evt.count.error") + tuple(_BUFLEN)
        if name in nothing or (name.startswith("fd.") and not types.fd_type_flags[SYSDIGEVENT_X]):
            return [None] * n
        raise _Fallback(f"field {name} of the end-of-file events")


def _eof_rows(base: _Base, side, df, summ: _Summary) -> _Eof | None:
    """The end-of-file events of the capture (None when there are none: an empty capture)."""
    if summ.last_ts is None:
        return None
    threads, containers = _eof_threads(base, side)
    eof = _Eof(base, summ, threads, containers, summ.last_ts - summ.last_ts % ONE_S - 1)
    obj = getattr(side, "objects", None)
    if obj is not None and len(obj.eof) == len(threads):
        objs = np.asarray(obj.eof, dtype=np.int64)
        at = np.full(len(threads), _EOF_KEY, dtype=np.int64)
        pids = np.array(i64([t[_T["pid"]] for t in threads]), dtype=np.int64)
        eof.memory = lambda name: _memory_values(base, side, df, summ, name, objs,
                                                 np.full(len(threads), 2 * base.n + 2, dtype=np.int64), at).tolist()
        eof.nthreads = lambda: _table_log(base, side).nthreads(pids, at).tolist()
        eof.ppid = lambda: (lambda v, ok: [x if k else None for x, k in zip(v.tolist(), ok.tolist(), strict=True)])(
            *_table_log(base, side).ppid(objs, pids, at))
    return eof


def _append(v: _Vals, extra: list) -> _Vals:
    """``v`` followed by the values ``extra`` (None: missing)."""
    if not extra:
        return v
    ok = np.array([x is not None for x in extra], dtype=bool)
    if v.labels is None:
        if any(isinstance(x, str) for x in extra):
            raise _Fallback("text values in a numeric column")
        vals = np.array([0 if x is None else int(x) for x in extra], dtype=np.int64)
        return _Vals(np.concatenate([v.values, vals]), np.concatenate([v.valid, ok]))
    labels = list(v.labels)
    index = {x: i for i, x in enumerate(labels)}
    codes = []
    for x in extra:
        if x is None:
            codes.append(-1)
            continue
        x = table_text(str(x))
        j = index.get(x)
        if j is None:
            j = index[x] = len(labels)
            labels.append(x)
        codes.append(j)
    return _Vals(np.concatenate([v.values, np.array(codes, dtype=np.int64)]), np.concatenate([v.valid, ok]),
                 labels)


# -- field values -----------------------------------------------------------------------------------------
def _canon(labels: list) -> tuple[list, np.ndarray | None]:
    """Labels as the tables show them (table_text), merged when two become equal: (labels, code map
    or None when nothing changed)."""
    texts = [table_text(x) for x in labels]
    out: list = []
    remap = codes_among(out, {}, texts)
    if len(out) == len(texts) and np.array_equal(remap[:-1], np.arange(len(texts))):
        return out, None
    return out, remap


def _cat_vals(base: _Base, df: pd.DataFrame, col: str) -> tuple[np.ndarray, list]:
    """(codes, labels) of a categorical frame column, labels as the tables show them."""
    def make():
        s = df[col]
        codes = s.cat.codes.to_numpy().astype(np.int64)
        labels, remap = _canon(list(s.cat.categories))
        if remap is not None:
            codes = remap[codes]
        return codes, labels
    return base.memo("cat:" + col, make)


def _int_vals(base: _Base, df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, valid) of an Int64 (or boolean) frame column."""
    def make():
        s = df[col]
        valid = s.notna().to_numpy()
        return s.to_numpy(dtype=np.int64, na_value=0), valid
    return base.memo("int:" + col, make)


def _by_snapshot(snap: np.ndarray, per: list, rows: np.ndarray) -> _Vals:
    """A text value per snapshot (None for none) spread to ``rows`` by their snapshot ids (-1: none)."""
    labels, remap = _canon(per)
    s = snap[rows]
    codes = np.where(s >= 0, s, len(per))
    table = np.append(np.arange(len(per)) if remap is None else remap[:-1], -1)
    codes = table[codes]
    return _Vals(codes, codes >= 0, labels)


def _by_snapshot_int(snap: np.ndarray, per: list, rows: np.ndarray) -> _Vals:
    """An integer (or None) per snapshot spread to ``rows``."""
    vals = np.array([0 if v is None else int(v) for v in per] + [0], dtype=np.int64)
    ok = np.array([v is not None for v in per] + [False], dtype=bool)
    s = snap[rows]
    idx = np.where(s >= 0, s, len(per))
    return _Vals(vals[idx], ok[idx])


def _fd_directory(base: _Base, df: pd.DataFrame, rows: np.ndarray) -> _Vals:
    """fd.directory: the directory of a file or directory fd; for an fd-related event whose fd is not
    in the table, the directory of the name the event gives (its fd.name)."""
    def make() -> tuple[np.ndarray, list]:
        per = [sf._directory(None, f) for f in base.fd_infos]
        codes, labels = _cat_vals(base, df, "fd.name")
        dirs = [sf.directory_of(x) for x in labels]
        all_labels, remap = _canon(per + dirs)
        fs = base.fsnap
        idx = np.where(fs >= 0, fs, np.where((fs == -2) & (codes >= 0), len(per) + codes, -1))
        table = np.append(np.arange(len(all_labels)) if remap is None else remap[:-1], -1)
        return table[np.where(idx >= 0, idx, len(per) + len(dirs))], all_labels
    out, labels = base.memo("fd.directory", make)
    c = out[rows]
    return _Vals(c, c >= 0, labels)


class _Cids(list):
    """Container ids (12 characters) in the order first met, with ``engines``: each one's engine type
    (the runc match of its threads' cgroups) and ``add`` to extend both."""

    def __init__(self) -> None:
        super().__init__()
        self.engines: list[int] = []
        self.index: dict[str, int] = {}

    def add(self, runc: tuple) -> int:
        j = self.index.get(runc[0])
        if j is None:
            j = self.index[runc[0]] = len(self)
            self.append(runc[0])
            self.engines.append(runc[1])
        elif self.engines[j] != runc[1]:
            raise _Fallback("one container id matched by two engines")
        return j

    def copy(self) -> _Cids:
        out = _Cids()
        for c, e in zip(self, self.engines, strict=True):
            out.add((c, e))
        return out


def _containers(base: _Base, side, summ: _Summary) -> tuple[np.ndarray, _Cids]:
    """(per thread snapshot the index of its thread's runc container in the list, -1 outside any, then
    -2 for "no thread"; the container ids)."""
    def make() -> tuple[np.ndarray, _Cids]:
        cids = _Cids()
        codes = [-1 if c is None else cids.add(c) for c in _snapshot_containers(side)]
        return np.array(codes + [-2], dtype=np.int64), cids
    return base.memo("containers", make)


def _snapshot_containers(side) -> list:
    """Per thread snapshot, the runc container ``(12-character id, engine type)`` of its thread, None
    outside containers (ViewExtras.container_of)."""
    j = _T["runc"]
    return [t[j] for t in side.thread_rows]


def _groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group number of each element, numbered in the order groups first appear; the position of each
    group's first element): a hash factorization, no sort."""
    gid = pd.factorize(key)[0].astype(np.int64)
    if not len(gid):
        return gid, gid
    # groups are numbered as they appear: a group starts where the number passes all before it
    seen = np.maximum.accumulate(gid)
    first = np.flatnonzero(np.concatenate([[True], gid[1:] > seen[:-1]]))
    return gid, first


def _tuples(cols: list[np.ndarray], fn: Callable, text: bool) -> _Vals:
    """``fn(*values)`` per row of the integer columns ``cols`` (each >= -2), evaluated once per distinct
    combination; text (None = missing) or integers (None = missing)."""
    n = len(cols[0])
    key = np.zeros(n, dtype=np.int64)
    total = 1
    for c in cols:
        c2 = c.astype(np.int64) + 2
        span = int(c2.max()) + 1 if n else 1
        total *= span
        if total >= 1 << 62:
            raise _Fallback("too many combinations")
        key = key * span + c2
    inv, first = _groups(key)
    got = [fn(*a) for a in zip(*(c[first].tolist() for c in cols), strict=True)]
    if text:
        labels, remap = _canon(got)
        codes = (np.arange(len(got)) if remap is None else remap[:-1])[inv]
        return _Vals(codes.astype(np.int64), codes >= 0, labels)
    vals = np.array([0 if x is None else int(x) for x in got], dtype=np.int64)
    ok = np.array([x is not None for x in got], dtype=bool)
    return _Vals(vals[inv], ok[inv])


def _row_containers(base: _Base, side, summ: _Summary, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """Per row: its thread's container code (see _containers), the container table it saw; and the
    container ids."""
    codes, cids = _containers(base, side, summ)
    t = base.tsnap[rows]
    cont = codes[np.where(t >= 0, t, -1)]
    table = summ.table_of_row[rows] if summ.table_of_row is not None else np.zeros(len(rows), dtype=np.int64)
    return cont, table, cids


def _named_container(summ: _Summary, cids: list, attr: str = "name"):
    """container.name (type, image) of (container code, container table index), as state.fields has
    them: None for a missing thread (-2); outside containers (-1) 'host' (no image); in one, what
    the container events said (the name, the image; the engine, else the one of its cgroups)."""
    def name(c: int, k: int) -> str | None:
        if c < 0:
            return None if c == -2 or attr == "image" else "host"
        info = summ.tables[k].get(cids[c])
        if attr == "type":
            return CONTAINER_TYPES.get(info.type if info is not None else cids.engines[c], "unknown")
        v = None if info is None else info.name if attr == "name" else info.image
        return v or None
    return name


def _container_name(base: _Base, side, df, summ: _Summary, rows: np.ndarray, attr: str = "name") -> _Vals:
    """container.name: 'host' outside containers, the container's name once a container event named it
    (container.type, container.image: ``attr``)."""
    cont, table, cids = _row_containers(base, side, summ, rows)
    if not (cont >= 0).any():
        return _host(cont) if attr != "image" else _Vals(np.full(len(cont), -1), np.zeros(len(cont), dtype=bool), [])
    return _tuples([cont, table], _named_container(summ, cids, attr), True)


def _container_id(base: _Base, side, df, summ: _Summary, rows: np.ndarray) -> _Vals:
    """container.id: 'host' outside containers, else the 12-character id."""
    cont, _, cids = _row_containers(base, side, summ, rows)
    if not (cont >= 0).any():
        return _host(cont)
    return _tuples([cont], lambda c: None if c == -2 else "host" if c == -1 else cids[c], True)


def _host(cont: np.ndarray) -> _Vals:
    """'host' for the rows with a thread (none in a container), missing for the others."""
    codes = np.where(cont == -1, 0, -1)
    return _Vals(codes, codes >= 0, ["host"])


def _prefixed(base: _Base, side, summ: _Summary, rows: np.ndarray, v: _Vals) -> _Vals:
    """fd.container*: the container id (empty outside containers) and ':' before the value."""
    cont, _, cids = _row_containers(base, side, summ, rows)
    labels = v.labels
    if not (cont >= 0).any():
        return _Vals(v.values, v.valid, [":" + x for x in labels])

    def text(c: int, j: int) -> str | None:
        if j < 0:
            return None
        return (cids[c] if c >= 0 else "") + ":" + labels[j]
    return _tuples([cont, np.where(v.valid, v.values, -1)], text, True)


@dataclass
class _Sockets:
    """Per fd snapshot (then one entry for "no fd"): what fd.lip/rip/lport/rport read."""
    ok: np.ndarray          # a connected IPv4/IPv6 socket with a role: the fields exist
    host_local: np.ndarray  # its source address is the machine's (the test for threads outside containers)
    sips: list              # source address bytes, as ViewExtras.is_local gets it
    labels: list            # address texts: sources then destinations
    src: np.ndarray         # code of the source address text
    dst: np.ndarray         # code of the destination address text
    ports: np.ndarray       # source port, then destination port (two columns)
    port_ok: np.ndarray


def _sockets(base: _Base, summ: _Summary) -> _Sockets:
    def make() -> _Sockets:
        ok, local, sips, src, dst, ports = [], [], [], [], [], []
        for f in base.fd_infos:
            if f.role == ROLE_NONE or f.type not in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
                ok.append(False)
                local.append(False)
                sips.append(b"")
                src.append(None)
                dst.append(None)
                ports.append((None, None))
                continue
            width = 4 if f.type == md.FD_IPV4_SOCK else 16
            sip, dip = bytes(f.sip or bytes(width)), bytes(f.dip or bytes(width))
            text = ipv4_str if width == 4 else ipv6_str
            ok.append(True)
            local.append(sip[:8] in summ.ipv6_nets if len(sip) == 16 else sip in summ.ipv4_addrs)
            sips.append(sip)
            src.append(text(sip))
            dst.append(text(dip))
            ports.append((f.sport, f.dport))
        n = len(ok)
        labels, remap = _canon(src + dst)
        codes = (np.arange(2 * n) if remap is None else remap[:-1])
        port_vals = np.array([[0 if p is None else int(p) for p in pp] for pp in ports] + [[0, 0]],
                             dtype=np.int64).reshape(n + 1, 2)
        port_ok = np.array([[p is not None for p in pp] for pp in ports] + [[False, False]],
                           dtype=bool).reshape(n + 1, 2)
        return _Sockets(np.array(ok + [False], dtype=bool), np.array(local + [False], dtype=bool), sips,
                        labels, np.append(codes[:n], -1), np.append(codes[n:], -1), port_vals, port_ok)
    return base.memo("sockets", make)


def _local_remote(local: bool, want_ip: bool) -> Callable:
    """fd.lip / fd.rip / fd.lport / fd.rport (views.fields._local_remote): the source end is local when
    its address is one of the machine's (IPv4: or the thread's container's, or any container's when
    the thread's has none; IPv6: same first 64 bits, never inside a container)."""
    def make(base: _Base, side, df, summ: _Summary, rows: np.ndarray) -> _Vals:
        socks = _sockets(base, summ)
        s = base.fsnap[rows]
        s = np.where(s >= 0, s, -1)
        ok = socks.ok[s]
        use_src = _sources_local(base, side, summ)[rows] == local
        if want_ip:
            codes = np.where(use_src, socks.src[s], socks.dst[s])
            return _Vals(codes, ok & (codes >= 0), socks.labels)
        col = np.where(use_src, 0, 1)
        return _Vals(socks.ports[s, col], ok & socks.port_ok[s, col])
    return make


def _sources_local(base: _Base, side, summ: _Summary) -> np.ndarray:
    """Per row of the capture (once: the four fields and every narrowing read it): whether the source
    end of its socket is local (ViewExtras.is_local, with the container table the row saw)."""
    def make() -> np.ndarray:
        socks = _sockets(base, summ)
        rows = np.arange(base.n)
        s = base.fsnap
        s = np.where(s >= 0, s, -1)
        is_local = socks.host_local[s]
        cont, table, cids = _row_containers(base, side, summ, rows)
        inside = np.flatnonzero(socks.ok[s] & (cont >= 0))
        if len(inside):
            got = _tuples([cont[inside], table[inside], s[inside]],
                          lambda c, k, j: int(_is_local(summ, k, cids[c], socks.sips[j])), False)
            is_local = is_local.copy()
            is_local[inside] = got.values.astype(bool)
        return is_local
    return base.memo("sources local", make)


def _is_local(summ: _Summary, k: int, cid: str | None, addr: bytes) -> bool:
    """ViewExtras.is_local with container table ``k`` of the summary."""
    if len(addr) == 16:
        if cid is not None:
            return False
        return addr[:8] in summ.ipv6_nets
    if cid is not None:
        info = summ.tables[k].get(cid)
        if info is not None:
            if info.ip:
                if info.ip == addr:
                    return True
            elif addr in summ.table_ips[k]:     # any container's address
                return True
    return addr in summ.ipv4_addrs


def _evt_time(ts: np.ndarray) -> _Vals:
    """evt.time as views print it: local wall-clock HH:MM:SS.nnnnnnnnn."""
    off = time.localtime().tm_gmtoff
    sec, ns = np.divmod(ts, 1_000_000_000)
    s = (sec + off) % 86400
    texts = [f"{a // 3600:02d}:{a % 3600 // 60:02d}:{a % 60:02d}.{b:09d}"
             for a, b in zip(s.tolist(), ns.tolist(), strict=True)]
    return _Vals(np.arange(len(texts), dtype=np.int64), np.ones(len(texts), dtype=bool), texts)


def _buflen(base: _Base, df: pd.DataFrame, name: str, rows: np.ndarray) -> _Vals:
    """evt.buflen.*: the frame's evt.buflen (a successful I/O exit on a known fd) narrowed to one
    direction (the event's category) and one kind of fd (the type of the event's own fd)."""
    direction, fds = _BUFLEN[name]
    vals, valid = _int_vals(base, df, "evt.buflen")
    v, ok = vals[rows], valid[rows].copy()
    if direction is not None:
        ok &= base.types.cat[base.etype[rows]] == direction
    if fds is not None:
        fs = base.fsnap[rows]
        if (ok & (fs < 0)).any():
            raise _Fallback("an I/O event without an fd snapshot")
        ok &= np.isin(base.fd_type, fds)[np.where(fs >= 0, fs, -1)]
    return _Vals(v, ok)


def _ones(rows: np.ndarray, valid: np.ndarray | None = None) -> _Vals:
    """A counter field: 1 where ``valid`` (everywhere by default)."""
    return _Vals(np.ones(len(rows), dtype=np.int64), np.ones(len(rows), dtype=bool) if valid is None else valid)


def _fd_text(getter: Callable[[_Base, _Summary], list]) -> Callable:
    """A text field computed once per fd snapshot (``getter`` lists it) and spread to the rows."""
    def make(base: _Base, side, df, summ, rows):
        return _by_snapshot(base.fsnap, getter(base, summ), rows)
    return make


def _fd_int(getter: Callable[[_Base, _Summary], list]) -> Callable:
    """An integer field computed once per fd snapshot and spread to the rows."""
    def make(base: _Base, side, df, summ, rows):
        return _by_snapshot_int(base.fsnap, getter(base, summ), rows)
    return make


def _thread_int(getter: Callable[[tuple], int | None]) -> Callable:
    """An integer of the thread snapshot (a THREAD_SNAPSHOT tuple)."""
    def make(base: _Base, side, df, summ, rows):
        return _by_snapshot_int(base.tsnap, [getter(t) for t in base.thread_rows], rows)
    return make


def _syscall_type(base: _Base, side, df, summ, rows) -> _Vals:
    """syscall.type: evt.type, missing for the types views.fields._syscall_type rules out."""
    codes, labels = _cat_vals(base, df, "evt.type")
    c = codes[rows]
    c = np.where(base.types.syscall_ok[base.etype[rows]], c, -1)
    return _Vals(c, c >= 0, labels)


# fields computed here (beyond the frame's columns), with the reference getters they stand for
_DERIVED: dict[str, Callable] = {
    "evt.count": lambda base, side, df, summ, rows: _ones(rows),
    "evt.count.exit": lambda base, side, df, summ, rows: _ones(rows, base.etype[rows] % 2 == 1),
    "evt.count.error": lambda base, side, df, summ, rows: _ones(
        rows, (lambda v, ok: ok[rows] & (v[rows] < 0))(*_int_vals(base, df, "evt.rawres"))),
    "syscall.type": _syscall_type,
    "proc.exeline": lambda base, side, df, summ, rows: _by_snapshot(base.tsnap, base.exelines, rows),
    "container.name": _container_name,
    "container.type": lambda base, side, df, summ, rows: _container_name(base, side, df, summ, rows, "type"),
    "container.image": lambda base, side, df, summ, rows: _container_name(base, side, df, summ, rows, "image"),
    "container.id": _container_id,
    "fd.containername": lambda base, side, df, summ, rows: _prefixed(
        base, side, summ, rows, _field(base, side, df, summ, "fd.name", rows)),
    "fd.directory": lambda base, side, df, summ, rows: _fd_directory(base, df, rows),
    "fd.containerdirectory": lambda base, side, df, summ, rows: _prefixed(
        base, side, summ, rows, _fd_directory(base, df, rows)),
    "fd.l4proto": _fd_text(lambda base, summ: [sf._l4proto(None, f) for f in base.fd_infos]),
    "fd.sport": _fd_int(lambda base, summ: [sf._sport(None, f) for f in base.fd_infos]),
    "fd.cport": _fd_int(lambda base, summ: [sf._cport(None, f) for f in base.fd_infos]),
    "fd.sip": _fd_text(lambda base, summ: [sf._sip(None, f) for f in base.fd_infos]),
    "fd.cip": _fd_text(lambda base, summ: [sf._cip(None, f) for f in base.fd_infos]),
    "proc.vpid": _thread_int(lambda t: None if t[_T["vpid"]] == -1 else t[_T["vpid"]]),
    "thread.vtid": _thread_int(lambda t: None if t[_T["vtid"]] == -1 else t[_T["vtid"]]),
    "proc.tty": _thread_int(lambda t: t[_T["tty"]]),
    "user.uid": _thread_int(lambda t: t[_T["uid"]]),
    "thread.cpu": lambda base, side, df, summ, rows: _no_cpu(base, rows),
    "thread.cpu.user": lambda base, side, df, summ, rows: _no_cpu(base, rows),
    "thread.cpu.system": lambda base, side, df, summ, rows: _no_cpu(base, rows),
    "evt.count.error.file": lambda base, side, df, summ, rows: _errors(base, side, df, "file", rows),
    "evt.count.error.net": lambda base, side, df, summ, rows: _errors(base, side, df, "net", rows),
    "evt.count.error.memory": lambda base, side, df, summ, rows: _errors(base, side, df, "memory", rows),
    "evt.count.error.other": lambda base, side, df, summ, rows: _errors(base, side, df, "other", rows),
    **{name: (lambda base, side, df, summ, rows, name=name: _memory_rows(base, side, df, summ, name, rows))
       for name in _MEMORY_FIELDS},
    "proc.nthreads": lambda base, side, df, summ, rows: _nthreads_rows(base, side, df, summ, rows),
    "evt.count.procinfo": lambda base, side, df, summ, rows: _no_procinfo(base, rows),
    "evt.count.threadinfo": lambda base, side, df, summ, rows: _no_procinfo(base, rows),
    "fd.lip": _local_remote(True, True),
    "fd.rip": _local_remote(False, True),
    "fd.lport": _local_remote(True, False),
    "fd.rport": _local_remote(False, False),
}


def _field(base: _Base, side, df: pd.DataFrame, summ: _Summary, name: str, rows: np.ndarray) -> _Vals:
    """The values the views' getter of ``name`` returns for ``rows``."""
    make = _DERIVED.get(name)
    if make is not None:
        return make(base, side, df, summ, rows)
    if name in _BUFLEN:
        return _buflen(base, df, name, rows)
    if name.startswith("evt.type.is."):
        n = int(name.rsplit(".", 1)[1])
        return _Vals((base.etype[rows] == n).astype(np.int64), np.ones(len(rows), dtype=bool))
    if name == "evt.time":
        vals, _ = _int_vals(base, df, "evt.rawtime")
        return _evt_time(vals[rows])
    if name == "proc.ppid" and not base.legacy:
        return _ppid_rows(base, side, df, summ, rows)
    if name in df.columns and name in _FRAME_FILTER_COLUMNS | {"proc.ppid"}:
        if isinstance(df[name].dtype, pd.CategoricalDtype):
            codes, labels = _cat_vals(base, df, name)
            c = codes[rows]
            return _Vals(c, c >= 0, labels)
        vals, valid = _int_vals(base, df, name)
        return _Vals(vals[rows], valid[rows])
    raise _Fallback(f"field {name} is not derived from the frame")


def _filter_column(base: _Base, side, df: pd.DataFrame, summ: _Summary, name: str):
    """The filter frame's column ``name`` over all rows, typed as extract._filter_frame types it."""
    if name in _FRAME_FILTER_COLUMNS or (name == "proc.ppid" and base.legacy):
        s = df[name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes, labels = _cat_vals(base, df, name)
            if labels == list(s.cat.categories):
                return s
            return pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype=object))
        return s
    if name == "evt.time":         # filters read the raw timestamp (epoch ns)
        vals, _ = _int_vals(base, df, "evt.rawtime")
        return pd.Series(vals.astype(object), dtype=object)
    v = _field(base, side, df, summ, name, np.arange(base.n))
    info = ff.lookup(name)
    kind = ff.type_kind(info.type) if info is not None else "string"
    if kind == "numeric":
        return pd.arrays.IntegerArray(v.values.astype(np.int64), ~v.valid)
    if kind == "bool":
        return pd.arrays.BooleanArray(v.values.astype(bool), ~v.valid)
    if v.text:
        if name == "syscall.type":
            return pd.Categorical.from_codes(np.where(v.valid, v.values, -1),
                                             categories=pd.Index(v.labels, dtype=object))
        return pd.Series(np.array(v.labels + [None], dtype=object)[np.where(v.valid, v.values, -1)], dtype=object)
    out = v.values.astype(object)
    out[~v.valid] = None
    return pd.Series(out, dtype=object)


# -- the thread-keyed views (procs_cpu, threads, procs_errors) ---------------------------------------------
_ERROR_KINDS = ("evt.count.error.file", "evt.count.error.net", "evt.count.error.memory", "evt.count.error.other")
_FILE_FDS = (md.FD_FILE, md.FD_FILE_V2, md.FD_DIRECTORY)
_SOCKET_FDS = _NET_FDS + (md.FD_UNIX_SOCK,)
_OPENS = frozenset({"open", "creat", "openat", "openat2"})
_NET_CREATORS = frozenset({"accept", "accept4", "connect"})


def _no_procinfo(base: _Base, rows: np.ndarray) -> _Vals:
    """evt.count.procinfo/threadinfo of rows: procinfo events only (hidden ones, see
    _with_hidden_threads); missing in 0.29.3, 0 in current libs."""
    if (base.etype == PROCINFO_E).any():
        raise _Fallback("procinfo events among the rows")
    return _Vals(np.zeros(len(rows), dtype=np.int64), np.full(len(rows), not base.legacy))


def _no_cpu(base: _Base, rows: np.ndarray) -> _Vals:
    """thread.cpu* of rows: procinfo events only (hidden ones, see _with_hidden_threads)."""
    if (base.etype == PROCINFO_E).any():
        raise _Fallback("procinfo events among the rows")
    return _Vals(np.zeros(len(rows), dtype=np.float64), np.zeros(len(rows), dtype=bool))


def _errors(base: _Base, side, df: pd.DataFrame, kind: str, rows: np.ndarray) -> _Vals:
    """evt.count.error.file/net/memory/other (views.fields._error_*): 1 for a failed event (evt.rawres < 0)
    whose own fd (the one the parser looked up: Side.ctype) is of that kind, or with no fd, whose type
    is of that kind (an open, a connection creator, a memory call)."""
    ctype = getattr(side, "ctype", None)
    if ctype is None:
        raise _Fallback("the side data does not hold the events' own fd types")
    types = base.types

    def make():
        raw, ok = _int_vals(base, df, "evt.rawres")
        failed = ok & (raw < 0)
        ct = ctype.astype(np.int64)
        has_fd = ct >= 0
        et_ = base.etype
        exit_ = et_ % 2 == 1
        names = types.names
        opens = np.array([x in _OPENS for x in names], dtype=bool)[et_] & exit_
        creators = np.array([x in _NET_CREATORS for x in names], dtype=bool)[et_] & exit_
        memory = types.cat[et_] == et.EC_MEMORY
        file_fd, sock_fd = np.isin(ct, _FILE_FDS), np.isin(ct, _SOCKET_FDS)
        return {
            "file": failed & np.where(has_fd, file_fd, opens),
            "net": failed & np.where(has_fd, sock_fd, creators),
            "memory": failed & memory,
            "other": failed & np.where(has_fd, ~file_fd & ~sock_fd, ~opens & ~creators & ~memory),
        }
    got = base.memo("errors", make)[kind]
    return _ones(rows, got[rows])


def _start_threads(sec: Section, legacy: bool) -> list[tuple]:
    """The thread table the pass started from (the first section's proc list), as THREAD_SNAPSHOT tuples
    (replay.snap_key's values)."""
    st = StateEngine(et.head(), modern=not legacy)
    st.load_section(sec)
    out = []
    for t in st.threads.values():
        main = t if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD else st.threads.get(t.pid)
        ppid = main.ptid if main is not None else None
        out.append((t.pid, t.comm, ppid, t.exe, " ".join(t.args), st.user_name(t.uid), t.tid, t.vtid, t.vpid,
                    t.container_id, t.tty, t.loginuid, t.uid, match_runc(list(t.cgroups)) if t.cgroups else None))
    return out


@dataclass
class _Threads:
    """The thread each hidden event views see looked up (the thread of its tid, if any: the state's
    for procinfo, EventStream.events' find_thread for the others but the container JSON events), told
    from the rows: per seen hidden event an index into ``snaps`` (THREAD_SNAPSHOT
    tuples: the Side's, then the start and end tables' own), -1 for none; ``one_object``: no tid has
    procinfo events on both sides of a row that may replace its thread (their tid is then the thread's
    serial for thread.cpu); ``hobj``: per seen hidden event the thread object it saw (Side.objects'
    numbers; -1 for none, -2 where the objects do not tell)."""
    hsnap: np.ndarray
    snaps: list
    one_object: bool
    hobj: np.ndarray


def _hidden_threads(base: _Base, side, df: pd.DataFrame, summ: _Summary) -> _Threads:
    """Which thread each hidden event saw (see _Threads). A thread object only appears or goes at rows the frame
    shows (the hidden events may not create or remove threads: ``_Types.keeps_threads``): a clone exit
    creating its child, a procexit (removal at the next event), a row of an unknown tid (a placeholder,
    seen as that row's thread). Between two consecutive sightings of a tid (the start table, a row whose
    thread it is, the end-of-file table) with no such row between, the thread is the same object; when
    both sightings hold the same values it held them in between. A hidden event between two equal
    sightings saw that thread; one whose tid is never seen nor created, or not created yet (_not_yet),
    saw none; any other makes the fast path fall back."""
    def make() -> _Threads:
        hid, types = side.hidden, base.types
        het = np.asarray(hid.etype, dtype=np.int64)
        if len(het) and not types.keeps_threads[np.unique(het)].all():
            bad = np.unique(het)[~types.keeps_threads[np.unique(het)]]
            raise _Fallback(f"hidden {types.names[int(bad[0])]} events may change the thread table")
        sec = getattr(side, "section", None)
        if sec is None or side.eof_threads is None:
            raise _Fallback("the side data lacks the start or the end thread table")
        snaps = list(base.thread_rows)
        index = {t: i for i, t in enumerate(snaps)}

        def sid(t: tuple) -> int:
            j = index.get(t)
            if j is None:
                j = index[t] = len(snaps)
                snaps.append(t)
            return j
        n = base.n
        start = [sid(t) for t in _start_threads(sec, base.legacy)]
        eof = [sid(t) for t in side.eof_threads]
        snap_tid = np.array(i64([t[_T["tid"]] for t in snaps]), dtype=np.int64)
        tid_rows, _ = _int_vals(base, df, "thread.tid")
        r = np.flatnonzero(base.tsnap >= 0)
        # items: (tid, key, kind, snapshot); kind 0 a sighting, 1 a row that may replace the thread,
        # 2 a procinfo event asking. Keys: start -1, hidden event before row b 4b, row r 4r+1 (a clone
        # creating), 4r+2 (its thread), 4r+3 (a procexit), end 4n+2.
        tids, keys, kinds, snap, objs = [], [], [], [], []
        obj = getattr(side, "objects", None)
        if obj is not None and (len(obj.start) != len(start) or len(obj.eof) != len(eof)):
            obj = None

        def add(t, k, kind, s, o=None):
            tids.append(np.asarray(t, dtype=np.int64))
            keys.append(np.asarray(k, dtype=np.int64))
            kinds.append(np.full(len(tids[-1]), kind, dtype=np.int64))
            snap.append(np.asarray(s, dtype=np.int64))
            objs.append(np.full(len(tids[-1]), -2, dtype=np.int64) if o is None else np.asarray(o, dtype=np.int64))
        add(snap_tid[start] if start else [], np.full(len(start), -1), 0, start, None if obj is None else obj.start)
        add(snap_tid[base.tsnap[r]], 4 * r + 2, 0, base.tsnap[r], None if obj is None else obj.tobj[r])
        add(snap_tid[eof] if eof else [], np.full(len(eof), 4 * n + 2), 0, eof, None if obj is None else obj.eof)
        px = np.flatnonzero(types.exits_thread[base.etype])
        add(tid_rows[px], 4 * px + 3, 1, np.full(len(px), -1))
        cl = np.flatnonzero(types.clone_exit[base.etype])
        if len(cl):
            res, ok = _int_vals(base, df, "evt.rawres")
            cl = cl[ok[cl] & (res[cl] >= 0)]
            child = np.where(res[cl] > 0, res[cl], tid_rows[cl])
            add(child, 4 * cl + 1, 1, np.full(len(cl), -1))
        seen = summ.seen if summ.seen is not None else np.zeros(0, dtype=np.int64)
        asks = ~np.isin(het[seen], list(CONTAINER_JSON_EVENTS))     # (EventStream.events: find_thread)
        q = seen[asks]
        qtid = np.asarray(hid.tid[q]).astype(np.int64)
        add(qtid, 4 * np.asarray(hid.before[q], dtype=np.int64), 2, np.arange(len(q)))
        tid_a, key_a, kind_a, snap_a, obj_a = (np.concatenate(x) for x in (tids, keys, kinds, snap, objs))
        order = _by_group_then_key(tid_a, key_a)
        tid_a, key_a, kind_a, snap_a, obj_a = tid_a[order], key_a[order], kind_a[order], snap_a[order], obj_a[order]
        m = len(tid_a)
        pos = np.arange(m)
        isq = kind_a == 2
        prev = np.maximum.accumulate(np.where(~isq, pos, -1)) if m else pos
        nxt = np.minimum.accumulate(np.where(~isq, pos, m)[::-1])[::-1] if m else pos
        qs = np.flatnonzero(isq)
        p, x = prev[qs], nxt[qs]
        pc, xc = np.clip(p, 0, max(m - 1, 0)), np.clip(x, 0, max(m - 1, 0))
        has_p = (p >= 0) & (tid_a[pc] == tid_a[qs])
        has_x = (x < m) & (tid_a[xc] == tid_a[qs])
        same = has_p & has_x & (kind_a[pc] == 0) & (kind_a[xc] == 0) & (snap_a[pc] == snap_a[xc])
        never = ~has_p & ~has_x
        unborn = ~has_p & has_x & (kind_a[xc] == 0)
        if unborn.any():
            unborn &= _not_yet(base, side, df, snaps, start, tid_a[qs], key_a[qs])
        if not (same | never | unborn).all():
            raise _Fallback("a hidden event whose thread the rows do not tell")
        got = np.where(same, snap_a[pc], -1)
        # the object both sightings saw (objects never return to the table once gone)
        gobj = np.where(same, np.where((obj_a[pc] == obj_a[xc]) & (obj_a[pc] >= 0), obj_a[pc], -2), -1)
        # one thread object per tid among the procinfo events that saw one
        cut = np.cumsum(kind_a == 1)[qs]
        k = same & (het[q] == PROCINFO_E)
        one = True
        if k.any():
            g = pd.DataFrame({"t": tid_a[qs][k], "c": cut[k]}).groupby("t")["c"].nunique()
            one = bool((g <= 1).all())
        hsnap_q = np.empty(len(q), dtype=np.int64)
        hsnap_q[snap_a[qs]] = got
        hsnap = np.full(len(seen), -1, dtype=np.int64)
        hsnap[asks] = hsnap_q
        hobj_q = np.empty(len(q), dtype=np.int64)
        hobj_q[snap_a[qs]] = gobj
        hobj = np.full(len(seen), -1, dtype=np.int64)
        hobj[asks] = hobj_q
        return _Threads(hsnap, snaps, one, hobj)
    return base.memo("hidden threads", make)


def _by_group_then_key(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """np.lexsort((key, group)) but for the order of the groups (first-met order instead of sorted):
    a stable sort by key (the inputs are a few key-sorted runs), then a stable sort by group code
    (a radix sort for small codes), which also leaves each group's elements in increasing positions."""
    by_key = np.argsort(key, kind="stable")
    codes = pd.factorize(group)[0]
    codes = codes.astype(np.uint16 if codes.max(initial=0) < 1 << 16 else np.int64)
    return by_key[np.argsort(codes[by_key], kind="stable")]


def _not_yet(base: _Base, side, df: pd.DataFrame, snaps: list, start: list, tid: np.ndarray,
             key: np.ndarray) -> np.ndarray:
    """For events (tid, key) whose tid is first sighted or created after them (not in the start table):
    whether no thread of that tid can exist yet. Unseen, it could only have been created as a process's
    main thread (a thread of its process seen before: in the start table or at a row) or as the parent
    in a clone exit of a child seen first (a clone exit with no child id, naming it as parent or pid)."""
    pid_of = np.array(i64([t[_T["pid"]] for t in snaps]), dtype=np.int64)
    r = np.flatnonzero(base.tsnap >= 0)
    pids = [pid_of[base.tsnap[r]]]
    keys = [4 * r + 2]
    if start:
        pids.append(pid_of[start])
        keys.append(np.full(len(start), -1, dtype=np.int64))
    cl = np.flatnonzero(base.types.clone_exit[base.etype])
    if len(cl):
        res, ok = _int_vals(base, df, "evt.rawres")
        cl = cl[ok[cl] & (res[cl] == 0)]
        for j in (4, 5):
            v, okj = framed_ints(side, cl, j)
            pids.append(v[okj])
            keys.append(4 * cl[okj] + 1)
    first = pd.Series(np.concatenate(keys)).groupby(np.concatenate(pids)).min()
    got = first.reindex(tid).to_numpy()
    return np.isnan(got) | (got > key)


def _known_objects(th: _Threads) -> np.ndarray:
    """The thread object each hidden event saw (-1: no thread); falls back where the rows do not tell."""
    if (th.hobj[th.hsnap >= 0] < 0).any():
        raise _Fallback("a hidden event whose thread object the rows do not tell")
    return th.hobj


def _hidden_thread_values(base: _Base, side, df: pd.DataFrame, summ: _Summary, fields: list[str],
                          rows: np.ndarray | None, keep: np.ndarray | None = None) -> tuple[list[_Vals], np.ndarray]:
    """The values of the hidden events views see, with the thread each saw (_hidden_threads), to be
    merged with the kept rows' (``rows``; None: all) in file order; they pass ``evt.type!=switch``,
    and a filter where ``keep`` (per hidden event) says so. Returns the values per field and the
    positions (the kept rows before each hidden event kept)."""
    th = _hidden_threads(base, side, df, summ)
    types = base.types
    idx = np.arange(len(summ.seen)) if keep is None else np.flatnonzero(keep)   # the hidden events shown
    seen = summ.seen[idx]
    st = summ.seen_types[idx]
    hs = th.hsnap[idx]
    nh = len(idx)
    hid = side.hidden

    def hkeys() -> np.ndarray:
        return _hidden_keys(base, side, df)[seen]

    def hpids() -> np.ndarray:
        return _snap_ints(th.snaps, "pid")[hs]

    def objects() -> np.ndarray:
        return _known_objects(th)[idx]
    out = []
    for name in fields:
        if name == "thread.tid":
            h = _Vals(np.asarray(hid.tid[seen]).astype(np.int64), np.ones(nh, dtype=bool))
        elif name == "evt.count":
            h = _ones(seen)
        elif name in ("proc.pid", "proc.vpid", "thread.vtid", "proc.exeline", "user.name") or \
                (name == "proc.ppid" and base.legacy):
            h = _snapshot_vals(th.snaps, hs, name)
        elif name in ("container.name", "container.type", "container.image", "container.id"):
            got = _hidden_container_id(base, side, summ, th) if name == "container.id" else \
                _hidden_container_name(base, side, summ, th, name.split(".")[1])
            h = _Vals(got.values[idx], got.valid[idx], got.labels)
        elif name in _BUFLEN:
            if types.fd_type_flags[st].any():
                raise _Fallback("fd-related hidden events")
            h = _Vals(np.zeros(nh, dtype=np.int64), np.zeros(nh, dtype=bool))
        elif name in _ERROR_KINDS:
            if types.has_res[st].any():
                raise _Fallback("hidden events with a result")
            h = _Vals(np.zeros(nh, dtype=np.int64), np.zeros(nh, dtype=bool))
        elif name in CPU_FIELDS:
            got = _hidden_cpu(base, side, summ, th, name, keep)
            h = _Vals(got.values[idx], got.valid[idx])
        elif name in _MEMORY_FIELDS:
            seen_b = np.asarray(hid.before[seen], dtype=np.int64)
            h = _Vals(_memory_values(base, side, df, summ, name, objects(), 2 * seen_b, hkeys()), hs >= 0)
        elif name == "proc.ppid":
            pv, pok = _table_log(base, side).ppid(objects(), hpids(), hkeys())
            h = _Vals(pv, pok & (hs >= 0))
        elif name == "proc.nthreads":
            h = _Vals(_table_log(base, side).nthreads(hpids(), hkeys()), hs >= 0)
        elif name in ("evt.count.procinfo", "evt.count.threadinfo"):
            pi = st == PROCINFO_E
            if name == "evt.count.procinfo":
                pi &= hs >= 0
                if pi.any():
                    pi[pi] = _table_log(base, side).is_main(objects()[pi], hkeys()[pi])
            h = _Vals(pi.astype(np.int64), pi | (not base.legacy))
        else:
            raise _Fallback(f"field {name} of hidden events")
        out.append(h)
    at = summ.seen_at[idx]
    return out, at if rows is None else np.searchsorted(rows, at)


# fields of the hidden events that are a value of the thread snapshot (missing without a thread)
_HIDDEN_FILTER_SNAPSHOT = {"proc.pid": "pid", "proc.name": "comm", "proc.exe": "exe", "proc.args": "args",
                           "user.name": "user", "proc.vpid": "vpid", "thread.vtid": "vtid"}
_SNAPSHOT_TEXTS = frozenset({"proc.name", "proc.exe", "proc.args", "user.name", "proc.exeline"})


def _snapshot_vals(snaps: list, hs: np.ndarray, name: str) -> _Vals:
    """Field ``name`` (_HIDDEN_FILTER_SNAPSHOT, proc.exeline, the 0.29 proc.ppid) of events whose
    THREAD_SNAPSHOT is ``snaps[hs]`` (-1: no thread, missing); -1 namespace ids are missing."""
    if name == "proc.exeline":
        per = [t[_T["exe"]] + " " + t[_T["args"]] for t in snaps]
    else:
        key = _T["ppid" if name == "proc.ppid" else _HIDDEN_FILTER_SNAPSHOT[name]]
        per = [t[key] for t in snaps]
        if name in ("proc.vpid", "thread.vtid"):
            per = [None if x == -1 else x for x in per]
    rows = np.arange(len(hs))
    if name in _SNAPSHOT_TEXTS:
        return _by_snapshot(hs, per, rows)
    return _by_snapshot_int(hs, i64(per), rows)


def _hidden_filter(base: _Base, side, df: pd.DataFrame, summ: _Summary, compiled) -> np.ndarray:
    """Which hidden events views see pass the view's combined filter, from their fields (the thread
    each saw, their type, direction, number and time; the fields their types do not have: missing);
    a filter field not derived here makes the fast path fall back. A filter on fields that only depend
    on the thread snapshot and the type (and the tid) is evaluated once per distinct combination."""
    th = _hidden_threads(base, side, df, summ)
    fields = set(compiled.fields)
    per_kind = {"evt.type", "evt.dir", "thread.tid", "proc.exeline", "evt.buflen", "evt.failed", "evt.is_io",
                "evt.is_io_read", "evt.is_io_write"} | set(_HIDDEN_FILTER_SNAPSHOT) | _FD_MISSING | _RES_MISSING
    if base.legacy:
        per_kind.add("proc.ppid")
    if not fields <= per_kind or not len(summ.seen):
        return _hidden_filter_at(base, side, df, summ, compiled, th, np.arange(len(summ.seen)))
    by_tid = "thread.tid" in fields

    def combinations() -> tuple[np.ndarray, np.ndarray]:
        key = (th.hsnap + 1) * len(base.types.names) + summ.seen_types
        if by_tid:
            tcode, tuniq = pd.factorize(np.asarray(side.hidden.tid[summ.seen]).astype(np.int64))
            key = key * max(len(tuniq), 1) + tcode
        codes, uniq = pd.factorize(key)
        first = np.empty(len(uniq), dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)     # (the first event of each combination)
        return codes, first
    # (the same for every filter of the capture: the TUI narrows one capture again and again)
    codes, first = base.memo("hidden combinations" + (" by tid" if by_tid else ""), combinations)
    return _hidden_filter_at(base, side, df, summ, compiled, th, first)[codes]


def _hidden_filter_at(base: _Base, side, df: pd.DataFrame, summ: _Summary, compiled, th: _Threads,
                      sel: np.ndarray) -> np.ndarray:
    """_hidden_filter for the hidden events ``sel`` (indices among summ.seen)."""
    seen = summ.seen[sel]  # (every column below is of these)
    hs = th.hsnap[sel]
    st = summ.seen_types[sel]
    present = np.unique(st)
    types = base.types
    nh = len(hs)
    cols: dict[str, object] = {}

    def text(labels: list, codes: np.ndarray):
        labels, remap = _canon(list(labels))
        codes = np.asarray(codes, dtype=np.int64)
        if remap is not None:
            codes = np.where(codes >= 0, remap[np.clip(codes, 0, None)], -1)
        return pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype=object))

    def number(vals: np.ndarray, valid: np.ndarray):
        return pd.arrays.IntegerArray(np.asarray(vals, dtype=np.int64), ~np.asarray(valid, dtype=bool))

    for f in sorted(compiled.fields):
        if f in _HIDDEN_FILTER_SNAPSHOT or f == "proc.exeline" or (f == "proc.ppid" and base.legacy):
            v = _snapshot_vals(th.snaps, hs, f)
            cols[f] = text(v.labels, np.where(v.valid, v.values, -1)) if v.text else number(v.values, v.valid)
        elif f == "thread.tid":
            cols[f] = number(np.asarray(side.hidden.tid[seen]).astype(np.int64), np.ones(nh, dtype=bool))
        elif f == "evt.num":
            cols[f] = number(_hidden_keys(base, side, df)[seen] // 2 + 1, np.ones(nh, dtype=bool))
        elif f in _MEMORY_FIELDS:
            seen_b = np.asarray(side.hidden.before[seen], dtype=np.int64)
            cols[f] = number(_memory_values(base, side, df, summ, f, _known_objects(th)[sel], 2 * seen_b,
                                            _hidden_keys(base, side, df)[seen]), hs >= 0)
        elif f == "proc.nthreads":
            pids = _snap_ints(th.snaps, "pid")[hs]
            cols[f] = number(_table_log(base, side).nthreads(pids, _hidden_keys(base, side, df)[seen]), hs >= 0)
        elif f in ("evt.rawtime", "evt.time"):     # (filters read the raw timestamp)
            cols[f] = number(np.asarray(side.hidden.ts[seen]).astype(np.int64), np.ones(nh, dtype=bool))
        elif f == "evt.type":
            cols[f] = text(types.names, st)
        elif f == "evt.dir":
            cols[f] = text([">", "<"], st % 2)
        elif f in ("container.name", "container.id"):
            v = _hidden_container_name(base, side, summ, th) if f == "container.name" else \
                _hidden_container_id(base, side, summ, th)
            cols[f] = text(v.labels, np.where(v.valid, v.values, -1)[sel])
        elif _missing_for(types, f, present):
            info = ff.lookup(f)
            kind = ff.type_kind(info.type) if info is not None else "string"
            if kind == "numeric":
                cols[f] = number(np.zeros(nh, dtype=np.int64), np.zeros(nh, dtype=bool))
            elif kind == "bool":
                cols[f] = pd.arrays.BooleanArray(np.zeros(nh, dtype=bool), np.ones(nh, dtype=bool))
            else:
                cols[f] = text([], np.full(nh, -1, dtype=np.int64))
        elif f in ("evt.failed", "evt.is_io", "evt.is_io_read", "evt.is_io_write") and \
                not types.has_res[present].any() and not (types.cat[present] & (et.EC_IO_READ | et.EC_IO_WRITE)).any():
            cols[f] = pd.arrays.BooleanArray(np.zeros(nh, dtype=bool), np.zeros(nh, dtype=bool))
        else:
            raise _Fallback(f"filter field {f} of the hidden events")
    return np.asarray(compiled.mask(pd.DataFrame(cols, copy=False)), dtype=bool)


# filter fields missing for events of types without an fd (fd.*), without a result, or without a buffer
_FD_MISSING = frozenset({
    "fd.cip", "fd.containerdirectory", "fd.containername", "fd.cport", "fd.directory", "fd.filename",
    "fd.is_server", "fd.l4proto", "fd.lip", "fd.lport", "fd.name", "fd.name_changed", "fd.num", "fd.rip",
    "fd.rport", "fd.sip", "fd.sport", "fd.type", "fd.typechar"})
_RES_MISSING = frozenset({"evt.res", "evt.rawres", "evt.count.error"})


def _missing_for(types: _Types, name: str, present: np.ndarray) -> bool:
    """Whether the filter getter of ``name`` gives nothing for events of every type in ``present``
    (hidden events: no fd, no result, not I/O)."""
    if name in _FD_MISSING:
        return not types.fd_type_flags[present].any()
    if name in _RES_MISSING:
        return not types.has_res[present].any()
    if name == "evt.buflen":
        return not types.has_res[present].any() and not (types.cat[present] & (et.EC_IO_READ | et.EC_IO_WRITE)).any()
    return False


def _hidden_cpu(base: _Base, side, summ: _Summary, th: _Threads, name: str,
                keep: np.ndarray | None = None) -> _Vals:
    """extract.cpu_values over the procinfo events that saw a thread (and that ``keep`` keeps), in file
    order, their tid standing for the thread's serial."""
    def make():
        if not th.one_object:
            raise _Fallback("procinfo events of one tid on both sides of a thread change")
        nh = len(summ.seen)
        asks = (th.hsnap >= 0) & (summ.seen_types == PROCINFO_E)
        k = np.flatnonzero(asks if keep is None else asks & keep)
        idx = summ.seen[k]
        hid = side.hidden
        u = np.zeros(len(k), dtype=np.uint64)
        s = np.zeros(len(k), dtype=np.uint64)
        if len(k):
            for arr, j in ((u, 0), (s, 1)):
                v, ok = hid.params.ints(idx, j, False)
                arr[:] = np.where(ok, v, 0).astype(np.int64).view(np.uint64)
        tot = u + s
        if (tot < u).any():
            raise _Fallback("procinfo ticks beyond 64 bits")
        tid = np.asarray(hid.tid[idx]).astype(np.int64)
        order = np.argsort(tid, kind="stable")
        out = {}
        for field, qv in (("thread.cpu", tot), ("thread.cpu.user", u), ("thread.cpu.system", s)):
            qo = qv[order]
            to = tid[order]
            prev = np.zeros(len(qo), dtype=np.uint64)
            if len(qo) > 1:
                same = to[1:] == to[:-1]
                prev[1:] = np.where(same, qo[:-1], 0)
            delta = np.minimum((qo - prev).astype(np.float64), 100.0)
            vals = np.where(prev != 0, delta, 0.0)
            full = np.zeros(nh, dtype=np.float64)
            valid = np.zeros(nh, dtype=bool)
            sel = k[order]
            full[sel] = vals
            valid[sel] = True
            out[field] = _Vals(full, valid)
        return out
    return (base.memo("hidden cpu", make) if keep is None else make())[name]


_MEM_ATTRS = ("pfmajor", "pfminor", "vmsize_kb", "vmrss_kb")
_VM_EXIT_NAMES = frozenset({"brk", "mmap", "mmap2", "munmap"})       # tracking._VM_EXITS


class _Memory:
    """ViewState's ThreadMemory of every thread object over the capture, as updates (object, key,
    value) per attribute: keys -1 for the start table, 2r + 1 for row r (its update applies from that
    row on, the row included). ``at(field, objects, keys)`` is the value each object held at each key
    (0 before any update), as ViewExtras.mem gives it."""

    def __init__(self, n: int, updates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]):
        self.span = 2 * n + 4
        self.sorted = {}
        for attr, (ob, key, val) in updates.items():
            comp = ob * self.span + (key + 1)
            order = np.argsort(comp, kind="stable")    # (updates in file order: the last of a key wins)
            self.sorted[attr] = (comp[order], ob[order], val[order])

    def at(self, field: str, objects: np.ndarray, keys: np.ndarray) -> np.ndarray:
        comp, ob, val = self.sorted[_MEMORY_FIELDS[field][0]]
        out = np.zeros(len(objects), dtype=np.int64)
        if not len(comp):
            return out
        objects = np.asarray(objects, dtype=np.int64)
        j = np.searchsorted(comp, np.maximum(objects, 0) * self.span + (keys + 1), side="right") - 1
        jc = np.clip(j, 0, None)
        hit = (j >= 0) & (ob[jc] == objects) & (objects >= 0)
        out[hit] = val[jc[hit]]
        return out


def _memory(base: _Base, side, df, summ: _Summary) -> _Memory:
    """The thread objects' memory and page-fault counters (see _Memory), from the start table, the
    clone exits creating a child, the successful execve exits, the brk/mmap/munmap exits and the
    switch events, as ViewState's parsers set them."""
    def make() -> _Memory:
        obj = getattr(side, "objects", None)
        sec = getattr(side, "section", None)
        if obj is None or sec is None:
            raise _Fallback("the side data does not tell the thread objects")
        types = base.types
        if -1 in obj.clone_children:
            raise _Fallback("a hidden clone exit")
        updating = set(EXECVE_EXITS) | set(CLONE_EXITS) | {SCHEDSWITCH_6_E} | {
            i for i, nm in enumerate(types.names) if i % 2 == 1 and nm in _VM_EXIT_NAMES}
        if any(int(t) in updating for t in summ.hidden_types) or \
                (side.hidden is not None and any(
                    int(t) in updating for t in np.unique(np.asarray(side.hidden.etype, dtype=np.int64)))):
            raise _Fallback("hidden events that update the thread memory")
        parts: dict[str, list] = {a: [] for a in _MEM_ATTRS}

        def put(attr, ob, key, val):
            parts[attr].append((np.asarray(ob, dtype=np.int64), np.asarray(key, dtype=np.int64),
                                np.asarray(val, dtype=np.int64)))
        # the start table (ViewState.load_section)
        start = _start_threads(sec, base.legacy)
        if len(start) != len(obj.start):
            raise _Fallback("the start table and its objects differ")
        by_tid = {t[_T["tid"]]: o for t, o in zip(start, obj.start, strict=True)}
        ents = [(by_tid[e.tid], e) for e in sec.threads if e.tid in by_tid]
        if ents:
            ob = [o for o, _ in ents]
            for attr in _MEM_ATTRS:
                put(attr, ob, np.full(len(ents), -1), [getattr(e, attr) for _, e in ents])
        tobj = np.asarray(obj.tobj, dtype=np.int64)
        cl = np.array(sorted(obj.clone_children), dtype=np.int64)
        ex = np.flatnonzero(np.isin(base.etype, list(EXECVE_EXITS)) & (tobj >= 0))
        vm_types = [i for i, nm in enumerate(types.names) if i % 2 == 1 and nm in _VM_EXIT_NAMES]
        vm = np.flatnonzero(np.isin(base.etype, vm_types) & (tobj >= 0))
        sw = np.flatnonzero((base.etype == SCHEDSWITCH_6_E) & (tobj >= 0))
        # the parameters of these rows only (framing every row would cost more than the rest)
        need = np.unique(np.concatenate([cl, ex, vm, sw]))
        params, at = row_params(side, need)

        def where(rows):
            return at[np.searchsorted(need, rows)]

        def nparams_of(rows):
            return np.asarray(params.nparams, dtype=np.int64)[where(rows)]

        def ints(rows, k, signed=False):
            v, ok = params.ints(where(rows), k, signed)
            if not signed and (v[ok] < 0).any():
                raise _Fallback("a memory counter beyond 63 bits")
            return np.where(ok, v, 0) if not signed else (v, ok)
        # clone exits creating a child, successful execve exits: ViewState._track_mem
        cob = np.array([obj.clone_children[r] for r in cl.tolist()], dtype=np.int64)
        if len(ex):
            res, ok = ints(ex, 0, True)
            ex = ex[ok & (res >= 0)]
        rows_m = np.concatenate([cl, ex])
        ob_m = np.concatenate([cob, tobj[ex]])
        full = nparams_of(rows_m) >= 13
        rows_m, ob_m = rows_m[full], ob_m[full]
        for attr, k in (("pfmajor", 8), ("pfminor", 9), ("vmsize_kb", 10), ("vmrss_kb", 11)):
            put(attr, ob_m, 2 * rows_m + 1, ints(rows_m, k))
        # brk/mmap/munmap exits: ViewState._track_vm
        vm = vm[nparams_of(vm) >= 4]
        for attr, k in (("vmsize_kb", 1), ("vmrss_kb", 2)):
            put(attr, tobj[vm], 2 * vm + 1, ints(vm, k))
        # switch: ViewState._track_switch (the thread's page faults; its main thread's vm counters)
        sw = sw[nparams_of(sw) >= 6]
        for attr, k in (("pfmajor", 1), ("pfminor", 2)):
            put(attr, tobj[sw], 2 * sw + 1, ints(sw, k))
        if len(sw):
            log = _table_log(base, side)
            keys = _row_keys(base, df)[sw]
            main = log.main_object(tobj[sw], _snapshot_ints(base, "pid")[base.tsnap[sw]], keys)
            has = main >= 0
            for attr, k in (("vmsize_kb", 3), ("vmrss_kb", 4)):
                put(attr, main[has], 2 * sw[has] + 1, ints(sw[has], k))
        updates = {}
        for attr, got in parts.items():
            if got is None:
                continue
            ob = np.concatenate([g[0] for g in got]) if got else np.zeros(0, dtype=np.int64)
            key = np.concatenate([g[1] for g in got]) if got else np.zeros(0, dtype=np.int64)
            val = np.concatenate([g[2] for g in got]) if got else np.zeros(0, dtype=np.int64)
            order = np.argsort(key, kind="stable")      # file order (the start table first)
            updates[attr] = (ob[order], key[order], val[order])
        return _Memory(base.n, updates)
    return base.memo("memory", make)


def _every_row(base: _Base, key: str, rows: np.ndarray, compute: Callable[[np.ndarray], _Vals]) -> _Vals:
    """``compute(rows)`` (integers): when ``rows`` are a good part of the capture, computed for every
    row once and kept (int32 when the values fit), so the narrowed captures after it (the TUI's filters
    after its unfiltered tables) gather their rows instead of looking each one up again."""
    def every() -> _Vals:
        got = compute(np.arange(base.n))
        vals = got.values
        if len(vals) and np.iinfo(np.int32).min <= vals.min() and vals.max() <= np.iinfo(np.int32).max:
            vals = vals.astype(np.int32)
        return _Vals(vals, got.valid)
    full = base._cols.get(key)
    if full is None and 4 * len(rows) >= base.n:
        full = base.memo(key, every)
    if full is None:
        return compute(rows)
    return _Vals(full.values[rows].astype(np.int64), full.valid[rows])


def _memory_rows(base: _Base, side, df, summ: _Summary, name: str, rows: np.ndarray) -> _Vals:
    """A memory or page-fault field of ``rows``: of the thread object each saw (missing: no thread)."""
    obj = getattr(side, "objects", None)
    if obj is None:
        raise _Fallback("the side data does not tell the thread objects")

    attr, scale, main_only = _MEMORY_FIELDS[name]
    # the field of the same counter in its own unit (KB, a count): kept once for both units, and small
    unit = next(f for f, (a, sc, m) in _MEMORY_FIELDS.items() if a == attr and sc == 1 and m == main_only)

    def compute(rows: np.ndarray) -> _Vals:
        ob = np.asarray(obj.tobj, dtype=np.int64)[rows]
        return _Vals(_memory_values(base, side, df, summ, unit, ob, 2 * rows + 1, _row_keys(base, df)[rows]),
                     ob >= 0)
    got = _every_row(base, f"rows {unit}", rows, compute)
    return got if scale == 1 else _Vals(got.values * scale, got.valid)


def _memory_values(base: _Base, side, df, summ: _Summary, name: str, objects: np.ndarray, mkeys: np.ndarray,
                   kkeys: np.ndarray) -> np.ndarray:
    """views.fields._memory for thread objects at _Memory keys ``mkeys`` (the same moments as the
    table-log keys ``kkeys``): the object's counter times the scale, 0 for a thread that is not its
    process's main one when only a main thread has it."""
    _, scale, main_only = _MEMORY_FIELDS[name]
    vals = _memory(base, side, df, summ).at(name, objects, mkeys) * scale
    if main_only:
        vals = np.where(_table_log(base, side).is_main(objects, kkeys), vals, 0)
    return vals


# -- the thread table over time (Side.objects.table) ---------------------------------------------------
class _TableLog:
    """The thread table the load's pass kept, over the file, from its changes (replay.TABLE_LOG): which
    object holds a tid, what an object's pid, ptid and main-ness were, how many threads a process had,
    at a key (2k for the kept event k, evt.num - 1: after that event's own changes)."""

    def __init__(self, log: dict):
        key, op, obj = (np.asarray(log[k], dtype=np.int64) for k in ("key", "op", "obj"))
        tid, pid, ptid = (np.asarray(log[k], dtype=np.int64) for k in ("tid", "pid", "ptid"))
        counted, main = (np.asarray(log[k], dtype=bool) for k in ("counted", "main"))
        seq = np.arange(len(key))
        self.span = int(key.max()) + 3 if len(key) else 2
        self.key = key
        self.by_tid = self._index(tid, key, seq, op=op, obj=obj)
        self.by_obj = self._index(obj, key, seq, op=op, pid=pid, ptid=ptid, main=main)
        c = counted
        self.by_pid = self._index(pid[c], key[c], seq[c], count=op[c])
        # running count per pid (the index is sorted by pid, then key)
        g = self.by_pid
        cnt = g["count"]
        cum = np.cumsum(cnt)
        start = np.r_[True, g["rank_sorted"][1:] != g["rank_sorted"][:-1]] if len(cnt) else np.zeros(0, dtype=bool)
        first = np.maximum.accumulate(np.where(start, np.arange(len(cnt)), 0)) if len(cnt) else cnt
        g["count"] = cum - np.where(first > 0, cum[first - 1], 0) if len(cnt) else cnt

    def _index(self, group: np.ndarray, key: np.ndarray, seq: np.ndarray, **cols) -> dict:
        """Entries sorted by (group, key, order of the log), with a dense rank of the group."""
        uniq, rank = np.unique(group, return_inverse=True)
        order = np.lexsort((seq, key, rank))
        out = {k: v[order] for k, v in cols.items()}
        out["uniq"] = uniq
        out["rank_sorted"] = rank[order]
        out["comp"] = rank[order] * self.span + (key[order] + 1)
        return out

    def _last(self, idx: dict, group: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per (group, key): the index of the group's last entry at or before the key, and whether any."""
        group = np.asarray(group, dtype=np.int64)
        uniq = idx["uniq"]
        if not len(uniq):
            return np.zeros(len(group), dtype=np.int64), np.zeros(len(group), dtype=bool)
        r = np.clip(np.searchsorted(uniq, group), 0, len(uniq) - 1)
        known = uniq[r] == group
        k = np.minimum(np.asarray(keys, dtype=np.int64), self.span - 2)
        j = np.searchsorted(idx["comp"], r * self.span + (k + 1), side="right") - 1
        jc = np.clip(j, 0, None)
        hit = known & (j >= 0) & (idx["rank_sorted"][jc] == r)
        return jc, hit

    def holder(self, tids: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The object holding each tid in the table at each key (-1: none)."""
        j, hit = self._last(self.by_tid, tids, keys)
        return np.where(hit & (_take(self.by_tid["op"], j) > 0), _take(self.by_tid["obj"], j), -1)

    def attr(self, name: str, objects: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An object's pid, ptid or main-ness at each key, from its last change (valid: the object is known)."""
        j, hit = self._last(self.by_obj, objects, keys)
        return _take(self.by_obj[name], j), hit & (np.asarray(objects) >= 0)

    def is_main(self, objects: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """ThreadInfo.is_main of each object at each key."""
        v, ok = self.attr("main", objects, keys)
        if not ok[np.asarray(objects) >= 0].all():
            raise _Fallback("a thread object the table log does not know")
        return v & ok

    def main_object(self, objects: np.ndarray, pids: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The main thread of each object's process at each key: the object itself when it is one, else
        the holder of its pid's tid (-1: none)."""
        return np.where(self.is_main(objects, keys), objects, self.holder(pids, keys))

    def nthreads(self, pids: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """ViewState.nthreads for threads of processes ``pids`` at each key: the counted threads + 1."""
        j, hit = self._last(self.by_pid, pids, keys)
        return np.where(hit, _take(self.by_pid["count"], j), 0) + 1

    def ppid(self, objects: np.ndarray, pids: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """views.fields._ppid of current captures: the pid of the main thread of the parent of the
        thread's main thread, when all of them are in the table (values, valid)."""
        main = self.main_object(objects, pids, keys)
        has = main >= 0
        mptid, _ = self.attr("ptid", main, keys)
        parent = np.where(has, self.holder(mptid, keys), -1)
        has &= parent >= 0
        ppid_, _ = self.attr("pid", parent, keys)
        pmain = np.where(has, self.main_object(parent, ppid_, keys), -1) if has.any() else np.full(len(has), -1)
        has &= pmain >= 0
        out, _ = self.attr("pid", pmain, keys)
        return np.where(has, out, 0), has


def _take(arr: np.ndarray, j: np.ndarray) -> np.ndarray:
    """arr[j], zeros when arr is empty (no entry to find: every lookup missed)."""
    return arr[j] if len(arr) else np.zeros(len(j), dtype=arr.dtype)


def _table_log(base: _Base, side) -> _TableLog:
    """The capture's _TableLog (falls back when the load did not record the table's changes)."""
    def make() -> _TableLog:
        obj = getattr(side, "objects", None)
        log = getattr(obj, "table", None) if obj is not None else None
        if not log:
            raise _Fallback("the side data does not hold the thread table's changes")
        return _TableLog(log)
    return base.memo("table log", make)


def _row_keys(base: _Base, df) -> np.ndarray:
    """The table-log key of each row (2 (evt.num - 1))."""
    def make():
        num, _ = _int_vals(base, df, "evt.num")
        return 2 * (num - 1)
    return base.memo("row keys", make)


def _hidden_keys(base: _Base, side, df) -> np.ndarray:
    """The table-log key of each hidden event: its place among the kept events, from the rows before it
    (``before``) and its rank among the hidden events between the same two rows."""
    def make():
        before = np.asarray(side.hidden.before, dtype=np.int64)
        rk = _row_keys(base, df)
        prev = np.where(before > 0, rk[np.maximum(before - 1, 0)] // 2 if len(rk) else 0, -1)
        first = np.searchsorted(before, before, side="left")
        return 2 * (prev + 1 + np.arange(len(before)) - first)
    return base.memo("hidden keys", make)


_EOF_KEY = 2 ** 61      # the table-log key of the end-of-file events (after every event)


def _snap_ints(snaps: list, name: str) -> np.ndarray:
    """One integer of every THREAD_SNAPSHOT in ``snaps`` (then 0 for index -1: no thread)."""
    return np.array(i64([t[_T[name]] for t in snaps] + [0]), dtype=np.int64)


def _snapshot_ints(base: _Base, name: str) -> np.ndarray:
    """_snap_ints of the rows' snapshots, once per capture."""
    return base.memo(f"snapshot {name}", lambda: _snap_ints(base.thread_rows, name))


def _nthreads_rows(base: _Base, side, df, summ: _Summary, rows: np.ndarray) -> _Vals:
    """proc.nthreads of rows: the thread count of the row's process when the getter ran (no thread: missing)."""
    def compute(rows: np.ndarray) -> _Vals:
        ts = base.tsnap[rows]
        pid = _snapshot_ints(base, "pid")[ts]
        return _Vals(_table_log(base, side).nthreads(pid, _row_keys(base, df)[rows]), ts >= 0)
    return _every_row(base, "rows proc.nthreads", rows, compute)


def _ppid_rows(base: _Base, side, df, summ: _Summary, rows: np.ndarray) -> _Vals:
    """proc.ppid of rows of a current capture (views.fields._ppid, from the table log)."""
    obj = getattr(side, "objects", None)
    if obj is None:
        raise _Fallback("the side data does not tell the thread objects")
    ob = np.asarray(obj.tobj, dtype=np.int64)[rows]
    pid = _snapshot_ints(base, "pid")[base.tsnap[rows]]
    v, ok = _table_log(base, side).ppid(ob, pid, _row_keys(base, df)[rows])
    return _Vals(v, ok & (ob >= 0))


def _hidden_container_name(base: _Base, side, summ: _Summary, th: _Threads, attr: str = "name") -> _Vals:
    """container.name of the hidden events views see: of the thread each saw, with the container table
    as it stood there."""
    return base.memo(f"hidden container {attr}", lambda: _hidden_container_attr(base, side, summ, th, attr))


def _hidden_container_attr(base: _Base, side, summ: _Summary, th: _Threads, attr: str) -> _Vals:
    codes, cids = _containers(base, side, summ)
    cids = cids.copy()
    ext = [-1 if t[_T["runc"]] is None else cids.add(t[_T["runc"]]) for t in th.snaps[len(base.thread_rows):]]
    per = np.concatenate([codes[:-1], np.array(ext, dtype=np.int64), [-2]])
    hs = th.hsnap
    cont = per[np.where(hs >= 0, hs, -1)]
    hid = side.hidden
    seen = summ.seen
    if summ.table_of_row is None:
        table = np.zeros(len(seen), dtype=np.int64)
    else:
        # container events before each: the rows' before it, and the hidden ones before it
        rows_c = np.cumsum(np.concatenate([[0], base.types.container[base.etype]]))
        het = np.asarray(hid.etype, dtype=np.int64)
        hid_c = np.cumsum(np.concatenate([[0], base.types.container[het]]))
        table = rows_c[np.asarray(hid.before, dtype=np.int64)[seen]] + hid_c[seen]
    if not (cont >= 0).any():
        return _host(cont) if attr != "image" else _Vals(np.full(len(cont), -1), np.zeros(len(cont), dtype=bool), [])
    return _tuples([cont, table], _named_container(summ, cids, attr), True)


def _hidden_container_id(base: _Base, side, summ: _Summary, th: _Threads) -> _Vals:
    """container.id of the hidden events views see: 'host', the thread's runc id, missing without a thread."""
    per = ["host" if t[_T["runc"]] is None else t[_T["runc"]][0] for t in th.snaps]
    return _by_snapshot(th.hsnap, per, np.arange(len(th.hsnap)))


class _Spread:
    """Where np.insert(values, at, inserted) puts each element, computed once for all the columns:
    ``at`` (sorted) are positions among ``n`` values."""

    def __init__(self, n: int, at: np.ndarray):
        at = np.asarray(at, dtype=np.int64)
        self.size = n + len(at)
        self.ins = at + np.arange(len(at))
        # (before old value i come the inserted ones at positions <= i: a running count, no search)
        self.old = np.arange(n) + np.cumsum(np.bincount(at, minlength=n + 1))[:n] if len(at) else np.arange(n)

    def put(self, a: np.ndarray, b: np.ndarray, tail: np.ndarray | None = None) -> np.ndarray:
        """a with b inserted, then tail."""
        extra = 0 if tail is None else len(tail)
        dtype = np.result_type(a.dtype, b.dtype, *(() if tail is None else (tail.dtype,)))
        out = np.empty(self.size + extra, dtype=dtype)
        out[self.old] = a
        out[self.ins] = b
        if extra:
            out[self.size:] = tail
        return out


def _insert(v: _Vals, plan: _Spread, h: _Vals, extra: list | None = None) -> _Vals:
    """``v`` with the values ``h`` inserted where ``plan`` says (np.insert), then the values ``extra``
    (None: missing; _append); labels merged in that order."""
    if (v.labels is None) != (h.labels is None):
        raise _Fallback("text and numbers in one column")
    labels = None
    hv = h.values
    if v.labels is not None:
        labels = list(v.labels)
        remap = codes_among(labels, {x: i for i, x in enumerate(labels)}, h.labels)
        hv = remap[np.where(h.valid, h.values, -1)]
    tv = tok = None
    if extra:
        t = _append(_Vals(np.zeros(0, dtype=v.values.dtype), np.zeros(0, dtype=bool), labels), extra)
        tv, tok, labels = t.values, t.valid, t.labels
    return _Vals(plan.put(v.values, hv, tv), plan.put(v.valid, h.valid, tok), labels)


# -- rows ------------------------------------------------------------------------------------------------
def _event_cells(view: View, layout: tuple[Column, ...], vals: list[_Vals]) -> tuple[list, list[ag.Cells]]:
    """table._event_rows and aggregate.premerge over whole columns: missing values take the type's
    default (count 0) with use_defaults, else drop the event; a list keeps one row per event (keyed by
    its position among the filtered events), a table merges the events of a key."""
    types = [field_type(c.field) for c in layout]
    n = len(vals[0].valid) if vals else 0
    keep = np.ones(n, dtype=bool)
    defaults = []
    for ft, v in zip(types, vals, strict=True):
        if ft.type == DOUBLE and v.labels is not None:
            raise _Fallback("text values in a double column")
        d = ft.default() if view.use_defaults else None
        if d is None:
            keep &= v.valid
        defaults.append(d)
    every = bool(keep.all())
    pos = np.arange(n) if every else np.flatnonzero(keep)
    cols: list[tuple[np.ndarray, np.ndarray, list | None]] = []     # (values, counts, labels)
    for v, d in zip(vals, defaults, strict=True):
        ok = v.valid if every else v.valid[pos]
        x = v.values if every else v.values[pos]
        labels = v.labels
        if not ok.all():
            if labels is not None:
                labels = list(labels)
                try:
                    dc = labels.index(d)
                except ValueError:
                    dc = len(labels)
                    labels.append(d)
                x = np.where(ok, x, dc)
            else:
                x = np.where(ok, x, d)
        cols.append((x, ok.astype(np.int64), labels))
    if view.kind == LIST:
        cells = [ag.Cells(_as_list(x, labels), cnt.tolist(), ft, NONE, c.groupby_agg)
                 for (x, cnt, labels), ft, c in zip(cols, types, layout, strict=True)]
        return (pos + 1).tolist(), cells
    kx, _, klabels = cols[0]
    gid, firsts = _groups(kx)
    keys = _as_list(kx[firsts], klabels)
    out = []
    for (x, cnt, labels), ft, c in zip(cols[1:], types[1:], layout[1:], strict=True):
        out.append(_merge(x, cnt, labels, ft, c, gid, firsts, len(firsts)))
    return keys, out


def _as_list(x: np.ndarray, labels: list | None) -> list:
    if labels is None:
        return x.tolist()
    return [labels[i] for i in x.tolist()]


def _merge(x: np.ndarray, cnt: np.ndarray, labels: list | None, ft, c: Column, gid: np.ndarray,
           firsts: np.ndarray, ng: int) -> ag.Cells:
    """aggregate._merge_column for one column, events grouped by ``gid`` (0 .. ng-1, the order keys
    first appear; ``firsts``: the first event of each group)."""
    agg = c.agg
    numeric = ft.type not in (CHARBUF, IPADDR)
    if agg not in (NONE, SUM, TIME_AVG, AVG, MAX):
        raise _Fallback(f"aggregation {agg}")
    if numeric and labels is not None:
        raise _Fallback("text values in a numeric column")
    if ft.type == DOUBLE and agg not in (NONE, SUM, TIME_AVG, AVG):
        raise _Fallback(f"aggregation {agg} of doubles")
    if agg in (SUM, TIME_AVG, AVG) and numeric:
        # (doubles: left-to-right additions in event order, as aggregate._merge_column adds them)
        acc = np.zeros(ng, dtype=np.float64 if ft.type == DOUBLE else np.int64)
        np.add.at(acc, gid, x.astype(acc.dtype))
        values = acc.tolist()
    elif agg == MAX and numeric:
        acc = np.full(ng, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(acc, gid, x)
        values = acc.tolist()
    elif agg == MAX:
        last = np.full(ng, -1, dtype=np.int64)
        np.maximum.at(last, gid, np.arange(len(gid)))
        values = _as_list(x[last], labels)
    else:
        values = _as_list(x[firsts], labels)
    if agg == AVG:
        acc = np.zeros(ng, dtype=np.int64)
        np.add.at(acc, gid, cnt)
        counts = acc.tolist()
    else:
        counts = cnt[firsts].tolist()
    bits = UNSIGNED_BITS.get(ft.type)
    if bits and numeric:
        mask = (1 << bits) - 1
        values = [v & mask for v in values]
    return ag.Cells(values, counts, ft, agg, c.groupby_agg)


__all__ = ["COVERED", "fast_rows", "why_not"]
