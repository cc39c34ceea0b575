"""shell_session.scap: alice's interactive bash on /dev/pts/0 over ssh (cd, ls, cat, ps | grep, a subshell,
sudo, vi, curl, exit) while bob works in a second ssh session."""
from __future__ import annotations

from . import machines as mc
from . import programs as pg
from .kernel import Kernel
from .sim import (
    MS,
    O_CREAT,
    O_EXCL,
    O_RDONLY,
    O_RDWR,
    O_TRUNC,
    O_WRONLY,
    Gen,
    Proc,
    S,
    loopback_interfaces,
    run_all,
)

T_SHELL = 1710408413_118000000    # 2024-03-14 09:26:53 UTC
ETH0 = ("eth0", "10.0.2.15", "255.255.255.0")

WWW_LS = b"""total 24
drwxr-xr-x 3 www-data www-data 4096 Mar 14 09:12 .
drwxr-xr-x 3 root     root     4096 Feb  2 11:40 ..
-rw-r--r-- 1 www-data www-data  612 Feb  2 11:40 index.html
-rw-rw-r-- 1 alice    alice     171 Mar 14 09:10 notes.txt
drwxr-xr-x 2 www-data www-data 4096 Mar  1 16:02 static
"""
NOTES = b"""TODO for the shop frontend
- rotate the TLS cert before Friday
- nginx returns 502 when the app restarts: add a retry
- ask bob about the log volume
"""
ERROR_LOG_TAIL = (b'2024/03/14 09:20:41 [error] 902#902: *1187 connect() failed (111: Connection refused) while '
                  b'connecting to upstream, client: 10.0.2.2, server: _, request: "GET /api/cart HTTP/1.1", '
                  b'upstream: "http://127.0.0.1:5000/api/cart", host: "devbox"\n'
                  b'2024/03/14 09:21:02 [notice] 901#901: signal process started\n')
SUDOERS = b"#\n# This file MUST be edited with the 'visudo' command as root.\n#\nDefaults\tenv_reset\n" \
          b"root\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n"
SHADOW = b"root:$y$j9T$Fq0vOu5V1.C2bXwT2b8Y9/$u4qF2mXv1yG0m8i0hH3yS8pD2o7k9QwT2u3rB6c5dE1:19781:0:99999:7:::\n" \
         b"daemon:*:19709:0:99999:7:::\nwww-data:*:19709:0:99999:7:::\n" \
         b"alice:$y$j9T$3aB9cD8eF7gH6iJ5kL4mN/$Zx1Yw2Vu3Ts4Rq5Po6Nm7Lk8Ji9Hg0Fe1Dc2Ba3Zy4:19790:0:99999:7:::\n"


def _sudo(tail_argv: list[str], tail: pg.Body, term: pg.Terminal) -> pg.Body:
    """sudo: read sudoers, ask for the password on /dev/tty, check it against /etc/shadow, log to syslog,
    then fork the command as root and wait for it."""
    def body(k: Kernel, p: Proc) -> Gen:
        yield from pg.read_file(k, p, "/etc/sudoers", SUDOERS)
        tty = yield from k.open(p, "/dev/tty", O_RDWR)
        yield from k.write(p, tty, f"[sudo] password for {term.user}: ".encode())
        yield from term.keys("hunter22", fd=tty, echo=False, think=(900, 1400), proc=p)
        yield from k.write(p, tty, b"\n")
        yield from k.close(p, tty)
        yield from pg.read_file(k, p, "/etc/shadow", SHADOW)
        log = yield from k.socket(p, 1, 2 | 0o2000000, 0)
        yield from k.connect(p, log, "/dev/log")
        msg = (f"<85>Mar 14 09:28:40 sudo:    {term.user} : TTY=pts/0 ; PWD={term.sh.cwd} ; USER=root ; "
               f"COMMAND=/usr/bin/{' '.join(tail_argv)}").encode()
        yield from k.send(p, log, msg)

        def as_root(kk: Kernel, c: Proc) -> Gen:
            yield from kk.simple(c, "setresgid", dict(rgid=0, egid=0, sgid=0), dict(res=0))
            yield from kk.simple(c, "setresuid", dict(ruid=0, euid=0, suid=0), dict(res=0))
            c.uid = c.gid = 0
        yield from pg.run(k, p, "/usr/bin/" + tail_argv[0], tail_argv, tail, before=as_root)
    return body


