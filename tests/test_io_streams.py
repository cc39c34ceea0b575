"""echo_fds and the I/O frames: format_bytes, the chisel's lines on a small written capture (expected text
recorded from sysdig 0.29.3 on the same capture), conformance on the shared captures, the frames, stream
reassembly and the CLI."""
from __future__ import annotations

import difflib
import gzip
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scapinspect.analyzers.io_streams import (
    IO_COLUMNS,
    echo_fds_lines,
    follow_stream,
    format_bytes,
    hex_dump,
    io_events_frame,
)
from scapinspect.parsers import metadata as md
from scapinspect.parsers.eventtable import v0293
from scapinspect.parsers.reader import ScapReader
from scapinspect.parsers.writer import ScapWriter, encode_event
from scapinspect.render.events import EventStream, detect_compat, profile

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
T0293 = v0293()
R, B, RESET = "\x1b[31m", "\x1b[34m", "\x1b[0m"


@pytest.mark.parametrize("n, text", [
    (0, "0B"), (1, "1B"), (832, "832B"), (1024, "1024B"), (1025, "1.00KB"), (6040, "5.90KB"),
    (1024 * 1024, "1024.00KB"), (1024 * 1024 + 1, "1.00M"), (5 * 1024**3, "5.00G"),
    (3 * 1024**4, "3.00T"), (2 * 1024**5, "2.00P"),
])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_hex_dump_as_sysdig():
    raw = b"this is a test\n"
    assert hex_dump(raw, True) == "\n\t0x0000: 7468 6973 2069 7320 6120 7465 7374 0a  this is a test.\n"
    assert hex_dump(raw, False) == "\n\t0x0000: 7468 6973 2069 7320 6120 7465 7374 0a\n"
    assert hex_dump(b"abc", True) == "\n\t0x0000: 6162 63" + " " * 30 + "  abc\n"


# -- a small capture ------------------------------------------------------------------------------------
def io_capture(path: Path) -> Path:
    threads = [md.ThreadEntry(tid=t, pid=p, ptid=pt, comm=c, exe=c, args=[], cwd="/", fdlimit=1024, uid=0,
                              gid=0, vtid=t, vpid=p)
               for t, p, pt, c in ((1, 1, 0, "systemd"), (300, 300, 1, "app"), (301, 300, 1, "app"))]
    fds = {300: [md.FdEntry(fd=3, ino=1, type=md.FD_FILE, name="/etc/passwd"),
                 md.FdEntry(fd=4, ino=2, type=md.FD_FIFO, name="pipe:[77]"),
                 md.FdEntry(fd=5, ino=3, type=md.FD_FILE, name="/tmp/out"),
                 md.FdEntry(fd=6, ino=4, type=md.FD_IPV4_SOCK, sip=bytes([10, 0, 0, 1]),
                            dip=bytes([10, 0, 0, 2]), sport=4000, dport=80, l4proto=md.L4_TCP)]}
    w = ScapWriter(str(path), table=T0293)
    w.write_metadata(machine=md.MachineInfo(4, 1 << 30, 32768, "t"), threads=threads, fds=fds,
                     legacy_tail=True)
    ts = [1_600_000_000 * 10**9]

    def ev(tid, etype, **params):
        ts[0] += 10**9
        w.write_event(ts[0], tid, 0, etype, encode_event(etype, table=T0293, **params))

    def rw(tid, fd, data, res=None, write=False):
        e = 8 if write else 6
        ev(tid, e, fd=fd, size=len(data))
        ev(tid, e + 1, res=len(data) if res is None else res, data=data)

    rw(300, 3, b"root:x:0:0:root:/root:/bin/bash\r\ndaemon:x:1:1\n\tend\x00\x80\xff")
    rw(300, 9, b"unknown fd data")              # an fd the state does not know: fd.name is ""
    rw(300, 4, b"", res=5)                      # bytes moved, none captured: an empty line
    rw(300, 5, b"x" * 2000, write=True)         # the whole payload, no 80-column cut
    rw(300, 5, b"zero", res=0, write=True)      # res 0 and failures are not shown
    rw(300, 5, b"fail", res=-9, write=True)
    rw(301, 6, bytes(range(35)), write=True)    # a thread with its own (empty) fd table
    rw(300, 3, b"A" * 1025)
    rw(300, 3, b"B", res=1024 * 1024 + 1)
    rw(300, 3, b"C", res=5 * 1024**3)
    ev(300, 116, fd=3)                          # readv
    ev(300, 117, res=7, size=7, data=b"readv!!")
    ev(300, 112, fd=3, size=3, pos=0)           # pread
    ev(300, 113, res=3, data=b"pre")
    ev(300, 188, out_fd=5, in_fd=3, offset=0, size=10)   # sendfile: not I/O in 0.29.3's table
    ev(300, 189, res=10, offset=10)
    rw(999, 3, b"who am i")                     # unknown thread: a <NA> placeholder
    w.close()
    return path


