"""The state engine: replays events over the thread and fd tables the way libsinsp's parser does,
so that every event can be shown with the process and file descriptor it touched.

``StateEngine.process(ev)`` updates the tables and returns the event's context (thread, fd, latency,
error code). Removals (close, procexit) take effect at the start of the next event, as in libsinsp, so
an event is always rendered with the state *after* it was parsed.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from ..parsers import metadata as md
from ..parsers.eventtable import EF_SKIPPARSERESET, EF_USES_FD, EventTable, head
from ..parsers.params import (
    AF_INET,
    AF_INET6,
    AF_UNIX,
    as_int,
    ipv4_str,
    ipv6_str,
    is_v4_mapped,
    p_bytes,
    p_int,
    p_str,
    parse_sockaddr,
    parse_socktuple,
    split_list,
    tuple_text,
)
from ..parsers.reader import Event, Section
from .model import (
    AT_FDCWD,
    CL_ACTIVE,
    CL_CHILD_IN_PIDNS,
    CL_CLONE_FILES,
    CL_CLONE_INVERTED,
    CL_CLONE_THREAD,
    CL_CLONE_VFORK,
    CL_CLOSED,
    CL_IS_MAIN_THREAD,
    CL_PIPE_DST,
    CL_PIPE_SRC,
    O_DIRECTORY,
    ROLE_CLIENT,
    ROLE_NONE,
    ROLE_SERVER,
    FdInfo,
    ThreadInfo,
    concat_paths,
    fd_from_entry,
)

EINPROGRESS = 115
SCHEDSWITCH_6_E = 152
CONTAINER_JSON = frozenset({272, 324})
CLONE_EXITS = frozenset({15, 157, 217, 223, 183, 219, 225, 185, 221, 227, 335})
EXECVE_EXITS = frozenset({13, 155, 173, 215, 231, 283, 289, 293, 331})
PROCEXIT = frozenset({16, 186})
# IPPROTO_*/SOCK_* values the socket() parser needs
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW = 0, 1, 6, 17, 255
PPM_AF_NETLINK = 16
# metadata events of current captures that belong to no thread
_USER_EVENTS = frozenset({"useradded", "userdeleted", "groupadded", "groupdeleted", "pluginevent", "asyncevent"})
# where current (exit-only) events carry their fd (libscap's get_exit_event_fd_location)
_EXIT_FD_LOCATION = {
    **dict.fromkeys((
        "setns", "listen", "shutdown", "fchdir", "lseek", "llseek", "ioctl", "fstat", "close", "getdents",
        "getdents64", "flock", "copy_file_range", "fcntl", "dup", "dup2", "dup3", "newfstatat", "fchownat",
        "fchmodat", "mkdirat", "unlinkat", "mknodat", "sendmmsg", "recvmmsg", "io_uring_register",
        "io_uring_enter", "setsockopt", "getsockopt", "fsconfig", "finit_module", "fchmod", "fchown"), 1),
    **dict.fromkeys((
        "read", "pread", "bind", "write", "pwrite", "recv", "send", "sendto", "sendmsg", "sendfile", "splice",
        "writev", "pwritev", "connect", "symlinkat"), 2),
    "recvfrom": 3, "readv": 3, "preadv": 3, "recvmsg": 5, "mmap": 8, "mmap2": 8,
}


class EventContext:
    """What the state said about one event, right after it was parsed."""

    __slots__ = ("tinfo", "fdinfo", "fd", "errorcode", "latency")

    def __init__(self, tinfo, fdinfo, fd, errorcode, latency):
        self.tinfo = tinfo
        self.fdinfo = fdinfo
        self.fd = fd
        self.errorcode = errorcode
        self.latency = latency


class StateEngine:
    """Threads, processes, fds and users of one capture, updated event by event."""

    def __init__(self, table: EventTable | None = None, *, modern: bool = False):
        """``modern`` follows current libsinsp where it differs from 0.29.3 (vfork children)."""
        self.table = table or head()
        self.modern = modern
        self._recently_exited: set[int] = set()
        self.threads: dict[int, ThreadInfo] = {}
        # on_table(+1 | -1, thread): told when a thread enters or leaves the table, and around a change
        # of its pid or flags (-1 before, +1 after); None when nobody listens (the load's pass does)
        self.on_table: Callable[[int, ThreadInfo], None] | None = None
        self.users: dict[int, md.UserEntry] = {}
        self.groups: dict[int, md.GroupEntry] = {}
        self.machine: md.MachineInfo | None = None
        self.server_ports: set[int] = set()
        self.interfaces: list[md.Interface] = []
        self._ipv4_memo: dict = {}
        self._fds_to_remove: list[tuple[ThreadInfo, int]] = []
        self._tid_to_remove: int | None = None
        self._names = [
            {p.name: i for i, p in enumerate(e.params)} for e in self.table.events
        ]
        self._handlers = self._build_handlers()

    # -- metadata -------------------------------------------------------------------------------
    def load_section(self, sec: Section) -> None:
        if sec.machine is not None:
            self.machine = sec.machine
        for u in sec.users:
            self.users[u.uid] = u
        for g in sec.groups:
            self.groups[g.gid] = g
        for e in sec.threads:
            t = ThreadInfo.from_entry(e)
            self.threads[t.tid] = t
            if t.is_main():
                t.cwd = concat_paths("", e.cwd)
                if not t.cwd.endswith("/"):
                    t.cwd += "/"
        if sec.interfaces:
            self.interfaces = list(sec.interfaces)
            self._ipv4_memo = {}
        # libsinsp loads the proc list's fds, thread by thread in proc-list order, through one
        # sinsp_fdinfo_t whose sockinfo union is never cleared
        union = bytearray(40)
        listed = [e.tid for e in sec.threads if e.tid in sec.fds]
        for tid in listed + [k for k in sec.fds if k not in set(listed)]:
            t = self.threads.get(tid)
            if t is None:
                continue
            for fe in sec.fds[tid]:
                _fill_union(union, fe)
                f = fd_from_entry(fe)
                f.sockraw = bytes(union)
                if f.type == md.FD_IPV4_SOCK and self._infer_addresses(f):
                    f.name = f.oldname = f.tuple_name()
                if f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
                    self.server_ports.add(f.sport)
                t.fds[fe.fd] = f
        # libsinsp: a connection whose local port is a listening port is the server side
        for t in self.threads.values():
            for f in t.fds.values():
                if f.type == md.FD_IPV4_SOCK:
                    if f.sport in self.server_ports:
                        f.sip, f.dip, f.sport, f.dport = f.dip, f.sip, f.dport, f.sport
                        f.name = f.oldname = f.tuple_name()
                        f.role = ROLE_SERVER
                    else:
                        f.role = ROLE_CLIENT

    # -- lookups --------------------------------------------------------------------------------
    def find_thread(self, tid: int) -> ThreadInfo | None:
        return self.threads.get(tid)

    def get_thread(self, tid: int) -> ThreadInfo:
        """The thread, or a placeholder `<NA>` thread created as libsinsp does for unknown tids."""
        t = self.threads.get(tid)
        if t is None:
            t = ThreadInfo(tid, tid, -1)
            t.comm = t.exe = "<NA>"
            t.placeholder = True
            self.threads[tid] = t
            if self.on_table is not None:
                self.on_table(1, t)
        return t

    def main_thread(self, t: ThreadInfo) -> ThreadInfo:
        if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD:     # (t.is_main())
            return t
        return self.get_thread(t.pid)

    def fd_table(self, t: ThreadInfo) -> dict[int, FdInfo]:
        f = t.flags
        if f & CL_CLONE_FILES and t.tid != t.pid and not f & CL_IS_MAIN_THREAD:    # (main_thread(t))
            return self.get_thread(t.pid).fds
        return t.fds

    def get_fd(self, t: ThreadInfo | None, fd: int) -> FdInfo | None:
        if t is None or fd < 0:
            return None
        return self.fd_table(t).get(fd)

    def add_fd(self, t: ThreadInfo, fd: int, f: FdInfo, fresh: bool = False) -> FdInfo:
        """Put a copy of ``f`` in the thread's fd table (``fresh``: ``f`` was made for this call and
        is shared with nothing, so it goes in as it is)."""
        if not fresh:
            f = f.copy()
        self.fd_table(t)[fd] = f
        t.lastevent_fd = fd
        return f

    def cwd(self, t: ThreadInfo) -> str:
        return self.main_thread(t).cwd

    def set_cwd(self, t: ThreadInfo, path: str) -> None:
        m = self.main_thread(t)
        m.cwd = concat_paths(m.cwd, path)
        if not m.cwd.endswith("/"):
            m.cwd += "/"
        m.version += 1

    def user_name(self, uid: int) -> str | None:
        u = self.users.get(uid)
        return u.name if u else None

    # -- the event loop -------------------------------------------------------------------------
    def process(self, ev: Event) -> EventContext:
        """Parse one event: its thread and fd are looked up, then the state is updated."""
        ctx = self.begin(ev)
        self.finish(ev, ctx)
        return ctx

    def begin(self, ev: Event) -> EventContext:
        """The first half of parsing (libsinsp's reset): pending removals, thread and fd lookup."""
        self.settle()
        etype = ev.type
        info = self.table.events[etype]
        eflags = info.flags
        ctx = EventContext(None, None, -1, 0, 0)
        if eflags & EF_SKIPPARSERESET:
            if info.name == "procinfo":
                ctx.tinfo = self.threads.get(ev.tid)
            return ctx
        if etype in CLONE_EXITS or etype == SCHEDSWITCH_6_E:
            t = self.threads.get(ev.tid)
        elif etype in CONTAINER_JSON or (self.modern and info.name in _USER_EVENTS):
            t = None
        else:
            t = self.get_thread(ev.tid)
        ctx.tinfo = t
        if t is not None and etype != SCHEDSWITCH_6_E:
            self._reset(ev, t, info, ctx)
        return ctx

    def settle(self) -> None:
        """Apply the removals (closed fds, exited threads) that libsinsp defers to the next event."""
        if self._fds_to_remove:
            for t, fd in self._fds_to_remove:
                self.fd_table(t).pop(fd, None)
            self._fds_to_remove.clear()
        if self._tid_to_remove is not None:
            self._remove_thread(self._tid_to_remove)
            self._tid_to_remove = None

    def finish(self, ev: Event, ctx: EventContext) -> None:
        """The second half of parsing: the event's own state changes."""
        t = ctx.tinfo
        if t is not None and t.lastevent_type == ev.type and ev.type % 2 == 0 and ev.type != SCHEDSWITCH_6_E:
            t.enter = ev
        handler = self._handlers.get(ev.type)
        if handler is not None:
            handler(ev, ctx)

    def reject(self, ev: Event, ctx: EventContext) -> None:
        """A capture filter dropped the event before it was parsed: libsinsp then forgets the thread's
        last enter event, so the matching exit is not paired with it."""
        t = ctx.tinfo
        if t is not None and not self.table.events[ev.type].flags & EF_SKIPPARSERESET \
                and ev.type != SCHEDSWITCH_6_E:
            t.lastevent_type = -1000

    def _reset(self, ev: Event, t: ThreadInfo, info, ctx: EventContext) -> None:
        eflags = info.flags
        if ev.type % 2 == 0:
            t.lastevent_fd = -1
            t.lastevent_type = ev.type
            if eflags & EF_USES_FD:
                fd = p_int(ev, 0)
                if fd is not None:
                    t.lastevent_fd = fd
                    ctx.fdinfo = self.get_fd(t, fd)
            t.latency = 0
            t.last_enter_ts = ev.ts
            return
        if t.last_enter_ts:
            t.latency = ev.ts - t.last_enter_ts
        # current libsinsp no longer times syscalls from their enter events
        ctx.latency = 0 if self.modern else t.latency
        paired = ev.type == t.lastevent_type + 1
        if not paired:
            t.enter = None
            if self.modern:
                t.lastevent_fd = -1
        if ev.nparams and info.params and info.params[0].name in ("res", "fd"):
            res = p_int(ev, 0)
            if res is not None and res < 0:
                ctx.errorcode = -res
        if not eflags & EF_USES_FD:
            return
        if info.name == "copy_file_range":
            # libsinsp takes this exit's fd from its fdout parameter, paired or not
            fd = self._param(ev, "fdout")
            if fd is not None:
                t.lastevent_fd = fd
        elif not paired:
            # exit-only captures carry the fd in the exit event itself
            t.lastevent_fd = -1
            loc = _EXIT_FD_LOCATION.get(info.name, -1)
            if 0 <= loc < ev.nparams:
                fd = p_int(ev, loc)
                if fd is not None:
                    t.lastevent_fd = fd
        ctx.fdinfo = self.get_fd(t, t.lastevent_fd)

    def enter_of(self, ev: Event, t: ThreadInfo | None) -> Event | None:
        if t is None or t.enter is None or t.enter.type != ev.type - 1:
            return None
        return t.enter

    def _remove_thread(self, tid: int) -> None:
        t = self.threads.get(tid)
        if t is None:
            return
        if t.is_main():
            # keep a main thread while other threads of its process live
            for o in self.threads.values():
                if o is not t and o.pid == t.pid and not o.flags & CL_CLOSED:
                    return
        if self.on_table is not None:
            self.on_table(-1, t)
        del self.threads[tid]

    # -- handlers -------------------------------------------------------------------------------
    def _build_handlers(self) -> dict:
        h: dict = {}
        by_name: dict[tuple[str, str], list[int]] = {}
        for e in self.table.events:
            by_name.setdefault((e.name, e.direction), []).append(e.id)

        def on(name: str, direction: str, fn) -> None:
            for i in by_name.get((name, direction), []):
                h[i] = fn

        for i in CLONE_EXITS:
            h[i] = self._clone_exit
        for i in EXECVE_EXITS:
            h[i] = self._execve_exit
        for i in PROCEXIT:
            h[i] = self._procexit
        for n in ("open", "openat", "openat2", "creat"):
            on(n, "<", self._open_exit)
        on("socket", "<", self._socket_exit)
        on("bind", "<", self._bind_exit)
        on("connect", ">", self._connect_enter)
        on("connect", "<", self._connect_exit)
        for n in ("accept", "accept4"):
            on(n, "<", self._accept_exit)
        on("close", ">", self._close_enter)
        on("close", "<", self._close_exit)
        for n in ("read", "write", "recv", "send", "recvfrom", "recvmsg", "sendto", "sendmsg", "readv",
                  "writev", "pread", "pwrite", "preadv", "pwritev"):
            on(n, "<", self._rw_exit)
        on("pipe", "<", self._pipe_exit)
        on("pipe2", "<", self._pipe_exit)
        on("socketpair", "<", self._socketpair_exit)
        for n in ("dup", "dup2", "dup3"):
            on(n, "<", self._dup_exit)
        on("fcntl", "<", self._fcntl_exit)
        on("eventfd", "<", self._simple_fd(md.FD_EVENT))
        on("eventfd2", "<", self._simple_fd(md.FD_EVENT))
        on("signalfd", "<", self._simple_fd(md.FD_SIGNALFD))
        on("signalfd4", "<", self._simple_fd(md.FD_SIGNALFD))
        on("timerfd_create", "<", self._simple_fd(md.FD_TIMERFD))
        on("inotify_init", "<", self._simple_fd(md.FD_INOTIFY))
        on("inotify_init1", "<", self._simple_fd(md.FD_INOTIFY))
        on("epoll_create", "<", self._simple_fd(md.FD_EVENTPOLL))
        on("epoll_create1", "<", self._simple_fd(md.FD_EVENTPOLL))
        on("userfaultfd", "<", self._simple_fd(md.FD_USERFAULTFD))
        on("io_uring_setup", "<", self._simple_fd(md.FD_IOURING))
        on("bpf", "<", self._simple_fd(md.FD_BPF))
        on("pidfd_open", "<", self._simple_fd(md.FD_PIDFD))
        on("memfd_create", "<", self._memfd_exit)
        on("chdir", "<", self._chdir_exit)
        on("fchdir", "<", self._fchdir_exit)
        on("close_range", "<", self._close_range_exit)
        for n in ("setuid", "setresuid"):
            on(n, "<", self._setuid_exit)
        for n in ("setgid", "setresgid"):
            on(n, "<", self._setgid_exit)
        on("setsid", "<", self._setsid_exit)
        return h

    def _param(self, ev: Event, name: str, signed: bool = True) -> int | None:
        i = self._names[ev.type].get(name)
        return None if i is None else p_int(ev, i, signed)

    def _clone_exit(self, ev: Event, ctx: EventContext) -> None:
        tid = ev.tid
        childtid = p_int(ev, 0)
        names = self._names[ev.type]
        i = names.get("flags")
        flags = (p_int(ev, i, False) if i is not None else None) or 0
        if childtid is None or childtid < 0:
            return
        i = names.get("vtid")
        vtid = p_int(ev, i) if i is not None else None
        i = names.get("vpid")
        vpid = p_int(ev, i) if i is not None else None
        vtid = tid if vtid is None else vtid
        in_container = bool(flags & CL_CHILD_IN_PIDNS) or tid != vtid
        inverted = False
        t = ctx.tinfo
        if childtid == 0:
            parenttid = p_int(ev, 4 if flags & CL_CLONE_THREAD else 5)
            if t is not None:
                if in_container:
                    t.vtid, t.vpid = vtid, vpid if vpid is not None else -1
                return
            inverted = True
            childtid, tid = tid, parenttid if parenttid is not None else -1
        elif in_container:
            return
        elif self.modern and (flags & CL_CLONE_VFORK or self.table.events[ev.type].name == "vfork"
                              or childtid in self._recently_exited):
            # current libsinsp leaves the child to its own clone exit (it may have exited already)
            return
        parent = self.get_thread(tid)
        child = self.threads.get(childtid)
        if child is not None:
            if child.flags & CL_CLONE_INVERTED:
                return
            if self.on_table is not None:
                self.on_table(-1, child)
            del self.threads[childtid]
        c = ThreadInfo(childtid, p_int(ev, 4), tid)
        ci = names.get("comm", 99)
        exe = p_str(ev, 1) or ""
        comm = (p_str(ev, ci) if ev.nparams > ci else exe) or ""
        args = p_bytes(ev, 2)
        valid_parent = not (parent.comm == "<NA>" and parent.uid == 0xFFFFFFFF)
        if not valid_parent:
            # libsinsp fills an unknown caller from the event and gives it the child's names
            parent.exe, parent.comm = exe, comm
            parent.args = split_list(args)
            parent.version += 1
        if valid_parent:
            c.exepath = parent.exepath      # (comm, exe and args: the event's, below)
            c.sid, c.vpgid, c.tty, c.loginuid = parent.sid, parent.vpgid, parent.tty, parent.loginuid
            if not flags & CL_CLONE_THREAD:
                c.env = list(parent.env)
        c.flags = flags
        if not flags & CL_CLONE_THREAD:
            c.pid = childtid
            c.fds = {k: v.copy() for k, v in self.fd_table(parent).items()}
            c.cwd = self.cwd(parent)
        if inverted:
            c.flags |= CL_CLONE_INVERTED
        c.exe = exe
        c.comm = comm
        c.args = split_list(args)
        c.fdlimit = p_int(ev, 7) or 0
        i = names.get("uid")
        uid = p_int(ev, i, False) if i is not None else None
        i = names.get("gid")
        gid = p_int(ev, i, False) if i is not None else None
        c.uid = 0xFFFFFFFF if uid is None else uid
        c.gid = 0xFFFFFFFF if gid is None else gid
        if in_container:
            c.vtid, c.vpid = vtid, vpid if vpid is not None else -1
        else:
            c.vtid, c.vpid = c.tid, c.pid
        i = names.get("cgroups")
        if i is not None:
            c.cgroups = split_list(p_bytes(ev, i))
        c.clone_ts = ev.ts
        self.threads[childtid] = c
        if self.on_table is not None:
            self.on_table(1, c)
        if ctx.tinfo is None and childtid != ev.tid:
            ctx.tinfo = self.threads.get(ev.tid)

    def _execve_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        if t is None or res is None or res < 0:
            return
        names = self._names[ev.type]
        if self.on_table is not None:
            self.on_table(-1, t)
        t.exe = p_str(ev, 1) or ""
        ci = names.get("comm")
        t.comm = (p_str(ev, ci) or "") if ci is not None and ci < ev.nparams else t.exe
        t.args = split_list(p_bytes(ev, 2))
        pid = p_int(ev, 4)
        if pid is not None:
            t.pid = pid
        if t.ptid == -1:
            ptid = p_int(ev, 5)
            if ptid is not None:
                t.ptid = ptid
        t.fdlimit = p_int(ev, 7) or t.fdlimit
        if "env" in names and names["env"] < ev.nparams:
            t.env = split_list(p_bytes(ev, names["env"]))
        if "cgroups" in names and names["cgroups"] < ev.nparams:
            t.cgroups = split_list(p_bytes(ev, names["cgroups"]))
        tty = self._param(ev, "tty")
        if tty is not None and names.get("tty", 99) < ev.nparams:
            t.tty = tty
        for key in ("vpgid", "pgid"):
            if key in names and names[key] < ev.nparams and names[key] == 17:
                v = p_int(ev, 17)
                if v is not None:
                    t.vpgid = v
        if ev.nparams > 18:
            lu = p_int(ev, 18, False)
            if lu is not None:
                t.loginuid = lu & 0xFFFFFFFF
        if "uid" in names and names["uid"] < ev.nparams:
            uid = p_int(ev, names["uid"], False)
            if uid is not None:
                t.uid = uid
        if "gid" in names and names["gid"] < ev.nparams:
            gid = p_int(ev, names["gid"], False)
            if gid is not None:
                t.gid = gid
        te = names.get("trusted_exepath")
        enter = self.enter_of(ev, t)
        if te is not None and te < ev.nparams and p_str(ev, te):
            t.exepath = p_str(ev, te) or ""
        elif enter is not None and enter.nparams > 0 and ev.type in (289, 293):
            fname = p_str(enter, 0) or ""
            t.exepath = "<NA>" if fname.startswith("<NA>") else concat_paths(self.cwd(t), fname)
        spf = t.flags & (CL_PIPE_SRC | CL_PIPE_DST | CL_IS_MAIN_THREAD)
        inv = t.flags & CL_CLONE_INVERTED
        t.flags = CL_ACTIVE | spf | inv
        t.version += 1
        if self.on_table is not None:
            self.on_table(1, t)

    def _procexit(self, ev: Event, ctx: EventContext) -> None:
        if ctx.tinfo is not None:
            ctx.tinfo.flags |= CL_CLOSED
            self._tid_to_remove = ev.tid
            if self.modern:
                self._recently_exited.add(ev.tid)

    def _open_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        if t is None:
            return
        etype = ev.type
        enter = t.enter
        names = self._names[etype]
        kind = self.table.events[etype].name
        i = names.get("name")
        name = p_str(ev, i) if i is not None else None
        # the exit's flags and dirfd, or the enter's when its name wins (each read only if used)
        src, sn = ev, names
        if enter is not None and enter.type == etype - 1:     # (enter_of)
            en = self._names[enter.type]
            i = en.get("name")
            ename = p_str(enter, i) if i is not None else None
            if ename and ename != "(NULL)" or name is None:
                name = ename
                src, sn = enter, en
        if name is None:
            return
        i = sn.get("flags", names.get("flags"))
        flags = (p_int(src if "flags" in sn else ev, i, False) or 0) if i is not None and kind != "creat" else 0
        openat = kind == "openat" or kind == "openat2"
        if openat:
            i = sn.get("dirfd", names.get("dirfd"))
            dirfd = p_int(src if "dirfd" in sn else ev, i) if i is not None else None
        fd = p_int(ev, 0)
        if fd is None or fd < 0:
            if openat:
                self._dirfd_base(t, name, dirfd if dirfd is not None else AT_FDCWD, ctx)   # sets ctx.fdinfo
            return
        if openat:
            base = self._dirfd_base(t, name, dirfd if dirfd is not None else AT_FDCWD, ctx)
        else:
            base = self.cwd(t)
        full = _concat(base, name)
        f = FdInfo(md.FD_DIRECTORY if flags & O_DIRECTORY else md.FD_FILE_V2, full)
        f.openflags = flags
        i = names.get("dev")
        if i is not None:
            f.dev = p_int(ev, i, False) or 0
        ctx.fdinfo = self.add_fd(t, fd, f, fresh=True)
        ctx.fd = fd

    def _dirfd_base(self, t: ThreadInfo, name: str, dirfd: int, ctx: EventContext) -> str:
        if name.startswith("/"):
            return "."
        if dirfd == AT_FDCWD:
            return self.cwd(t)
        f = self.get_fd(t, dirfd)
        ctx.fdinfo = f
        if f is None:
            return "<UNKNOWN>"
        return f.name if f.name.endswith("/") else f.name + "/"

    def _socket_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        fd = p_int(ev, 0)
        if t is None or fd is None or fd < 0:
            return
        src = ev if ev.nparams >= 4 else self.enter_of(ev, t)
        if src is None:
            return
        off = 1 if src is ev else 0
        domain = p_int(src, off, False) or 0
        stype = p_int(src, off + 1, False) or 0
        proto = p_int(src, off + 2, False) or 0
        self._add_socket(t, fd, domain, stype, proto, ctx)

    def _add_socket(self, t, fd, domain, stype, proto, ctx) -> None:
        if domain == AF_UNIX:
            f = FdInfo(md.FD_UNIX_SOCK)
        elif domain in (AF_INET, AF_INET6):
            f = FdInfo(md.FD_IPV4_SOCK if domain == AF_INET else md.FD_IPV6_SOCK)
            l4 = md.L4_UNKNOWN
            if proto == IPPROTO_TCP:
                l4 = md.L4_RAW if stype == SOCK_RAW else md.L4_TCP
            elif proto == IPPROTO_UDP:
                l4 = md.L4_RAW if stype == SOCK_RAW else md.L4_UDP
            elif proto == IPPROTO_IP:
                if stype & 0xFF == SOCK_STREAM:
                    l4 = md.L4_TCP
                elif stype & 0xFF == SOCK_DGRAM:
                    l4 = md.L4_UDP
            elif proto == IPPROTO_ICMP:
                l4 = md.L4_RAW if stype == SOCK_RAW else md.L4_ICMP
            elif proto == IPPROTO_RAW:
                l4 = md.L4_RAW
            f.l4proto = l4
        elif domain == PPM_AF_NETLINK:
            f = FdInfo(md.FD_NETLINK)
        else:
            return
        ctx.fdinfo = self.add_fd(t, fd, f, fresh=True)
        ctx.fd = fd

    def _bind_exit(self, ev: Event, ctx: EventContext) -> None:
        f = ctx.fdinfo
        res = p_int(ev, 0)
        if f is None or res is None or res < 0:
            return
        sa = parse_sockaddr(ev.raw(1))
        if sa is None:
            return
        if sa[0] == "inet" and sa[2] > 0:
            f.type, f.sip, f.sport = md.FD_IPV4_SERVSOCK, sa[1], sa[2]
            f.role = ROLE_SERVER
        elif sa[0] == "inet6" and sa[2] > 0:
            if is_v4_mapped(sa[1]):
                f.type, f.sip = md.FD_IPV4_SERVSOCK, sa[1][12:]
            else:
                f.type, f.sip = md.FD_IPV6_SERVSOCK, sa[1]
            f.sport = sa[2]
            f.role = ROLE_SERVER
        f.name = sockaddr_name(sa)

    def _connect_enter(self, ev: Event, ctx: EventContext) -> None:
        f = ctx.fdinfo
        if f is None or ev.nparams < 2:
            return
        sa = parse_sockaddr(ev.raw(1))
        if sa is None:
            return
        if sa[0] == "inet":
            f.type, f.dip, f.dport = md.FD_IPV4_SOCK, sa[1], sa[2]
        elif sa[0] == "inet6":
            if is_v4_mapped(sa[1]):
                f.type, f.dip, f.dport = md.FD_IPV4_SOCK, sa[1][12:], sa[2]
            else:
                f.type, f.dip, f.dport = md.FD_IPV6_SOCK, sa[1], sa[2]
        else:
            f.name = sockaddr_name(sa)

    def _connect_exit(self, ev: Event, ctx: EventContext) -> None:
        f = ctx.fdinfo
        res = p_int(ev, 0)
        if f is None or res is None or (res < 0 and res != -EINPROGRESS):
            return
        raw = ev.raw(1)
        if raw is None:
            return
        self._fill_client(f, raw)

    def _fill_client(self, f: FdInfo, raw) -> None:
        tup = parse_socktuple(raw)
        if tup is None:
            return
        if tup[0] in ("inet", "inet6"):
            _, sip, sport, dip, dport = tup
            if tup[0] == "inet6" and not (is_v4_mapped(sip) and is_v4_mapped(dip)):
                f.type = md.FD_IPV6_SOCK
            else:
                f.type = md.FD_IPV4_SOCK
                if tup[0] == "inet6":
                    sip, dip = sip[12:], dip[12:]
            changed = _update_addresses(f, sip, sport, dip, dport)
            if changed and f.role == ROLE_SERVER and f.l4proto == md.L4_UDP:
                _swap(f)
            f.name = f.tuple_name()
        else:
            f.name = socktuple_name(tup)
            if tup[0] == "unix":
                f.source, f.dest = tup[1], tup[2]
        if f.role == ROLE_NONE:
            f.role = ROLE_CLIENT

    def _accept_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        fd = p_int(ev, 0)
        if t is None or fd is None or fd < 0:
            return
        t.lastevent_fd = fd
        tup = parse_socktuple(ev.raw(1))
        if tup is None:
            return
        if tup[0] in ("inet", "inet6"):
            _, sip, sport, dip, dport = tup
            if tup[0] == "inet" or (is_v4_mapped(sip) and is_v4_mapped(dip)):
                f = FdInfo(md.FD_IPV4_SOCK, l4proto=md.L4_TCP)
                if tup[0] == "inet6":
                    sip, dip = sip[12:], dip[12:]
            else:
                f = FdInfo(md.FD_IPV6_SOCK, l4proto=md.L4_TCP)
            f.sip, f.sport, f.dip, f.dport = sip, sport, dip, dport
        elif tup[0] == "unix":
            f = FdInfo(md.FD_UNIX_SOCK)
            f.source, f.dest = tup[1], tup[2]
        else:
            return
        f.name = socktuple_name(tup)
        f.role = ROLE_SERVER
        ctx.fdinfo = self.add_fd(t, fd, f, fresh=True)
        ctx.fd = fd

    def _close_enter(self, ev: Event, ctx: EventContext) -> None:
        if ctx.fdinfo is not None:
            ctx.fdinfo.close_in_progress = True

    def _close_exit(self, ev: Event, ctx: EventContext) -> None:
        res = p_int(ev, 0)
        t = ctx.tinfo
        if res is None or t is None:
            return
        if res >= 0:
            if ctx.fdinfo is None:
                return
            self._fds_to_remove.append((t, t.lastevent_fd))
        elif ctx.fdinfo is not None:
            ctx.fdinfo.close_in_progress = False

    def _rw_exit(self, ev: Event, ctx: EventContext) -> None:
        f = ctx.fdinfo
        res = p_int(ev, 0)
        if f is None or res is None or res < 0:
            return
        info = self.table.events[ev.type]
        name = info.name
        if name in ("recvfrom", "recvmsg", "sendto", "sendmsg"):
            if f.name and f.l4proto == md.L4_TCP and f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
                return
            names = self._names[ev.type]
            raw = None
            if "tuple" in names and names["tuple"] < ev.nparams:
                raw = ev.raw(names["tuple"])
            elif name in ("sendto", "sendmsg"):
                enter = self.enter_of(ev, ctx.tinfo)
                if enter is None:
                    return
                raw = enter.raw(2)
            if raw is None:
                return
            reading = name.startswith("recv")
            if self._update_fd(f, raw):
                if f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
                    if f.role == ROLE_NONE:
                        f.role = self._guess_role(ctx.tinfo, f, reading)
                    if (f.role == ROLE_CLIENT) == reading:
                        _swap(f)
                    f.name = f.tuple_name()
                else:
                    f.name = socktuple_name(parse_socktuple(raw))

    def _guess_role(self, t: ThreadInfo | None, f: FdInfo, incoming: bool) -> int:
        """libsinsp's set_net_role_by_guessing: a server when one of the process's IPv4 sockets is
        bound or connected to the tuple's dport, unless one also uses its sport (then a socket whose
        first use is a read is the server); otherwise a client."""
        table = self.fd_table(t).values() if t is not None else ()
        if not any((o.type == md.FD_IPV4_SOCK and o.dport == f.dport) or
                   (o.type == md.FD_IPV4_SERVSOCK and o.sport == f.dport) for o in table):
            return ROLE_CLIENT
        if not any(o.type == md.FD_IPV4_SOCK and o.sport == f.sport for o in table):
            return ROLE_SERVER
        return ROLE_SERVER if incoming else ROLE_CLIENT

    def _infer_addresses(self, f: FdInfo) -> bool:
        """libsinsp's sinsp_network_interfaces::update_fd: an IPv4 tuple with one address 0.0.0.0 gets
        a local interface's address there. Returns whether it changed."""
        zero = bytes(4)
        sip, dip = bytes(f.sip or zero), bytes(f.dip or zero)
        if f.type != md.FD_IPV4_SOCK or (sip != zero and dip != zero):
            return False
        other = dip if sip == zero else sip
        new = self._infer_ipv4(other)
        if new == other and f.sport == f.dport:
            return False
        if sip == zero:
            f.sip = new
        else:
            f.dip = new
        return True

    def _infer_ipv4(self, dest: bytes) -> bytes:
        """sinsp_network_interfaces::infer_ipv4_address: the interface with that address, else one on
        its subnet, else the first that is not 127.0.0.1, else 0.0.0.0 (remembered per address while
        the interface list stays the same)."""
        memo = self._ipv4_memo
        r = memo.get(dest)
        if r is None:
            r = memo[dest] = self._infer_ipv4_uncached(bytes(dest))
        return r

    def _infer_ipv4_uncached(self, dest: bytes) -> bytes:
        ifs = [(bytes(i.addr), bytes(i.netmask or bytes(4))) for i in self.interfaces if len(i.addr) == 4]
        for addr, _ in ifs:
            if addr == dest:
                return addr
        for addr, mask in ifs:
            if all((a & m) == (d & m) for a, m, d in zip(addr, mask, dest, strict=True)):
                return addr
        for addr, _ in ifs:
            if addr != b"\x7f\x00\x00\x01":
                return addr
        return bytes(4)

    def _update_fd(self, f: FdInfo, raw) -> bool:
        tup = parse_socktuple(raw)
        if tup is None:
            return False
        if tup[0] == "inet":
            if f.type == md.FD_IPV4_SERVSOCK and f.sockraw is not None:
                # the server info (ip, port, l4proto) shares a union with the tuple: its dip, sport and
                # dport are the bytes after the server info; a proc-list fd carries no role
                u = f.sockraw
                f.dip = u[4:8]
                f.sport = int.from_bytes(u[8:10], "little")
                f.dport = int.from_bytes(u[10:12], "little")
                f.role = ROLE_NONE
            f.type = md.FD_IPV4_SOCK
            changed = _update_addresses(f, tup[1], tup[2], tup[3], tup[4])
            if changed:
                if f.l4proto == md.L4_UNKNOWN:
                    f.l4proto = md.L4_UDP     # a tuple that changes is not TCP
                self._infer_addresses(f)
            return changed
        if tup[0] == "inet6":
            _, sip, sport, dip, dport = tup
            if is_v4_mapped(sip) and is_v4_mapped(dip):
                f.type = md.FD_IPV4_SOCK
                return _update_addresses(f, sip[12:], sport, dip[12:], dport)
            f.type = md.FD_IPV6_SOCK
            return _update_addresses(f, sip, sport, dip, dport)
        if tup[0] == "unix":
            f.source, f.dest = tup[1], tup[2]
            return True
        return False

    def _pipe_exit(self, ev: Event, ctx: EventContext) -> None:
        res = p_int(ev, 0)
        t = ctx.tinfo
        if res is None or res < 0 or t is None:
            return
        ino = p_int(ev, 3, False) or 0
        for i in (1, 2):
            fd = p_int(ev, i)
            if fd is not None:
                f = FdInfo(md.FD_FIFO, "")
                f.ino = ino
                ctx.fdinfo = self.add_fd(t, fd, f)

    def _socketpair_exit(self, ev: Event, ctx: EventContext) -> None:
        res = p_int(ev, 0)
        t = ctx.tinfo
        if res is None or res < 0 or t is None:
            return
        f = FdInfo(md.FD_UNIX_SOCK)
        f.source = p_int(ev, 3, False) or 0
        f.dest = p_int(ev, 4, False) or 0
        fd1, fd2 = p_int(ev, 1), p_int(ev, 2)
        if fd1 is not None:
            ctx.fdinfo = self.add_fd(t, fd1, f)
        if fd2 is not None:
            self.add_fd(t, fd2, f)

    def _dup_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        if t is None or res is None or res < 0:
            return
        if res == 0:
            t.flags |= CL_PIPE_DST
        if res == 1:
            t.flags |= CL_PIPE_SRC
        if ctx.fdinfo is None:
            return
        ctx.fdinfo = self.add_fd(t, res, ctx.fdinfo)

    def _fcntl_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        names = self._names[ev.type]
        if "cmd" in names and names["cmd"] < ev.nparams:
            cmd = p_int(ev, names["cmd"], False)
        else:
            enter = self.enter_of(ev, t)
            if enter is None:
                return
            cmd = p_int(enter, 1, False)
        if cmd not in (1, 26) or t is None or res is None or res < 0 or ctx.fdinfo is None:
            return
        ctx.fdinfo = self.add_fd(t, res, ctx.fdinfo)

    def _simple_fd(self, ftype: int):
        def handler(ev: Event, ctx: EventContext) -> None:
            t = ctx.tinfo
            fd = p_int(ev, 0)
            if t is None or fd is None or fd < 0:
                return
            ctx.fdinfo = self.add_fd(t, fd, FdInfo(ftype, ""))
        return handler

    def _memfd_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        fd = p_int(ev, 0)
        if t is None or fd is None or fd < 0:
            return
        names = self._names[ev.type]
        name = p_str(ev, names["name"]) if "name" in names else ""
        ctx.fdinfo = self.add_fd(t, fd, FdInfo(md.FD_MEMFD, name or ""))

    def _chdir_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        if t is None or res is None or res < 0:
            return
        path = p_str(ev, 1)
        if path is not None:
            self.set_cwd(t, path)

    def _fchdir_exit(self, ev: Event, ctx: EventContext) -> None:
        res = p_int(ev, 0)
        if res is None or res < 0 or ctx.fdinfo is None or ctx.tinfo is None:
            return
        self.set_cwd(ctx.tinfo, ctx.fdinfo.name)

    def _close_range_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        if t is None or res is None or res < 0:
            return
        lo = self._param(ev, "fd", False)
        hi = self._param(ev, "max_fd", False)
        if lo is None or hi is None:
            return
        table = self.fd_table(t)
        for fd in [k for k in table if lo <= k <= hi]:
            self._fds_to_remove.append((t, fd))

    def _new_id(self, ev: Event, t: ThreadInfo, keys: tuple[str, str]) -> int | None:
        """The (effective) id a successful set*id call installs: from the exit event, or its enter."""
        for src in (ev, self.enter_of(ev, t)):
            if src is None:
                continue
            names = self._names[src.type]
            for key in keys:
                i = names.get(key)
                if i is not None and i < src.nparams:
                    v = p_int(src, i, False)
                    return None if v == 0xFFFFFFFF else v
        return None

    def _setuid_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        if t is None or res is None or res < 0:
            return
        uid = self._new_id(ev, t, ("euid", "uid"))
        if uid is not None:
            self.main_thread(t).uid = uid
            t.uid = uid
            t.version += 1

    def _setgid_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        if t is None or res is None or res < 0:
            return
        gid = self._new_id(ev, t, ("egid", "gid"))
        if gid is not None:
            t.gid = gid

    def _setsid_exit(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        res = p_int(ev, 0)
        if t is not None and res is not None and res >= 0:
            t.sid = res


def _fill_union(u: bytearray, fe: md.FdEntry) -> None:
    """The bytes add_fd_from_scap writes into the sockinfo union for one proc-list fd (other bytes keep
    what the previous fd left there)."""
    def port(v: int) -> bytes:
        return int(v).to_bytes(2, "little")

    if fe.type == md.FD_IPV4_SOCK:
        u[0:13] = bytes(fe.sip) + bytes(fe.dip) + port(fe.sport) + port(fe.dport) + bytes([fe.l4proto])
    elif fe.type == md.FD_IPV4_SERVSOCK:
        u[0:7] = bytes(fe.sip) + port(fe.sport) + bytes([fe.l4proto])
    elif fe.type == md.FD_IPV6_SOCK:
        u[0:37] = bytes(fe.sip) + bytes(fe.dip) + port(fe.sport) + port(fe.dport) + bytes([fe.l4proto])
    elif fe.type == md.FD_IPV6_SERVSOCK:
        u[0:19] = bytes(fe.sip) + port(fe.sport) + bytes([fe.l4proto])
    elif fe.type == md.FD_UNIX_SOCK:
        u[0:16] = fe.source.to_bytes(8, "little") + fe.dest.to_bytes(8, "little")


def _update_addresses(f: FdInfo, sip: bytes, sport: int, dip: bytes, dport: int) -> bool:
    if (sip == f.sip and sport == f.sport and dip == f.dip and dport == f.dport) or \
       (dip == f.sip and dport == f.sport and sip == f.dip and sport == f.dport):
        if f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
            return False
    changed = False
    if f.sip != sip:
        f.sip, changed = sip, True
    if f.sport != sport:
        f.sport, changed = sport, True
    if not f.dip or f.dip == bytes(len(f.dip)):
        f.dip, changed = dip, True
    if f.dport == 0:
        f.dport, changed = dport, True
    return changed


def _swap(f: FdInfo) -> None:
    f.sip, f.dip, f.sport, f.dport = f.dip, f.sip, f.dport, f.sport


def sockaddr_name(sa: tuple | None) -> str:
    """A sockaddr as libsinsp prints it (PF_SIMPLE)."""
    if sa is None:
        return "NULL"
    kind = sa[0]
    if kind == "inet":
        return f"{ipv4_str(sa[1])}:{sa[2]}"
    if kind == "inet6":
        return f"{ipv6_str(sa[1])}:{sa[2]}"
    if kind == "unix":
        return sanitize(sa[1])
    if kind == "bad4":
        return "INVALID IPv4"
    if kind == "bad6":
        return "INVALID IPv6"
    return f"family {sa[1]}"


def socktuple_name(tup: tuple | None) -> str:
    if tup is None:
        return "NULL"
    kind = tup[0]
    if kind == "inet":
        return tuple_text(tup[1], tup[2], tup[3], tup[4])
    if kind == "inet6":
        _, sip, sport, dip, dport = tup
        if is_v4_mapped(sip) and is_v4_mapped(dip):
            sip, dip = sip[12:], dip[12:]
        return tuple_text(sip, sport, dip, dport)
    if kind == "unix":
        return f"{tup[1]:x}->{tup[2]:x} {sanitize(tup[3])}"
    return f"family {tup[1]}"


_concat = lru_cache(maxsize=1 << 14)(concat_paths)     # (pure: kept for the paths an open repeats)


def sanitize(s: str) -> str:
    """libsinsp drops control characters from names it prints."""
    return "".join(c for c in s if c >= " " and c != "\x7f") if any(c < " " or c == "\x7f" for c in s) else s


__all__ = ["StateEngine", "EventContext", "sockaddr_name", "socktuple_name", "sanitize", "as_int"]
