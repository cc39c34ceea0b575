"""What every `inspect` subcommand shares: safe output of capture strings, one-line errors."""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable

import click

EXIT_BAD_INPUT = 2


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\udc80-\udcff]")


def _escape_char(m: re.Match) -> str:
    o = ord(m.group())
    if 0xDC80 <= o <= 0xDCFF:          # a raw byte that was not UTF-8 (kept by surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def escape_terminal(line: str) -> str:
    """Names and payloads from a capture are hostile: control characters (C0, C1, raw 8-bit bytes,
    bidi overrides) are shown as visible escapes, so nothing from a capture can drive the terminal."""
    return _UNSAFE.sub(_escape_char, line)


def emit(lines: Iterable[str], raw: bool = False) -> None:
    """Write lines to stdout as bytes, flushing in batches; a closed pipe ends quietly."""
    out = sys.stdout.buffer
    buf: list[bytes] = []
    try:
        try:
            for line in lines:
                if not raw:
                    line = escape_terminal(line)
                buf.append(line.encode("utf-8", "surrogateescape") + b"\n")
                if len(buf) >= 512:
                    out.write(b"".join(buf))
                    out.flush()
                    buf.clear()
        finally:    # an error mid-stream (--strict) still prints the events before it
            if buf:
                out.write(b"".join(buf))
            out.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


def fail(msg: str) -> None:
    click.echo(f"inspect: {msg}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def report_warnings(warnings: list[str], strict: bool) -> None:
    for w in warnings:
        click.echo(f"inspect: warning: {w}", err=True)
    if strict and warnings:
        sys.exit(EXIT_BAD_INPUT)
