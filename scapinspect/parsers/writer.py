"""Streaming .scap writer: section header, metadata blocks (MI, PL_V9, FDL_V2, IL_V2, UL_V2) and events
(EV_V2/EVF_V2, or their LARGE variants past 64 KiB), plus ``encode_param``/``encode_event`` to build
parameter bytes from Python values. Layouts follow libscap's writer (scap-format.md §1-4); everything
written here reads back unchanged through ``ScapReader``.
"""
from __future__ import annotations

import gzip
import ipaddress
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from . import eventtable as et
from . import metadata as md
from .eventtable import EF_LARGE_PAYLOAD, EventTable, ParamInfo, head
from .reader import Section

# block type ids written by this module
BT_MI, BT_PL_V9, BT_FDL_V2, BT_IL_V2, BT_UL_V2 = 0x201, 0x215, 0x218, 0x219, 0x220
BT_EV_V2, BT_EVF_V2, BT_EV_V2_LARGE, BT_EVF_V2_LARGE = 0x216, 0x217, 0x221, 0x222
SHB_VERSION = (1, 2)
# libscap reads a non-LARGE event block into a 64 KiB buffer (block length minus the 8-byte header)
MAX_SMALL_BLOCK = (1 << 16) + 8
# PPM_AF_* families inside sockaddr/socktuple params
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
# libscap limits on metadata strings
MAX_PATH, MAX_ARGS, MAX_CRED = 1024, 4096, 255

_HDR = struct.Struct("<II")
_U16, _U32 = struct.Struct("<H"), struct.Struct("<I")
_SHB = struct.Struct("<IHHq")
_MI = struct.Struct("<IQQ128sQQQQ")          # ncpus, memory, max_pid, hostname, boot_ts, flags, reserved x2
_EV_V2 = struct.Struct("<QQIHI")             # ts, tid, len, type, nparams
_PL_IDS = struct.Struct("<qqqqq")            # tid, pid, ptid, sid, vpgid
_PL_FIXED = struct.Struct("<QIIIIIIQQ")      # fdlimit, flags, uid, gid, vmsize, vmrss, vmswap, pfmajor, pfminor
_PL_TAIL = struct.Struct("<QIIBQQQBQQQBBq")  # pidns_init_start_ts, tty, loginuid, exe_writable, caps x3,
#                                              exe_upper_layer, exe_ino, ctime, mtime, from_memfd, lower, pgid
_PL_TAIL_029 = struct.Struct("<IB")          # loginuid, exe_writable: what libs < 0.10 (sysdig 0.29) wrote
_FD_HEAD = struct.Struct("<qQB")
_FD_LAYOUTS = {
    md.FD_IPV4_SOCK: (struct.Struct("<4s4sHHB"), 4), md.FD_IPV4_SERVSOCK: (struct.Struct("<4sHB"), 4),
    md.FD_IPV6_SOCK: (struct.Struct("<16s16sHHB"), 16), md.FD_IPV6_SERVSOCK: (struct.Struct("<16sHB"), 16),
}
_FD_NAMED = frozenset(range(0, 22)) - set(_FD_LAYOUTS) - {md.FD_UNIX_SOCK, md.FD_FILE_V2}

_INT_CODES = {
    et.PT_INT8: "<b", et.PT_INT16: "<h", et.PT_INT32: "<i", et.PT_INT64: "<q", et.PT_UINT8: "<B",
    et.PT_UINT16: "<H", et.PT_UINT32: "<I", et.PT_UINT64: "<Q", et.PT_ERRNO: "<q", et.PT_FD: "<q",
    et.PT_PID: "<q", et.PT_SYSCALLID: "<H", et.PT_SIGTYPE: "<B", et.PT_RELTIME: "<Q", et.PT_ABSTIME: "<Q",
    et.PT_PORT: "<H", et.PT_L4PROTO: "<B", et.PT_SOCKFAMILY: "<B", et.PT_BOOL: "<I", et.PT_FLAGS8: "<B",
    et.PT_FLAGS16: "<H", et.PT_FLAGS32: "<I", et.PT_UID: "<I", et.PT_GID: "<I", et.PT_SIGSET: "<I",
    et.PT_MODE: "<I", et.PT_ENUMFLAGS8: "<B", et.PT_ENUMFLAGS16: "<H", et.PT_ENUMFLAGS32: "<I",
    et.PT_FD32: "<i", et.PT_PID32: "<i",
}
_INT_STRUCTS = {t: struct.Struct(c) for t, c in _INT_CODES.items()}
_BYTESLIKE = (bytes, bytearray, memoryview)


