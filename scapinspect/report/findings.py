"""Notable findings: small detection rules over a capture's frames, each finding naming its rule.

    from scapinspect.report.findings import FINDING_COLUMNS, RULES, find
    cap = si.open("intrusion.scap")
    for f in find(cap.fields(FINDING_COLUMNS), cap.io_streams()):
        print(f.rule, f.process, f.detail)

Rules are pure functions of two frames: the events (``cap.fields(FINDING_COLUMNS)``) and the I/O
(``cap.io_streams()``). They look for what an analyst checks first after an incident, in the spirit of
Falco's default rules but far simpler: they are leads to look at, not verdicts.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .text import iso_ns

FINDING_COLUMNS = [
    "evt.num", "evt.rawtime", "evt.type", "evt.dir", "evt.failed", "evt.rawres", "proc.pid", "proc.ppid",
    "proc.name", "proc.exe", "proc.args", "fd.num", "fd.name", "fd.type", "fd.rip", "fd.rport", "evt.arg.flags",
]
SHELLS = frozenset({"sh", "ash", "bash", "dash", "ksh", "mksh", "zsh", "csh", "tcsh", "fish", "busybox"})
# services whose job is to start shells for people who logged in
LOGIN_SERVICES = frozenset({"sshd", "dropbear", "telnetd", "in.telnetd", "login", "systemd-logind", "agetty",
                            "tmux: server", "screen", "sudo", "su"})
DOWNLOADERS = frozenset({"curl", "wget", "fetch", "aria2c", "lwp-download"})
PACKAGE_MANAGERS = frozenset({"dpkg", "apt", "apt-get", "rpm", "yum", "dnf", "apk", "pip", "update-alternatives"})
SYSTEM_DIRS = ("/etc/", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/",
               "/lib/", "/usr/lib/", "/boot/")
SENSITIVE_FILES = frozenset({"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/master.passwd",
                             "/etc/sudoers", "/etc/security/opasswd"})
SENSITIVE_PATTERN = re.compile(r"^(/root|/home/[^/]+)/\.ssh/(id_[^/]*|authorized_keys)$|^/etc/ssh/ssh_host_.*_key$")
# programs that read the password databases as part of their job
AUTH_PROGRAMS = frozenset({"sudo", "su", "login", "sshd", "passwd", "unix_chkpwd", "chage", "chpasswd", "useradd",
                           "usermod", "userdel", "groupadd", "newgrp", "pwck", "grpck", "shadowconfig", "vipw",
                           "cron", "systemd-logind", "polkitd", "gdm-session-wor", "lightdm", "visudo"})
COMMON_PORTS = frozenset({20, 21, 22, 25, 53, 67, 68, 80, 110, 123, 143, 389, 443, 465, 514, 587, 636, 853, 993,
                          995, 1433, 1521, 2049, 2379, 2380, 3306, 5432, 5672, 6379, 6443, 8000, 8080, 8443, 8888,
                          9000, 9090, 9092, 9200, 11211, 27017})
FAILED_LOGIN = re.compile(rb"Failed password|authentication failure|Invalid user|incorrect password attempt|"
                          rb"FAILED LOGIN|Login incorrect|FAILED su|Sorry, try again|Failed publickey for root")
OPEN_TYPES = frozenset({"open", "openat", "openat2", "creat"})
CONNECT_OK = (0, -115)     # connected, or EINPROGRESS (a non-blocking connect under way)
MAX_ANCESTRY = 16


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: which rule, when, which process, what happened."""
    rule: str
    severity: str
    time: str | None      # ISO 8601 UTC
    process: str | None
    pid: int | None
    detail: str
    evt_num: int | None = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "time": self.time, "process": self.process,
                "pid": self.pid, "detail": self.detail, "evt_num": self.evt_num}


@dataclass(frozen=True)
class Rule:
    """A detection rule: ``check(events, io)`` yields its findings."""
    id: str
    title: str
    severity: str          # "critical", "high", "medium" or "low"
    description: str
    check: Callable[[pd.DataFrame, pd.DataFrame], list[Finding]]


# -- helpers over the frames -------------------------------------------------------------------------
def _exits(ev: pd.DataFrame, types) -> pd.DataFrame:
    t = ev["evt.type"].astype(object)
    return ev[t.isin(list(types)).to_numpy() & (ev["evt.dir"].astype(object) == "<").to_numpy()]


