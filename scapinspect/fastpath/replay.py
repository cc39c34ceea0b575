"""The ordered pass: libsinsp's per-event parsing (state/engine.py) replayed over pre-decoded columns.

The reference replays every event as an ``Event`` object through ``StateEngine.process`` and then calls
a field getter per column. Here the engine's own tables (threads, fds, users) and handlers are reused,
but the per-event half that every event runs (``StateEngine.begin``/``_reset``: pending removals, thread
lookup, enter/exit pairing, the fd lookup, latency) is inlined over Python ints taken from numpy
columns, and an ``Event`` object is built only for the events whose handler changes state. Events that
only update the bookkeeping never leave this loop; hidden events with nothing to update are skipped.
Event types with no handler, no fd and no internal flag (about a third of the pass in 502Error) take a
short branch at the top of the loop: the thread's enter/exit bookkeeping and its snapshot only. Pending
removals are looked at only after something that may queue them (a handler, a close exit).

Each shown event records small integers: a thread snapshot id (the proc.* values the getters would
return at that moment, deduplicated), an fd snapshot id, fd.num, the latency and the type of the fd the
event touched; and which thread object the event saw (the snapshots are merged by content: a reused
tid, a replaced thread keep theirs), numbered per ThreadInfo on the snapshot cache's misses only. The
rare values that need the renderer (the path of a failed open, the address of a failed connect) are
computed by the reference getters on a real ``Event``, at the same point.
"""
from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass, field

import numpy as np

from .._i64 import i64
from ..parsers import eventtable as et
from ..parsers import metadata as md
from ..parsers.reader import Event
from ..render.events import Rendered
from ..state import engine as eng
from ..state.engine import EventContext, sanitize
from ..state.fields import FIELDS, FieldContext
from ..state.model import CL_CLONE_FILES, CL_CLONE_THREAD, CL_IS_MAIN_THREAD
from ..state.tracking import match_runc

# handlers that change only fds (they may create a main-thread placeholder: checked separately)
_THREAD_HANDLERS = ("_clone_exit", "_execve_exit", "_procexit", "_setuid_exit", "_setgid_exit",
                    "_setsid_exit")
_CREATORS = frozenset({"open", "accept", "accept4", "creat", "connect", "openat", "openat2"})
_RW_TUPLE = frozenset({"recvfrom", "recvmsg", "sendto", "sendmsg"})
# begin() kinds
K_RESET, K_GET_NORESET, K_GET_RESET, K_NONE, K_SKIP_PROCINFO = 0, 1, 2, 3, 4
L4_TCP = md.L4_TCP
IP_SOCKS = (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK)
_FD_FLAGS = et.EF_CREATES_FD | et.EF_USES_FD | et.EF_DESTROYS_FD


@dataclass
class Outputs:
    """Per shown event, in order: what the state said about it."""
    tsnap: list = field(default_factory=list)      # thread snapshot id, -1 for no thread
    fdnum: list = field(default_factory=list)      # the thread's lastevent_fd (meaningless if fsnap == -1)
    fsnap: list = field(default_factory=list)      # fd snapshot id; -1 not fd-related; -2 no fd found
    latency: list = field(default_factory=list)    # the thread's latency (0 when none; internal: masked)
    ctype: list = field(default_factory=list)      # type of the event's own fd (ctx.fdinfo), -1 for none
    fdname_override: dict = field(default_factory=dict)   # position in rows -> fd.name
    threads: list = field(default_factory=list)    # snapshot id -> THREAD_SNAPSHOT values
    fds: list = field(default_factory=list)        # snapshot id -> FD_SNAPSHOT values
    taps: dict = field(default_factory=dict)       # event type -> [(row position, what the tap returned)]
    eof_threads: list = field(default_factory=list)   # the thread table at the end, THREAD_SNAPSHOT values
    # thread objects, numbered 1, 2 ... in the order the pass first met them (the start table's first)
    tobj: list = field(default_factory=list)       # per shown event, its thread object (-1 for no thread)
    start_objects: list = field(default_factory=list)   # the start table's objects, in table order
    eof_objects: list = field(default_factory=list)     # eof_threads' objects
    clone_children: dict = field(default_factory=dict)  # row of a clone exit (-1: hidden) -> the new child's object
    # the thread table over time: one entry per thread entering (+1) or leaving (-1) the table, and a
    # -1/+1 pair around a change of its pid or flags (execve), in the order they happened; see TABLE_LOG
    table_log: dict = field(default_factory=dict)