# -- parameter encoders (scap-format.md §4) ------------------------------------------------------------
def _enc(s: str | bytes) -> bytes:
    return s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)


def nul_list(items: Iterable[str | bytes]) -> bytes:
    """args/env/cgroups style list: every element NUL-terminated (``[]`` gives ``b""``)."""
    return b"".join(_enc(x) + b"\0" for x in items)


def encode_sockaddr(value: Any) -> bytes:
    """``(ip, port)`` -> INET/INET6, a path str -> UNIX, an int -> the family byte alone, bytes -> as is."""
    if isinstance(value, _BYTESLIKE):
        return bytes(value)
    if isinstance(value, int):
        return bytes([value])
    if isinstance(value, str):
        return bytes([AF_UNIX]) + _enc(value) + b"\0"
    host, port = value
    ip = ipaddress.ip_address(host)
    fam = AF_INET if ip.version == 4 else AF_INET6
    return bytes([fam]) + ip.packed + _U16.pack(port)


def encode_socktuple(value: Any) -> bytes:
    """``((sip, sport), (dip, dport))`` -> INET/INET6 (client->server); ``(src_ptr, dst_ptr, path)`` -> UNIX."""
    if isinstance(value, _BYTESLIKE):
        return bytes(value)
    if len(value) == 3:
        src, dst, path = value
        return bytes([AF_UNIX]) + struct.pack("<QQ", src, dst) + _enc(path) + b"\0"
    (sh, sp), (dh, dp) = value
    sip, dip = ipaddress.ip_address(sh), ipaddress.ip_address(dh)
    if sip.version != dip.version:
        raise ValueError(f"socktuple mixes IPv{sip.version} and IPv{dip.version}")
    fam = AF_INET if sip.version == 4 else AF_INET6
    return bytes([fam]) + sip.packed + _U16.pack(sp) + dip.packed + _U16.pack(dp)


def encode_fdlist(value: Any) -> bytes:
    """``[(fd, flags), ...]`` -> u16 count + (i64 fd, i16 flags) each."""
    if isinstance(value, _BYTESLIKE):
        return bytes(value)
    items = list(value)
    return _U16.pack(len(items)) + b"".join(struct.pack("<qh", fd, fl) for fd, fl in items)


def _ip(value: Any, version: int | None) -> bytes:
    if isinstance(value, _BYTESLIKE):
        raw = bytes(value)
    else:
        raw = ipaddress.ip_address(value).packed
    if version is not None and len(raw) != (4 if version == 4 else 16):
        raise ValueError(f"expected an IPv{version} address, got {len(raw)} bytes")
    return raw


def _ipnet(value: Any, version: int | None) -> bytes:
    if isinstance(value, _BYTESLIKE):
        return bytes(value)
    if isinstance(value, str):
        net = ipaddress.ip_network(value, strict=False)
        addr, mask = net.network_address.packed, net.netmask.packed
    else:
        addr, mask = _ip(value[0], None), _ip(value[1], None)
    if len(addr) != len(mask) or (version is not None and len(addr) != (4 if version == 4 else 16)):
        raise ValueError("network address and mask sizes do not match the parameter type")
    return addr + mask


def _string_list(value: Any) -> bytes:
    return bytes(value) if isinstance(value, _BYTESLIKE) else nul_list(value)


def _pair_list(value: Any) -> bytes:
    if isinstance(value, _BYTESLIKE):
        return bytes(value)
    items = value.items() if isinstance(value, Mapping) else value
    return b"".join(_enc(k) + b"\0" + _enc(v) + b"\0" for k, v in items)


