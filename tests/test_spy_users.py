"""spy_users: the chisel's lines on small written captures (expected text recorded from sysdig 0.29.3 on
the same captures), its conformance on the shared captures, the DataFrame history and the CLI."""
from __future__ import annotations

import collections
import gzip
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scapinspect.analyzers import spy_users as su
from scapinspect.analyzers.spy_users import ChiselError, spy_users_frame, spy_users_lines
from scapinspect.parsers import metadata as md
from scapinspect.parsers.eventtable import v0293
from scapinspect.parsers.reader import ScapReader
from scapinspect.parsers.writer import ScapWriter, encode_event
from scapinspect.render.events import EventStream, detect_compat, profile

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
T0293 = v0293()
BASE_TS = 1_600_000_000 * 10**9          # 12:26:40 UTC; every event below is one second later
RESET = "\x1b[0m"


# -- a tiny 0.29-style capture builder ------------------------------------------------------------------
def thread(tid: int, ptid: int, comm: str, pid: int | None = None, uid: int = 0) -> md.ThreadEntry:
    pid = pid or tid
    return md.ThreadEntry(tid=tid, pid=pid, ptid=ptid, comm=comm, exe=comm, exepath="/bin/" + comm,
                          cwd="/", fdlimit=1024, uid=uid, gid=0, vtid=tid, vpid=pid)


class Capture:
    """Writes proc-list threads and execve/chdir enter+exit pairs, one second apart."""

    def __init__(self, path: Path, threads, users=None):
        users = users or [md.UserEntry(0, 0, "root")]
        self.path = path
        self.w = ScapWriter(str(path), table=T0293)
        self.w.write_metadata(machine=md.MachineInfo(4, 1 << 30, 32768, "t"), users=list(users),
                              groups=[md.GroupEntry(0, "root")], threads=list(threads), legacy_tail=True)
        self.ts = BASE_TS

    def event(self, _tid: int, _etype: int, /, **params) -> None:
        self.ts += 10**9
        self.w.write_event(self.ts, _tid, 0, _etype, encode_event(_etype, table=T0293, **params))

    def execve(self, tid: int, exe: str, args=(), res: int = 0, pid: int | None = None) -> None:
        self.event(tid, 292, filename=exe)
        self.event(tid, 293, res=res, exe=exe, args=list(args), tid=tid, pid=pid or tid, ptid=0, cwd="/",
                   fdlimit=1024, pgft_maj=0, pgft_min=0, vm_size=0, vm_rss=0, vm_swap=0,
                   comm=exe.rsplit("/", 1)[-1], cgroups=[], env=[], tty=0, pgid=0, loginuid=0, flags=0)

    def chdir(self, tid: int, path: str, res: int = 0) -> None:
        self.event(tid, 94)
        self.event(tid, 95, res=res, path=path)

    def close(self) -> Path:
        self.w.close()
        return self.path


def stream_of(path) -> EventStream:
    path = str(path)
    return EventStream(ScapReader(path), profile(detect_compat(path)))


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """evt.time.s uses the current UTC offset; the recorded outputs were made with TZ=UTC."""
    monkeypatch.setattr(su, "_clock_offset", lambda: 0)


BASE = [thread(1, 0, "systemd"), thread(100, 1, "sshd"), thread(200, 100, "bash")]


# -- the chisel's rules on small captures ----------------------------------------------------------------
def test_chdir_shifts_the_ancestor_fields(tmp_path):
    """Each chdir shifts the chisel's ancestor-field arrays: after one, index j reads proc.aname[j-1]
    (the process itself first); after two, index 1 is no field at all and every new walk stops."""
    cap = Capture(tmp_path / "c.scap", BASE + [
        thread(201, 200, "bash"), thread(202, 200, "bash"), thread(300, 200, "zsh"), thread(301, 300, "zsh"),
        thread(400, 200, "python"), thread(401, 400, "python"), thread(500, 200, "python"),
        thread(501, 500, "python")])
    cap.execve(201, "/bin/ls", ["-l"])
    cap.chdir(200, "/tmp")
    cap.execve(202, "/bin/cat", ["x"])
    cap.execve(301, "/bin/ls")
    cap.chdir(200, "sub")
    cap.execve(401, "/bin/date")       # parent 400 first seen after two chdirs: hidden
    cap.execve(501, "/bin/true")
    cap.chdir(300, "/var")
    assert list(spy_users_lines(stream_of(cap.close()))) == [
        "200 12:26:42 root) /bin/ls -l",
        "200 12:26:44 root) cd /tmp",
        "200 12:26:46 root) /bin/cat x",
        "      200 12:26:48 root) /bin/ls ",
        "200 12:26:50 root) cd sub",
        "        200 12:26:56 root) cd /var",
        RESET,
    ]


