"""Bytes -> sections and events: file opening (plain or gzip), the block walk, event headers and
parameter framing. Nothing here knows about threads or rendering.

``ScapReader(path).items()`` yields, in file order, one ``Section`` (the metadata read before a
section's first event) followed by that section's ``Event`` objects, for each section in the file.

Damage policy (scap-format.md §7). Every length is checked against its block before use, and nothing
is allocated from a length the file declares. A damaged first section header is fatal. After it:

* a file (or gzip stream) that ends inside a block keeps every complete block before the cut and adds
  one warning naming the byte offset; ``strict`` raises ``TruncatedCapture`` there instead;
* a block whose length or trailer is impossible is skipped up to the next 4-byte-aligned offset where
  a known block type's header and trailer agree (a warning gives the bytes skipped); ``strict`` raises
  ``CorruptBlock``;
* unknown block types, unknown event types, events with more parameters than the table, and
  zero-length parameters are legal: they are tallied in ``counts`` and never fail.
"""
from __future__ import annotations

import mmap
import os
import re
import stat
import struct
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from . import metadata as md
from .errors import CaptureTooLarge, CorruptBlock, NotACapture, ScapError, TruncatedCapture, printable
from .eventtable import EF_LARGE_PAYLOAD, EventTable, head

BYTE_ORDER_MAGIC = 0x1A2B3C4D
BYTE_ORDER_MAGIC_BE = 0x4D3C2B1A
GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_RATIO = 100


def default_max_ratio() -> float:
    """The gzip inflation bound: SCAPINSPECT_MAX_RATIO (set by `inspect --max-ratio`) or 100."""
    try:
        return float(os.environ.get("SCAPINSPECT_MAX_RATIO", DEFAULT_MAX_RATIO))
    except ValueError:
        return DEFAULT_MAX_RATIO
# at most this many parameters per event: libs' tables stop near 32, newer writers may add a few
MAX_EVENT_PARAMS = 64
# a section header longer than this that runs past the end of the file is corrupt, not cut short
_SHB_PLAUSIBLE = 1 << 20
_BLOCK_HDR = struct.Struct("<II")
_SHB_BODY = struct.Struct("<IHHq")       # byte order magic, major, minor, section length
_SHB_OPT = struct.Struct("<HH")          # option code, option length
_EV_HDR_V1 = struct.Struct("<QQIH")      # ts, tid, len, type
_EV_HDR_V2 = struct.Struct("<QQIHI")     # ts, tid, len, type, nparams
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
# notification and infrastructure events of old writers carry 3 bytes more than their params
_V1_LEN_QUIRK = frozenset({280, 286})
KNOWN_BLOCKS = frozenset({md.SHB, *md.MI, *md.PL_VERSIONS, *md.FDL_VERSIONS, *md.IL_VERSIONS,
                          *md.UL_VERSIONS, *md.EVENT_BLOCKS})
# resynchronisation candidates: any offset holding a known block type (overlapping matches)
_RESYNC = re.compile(b"(?=" + b"|".join(re.escape(_U32.pack(t)) for t in sorted(KNOWN_BLOCKS)) + b")")


@dataclass
class Section:
    """What a section's metadata blocks said about the machine when the capture started."""
    offset: int
    version: tuple[int, int] = (1, 0)
    options: dict[int, bytes] = field(default_factory=dict)
    machine: md.MachineInfo | None = None
    threads: list[md.ThreadEntry] = field(default_factory=list)
    fds: dict[int, list[md.FdEntry]] = field(default_factory=dict)
    users: list[md.UserEntry] = field(default_factory=list)
    groups: list[md.GroupEntry] = field(default_factory=list)
    interfaces: list[md.Interface] = field(default_factory=list)


