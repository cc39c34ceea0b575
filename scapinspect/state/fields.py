"""Sysdig field values of one event, computed from the event and the state right after it was parsed,
with libsinsp 0.29.3's semantics (userspace/libsinsp/filterchecks.cpp at e5c53d).

A value of None means "could not be extracted": sysdig's filters treat such a field as not matching.
Strings are str, numbers int, flags bool, IP addresses their dotted/colon text.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from ..parsers import eventtable as et
from ..parsers import metadata as md
from ..parsers.params import as_int, ipv4_str, ipv6_str, p_int
from .engine import sanitize
from .model import ROLE_NONE, TYPE_NAMES, FdInfo
from .tracking import CONTAINER_TYPES, match_runc

EC_IO_BASE = 32
_FD_FLAGS = et.EF_CREATES_FD | et.EF_USES_FD | et.EF_DESTROYS_FD
_L4 = {md.L4_TCP: "tcp", md.L4_UDP: "udp", md.L4_ICMP: "icmp", md.L4_RAW: "raw"}
_SUBCAT = {
    md.FD_FILE: "file", md.FD_FILE_V2: "file", md.FD_DIRECTORY: "file", md.FD_IPV4_SOCK: "net",
    md.FD_IPV6_SOCK: "net", md.FD_IPV4_SERVSOCK: "net", md.FD_IPV6_SERVSOCK: "net", md.FD_FIFO: "ipc",
    md.FD_UNIX_SOCK: "ipc", md.FD_EVENT: "ipc", md.FD_SIGNALFD: "ipc", md.FD_INOTIFY: "ipc",
}
_CATEGORY = {
    et.EC_UNKNOWN: "unknown", et.EC_OTHER: "other", et.EC_FILE: "file", et.EC_NET: "net", et.EC_IPC: "IPC",
    et.EC_MEMORY: "memory", et.EC_PROCESS: "process", et.EC_SLEEP: "sleep", et.EC_SYSTEM: "system",
    et.EC_SIGNAL: "signal", et.EC_USER: "user", et.EC_TIME: "time", et.EC_PROCESSING: "processing",
    et.EC_WAIT: "wait", et.EC_SCHEDULER: "scheduler",
}
_CREATORS_ARG1 = frozenset({"open", "accept", "accept4", "creat", "connect"})
_OPEN_ENTERS = frozenset({"open", "openat", "openat2", "creat"})
ARG_FIELD = re.compile(r"^(evt\.arg)(?:\.(\w+)|\[(\d+)\])$|^(proc\.aname|proc\.apid)\[(\d+)\]$")


class FieldContext:
    """Everything a field needs about one event: the event, its context and the live state."""

    __slots__ = ("item", "ev", "ctx", "stream", "state", "einfo", "_fd", "_fd_done")

    def __init__(self, stream, item):
        self.item = item
        self.ev = item.ev
        self.ctx = item.ctx
        self.stream = stream
        self.state = stream.state
        self.einfo = stream.prof.table.events[item.ev.type]
        self._fd_done = False
        self._fd = None

    @property
    def tinfo(self):
        return self.ctx.tinfo

    def fd_related(self) -> bool:
        return bool(self.einfo.flags & _FD_FLAGS) and self.ctx.tinfo is not None

    def fdinfo(self) -> FdInfo | None:
        if not self._fd_done:
            self._fd_done = True
            f = self.ctx.fdinfo
            t = self.ctx.tinfo
            if f is None and t is not None and t.lastevent_fd != -1:
                f = self.state.get_fd(t, t.lastevent_fd)
            self._fd = f
        return self._fd

    def res(self) -> int | None:
        """The 'res' param, or for fd-creating exits the 'fd' param."""
        names = [p.name for p in self.einfo.params]
        if "res" in names:
            i = names.index("res")
            return as_int(self.ev.raw(i), True) if i < self.ev.nparams else None
        if self.einfo.flags & et.EF_CREATES_FD and self.ev.type % 2 == 1 and "fd" in names:
            i = names.index("fd")
            return as_int(self.ev.raw(i), True) if i < self.ev.nparams else None
        return None


def _evt_category(fc: FieldContext) -> str:
    ev = fc.ev
    if ev.type in (0, 1):
        return "other"
    cat = fc.einfo.category & 0xFF
    if cat & EC_IO_BASE:
        f = fc.ctx.fdinfo
        if f is None:
            return "unknown"
        return _SUBCAT.get(f.type, "unknown")
    return _CATEGORY.get(cat, "unknown")


def _evt_res(fc: FieldContext) -> str | None:
    r = fc.res()
    if r is None:
        return None
    if r >= 0:
        return "SUCCESS"
    from ..render.errno import errno_name
    return errno_name(-r) or str(r)


def _evt_failed(fc: FieldContext) -> bool:
    r = fc.res()
    return r is not None and r < 0


def _buflen(fc: FieldContext) -> int | None:
    if fc.ctx.fdinfo is None or not (fc.einfo.category & EC_IO_BASE) or fc.ev.type % 2 == 0:
        return None
    r = as_int(fc.ev.raw(0), True)
    return r if r is not None and r >= 0 else None


def _latency(fc: FieldContext) -> int | None:
    """The thread's last syscall latency as libsinsp keeps it (0 after an enter event; stale on events
    that do not reset it, such as switch); current libs no longer time syscalls."""
    t = fc.ctx.tinfo
    if t is None:
        return 0
    if fc.einfo.category & et.EC_INTERNAL:
        return None
    if fc.state.modern:
        return 0
    return t.latency


def _proc(fn: Callable) -> Callable:
    def get(fc: FieldContext):
        t = fc.ctx.tinfo
        return None if t is None else fn(fc, t)
    return get


def _ppid(fc: FieldContext, t) -> int | None:
    if t.is_main():
        return t.ptid
    m = fc.state.threads.get(t.pid)
    return m.ptid if m is not None else None


def _pname(fc: FieldContext, t) -> str | None:
    p = fc.state.threads.get(t.ptid)
    return p.comm if p is not None else None


def _username(fc: FieldContext, t) -> str | None:
    return fc.state.user_name(t.uid)


def _loginname(fc: FieldContext, t) -> str | None:
    return fc.state.user_name(t.loginuid)


def _fdfield(fn: Callable, null: Callable | None = None) -> Callable:
    def get(fc: FieldContext):
        if not fc.fd_related():
            return None
        f = fc.fdinfo()
        if f is None:
            return null(fc) if null is not None else None
        return fn(fc, f)
    return get


def _creator_name(fc: FieldContext) -> str | None:
    """fd.name of an event whose fd is not (yet) known: the path/tuple it names, or ''."""
    ev = fc.ev
    if ev.type % 2 == 0:
        return None
    name = fc.einfo.name
    r = fc.stream.renderer
    if name in _CREATORS_ARG1 and ev.nparams > 1:
        value, resolved = r.param(ev, fc.ctx, 1, fc.einfo.params[1], False)
        return resolved or value
    if name in ("openat", "openat2"):
        names = [p.name for p in fc.einfo.params]
        if "name" not in names or names.index("name") >= ev.nparams:
            return None      # old openat exits: the path is in the enter event
        j = names.index("name")
        value, resolved = r.param(ev, fc.ctx, j, fc.einfo.params[j], False)
        return resolved or value
    return ""


def _fd_name(fc: FieldContext, f: FdInfo) -> str | None:
    if fc.einfo.name == "connect" and fc.ev.type % 2 == 1:
        r = p_int(fc.ev, 0)
        if r is not None and r < 0:
            return _creator_name(fc)
    return sanitize(f.name)


def directory_of(name: str) -> str:
    """fd.directory of a file: its name up to the last '/' ('/' for a top-level name)."""
    pos = name.rfind("/")
    if pos > 0:
        if pos < len(name) - 1:
            name = name[:pos]
    else:
        name = "/"
    return name


def _directory(fc: FieldContext, f: FdInfo) -> str | None:
    if f.type not in (md.FD_FILE, md.FD_FILE_V2, md.FD_DIRECTORY):
        return None
    return f.name if f.type == md.FD_DIRECTORY else directory_of(f.name)


def _dir_from_creator(fc: FieldContext) -> str | None:
    n = _creator_name(fc)
    return None if n is None else directory_of(n)


def _filename(fc: FieldContext, f: FdInfo) -> str | None:
    if f.type not in (md.FD_FILE, md.FD_FILE_V2):
        return None
    pos = f.name.rfind("/")
    if pos >= 0:
        return f.name[pos + 1:] if pos < len(f.name) - 1 else f.name
    return "/"


def _typechar_null(fc: FieldContext) -> str:
    base = fc.einfo.name
    if base in _OPEN_ENTERS:
        return "f"
    if base in ("socket", "accept", "accept4"):
        return "4"
    return {"pipe": "p", "eventfd": "e", "signalfd": "s", "timerfd_create": "t", "inotify_init": "i"}.get(base, "o")


def _ip(b: bytes) -> str:
    return ipv4_str(b) if len(b) == 4 else ipv6_str(b)


def _cip(fc, f: FdInfo):
    if f.role == ROLE_NONE or f.type not in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
        return None
    return _ip(f.sip or bytes(4 if f.type == md.FD_IPV4_SOCK else 16))


def _sip(fc, f: FdInfo):
    if f.role == ROLE_NONE:
        return None
    if f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
        return _ip(f.dip or bytes(4 if f.type == md.FD_IPV4_SOCK else 16))
    if f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
        return _ip(f.sip or bytes(4 if f.type == md.FD_IPV4_SERVSOCK else 16))
    return None


def _cport(fc, f: FdInfo):
    if f.role == ROLE_NONE or f.type not in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
        return None
    return f.sport


def _sport(fc, f: FdInfo):
    if f.role == ROLE_NONE:
        return None
    if f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
        return f.dport
    if f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
        return f.sport
    return None


def _is_local(fc, ip: bytes) -> bool:
    """libsinsp's ifinfo: an IPv4 address is local when an interface has it; an IPv6 one when its
    first 64 bits match an interface's."""
    ifaces = fc.state.interfaces
    ip = bytes(ip)
    if len(ip) == 4:
        return any(bytes(i.addr) == ip for i in ifaces if len(i.addr) == 4)
    return any(bytes(i.addr)[:8] == ip[:8] for i in ifaces if len(i.addr) == 16)