def _bytebuf(value: Any) -> bytes:
    if isinstance(value, _BYTESLIKE):
        return bytes(value)
    if isinstance(value, str):
        return _enc(value)
    return nul_list(value)


_STRUCTURED = {
    et.PT_CHARBUF: lambda v: _enc(v) + b"\0", et.PT_FSPATH: lambda v: _enc(v) + b"\0",
    et.PT_FSRELPATH: lambda v: _enc(v) + b"\0", et.PT_BYTEBUF: _bytebuf, et.PT_SOCKADDR: encode_sockaddr,
    et.PT_SOCKTUPLE: encode_socktuple, et.PT_FDLIST: encode_fdlist, et.PT_CHARBUFARRAY: _string_list,
    et.PT_CHARBUF_PAIR_ARRAY: _pair_list, et.PT_IPV4ADDR: lambda v: _ip(v, 4), et.PT_IPV6ADDR: lambda v: _ip(v, 6),
    et.PT_IPADDR: lambda v: _ip(v, None), et.PT_IPV4NET: lambda v: _ipnet(v, 4),
    et.PT_IPV6NET: lambda v: _ipnet(v, 6), et.PT_IPNET: lambda v: _ipnet(v, None),
}


def encode_param(ptype: int, value: Any, *, dyn: Sequence[ParamInfo] | None = None) -> bytes:
    """The on-disk bytes of one parameter of type ``ptype`` (a PT_* id).

    ``None`` gives ``b""`` (an absent parameter) for every type. Integers for the fixed-width types
    (UID/GID also accept -1 for "no value"); ``float`` for DOUBLE; ``str``/``bytes`` for CHARBUF/FSPATH/
    FSRELPATH (the trailing NUL is added); bytes, str or a list of strings (NUL-terminated each) for BYTEBUF;
    see ``encode_sockaddr``/``encode_socktuple``/``encode_fdlist`` for the socket and fd list types.
    DYN takes ``(index, value)``; ``value`` is encoded with the type ``dyn[index]`` unless it is bytes.
    Structured types (sockaddr, tuple, fdlist, addresses) also accept ready-made bytes.
    """
    if value is None:
        return b""
    st = _INT_STRUCTS.get(ptype)
    if st is not None:
        if ptype in (et.PT_UID, et.PT_GID) and value == -1:
            value = 0xFFFFFFFF
        if isinstance(value, _BYTESLIKE) or not isinstance(value, int):
            raise TypeError(f"parameter type {ptype} takes an int, not {type(value).__name__}")
        return st.pack(value)
    if ptype == et.PT_DOUBLE:
        return struct.pack("<d", value)
    fn = _STRUCTURED.get(ptype)
    if fn is not None:
        return fn(value)
    if ptype == et.PT_DYN:
        idx, inner = value
        if isinstance(inner, _BYTESLIKE):
            return bytes([idx]) + bytes(inner)
        if dyn is None or idx >= len(dyn):
            raise ValueError(f"dynamic parameter index {idx} needs its sub-type table")
        return bytes([idx]) + encode_param(dyn[idx].type, inner)
    if ptype == et.PT_NONE:
        if value not in (b"", ()):
            raise ValueError("et.PT_NONE parameters carry no value")
        return b""
    raise ValueError(f"unknown parameter type {ptype}")


def encode_event(etype: int, /, *, table: EventTable | None = None, require_all: bool = False,
                 **values: Any) -> list[bytes]:
    """Parameter bytes of event ``etype``, taking values by the table's parameter names.

    Parameters not given are written empty (zero-length), or raise KeyError with ``require_all``.
    ``table`` defaults to the current libs table (``head()``); pass ``v0293()`` for sysdig 0.29.3 layouts.
    """
    table = table or head()
    info = table.events[etype]
    names = {p.name for p in info.params}
    unknown = set(values) - names
    if unknown:
        raise KeyError(f"event {etype} ({info.name}) has no parameter(s) {sorted(unknown)}")
    out = []
    for p in info.params:
        if p.name in values:
            out.append(encode_param(p.type, values[p.name], dyn=table.dyn.get(p.dyn) if p.dyn else None))
        elif require_all:
            raise KeyError(f"event {etype} ({info.name}) needs parameter {p.name!r}")
        else:
            out.append(b"")
    return out


