"""How sysdig turns one event parameter into text (sysdig-rendering.md §2).

``ParamRenderer.render(ev, ctx)`` builds the ``evt.info`` string of an event under one of two
profiles: sysdig 0.29.3 (libs e5c53d: its event and flag tables, trailing spaces, empty params print
nothing) or sysdig 0.41.4 (current tables, trimmed, empty buffers print NULL and strings <NA>).
"""
from __future__ import annotations

import posixpath
import struct
import time
from dataclasses import dataclass
from functools import lru_cache

from ..parsers import eventtable as et
from ..parsers.params import as_int, ipv4_str, ipv6_str, is_v4_mapped, parse_sockaddr, parse_socktuple
from ..parsers.reader import Event
from ..state.engine import EventContext, StateEngine, sanitize, sockaddr_name, socktuple_name
from .errno import errno_name, signal_name

_PRINTABLE = bytes(c if 0x20 <= c <= 0x7E else 0x2E for c in range(256))
_TRAILING_CUT = 80


@dataclass(frozen=True)
class Profile:
    """Which sysdig to look like."""
    name: str                  # "0.29" or "0.41"
    table: et.EventTable
    trailing_space: bool
    empty_buffer: str          # what an empty BYTEBUF prints
    empty_string: str          # what an empty CHARBUF/FSPATH prints
    # the recorded 0.41 text reference shows successful mmap results in hex as 0.29.3 did (captures
    # README); its JSON keeps 0.41.4's decimal
    mmap_hex: bool
    max_event: int


def profile(name: str) -> Profile:
    if name == "0.29":
        return Profile("0.29", et.v0293(), True, "", "", False, 336)
    return Profile("0.41", et.head(), False, "NULL", "<NA>", True, 454)


def dotted(raw: bytes) -> str:
    """Every byte outside 0x20-0x7E becomes '.' (sysdig's default buffer format)."""
    return raw.translate(_PRINTABLE).decode("ascii")


def ascii_text(raw: bytes) -> str:
    """sysdig -A: printable bytes kept, CR/LF become line breaks, everything else dropped."""
    out = []
    prev = b""
    for i, c in enumerate(raw):
        ch = bytes((c,))
        if 0x20 <= c <= 0x7E:
            out.append(chr(c))
        elif ch == b"\r":
            out.append("\n")
        elif ch == b"\n":
            if prev != b"\r" and i != 0:
                out.append("\n")
        prev = ch
    return "\n" + "".join(out)


def hex_dump(raw: bytes, with_ascii: bool) -> str:
    """sysdig -x / -X."""
    lines = []
    for off in range(0, len(raw), 16):
        row = raw[off:off + 16]
        parts = []
        for k in range(0, len(row), 2):
            pair = row[k:k + 2]
            parts.append(pair.hex() if len(pair) == 2 else f"{pair[0]:02x}")
        line = f"\n\t0x{off:04x}: " + " ".join(parts)
        if with_ascii:
            missing = 8 - len(parts)
            line += " " * (5 * missing) + "  " + dotted(row)
        lines.append(line)
    return "".join(lines) + "\n"


def flags_resolve(table: tuple[tuple[str, int], ...] | None, value: int, exact: bool = False,
                  modern: bool = False) -> str:
    """libsinsp's walk over a flag table (rendering §2.6). 0.29.3 stops at an exact match; current
    libs walk the whole table and resolve enums by listing every entry equal to the value."""
    if not table:
        return ""
    if modern:
        names = []
        v = value
        for name, fv in table:
            if exact:
                if fv == value:
                    names.append(name)
            elif (fv == 0 and value == 0) or (fv != 0 and v != 0 and v & fv == fv):
                names.append(name)
                v &= ~fv
        return "|".join(names)
    names = []
    v = value
    for name, fv in table:
        if fv == value:
            names.append(name)
            break
        if (fv == 0 and value == 0) or (fv != 0 and v != 0 and v & fv == fv):
            names.append(name)
            v &= ~fv
    return "|".join(names)


