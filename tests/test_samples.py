"""The generated sample captures: reproducible byte for byte, readable by our reader, shaped like sysdig
0.29.3 captures (enter/exit pairs, ids < 336, the 0.29.3 parameter lists), telling the stories they
claim, and accepted by Debian's sysdig 0.29.3 when it is installed."""
from __future__ import annotations

import ipaddress
import os
import struct
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from scapinspect.parsers.eventtable import EC_INTERNAL, v0293
from scapinspect.parsers.reader import ScapReader, Section
from scapinspect.samples.generate import SCENARIOS, generate
from scapinspect.samples.sim import EV, GENERIC

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "sample_captures"
NAMES = sorted(SCENARIOS)
V = v0293()
SYSDIG = "/usr/bin/sysdig"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    generate(out)
    return out


def load(path: Path) -> tuple[Section, list[tuple]]:
    """The (single) section and (ts, tid, cpu, type, params as bytes) of every event."""
    r = ScapReader(str(path), strict=True)
    sections, events = [], []
    for it in r.items():
        if isinstance(it, Section):
            sections.append(it)
        else:
            events.append((it.ts, it.tid, it.cpu, it.type, [bytes(it.raw(i) or b"") for i in range(it.nparams)]))
    assert not r.warnings
    assert len(sections) == 1
    return sections[0], events


@pytest.fixture(scope="module")
def samples(regenerated) -> dict[str, tuple[Section, list[tuple]]]:
    return {name: load(regenerated / f"{name}.scap") for name in NAMES}


# -- decoding helpers for the content checks ----------------------------------------------------------
def i64(raw: bytes) -> int:
    return struct.unpack("<q", raw)[0]


def text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", "replace")


def tuple_str(raw: bytes) -> str:
    if not raw or raw[0] != 2:
        return ""
    sip, sport, dip, dport = struct.unpack("<4sH4sH", raw[1:13])
    return f"{ipaddress.ip_address(sip)}:{sport}->{ipaddress.ip_address(dip)}:{dport}"


def named(events: list[tuple], name: str, direction: str = "<") -> list[tuple]:
    return [e for e in events if V.events[e[3]].name == name and V.events[e[3]].direction == direction]


def param(ev: tuple, name: str) -> bytes:
    return ev[4][V.events[ev[3]].param_index(name)]


def execs(events: list[tuple]) -> list[tuple[str, list[str], int]]:
    """(exe, args, tid) of every successful execve."""
    out = []
    for e in named(events, "execve"):
        if i64(param(e, "res")) == 0:
            out.append((text(param(e, "exe")), text(param(e, "args")).split("\0") if param(e, "args") else [],
                        e[1]))
    return out


# -- reproducibility ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_regenerating_gives_the_committed_bytes(name, regenerated):
    committed = COMMITTED / f"{name}.scap"
    assert committed.is_file(), f"{committed} is missing: run python -m scapinspect.samples.generate"
    assert (regenerated / f"{name}.scap").read_bytes() == committed.read_bytes()


def test_command_line_writes_into_the_given_directory(tmp_path):
    res = subprocess.run([sys.executable, "-m", "scapinspect.samples.generate", str(tmp_path), "--only", "web_502"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "web_502.scap").read_bytes() == (COMMITTED / "web_502.scap").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web_502.scap"]


def test_snaplen_option_changes_only_data_lengths(tmp_path):
    generate(tmp_path, names=["web_502"], snaplen=200)
    _, wide = load(tmp_path / "web_502.scap")
    _, narrow = load(COMMITTED / "web_502.scap")
    assert [e[:4] for e in wide] == [e[:4] for e in narrow]
    data_lens = [len(param(e, "data")) for e in named(wide, "writev")]
    assert max(data_lens) > 80 and max(data_lens) <= 200


# -- shape: what sysdig 0.29.3 would have written -------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_sample_shape(name, samples, regenerated):
    sec, events = samples[name]
    path = regenerated / f"{name}.scap"
    assert path.stat().st_size < 200_000
    assert path.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"       # plain, not gzip
    assert len(events) > 100
    ts = [e[0] for e in events]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)
    assert len({e[2] for e in events}) >= 3                      # several CPUs
    for e in events:
        assert e[3] < 336
        assert len(e[4]) == len(V.events[e[3]].params), V.events[e[3]].name
    assert any(e[3] == EV["procinfo"] for e in events)
    # metadata preamble: machine, users, interfaces, processes, and fd lists only for listed threads
    assert sec.machine is not None and sec.machine.num_cpus == 4
    assert sec.users and sec.groups and sec.interfaces
    tids = {t.tid for t in sec.threads}
    assert {1}.issubset(tids) and set(sec.fds) <= tids
    assert all(t.loginuid in (0xFFFFFFFF, 1000, 1001) for t in sec.threads)


