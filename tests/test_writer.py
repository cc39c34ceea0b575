"""The scap writer: per-block round trips through ScapReader, parameter encodings checked against the spec
and against the bytes of real captures, hypothesis round trips, and read(write(read(X))) == read(X)."""
from __future__ import annotations

import gzip
import io
import ipaddress
import random
import struct
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scapinspect.parsers import eventtable as et
from scapinspect.parsers import metadata as md
from scapinspect.parsers.reader import ScapReader, Section
from scapinspect.parsers.writer import (
    BT_EV_V2,
    BT_EV_V2_LARGE,
    BT_EVF_V2,
    ScapWriter,
    copy_items,
    encode_event,
    encode_param,
)

CAPTURES = Path(__file__).parents[1].parent / "shared/captures"
TABLE = et.head()


# -- helpers -----------------------------------------------------------------------------------------
def read_all(path) -> tuple[list[Section], list[tuple]]:
    """Sections and (ts, tid, cpu, type, flags, params) of every event; params as bytes (b"" = empty)."""
    r = ScapReader(str(path), strict=True)
    sections, events = [], []
    for it in r.items():
        if isinstance(it, Section):
            sections.append(it)
        else:
            params = tuple(bytes(it.raw(i) or b"") for i in range(it.nparams))
            events.append((it.ts, it.tid, it.cpu, it.type, it.flags, params))
    assert not r.warnings
    return sections, events


def meta(sec: Section) -> tuple:
    return (sec.version, sec.options, sec.machine, sec.threads, sec.fds, sec.users, sec.groups, sec.interfaces)


def block_types(data: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        assert blen % 4 == 0 and struct.unpack_from("<I", data, pos + blen - 4)[0] == blen
        out.append(btype)
        pos += blen
    return out


def write_read(tmp_path, build, **kw) -> tuple[list[Section], list[tuple]]:
    path = tmp_path / "w.scap"
    with ScapWriter(path, **kw) as w:
        build(w)
    return read_all(path)


def one_event(w: ScapWriter) -> None:
    w.write_event(1, 2, 0, 4, [encode_param(et.PT_FD, 3)])


# -- section header ----------------------------------------------------------------------------------
def test_bare_section_header_is_28_bytes(tmp_path):
    path = tmp_path / "a.scap"
    ScapWriter(path).close()
    data = path.read_bytes()
    assert len(data) == 28
    assert struct.unpack("<IIIHHqI", data) == (0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 2, -1, 28)


def test_comment_goes_in_shb_option_1(tmp_path):
    path = tmp_path / "c.scap"
    with ScapWriter(path, comment="made by tests") as w:
        one_event(w)
    data = path.read_bytes()
    (blen,) = struct.unpack_from("<I", data, 4)
    # 24 fixed bytes, option header, "made by tests" (13) padded to 16, end-of-options, trailer
    assert blen == 24 + 4 + 16 + 4 + 4
    assert data[24:28] == struct.pack("<HH", 1, 13) and data[28:41] == b"made by tests"
    secs, evs = read_all(path)
    assert secs[0].options == {1: b"made by tests"} and len(evs) == 1


def test_gzip_and_file_object_targets(tmp_path):
    buf = io.BytesIO()
    with ScapWriter(buf, compress=True) as w:
        one_event(w)
    assert buf.getvalue()[:2] == b"\x1f\x8b"
    path = tmp_path / "g.scap"
    path.write_bytes(buf.getvalue())
    assert read_all(path)[1] == [(1, 2, 0, 4, 0, (struct.pack("<q", 3),))]
    plain = gzip.decompress(buf.getvalue())
    assert block_types(plain) == [md.SHB, BT_EV_V2]


def test_gzip_output_is_reproducible():
    outs = []
    for _ in range(2):
        buf = io.BytesIO()
        with ScapWriter(buf, compress=True) as w:
            one_event(w)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]


def test_second_section_header_starts_a_new_section(tmp_path):
    def build(w):
        w.write_machine_info(md.MachineInfo(2, 1 << 30, 4096, "first"))
        one_event(w)
        w.write_section_header(comment="second", version=(1, 1))
        w.write_machine_info(md.MachineInfo(4, 1 << 31, 4096, "second"))
        one_event(w)
    secs, evs = write_read(tmp_path, build)
    assert [s.machine.hostname for s in secs] == ["first", "second"]
    assert secs[1].version == (1, 1) and secs[1].options == {1: b"second"} and len(evs) == 2


