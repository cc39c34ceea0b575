"""The I/O analyses answered from the loaded capture instead of a second replay.

``io_events_frame`` (analyzers/io_streams.py) replays the whole capture to learn, for every exit of a
read/write-family call that moved bytes, the thread and the fd the state held at that moment. The fast
load already recorded exactly that for every shown row (fastpath.side: a thread snapshot and an fd
snapshot taken right after the state parsed the event), and the parameters (``res``, ``data``) are still
in the mapped capture. So the frame is a handful of numpy takes, and the payloads are copied out only
for the rows asked for. ``res`` is taken from the frame's ``evt.rawres`` (the loader read it from that
very parameter, ``res_ints``), and only the parameters of the rows whose payloads are read are framed
again (``row_params``), unless an analysis framed every row already.

The fd snapshots keep names as the events frame shows them (control characters dropped), which is
what ``io_events_frame`` gives too. Integer parameters are read as ``parsers.params.as_int`` reads them
(``param_ints``, which reads odd widths as the reader does).

The reference stays the definition: tests/test_fast_analyses.py holds the two equal on every capture,
and ``io_frame`` returns None (the caller then replays) for a capture whose rows fall outside what the
snapshots describe (a row of an I/O type the pass did not treat as fd-related) or on anything it did
not expect.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._i64 import i64
from ..fastpath.frame import type_columns
from ..fastpath.params import Params
from ..fastpath.side import Side, ints_each, locate_each, reframe
from ..parsers import eventtable as et
from ..state.model import TYPE_NAMES
from .io_streams import IO_COLUMNS

IO_FLAGS = et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IoTypes:
    """Per event type of a profile table: is it an I/O exit io_events takes, does it read."""
    io_exit: np.ndarray     # bool: an exit flagged as reading or writing an fd
    reads: np.ndarray       # bool: EF_READS_FROM_FD (copy_file_range is both: a read)
    res_idx: np.ndarray     # int: the index of the "res" parameter, -1 when there is none
    data_idx: np.ndarray    # int: the index of the "data" parameter, -1 when there is none


_TYPES: dict[int, tuple[et.EventTable, IoTypes]] = {}


def io_types(table: et.EventTable) -> IoTypes:
    """The per-type tables of ``table`` (computed once per table)."""
    got = _TYPES.get(id(table))
    if got is not None and got[0] is table:
        return got[1]
    ev = table.events
    io_exit = np.array([e.id % 2 == 1 and bool(e.flags & IO_FLAGS) for e in ev], dtype=bool)
    reads = np.array([bool(e.flags & et.EF_READS_FROM_FD) for e in ev], dtype=bool)
    res_idx = np.array([e.param_index("res") for e in ev], dtype=np.int64)
    data_idx = np.array([e.param_index("data") for e in ev], dtype=np.int64)
    t = IoTypes(io_exit, reads, res_idx, data_idx)
    _TYPES[id(table)] = (table, t)
    return t


def param_ints(params, rows: np.ndarray, k: int | np.ndarray, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Integer parameter ``k`` (one index, or one per row) of frame rows ``rows`` as
    ``parsers.params.as_int`` reads it: (values, valid); u64 values wrap to int64 (as ``i64`` does)."""
    if np.ndim(k) == 0 and k >= 0:      # one index for all rows: no grouping by index to do
        return params.ints(np.asarray(rows, dtype=np.int64), int(k), signed)
    return ints_each(params, rows, k, signed)


def row_params(side: Side, rows: np.ndarray) -> tuple[Params, np.ndarray]:
    """A parameter framing that holds frame rows ``rows``, and each row's index in it: the side data's
    own when it is framed already, else a framing of these rows only. Framing every row costs ~70 ms
    per 1M events; the analyses here read a tenth of them or less. A row's framing does not depend on
    the other rows, so both give the same answers."""
    rows = np.asarray(rows, dtype=np.int64)
    framed = side.rows
    if "_framing" in vars(framed):
        return framed.params, rows
    sub = reframe(framed._v, framed.evoff[rows], framed.version[rows], framed._table)[1]
    return sub, np.arange(len(rows), dtype=np.int64)


_RES_IDX: dict[int, tuple[et.EventTable, np.ndarray]] = {}


def rawres_index(table: et.EventTable) -> np.ndarray:
    """Per event type of ``table``, the index of the parameter the loader reads into ``evt.rawres``
    (fastpath.frame.type_columns: "res", or "fd" for an exit that creates one; -1: none)."""
    got = _RES_IDX.get(id(table))
    if got is None or got[0] is not table:
        got = _RES_IDX[id(table)] = (table, np.asarray(type_columns(table)["res_idx"], dtype=np.int64))
    return got[1]