def _tail(path: str, content: bytes) -> pg.Body:
    def body(k: Kernel, p: Proc) -> Gen:
        fd = yield from k.open(p, path, O_RDONLY)
        yield from k.simple(p, "fstat", dict(fd=fd), dict(res=0))
        yield from k.simple(p, "lseek", dict(fd=fd, offset=0, whence=2), dict(res=48213))
        yield from k.simple(p, "lseek", dict(fd=fd, offset=48213 - 8192, whence=0), dict(res=48213 - 8192))
        filler = (content * (8192 // len(content) + 1))[:8192 - len(content)]
        yield from k.read(p, fd, filler + content, 8192)
        yield from pg.out(k, p, content)
        yield from k.close(p, fd)
    return body


def _vi(term: pg.Terminal, path: str, old: bytes, added: bytes) -> pg.Body:
    """vim: read the file, create the swap file, draw, take the keystrokes, write the file back."""
    swap = path.rsplit("/", 1)[0] + "/." + path.rsplit("/", 1)[1] + ".swp"

    def body(k: Kernel, p: Proc) -> Gen:
        yield from pg.read_file(k, p, path, old)
        sfd = yield from k.open(p, swap, O_CREAT | O_EXCL | O_RDWR, 0o600)
        yield from k.write(p, sfd, b"b0VIM 9.1\0" + bytes(4086))
        yield from pg.out(k, p, b"\x1b[?1049h\x1b[22;0;0t\x1b[>4;2m\x1b[?1h\x1b=\x1b[H\x1b[2J" + old.replace(b"\n", b"\r\n"))
        for ch in "Go" + added.decode().rstrip("\n") + "\x1b:wq":
            yield from k.read(p, 0, ch.encode(), 4096, wait=k.rng.randint(90, 400) * MS)
            yield from pg.out(k, p, b"\x1b[24;1H" + ch.encode() if ch.isprintable() else b"\x1b[?25l")
        fd = yield from k.open(p, path, O_WRONLY | O_CREAT | O_TRUNC, 0o664)
        yield from k.write(p, fd, old + added)
        yield from k.sys(p, "fsync")
        yield from k.close(p, fd)
        yield from k.close(p, sfd)
        yield from k.simple(p, "unlinkat", {}, dict(res=0, dirfd=-100, name=swap, flags=0))
        yield from pg.out(k, p, b'\x1b[?1049l\x1b[23;0;0t"' + path.encode() + b'" 6L, 214B written')
    return body


def _curl_remote(host: str, addr: tuple[str, int], path: str) -> pg.Body:
    """curl: its resolver thread asks resolved for the address, then the main thread does the request."""
    def body(k: Kernel, p: Proc) -> Gen:
        yield from pg.threaded_resolve(k, p, host)
        yield from pg.http_get(k, p, host, addr, path, local_ip="10.0.2.15")
    return body


def _alice(k: Kernel, lg: mc.Login) -> Gen:
    t = lg.term
    sh = t.sh
    yield from t.keys("cd /var/www/html")
    yield from k.stat(sh, "/var/www/html")
    yield from k.chdir(sh, "/var/www/html")
    yield from k.write(sh, 2, t.prompt())
    yield from t.command("ls -la", pg.ls(".", ["index.html", "notes.txt", "static"], WWW_LS, stat_each=True))
    yield from t.command("cat notes.txt", pg.cat("notes.txt", NOTES))
    yield from t.keys("ps aux | grep nginx")
    yield from t.lookup("ps")
    yield from t.lookup("grep")
    yield from pg.pipeline(k, sh, [("/usr/bin/ps", ["ps", "aux"], pg.ps_aux),
                                   ("/usr/bin/grep", ["grep", "nginx"], pg.grep("nginx"))])
    yield from k.write(sh, 2, t.prompt())
    # a subshell: bash forks itself, the child changes directory and execs ls in place
    yield from t.keys("(cd /tmp && ls)")

    def subshell(kk: Kernel, c: Proc) -> Gen:
        yield from kk.chdir(c, "/tmp")
        yield from pg.exec_body("/usr/bin/ls", ["ls"], pg.ls(".", ["build-7f3a"], b"build-7f3a\n"))(kk, c)
    child = yield from k.fork(sh, lambda c: subshell(k, c))
    yield from k.wait_child(sh, child)
    yield from k.write(sh, 2, t.prompt())
    tail_argv = ["tail", "-n", "2", "/var/log/nginx/error.log"]
    yield from t.command("sudo " + " ".join(tail_argv),
                         _sudo(tail_argv, _tail("/var/log/nginx/error.log", ERROR_LOG_TAIL), t),
                         libs=("libaudit.so.1", "libc.so.6"))
    added = b"- ask bob re 502\n"
    yield from t.command("vi ~/notes.txt", _vi(t, "/home/alice/notes.txt", NOTES, added),
                         argv=["vi", "/home/alice/notes.txt"], libs=("libtinfo.so.6", "libc.so.6"))
    yield from t.command("curl -s http://checkip.example.net/",
                         _curl_remote("checkip.example.net", ("203.0.113.10", 80), "/"),
                         libs=("libcurl.so.4", "libc.so.6"))
    yield from t.keys("exit")
    yield from k.write(sh, 2, b"logout\n")
    yield from k.exit(sh, 0)


def _bob(k: Kernel, lg: mc.Login) -> Gen:
    t = lg.term
    yield 2 * S
    yield from t.command("uptime", pg.text(" 09:27:03 up 3 days, 0 min,  2 users,  load average: 0.08, 0.03, 0.01\n"))
    yield from t.command("df -h /", pg.text("Filesystem      Size  Used Avail Use% Mounted on\n"
                                            "/dev/sda1        39G   12G   25G  33% /\n"))
    yield from t.keys("exit")
    yield from k.write(t.sh, 2, b"logout\n")
    yield from k.exit(t.sh, 0)


def shell_session(*, seed: int = 1, snaplen: int = 80) -> Kernel:
    """alice on /dev/pts/0 (cd, ls, cat, ps | grep, a subshell, sudo, vi, curl, exit) while bob works on
    /dev/pts/1."""
    k = Kernel(seed=seed, start=T_SHELL, hostname="devbox", snaplen=snaplen, first_pid=4100)
    k.interfaces = loopback_interfaces(ETH0)
    b = mc.base_system(k, users=((1000, "alice"), (1001, "bob")))
    mc.start_resolved(k, b, {"checkip.example.net": "203.0.113.10"})
    workers = mc.nginx(k)
    alice = mc.ssh_login(k, b, "alice", 1000, pts=0, client=("10.0.2.2", 52144), pids=(2201, 2247, 2248),
                         session=3)
    bob = mc.ssh_login(k, b, "bob", 1001, pts=1, client=("10.0.2.2", 52410), pids=(2331, 2339, 2340),
                       session=5, cwd="/home/bob")
    pg.remote_server(k, ("203.0.113.10", 80), lambda req: [pg.http_response(
        "200 OK", b"203.0.113.77\n", ctype="text/plain", server="checkip",
        date=k.now("%a, %d %b %Y %H:%M:%S GMT"))] if req.endswith(b"\r\n\r\n") else None)
    for w in workers[1:]:
        k.spawn(mc.idle(k, w), daemon=True)
    run_all(k, [_alice(k, alice), mc.sshd_session(k, alice), _bob(k, bob), mc.sshd_session(k, bob)])
    return k

