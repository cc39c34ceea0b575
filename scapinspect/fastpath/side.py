"""What the fast load knows besides the frame: per row, the thread and fd snapshot the state held; the
snapshot tables; where each row's parameters lie in the capture; and what the load-time taps recorded.

Analyses use it to answer from the loaded capture instead of replaying it again:

    side = side_of(cap.events)          # None when the frame did not come from the fast loader
    side.threads.loc[side.tsnap[rows]]  # the process and thread of each row, as the state knew them
    side.payloads(rows, "data")         # parameter bytes, read from the mapped file when asked for

Taps are registered by the analyses (``register_tap``) and run during the load's ordered pass on the
few events they ask for (exec, chdir ...), with the state as it was at that event: a tap returns what
it wants kept, or None.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..parsers import eventtable as et
from .params import Params
from .replay import FD_SNAPSHOT, THREAD_SNAPSHOT
from .walk import Blocks


@dataclass(frozen=True)
class Tap:
    """A function run during the load on the shown events whose type name is in ``events`` (exit
    events only when ``exits_only``): ``fn(stream, rendered)`` -> a value to keep, or None."""
    name: str
    events: frozenset[str]
    fn: Callable
    exits_only: bool = True


_TAPS: dict[str, Tap] = {}


def register_tap(name: str, events: set[str] | frozenset[str], fn: Callable, *, exits_only: bool = True) -> None:
    """Run ``fn`` during every later fast load (replaces a tap of the same name)."""
    _TAPS[name] = Tap(name, frozenset(events), fn, exits_only)


def tap_table(table: et.EventTable) -> dict[int, Callable] | None:
    """Event type id -> one function running every registered tap on that type, returning a dict of
    tap name -> value (or None when no tap kept anything)."""
    by_type: dict[int, list[Tap]] = {}
    for tap in _TAPS.values():
        for e in table.events:
            if e.name in tap.events and (e.id % 2 == 1 or not tap.exits_only) and e.id > 1:
                by_type.setdefault(e.id, []).append(tap)
    if not by_type:
        return None

    def runner(taps: list[Tap]) -> Callable:
        def run(stream, item):
            got = {}
            for tap in taps:
                v = tap.fn(stream, item)
                if v is not None:
                    got[tap.name] = v
            return got or None
        return run
    return {t: runner(taps) for t, taps in by_type.items()}


def reframe(v: dict, evoff: np.ndarray, version: np.ndarray, table: et.EventTable) -> tuple[Blocks, Params]:
    """The header fields and parameter framing of the events whose headers start at ``evoff`` (with
    header ``version`` 1 or 2), read again from the mapped capture: the side data keeps 9 bytes per
    event instead of the whole framing, and frames them again when an analysis asks."""
    u16, u32, u64 = v["u16"], v["u32"], v["u64"]
    evoff = np.asarray(evoff, dtype=np.int64)
    nparams = np.full(len(evoff), -1, dtype=np.int64)
    v2 = version == 2
    if v2.any():
        nparams[v2] = u32[evoff[v2] + 22]
    b = Blocks(off=None, evoff=evoff, version=version, cpu=None, flags=None, ts=u64[evoff], tid=u64[evoff + 8],
               elen=u32[evoff + 16], etype=u16[evoff + 20], nparams=nparams)
    return b, Params(b, table, v)


def ints_each(params: Params, idx: np.ndarray, j, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Parameter ``j[i]`` (-1: none; or one index for all) of event ``idx[i]`` as Params.ints (and
    parsers.params.as_int) reads it: (values, valid)."""
    idx = np.asarray(idx, dtype=np.int64)
    j = np.broadcast_to(np.asarray(j, dtype=np.int64), idx.shape)
    vals = np.zeros(len(idx), dtype=np.int64)
    valid = np.zeros(len(idx), dtype=bool)
    for k in np.unique(j[j >= 0]).tolist():
        m = np.flatnonzero(j == k)
        vals[m], valid[m] = params.ints(idx[m], k, signed)
    return vals, valid