EXPECTED = [
    f"{R}------ Read 53B from  {R} /etc/passwd (app)", "root:x:0:0:root:/root:/bin/bash..daemon:x:1:1..end...",
    f"{R}------ Read 15B from  {R}  (app)", "unknown fd data",
    f"{R}------ Read 5B from  {R} pipe:[77] (app)", "",
    f"{B}------ Write 1.95KB to  {B} /tmp/out (app)", "x" * 2000,
    f"{B}------ Write 35B to  {B}  (app)", "." * 32 + ' !"',
    f"{R}------ Read 1.00KB from  {R} /etc/passwd (app)", "A" * 1025,
    f"{R}------ Read 1.00M from  {R} /etc/passwd (app)", "B",
    f"{R}------ Read 5.00G from  {R} /etc/passwd (app)", "C",
    f"{R}------ Read 7B from  {R} /etc/passwd (app)", "readv!!",
    f"{R}------ Read 3B from  {R} /etc/passwd (app)", "pre",
    f"{R}------ Read 8B from  {R}  (<NA>)", "who am i",
    RESET,
]


def stream_of(path) -> EventStream:
    path = str(path)
    return EventStream(ScapReader(path), profile(detect_compat(path)))


def test_echo_fds_lines(tmp_path):
    assert list(echo_fds_lines(stream_of(io_capture(tmp_path / "io.scap")))) == EXPECTED


def test_echo_fds_ascii_and_no_color(tmp_path):
    lines = list(echo_fds_lines(stream_of(io_capture(tmp_path / "io.scap")), "ascii", color=False))
    assert lines[:8] == ["------ Read 53B from   /etc/passwd (app)", "", "root:x:0:0:root:/root:/bin/bash",
                         "daemon:x:1:1", "end", "------ Read 15B from    (app)", "", "unknown fd data"]
    assert lines[-1] == ""


def test_echo_fds_hex(tmp_path):
    lines = list(echo_fds_lines(stream_of(io_capture(tmp_path / "io.scap")), "hexascii"))
    assert lines[:7] == [
        f"{R}------ Read 53B from  {R} /etc/passwd (app)", "",
        "\t0x0000: 726f 6f74 3a78 3a30 3a30 3a72 6f6f 743a  root:x:0:0:root:",
        "\t0x0010: 2f72 6f6f 743a 2f62 696e 2f62 6173 680d  /root:/bin/bash.",
        "\t0x0020: 0a64 6165 6d6f 6e3a 783a 313a 310a 0965  .daemon:x:1:1..e",
        "\t0x0030: 6e64 0080 ff" + " " * 25 + "  nd...", ""]


@pytest.mark.xfail(reason="state engine: a 0.29.3 copy_file_range exit takes its fd from fdout", strict=False)
def test_copy_file_range_is_a_read_of_fdout(tmp_path):
    path = tmp_path / "c.scap"
    w = ScapWriter(str(path), table=T0293)
    w.write_metadata(threads=[md.ThreadEntry(tid=300, pid=300, ptid=1, comm="app")],
                     fds={300: [md.FdEntry(fd=3, ino=1, type=md.FD_FILE, name="/in"),
                                md.FdEntry(fd=5, ino=2, type=md.FD_FILE, name="/out")]}, legacy_tail=True)
    w.write_event(1, 300, 0, 332, encode_event(332, table=T0293, fdin=3, offin=0, len=10))
    w.write_event(2, 300, 0, 333, encode_event(333, table=T0293, res=10, fdout=5, offout=0))
    w.close()
    assert list(echo_fds_lines(stream_of(path))) == [f"{R}------ Read 10B from  {R} /out (app)", RESET]


# -- frames and streams ---------------------------------------------------------------------------------
def test_io_events_frame(tmp_path):
    df = io_events_frame(stream_of(io_capture(tmp_path / "io.scap")))
    assert list(df.columns) == list(IO_COLUMNS)
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    assert len(df) == 11
    first = df.iloc[0]
    assert (first["direction"], first["proc.name"], first["fd.num"], first["fd.type"], first["fd.name"]) == (
        "read", "app", 3, "file", "/etc/passwd")
    assert first["res"] == first["captured"] == 53 and first["data"].startswith(b"root:x")
    assert df["fd.name"].iloc[1] is None and df["fd.num"].iloc[1] == 9
    big = df[df["res"] == 1024 * 1024 + 1].iloc[0]
    assert big["captured"] == 1 and big["data"] == b"B"


