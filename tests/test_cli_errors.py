"""`inspect events` on files that are not captures, damaged captures and hostile captures: one line on
stderr and exit 2 for what cannot be read, complete events plus one warning for what can, and never a
control character from the capture on the terminal."""
from __future__ import annotations

import gzip
import io
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from scapinspect.parsers import metadata as md
from scapinspect.parsers.writer import ScapWriter, encode_event

TS0 = 1_700_000_000_000_000_000
INSPECT = [shutil.which("inspect")] if shutil.which("inspect") else [
    sys.executable, "-c", "from scapinspect.cli import main; main()"]


def run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*INSPECT, *map(str, args)], capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def capture_bytes(n_events: int = 6, *, comm: str = "cat", extra=None) -> bytes:
    out = io.BytesIO()
    with ScapWriter(out) as w:
        w.write_metadata(machine=md.MachineInfo(2, 1 << 30, 32768, "host"),
                         threads=[md.ThreadEntry(7, 7, 1, comm=comm, exe="/bin/cat", cwd="/")],
                         fds={7: [md.FdEntry(1, 0, md.FD_FILE_V2, name="/dev/null")]})
        for i in range(n_events):
            w.write_event(TS0 + i, 7, 0, 9, encode_event(9, res=3, data=b"abc", fd=1, size=3))
        if extra:
            extra(w)
    return out.getvalue()


def blocks(data: bytes) -> list[tuple[int, int]]:
    out, pos = [], 0
    while pos < len(data):
        blen = struct.unpack_from("<I", data, pos + 4)[0]
        out.append((pos, blen))
        pos += blen
    return out


def assert_one_error_line(r: subprocess.CompletedProcess[bytes], path: Path, words: str) -> str:
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, err
    assert r.stdout == b""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert re.fullmatch(rf"inspect: {re.escape(str(path))}: byte \d+: .+\n", err), err
    assert words in err, err
    return err


# -- unreadable inputs: exactly one line, exit 2 ------------------------------------------------------
def _bad_inputs():
    good = capture_bytes(2)
    be = bytearray(good)
    be[8:12] = bytes.fromhex("1a2b3c4d")
    corrupt = bytearray(good)
    struct.pack_into("<I", corrupt, 4, 0x7FFFFFFF)
    trailer = bytearray(good)
    struct.pack_into("<I", trailer, 24, 0)
    return [
        ("empty.scap", b"", "empty file"),
        ("notes.txt", b"these are not the bytes you are looking for\n", "not a scap capture"),
        ("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde", "not a scap capture"),
        ("corrupt-header.scap", bytes(corrupt), "corrupt section header"),
        ("bad-trailer.scap", bytes(trailer), "corrupt section header"),
        ("big-endian.scap", bytes(be), "big-endian"),
        ("cut-header.scap", good[:20], "inside the section header"),
        ("garbage.scap.gz", b"\x1f\x8b\x08\0" + bytes(40), "gzip"),
        ("bomb.scap.gz", gzip.compress(good + bytes(8 << 20), mtime=0), "inflates past 100x"),
    ]


@pytest.mark.parametrize("name,data,words", _bad_inputs(), ids=lambda v: v if isinstance(v, str) and "." in v else "")
def test_unreadable_input_is_one_line_exit_2(tmp_path, name, data, words):
    p = tmp_path / name
    p.write_bytes(data)
    assert_one_error_line(run("events", p), p, words)
    assert_one_error_line(run("events", "--strict", p), p, words)


def test_missing_file(tmp_path):
    p = tmp_path / "missing.scap"
    assert_one_error_line(run("events", p), p, "no such file")


@pytest.mark.xfail(reason="cli.py: click.Path(dir_okay=False) makes click print its 3-line usage error; "
                          "use click.Path() and let the reader say 'is a directory'", strict=False)
def test_directory(tmp_path):
    assert_one_error_line(run("events", tmp_path), tmp_path, "directory")


def test_path_with_control_characters_is_escaped_in_the_error(tmp_path):
    p = tmp_path / "evil\x1b]0;pwned\x07.scap"
    p.write_bytes(b"")
    r = run("events", p)
    assert r.returncode == 2 and b"\x1b" not in r.stderr and b"\x07" not in r.stderr
    assert r.stderr.count(b"\n") == 1 and b"\\x1b]0;pwned\\x07" in r.stderr


