"""``Capture.connections`` answered from the loaded capture instead of a second replay.

The reference (analyzers/connections.py, ``_Tracker``) replays the capture and, at every exit on an
IPv4/IPv6 socket, looks at the fd object the state holds: its identity (a socket closed, or replaced
at the same number, starts a new row), its tuple, its role. The fast load recorded, for every shown
row, the thread and an fd snapshot (type, name, role, l4proto, addresses) taken at that very moment
(fastpath/side.py), which is everything but the identity of the fd object. So this module:

1. derives fd object identities from the events that put a new object into an fd table (open,
   socket, accept, pipe, socketpair, dup, fcntl F_DUPFD, eventfd & co, memfd: handlers whose effect
   the row shows, ``fd.num`` becoming the new fd) and from the clones that copy a process's table:
   an exit on fd N of process P uses the object of the last such event at (P, N);
2. takes the connections already open at the first kept event (the tracker's ``snapshot``) from the
   reference itself, by replaying the capture up to that event only (one event for a whole capture);
3. computes every other row, its bytes, operations, times and state with numpy over the socket exits
   (event tuples of unconnected UDP sockets are parsed per event, in Python: there are few).

Return values come from the frame's ``evt.rawres`` where the loader read that very parameter into it;
the other parameters from a framing of the few rows read (fast_io.res_ints, row_params), so the first
call after the load does not frame every row.

Where the snapshots cannot say what the state held (an fd name that does not match its addresses,
an exit between a connect's enter and exit, a thread with its own fd table, a clone that may or may
not have replaced a table still in use, an args list that is empty or one empty string ...), the
module raises ``Unsure`` and ``Capture.connections`` replays instead: the answer is the reference's
or nothing. tests/test_fast_analyses.py holds the two equal on every capture at hand.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._i64 import i64
from ..fastpath.replay import K_GET_RESET, K_RESET, type_tables
from ..fastpath.side import Side, locate_each
from ..parsers import eventtable as et
from ..parsers import metadata as md
from ..parsers.params import parse_socktuple
from ..parsers.reader import ScapReader, Section
from ..state.engine import EINPROGRESS, StateEngine
from ..state.model import CL_CLONE_FILES, CL_CLONE_THREAD, L4_NAMES, ROLE_SERVER, FdInfo
from .connections import (
    IO_FLAGS,
    SERV_TYPES,
    SOCK_TYPES,
    _fd_endpoints,
    _Tracker,
    _tuple_endpoints,
    fields_frame,
)
from .fast_io import param_ints, rawres, res_ints, row_params

log = logging.getLogger(__name__)


class Unsure(Exception):
    """The side data cannot settle what the reference would answer: replay instead."""


# what a state handler does to the fd tables (by the handler's name: the same for every table)
H_NONE, H_OPEN, H_SOCKET, H_ACCEPT, H_PIPE, H_DUP, H_FCNTL, H_SIMPLE, H_CLONE, H_EXECVE, H_PROCEXIT, \
    H_CONNECT_E = range(12)
_HANDLER_KINDS = {
    "_open_exit": H_OPEN, "_socket_exit": H_SOCKET, "_accept_exit": H_ACCEPT, "_pipe_exit": H_PIPE,
    "_socketpair_exit": H_PIPE, "_dup_exit": H_DUP, "_fcntl_exit": H_FCNTL, "handler": H_SIMPLE,
    "_memfd_exit": H_SIMPLE, "_clone_exit": H_CLONE, "_execve_exit": H_EXECVE, "_procexit": H_PROCEXIT,
    "_connect_enter": H_CONNECT_E,
}
# what the tracker does with an exit (by the profile table's event name, as _Tracker.event reads it)
T_NONE, T_CONNECT, T_ACCEPT, T_CLOSE, T_BIND, T_IO = range(6)
_TRACKER_KINDS = {"connect": T_CONNECT, "accept": T_ACCEPT, "accept4": T_ACCEPT, "close": T_CLOSE,
                  "bind": T_BIND}
_OPENED_TYPES = (md.FD_FILE_V2, md.FD_DIRECTORY)
_SOCKET_TYPES = (md.FD_UNIX_SOCK, md.FD_IPV4_SOCK, md.FD_IPV6_SOCK, md.FD_NETLINK)
F_DUPFD_CMDS = (1, 26)
# by handler kind: whether ``effects`` reads the event's res (parameter 0), and other parameters
_READS_RES = np.ones(12, dtype=bool)
_READS_RES[[H_NONE, H_PROCEXIT, H_CONNECT_E]] = False
_READS_MORE = np.zeros(12, dtype=bool)
_READS_MORE[[H_ACCEPT, H_PIPE, H_FCNTL, H_CLONE]] = True
# how far back (in rows) an exit's enter is looked for among the rows of other threads
ENTER_WINDOW = 64


@dataclass(frozen=True)
class _Types:
    """Per event type id: handler kind, tracker kind, direction of I/O, whether the event drives the
    thread's enter/exit pairing, and parameter indices."""
    hkind: np.ndarray
    tkind: np.ndarray
    reads: np.ndarray
    pairing: np.ndarray
    names: tuple[str, ...]
    tuple_idx: np.ndarray         # profile table's "tuple" parameter (what _Tracker reads)
    head_idx: dict                # state table (head) parameter index by name, per type: name -> array


_TYPES: dict[tuple[int, bool], tuple[et.EventTable, _Types]] = {}


def _types(table: et.EventTable, modern: bool) -> _Types:
    got = _TYPES.get((id(table), modern))
    if got is not None and got[0] is table:
        return got[1]
    state = StateEngine(et.head(), modern=modern)
    n = len(table.events)
    hkind = np.zeros(n, dtype=np.int8)
    for i, h in state._handlers.items():
        if i < n:
            hkind[i] = _HANDLER_KINDS.get(getattr(h, "__name__", ""), H_NONE)
    tkind = np.zeros(n, dtype=np.int8)
    for e in table.events:
        if e.id % 2 == 1 and e.id > 1:
            tkind[e.id] = _TRACKER_KINDS.get(e.name, T_IO if e.flags & IO_FLAGS else T_NONE)
    kind = type_tables(state.table, table, state._handlers, modern)[0]
    pairing = np.array([k in (K_RESET, K_GET_RESET) for k in kind], dtype=bool)
    if len(pairing) > 152:
        pairing[152] = False
    head = et.head().events
    head_idx = {name: np.array([head[i].param_index(name) if i < len(head) else -1 for i in range(n)],
                               dtype=np.int64) for name in ("cmd", "flags", "ptid")}
    t = _Types(hkind, tkind, np.array([bool(e.flags & et.EF_READS_FROM_FD) for e in table.events]), pairing,
               tuple(e.name for e in table.events),
               np.array([e.param_index("tuple") for e in table.events], dtype=np.int64), head_idx)
    _TYPES[(id(table), modern)] = (table, t)
    return t


