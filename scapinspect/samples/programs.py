"""What the simulated programs do: an interactive bash on a terminal, the commands it runs (ls, cat, ps,
grep, tail, vi, sudo, curl, ...), systemd-resolved answering DNS, and remote peers that are not on the
machine (so they emit nothing): web servers, DNS upstreams and an attacker's listener.
"""
from __future__ import annotations

import posixpath
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .kernel import Chan, End, Kernel, Listener
from .sim import (
    AF_INET,
    MS,
    O_APPEND,
    O_CLOEXEC,
    O_CREAT,
    O_DIRECTORY,
    O_NONBLOCK,
    O_RDONLY,
    O_TRUNC,
    O_WRONLY,
    SOCK_CLOEXEC,
    SOCK_DGRAM,
    SOCK_NONBLOCK,
    US,
    Gen,
    Proc,
)

Body = Callable[[Kernel, Proc], Gen]
PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]


def user_env(user: str, home: str, *, tty: str | None = None, ssh: str | None = None) -> list[str]:
    env = ["SHELL=/bin/bash", f"PWD={home}", f"LOGNAME={user}", f"HOME={home}", "LANG=C.UTF-8",
           f"USER={user}", "TERM=xterm-256color", "PATH=" + ":".join(PATH)]
    if ssh:
        env += [f"SSH_CLIENT={ssh} 22", f"SSH_TTY={tty}"]
    return env


# -- running commands -------------------------------------------------------------------------------------
def exec_body(path: str, argv: list[str], body: Body, *, env: list[str] | None = None,
              libs: tuple[str, ...] = ("libc.so.6",), before: Body | None = None) -> Body:
    """A forked child that (after ``before``) execs ``path`` and then behaves as ``body``."""
    def child(k: Kernel, c: Proc) -> Gen:
        yield from k.sys(c, "rt_sigaction")
        if before is not None:
            yield from before(k, c)
        yield from k.execve(c, path, argv, env=env, libs=libs)
        yield from body(k, c)
        yield from finish(k, c)
    return child


def finish(k: Kernel, p: Proc, code: int = 0) -> Gen:
    for fd in (1, 2):
        if fd in p.fds:
            yield from k.close(p, fd)
    if p.alive:
        yield from k.exit(p, code)


def run(k: Kernel, parent: Proc, path: str, argv: list[str], body: Body, **kw) -> Gen:
    """fork + exec + wait, as a shell runs a foreground command."""
    child = yield from k.fork(parent, lambda c: exec_body(path, argv, body, **kw)(k, c))
    yield from k.wait_child(parent, child)
    return child


def pipeline(k: Kernel, sh: Proc, stages: Sequence[tuple[str, list[str], Body]]) -> Gen:
    """``a | b | ...``: one pipe per link, each stage forked with its ends on fd 0/1, then wait for all."""
    children: list[Proc] = []
    prev_r: int | None = None
    for i, (path, argv, body) in enumerate(stages):
        last = i == len(stages) - 1
        r = w = None
        if not last:
            r, w = yield from k.pipe(sh)

        def plumb(kk: Kernel, c: Proc, r=r, w=w, prev_r=prev_r) -> Gen:
            if prev_r is not None:
                yield from kk.dup2(c, prev_r, 0)
                yield from kk.close(c, prev_r)
            if w is not None:
                yield from kk.dup2(c, w, 1)
                yield from kk.close(c, w)
                yield from kk.close(c, r)
        child = yield from k.fork(sh, lambda c, path=path, argv=argv, body=body, plumb=plumb:
                                  exec_body(path, argv, body, before=plumb)(k, c))
        children.append(child)
        if prev_r is not None:
            yield from k.close(sh, prev_r)
        if w is not None:
            yield from k.close(sh, w)
        prev_r = r
    for c in children:
        yield from k.wait_child(sh, c)


def out(k: Kernel, p: Proc, data: bytes, fd: int = 1) -> Gen:
    """Write to stdout/stderr, whatever it is (tty, pipe, socket, file)."""
    if (p.pid, fd) in k.ends:
        yield from k.send(p, fd, data, name="write")
    else:
        yield from k.write(p, fd, data)


def read_file(k: Kernel, p: Proc, path: str, content: bytes, *, bufsize: int = 131072, at: bool = True) -> Gen:
    fd = yield from k.open(p, path, O_RDONLY | O_CLOEXEC, at=at)
    if fd < 0:
        return None
    yield from k.simple(p, "fstat", dict(fd=fd), dict(res=0))
    yield from k.read(p, fd, content, bufsize)
    yield from k.read(p, fd, b"", bufsize)
    yield from k.close(p, fd)
    return content


