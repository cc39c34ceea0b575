"""A small deterministic machine model that emits sysdig 0.29.3-style events (enter/exit pairs, event ids
below 336, only the parameters of the 0.29.3 table) and writes them as a capture.

Actors are generators: each system call helper is a generator too (``fd = yield from w.open(p, ...)``) and
a bare ``yield <ns>`` lets other actors run for that long. The scheduler always resumes the actor with
the earliest wake-up time, so timestamps only grow and the threads of several CPUs interleave.
"""
from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..parsers import metadata as md
from ..parsers.eventtable import v0293
from ..parsers.writer import ScapWriter, encode_event

V = v0293()
US, MS, S = 1_000, 1_000_000, 1_000_000_000
AT_FDCWD = -100
Gen = Generator[int, None, Any]

# event ids (0.29.3 table), checked against their names in tests
EV = {
    "syscall": 0, "open": 2, "close": 4, "read": 6, "write": 8, "socket": 18, "bind": 20, "connect": 22,
    "listen": 24, "sendto": 30, "socketpair": 42, "recvfrom": 34, "shutdown": 36, "pipe": 60, "stat": 66, "fstat": 70,
    "epoll_wait": 78, "poll": 80, "lseek": 86, "chdir": 94, "writev": 118, "dup": 124, "kill": 128,
    "nanosleep": 134, "fcntl": 150, "brk": 158, "mmap": 160, "procexit": 186, "setresuid": 192,
    "setresgid": 194, "setuid": 198, "setgid": 200, "clone": 222, "signaldeliver": 232, "procinfo": 234,
    "getdents64": 238, "accept": 248, "access": 264, "setsid": 274, "mkdir": 276, "execve": 292,
    "setpgid": 294, "unlinkat": 302, "openat": 306, "chmod": 314, "mprotect": 328, "ioctl": 170,
}
# x86_64 numbers of the syscalls emitted as generic events, with their 0.29.3 PPM_SC ids
GENERIC = {name: (sc, native) for name, native in (
    ("wait4", 61), ("rt_sigaction", 13), ("exit_group", 231), ("exit", 60), ("fsync", 74), ("uname", 63),
    ("set_robust_list", 273), ("newfstatat", 262), ("pselect6", 270), ("epoll_wait", 232),
) for sc, n in V.syscall_names.items() if n == name}


def flags(table: str, *names: str) -> int:
    """OR of PPM flag values from the 0.29.3 flag table ``table``."""
    vals = dict(V.flags[table])
    return sum(vals[n] for n in names) if names else 0


O_RDONLY, O_WRONLY, O_RDWR = (flags("file_flags", n) for n in ("O_RDONLY", "O_WRONLY", "O_RDWR"))
O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_CLOEXEC, O_DIRECTORY, O_NONBLOCK = (flags("file_flags", n) for n in (
    "O_CREAT", "O_TRUNC", "O_APPEND", "O_EXCL", "O_CLOEXEC", "O_DIRECTORY", "O_NONBLOCK"))
FORK_FLAGS = flags("clone_flags", "CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID")
THREAD_FLAGS = flags("clone_flags", "CLONE_FILES", "CLONE_FS", "CLONE_PARENT_SETTID", "CLONE_SIGHAND",
                     "CLONE_SYSVSEM", "CLONE_THREAD", "CLONE_VM", "CLONE_CHILD_CLEARTID", "CLONE_SETTLS")
AF_UNIX, AF_INET, SOCK_STREAM, SOCK_DGRAM = 1, 2, 1, 2
SOCK_NONBLOCK, SOCK_CLOEXEC = 0o4000, 0o2000000
ECONNREFUSED, ENOENT, EAGAIN, EACCES = 111, 2, 11, 13
SIGCHLD, SIGTERM, SIGPIPE = 17, 15, 13
TTY_PTS0 = 136 << 8         # tty_nr of /dev/pts/N is (136 << 8) | N


def tty_nr(pts: int) -> int:
    return TTY_PTS0 | pts


@dataclass(eq=False)
class Proc:
    """One thread and what the kernel would report about it."""
    tid: int
    pid: int
    ptid: int
    comm: str
    exe: str
    exepath: str
    args: list[str]
    cwd: str
    uid: int = 0
    gid: int = 0
    loginuid: int = 0xFFFFFFFF
    tty: int = 0
    env: list[str] = field(default_factory=list)
    cgroups: list[str] = field(default_factory=lambda: ["cpuset=/", "cpu=/system.slice", "memory=/system.slice"])
    sid: int = 0
    pgid: int = 0
    cpu: int = 0
    fdlimit: int = 1024
    fds: dict[int, md.FdEntry] = field(default_factory=dict)
    vm: list[int] = field(default_factory=lambda: [9000, 3200, 0])   # vm_size, vm_rss, vm_swap (KiB)
    pgft: list[int] = field(default_factory=lambda: [0, 120])
    alive: bool = True
    threads: int = 0                 # live threads other than the main one (for main threads)

    def entry(self) -> md.ThreadEntry:
        return md.ThreadEntry(
            self.tid, self.pid, self.ptid, self.comm, self.exe, self.exepath, list(self.args), self.cwd,
            self.fdlimit, 0, self.uid, self.gid, self.vm[0], self.vm[1], self.vm[2], self.pgft[0],
            self.pgft[1], list(self.env), self.tid, self.pid, list(self.cgroups), "/", self.sid, self.pgid,
            self.pgid, self.tty, self.loginuid, 0)