# the columns of Outputs.table_log: key (2k for a change made while parsing event k, 2k + 1 for one
# made right after it (a pending removal), k the event's index among the file's kept events, evt.num - 1;
# -1 for the start table), op (+1 / -1), obj (the thread object), tid, pid, ptid, counted (a thread of
# a process that is not its main one: tracking.ViewState.nthreads counts it), main (ThreadInfo.is_main)
TABLE_LOG = ("key", "op", "obj", "tid", "pid", "ptid", "counted", "main")


# what a thread snapshot records (the first six are the frame's proc.* columns)
THREAD_SNAPSHOT = ("pid", "comm", "ppid", "exe", "args", "user", "tid", "vtid", "vpid", "container_id",
                   "tty", "loginuid", "uid", "runc")    # runc: tracking.match_runc of its cgroups
# what an fd snapshot records (ip addresses as bytes, b"" for other fds)
FD_SNAPSHOT = ("name", "type", "l4proto", "role", "sip", "sport", "dip", "dport")


def type_tables(state_table: et.EventTable, prof_table: et.EventTable, handlers: dict, modern: bool):
    """Per event type: begin() kind, state flags, handler mode, and the field-side flags."""
    n = len(prof_table.events)
    kind, uses_fd, hmode, fdrel, creator, connect_x, internal = [], [], [], [], [], [], []
    exitloc, cfr = [], []
    for i in range(n):
        info = state_table.events[i]
        f = info.flags
        if f & et.EF_SKIPPARSERESET:
            k = K_SKIP_PROCINFO if info.name == "procinfo" else K_NONE
        elif i in eng.CLONE_EXITS:
            k = K_GET_RESET
        elif i == eng.SCHEDSWITCH_6_E:
            k = K_GET_NORESET
        elif i in eng.CONTAINER_JSON or (modern and info.name in eng._USER_EVENTS):
            k = K_NONE
        else:
            k = K_RESET
        kind.append(k)
        uses_fd.append(bool(f & et.EF_USES_FD))
        exitloc.append(eng._EXIT_FD_LOCATION.get(info.name, -1))
        cfr.append(info.name == "copy_file_range" and i % 2 == 1)
        h = handlers.get(i)
        if h is None:
            m = 0
        elif info.name == "close":
            m = 1 if i % 2 == 0 else 2
        elif getattr(h, "__name__", "") == "_rw_exit":
            m = 4 if info.name in _RW_TUPLE else 3
        elif getattr(h, "__name__", "") in _THREAD_HANDLERS:
            m = 6
        else:
            m = 5
        hmode.append(m)
        p = prof_table.events[i]
        fdrel.append(bool(p.flags & _FD_FLAGS))
        creator.append(i % 2 == 1 and p.name in _CREATORS)
        connect_x.append(p.name == "connect" and i % 2 == 1)
        internal.append(bool(p.category & et.EC_INTERNAL))
    return kind, uses_fd, hmode, fdrel, creator, connect_x, internal, exitloc, cfr


# numpy (kind, itemsize) -> struct code, for EventMaker's records
_STRUCT_CODE = {("i", 1): "b", ("i", 2): "h", ("i", 4): "i", ("i", 8): "q",
                ("u", 1): "B", ("u", 2): "H", ("u", 4): "I", ("u", 8): "Q"}