def write_file(k: Kernel, p: Proc, path: str, content: bytes, *, append: bool = False, mode: int = 0o644) -> Gen:
    fd = yield from k.open(p, path, O_WRONLY | O_CREAT | (O_APPEND if append else O_TRUNC), mode)
    yield from k.write(p, fd, content)
    yield from k.close(p, fd)


# -- common programs --------------------------------------------------------------------------------------
def ls(path: str, entries: Sequence[str], listing: bytes, *, stat_each: bool = False) -> Body:
    def body(k: Kernel, p: Proc) -> Gen:
        fd = yield from k.open(p, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY)
        yield from k.simple(p, "fstat", dict(fd=fd), dict(res=0))
        yield from k.simple(p, "getdents64", dict(fd=fd), dict(res=32 * (len(entries) + 2)))
        yield from k.simple(p, "getdents64", dict(fd=fd), dict(res=0))
        yield from k.close(p, fd)
        if stat_each:
            for _ in entries:
                yield from k.sys(p, "newfstatat")
        yield from out(k, p, listing)
    return body


def cat(path: str, content: bytes) -> Body:
    def body(k: Kernel, p: Proc) -> Gen:
        data = yield from read_file(k, p, path, content)
        if data is None:
            yield from out(k, p, f"cat: {path}: Permission denied\n".encode(), 2)
        else:
            yield from out(k, p, data)
    return body


def text(s: str) -> Body:
    """A program that just prints ``s`` (id, uptime, df ...)."""
    def body(k: Kernel, p: Proc) -> Gen:
        yield from out(k, p, s.encode())
    return body


def grep(pattern: str) -> Body:
    def body(k: Kernel, p: Proc) -> Gen:
        data = b""
        while True:
            chunk = yield from k.recv(p, 0, 98304, name="read")
            if not chunk:
                break
            data += chunk
        hits = b"".join(line + b"\n" for line in data.split(b"\n") if pattern.encode() in line)
        if hits:
            yield from out(k, p, hits)
    return body


def ps_aux(k: Kernel, p: Proc) -> Gen:
    """ps reads /proc/<pid>/stat of every process and prints a table built from the live process list."""
    fd = yield from k.open(p, "/proc", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY)
    yield from k.simple(p, "getdents64", dict(fd=fd), dict(res=4096))
    rows = [b"USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"]
    names = {0: "root", 33: "www-data", 101: "systemd+", 1000: "alice", 1001: "bob"}
    for q in sorted((q for q in k.procs.values() if q.alive and q.tid == q.pid), key=lambda q: q.pid):
        stat = f"{q.pid} ({q.comm}) S {q.ptid} {q.pgid} {q.sid} {q.tty} -1 4194560 ".encode()
        yield from read_file(k, p, f"/proc/{q.pid}/stat", stat + b"0 " * 40, bufsize=1024)
        tty = f"pts/{q.tty & 0xFF}" if q.tty else "?"
        cmd = " ".join([q.exe, *q.args])
        rows.append(f"{names.get(q.uid, str(q.uid)):<8} {q.pid:>7}  0.0  0.1 {q.vm[0]:>6} {q.vm[1]:>5} "
                    f"{tty:<8} S    09:02   0:00 {cmd}".encode())
    yield from k.simple(p, "getdents64", dict(fd=fd), dict(res=0))
    yield from k.close(p, fd)
    yield from out(k, p, b"\n".join(rows) + b"\n")


