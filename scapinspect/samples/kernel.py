"""System calls of the simulated machine: files, pipes, sockets (TCP/UDP over in-memory channels), process
creation and exit. Every helper is a generator that emits the enter/exit pair with 0.29.3 parameters and
keeps the simulated fd tables in step, so later events agree with earlier ones.
"""
from __future__ import annotations

import functools
import posixpath
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from ..parsers import metadata as md
from .sim import (
    AF_INET,
    AF_UNIX,
    ECONNREFUSED,
    EV,
    FORK_FLAGS,
    GENERIC,
    MS,
    O_CLOEXEC,
    O_DIRECTORY,
    O_RDONLY,
    SIGCHLD,
    SOCK_DGRAM,
    THREAD_FLAGS,
    US,
    Gen,
    Proc,
    S,
    World,
    flags,
)

Addr = tuple[str, int]
EINPROGRESS = 115


class Chan:
    """One direction of a pipe or connection: queued bytes (or datagrams) and an end-of-stream flag."""

    def __init__(self) -> None:
        self.chunks: deque[Any] = deque()
        self.closed = False

    def ready(self) -> bool:
        return bool(self.chunks) or self.closed

    def take(self, n: int) -> bytes:
        out = bytearray()
        while self.chunks and len(out) < n:
            chunk = self.chunks.popleft()
            room = n - len(out)
            out += chunk[:room]
            if len(chunk) > room:
                self.chunks.appendleft(chunk[room:])
        return bytes(out)


@dataclass
class End:
    """A socket or pipe end held by an fd: what it reads from and writes to."""
    rx: Chan | None
    tx: Chan | None
    local: Addr | None = None
    remote: Addr | None = None
    udp: bool = False
    last_src: Addr | None = None


@dataclass
class Listener:
    addr: Addr
    backlog: int = 511
    queue: deque[tuple[Addr, End]] = field(default_factory=deque)


def syscall(fn: Callable[..., Gen]) -> Callable[..., Gen]:
    """Track helper generators so that one created but never run is reported, not silently lost."""
    @functools.wraps(fn)
    def wrapper(self: Kernel, *args: Any, **kw: Any) -> Gen:
        token = object()
        self.pending[token] = fn.__name__

        def body() -> Gen:
            del self.pending[token]
            res = fn(self, *args, **kw)
            if isinstance(res, Generator):   # helpers that never block are plain functions
                res = yield from res
            return res
        return body()
    return wrapper