def _ok(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[~rows["evt.failed"].fillna(False).astype(bool).to_numpy()]


def _s(v) -> str | None:
    return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)


def _i(v) -> int | None:
    return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else int(v)


def _finding(rule: str, row, detail: str) -> Finding:
    r = RULES[rule]
    return Finding(rule, r.severity, iso_ns(_i(row["evt.rawtime"])), _s(row["proc.name"]), _i(row["proc.pid"]),
                   detail, _i(row["evt.num"]))


def _cmdline(row) -> str:
    exe, args = _s(row["proc.exe"]) or _s(row["proc.name"]) or "?", _s(row["proc.args"]) or ""
    return f"{exe} {args}".strip()


class _Tree:
    """Parents and names of the processes the events mention (last value seen wins)."""

    def __init__(self, ev: pd.DataFrame):
        known = ev[ev["proc.pid"].notna().to_numpy()]
        last = known.drop_duplicates("proc.pid", keep="last")
        self.parent = {int(p): _i(pp) for p, pp in zip(last["proc.pid"], last["proc.ppid"], strict=True)}
        self.name = {int(p): _s(n) for p, n in zip(last["proc.pid"], last["proc.name"], strict=True)}

    def ancestors(self, pid: int) -> list[int]:
        out: list[int] = []
        cur = self.parent.get(pid)
        while cur is not None and cur > 0 and cur not in out and len(out) < MAX_ANCESTRY:
            out.append(cur)
            cur = self.parent.get(cur)
        return out


