"""The processes alive when a sample capture starts: systemd, resolved, sshd with logged-in users, nginx,
and the daemon loops some of them run during the capture."""
from __future__ import annotations

from dataclasses import dataclass

from ..parsers.metadata import GroupEntry
from . import programs as pg
from .kernel import Kernel
from .sim import MS, O_APPEND, O_RDWR, O_WRONLY, SIGCHLD, Gen, Proc, S, tty_nr

SYSTEM_CGROUPS = ["cpuset=/", "cpu=/system.slice", "memory=/system.slice/{unit}", "pids=/system.slice/{unit}"]


def devnull(k: Kernel, p: Proc, fds: tuple[int, ...] = (0, 1, 2)) -> None:
    for fd in fds:
        k.fd_file(p, fd, "/dev/null", O_RDWR)


def cgroups(unit: str) -> list[str]:
    return [c.format(unit=unit) for c in SYSTEM_CGROUPS]


def user_cgroups(uid: int, session: int) -> list[str]:
    scope = f"/user.slice/user-{uid}.slice/session-{session}.scope"
    return ["cpuset=/", "cpu=/user.slice", f"memory={scope}", f"pids={scope}"]


@dataclass
class Base:
    init: Proc
    resolved: Proc
    sshd: Proc


def base_system(k: Kernel, *, users: tuple[tuple[int, str], ...] = ()) -> Base:
    """systemd, systemd-resolved (stub listener 127.0.0.53:53/udp), cron and sshd (0.0.0.0:22)."""
    k.add_user(0, "root", "/root")
    k.add_user(33, "www-data", "/var/www", "/usr/sbin/nologin")
    k.add_user(101, "systemd-resolve", "/run/systemd", "/usr/sbin/nologin")
    for uid, name in users:
        k.add_user(uid, name, f"/home/{name}")
    k.groups += [GroupEntry(4, "adm"), GroupEntry(27, "sudo")]
    init = k.add_proc(1, 0, "systemd", "/usr/lib/systemd/systemd", ["--system", "--deserialize", "31"],
                      exe="/sbin/init", cgroups=["cpuset=/", "cpu=/init.scope", "memory=/init.scope"], cpu=0)
    devnull(k, init)
    resolved = k.add_proc(611, 1, "systemd-resolve", "/usr/lib/systemd/systemd-resolved", [], uid=101, gid=101,
                          cgroups=cgroups("systemd-resolved.service"), cpu=1)
    devnull(k, resolved)
    k.set_fd(resolved, 12, 5, sip=bytes([127, 0, 0, 53]), sport=53, l4proto=3)     # IPV4_SERVSOCK, UDP
    devnull(k, k.add_proc(702, 1, "cron", "/usr/sbin/cron", ["-f", "-P"], cgroups=cgroups("cron.service"), cpu=2))
    sshd = k.add_proc(812, 1, "sshd", "/usr/sbin/sshd", ["-D"], exe="sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
                      cgroups=cgroups("ssh.service"), cpu=3)
    devnull(k, sshd)
    k.fd_listen(sshd, 3, ("0.0.0.0", 22))
    return Base(init, resolved, sshd)


def start_resolved(k: Kernel, b: Base, zone: dict[str, str]) -> None:
    """Give resolved's stub socket (fd 12) its channel and run its answer loop."""
    end = k.ends[(b.resolved.pid, 12)] = pg.End(None, None, ("127.0.0.53", 53), udp=True)
    end.rx = k.udp.setdefault(("127.0.0.53", 53), pg.Chan())
    k.spawn(pg.resolved(k, b.resolved, 12, zone), daemon=True)


@dataclass
class Login:
    term: pg.Terminal
    priv: Proc
    sshd: Proc
    ptmx: int
    sock: int


