"""Vectorised block walk: the event blocks of one clean section as numpy arrays (scap-format.md §3, §8).

``walk(buf, start)`` finds every event block from ``start`` to the end of the buffer without a Python
loop per block in the common case: one comparison pass over the aligned 32-bit words finds the blocks
whose type word is an event block type, and their length/trailer words confirm them; when each confirmed
block's end is exactly the next one's start, the chain is the whole file. Anything else (a false
candidate inside a payload, a metadata block between events, damage) is resolved by following the chain,
and what cannot be framed raises ``Unsupported`` so that the caller falls back to the reference reader.

Headers are gathered with unaligned strided views (one fancy index per field), so no per-event byte
matrix is built. Field widths (v2 header, 26 bytes): ts u64, tid u64, len u32, type u16, nparams u32;
the v1 header (22 bytes) has no nparams.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..parsers import metadata as md


class Unsupported(Exception):
    """The capture needs the reference reader (several sections, damage, an impossible event)."""


def views(buf) -> dict[str, np.ndarray]:
    """Little-endian unaligned views of ``buf``: ``u8``, and ``u16``/``u32``/``u64``/``i64`` indexed by
    byte offset (element k holds the value starting at byte k)."""
    b = np.frombuffer(buf, dtype=np.uint8)
    out = {"u8": b}
    for name, dt, w in (("u16", "<u2", 2), ("u32", "<u4", 4), ("u64", "<u8", 8), ("i64", "<i8", 8),
                        ("i32", "<i4", 4), ("i16", "<i2", 2), ("i8", "<i1", 1)):
        n = max(len(b) - w + 1, 0)
        out[name] = np.ndarray((n,), dtype=dt, buffer=b, offset=0, strides=(1,))
    return out


@dataclass
class Blocks:
    """Event blocks in file order: block offset, header fields and framing."""
    off: np.ndarray        # int64 byte offset of the block
    evoff: np.ndarray      # int64 byte offset of the event header (dropped once framed)
    version: np.ndarray    # uint8 1 or 2 (dropped once framed)
    cpu: np.ndarray        # uint16
    flags: np.ndarray      # uint32 (EVF blocks), else 0
    ts: np.ndarray         # uint64
    tid: np.ndarray        # uint64
    elen: np.ndarray       # uint32 event length, header included (dropped once framed)
    etype: np.ndarray      # uint16
    nparams: np.ndarray    # int64, -1 for v1 headers (inferred later; dropped once framed)


_EV_TYPES = np.array(sorted(md.EVENT_BLOCKS), dtype=np.uint32)
_VERSION = {k: v[0] for k, v in md.EVENT_BLOCKS.items()}
_HAS_FLAGS = {k: v[1] for k, v in md.EVENT_BLOCKS.items()}


_SCAN = 1 << 22      # words compared per step: keeps the mask small and in cache


def _candidates(words: np.ndarray, first_type: int) -> tuple[np.ndarray, np.ndarray]:
    """Word indices holding an event block type that is framed by its length and trailer, and the
    lengths of those blocks."""
    parts = [np.flatnonzero(words[k:k + _SCAN] == first_type) + k for k in range(0, len(words), _SCAN)]
    cand = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return _framing(words, cand)


def _all_candidates(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    near = np.flatnonzero((words >> 6) == 8)            # 0x200..0x23f: every current event block type
    legacy = np.flatnonzero(words == 0x8010ABCD)
    cand = np.union1d(near[np.isin(words[near], _EV_TYPES)], legacy)
    return _framing(words, cand)


def _framed(words: np.ndarray, cand: np.ndarray) -> np.ndarray:
    return _framing(words, cand)[0]


def _framing(words: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The candidates whose length and trailer agree, and their lengths (int64 bytes)."""
    n = len(words)
    cand = cand[cand + 1 < n]
    blen = words[cand + 1].astype(np.int64)
    end = cand + (blen >> 2)
    ok = (blen >= 12) & ((blen & 3) == 0) & (end <= n)
    cand, end, blen = cand[ok], end[ok], blen[ok]
    ok = words[end - 1] == words[cand + 1]
    return cand[ok], blen[ok]


def _chain(words: np.ndarray, cand: np.ndarray, blen: np.ndarray | None = None) -> np.ndarray | None:
    """The candidates on the chain from word 0 to the end, or None when the chain leaves them."""
    on = _on_chain(words, cand, blen)
    return None if on is None else cand[on]


def _on_chain(words: np.ndarray, cand: np.ndarray, blen: np.ndarray | None = None):
    """Which candidates (of lengths ``blen``) are on the chain from word 0 to the end: a slice (all
    of them, the rule) or their positions; None when the chain leaves them."""
    n = len(words)
    if not len(cand) or cand[0] != 0:
        return None
    if blen is None:
        blen = words[cand + 1].astype(np.int64)
    nxt = cand + (blen >> 2)
    if np.array_equal(nxt[:-1], cand[1:]) and nxt[-1] == n:
        return slice(None)
    # false candidates inside payloads: follow the chain through the candidates
    pos = np.searchsorted(cand, nxt)
    pos_l = pos.tolist()
    hit = (pos < len(cand)) & (cand[np.minimum(pos, len(cand) - 1)] == nxt)
    hit_l = hit.tolist()
    nxt_l = nxt.tolist()
    out = []
    k = 0
    while True:
        out.append(k)
        if hit_l[k]:
            k = pos_l[k]
            continue
        if nxt_l[k] == n:
            return np.array(out, dtype=np.int64)
        return None


