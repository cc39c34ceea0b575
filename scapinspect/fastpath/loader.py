"""``load_events(path)``: the frame of ``Capture(path).fields(DEFAULT_COLUMNS)``, built column-wise.

Stages (each a function below): open and read the first section's metadata with the reference reader;
walk the event blocks and gather their headers (walk.py); frame the parameters (params.py); decode the
few integer parameters the state pass needs, per event type; run the ordered pass (replay.py); turn the
per-event ids into typed columns with numpy takes (frame.py).

A capture the vectorised walk does not handle (several sections, damaged or truncated blocks, gzip
damage, metadata warnings) is read by the reference path instead, so the result is the same for every
file; ``load_events(..., fallback=False)`` raises ``Unsupported`` there.
"""
from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import pandas as pd

from .._i64 import i64
from ..parsers import eventtable as et
from ..parsers.reader import ScapReader, Section
from ..render.events import HIDDEN_041, LEADING_CONTAINER_EVENTS, EventStream
from ..render.params import Profile, profile
from ..state.engine import CLONE_EXITS
from . import frame as fr
from .params import Params
from .replay import (
    K_NONE,
    K_SKIP_PROCINFO,
    EventMaker,
    Outputs,
    maker_types,
    replay,
    type_tables,
)
from .side import Hidden, Objects, Side, _Framed, attach, tap_table
from .walk import Blocks, Unsupported, views, walk

DETECT_EVENTS = 20000


def load_events(path: str, *, compat: str | None = None, strict: bool = False,
                fallback: bool = True, progress: Progress | None = None,
                facts_out: dict | None = None) -> pd.DataFrame:
    """The events sysdig prints, one row each, with capture.DEFAULT_COLUMNS (and evt.time).

    ``compat`` is "0.29" or "0.41" (detected from the capture when None), as in ``Capture``.
    ``progress(done, total)`` is told now and then how far the load is, in events of the file.
    ``facts_out``, a dict, gets what ``facts`` returns (keys section, events, first, last, counts)
    from the load's own walk, when the fast loader reads the file.
    """
    try:
        with _collector_paused():
            return _load(str(path), compat, strict, progress, facts_out)
    except Unsupported:
        if not fallback:
            raise
    from ..capture import DEFAULT_COLUMNS, Capture
    return Capture(str(path), compat=compat, strict=strict).fields(DEFAULT_COLUMNS)


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off for the load: its passes over the pass's big young lists and
    tables cost ~30 ms per 1M events and find nothing (the load makes no garbage cycles of note)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def header_walk(path: str) -> np.ndarray:
    """The vectorised block walk, header gather and parameter framing alone (for benchmarks): the event
    types of every event block."""
    reader = ScapReader(str(path))
    try:
        return _framed(reader)[2].etype
    finally:
        reader.close()


def facts(path: str, strict: bool = False) -> tuple[Section, int, int | None, int | None, dict[str, int]]:
    """What ``Capture.info`` reports, from the vectorised walk (no event is decoded): the first
    section, the number of events the reader yields, the first and last event time, and the reader's
    counts (unknown event types, events with more parameters than the table, empty parameters).
    Raises Unsupported where the reference reader is needed (damage, several sections ...)."""
    reader = ScapReader(str(path), strict=strict)
    try:
        sec, _, b, p = _framed(reader)
        return (sec, *_facts(reader, b, p))
    finally:
        reader.close()


def _facts(reader: ScapReader, b: Blocks, p: Params) -> tuple[int, int | None, int | None, dict[str, int]]:
    """``facts`` but the section, from a framed capture."""
    keep = np.flatnonzero(p.keep)
    counts: dict[str, int] = {}
    unknown = len(p.keep) - len(keep)
    if unknown:
        counts["unknown_events"] = unknown
    known = np.array([len(e.params) for e in reader.table.events], dtype=np.int64)
    n = p.nparams[keep].astype(np.int64)
    extra = int((n > known[b.etype[keep]]).sum())
    if extra:
        counts["extra_params"] = extra
    empty = _zero_lengths(p, keep, n)
    if empty:
        counts["empty_params"] = empty
    ts = b.ts[keep]
    first = int(ts[0]) if len(ts) else None
    last = int(ts[-1]) if len(ts) else None
    return len(keep), first, last, counts