class Event:
    """One event: header fields and the framing of its parameters inside the file buffer.

    Parameter values stay in the buffer; ``raw(i)`` returns a memoryview on demand. ``poffs`` holds
    the parameters' offsets (a sequence), or only the first one's (an int: the others are summed up on
    first use, which events that read their first parameter alone never pay for).
    """

    __slots__ = ("offset", "ts", "tid", "cpu", "type", "flags", "nparams", "lens", "poffs", "buf")

    def __init__(self, buf, offset, ts, tid, cpu, etype, flags, lens, poffs):
        self.buf = buf
        self.offset = offset
        self.ts = ts
        self.tid = tid
        self.cpu = cpu
        self.type = etype
        self.flags = flags
        self.lens = lens
        self.poffs = poffs
        self.nparams = len(lens)

    def raw(self, i: int) -> memoryview | None:
        """Bytes of parameter ``i``; None when the event has fewer params or the param is empty."""
        if i < 0 or i >= self.nparams:
            return None
        n = self.lens[i]
        if n == 0:
            return None
        o = self.poffs
        if type(o) is not int:
            o = o[i]
        elif i:
            o = self.offset_of(i)
        return self.buf[o:o + n]

    def offset_of(self, i: int) -> int:
        """Where parameter ``i`` (an index below ``nparams``) starts in the buffer."""
        o = self.poffs
        if type(o) is not int:
            return o[i]
        if i == 0:
            return o
        p = [o]     # (a loop beats accumulate for the few parameters of an event)
        for n in self.lens[:-1]:
            o += n
            p.append(o)
        self.poffs = p
        return p[i]

    def __repr__(self) -> str:
        return f"Event(type={self.type}, ts={self.ts}, tid={self.tid}, cpu={self.cpu}, nparams={self.nparams})"


# -- opening: plain files are mapped, gzip is inflated under a ratio bound ------------------------------
@dataclass
class _Loaded:
    buf: object
    compressed: bool
    # a gzip stream that stopped early: ("truncated" | "corrupt", what happened)
    gzip_damage: tuple[str, str] | None = None


def _open(path: str, max_ratio: float | None) -> _Loaded:
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise NotACapture("no such file", path=path, offset=0) from None
    except IsADirectoryError:
        raise NotACapture("is a directory, not a capture file", path=path, offset=0) from None
    except OSError as e:
        raise NotACapture(e.strerror or str(e), path=path, offset=0) from None
    with f:
        try:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise NotACapture("not a regular file (a pipe or a device?): give a capture file", path=path,
                                  offset=0)
            magic = f.read(2)
            f.seek(0)
        except OSError as e:    # an I/O error
            raise NotACapture(e.strerror or str(e), path=path, offset=0) from None
        size = st.st_size
        if size == 0 or not magic:
            raise NotACapture("empty file (0 bytes): not a capture", path=path, offset=0)
        if magic != GZIP_MAGIC:
            try:
                return _Loaded(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), False)
            except (OSError, ValueError) as e:
                raise NotACapture(f"cannot map the file: {e}", path=path, offset=0) from None
        out, damage = _inflate(f, size, max_ratio or default_max_ratio(), path)
    if not out:
        if damage is None:
            raise NotACapture("empty gzip stream: not a capture", path=path, offset=0)
        kind, what = damage
        exc = TruncatedCapture if kind == "truncated" else NotACapture
        raise exc(f"{what}; nothing could be read", path=path, offset=0)
    return _Loaded(out, True, damage)


def load_bytes(path: str, *, max_ratio: float | None = None) -> tuple[object, list[str], bool]:
    """The capture's (decompressed) bytes, warnings about them, and whether it was gzip.

    Plain files are memory-mapped; gzip files are inflated as a stream, bounded by ``max_ratio`` times
    the compressed size, and a stream cut short keeps what decoded (with a warning).
    """
    ld = _open(str(path), max_ratio)
    warnings = [printable(f"{path}: byte {len(ld.buf)}: {ld.gzip_damage[1]}")] if ld.gzip_damage else []
    return ld.buf, warnings, ld.compressed


SPILL_BYTES = 256 << 20     # inflated gzip past this goes to a temporary file, mapped like a plain capture


def _spill_limit() -> int:
    """SCAPINSPECT_SPILL_MB overrides SPILL_BYTES (MiB; for tests and small machines)."""
    v = os.environ.get("SCAPINSPECT_SPILL_MB")
    try:
        return max(0, int(float(v) * (1 << 20))) if v else SPILL_BYTES
    except ValueError:
        return SPILL_BYTES


