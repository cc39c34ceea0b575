"""Bytes -> sections and events: file opening (plain or gzip), the block walk, event headers and
parameter framing. Nothing here knows about threads or rendering.

``ScapReader(path).items()`` yields, in file order, one ``Section`` (the metadata read before a
section's first event) followed by that section's ``Event`` objects, for each section in the file.
"""
from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from . import metadata as md
from .errors import CaptureTooLarge, CorruptBlock, NotACapture, ScapError, TruncatedCapture
from .eventtable import EF_LARGE_PAYLOAD, EventTable, head

BYTE_ORDER_MAGIC = 0x1A2B3C4D
GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_RATIO = 100
_BLOCK_HDR = struct.Struct("<II")
_SHB_BODY = struct.Struct("<IHHq")
_EV_HDR_V1 = struct.Struct("<QQIH")      # ts, tid, len, type
_EV_HDR_V2 = struct.Struct("<QQIHI")     # ts, tid, len, type, nparams
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
# notification and infrastructure events of old writers carry 3 bytes more than their params
_V1_LEN_QUIRK = frozenset({280, 286})


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

    Parameter values stay in the buffer; ``raw(i)`` returns a memoryview on demand.
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
        if i >= self.nparams:
            return None
        n = self.lens[i]
        if n == 0:
            return None
        o = self.poffs[i]
        return self.buf[o:o + n]

    def __repr__(self) -> str:
        return f"Event(type={self.type}, ts={self.ts}, tid={self.tid}, cpu={self.cpu}, nparams={self.nparams})"


def load_bytes(path: str, *, max_ratio: float = DEFAULT_MAX_RATIO) -> tuple[object, list[str], bool]:
    """The capture's (decompressed) bytes, warnings about them, and whether it was gzip.

    Plain files are memory-mapped; gzip files are inflated as a stream, bounded by ``max_ratio`` times
    the compressed size, and a stream cut short keeps what decoded.
    """
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except FileNotFoundError:
        raise NotACapture("no such file", path=path) from None
    except IsADirectoryError:
        raise NotACapture("is a directory", path=path) from None
    except OSError as e:
        raise NotACapture(e.strerror or str(e), path=path) from None
    with f:
        if size == 0:
            raise NotACapture("empty file (0 bytes): not a capture", path=path, offset=0)
        magic = f.read(2)
        f.seek(0)
        if magic != GZIP_MAGIC:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), [], False
        return (*_inflate(f, size, max_ratio, path), True)


def _inflate(f, size: int, max_ratio: float, path: str) -> tuple[bytes, list[str]]:
    limit = int(max(size, 1) * max_ratio)
    out = bytearray()
    warnings: list[str] = []
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            if not d.eof and (out or d.unconsumed_tail):
                warnings.append(f"gzip stream ends early after {len(out)} decompressed bytes")
            break
        try:
            while chunk:
                out += d.decompress(chunk, max(1, limit + 1 - len(out)))
                if len(out) > limit:
                    raise CaptureTooLarge(
                        f"gzip data inflates past {max_ratio:g}x its compressed size ({size} bytes); "
                        "raise the limit to read it", path=path, offset=len(out))
                chunk = d.unconsumed_tail
                if d.eof:
                    # concatenated gzip members
                    rest = d.unused_data
                    if not rest:
                        break
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    chunk = rest
        except zlib.error as e:
            warnings.append(f"gzip data corrupt after {len(out)} decompressed bytes ({e})")
            break
    return bytes(out), warnings