def rawres(df: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The whole frame's ``evt.rawres`` as (values, valid) arrays; None when ``df`` is None or the
    column is not the loader's Int64 one."""
    col = df.get("evt.rawres") if df is not None else None
    if col is None or col.dtype != "Int64":
        return None
    arr = col.array
    return arr.to_numpy(dtype=np.int64, na_value=0), ~np.asarray(arr.isna(), dtype=bool)


def res_ints(raw: tuple[np.ndarray, np.ndarray] | None, side: Side, rows: np.ndarray, k: int | np.ndarray,
             read: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Signed integer parameter ``k`` (one index, or one per row) of frame rows ``rows``, as
    ``param_ints`` reads it: (values, valid). Where ``k`` is the parameter the loader read into the
    frame's ``evt.rawres`` (with Params.ints, signed; ``raw``: that column as ``rawres`` gives it), the
    column has it already and nothing needs framing; ``read(rows, ks)`` reads the others (all of them
    when ``raw`` is None)."""
    rows = np.asarray(rows, dtype=np.int64)
    ks = np.broadcast_to(np.asarray(k, dtype=np.int64), rows.shape)
    vals = np.zeros(len(rows), dtype=np.int64)
    valid = np.zeros(len(rows), dtype=bool)
    hit = np.zeros(len(rows), dtype=bool)
    if raw is not None:
        hit = (ks >= 0) & (rawres_index(side.table)[side.etype[rows].astype(np.int64)] == ks)
        got = rows[hit]
        vals[hit], valid[hit] = raw[0][got], raw[1][got]
    rest = np.flatnonzero(~hit)
    if len(rest):
        vals[rest], valid[rest] = read(rows[rest], ks[rest])
    return vals, valid


def framed_ints(side: Side, rows: np.ndarray, k: int | np.ndarray, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``param_ints`` of frame rows ``rows``, on a framing of these rows (``row_params``)."""
    return param_ints(*row_params(side, rows), k, signed)


def _res(df: pd.DataFrame | None, side: Side, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``res`` parameter of the I/O exits ``rows``: (values, valid)."""
    k = io_types(side.table).res_idx[side.etype[rows]]
    return res_ints(rawres(df), side, rows, k, functools.partial(framed_ints, side))


def io_rows(side: Side, keep: np.ndarray | None, df: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions (in the whole capture's frame) of the I/O exits io_events takes, and their ``res``:
    exits flagged as reading or writing whose ``res`` parameter is > 0, among the rows ``keep`` says
    the capture keeps (None: all). With the whole frame ``df``, ``res`` comes from its ``evt.rawres``
    where that is the same parameter (``res_ints``)."""
    cand = io_types(side.table).io_exit[side.etype]
    if keep is not None:
        cand &= keep
    rows = np.flatnonzero(cand)
    res, valid = _res(df, side, rows)
    moved = valid & (res > 0)
    return rows[moved], res[moved]


def _data(side: Side, params: Params, at: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``data`` payloads of frame rows ``rows`` (framed in ``params`` at ``at``) as an object array
    of bytes (b"" where the event has no such parameter, where ``Side.payloads`` gives None), and
    their lengths."""
    j = io_types(side.table).data_idx[side.etype[rows].astype(np.int64)]
    pos, length = locate_each(params, at, j)
    length = np.where((j >= 0) & (params.nparams[at] > j), length, 0)
    mv = memoryview(params.v["u8"])
    out = np.empty(len(rows), dtype=object)
    out[:] = [mv[a:b].tobytes() for a, b in zip(pos.tolist(), (pos + length).tolist(), strict=True)]
    return out, length


def _lookup(values: list, extra: int) -> np.ndarray:
    """``values`` as an object array with ``extra`` Nones appended, so that snapshot ids -1 (and -2)
    index a None."""
    arr = np.empty(len(values) + extra, dtype=object)
    arr[:len(values)] = values
    return arr


def _or_none(fn: Callable) -> Callable:
    """``fn``, returning None (the caller then replays) instead of raising on input it did not expect:
    a shortcut that fails must not fail the analysis."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:   # noqa: BLE001
            log.debug("%s failed, replaying", fn.__name__, exc_info=True)
            return None
    return wrapper


@dataclass
class IoRows:
    """The rows an ``io_frame`` is made of (positions in the whole frame), their ``res``, fd snapshot
    and fd.type name."""
    rows: np.ndarray
    res: np.ndarray
    fsnap: np.ndarray
    ftype: np.ndarray


def _select(df: pd.DataFrame, side: Side, keep: np.ndarray | None, rows: np.ndarray | None,
            fd_types: frozenset[str] | None) -> IoRows | None:
    if rows is None:
        rows, res = io_rows(side, keep, df)
    else:
        rows = np.asarray(rows, dtype=np.int64)
        res, _ = _res(df, side, rows)
    fsnap = side.fsnap[rows].astype(np.int64)
    if (fsnap == -1).any():
        # an I/O row the pass did not treat as fd-related: its fd is not in the snapshots
        return None
    ftypes = _lookup([TYPE_NAMES.get(f[1]) for f in side.fd_rows], 2)
    if fd_types is not None:
        m = np.isin(ftypes, list(fd_types))[fsnap]
        rows, res, fsnap = rows[m], res[m], fsnap[m]
    return IoRows(rows, res, fsnap, ftypes[fsnap])


@_or_none
def io_selection(df: pd.DataFrame, side: Side, keep: np.ndarray | None, *, rows: np.ndarray | None = None,
                 fd_types: frozenset[str] | None = None) -> IoRows | None:
    """The rows ``io_frame`` with the same arguments is made of, without building it (None where it
    gives None); ``io_frame(..., selection=...)`` then builds it from them."""
    return _select(df, side, keep, rows, fd_types)


@_or_none
def io_frame(df: pd.DataFrame, side: Side, keep: np.ndarray | None, *, with_data: bool = True,
             rows: np.ndarray | None = None, fd_types: frozenset[str] | None = None,
             selection: IoRows | None = None) -> pd.DataFrame | None:
    """``io_events_frame`` of the capture whose whole frame is ``df`` (with side data ``side``),
    narrowed to the rows ``keep`` marks; None when a row is outside what the snapshots describe.

    ``with_data`` False leaves ``data`` empty (b"") and ``captured`` 0, for callers that select rows
    first and fetch payloads after (``fill_data``); ``rows`` may be passed precomputed (from
    ``io_rows``; then ``keep`` is ignored); ``fd_types`` keeps only the rows whose ``fd.type`` is one
    of those names (what ``http_frame`` reads: it skips the payloads of the other rows);
    ``selection`` (``io_selection``'s) stands for all three.
    """
    sel = selection if selection is not None else _select(df, side, keep, rows, fd_types)
    if sel is None:
        return None
    rows, res, fsnap = sel.rows, sel.res, sel.fsnap
    tsnap = side.tsnap[rows].astype(np.int64)
    types = io_types(side.table)
    etype = side.etype[rows].astype(np.int64)
    threads = side.thread_rows
    comm = _lookup([t[1] for t in threads], 1)[tsnap]
    pid_v = np.array(i64([t[0] for t in threads] + [0]), dtype=np.int64)[tsnap]
    has_t = tsnap >= 0
    fname = _lookup([f[0] for f in side.fd_rows], 2)[fsnap]
    fdnum = df["fd.num"].to_numpy(dtype=np.int64, na_value=-1)[rows]
    fdnum = np.where(has_t, fdnum, -1)
    ts = df["evt.rawtime"].to_numpy(dtype=np.int64)[rows]
    tid = df["thread.tid"].to_numpy(dtype=np.int64)[rows]
    reads = types.reads[etype]
    n = len(rows)
    if with_data:
        data_arr, captured = _data(side, *row_params(side, rows), rows)
    else:
        data_arr = np.empty(n, dtype=object)
        data_arr[:] = [b""] * n
        captured = np.zeros(n, dtype=np.int64)
    return pd.DataFrame({
        "time": pd.to_datetime(pd.Series(ts, dtype="int64"), unit="ns", utc=True),
        "direction": pd.Series(pd.Categorical.from_codes(np.where(reads, 0, 1), categories=["read", "write"])),
        "proc.name": pd.Series(comm, dtype="object"),
        "proc.pid": pd.Series(pd.arrays.IntegerArray(pid_v, ~has_t)),
        "thread.tid": pd.Series(tid, dtype="int64"),
        "fd.num": pd.Series(fdnum, dtype="int64"),
        "fd.type": pd.Series(sel.ftype, dtype="object"),
        "fd.name": pd.Series(fname, dtype="object"),
        "res": pd.Series(res, dtype="int64"),
        "captured": pd.Series(captured, dtype="int64"),
        "data": pd.Series(data_arr, dtype="object"),
    }, columns=list(IO_COLUMNS))


def fill_data(frame: pd.DataFrame, side: Side, rows: np.ndarray) -> pd.DataFrame:
    """``frame`` (rows ``rows`` of an ``io_frame(..., with_data=False)``) with its payloads read."""
    rows = np.asarray(rows, dtype=np.int64)
    arr, captured = _data(side, *row_params(side, rows), rows)
    out = frame.copy()
    out["data"] = pd.Series(arr, dtype="object", index=frame.index)
    out["captured"] = pd.Series(captured, dtype="int64", index=frame.index)
    return out


@_or_none
def follow_frame(df: pd.DataFrame, side: Side, keep: np.ndarray | None,
                 key: str | tuple[int, int]) -> pd.DataFrame | None:
    """The rows of ``io_frame`` that ``follow_stream(frame, key)`` reads, with their payloads (only
    theirs are read); None when ``io_frame`` is None."""
    rows, _ = io_rows(side, keep, df)
    meta = io_frame(df, side, None, with_data=False, rows=rows)
    if meta is None:
        return None
    if isinstance(key, tuple):
        pid, fd = key
        sel = ((meta["proc.pid"] == pid) & (meta["fd.num"] == fd)).fillna(False).to_numpy(dtype=bool)
    else:
        sel = (meta["fd.name"] == key).to_numpy(dtype=bool)
    idx = np.flatnonzero(sel)
    return fill_data(meta.iloc[idx], side, rows[idx])


__all__ = ["io_frame", "io_selection", "IoRows", "io_rows", "row_params", "framed_ints", "rawres", "res_ints", "rawres_index", "follow_frame",
           "fill_data", "io_types", "IoTypes"]
