"""Field getters the views need beyond scapinspect.state.fields, with libsinsp 0.29.3 semantics
(0.41.4 where a capture is replayed in that mode).

New field names are registered in ``scapinspect.state.fields.FIELDS`` by ``register()``. Fields that
the state module already has but that need the container table (container.*, fd.container*) or the
view form of a value (evt.time as text) are only overridden for views, in ``VIEW_OVERRIDES``.
Memory, page-fault and container facts come from ``ViewState`` (tracking.py); on a stream replayed
by a plain StateEngine those fields are missing (None).
"""
from __future__ import annotations

import time
from collections.abc import Callable

from ...parsers import eventtable as et
from ...parsers import metadata as md
from ...parsers.params import as_int, ipv4_str, ipv6_str
from ...state import fields as sf
from ...state.fields import (
    FieldContext,
    _container_id,
    _container_image,
    _container_name,
    _container_prefix,
    _container_type,
)
from ...state.model import ROLE_NONE

Getter = Callable[[FieldContext], object]

PROCINFO_E = 234
SCHEDSWITCH_6_E = 152
# the high category bits current libs strip in sinsp_evt::get_category()
_CATEGORY_SOURCE_BITS = et.EC_SYSCALL | et.EC_TRACEPOINT | et.EC_PLUGIN | et.EC_METAEVENT
_FILE_FDS = frozenset({md.FD_FILE, md.FD_FILE_V2, md.FD_DIRECTORY})
_FILE_DATA_FDS = frozenset({md.FD_FILE, md.FD_FILE_V2})
_NET_FDS = frozenset({md.FD_IPV4_SOCK, md.FD_IPV6_SOCK, md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK})
_SOCKET_FDS = _NET_FDS | {md.FD_UNIX_SOCK}
_OPENS = frozenset({"open", "creat", "openat", "openat2"})
_NET_CREATORS = frozenset({"accept", "accept4", "connect"})


def _legacy(fc: FieldContext) -> bool:
    return fc.stream.prof.name == "0.29"


def _category(fc: FieldContext) -> int:
    return fc.einfo.category & ~_CATEGORY_SOURCE_BITS


def _extras(fc: FieldContext):
    return getattr(fc.state, "extra", None)


# -- evt.count* ---------------------------------------------------------------------------------
def _error_count(fc: FieldContext) -> int | None:
    r = fc.res()
    return 1 if r is not None and r < 0 else None


def _error_file(fc: FieldContext) -> int | None:
    f = fc.ctx.fdinfo
    if f is not None:
        return _error_count(fc) if f.type in _FILE_FDS else None
    if fc.ev.type % 2 == 1 and fc.einfo.name in _OPENS:
        return _error_count(fc)
    return None


def _error_net(fc: FieldContext) -> int | None:
    f = fc.ctx.fdinfo
    if f is not None:
        return _error_count(fc) if f.type in _SOCKET_FDS else None
    if fc.ev.type % 2 == 1 and fc.einfo.name in _NET_CREATORS:
        return _error_count(fc)
    return None


def _error_memory(fc: FieldContext) -> int | None:
    return _error_count(fc) if _category(fc) == et.EC_MEMORY else None


def _error_other(fc: FieldContext) -> int | None:
    f = fc.ctx.fdinfo
    if f is not None:
        return None if f.type in _FILE_FDS or f.type in _SOCKET_FDS else _error_count(fc)
    exit_ = fc.ev.type % 2 == 1
    if exit_ and (fc.einfo.name in _OPENS or fc.einfo.name in _NET_CREATORS):
        return None
    if _category(fc) == et.EC_MEMORY:
        return None
    return _error_count(fc)


def _procinfo_count(main_only: bool) -> Getter:
    def get(fc: FieldContext) -> int | None:
        miss = None if _legacy(fc) else 0
        if fc.ev.type != PROCINFO_E:
            return miss
        if main_only:
            t = fc.ctx.tinfo
            return 1 if t is not None and t.is_main() else miss
        return 1
    return get


