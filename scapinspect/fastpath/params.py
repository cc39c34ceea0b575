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
# integer width -> the (signed, unsigned) views Params.ints reads it from
_READ = {1: ("i8", "u8"), 2: ("i16", "u16"), 4: ("i32", "u32"), 8: ("i64", "u64")}


class Params:
    """Where each event's parameter lengths and values start, and how wide a length is."""

    def __init__(self, b: Blocks, table: EventTable, v: dict[str, np.ndarray]):
        self.v = v
        nmax = len(table.events)
        wide_types = np.array([bool(e.flags & EF_LARGE_PAYLOAD) for e in table.events], dtype=bool)
        known = np.array([len(e.params) for e in table.events], dtype=np.int64)
        et = b.etype                              # uint16: indexes the per-type tables as it is
        self.keep = et < nmax                     # unknown event types are skipped, as libscap does
        wide = wide_types[np.minimum(et, nmax - 1)]
        self.all_narrow = not wide.any()
        self.width = np.full(len(et), 2, dtype=np.int8) if self.all_narrow else np.where(wide, 4, 2).astype(np.int8)
        v2 = b.version == 2
        if v2.all() or not v2.any():        # one header version (the rule): no per-event array
            hdr = 26 if len(v2) and v2[0] else 22
        else:
            hdr = np.where(v2, 26, 22).astype(np.int64)
        self.lens_start = b.evoff + hdr
        del hdr, wide, v2
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
        if self.all_narrow:     # (every width 2: no width gather)
            pos = self.lens_start[idx] + 2 * j
            if clip:
                pos = np.minimum(pos, len(self.v["u32"]) - 1)
            return self.v["u16"][pos].astype(np.int64)
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

        n lengths and n itself add up to more with every n, so at most one n fits: the count that fits
        one event of a type (searched) is tried first for all the events of that type at once; the few
        events it does not fit are searched."""
        w = self.width[idx].astype(np.int64)
        t = et[idx]
        elen = b.elen[idx].astype(np.int64)
        elen[(t == _V1_LEN_QUIRK[0]) | (t == _V1_LEN_QUIRK[1])] -= 3
        n0 = np.minimum(np.minimum(known[t], MAX_EVENT_PARAMS), (elen - 22) >> (w >> 1))   # (// w)
        best = np.full(len(idx), -1, dtype=np.int64)
        one = np.full(len(known), -1, dtype=np.int64)
        one[t] = np.arange(len(t))          # one event of each type (which one does not matter)
        one = one[one >= 0]
        one = one[n0[one] >= 0]
        guess = np.full(len(known), -1, dtype=np.int64)
        guess[t[one]] = self._search(idx[one], w[one], elen[one], n0[one])
        guess = guess[t]
        guess = np.where((guess < 0) | (guess > n0), n0, guess)
        ok = np.flatnonzero(guess >= 0)
        g = guess[ok]
        fits = 22 + w[ok] * g + self._sum_lens(idx[ok], w[ok], g) == elen[ok]
        best[ok[fits]] = g[fits]
        rest = np.flatnonzero((best < 0) & (n0 >= 0))
        if len(rest):
            best[rest] = self._search(idx[rest], w[rest], elen[rest], n0[rest])
        if (best < 0).any():
            raise Unsupported("a v1 event whose parameter count cannot be inferred")
        out[idx] = best

    def _sum_lens(self, ev: np.ndarray, w: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The sum of the first ``n`` parameter lengths of events ``ev`` (of width ``w``): every length
        read in one gather, event after event in file order (one pass per column or per group of
        events would walk the file many times, a cache miss a read)."""
        start = np.cumsum(n) - n                 # where each event's lengths start in the gather
        k = np.arange(int(n.sum()))
        wr = 2 if self.all_narrow else np.repeat(w, n)      # the width of each length read
        pos = np.repeat(self.lens_start[ev] - w * start, n) + wr * k
        u16, u32 = self.v["u16"], self.v["u32"]
        lens = u16[pos] if self.all_narrow else np.where(wr == 2, u16[pos], u32[pos])
        cum = np.zeros(len(k) + 1, dtype=np.int64)
        np.cumsum(lens, dtype=np.int64, out=cum[1:])
        return cum[start + n] - cum[start]

    def _search(self, ev: np.ndarray, ww: np.ndarray, ee: np.ndarray, nn: np.ndarray) -> np.ndarray:
        """The largest n <= nn whose lengths add up to ee (-1: none), for events ``ev`` of width
        ``ww``: one pass over n = 0, 1, ... keeping the events whose count may still grow."""
        best = np.full(len(ev), -1, dtype=np.int64)
        pos = np.arange(len(ev))                    # positions in ev still searched
        cum = np.zeros(len(ev), dtype=np.int64)
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
        return best

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
        if self.all_narrow:
            # 2-byte lengths (the rule): one gather a length for all the events, no masked takes; when
            # an event has fewer parameters, what is read past its lengths (clipped to the buffer) is
            # dropped
            at = self.lens_start[idx]
            u16 = self.v["u16"]
            last = len(u16) - 1
            every = not len(n) or n.min() > k
            for j in range(k):
                pos += u16[at + 2 * j] if every else np.where(n > j, u16[np.minimum(at + 2 * j, last)], 0)
            length = u16[at + 2 * k] if every else np.where(n > k, u16[np.minimum(at + 2 * k, last)], 0)
            return pos, length.astype(np.int64)
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
        width = np.minimum(length, 8)           # (8: 8 bytes or more)
        present = np.flatnonzero(np.bincount(width, minlength=9)).tolist() if len(idx) else []
        for w in present:
            if w == 0:
                continue
            # one width (the rule): every event at once, no mask
            m = slice(None) if len(present) == 1 else np.flatnonzero(width == w)
            at = pos[m]
            if w in _READ:
                arr = v[_READ[w][0] if signed else _READ[w][1]]
                val[m] = arr[at].astype(np.int64)
            else:
                acc = np.zeros(len(at), dtype=np.int64)
                for b in range(w):
                    acc |= v["u8"][at + b].astype(np.int64) << (8 * b)
                val[m] = acc
            valid[m] = True
        return val, valid