def _local_remote(local: bool, want_ip: bool):
    def get(fc, f: FdInfo):
        if f.role == ROLE_NONE or f.type not in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
            return None
        src_local = _is_local(fc, f.sip or b"")
        use_src = src_local == local
        if want_ip:
            return _ip(f.sip if use_src else f.dip)
        return f.sport if use_src else f.dport
    return get


def _l4proto(fc, f: FdInfo):
    return _L4.get(f.l4(), "<NA>")


def _is_server(fc, f: FdInfo):
    if f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
        return True
    if f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
        return _is_local(fc, f.dip or b"")
    return False


# -- containers -----------------------------------------------------------------------------------
def _container(fc: FieldContext, t):  # noqa: ANN202
    """(id, ContainerInfo or None, engine type) of the thread's container; None on the host.
    Without a ViewState (no container table) the id and type still come from the cgroups."""
    extra = getattr(fc.state, "extra", None)
    found = extra.container_of(t) if extra is not None else match_runc(t.cgroups)
    if found is None:
        return None
    cid, ctype = found
    info = extra.containers.get(cid) if extra is not None else None
    return cid, info, ctype


def container_id(state, t) -> str | None:
    """The 12-character id of the thread's container, or None on the host."""
    extra = getattr(state, "extra", None)
    found = extra.container_of(t) if extra is not None else match_runc(t.cgroups)
    return None if found is None else found[0]


