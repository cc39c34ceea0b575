"""Threads, file descriptors and their names, as libsinsp keeps them (scap-format.md §6)."""
from __future__ import annotations

import operator
import posixpath

from ..parsers import metadata as md
from ..parsers.params import ipv4_str, ipv6_str, tuple_text

# PPM_CL_* thread flags
CL_CLONE_FILES = 1 << 0
CL_CLONE_FS = 1 << 1
CL_CLONE_THREAD = 1 << 13
CL_CLONE_INVERTED = 1 << 16
CL_NAME_CHANGED = 1 << 17
CL_CLOSED = 1 << 18
CL_ACTIVE = 1 << 19
CL_PIPE_SRC = 1 << 21
CL_PIPE_DST = 1 << 22
CL_CLONE_VFORK = 1 << 27
CL_CHILD_IN_PIDNS = 1 << 29
CL_IS_MAIN_THREAD = 1 << 30

O_DIRECTORY = 1 << 10
O_CLOEXEC = 1 << 12
AT_FDCWD = -100

ROLE_NONE, ROLE_CLIENT, ROLE_SERVER = 0, 1, 2

TYPE_CHARS = {
    md.FD_FILE: "f", md.FD_FILE_V2: "f", md.FD_DIRECTORY: "d", md.FD_IPV4_SOCK: "4", md.FD_IPV4_SERVSOCK: "4",
    md.FD_IPV6_SOCK: "6", md.FD_IPV6_SERVSOCK: "6", md.FD_UNIX_SOCK: "u", md.FD_FIFO: "p", md.FD_EVENT: "e",
    md.FD_SIGNALFD: "s", md.FD_EVENTPOLL: "l", md.FD_INOTIFY: "i", md.FD_TIMERFD: "t", md.FD_NETLINK: "n",
    md.FD_UNKNOWN: "o", md.FD_UNSUPPORTED: "X",
}
# current libs know a few more
TYPE_CHARS_HEAD = {**TYPE_CHARS, md.FD_BPF: "b", md.FD_USERFAULTFD: "u", md.FD_IOURING: "r",
                   md.FD_MEMFD: "m", md.FD_PIDFD: "P"}
TYPE_NAMES = {
    md.FD_FILE: "file", md.FD_FILE_V2: "file", md.FD_DIRECTORY: "directory", md.FD_IPV4_SOCK: "ipv4",
    md.FD_IPV6_SOCK: "ipv6", md.FD_IPV4_SERVSOCK: "ipv4", md.FD_IPV6_SERVSOCK: "ipv6", md.FD_UNIX_SOCK: "unix",
    md.FD_FIFO: "pipe", md.FD_EVENT: "event", md.FD_SIGNALFD: "signalfd", md.FD_EVENTPOLL: "eventpoll",
    md.FD_INOTIFY: "inotify", md.FD_TIMERFD: "timerfd", md.FD_NETLINK: "netlink", md.FD_BPF: "bpf",
    md.FD_USERFAULTFD: "userfaultfd", md.FD_IOURING: "io_uring", md.FD_MEMFD: "memfd", md.FD_PIDFD: "pidfd",
    md.FD_UNKNOWN: "unknown", md.FD_UNSUPPORTED: "unsupported",
}
L4_CHARS = {md.L4_TCP: "t", md.L4_UDP: "u", md.L4_ICMP: "i", md.L4_RAW: "r"}
L4_NAMES = {md.L4_TCP: "tcp", md.L4_UDP: "udp", md.L4_ICMP: "icmp", md.L4_RAW: "raw"}
IP_TYPES = frozenset({md.FD_IPV4_SOCK, md.FD_IPV6_SOCK, md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK})


class FdInfo:
    """One file descriptor's state. IPs are raw bytes (4 or 16), ports ints."""

    __slots__ = ("type", "name", "l4proto", "sip", "sport", "dip", "dport", "role", "openflags", "ino",
                 "dev", "source", "dest", "close_in_progress", "oldname", "sockraw")

    def __init__(self, ftype: int, name: str = "", l4proto: int = 0):
        self.type = ftype
        self.name = name
        self.l4proto = l4proto
        self.sip = self.dip = b""
        self.sport = self.dport = 0
        self.role = ROLE_NONE
        self.openflags = 0
        self.ino = 0
        self.dev = 0
        self.source = self.dest = 0
        self.close_in_progress = False
        self.oldname = name
        # proc-list sockets: libsinsp's sockinfo union as loaded (bytes a type leaves alone keep the
        # previous fd's values), read back when a server socket turns into a tuple
        self.sockraw: bytes | None = None

    def copy(self) -> FdInfo:
        n = FdInfo.__new__(FdInfo)
        for s, v in zip(_FD_SLOTS, _fd_values(self), strict=True):
            setattr(n, s, v)
        return n

    def typechar(self, head: bool = False) -> str:
        return (TYPE_CHARS_HEAD if head else TYPE_CHARS).get(self.type, "?")

    def l4(self) -> int:
        """The l4 protocol as libsinsp reports it: unknown (NA) for sockets with no role yet."""
        if self.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
            if self.l4proto == md.L4_RAW:
                return md.L4_RAW
            if self.role == ROLE_NONE:
                return md.L4_NA
            return self.l4proto
        if self.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
            return self.l4proto
        return md.L4_UNKNOWN

    def l4char(self) -> str:
        return L4_CHARS.get(self.l4(), "") if self.type in IP_TYPES else ""

    @property
    def is_v4(self) -> bool:
        return self.type in (md.FD_IPV4_SOCK, md.FD_IPV4_SERVSOCK)

    def tuple_name(self) -> str:
        """The libsinsp name of a connected ip socket: sip:sport->dip:dport."""
        n = 4 if self.type == md.FD_IPV4_SOCK else 16
        return tuple_text(bytes(self.sip or bytes(n))[:n].ljust(n, b"\0"), self.sport,
                          bytes(self.dip or bytes(n))[:n].ljust(n, b"\0"), self.dport)


