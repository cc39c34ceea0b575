"""Turning capture values into report cells, and making them safe as HTML and Markdown text.

Every string that comes from a capture (process names, arguments, paths, payloads, host names) is
hostile: ``cell`` turns a pandas/numpy value into a JSON scalar, ``visible`` shows control characters
(ANSI escapes, bidi overrides, undecodable bytes) as ``\\xNN`` text, and ``html_text`` / ``md_text``
escape what is left for their output language.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import re

import numpy as np
import pandas as pd

from ..parsers.errors import printable
from ..render.params import dotted

# Markdown that can appear anywhere in a line: emphasis, code, links and images (via '['), tables,
# strikethrough, math, mentions; plus what only matters at the start of a block (headings, lists, quotes,
# setext underlines, ordered lists), GitHub's emoji shortcodes (":name:"), issue references ("#12") and
# bare-URL autolinks ("http://", "www.")
_MD_INLINE = re.compile(r"([\\`*_\[\]|~$@])")
_MD_LEADING = re.compile(r"^(?:[#+\-=]|\d+[.)](?=\s|$))")
_MD_CONTEXT = re.compile(r":(?=//)|:(?=[a-z_+\-][\w+\-]*:)|:(?=(?:100|1234):)|(?<=www)\.|#(?=\d)",
                         re.IGNORECASE)
_SURROGATE = re.compile("[\udc80-\udcff]")
PAYLOAD_PREVIEW = 120     # characters of a payload shown in a table cell

Scalar = str | int | float | bool | None


def iso_ns(ns: int | None) -> str | None:
    """Nanoseconds since the epoch -> ``2024-03-14T03:12:45.165261209Z`` (None stays None)."""
    if ns is None:
        return None
    secs, frac = divmod(int(ns), 1_000_000_000)
    base = dt.datetime.fromtimestamp(secs, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def cell(value: object) -> Scalar:
    """A value from a frame -> str, int, float, bool or None (what JSON and the tables hold).

    Timestamps become ISO 8601 UTC strings with nanoseconds, durations seconds (float), bytes the dotted
    rendering sysdig uses for payloads (cut to ``PAYLOAD_PREVIEW`` characters), missing values None.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        text = dotted(raw[:PAYLOAD_PREVIEW])
        return text + ("..." if len(raw) > PAYLOAD_PREVIEW else "")
    if isinstance(value, pd.Timestamp):
        ts = value if value.tzinfo is not None else value.tz_localize("UTC")
        return iso_ns(int(ts.value))
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
        return pd.Timedelta(value).value / 1e9
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) else (round(f, 6) if math.isfinite(f) else str(f))
    if isinstance(value, str):
        return value
    return str(value)


def json_safe(text: str) -> str:
    """JSON keeps capture strings as they are, except undecodable bytes (kept by surrogateescape),
    which are not valid Unicode: they become ``\\xNN`` text."""
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def visible(value: object) -> str:
    """A scalar as one line of text in which control characters are visible escapes."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return printable(value)


def html_text(value: object) -> str:
    """``visible(value)`` escaped for HTML element content and quoted attribute values."""
    return html.escape(visible(value), quote=True)


def md_text(value: object) -> str:
    """``visible(value)`` as Markdown that renders as exactly that text: ``<``, ``>`` and ``&`` as
    entities, Markdown punctuation that could start markup backslash-escaped (table pipes included)."""
    s = visible(value)
    s = _MD_INLINE.sub(r"\\\1", s)
    s = _MD_CONTEXT.sub(lambda m: "\\" + m.group(), s)
    s = _MD_LEADING.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], s)
    # last: entities for what HTML would read as markup (their own '&', '#' and ';' are not escaped
    # again); quotes are plain text in Markdown
    return html.escape(s, quote=False)


def human_bytes(n: float | int | None) -> str:
    """1536 -> ``1.5 KiB``."""
    if n is None:
        return ""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def human_duration(seconds: float | None) -> str:
    """3725.5 -> ``1h 2m 5.5s``; 0.0123 -> ``12.3 ms``."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    out = f"{s:.3g}s" if not (h or m) else f"{s:.1f}s"
    if m or h:
        out = f"{int(m)}m {out}"
    if h:
        out = f"{int(h)}h {out}"
    return out


__all__ = ["cell", "html_text", "md_text", "visible", "json_safe", "iso_ns", "human_bytes", "human_duration",
           "PAYLOAD_PREVIEW", "Scalar"]