# -- metadata blocks ---------------------------------------------------------------------------------
MACHINE = md.MachineInfo(8, 16 << 30, 4194304, "build-host.example", 1700000000 * 10**9, 0)
THREADS = [
    md.ThreadEntry(1, 1, 0, "systemd", "/sbin/init", "/usr/lib/systemd/systemd", ["splash"], "/", 524288,
                   0, 0, 0, 10000, 5000, 0, 12, 3400, ["HOME=/", "TERM=linux"], 1, 1, ["cpu=/"], "/", 0, 0,
                   0, 0, 0xFFFFFFFF, 0),
    md.ThreadEntry(4242, 4242, 1, "bash", "-bash", "/usr/bin/bash", [], "/home/alice", 1024, 0x2, 1000,
                   1000, 900, 300, 0, 1, 2, [], 4242, 4242, [], "/", 4242, 4242, 4242, 34816, 1000,
                   1699999999 * 10**9),
]
FDS = {
    4242: [
        md.FdEntry(0, 5, md.FD_FILE_V2, name="/dev/pts/0", open_flags=2, dev=0x88),
        md.FdEntry(3, 77, md.FD_IPV4_SOCK, sip=b"\x7f\0\0\x01", dip=b"\x0a\0\0\x05", sport=40000,
                   dport=80, l4proto=md.L4_TCP),
        md.FdEntry(4, 78, md.FD_IPV4_SERVSOCK, sip=b"\0\0\0\0", sport=8080, l4proto=md.L4_TCP),
        md.FdEntry(5, 79, md.FD_IPV6_SOCK, sip=bytes(15) + b"\1", dip=bytes(15) + b"\1", sport=1,
                   dport=2, l4proto=md.L4_UDP),
        md.FdEntry(6, 80, md.FD_IPV6_SERVSOCK, sip=bytes(16), sport=443, l4proto=md.L4_TCP),
        md.FdEntry(7, 81, md.FD_UNIX_SOCK, source=0xFFFF8880DEAD0000, dest=0xFFFF8880BEEF0000,
                   name="/run/systemd/journal/stdout"),
        md.FdEntry(8, 82, md.FD_FIFO, name="pipe:[82]"),
        md.FdEntry(9, 0, md.FD_EVENTPOLL, name="anon_inode:[eventpoll]"),
        md.FdEntry(10, 0, md.FD_MEMFD, name="memfd:x"),
    ],
    1: [],
}
USERS = [md.UserEntry(0, 0, "root", "/root", "/bin/bash"), md.UserEntry(1000, 1000, "alice", "/home/alice",
                                                                         "/usr/bin/zsh")]
GROUPS = [md.GroupEntry(0, "root"), md.GroupEntry(27, "sudo")]
IFACES = [md.Interface(4, "lo", b"\x7f\0\0\x01", b"\xff\0\0\0"),
          md.Interface(6, "eth0", bytes.fromhex("fe80" + "00" * 12 + "0001"), b"\xff" * 8 + bytes(8))]


def test_machine_info_block_is_192_bytes(tmp_path):
    path = tmp_path / "mi.scap"
    with ScapWriter(path) as w:
        w.write_machine_info(MACHINE)
        one_event(w)
    data = path.read_bytes()
    assert struct.unpack_from("<II", data, 28) == (0x201, 192)
    assert read_all(path)[0][0].machine == MACHINE


@pytest.mark.parametrize("legacy", [False, True])
def test_proclist_round_trip(tmp_path, legacy):
    secs, _ = write_read(tmp_path, lambda w: (w.write_proclist(THREADS, legacy_tail=legacy), one_event(w)))
    got = secs[0].threads
    if not legacy:
        assert got == THREADS
    else:
        # sysdig 0.29's layout has no pidns_init_start_ts, tty or pgid: they read back as defaults
        for t, g in zip(THREADS, got, strict=True):
            assert (g.pidns_init_start_ts, g.tty, g.pgid, g.loginuid) == (0, 0, -1, t.loginuid)
            assert (g.tid, g.comm, g.args, g.env, g.cgroups, g.root, g.vpgid) == (
                t.tid, t.comm, t.args, t.env, t.cgroups, t.root, t.vpgid)


