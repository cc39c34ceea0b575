"""Fuzz the reader, the state engine and the text renderer with mutated captures.

The mutation engine lives here and is shared with tests/test_fuzz.py: every mutation takes a
``random.Random`` (hypothesis hands one in during CI; this script seeds its own) and the seed captures,
and returns the damaged bytes plus the offset of the first damaged byte.

A case passes when (1) only ``ScapError`` subclasses escape, (2) it finishes inside the time limit and
(3) the lines printed for the events that end before the first damaged byte are exactly the lines the
undamaged capture prints for them.

Usage: python tools/fuzz_long.py [-n 100000] [--budget 1800] [--seed 1] [--captures DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
import gzip
import os
import random
import signal
import struct
import sys
import tempfile
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scapinspect.parsers import metadata as md  # noqa: E402
from scapinspect.parsers.errors import ScapError  # noqa: E402
from scapinspect.parsers.reader import Event, ScapReader, load_bytes  # noqa: E402
from scapinspect.render.events import EventStream, detect_compat, json_lines, profile, text_lines  # noqa: E402

_HDR = struct.Struct("<II")
_U32 = struct.Struct("<I")
# a seed longer than this is cut at a block boundary: cases stay fast and the damage lands early
SEED_BYTES = 96 * 1024
DEFAULT_CAPTURES = REPO.parent / "shared" / "captures"
INTERESTING_U32 = (0, 1, 4, 11, 12, 13, 16, 26, 28, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                   0xFFFFFFF0, 0xFFFFFFFC, 0xFFFFFFFF)


# -- seeds -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    offset: int
    length: int
    type: int

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass
class Seed:
    """One undamaged capture (decompressed), its blocks and what it prints."""
    name: str
    data: bytes
    mode: str
    blocks: list[Block] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)     # block end of each printed line's event
    json_lines: list[str] = field(default_factory=list)

    def lines_before(self, damage: int, as_json: bool = False) -> list[str]:
        """The lines (text or JSON) of the events that end at or before byte ``damage``."""
        k = 0
        for end in self.ends:
            if end > damage:
                break
            k += 1
        return (self.json_lines if as_json else self.lines)[:k]


def walk_blocks(data: bytes) -> list[Block]:
    out, pos = [], 0
    while pos + 12 <= len(data):
        btype, blen = _HDR.unpack_from(data, pos)
        if blen < 12 or pos + blen > len(data):
            break
        out.append(Block(pos, blen, btype))
        pos += blen
    return out


def load_seed(path: Path, workdir: Path, max_bytes: int = SEED_BYTES) -> Seed:
    buf, _w, _gz = load_bytes(str(path))
    data = bytes(buf)
    blocks = walk_blocks(data)
    if len(data) > max_bytes:
        keep = [b for b in blocks if b.end <= max_bytes]
        data = data[:keep[-1].end]
        blocks = keep
    mode = detect_compat(str(path))
    seed = Seed(path.stem, data, mode, blocks)
    res = run_case(data, mode, workdir / f"seed-{path.stem}.scap")
    if res.crash or res.error:
        raise RuntimeError(f"seed {path} does not read cleanly: {res.crash or res.error}")
    seed.lines, seed.ends = res.lines, res.ends
    seed.json_lines = run_case(data, mode, workdir / f"seed-{path.stem}.scap", as_json=True).lines
    return seed


def load_seeds(captures: Path, workdir: Path, max_bytes: int = SEED_BYTES) -> list[Seed]:
    return [load_seed(p, workdir, max_bytes) for p in sorted(captures.glob("*.scap"))]


# -- running one case ------------------------------------------------------------------------------
class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` in the code swallows it."""