# -- damaged but readable captures ------------------------------------------------------------------
def test_truncated_capture_prints_its_events_then_one_warning(tmp_path):
    data = capture_bytes(6)
    full = tmp_path / "full.scap"
    full.write_bytes(data)
    lines = run("events", full).stdout.splitlines()
    assert len(lines) == 6
    off, blen = blocks(data)[-2]                  # cut inside the 5th event
    p = tmp_path / "cut.scap"
    p.write_bytes(data[:off + blen // 2])
    r = run("events", p)
    assert r.returncode == 0
    assert r.stdout.splitlines() == lines[:4]
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.startswith(f"inspect: warning: {p}: byte {off}: truncated capture")
    assert b"warning" not in r.stdout
    rs = run("events", "--strict", p)
    assert rs.returncode == 2
    assert rs.stderr.decode().startswith(f"inspect: {p}: byte {off}: truncated capture") and rs.stderr.count(b"\n") == 1
    assert rs.stdout.splitlines() == lines[:len(rs.stdout.splitlines())]
    j = run("events", "-j", p)
    assert j.returncode == 0 and len(j.stdout.splitlines()) == 4 and j.stderr.count(b"\n") == 1


@pytest.mark.xfail(reason="cli.emit keeps up to 511 lines in its buffer when the strict reader raises; "
                          "flush the buffer in a finally: block", strict=False)
def test_strict_truncated_capture_still_prints_the_complete_events(tmp_path):
    data = capture_bytes(6)
    off, blen = blocks(data)[-2]
    p = tmp_path / "cut.scap"
    p.write_bytes(data[:off + blen // 2])
    r = run("events", "--strict", p)
    assert r.returncode == 2 and len(r.stdout.splitlines()) == 4


def test_truncated_gzip_capture(tmp_path):
    data = capture_bytes(200)
    z = gzip.compress(data, mtime=0)
    p = tmp_path / "cut.scap.gz"
    p.write_bytes(z[:len(z) * 2 // 3])
    r = run("events", p)
    assert r.returncode == 0 and 0 < len(r.stdout.splitlines()) < 200
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "gzip stream ends early" in err and "truncated capture" in err
    assert run("events", "--strict", p).returncode == 2


def test_corrupt_block_is_skipped_with_a_warning_and_fatal_in_strict(tmp_path):
    data = bytearray(capture_bytes(6))
    off, blen = blocks(bytes(data))[-3]
    struct.pack_into("<I", data, off + blen - 4, 1)          # the 4th event's trailer
    p = tmp_path / "corrupt.scap"
    p.write_bytes(bytes(data))
    r = run("events", p)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 5
    err = r.stderr.decode()
    assert err.count("\n") == 1 and f"byte {off}: block trailer 1 does not match" in err and f"skipped {blen} bytes" in err
    rs = run("events", "--strict", p)
    assert rs.returncode == 2 and rs.stderr.count(b"\n") == 1
    assert rs.stderr.decode().startswith(f"inspect: {p}: byte {off}: block trailer")


# -- terminal safety --------------------------------------------------------------------------------
def _hostile(w: ScapWriter, raw_c1: bool = False) -> None:
    w.write_metadata(threads=[md.ThreadEntry(9, 9, 1, comm="\x1b]0;pwned\x07", exe="/bin/\x1b[2J", args=["\x1b[H"],
                                             cwd="/tmp/\x07/")],
                     fds={9: [md.FdEntry(3, 0, md.FD_FILE_V2, name="/tmp/\x1b]0;fd\x07")]},
                     users=[md.UserEntry(0, 0, "root\x1b[31m", "/root", "/bin/sh")])
    w.write_event(TS0 + 10, 9, 0, 9, encode_event(9, res=4, data=b"\x1b[2J", fd=3, size=4))
    w.write_event(TS0 + 11, 9, 0, 3, encode_event(3, fd=4, name="\x1b]0;open\x07", flags=0, mode=0, dev=0, ino=0))
    w.write_event(TS0 + 12, 9, 0, 293, encode_event(293, res=0, exe="\x1b]2;exe\x07", args=["\x1b[2J", "\x07"],
                                                    comm="\x1b[5m\x07", cwd="/\x1b/", uid=0))
    w.write_event(TS0 + 13, 9, 0, 9, encode_event(9, res=4, data=b"\x1b[2J", fd=4, size=4))
    if raw_c1:
        # 8-bit C1 controls (CSI, OSC, ST) as raw bytes: not UTF-8, kept by surrogateescape
        w.write_event(TS0 + 14, 9, 0, 293, encode_event(293, res=0, exe=b"\x9b2J", comm=b"\x9d0;x\x9c", uid=0))


@pytest.mark.parametrize("json_mode", [False, True])
def test_hostile_names_and_payloads_print_no_escape_or_bell(tmp_path, json_mode):
    p = tmp_path / "hostile.scap"
    p.write_bytes(capture_bytes(1, comm="\x1b[2J", extra=_hostile))
    r = run("events", *(["-j"] if json_mode else []), p)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 5
    out = r.stdout + r.stderr
    assert b"\x1b" not in out and b"\x07" not in out
    assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", out)
    if not json_mode:
        assert b"\\x1b]0;pwned\\x07" in r.stdout      # the name is still shown, as visible escapes


@pytest.mark.xfail(reason="cli.escape_terminal's fast path skips undecodable bytes, so raw 8-bit C1 "
                          "controls (0x9b CSI, 0x9d OSC) reach the terminal; escape \\udc80-\\udc9f too",
                   strict=False)
def test_raw_c1_control_bytes_are_escaped(tmp_path):
    p = tmp_path / "c1.scap"
    p.write_bytes(capture_bytes(1, extra=lambda w: _hostile(w, raw_c1=True)))
    r = run("events", p)
    assert r.returncode == 0
    text = r.stdout.decode("utf-8")               # a raw 0x9b is not UTF-8: this fails first
    assert not re.search("[\x80-\x9f\udc80-\udcff]", text)