# -- evt.buflen.* ----------------------------------------------------------------------------------
def _buflen(direction: int | None, fds: frozenset | None) -> Getter:
    """Return value of successful I/O exits on a known fd, for one direction and fd kind."""
    def get(fc: FieldContext) -> int | None:
        f = fc.ctx.fdinfo
        if f is None or fc.ev.type % 2 == 0:
            return None
        cat = _category(fc)
        if direction is None:
            if not cat & et.EC_IO_READ:          # EC_IO_BASE
                return None
        elif cat != direction:
            return None
        if fds is not None and f.type not in fds:
            return None
        r = as_int(fc.ev.raw(0), True)
        return r if r is not None and r >= 0 else None
    return get


# -- thread facts -----------------------------------------------------------------------------
def _thread(fn: Callable) -> Getter:
    def get(fc: FieldContext):
        t = fc.ctx.tinfo
        return None if t is None else fn(fc, t)
    return get


def _memory(attr: str, scale: int, main_only: bool) -> Getter:
    def get(fc: FieldContext, t) -> int | None:
        extra = _extras(fc)
        if extra is None:
            return None
        if main_only and not t.is_main():
            return 0
        return getattr(extra.mem(t), attr) * scale
    return _thread(get)


def _nthreads(fc: FieldContext, t) -> int | None:
    counter = getattr(fc.state, "nthreads", None)
    return counter(t) if counter is not None else None


def _ns_id(attr: str) -> Getter:
    def get(fc: FieldContext, t) -> int | None:
        v = getattr(t, attr)
        return None if v == -1 else v
    return _thread(get)


def _cpu_ticks(fc: FieldContext) -> tuple[int, int] | None:
    """(user, system) ticks of a procinfo event; thread.cpu* are computed from them per view."""
    if fc.ev.type != PROCINFO_E or fc.ctx.tinfo is None:
        return None
    u, s = as_int(fc.ev.raw(0), False), as_int(fc.ev.raw(1), False)
    return (u or 0, s or 0)


def _syscall_type(fc: FieldContext) -> str | None:
    ev = fc.ev
    if _legacy(fc):
        # 0.29.3 tests the event *flags* against EC_INTERNAL (= EF_SKIPPARSERESET)
        if ev.type == SCHEDSWITCH_6_E or fc.einfo.flags & (et.EC_INTERNAL | et.EF_SKIPPARSERESET):
            return None
    elif not fc.einfo.category & et.EC_SYSCALL:
        return None
    return fc.stream.type_name(ev)


def _prefixed(base: Getter) -> Getter:
    def get(fc: FieldContext) -> str | None:
        v = base(fc)
        return None if v is None else _container_prefix(fc) + v
    return get


def _local_remote(local: bool, want_ip: bool) -> Getter:
    """fd.lip / fd.rip / fd.lport / fd.rport: the source end is local when its address belongs to
    the machine's interfaces (IPv4: exact address or a container's IP; IPv6: same first 64 bits)."""
    def get(fc: FieldContext):
        if not fc.fd_related():
            return None
        f = fc.fdinfo()
        if f is None or f.role == ROLE_NONE or f.type not in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
            return None
        extra = _extras(fc)
        width = 4 if f.type == md.FD_IPV4_SOCK else 16
        sip = bytes(f.sip or bytes(width))
        is_local = extra.is_local(fc.ctx.tinfo, sip) if extra is not None else False
        use_src = is_local == local
        if want_ip:
            addr = sip if use_src else bytes(f.dip or bytes(width))
            return ipv4_str(addr) if width == 4 else ipv6_str(addr)
        return f.sport if use_src else f.dport
    return get


def _ppid(fc: FieldContext):
    """proc.ppid; current libs give the pid of the parent's process, missing when the parent is not
    in the thread table (0.29.3 gives the main thread's ptid)."""
    t = fc.ctx.tinfo
    if t is None:
        return None
    if _legacy(fc):
        return sf.FIELDS["proc.ppid"](fc)
    threads = fc.state.threads
    main = t if t.is_main() else threads.get(t.pid)
    if main is None:
        return None
    parent = threads.get(main.ptid)
    if parent is None:
        return None
    pmain = parent if parent.is_main() else threads.get(parent.pid)
    return None if pmain is None else pmain.pid


def _latency(fc: FieldContext) -> int | None:
    """evt.latency: the thread's last exit-minus-enter time as the parser left it (0.29.3 keeps it on
    unpaired exits and on context switches too); always 0 in current libs."""
    t = fc.ctx.tinfo
    if t is None:
        return 0
    if fc.einfo.category & et.EC_INTERNAL:
        return None
    if not _legacy(fc):
        return 0
    return t.latency