def _header_record(has_flags: bool, version: int) -> np.dtype:
    """One block's header fields from its first byte (block type and length first, then cpu, the
    flags of EVF blocks and the event header), as a packed record."""
    e = 14 if has_flags else 10
    fields = {"cpu": ("<u2", 8), "ts": ("<u8", e), "tid": ("<u8", e + 8), "elen": ("<u4", e + 16),
              "etype": ("<u2", e + 20)}
    if has_flags:
        fields["flags"] = ("<u4", 10)
    if version == 2:
        fields["nparams"] = ("<u4", e + 22)
    return np.dtype({"names": list(fields), "formats": [f for f, _ in fields.values()],
                     "offsets": [o for _, o in fields.values()], "itemsize": e + (26 if version == 2 else 22)})


def walk(buf, start: int, v: dict[str, np.ndarray]) -> Blocks:
    """Every event block from byte ``start`` (the first event block) to the end of ``buf``."""
    size = len(buf)
    if start & 3 or size & 3:
        raise Unsupported("unaligned blocks")
    words = np.frombuffer(buf, dtype="<u4", count=(size - start) // 4, offset=start)
    if not len(words):
        return _empty()
    first = int(words[0])
    if first not in _VERSION:
        raise Unsupported("the first block after the metadata is not an event")
    cand, blen = _candidates(words, first)
    on = _on_chain(words, cand, blen)
    kinds = [first]                 # (every candidate of the first scan has the first block's type)
    if on is None:
        cand, blen = _all_candidates(words)
        on = _on_chain(words, cand, blen)
        if on is None:
            raise Unsupported("metadata or damaged blocks between the events")
        kinds = None
    cand, blen = cand[on], blen[on]
    off = cand * 4 + start
    if kinds is None:
        btype = words[cand]
        # one block type is the rule: np.unique would sort every block
        kinds = [int(btype[0])] if (btype == btype[0]).all() else np.unique(btype).tolist()
    u16, u32, u64 = v["u16"], v["u32"], v["u64"]
    if len(kinds) == 1:
        # one block type (the rule): scalars instead of per-block version, flag and header arrays
        k = kinds[0]
        version = np.full(len(cand), _VERSION[k], dtype=np.uint8)
        has_flags = _HAS_FLAGS[k]
        evoff = off + (14 if has_flags else 10)
        hdr = 26 if _VERSION[k] == 2 else 22
        avail = blen - (4 + (14 if has_flags else 10))
        if (avail < hdr).any():
            raise Unsupported("an event block too short for its header")
        # every block holds its whole header now: one gather of the header bytes per block (not one
        # per field), read through a record view
        rec = _header_record(has_flags, _VERSION[k])
        whole = np.ndarray((size - rec.itemsize + 1,), dtype=np.dtype((np.void, rec.itemsize)),
                           buffer=v["u8"], strides=(1,))
        h = whole[off].view(rec)
        cpu, ts, tid, elen, etype = (h[f].copy() for f in ("cpu", "ts", "tid", "elen", "etype"))
        flags = h["flags"].copy() if has_flags else np.zeros(len(cand), dtype=np.uint32)
        nparams = h["nparams"].astype(np.int64) if _VERSION[k] == 2 else np.full(len(cand), -1, dtype=np.int64)
        del h
    else:
        btype = words[cand]
        version = np.empty(len(cand), dtype=np.uint8)
        has_flags = np.zeros(len(cand), dtype=bool)
        for k in kinds:
            m = btype == k
            version[m] = _VERSION[k]
            has_flags[m] = _HAS_FLAGS[k]
        evoff = off + np.where(has_flags, 14, 10)
        hdr = np.where(version == 2, 26, 22)
        avail = off + blen - 4 - evoff
        flags = np.where(has_flags, u32[np.minimum(off + 10, len(u32) - 1)], 0).astype(np.uint32)
        if (avail < hdr).any():
            raise Unsupported("an event block too short for its header")
        elen = u32[evoff + 16]
        cpu, ts, tid, etype = u16[off + 8], u64[evoff], u64[evoff + 8], u16[evoff + 20]
        nparams = np.full(len(cand), -1, dtype=np.int64)
        if (version == 2).any():
            m = version == 2
            nparams[m] = u32[evoff[m] + 22]
    if ((elen > avail) | (elen < hdr)).any():
        raise Unsupported("an event length does not fit its block")
    return Blocks(off=off, evoff=evoff, version=version, cpu=cpu, flags=flags,
                  ts=ts, tid=tid, elen=elen, etype=etype, nparams=nparams)


def _empty() -> Blocks:
    z = np.zeros(0, dtype=np.int64)
    return Blocks(z, z, z.astype(np.uint8), z.astype(np.uint16), z.astype(np.uint32), z.astype(np.uint64),
                  z.astype(np.uint64), z.astype(np.uint32), z.astype(np.uint16), z)