# -- an interactive bash on a terminal --------------------------------------------------------------------
@dataclass
class Terminal:
    """A login shell on /dev/pts/N; what it writes to the terminal is what sshd relays to the client."""
    k: Kernel
    sh: Proc
    user: str
    host: str
    home: str
    screen: Chan = field(default_factory=Chan)
    hashed: set[str] = field(default_factory=set)
    started: bool = False

    def attach(self, sshd: Proc, ptmx: int) -> None:
        """fd 0-2 and 255 of the shell are the pts; sshd reads the other side on ``ptmx``."""
        for fd in (0, 1, 2, 255):
            self.k.ends[(self.sh.pid, fd)] = End(None, self.screen)
        self.k.ends[(sshd.pid, ptmx)] = End(self.screen, None)

    def prompt(self) -> bytes:
        cwd = "~" + self.sh.cwd[len(self.home):] if self.sh.cwd.startswith(self.home) else self.sh.cwd
        title = f"\x1b]0;{self.user}@{self.host}: {cwd}\x07"
        return f"{title}{self.user}@{self.host}:{cwd}$ ".encode()

    def keys(self, line: str, *, fd: int = 0, echo: bool = True, think: tuple[int, int] = (1500, 4000),
             proc: Proc | None = None) -> Gen:
        """Keystrokes read one byte at a time (readline), each echoed on stderr; ``proc`` reads them
        instead of the shell (a password prompt)."""
        k, sh = self.k, proc or self.sh
        for i, ch in enumerate(line + "\r"):
            delay = k.rng.randint(*think) * MS if i == 0 else k.rng.randint(70, 260) * MS
            if not self.started:          # the capture began while bash sat in read()
                self.started = True
                yield delay
                k.emit(sh, 7, res=1, data=ch.encode())       # read exit
            else:
                yield from k.read(sh, fd, ch.encode(), 1, wait=delay)
            if echo:
                yield from k.write(sh, 2, b"\r\n" if ch == "\r" else ch.encode())

    def lookup(self, name: str) -> Gen:
        """bash's PATH search: stat each directory until the command is found, then it is hashed."""
        if name in self.hashed or "/" in name:
            return name if "/" in name else self._where(name)
        for d in PATH:
            found = d == posixpath.dirname(self._where(name))
            yield from self.k.stat(self.sh, f"{d}/{name}", 0 if found else -2)
            if found:
                break
        self.hashed.add(name)
        return self._where(name)

    @staticmethod
    def _where(name: str) -> str:
        return {"sudo": "/usr/bin/sudo", "vi": "/usr/bin/vi"}.get(name, f"/usr/bin/{name}")

    def command(self, line: str, body: Body, *, argv: list[str] | None = None,
                libs: tuple[str, ...] = ("libc.so.6",)) -> Gen:
        """Type ``line``, run its first word with the rest as arguments (or ``argv``, after the shell's
        expansions), print the next prompt."""
        yield from self.keys(line)
        argv = argv or line.split()
        path = yield from self.lookup(argv[0])
        yield from run(self.k, self.sh, path, argv, body, libs=libs)
        yield from self.k.write(self.sh, 2, self.prompt())


# -- DNS -------------------------------------------------------------------------------------------------
def dns_query(qid: int, name: str, qtype: int) -> bytes:
    labels = b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0"
    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1) + labels + struct.pack(">HH", qtype, 1) + opt


def dns_answer(query: bytes, addr: str | None) -> bytes:
    qid, _, _, _, _, _ = struct.unpack_from(">HHHHHH", query)
    qend = query.index(b"\0", 12) + 5
    question = query[12:qend]
    qtype = struct.unpack_from(">H", query, qend - 4)[0]
    answers = b""
    if addr and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes(int(x) for x in addr.split("."))
    return struct.pack(">HHHHHH", qid, 0x8180, 1, 1 if answers else 0, 0, 0) + question + answers