def _evt_time(fc: FieldContext) -> str:
    ts = fc.ev.ts
    sec, ns = divmod(ts, 1_000_000_000)
    s = (sec + time.localtime().tm_gmtoff) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}.{ns:09d}"


def type_is(n: int) -> Getter:
    """evt.type.is.N: 1 for events of type id N, else 0."""
    return lambda fc: 1 if fc.ev.type == n else 0


NEW_FIELDS: dict[str, Getter] = {
    "evt.count": lambda fc: 1,
    "evt.count.exit": lambda fc: 1 if fc.ev.type % 2 == 1 else None,
    "evt.count.error": _error_count,
    "evt.count.error.file": _error_file,
    "evt.count.error.net": _error_net,
    "evt.count.error.memory": _error_memory,
    "evt.count.error.other": _error_other,
    "evt.count.procinfo": _procinfo_count(True),
    "evt.count.threadinfo": _procinfo_count(False),
    "evt.buflen.in": _buflen(et.EC_IO_READ, None),
    "evt.buflen.out": _buflen(et.EC_IO_WRITE, None),
    "evt.buflen.file": _buflen(None, _FILE_DATA_FDS),
    "evt.buflen.file.in": _buflen(et.EC_IO_READ, _FILE_DATA_FDS),
    "evt.buflen.file.out": _buflen(et.EC_IO_WRITE, _FILE_DATA_FDS),
    "evt.buflen.net": _buflen(None, _NET_FDS),
    "evt.buflen.net.in": _buflen(et.EC_IO_READ, _NET_FDS),
    "evt.buflen.net.out": _buflen(et.EC_IO_WRITE, _NET_FDS),
    "syscall.type": _syscall_type,
    "proc.vpid": _ns_id("vpid"),
    "thread.vtid": _ns_id("vtid"),
    "proc.nthreads": _thread(_nthreads),
    "thread.vmsize": _memory("vmsize_kb", 1, True),
    "thread.vmrss": _memory("vmrss_kb", 1, True),
    "thread.vmsize.b": _memory("vmsize_kb", 1024, True),
    "thread.vmrss.b": _memory("vmrss_kb", 1024, True),
    "proc.vmsize": _memory("vmsize_kb", 1, False),
    "proc.vmrss": _memory("vmrss_kb", 1, False),
    "thread.pfmajor": _memory("pfmajor", 1, False),
    "thread.pfminor": _memory("pfminor", 1, False),
    "container.type": _thread(_container_type),
    "container.image": _thread(_container_image),
}

# per-view replacements of fields the state module already defines
VIEW_OVERRIDES: dict[str, Getter] = {
    "container.id": _thread(_container_id),
    "container.name": _thread(_container_name),
    "fd.containername": _prefixed(sf.FIELDS["fd.name"]),
    "fd.containerdirectory": _prefixed(sf.FIELDS["fd.directory"]),
    "evt.time": _evt_time,
    "fd.lip": _local_remote(True, True),
    "fd.rip": _local_remote(False, True),
    "fd.lport": _local_remote(True, False),
    "fd.rport": _local_remote(False, False),
    "proc.ppid": _ppid,
    "evt.latency": _latency,
}

# the raw input of thread.cpu / thread.cpu.user / thread.cpu.system (see aggregate.cpu_column)
CPU_TICKS = "_cpu.ticks"
CPU_FIELDS = frozenset({"thread.cpu", "thread.cpu.user", "thread.cpu.system"})


def view_getter(name: str) -> Getter:
    """The getter views use for ``name``."""
    if name == CPU_TICKS:
        return _cpu_ticks
    if name in VIEW_OVERRIDES:
        return VIEW_OVERRIDES[name]
    if name.startswith("evt.type.is."):
        return type_is(int(name.rsplit(".", 1)[1]))
    g = sf.getter(name)
    if g is None:
        raise KeyError(f"field {name!r} cannot be extracted")
    return g


def register() -> None:
    """Add the fields the views introduce to the shared field registry (existing entries win), and the
    container-aware fd.container* (container table with a ViewState, cgroups otherwise)."""
    for name, fn in NEW_FIELDS.items():
        sf.FIELDS.setdefault(name, fn)
    for name in ("fd.containername", "fd.containerdirectory"):
        sf.FIELDS[name] = VIEW_OVERRIDES[name]