# -- metadata encoders (scap-format.md §2) --------------------------------------------------------------
def _lstr(value: str | bytes, limit: int, what: str) -> bytes:
    raw = _enc(value)
    if len(raw) > limit:
        raise ValueError(f"{what} is {len(raw)} bytes, more than libscap's limit of {limit}")
    return _U16.pack(len(raw)) + raw


def _machine_info(mi: md.MachineInfo) -> bytes:
    host = _enc(mi.hostname)
    if len(host) > 127:
        raise ValueError("hostname longer than 127 bytes")
    return _MI.pack(mi.num_cpus, mi.memory_bytes, mi.max_pid, host, mi.boot_ts, mi.flags, 0, 0)


def _thread_entry(t: md.ThreadEntry, legacy_tail: bool) -> bytes:
    lp, la = MAX_PATH, MAX_ARGS
    parts = [
        _PL_IDS.pack(t.tid, t.pid, t.ptid, t.sid, t.vpgid),
        _lstr(t.comm, lp, "comm"), _lstr(t.exe, lp, "exe"), _lstr(t.exepath, lp, "exepath"),
        _lstr(nul_list(t.args), la, "args"), _lstr(t.cwd, lp, "cwd"),
        _PL_FIXED.pack(t.fdlimit, t.flags, t.uid, t.gid, t.vmsize_kb, t.vmrss_kb, t.vmswap_kb,
                       t.pfmajor, t.pfminor),
        _lstr(nul_list(t.env), la, "env"), struct.pack("<qq", t.vtid, t.vpid),
        _lstr(nul_list(t.cgroups), la, "cgroups"), _lstr(t.root, lp, "root"),
    ]
    if legacy_tail:
        parts.append(_PL_TAIL_029.pack(t.loginuid, 0))
    else:
        parts.append(_PL_TAIL.pack(t.pidns_init_start_ts, t.tty, t.loginuid, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   t.pgid))
    body = b"".join(parts)
    return _U32.pack(4 + len(body)) + body


def _fd_entry(e: md.FdEntry) -> bytes:
    parts = [_FD_HEAD.pack(e.fd, e.ino, e.type)]
    layout = _FD_LAYOUTS.get(e.type)
    if layout is not None:
        st, width = layout
        if len(e.sip) != width or (e.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK) and len(e.dip) != width):
            raise ValueError(f"fd {e.fd}: socket addresses must be {width} bytes")
        if e.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
            parts.append(st.pack(e.sip, e.dip, e.sport, e.dport, e.l4proto))
        else:
            parts.append(st.pack(e.sip, e.sport, e.l4proto))
    elif e.type == md.FD_UNIX_SOCK:
        parts += [struct.pack("<QQ", e.source, e.dest), _lstr(e.name, MAX_PATH - 1, "fd name")]
    elif e.type == md.FD_FILE_V2:
        parts += [_U32.pack(e.open_flags), _lstr(e.name, MAX_PATH - 1, "fd name"), _U32.pack(e.dev)]
    elif e.type in _FD_NAMED:
        parts.append(_lstr(e.name, MAX_PATH - 1, "fd name"))
    else:
        raise ValueError(f"fd {e.fd}: unknown fd type {e.type}")
    body = b"".join(parts)
    return _U32.pack(4 + len(body)) + body


def _user_entry(u: md.UserEntry) -> bytes:
    body = (b"\0" + struct.pack("<II", u.uid, u.gid) + _lstr(u.name, MAX_CRED, "user name")
            + _lstr(u.homedir, MAX_CRED, "home dir") + _lstr(u.shell, MAX_CRED, "shell"))
    return _U32.pack(4 + len(body)) + body


def _group_entry(g: md.GroupEntry) -> bytes:
    body = b"\1" + _U32.pack(g.gid) + _lstr(g.name, MAX_CRED, "group name")
    return _U32.pack(4 + len(body)) + body