class ScapReader:
    """Walks the blocks of one capture. ``strict`` turns recoverable damage into errors."""

    def __init__(self, path: str, *, strict: bool = False, max_ratio: float = DEFAULT_MAX_RATIO,
                 table: EventTable | None = None):
        self.path = str(path)
        self.strict = strict
        self.table = table or head()
        self.buf, self.warnings, self.compressed = load_bytes(self.path, max_ratio=max_ratio)
        self.size = len(self.buf)
        self.mv = memoryview(self.buf)
        self.counts: Counter[str] = Counter()
        self.position = 0
        self._check_header()

    # -- errors and warnings -------------------------------------------------------------------
    def _warn(self, msg: str, offset: int | None = None) -> None:
        self.warnings.append(f"{self.path}: byte {offset}: {msg}" if offset is not None else f"{self.path}: {msg}")

    def _fail(self, exc: type[ScapError], msg: str, offset: int) -> ScapError:
        return exc(msg, path=self.path, offset=offset)

    def _check_header(self) -> None:
        if self.size < 12:
            raise self._fail(NotACapture, f"file too short for a capture ({self.size} bytes)", 0)
        btype, blen = _BLOCK_HDR.unpack_from(self.buf, 0)
        if btype != md.SHB:
            raise self._fail(NotACapture, f"not a scap capture (first block type 0x{btype:08x}, "
                             "expected the section header 0x0a0d0d0a)", 0)
        if self.size < 24:
            raise self._fail(TruncatedCapture, "file ends inside the section header", self.size)
        (magic,) = _U32.unpack_from(self.buf, 8)
        if magic == 0x4D3C2B1A:
            raise self._fail(NotACapture, "big-endian capture (byte order magic 0x4d3c2b1a) is not supported", 8)
        if magic != BYTE_ORDER_MAGIC:
            raise self._fail(NotACapture, f"bad byte order magic 0x{magic:08x} in the section header", 8)

    # -- the block walk ------------------------------------------------------------------------
    def items(self) -> Iterator[Section | Event]:
        """Sections and events in file order (see the module docstring)."""
        buf, size = self.buf, self.size
        pos = 0
        section: Section | None = None
        announced = False
        table_events = self.table.events
        nmax = len(table_events)
        hdr = _BLOCK_HDR.unpack_from
        while pos < size:
            self.position = pos
            if size - pos < 12:
                self._truncated(pos, "file ends inside a block header")
                break
            btype, blen = hdr(buf, pos)
            if blen < 12 or blen & 3:
                pos = self._corrupt(pos, f"block length {blen} is impossible")
                if pos < 0:
                    break
                continue
            if pos + blen > size:
                self._truncated(pos, f"block of {blen} bytes runs past the end of the file ({size - pos} left)")
                break
            (trailer,) = _U32.unpack_from(buf, pos + blen - 4)
            if trailer != blen:
                pos = self._corrupt(pos, f"block trailer {trailer} does not match its length {blen}")
                if pos < 0:
                    break
                continue
            evkind = md.EVENT_BLOCKS.get(btype)
            if evkind is not None:
                if section is None:
                    section = Section(offset=0)
                if not announced:
                    announced = True
                    yield section
                ev = self._event(pos, blen, evkind, nmax, table_events)
                if ev is not None:
                    yield ev
            elif btype == md.SHB:
                if section is not None and not announced:
                    yield section
                section = self._section_header(pos, blen)
                announced = False
            else:
                if section is None:
                    section = Section(offset=0)
                if announced:
                    # metadata after events: a merged file without a section header; start over
                    section = Section(offset=pos)
                    announced = False
                self._metadata(section, btype, pos, blen)
            pos += blen
        self.position = size if pos >= size else pos
        if section is not None and not announced:
            yield section

    def _truncated(self, pos: int, msg: str) -> None:
        self.counts["truncated"] += 1
        if self.strict:
            raise self._fail(TruncatedCapture, f"truncated capture: {msg}", pos)
        self._warn(f"truncated capture: {msg}; kept the events before it", pos)

    def _corrupt(self, pos: int, msg: str) -> int:
        """Strict: raise. Lenient: resynchronise at the next aligned block whose trailer agrees."""
        if self.strict:
            raise self._fail(CorruptBlock, msg, pos)
        nxt = self._resync(pos + 4)
        if nxt < 0:
            self._warn(f"{msg}; no valid block follows, stopped reading", pos)
            return -1
        self.counts["skipped_bytes"] += nxt - pos
        self._warn(f"{msg}; skipped {nxt - pos} bytes to the next valid block", pos)
        return nxt

    def _resync(self, start: int) -> int:
        buf, size = self.buf, self.size
        known = md.EVENT_BLOCKS.keys() | {md.SHB}
        pos = (start + 3) & ~3
        while pos + 12 <= size:
            btype, blen = _BLOCK_HDR.unpack_from(buf, pos)
            if btype in known and blen >= 12 and not blen & 3 and pos + blen <= size:
                if _U32.unpack_from(buf, pos + blen - 4)[0] == blen:
                    return pos
            pos += 4
        return -1

    def _section_header(self, pos: int, blen: int) -> Section:
        if blen < 28:
            raise self._fail(CorruptBlock, f"section header of {blen} bytes is too short", pos)
        magic, major, minor, _slen = _SHB_BODY.unpack_from(self.buf, pos + 8)
        if magic != BYTE_ORDER_MAGIC:
            raise self._fail(NotACapture, f"bad byte order magic 0x{magic:08x} in a section header", pos + 8)
        if major > 1:
            raise self._fail(NotACapture, f"unsupported capture version {major}.{minor}", pos + 12)
        sec = Section(offset=pos, version=(major, minor))
        # pcapng-style options after the fixed body: code, length, value padded to 4
        opt, end = pos + 24, pos + blen - 4
        while opt + 4 <= end:
            code, olen = struct.unpack_from("<HH", self.buf, opt)
            if code == 0 or opt + 4 + olen > end:
                break
            sec.options[code] = bytes(self.buf[opt + 4:opt + 4 + olen])
            opt += 4 + ((olen + 3) & ~3)
        return sec

    def _metadata(self, sec: Section, btype: int, pos: int, blen: int) -> None:
        body, end = pos + 8, pos + blen - 4
        try:
            if btype in md.MI:
                sec.machine = md.parse_machine_info(self.buf, body, end)
            elif btype in md.PL_VERSIONS:
                sec.threads.extend(md.parse_proclist(self.buf, body, end, md.PL_VERSIONS[btype]))
            elif btype in md.FDL_VERSIONS:
                tid, fds = md.parse_fdlist(self.buf, body, end, md.FDL_VERSIONS[btype])
                sec.fds.setdefault(tid, []).extend(fds)
            elif btype in md.UL_VERSIONS:
                users, groups = md.parse_userlist(self.buf, body, end, md.UL_VERSIONS[btype])
                sec.users.extend(users)
                sec.groups.extend(groups)
            elif btype in md.IL_VERSIONS:
                sec.interfaces.extend(md.parse_iflist(self.buf, body, end, md.IL_VERSIONS[btype]))
            else:
                self.counts["unknown_blocks"] += 1
        except CorruptBlock as e:
            e.path = self.path
            if self.strict:
                raise
            self.counts["corrupt_metadata"] += 1
            self._warn(f"{e.message} (block type 0x{btype:x} kept up to the damage)", e.offset)

    def _event(self, pos: int, blen: int, evkind: tuple[int, bool], nmax: int, table_events) -> Event | None:
        version, has_flags = evkind
        buf = self.buf
        end = pos + blen - 4
        (cpu,) = _U16.unpack_from(buf, pos + 8)
        flags = 0
        off = pos + 10
        if has_flags:
            (flags,) = _U32.unpack_from(buf, off)
            off += 4
        avail = end - off
        if version == 2:
            if avail < 26:
                return self._bad_event(pos, f"event block of {blen} bytes is too short for an event header")
            ts, tid, elen, etype, nparams = _EV_HDR_V2.unpack_from(buf, off)
            hdr_len = 26
        else:
            if avail < 22:
                return self._bad_event(pos, f"event block of {blen} bytes is too short for an event header")
            ts, tid, elen, etype = _EV_HDR_V1.unpack_from(buf, off)
            hdr_len = 22
            nparams = -1
        if elen > avail or elen < hdr_len:
            return self._bad_event(pos, f"event length {elen} does not fit its block ({avail} bytes)")
        if etype >= nmax:
            self.counts["unknown_events"] += 1
            return None
        info = table_events[etype]
        wide = info.flags & EF_LARGE_PAYLOAD
        width = 4 if wide else 2
        if nparams < 0:
            nparams = self._infer_nparams(off, elen - (3 if etype in _V1_LEN_QUIRK else 0), etype,
                                          len(info.params), width)
            if nparams < 0:
                return self._bad_event(pos, f"cannot infer the parameter count of a v1 event (type {etype})")
        lens_start = off + hdr_len
        data_start = lens_start + width * nparams
        if nparams > 64 or data_start > off + elen:
            return self._bad_event(pos, f"{nparams} parameter lengths do not fit the event ({elen} bytes)")
        lens = struct.unpack_from(f"<{nparams}{'I' if wide else 'H'}", buf, lens_start)
        total = sum(lens)
        if data_start + total > off + elen:
            if version == 1 and etype in _V1_LEN_QUIRK:
                pass
            else:
                return self._bad_event(pos, "parameter lengths run past the end of the event")
        poffs = tuple(accumulate(lens[:-1], initial=data_start)) if nparams else ()
        return Event(self.mv, pos, ts, tid, cpu, etype, flags, lens, poffs)

    def _infer_nparams(self, off: int, elen: int, etype: int, n0: int, width: int) -> int:
        """v1 headers have no nparams: the largest n whose lengths add up to the event length."""
        buf = self.buf
        for n in range(n0, -1, -1):
            if 22 + width * n > elen:
                continue
            lens = struct.unpack_from(f"<{n}{'I' if width == 4 else 'H'}", buf, off + 22)
            if 22 + width * n + sum(lens) == elen:
                return n
        return -1

    def _bad_event(self, pos: int, msg: str) -> None:
        self.counts["corrupt_events"] += 1
        if self.strict:
            raise self._fail(CorruptBlock, msg, pos)
        self._warn(f"{msg}; event skipped", pos)
        return None

    def close(self) -> None:
        self.mv.release()
        if isinstance(self.buf, mmap.mmap):
            self.buf.close()