class Kernel(World):
    """World plus the system calls the scenarios use."""

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.pending: dict[object, str] = {}
        self.ends: dict[tuple[int, int], End] = {}
        self.listeners: dict[Addr, Listener] = {}
        self.udp: dict[Addr, Chan] = {}
        self._port = 40000 + self.rng.randint(0, 9000)

    def run(self, *, limit: int = 600 * S) -> None:
        super().run(limit=limit)
        if self.pending:
            raise RuntimeError(f"syscall helpers created but never run: {sorted(set(self.pending.values()))}")

    def eph_port(self) -> int:
        self._port += self.rng.randint(1, 60)
        return self._port

    def end(self, p: Proc, fd: int) -> End:
        return self.ends[(p.pid, fd)]

    # -- files ------------------------------------------------------------------------------------------
    @syscall
    def open(self, p: Proc, path: str, oflags: int = O_RDONLY, mode: int = 0, *, res: int | None = None,
             at: bool = True) -> Gen:
        """openat(AT_FDCWD, path) as glibc does it (open(2) with ``at=False``, as musl does): the new fd,
        or ``res`` (a -errno) when given."""
        fd = self.lowest_fd(p) if res is None else res
        dev = 0x803 if fd >= 0 else 0
        if at:
            yield from self.call(p, "openat", dict(dirfd=-100, name=path, flags=oflags, mode=mode),
                                 dict(fd=fd, dirfd=-100, name=path, flags=oflags, mode=mode, dev=dev))
        else:
            yield from self.call(p, "open", dict(name=path, flags=oflags, mode=mode),
                                 dict(fd=fd, name=path, flags=oflags, mode=mode, dev=dev))
        if fd >= 0:
            ftype = md.FD_DIRECTORY if oflags & O_DIRECTORY else md.FD_FILE_V2
            self.set_fd(p, fd, ftype, posixpath.normpath(posixpath.join(p.cwd, path)), open_flags=oflags)
        return fd

    @syscall
    def close(self, p: Proc, fd: int) -> Gen:
        yield from self.call(p, "close", dict(fd=fd), dict(res=0 if fd in p.fds else -9))
        p.fds.pop(fd, None)
        e = self.ends.pop((p.pid, fd), None)
        if e is not None and not e.udp and e.tx is not None and not any(x.tx is e.tx for x in self.ends.values()):
            e.tx.closed = True

    @syscall
    def read(self, p: Proc, fd: int, data: bytes, size: int = 4096, *, wait: int = 0, name: str = "read") -> Gen:
        yield from self.call(p, name, dict(fd=fd, size=size), dict(res=len(data), data=self.cut(data)), wait=wait)

    @syscall
    def write(self, p: Proc, fd: int, data: bytes, *, name: str = "write", res: int | None = None) -> Gen:
        """write/writev to a file or tty (sockets and pipes: ``send``)."""
        yield from self.call(p, name, dict(fd=fd, size=len(data)),
                             dict(res=len(data) if res is None else res, data=self.cut(data)))

    @syscall
    def simple(self, p: Proc, name: str, enter: dict[str, Any], exit_: dict[str, Any], wait: int = 0) -> Gen:
        """Any other enter/exit pair, parameters given by name."""
        yield from self.call(p, name, enter, exit_, wait=wait)

    @syscall
    def block(self, p: Proc, name: str, enter: dict[str, Any], exit_: dict[str, Any],
              until: Callable[[], bool]) -> Gen:
        """An enter/exit pair that blocks until ``until()`` holds (epoll_wait, poll, select ...)."""
        self.emit(p, name, **enter)
        while not until():
            yield self.rng.randint(1, 3) * MS
        self.ts += self.rng.randint(5 * US, 40 * US)
        self.emit(p, EV[name] + 1, **exit_)

    @syscall
    def sys(self, p: Proc, name: str, *, wait: int = 0) -> Gen:
        """A syscall sysdig 0.29.3 reports as a generic event (wait4, fsync, ...)."""
        yield from self.generic(p, name, wait=wait)

    @syscall
    def stat(self, p: Proc, path: str, res: int = 0) -> Gen:
        yield from self.call(p, "stat", {}, dict(res=res, path=path))

    @syscall
    def chdir(self, p: Proc, path: str, res: int = 0) -> Gen:
        yield from self.call(p, "chdir", {}, dict(res=res, path=path))
        if res == 0:
            p.cwd = posixpath.normpath(posixpath.join(p.cwd, path))

    # -- pipes --------------------------------------------------------------------------------------------
    @syscall
    def pipe(self, p: Proc) -> Gen:
        r = self.lowest_fd(p)
        self.set_fd(p, r, md.FD_FIFO, "pipe")
        w = self.lowest_fd(p)
        ino = self.ino()
        self.set_fd(p, w, md.FD_FIFO, "pipe", ino=ino)
        p.fds[r].ino = ino
        yield from self.call(p, "pipe", {}, dict(res=0, fd1=r, fd2=w, ino=ino))
        chan = Chan()
        self.ends[(p.pid, r)] = End(chan, None)
        self.ends[(p.pid, w)] = End(None, chan)
        return r, w

    @syscall
    def dup2(self, p: Proc, old: int, new: int) -> Gen:
        """dup2/dup3 are reported as 0.29.3's dup event: enter fd=old, exit res=new."""
        yield from self.call(p, "dup", dict(fd=old), dict(res=new))
        self._copy_fd(p, old, new)

    @syscall
    def dupfd(self, p: Proc, old: int, lowest: int) -> Gen:
        """fcntl(old, F_DUPFD, lowest): a copy of ``old`` on the first free fd >= ``lowest``."""
        new = self.lowest_fd(p, lowest)
        yield from self.call(p, "fcntl", dict(fd=old, cmd=flags("fcntl_commands", "F_DUPFD")), dict(res=new))
        self._copy_fd(p, old, new)
        return new

    def _copy_fd(self, p: Proc, old: int, new: int) -> None:
        p.fds[new] = md.FdEntry(**{s: getattr(p.fds[old], s) for s in md.FdEntry.__slots__})
        p.fds[new].fd = new
        if (p.pid, old) in self.ends:
            self.ends[(p.pid, new)] = self.ends[(p.pid, old)]

    @syscall
    def socketpair(self, p: Proc) -> Gen:
        """socketpair(AF_UNIX, SOCK_STREAM): two connected unix socket fds."""
        a = self.lowest_fd(p)
        self.set_fd(p, a, md.FD_UNIX_SOCK)
        b = self.lowest_fd(p)
        self.set_fd(p, b, md.FD_UNIX_SOCK)
        src, peer = (0xFFFF9E2B1D000000 + self.rng.randrange(1 << 16) * 0x400 for _ in range(2))
        yield from self.call(p, "socketpair", dict(domain=AF_UNIX, type=1 | 0o2000000, proto=0),
                             dict(res=0, fd1=a, fd2=b, source=src, peer=peer))
        return a, b

    # -- sockets ------------------------------------------------------------------------------------------
    @syscall
    def socket(self, p: Proc, domain: int = AF_INET, stype: int = 1, proto: int = 0) -> Gen:
        fd = self.lowest_fd(p)
        yield from self.call(p, "socket", dict(domain=domain, type=stype, proto=proto), dict(fd=fd))
        kind = md.FD_UNIX_SOCK if domain == AF_UNIX else md.FD_IPV4_SOCK
        self.set_fd(p, fd, kind)
        self.ends[(p.pid, fd)] = End(None, None, udp=(stype & 0xF) == SOCK_DGRAM)
        return fd

    @syscall
    def bind_listen(self, p: Proc, fd: int, addr: Addr, backlog: int = 511) -> Gen:
        yield from self.call(p, "bind", dict(fd=fd), dict(res=0, addr=addr))
        e = self.end(p, fd)
        e.local = addr
        if e.udp:
            self.udp[addr] = e.rx = Chan()
            return
        yield from self.call(p, "listen", dict(fd=fd, backlog=backlog), dict(res=0))
        self.listeners[addr] = Listener(addr, backlog)

    @syscall
    def connect(self, p: Proc, fd: int, remote: Addr | str, *, local_ip: str = "127.0.0.1",
                nonblock: bool = False, rtt: int = 0, res: int = 0) -> Gen:
        """TCP/UDP connect to ``remote``; refused (-111) when nothing listens there. Returns res.
        A str ``remote`` is a unix socket path: ``res`` says whether it exists (0 or -ENOENT)."""
        e = self.end(p, fd)
        if isinstance(remote, str):
            src = 0xFFFF9E2B1C3F0000 + self.rng.randrange(1 << 12) * 0x400
            dst = 0xFFFF9E2B0A110000 + len(remote) * 0x400
            yield from self.call(p, "connect", dict(fd=fd, addr=remote),
                                 dict(res=res, tuple=(src if res == 0 else 0, dst, remote)))
            if res == 0:
                e.tx, e.local = Chan(), ("0.0.0.0", 0)
            return res
        local = (local_ip, self.eph_port())
        lst = self.listeners.get(remote)
        if e.udp:
            res = 0
        elif lst is None:
            res = -ECONNREFUSED
        else:
            res = -EINPROGRESS if nonblock else 0
        yield from self.call(p, "connect", dict(fd=fd, addr=remote), dict(res=res, tuple=(local, remote)),
                             wait=rtt if res == 0 else 0)
        if res == -ECONNREFUSED:
            return res
        e.local, e.remote = local, remote
        self.fd_tcp(p, fd, local, remote, udp=e.udp)
        if e.udp:
            e.rx = self.udp.setdefault(local, Chan())
            e.tx = self.udp.setdefault(remote, Chan())
        else:
            e.rx, e.tx = Chan(), Chan()
            assert lst is not None
            lst.queue.append((local, End(e.tx, e.rx, remote, local)))
        return res

    @syscall
    def accept(self, p: Proc, lfd: int, *, block: bool = True, cloexec: bool = False) -> Gen:
        """accept4 on a listening fd: blocks until a client connects. Returns the new fd."""
        lst = self.listeners[self.end(p, lfd).local]    # type: ignore[index]
        self.emit(p, "accept", flags=0o2000000 if cloexec else 0)
        while block and not lst.queue:
            yield 2 * MS
        self.ts += self.rng.randint(2 * US, 9 * US)
        peer, srv = lst.queue.popleft()
        fd = self.lowest_fd(p)
        pct = min(100, 100 * (len(lst.queue) + 1) // max(1, lst.backlog))
        self.emit(p, EV["accept"] + 1, fd=fd, tuple=(peer, srv.local), queuepct=pct, queuelen=len(lst.queue),
                  queuemax=lst.backlog)
        self.ends[(p.pid, fd)] = srv
        self.fd_tcp(p, fd, peer, srv.local)   # type: ignore[arg-type]
        if cloexec:
            p.fds[fd].open_flags = O_CLOEXEC
        return fd

    @syscall
    def send(self, p: Proc, fd: int, data: bytes, *, name: str = "sendto", to: Addr | None = None) -> Gen:
        """sendto/write/writev on a socket or pipe; ``to`` is the destination of an unconnected UDP send."""
        e = self.end(p, fd)
        if name == "sendto":
            tup = (e.local, to) if to is not None else None
            enter = dict(fd=fd, size=len(data), tuple=tup)
        else:
            enter = dict(fd=fd, size=len(data))
        tx = self.udp.setdefault(to, Chan()) if to is not None else e.tx
        yield from self.call(p, name, enter, dict(res=len(data), data=self.cut(data)))
        if tx is not None:
            tx.chunks.append((e.local, data) if e.udp else data)

    @syscall
    def recv(self, p: Proc, fd: int, size: int = 16384, *, name: str = "recvfrom", wait: bool = True) -> Gen:
        """recvfrom/read on a socket or pipe: blocks for data; returns b"" at end of stream."""
        e = self.end(p, fd)
        enter = dict(fd=fd, size=size)
        self.emit(p, name, **enter)
        rx = e.rx
        while wait and rx is not None and not rx.ready():
            yield self.rng.randint(1, 4) * MS
        self.ts += self.rng.randint(3 * US, 20 * US)
        src = None
        if e.udp:
            src, data = rx.chunks.popleft() if rx and rx.chunks else (None, b"")
            e.last_src = src
        else:
            data = rx.take(size) if rx is not None else b""
        exit_: dict[str, Any] = dict(res=len(data), data=self.cut(data))
        if name == "recvfrom":
            exit_["tuple"] = (src, e.local) if src is not None else None
        self.emit(p, EV[name] + 1, **exit_)
        return data

    # -- processes ------------------------------------------------------------------------------------------
    def _info(self, q: Proc) -> dict[str, Any]:
        return dict(exe=q.exe, args=q.args, tid=q.tid, pid=q.pid, ptid=q.ptid, cwd=q.cwd, fdlimit=q.fdlimit,
                    pgft_maj=q.pgft[0], pgft_min=q.pgft[1], vm_size=q.vm[0], vm_rss=q.vm[1], vm_swap=q.vm[2],
                    comm=q.comm, cgroups=q.cgroups)

    @syscall
    def fork(self, parent: Proc, body: Callable[[Proc], Gen], *, thread: bool = False,
             daemon: bool | None = None) -> Gen:
        """clone(): the parent's pair now, the child's exit event (res=0) when the child first runs.
        The child is a daemon actor (it does not keep the capture going) if its parent is, or if asked."""
        ctid = self.new_pid()
        main = parent.pid
        child = Proc(ctid, main if thread else ctid, parent.ptid if thread else main, parent.comm, parent.exe,
                     parent.exepath, list(parent.args), parent.cwd, parent.uid, parent.gid, parent.loginuid,
                     parent.tty, list(parent.env), list(parent.cgroups), parent.sid, parent.pgid,
                     self.rng.randrange(self.ncpus), parent.fdlimit, vm=list(parent.vm), pgft=[0, 0])
        if thread:
            child.fds = parent.fds
        else:
            child.fds = {fd: md.FdEntry(**{s: getattr(e, s) for s in md.FdEntry.__slots__})
                         for fd, e in parent.fds.items()}
            for (pid, fd), e in list(self.ends.items()):
                if pid == parent.pid:
                    self.ends[(ctid, fd)] = e
        self.procs[ctid] = child
        cflags = THREAD_FLAGS if thread else FORK_FLAGS
        yield from self.call(parent, "clone", {}, dict(res=ctid, **self._info(parent), flags=cflags,
                                                       uid=parent.uid, gid=parent.gid, vtid=parent.tid,
                                                       vpid=parent.pid), lat=(40 * US, 120 * US))
        self.spawn(self._child_start(child, cflags, body), self.rng.randint(5 * US, 60 * US),
                   daemon=self.in_daemon if daemon is None else daemon)
        return child

    def _child_start(self, child: Proc, cflags: int, body: Callable[[Proc], Gen]) -> Gen:
        self.emit(child, EV_CLONE_X, res=0, **self._info(child), flags=cflags, uid=child.uid, gid=child.gid,
                  vtid=child.tid, vpid=child.pid)
        yield from body(child)
        if child.alive:
            yield from self.exit(child, 0)

    @syscall
    def execve(self, p: Proc, path: str, argv: list[str], *, env: list[str] | None = None, res: int = 0,
               libs: tuple[str, ...] | None = ("libc.so.6",)) -> Gen:
        """execve(); then the dynamic loader maps ``libs`` (None: a static binary, no loader)."""
        self.emit(p, "execve", filename=path)
        self.ts += self.rng.randint(150 * US, 600 * US)
        if res == 0:
            p.exe, p.exepath, p.args = argv[0], path, list(argv[1:])
            p.comm = posixpath.basename(path)[:15]
            p.env = list(env if env is not None else p.env)
            p.vm, p.pgft = [self.rng.randint(2000, 9000), self.rng.randint(600, 1100), 0], [0, self.rng.randint(30, 90)]
            for fd in [fd for fd, e in p.fds.items() if e.open_flags & O_CLOEXEC]:
                del p.fds[fd]
        self.emit(p, EV_EXECVE_X, res=res, **self._info(p), env=p.env, tty=p.tty, pgid=p.pgid,
                  loginuid=p.loginuid if p.loginuid != 0xFFFFFFFF else -1, flags=0)
        if res == 0 and libs is not None:
            yield from self._loader(p, libs)

    def _loader(self, p: Proc, libs: tuple[str, ...]) -> Gen:
        """What ld.so does before main(): brk, the preload check, the cache, then each library."""
        base = 0x7F3A00000000 + self.rng.randint(0, 0xFFFF) * 0x1000
        yield from self.simple(p, "brk", dict(addr=0), dict(res=0x55D0C0000000 + self.rng.randint(0, 0xFFF) * 0x1000,
                                                            vm_size=p.vm[0], vm_rss=p.vm[1], vm_swap=0))
        yield from self.simple(p, "access", dict(mode=flags("access_flags", "R_OK")),
                               dict(res=-2, name="/etc/ld.so.preload"))
        for path in ("/etc/ld.so.cache", *(f"/lib/x86_64-linux-gnu/{lib}" for lib in libs)):
            fd = yield from self.open(p, path, O_RDONLY | O_CLOEXEC)
            if path.endswith(".cache"):
                head = b"glibc-ld.so.cache1.1" + bytes(self.rng.randrange(256) for _ in range(60))
            else:
                head = ELF_HEADER + bytes(832 - len(ELF_HEADER))
                yield from self.read(p, fd, head, 832)
            yield from self.simple(p, "fstat", dict(fd=fd), dict(res=0))
            base += self.rng.randint(16, 400) * 0x1000
            yield from self.simple(p, "mmap", dict(addr=0, length=len(head) * 2900, prot=1, flags=2, fd=fd, offset=0),
                                   dict(res=base, vm_size=p.vm[0], vm_rss=p.vm[1], vm_swap=0))
            yield from self.close(p, fd)

    @syscall
    def exit(self, p: Proc, code: int = 0, sig: int = 0) -> Gen:
        """exit_group(): the procexit event (it has no exit half)."""
        sc, native = GENERIC["exit_group" if p.tid == p.pid else "exit"]
        self.emit(p, "syscall", ID=sc, nativeID=native)
        self.emit(p, "procexit", status=(code << 8) | sig, ret=code, sig=sig, core=0)
        p.alive = False
        if p.tid == p.pid:
            for fd in list(p.fds):
                e = self.ends.pop((p.pid, fd), None)
                if e is not None and not e.udp and e.tx is not None and not any(x.tx is e.tx for x in self.ends.values()):
                    e.tx.closed = True

    @syscall
    def wait_child(self, p: Proc, child: Proc) -> Gen:
        """wait4 until ``child`` exits, then the SIGCHLD delivery."""
        sc, native = GENERIC["wait4"]
        self.emit(p, "syscall", ID=sc, nativeID=native)
        while child.alive:
            yield self.rng.randint(1, 3) * MS
        self.ts += self.rng.randint(20 * US, 80 * US)
        self.emit(p, 1, ID=sc)
        self.emit(p, "signaldeliver", spid=child.pid, dpid=p.pid, sig=SIGCHLD)


EV_CLONE_X, EV_EXECVE_X = EV["clone"] + 1, EV["execve"] + 1
ELF_HEADER = bytes.fromhex("7f454c4602010100000000000000000003003e0001000000") + bytes(40) + bytes.fromhex(
    "40003800") + b"\x0d\x00\x40\x00\x1f\x00\x1e\x00"
