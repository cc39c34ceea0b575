"""The overview's ``SummaryData`` from the fast load, without replaying the capture.

``summary.replay_collect`` replays the whole capture through the reference state engine (~12 s per 1M
events). What it gathers is also known after the fast load (scapinspect.fastpath): the frame's columns,
the thread and fd snapshot of every row, the events that are not rows (``Side.hidden``) and the
parameters of all of them in the mapped capture. This module rebuilds its answer from those:

* the per-event columns (``summary.EventCols``): rows and hidden events merged in file order with
  numpy, fd fields from the frame and the fd snapshots (hidden events have none), the few parameters
  the tiles read (``arg``) from the mapped capture; the event frame is built only when asked for;
* the process and container lifetimes: from the thread table's changes the load's pass recorded
  (``Side.objects.table``; ``_Build._log_tables``, vectorised) where it can tell them; else (and for the
  server sockets, up to the last event they matter at) the thread table is followed from the capture's proc list
  through what changes it: the first event of an unknown tid (a placeholder thread), clone exits (the
  table effect of StateEngine._clone_exit, from their parameters), execve exits (a load-time tap,
  ``summary_tap``, reads the thread as the state left it, and ``proc.pname``), procexit (the thread
  goes at the next event), container events. Every row is then held against it: the thread a row
  shows must be the one the table has for its tid then. The lifetimes are updated where
  ``_Collector._tables`` looks at the table (its size changed, or a clone/execve/procexit);
* listening ports: the server sockets of each fd table, followed through the rows that may add,
  change or remove one (the fd snapshot tells what the fd number holds after the event), up to the
  first event the collector sees and to the last listening socket it sees closed; then the binds;
* the HTTP tiles: ``http_frame`` over the socket payloads of the rows.

The reference stays the definition of the right answer. Whatever the side data cannot settle exactly
makes ``fast_collect`` return None (``why_not`` says why) and ``collect`` replays: hidden events that
change the state or that the collector reads beyond the columns, a thread whose main thread is
missing (libsinsp would make one where the side data does not show it), a row or a tap that
contradicts the table followed here, fd names that may have lost control characters in the snapshots.
"""
from __future__ import annotations

import heapq
import weakref
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from .._i64 import i64
from .._text import table_text
from ..parsers import eventtable as et
from ..parsers import metadata as md
from ..parsers.params import as_int, split_list
from ..parsers.reader import Event, Section
from ..render.events import LEADING_CONTAINER_EVENTS, profile
from ..state.engine import CLONE_EXITS, EXECVE_EXITS
from ..state.model import (
    CL_CHILD_IN_PIDNS,
    CL_CLONE_FILES,
    CL_CLONE_INVERTED,
    CL_CLONE_THREAD,
    CL_CLONE_VFORK,
    CL_CLOSED,
    CL_IS_MAIN_THREAD,
    ROLE_SERVER,
)
from ..state.tracking import CONTAINER_E, CONTAINER_JSON_EVENTS, ViewState, match_runc

TAP = "summary"
# event names whose exits the tap runs on (execve changes a thread in ways only the live state shows;
# clone exits are followed from their parameters: tapping them would cost the load too much)
TAP_EVENTS = frozenset({"execve", "execveat"})
# what _Collector._tables re-reads the thread table on, whatever the table size
_SPECIAL = frozenset({"procexit", "execve", "clone", "fork", "vfork", "clone3"})
_NOT_DELIVERED = frozenset({"useradded", "userdeleted", "groupadded", "groupdeleted"})
# names whose per-event handling in _Collector goes beyond the columns (fallback when a hidden or
# generic event carries one)
_HANDLED = _SPECIAL | _NOT_DELIVERED | {"execveat", "bind", "close", "signaldeliver", "infra"}
# handlers that add or remove fds other than the one the event's fd.num names
_MULTI_FD = frozenset({"pipe", "pipe2", "socketpair", "close_range"})
_SERVSOCKS = (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK)
_SOCKS = (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK)
_FD_FLAGS = et.EF_CREATES_FD | et.EF_USES_FD | et.EF_DESTROYS_FD
_K_RESET, _K_NONE, _K_SKIP_PROCINFO = 0, 3, 4


class Fallback(Exception):
    """The side data cannot give the reference's answer: replay instead (the message says why)."""


# -- the load-time tap ------------------------------------------------------------------------------------
_MISSING = object()
_RUNC: dict[bytes | None, str | None] = {}


def _runc_id(cgroups: bytes | None) -> str | None:
    """``state.fields.container_id`` of a thread whose cgroups parameter is ``cgroups`` (memoised:
    few distinct values)."""
    got = _RUNC.get(cgroups, _MISSING)
    if got is _MISSING:
        found = match_runc(split_list(cgroups))
        got = _RUNC[cgroups] = found[0] if found is not None else None
    return got  # type: ignore[return-value]


def summary_tap(stream, item) -> tuple:
    """Run on execve exits during the fast load, after the state parsed them: the thread table size,
    the thread's (tid, pid, flags) and its parent's name (``proc.pname``, what the overview keeps of an
    execve)."""
    t = item.ctx.tinfo
    threads = stream.state.threads
    p = threads.get(t.ptid)
    return len(threads), t.tid, t.pid, t.flags, (p.comm if p is not None else None)


# -- per event type -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Types:
    """Per event type id of one profile: what the state pass and the collector do with it."""
    names: list[str]
    kind: np.ndarray            # fastpath.replay begin() kind
    hmode: np.ndarray           # handler mode (0: none)
    fdrel: np.ndarray           # the profile marks it as about an fd
    read: np.ndarray            # EF_READS_FROM_FD
    write: np.ndarray           # EF_WRITES_TO_FD
    special: np.ndarray         # in _SPECIAL
    handled: np.ndarray         # in _HANDLED
    not_delivered: np.ndarray
    leading: np.ndarray         # LEADING_CONTAINER_EVENTS
    inert: np.ndarray           # no thread lookup and no handler
    multi_fd: np.ndarray
    res_idx: np.ndarray         # FieldContext.res's parameter, -1 for none
    exit: np.ndarray            # an exit event (odd id)
    io_exit: np.ndarray         # an exit event that reads or writes an fd

    def named(self, name: str, exits: bool | None = None) -> np.ndarray:
        """Per type id, whether it is called ``name`` (and is an exit, or an enter, when ``exits`` is
        given)."""
        out = np.array([x == name for x in self.names], dtype=bool)
        return out if exits is None else out & (self.exit == exits)


@lru_cache(maxsize=4)
def _types(compat: str) -> _Types:
    """The per-type tables of profile ``compat`` (the state pass's own, fastpath.replay.type_tables)."""
    from ..fastpath.frame import type_columns
    from ..fastpath.replay import type_tables
    from ..state.engine import StateEngine
    prof = profile(compat)
    st = StateEngine(et.head(), modern=compat != "0.29")
    kind, _, hmode, _, _, _, _, _, _ = type_tables(st.table, prof.table, st._handlers, st.modern)
    ev = prof.table.events
    names = [e.name for e in ev]
    flags = np.array([e.flags for e in ev], dtype=np.int64)
    kind_a, hmode_a = np.array(kind, dtype=np.int64), np.array(hmode, dtype=np.int64)
    return _Types(
        names=names, kind=kind_a, hmode=hmode_a, fdrel=(flags & _FD_FLAGS) != 0,
        read=(flags & et.EF_READS_FROM_FD) != 0, write=(flags & et.EF_WRITES_TO_FD) != 0,
        special=np.array([n in _SPECIAL for n in names], dtype=bool),
        handled=np.array([n in _HANDLED for n in names], dtype=bool),
        not_delivered=np.array([n in _NOT_DELIVERED for n in names], dtype=bool),
        leading=np.isin(np.arange(len(ev)), list(LEADING_CONTAINER_EVENTS)),
        inert=np.isin(kind_a, (_K_NONE, _K_SKIP_PROCINFO)) & (hmode_a == 0),
        multi_fd=np.array([n in _MULTI_FD for n in names], dtype=bool),
        res_idx=np.array(type_columns(prof.table)["res_idx"], dtype=np.int64),
        exit=np.arange(len(ev)) % 2 == 1,
        io_exit=(np.arange(len(ev)) % 2 == 1) & (((flags & et.EF_READS_FROM_FD) | (flags & et.EF_WRITES_TO_FD)) != 0))


