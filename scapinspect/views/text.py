"""Terminal-safe text: escaping of hostile strings, numbers and times (light: no numpy/pandas).

Everything the TUI shows that came from a capture (names, paths, payloads, hostnames) goes through
``visible`` (control and bidi characters become visible escapes) and, where it lands in Rich markup,
``markup_safe`` as well; table cells through ``frames.cell_text``, which ends in ``visible``.
"""
from __future__ import annotations

import math
import re
import time
from datetime import datetime

from rich.markup import escape

# C0, DEL, C1, bidi embeddings/overrides/isolates/marks, and bytes kept by surrogateescape
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:           # an undecodable byte kept by surrogateescape
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def visible(value: object) -> str:
    """``value`` as one line of text where no character can steer the terminal."""
    s = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escape_char, s) if _UNSAFE.search(s) else s


def markup_safe(value: object) -> str:
    """``visible(value)`` escaped for Rich markup (so ``[bold]`` in a process name stays literal)."""
    return escape(visible(value))


# -- numbers and times ------------------------------------------------------------------------------
def human(n: float, unit: str = "") -> str:
    """1 decimal with K/M/G/T multipliers of 1000, as Inspect's tiles (``12.3K``)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "-"
    for mult, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= mult:
            return f"{n / mult:.1f}{suffix}{unit}"
    if float(n).is_integer():
        return f"{int(n)}{unit}"
    return f"{n:.1f}{unit}"


def clock(ns: int) -> str:
    """Wall-clock time of an absolute ns timestamp, local time, as sysdig prints evt.time."""
    return time.strftime("%H:%M:%S", time.localtime(ns // 1_000_000_000)) + f".{ns % 1_000_000_000:09d}"


def date_clock(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def duration(ns: int | float) -> str:
    """A span in the most readable unit (``812us``, ``3.25s``, ``2m05s``)."""
    ns = float(ns)
    if ns < 1e3:
        return f"{ns:.0f}ns"
    if ns < 1e6:
        return f"{ns / 1e3:.0f}us"
    if ns < 1e9:
        return f"{ns / 1e6:.1f}ms"
    if ns < 60e9:
        return f"{ns / 1e9:.2f}s"
    m, s = divmod(int(ns // 1e9), 60)
    return f"{m}m{s:02d}s"


def offset(ns: int | float) -> str:
    """Time since the start of the capture, ``+1.234567s``."""
    return f"+{ns / 1e9:.6f}s"