def _interface_entry(i: md.Interface) -> bytes:
    width = 4 if i.family == 4 else 16
    if i.family not in (4, 6) or len(i.addr) != width or len(i.netmask) != width:
        raise ValueError(f"interface {i.name}: family {i.family} needs {width}-byte address and netmask")
    name = _enc(i.name)
    bcast = bytes(a | (~m & 0xFF) for a, m in zip(i.addr, i.netmask, strict=True)) if width == 4 else bytes(16)
    body = (struct.pack("<HH", 1 if width == 4 else 2, len(name)) + bytes(i.addr) + bytes(i.netmask)
            + bcast + struct.pack("<Q", 0) + name)
    return _U32.pack(len(body)) + body     # an IL_V2 entry length does not count itself


# -- the writer ------------------------------------------------------------------------------------------
class ScapWriter:
    """Writes one capture, block by block, to a path or a binary file object. Memory use is constant.

    The section header is written at once: the bare 28-byte one, or with pcapng options when
    ``comment`` (option 1, opt_comment) or ``options`` are given. Use as a context manager or ``close()``.
    """

    def __init__(self, target: str | os.PathLike[str] | IO[bytes], *, compress: bool = False,
                 comment: str | None = None, options: Mapping[int, bytes] | None = None,
                 version: tuple[int, int] = SHB_VERSION, table: EventTable | None = None):
        if isinstance(target, (str, os.PathLike)):
            self._raw: IO[bytes] = open(target, "wb")
            self._owns = True
        else:
            self._raw, self._owns = target, False
        # mtime=0 and no file name keep gzip output reproducible
        self._out: IO[bytes] = (gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", mtime=0)
                                if compress else self._raw)
        self.table = table or head()
        self._wide = [bool(e.flags & EF_LARGE_PAYLOAD) for e in self.table.events]
        self.blocks = 0
        self.events = 0
        self.closed = False
        self.write_section_header(comment=comment, options=options, version=version)

    def __enter__(self) -> ScapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._out is not self._raw:
            self._out.close()
        if self._owns:
            self._raw.close()
        else:
            self._raw.flush()

    def _block(self, btype: int, body: bytes) -> None:
        pad = -len(body) & 3
        total = 12 + len(body) + pad
        self._out.write(b"".join((_HDR.pack(btype, total), body, bytes(pad), _U32.pack(total))))
        self.blocks += 1

    # -- section header and metadata -----------------------------------------------------------------
    def write_section_header(self, *, comment: str | None = None, options: Mapping[int, bytes] | None = None,
                             version: tuple[int, int] = SHB_VERSION) -> None:
        """A section header block; a second call starts a new section (merged captures)."""
        opts = dict(options or {})
        if comment is not None:
            opts[1] = _enc(comment)
        body = _SHB.pack(0x1A2B3C4D, version[0], version[1], -1)
        if opts:
            parts = [body]
            for code, val in opts.items():
                if not 0 < code < 0x10000 or len(val) > 0xFFFF:
                    raise ValueError(f"bad section header option {code}")
                parts += [struct.pack("<HH", code, len(val)), bytes(val), bytes(-len(val) & 3)]
            parts.append(bytes(4))    # opt_endofopt
            body = b"".join(parts)
        self._block(md.SHB, body)

    def write_machine_info(self, mi: md.MachineInfo) -> None:
        self._block(BT_MI, _machine_info(mi))

    def write_proclist(self, threads: Iterable[md.ThreadEntry], *, legacy_tail: bool = False) -> None:
        """One PL_V9 block. ``legacy_tail`` writes the entry tail of libs < 0.10 (loginuid, exe_writable),
        the only layout sysdig 0.29 reads correctly; it drops pidns_init_start_ts, tty and pgid."""
        self._block(BT_PL_V9, b"".join(_thread_entry(t, legacy_tail) for t in threads))

    def write_fdlist(self, tid: int, fds: Iterable[md.FdEntry]) -> None:
        """One FDL_V2 block: the fds of thread ``tid`` (which the process list must hold for libscap)."""
        self._block(BT_FDL_V2, struct.pack("<q", tid) + b"".join(_fd_entry(e) for e in fds))

    def write_iflist(self, interfaces: Iterable[md.Interface]) -> None:
        self._block(BT_IL_V2, b"".join(_interface_entry(i) for i in interfaces))

    def write_userlist(self, users: Iterable[md.UserEntry], groups: Iterable[md.GroupEntry] = ()) -> None:
        body = b"".join(_user_entry(u) for u in users) + b"".join(_group_entry(g) for g in groups)
        self._block(BT_UL_V2, body)

    def write_metadata(self, *, machine: md.MachineInfo | None = None,
                       interfaces: Sequence[md.Interface] = (), users: Sequence[md.UserEntry] = (),
                       groups: Sequence[md.GroupEntry] = (), threads: Sequence[md.ThreadEntry] = (),
                       fds: Mapping[int, Sequence[md.FdEntry]] | None = None, legacy_tail: bool = False) -> None:
        """The metadata blocks in libscap's order (MI, IL, UL, PL, one FDL per tid); empty ones are left out."""
        if machine is not None:
            self.write_machine_info(machine)
        if interfaces:
            self.write_iflist(interfaces)
        if users or groups:
            self.write_userlist(users, groups)
        if threads:
            self.write_proclist(threads, legacy_tail=legacy_tail)
        for tid, entries in (fds or {}).items():
            self.write_fdlist(tid, entries)

    # -- events --------------------------------------------------------------------------------------
    def write_event(self, ts: int, tid: int, cpu: int, etype: int,
                    params: Sequence[bytes | bytearray | memoryview | None], *, flags: int | None = None) -> None:
        """One event block. ``params`` are encoded values (None or b"" = zero-length).

        ``flags`` (SCAP_DF_*) selects an EVF_V2 block. Lengths are u16, or u32 for EF_LARGE_PAYLOAD types;
        a block over 64 KiB is written as EV(F)_V2_LARGE.
        """
        vals = [b"" if p is None else p for p in params]
        lens = [len(v) for v in vals]
        wide = etype < len(self._wide) and self._wide[etype]
        if not wide and lens and max(lens) > 0xFFFF:
            raise ValueError(f"event type {etype}: a parameter of {max(lens)} bytes needs a u32 length")
        n = len(vals)
        elen = 26 + (4 if wide else 2) * n + sum(lens)
        prefix = _U16.pack(cpu) if flags is None else _U16.pack(cpu) + _U32.pack(flags)
        pad = -(len(prefix) + elen) & 3
        total = 8 + len(prefix) + elen + pad + 4
        if total > MAX_SMALL_BLOCK:
            btype = BT_EV_V2_LARGE if flags is None else BT_EVF_V2_LARGE
        else:
            btype = BT_EV_V2 if flags is None else BT_EVF_V2
        self._out.write(b"".join((
            _HDR.pack(btype, total), prefix, _EV_V2.pack(ts, tid, elen, etype, n),
            struct.pack(f"<{n}{'I' if wide else 'H'}", *lens), *vals, bytes(pad), _U32.pack(total))))
        self.blocks += 1
        self.events += 1


def copy_items(items: Iterable[Any], target: str | os.PathLike[str] | IO[bytes], *,
               compress: bool = False) -> ScapWriter:
    """Write the ``Section``/``Event`` stream of ``ScapReader.items()`` back out as a capture.

    Every section keeps its version and options; v1 events become EV_V2 (EVF_V2 when flagged).
    Returns the closed writer (for its block and event counts).
    """
    writer: ScapWriter | None = None
    try:
        for it in items:
            if isinstance(it, Section):
                if writer is None:
                    writer = ScapWriter(target, compress=compress, options=it.options, version=it.version)
                else:
                    writer.write_section_header(options=it.options, version=it.version)
                writer.write_metadata(machine=it.machine, interfaces=it.interfaces, users=it.users,
                                      groups=it.groups, threads=it.threads, fds=it.fds)
            else:
                assert writer is not None, "an event before any section"
                writer.write_event(it.ts, it.tid, it.cpu, it.type, [it.raw(i) for i in range(it.nparams)],
                                   flags=it.flags or None)
        if writer is None:
            writer = ScapWriter(target, compress=compress)
    finally:
        if writer is not None:
            writer.close()
    return writer