def locate_each(params: Params, idx: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(byte offset, length) of parameter ``j[i]`` of event ``idx[i]``; length 0 where ``j[i]`` is
    negative or the event lacks that parameter."""
    idx = np.asarray(idx, dtype=np.int64)
    pos = np.zeros(len(idx), dtype=np.int64)
    length = np.zeros(len(idx), dtype=np.int64)
    for k in np.unique(j[j >= 0]).tolist():
        m = np.flatnonzero(j == k)
        pk, lk = params.locate(idx[m], k)
        pos[m], length[m] = pk, np.where(params.nparams[idx[m]] > k, lk, 0)
    return pos, length


class _Framed:
    """Events known by where their headers are; their fields and framing are read on first use."""

    def __init__(self, v: dict, evoff: np.ndarray, version: np.ndarray, table: et.EventTable):
        self._v, self.evoff, self.version, self._table = v, evoff, version, table

    def __len__(self) -> int:
        return len(self.evoff)

    @cached_property
    def _framing(self) -> tuple[Blocks, Params]:
        return reframe(self._v, self.evoff, self.version, self._table)

    @property
    def params(self) -> Params:
        """Where each event's parameters are (framed on first use)."""
        return self._framing[1]

    @cached_property
    def etype(self) -> np.ndarray:
        """Event type ids (read from the headers)."""
        return self._v["u16"][self.evoff + 20]

    @cached_property
    def ts(self) -> np.ndarray:
        return self._v["u64"][self.evoff]

    @cached_property
    def tid(self) -> np.ndarray:
        return self._v["u64"][self.evoff + 8]


class Hidden(_Framed):
    """The events the frame leaves out (procinfo, container and user records, dropped-flagged events,
    the container descriptions that lead the file ...), in file order: ``ts``, ``etype``, ``tid``,
    ``params`` (read on first use), and ``before``: how many frame rows come before each (to merge
    them back in order)."""

    def __init__(self, v: dict, evoff: np.ndarray, version: np.ndarray, table: et.EventTable,
                 before: np.ndarray):
        super().__init__(v, evoff, version, table)
        self.before = before

    def ints(self, table: et.EventTable, idx: np.ndarray, name: str, signed: bool = True):
        """Integer parameter ``name`` (as ``table`` names them) of hidden events ``idx``: (values, valid)."""
        idx = np.asarray(idx, dtype=np.int64)
        pidx = np.array([e.param_index(name) for e in table.events], dtype=np.int64)
        return ints_each(self.params, idx, pidx[self.etype[idx].astype(np.int64)], signed)


@dataclass
class Objects:
    """Which thread object each row saw (thread snapshots are merged by content: a tid reused, or a
    thread replaced, keeps its snapshot). Objects are numbered 1, 2 ... in the order the load's pass met
    them: ``tobj`` per row (-1 for no thread), ``start`` the start table's in table order (Side.section),
    ``eof`` Side.eof_threads', ``clone_children`` the row of a clone exit that created a new thread
    object for its child (-1: a hidden event) -> that object; ``table`` the thread table's changes over
    the file (replay.TABLE_LOG columns; None when not recorded)."""
    tobj: np.ndarray
    start: list
    eof: list
    clone_children: dict
    table: dict | None = None


class Side:
    """The fast load's by-products for the rows of one frame (see the module docstring).

    Attributes:
        tsnap: per row, the thread snapshot id (index into ``threads``), -1 when the event has no thread.
        fsnap: per row, the fd snapshot id (index into ``fds``); -1 when the event is not about an fd,
            -2 when its fd was not in the table.
        thread_rows: THREAD_SNAPSHOT tuples, one per snapshot id.
        fd_rows: FD_SNAPSHOT tuples, one per snapshot id.
        rows: the rows' events in the capture (``params``, ``etype`` ... read on first use).
        table: the profile's event table.
        taps: tap name -> list of (row position, value), in capture order.
        hidden: the events that are not rows (None when not recorded).
        eof_threads: the thread table at the end of the file, in table order, as THREAD_SNAPSHOT
            tuples (None when not recorded).
        section: the capture's first section as the reader gave it (proc list, fd list, interfaces,
            users: the state the pass started from).
        ctype: per row, the libscap type of the event's own fd (the one the parser looked up, which
            the getters' fd of ``fsnap`` may not be), -1 for none (None when not recorded).
        objects: the thread objects the rows saw (``Objects``; None when not recorded).
    """

    def __init__(self, tsnap: np.ndarray, fsnap: np.ndarray, thread_rows: list, fd_rows: list, rows: _Framed,
                 table: et.EventTable, taps: dict[str, list] | None = None, hidden: Hidden | None = None,
                 eof_threads: list | None = None, section=None, ctype: np.ndarray | None = None,
                 objects: Objects | None = None):
        self.tsnap, self.fsnap = tsnap, fsnap
        self.ctype = ctype
        self.objects = objects
        self.eof_threads = eof_threads
        self.section = section
        self.thread_rows, self.fd_rows = thread_rows, fd_rows
        self.rows, self.table = rows, table
        self.taps = taps or {}
        self.hidden = hidden

    @property
    def params(self) -> Params:
        """Where each row's parameters are in the mapped capture."""
        return self.rows.params

    @property
    def etype(self) -> np.ndarray:
        """Per row, the event type id (of the profile's table)."""
        return self.rows.etype

    @cached_property
    def threads(self) -> pd.DataFrame:
        """One row per thread snapshot (columns THREAD_SNAPSHOT)."""
        return pd.DataFrame.from_records(self.thread_rows, columns=list(THREAD_SNAPSHOT))

    @cached_property
    def fds(self) -> pd.DataFrame:
        """One row per fd snapshot (columns FD_SNAPSHOT; ``type`` is libscap's fd type id)."""
        return pd.DataFrame.from_records(self.fd_rows, columns=list(FD_SNAPSHOT))

    def param_index(self, rows: np.ndarray, name: str) -> np.ndarray:
        """Per row, the index of the parameter called ``name`` in its event type (-1 when it has none)."""
        idx = np.array([e.param_index(name) for e in self.table.events], dtype=np.int64)
        return idx[self.etype[rows].astype(np.int64)]

    def locate(self, rows: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(byte offset in the capture, length) of parameter ``name`` of each row; length -1 where
        the event has no such parameter (0 where it is there and empty)."""
        rows = np.asarray(rows, dtype=np.int64)
        j = self.param_index(rows, name)
        pos, length = locate_each(self.params, rows, j)
        present = (j >= 0) & (self.params.nparams[rows] > j)
        return pos, np.where(present, length, -1)

    def payloads(self, rows: np.ndarray, name: str = "data") -> list[bytes | None]:
        """The bytes of parameter ``name`` of each row (None where the event has no such parameter),
        copied out of the mapped capture now."""
        pos, length = self.locate(rows, name)
        u8 = self.params.v["u8"]
        return [None if n < 0 else u8[p:p + n].tobytes() for p, n in zip(pos.tolist(), length.tolist(), strict=True)]

    def ints(self, rows: np.ndarray, name: str, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Integer parameter ``name`` of each row, as Params.ints reads it: (values, valid)."""
        rows = np.asarray(rows, dtype=np.int64)
        return ints_each(self.params, rows, self.param_index(rows, name), signed)


# frame -> its side data, for as long as the frame lives
_SIDES: dict[int, tuple[weakref.ref, Side]] = {}


def attach(df: pd.DataFrame, side: Side) -> None:
    key = id(df)
    _SIDES[key] = (weakref.ref(df, lambda _r, key=key: _SIDES.pop(key, None)), side)


def side_of(df: pd.DataFrame | None) -> Side | None:
    """The side data of a frame the fast loader built (None for any other frame, copies included)."""
    if df is None:
        return None
    got = _SIDES.get(id(df))
    if got is None or got[0]() is not df:
        return None
    return got[1]


__all__ = ["Side", "Objects", "Hidden", "reframe", "ints_each", "locate_each", "Tap", "register_tap", "tap_table", "side_of", "attach"]