class EventMaker:
    """Builds the reader's ``Event`` for one pass event, on demand, from the header and framing of
    the pass events whose type may need one (``maker_types``): ``cols`` holds the arrays ``off``,
    ``ts``, ``tid``, ``cpu``, ``type``, ``flags``, ``nparams``, ``width``, ``lens_start`` and
    ``data_start`` of those events only, and ``slot`` maps a pass event to its entry (-1: none)."""

    _FIELDS = ("nparams", "width", "data_start", "lens_start", "off", "ts", "tid", "cpu", "type", "flags")

    def __init__(self, mv, cols: dict, slot: np.ndarray):
        self.mv = mv
        # one packed record per event, read back by one struct unpack (all its fields as Python ints
        # in one call, cheaper than ndarray.item)
        dtype = np.dtype([(k, cols[k].dtype.newbyteorder("<")) for k in self._FIELDS])
        rec = np.empty(len(cols["type"]), dtype=dtype)
        for k in self._FIELDS:
            rec[k] = cols.pop(k)
        fmt = "".join(_STRUCT_CODE[dtype[k].kind, dtype[k].itemsize] for k in self._FIELDS)
        self._read = struct.Struct("<" + fmt).unpack_from
        self._records = rec.tobytes()
        # pass event -> byte offset of its record (-1: none), in an array.array: it indexes to Python ints
        self._at = array("q", np.where(slot >= 0, slot.astype(np.int64) * dtype.itemsize, -1).tobytes())
        self._unpack: dict[int, object] = {}     # n << 3 | width -> unpack_from of n lengths

    def __call__(self, i: int) -> Event:
        at = self._at[i]
        if at < 0:
            raise AssertionError(f"pass event {i} was not expected to need an Event")
        n, w, data, lstart, off, ts, tid, cpu, etype, flags = self._read(self._records, at)
        if n:
            unpack = self._unpack.get(n << 3 | w)
            if unpack is None:
                unpack = self._unpack[n << 3 | w] = struct.Struct(f"<{n}{'I' if w == 4 else 'H'}").unpack_from
            return Event(self.mv, off, ts, tid, cpu, etype, flags, unpack(self.mv, lstart), data)
        return Event(self.mv, off, ts, tid, cpu, etype, flags, (), ())


def maker_types(state_table: et.EventTable, prof_table: et.EventTable, handlers: dict, modern: bool,
                taps: dict | None) -> np.ndarray:
    """Per event type, whether the pass may build its ``Event``: the types whose handler reads the
    event, the fd creators and connect exits whose fd.name needs the renderer, the tapped types, and
    the enter events paired with any of those exits (the handler may read the enter)."""
    _, _, hmode, _, creator, connect_x, _, _, _ = type_tables(state_table, prof_table, handlers, modern)
    need = (np.array(hmode) >= 4) | np.array(creator, dtype=bool) | np.array(connect_x, dtype=bool)
    for t in taps or ():
        need[t] = True
    exits = np.flatnonzero(need & (np.arange(len(need)) % 2 == 1))
    need[exits - 1] = True
    return need


def _table_log(tlog: list, nums: np.ndarray) -> dict:
    """Outputs.table_log from the pass's entries, their keys turned from pass events to kept events."""
    cols = list(zip(*tlog, strict=True)) if tlog else [()] * len(TABLE_LOG)
    # (ids read from the capture may pass 2**63: wrapped as the other int64 columns are)
    out = {name: np.array(i64(col), dtype=np.int64) for name, col in zip(TABLE_LOG, cols, strict=True)}
    key = out["key"]
    at = key >= 0
    g = key[at] // 2
    key[at] = 2 * (np.asarray(nums, dtype=np.int64)[g] - 1) + key[at] % 2
    return out


def _optional(col: tuple, sl: slice) -> list:
    """(values, valid) arrays -> a list of ints and None, for one chunk."""
    vals, valid = col
    v = valid[sl]
    arr = np.full(len(v), None, dtype=object)
    idx = np.flatnonzero(v)
    arr[idx] = vals[sl][idx].tolist()
    return arr.tolist()