def resolve(k: Kernel, p: Proc, name: str, *, server=("127.0.0.53", 53)) -> Gen:
    """glibc's resolver: a connected UDP socket, the A and AAAA queries, their two answers."""
    fd = yield from k.socket(p, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
    yield from k.connect(p, fd, server)
    qid = k.rng.randrange(1 << 16)
    for i, qtype in enumerate((1, 28)):
        yield from k.send(p, fd, dns_query(qid + i, name, qtype))
    for _ in range(2):
        yield from k.simple(p, "poll", dict(fds=[(fd, 1)], timeout=5000), dict(res=1, fds=[(fd, 1)]),
                            wait=k.rng.randint(200, 900) * US)
        yield from k.recv(p, fd, 2048)
    yield from k.close(p, fd)


def threaded_resolve(k: Kernel, p: Proc, host: str) -> Gen:
    """curl's threaded resolver: a socketpair to be woken on, a thread doing getaddrinfo(), a poll."""
    a, b = yield from k.socketpair(p)

    def resolver(c: Proc) -> Gen:
        yield from resolve(k, c, host)
        yield from k.write(c, b, b"\x01")
    t = yield from k.fork(p, resolver, thread=True)
    yield from k.block(p, "poll", dict(fds=[(a, 1)], timeout=200), dict(res=1, fds=[(a, 1)]), lambda: not t.alive)
    yield from k.close(p, a)
    yield from k.close(p, b)


def resolved(k: Kernel, p: Proc, fd: int, zone: dict[str, str]) -> Gen:
    """systemd-resolved: answer every query on its stub listener from ``zone``."""
    end = k.end(p, fd)
    while True:
        yield from k.block(p, "epoll_wait", dict(maxevents=12), dict(res=1), end.rx.ready)
        query = yield from k.recv(p, fd, 4096)
        src = end.last_src
        name = _qname(query)
        yield from k.send(p, fd, dns_answer(query, zone.get(name)), to=src)


def _qname(query: bytes) -> str:
    pos, parts = 12, []
    while query[pos]:
        parts.append(query[pos + 1:pos + 1 + query[pos]].decode())
        pos += 1 + query[pos]
    return ".".join(parts)


# -- peers that are not on this machine (no events) ------------------------------------------------------
def remote_server(k: Kernel, addr: tuple[str, int], reply: Callable[[bytes], list[bytes] | None], *,
                  rtt: int = 20 * MS) -> None:
    """A remote TCP server: for each request it receives, ``reply`` gives the chunks to send back
    (None: close the connection)."""
    lst = k.listeners[addr] = Listener(addr)

    def serve(end: End) -> Gen:
        buf = b""
        while True:
            while end.rx is not None and not end.rx.chunks and not end.rx.closed:
                yield 1 * MS
            if end.rx is None or (end.rx.closed and not end.rx.chunks):
                break
            buf += end.rx.take(1 << 20)
            chunks = reply(buf)
            if chunks is None:
                continue
            buf = b""
            yield rtt
            for c in chunks:
                if c == b"":
                    end.tx.closed = True
                    return
                end.tx.chunks.append(c)
                yield k.rng.randint(200, 900) * US

    def acceptor() -> Gen:
        while True:
            while not lst.queue:
                yield 2 * MS
            _, end = lst.queue.popleft()
            k.spawn(serve(end), daemon=True)

    k.spawn(acceptor(), daemon=True)


def remote_client(k: Kernel, server: tuple[str, int], client: tuple[str, int], requests: Sequence[bytes], *,
                  think: tuple[int, int] = (80, 900), linger: int = 40 * MS, via: tuple[str, int] | None = None) -> Gen:
    """A client on another machine: connects to ``server`` (through the listener bound to ``via``, e.g.
    0.0.0.0:80), sends each request once the previous response is complete, then closes. Emits nothing."""
    end = End(Chan(), Chan(), client, server)
    k.listeners[via or server].queue.append((client, End(end.tx, end.rx, server, client)))
    for req in requests:
        yield k.rng.randint(*think) * MS
        end.tx.chunks.append(req)
        got = b""
        while not _complete(got):
            while not end.rx.chunks and not end.rx.closed:
                yield 1 * MS
            if not end.rx.chunks:
                break
            got += end.rx.take(1 << 20)
    yield linger
    end.tx.closed = True


def http_response(status: str, body: bytes, *, ctype: str = "text/html", extra: str = "",
                  server: str = "nginx/1.24.0", date: str = "Thu, 14 Mar 2024 09:31:12 GMT") -> bytes:
    head = (f"HTTP/1.1 {status}\r\nServer: {server}\r\nDate: {date}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n")
    return head.encode() + body


def http_get(k: Kernel, p: Proc, host: str, addr: tuple[str, int], path: str, *, fd: int | None = None,
             method: str = "GET", body: bytes = b"", ctype: str = "", local_ip: str = "127.0.0.1",
             sink: int = 1, recv_size: int = 16384) -> Gen:
    """curl's side of one request/response: connect (unless ``fd`` is an open connection), send, receive
    until the response is complete (Content-Length or chunked), writing the body to ``sink`` as it comes
    (-1: nowhere). Returns the fd."""
    if fd is None:
        fd = yield from k.socket(p, AF_INET, 1 | SOCK_NONBLOCK, 6)
        yield from k.connect(p, fd, addr, nonblock=True, local_ip=local_ip)
        yield from k.simple(p, "poll", dict(fds=[(fd, 4)], timeout=1000), dict(res=1, fds=[(fd, 4)]),
                            wait=k.rng.randint(1, 30) * MS)
    hdrs = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
    if body:
        hdrs += f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    yield from k.send(p, fd, hdrs.encode() + b"\r\n" + body)
    got = b""
    while not _complete(got):
        chunk = yield from k.recv(p, fd, recv_size)
        if not chunk:
            break
        before = got
        got += chunk
        if b"\r\n\r\n" not in got:
            continue
        head, _ = got.split(b"\r\n\r\n", 1)
        part = got[len(head) + 4:] if b"\r\n\r\n" not in before else chunk
        if b"chunked" in head.lower():
            part = _dechunk(part)
        if part and sink >= 0:
            yield from out(k, p, part, sink)
    return fd


def _dechunk(data: bytes) -> bytes:
    """The payload of the complete chunks in ``data`` (chunk framing removed)."""
    out_, pos = b"", 0
    while pos < len(data):
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            break
        size = int(data[pos:eol] or b"0", 16)
        out_ += data[eol + 2:eol + 2 + size]
        pos = eol + 4 + size
    return out_


def _complete(resp: bytes) -> bool:
    if b"\r\n\r\n" not in resp:
        return False
    head, body = resp.split(b"\r\n\r\n", 1)
    if b"chunked" in head.lower():
        return body.endswith(b"0\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True

