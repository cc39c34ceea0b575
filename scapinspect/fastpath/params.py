"""Parameter framing for all events at once: v1 nparams inference batched per event type, parameter
offsets per (type, nparams) group, and integer decoding of one parameter for many events
(scap-format.md §3, §4; the reference is ``ScapReader._event``).
"""
from __future__ import annotations

import numpy as np

from ..parsers.eventtable import EF_LARGE_PAYLOAD, EventTable
from .walk import Blocks, Unsupported

MAX_EVENT_PARAMS = 64
_CHUNK = 1 << 18
_V1_LEN_QUIRK = (280, 286)


class Params:
    """Where each event's parameter lengths and values start, and how wide a length is."""

    def __init__(self, b: Blocks, table: EventTable, v: dict[str, np.ndarray]):
        self.v = v
        nmax = len(table.events)
        wide_types = np.array([bool(e.flags & EF_LARGE_PAYLOAD) for e in table.events], dtype=bool)
        known = np.array([len(e.params) for e in table.events], dtype=np.int64)
        et = b.etype                              # uint16: indexes the per-type tables as it is
        self.keep = et < nmax                     # unknown event types are skipped, as libscap does
        etk = np.minimum(et, nmax - 1)
        self.width = np.where(wide_types[etk], 4, 2).astype(np.int8)
        self.all_narrow = not wide_types[etk].any()
        v2 = b.version == 2
        if v2.all() or not v2.any():        # one header version (the rule): no per-event array
            hdr = 26 if len(v2) and v2[0] else 22
        else:
            hdr = np.where(v2, 26, 22).astype(np.int64)
        self.lens_start = b.evoff + hdr
        del hdr, etk, v2
        nparams = b.nparams.copy()
        v1 = (b.version == 1) & self.keep
        for k in range(0, len(v1), _CHUNK):      # chunks bound the temporaries of the search
            idx = np.flatnonzero(v1[k:k + _CHUNK]) + k
            if len(idx):
                self._infer(b, idx, et, known, nparams)
        del v1
        self.data_start = self.lens_start + self.width * nparams
        end = b.evoff + b.elen.astype(np.int64)
        kept = self.keep
        if ((nparams > MAX_EVENT_PARAMS) & kept).any() or ((self.data_start > end) & kept).any():
            raise Unsupported("parameter lengths that do not fit their event")
        v2 = np.flatnonzero((b.version == 2) & kept)
        if len(v2):
            total = self.total_len(v2, nparams)
            if (self.data_start[v2] + total > end[v2]).any():
                raise Unsupported("parameter lengths that run past their event")
        self.nparams = nparams.astype(np.int16)

    def _lens(self, idx: np.ndarray, j: int | np.ndarray, clip: bool = False) -> np.ndarray:
        """The length of parameter ``j`` of events ``idx`` (``clip`` when j may pass the event)."""
        w = self.width[idx]
        pos = self.lens_start[idx] + w.astype(np.int64) * j
        u16, u32 = self.v["u16"], self.v["u32"]
        if clip:
            pos = np.minimum(pos, len(u32) - 1)
        if self.all_narrow or (w == 2).all():
            return u16[pos].astype(np.int64)
        return np.where(w == 2, u16[pos], u32[pos]).astype(np.int64)

    def _infer(self, b: Blocks, idx: np.ndarray, et: np.ndarray, known: np.ndarray, out: np.ndarray) -> None:
        """v1 headers: the largest n <= the table's count whose lengths add up to the event length.

        One pass over n = 0, 1, ... for all events at once, keeping the events whose count may still
        grow; a match at n overrides the matches below it."""
        w = self.width[idx].astype(np.int64)
        t = et[idx]
        elen = b.elen[idx].astype(np.int64) - np.where(np.isin(t, _V1_LEN_QUIRK), 3, 0)
        n0 = np.minimum(np.minimum(known[t], MAX_EVENT_PARAMS), (elen - 22) // w)
        best = np.full(len(idx), -1, dtype=np.int64)
        pos = np.flatnonzero(n0 >= 0)               # positions in idx still searched
        cum = np.zeros(len(pos), dtype=np.int64)
        ev, ww, ee, nn = idx[pos], w[pos], elen[pos], n0[pos]
        j = 0
        while len(pos):
            hit = 22 + ww * j + cum == ee
            best[pos[hit]] = j
            more = nn > j
            if not more.all():
                pos, cum, ev, ww, ee, nn = pos[more], cum[more], ev[more], ww[more], ee[more], nn[more]
            if not len(pos):
                break
            cum += self._lens(ev, j)
            j += 1
        if (best < 0).any():
            raise Unsupported("a v1 event whose parameter count cannot be inferred")
        out[idx] = best

    def take(self, rows: np.ndarray) -> Params:
        """The framing of events ``rows`` only (in that order)."""
        q = Params.__new__(Params)
        q.v, q.all_narrow = self.v, self.all_narrow
        q.width, q.lens_start = self.width[rows], self.lens_start[rows]
        q.nparams, q.data_start = self.nparams[rows], self.data_start[rows]
        q.keep = self.keep[rows]
        return q

    def total_len(self, idx: np.ndarray, nparams: np.ndarray | None = None) -> np.ndarray:
        total = np.zeros(len(idx), dtype=np.int64)
        n = (self.nparams if nparams is None else nparams)[idx]
        for j in range(int(n.max()) if len(n) else 0):
            m = n > j
            total[m] += self._lens(idx[m], j)
        return total

    def locate(self, idx: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(byte offset, length) of parameter ``k`` of events ``idx``; length 0 when it is absent."""
        pos = self.data_start[idx].copy()
        n = self.nparams[idx]
        for j in range(k):
            m = n > j
            pos[m] += self._lens(idx[m], j)
        length = np.zeros(len(idx), dtype=np.int64)
        m = n > k
        length[m] = self._lens(idx[m], k)
        return pos, length

    def ints(self, idx: np.ndarray, k: int, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Parameter ``k`` of events ``idx`` read as parsers.params.as_int reads it: (values, valid).

        Widths 1/2/4/8 are read as such, longer values by their first 8 bytes, odd widths (3, 5, 6, 7:
        damaged or hostile input) as unsigned little-endian over their bytes; absent or empty
        parameters are invalid (None)."""
        pos, length = self.locate(idx, k)
        val = np.zeros(len(idx), dtype=np.int64)
        valid = np.zeros(len(idx), dtype=bool)
        v = self.v
        names = (("i8", "u8"), ("i16", "u16"), ("i32", "u32"), ("i64", "u64"))
        for width, (sname, uname) in zip((1, 2, 4, 8), names, strict=True):
            m = (length == width) if width < 8 else (length >= 8)
            if m.any():
                arr = v[sname] if signed else v[uname]
                val[m] = arr[pos[m]].astype(np.int64)
                valid[m] = True
        for width in (3, 5, 6, 7):
            m = np.flatnonzero(length == width)
            if len(m):
                u8 = v["u8"]
                acc = np.zeros(len(m), dtype=np.int64)
                for k in range(width):
                    acc |= u8[pos[m] + k].astype(np.int64) << (8 * k)
                val[m] = acc
                valid[m] = True
        return val, valid