def misc_capture(tmp_path) -> Path:
    threads = BASE + [
        thread(201, 200, "bash"), thread(210, 200, "ssh"), thread(211, 210, "ssh"),
        thread(220, 200, "fish", uid=1000), thread(221, 220, "fish", uid=1000),
        thread(222, 220, "fish", uid=4242),
        thread(230, 200, "java"), thread(231, 230, "java", pid=230),
        thread(241, 200, "ghost", pid=240), thread(250, 100, "sshd"), thread(260, 200, "push"),
        thread(270, 200, "sh"), thread(271, 270, "sh")]
    parent = 200
    for i in range(20):                 # a 20-level chain below bash with shells at levels 4 and 18
        threads.append(thread(1000 + i, parent, "dash" if i in (3, 17) else f"p{i}"))
        parent = 1000 + i
    threads.append(thread(2000, parent, "leaf"))
    cap = Capture(tmp_path / "m.scap", threads, users=[md.UserEntry(0, 0, "root"),
                                                       md.UserEntry(1000, 1000, "alice")])
    cap.execve(201, "/bin/ls", ["-l"])
    cap.execve(211, "/usr/bin/scp", ["a", "b"])      # "ssh" ends in sh: a shell to the chisel
    cap.execve(221, "/bin/grep", ["x"])
    cap.execve(222, "/bin/grep", ["y"])               # uid without a user entry
    cap.execve(231, "/bin/java2", pid=230)            # a secondary thread execs
    cap.execve(241, "/bin/ghost2", pid=240)           # main thread unknown: <NA> placeholder, no shell
    cap.chdir(250, "/root")                           # sshd: filtered out
    cap.chdir(200, "/tmp", res=-2)                    # failed: filtered out
    cap.execve(201, "/bin/fail", res=-2)
    cap.execve(2000, "/bin/deep", ["1"])              # outermost shell within 16 levels wins
    cap.execve(1019, "/bin/deep19")
    cap.execve(1005, "/bin/deep5")
    cap.execve(271, "/bin/x")
    cap.chdir(260, "/home")                           # "push" contains sh
    return cap.close()


MISC_ALL = [
    "200 12:26:42 root) /bin/ls -l",
    "   200 12:26:44 root) /usr/bin/scp a b",
    "   200 12:26:46 alice) /bin/grep x",
    "   200 12:26:48 <NA>) /bin/grep y",
    "200 12:26:50 root) /bin/java2 ",
    "1017 12:27:00 root) /bin/deep 1",
    "1017 12:27:02 root) /bin/deep19 ",
    "               200 12:27:04 root) /bin/deep5 ",
    "   200 12:27:06 root) /bin/x ",
    "    200 12:27:08 root) cd /home",
    RESET,
]


@pytest.mark.parametrize("max_depth, drop", [(-1, []), (2, [7]), (1, [7]), (0, [1, 2, 3, 7, 8, 9])])
def test_users_shells_threads_and_max_depth(tmp_path, max_depth, drop):
    expected = [line for i, line in enumerate(MISC_ALL) if i not in drop]
    assert list(spy_users_lines(stream_of(misc_capture(tmp_path)), max_depth)) == expected


def test_a_cached_parent_without_shell_is_a_chisel_error(tmp_path):
    """A pid cached as "no shell" that later runs under a cached shell has no shell pid: the Lua chisel
    fails there; sysdig still prints the closing reset and exits 1."""
    cap = Capture(tmp_path / "e.scap", BASE + [thread(201, 200, "bash"), thread(600, 200, "make"),
                                               thread(601, 600, "make"), thread(602, 200, "bash")])
    cap.execve(201, "/bin/ls", ["-l"])
    cap.chdir(200, "/tmp")
    cap.chdir(200, "/usr")
    cap.execve(601, "/bin/cc", ["a.c"])     # 600 cached as {-1}: the walk stops at once after 2 chdirs
    cap.execve(600, "/bin/make2")           # parent 200 is cached with a shell, 600 is not
    cap.execve(602, "/bin/echo", ["after"])
    got = []
    with pytest.raises(ChiselError):
        for line in spy_users_lines(stream_of(cap.close())):
            got.append(line)
    assert got == ["200 12:26:42 root) /bin/ls -l", "200 12:26:44 root) cd /tmp",
                   "200 12:26:46 root) cd /usr", RESET]


def test_cache_is_never_refreshed(tmp_path):
    """A pid keeps the depth and shell of its first command, even when it later runs elsewhere."""
    cap = Capture(tmp_path / "r.scap", BASE + [
        thread(300, 1, "tcsh"), thread(201, 200, "bash"), thread(202, 201, "bash"), thread(203, 201, "x")])
    cap.execve(202, "/bin/a")            # 201 -> tree {0, 200}; 202 -> {1, 200}
    cap.execve(203, "/bin/b")            # parent 201 cached: depth 1
    cap.execve(201, "/bin/c")            # 201 already cached as a parent: depth 0
    assert list(spy_users_lines(stream_of(cap.close()))) == [
        "200 12:26:42 root) /bin/a ", "200 12:26:44 root) /bin/b ", "200 12:26:46 root) /bin/c ", RESET]