def _ip_of(endpoint: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``10.0.1.30:8080`` or ``::1:443`` -> the address (None when it is not an IP endpoint)."""
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _served(ev: pd.DataFrame) -> dict[int, str]:
    """pid -> an address it serves to the network: processes that accepted a connection or called
    listen() on an address other than loopback (a test server on 127.0.0.1 is not a network service)."""
    out: dict[int, str] = {}
    for _, row in _ok(_exits(ev, ("accept", "accept4", "listen"))).iterrows():
        pid, name = _i(row["proc.pid"]), _s(row["fd.name"]) or ""
        local = name.split("->")[-1]
        ip = _ip_of(local)
        if pid is not None and pid not in out and ip is not None and not ip.is_loopback:
            out[pid] = local
    return out


def _remote(row) -> tuple[str | None, int | None]:
    """The server side of a connect(): the right-hand end of ``fd.name`` (``fd.rip``/``fd.rport``
    follow libsinsp's guess of which end is local, which fails when the interface list lacks the
    local address)."""
    name = _s(row["fd.name"]) or ""
    if "->" in name:
        right = name.split("->")[-1]
        host, _, port = right.rpartition(":")
        if port.isdigit():
            return host.strip("[]"), int(port)
    return _s(row["fd.rip"]), _i(row["fd.rport"])


# -- the rules -------------------------------------------------------------------------------------------
def shell_from_service(ev: pd.DataFrame, io: pd.DataFrame) -> list[Finding]:
    tree, served = _Tree(ev), _served(ev)
    out = []
    for _, row in _ok(_exits(ev, ("execve",))).iterrows():
        pid = _i(row["proc.pid"])
        if pid is None or _s(row["proc.name"]) not in SHELLS:
            continue
        chain = tree.ancestors(pid)
        if chain and tree.name.get(chain[0]) in SHELLS:
            continue          # reported at the outermost shell
        svc = next((a for a in chain if a in served), None)
        if svc is None or any(tree.name.get(a) in LOGIN_SERVICES for a in chain[:chain.index(svc) + 1]):
            continue
        where = f" serving {served[svc]}" if served[svc] else ""
        out.append(_finding("shell-from-network-service", row,
                            f"{tree.name.get(svc)} (pid {svc}){where} started a shell: {_cmdline(row)}"))
    return out


def shell_on_socket(ev: pd.DataFrame, io: pd.DataFrame) -> list[Finding]:
    out, seen = [], set()
    dups = _ok(_exits(ev, ("dup", "dup2", "dup3")))
    net = dups[dups["fd.type"].astype(object).isin(["ipv4", "ipv6"]).to_numpy()
               & dups["fd.num"].isin([0, 1, 2]).fillna(False).to_numpy()]
    for _, row in net.iterrows():
        pid = _i(row["proc.pid"])
        if _s(row["proc.name"]) in SHELLS and pid not in seen:
            seen.add(pid)
            out.append(_finding("shell-on-network-socket", row,
                                f"{row['proc.name']} (pid {pid}) put a network connection on its fd "
                                f"{_i(row['fd.num'])}: {_s(row['fd.name'])}"))
    if len(io):
        sock = io[io["fd.type"].isin(["ipv4", "ipv6"]).to_numpy() & io["fd.num"].isin([0, 1, 2]).to_numpy()
                  & io["proc.name"].isin(list(SHELLS)).to_numpy()]
        for _, r in sock.drop_duplicates("proc.pid").iterrows():
            pid = _i(r["proc.pid"])
            if pid in seen:
                continue
            seen.add(pid)
            out.append(Finding("shell-on-network-socket", RULES["shell-on-network-socket"].severity,
                               iso_ns(int(r["time"].value)), _s(r["proc.name"]), pid,
                               f"{r['proc.name']} (pid {pid}) {r['direction']}s fd {r['fd.num']}, "
                               f"a network connection: {_s(r['fd.name'])}"))
    return out


def _write_open(flags: str | None) -> bool:
    return bool(flags) and any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"))


def write_below_system_dir(ev: pd.DataFrame, io: pd.DataFrame) -> list[Finding]:
    out, seen = [], set()
    for _, row in _ok(_exits(ev, OPEN_TYPES)).iterrows():
        path = _s(row["fd.name"]) or ""
        if not path.startswith(SYSTEM_DIRS) or not _write_open(_s(row["evt.arg.flags"])):
            continue
        if _s(row["proc.name"]) in PACKAGE_MANAGERS or (row["proc.pid"], path) in seen:
            continue
        seen.add((row["proc.pid"], path))
        out.append(_finding("write-below-system-dir", row,
                            f"{row['proc.name']} (pid {_i(row['proc.pid'])}) opened {path} for writing "
                            f"({_s(row['evt.arg.flags'])})"))
    return out


def sensitive_read(ev: pd.DataFrame, io: pd.DataFrame) -> list[Finding]:
    out, seen = [], set()
    for _, row in _ok(_exits(ev, OPEN_TYPES)).iterrows():
        path = _s(row["fd.name"]) or ""
        if path not in SENSITIVE_FILES and not SENSITIVE_PATTERN.match(path):
            continue
        name = _s(row["proc.name"])
        if name in AUTH_PROGRAMS or "O_WRONLY" in (_s(row["evt.arg.flags"]) or "") \
                or (row["proc.pid"], path) in seen:
            continue
        seen.add((row["proc.pid"], path))
        out.append(_finding("read-sensitive-file", row, f"{name} (pid {_i(row['proc.pid'])}) opened {path}: "
                                                        f"{_cmdline(row)}"))
    return out


def unusual_port(ev: pd.DataFrame, io: pd.DataFrame) -> list[Finding]:
    out, seen = [], set()
    for _, row in _exits(ev, ("connect",)).iterrows():
        ip, port = _remote(row)
        if _i(row["evt.rawres"]) not in CONNECT_OK or port is None or ip is None or port in COMMON_PORTS:
            continue
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            continue
        if addr.is_loopback or addr.is_unspecified or (row["proc.pid"], ip, port) in seen:
            continue
        seen.add((row["proc.pid"], ip, port))
        out.append(_finding("unusual-port-connection", row,
                            f"{row['proc.name']} (pid {_i(row['proc.pid'])}) connected to {ip}:{port} "
                            f"({_s(row['fd.name'])})"))
    return out


def piped_download(ev: pd.DataFrame, io: pd.DataFrame) -> list[Finding]:
    if not len(io):
        return []
    tree = _Tree(ev)
    pipes = io[io["fd.type"].to_numpy() == "pipe"]
    writers = pipes[(pipes["direction"] == "write").to_numpy() & (pipes["fd.num"] == 1).to_numpy()
                    & pipes["proc.name"].isin(list(DOWNLOADERS)).to_numpy()].drop_duplicates("proc.pid")
    readers = pipes[(pipes["direction"] == "read").to_numpy() & (pipes["fd.num"] == 0).to_numpy()
                    & pipes["proc.name"].isin(list(SHELLS)).to_numpy()].drop_duplicates("proc.pid")
    out = []
    for _, w in writers.iterrows():
        parent = tree.parent.get(int(w["proc.pid"]))
        for _, r in readers.iterrows():
            if parent is None or tree.parent.get(int(r["proc.pid"])) != parent:
                continue
            cmd = _exec_cmdline(ev, int(w["proc.pid"])) or str(w["proc.name"])
            out.append(Finding("download-piped-to-shell", RULES["download-piped-to-shell"].severity,
                               iso_ns(int(r["time"].value)), _s(r["proc.name"]), int(r["proc.pid"]),
                               f"{cmd} (pid {int(w['proc.pid'])}) | {r['proc.name']} (pid {int(r['proc.pid'])}): "
                               f"the shell ran what the download wrote"))
    return out


def _exec_cmdline(ev: pd.DataFrame, pid: int) -> str | None:
    rows = _exits(ev, ("execve",))
    rows = rows[(rows["proc.pid"] == pid).fillna(False).to_numpy()]
    return _cmdline(rows.iloc[-1]) if len(rows) else None


def failed_login(ev: pd.DataFrame, io: pd.DataFrame) -> list[Finding]:
    if not len(io):
        return []
    out, seen = [], set()
    writes = io[(io["direction"] == "write").to_numpy()]
    for _, r in writes.iterrows():
        m = FAILED_LOGIN.search(r["data"])
        if m is None or (r["proc.pid"], r["data"]) in seen:
            continue
        seen.add((r["proc.pid"], r["data"]))
        line = r["data"][max(0, m.start() - 40):m.end() + 80].split(b"\n")[0]
        out.append(Finding("failed-login", RULES["failed-login"].severity, iso_ns(int(r["time"].value)),
                           _s(r["proc.name"]), _i(r["proc.pid"]),
                           f"{r['proc.name']} wrote to {_s(r['fd.name'])}: "
                           f"{line.decode('utf-8', 'surrogateescape')}"))
    return out


_RULES = [
    Rule("shell-from-network-service", "Shell spawned by a network service", "high",
         "A shell was executed below a process that accepted connections or listened on a port (remote "
         "login services such as sshd excepted): command injection or a web shell.", shell_from_service),
    Rule("shell-on-network-socket", "Shell with a network connection on stdin/stdout (reverse shell)",
         "critical", "A shell duplicated a TCP/UDP socket onto fd 0, 1 or 2, or reads/writes one there.",
         shell_on_socket),
    Rule("read-sensitive-file", "Read of a sensitive file", "high",
         "/etc/shadow, /etc/gshadow, /etc/sudoers, SSH keys ... opened by a program that is not an "
         "authentication tool (sudo, su, sshd, login, passwd ...).", sensitive_read),
    Rule("write-below-system-dir", "Write below /etc, /bin or another system directory", "high",
         "A file under /etc, /bin, /sbin, /usr/bin, /usr/sbin, /lib, /usr/lib or /boot opened for writing "
         "by something other than a package manager.", write_below_system_dir),
    Rule("download-piped-to-shell", "Download piped into a shell", "high",
         "A downloader (curl, wget ...) wrote to a pipe that a sibling shell read as its standard input "
         "(curl URL | sh).", piped_download),
    Rule("unusual-port-connection", "Connection to an unusual port", "medium",
         "An outbound connection to a non-loopback address on a port outside a list of common service "
         "ports (22, 53, 80, 443, 3306, 5432, 8080 ...).", unusual_port),
    Rule("failed-login", "Failed login or authentication", "medium",
         "A process wrote an authentication failure message (sshd 'Failed password', PAM "
         "'authentication failure', sudo 'incorrect password attempt', login 'Login incorrect' ...).",
         failed_login),
]
RULES: dict[str, Rule] = {r.id: r for r in _RULES}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def find(events: pd.DataFrame, io: pd.DataFrame | None = None, *,
         rules: list[str] | None = None) -> list[Finding]:
    """Run the rules (all by default) over ``events`` (a frame with ``FINDING_COLUMNS``) and ``io``
    (``io_events_frame``); findings sorted by time, then severity."""
    io = io if io is not None else pd.DataFrame(columns=["time", "direction", "proc.name", "proc.pid",
                                                         "fd.num", "fd.type", "fd.name", "data"])
    out: list[Finding] = []
    for rid in rules or list(RULES):
        out.extend(RULES[rid].check(events, io))
    return sorted(out, key=lambda f: (f.time or "", SEVERITY_ORDER.get(f.severity, 9), f.rule))


__all__ = ["Finding", "Rule", "RULES", "FINDING_COLUMNS", "find", "SEVERITY_ORDER"]