@contextmanager
def time_limit(seconds: float):
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise CaseTimeout(f"case ran longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _Tap:
    """Passes a reader through to EventStream, remembering where the last event's block ended."""

    def __init__(self, reader: ScapReader):
        self.reader = reader
        self.last_end = 0

    def items(self):
        buf = self.reader.buf
        for it in self.reader.items():
            if isinstance(it, Event):
                self.last_end = it.offset + _U32.unpack_from(buf, it.offset + 4)[0]
            yield it

    def __getattr__(self, name):
        return getattr(self.reader, name)


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    error: ScapError | None = None       # the ScapError that ended the read, if any
    crash: str | None = None             # a traceback: anything else that escaped, or a timeout
    warnings: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def run_case(data: bytes, mode: str, path: Path, *, strict: bool = False, as_json: bool = False,
             timeout: float = 10.0) -> Result:
    """Write ``data`` (plain or gzip) to ``path`` and read it through reader + state + rendering."""
    path.write_bytes(data)
    res = Result()
    t0 = time.perf_counter()
    reader = None
    try:
        with time_limit(timeout):
            try:
                reader = ScapReader(str(path), strict=strict)
                tap = _Tap(reader)
                stream = EventStream(tap, profile(mode))
                for line in (json_lines(stream) if as_json else text_lines(stream)):
                    res.lines.append(line)
                    res.ends.append(tap.last_end)
            except ScapError as e:
                res.error = e
            finally:
                if reader is not None:
                    res.warnings = list(reader.warnings)
                    res.counts = Counter(reader.counts)
                    reader.close()
    except CaseTimeout:
        res.crash = traceback.format_exc()
    except Exception:  # noqa: BLE001 - anything but ScapError is a finding
        res.crash = traceback.format_exc()
    res.seconds = time.perf_counter() - t0
    return res


# -- mutations -------------------------------------------------------------------------------------
# each: (rng, seed, seeds) -> (damaged bytes, offset of the first damaged byte)
Mutation = Callable[[random.Random, Seed, Sequence[Seed]], tuple[bytes, int]]


def _first_diff(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n          # binary search on equal prefixes: a and b can be large
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    for i in range(lo, hi):
        if a[i] != b[i]:
            return i
    return hi


def _pick_block(rng: random.Random, seed: Seed, events_only: bool = False) -> Block:
    blocks = seed.blocks or [Block(0, len(seed.data), 0)]
    if events_only:
        evs = [b for b in blocks if b.type in md.EVENT_BLOCKS]
        blocks = evs or blocks
    # favour the early blocks sometimes: damage near the metadata matters most to the state
    if rng.random() < 0.3:
        return blocks[rng.randrange(min(len(blocks), 12))]
    return rng.choice(blocks)


def m_truncate_boundary(rng, seed, seeds):
    b = _pick_block(rng, seed)
    cut = b.offset if rng.random() < 0.5 else b.offset + rng.randrange(1, b.length)
    return seed.data[:cut], cut


def m_truncate_random(rng, seed, seeds):
    cut = rng.randrange(0, len(seed.data) + 1)
    return seed.data[:cut], cut


def m_bitflip(rng, seed, seeds):
    d = bytearray(seed.data)
    if not d:
        return bytes(d), 0
    for _ in range(rng.choice((1, 1, 1, 2, 4, 16))):
        i = rng.randrange(len(d))
        d[i] ^= 1 << rng.randrange(8)
    return bytes(d), _first_diff(seed.data, d)


def m_bytes(rng, seed, seeds):
    """Overwrite a short run inside one block with random or boundary bytes."""
    d = bytearray(seed.data)
    b = _pick_block(rng, seed)
    i = b.offset + rng.randrange(b.length)
    n = min(rng.choice((1, 2, 4, 8, 32)), len(d) - i)
    fill = rng.choice((b"\0", b"\xff", None))
    d[i:i + n] = fill * n if fill else rng.randbytes(n)
    return bytes(d), _first_diff(seed.data, d)


def _event_fields(data: bytes, b: Block) -> dict[str, tuple[int, str]] | None:
    """Offsets and struct codes of an event block's header fields and parameter lengths."""
    kind = md.EVENT_BLOCKS.get(b.type)
    if kind is None:
        return None
    version, has_flags = kind
    off = b.offset + 10 + (4 if has_flags else 0)
    if off + (26 if version == 2 else 22) > min(b.end - 4, len(data)):
        return None
    f = {"cpu": (b.offset + 8, "<H"), "ts": (off, "<Q"), "tid": (off + 8, "<Q"), "elen": (off + 16, "<I"),
         "type": (off + 20, "<H")}
    if has_flags:
        f["flags"] = (b.offset + 10, "<I")
    if version == 2:
        f["nparams"] = (off + 22, "<I")
        (n,) = struct.unpack_from("<I", data, off + 22)
        (etype,) = struct.unpack_from("<H", data, off + 20)
        width = 4 if etype in (322, 324, 402) else 2
        for k in range(min(n, 40)):
            o = off + 26 + width * k
            if o + width > b.end - 4:
                break
            f[f"len{k}"] = (o, "<I" if width == 4 else "<H")
    else:
        for k in range(8):
            o = off + 22 + 2 * k
            if o + 2 > b.end - 4:
                break
            f[f"len{k}"] = (o, "<H")
    return f


def _store(d: bytearray, off: int, code: str, value: int) -> None:
    size = struct.calcsize(code)
    struct.pack_into(code, d, off, value & ((1 << (8 * size)) - 1))


def m_lengths(rng, seed, seeds):
    """Rewrite one length: a block header or trailer, an event length, nparams, a param length, or an
    entry length inside a metadata block; to 0, huge, or off by one/four."""
    d = bytearray(seed.data)
    b = _pick_block(rng, seed)
    fields = {"blen": (b.offset + 4, "<I"), "trailer": (b.end - 4, "<I")}
    ev = _event_fields(seed.data, b)
    if ev:
        fields.update({k: v for k, v in ev.items() if k in ("elen", "nparams") or k.startswith("len")})
    elif b.length > 16:
        # metadata: entry lengths sit at the start of the body (PL v9, FDL/UL/IL v2) or after the tid
        for k, o in (("entry0", b.offset + 8), ("entry_fdl", b.offset + 16)):
            if o + 4 <= b.end - 4:
                fields[k] = (o, "<I")
        o = b.offset + 8 + rng.randrange(0, max(1, b.length - 14))
        fields["u16_any"] = (o, "<H")
    name = rng.choice(sorted(fields))
    off, code = fields[name]
    (orig,) = struct.unpack_from(code, d, off)
    choice = rng.random()
    if choice < 0.4:
        value = orig + rng.choice((-4, -3, -2, -1, 1, 2, 3, 4))
    elif choice < 0.8:
        value = rng.choice(INTERESTING_U32)
    else:
        value = rng.randrange(1 << (8 * struct.calcsize(code)))
    _store(d, off, code, value)
    return bytes(d), _first_diff(seed.data, d)


def m_event_fields(rng, seed, seeds):
    """Keep the framing, change what events say: their type, tid, flags or parameter bytes."""
    d = bytearray(seed.data)
    for _ in range(rng.choice((1, 1, 2, 4, 16))):
        b = _pick_block(rng, seed, events_only=True)
        ev = _event_fields(seed.data, b)
        if ev and b.length > 40:
            _change_event(rng, d, b, ev)
    return bytes(d), _first_diff(seed.data, d)


def _change_event(rng: random.Random, d: bytearray, b: Block, ev: dict[str, tuple[int, str]]) -> None:
    r = rng.random()
    if r < 0.35:
        off, code = ev["type"]
        _store(d, off, code, rng.choice((rng.randrange(460), rng.randrange(1 << 16), 0, 1, 335, 336, 453, 454)))
    elif r < 0.5:
        off, code = ev["tid"]
        _store(d, off, code, rng.choice((0, 1, (1 << 64) - 1, 1 << 63, rng.randrange(1 << 16))))
    elif r < 0.6 and "flags" in ev:
        off, code = ev["flags"]
        _store(d, off, code, rng.randrange(16))
    elif r < 0.8:
        # move bytes between two adjacent params: total length stays, widths become odd
        lens = sorted(k for k in ev if k.startswith("len"))
        if len(lens) >= 2:
            k = rng.randrange(len(lens) - 1)
            (o1, c1), (o2, c2) = ev[lens[k]], ev[lens[k + 1]]
            (a,), (bb,) = struct.unpack_from(c1, d, o1), struct.unpack_from(c2, d, o2)
            delta = rng.randint(-a, bb) if a + bb else 0
            _store(d, o1, c1, a + delta)
            _store(d, o2, c2, bb - delta)
    else:
        # scribble over the parameter values
        start = b.offset + 40
        if start < b.end - 4:
            i = rng.randrange(start, b.end - 4)
            n = min(rng.choice((1, 2, 8, 64)), b.end - 4 - i)
            d[i:i + n] = rng.choice((rng.randbytes(n), b"\x1b" * n, b"\xff" * n, b"\0" * n))


def m_duplicate(rng, seed, seeds):
    b = _pick_block(rng, seed)
    at = rng.choice([x for x in seed.blocks if x.offset >= b.offset] or [b]).end
    blk = seed.data[b.offset:b.end]
    d = seed.data[:at] + blk * rng.choice((1, 1, 2, 5)) + seed.data[at:]
    return d, _first_diff(seed.data, d)


def m_reorder(rng, seed, seeds):
    if len(seed.blocks) < 2:
        return m_bitflip(rng, seed, seeds)
    i, j = sorted(rng.sample(range(len(seed.blocks)), 2))
    parts = [seed.data[b.offset:b.end] for b in seed.blocks]
    if rng.random() < 0.5:
        parts[i], parts[j] = parts[j], parts[i]
    else:
        del parts[i]
    d = b"".join(parts) + seed.data[seed.blocks[-1].end:]
    return d, _first_diff(seed.data, d)


def m_splice(rng, seed, seeds):
    """A prefix of one capture followed by a suffix of another (at blocks or at random bytes)."""
    other = rng.choice(seeds)
    if rng.random() < 0.6:
        cut = rng.choice(seed.blocks).end
        start = rng.choice(other.blocks).offset
    else:
        cut = rng.randrange(len(seed.data))
        start = rng.randrange(len(other.data))
    d = seed.data[:cut] + other.data[start:]
    return d, _first_diff(seed.data, d)


def tiny_block(rng: random.Random) -> bytes:
    """A correctly framed block of a known (or unknown) type whose body is short or random."""
    known = sorted({md.SHB, *md.MI, *md.PL_VERSIONS, *md.FDL_VERSIONS, *md.IL_VERSIONS, *md.UL_VERSIONS,
                    *md.EVENT_BLOCKS})
    btype = rng.choice(known) if rng.random() < 0.9 else rng.randrange(1 << 32)
    body = rng.randbytes(rng.choice((0, 1, 2, 4, 8, 16, 22, 26, 30, 40, 100)))
    pad = -len(body) & 3
    total = 12 + len(body) + pad
    return _HDR.pack(btype, total) + body + bytes(pad) + _U32.pack(total)


def m_insert_junk(rng, seed, seeds):
    """Insert junk bytes, a block header alone, or small framed blocks, between or inside blocks."""
    b = _pick_block(rng, seed)
    r = rng.random()
    at = b.offset if r < 0.6 else len(seed.data) if r < 0.75 else rng.randrange(len(seed.data) + 1)
    junk = rng.choice((rng.randbytes(rng.randrange(1, 64)), b"\0" * 4 * rng.randrange(1, 8),
                       _HDR.pack(rng.choice(list(md.EVENT_BLOCKS)), rng.choice(INTERESTING_U32)),
                       tiny_block(rng), b"".join(tiny_block(rng) for _ in range(rng.randint(2, 6)))))
    d = seed.data[:at] + junk + seed.data[at:]
    return d, _first_diff(seed.data, d)


_BYTEWISE = ("bitflip", "truncate_random", "insert_junk")
_BLOCKWISE = ("truncate_boundary", "truncate_random", "bitflip", "bytes", "lengths", "event_fields", "duplicate",
              "reorder", "splice", "insert_junk")


def m_havoc(rng, seed, seeds):
    """Two to four of the other mutations, one after the other."""
    cur = seed
    for _ in range(rng.randint(2, 4)):
        names = _BLOCKWISE if cur.blocks else _BYTEWISE
        name = rng.choice(names)
        data, _ = MUTATIONS[name](rng, cur, seeds)
        if not data:
            break
        cur = Seed(seed.name, data, seed.mode, walk_blocks(data))
    return cur.data, _first_diff(seed.data, cur.data)


def m_synth(rng, seed, seeds):
    """A fresh capture of random events (every event type, values good and bad); no baseline."""
    return synthetic_capture(rng), 0


MUTATIONS: dict[str, Mutation] = {
    "truncate_boundary": m_truncate_boundary,
    "truncate_random": m_truncate_random,
    "bitflip": m_bitflip,
    "bytes": m_bytes,
    "lengths": m_lengths,
    "event_fields": m_event_fields,
    "duplicate": m_duplicate,
    "reorder": m_reorder,
    "splice": m_splice,
    "insert_junk": m_insert_junk,
    "havoc": m_havoc,
    "synth": m_synth,
}


# -- synthetic captures: every event type with values good and bad ---------------------------------
HOSTILE_STRINGS = (
    b"/etc/passwd", b"relative/path", b"../../..", b"", b"/", b".", b"\x1b]0;pwned\x07", b"\x1b[2J\x1b[H",
    b"\xff\xfe\xc3\x28 not utf-8", b"<NA>", b"(NULL)", b"a" * 300, "\u202e".encode(),
    "caf\u00e9/\u202egnp.exe".encode(), b"pipe:[123]", b"/proc/self/fd/3", b"\r\n\t\0mid-nul",
)
_INTS = (0, 1, 2, 3, 4, 5, 7, 10, -1, -2, -100, -115, 0x7FFFFFFF, -(1 << 31), (1 << 63) - 1, -(1 << 63))


def _random_int(rng: random.Random, width: int, signed: bool) -> bytes:
    v = rng.choice(_INTS) if rng.random() < 0.8 else rng.randrange(-(1 << 63), 1 << 63)
    bits = 8 * width
    v &= (1 << bits) - 1
    return v.to_bytes(width, "little")


def _random_sockaddr(rng: random.Random, tuple_: bool) -> bytes:
    fam = rng.choice((1, 2, 10, 10, 2, 0, 16, 255))
    ip4 = bytes(rng.choice(([127, 0, 0, 1], [0, 0, 0, 0], [10, 1, 2, 3], [255] * 4)))
    ip6 = rng.choice((bytes(15) + b"\1", bytes(10) + b"\xff\xff" + ip4, bytes(16), rng.randbytes(16)))
    port = rng.choice((0, 80, 443, 65535, 5555)).to_bytes(2, "little")
    if fam == 2:
        body = ip4 + port + (ip4 + port if tuple_ else b"")
    elif fam == 10:
        body = ip6 + port + (ip6 + port if tuple_ else b"")
    elif fam == 1:
        body = (rng.randbytes(16) if tuple_ else b"") + rng.choice(HOSTILE_STRINGS) + b"\0"
    else:
        body = rng.randbytes(rng.randrange(8))
    raw = bytes([fam]) + body
    return raw[:rng.randrange(len(raw) + 1)] if rng.random() < 0.15 else raw


def _random_param(rng: random.Random, ptype: int) -> bytes:
    from scapinspect.parsers import eventtable as et
    r = rng.random()
    if r < 0.08:
        return b""
    if r < 0.12:
        return rng.randbytes(rng.randrange(1, 24))
    width = et.FIXED_WIDTH.get(ptype)
    if width is not None and ptype not in (et.PT_IPV4ADDR, et.PT_IPV6ADDR, et.PT_DOUBLE):
        return _random_int(rng, width, ptype in et.SIGNED_TYPES)
    if ptype in (et.PT_CHARBUF, et.PT_FSPATH, et.PT_FSRELPATH):
        return rng.choice(HOSTILE_STRINGS) + (b"\0" if rng.random() < 0.9 else b"")
    if ptype in (et.PT_BYTEBUF, et.PT_CHARBUFARRAY, et.PT_CHARBUF_PAIR_ARRAY):
        return b"\0".join(rng.choice(HOSTILE_STRINGS) for _ in range(rng.randrange(4))) + b"\0"
    if ptype in (et.PT_SOCKADDR, et.PT_SOCKTUPLE):
        return _random_sockaddr(rng, ptype == et.PT_SOCKTUPLE)
    if ptype == et.PT_FDLIST:
        n = rng.randrange(4)
        body = b"".join(struct.pack("<qh", rng.choice(_INTS), rng.randrange(-5, 5)) for _ in range(n))
        return struct.pack("<H", rng.choice((n, n + 3, 0xFFFF))) + body
    if ptype == et.PT_DYN:
        return bytes([rng.randrange(6)]) + _random_param(rng, rng.choice((et.PT_INT64, et.PT_CHARBUF, et.PT_BYTEBUF)))
    if ptype in (et.PT_IPV4ADDR, et.PT_IPADDR, et.PT_IPV6ADDR, et.PT_IPNET, et.PT_IPV4NET, et.PT_IPV6NET):
        return rng.randbytes(rng.choice((4, 8, 16, 32, 5)))
    if ptype == et.PT_DOUBLE:
        return struct.pack("<d", rng.choice((0.0, -1.5, float("inf"), float("nan"), 1e308)))
    return rng.randbytes(rng.randrange(12))


def synthetic_capture(rng: random.Random, n_events: int = 300) -> bytes:
    """A capture of random events over a small, hostile process table, written by ScapWriter."""
    import io

    from scapinspect.parsers.eventtable import head
    from scapinspect.parsers.writer import ScapWriter
    table = head()
    tids = [1, 2, 3, 4, 100, 101, (1 << 64) - 1]
    threads = [md.ThreadEntry(t, t if t < 100 else 1, 0 if t == 1 else 1, comm=rng.choice(HOSTILE_STRINGS)[:200].decode("utf-8", "surrogateescape"),
                              exe="/bin/sh", args=["-c", "\x1b[2J"], cwd=rng.choice(("/", "/tmp/", "rel", "")),
                              flags=rng.randrange(1 << 31)) for t in tids[:6]]
    fds = {1: [md.FdEntry(0, 1, md.FD_FILE_V2, name="/dev/\x1b[2Jtty"),
               md.FdEntry(3, 2, md.FD_IPV4_SOCK, sip=b"\x7f\0\0\1", dip=b"\x7f\0\0\1", sport=80, dport=5555, l4proto=2),
               md.FdEntry(4, 3, md.FD_IPV6_SOCK, sip=bytes(16), dip=bytes(15) + b"\1", sport=1, dport=2, l4proto=3),
               md.FdEntry(5, 4, md.FD_UNIX_SOCK, source=1, dest=2, name="\x07sock"),
               md.FdEntry(6, 5, md.FD_IPV4_SERVSOCK, sip=bytes(4), sport=80, l4proto=2),
               md.FdEntry(7, 6, md.FD_FIFO, name="pipe:[1]"), md.FdEntry(8, 7, md.FD_DIRECTORY, name="/tmp")]}
    out = io.BytesIO()
    w = ScapWriter(out, comment=rng.choice(("", "\x1b]0;pwned\x07")))
    w.write_metadata(machine=md.MachineInfo(2, 1 << 30, 32768, "host\x1b[31m"), threads=threads, fds=fds,
                     users=[md.UserEntry(0, 0, "root\x1b[2J", "/root", "/bin/sh")],
                     groups=[md.GroupEntry(0, "wheel\x07")])
    hot = [e.id for e in table.events if e.name in (
        "clone", "fork", "vfork", "clone3", "execve", "execveat", "procexit", "open", "openat", "openat2",
        "creat", "socket", "bind", "connect", "accept", "accept4", "close", "read", "write", "recvfrom",
        "sendto", "recvmsg", "sendmsg", "dup", "dup2", "dup3", "fcntl", "pipe", "pipe2", "socketpair",
        "chdir", "fchdir", "close_range", "setuid", "setresuid", "setgid", "setsid", "memfd_create",
        "eventfd", "syscall", "signalfd", "setsockopt", "ptrace", "bpf")]
    ts = 1_700_000_000_000_000_000
    for _ in range(n_events):
        etype = rng.choice(hot) if rng.random() < 0.7 else rng.randrange(len(table.events))
        info = table.events[etype]
        params = [_random_param(rng, p.type) for p in info.params]
        if rng.random() < 0.1:
            params = params[:rng.randrange(len(params) + 1)]
        elif rng.random() < 0.05:
            params += [rng.randbytes(rng.randrange(9)) for _ in range(rng.randrange(1, 4))]
        ts += rng.choice((0, 1, 1000, 10**9))
        try:
            w.write_event(ts, rng.choice(tids), rng.randrange(4), etype, params,
                          flags=rng.choice((None, None, None, 0, 1)))
        except (ValueError, struct.error):
            continue
    w.close()
    return out.getvalue()


def gzip_case(rng: random.Random, data: bytes) -> tuple[bytes, int]:
    """``data`` gzip-compressed, and sometimes cut short: (gzip bytes, decompressed bytes still readable)."""
    z = gzip.compress(data, compresslevel=1, mtime=0)
    if rng.random() < 0.6:
        z = z[:rng.randrange(len(z))]
        try:
            kept = len(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(z))
        except zlib.error:
            kept = 0
        return z, kept
    return z, len(data)


# -- one fuzz case ---------------------------------------------------------------------------------
@dataclass
class Case:
    seed: Seed
    mutation: str
    data: bytes
    damage: int                 # offset of the first damaged byte (decompressed)
    mode: str = "0.29"
    strict: bool = False
    gz: bool = False
    as_json: bool = False


def make_case(rng: random.Random, seeds: Sequence[Seed], mutation: str | None = None) -> Case:
    seed = rng.choice(seeds)
    name = mutation or rng.choice(sorted(MUTATIONS))
    try:
        data, damage = MUTATIONS[name](rng, seed, seeds)
    except (ValueError, IndexError, struct.error):     # a mutation that does not apply here
        name = "bitflip"
        data, damage = m_bitflip(rng, seed, seeds)
    mode = rng.choice(("0.29", "0.41")) if name == "synth" else seed.mode
    case = Case(seed, name, data, damage, mode, strict=rng.random() < 0.15, as_json=rng.random() < 0.1)
    if rng.random() < 0.1:
        z, kept = gzip_case(rng, data)
        case.data, case.gz, case.damage = z, True, min(damage, kept)
    return case


def check_case(case: Case, path: Path, timeout: float = 10.0) -> tuple[Result, str | None]:
    """Run one case; the failure message, or None when every invariant held."""
    res = run_case(case.data, case.mode, path, strict=case.strict, as_json=case.as_json, timeout=timeout)
    if res.crash:
        return res, res.crash
    want = case.seed.lines_before(case.damage, case.as_json) if case.mutation != "synth" else []
    got = res.lines[:len(want)]
    if got != want:
        k = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        return res, (f"events before the first damaged byte {case.damage} changed: line {k} "
                     f"got {got[k] if k < len(got) else '<missing>'!r} want {want[k]!r}")
    return res, None


def save_failure(out: Path, n: int, case: Case, msg: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"fail-{n:06d}-{case.seed.name}-{case.mutation}{'-strict' if case.strict else ''}"
    p = out / (stem + (".scap.gz" if case.gz else ".scap"))
    p.write_bytes(case.data)
    (out / (stem + ".txt")).write_text(f"seed={case.seed.name} mode={case.mode} mutation={case.mutation} "
                                       f"damage={case.damage} strict={case.strict} json={case.as_json}\n{msg}\n")
    return p


def _signature(msg: str) -> str:
    """The last frame and the exception line: one crash found many times counts once."""
    lines = [x for x in msg.strip().splitlines() if x.strip()]
    frames = [x.strip() for x in lines if x.strip().startswith("File ")]
    return (frames[-1] if frames else "") + " | " + (lines[-1] if lines else "")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--cases", type=int, default=100_000, help="cases to run (default 100000)")
    ap.add_argument("--budget", type=float, default=3600.0, help="stop after this many seconds (default 3600)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-case time limit in seconds")
    ap.add_argument("--captures", type=Path, default=DEFAULT_CAPTURES, help="directory of seed .scap files")
    ap.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="where failing inputs are saved")
    ap.add_argument("--mutation", choices=sorted(MUTATIONS), help="only this mutation")
    args = ap.parse_args(argv)
    if not args.captures.is_dir():
        print(f"fuzz_long: no captures in {args.captures}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scapfuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        work = Path(tmp)
        seeds = load_seeds(args.captures, work)
        path = work / "case.scap"
        ran = failed = 0
        kinds: Counter[str] = Counter()
        sigs: dict[str, int] = {}
        slowest = 0.0
        errors: Counter[str] = Counter()
        while ran < args.cases and time.monotonic() - t0 < args.budget:
            case = make_case(rng, seeds, args.mutation)
            res, msg = check_case(case, path, args.timeout)
            ran += 1
            kinds[case.mutation] += 1
            slowest = max(slowest, res.seconds)
            if res.error is not None:
                errors[type(res.error).__name__] += 1
            if msg:
                failed += 1
                sig = _signature(msg)
                if sig not in sigs:
                    sigs[sig] = ran
                    saved = save_failure(args.out, ran, case, msg)
                    print(f"FAIL case {ran}: {case.seed.name}/{case.mutation}: {sig}\n  saved {saved}", flush=True)
            if ran % 5000 == 0:
                print(f"... {ran} cases, {failed} failures, {time.monotonic() - t0:.0f} s", flush=True)
    elapsed = time.monotonic() - t0
    print(f"cases run: {ran} in {elapsed:.0f} s ({ran / max(elapsed, 1e-9):.0f}/s), slowest case {slowest:.2f} s")
    print(f"by mutation: {dict(sorted(kinds.items()))}")
    print(f"ScapErrors (expected): {dict(errors)}")
    print(f"failures found: {failed} ({len(sigs)} distinct)")
    for sig, first in sigs.items():
        print(f"  first at case {first}: {sig}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