def test_proclist_entry_lengths_count_themselves(tmp_path):
    path = tmp_path / "pl.scap"
    with ScapWriter(path) as w:
        w.write_proclist(THREADS[:1])
    data = path.read_bytes()
    btype, blen = struct.unpack_from("<II", data, 28)
    (entry_len,) = struct.unpack_from("<I", data, 36)
    assert btype == 0x215 and 12 + entry_len + (-entry_len & 3) == blen


def test_fdlist_round_trip_every_layout(tmp_path):
    secs, _ = write_read(tmp_path, lambda w: ([w.write_fdlist(t, f) for t, f in FDS.items()], one_event(w)))
    assert secs[0].fds == FDS


def test_users_groups_interfaces_round_trip(tmp_path):
    def build(w):
        w.write_userlist(USERS, GROUPS)
        w.write_iflist(IFACES)
        one_event(w)
    sec = write_read(tmp_path, build)[0][0]
    assert (sec.users, sec.groups, sec.interfaces) == (USERS, GROUPS, IFACES)


def test_write_metadata_uses_libscap_block_order(tmp_path):
    path = tmp_path / "m.scap"
    with ScapWriter(path) as w:
        w.write_metadata(machine=MACHINE, interfaces=IFACES, users=USERS, groups=GROUPS, threads=THREADS,
                         fds=FDS)
        one_event(w)
    assert block_types(path.read_bytes()) == [md.SHB, 0x201, 0x219, 0x220, 0x215, 0x218, 0x218, BT_EV_V2]
    sec = read_all(path)[0][0]
    assert (sec.machine, sec.threads, sec.fds, sec.users, sec.groups, sec.interfaces) == (
        MACHINE, THREADS, FDS, USERS, GROUPS, IFACES)


def test_metadata_limits_are_enforced():
    with pytest.raises(ValueError):
        ScapWriter(io.BytesIO()).write_proclist([md.ThreadEntry(1, 1, 0, comm="x" * 1025)])
    with pytest.raises(ValueError):
        ScapWriter(io.BytesIO()).write_fdlist(1, [md.FdEntry(3, 0, md.FD_IPV4_SOCK, sip=b"\1", dip=b"")])
    with pytest.raises(ValueError):
        ScapWriter(io.BytesIO()).write_fdlist(1, [md.FdEntry(3, 0, 99)])


# -- events --------------------------------------------------------------------------------------------
def test_event_block_layout_and_padding(tmp_path):
    params = encode_event(3, fd=3, name="/etc/hosts", flags=1, mode=0, dev=0x803, ino=1234)
    path = tmp_path / "e.scap"
    with ScapWriter(path) as w:
        w.write_event(10**18, 77, 3, 3, params)
    data = path.read_bytes()[28:]
    elen = 26 + 2 * 6 + 8 + 11 + 4 + 4 + 4 + 8
    assert struct.unpack_from("<IIHQQIHI", data) == (BT_EV_V2, (8 + 2 + elen + 4 + 3) & ~3, 3, 10**18, 77,
                                                        elen, 3, 6)
    assert read_all(path)[1] == [(10**18, 77, 3, 3, 0, tuple(params))]


def test_flags_word_makes_an_evf_block(tmp_path):
    path = tmp_path / "f.scap"
    with ScapWriter(path) as w:
        w.write_event(5, 6, 1, 5, [encode_param(et.PT_ERRNO, 0), encode_param(et.PT_FD, 3)], flags=1)
    assert block_types(path.read_bytes()) == [md.SHB, BT_EVF_V2]
    assert read_all(path)[1] == [(5, 6, 1, 5, 1, (bytes(8), struct.pack("<q", 3)))]


def test_empty_and_none_params_are_zero_length(tmp_path):
    path = tmp_path / "n.scap"
    with ScapWriter(path) as w:
        w.write_event(1, 1, 0, 7, [None, b"", encode_param(et.PT_FD, 0)])
    ev = ScapReader(str(path)).items()
    next(ev)
    e = next(ev)
    assert e.lens == (0, 0, 8) and e.raw(0) is None and e.raw(1) is None