def _zero_lengths(p: Params, idx: np.ndarray, n: np.ndarray) -> int:
    """How many parameters of events ``idx`` (with ``n`` parameters each) have length 0."""
    total = 0
    step = 1 << 18
    for k in range(0, len(idx), step):
        ev, cnt = idx[k:k + step], n[k:k + step]
        reps = np.repeat(np.arange(len(ev)), cnt)
        j = np.arange(len(reps)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        w = p.width[ev].astype(np.int64)[reps]
        pos = p.lens_start[ev][reps] + w * j
        u16, u32 = p.v["u16"], p.v["u32"]
        vals = np.where(w == 2, u16[np.minimum(pos, len(u16) - 1)], u32[np.minimum(pos, len(u32) - 1)])
        total += int((vals == 0).sum())
    return total


def _framed(reader: ScapReader) -> tuple[Section, dict, Blocks, Params]:
    """The first section, the byte views of the capture, its event blocks and their parameter framing
    (Unsupported where the reference reader is needed)."""
    sec = _first_section(reader)
    v = views(reader.buf)
    b = walk(reader.buf, reader.position, v)
    return sec, v, b, Params(b, reader.table, v)


def _first_section(reader: ScapReader) -> Section:
    gen = reader.items()
    try:
        sec = next(gen)
    finally:
        gen.close()
    if reader.warnings or reader.counts or reader._gzip_stop is not None:
        raise Unsupported("the metadata needs the reference reader")
    return sec


def detect(b: Blocks, p: Params) -> str:
    """render.events.detect_compat over the framed events (tests/test_fastpath.py holds them equal):
    '0.41' when the first 20000 events hold syscall exits, no enter, and an exit the 0.29.3 table
    does not describe (an id it lacks or more parameters than it lists); else '0.29'."""
    head, old = et.head(), et.v0293()
    keep = np.flatnonzero(p.keep)[:DETECT_EVENTS]
    t = b.etype[keep].astype(np.int64)
    sysc = np.array([bool(e.category & et.EC_SYSCALL) for e in head.events], dtype=bool)
    m = sysc[t] & (t > 1)
    if (m & (t % 2 == 0)).any():
        return "0.29"
    exits = m & (t % 2 == 1)
    oldn = np.array([len(e.params) for e in old.events], dtype=np.int64)
    newer = exits & ((t >= old.max_event) | (p.nparams[keep] > oldn[np.minimum(t, old.max_event - 1)]))
    return "0.41" if exits.any() and newer.any() else "0.29"


# progress(done, total): events of the file accounted for so far
Progress = Callable[[int, int], None]
# the share of the load before the ordered pass (walk, framing, columns), and the pass's own share
_BEFORE_PASS, _PASS = 0.3, 0.6


def _load(path: str, compat: str | None, strict: bool, progress: Progress | None = None,
          facts_out: dict | None = None) -> pd.DataFrame:
    reader = ScapReader(path, strict=strict)
    try:
        sec, v, b, p = _framed(reader)
        if facts_out is not None:
            facts_out.update(zip(("section", "events", "first", "last", "counts"), (sec, *_facts(reader, b, p)),
                                 strict=True))
        total = len(b.etype)
        b.elen = b.nparams = None     # framed: no longer needed
        if compat is None:
            compat = detect(b, p)
        prof = profile(compat)
        kept = np.flatnonzero(p.keep & (b.etype < prof.max_event))
        stream = EventStream(reader, prof)
        stream.state.load_section(sec)
        taps = tap_table(prof.table)
        st = stream.state
        need = maker_types(st.table, prof.table, st._handlers, st.modern, taps)
        cols, shown = _columns(b, p, kept, prof, stream, need)
        blk = kept[shown]
        p = p.take(blk)                 # the whole framing goes first: the peak of the load is here
        hid = np.ones(len(kept), dtype=bool)
        hid[shown] = False
        hid = kept[hid]
        del kept
        hidden = Hidden(v, b.evoff[hid], b.version[hid], reader.table,
                        np.searchsorted(blk, hid).astype(np.int32))
        del hid
        rows = _Framed(v, b.evoff[blk], b.version[blk], reader.table)
        # keep only what the shown rows need while the pass runs
        b = Blocks(off=None, evoff=None, version=None, cpu=b.cpu[blk], flags=None, ts=b.ts[blk],
                   tid=b.tid[blk], elen=None, etype=b.etype[blk], nparams=None)
        tell = None
        if progress is not None:
            progress(int(total * _BEFORE_PASS), total)

            def tell(done: int, of: int) -> None:
                progress(int(total * (_BEFORE_PASS + _PASS * done / max(of, 1))), total)
        out = replay(stream, cols, EventMaker(reader.mv, *cols.pop("maker")), taps=taps, progress=tell)
        del cols
        df = _frame(b, p, np.arange(len(blk)), shown + 1, prof, out)
        tapped: dict[str, list] = {}
        for pos, got in sorted(((pos, got) for vals in out.taps.values() for pos, got in vals),
                               key=lambda x: x[0]):
            for name, v in got.items():
                tapped.setdefault(name, []).append((pos, v))
        if progress is not None:
            progress(total, total)
        attach(df, Side(out.tsnap.astype(np.int32), out.fsnap.astype(np.int32), out.threads, out.fds, rows,
                        prof.table, tapped, hidden, out.eof_threads, sec, out.ctype.astype(np.int8),
                        objects=Objects(out.tobj.astype(np.int32), out.start_objects, out.eof_objects,
                                        out.clone_children, out.table_log)))
        return df
    finally:
        reader.close()


def _columns(b: Blocks, p: Params, kept: np.ndarray, prof: Profile, stream,
             need: np.ndarray) -> tuple[dict, np.ndarray]:
    """The pass's input, one entry per event that may have an effect, and the shown events (indices
    into ``kept``)."""
    state = stream.state
    n = len(kept)
    etype = b.etype[kept]                       # uint16: per-type tables are indexed with it
    kind, uses_fd, hmode, fdrel, creator, connect_x, internal, exitloc, cfr = (
        np.array(x) for x in type_tables(state.table, prof.table, state._handlers, state.modern))
    ptab = prof.table.events
    # shown or hidden, as EventStream.events decides
    lead = np.isin(etype, list(LEADING_CONTAINER_EVENTS))
    first = int(np.argmin(lead)) if not lead.all() else n
    del lead
    hide_type = np.array([bool(e.category & et.EC_INTERNAL) for e in ptab], dtype=bool)
    if prof.name == "0.41":
        hide_type |= np.array([e.name in HIDDEN_041 for e in ptab], dtype=bool)
    hidden = hide_type[etype]
    hidden[:first] = True
    hidden |= (b.flags[kept] & 1).astype(bool)
    # hidden events without a thread to look up and without a handler change nothing
    inert = ((kind == K_NONE) | (kind == K_SKIP_PROCINFO)) & (hmode == 0)
    process = ~(hidden & inert[etype])
    # events the pass skips after its last one: libsinsp would still settle pending removals there
    trailing = bool(len(process)) and not bool(process[-1])
    # integer parameters the pass reads
    pidx = np.flatnonzero(process)
    del process
    kp = kept[pidx]
    tp = etype[pidx].astype(np.int64)
    n = len(pidx)
    # the fd _reset() reads: an enter's first parameter, an exit's at its exit location (the
    # fdout of copy_file_range)
    fdloc = np.where(np.arange(len(exitloc)) % 2 == 0, 0, exitloc)
    fdout = np.array([e.param_index("fdout") for e in state.table.events])[:len(exitloc)]
    fdloc = np.where(cfr, fdout, fdloc)
    fdarg = _param_by_type(n, p, kp, tp, uses_fd[tp], fdloc)
    clone_x = np.zeros(len(hmode), dtype=bool)     # (a clone exit's child, ViewState's numbering)
    clone_x[[i for i in CLONE_EXITS if i < len(hmode)]] = True
    need_res = (np.isin(hmode, (2, 4)) | connect_x | clone_x)[tp]
    res0 = _param_by_type(n, p, kp, tp, need_res, np.zeros(len(exitloc), dtype=np.int64))
    # the events whose Event the pass may build: their header and framing, packed for EventMaker
    sel = np.flatnonzero(need[tp])
    ks = kp[sel]
    maker = {"type": tp[sel].astype(np.int16), "tid": b.tid[ks], "ts": b.ts[ks], "cpu": b.cpu[ks],
             "flags": b.flags[ks], "off": b.off[ks], "nparams": p.nparams[ks], "width": p.width[ks],
             "lens_start": p.lens_start[ks], "data_start": p.data_start[ks]}
    slot = np.full(n, -1, dtype=np.int32)
    slot[sel] = np.arange(len(sel), dtype=np.int32)
    del sel, ks
    cols = {
        "type": tp.astype(np.int16), "tid": b.tid[kp], "ts": b.ts[kp], "fd": fdarg, "res0": res0,
        "visible": ~hidden[pidx], "num": (pidx + 1).astype(np.int32 if n < 2**31 - 1 else np.int64),
        "maker": (maker, slot), "trailing": trailing,
    }
    return cols, np.flatnonzero(~hidden)


def _param_by_type(n: int, p: Params, kp, tp, sel, index_of_type) -> tuple[np.ndarray, np.ndarray]:
    """One integer parameter of the selected events, at an index that depends on the event type:
    (values, valid); absent parameters and unselected events are invalid."""
    vals = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    loc = np.asarray(index_of_type)[tp]
    for j in _small_uniques(loc[sel]):
        m = np.flatnonzero(sel & (loc == j))
        v, ok = p.ints(kp[m], j)
        vals[m], valid[m] = v, ok
    return vals, valid


def _small_uniques(a: np.ndarray) -> list[int]:
    """The distinct non-negative values of an array of small integers (a parameter index per event),
    without sorting it."""
    a = a[a >= 0]
    return np.flatnonzero(np.bincount(a)).tolist() if len(a) else []


def _frame(b: Blocks, p: Params, blk: np.ndarray, nums: np.ndarray, prof: Profile, out: Outputs) -> pd.DataFrame:
    """The typed columns of the shown events (``blk``: their block indices, ``nums``: evt.num)."""
    etype = b.etype[blk].astype(np.int64)
    tc = fr.type_columns(prof.table)
    n = len(blk)
    data: dict[str, object] = {}
    data["evt.num"] = fr.ints(nums)
    data["evt.rawtime"] = fr.ints(b.ts[blk].astype(np.int64))
    data["evt.cpu"] = fr.ints(b.cpu[blk])
    data["thread.tid"] = fr.ints(b.tid[blk].astype(np.int64))
    tsnap = np.asarray(out.tsnap, dtype=np.int64)
    has_t = tsnap >= 0
    snaps = out.threads or [(0, None, None, None, None, None)]
    safe = np.where(has_t, tsnap, 0)
    pid = np.array(i64([s[0] for s in snaps]), dtype=np.int64)
    ppid_valid = np.array([s[2] is not None for s in snaps], dtype=bool)
    ppid = np.array(i64([s[2] if s[2] is not None else 0 for s in snaps]), dtype=np.int64)
    data["proc.pid"] = fr.ints(pid[safe], has_t)
    data["proc.name"] = fr.categorical(tsnap, [s[1] for s in snaps])
    data["evt.type"] = _type_names(b, p, blk, etype, prof)
    data["evt.dir"] = fr.categorical(etype & 1, [">", "<"])
    data["evt.category"] = _category(etype, np.asarray(out.ctype, dtype=np.int64), tc)
    raw, valid = _res(p, blk, etype, tc)
    data["evt.rawres"] = fr.ints(raw, valid)
    inv, labels = fr.res_strings(np.where(valid, raw, 0))
    data["evt.res"] = fr.categorical(np.where(valid, inv, -1), labels)
    data["evt.failed"] = fr.bools(valid & (raw < 0))
    fsnap = np.asarray(out.fsnap, dtype=np.int64)
    data["fd.num"] = fr.ints(np.asarray(out.fdnum, dtype=np.int64), fsnap != -1)
    data.update(_fd(out, etype, tc, prof))
    data["evt.buflen"] = _buflen(p, blk, etype, np.asarray(out.ctype, dtype=np.int64), tc)
    internal = np.array([bool(e.category & et.EC_INTERNAL) for e in prof.table.events], dtype=bool)
    lat_valid = ~(internal[etype] & has_t)
    data["evt.latency"] = fr.ints(out.latency, lat_valid)
    data["proc.ppid"] = fr.ints(ppid[safe], has_t & ppid_valid[safe])
    data["proc.exe"] = fr.categorical(tsnap, [s[3] for s in snaps])
    data["proc.args"] = fr.categorical(tsnap, [s[4] for s in snaps])
    data["user.name"] = fr.categorical(tsnap, [s[5] for s in snaps])
    data["evt.is_io"] = fr.bools(np.array(tc["is_io"], dtype=bool)[etype] if n else np.zeros(0, bool))
    df = pd.DataFrame(data, copy=False)
    df.insert(1, "evt.time", pd.to_datetime(df["evt.rawtime"].astype("int64"), unit="ns", utc=True))
    return df


def _type_names(b: Blocks, p: Params, blk, etype, prof: Profile) -> pd.Categorical:
    names = [e.name for e in prof.table.events]
    codes = etype.copy()
    gen = np.flatnonzero(etype <= 1)
    if len(gen):
        pos, length = p.locate(blk[gen], 0)
        u16 = p.v["u16"]
        sc = np.where(length >= 2, u16[np.minimum(pos, len(u16) - 1)], 0).astype(np.int64)
        uniq, inv = np.unique(sc, return_inverse=True)
        extra = [prof.table.syscall_name(c) or "<unknown>" for c in uniq.tolist()]
        codes[gen] = len(names) + inv
        names = names + extra
    return fr.categorical(codes, names)


def _category(etype, ctype, tc) -> pd.Categorical:
    static = tc["cat"]
    io = np.array(tc["io_cat"], dtype=bool)[etype] & (etype > 1)
    labels = list(static) + ["unknown"]
    codes = etype.copy()
    if io.any():
        sub = fr.subcat_labels(list(range(32)))
        codes[io] = np.where(ctype[io] >= 0, len(labels) + np.clip(ctype[io], 0, 31), len(static))
        labels += sub
    return fr.categorical(codes, labels)


def _res(p: Params, blk, etype, tc) -> tuple[np.ndarray, np.ndarray]:
    ridx = np.asarray(tc["res_idx"], dtype=np.int64)[etype]
    raw = np.zeros(len(blk), dtype=np.int64)
    valid = np.zeros(len(blk), dtype=bool)
    for j in _small_uniques(ridx):
        m = ridx == j
        vals, ok = p.ints(blk[m], j)
        raw[m], valid[m] = vals, ok
    return raw, valid


def _buflen(p: Params, blk, etype, ctype, tc) -> pd.arrays.IntegerArray:
    io = np.array(tc["io_cat"], dtype=bool)[etype] & (ctype >= 0) & (etype % 2 == 1)
    vals = np.zeros(len(blk), dtype=np.int64)
    valid = np.zeros(len(blk), dtype=bool)
    if io.any():
        v, ok = p.ints(blk[io], 0)
        vals[io] = v
        valid[io] = ok & (v >= 0)
    return fr.ints(vals, valid)


def _fd(out: Outputs, etype, tc, prof: Profile) -> dict:
    fsnap = np.asarray(out.fsnap, dtype=np.int64)
    names, types, tchars = fr.fd_columns(out.fds, prof.name != "0.29")
    nf = len(names)
    # fd.name: snapshot names, then '' for shown exits with no fd, then the overrides
    name_labels = names + [""]
    ncodes = np.where(fsnap >= 0, fsnap, -1)
    nofd = fsnap == -2
    ncodes[nofd & (etype % 2 == 1)] = nf
    over = out.fdname_override
    if over:
        at = np.fromiter(over, dtype=np.int64, count=len(over))
        ncodes[at] = len(name_labels) + np.arange(len(at))
        name_labels += over.values()
    type_codes = np.where(fsnap >= 0, fsnap, -1)
    tc_null = tc["tc_null"]
    char_labels = tchars + list(tc_null)
    char_codes = np.where(fsnap >= 0, fsnap, np.where(nofd, nf + etype, -1))
    return {"fd.name": fr.categorical(ncodes, name_labels), "fd.type": fr.categorical(type_codes, types),
            "fd.typechar": fr.categorical(char_codes, char_labels)}