def _container_id(fc: FieldContext, t) -> str:
    c = _container(fc, t)
    return "host" if c is None else c[0]


def _container_name(fc: FieldContext, t) -> str | None:
    c = _container(fc, t)
    if c is None:
        return "host"
    info = c[1]
    return info.name if info is not None and info.name else None


def _container_image(fc: FieldContext, t) -> str | None:
    c = _container(fc, t)
    if c is None:
        return None
    info = c[1]
    return info.image if info is not None and info.image else None


def _container_type(fc: FieldContext, t) -> str | None:
    c = _container(fc, t)
    if c is None:
        return "host"
    ctype = c[1].type if c[1] is not None else c[2]
    return CONTAINER_TYPES.get(ctype, "unknown")


def _container_prefix(fc: FieldContext) -> str:
    t = fc.ctx.tinfo
    c = _container(fc, t) if t is not None else None
    return (c[0] if c is not None else "") + ":"




_FD_NAME = _fdfield(_fd_name, _creator_name)

FIELDS: dict[str, Callable[[FieldContext], object]] = {
    "evt.num": lambda fc: fc.item.num,
    "evt.rawtime": lambda fc: fc.ev.ts,
    "evt.time": lambda fc: fc.ev.ts,
    "evt.cpu": lambda fc: fc.ev.cpu,
    "evt.type": lambda fc: fc.stream.type_name(fc.ev),
    "evt.dir": lambda fc: ">" if fc.ev.type % 2 == 0 else "<",
    "evt.category": _evt_category,
    "evt.res": _evt_res,
    "evt.rawres": lambda fc: fc.res(),
    "evt.failed": _evt_failed,
    "evt.is_io": lambda fc: bool(fc.einfo.flags & (et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD)),
    "evt.is_io_read": lambda fc: bool(fc.einfo.flags & et.EF_READS_FROM_FD),
    "evt.is_io_write": lambda fc: bool(fc.einfo.flags & et.EF_WRITES_TO_FD),
    "evt.buflen": _buflen,
    "evt.latency": _latency,
    "evt.info": lambda fc: fc.stream.renderer.info(fc.ev, fc.ctx),
    "evt.args": lambda fc: fc.stream.renderer.info(fc.ev, fc.ctx),
    "thread.tid": lambda fc: fc.ev.tid,
    "proc.name": _proc(lambda fc, t: t.comm),
    "proc.pid": _proc(lambda fc, t: t.pid),
    "proc.ppid": _proc(_ppid),
    "proc.exe": _proc(lambda fc, t: t.exe),
    "proc.exepath": _proc(lambda fc, t: t.exepath),
    "proc.args": _proc(lambda fc, t: " ".join(t.args)),
    "proc.cmdline": _proc(lambda fc, t: " ".join([t.comm, *t.args])),
    "proc.exeline": _proc(lambda fc, t: t.exe + " " + " ".join(t.args)),
    "proc.cwd": _proc(lambda fc, t: fc.state.cwd(t)),
    "proc.tty": _proc(lambda fc, t: t.tty),
    "proc.pname": _proc(_pname),
    "proc.sid": _proc(lambda fc, t: t.sid),
    "thread.nametid": _proc(lambda fc, t: f"{t.comm}{fc.ev.tid}"),
    "user.uid": _proc(lambda fc, t: t.uid),
    "user.name": _proc(_username),
    "user.loginuid": _proc(lambda fc, t: t.loginuid if t.loginuid < 0x80000000 else t.loginuid - (1 << 32)),
    "user.loginname": _proc(_loginname),
    "group.gid": _proc(lambda fc, t: t.gid),
    "group.name": _proc(lambda fc, t: (fc.state.groups[t.gid].name if t.gid in fc.state.groups else None)),
    "container.id": _proc(_container_id),
    "container.name": _proc(_container_name),
    "container.image": _proc(_container_image),
    "container.type": _proc(_container_type),
    "fd.num": lambda fc: fc.ctx.tinfo.lastevent_fd if fc.fd_related() else None,
    "fd.name": _FD_NAME,
    "fd.type": _fdfield(lambda fc, f: TYPE_NAMES.get(f.type, "<NA>")),
    "fd.typechar": _fdfield(lambda fc, f: f.typechar(fc.stream.prof.name != "0.29"), _typechar_null),
    "fd.directory": _fdfield(_directory, _dir_from_creator),
    "fd.filename": _fdfield(_filename, lambda fc: None),
    # fd.name with the container before it (libsinsp extracts both in one case: a failed connect
    # names its address, and the name is sanitized)
    "fd.containername": lambda fc: (lambda n: None if n is None else _container_prefix(fc) + n)(
        _FD_NAME(fc)),
    "fd.containerdirectory": _fdfield(
        lambda fc, f: (lambda d: None if d is None else _container_prefix(fc) + d)(_directory(fc, f)),
        lambda fc: (lambda d: None if d is None else _container_prefix(fc) + d)(_dir_from_creator(fc))),
    "fd.l4proto": _fdfield(_l4proto),
    "fd.cip": _fdfield(_cip),
    "fd.sip": _fdfield(_sip),
    "fd.cport": _fdfield(_cport),
    "fd.sport": _fdfield(_sport),
    "fd.lip": _fdfield(_local_remote(True, True)),
    "fd.rip": _fdfield(_local_remote(False, True)),
    "fd.lport": _fdfield(_local_remote(True, False)),
    "fd.rport": _fdfield(_local_remote(False, False)),
    "fd.is_server": _fdfield(_is_server),
    "fd.name_changed": _fdfield(lambda fc, f: f.name != f.oldname),
}