# -- reading the side data ----------------------------------------------------------------------------------
class _Part:
    """Header fields and parameters of one kind of the Side's events (its rows, or its hidden events),
    read from the mapped capture: the headers without framing every event's parameters, and the
    parameters of the events asked about only (``fastpath.side.reframe`` on them)."""

    def __init__(self, framed) -> None:
        self.f = framed
        self._last: tuple | None = None
        self.v = getattr(framed, "_v", None) if getattr(framed, "evoff", None) is not None else None

    # the Side's own header fields (read from the mapped capture once, shared with the other analyses),
    # each read when first asked for: the rows' times and threads are in the frame already
    @cached_property
    def etype(self) -> np.ndarray:
        return np.asarray(self.f.etype).astype(np.int64)

    @cached_property
    def ts(self) -> np.ndarray:
        return np.asarray(self.f.ts).astype(np.int64)

    @cached_property
    def tid(self) -> np.ndarray:
        return np.asarray(self.f.tid)

    def params(self, idx: np.ndarray):
        """(Params, positions in it) for events ``idx`` (the framing of the last ``idx`` asked about
        is kept: callers read several parameters of the same events)."""
        if self.v is None:
            return self.f.params, np.asarray(idx, dtype=np.int64)
        if self._last is not None and (self._last[0] is idx or (
                len(self._last[0]) == len(idx) and np.array_equal(self._last[0], idx))):
            return self._last[1], self._last[2]
        from ..fastpath.side import reframe
        sel = np.asarray(idx, dtype=np.int64)
        _, p = reframe(self.v, self.f.evoff[sel], self.f.version[sel], self.f._table)
        self._last = (idx, p, np.arange(len(sel)))
        return p, self._last[2]

    def ints(self, idx: np.ndarray, k: np.ndarray | int, signed: bool = True) -> list:
        """Integer parameter ``k`` (one index, or one per event) of events ``idx`` as ``p_int`` reads
        it: ints, None when absent or empty (widths 1, 2, 4 and 8 or more read with numpy, odd ones by
        as_int)."""
        idx = np.asarray(idx, dtype=np.int64)
        ks = np.broadcast_to(np.asarray(k, dtype=np.int64), idx.shape)
        out: list = [None] * len(idx)
        if not len(idx):
            return out
        p, at = self.params(idx)
        v = p.v
        vals = np.zeros(len(idx), dtype=np.int64)
        width = np.zeros(len(idx), dtype=np.int64)
        pos = np.zeros(len(idx), dtype=np.int64)
        for j in np.unique(ks[ks >= 0]).tolist():
            m = np.flatnonzero(ks == j)
            q, n = p.locate(at[m], j)
            width[m] = np.where(p.nparams[at[m]] > j, n, 0)
            pos[m] = q
        for w, name in ((1, "8"), (2, "16"), (4, "32"), (8, "64")):
            m = np.flatnonzero((width == w) if w < 8 else (width >= 8))
            if len(m):
                vals[m] = v[("i" if signed else "u") + name][pos[m]].astype(np.int64)
        usual = np.isin(width, (1, 2, 4)) | (width >= 8)
        out = vals.tolist()
        if not signed:      # u64 values above 2**63 as p_int gives them
            for i in np.flatnonzero(usual & (vals < 0)).tolist():
                out[i] += _U64
        u8 = v["u8"]
        for i in np.flatnonzero(~usual).tolist():      # absent or empty: None; odd widths by as_int
            out[i] = as_int(u8[pos[i]:pos[i] + width[i]].tobytes(), signed) if width[i] > 0 else None
        return out

    def raw(self, idx: np.ndarray, k: np.ndarray | int) -> list[bytes | None]:
        """Parameter ``k`` (one index, or one per event) of events ``idx`` as ``Event.raw`` gives it:
        None when the event has no such parameter or it is empty."""
        return self._bytes(idx, np.broadcast_to(np.asarray(k, dtype=np.int64), np.shape(idx)), False)

    def payloads(self, idx: np.ndarray, k: np.ndarray) -> list[bytes | None]:
        """Parameter ``k`` (one index per event, -1 for none) as ``Side.payloads`` gives it: None when
        the event has no such parameter, b"" when it is empty."""
        return self._bytes(idx, k, True)

    def _bytes(self, idx: np.ndarray, k: np.ndarray, empty: bool) -> list[bytes | None]:
        """Parameter ``k[i]`` of event ``idx[i]``; an empty one is b"" when ``empty``, else None."""
        idx = np.asarray(idx, dtype=np.int64)
        out: list[bytes | None] = [None] * len(idx)
        if not len(idx):
            return out
        p, at = self.params(idx)
        u8 = p.v["u8"]
        for j in np.unique(k[k >= 0]).tolist():
            m = np.flatnonzero(k == j)
            pos, length = p.locate(at[m], j)
            present = p.nparams[at[m]] > j
            for i, a, n, ok in zip(m.tolist(), pos.tolist(), length.tolist(), present.tolist(), strict=True):
                if ok and (empty or n > 0):
                    out[i] = u8[a:a + n].tobytes()
        return out

    def nparams(self, idx: np.ndarray) -> np.ndarray:
        p, at = self.params(idx)
        return p.nparams[at].astype(np.int64)

    def events(self, idx: np.ndarray) -> list[Event]:
        """Reader ``Event`` objects of events ``idx`` (for the reference parsers)."""
        idx = np.asarray(idx, dtype=np.int64)
        if not len(idx):
            return []
        p, at = self.params(idx)
        mv = memoryview(p.v["u8"])
        out = []
        for i, a in zip(idx.tolist(), at.tolist(), strict=True):
            one = np.array([a], dtype=np.int64)
            lens, poffs = [], []
            for k in range(int(p.nparams[a])):
                q, n = p.locate(one, k)
                poffs.append(int(q[0]))
                lens.append(int(n[0]))
            out.append(Event(mv, 0, int(self.ts[i]), int(self.tid[i]), 0, int(self.etype[i]), 0, tuple(lens),
                             tuple(poffs)))
        return out

    def views(self) -> dict:
        """The mapped capture's views (fastpath.walk.views)."""
        return self.v if self.v is not None else self.f.params.v


@lru_cache(maxsize=4)
def _head_param_index(name: str) -> np.ndarray:
    """Per event type of the state's table (the one the capture is framed with), the index of
    parameter ``name`` (-1 when it has none)."""
    return np.array([e.param_index(name) for e in et.head().events], dtype=np.int64)


@lru_cache(maxsize=16)
def _param_index(compat: str, name: str) -> np.ndarray:
    """Per event type of the profile, the index of parameter ``name`` (-1 when it has none)."""
    return np.array([e.param_index(name) for e in profile(compat).table.events], dtype=np.int64)


def _span(idx: np.ndarray) -> slice | np.ndarray:
    """Sorted distinct positions ``idx`` as a slice when they are consecutive (indexing with it takes a
    view instead of copying: the rows the collector sees are most often all of them), else ``idx``."""
    if not len(idx):
        return slice(0, 0)
    lo, hi = int(idx[0]), int(idx[-1])
    return slice(lo, hi + 1) if hi - lo + 1 == len(idx) else idx