def test_large_payload_types_use_u32_lengths(tmp_path):
    big = random.Random(1).randbytes(70_000)
    assert TABLE.events[322].flags & et.EF_LARGE_PAYLOAD
    path = tmp_path / "l.scap"
    with ScapWriter(path) as w:
        w.write_event(1, 1, 0, 322, [encode_param(et.PT_UINT32, 999), big])
        with pytest.raises(ValueError):
            w.write_event(1, 1, 0, 7, [b"", big])
    data = path.read_bytes()
    assert block_types(data) == [md.SHB, BT_EV_V2_LARGE]
    assert struct.unpack_from("<II", data, 28 + 10 + 26) == (4, 70_000)
    assert read_all(path)[1][0][5] == (struct.pack("<I", 999), big)


def test_block_over_64k_becomes_large(tmp_path):
    half = bytes(range(256)) * 128  # 32 KiB each: two of them overflow the 64 KiB read buffer
    path = tmp_path / "b.scap"
    with ScapWriter(path) as w:
        w.write_event(1, 1, 0, 9, [b"\0" * 8, half + half[:1000]])
        w.write_event(2, 1, 0, 9, [b"\0" * 8, half + half[:30000], half])
    assert block_types(path.read_bytes()) == [md.SHB, BT_EV_V2, BT_EV_V2_LARGE]
    assert [e[5][1:] for e in read_all(path)[1]] == [(half + half[:1000],), (half + half[:30000], half)]


# -- parameter encodings (scap-format.md §4) -----------------------------------------------------------
@pytest.mark.parametrize("ptype,value,expected", [
    (et.PT_INT8, -2, b"\xfe"), (et.PT_INT16, -2, b"\xfe\xff"), (et.PT_UINT32, 7, b"\7\0\0\0"),
    (et.PT_ERRNO, -111, struct.pack("<q", -111)), (et.PT_FD, -100, struct.pack("<q", -100)),
    (et.PT_PID, 4242, struct.pack("<q", 4242)), (et.PT_FD32, -1, b"\xff" * 4), (et.PT_PID32, 1, b"\1\0\0\0"),
    (et.PT_CHARBUF, "ls", b"ls\0"), (et.PT_FSPATH, b"/tmp/\xff", b"/tmp/\xff\0"), (et.PT_FSRELPATH, "a", b"a\0"),
    (et.PT_BYTEBUF, b"\0\1", b"\0\1"), (et.PT_BYTEBUF, ["-l", "/tmp"], b"-l\0/tmp\0"),
    (et.PT_SOCKADDR, ("10.0.0.1", 80), b"\2\x0a\0\0\1\x50\0"),
    (et.PT_SOCKADDR, ("::1", 443), b"\x0a" + bytes(15) + b"\1" + b"\xbb\1"),
    (et.PT_SOCKADDR, "/run/x.sock", b"\1/run/x.sock\0"), (et.PT_SOCKADDR, 0, b"\0"),
    (et.PT_SOCKTUPLE, (("127.0.0.1", 40000), ("127.0.0.53", 53)),
     b"\2\x7f\0\0\1" + struct.pack("<H", 40000) + b"\x7f\0\0\x35" + struct.pack("<H", 53)),
    (et.PT_SOCKTUPLE, (("::1", 1), ("::2", 2)), b"\x0a" + bytes(15) + b"\1\1\0" + bytes(15) + b"\2\2\0"),
    (et.PT_SOCKTUPLE, (1, 2, "/dev/log"), b"\1" + struct.pack("<QQ", 1, 2) + b"/dev/log\0"),
    (et.PT_FDLIST, [(0, 1), (5, 4)], struct.pack("<Hqhqh", 2, 0, 1, 5, 4)),
    (et.PT_SYSCALLID, 69, b"\x45\0"), (et.PT_SIGTYPE, 17, b"\x11"), (et.PT_RELTIME, 5, struct.pack("<Q", 5)),
    (et.PT_ABSTIME, 2**63, struct.pack("<Q", 2**63)), (et.PT_PORT, 8080, b"\x90\x1f"),
    (et.PT_L4PROTO, 6, b"\6"), (et.PT_SOCKFAMILY, 2, b"\2"), (et.PT_BOOL, True, b"\1\0\0\0"),
    (et.PT_IPV4ADDR, "1.2.3.4", b"\1\2\3\4"), (et.PT_FLAGS8, 3, b"\3"), (et.PT_FLAGS16, 3, b"\3\0"),
    (et.PT_FLAGS32, 0x80000000, b"\0\0\0\x80"), (et.PT_UID, -1, b"\xff" * 4), (et.PT_GID, 27, b"\x1b\0\0\0"),
    (et.PT_DOUBLE, 1.5, struct.pack("<d", 1.5)), (et.PT_SIGSET, 2, b"\2\0\0\0"),
    (et.PT_CHARBUFARRAY, ["a", "bc"], b"a\0bc\0"), (et.PT_CHARBUF_PAIR_ARRAY, {"k": "v"}, b"k\0v\0"),
    (et.PT_IPV4NET, "10.0.0.0/8", b"\x0a\0\0\0\xff\0\0\0"), (et.PT_IPV6ADDR, "::1", bytes(15) + b"\1"),
    (et.PT_IPV6NET, "fe80::/16", b"\xfe\x80" + bytes(14) + b"\xff\xff" + bytes(14)),
    (et.PT_IPADDR, "::1", bytes(15) + b"\1"), (et.PT_IPADDR, "9.9.9.9", b"\x09" * 4),
    (et.PT_IPNET, ("192.168.0.0", "255.255.0.0"), b"\xc0\xa8\0\0\xff\xff\0\0"), (et.PT_MODE, 0o755, b"\xed\1\0\0"),
    (et.PT_ENUMFLAGS8, 1, b"\1"), (et.PT_ENUMFLAGS16, 1, b"\1\0"), (et.PT_ENUMFLAGS32, 1, b"\1\0\0\0"),
    (et.PT_NONE, None, b""), (et.PT_CHARBUF, None, b""),
])
def test_encode_param(ptype, value, expected):
    assert encode_param(ptype, value) == expected