@pytest.mark.parametrize("name", NAMES)
def test_enter_exit_pairs(name, samples):
    """Per thread, every exit follows its own enter, except a thread's first event (the capture began
    inside a system call, or it is a new thread's clone exit); enters without exits only at the end."""
    _, events = samples[name]
    last: dict[int, int] = {}
    dead = set()
    for ts, tid, _cpu, etype, _params in events:
        if etype == EV["procexit"]:
            dead.add(tid)
        info = V.events[etype]
        if not info.is_enter:
            prev = last.get(tid)
            assert prev is None or prev == etype - 1 or etype == EV["clone"] + 1, (name, ts, tid, info.name)
        if etype not in (EV["procinfo"], EV["signaldeliver"], EV["procexit"]):
            last[tid] = etype
    pending = defaultdict(int)
    for tid, etype in last.items():
        if V.events[etype].is_enter and tid not in dead:
            pending[V.events[etype].name] += 1
    assert sum(pending.values()) <= 8     # daemons blocked in epoll_wait/accept/recvfrom at the end


# -- the stories -----------------------------------------------------------------------------------------
def test_shell_session_story(samples):
    sec, events = samples["shell_session"]
    ran = execs(events)
    exes = [x for x, _, _ in ran]
    for prog in ("ls", "cat", "ps", "grep", "sudo", "tail", "vi", "curl", "uptime", "df"):
        assert prog in exes, prog
    assert ("vi", ["/home/alice/notes.txt"]) in [(x, a) for x, a, _ in ran]
    ttys = {text(param(e, "exe")): struct.unpack("<i", param(e, "tty"))[0] for e in named(events, "execve")}
    assert ttys["ls"] == 136 << 8 and ttys["uptime"] == (136 << 8) | 1        # pts/0 and pts/1
    users = {u.uid: u.name for u in sec.users}
    assert users[1000] == "alice" and users[1001] == "bob"
    shells = {t.tid: t for t in sec.threads if t.comm == "bash"}
    assert {t.uid for t in shells.values()} == {1000, 1001}
    assert any(e.name == "/dev/pts/0" for e in sec.fds[2248])
    # keystrokes are read one byte at a time from the terminal
    assert sum(1 for e in named(events, "read") if param(e, "data") == b"l") >= 2
    # the pipeline and the subshell
    assert named(events, "pipe") and [text(param(e, "path")) for e in named(events, "chdir")] == [
        "/var/www/html", "/tmp"]
    setuid = named(events, "setresuid")
    assert len(setuid) == 1 and i64(param(setuid[0], "res")) == 0
    shadow = [e for e in named(events, "openat") if text(param(e, "name")) == "/etc/shadow"]
    assert shadow and i64(param(shadow[0], "fd")) >= 0
    wait4 = GENERIC["wait4"][0]
    assert any(struct.unpack("<H", e[4][0])[0] == wait4 for e in named(events, "syscall"))


def test_curl_http_story(samples):
    _, events = samples["curl_http"]
    dns = [e for e in named(events, "connect") if tuple_str(param(e, "tuple")).endswith("->127.0.0.53:53")]
    api = [e for e in named(events, "connect") if tuple_str(param(e, "tuple")).endswith("->127.0.0.1:8080")]
    assert len(dns) == len(api) == 6 and dns[0][0] < api[0][0]
    replies = [param(e, "data") for e in named(events, "sendto") if param(e, "data").startswith(b"HTTP/1.1")]
    codes = [r.split(b" ")[1] for r in replies]
    assert codes.count(b"200") == 5 and codes.count(b"404") == 1 and codes.count(b"201") == 1
    requests = [param(e, "data") for e in named(events, "sendto") if param(e, "data")[:5] in (b"GET /", b"POST ")]
    assert len(requests) == 7 and sum(r.startswith(b"POST /api/items") for r in requests) == 1
    # two requests on one keep-alive connection: one curl, one connect, two GETs
    keepalive = [e[1] for e in named(events, "sendto") if param(e, "data").startswith(b"GET /api/items/42")]
    assert len(keepalive) == 2 and keepalive[0] == keepalive[1]
    assert sum(1 for e in api if e[1] == keepalive[0]) == 1
    chunks = [param(e, "data") for e in named(events, "sendto") if param(e, "data")[:3] in (b"27\r", b"28\r", b"3d\r")]
    assert len(chunks) == 3
    # the download: data cut at the snaplen, res keeps the real size
    big = [e for e in named(events, "sendto") if i64(param(e, "res")) > 100_000]
    assert big and len(param(big[0], "data")) == 80
    got = sum(i64(param(e, "res")) for e in named(events, "write")
              if i64(param(e, "res")) > 1000 and len(param(e, "data")) == 80)
    assert got == 150221