class World:
    """Clock, processes, scheduler and event buffer of one simulated capture."""

    def __init__(self, *, seed: int, start: int, hostname: str, ncpus: int = 4, snaplen: int = 80,
                 memory: int = 8 << 30, first_pid: int = 3000):
        self.rng = random.Random(seed)
        self.ts = start
        self.ncpus = ncpus
        self.snaplen = snaplen
        self.machine = md.MachineInfo(ncpus, memory, 4194304, hostname, start - 3 * 86400 * S + 417 * MS, 0)
        self.users: list[md.UserEntry] = []
        self.groups: list[md.GroupEntry] = []
        self.interfaces: list[md.Interface] = []
        self.procs: dict[int, Proc] = {}
        self.events: list[tuple[int, int, int, int, list[bytes]]] = []
        self._initial: tuple[list[md.ThreadEntry], dict[int, list[md.FdEntry]]] | None = None
        self._heap: list[tuple[int, int, Gen, bool]] = []
        self._seq = 0
        self._busy = 0
        self.in_daemon = False          # whether the running actor is a daemon (its children are too)
        self._next_pid = first_pid
        self._ino = 40000
        self._cpu_time: dict[int, list[int]] = {}

    # -- setup ------------------------------------------------------------------------------------------
    def add_user(self, uid: int, name: str, home: str, shell: str = "/bin/bash", gid: int | None = None) -> None:
        self.users.append(md.UserEntry(uid, uid if gid is None else gid, name, home, shell))
        self.groups.append(md.GroupEntry(uid if gid is None else gid, name))

    def add_proc(self, tid: int, ptid: int, comm: str, exepath: str, args: list[str], *, exe: str | None = None,
                 cwd: str = "/", pid: int | None = None, **kw: Any) -> Proc:
        p = Proc(tid, tid if pid is None else pid, ptid, comm, exe or exepath, exepath, args, cwd, **kw)
        p.cpu = kw.get("cpu", tid % self.ncpus)
        p.sid = p.sid or p.pid
        p.pgid = p.pgid or p.pid
        self.procs[tid] = p
        return p

    def ino(self) -> int:
        self._ino += self.rng.randint(1, 40)
        return self._ino

    def new_pid(self) -> int:
        self._next_pid += self.rng.randint(1, 3)
        return self._next_pid

    # -- fd table ---------------------------------------------------------------------------------------
    @staticmethod
    def lowest_fd(p: Proc, start: int = 0) -> int:
        fd = start
        while fd in p.fds:
            fd += 1
        return fd

    def set_fd(self, p: Proc, fd: int, ftype: int, name: str = "", **kw: Any) -> md.FdEntry:
        e = md.FdEntry(fd, kw.pop("ino", self.ino()), ftype, name=name, **kw)
        p.fds[fd] = e
        return e

    def fd_file(self, p: Proc, fd: int, path: str, oflags: int = O_RDWR) -> md.FdEntry:
        return self.set_fd(p, fd, md.FD_FILE_V2, path, open_flags=oflags, dev=0x803)

    def fd_tcp(self, p: Proc, fd: int, src: tuple[str, int], dst: tuple[str, int], *, udp: bool = False) -> None:
        self.set_fd(p, fd, md.FD_IPV4_SOCK, sip=_ip4(src[0]), sport=src[1], dip=_ip4(dst[0]), dport=dst[1],
                    l4proto=md.L4_UDP if udp else md.L4_TCP)

    def fd_listen(self, p: Proc, fd: int, addr: tuple[str, int]) -> None:
        self.set_fd(p, fd, md.FD_IPV4_SERVSOCK, sip=_ip4(addr[0]), sport=addr[1], l4proto=md.L4_TCP)

    # -- scheduling -------------------------------------------------------------------------------------
    def spawn(self, gen: Gen, delay: int = 0, *, daemon: bool = False) -> None:
        """Run ``gen`` as an actor from now + ``delay``; daemons do not keep the capture going."""
        heapq.heappush(self._heap, (self.ts + delay, self._seq, gen, daemon))
        self._seq += 1
        self._busy += not daemon

    def run(self, *, limit: int = 600 * S) -> None:
        """Run the actors until only daemons are left (at most ``limit`` ns of simulated time)."""
        if self._initial is None:
            self.snapshot()
        deadline = self.ts + limit
        while self._busy:
            wake, _, gen, daemon = heapq.heappop(self._heap)
            if wake > deadline:
                raise RuntimeError(f"simulation still busy after {limit / S:.0f} s: an actor waits forever")
            self._busy -= not daemon
            self.ts = max(self.ts, wake)
            self.in_daemon = daemon
            try:
                delay = next(gen)
            except StopIteration:
                continue
            self.spawn(gen, delay, daemon=daemon)

    def snapshot(self) -> None:
        """Freeze the process and fd tables as the capture's metadata preamble."""
        alive = [p for p in self.procs.values() if p.alive]
        threads = [p.entry() for p in alive]
        fds = {p.tid: [md.FdEntry(**{s: getattr(e, s) for s in md.FdEntry.__slots__})
                       for _, e in sorted(p.fds.items())] for p in alive if p.tid == p.pid}
        self._initial = (threads, fds)

    # -- events -----------------------------------------------------------------------------------------
    def emit(self, p: Proc, name_or_id: str | int, **values: Any) -> None:
        etype = EV[name_or_id] if isinstance(name_or_id, str) else name_or_id
        self.ts += self.rng.randint(180, 1400)
        params = encode_event(etype, table=V, require_all=True, **values)
        self.events.append((self.ts, p.tid, p.cpu, etype, params))

    def call(self, p: Proc, name: str, enter: dict[str, Any], exit_: dict[str, Any], *, wait: int = 0,
             lat: tuple[int, int] = (300, 6000)) -> Gen:
        """An enter/exit pair; with ``wait`` the thread blocks and other actors run in between."""
        etype = EV[name]
        self.emit(p, etype, **enter)
        if wait:
            yield wait
            if self.rng.random() < 0.04:
                p.cpu = self.rng.randrange(self.ncpus)
        else:
            self.ts += self.rng.randint(*lat)
        self.emit(p, etype + 1, **exit_)

    def generic(self, p: Proc, syscall: str, *, wait: int = 0) -> Gen:
        sc, native = GENERIC[syscall]
        yield from self.call(p, "syscall", {"ID": sc, "nativeID": native}, {"ID": sc}, wait=wait)

    def now(self, fmt: str = "%d/%b/%Y:%H:%M:%S") -> str:
        """The simulated wall clock (UTC), for log lines and Date headers."""
        return time.strftime(fmt, time.gmtime(self.ts // S))

    def cut(self, data: bytes) -> bytes:
        """I/O buffers are captured up to the snaplen only; ``res`` keeps the real count."""
        return data[:self.snaplen]

    def procinfo_noise(self, period: int = 900 * MS) -> Gen:
        """Periodic procinfo events (CPU usage) for a running thread on each CPU, as the driver emits."""
        while True:
            yield self.rng.randint(period // 2, period * 3 // 2)
            for cpu in range(self.ncpus):
                running = [q for q in self.procs.values() if q.alive and q.cpu == cpu]
                if not running or self.rng.random() < 0.3:
                    continue
                q = self.rng.choice(running)
                usr, sys_ = self._cpu_time.setdefault(q.tid, [self.rng.randint(0, 400), self.rng.randint(0, 90)])
                self._cpu_time[q.tid] = [usr + self.rng.randint(0, 3), sys_ + self.rng.randint(0, 2)]
                self.emit(q, "procinfo", cpu_usr=usr, cpu_sys=sys_)

    # -- output -----------------------------------------------------------------------------------------
    def save(self, path: str | Path, *, legacy_tail: bool = True) -> None:
        """The capture: MI, IL, UL, PL (as sysdig 0.29 writes it, by default), FDLs, then the events."""
        assert self._initial is not None
        threads, fds = self._initial
        with ScapWriter(path) as w:
            w.write_metadata(machine=self.machine, interfaces=self.interfaces, users=self.users,
                             groups=self.groups, threads=threads, fds=fds, legacy_tail=legacy_tail)
            for ts, tid, cpu, etype, params in self.events:
                w.write_event(ts, tid, cpu, etype, params)


def _ip4(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


def loopback_interfaces(*extra: tuple[str, str, str]) -> list[md.Interface]:
    """``lo`` plus (name, address, netmask) IPv4 interfaces."""
    out = [md.Interface(4, "lo", _ip4("127.0.0.1"), _ip4("255.0.0.0"))]
    out += [md.Interface(4, n, _ip4(a), _ip4(m)) for n, a, m in extra]
    return out


def run_all(world: World, actors: Iterable[Gen], *, noise: Callable[[World], Gen] | None = None) -> None:
    for i, a in enumerate(actors):
        world.spawn(a, i * 37 * US)
    world.spawn((noise or World.procinfo_noise)(world), daemon=True)
    world.run()
