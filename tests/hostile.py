"""A capture whose every name and payload is an attack on whatever displays it: HTML/script injection,
Markdown markup, ANSI escapes and invalid UTF-8, in process names, arguments, paths, the host name,
HTTP requests and responses. Built with the sample simulator, so it is a real, replayable capture in
which the report's rules also fire (a shell from a web server, writes under /etc, /etc/shadow read, an
unusual port, a failed login) with the hostile strings inside their details.
"""
from __future__ import annotations

from pathlib import Path

from scapinspect.samples import machines as mc
from scapinspect.samples import programs as pg
from scapinspect.samples.kernel import Kernel
from scapinspect.samples.sim import AF_INET, MS, S, loopback_interfaces, run_all

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
MARKDOWN = "**bold** _it_ [click](javascript:alert(3)) ![i](http://evil.example/x.png) | pipe | `code` # h"
ANSI = "\x1b[31mRED\x1b[0m\x1b]0;title\x07"
ME = "10.0.9.9"
PEER = "198.51.100.7"
HOSTILE_COMM = "<script>x"           # process names: 15 bytes at most after an exec
HOSTILE_PATH = f"/etc/{SCRIPT}.conf"
HOSTILE_TEXTS = [SCRIPT, IMG, "**bold**", "[click](javascript:alert(3))", "\x1b[31m"]


def _server(k: Kernel, p) -> object:
    cfd = yield from k.accept(p, 3)
    yield from k.recv(p, cfd, 65536)

    def child(kk: Kernel, c) -> object:
        yield from kk.execve(c, "/usr/bin/sh", ["sh", "-c", f"{IMG} {MARKDOWN} {ANSI}"])
        yield from _attack(kk, c)
    sh = yield from k.fork(p, lambda c: child(k, c))
    yield from k.wait_child(p, sh)
    body = f"<html><body>{SCRIPT}{IMG}{MARKDOWN}{ANSI}</body></html>".encode() + b"\xff\xfe\xc3("
    yield from k.send(p, cfd, pg.http_response("200 OK", body, server=f"{SCRIPT}/1.0"))
    yield from k.close(p, cfd)


def _attack(k: Kernel, sh) -> object:
    def evil(kk: Kernel, c) -> object:
        yield from pg.write_file(kk, c, HOSTILE_PATH, f"{SCRIPT}\n{MARKDOWN}\n{ANSI}\n".encode())
        yield from pg.read_file(kk, c, "/etc/shadow", b"root:$6$" + SCRIPT.encode() + b":19000::::::\n")
        fd = yield from kk.socket(c, AF_INET, 1, 6)
        yield from kk.connect(c, fd, (PEER, 6666), local_ip=ME, rtt=5 * MS)
        yield from kk.send(c, fd, f"{SCRIPT} {MARKDOWN} {ANSI}".encode() + b"\x00\xff")
        yield from kk.close(c, fd)
        log = f"<38>Mar 14 sshd[77]: Failed password for {SCRIPT} from {PEER} port 2222 ssh2\n"
        yield from pg.out(kk, c, log.encode(), 2)
    # the exec'd name is the basename: markup, and an ANSI escape, in proc.name
    yield from pg.run(k, sh, f"/tmp/{HOSTILE_COMM}", [HOSTILE_COMM, MARKDOWN, ANSI, SCRIPT], evil)
    yield from pg.run(k, sh, "/tmp/\x1b[2J**x**", ["\x1b[2J**x**"], lambda kk, c: pg.out(kk, c, b"ok\n"))


def hostile_capture(path: str | Path) -> Path:
    """Write the hostile capture to ``path`` and return it."""
    k = Kernel(seed=7, start=1_710_400_000_000_000_000, hostname=f"{SCRIPT}**host**", snaplen=256,
               first_pid=4000)
    k.interfaces = loopback_interfaces(("eth0", ME, "255.255.255.0"))
    mc.base_system(k)
    app = k.add_proc(1500, 1, HOSTILE_COMM, "/usr/bin/python3", ["app.py", SCRIPT, MARKDOWN, ANSI],
                     exe=f"{IMG}", cwd=f"/srv/{SCRIPT}")
    mc.devnull(k, app)
    k.fd_listen(app, 3, ("0.0.0.0", 8080))
    k.ends[(app.pid, 3)] = pg.End(None, None, ("0.0.0.0", 8080))
    k.listeners[("0.0.0.0", 8080)] = pg.Listener(("0.0.0.0", 8080), 16)
    pg.remote_server(k, (PEER, 6666), lambda req: [b""] if req else None)
    request = (f"GET /{SCRIPT}?q={MARKDOWN.replace(' ', '%20')} HTTP/1.1\r\nHost: {IMG}\r\n"
               f"User-Agent: {ANSI}\r\n\r\n").encode()
    k.spawn(_server(k, app))
    run_all(k, [pg.remote_client(k, (ME, 8080), (PEER, 40404), [request], via=("0.0.0.0", 8080),
                                 linger=1 * S)])
    out = Path(path)
    k.save(out)
    return out