def test_dynamic_params_use_the_sub_type_table():
    dyn = TABLE.dyn["sockopt_dynamic_param"]
    assert encode_param(et.PT_DYN, (2, 1), dyn=dyn) == b"\2" + struct.pack("<I", 1)
    assert encode_param(et.PT_DYN, (3, b"\1" * 8)) == b"\3" + b"\1" * 8
    # setsockopt exit's val is DYN; encode_event finds its table by name
    params = encode_event(45, res=0, fd=3, level=1, optname=2, val=(3, 5), optlen=8)
    assert params[4] == b"\3" + struct.pack("<Q", 5)


def test_encode_event_by_name_and_table():
    p = encode_event(7, table=et.v0293(), res=5, data=b"hello")
    assert p == [struct.pack("<q", 5), b"hello"]          # 0.29.3's read exit has 2 params
    assert encode_event(7, res=5) == [struct.pack("<q", 5), b"", b"", b""]
    with pytest.raises(KeyError):
        encode_event(7, res=5, require_all=True)
    with pytest.raises(KeyError):
        encode_event(7, nonsense=1)
    assert all(p.name != "table" for t in (TABLE, et.v0293()) for e in t.events for p in e.params)


def test_encode_param_rejects_wrong_values():
    with pytest.raises(TypeError):
        encode_param(et.PT_FD, "3")
    with pytest.raises(struct.error):
        encode_param(et.PT_UINT8, 256)
    with pytest.raises(ValueError):
        encode_param(et.PT_SOCKTUPLE, (("1.2.3.4", 1), ("::1", 2)))
    with pytest.raises(ValueError):
        encode_param(et.PT_IPV4ADDR, "::1")