def _fmt_num(v: int, fmt: int, width: int) -> str:
    """A number in the param's print format; negative hex is two's complement, 8/16/32-bit values
    sign-extended to 32 bits as printf's %X does."""
    if fmt == et.PF_HEX:
        if v < 0:
            v &= 0xFFFFFFFFFFFFFFFF if width == 8 else 0xFFFFFFFF
        return f"{v:X}"
    if fmt == et.PF_OCT:
        return f"0{v:o}" if v else "0"
    if fmt == et.PF_10_PADDED_DEC:
        return f"{v:09d}"
    return str(v)


def _signed_for_print(v: int, width: int) -> int:
    """UINT32/UINT64 go through a signed printf in libsinsp."""
    bits = 8 * max(width, 4) if width >= 4 else 32
    if width >= 4 and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


class ParamRenderer:
    """Renders evt.info for events of one capture against a live StateEngine."""

    def __init__(self, state: StateEngine, prof: Profile):
        self.state = state
        self.prof = prof
        self.table = prof.table
        self.modern = prof.name != "0.29"

    # -- one parameter ------------------------------------------------------------------------
    def param(self, ev: Event, ctx: EventContext, j: int, pinfo: et.ParamInfo, json_mode: bool) -> tuple[str, str]:
        """(value, resolved) for parameter j."""
        raw = ev.raw(j)
        ptype, fmt = pinfo.type, pinfo.fmt
        if ptype == et.PT_DYN and pinfo.dyn and raw is not None and len(raw) > 0:
            sub = self.table.dyn.get(pinfo.dyn, ())
            idx = raw[0]
            if idx < len(sub):
                pinfo2 = sub[idx]
                raw = raw[1:]
                ptype = pinfo2.type
        if raw is None or len(raw) == 0:
            return self._empty(ptype, ev, ctx, json_mode)
        p = self.prof
        if ptype in (et.PT_INT8, et.PT_INT16, et.PT_INT32, et.PT_INT64):
            v = as_int(raw, True)
            if v is None:
                return "", ""
            return _fmt_num(v, fmt, len(raw)), ""
        if ptype in (et.PT_UINT8, et.PT_UINT16, et.PT_UINT32, et.PT_UINT64):
            v = as_int(raw, False)
            if v is None:
                return "", ""
            if fmt in (et.PF_HEX, et.PF_OCT):
                return _fmt_num(v, fmt, len(raw)), ""
            return _fmt_num(_signed_for_print(v, len(raw)), fmt, len(raw)), ""
        if ptype in (et.PT_FD, et.PT_FD32):
            v = as_int(raw, True)
            return self.fd(v, ctx)
        if ptype in (et.PT_PID, et.PT_PID32):
            v = as_int(raw, True)
            t = self.state.find_thread(v) if v is not None else None
            return str(v), (t.comm if t is not None else "")
        if ptype == et.PT_ERRNO:
            v = as_int(raw, True)
            if v is None:
                return "", ""
            if p.mmap_hex and not json_mode and fmt == et.PF_HEX and v >= 0:
                return f"{v:X}", ""
            return str(v), (errno_name(-v) if v < 0 else "")
        if ptype == et.PT_CHARBUF:
            s = bytes(raw).split(b"\0", 1)[0]
            if not s and p.empty_string and len(raw) <= 1:
                return p.empty_string, ""
            return s.decode("utf-8", "surrogateescape"), ""
        if ptype in (et.PT_FSPATH, et.PT_FSRELPATH):
            return self._path(ev, ctx, j, pinfo, raw)
        if ptype == et.PT_BYTEBUF:
            return self.buffer(bytes(raw), json_mode), ""
        if ptype == et.PT_SOCKADDR:
            return _sockaddr(raw), ""
        if ptype == et.PT_SOCKTUPLE:
            return _socktuple(raw), ""
        if ptype == et.PT_FDLIST:
            return self._fdlist(raw, ctx), ""
        if ptype == et.PT_SYSCALLID:
            v = as_int(raw, False)
            return str(v), self.table.syscall_name(v) or ""
        if ptype == et.PT_SIGTYPE:
            v = raw[0]
            return str(v), signal_name(v)
        if ptype == et.PT_RELTIME:
            v = as_int(raw, False)
            if v == 0xFFFFFFFFFFFFFFFF:
                return "none", ""
            return str(v), _g(v / 1e9) + "s"
        if ptype in (et.PT_FLAGS8, et.PT_FLAGS16, et.PT_FLAGS32, et.PT_ENUMFLAGS8, et.PT_ENUMFLAGS16,
                     et.PT_ENUMFLAGS32):
            v = as_int(raw, False)
            exact = ptype >= et.PT_ENUMFLAGS8
            return str(v), flags_resolve(self.table.flags.get(pinfo.flags or ""), v, exact, self.modern)
        if ptype == et.PT_MODE:
            v = as_int(raw, False)
            return _fmt_num(v, fmt, 4), flags_resolve(self.table.flags.get(pinfo.flags or ""), v,
                                                      False, self.modern)
        if ptype in (et.PT_UID, et.PT_GID):
            v = as_int(raw, False)
            if v is None:
                return "", ""
            if v == 0xFFFFFFFF:
                return "-1", "<NONE>"
            if ptype == et.PT_UID:
                name = self.state.user_name(v)
            else:
                g = self.state.groups.get(v)
                name = g.name if g else None
            return str(_signed_for_print(v, 4)), sanitize(name) if name is not None else "<NA>"
        if ptype == et.PT_SIGSET:
            v = as_int(raw, False) or 0
            return " ".join(signal_name(i + 1) for i in range(32) if v >> i & 1 and signal_name(i + 1)), ""
        if ptype == et.PT_BOOL:
            v = as_int(raw, False)
            return ("true" if v else "false"), ""
        if ptype == et.PT_DOUBLE and len(raw) == 8:
            return _g(struct.unpack("<d", raw)[0]), ""
        if ptype in (et.PT_PORT,):
            return str(as_int(raw, False)), ""
        if ptype in (et.PT_L4PROTO, et.PT_SOCKFAMILY):
            return str(raw[0]), ""
        if ptype in (et.PT_IPV4ADDR, et.PT_IPADDR, et.PT_IPV6ADDR):
            b = bytes(raw)
            if len(b) == 4:
                return ipv4_str(b), ""
            if len(b) == 16:
                return ipv6_str(b), ""
            return "", ""
        if ptype == et.PT_ABSTIME and self.modern:
            v = as_int(raw, False)
            sec, ns = divmod(v, 1_000_000_000)
            try:
                return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec)) + f".{ns:09d}", ""
            except (OverflowError, OSError, ValueError):
                return str(v), ""
        if ptype in (et.PT_ABSTIME, et.PT_DYN):
            return "INVALID DYNAMIC PARAMETER", ""
        if ptype == et.PT_CHARBUFARRAY:
            return ".".join(x.decode("utf-8", "surrogateescape") for x in bytes(raw).rstrip(b"\0").split(b"\0")), ""
        return "(n.a.)", ""

    def _empty(self, ptype: int, ev: Event, ctx: EventContext, json_mode: bool) -> tuple[str, str]:
        p = self.prof
        if ptype in (et.PT_SOCKTUPLE, et.PT_SOCKADDR):
            return "NULL", ""
        if ptype == et.PT_BYTEBUF:
            return p.empty_buffer, ""
        if ptype in (et.PT_CHARBUF, et.PT_FSPATH, et.PT_FSRELPATH):
            if ptype != et.PT_CHARBUF and ctx.tinfo is None and not p.empty_string:
                return "", ""
            return p.empty_string, ""
        return "", ""

    def fd(self, fd: int | None, ctx: EventContext) -> tuple[str, str]:
        if fd is None:
            return "", ""
        s = str(fd)
        t = ctx.tinfo
        if t is None:
            return s, ""
        if fd >= 0:
            f = self.state.get_fd(t, fd)
            if f is None:
                return s, ""
            return s, f"<{f.typechar(self.prof.name != '0.29')}{f.l4char()}>{sanitize(f.name)}"
        if fd == -100:
            return s, "AT_FDCWD"
        return s, errno_name(-fd)

    def buffer(self, raw: bytes, json_mode: bool) -> str:
        s = dotted(raw)
        if not json_mode and len(s) > _TRAILING_CUT:
            s = s[:_TRAILING_CUT - 3] + "..."
        return s

    def _path(self, ev: Event, ctx: EventContext, j: int, pinfo: et.ParamInfo, raw) -> tuple[str, str]:
        b = bytes(raw).split(b"\0", 1)[0]
        value = sanitize(b.decode("utf-8", "surrogateescape"))
        t = ctx.tinfo
        if t is None:
            return value, value
        if b.startswith(b"<NA>"):
            return value, ""
        if b.startswith(b"/") or (self.modern and not b):
            return value, ""
        base = self.state.cwd(t)
        if pinfo.type == et.PT_FSRELPATH and pinfo.dirfd is not None:
            dinfo = self.table.events[ev.type].params
            if pinfo.dirfd < len(dinfo) and dinfo[pinfo.dirfd].type == et.PT_FD:
                dirfd = as_int(ev.raw(pinfo.dirfd), True)
                if dirfd is not None and dirfd != -100:
                    f = self.state.get_fd(t, dirfd)
                    base = (f.name + "/") if f is not None else ""
        full = base + value
        if not full:
            return value, ""
        norm = posixpath.normpath(full) if full.startswith("/") else full
        if norm.startswith("//"):
            norm = "/" + norm.lstrip("/")
        return value, norm

    def _fdlist(self, raw, ctx: EventContext) -> str:
        t = ctx.tinfo
        if t is None or len(raw) < 2:
            return ""
        (n,) = struct.unpack_from("<H", raw, 0)
        items = []
        pos = 2
        for _ in range(n):
            if pos + 10 > len(raw):
                break
            fd, fl = struct.unpack_from("<qh", raw, pos)
            f = self.state.get_fd(t, fd)
            tch = f.typechar(self.prof.name != "0.29") if f is not None else "?"
            items.append(f"{fd & 0xFFFFFFFFFFFFFFFF}:{tch}{fl & 0xFFFFFFFF:x}")
            pos += 10
        return " ".join(items)

    # -- the whole evt.info -------------------------------------------------------------------
    def info(self, ev: Event, ctx: EventContext, json_mode: bool = False) -> str:
        einfo = self.table.events[ev.type]
        if ev.type in (0, 1):
            return ""
        parts = []
        params = einfo.params
        for j in range(min(len(params), ev.nparams)):
            pinfo = params[j]
            value, resolved = self.param(ev, ctx, j, pinfo, json_mode)
            if resolved:
                parts.append(f"{pinfo.name}={value}({resolved}) ")
            else:
                parts.append(f"{pinfo.name}={value} ")
        s = "".join(parts)
        if not self.prof.trailing_space and s.endswith(" "):
            s = s[:-1]
        return s


def _g(x: float) -> str:
    """C's %g (6 significant digits)."""
    return f"{x:g}"


# the text of a sockaddr / socktuple parameter depends on its bytes alone: kept by them (a load renders
# the same few addresses thousands of times, e.g. every failed connect's fd.name)
@lru_cache(maxsize=1 << 14)
def _sockaddr_text(raw: bytes) -> str:
    return sockaddr_name(parse_sockaddr(raw))


@lru_cache(maxsize=1 << 14)
def _socktuple_text(raw: bytes) -> str:
    tup = parse_socktuple(raw)
    if tup is not None and tup[0] == "other" and raw[0] in (2, 10):
        return "INVALID IPv4" if raw[0] == 2 else "INVALID IPv6"
    return socktuple_name(tup)


def _sockaddr(raw) -> str:
    return _sockaddr_text(bytes(raw))


def _socktuple(raw) -> str:
    return _socktuple_text(bytes(raw))


__all__ = ["ParamRenderer", "Profile", "profile", "dotted", "ascii_text", "hex_dump", "flags_resolve",
           "is_v4_mapped"]