def _unique_small(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` for ints >= -1, by a table over their range when it is
    not much larger than ``key`` (no sort)."""
    if not len(key) or int(key.max()) + 2 > 4 * len(key) + 4096:
        return np.unique(key, return_inverse=True)
    present = np.zeros(int(key.max()) + 2, dtype=bool)
    present[key + 1] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) - 1, rank[key + 1]


def _str(raw: bytes | None) -> str | None:
    """``parsers.params.p_str`` of a parameter's bytes."""
    if raw is None:
        return None
    n = raw.find(b"\0")
    return (raw[:n] if n >= 0 else raw).decode("utf-8", "surrogateescape")


def _server_fds(fds: dict) -> dict[int, tuple[int, bool]]:
    """The server sockets of an fd table: fd -> (port _startup_ports reads, listening)."""
    out = {}
    for fd, f in fds.items():
        if f.type in _SERVSOCKS:
            out[fd] = (f.sport, True)
        elif f.type in _SOCKS and f.role == ROLE_SERVER:
            out[fd] = (f.dport, False)
    return out


_U64 = 1 << 64


def _wrap(x: int) -> int:
    """A u64 as the int64 numpy arrays (and the frame) hold it."""
    return x - _U64 if x >= 1 << 63 else x


def _unwrap(x: int) -> int:
    """A thread id read from an int64 array as the state holds it (event header tids are u64)."""
    return x + _U64 if x < 0 else x


def _int_col(arr) -> tuple[np.ndarray, np.ndarray]:
    """(values, valid) of a nullable integer column, values 0 where missing; the values are read-only
    (the column's own array when nothing is missing, not a copy)."""
    a = pd.array(arr, dtype="Int64")
    v = a.to_numpy(dtype=np.int64, na_value=0, copy=False)
    if v.flags.writeable:
        v = v.view()
        v.flags.writeable = False
    ok = a.isna()
    np.logical_not(ok, out=ok)
    return v, ok


# -- the thread table ---------------------------------------------------------------------------------------
_FLAGS_KEPT = CL_CLOSED | CL_IS_MAIN_THREAD | CL_CLONE_INVERTED | CL_CLONE_FILES   # what the bookkeeping reads


class _Threads:
    """The thread table reduced to what the overview reads: per tid its pid, flags and runc container,
    with the process and container sets kept up to date (``dirty_*`` hold the keys that may have
    changed since the lifetimes were last updated), and a log of every change (``log``: position,
    tid, pid or None when it left, container) to check the rows against and to find each row's
    container."""

    def __init__(self) -> None:
        self.t: dict[int, list] = {}                # tid -> [pid, flags, cid]
        self.by_pid: dict[int, set[int]] = {}      # pid -> its tids
        self.nonmain: dict[int, int] = {}           # pid -> its threads that are not main threads
        self.cref: dict[str, int] = {}              # cid -> main threads in it
        self.extra: set[str] = set()                # container ids of the container events
        self.orphans: set[int] = set()              # pids with non-main threads but no thread of their own
        self.exited: set[int] = set()               # tids a procexit named (current libsinsp reads them)
        self.dirty_p: set = set()
        self.dirty_c: set = set()
        self.version = 0                            # bumped by every change of the table
        self.now = -1                               # the position being applied
        self.gone: dict[int, list[int]] = {}
        self.log: list[tuple] = []

    def has_pid(self, k) -> bool:
        x = self.t.get(k)
        return x is not None and x[0] == k

    def has_cid(self, c) -> bool:
        return self.cref.get(c, 0) > 0 or c in self.extra

    @staticmethod
    def _is_main(tid: int, pid: int, flags: int) -> bool:
        return tid == pid or bool(flags & CL_IS_MAIN_THREAD)

    def _count(self, tid: int, x: list, d: int) -> None:
        pid, flags, cid = x
        if tid == pid:
            self.dirty_p.add(tid)
            if cid:
                self.cref[cid] = self.cref.get(cid, 0) + d
                self.dirty_c.add(cid)
        if not self._is_main(tid, pid, flags):
            self.nonmain[pid] = self.nonmain.get(pid, 0) + d

    def _orphan_check(self, q: int) -> None:
        if self.nonmain.get(q, 0) > 0 and q not in self.t:
            self.orphans.add(q)
        elif self.orphans:
            self.orphans.discard(q)

    def set(self, tid: int, pid, flags: int = 0, cid: str | None = None) -> None:
        """Put thread ``tid`` in the table (replacing what it was), or take it out (pid None)."""
        flags &= _FLAGS_KEPT
        self.version += 1
        old = self.t.pop(tid, None)
        if old is not None:
            self._count(tid, old, -1)
            self.by_pid[old[0]].discard(tid)
            self.gone.setdefault(tid, []).append(self.now)
            if old[0] != tid:
                self._orphan_check(old[0])
        if pid is not None:
            x = [pid, flags, cid]
            self.t[tid] = x
            self._count(tid, x, 1)
            got = self.by_pid.get(pid)
            if got is None:
                self.by_pid[pid] = {tid}
            else:
                got.add(tid)
            if pid != tid:
                self._orphan_check(pid)
        self.log.append((self.now, tid, pid, cid))
        self._orphan_check(tid)

    def close(self, tid: int) -> None:
        x = self.t.get(tid)
        if x is not None:
            x[1] |= CL_CLOSED

    def remove(self, tid: int) -> None:
        """StateEngine._remove_thread: a main thread stays while another thread of its process is
        not closed."""
        x = self.t.get(tid)
        if x is None:
            return
        if self._is_main(tid, x[0], x[1]):
            for o in self.by_pid.get(x[0], ()):
                if o != tid and not self.t[o][1] & CL_CLOSED:
                    return
        self.set(tid, None)

    def same(self, tid: int, pid: int, flags: int, cid: str | None) -> bool:
        x = self.t.get(tid)
        return x is not None and x == [pid, flags & _FLAGS_KEPT, cid]

    def add_container(self, cid: str) -> None:
        if cid not in self.extra:
            self.extra.add(cid)
            self.dirty_c.add(cid)
            self.version += 1


class _NoLog(Exception):
    """The thread table's log cannot give the lifetimes here: follow the table instead (_walk_tables)."""


def _group_cumsum(group: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The running sum of ``d`` within each run of equal ``group`` values (sorted by group)."""
    if not len(d):
        return d
    c = np.cumsum(d)
    start = np.r_[True, group[1:] != group[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(d)), 0))
    return c - c[first] + d[first]


def _lifetimes(group: np.ndarray, state: np.ndarray, look: np.ndarray, keys: list, look_ts: np.ndarray) -> pd.DataFrame:
    """summary._Lifetimes.frame of keys whose presence changes as listed (``group``: code of the key in
    ``keys``, whose order is _order's; ``state``: present after the change; ``look``: the index of the
    first look that sees it, in order of the changes), the collector looking at ``look_ts``."""
    from .summary import _Lifetimes
    lt = _Lifetimes()
    sel = look < len(look_ts)
    g, s, j = group[sel], state[sel], look[sel]
    order = np.lexsort((np.arange(len(g)), j, g))
    g, s, j = g[order], s[order], j[order]
    last = np.r_[(g[1:] != g[:-1]) | (j[1:] != j[:-1]), True] if len(g) else np.zeros(0, dtype=bool)
    g, s, j = g[last], s[last], j[last]        # what each look sees of each key
    prev = np.r_[False, s[:-1] & (g[1:] == g[:-1])] if len(g) else s
    ch = s != prev
    g, s, j = g[ch], s[ch], j[ch]              # starts and ends, alternating per key
    st = np.flatnonzero(s)
    ended = st + 1 < len(g)
    ended[ended] = g[np.minimum(st + 1, len(g) - 1)][ended] == g[st][ended]
    end_j = np.where(ended, j[np.minimum(st + 1, len(g) - 1)], -1)
    ts = look_ts.tolist()
    done = st[ended][np.lexsort((g[st[ended]], end_j[ended]))]
    lt.rows = [(keys[a], ts[b], ts[c]) for a, b, c in zip(g[done].tolist(), j[done].tolist(),
                                                          j[done + 1].tolist(), strict=True)]
    live = st[~ended][np.lexsort((g[st[~ended]], j[st[~ended]]))]
    lt.live = {keys[a]: ts[b] for a, b in zip(g[live].tolist(), j[live].tolist(), strict=True)}
    return lt.frame()


# -- the builder --------------------------------------------------------------------------------------------
class _Build:
    """One fast ``collect`` (see the module docstring); ``run`` returns the SummaryData."""

    def __init__(self, cap, side) -> None:
        self.cap = cap
        self.side = side
        self.df = cap._all_events
        if self.df is None or side.hidden is None or len(self.df) != len(side.tsnap):
            raise Fallback("no side data for the whole frame")
        self.ty = _types(cap.compat)
        self.keep = cap._kept_positions()
        self._server_cache: dict[bool, np.ndarray] = {}
        self.rows_part = _Part(side.rows)
        self.hid_part = _Part(side.hidden)

    def run(self):
        from .summary import SummaryData
        self.sequence()
        if self.side.section is None:
            raise Fallback("the side data does not hold the capture's metadata")
        self.tables(self.side.section)
        ports = self.ports()
        cols, frame = self.columns()
        first = int(cols.ts[0]) if len(cols.ts) else 0
        last = int(cols.ts[-1]) if len(cols.ts) else 0
        return SummaryData(frame, self.procs, self.containers, ports, self.http(), first, last, cols)

    # -- the order of events -------------------------------------------------------------------------------
    def sequence(self) -> None:
        """Merged file positions of rows and hidden events, and which events the collector sees (the
        hidden events are checked by the types present among them, not one by one)."""
        side, h, ty = self.side, self.side.hidden, self.ty
        n, nh = len(side.tsnap), len(h)
        self.n, self.nh = n, nh
        before = np.asarray(h.before, dtype=np.int64)
        self.hpos = before + np.arange(nh, dtype=np.int64)
        # a row's position: the rows before it plus the hidden events before it (those with before <= r)
        self.rpos = np.arange(n, dtype=np.int64) + np.cumsum(np.bincount(before, minlength=n + 1))[:n]
        self.retype = self.rows_part.etype
        self.hetype = self.hid_part.etype
        ntypes = len(ty.names)
        # the container descriptions that lead the file: the state reads them, the collector does not
        head = int(np.searchsorted(before, 1))          # the hidden events before the first row
        lead = ty.leading[self.hetype[:head]]
        self.nlead = int(np.argmin(lead)) if not lead.all() else head
        count = np.bincount(self.hetype, minlength=ntypes)
        if (~ty.inert[count > 0]).any():
            raise Fallback("hidden events that change the state")
        rest = count - np.bincount(self.hetype[:self.nlead], minlength=ntypes) > 0
        seen = rest & ~ty.not_delivered
        infra = ty.named("infra")
        if (seen & (ty.fdrel | ty.read | ty.write | (ty.handled & ~infra) | (np.arange(ntypes) <= 1))).any():
            raise Fallback("hidden events the collector reads beyond the columns")
        gen = np.flatnonzero(self.retype <= 1)
        if len(gen):
            tcat = self.df["evt.type"].array
            names = {tcat.categories[c] for c in np.unique(tcat.codes[gen]).tolist() if c >= 0}
            if names & _HANDLED:
                raise Fallback("generic events named like a syscall the collector treats apart")
        rows = ~ty.not_delivered[self.retype]
        if self.keep is None:
            if (seen == rest).all():                    # every hidden event after the leading ones
                self.dhid = np.arange(self.nlead, nh, dtype=np.int64)
            else:
                self.dhid = self.nlead + np.flatnonzero(~ty.not_delivered[self.hetype[self.nlead:]])
        else:
            self.dhid = np.zeros(0, dtype=np.int64)
            rows &= self.keep
            sel = np.flatnonzero(self.keep)
            # the collector's own test for leading container events runs over what it is given
            lead_rows = ty.leading[self.retype[sel]]
            k = int(np.argmin(lead_rows)) if not lead_rows.all() else len(sel)
            rows[sel[:k]] = False
        self.drows = np.flatnonzero(rows)
        self.dr, self.dh = _span(self.drows), _span(self.dhid)
        m = n + nh
        nd = len(self.drows) + len(self.dhid)
        # the events the collector sees, as merged positions: most often every one from some position on
        self.d0 = m - nd
        firsts = [int(self.rpos[self.drows[0]])] if len(self.drows) else []
        firsts += [int(self.hpos[self.dhid[0]])] if len(self.dhid) else []
        if firsts and min(firsts) >= self.d0:          # nd distinct positions in [d0, m): all of them
            self.dpos = np.arange(self.d0, m, dtype=np.int64)
            self.out_of = None
        else:
            deliv = np.zeros(m, dtype=bool)
            deliv[self.rpos[self.drows]] = True
            deliv[self.hpos[self.dhid]] = True
            self.dpos = np.flatnonzero(deliv)          # merged positions the collector sees, in order
            self.out_of = np.empty(m, dtype=np.int64)  # merged position -> output row
            self.out_of[self.dpos] = np.arange(nd)
        special = np.flatnonzero(ty.special[self.retype])
        self.spos = self.rpos[special[rows[special]]]  # ... and those it re-reads the table on
        ts = np.empty(m, dtype=np.int64)
        ts[self.rpos] = _int_col(self.df["evt.rawtime"].array)[0]
        ts[self.hpos] = self.hid_part.ts
        self.ts_all = ts
        self.rtid, self.rtid_ok = _int_col(self.df["thread.tid"].array)

    def out(self, pos: np.ndarray) -> np.ndarray:
        """The output rows (of the collector's columns) of merged positions ``pos`` it sees."""
        return pos - self.d0 if self.out_of is None else self.out_of[pos]

    # -- threads, containers -------------------------------------------------------------------------------
    def tables(self, sec: Section) -> None:
        """The process and container lifetimes (summary._Lifetimes) the collector would build: from the
        thread table's changes the load recorded (``_log_tables``), else by following the table here
        (``_walk_tables``)."""
        from ..state.engine import StateEngine
        st = StateEngine(et.head(), modern=self.cap.compat != "0.29")
        st.load_section(sec)
        self.state0 = st
        try:
            self._log_tables(st)
        except _NoLog:
            self._walk_tables(st)

    def _log_tables(self, st) -> None:
        """``tables`` from the thread table's changes the load's pass recorded (Side.objects.table, the
        state engine's own): the table size and the processes at each event the collector looks at,
        each thread's runc container from what made it (the proc list, its clone exit's cgroups, an
        execve's; none for a placeholder), each row's from its thread snapshot. Raises _NoLog where
        the walk must decide: no log, keys that are not the merged positions, server sockets (the
        walk follows the fd tables), a change the log does not explain."""
        from ..fastpath.replay import THREAD_SNAPSHOT
        side = self.side
        objs = side.objects
        log = objs.table if objs is not None else None
        if not log or len(log.get("key", ())) == 0:
            raise _NoLog("no table log")
        key, op, ob, tid, pid, ptid = (np.asarray(log[k], dtype=np.int64)
                                       for k in ("key", "op", "obj", "tid", "pid", "ptid"))
        main = np.asarray(log["main"], dtype=bool)
        if (np.diff(key) < 0).any() or (tid < 0).any() or (pid < 0).any():
            raise _NoLog("a table log out of order, or with ids above 2**63")
        num, num_ok = _int_col(self.df["evt.num"].array)
        if not num_ok.all() or not np.array_equal(num - 1, self.rpos):
            raise _NoLog("event numbers that are not the merged positions")
        threads0 = list(st.threads.values())
        start = key < 0
        if (int(start.sum()) != len(threads0) or ob[start].tolist() != list(objs.start)
                or tid[start].tolist() != [t.tid for t in threads0]):
            raise _NoLog("a start table other than the proc list")
        self._taps_checked()
        # a process whose main thread is missing (libsinsp would make one as the collector reads it)
        self._orphans(key, op, tid, pid, main)
        code = self._entry_cids(st, threads0, key, op, ob, tid, pid, ptid)
        # the events the collector re-reads the table on: the first, the special ones, those where the
        # table size differs from the one at the event seen before
        dpos = self.dpos
        if len(dpos):
            cum = np.cumsum(op)
            ckeys = np.unique(key[key >= 0])
            cand = np.concatenate(([0], np.searchsorted(dpos, (ckeys + 1) // 2), np.searchsorted(dpos, self.spos)))
            cand = np.unique(cand[cand < len(dpos)])

            def size(at: np.ndarray) -> np.ndarray:
                k = np.searchsorted(key, 2 * dpos[at], side="right")
                return np.where(k > 0, cum[np.maximum(k - 1, 0)], 0)
            spec = np.zeros(len(dpos), dtype=bool)
            spec[np.searchsorted(dpos, self.spos)] = True
            trig = (cand == 0) | spec[cand] | (size(cand) != size(np.maximum(cand - 1, 0)))
            looks = dpos[cand[trig]]
        else:
            looks = dpos
        look_keys, look_ts = 2 * looks, self.ts_all[looks]
        # processes: a tid held by a thread of that pid; containers: the main threads in one, and those
        # the container events add
        j = np.searchsorted(look_keys, key, side="left")
        own = tid == pid
        upid, gp = np.unique(tid[own], return_inverse=True)
        self.procs = _lifetimes(gp, op[own] > 0, j[own], upid.tolist(), look_ts)
        adds = self._container_adds
        names = sorted({self.cid_list[c] for c in code[own & (code >= 0)].tolist()}
                       | {c for _, new in adds for c in new})
        index = {c: i for i, c in enumerate(names)}
        remap = np.array([index[c] for c in self.cid_list] + [-1], dtype=np.int64)
        cm = own & (code >= 0)
        ca = [(p, index[c]) for p, new in adds for c in new]
        g = np.concatenate((remap[code[cm]], np.array([c for _, c in ca], dtype=np.int64)))
        d = np.concatenate((op[cm], np.ones(len(ca), dtype=np.int64)))
        ck = np.concatenate((key[cm], 2 * np.array([p for p, _ in ca], dtype=np.int64)))
        seq = np.argsort(ck, kind="stable")
        g, d, ck = g[seq], d[seq], ck[seq]
        by = np.lexsort((np.arange(len(g)), g))
        count = np.empty(len(g), dtype=np.int64)
        count[by] = _group_cumsum(g[by], d[by])
        self.containers = _lifetimes(g, count > 0, np.searchsorted(look_keys, ck, side="left"), names, look_ts)
        # the server sockets: followed by the walk up to the last event where they matter
        limit = self._fd_limit()
        if any(_server_fds(t.fds) for t in threads0) or self._server_rows()[:np.searchsorted(
                self.rpos, limit, side="right")].any():
            self._walk_tables(st, limit)
        else:
            self.startup = set() if len(dpos) else None
            self.closings = {}
        # each row's runc container: its thread snapshot's
        runc = THREAD_SNAPSHOT.index("runc")
        rc = [t[runc][0] if t[runc] else None for t in side.thread_rows]
        self.cid_names = sorted({c for c in rc if c})
        index = {c: i for i, c in enumerate(self.cid_names)}
        per_snap = np.array([index[c] if c else -1 for c in rc] + [-1], dtype=np.int64)   # (tsnap -1: none)
        self.row_cid = per_snap[side.tsnap]

    def _taps_checked(self) -> None:
        """``self.taps`` (row -> what summary_tap returned), after checking the tap saw every execve exit."""
        side = self.side
        taps = side.taps.get(TAP, [])
        execs = np.flatnonzero(np.isin(self.retype, list(EXECVE_EXITS)) & (side.tsnap >= 0))
        if len(execs) != len(taps) or (len(taps) and not np.array_equal(execs, [r for r, _ in taps])):
            raise Fallback("execve exits the load-time tap did not see")      # a Side from elsewhere
        self.taps = dict(taps)

    def _fd_limit(self) -> int:
        """The last merged position where the server sockets matter: the first event the collector
        sees (its startup ports) and the last listening socket it sees closed (-1: none)."""
        closing = self._closing_rows
        limit = int(self.dpos[0]) if len(self.dpos) else -1
        if len(closing):
            limit = max(limit, int(self.rpos[closing[-1]]))
        return limit

    def _server_rows(self, listening: bool = False) -> np.ndarray:
        """Per row, whether its fd snapshot is a server socket (listening, or a server connection)."""
        got = self._server_cache.get(listening)
        if got is None:
            fds = self.side.fd_rows
            # per fd snapshot, then two entries for fsnap -2 and -1 (none)
            ftype = np.array([f[1] for f in fds] + [-1, -1], dtype=np.int64)
            role = np.array([f[3] for f in fds] + [0, 0], dtype=np.int64)
            per = np.isin(ftype, _SERVSOCKS)
            if not listening:
                per |= np.isin(ftype, _SOCKS) & (role == ROLE_SERVER)
            got = self._server_cache[listening] = per[self.side.fsnap]
        return got

    @cached_property
    def _closing_rows(self) -> np.ndarray:
        """The rows the collector sees that close a listening socket (close enters)."""
        close_e = self.ty.named("close", exits=False)[self.retype] & self._server_rows(listening=True)
        return self.drows[close_e[self.dr]]

    @staticmethod
    def _orphans(key, op, tid, pid, main) -> None:
        """Fallback when, after the changes of some key, a pid has threads that are not main threads
        but no thread of its own tid (as _Threads.orphans)."""
        nm = np.flatnonzero(~main)
        if not len(nm):
            return
        at = np.concatenate((nm, np.arange(len(key))))
        grp = np.concatenate((pid[nm], tid))
        zero_n, zero_t = np.zeros(len(nm), dtype=np.int64), np.zeros(len(key), dtype=np.int64)
        dn, dp = np.concatenate((op[nm], zero_t)), np.concatenate((zero_n, op))
        order = np.lexsort((at, grp))
        grp, at, dn, dp = grp[order], at[order], dn[order], dp[order]
        kk = key[at]
        last = np.r_[(grp[1:] != grp[:-1]) | (kk[1:] != kk[:-1]), True]
        if (last & (_group_cumsum(grp, dn) > 0) & (_group_cumsum(grp, dp) <= 0)).any():
            raise Fallback("a thread without its main thread")

    def _entry_cids(self, st, threads0, key, op, ob, tid, pid, ptid) -> np.ndarray:
        """Per log entry, the runc container of its thread (a code into ``self.cid_list``, -1: none):
        what made the thread set it (the proc list's cgroups, its clone exit's, none for a placeholder),
        an execve (the pair around it) may change it."""
        cids: dict = {None: -1}
        self.cid_list = []

        def code(c) -> int:
            got = cids.get(c)
            if got is None:
                got = cids[c] = len(self.cid_list)
                self.cid_list.append(c)
            return got
        made: dict[int, int] = {}
        for o, t in zip(self.side.objects.start, threads0, strict=True):
            found = match_runc(t.cgroups) if t.cgroups else None
            made[o] = code(found[0] if found is not None else None)
        children = self.side.objects.clone_children
        if -1 in children:
            raise _NoLog("a clone exit that is not a row")
        rows = np.fromiter(children, dtype=np.int64, count=len(children))
        kids = np.fromiter(children.values(), dtype=np.int64, count=len(children))
        # only the threads that are ever their process's main thread are in a container the tables count
        needed = np.isin(kids, ob[tid == pid])
        for o in kids[~needed].tolist():
            made[o] = -1
        rows, kids = rows[needed], kids[needed]
        if len(rows):
            cgi = _head_param_index("cgroups")[self.retype[rows]]
            for o, raw in zip(kids.tolist(), self.rows_part.raw(rows, cgi), strict=True):
                made[o] = code(_runc_id(raw))
        uo, first, inv = np.unique(ob, return_index=True, return_inverse=True)
        fresh = np.zeros(len(ob), dtype=bool)
        fresh[first] = True
        if (op[fresh] < 0).any():
            raise _NoLog("a thread leaving the table before entering it")
        # threads made otherwise: placeholders (get_thread: pid = tid, no parent), no container
        other = fresh & (key >= 0) & ~np.isin(ob, np.fromiter(made, dtype=np.int64, count=len(made)))
        if ((pid[other] != tid[other]) | (ptid[other] != -1)).any():
            raise _NoLog("a thread the table log does not tell how it was made")
        ocode = np.array([made.get(o, -1) for o in uo.tolist()], dtype=np.int64)
        out = ocode[inv]
        # execve: the same thread entering again, with the cgroups of the event (or those it had)
        again = np.flatnonzero(~fresh & (op > 0))
        if len(again):
            byobj = np.lexsort((np.arange(len(ob)), inv))
            where = np.empty(len(ob), dtype=np.int64)
            where[byobj] = np.arange(len(ob))
            bounds = np.searchsorted(inv[byobj], np.arange(len(uo) + 1))
            for i in again.tolist():
                k = int(key[i])
                r = int(np.searchsorted(self.rpos, k // 2))
                if k % 2 or r >= self.n or self.rpos[r] != k // 2 or int(self.retype[r]) not in EXECVE_EXITS:
                    raise _NoLog("a thread entering the table again other than by an execve row")
                keep = self.cid_list[out[i]] if out[i] >= 0 else None
                new = code(self._event_cid(r, keep))
                out[byobj[where[i]:bounds[inv[i] + 1]]] = new
        return out

    def _walk_tables(self, st, upto: int | None = None) -> None:
        """``tables`` by following the thread table from the proc list through what changes it (see the
        module docstring). With ``upto``, only the events up to that merged position are followed, for
        the server sockets (``startup``, ``closings``) alone."""
        from .summary import _Lifetimes
        side, ty = self.side, self.ty
        r_up = self.n if upto is None else int(np.searchsorted(self.rpos, upto, side="right"))
        th = _Threads()
        for t in st.threads.values():
            found = match_runc(t.cgroups) if t.cgroups else None
            th.set(t.tid, t.pid, t.flags, found[0] if found is not None else None)
        if th.orphans:
            raise Fallback("a thread of the proc list without its main thread")
        self.th = th
        # server sockets per fd table (the thread owning the dict): fd -> (port, listening)
        self.fdh: dict[int, dict[int, tuple[int, bool]]] = {t.tid: _server_fds(t.fds) for t in st.threads.values()}
        self.startup: set | None = None
        self.closings: dict[int, tuple[int, bool]] = {}
        # changes: (position, phase, seq, what, payload); phases: 0 removals (settle), 1 thread lookup
        # (begin), 2 handlers, 3 the collector's look at the table
        ev: list[tuple] = []
        seq = 0
        taps = side.taps.get(TAP, [])
        execs = np.flatnonzero(np.isin(self.retype, list(EXECVE_EXITS)) & (side.tsnap >= 0))
        if len(execs) != len(taps) or (len(taps) and not np.array_equal(execs, [r for r, _ in taps])):
            raise Fallback("execve exits the load-time tap did not see")      # a Side from elsewhere
        for r, val in taps:
            if r < r_up:
                ev.append((int(self.rpos[r]), 2, seq, "execve", (r, val)))
                seq += 1
        rtid = self.rtid
        # clone exits: StateEngine._clone_exit from their parameters
        cx = np.flatnonzero(np.isin(self.retype[:r_up], list(CLONE_EXITS)))
        for r, args in zip(cx.tolist(), self._clone_args(cx), strict=True):
            ev.append((int(self.rpos[r]), 2, seq, "clone", (r, args)))
            seq += 1
        names = ty.names
        is_exit_x = np.array([x == "procexit" for x in names], dtype=bool)
        pe = np.flatnonzero(is_exit_x[self.retype[:r_up]] & (side.tsnap[:r_up] >= 0))
        for r in pe.tolist():
            # procexit flags the thread closed, the next event removes it: nothing reads the flag between
            ev.append((int(self.rpos[r]) + 1, 0, seq, "remove", _unwrap(int(rtid[r]))))
            seq += 1
        # what changes server sockets, up to the first event the collector sees (its server ports) and
        # to the last listening socket it sees closed (is the port open elsewhere?)
        for kind, r in self._fd_events():
            ev.append((int(self.rpos[r]), 2, seq, kind, r))
            seq += 1
        # container events, rows or hidden (the state parses them wherever they are): what the table
        # of containers gains depends on the first parameter only, parsed once per distinct value
        for p, new in self._container_adds:
            if upto is None or p <= upto:
                ev.append((p, 2, seq, "containers", new))
                seq += 1
        # threads the first event of an unknown tid creates (begin's get_thread): the rows that look their
        # thread up, grouped by tid (through the thread snapshots: few distinct tids)
        reset = np.flatnonzero((ty.kind[self.retype[:r_up]] == _K_RESET) & self.rtid_ok[:r_up])
        snap_tid = np.array(i64([t[6] for t in side.thread_rows]), dtype=np.int64)
        tsn = side.tsnap[reset].astype(np.int64)
        if (tsn < 0).any() or (len(reset) and (snap_tid[tsn] != rtid[reset]).any()):
            raise Fallback("a row whose thread is not the one its tid names")
        utid, code_of_snap = np.unique(snap_tid, return_inverse=True)
        code = code_of_snap[tsn].astype(np.int16 if len(utid) < 32767 else np.int32)
        order = np.argsort(code, kind="stable")
        bounds = np.searchsorted(code[order], np.arange(len(utid) + 1))
        self.reset_pos = self.rpos[reset[order]]       # grouped by tid, in file order within a tid
        self.tid_slice = {t: (int(bounds[i]), int(bounds[i + 1])) for i, t in enumerate(utid.tolist())
                          if bounds[i + 1] > bounds[i]}
        for tid, (lo, _) in list(self.tid_slice.items()):
            if _unwrap(tid) not in th.t:
                ev.append((int(self.reset_pos[lo]), 1, seq, "create", _unwrap(tid)))
                seq += 1
        heapq.heapify(ev)
        self.seq = seq
        procs, conts = _Lifetimes(), _Lifetimes()
        m = self.n + self.nh
        # the next event the collector sees from a position on, and the next clone/execve/procexit
        dpos = self.dpos
        d0 = int(dpos[0]) if len(dpos) else m
        if len(dpos) == m - d0:             # every event from the first one on (the whole capture)
            def nxt(p: int) -> int:
                return max(p, d0)
        else:
            dlist = dpos.tolist()

            def nxt(p: int) -> int:
                k = bisect_left(dlist, p)
                return dlist[k] if k < len(dlist) else m
        slist = self.spos.tolist()
        sset = set(slist)
        ts_all = self.ts_all
        if len(dpos):
            heapq.heappush(ev, (d0, 3, -1, "look", True))
        pushed = pushed_s = -1
        looked = [-1, -1]          # the last position looked at, the table size then
        push, pop = heapq.heappush, heapq.heappop

        def look(p: int, forced: bool) -> None:
            """_Collector._tables at the event at ``p``: re-read the table if its size changed (or the
            event is a clone/execve/procexit), updating the lifetimes of what changed."""
            if forced:                  # the first event the collector sees: the ports open then
                self.startup = {port for tid, fds in self.fdh.items() if self._counted(tid)
                                for port, _ in fds.values()}
            if p == looked[0]:
                return
            looked[0] = p
            n = len(th.t)
            if forced or n != looked[1] or p in sset:
                looked[1] = n
                if th.dirty_p or th.dirty_c:
                    ts = int(ts_all[p])
                    self._update(procs, th.dirty_p, th.has_pid, ts)
                    self._update(conts, th.dirty_c, th.has_cid, ts)
                    th.dirty_p.clear()
                    th.dirty_c.clear()

        while ev:
            p, phase, _, what, val = pop(ev)
            if upto is not None and p > upto:
                return
            if phase == 3:
                look(p, val)
                continue
            th.now = p
            version = th.version
            if what == "clone":
                self._clone(th, val[0], *val[1])
            elif what == "execve":
                r, (count, tid, pid, flags, _) = val
                x = th.t.get(tid)
                if x is None:
                    raise Fallback("an execve of a thread the side data does not know")
                th.set(tid, pid, flags, self._event_cid(r, x[2]))
                if len(th.t) != count:
                    raise Fallback("the thread table differs from the one the load saw")
            elif what == "remove":
                th.close(val)
                if self.cap.compat != "0.29":
                    th.exited.add(val)
                if p >= m or val not in th.t:
                    continue
                th.remove(val)
                if val not in th.t:
                    self.fdh.pop(val, None)
                    self._schedule_create(ev, val, p, 0)
            elif what == "create":
                if val in th.t:
                    continue
                th.set(val, val, 0, None)
                self.fdh[val] = {}
            elif what == "fd":
                self._fd_event(ev, val)
                continue
            elif what == "fdclose":
                self.fdh.get(val[0], {}).pop(val[1], None)
                continue
            elif what == "closing":
                self._closing(val)
                continue
            elif what == "containers":
                for c in val:
                    th.add_container(c)
            if th.version == version:
                continue                # nothing the collector would see changed
            if th.orphans:
                raise Fallback("a thread without its main thread")
            # the collector looks at the table at the next event it sees, and at the next special one
            k = nxt(p)
            if k < m:
                if k == p and (not ev or ev[0][0] > p):
                    look(p, False)      # the last change at p: look now
                elif k != pushed:
                    push(ev, (k, 3, 0, "look", False))
                    pushed = k
                j = bisect_left(slist, p)
                if j < len(slist) and slist[j] != k and slist[j] != pushed_s:
                    pushed_s = slist[j]
                    push(ev, (pushed_s, 3, 0, "look", False))
        if upto is not None:
            return
        self.procs, self.containers = procs.frame(), conts.frame()
        self._check_rows()
        self.taps = {r: v for r, v in taps}

    @cached_property
    def _container_adds(self) -> list[tuple[int, list[str]]]:
        """(merged position, container ids new to the table then) of the container events, rows or
        hidden (the state parses them wherever they are): what the table of containers gains depends on
        the first parameter only, parsed once per distinct value."""
        out: list[tuple[int, list[str]]] = []
        cont = sorted(CONTAINER_JSON_EVENTS | {CONTAINER_E})
        hc = np.flatnonzero(np.isin(self.hetype, cont))
        rc = np.flatnonzero(np.isin(self.retype, cont))
        if not len(hc) and not len(rc):
            return out
        items = [(p, part, i, int(t), raw) for part, idx, pos, ets in (
            (self.hid_part, hc, self.hpos, self.hetype), (self.rows_part, rc, self.rpos, self.retype))
            for p, i, t, raw in zip(pos[idx].tolist(), idx.tolist(), ets[idx].tolist(), part.raw(idx, 0),
                                    strict=True)]
        items.sort(key=lambda x: x[0])
        # the events of the first item of each distinct key, read in one go per part
        firsts: dict = {}
        for _, part, i, t, raw in items:
            firsts.setdefault((t, raw), (part, i))
        read: dict = {}
        for part in (self.hid_part, self.rows_part):
            idx = [i for pt, i in firsts.values() if pt is part]
            read.update(((id(part), i), e) for i, e in zip(idx, part.events(np.array(idx, dtype=np.int64)),
                                                          strict=True))
        keys: dict = {}
        known: set = set()
        vs = ViewState(et.head(), modern=self.cap.compat != "0.29")
        for p, part, i, t, raw in items:
            got = keys.get((t, raw))
            if got is None:
                vs.extra.containers.clear()
                e = read[(id(part), i)]
                if t == CONTAINER_E:
                    vs._track_container_e(e)
                else:
                    vs._track_container_json(e)
                got = keys[(t, raw)] = [c[:12] for c in vs.extra.containers]
            new = [c for c in got if c not in known]
            if new:
                known.update(new)
                out.append((p, new))
        return out

    def _clone_args(self, rows: np.ndarray) -> list[tuple]:
        """The parameters StateEngine._clone_exit reads, per clone exit row: child tid, flags, vtid,
        pid, ptid (ints or None, as p_int reads them) and the cgroups (bytes, or None when empty or
        absent; False when the event type has none)."""
        if not len(rows):
            return []
        et_ = self.retype[rows]
        part = self.rows_part
        child = part.ints(rows, 0)
        flags = part.ints(rows, _head_param_index("flags")[et_], signed=False)
        vtid = part.ints(rows, _head_param_index("vtid")[et_])
        p4 = part.ints(rows, 4)
        p5 = part.ints(rows, 5)
        cgi = _head_param_index("cgroups")[et_]
        cg = part.raw(rows, cgi)
        cg = [x if k >= 0 else False for x, k in zip(cg, cgi.tolist(), strict=True)]
        return list(zip(child, flags, vtid, p4, p5, cg, strict=True))

    def _clone(self, th: _Threads, r: int, child, flags, vtid, p4, p5, cgroups) -> None:
        """StateEngine._clone_exit's effect on the table (the thread names and fds left aside)."""
        tid = _unwrap(int(self.rtid[r]))
        if child is None or child < 0:
            return
        flags = flags or 0
        vtid = tid if vtid is None else vtid
        in_container = bool(flags & CL_CHILD_IN_PIDNS) or tid != vtid
        inverted = False
        if child == 0:
            parent = p4 if flags & CL_CLONE_THREAD else p5
            if tid in th.t:
                return
            inverted = True
            child, tid = tid, parent if parent is not None else -1
        elif in_container:
            return
        elif self.cap.compat != "0.29" and (flags & CL_CLONE_VFORK or self.ty.names[self.retype[r]] == "vfork"
                                            or child in th.exited):
            return
        if tid not in th.t:
            th.set(tid, tid, 0, None)           # get_thread: a placeholder parent
            self.fdh[tid] = {}
        old = th.t.get(child)
        if old is not None and old[1] & CL_CLONE_INVERTED:
            return
        pid = child if p4 is None else p4
        if not flags & CL_CLONE_THREAD:
            pid = child
            ppid, pflags, _ = th.t[tid]
            if not (tid == ppid or pflags & CL_IS_MAIN_THREAD) and ppid not in th.t:
                raise Fallback("a clone whose parent has no main thread")     # main_thread would make one
        cid = None if cgroups is False else _runc_id(cgroups)
        # the child's own fds: a copy of the parent's table, or none for a thread
        fds = {} if flags & CL_CLONE_THREAD else dict(self.fdh.get(self._owner(tid), {}))
        th.set(child, pid, flags | (CL_CLONE_INVERTED if inverted else 0), cid)
        self.fdh[child] = fds

    def _event_cid(self, r: int, keep: str | None) -> str | None:
        """The runc container of the thread an execve exit (row ``r``) changed: from the event's
        cgroups parameter (a failed execve, or one without the parameter, leaves ``keep``)."""
        k = _head_param_index("cgroups")[self.retype[r]]
        raw = self.rows_part.payloads(np.array([r]), np.array([k]))[0]
        v = self.df["evt.rawres"].array[r]
        if raw is None or pd.isna(v) or int(v) < 0:
            return keep
        return _runc_id(raw or None)

    def _check_rows(self) -> None:
        """Hold the table followed here against the rows: each row with a thread shows the thread its
        tid names, with the pid the table has for it then. Keeps each row's runc container."""
        th = self.th
        ok = _span(np.flatnonzero(self.side.tsnap >= 0))
        tsnap = self.side.tsnap[ok].astype(np.int64)
        log = th.log
        lpos_, ltid_, lpid_, lcid_ = zip(*log, strict=True) if log else ((), (), (), ())
        lpos = np.array(lpos_, dtype=np.int64) + 1
        ltid = np.array(i64(ltid_), dtype=np.int64)
        lhas = np.array([x is not None for x in lpid_], dtype=bool)
        lpid = np.array(i64([x if x is not None else 0 for x in lpid_]), dtype=np.int64)
        cids = sorted({x for x in lcid_ if x})
        index = {c: i for i, c in enumerate(cids)}
        lcid = np.array([index[x] if x else -1 for x in lcid_], dtype=np.int64)
        # tids by code: those of the thread snapshots (the rows'), the log's other tids left out
        snap_tid = np.array(i64([t[6] for t in self.side.thread_rows]), dtype=np.int64)
        utid, code_of_snap = np.unique(snap_tid, return_inverse=True)
        rcode = code_of_snap[tsnap]
        k = np.minimum(np.searchsorted(utid, ltid), max(len(utid) - 1, 0))
        lcode = np.where((utid[k] == ltid) if len(utid) else np.zeros(len(ltid), dtype=bool), k, -1)
        if (self.rtid[ok] != utid[rcode]).any():
            raise Fallback("a row whose thread is not the one its tid names")
        span = self.n + self.nh + 2
        lkey = np.where(lcode >= 0, lcode * span + lpos, -1)
        order = np.argsort(lkey, kind="stable")
        lkey = lkey[order]
        rkey = rcode * span + self.rpos[ok] + 1
        j = np.searchsorted(lkey, rkey, side="right") - 1
        jj = order[np.maximum(j, 0)]
        found = (j >= 0) & (lcode[jj] == rcode) & lhas[jj]
        spid = np.array(i64([t[0] for t in self.side.thread_rows]), dtype=np.int64)
        if not (found & (lpid[jj] == spid[tsnap])).all():
            raise Fallback("a row whose thread the table followed here does not have")
        self.row_cid = np.full(self.n, -1, dtype=np.int64)
        self.row_cid[ok] = np.where(found, lcid[jj], -1)
        self.cid_names = cids

    @staticmethod
    def _update(lt, dirty: set, has, ts: int) -> None:
        """summary._Lifetimes.update over the keys that may have changed."""
        from .summary import _order
        starts = sorted((k for k in dirty if has(k) and k not in lt.live), key=_order)
        ends = sorted((k for k in dirty if not has(k) and k in lt.live), key=_order)
        lt.change(starts, ends, ts)

    def _schedule_create(self, ev: list, tid: int, p: int, phase: int) -> None:
        """Queue the next event at or after position ``p`` whose thread lookup creates ``tid`` again
        (a lookup at ``p`` itself comes after a removal there, not after a handler)."""
        got = self.tid_slice.get(_wrap(tid))
        if got is None:
            return
        if type(got) is tuple:          # the tid's positions as a list, on first use
            got = self.tid_slice[_wrap(tid)] = self.reset_pos[got[0]:got[1]].tolist()
        if got[-1] < p:
            return
        k = (bisect_left if phase == 0 else bisect_right)(got, p)
        if k < len(got):
            heapq.heappush(ev, (got[k], 1, self.seq, "create", tid))
            self.seq += 1

    # -- listening ports ----------------------------------------------------------------------------------
    def ports(self) -> pd.DataFrame:
        """The ports lifetimes: the server ports open at the first event the collector sees, then the
        binds and the listening sockets closed (unless the port stays open elsewhere), in order."""
        from .summary import _Lifetimes, _order
        lt = _Lifetimes()
        if not len(self.dpos):
            return lt.frame()
        ty = self.ty
        ts0 = int(self.ts_all[self.dpos[0]])
        for port in sorted(self.startup or (), key=_order):
            lt.add(port, ts0)
        changes = [(int(self.rpos[r]), "remove", port) for r, (port, close) in self.closings.items() if close]
        # binds the collector sees: fd.sport of successful exits
        bind_x = np.array([x == "bind" for x in ty.names], dtype=bool)[self.retype] & (self.retype % 2 == 1)
        rows = self.drows[bind_x[self.drows]]
        if len(rows):
            res, ok = _int_col(self.df["evt.rawres"].array[rows])
            sport, has = self._sport(rows)
            good = ok & (res >= 0) & has
            changes += [(int(self.rpos[r]), "add", p) for r, p in zip(rows[good].tolist(), sport[good].tolist(),
                                                                       strict=True)]
        for p, what, port in sorted(changes, key=lambda x: x[0]):
            if what == "add":
                lt.add(port, int(self.ts_all[p]))
            else:
                lt.remove(port, int(self.ts_all[p]))
        return lt.frame()

    # -- server sockets ---------------------------------------------------------------------------------
    def _owner(self, tid: int) -> int:
        """The thread whose fd table ``tid`` uses (StateEngine.fd_table)."""
        x = self.th.t.get(tid)
        if x is None:
            raise Fallback("an fd event of a thread the table does not have")
        pid, flags, _ = x
        if flags & CL_CLONE_FILES and not (tid == pid or flags & CL_IS_MAIN_THREAD):
            return pid
        return tid

    def _counted(self, tid: int) -> bool:
        """Whether _startup_ports reads the fds of ``tid`` (not those of a thread sharing its main
        thread's table)."""
        x = self.th.t.get(tid)
        return x is not None and not (x[1] & CL_CLONE_FILES and tid != x[0])

    def _fd_events(self) -> list[tuple[str, int]]:
        """("fd", row) for the rows up to the last position that matters whose handler may add, change
        or remove a server socket (their fd number is one a server socket ever had), ("closing", row)
        for the listening sockets the collector sees closed."""
        side, ty = self.side, self.ty
        fsnap = side.fsnap
        server = self._server_rows()
        closing = self._closing_rows
        limit = int(self.dpos[0]) if len(self.dpos) else -1
        if len(closing):
            limit = max(limit, int(self.rpos[closing[-1]]))
        r1 = int(np.searchsorted(self.rpos, limit, side="right"))
        et_ = self.retype[:r1]
        hm = ty.hmode[et_]
        fdn, fdn_ok = _int_col(self.df["fd.num"].array[:r1])
        self.fdnum = fdn
        res, res_ok = _int_col(self.df["evt.rawres"].array[:r1])
        multi = ty.multi_fd[et_] & (hm != 0)
        touch = (fsnap[:r1] != -1) & fdn_ok & (np.isin(hm, (4, 5)) | ((hm == 2) & res_ok & (res >= 0) & (fsnap[:r1] >= 0)))
        numbers = {fd for t in self.state0.threads.values() for fd in _server_fds(t.fds)}
        numbers.update(fdn[:r1][server[:r1] & fdn_ok].tolist())
        rows = np.flatnonzero(multi | (touch & (server[:r1] | np.isin(fdn, list(numbers)))))
        out = [("fd", r) for r in rows.tolist()]
        self.server_rows = server
        return out + [("closing", r) for r in closing.tolist()]

    def _fd_event(self, ev: list, r: int) -> None:
        """A row whose handler may have added, changed or removed a server socket: after it, its fd
        number holds what its fd snapshot shows (a close exit removes it at the next event)."""
        ty, side = self.ty, self.side
        et_ = int(self.retype[r])
        owner = self._owner(_unwrap(int(self.rtid[r])))
        table = self.fdh.setdefault(owner, {})
        if ty.multi_fd[et_]:
            if table:
                self._multi_fd(ev, r, et_, owner, table)
            return
        n = int(self.fdnum[r])
        s_ = int(side.fsnap[r])
        if ty.hmode[et_] == 2:              # a successful close: gone at the next event
            heapq.heappush(ev, (int(self.rpos[r]) + 1, 0, self.seq, "fdclose", (owner, n)))
            self.seq += 1
            return
        if s_ >= 0 and self.server_rows[r]:
            f = side.fd_rows[s_]
            table[n] = (f[5], True) if f[1] in _SERVSOCKS else (f[7], False)
        else:
            table.pop(n, None)

    def _multi_fd(self, ev: list, r: int, et_: int, owner: int, table: dict) -> None:
        """pipe, pipe2 and socketpair put new fds at their two fd parameters; close_range removes the
        fds of its range at the next event (StateEngine's handlers)."""
        one = np.array([r])
        res = self.rows_part.ints(one, 0)[0]
        if res is None or res < 0:
            return
        if self.ty.names[et_] == "close_range":
            lo = self.rows_part.ints(one, _head_param_index("fd")[et_], signed=False)[0]
            hi = self.rows_part.ints(one, _head_param_index("max_fd")[et_], signed=False)[0]
            if lo is None or hi is None:
                return
            for fd in [k for k in table if lo <= k <= hi]:
                heapq.heappush(ev, (int(self.rpos[r]) + 1, 0, self.seq, "fdclose", (owner, fd)))
                self.seq += 1
            return
        for i in (1, 2):
            fd = self.rows_part.ints(one, i)[0]
            if fd is not None:
                table.pop(fd, None)

    def _closing(self, r: int) -> None:
        """_Collector._tables on a listening socket's close enter: is its port open on another
        listening socket in the table?"""
        f = self.side.fd_rows[int(self.side.fsnap[r])]
        owner, n = self._owner(_unwrap(int(self.rtid[r]))), int(self.fdnum[r])
        if n not in self.fdh.get(owner, {}):
            raise Fallback("a listening socket the table followed here does not have")
        port = f[5]
        elsewhere = any(ss and pt == port and (o, k) != (owner, n)
                        for o, fds in self.fdh.items() if o in self.th.t for k, (pt, ss) in fds.items())
        self.closings[r] = (port, not elsewhere)

    def _sport(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """fd.sport of rows (values, valid)."""
        fds = self.side.fd_rows
        # per fd snapshot, then two entries for fsnap -2 and -1 (none)
        per_v = np.zeros(len(fds) + 2, dtype=np.int64)
        per_ok = np.zeros(len(fds) + 2, dtype=bool)
        for i, (_, ftype, _, role, _, sport, _, dport) in enumerate(fds):
            if role == 0:
                continue
            if ftype in _SOCKS and dport is not None:
                per_v[i], per_ok[i] = dport, True
            elif ftype in _SERVSOCKS and sport is not None:
                per_v[i], per_ok[i] = sport, True
        fsnap = self.side.fsnap[_span(np.asarray(rows))]
        return per_v[fsnap], per_ok[fsnap]

    # -- the per-event columns ----------------------------------------------------------------------------
    def columns(self):
        """The collector's per-event columns (summary.EventCols) and a function building its frame
        from them (see replay_collect for the columns). Full-length arrays are made only for the
        columns of every event; the rows' fd columns are views of the frame's where they can be."""
        from .summary import EventCols, Sparse, Text
        side, ty, df = self.side, self.ty, self.df
        drows, dhid = self.drows, self.dhid
        nd = len(self.dpos)
        dr, dh = self.dr, self.dh       # drows, dhid as slices when they can be (views, not copies)
        orow, ohid = self.out(self.rpos[dr]), self.out(self.hpos[dh])
        et_r = self.retype[dr]
        # the hidden events' types: most often one (procinfo), its per-type values then fill the column
        htypes = np.flatnonzero(np.bincount(self.hetype[dh], minlength=len(ty.names))) if len(dhid) else []
        et_h = int(htypes[0]) if len(htypes) == 1 else self.hetype[dh]

        def merged(rows: np.ndarray, hid=0, dtype=np.int64) -> np.ndarray:
            if np.ndim(hid) == 0:       # one value for every hidden event: fill, then the rows
                out = np.full(nd, hid, dtype=dtype)
            else:
                out = np.empty(nd, dtype=dtype)
                out[ohid] = hid
            out[orow] = rows
            return out

        # evt.type: the frame's names for rows (generic events by syscall), the table's for hidden events
        tcat = df["evt.type"].array
        tnames = [table_text(x) for x in tcat.categories] + ty.names
        tdtype = np.int16 if len(tnames) < 32767 else np.int64
        tcode = merged(tcat.codes[dr], len(tcat.categories) + et_h, tdtype)
        rres, rres_ok = _int_col(df["evt.rawres"].array[dr])
        hres, hres_ok = self._hidden_res(dhid, htypes)
        res_ok = merged(rres_ok, hres_ok if hres_ok.any() else False, bool)
        res = merged(rres, hres if hres_ok.any() else 0)
        # fd fields: kept for the rows only (hidden events have none), where the event is about an fd
        # and has a thread (fsnap != -1)
        fsnap = side.fsnap[dr]
        fcat = df["fd.type"].array
        fcodes = fcat.codes[dr]
        ncat = df["fd.name"].array
        nlabels = list(ncat.categories)
        ncodes = ncat.codes[dr]
        sport, sport_ok = self._sport(drows)
        blen, blen_ok = _int_col(df["evt.buflen"].array[dr])
        blen_ok &= fsnap != -1
        lat, lat_ok = _int_col(df["evt.latency"].array[dr])
        lat_ok &= ty.io_exit[et_r]
        fd_types = [table_text(x) for x in fcat.categories]
        # per fd.type code, file or unix (the last entry: code -1, none)
        file_unix = np.append(np.isin(np.array(fd_types, dtype=object), ["file", "unix"]), False)
        to_file_unix = file_unix[fcodes]
        pidx = np.flatnonzero(ty.named("execve", exits=True)[et_r])
        pvals = np.empty(len(pidx), dtype=object)
        pvals[:] = [table_text(v[4]) if v is not None else None
                    for v in (self.taps.get(r) for r in drows[pidx].tolist())]
        keep = np.array([v is not None for v in pvals], dtype=bool)
        cols = EventCols(
            ts=self.ts_all[_span(self.dpos)], type_code=tcode, type_names=tnames, exit=merged(ty.exit[et_r], ty.exit[et_h], bool),
            res=res, res_ok=res_ok, is_read=merged(ty.read[et_r], ty.read[et_h], bool),
            is_write=merged(ty.write[et_r], ty.write[et_h], bool),
            hidden=merged(False, True, bool), fd_rows=orow, fd_type=fcodes, fd_types=fd_types,
            name=Text(ncodes, [table_text(x) for x in nlabels]),
            containername=self._containername(drows, ncodes, nlabels),
            sport=sport, sport_ok=sport_ok, buflen=np.where(blen_ok, blen, 0),
            latency=np.where(lat_ok, lat, 0), pname=Sparse(orow[pidx][keep], pvals[keep]),
            arg=self._args(drows, orow, dhid, ohid, et_r, rres, rres_ok, to_file_unix))
        return cols, lambda: _frame(cols, blen_ok, lat_ok)

    def _hidden_res(self, dhid: np.ndarray, htypes) -> tuple[np.ndarray, np.ndarray]:
        """FieldContext.res of hidden events (of types ``htypes``): the 'res' (or an fd creator's 'fd')
        parameter."""
        vals = np.zeros(len(dhid), dtype=np.int64)
        ok = np.zeros(len(dhid), dtype=bool)
        if not (self.ty.res_idx[np.asarray(htypes, dtype=np.int64)] >= 0).any():
            return vals, ok
        ridx = self.ty.res_idx[self.hetype[self.dh]]
        m = np.flatnonzero(ridx >= 0)
        for i, raw in zip(m.tolist(), self.hid_part.raw(dhid[m], ridx[m]), strict=True):
            v = as_int(raw, True)
            if v is not None:
                vals[i], ok[i] = v, True
        return vals, ok

    def _containername(self, drows, ncodes, nlabels):
        """fd.containername of the rows (summary.Text): the thread's container id and ':' before
        fd.name (so a failed connect shows the address it named, as libsinsp extracts both)."""
        from .summary import Text
        labels = list(nlabels)
        cid = self._row_cids(drows)
        if cid is None:
            return Text(ncodes, [table_text(":" + x) if x is not None else None for x in labels])
        ccodes, cids = cid
        # one key per (name, container) pair: (name code + 1) * w + container code + 1, >= 0
        w = len(cids) + 1
        key = ncodes.astype(np.int64)
        key += 1
        key *= w
        key += ccodes
        key += 1
        u, inv = _unique_small(key)
        texts = []
        for c in u.tolist():
            k, ci = divmod(c, w)
            texts.append(None if k == 0 else table_text((cids[ci - 1] if ci else "") + ":" + labels[k - 1]))
        # (Text takes the distinct texts: a snapshot name and the same path from fd.name are one file)
        return Text(inv, texts)

    def _row_cids(self, drows) -> tuple[np.ndarray, list[str]] | None:
        """Per row, the code of its thread's runc container in the returned list (-1: none); None when
        no thread of the capture was ever in one."""
        if not self.cid_names:
            return None
        return self.row_cid[self.dr], self.cid_names

    def _args(self, drows, orow, dhid, ohid, et_r, rres, rres_ok, to_file_unix):
        """_Collector._arg (summary.Sparse): exe of execve exits, the signal of signaldeliver, infra
        source and name, the data of successful writes to files and unix sockets."""
        from .summary import Sparse
        ty, compat = self.ty, self.cap.compat
        rp, hp = self.rows_part, self.hid_part
        at: list[np.ndarray] = []
        vals: list = []
        name_is = {n: np.array([x == n for x in ty.names], dtype=bool) for n in ("execve", "signaldeliver", "infra")}
        exit_r = ty.exit[et_r]
        m = np.flatnonzero(name_is["execve"][et_r] & exit_r & rres_ok & (rres >= 0))
        if len(m):
            at.append(orow[m])
            vals += [table_text(_str(x)) for x in rp.raw(drows[m], 1)]
        m = np.flatnonzero(name_is["signaldeliver"][et_r] & ~exit_r)
        if len(m):
            at.append(orow[m])
            vals += [as_int(x, True) for x in rp.raw(drows[m], _param_index(compat, "sig")[et_r[m]])]
        for part, idx, et_x, out in ((rp, drows, et_r, orow), (hp, dhid, self.hetype[dhid], ohid)):
            m = np.flatnonzero(name_is["infra"][et_x])
            if len(m):
                m = m[part.nparams(idx[m]) >= 2]
            if len(m):
                src = [_str(x) for x in part.raw(idx[m], _param_index(compat, "source")[et_x[m]])]
                nm = [_str(x) for x in part.raw(idx[m], _param_index(compat, "name")[et_x[m]])]
                at.append(out[m])
                vals += list(zip(src, nm, strict=True))
        m = np.flatnonzero(exit_r & ty.write[et_r] & to_file_unix & rres_ok & (rres >= 0))
        if len(m):
            at.append(orow[m])
            vals += rp.payloads(drows[m], _param_index(compat, "data")[et_r[m]])
        idx = np.concatenate(at) if at else np.zeros(0, dtype=np.int64)
        arr = np.empty(len(vals), dtype=object)
        arr[:] = vals
        order = np.argsort(idx, kind="stable")
        idx, arr = idx[order], arr[order]
        keep = np.array([v is not None for v in arr], dtype=bool)
        return Sparse(idx[keep], arr[keep])

    def http(self) -> pd.DataFrame:
        """analyzers.http over the socket payloads of the rows (_Collector._socket_io), given to
        ``http_table`` as arrays: the connection of a row is its (proc.pid, fd.num, fd.name) values
        (missing ones a value of their own), and the text of only the first row of each is made."""
        from .http import _group_codes, http_table
        ty, df = self.ty, self.df
        drows = self.drows
        et_r = self.retype[self.dr]
        fcat = df["fd.type"].array
        socket = np.isin(np.asarray(fcat.categories, dtype=object), ["ipv4", "ipv6", "unix"])
        is_sock = np.append(socket, False)[fcat.codes[self.dr]]        # (code -1: none)
        res, ok = _int_col(df["evt.rawres"].array[self.dr])
        sel = ty.io_exit[et_r] & is_sock & ok & (res > 0)
        rows = drows[sel]
        data = self.rows_part.payloads(rows, _param_index(self.cap.compat, "data")[self.retype[rows]])
        cols = {c: df[c].array for c in ("proc.name", "proc.pid", "fd.num", "fd.name")}

        def key(col: str) -> np.ndarray:
            arr = cols[col]
            if isinstance(arr, pd.Categorical):
                return arr.codes[rows].astype(np.int64)
            v, valid = _int_col(arr[rows])
            return np.where(valid, pd.factorize(v)[0], -1)

        def values(col: str, at: np.ndarray) -> list:
            arr = cols[col]
            if isinstance(arr, pd.Categorical):
                lab = np.empty(len(arr.categories) + 1, dtype=object)
                lab[:-1] = list(arr.categories)
                c = arr.codes[at].astype(np.int64)
                return lab[np.where(c >= 0, c, len(arr.categories))].tolist()
            v, valid = _int_col(arr[at])
            return [x if k else None for x, k in zip(v.tolist(), valid.tolist(), strict=True)]

        group = _group_codes([key("proc.pid"), key("fd.num"), key("fd.name")]) if len(rows) else np.zeros(0, np.int64)
        return http_table(self.ts_all[self.rpos[rows]], ty.read[self.retype[rows]], res[sel],
                          [b"" if x is None else x for x in data], group,
                          lambda first: [values(c, rows[first]) for c in ("proc.name", "proc.pid", "fd.num", "fd.name")])


def _frame(c, buflen_ok: np.ndarray, latency_ok: np.ndarray) -> pd.DataFrame:
    """replay_collect's event frame from the columns (built only when someone asks for it)."""
    from ..fastpath.frame import categorical
    n = len(c.ts)
    rows = c.fd_rows

    def ints(vals: np.ndarray, ok: np.ndarray) -> pd.arrays.IntegerArray:
        v = np.zeros(n, dtype=np.int64)
        mask = np.ones(n, dtype=bool)
        v[rows], mask[rows] = vals, ~ok
        return pd.arrays.IntegerArray(v, mask)

    def text(col) -> pd.Series:
        codes = np.full(n, -1, dtype=np.int64)
        codes[rows] = col.codes
        return pd.Series(col.of_codes(codes), dtype="object")

    def sparse(col) -> pd.Series:
        return pd.Series(col.at(np.arange(n)), dtype="object")

    fd_type = np.full(n, -1, dtype=np.int64)
    fd_type[rows] = c.fd_type
    return pd.DataFrame({
        "ts": c.ts,
        "type": categorical(c.type_code.astype(np.int64), c.type_names),
        "dir": pd.Categorical.from_codes(c.exit.astype(np.int64), categories=[">", "<"]),
        "rawres": pd.arrays.IntegerArray(c.res.copy(), ~c.res_ok),
        "is_read": c.is_read,
        "is_write": c.is_write,
        "hidden": c.hidden,
        "fd.type": categorical(fd_type, c.fd_types),
        "fd.name": text(c.name),
        "fd.containername": text(c.containername),
        "fd.sport": ints(c.sport, c.sport_ok),
        "evt.buflen": ints(c.buflen, buflen_ok),
        "evt.latency": ints(c.latency, latency_ok),
        "proc.pname": sparse(c.pname),
        "arg": sparse(c.arg),
    })


_WHY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fast_collect(cap):
    """``summary.replay_collect(cap)`` from the fast load's side data, or None when the capture needs
    the replay (``why_not(cap)`` says why)."""
    side = cap._side()
    if side is None:
        _WHY[cap] = "the capture was not loaded by the fast loader"
        return None
    try:
        return _Build(cap, side).run()
    except Fallback as e:
        _WHY[cap] = str(e)
        return None


def why_not(cap) -> str | None:
    """Why the last ``fast_collect(cap)`` returned None (None when it did not)."""
    return _WHY.get(cap)


__all__ = ["fast_collect", "why_not", "summary_tap", "TAP", "TAP_EVENTS", "Fallback"]