def replay(stream, cols: dict, mk: EventMaker, chunk: int = 1 << 16, taps: dict | None = None,
           progress=None) -> Outputs:
    """Run the ordered pass over the events that may have an effect (``cols`` holds one entry per such
    event: ``type``, ``tid``, ``ts``, ``fd`` (the fd _reset reads), ``res0``, ``visible`` and ``num``,
    the optional integers as (values, valid) arrays).

    ``taps`` maps event types to functions called on each shown event of that type, right after the
    state has parsed it, as ``f(stream, Rendered)``; what they return (unless None) is kept in
    ``Outputs.taps`` with the event's row position. They see the state an analysis replaying the
    capture would see at that event, for the price of the few events they ask for. ``progress(done,
    total)`` is called after each chunk of pass events."""
    state = stream.state
    prof = stream.prof
    modern = state.modern
    threads = state.threads
    rem_fds = state._fds_to_remove
    handlers = state._handlers
    kind, uses_fd, hmode, fdrel, creator, connect_x, internal, exitloc, cfr = type_tables(
        state.table, prof.table, handlers, modern)
    types = cols["type"]
    out = Outputs()
    o_tsnap, o_fdnum, o_fsnap, o_lat, o_ctype = out.tsnap, out.fdnum, out.fsnap, out.latency, out.ctype
    nums = cols["num"]
    snap_cache: dict[int, int] = {}
    tsnaps: dict[tuple, int] = {}
    # thread -> its object number (threads hash by identity): an entry stays until the thread is out of
    # the table, which it never reenters (the engine only inserts new ThreadInfo objects): a removal
    # drops it, a sweep per chunk the others; keeping every thread would cost the garbage collector
    # ~40 ms per 1M events
    serials: dict = {}
    raws: dict[int, int] = {}           # object number << 32 | content snapshot id -> raw snapshot id
    raw_content: list = []              # raw snapshot id -> content snapshot id
    raw_object: list = []               # raw snapshot id -> object number
    numbered = [0]

    def serial(t) -> int:
        s = serials.get(t)
        if s is None:
            numbered[0] += 1
            s = serials[t] = numbered[0]
        return s

    def sweep() -> None:
        present = set(map(id, threads.values()))
        for k in [k for k in serials if id(k) not in present]:
            del serials[k]
    out.start_objects = [serial(t) for t in threads.values()]
    # the table's changes (state.on_table), stamped with clk[0]: 2g while pass event g is parsed, 2g + 1
    # right after it; set before each call that may change the table (handlers, thread creation, removals)
    clk = [-1]
    tlog: list = []

    def logged(op: int, t) -> None:
        if threads.get(t.tid) is t:
            tlog.append((clk[0], op, serial(t), t.tid, t.pid, t.ptid,
                         bool(t.flags & CL_CLONE_THREAD) and t.tid != t.pid, t.is_main()))
    for t in threads.values():
        logged(1, t)
    state.on_table = logged     # (unset at the end of the pass)
    fsnaps: dict[tuple, int] = {}
    fd_table = state.fd_table
    get_thread = state.get_thread
    clone_exits = eng.CLONE_EXITS
    res0_vals, res0_ok = cols["res0"]
    user_name = state.user_name
    old = not modern

    def getfd(t, fd, g):
        if fd < 0:
            return None
        if t.flags & CL_CLONE_FILES and t.tid != t.pid and not t.flags & CL_IS_MAIN_THREAD:
            m = threads.get(t.pid)
            if m is None:       # libsinsp creates the missing main thread here
                clk[0] = 2 * g
                m = state.main_thread(t)
                snap_cache.clear()
            return m.fds.get(fd)
        return t.fds.get(fd)

    def full_handler(i, t, cfd):
        clk[0] = 2 * i
        ev = mk(i)
        et_ = ev.type
        if t is not None and type(t.enter) is int:
            if t.enter == i:
                t.enter = ev            # (this enter event: its exit's handler reads the same Event)
            elif types[t.enter] == et_ - 1:
                t.enter = mk(t.enter)   # enter_of() would return it: the handler may read it
        ctx = EventContext(t, cfd, -1, 0, 0)
        n = len(threads)
        if et_ in clone_exits:      # (ViewState: a child the clone exit creates)
            child_tid = int(res0_vals[i]) if res0_ok[i] else None     # (p_int(ev, 0))
            if child_tid is not None and child_tid >= 0:
                child_tid = child_tid or ev.tid
                before = threads.get(child_tid)
                handlers[et_](ev, ctx)
                child = threads.get(child_tid)
                if child is not None and child is not before:
                    out.clone_children[i] = serial(child)
                snap_cache.clear()
                return ctx.tinfo, ctx.fdinfo, ev
        handlers[et_](ev, ctx)
        if hmode[et_] == 6 or len(threads) != n:
            snap_cache.clear()
        return ctx.tinfo, ctx.fdinfo, ev

    def slow_field(name, i, num, ev, t, cfd):
        clk[0] = 2 * i
        ev = ev or mk(i)
        if t is not None and type(t.enter) is int:
            t.enter = mk(t.enter)
        n = len(threads)
        v = FIELDS[name](FieldContext(stream, Rendered(num, ev, EventContext(t, cfd, -1, 0, 0))))
        if len(threads) != n:
            snap_cache.clear()
        return v

    runc_of: dict[tuple, object] = {}

    def snap_key(t, ppid) -> tuple:
        cg = tuple(t.cgroups) if t.cgroups else ()
        runc = runc_of.get(cg, 0)
        if runc == 0:
            runc = runc_of[cg] = match_runc(list(cg)) if cg else None
        return (t.pid, t.comm, ppid, t.exe, " ".join(t.args), user_name(t.uid), t.tid, t.vtid, t.vpid,
                t.container_id, t.tty, t.loginuid, t.uid, runc)

    def main_ppid(t):
        if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD:
            return t.ptid
        m = threads.get(t.pid)
        return m.ptid if m is not None else None

    def thread_snap(t):
        """The raw snapshot id of ``t`` now: what the proc.* getters return for it, and which object it is."""
        key = snap_key(t, main_ppid(t))
        c = tsnaps.get(key)
        if c is None:
            c = tsnaps[key] = len(out.threads)
            out.threads.append(key)
        ob = serials.get(t) or serial(t)
        s = raws.get(ob << 32 | c)
        if s is None:
            s = raws[ob << 32 | c] = len(raw_content)
            raw_content.append(c)
            raw_object.append(ob)
        return s

    # event types whose whole effect is the bookkeeping of _reset(): no handler, no fd, no field needs
    tapped = [bool(taps) and i in taps for i in range(len(kind))]
    light = [k == K_RESET and h == 0 and not u and not r and not n and i != 152 and not tapped[i]
             for i, (k, h, u, r, n) in enumerate(zip(kind, hmode, uses_fd, fdrel, internal, strict=True))]
    dirty = True                # removals may be pending (set after anything that may queue them)
    overrides = out.fdname_override
    pos = -1
    sbase = 0                   # shown events before this chunk
    nev = len(types)
    # the loop below is inlined on purpose (one function, locals only): a call per event would cost
    # more than the work it does
    for base in range(0, nev, chunk):
        if progress is not None:
            progress(base, nev)
        # one chunk's columns as Python ints (bounded memory); g = base + i is the global index
        sl = slice(base, base + chunk)
        sweep()
        type_l, tid_l, ts_l = types[sl].tolist(), cols["tid"][sl].tolist(), cols["ts"][sl].tolist()
        fd0_l = fdx_l = fdout_l = _optional(cols["fd"], sl)
        res_l = _optional(cols["res0"], sl)
        visible = cols["visible"][sl].tolist()
        nshow = sum(visible)
        o_tsnap, o_fdnum, o_fsnap, o_lat, o_ctype = ([-1] * nshow, [0] * nshow, [-1] * nshow, [0] * nshow,
                                                     [-1] * nshow)
        for i, et_ in enumerate(type_l):
            # -- begin(): pending removals (only handlers queue them), then the thread
            if dirty:
                if rem_fds:
                    for rt, rfd in rem_fds:
                        fd_table(rt).pop(rfd, None)
                    rem_fds.clear()
                if state._tid_to_remove is not None:
                    clk[0] = 2 * (base + i) - 1     # (right after the event that asked for it)
                    rt = state._tid_to_remove
                    gone = threads.get(rt)
                    state._remove_thread(rt)
                    if gone is not None and threads.get(rt) is not gone:
                        serials.pop(gone, None)         # out of the table for good: its number goes
                    state._tid_to_remove = None
                    snap_cache.clear()
                dirty = False
            if light[et_]:
                # no handler, no fd, not internal: the bookkeeping of _reset() and the thread snapshot
                t = threads.get(tid_l[i])
                if t is None:
                    clk[0] = 2 * (base + i)
                    t = get_thread(tid_l[i])
                    snap_cache.clear()
                if et_ & 1 == 0:
                    t.lastevent_type = et_
                    t.lastevent_fd = -1
                    t.latency = 0
                    t.last_enter_ts = ts_l[i]
                    t.enter = base + i
                else:
                    if t.last_enter_ts:
                        t.latency = ts_l[i] - t.last_enter_ts
                    if et_ != t.lastevent_type + 1:
                        t.enter = None
                        if modern:
                            t.lastevent_fd = -1
                if not visible[i]:
                    continue
                pos += 1
                s = snap_cache.get(t)
                if s is None:
                    s = snap_cache[t] = thread_snap(t)
                o_tsnap[pos] = s
                if old:
                    o_lat[pos] = t.latency
                continue
            k = kind[et_]
            cfd = None
            if k == K_RESET:
                t = threads.get(tid_l[i])
                if t is None:
                    clk[0] = 2 * (base + i)
                    t = get_thread(tid_l[i])
                    snap_cache.clear()
                if et_ & 1 == 0:
                    t.lastevent_type = et_
                    if uses_fd[et_] and fd0_l[i] is not None:
                        t.lastevent_fd = fd = fd0_l[i]
                        if t.flags & CL_CLONE_FILES:
                            if fd >= 0:   # getfd() inlined: the main thread holds the shared table
                                mt = t if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD else threads.get(t.pid)
                                cfd = mt.fds.get(fd) if mt is not None else getfd(t, fd, base + i)
                        elif fd >= 0:
                            cfd = t.fds.get(fd)
                    else:
                        t.lastevent_fd = -1
                    t.latency = 0
                    t.last_enter_ts = ts_l[i]
                    if et_ != 152:
                        t.enter = base + i  # finish(): the thread's last enter event (built when needed)
                else:
                    if t.last_enter_ts:
                        t.latency = ts_l[i] - t.last_enter_ts
                    paired = et_ == t.lastevent_type + 1
                    if not paired:
                        t.enter = None
                        if modern:
                            t.lastevent_fd = -1
                    if uses_fd[et_]:
                        if cfr[et_]:
                            fd = fdout_l[i]
                            if fd is not None:
                                t.lastevent_fd = fd
                        elif not paired:
                            fd = fdx_l[i]
                            t.lastevent_fd = -1 if fd is None else fd
                        fd = t.lastevent_fd
                        if t.flags & CL_CLONE_FILES:
                            if fd >= 0:   # getfd() inlined: the main thread holds the shared table
                                mt = t if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD else threads.get(t.pid)
                                cfd = mt.fds.get(fd) if mt is not None else getfd(t, fd, base + i)
                        elif fd >= 0:
                            cfd = t.fds.get(fd)
            elif k == K_GET_RESET:
                t = threads.get(tid_l[i])
                if t is not None:       # a clone exit: always an exit event
                    if t.last_enter_ts:
                        t.latency = ts_l[i] - t.last_enter_ts
                    if et_ != t.lastevent_type + 1:
                        t.enter = None
                        if modern:
                            t.lastevent_fd = -1
            elif k == K_NONE:
                t = None
            else:
                t = threads.get(tid_l[i])
            # -- finish(): the handler
            ev = None
            hm = hmode[et_]
            if hm:
                if hm == 1:
                    if cfd is not None:
                        cfd.close_in_progress = True
                elif hm == 2:
                    res = res_l[i]
                    if res is not None and t is not None:
                        if res >= 0:
                            if cfd is not None:
                                rem_fds.append((t, t.lastevent_fd))
                                dirty = True
                        elif cfd is not None:
                            cfd.close_in_progress = False
                elif hm == 3:
                    pass            # _rw_exit changes nothing outside recvfrom/recvmsg/sendto/sendmsg
                elif hm == 4:
                    # _rw_exit returns early for a failed call and for a named TCP socket
                    if cfd is not None and res_l[i] is not None and res_l[i] >= 0 and not (
                            cfd.name and cfd.l4proto == L4_TCP and cfd.type in IP_SOCKS):
                        t, cfd, ev = full_handler(base + i, t, cfd)
                        dirty = True
                else:
                    t, cfd, ev = full_handler(base + i, t, cfd)
                    dirty = True
            if not visible[i]:
                continue
            # -- the shown event: what the getters would return now
            pos += 1
            if t is None:
                if et_ == 272 or et_ == 324:
                    continue
                t = threads.get(tid_l[i])
                if t is None:
                    if cfd is not None:
                        o_ctype[pos] = cfd.type
                    continue
            if fdrel[et_]:
                lfd = o_fdnum[pos] = t.lastevent_fd
                f = cfd
                if f is None and lfd != -1:
                    if lfd >= 0:   # getfd() inlined: the main thread holds the shared table
                        mt = t if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD or not t.flags & CL_CLONE_FILES \
                            else threads.get(t.pid)
                        f = mt.fds.get(lfd) if mt is not None else getfd(t, lfd, base + i)
                if f is None:
                    o_fsnap[pos] = -2
                    if creator[et_]:
                        overrides[sbase + pos] = slow_field("fd.name", base + i, int(nums[base + i]), ev, t, cfd)
                        dirty = True
                else:
                    if connect_x[et_] and res_l[i] is not None and res_l[i] < 0:
                        overrides[sbase + pos] = slow_field("fd.name", base + i, int(nums[base + i]), ev, t, cfd)
                        dirty = True
                    key = (f.type, f.name, f.role, f.l4proto, f.sport, f.dport)
                    s = fsnaps.get(key)
                    if s is None:
                        s = fsnaps[key] = len(out.fds)
                        out.fds.append((sanitize(f.name), f.type, f.l4proto, f.role, bytes(f.sip or b""), f.sport,
                                        bytes(f.dip or b""), f.dport))
                    o_fsnap[pos] = s
            if cfd is not None:
                o_ctype[pos] = cfd.type
            s = snap_cache.get(t)
            if s is None:
                s = snap_cache[t] = thread_snap(t)
            o_tsnap[pos] = s
            if internal[et_]:
                o_lat[pos] = None
            elif old:
                o_lat[pos] = t.latency
            if tapped[et_]:
                ev = ev or mk(base + i)
                if type(t.enter) is int:
                    t.enter = mk(t.enter)
                n = len(threads)
                clk[0] = 2 * (base + i)
                got = taps[et_](stream, Rendered(int(nums[base + i]), ev, EventContext(t, cfd, -1, 0, 0)))
                if len(threads) != n:
                    snap_cache.clear()
                if got is not None:
                    out.taps.setdefault(et_, []).append((sbase + pos, got))
                dirty = True
        pos = -1
        sbase += nshow
        for lst, vals in ((out.tsnap, o_tsnap), (out.fdnum, o_fdnum), (out.fsnap, o_fsnap),
                          (out.latency, o_lat), (out.ctype, o_ctype)):
            lst.append(np.fromiter(vals, dtype=np.int64, count=len(vals)))
    if cols.get("trailing"):
        clk[0] = 2 * nev - 1
        state.settle()      # events the pass skipped follow its last one: the first of them would
    state.on_table = None
    out.table_log = _table_log(tlog, nums)
    out.eof_threads = [snap_key(t, main_ppid(t)) for t in threads.values()]
    out.eof_objects = [serial(t) for t in threads.values()]
    for name in ("tsnap", "fdnum", "fsnap", "latency", "ctype"):
        parts = getattr(out, name)
        setattr(out, name, np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))
    if out.clone_children:     # pass index -> row position (-1: a hidden event)
        keys = np.fromiter(out.clone_children, dtype=np.int64, count=len(out.clone_children))
        vis = np.asarray(cols["visible"][:int(keys.max()) + 1], dtype=bool)
        at = np.searchsorted(np.flatnonzero(vis), keys)
        at[~vis[keys]] = -1
        out.clone_children = dict(zip(at.tolist(), out.clone_children.values(), strict=True))
    # raw snapshot ids -> content snapshot ids (out.threads) and thread objects
    raw = out.tsnap
    raw_content.append(-1)      # (raw id -1: no thread)
    raw_object.append(-1)
    out.tsnap = np.array(raw_content, dtype=np.int64)[raw]
    out.tobj = np.array(raw_object, dtype=np.int64)[raw]
    return out


__all__ = ["replay", "Outputs", "EventMaker", "maker_types", "type_tables", "THREAD_SNAPSHOT", "FD_SNAPSHOT"]