class _Spill:
    """Where inflated bytes go: memory first, then (past the spill limit) an unlinked temporary file
    that is memory-mapped at the end, so a capture bigger than RAM can still be read."""

    def __init__(self) -> None:
        self.mem = bytearray()
        self.file = None
        self.size = 0
        self.limit = _spill_limit()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.file is None:
            self.mem += data
            if len(self.mem) > self.limit:
                self.file = tempfile.TemporaryFile(prefix="scapinspect-", suffix=".scap")
                self.file.write(self.mem)
                self.mem = bytearray()
        else:
            self.file.write(data)

    def result(self):
        if self.file is None:
            return self.mem
        with self.file:
            self.file.flush()
            return mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)


def _inflate(f, size: int, max_ratio: float, path: str) -> tuple[object, tuple[str, str] | None]:
    """Inflate every gzip member; returns the bytes (a bytearray, or a map of a temporary file for
    big captures) and what stopped the stream early, if anything.

    Output is bounded by ``max_ratio`` times the compressed size: a gzip bomb stops with CaptureTooLarge
    before it is allocated. Zero padding after a member is skipped, as gzip(1) does.
    """
    limit = int(max(size, 1) * max_ratio)
    out = _Spill()
    d = None
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            if d is not None and not d.eof:
                return out.result(), ("truncated", f"gzip stream ends early after {out.size} decompressed bytes")
            return out.result(), None
        while chunk:
            if d is None or d.eof:
                if d is not None:
                    chunk = chunk.lstrip(b"\0")
                    if not chunk:
                        break
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)     # the first, or a concatenated, member
            try:
                out.write(d.decompress(chunk, max(1, limit + 1 - out.size)))
            except zlib.error as e:
                return out.result(), ("corrupt", f"gzip data corrupt after {out.size} decompressed bytes ({e})")
            if out.size > limit:
                raise CaptureTooLarge(
                    f"gzip data inflates past {max_ratio:g}x its compressed size ({size} bytes); "
                    "raise the limit (inspect --max-ratio N) to read it", path=path, offset=limit)
            chunk = d.unused_data if d.eof else d.unconsumed_tail