# decoders for a few types, to check that encode_param reproduces the bytes real drivers wrote
def _decode(ptype: int, raw: bytes):
    if ptype in (et.PT_FD, et.PT_ERRNO, et.PT_PID, et.PT_UINT32, et.PT_FLAGS32, et.PT_UINT64, et.PT_PORT):
        code = {et.PT_UINT32: "<I", et.PT_FLAGS32: "<I", et.PT_UINT64: "<Q", et.PT_PORT: "<H"}.get(ptype, "<q")
        return struct.unpack(code, raw)[0] if len(raw) == struct.calcsize(code) else None
    if ptype in (et.PT_CHARBUF, et.PT_FSPATH, et.PT_FSRELPATH):
        return raw[:-1] if raw.endswith(b"\0") and raw.count(b"\0") == 1 else None
    if ptype == et.PT_SOCKADDR:
        if raw[0] in (2, 10) and len(raw) in (7, 19):
            ip = ipaddress.ip_address(raw[1:-2])
            return (str(ip), struct.unpack("<H", raw[-2:])[0])
        return raw[1:-1].decode() if raw[0] == 1 and raw.count(b"\0") == 1 and raw.endswith(b"\0") else None
    if ptype == et.PT_SOCKTUPLE:
        if raw[0] in (2, 10) and len(raw) in (13, 37):
            n = 4 if raw[0] == 2 else 16
            s = ipaddress.ip_address(raw[1:1 + n])
            d = ipaddress.ip_address(raw[3 + n:3 + 2 * n])
            return ((str(s), struct.unpack_from("<H", raw, 1 + n)[0]),
                    (str(d), struct.unpack_from("<H", raw, 3 + 2 * n)[0]))
        if raw[0] == 1 and len(raw) >= 18 and raw.endswith(b"\0") and raw[17:].count(b"\0") == 1:
            return (*struct.unpack_from("<QQ", raw, 1), raw[17:-1].decode("utf-8", "surrogateescape"))
        return None
    if ptype == et.PT_FDLIST:
        (n,) = struct.unpack_from("<H", raw)
        return [struct.unpack_from("<qh", raw, 2 + 10 * i) for i in range(n)] if len(raw) == 2 + 10 * n else None
    return None


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="shared/captures not present")
def test_encodings_match_real_capture_bytes():
    checked: Counter[int] = Counter()
    for name in ("curl_google", "falco_connect_localhost", "single_ipv6_conn", "sample", "mixed_io"):
        path = CAPTURES / f"{name}.scap"
        if not path.exists():
            continue
        for it in ScapReader(str(path)).items():
            if isinstance(it, Section):
                continue
            params = TABLE.events[it.type].params
            for i in range(min(it.nparams, len(params))):
                raw = it.raw(i)
                if raw is None:
                    continue
                raw = bytes(raw)
                value = _decode(params[i].type, raw)
                if value is not None:
                    assert encode_param(params[i].type, value) == raw, (name, it, i)
                    checked[params[i].type] += 1
    for ptype in (et.PT_FD, et.PT_ERRNO, et.PT_CHARBUF, et.PT_FSPATH, et.PT_SOCKADDR, et.PT_SOCKTUPLE,
                  et.PT_FDLIST):
        assert checked[ptype] > 0, ptype


# -- hypothesis: random events and metadata ------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12)
IPV4 = st.binary(min_size=4, max_size=4)
IPV6 = st.binary(min_size=16, max_size=16)
I64 = st.integers(-(2**63), 2**63 - 1)
U64, U32, U16, U8 = (st.integers(0, 2**n - 1) for n in (64, 32, 16, 8))


def _int_strategy(ptype: int):
    width = et.FIXED_WIDTH[ptype]
    if ptype in et.SIGNED_TYPES:
        return st.integers(-(2 ** (8 * width - 1)), 2 ** (8 * width - 1) - 1)
    return st.integers(0, 2 ** (8 * width) - 1)


def _addr(v6):
    return (IPV6 if v6 else IPV4).map(lambda b: str(ipaddress.ip_address(b)))


