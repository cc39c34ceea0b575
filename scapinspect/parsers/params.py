"""Typed reads of event parameters (scap-format.md §4). Every reader returns None for an absent or
empty parameter and never raises on short data."""
from __future__ import annotations

import socket
import struct
from functools import lru_cache

from .reader import Event

_I = {1: struct.Struct("<b"), 2: struct.Struct("<h"), 4: struct.Struct("<i"), 8: struct.Struct("<q")}
_U = {1: struct.Struct("<B"), 2: struct.Struct("<H"), 4: struct.Struct("<I"), 8: struct.Struct("<Q")}

# PPM_AF_* socket families as the driver writes them
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


# width -> unpack_from of an integer of that width (the hot readers: one call, no Struct lookup)
_I_READ = {n: st.unpack_from for n, st in _I.items()}
_U_READ = {n: st.unpack_from for n, st in _U.items()}


def as_int(raw, signed: bool = True) -> int | None:
    """An integer of the raw param's own width. None only for an absent or empty param; a param of
    an odd width (damaged or hostile input) is read as little-endian over the bytes it has (at most 8)."""
    if raw is None:
        return None
    read = (_I_READ if signed else _U_READ).get(len(raw))
    if read is not None:
        return read(raw)[0]
    if len(raw) == 0:
        return None
    b = bytes(raw[:8])
    return int.from_bytes(b, "little", signed=signed and len(b) == 8)


def p_int(ev: Event, i: int, signed: bool = True) -> int | None:
    """``as_int(ev.raw(i), signed)``, read in place (no memoryview slice) for the usual widths."""
    if 0 <= i < ev.nparams:
        read = (_I_READ if signed else _U_READ).get(ev.lens[i])
        if read is not None:
            o = ev.poffs
            if type(o) is not int:
                o = o[i]
            elif i:
                o = ev.offset_of(i)
            return read(ev.buf, o)[0]
    return as_int(ev.raw(i), signed)


def p_str(ev: Event, i: int) -> str | None:
    """A CHARBUF/FSPATH: the bytes up to the first NUL, decoded losslessly."""
    raw = ev.raw(i)
    if raw is None:
        return None
    b = bytes(raw)
    n = b.find(b"\0")
    if n >= 0:
        b = b[:n]
    return b.decode("utf-8", "surrogateescape")


def p_bytes(ev: Event, i: int) -> bytes | None:
    raw = ev.raw(i)
    return None if raw is None else bytes(raw)


def _split(raw: bytes) -> tuple[str, ...]:
    b = raw[:-1] if raw.endswith(b"\0") else raw
    return tuple(x.decode("utf-8", "surrogateescape") for x in b.split(b"\0"))


# the same args and cgroups come back with every clone of a process (lists up to 4 KiB are kept)
_split_kept = lru_cache(maxsize=1024)(_split)


def split_list(raw: bytes | None) -> list[str]:
    """A NUL-separated BYTEBUF list (execve args/env/cgroups); a new list every call."""
    if not raw:
        return []
    key = bytes(raw)
    return list(_split_kept(key) if len(key) <= 4096 else _split(key))


@lru_cache(maxsize=4096)
def _ipv4_text(b: bytes) -> str:
    return f"{b[0]}.{b[1]}.{b[2]}.{b[3]}"


def ipv4_str(b: bytes) -> str:
    return _ipv4_text(bytes(b[:4]).ljust(4, b"\0"))


def ipv6_str(b: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, bytes(b[:16]).ljust(16, b"\0"))


def tuple_text(sip: bytes, sport: int, dip: bytes, dport: int) -> str:
    """An IP connection as libsinsp names it: sip:sport->dip:dport (IPv6 without brackets)."""
    fmt = ipv4_str if len(sip) == 4 else ipv6_str
    return f"{fmt(sip)}:{sport}->{fmt(dip)}:{dport}"


V4_MAPPED_PREFIX = b"\0" * 10 + b"\xff\xff"


def is_v4_mapped(b: bytes) -> bool:
    return bytes(b[:12]) == V4_MAPPED_PREFIX


def parse_sockaddr(raw) -> tuple | None:
    """('inet', ip4bytes, port) / ('inet6', ip16bytes, port) / ('unix', path) / ('other', family)."""
    if raw is None or len(raw) == 0:
        return None
    fam = raw[0]
    if fam == AF_INET:
        if len(raw) < 7:
            return ("bad4",)
        return ("inet", bytes(raw[1:5]), struct.unpack_from("<H", raw, 5)[0])
    if fam == AF_INET6:
        if len(raw) < 19:
            return ("bad6",)
        return ("inet6", bytes(raw[1:17]), struct.unpack_from("<H", raw, 17)[0])
    if fam == AF_UNIX:
        path = bytes(raw[1:]).split(b"\0", 1)[0]
        return ("unix", path.decode("utf-8", "surrogateescape"))
    return ("other", fam)


def parse_socktuple(raw) -> tuple | None:
    """('inet', sip, sport, dip, dport) with 4-byte ips, ('inet6', ...16-byte ips...),
    ('unix', src_ptr, dst_ptr, path) or ('other', family)."""
    if raw is None or len(raw) == 0:
        return None
    fam = raw[0]
    if fam == AF_INET and len(raw) >= 13:
        sport = struct.unpack_from("<H", raw, 5)[0]
        dport = struct.unpack_from("<H", raw, 11)[0]
        return ("inet", bytes(raw[1:5]), sport, bytes(raw[7:11]), dport)
    if fam == AF_INET6 and len(raw) >= 37:
        sport = struct.unpack_from("<H", raw, 17)[0]
        dport = struct.unpack_from("<H", raw, 35)[0]
        return ("inet6", bytes(raw[1:17]), sport, bytes(raw[19:35]), dport)
    if fam == AF_UNIX and len(raw) >= 17:
        src, dst = struct.unpack_from("<QQ", raw, 1)
        path = bytes(raw[17:]).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        return ("unix", src, dst, path)
    return ("other", fam)