# -- the reader ---------------------------------------------------------------------------------------
class ScapReader:
    """Walks the blocks of one capture. ``strict`` turns recoverable damage into errors.

    ``max_ratio`` bounds how far a gzip capture may inflate (default 100x its compressed size).
    After a walk, ``warnings`` holds one line per damage found and ``counts`` tallies: ``truncated``,
    ``corrupt_blocks``, ``skipped_bytes``, ``corrupt_metadata``, ``corrupt_events``, ``unknown_blocks``,
    ``unknown_events``, ``extra_params`` (events with more parameters than the table) and
    ``empty_params`` (zero-length parameters).
    """

    def __init__(self, path: str, *, strict: bool = False, max_ratio: float | None = None,
                 table: EventTable | None = None):
        self.path = str(path)
        self.strict = strict
        self.table = table or head()
        ld = _open(self.path, max_ratio)
        self.buf, self.compressed = ld.buf, ld.compressed
        # why a gzip stream stopped early; reported once per walk, at the block it cut
        self._gzip_stop = self._gzip_damage = ld.gzip_damage
        self.warnings: list[str] = []
        self.size = len(self.buf)
        self.mv = memoryview(self.buf)
        self.counts: Counter[str] = Counter()
        self.position = 0
        self._nparams_table = tuple(len(e.params) for e in self.table.events)
        try:
            self._shb_len = self._check_header()
        except ScapError:
            self.close()
            raise

    def __enter__(self) -> ScapReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- errors and warnings -------------------------------------------------------------------
    def _warn(self, msg: str, offset: int | None = None) -> None:
        where = f"{self.path}: byte {offset}" if offset is not None else self.path
        self.warnings.append(printable(f"{where}: {msg}"))

    def _fail(self, exc: type[ScapError], msg: str, offset: int) -> ScapError:
        return exc(msg, path=self.path, offset=offset)

    def _header_cut(self, msg: str) -> ScapError:
        if self._gzip_damage is not None:
            msg = f"{self._gzip_damage[1]}; {msg}"
        return self._fail(TruncatedCapture, msg, self.size)

    def _check_header(self) -> int:
        """Validate the first section header; the damage that makes a file unreadable is fatal here."""
        buf, size = self.buf, self.size
        shb = _U32.pack(md.SHB)
        if size < 4 and shb.startswith(bytes(buf[:size])):
            raise self._header_cut(f"file ends inside the section header ({size} bytes)")
        if size < 4 or bytes(buf[:4]) != shb:
            start = bytes(buf[:8]).hex(" ")
            raise self._fail(NotACapture, f"not a scap capture (it starts with {start}; a capture starts "
                             "with the section header 0a 0d 0d 0a)", 0)
        if size < 12:
            raise self._header_cut(f"file ends inside the section header ({size} bytes)")
        blen, magic = struct.unpack_from("<II", buf, 4)
        if magic == BYTE_ORDER_MAGIC_BE:
            raise self._fail(NotACapture, "big-endian capture (byte order magic 0x4d3c2b1a) is not supported", 8)
        if magic != BYTE_ORDER_MAGIC:
            raise self._fail(NotACapture, f"bad byte order magic 0x{magic:08x} in the section header", 8)
        if blen < 28 or blen & 3:
            raise self._fail(CorruptBlock, f"corrupt section header: length {blen} is impossible", 4)
        if blen > size:
            if blen > _SHB_PLAUSIBLE:
                raise self._fail(CorruptBlock, f"corrupt section header: length {blen} runs past the end "
                                 f"of the file ({size} bytes)", 4)
            raise self._header_cut(f"file ends inside the section header ({size} of {blen} bytes)")
        (trailer,) = _U32.unpack_from(buf, blen - 4)
        if trailer != blen:
            raise self._fail(CorruptBlock, f"corrupt section header: trailer {trailer} does not match its "
                             f"length {blen}", blen - 4)
        problem = self._shb_problem(0)
        if problem:
            raise self._fail(NotACapture, problem, 12)
        return blen

    # -- the block walk ------------------------------------------------------------------------
    def items(self) -> Iterator[Section | Event]:
        """Sections and events in file order (see the module docstring)."""
        buf, size = self.buf, self.size
        self.warnings = []
        self.counts = Counter()
        self._gzip_damage = self._gzip_stop
        section = self._section_header(0, self._shb_len)
        announced = False
        pos = self._shb_len
        table_events = self.table.events
        nmax = len(table_events)
        hdr = _BLOCK_HDR.unpack_from
        u32 = _U32.unpack_from
        event_blocks = md.EVENT_BLOCKS
        while pos < size:
            self.position = pos
            if size - pos < 12:
                self._damaged(pos, None, 0)
                break
            btype, blen = hdr(buf, pos)
            if blen < 12 or blen & 3 or blen > size - pos or u32(buf, pos + blen - 4)[0] != blen:
                nxt = self._damaged(pos, btype, blen)
                if nxt < 0:
                    break
                pos = nxt
                continue
            evkind = event_blocks.get(btype)
            if evkind is not None:
                if not announced:
                    announced = True
                    yield section
                ev = self._event(pos, blen, evkind, nmax, table_events)
                if ev is not None:
                    yield ev
            elif btype == md.SHB:
                problem = self._shb_problem(pos) if blen >= 28 else f"section header of {blen} bytes is too short"
                if problem:
                    self._skip_block(pos, blen, problem)
                else:
                    if not announced:
                        yield section
                    section = self._section_header(pos, blen)
                    announced = False
            else:
                if announced:
                    # metadata after events: a merged file without a section header; start over
                    section = Section(offset=pos)
                    announced = False
                self._metadata(section, btype, pos, blen)
            pos += blen
        self.position = min(pos, size)
        if not announced:
            yield section
        if pos >= size and self._gzip_damage is not None:
            self._stream_damage(size)

    def _damaged(self, pos: int, btype: int | None, blen: int) -> int:
        """A block that cannot be framed. Returns where to go on, or -1 to stop."""
        size = self.size
        if btype is None:
            return self._truncated(pos, f"file ends inside a block header ({size - pos} bytes left)")
        if blen < 12 or blen & 3:
            return self._corrupt(pos, f"block length {blen} is impossible")
        if blen > size - pos:
            # cut short, unless valid blocks follow: then the length itself is damaged
            if self._resync(pos + 4) < 0:
                return self._truncated(pos, f"block of {blen} bytes runs past the end of the "
                                       f"{'decompressed data' if self.compressed else 'file'} ({size - pos} left)")
            return self._corrupt(pos, f"block length {blen} runs past the end of the file but valid blocks follow")
        (trailer,) = _U32.unpack_from(self.buf, pos + blen - 4)
        return self._corrupt(pos, f"block trailer {trailer} does not match its length {blen}")

    def _truncated(self, pos: int, msg: str) -> int:
        if self._gzip_damage is not None:
            return self._stream_damage(pos, f"; {msg}")
        self.counts["truncated"] += 1
        if self.strict:
            raise self._fail(TruncatedCapture, f"truncated capture: {msg}", pos)
        self._warn(f"truncated capture: {msg}; kept the events before it", pos)
        return -1

    def _stream_damage(self, pos: int, detail: str = "") -> int:
        """The gzip stream stopped early: one warning (or error) for it and the block it cut."""
        kind, what = self._gzip_damage
        self._gzip_damage = None
        if kind == "truncated":
            self.counts["truncated"] += 1
            if self.strict:
                raise self._fail(TruncatedCapture, f"truncated capture: {what}{detail}", pos)
            self._warn(f"truncated capture: {what}{detail}; kept the events before it", pos)
        else:
            self.counts["corrupt_blocks"] += 1
            if self.strict:
                raise self._fail(CorruptBlock, f"{what}{detail}", pos)
            self._warn(f"{what}{detail}; kept the events before it", pos)
        return -1

    def _corrupt(self, pos: int, msg: str) -> int:
        """Strict: raise. Lenient: resynchronise at the next aligned block whose trailer agrees."""
        if self.strict:
            self.counts["corrupt_blocks"] += 1
            raise self._fail(CorruptBlock, msg, pos)
        nxt = self._resync(pos + 4)
        if nxt < 0:
            self.counts["skipped_bytes"] += self.size - pos
            if self._gzip_damage is not None:
                return self._stream_damage(pos, f"; {msg}")
            self.counts["corrupt_blocks"] += 1
            self._warn(f"{msg}; no valid block follows, stopped reading", pos)
            return -1
        self.counts["corrupt_blocks"] += 1
        self.counts["skipped_bytes"] += nxt - pos
        self._warn(f"{msg}; skipped {nxt - pos} bytes to the next valid block", pos)
        return nxt

    def _resync(self, start: int) -> int:
        """The next 4-byte-aligned offset at or after ``start`` where a known block is framed, or -1."""
        buf, size = self.buf, self.size
        for m in _RESYNC.finditer(buf, start):
            pos = m.start()
            if pos & 3:
                continue
            if pos + 12 > size:
                break
            blen = _U32.unpack_from(buf, pos + 4)[0]
            if blen >= 12 and not blen & 3 and blen <= size - pos and _U32.unpack_from(buf, pos + blen - 4)[0] == blen:
                return pos
        return -1

    def _skip_block(self, pos: int, blen: int, msg: str) -> None:
        """A block framed correctly whose content is unusable."""
        self.counts["corrupt_blocks"] += 1
        if self.strict:
            raise self._fail(CorruptBlock, msg, pos)
        self._warn(f"{msg}; block of {blen} bytes skipped", pos)

    def _shb_problem(self, pos: int) -> str | None:
        magic, major, minor, _slen = _SHB_BODY.unpack_from(self.buf, pos + 8)
        if magic != BYTE_ORDER_MAGIC:
            return f"bad byte order magic 0x{magic:08x} in a section header"
        if major > 1:
            return f"unsupported capture version {major}.{minor}"
        return None

    def _section_header(self, pos: int, blen: int) -> Section:
        _magic, major, minor, _slen = _SHB_BODY.unpack_from(self.buf, pos + 8)
        sec = Section(offset=pos, version=(major, minor))
        # pcapng-style options after the fixed body: code, length, value padded to 4
        opt, end = pos + 24, pos + blen - 4
        while opt + 4 <= end:
            code, olen = _SHB_OPT.unpack_from(self.buf, opt)
            if code == 0 or olen > end - opt - 4:
                break
            sec.options[code] = bytes(self.buf[opt + 4:opt + 4 + olen])
            opt += 4 + ((olen + 3) & ~3)
        return sec

    def _metadata(self, sec: Section, btype: int, pos: int, blen: int) -> None:
        try:
            parsed = md.parse_block(btype, self.buf, pos + 8, pos + blen - 4)
        except CorruptBlock as e:
            e.path = self.path
            if self.strict:
                raise
            self.counts["corrupt_metadata"] += 1
            if e.partial:
                md.merge_into(sec, *e.partial)
            self._warn(f"{e.message} (block type 0x{btype:x} at byte {pos}: kept the entries before it)",
                       e.offset)
            return
        if parsed is None:
            self.counts["unknown_blocks"] += 1
        else:
            md.merge_into(sec, *parsed)

    # -- events --------------------------------------------------------------------------------
    def _event(self, pos: int, blen: int, evkind: tuple[int, bool], nmax: int, table_events) -> Event | None:
        version, has_flags = evkind
        buf = self.buf
        off = pos + (14 if has_flags else 10)
        hdr_len = 26 if version == 2 else 22
        avail = pos + blen - 4 - off
        if avail < hdr_len:
            return self._bad_event(pos, f"event block of {blen} bytes is too short for an event header")
        (cpu,) = _U16.unpack_from(buf, pos + 8)
        flags = _U32.unpack_from(buf, pos + 10)[0] if has_flags else 0
        if version == 2:
            ts, tid, elen, etype, nparams = _EV_HDR_V2.unpack_from(buf, off)
        else:
            ts, tid, elen, etype = _EV_HDR_V1.unpack_from(buf, off)
            nparams = -1
        if elen > avail or elen < hdr_len:
            return self._bad_event(pos, f"event length {elen} does not fit its block ({avail} bytes)")
        if etype >= nmax:
            self.counts["unknown_events"] += 1
            return None
        wide = table_events[etype].flags & EF_LARGE_PAYLOAD
        width = 4 if wide else 2
        known = self._nparams_table[etype]
        if nparams < 0:
            nparams = self._infer_nparams(off, elen - (3 if etype in _V1_LEN_QUIRK else 0), known, width)
            if nparams < 0:
                return self._bad_event(pos, f"cannot infer the parameter count of a v1 event (type {etype})")
        lens_start = off + hdr_len
        data_start = lens_start + width * nparams
        if nparams > MAX_EVENT_PARAMS or data_start > off + elen:
            return self._bad_event(pos, f"{nparams} parameter lengths do not fit the event ({elen} bytes)")
        lens = struct.unpack_from(f"<{nparams}{'I' if wide else 'H'}", buf, lens_start)
        if data_start + sum(lens) > off + elen:
            return self._bad_event(pos, "parameter lengths run past the end of the event")
        if nparams > known:
            self.counts["extra_params"] += 1
        if 0 in lens:
            self.counts["empty_params"] += lens.count(0)
        poffs = tuple(accumulate(lens[:-1], initial=data_start)) if nparams else ()
        return Event(self.mv, pos, ts, tid, cpu, etype, flags, lens, poffs)

    def _infer_nparams(self, off: int, elen: int, n0: int, width: int) -> int:
        """v1 headers have no nparams: the largest n whose lengths add up to the event length."""
        n0 = min(n0, MAX_EVENT_PARAMS, (elen - 22) // width)
        if n0 < 0:
            return -1
        lens = struct.unpack_from(f"<{n0}{'I' if width == 4 else 'H'}", self.buf, off + 22)
        sums = (0, *accumulate(lens))
        for n in range(n0, -1, -1):
            if 22 + width * n + sums[n] == elen:
                return n
        return -1

    def _bad_event(self, pos: int, msg: str) -> None:
        self.counts["corrupt_events"] += 1
        if self.strict:
            raise self._fail(CorruptBlock, msg, pos)
        self._warn(f"{msg}; event skipped", pos)
        return None

    def close(self) -> None:
        """Release the file. Events still referenced keep the mapping alive until they go."""
        try:
            self.mv.release()
        except (BufferError, AttributeError):
            pass
        if isinstance(self.buf, mmap.mmap):
            try:
                self.buf.close()
            except BufferError:
                pass    # parameter views are still held elsewhere; the map closes with them