def value_strategy(ptype: int):
    if ptype == et.PT_DOUBLE:
        return st.floats(allow_nan=False)
    if ptype in (et.PT_IPV4ADDR,):
        return _addr(False)
    if ptype == et.PT_IPV6ADDR:
        return _addr(True)
    if ptype in et.FIXED_WIDTH:
        return _int_strategy(ptype)
    if ptype in (et.PT_CHARBUF, et.PT_FSPATH, et.PT_FSRELPATH):
        return TEXT
    if ptype == et.PT_BYTEBUF:
        return st.one_of(st.binary(max_size=40), st.lists(TEXT, max_size=4))
    if ptype == et.PT_SOCKADDR:
        return st.one_of(st.tuples(_addr(False), U16), st.tuples(_addr(True), U16),
                         TEXT.map(lambda s: "/" + s), st.sampled_from([0, 16]))
    if ptype == et.PT_SOCKTUPLE:
        v4 = st.tuples(st.tuples(_addr(False), U16), st.tuples(_addr(False), U16))
        v6 = st.tuples(st.tuples(_addr(True), U16), st.tuples(_addr(True), U16))
        return st.one_of(v4, v6, st.tuples(U64, U64, TEXT))
    if ptype == et.PT_FDLIST:
        return st.lists(st.tuples(I64, st.integers(-(2**15), 2**15 - 1)), max_size=5)
    if ptype == et.PT_DYN:
        return st.tuples(U8, st.binary(max_size=9))
    if ptype == et.PT_CHARBUFARRAY:
        return st.lists(TEXT, max_size=4)
    if ptype == et.PT_CHARBUF_PAIR_ARRAY:
        return st.lists(st.tuples(TEXT, TEXT), max_size=3)
    if ptype == et.PT_IPADDR:
        return st.one_of(_addr(False), _addr(True))
    if ptype in (et.PT_IPV4NET, et.PT_IPV6NET, et.PT_IPNET):
        pairs = [st.tuples(_addr(v6), _addr(v6)) for v6 in (False, True)]
        return {et.PT_IPV4NET: pairs[0], et.PT_IPV6NET: pairs[1]}.get(ptype, st.one_of(*pairs))
    return st.none()


EVENT_IDS = st.integers(0, len(TABLE.events) - 1)


@st.composite
def raw_blob(draw):
    """Odd-sized raw bytes, sometimes up to the 65000-byte maximum argument size."""
    n = draw(st.one_of(st.integers(0, 17), st.sampled_from([255, 256, 4093, 65000])))
    return random.Random(draw(st.integers(0, 2**32))).randbytes(n)


@st.composite
def event_params(draw, etype: int):
    out = []
    for p in TABLE.events[etype].params:
        kind = draw(st.sampled_from(["value", "value", "none", "raw"]))
        if kind == "value":
            out.append(encode_param(p.type, draw(value_strategy(p.type))))
        elif kind == "none":
            out.append(draw(st.sampled_from([None, b""])))
        else:
            out.append(draw(raw_blob()))
    cut = draw(st.integers(0, len(out)))          # older writers wrote fewer params
    extra = draw(st.lists(st.binary(max_size=5), max_size=2))  # newer writers, more
    return out[:cut] if draw(st.booleans()) else out + extra


@st.composite
def events(draw):
    n = draw(st.integers(0, 12))
    ts = draw(st.integers(0, 2**62))
    out = []
    for _ in range(n):
        ts += draw(st.integers(0, 10**9))
        etype = draw(EVENT_IDS)
        params = draw(event_params(etype))
        if sum(len(p or b"") for p in params) > 200_000:
            params = params[:1]
        out.append((ts, draw(st.integers(0, 2**63)), draw(U16), etype,
                    draw(st.sampled_from([None, None, 0, 1, 4])), params))
    return out


def _roundtrip(build):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "h.scap"
        with ScapWriter(path) as w:
            build(w)
        return read_all(path)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(events())
def test_random_events_round_trip(evs):
    def build(w):
        for ts, tid, cpu, etype, flags, params in evs:
            w.write_event(ts, tid, cpu, etype, params, flags=flags)
    _, got = _roundtrip(build)
    assert got == [(ts, tid, cpu, et_, flags or 0, tuple(bytes(p or b"") for p in params))
                   for ts, tid, cpu, et_, flags, params in evs]


