"""The reader against broken and hostile captures: headers, truncation at every byte, corrupt blocks and
resynchronisation, gzip streams, unknown types, metadata damage, and the bound on allocations."""
from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
from pathlib import Path

import pytest

from scapinspect.parsers import metadata as md
from scapinspect.parsers.errors import (
    CaptureTooLarge,
    CorruptBlock,
    NotACapture,
    ScapError,
    TruncatedCapture,
    printable,
)
from scapinspect.parsers.reader import Event, ScapReader, Section, load_bytes
from scapinspect.parsers.writer import ScapWriter, encode_event

SHB = struct.pack("<I", md.SHB)
EV_V2, EVF_V2, EV_V1, PL_V9, FDL_V2, UL_V2, IL_V2 = 0x216, 0x217, 0x204, 0x215, 0x218, 0x220, 0x219
TS0 = 1_700_000_000_000_000_000


# -- a tiny byte builder ----------------------------------------------------------------------------
def block(btype: int, body: bytes, *, length: int | None = None, trailer: int | None = None) -> bytes:
    """One block: header, body, zero padding, trailer. ``length``/``trailer`` override the true values."""
    pad = -len(body) & 3
    total = 12 + len(body) + pad
    return struct.pack("<II", btype, total if length is None else length) + body + bytes(pad) + \
        struct.pack("<I", total if trailer is None else trailer)


def shb(major: int = 1, minor: int = 2, magic: int = 0x1A2B3C4D) -> bytes:
    return block(md.SHB, struct.pack("<IHHq", magic, major, minor, -1))


def ev_v2(etype: int, params: list[bytes], *, tid: int = 7, ts: int = TS0, nparams: int | None = None,
          elen: int | None = None, lens: list[int] | None = None, flags: int | None = None) -> bytes:
    """An EV_V2 (EVF_V2 with ``flags``) block; the keyword overrides write impossible values."""
    lens = [len(p) for p in params] if lens is None else lens
    n = len(params) if nparams is None else nparams
    true_len = 26 + 2 * len(lens) + sum(len(p) for p in params)
    hdr = struct.pack("<QQIHI", ts, tid, true_len if elen is None else elen, etype, n)
    body = hdr + struct.pack(f"<{len(lens)}H", *lens) + b"".join(params)
    prefix = struct.pack("<H", 0) if flags is None else struct.pack("<HI", 0, flags)
    return block(EV_V2 if flags is None else EVF_V2, prefix + body)


def write_ev(fd: int, data: bytes, res: int | None = None) -> list[bytes]:
    return encode_event(9, res=len(data) if res is None else res, data=data, fd=fd, size=len(data))


def make_capture(n_events: int = 8, *, threads=(), comm: str = "cat") -> bytes:
    """A small valid capture: section header, metadata, then ``n_events`` write exit events."""
    out = io.BytesIO()
    with ScapWriter(out) as w:
        w.write_metadata(machine=md.MachineInfo(2, 1 << 30, 32768, "host"),
                         threads=list(threads) or [md.ThreadEntry(7, 7, 1, comm=comm, exe="/bin/cat", cwd="/")],
                         fds={7: [md.FdEntry(1, 0, md.FD_FILE_V2, name="/dev/null")]},
                         users=[md.UserEntry(0, 0, "root", "/root", "/bin/sh")])
        for i in range(n_events):
            w.write_event(TS0 + i, 7, i % 2, 9, write_ev(1, b"x" * (i * 7 % 23)))
    return out.getvalue()