def _take(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``arr[idx]`` where idx >= 0, -1 elsewhere (``arr`` may be empty)."""
    out = np.full(len(idx), -1, dtype=np.int64)
    ok = idx >= 0
    out[ok] = arr[idx[ok]]
    return out


def _last_before(ev_key: np.ndarray, ev_pos: np.ndarray, q_key: np.ndarray, q_pos: np.ndarray, span: int,
                 inclusive: bool = True) -> np.ndarray:
    """For each query (key, position), the index of the last event with the same key at a position
    <= (``inclusive``) or < the query's; -1 when there is none. Keys are small non-negative codes and
    positions lie in [0, span)."""
    out = np.full(len(q_key), -1, dtype=np.int64)
    if not len(ev_key) or not len(q_key):
        return out
    order = np.lexsort((ev_pos, ev_key))
    ks = ev_key[order]
    comb = ks * span + ev_pos[order]
    j = np.searchsorted(comb, q_key * span + q_pos, side="right" if inclusive else "left") - 1
    jj = np.maximum(j, 0)
    ok = (j >= 0) & (ks[jj] == q_key)
    out[ok] = order[jj[ok]]
    return out


def _codes(*cols: np.ndarray) -> list[np.ndarray]:
    """(pid, fd) pairs as small codes in one vocabulary: ``cols`` are P0, N0, P1, N1 ...; one code
    array per pair of inputs. Pids and fds must lie in [0, 2**31)."""
    ps, ns = cols[0::2], cols[1::2]
    lens = [len(p) for p in ps]
    allp = np.concatenate(ps).astype(np.int64)
    alln = np.concatenate(ns).astype(np.int64)
    if len(allp) and (allp.min() < 0 or allp.max() >= 1 << 31 or alln.min() < 0 or alln.max() >= 1 << 31):
        raise Unsure("thread or fd ids out of range")
    codes, _ = pd.factorize((allp << 31) | alln)
    return np.split(codes.astype(np.int64), np.cumsum(lens)[:-1])


class _Fast:
    """One computation of the connections frame (see the module docstring)."""

    def __init__(self, cap, df: pd.DataFrame, side: Side, keep: np.ndarray | None):
        self.cap = cap
        self.df = df
        self.side = side
        self.keep = keep
        self.n = len(df)
        self.types = _types(side.table, cap.compat != "0.29")
        self.etype = side.etype.astype(np.int64)
        self.tsnap = side.tsnap.astype(np.int64)
        self.fsnap = side.fsnap.astype(np.int64)
        self.fdnum = df["fd.num"].to_numpy(dtype=np.int64, na_value=-1)
        self.tid = df["thread.tid"].to_numpy(dtype=np.int64)
        self.ts = df["evt.rawtime"].to_numpy(dtype=np.int64)
        th = side.thread_rows
        self.th_pid = np.array(i64([t[0] for t in th] + [-1]), dtype=np.int64)
        self.th_tid = np.array(i64([t[6] for t in th] + [-1]), dtype=np.int64)
        fds = side.fd_rows
        self.fd_type = np.array([f[1] for f in fds] + [-1, -1], dtype=np.int64)
        self.span = self.n + 2
        self.u8 = side.rows._v["u8"]        # the mapped capture's bytes (what every framing reads)
        self.rawres = rawres(df)            # most of the res parameters read here, as the loader read them

    # -- helpers ----------------------------------------------------------------------------------
    def pid_of(self, rows: np.ndarray) -> np.ndarray:
        return self.th_pid[self.tsnap[rows]]

    def frame_rows(self, rows: np.ndarray) -> None:
        """Frame the parameters of ``rows`` (the rows most reads are about) in one go; ``framing``
        then serves them from it. Framing only these rows, not all, is what keeps the first call after
        the load cheap (fast_io.row_params)."""
        rows = np.asarray(rows, dtype=np.int64)
        params, at = row_params(self.side, rows)
        where = np.full(self.n, -1, dtype=np.int64)
        where[rows] = at
        self._framed = (params, where)

    def framing(self, rows: np.ndarray):
        """(framing, index of each row in it) for ``rows``: the one ``frame_rows`` made when it holds
        them all, else one of these rows alone."""
        rows = np.asarray(rows, dtype=np.int64)
        got = self.__dict__.get("_framed")
        if got is not None:
            at = got[1][rows]
            if (at >= 0).all():
                return got[0], at
        return row_params(self.side, rows)

    def ints(self, rows: np.ndarray, k: int | np.ndarray, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Parameter ``k`` (an index, or one per row) of rows ``rows`` as p_int reads it: (values, valid);
        signed ones from the frame's ``evt.rawres`` where the loader read that parameter into it."""
        def read(r: np.ndarray, ks) -> tuple[np.ndarray, np.ndarray]:
            p, at = self.framing(r)
            return param_ints(p, at, ks, signed)
        if not signed:
            return read(np.asarray(rows, dtype=np.int64), k)
        return res_ints(self.rawres, self.side, rows, k, read)

    def locate(self, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(byte offset, length, whether present) of parameter ``k`` of rows ``rows`` (Params.locate)."""
        p, at = self.framing(rows)
        pos, length = p.locate(at, k)
        return pos, length, p.nparams[at] > k

    def raws(self, rows: np.ndarray, ks: np.ndarray) -> list[bytes | None]:
        """Parameter ``ks[i]`` of row ``rows[i]`` as ``Event.raw`` gives it (None when the index is
        negative, the parameter absent or empty)."""
        p, at = self.framing(rows)
        pos, length = locate_each(p, at, np.asarray(ks, dtype=np.int64))
        u8 = p.v["u8"]
        return [u8[a:a + n].tobytes() if n > 0 else None for a, n in zip(pos.tolist(), length.tolist(), strict=True)]

    def neighbours(self, rows: np.ndarray, step: int) -> np.ndarray:
        """Per row, the previous (``step`` -1) or next (+1) row of the same thread among the events that
        drive its enter/exit pairing; -1 when there is none. Raises Unsure when a hidden event of that
        kind (not a row of the frame) lies between the two."""
        out = np.full(len(rows), -1, dtype=np.int64)
        pairing = self.pairing_rows
        todo = np.arange(len(rows))
        for k in range(1, ENTER_WINDOW + 1):
            if not len(todo):
                break
            cand = rows[todo] + step * k
            ok = (cand >= 0) & (cand < self.n)
            c = np.where(ok, cand, 0)
            hit = ok & (self.tid[c] == self.tid[rows[todo]]) & pairing[c]
            out[todo[hit]] = c[hit]
            todo = todo[~hit & ok]
        for i in todo.tolist():     # farther away: the thread's own rows
            r = int(rows[i])
            mine = self.rows_of(int(self.tid[r]))
            mine = mine[pairing[mine]]
            j = np.searchsorted(mine, r) + (1 if step > 0 else -1)
            if 0 <= j < len(mine) and mine[j] != r:
                out[i] = mine[j]
        if step < 0:
            lo, hi = out, rows                                  # -1: from the start of the capture
        else:
            lo, hi = rows, np.where(out >= 0, out, self.n)      # n: to its end
        self.check_hidden_between(self.tid[rows], lo, hi)
        return out

    def enters(self, rows: np.ndarray) -> np.ndarray:
        """Per exit row, the row of its thread's enter event that the state pairs it with (what
        ``StateEngine.enter_of`` returns), or -1: the thread's previous row that drives pairing, when
        it is the enter of the same call."""
        prev = self.neighbours(rows, -1)
        ok = (prev >= 0) & (self.etype[np.maximum(prev, 0)] == self.etype[rows] - 1)
        return np.where(ok, prev, -1)

    @property
    def pairing_rows(self) -> np.ndarray:
        """Per row, whether its event drives its thread's enter/exit pairing."""
        got = self.__dict__.get("_pairing_rows")
        if got is None:
            got = self._pairing_rows = self.types.pairing[self.etype]
        return got

    def hidden_types(self) -> np.ndarray:
        """The type id of every event the frame leaves out (from their headers: Hidden.etype)."""
        got = self.__dict__.get("_hidden_types")
        if got is None:
            hid = self.side.hidden
            got = np.zeros(0, dtype=np.int64) if hid is None or not len(hid) else hid.etype.astype(np.int64)
            self._hidden_types = got
        return got

    def hidden_kinds(self, per_type: np.ndarray) -> bool:
        """Whether an event the frame leaves out has a type that ``per_type`` (a bool per type id of
        the profile table) marks; types past the table mark nothing."""
        got = self.__dict__.get("_hidden_counts")
        if got is None:
            got = self._hidden_counts = np.bincount(self.hidden_types(), minlength=1 << 16)  # u16 type ids
        return bool((got[:len(per_type)] > 0)[per_type].any())

    def check_hidden_between(self, tid: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Unsure when a hidden event that drives pairing, of thread ``tid[i]``, lies between rows
        ``lo[i]`` and ``hi[i]`` (lo < hi; -1 and n stand for the ends of the capture)."""
        span = self.n + 2
        got = self.__dict__.get("_hidden_drive")
        if got is None:
            # the hidden events that drive pairing: their distinct threads, and (thread code, rows
            # before) keys in order; the thread ids are read from the headers of these events only
            htype = self.hidden_types()
            drive = np.zeros(len(htype), dtype=bool)
            if self.hidden_kinds(self.types.pairing):
                inside = htype < len(self.types.pairing)
                drive[inside] = self.types.pairing[htype[inside]]
            drive = np.flatnonzero(drive)
            hid = self.side.hidden
            htid = hid._v["u64"][np.asarray(hid.evoff, dtype=np.int64)[drive] + 8].astype(np.int64) \
                if len(drive) else np.zeros(0, dtype=np.int64)
            uniq, hc = np.unique(htid, return_inverse=True)
            before = np.asarray(hid.before, dtype=np.int64)[drive] if len(drive) else htid
            got = self._hidden_drive = (uniq, np.sort(hc.astype(np.int64) * span + before))
        uniq, keys = got
        if not len(uniq) or not len(tid):
            return
        qc = np.minimum(np.searchsorted(uniq, tid), len(uniq) - 1)
        known = uniq[qc] == tid
        qc, lo, hi = qc[known], np.asarray(lo)[known], np.asarray(hi)[known]
        a = np.searchsorted(keys, qc * span + lo + 1, side="left")
        b = np.searchsorted(keys, qc * span + hi, side="right")
        if (b > a).any():
            raise Unsure("a hidden event between an exit and its enter")

    # -- 1. fd object identities ------------------------------------------------------------------
    def effects(self) -> None:
        """The rows that put a new object in an fd table (self.add_*), the clones that may give a
        process a new table (self.bump_*), and the checks that the tables are keyed by process."""
        types = self.types
        hk = types.hkind[self.etype]
        idx = np.flatnonzero(hk)
        hki = hk[idx]
        res = np.zeros(len(idx), dtype=np.int64)
        rv = np.zeros(len(idx), dtype=bool)
        need = np.flatnonzero(_READS_RES[hki])
        res[need], rv[need] = self.ints(idx[need], 0)
        ok = rv & (res >= 0)
        fs = self.fsnap[idx]
        fst = self.fd_type[fs]
        shows_new = ok & (fs >= 0) & (self.fdnum[idx] == res)
        add_rows, add_fds = [], []

        def add(m: np.ndarray, fds: np.ndarray) -> None:
            add_rows.append(idx[m])
            add_fds.append(fds[m])

        add((hki == H_OPEN) & shows_new & np.isin(fst, _OPENED_TYPES), res)
        add((hki == H_SOCKET) & shows_new & np.isin(fst, _SOCKET_TYPES), res)
        add((hki == H_DUP) & shows_new, res)
        add((hki == H_SIMPLE) & ok, res)
        # accept: a new socket when its tuple (parameter 1) is an inet, inet6 or unix one
        acc = np.flatnonzero((hki == H_ACCEPT) & ok)
        self.accepted = np.zeros(self.n, dtype=bool)
        if len(acc):
            pos, length, present = self.locate(idx[acc], 1)
            u8 = self.u8
            fam = np.where(present & (length > 0), u8[np.minimum(pos, len(u8) - 1)], -1)
            good = ((fam == 2) & (length >= 13)) | ((fam == 10) & (length >= 37)) | ((fam == 1) & (length >= 17))
            good &= present
            m = np.zeros(len(idx), dtype=bool)
            m[acc[good]] = True
            add(m, res)
            self.accepted[idx[acc[good]]] = True
        # pipe, socketpair: both fds
        pp = np.flatnonzero((hki == H_PIPE) & ok)
        if len(pp):
            for j in (1, 2):
                v, valid = self.ints(idx[pp], j)
                add_rows.append(idx[pp][valid])
                add_fds.append(v[valid])
        # fcntl: F_DUPFD(_CLOEXEC) from the exit's cmd, else its enter's
        fc = np.flatnonzero((hki == H_FCNTL) & shows_new)
        if len(fc):
            rows = idx[fc]
            k = types.head_idx["cmd"][self.etype[rows]]
            cmd, cv = self.ints(rows, k, signed=False)
            # the exit's own cmd when the event has that parameter (even empty), else the enter's
            p, at = self.framing(rows)
            need = np.flatnonzero(~((k >= 0) & (p.nparams[at] > k)))
            if len(need):
                en = self.enters(rows[need])
                has = en >= 0
                ev, evv = self.ints(en[has], 1, signed=False)
                cmd[need[has]], cv[need[has]] = ev, evv
            m = np.zeros(len(idx), dtype=bool)
            m[fc[cv & np.isin(cmd, F_DUPFD_CMDS)]] = True
            add(m, res)
        rows = np.concatenate(add_rows) if add_rows else np.zeros(0, dtype=np.int64)
        fdv = np.concatenate(add_fds).astype(np.int64) if add_fds else np.zeros(0, dtype=np.int64)
        keepf = fdv >= 0
        self.add_pos, self.add_fd = rows[keepf], fdv[keepf]
        self.add_pid = self.pid_of(self.add_pos)
        # clones: a child process gets a copy of the table (a "bump" of its pid's table)
        cl = np.flatnonzero((hki == H_CLONE) & ok)
        crow = idx[cl]
        fk = types.head_idx["flags"][self.etype[crow]]
        flags, fv = self.ints(crow, fk, signed=False)
        flags = np.where(fv, flags, 0)
        child = np.where(res[cl] > 0, res[cl], self.tid[crow])
        thread = (flags & CL_CLONE_THREAD) != 0
        if (thread & ((flags & CL_CLONE_FILES) == 0)).any():
            raise Unsure("a thread cloned without CLONE_FILES has its own fd table")
        self.bump_pos, self.bump_pid = crow[~thread], child[~thread]
        self.clone_rows, self.clone_child = crow, child
        self.exec_rows = idx[(hki == H_EXECVE) & ok]
        inv = res[cl] == 0
        ptid, pv = self.ints(crow[inv], types.head_idx["ptid"][self.etype[crow[inv]]])
        self.clone_parent_rows = crow[inv][pv]
        self.clone_parent = ptid[pv]
        # an exec from a thread that is not its process's main thread leaves it its own (empty) table
        ex = idx[(hki == H_EXECVE) & ok]
        exs = self.tsnap[ex]
        if ((exs >= 0) & (self.th_tid[exs] != self.th_pid[exs])).any():
            raise Unsure("an exec from a non-main thread")
        self.procexit_rows = set(idx[hki == H_PROCEXIT].tolist())
        if self.hidden_kinds(np.isin(types.hkind, (H_OPEN, H_SOCKET, H_ACCEPT, H_PIPE, H_DUP, H_FCNTL, H_SIMPLE,
                                                   H_CLONE, H_EXECVE, H_CONNECT_E))):
            raise Unsure("a hidden event that changes fd tables or threads")
        self.connect_enters = idx[(hki == H_CONNECT_E) & (fs >= 0)]
        # every thread keeps its process id (else tables are not keyed by pid)
        tids, pids = self.th_tid[:-1], self.th_pid[:-1]
        order = np.lexsort((pids, tids))
        t, p = tids[order], pids[order]
        if ((t[1:] == t[:-1]) & (p[1:] != p[:-1])).any():
            raise Unsure("a thread id seen in two processes")

    def identities(self, pos: np.ndarray, pid: np.ndarray, fd: np.ndarray) -> np.ndarray:
        """The fd object at (pid, fd) at each position (after that row's handler), as a code: the index
        of the add that made it, else len(adds) + a code of (pid, last clone bump, fd) for an object
        inherited from the capture's fd list or a clone."""
        na = len(self.add_pos)
        kq, ka = _codes(pid, fd, self.add_pid, self.add_fd)
        last_add = _last_before(ka, self.add_pos, kq, pos, self.span)
        pb = np.concatenate([pid, self.bump_pid]).astype(np.int64)
        pcodes, _ = pd.factorize(pb)
        qb, bb = pcodes[:len(pid)], pcodes[len(pid):]
        last_bump = _last_before(bb, self.bump_pos, qb, pos, self.span)
        bump_at = _take(self.bump_pos, last_bump)
        add_at = _take(self.add_pos, last_add)
        from_add = (last_add >= 0) & (add_at > bump_at)
        out = np.where(from_add, last_add, -1)
        inh = ~from_add
        if inh.any():
            (pf,) = _codes(pid[inh], fd[inh])
            c, _ = pd.factorize(pf * (self.span + 1) + (bump_at[inh] + 1))
            out[inh] = na + c
        self._bump_at, self._add_at = bump_at, add_at
        return out

    # -- 2. the connections open at the first kept event ------------------------------------------
    def snapshot(self, first: int) -> _Tracker:
        """The reference tracker right after its snapshot: the capture replayed up to its first kept
        event (the state the reference's snapshot reads)."""
        s, it = self.cap.replay()
        try:
            item = next(it, None)
        finally:
            it.close()
        if item is None or item.num != int(self.df["evt.num"].iat[first]):
            raise Unsure("the replay does not start where the frame does")
        tr = _Tracker(s)
        tr.snapshot()
        return tr

    # -- 3. the frame -----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        keep = self.keep
        kept = np.flatnonzero(keep) if keep is not None else None
        if self.n == 0 or (kept is not None and not len(kept)):
            raise Unsure("no kept event: the reference snapshots the final state")
        first = int(kept[0]) if kept is not None else 0
        types = self.types
        # -- the exits the tracker reads: on a socket (binds: on a server socket), with a thread
        tk = types.tkind[self.etype]
        cand = tk != T_NONE
        if keep is not None:
            cand &= keep
        q = np.flatnonzero(cand)
        q = q[(self.tsnap[q] >= 0) & (self.fsnap[q] >= 0)]
        tq = tk[q]
        ftype = self.fd_type[self.fsnap[q]]
        bind_rows = q[np.isin(ftype, list(SERV_TYPES)) & (tq == T_BIND)]
        q = q[np.isin(ftype, list(SOCK_TYPES))]
        # the fd-table changes whose parameters past res are read: framed together, once
        self.frame_rows(np.flatnonzero(_READS_MORE[types.hkind[self.etype]]))
        self.effects()
        tr = self.snapshot(first)
        state = tr.state
        # the tracker's rows so far (the snapshot's), and their generations
        snap_rows = list(tr.rows)
        g_pid, g_fd, g_obj_main, g_rows = [], [], [], []
        for (pid, fd), gen in tr.gens.items():
            m = state.threads.get(pid)
            main = m is not None and m.is_main() and m.fds.get(fd) is gen.fdobj
            g_pid.append(pid)
            g_fd.append(fd)
            g_obj_main.append(main)
            g_rows.append(list(gen.rows.items()))
        # an accept whose tuple gave no new fd has no fd info (the frame shows the old fd's)
        tq = tk[q]
        q = q[(tq != T_ACCEPT) | self.accepted[q]]
        tq = tk[q]
        res, rv = self.ints(q, 0)
        touch = ((tq == T_CONNECT) & rv & ((res >= 0) | (res == -EINPROGRESS))) | \
            ((tq == T_ACCEPT) & rv & (res >= 0)) | (tq == T_IO)
        close = (tq == T_CLOSE) & rv & (res >= 0)
        sel = touch | close
        q, tq, res, rv, close = q[sel], tq[sel], res[sel], rv[sel], close[sel]
        touch = ~close
        pid = self.pid_of(q)
        fd = self.fdnum[q]
        # identities: of the exits, and of the snapshot's generations (at the first kept event)
        gp = np.array(g_pid, dtype=np.int64)
        gf = np.array(g_fd, dtype=np.int64)
        allpos = np.concatenate([q, np.full(len(gp), first, dtype=np.int64)])
        obj = self.identities(allpos, np.concatenate([pid, gp]), np.concatenate([fd, gf]))
        bump_at, add_at = self._bump_at, self._add_at
        own_base = obj.max() + 1 if len(obj) else 0
        gobj = obj[len(q):].copy()
        for k, main in enumerate(g_obj_main):
            if not main:
                gobj[k] = own_base + k       # an fd of a thread's own table: never an exit's
        obj = obj[:len(q)]
        self.check_bumps(q, pid, fd, bump_at[:len(q)], add_at[:len(q)], gp, gf, first)
        # -- endpoints: the fd's (from its snapshot) or the event's tuple (unconnected UDP)
        fds = self.side.fd_rows
        fsq = self.fsnap[q]
        snap_ids = np.unique(fsq).tolist()
        info = {s: _fd_facts(fds[s]) for s in snap_ids}
        l4p = np.array([info[s].l4proto for s in snap_ids], dtype=np.int64)
        is_tcp = l4p[np.searchsorted(snap_ids, fsq)] == md.L4_TCP if len(q) else np.zeros(0, bool)
        reads = types.reads[self.etype[q]]
        ends_key: dict[tuple, int] = {}
        ends = np.full(len(q), -1, dtype=np.int64)
        srv_t = np.zeros(len(q), dtype=bool)          # for tuple ends: the reader is the server
        by_tuple = np.zeros(len(q), dtype=bool)
        io_udp = np.flatnonzero(touch & (tq == T_IO) & ~is_tcp)
        if len(io_udp):
            got = self.event_tuples(q[io_udp], reads[io_udp])
            for i, e in zip(io_udp.tolist(), got, strict=True):
                if e is not None:
                    ends[i] = ends_key.setdefault(e, len(ends_key))
                    by_tuple[i] = True
                    srv_t[i] = bool(reads[i])
        by_fd = touch & ~by_tuple
        snap_ends = {}
        for s in snap_ids:
            f = info[s]
            snap_ends[s] = ends_key.setdefault((f.local, f.remote), len(ends_key))
        fdi = np.flatnonzero(by_fd)
        if len(fdi):
            bad = [s for s in np.unique(fsq[fdi]).tolist() if not info[s].consistent]
            if bad:
                raise Unsure("an fd name that does not match its addresses")
            lut = np.array([snap_ends[s] for s in snap_ids], dtype=np.int64)
            ends[fdi] = lut[np.searchsorted(snap_ids, fsq[fdi])]
            self.check_connect_windows(q[fdi], obj[fdi], pid[fdi], fd[fdi])
        # -- rows: the snapshot's first, then one per new (object, endpoints) in order
        snap_key_obj, snap_key_end = [], []
        row_of_snap = {}
        for k, items in enumerate(g_rows):
            for key, ridx in items:
                e = ends_key.setdefault(key, len(ends_key))
                snap_key_obj.append(gobj[k])
                snap_key_end.append(e)
                row_of_snap[ridx] = len(snap_key_obj) - 1
        if sorted(row_of_snap) != list(range(len(snap_rows))):
            raise Unsure("snapshot rows outside their generations")
        ne = len(ends_key) + 1
        ti = np.flatnonzero(touch)
        tkey = obj[ti] * ne + ends[ti]
        skey = np.array(snap_key_obj, dtype=np.int64) * ne + np.array(snap_key_end, dtype=np.int64)
        # snapshot keys in tracker row order
        order_snap = np.array([row_of_snap[r] for r in range(len(snap_rows))], dtype=np.int64)
        skey = skey[order_snap] if len(skey) else skey
        codes, uniq = pd.factorize(np.concatenate([skey, tkey]))
        rid = codes[len(skey):]
        nrows = len(uniq)
        nsnap = len(skey)
        # creation: the first exit of each new row
        first_i = np.full(nrows, -1, dtype=np.int64)
        new = rid >= nsnap
        ii = np.flatnonzero(new)
        _, firsts = np.unique(rid[ii], return_index=True)
        first_i[rid[ii[firsts]]] = ti[ii[firsts]]
        # -- per row sums and times
        tsq = self.ts[q]
        is_io = tq[ti] == T_IO
        ops = np.bincount(rid, weights=is_io, minlength=nrows).astype(np.int64)
        moved = is_io & rv[ti] & (res[ti] > 0)
        rin = np.bincount(rid, weights=np.where(moved & reads[ti], res[ti], 0), minlength=nrows)
        rout = np.bincount(rid, weights=np.where(moved & ~reads[ti], res[ti], 0), minlength=nrows)
        if max(rin.max(initial=0), rout.max(initial=0)) >= 2 ** 52:
            raise Unsure("byte counts beyond float precision")
        first_pos = np.full(nrows, self.span, dtype=np.int64)
        np.minimum.at(first_pos, rid, ti)
        last_pos = np.full(nrows, -1, dtype=np.int64)
        np.maximum.at(last_pos, rid, ti)
        # -- closed: a close of the row's object, or another object at its (pid, fd)
        row_obj = uniq // ne
        closed = np.zeros(nrows, dtype=bool)
        close_ts = np.full(nrows, -1, dtype=np.int64)
        has_close = np.zeros(nrows, dtype=bool)
        ci = np.flatnonzero(close)
        if len(ci):
            cobj = obj[ci]
            # a row's object closes once at most; rows created after that close cannot exist
            order = np.argsort(row_obj, kind="stable")
            so = row_obj[order]
            lo = np.searchsorted(so, cobj, side="left")
            hi = np.searchsorted(so, cobj, side="right")
            # every (close, row of its object) pair
            cnt = hi - lo
            pc = np.repeat(ci, cnt)
            pr = order[np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))]
            if ((pr >= nsnap) & (first_pos[pr] > pc)).any():
                raise Unsure("an exit on a closed fd object")
            last_close = np.full(nrows, -1, dtype=np.int64)
            np.maximum.at(last_close, pr, pc)
            has_close = last_close >= 0
            closed |= has_close
            close_ts = np.where(has_close, tsq[np.maximum(last_close, 0)], -1)
        self.replaced(closed, q[ti], obj[ti], pid[ti], fd[ti], gp, gf, gobj, row_obj, first)
        # -- the server ports the tracker learns from binds (it knows tr.server_ports already)
        bind_first: dict[int, int] = {}
        for r in bind_rows.tolist():
            p = fds[int(self.fsnap[r])]
            if not _name_port_ok(p):
                raise Unsure("a server socket's name does not match its port")
            bind_first.setdefault(int(p[5]), r)
        # -- the rows: the snapshot's as the tracker made them, the new ones from their first exit
        back = {v: k for k, v in ends_key.items()}
        new_i = first_i[nsnap:]
        f = self.new_fields(q, new_i, fsq, info, by_tuple, srv_t, ends, back, tr.server_ports, bind_first)
        snap = snap_rows
        fields = {
            "l4proto": [r.l4proto for r in snap] + f["l4proto"],
            "local": [r.local for r in snap] + f["local"], "remote": [r.remote for r in snap] + f["remote"],
            "local_is_server": [r.local_is_server for r in snap] + f["srv"],
            "pname": [r.pname for r in snap] + f["pname"], "pid": [r.pid for r in snap] + f["pid"],
            "cmdline": [r.cmdline for r in snap] + f["cmdline"], "container": [r.container for r in snap] + f["container"],
            "fd": [r.fd for r in snap] + f["fd"], "fdname": [r.fdname for r in snap] + f["fdname"],
            "preexisting": [r.preexisting for r in snap] + [False] * len(new_i),
        }
        touched = last_pos >= 0
        first_ts = np.where(touched, tsq[np.minimum(first_pos, max(len(tsq) - 1, 0))] if len(tsq) else 0, 0)
        last_ts = np.where(has_close, close_ts,
                           np.where(touched, tsq[np.maximum(last_pos, 0)] if len(tsq) else 0, 0))
        firsts, lasts = first_ts.tolist(), last_ts.tolist()
        fields["first"] = [r.first if r.first is not None or not touched[k] else firsts[k]
                           for k, r in enumerate(snap)] + firsts[nsnap:]
        fields["last"] = [lasts[k] if touched[k] or has_close[k] else r.last for k, r in enumerate(snap)] + lasts[nsnap:]
        fields["bytes_in"] = [r.bytes_in + int(rin[k]) for k, r in enumerate(snap)] + rin[nsnap:].astype(np.int64).tolist()
        fields["bytes_out"] = [r.bytes_out + int(rout[k]) for k, r in enumerate(snap)] + \
            rout[nsnap:].astype(np.int64).tolist()
        fields["ops"] = [r.ops + int(ops[k]) for k, r in enumerate(snap)] + ops[nsnap:].tolist()
        fields["closed"] = [r.closed or bool(closed[k]) for k, r in enumerate(snap)] + closed[nsnap:].tolist()
        return fields_frame(**fields)

    def new_fields(self, q, new_i, fsq, info, by_tuple, srv_t, ends, back, server_ports, bind_first) -> dict:
        """The fields of the rows the tracker creates at exits ``q[new_i]`` (one list per field)."""
        rows = q[new_i]
        k = len(rows)
        fs = fsq[new_i]
        sids = np.unique(fs).tolist()
        def per_snap(attr: str) -> list:
            table = {s: getattr(info[s], attr) for s in sids}
            return [table[s] for s in fs.tolist()]
        ends_l = [back[e] for e in ends[new_i].tolist()]
        local = [e[0] for e in ends_l]
        remote = [e[1] for e in ends_l]
        # local_is_server: the reader of a UDP peer; a server-role fd; else by the known server ports
        role_srv = np.array(per_snap("role"), dtype=np.int64) == ROLE_SERVER if k else np.zeros(0, bool)
        lp = np.array([e[1] for e in local], dtype=np.int64)
        rp = np.array([e[1] for e in remote], dtype=np.int64)
        if k and (min(lp.min(), rp.min()) < 0 or max(lp.max(), rp.max()) > 0xFFFF):
            raise Unsure("a port out of range")
        since = np.full(0x10000, self.span, dtype=np.int64)
        for port, r in bind_first.items():
            if 0 <= port <= 0xFFFF:
                since[port] = r
        known_from = since.copy()
        for port in server_ports:
            if 0 <= port <= 0xFFFF:
                known_from[port] = -1
        kl, kr = known_from[lp] < rows, known_from[rp] < rows
        srv = np.where(kl & ~kr, True, np.where(kr & ~kl, False, False))
        srv = np.where(role_srv, True, srv)
        srv = np.where(by_tuple[new_i], srv_t[new_i], srv)
        # the process: pid and container of the thread, names of its main thread
        ts_ = self.tsnap[rows]
        th = self.side.thread_rows
        pid = [th[t][0] for t in ts_.tolist()]
        container = [th[t][9] or "host" for t in ts_.tolist()]
        names: dict[int, tuple[str, str]] = {}
        pname, cmdline = [], []
        for r, t in zip(rows.tolist(), ts_.tolist(), strict=True):
            tr_ = th[t]
            if tr_[6] == tr_[0] and tr_[4]:         # a main thread with arguments: its own snapshot
                got = names.get(t)
                if got is None:
                    got = names[t] = (tr_[1], f"{tr_[1]} {tr_[4]}")
            else:
                got = self.main_names(r, tr_)
            pname.append(got[0])
            cmdline.append(got[1])
        return {"l4proto": per_snap("l4name"), "fdname": per_snap("name"), "local": local, "remote": remote,
                "srv": srv.tolist(), "pid": pid, "container": container, "pname": pname, "cmdline": cmdline,
                "fd": self.fdnum[rows].tolist()}

    def replaced(self, closed, rows, obj, pid, fd, gp, gf, gobj, row_obj, first) -> None:
        """Rows whose (pid, fd) later held another object that an exit touched: the tracker then
        starts a new generation and marks the old one's rows closed. ``rows``: the touching exits'
        positions, ``obj``/``pid``/``fd`` theirs; ``gp``/``gf``/``gobj``: the snapshot's generations."""
        kp = np.concatenate([gp, pid])
        kf = np.concatenate([gf, fd])
        if not len(kp):
            return
        (kc,) = _codes(kp, kf)
        pos = np.concatenate([np.full(len(gp), 2 * first - 1, dtype=np.int64), 2 * rows.astype(np.int64)])
        ob = np.concatenate([gobj, obj])
        order = np.lexsort((pos, kc))
        kcs, obs = kc[order], ob[order]
        change = (kcs[1:] == kcs[:-1]) & (obs[1:] != obs[:-1])
        gone = np.unique(obs[:-1][change])
        if len(gone):
            closed |= np.isin(row_obj, gone)

    def check_bumps(self, q, pid, fd, bump_at, add_at, gp, gf, first) -> None:
        """A clone that may have given a process a new table between two uses of one of its fds (and
        no new object at that fd in between): whether the two uses saw one object is not known."""
        if not len(self.bump_pos):
            return
        pos = np.concatenate([q, np.full(len(gp), first, dtype=np.int64)])
        kp = np.concatenate([pid, gp])
        kf = np.concatenate([fd, gf])
        ba = np.concatenate([bump_at, np.full(len(gp), -1, dtype=np.int64)])
        aa = np.concatenate([add_at, np.full(len(gp), -1, dtype=np.int64)])
        if not len(kp):
            return
        (kc,) = _codes(kp, kf)
        order = np.lexsort((pos, kc))
        same = kc[order][1:] == kc[order][:-1]
        prev_pos = pos[order][:-1]
        cur = order[1:]
        risky = same & (ba[cur] > prev_pos) & (aa[cur] <= prev_pos)
        if risky.any():
            raise Unsure("a clone between two uses of an inherited fd")

    def check_connect_windows(self, rows, obj, pid, fd) -> None:
        """Exits that read the fd's addresses while a connect's enter had changed them (its exit not
        yet seen, or failed): the snapshot of the fd's name then holds stale addresses."""
        ce = self.connect_enters
        if not len(ce):
            return
        eo = self.identities(ce, self.pid_of(ce), self.fdnum[ce])
        ex = self.neighbours(ce, 1)
        res, rv = self.ints(np.maximum(ex, 0), 0)
        tup_ok = np.zeros(len(ce), dtype=bool)
        has = ex >= 0
        if has.any():
            pos, length, present = self.locate(ex[has], 1)
            u8 = self.u8
            fam = np.where(present & (length > 0), u8[np.minimum(pos, len(u8) - 1)], -1)
            tup_ok[has] = ((fam == 2) & (length >= 13)) | ((fam == 10) & (length >= 37))
        fixed = has & (self.etype[np.maximum(ex, 0)] == self.etype[ce] + 1) & rv & \
            ((res >= 0) | (res == -EINPROGRESS)) & tup_ok
        end = np.where(fixed, ex, self.span)
        # exits on the same object strictly inside (enter, end)
        span = self.span + 1
        key = np.sort(obj * span + rows)
        lo = np.searchsorted(key, eo * span + ce, side="right")
        hi = np.searchsorted(key, eo * span + end, side="left")
        if (hi > lo).any():
            raise Unsure("an exit while a connect had changed its fd's addresses")

    def event_tuples(self, rows: np.ndarray, reads: np.ndarray) -> list:
        """_Tracker._event_tuple for each row: (local, remote) of the event's socket tuple (the
        exit's, or for sendto/sendmsg its enter's), or None."""
        types = self.types
        et_ = self.etype[rows]
        raws = self.raws(rows, types.tuple_idx[et_])
        names = types.names
        need = [i for i, (raw, t) in enumerate(zip(raws, et_.tolist(), strict=True))
                if raw is None and not reads[i] and names[t] in ("sendto", "sendmsg")]
        if need:
            en = self.enters(rows[need])
            has = en >= 0
            got = self.raws(en[has], types.tuple_idx[self.etype[en[has]]])
            for i, raw in zip(np.asarray(need)[has].tolist(), got, strict=True):
                raws[i] = raw
        cache: dict = {}
        out: list = []
        for raw, rd in zip(raws, reads.tolist(), strict=True):
            if raw is None:
                out.append(None)
                continue
            key = (raw, rd)
            e = cache.get(key)
            if e is None and key not in cache:
                e = cache[key] = _tuple_endpoints(parse_socktuple(raw), bool(rd))
            out.append(e)
        return out

    # -- the process name the tracker shows: its main thread's ------------------------------------
    def main_names(self, r: int, th: tuple) -> tuple[str, str]:
        """(comm, cmdline) of ``threads.get(t.pid) or t`` at row ``r`` (t: the row's thread)."""
        pid, tid = th[0], th[6]
        if tid == pid:
            return th[1], self.cmdline(th[1], th[4], tid, r)
        rows_p = self.rows_of(pid)
        rows_p = rows_p[:np.searchsorted(rows_p, r, side="right")]
        foreign = self._touches_thread(pid)
        if len(rows_p):
            qrow = int(rows_p[-1])
            if np.any((foreign > qrow) & (foreign <= r)):
                raise Unsure("the main thread changed at another thread's event")
            if qrow in self.procexit_rows:
                raise Unsure("the main thread may be gone")
            ms = self.side.thread_rows[int(self.tsnap[qrow])]
            if ms[6] != pid:
                raise Unsure("the main thread's row has another thread")
            return ms[1], self.cmdline(ms[1], ms[4], pid, qrow)
        if np.any(foreign <= r):
            raise Unsure("the main thread was made at another thread's event")
        entry = self.metadata_threads().get(pid)
        if entry is not None:
            return entry.comm, " ".join([entry.comm, *entry.args])
        return "<NA>", "<NA>"           # the placeholder the state made when the thread used an fd

    def cmdline(self, comm: str, args: str, tid: int, r: int) -> str:
        """" ".join([comm, *args]) of thread ``tid`` at row ``r`` from its snapshot's joined args: an
        empty join is the list [] or [""], told apart by where the list came from."""
        if args:
            return f"{comm} {args}"
        return comm + (" " if self.one_empty_arg(tid, r) else "")

    def one_empty_arg(self, tid: int, r: int) -> bool:
        """``_one_empty_arg``, once per thread and set of its execs, clones and exits up to row ``r``
        (the answer depends on nothing else; rows of one connection-heavy thread ask it again and
        again)."""
        marks = self.__dict__.setdefault("_arg_marks", {})
        rel = marks.get(tid)
        if rel is None:
            pe = self.__dict__.get("_procexit_arr")
            if pe is None:
                pe = self._procexit_arr = np.array(sorted(self.procexit_rows), dtype=np.int64)
            rel = marks[tid] = np.unique(np.concatenate([
                self.exec_rows[self.tid[self.exec_rows] == tid], self.clone_rows[self.clone_child == tid],
                self.clone_parent_rows[self.clone_parent == tid], pe[self.tid[pe] == tid]]).astype(np.int64))
        key = (tid, int(np.searchsorted(rel, r, side="right")))
        memo = self.__dict__.setdefault("_arg_memo", {})
        got = memo.get(key)
        if got is None:
            got = memo[key] = self._one_empty_arg(tid, r)
        return got

    def _one_empty_arg(self, tid: int, r: int) -> bool:
        """Whether thread ``tid``, whose args join to "" at row ``r``, holds [""] rather than []: the
        list of its last exec; else of the capture's thread list, when no clone or exit may have
        replaced it since (a clone whose args parameter is not one NUL gives [] either way)."""
        u8 = self.u8

        def one_nul(rows: np.ndarray) -> np.ndarray:
            pos, length, present = self.locate(rows, 2)
            return present & (length == 1) & (u8[np.minimum(pos, len(u8) - 1)] == 0)

        ex = self.exec_rows[(self.tid[self.exec_rows] == tid) & (self.exec_rows <= r)]
        last_exec = int(ex[-1]) if len(ex) else -1
        cl = np.concatenate([self.clone_rows[self.clone_child == tid],
                             self.clone_parent_rows[self.clone_parent == tid]])
        cl = cl[(cl > last_exec) & (cl <= r)]
        exits = [x for x in self.procexit_rows if last_exec < x <= r and self.tid[x] == tid]
        if exits:
            raise Unsure("a thread that exited may have been made again")
        if len(cl) and one_nul(cl).any():
            raise Unsure("a clone whose args are one empty argument")
        if last_exec >= 0:
            return bool(one_nul(np.array([last_exec], dtype=np.int64))[0])
        entry = self.metadata_threads().get(tid)
        if len(cl):
            if entry is not None and entry.args == [""]:
                raise Unsure("a clone may have replaced an args list of one empty argument")
            return False
        return entry is not None and entry.args == [""]

    def rows_of(self, tid: int) -> np.ndarray:
        """The rows of thread ``tid``, in order (one scan of the frame per thread asked for)."""
        cache = self.__dict__.setdefault("_rows_of", {})
        got = cache.get(tid)
        if got is None:
            got = cache[tid] = np.flatnonzero(self.tid == tid)
        return got

    def _touches_thread(self, pid: int) -> np.ndarray:
        """Rows of other threads that may create or change thread ``pid`` (clones)."""
        m = self.clone_child == pid
        rows = self.clone_rows[m]
        rows = np.concatenate([rows, self.clone_parent_rows[self.clone_parent == pid]])
        return rows[self.tid[rows] != pid] if len(rows) else rows

    def metadata_threads(self) -> dict:
        """The capture's thread list by tid: the first section's, which the side data keeps (the load
        reads it as this would, and the state copies what it takes of it), else read again."""
        if not hasattr(self, "_meta") and isinstance(self.side.section, Section):
            self._meta = {e.tid: e for e in self.side.section.threads}
        if not hasattr(self, "_meta"):
            reader = ScapReader(self.cap.path, strict=self.cap.strict)
            try:
                gen = reader.items()
                try:
                    sec = next(gen)
                finally:
                    gen.close()
            finally:
                reader.close()
            if not isinstance(sec, Section):
                raise Unsure("no section first")
            self._meta = {e.tid: e for e in sec.threads}
        return self._meta


@dataclass(frozen=True)
class _FdFacts:
    """What the tracker reads of an fd, from one fd snapshot."""
    name: str
    l4proto: int
    role: int
    l4name: str
    local: tuple
    remote: tuple
    consistent: bool        # the name is the tuple of the addresses (so every state named so has them)


def _fd_facts(snap: tuple) -> _FdFacts:
    name, ftype, l4proto, role, sip, sport, dip, dport = snap
    f = FdInfo(ftype, name, l4proto)
    f.role, f.sip, f.sport, f.dip, f.dport = role, sip, sport, dip, dport
    local, remote, _ = _fd_endpoints(f)
    ok = f.tuple_name() == name
    return _FdFacts(name, l4proto, role, L4_NAMES.get(f.l4(), L4_NAMES.get(l4proto, "<NA>")), local, remote, ok)


def _name_port_ok(snap: tuple) -> bool:
    name, _t, _l4, _r, _sip, sport, _dip, _dport = snap
    head, sep, port = name.rpartition(":")
    return bool(sep) and port.isdigit() and int(port) == sport


def connections_frame_fast(cap, df: pd.DataFrame, side: Side, keep: np.ndarray | None) -> pd.DataFrame | None:
    """``connections_frame`` of the capture ``cap`` (whole frame ``df``, side data ``side``, rows
    ``keep``), or None when the side data cannot settle it (the caller replays)."""
    try:
        return _Fast(cap, df, side, keep).frame()
    except Unsure:
        return None
    except Exception:   # noqa: BLE001 - a shortcut that fails must not fail the analysis: replay
        log.debug("fast connections failed, replaying", exc_info=True)
        return None


__all__ = ["connections_frame_fast", "Unsure"]