def _arg_getter(name: str | None, index: int | None) -> Callable:
    def get(fc: FieldContext):
        params = fc.einfo.params
        if index is not None:
            j = index
        else:
            j = next((k for k, p in enumerate(params) if p.name == name), -1)
        if j < 0 or j >= fc.ev.nparams or j >= len(params):
            return None
        value, resolved = fc.stream.renderer.param(fc.ev, fc.ctx, j, params[j], False)
        return resolved or value
    return get


def _ancestor(kind: str, depth: int) -> Callable:
    def get(fc: FieldContext):
        t = fc.ctx.tinfo
        if t is None:
            return None
        for _ in range(depth):
            t = fc.state.threads.get(fc.state.main_thread(t).ptid) if t is not None else None
            if t is None:
                return None
        if t is None:
            return None
        return t.comm if kind == "proc.aname" else t.pid
    return get


def getter(field: str) -> Callable[[FieldContext], object] | None:
    """The value function of a field name (with argument), or None when unknown."""
    fn = FIELDS.get(field)
    if fn is not None:
        return fn
    m = ARG_FIELD.match(field)
    if not m:
        return None
    if m.group(1):
        return _arg_getter(m.group(2), int(m.group(3)) if m.group(3) is not None else None)
    return _ancestor(m.group(4), int(m.group(5)))


def extract(stream, item, fields: list[str]) -> list:
    fc = FieldContext(stream, item)
    return [getter(f)(fc) if getter(f) else None for f in fields]