def block_offsets(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, length, type) of each block of a well-formed capture."""
    out, pos = [], 0
    while pos < len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        out.append((pos, blen, btype))
        pos += blen
    return out


def write(tmp_path: Path, data: bytes, name: str = "c.scap") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def read_all(path: Path, **kw) -> tuple[list[Section | Event], ScapReader]:
    r = ScapReader(str(path), **kw)
    return list(r.items()), r


def events_of(items) -> list[tuple[int, int, int, tuple]]:
    return [(e.offset, e.ts, e.type, tuple(bytes(e.raw(i) or b"") for i in range(e.nparams)))
            for e in items if isinstance(e, Event)]


def read_strict_until_error(path: Path) -> tuple[list, ScapError | None]:
    got: list = []
    r = ScapReader(str(path), strict=True)
    try:
        for it in r.items():
            got.append(it)
    except ScapError as e:
        return got, e
    return got, None


# -- a good capture ----------------------------------------------------------------------------------
def test_clean_capture_has_no_warnings_or_damage_counts(tmp_path):
    items, r = read_all(write(tmp_path, make_capture()))
    assert isinstance(items[0], Section) and items[0].threads[0].comm == "cat"
    assert len(events_of(items)) == 8
    assert r.warnings == []
    assert not {"truncated", "corrupt_blocks", "skipped_bytes", "corrupt_events", "corrupt_metadata"} & set(r.counts)


def test_reader_is_a_context_manager_and_close_is_idempotent(tmp_path):
    with ScapReader(str(write(tmp_path, make_capture()))) as r:
        evs = [it for it in r.items() if isinstance(it, Event)]
        views = [e.raw(1) for e in evs]          # parameter views still held when the file closes
    r.close()
    assert len(views) == 8


# -- the first section header: damage here is fatal, in one printable line ----------------------------


def _header_cases():
    good = make_capture(2)
    sh = block_offsets(good)[0][1]
    be = bytearray(good)
    be[8:12] = bytes.fromhex("1a2b3c4d")
    bad_len = bytearray(good)
    struct.pack_into("<I", bad_len, 4, 0x7FFFFFFF)
    short_len = bytearray(good)
    struct.pack_into("<I", short_len, 4, 16)
    bad_trailer = bytearray(good)
    struct.pack_into("<I", bad_trailer, sh - 4, 99)
    huge_past_end = bytearray(good[:sh])
    struct.pack_into("<I", huge_past_end, 4, 1 << 24)
    return [
        ("empty", b"", NotACapture, 0, "empty file"),
        ("shb-prefix", SHB[:3], TruncatedCapture, 3, "inside the section header"),
        ("text", b"hello, world\n", NotACapture, 0, "not a scap capture"),
        ("png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(20), NotACapture, 0, "not a scap capture"),
        ("pcap", bytes.fromhex("d4c3b2a102000400") + bytes(16), NotACapture, 0, "not a scap capture"),
        ("big-endian", bytes(be), NotACapture, 8, "big-endian"),
        ("bad-magic", good[:8] + b"\0\0\0\0" + good[12:], NotACapture, 8, "byte order magic"),
        ("shb-cut", good[:20], TruncatedCapture, 20, "inside the section header"),
        ("shb-length-impossible", bytes(bad_len), CorruptBlock, 4, "corrupt section header"),
        ("shb-length-short", bytes(short_len), CorruptBlock, 4, "corrupt section header"),
        ("shb-length-huge", bytes(huge_past_end), CorruptBlock, 4, "corrupt section header"),
        ("shb-trailer", bytes(bad_trailer), CorruptBlock, sh - 4, "trailer"),
        ("version-2", shb(major=2) + good[sh:], NotACapture, 12, "unsupported capture version 2.2"),
    ]


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("name,data,exc,offset,words", _header_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_unreadable_header_is_one_fatal_error(tmp_path, name, data, exc, offset, words, strict):
    p = write(tmp_path, data)
    with pytest.raises(exc) as ei:
        list(ScapReader(str(p), strict=strict).items())
    e = ei.value
    assert e.offset == offset
    assert str(e) == f"{p}: byte {offset}: {e.message}"
    assert words in e.message and "\n" not in str(e)


def test_missing_file_and_directory(tmp_path):
    for p, words in ((tmp_path / "nope.scap", "no such file"), (tmp_path, "directory")):
        with pytest.raises(NotACapture) as ei:
            ScapReader(str(p))
        assert words in str(ei.value) and str(ei.value).startswith(f"{p}: byte 0: ")


def test_error_messages_escape_control_characters(tmp_path):
    p = tmp_path / "evil\x1b]0;pwned\x07\nname.scap"
    p.write_bytes(b"")
    with pytest.raises(NotACapture) as ei:
        ScapReader(str(p))
    text = str(ei.value)
    assert "\x1b" not in text and "\x07" not in text and "\n" not in text
    assert "\\x1b]0;pwned\\x07\\x0aname.scap" in text
    assert printable("caf\udce9 \u202e") == "caf\\xe9 \\u202e"


# -- truncation at every byte ------------------------------------------------------------------------
def test_truncation_at_every_byte_keeps_complete_events_and_warns_once(tmp_path):
    data = make_capture(6)
    blocks = block_offsets(data)
    full = events_of(read_all(write(tmp_path, data, "full.scap"))[0])
    p = tmp_path / "cut.scap"
    for cut in range(blocks[0][1] + 1, len(data)):
        p.write_bytes(data[:cut])
        items, r = read_all(p)
        complete = [e for e in full if any(o == e[0] and o + n <= cut for o, n, _ in blocks)]
        assert events_of(items) == complete, cut
        cut_block = next((o for o, n, _ in blocks if o < cut < o + n), None)
        if cut_block is None:                    # a cut between blocks is a shorter, clean capture
            assert r.warnings == [] and "truncated" not in r.counts, cut
            continue
        assert len(r.warnings) == 1 and r.counts["truncated"] == 1, (cut, r.warnings)
        assert f": byte {cut_block}: truncated capture" in r.warnings[0]
        got, err = read_strict_until_error(p)
        assert isinstance(err, TruncatedCapture) and err.offset == cut_block, cut
        assert events_of(got) == complete


def test_truncated_gzip_keeps_what_decoded(tmp_path):
    data = make_capture(40)
    z = gzip.compress(data, mtime=0)
    full = events_of(read_all(write(tmp_path, data, "full.scap"))[0])
    p = tmp_path / "cut.scap.gz"
    seen_some = False
    for cut in range(20, len(z), 7):
        p.write_bytes(z[:cut])
        try:
            items, r = read_all(p)
        except TruncatedCapture as e:            # not even the section header decoded: one fatal line
            assert e.offset <= 28 and "gzip stream ends early" in e.message
            continue
        got = events_of(items)
        assert got == full[:len(got)]
        assert len(r.warnings) == 1 and "gzip stream ends early" in r.warnings[0], r.warnings
        seen_some |= bool(got)
        with pytest.raises(TruncatedCapture):
            list(ScapReader(str(p), strict=True).items())
    assert seen_some


def test_gzip_members_padding_and_trailing_garbage(tmp_path):
    data = make_capture(5)
    z = gzip.compress(data, mtime=0)
    items, r = read_all(write(tmp_path, z + bytes(100)))
    assert len(events_of(items)) == 5 and r.warnings == []
    # two members: two sections (a merged capture)
    items, r = read_all(write(tmp_path, z + z))
    assert sum(isinstance(i, Section) for i in items) == 2 and len(events_of(items)) == 10
    items, r = read_all(write(tmp_path, z + b"trailing junk"))
    assert len(events_of(items)) == 5
    assert len(r.warnings) == 1 and "gzip data corrupt" in r.warnings[0]
    with pytest.raises(CorruptBlock):
        list(ScapReader(str(write(tmp_path, z + b"trailing junk")), strict=True).items())
    with pytest.raises(NotACapture):
        ScapReader(str(write(tmp_path, b"\x1f\x8b" + bytes(30))))


def test_gzip_bomb_is_bounded_and_the_bound_can_be_raised(tmp_path):
    data = make_capture(3)
    p = write(tmp_path, gzip.compress(data + bytes(4 << 20), mtime=0))
    with pytest.raises(CaptureTooLarge) as ei:
        ScapReader(str(p))
    assert "100x" in str(ei.value)
    with pytest.raises(CaptureTooLarge):
        load_bytes(str(p))
    r = ScapReader(str(p), max_ratio=2000)
    assert r.size == len(data) + (4 << 20)
    assert len([i for i in r.items() if isinstance(i, Event)]) == 3


# -- corrupt blocks: strict raises, lenient resyncs -----------------------------------------------
def _damage(data: bytes, fn) -> tuple[bytes, int, int]:
    """Apply ``fn(bytearray, offset, length)`` to the 4th event block; returns (data, offset, length)."""
    evs = [b for b in block_offsets(data) if b[2] == EV_V2]
    off, blen, _ = evs[3]
    d = bytearray(data)
    fn(d, off, blen)
    return bytes(d), off, blen


@pytest.mark.parametrize("what,fn", [
    ("trailer", lambda d, o, n: struct.pack_into("<I", d, o + n - 4, n + 4)),
    ("length-odd", lambda d, o, n: struct.pack_into("<I", d, o + 4, n + 1)),
    ("length-zero", lambda d, o, n: struct.pack_into("<I", d, o + 4, 0)),
    ("length-minus-4", lambda d, o, n: struct.pack_into("<I", d, o + 4, n - 4)),
    ("length-huge", lambda d, o, n: struct.pack_into("<I", d, o + 4, 0xFFFFFFF0)),
    ("length-past-end", lambda d, o, n: struct.pack_into("<I", d, o + 4, 1 << 20)),
])
def test_corrupt_block_resyncs_at_the_next_valid_block(tmp_path, what, fn):
    data = make_capture(8)
    full = events_of(read_all(write(tmp_path, data, "full.scap"))[0])
    bad, off, blen = _damage(data, fn)
    p = write(tmp_path, bad)
    items, r = read_all(p)
    assert events_of(items) == [e for e in full if e[0] != off]
    assert r.counts["corrupt_blocks"] == 1 and r.counts["skipped_bytes"] == blen
    assert len(r.warnings) == 1 and f"byte {off}: " in r.warnings[0] and f"skipped {blen} bytes" in r.warnings[0]
    got, err = read_strict_until_error(p)
    assert isinstance(err, CorruptBlock) and err.offset == off
    assert events_of(got) == [e for e in full if e[0] < off]


def test_junk_between_blocks_is_skipped(tmp_path):
    data = make_capture(4)
    cut = block_offsets(data)[-2][0]
    items, r = read_all(write(tmp_path, data[:cut] + b"JUNK" * 5 + data[cut:]))
    assert len(events_of(items)) == 4 and r.counts["skipped_bytes"] == 20


def test_no_valid_block_after_damage_stops_with_one_warning(tmp_path):
    data = make_capture(4)
    last = block_offsets(data)[-1][0]
    d = bytearray(data)
    struct.pack_into("<I", d, last + 4, 13)
    items, r = read_all(write(tmp_path, bytes(d)))
    assert len(events_of(items)) == 3
    assert len(r.warnings) == 1 and "no valid block follows" in r.warnings[0]


def test_damaged_section_header_later_in_the_file(tmp_path):
    data = make_capture(3)
    second = shb(magic=0xDEADBEEF)
    p = write(tmp_path, data + second + data[block_offsets(data)[-1][0]:])
    items, r = read_all(p)
    assert len(events_of(items)) == 4 and r.counts["corrupt_blocks"] == 1
    assert "byte order magic 0xdeadbeef" in r.warnings[0]
    with pytest.raises(CorruptBlock):
        list(ScapReader(str(p), strict=True).items())


# -- legal oddities: counted, never fatal ----------------------------------------------------------
def test_unknown_blocks_events_extra_and_empty_params_are_counted(tmp_path):
    data = make_capture(2)
    extra = ev_v2(9, [struct.pack("<q", 3), b"hi", struct.pack("<q", 1), struct.pack("<I", 2), b"new", b""])
    odd = (block(0x7777, b"future metadata")            # unknown block type
           + ev_v2(9999, [b"x"])                          # unknown event type
           + ev_v2(460, [])                               # unknown, just past the table
           + extra                                        # 6 params, the table has 4
           + ev_v2(9, [b"", b"", b"", b""]))              # zero-length params
    p = write(tmp_path, data + odd)
    items, r = read_all(p)
    evs = [e for e in items if isinstance(e, Event)]
    assert [e.nparams for e in evs[2:]] == [6, 4]
    assert bytes(evs[2].raw(4)) == b"new" and evs[2].raw(5) is None and evs[2].raw(9) is None
    assert all(evs[3].raw(i) is None for i in range(4)) and evs[3].raw(-1) is None
    assert r.counts["unknown_blocks"] == 1 and r.counts["unknown_events"] == 2
    assert r.counts["extra_params"] == 1 and r.counts["empty_params"] >= 5
    assert r.warnings == []
    assert len(list(ScapReader(str(p), strict=True).items())) == len(items)


@pytest.mark.parametrize("what,blk", [
    ("event-too-short", block(EV_V2, bytes(10))),
    ("evf-block-of-12-bytes", block(EVF_V2, b"")),
    ("event-length-past-block", ev_v2(9, [b"abc"], elen=500)),
    ("event-length-below-header", ev_v2(9, [b"abc"], elen=20)),
    ("too-many-params", ev_v2(9, [], nparams=0xFFFFFFFF)),
    ("lengths-past-event", ev_v2(9, [b"abcd"], lens=[60000])),
    ("v1-no-nparams-fits", block(EV_V1, struct.pack("<HQQIH", 0, TS0, 7, 30, 9) + struct.pack("<4H", 9, 9, 9, 9))),
])
def test_corrupt_events_are_skipped_leniently_and_fatal_in_strict(tmp_path, what, blk):
    data = make_capture(2)
    p = write(tmp_path, data + blk + ev_v2(9, [b"\x01" * 8, b"after", b"\x01" * 8, b"\x05\0\0\0"]))
    items, r = read_all(p)
    evs = events_of(items)
    assert len(evs) == 3 and evs[-1][3][1] == b"after"
    assert r.counts["corrupt_events"] == 1 and len(r.warnings) == 1 and "event skipped" in r.warnings[0]
    got, err = read_strict_until_error(p)
    assert isinstance(err, CorruptBlock) and err.offset == len(data)
    assert len(events_of(got)) == 2


# -- metadata damage -------------------------------------------------------------------------------
def _pl_body(*comms: str) -> bytes:
    out = io.BytesIO()
    w = ScapWriter(out)
    w.write_proclist([md.ThreadEntry(10 + i, 10 + i, 1, comm=c) for i, c in enumerate(comms)])
    w.close()
    blk = block_offsets(out.getvalue())[1]
    return out.getvalue()[blk[0] + 8:blk[0] + blk[1] - 4]


@pytest.mark.parametrize("what,fn", [
    ("entry-len-past-block", lambda b, second: struct.pack_into("<I", b, second, 0xFFFF)),
    ("entry-len-tiny", lambda b, second: struct.pack_into("<I", b, second, 3)),
    ("string-past-entry", lambda b, second: struct.pack_into("<H", b, second + 4 + 40, 900)),
    ("string-over-limit", lambda b, second: struct.pack_into("<H", b, second + 4 + 40, 5000)),
])
def test_damaged_process_list_keeps_the_entries_before_the_damage(tmp_path, what, fn):
    body = bytearray(_pl_body("one", "two", "three"))
    second = struct.unpack_from("<I", body, 0)[0]
    fn(body, second)
    data = make_capture(2)
    sh = block_offsets(data)[0][1]
    p = write(tmp_path, data[:sh] + block(PL_V9, bytes(body)) + data[sh:])
    items, r = read_all(p)
    assert [t.comm for t in items[0].threads][:1] == ["one"]
    assert "two" not in [t.comm for t in items[0].threads]
    assert r.counts["corrupt_metadata"] == 1 and len(r.warnings) == 1
    assert len(events_of(items)) == 2
    with pytest.raises(CorruptBlock):
        list(ScapReader(str(p), strict=True).items())


@pytest.mark.parametrize("btype,body", [
    (FDL_V2, struct.pack("<q", 7) + struct.pack("<I", 900) + bytes(20)),            # entry past block
    (FDL_V2, struct.pack("<q", 7) + struct.pack("<IqQB", 21, 3, 0, 1) + struct.pack("<H", 5000)),
    (0x203, struct.pack("<q", 7) + struct.pack("<qQB", 3, 0, 99) + bytes(8)),        # v1 unknown fd type
    (UL_V2, struct.pack("<IB", 4, 0)),                                                # entry too short
    (UL_V2, struct.pack("<IBII", 30, 0, 0, 0) + struct.pack("<H", 300) + bytes(17)),  # name over limit
    (0x206, struct.pack("<B", 7) + bytes(20)),                                        # v1 unknown kind
    (IL_V2, struct.pack("<I", 0xFFFFFF)),                                             # entry past block
    (0x205, struct.pack("<HH", 9, 0) + bytes(12)),                                    # v1 unknown type
    (0x201, bytes(40)),                                                               # machine info short
])
def test_damaged_metadata_blocks_warn_and_reading_goes_on(tmp_path, btype, body):
    data = make_capture(2)
    sh = block_offsets(data)[0][1]
    p = write(tmp_path, data[:sh] + block(btype, body) + data[sh:])
    items, r = read_all(p)
    assert r.counts["corrupt_metadata"] == 1 and len(r.warnings) == 1, r.warnings
    assert len(events_of(items)) == 2
    with pytest.raises(CorruptBlock) as ei:
        list(ScapReader(str(p), strict=True).items())
    assert str(ei.value).startswith(f"{p}: byte ")


def test_fd_and_user_entries_of_unknown_kinds_are_skipped_by_length(tmp_path):
    fdl = struct.pack("<q", 7) + struct.pack("<IqQB", 21, 9, 0, 77)
    ul = struct.pack("<IB", 9, 5) + bytes(4)
    data = make_capture(1)
    sh = block_offsets(data)[0][1]
    items, r = read_all(write(tmp_path, data[:sh] + block(FDL_V2, fdl) + block(UL_V2, ul) + data[sh:]))
    assert r.warnings == []
    fd = [f for f in items[0].fds[7] if f.fd == 9][0]
    assert (fd.type, fd.name) == (md.FD_UNSUPPORTED, "unknown-type:[77]")


# -- no allocation larger than the input ------------------------------------------------------------
def test_declared_lengths_never_drive_allocation(tmp_path):
    data = make_capture(2)
    sh = block_offsets(data)[0][1]
    evil = (block(PL_V9, struct.pack("<Iqqq", 0xFFFFFFF0, 1, 1, 1))
            + block(FDL_V2, struct.pack("<qI", 7, 0xFFFFFFFF))
            + block(0x203, struct.pack("<qqQB", 7, 1, 0, 1) + struct.pack("<H", 0xFFFF))
            + ev_v2(9, [], nparams=0x7FFFFFFF)
            + ev_v2(322, [], nparams=2, lens=[0xFFFF, 0xFFFF])
            + struct.pack("<II", EV_V2, 0xFFFFFFF0) + bytes(64))
    p = write(tmp_path, data[:sh] + evil + data[sh:])
    tracemalloc.start()
    try:
        items, r = read_all(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 512 * 1024, peak
    assert r.counts["corrupt_metadata"] == 3


@pytest.mark.parametrize("btype", [EVF_V2, EV_V2, EV_V1, 0x208])
def test_tiny_event_block_as_the_last_bytes_of_the_file(tmp_path, btype):
    """A 12-byte event block (no room for cpu or flags) ending exactly at EOF: skipped, no struct.error."""
    p = write(tmp_path, make_capture(2) + block(btype, b""))
    items, r = read_all(p)
    assert len(events_of(items)) == 2 and r.counts["corrupt_events"] == 1


def test_big_gzip_inflates_into_a_mapped_temporary_file(tmp_path, monkeypatch):
    """Past the spill limit the inflated bytes go to an unlinked temporary file that is mapped, so
    memory stays bounded; the events read are the same as from the plain file."""
    import mmap

    import pandas as pd

    from scapinspect.capture import Capture
    from scapinspect.parsers.reader import ScapReader
    src = Path(__file__).resolve().parents[1] / "sample_captures" / "curl_http.scap"
    gz = tmp_path / "curl_http.scap.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    monkeypatch.setenv("SCAPINSPECT_SPILL_MB", "0.01")
    r = ScapReader(str(gz))
    try:
        assert isinstance(r.buf, mmap.mmap) and r.compressed
        assert bytes(r.buf) == src.read_bytes()
    finally:
        r.close()
    pd.testing.assert_frame_equal(Capture(str(gz)).events, Capture(str(src)).events)
    monkeypatch.setenv("SCAPINSPECT_SPILL_MB", "1000")
    r = ScapReader(str(gz))
    assert isinstance(r.buf, bytearray)
    r.close()