_FD_SLOTS = FdInfo.__slots__
_fd_values = operator.attrgetter(*_FD_SLOTS)


class ThreadInfo:
    """One thread. Processes are their main thread (tid == pid)."""

    __slots__ = ("tid", "pid", "ptid", "comm", "exe", "exepath", "args", "env", "cwd", "uid", "gid",
                 "loginuid", "tty", "flags", "fds", "fdlimit", "vtid", "vpid", "sid", "vpgid", "cgroups",
                 "container_id", "lastevent_type", "lastevent_fd", "last_enter_ts", "latency", "enter",
                 "clone_ts", "placeholder", "version", "mtx")

    def __init__(self, tid: int, pid: int | None = None, ptid: int = -1):
        self.tid = tid
        self.pid = tid if pid is None else pid
        self.ptid = ptid
        self.comm = self.exe = self.exepath = ""
        self.args: list[str] = []
        self.env: list[str] = []
        self.cwd = ""
        self.uid = self.gid = self.loginuid = 0xFFFFFFFF
        self.tty = 0
        self.flags = 0
        self.fds: dict[int, FdInfo] = {}
        self.fdlimit = 0
        self.vtid = self.vpid = -1
        self.sid = self.vpgid = -1
        self.cgroups: list[str] = []
        self.container_id = ""
        self.lastevent_type = -1
        self.lastevent_fd = -1
        self.last_enter_ts = 0
        self.latency = 0
        self.enter = None        # the last enter event of this thread (for its params)
        self.clone_ts = 0
        self.placeholder = False
        self.version = 0         # bumped on every change of what proc.* fields show
        self.mtx = None

    @classmethod
    def from_entry(cls, e: md.ThreadEntry) -> ThreadInfo:
        t = cls(e.tid, e.pid, e.ptid)
        t.comm, t.exe, t.exepath = e.comm, e.exe, e.exepath
        t.args = list(e.args)
        t.env = list(e.env)
        t.uid, t.gid, t.loginuid, t.tty = e.uid, e.gid, e.loginuid, e.tty
        t.flags = e.flags
        t.fdlimit = e.fdlimit
        t.vtid, t.vpid, t.sid, t.vpgid = e.vtid, e.vpid, e.sid, e.vpgid
        t.cgroups = list(e.cgroups)
        t.clone_ts = 0
        return t

    def is_main(self) -> bool:
        return self.tid == self.pid or bool(self.flags & CL_IS_MAIN_THREAD)


def concat_paths(base: str, path: str) -> str:
    """libsinsp's concatenate_paths: an absolute path is normalised alone, a relative one joined to
    base; '.', '..' and repeated '/' are resolved; a trailing '/' is dropped (but '/' stays)."""
    if not path:
        full = base
    elif path.startswith("/") or not base:
        full = path
    else:
        full = base + ("" if base.endswith("/") else "/") + path
    if not full:
        return full
    norm = posixpath.normpath(full)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def fd_from_entry(e: md.FdEntry) -> FdInfo:
    """An fd from the capture's fd list, named as libsinsp names it."""
    f = FdInfo(e.type, e.name)
    f.ino = e.ino
    if e.type == md.FD_IPV4_SOCK:
        f.sip, f.dip, f.sport, f.dport, f.l4proto = e.sip, e.dip, e.sport, e.dport, e.l4proto
        f.name = f.tuple_name()
    elif e.type == md.FD_IPV6_SOCK:
        f.sport, f.dport, f.l4proto = e.sport, e.dport, e.l4proto
        if e.sip[:12] == b"\0" * 10 + b"\xff\xff" and e.dip[:12] == b"\0" * 10 + b"\xff\xff":
            f.type = md.FD_IPV4_SOCK
            f.sip, f.dip = e.sip[12:], e.dip[12:]
        else:
            f.sip, f.dip = e.sip, e.dip
        f.name = f.tuple_name()
    elif e.type == md.FD_IPV4_SERVSOCK:
        f.sip, f.sport, f.l4proto = e.sip, e.sport, e.l4proto
        f.name = f"{ipv4_str(e.sip)}:{e.sport}"
        f.role = ROLE_SERVER
    elif e.type == md.FD_IPV6_SERVSOCK:
        f.sip, f.sport, f.l4proto = e.sip, e.sport, e.l4proto
        f.name = f"{ipv6_str(e.sip)}:{e.sport}"
        f.role = ROLE_SERVER
    elif e.type == md.FD_UNIX_SOCK:
        f.source, f.dest = e.source, e.dest
        f.role = ROLE_CLIENT if not e.name else ROLE_SERVER
    elif e.type == md.FD_FILE_V2:
        f.openflags, f.dev = e.open_flags, e.dev
    f.oldname = f.name
    return f
