"""How csysdig writes view cells and documents: JSON values (``tojson``), RELTIME strings, the
``-j`` output document, and a plain aligned table for terminals."""
from __future__ import annotations

import json
import math
from collections.abc import Iterable

from ...render.events import jstr
from .fieldinfo import BOOL, CHARBUF, DOUBLE, IPADDR, RELTIME

ONE_S = 1_000_000_000
RELTIME_WIDTH = 10


def format_reltime(ns: int, width: int = RELTIME_WIDTH) -> str:
    """A duration as csysdig's ``format_time`` prints it, left-padded with spaces to ``width``.

    >>> format_reltime(22_030_000_000), format_reltime(1_214_000), format_reltime(820)
    ('    22.03s', '    1.21ms', '     820ns')
    """
    v = int(ns) & 0xFFFFFFFFFFFFFFFF
    u32 = 0xFFFFFFFF
    if v >= 3600 * ONE_S:
        text = f"{(v // (3600 * ONE_S)) & u32:02d}:{(v // (60 * ONE_S)) % 60:02d}:{(v // ONE_S) % 60:02d}"
    elif v >= 60 * ONE_S:
        text = f"{v // (60 * ONE_S)}:{(v // ONE_S) % 60}"
    elif v >= ONE_S:
        text = f"{v // ONE_S}.{(v % ONE_S) // 10_000_000:02d}s"
    elif v >= ONE_S // 100:
        text = f"{v // 1_000_000}ms"
    elif v >= ONE_S // 1000:
        text = f"{v // 1_000_000}.{(v % 1_000_000) // 10_000:02d}ms"
    elif v >= ONE_S // 100_000:
        text = f"{v // 1000}us"
    elif v >= ONE_S // 1_000_000:
        text = f"{v // 1000}.{(v % 1000) // 10:02d}us"
    else:
        text = f"{v}ns"
    return text.rjust(width)


def format_double(x: float) -> str:
    """A double as jsoncpp writes it: ``%.17g``, with ``.0`` added to integral values.

    >>> format_double(5 / 13), format_double(0.0), format_double(2.0)
    ('0.38461538461538464', '0.0', '2.0')
    """
    if math.isnan(x):
        return "null"
    if math.isinf(x):
        return "1e+9999" if x > 0 else "-1e+9999"
    text = format(x, ".17g")
    if "." not in text and "e" not in text and "n" not in text:
        text += ".0"
    return text


def cell_number(value, count: int, ftype: str, time_avg: bool, time_delta: int):
    """The value csysdig prints for one cell, before text formatting: durations as integer ns.

    Integers are printed raw (no division, even for TIME_AVG and AVG columns); doubles and
    durations are divided by the count, or for TIME_AVG columns by the duration in seconds, when
    that divisor is above 1 (``sinsp_filter_check_reference::tojson``)."""
    divisor: float = count
    if time_avg and time_delta != 0:
        divisor = time_delta / ONE_S
    if ftype == RELTIME:
        v = float(value)
        if divisor > 1:
            v /= divisor
        return int(v)
    if ftype == DOUBLE:
        d = float(value)
        if divisor > 1:
            d /= divisor
        return d
    if ftype == BOOL:
        return bool(value)
    if ftype in (CHARBUF, IPADDR):
        return str(value)
    return int(value)


def cell_value(value, count: int, ftype: str, time_avg: bool, time_delta: int):
    """The JSON value of one cell: cell_number, with durations as padded strings."""
    v = cell_number(value, count, ftype, time_avg, time_delta)
    return format_reltime(v) if ftype == RELTIME else v


def json_value(v) -> str:
    """One already-computed cell as JSON text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_double(v)
    if isinstance(v, int):
        return str(v)
    return jstr(str(v))


def key_text(value, ftype: str) -> str:
    """A row key as csysdig prints it in ``"k"``."""
    if ftype in (CHARBUF, IPADDR):
        return str(value)
    if ftype == BOOL:
        return "true" if value else "false"
    if ftype == DOUBLE:
        return format_double(float(value))
    return str(int(value))


def document_lines(rows: Iterable[tuple[list, str]], info: dict) -> list[str]:
    """The csysdig ``-j`` document for a file: rows are (cells, key text)."""
    body = [f'{{"d":[{",".join(json_value(v) for v in cells)}],"k":{jstr(key)}}}' for cells, key in rows]
    out = ['{"slices": [', '{"progress": 0},']
    info_text = json.dumps(info, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if body:
        out.append('{"progress": 100, "data": [')
        out.extend(line + "," for line in body[:-1])
        out.append(body[-1] + "],")
        out.append(f'"count": {len(body)}, "info": {info_text}}}')
    else:
        out.append(f'{{"progress": 100, "count": 0, "info": {info_text}}}')
    out.append("]}")
    return out


def table_lines(columns: list[str], rows: list[list], right: list[bool]) -> list[str]:
    """A plain text table: a header and one line per row, columns padded to their widest cell."""
    text = [[_plain(v) for v in r] for r in rows]
    widths = [len(c) for c in columns]
    for r in text:
        for j, cell in enumerate(r):
            widths[j] = max(widths[j], len(cell))
    last = len(columns) - 1

    def line(cells: list[str]) -> str:
        parts = []
        for j, cell in enumerate(cells):
            if j == last and not right[j]:
                parts.append(cell)
            else:
                parts.append(cell.rjust(widths[j]) if right[j] else cell.ljust(widths[j]))
        return "  ".join(parts).rstrip()
    return [line(columns)] + [line(r) for r in text]


def _plain(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)