def ssh_login(k: Kernel, b: Base, user: str, uid: int, *, pts: int, client: tuple[str, int], pids: tuple[int, int, int],
              session: int, cwd: str | None = None) -> Login:
    """An ssh session: sshd [priv] (root), sshd user@pts/N holding the TCP socket and /dev/ptmx, and bash."""
    home = f"/home/{user}"
    priv_pid, sshd_pid, bash_pid = pids
    cg = user_cgroups(uid, session)
    priv = k.add_proc(priv_pid, b.sshd.pid, "sshd", "/usr/sbin/sshd", [], exe=f"sshd: {user} [priv]", cgroups=cg,
                      loginuid=uid)
    usr = k.add_proc(sshd_pid, priv_pid, "sshd", "/usr/sbin/sshd", [], exe=f"sshd: {user}@pts/{pts}", uid=uid,
                     gid=uid, cgroups=cg, loginuid=uid, sid=priv_pid)
    for p in (priv, usr):
        devnull(k, p)
        k.fd_tcp(p, 4, client, ("10.0.2.15", 22))
    k.fd_file(usr, 9, "/dev/ptmx")
    env = pg.user_env(user, home, tty=f"/dev/pts/{pts}", ssh=f"{client[0]} {client[1]}")
    sh = k.add_proc(bash_pid, sshd_pid, "bash", "/usr/bin/bash", [], exe="-bash", cwd=cwd or home, uid=uid, gid=uid,
                    loginuid=uid, tty=tty_nr(pts), env=env, cgroups=cg)
    for fd in (0, 1, 2, 255):
        k.fd_file(sh, fd, f"/dev/pts/{pts}", O_RDWR)
    term = pg.Terminal(k, sh, user, k.machine.hostname, home)
    term.attach(usr, 9)
    k.ends[(usr.pid, 4)] = pg.End(None, None, ("10.0.2.15", 22), client)
    return Login(term, priv, usr, 9, 4)


def sshd_session(k: Kernel, lg: Login) -> Gen:
    """sshd relays what the shell prints to the client until the terminal closes, then both sshd exit."""
    usr, priv = lg.sshd, lg.priv
    while True:
        data = yield from k.recv(usr, lg.ptmx, 16384, name="read")
        if not data:
            break
        yield from k.write(usr, lg.sock, k.rng.randbytes(len(data) + 36))
    yield from k.write(usr, lg.sock, k.rng.randbytes(84))
    yield from k.close(usr, lg.ptmx)
    yield from k.close(usr, lg.sock)
    yield from k.exit(usr, 0)
    yield 3 * MS
    k.emit(priv, "signaldeliver", spid=usr.pid, dpid=priv.pid, sig=SIGCHLD)
    yield from k.sys(priv, "wait4")
    yield from pg.write_file(k, priv, "/var/log/wtmp", bytes(384), append=True)
    yield from k.close(priv, 4)
    yield from k.exit(priv, 0)


def nginx(k: Kernel, *, master: int = 901, workers: tuple[int, ...] = (902, 903), port: int = 80) -> list[Proc]:
    """nginx master (root) and workers (www-data) sharing the listening socket on fd 6."""
    m = k.add_proc(master, 1, "nginx", "/usr/sbin/nginx", ["-g", "daemon on; master_process on;"],
                   exe="nginx: master process /usr/sbin/nginx", cgroups=cgroups("nginx.service"))
    procs = [m]
    for w in workers:
        procs.append(k.add_proc(w, master, "nginx", "/usr/sbin/nginx", [], exe="nginx: worker process", uid=33,
                                gid=33, cgroups=cgroups("nginx.service"), sid=master, pgid=master))
    for p in procs:
        devnull(k, p, (0, 1))
        k.fd_file(p, 2, "/var/log/nginx/error.log", O_WRONLY | O_APPEND)
        k.fd_file(p, 4, "/var/log/nginx/access.log", O_WRONLY | O_APPEND)
        k.fd_file(p, 5, "/var/log/nginx/error.log", O_WRONLY | O_APPEND)
        k.fd_listen(p, 6, ("0.0.0.0", port))
    k.set_fd(m, 7, 12, "anon_inode:[eventpoll]")
    return procs


def idle(k: Kernel, p: Proc, period: int = 5 * S) -> Gen:
    """A daemon that wakes up now and then (an epoll_wait timeout) and goes back to sleep."""
    while True:
        yield from k.simple(p, "epoll_wait", dict(maxevents=512), dict(res=0),
                            wait=k.rng.randint(period // 2, period))