ALL_PTYPES = sorted(set(range(49)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_param_type_round_trips(data):
    """One value of every PT_* type (0..48) as the params of a single event."""
    params = [encode_param(t, data.draw(value_strategy(t), label=f"type {t}")) for t in ALL_PTYPES]
    for t, p in zip(ALL_PTYPES, params, strict=True):
        if t in et.FIXED_WIDTH:
            assert len(p) == et.FIXED_WIDTH[t]
    _, got = _roundtrip(lambda w: w.write_event(7, 8, 9, 1, params))
    assert got == [(7, 8, 9, 1, 0, tuple(params))]


def _strs(n=3):
    return st.lists(TEXT, max_size=n)


THREAD = st.builds(
    md.ThreadEntry, tid=I64, pid=I64, ptid=I64, comm=TEXT, exe=TEXT, exepath=TEXT, args=_strs(), cwd=TEXT,
    fdlimit=U64, flags=U32, uid=U32, gid=U32, vmsize_kb=U32, vmrss_kb=U32, vmswap_kb=U32, pfmajor=U64,
    pfminor=U64, env=_strs(), vtid=I64, vpid=I64, cgroups=_strs(), root=TEXT, sid=I64, vpgid=I64, pgid=I64,
    tty=U32, loginuid=U32, pidns_init_start_ts=U64)
NAMED_FD_TYPES = sorted(set(range(22)) - {3, 4, 5, 6, 8, 16})
FD = st.one_of(
    st.builds(md.FdEntry, fd=I64, ino=U64, type=st.just(md.FD_IPV4_SOCK), sip=IPV4, dip=IPV4, sport=U16,
              dport=U16, l4proto=U8),
    st.builds(md.FdEntry, fd=I64, ino=U64, type=st.just(md.FD_IPV4_SERVSOCK), sip=IPV4, sport=U16, l4proto=U8),
    st.builds(md.FdEntry, fd=I64, ino=U64, type=st.just(md.FD_IPV6_SOCK), sip=IPV6, dip=IPV6, sport=U16,
              dport=U16, l4proto=U8),
    st.builds(md.FdEntry, fd=I64, ino=U64, type=st.just(md.FD_IPV6_SERVSOCK), sip=IPV6, sport=U16, l4proto=U8),
    st.builds(md.FdEntry, fd=I64, ino=U64, type=st.just(md.FD_UNIX_SOCK), source=U64, dest=U64, name=TEXT),
    st.builds(md.FdEntry, fd=I64, ino=U64, type=st.just(md.FD_FILE_V2), name=TEXT, open_flags=U32, dev=U32),
    st.builds(md.FdEntry, fd=I64, ino=U64, type=st.sampled_from(NAMED_FD_TYPES), name=TEXT),
)
SECTION = st.fixed_dictionaries({
    "machine": st.builds(md.MachineInfo, num_cpus=U32, memory_bytes=U64, max_pid=U64,
                         hostname=st.text(st.characters(min_codepoint=1, max_codepoint=0x7ff,
                                                        blacklist_categories=("Cs",)), max_size=60),
                         boot_ts=U64, flags=U64),
    "threads": st.lists(THREAD, max_size=4),
    "fds": st.dictionaries(I64, st.lists(FD, max_size=4), max_size=3),
    "users": st.lists(st.builds(md.UserEntry, uid=U32, gid=U32, name=TEXT, homedir=TEXT, shell=TEXT), max_size=3),
    "groups": st.lists(st.builds(md.GroupEntry, gid=U32, name=TEXT), max_size=3),
    "interfaces": st.lists(st.one_of(
        st.builds(md.Interface, family=st.just(4), name=TEXT, addr=IPV4, netmask=IPV4),
        st.builds(md.Interface, family=st.just(6), name=TEXT, addr=IPV6, netmask=IPV6)), max_size=3),
})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SECTION)
def test_random_metadata_round_trips(sec):
    secs, _ = _roundtrip(lambda w: (w.write_metadata(**sec), one_event(w)))
    got = secs[0]
    assert got.machine == sec["machine"] and got.threads == sec["threads"] and got.fds == sec["fds"]
    assert (got.users, got.groups, got.interfaces) == (sec["users"], sec["groups"], sec["interfaces"])


# -- read(write(read(X))) == read(X) on the real captures ------------------------------------------------
def _captures():
    return sorted(CAPTURES.glob("*.scap")) if CAPTURES.is_dir() else []


@pytest.mark.parametrize("capture", _captures() or [None], ids=lambda p: p.name if p else "none")
def test_real_capture_round_trip(capture, tmp_path):
    if capture is None:
        pytest.skip(f"no captures in {CAPTURES}")
    before_secs, before = read_all(capture)
    out = tmp_path / "copy.scap"
    w = copy_items(ScapReader(str(capture)).items(), out)
    after_secs, after = read_all(out)
    assert w.events == len(before) > 0
    assert after == before
    assert [meta(s) for s in after_secs] == [meta(s) for s in before_secs]
    # everything written is a v2 event block or metadata; no v1 blocks survive
    assert 0x204 not in block_types(out.read_bytes())