def test_print_container_and_no_color(tmp_path):
    cap = Capture(tmp_path / "p.scap", BASE + [thread(201, 200, "bash")])
    cap.execve(201, "/bin/ls", ["-l"])
    path = cap.close()
    assert list(spy_users_lines(stream_of(path), print_container=True)) == [
        "\x1b[32m200 12:26:42 root@host) /bin/ls -l", RESET]
    assert list(spy_users_lines(stream_of(path), color=False)) == ["200 12:26:42 root) /bin/ls -l", ""]


def test_extend_string_caps_indentation():
    assert su._extend(-3) == "" and su._extend(0) == ""
    assert su._extend(6) == " " * 6
    assert su._extend(1000) == " " * su.EXTEND_MAX


# -- the DataFrame --------------------------------------------------------------------------------------
def test_frame_reports_what_the_chisel_hides(tmp_path):
    df = spy_users_frame(stream_of(misc_capture(tmp_path)))
    assert list(df.columns) == list(su.SPY_COLUMNS)
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    by_cmd = {c: r for c, r in zip(df["command"], df.itertuples(), strict=True)}
    # ssh is not a shell here, so scp is a level-2 command of bash
    assert by_cmd["/usr/bin/scp a b"].shell_pid == 200 and by_cmd["/usr/bin/scp a b"].depth == 2
    # the outermost shell at any depth, and generations below it
    deep = by_cmd["/bin/deep 1"]
    assert (deep.shell_pid, deep.shell, deep.depth) == (200, "bash", 21)
    assert by_cmd["/bin/grep y"].user is None and by_cmd["/bin/grep x"].user == "alice"
    assert "cd /home" not in by_cmd          # "push" is no shell
    assert set(df["kind"]) == {"exec"}


# -- the shared captures --------------------------------------------------------------------------------
def _captures() -> list[str]:
    if not (CAPTURES / "truth").is_dir():
        return []
    return sorted(p.name for p in (CAPTURES / "truth").iterdir() if (CAPTURES / f"{p.name}.scap").exists())


def clean(text: str) -> list[str]:
    return [line.rstrip() for line in ANSI.sub("", text).splitlines() if line.strip()]


def read_truth(path: Path) -> str:
    data = path.read_bytes() if path.exists() else gzip.decompress(Path(f"{path}.gz").read_bytes())
    return data.decode("utf-8", "surrogateescape")


@pytest.mark.skipif(not _captures(), reason="shared captures not available")
@pytest.mark.parametrize("name", _captures() or ["none"])
def test_matches_sysdig_on_shared_captures(name):
    ours = "\n".join(spy_users_lines(stream_of(CAPTURES / f"{name}.scap"))) + "\n"
    ref = read_truth(CAPTURES / "truth" / name / "chisel_spy_users.txt")
    assert collections.Counter(clean(ours)) == collections.Counter(clean(ref))
    if name != "mixed_io":       # mixed_io's reference keeps 0.41.4's -pc colour prefix
        assert ours == ref


@pytest.mark.skipif(not (CAPTURES / "curl_google.scap").exists(), reason="shared captures not available")
def test_frame_on_curl_google():
    df = spy_users_frame(stream_of(CAPTURES / "curl_google.scap"))
    assert len(df) == 1
    row = df.iloc[0]
    assert (row["pid"], row["ppid"], row["shell_pid"], row["shell"], row["depth"]) == (17497, 3200, 3200, "bash", 1)
    assert row["command"] == "curl -6 http://www.google.com" and row["user"] is None


# -- the command line -----------------------------------------------------------------------------------
def _cli():
    from scapinspect.cli import main
    from scapinspect.cli_analyses import echo_cmd, spy_users_cmd
    if "spy-users" not in main.commands:
        main.add_command(spy_users_cmd, "spy-users")
    if "echo" not in main.commands:
        main.add_command(echo_cmd, "echo")
    return main


def test_cli_spy_users(tmp_path):
    cap = Capture(tmp_path / "p.scap", BASE + [thread(201, 200, "bash")])
    cap.execve(201, "/bin/ls", ["-l"])
    path = cap.close()
    res = CliRunner().invoke(_cli(), ["spy-users", str(path)], env={"TZ": "UTC"})
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output                       # not a terminal: no colour codes
    assert res.output.splitlines()[0].endswith(" root) /bin/ls -l")
    res = CliRunner().invoke(_cli(), ["spy-users", str(path), "--max-depth", "-1", "-pc"])
    assert "root@host) /bin/ls -l" in res.output


def test_cli_errors(tmp_path):
    res = CliRunner().invoke(_cli(), ["spy-users", str(tmp_path / "missing.scap")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    cap = Capture(tmp_path / "e.scap", BASE + [thread(201, 200, "bash"), thread(600, 200, "make"),
                                               thread(601, 600, "make")])
    cap.execve(201, "/bin/ls")
    cap.chdir(200, "/a")
    cap.chdir(200, "/b")
    cap.execve(601, "/bin/cc")
    cap.execve(600, "/bin/make2")
    res = CliRunner().invoke(_cli(), ["spy-users", str(cap.close())])
    assert res.exit_code == 1
    assert "cd /b" in res.output