def test_follow_stream_marks_truncation(tmp_path):
    """Same-direction chunks join until one was cut at the snaplen: a segment never hides a gap."""
    segs = follow_stream(stream_of(io_capture(tmp_path / "io.scap")), "/etc/passwd")
    assert [(s.direction, s.data[-3:], s.truncated) for s in segs] == [
        ("read", b"AAB", True), ("read", b"C", True), ("read", b"pre", False)]
    assert segs[0].data == b"root:x:0:0:root:/root:/bin/bash\r\ndaemon:x:1:1\n\tend\x00\x80\xff" + b"A" * 1025 + b"B"
    assert segs[2].data == b"readv!!pre"
    by_fd = follow_stream(stream_of(io_capture(tmp_path / "io2.scap")), (300, 5))
    assert [(s.direction, len(s.data)) for s in by_fd] == [("write", 2000)]


# -- the shared captures --------------------------------------------------------------------------------
def _captures() -> list[str]:
    if not (CAPTURES / "truth").is_dir():
        return []
    return sorted(p.name for p in (CAPTURES / "truth").iterdir() if (CAPTURES / f"{p.name}.scap").exists())


def read_truth(path: Path) -> str:
    data = path.read_bytes() if path.exists() else gzip.decompress(Path(f"{path}.gz").read_bytes())
    return data.decode("utf-8", "surrogateescape")


def blocks(text: str) -> list[str]:
    """The conformance check's unit: a header line and the payload lines under it."""
    out: list[list[str]] = []
    for line in (ln.rstrip() for ln in ANSI.sub("", text).splitlines()):
        if line.startswith("------ ") or not out:
            out.append([])
        out[-1].append(line)
    return [b for b in ("\n".join(x) for x in out) if b.strip()]


# 502Error: the state engine names haproxy's UDP syslog socket differently (libsinsp fills the tuple
# from its sockinfo union and a local interface); see the analyzers' report
KNOWN = {"502Error": "UDP fd named from libsinsp's sockinfo union (state engine)"}


@pytest.mark.skipif(not _captures(), reason="shared captures not available")
@pytest.mark.parametrize("name", _captures() or ["none"])
def test_matches_sysdig_on_shared_captures(name, request):
    if name in KNOWN:
        request.applymarker(pytest.mark.xfail(reason=KNOWN[name], strict=False))
    ours = "\n".join(echo_fds_lines(stream_of(CAPTURES / f"{name}.scap"))) + "\n"
    ref = read_truth(CAPTURES / "truth" / name / "chisel_echo_fds.txt")
    if name == "mixed_io":
        # the reference was brought to 0.29.3 form by removing 0.41.4's " [host] [---] ", but only from
        # the Read headers (captures/README.md)
        ref = ref.replace("\x1b[32m [host] [---] ", " ")
    a, b = blocks(ours), blocks(ref)
    assert a == b, "\n".join(list(difflib.unified_diff(b, a, lineterm="", n=0))[:20])


@pytest.mark.skipif(not (CAPTURES / "single_ipv6_conn.scap").exists(), reason="shared captures not available")
def test_follow_stream_on_a_connection():
    segs = follow_stream(stream_of(CAPTURES / "single_ipv6_conn.scap"), "2001:db8::4:54405->2001:db8::3:1234")
    assert [(s.direction, s.data, s.truncated) for s in segs] == [
        ("write", b"this is a test\n", False), ("read", b"this is a test\n", False)]


# -- the command line -----------------------------------------------------------------------------------
def _cli():
    from scapinspect.cli import main
    from scapinspect.cli_analyses import echo_cmd, spy_users_cmd
    if "spy-users" not in main.commands:
        main.add_command(spy_users_cmd, "spy-users")
    if "echo" not in main.commands:
        main.add_command(echo_cmd, "echo")
    return main


def test_cli_echo(tmp_path):
    path = io_capture(tmp_path / "io.scap")
    res = CliRunner().invoke(_cli(), ["echo", str(path)])
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output
    assert res.output.splitlines()[:2] == ["------ Read 53B from   /etc/passwd (app)",
                                           "root:x:0:0:root:/root:/bin/bash..daemon:x:1:1..end..."]
    res = CliRunner().invoke(_cli(), ["echo", str(path), "-X"])
    assert "\t0x0000: 726f 6f74" in res.output
    res = CliRunner().invoke(_cli(), ["echo", str(path), "-A"])
    assert "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1\nend\n" in res.output
    res = CliRunner().invoke(_cli(), ["echo", str(tmp_path / "nope.scap")])
    assert res.exit_code == 2