def test_web_502_story(samples):
    _, events = samples["web_502"]
    refused = [e for e in named(events, "connect") if i64(param(e, "res")) == -111]
    assert len(refused) == 4 and all(tuple_str(param(e, "tuple")).endswith("->127.0.0.1:5000") for e in refused)
    answers = [param(e, "data").split(b"\r\n")[:2] for e in named(events, "writev")
               if param(e, "data").startswith(b"HTTP/1.1")]
    assert answers.count([b"HTTP/1.1 502 Bad Gateway", b"Server: nginx/1.24.0"]) == 4
    assert answers.count([b"HTTP/1.1 200 OK", b"Server: gunicorn"]) == 1
    errors = [param(e, "data") for e in named(events, "write") if b"[error]" in param(e, "data")]
    assert len(errors) == 4 and all(b"connect() failed (111: Connection ref" in d for d in errors)   # cut at the snaplen
    assert ("/srv/shop/venv/bin/python3", ["/srv/shop/venv/bin/gunicorn", "-b", "127.0.0.1:5000", "shop.wsgi"],
            ) in [(x, a) for x, a, _ in execs(events)]


def test_intrusion_story(samples):
    _, events = samples["intrusion"]
    ran = execs(events)
    sh_c = [a for x, a, _ in ran if x == "/bin/sh" and a[:1] == ["-c"]]
    assert any("/dev/tcp/203.0.113.66/4444" in a[1] for a in sh_c)
    assert ("bash", ["-i"]) in [(x, a[:1]) for x, a, _ in ran if a]
    reverse = [e for e in named(events, "connect") if tuple_str(param(e, "tuple")).endswith("->203.0.113.66:4444")]
    assert len(reverse) == 1 and i64(param(reverse[0], "res")) == 0
    opened = {text(param(e, "name")) for e in named(events, "openat")}
    assert "/etc/shadow" in opened and "/etc/cron.d/sysupd" in opened
    shadow_out = [e for e in named(events, "write") if param(e, "data").startswith(b"root:$y$")]
    assert shadow_out                                             # sent back over the reverse shell
    assert {"curl", "sh", "mkdir", "chmod", "./upd"} <= {x for x, _, _ in ran}
    pool = [e for e in named(events, "connect") if tuple_str(param(e, "tuple")).endswith("->203.0.113.66:3333")]
    assert pool


# -- sysdig 0.29.3 reads them ----------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists(SYSDIG), reason="sysdig 0.29.3 not installed")
@pytest.mark.parametrize("name", NAMES)
def test_sysdig_reads_the_sample(name, samples):
    res = subprocess.run([SYSDIG, "-r", str(COMMITTED / f"{name}.scap")], capture_output=True,
                         env={**os.environ, "TZ": "UTC"}, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stderr == b""
    lines = res.stdout.decode("utf-8", "replace").splitlines()
    # sysdig 0.29.3 prints every event except its internal ones (procinfo here)
    _, events = samples[name]
    shown = [e for e in events if not V.events[e[3]].category & EC_INTERNAL]
    assert len(lines) == len(shown) > 0
    assert lines[0].split(" ", 1)[0].isdigit()


@pytest.mark.skipif(not os.path.exists(SYSDIG), reason="sysdig 0.29.3 not installed")
def test_sysdig_decodes_the_parameters_we_wrote(samples):
    """A spot check that sysdig reads our parameters as we meant them."""
    res = subprocess.run([SYSDIG, "-r", str(COMMITTED / "web_502.scap"), "evt.type=connect and evt.dir=<"],
                         capture_output=True, env={**os.environ, "TZ": "UTC"}, timeout=300)
    out = res.stdout.decode()
    assert out.count("res=-111(ECONNREFUSED)") == 4 and "->127.0.0.1:5000" in out
