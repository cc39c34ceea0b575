"""Data read and written through file descriptors: sysdig's echo_fds chisel line for line, a DataFrame
of every I/O event that moved bytes, and per-fd stream reassembly (sysdig-rendering.md §5).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import pandas as pd

from .._i64 import i64
from ..parsers import eventtable as et
from ..parsers.params import p_int
from ..render.params import ascii_text, dotted
from ..state.engine import sanitize
from ..state.model import TYPE_NAMES

RED, GREEN, BLUE, CYAN, RESET = "\x1b[31m", "\x1b[32m", "\x1b[34m", "\x1b[36m", "\x1b[0m"
HOST = "host"
NO_NAME = "<NA>"
IO_FLAGS = et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD
_ROW = 16


def hex_dump(raw: bytes, with_ascii: bool) -> str:
    r"""sysdig -x / -X: per 16-byte row ``\n\t0x%04x:`` then space-separated big-endian byte pairs (an odd
    last byte alone); -X pads missing pairs with 5 spaces each (an odd byte counts as a pair) and adds
    two spaces and the dotted row. Ends with a newline."""
    out = []
    for off in range(0, len(raw), _ROW):
        row = raw[off:off + _ROW]
        pairs = [row[k:k + 2].hex() for k in range(0, len(row), 2)]
        line = f"\n\t0x{off:04x}: " + " ".join(pairs)
        if with_ascii:
            line += " " * (5 * (_ROW // 2 - len(pairs))) + "  " + dotted(row)
        out.append(line)
    return "".join(out) + "\n"


# sysdig's buffer formats: default, -A, -x, -X
BUFFER_FORMATS: dict[str, Callable[[bytes], str]] = {
    "dotted": dotted,
    "ascii": ascii_text,
    "hex": lambda raw: hex_dump(raw, False),
    "hexascii": lambda raw: hex_dump(raw, True),
}
_UNITS = ((1024 ** 5, "P"), (1024 ** 4, "T"), (1024 ** 3, "G"), (1024 ** 2, "M"), (1024, "KB"))


def format_bytes(n: int) -> str:
    """common.lua's format_bytes: ``%dB`` up to 1024, then ``%.2f`` with KB, M, G, T or P."""
    for limit, unit in _UNITS:
        if n > limit:
            return f"{n / limit:.2f}{unit}"
    return f"{n}B"


class IoEvent(NamedTuple):
    """One I/O exit event that moved bytes, with what the state said about it."""
    ts: int
    is_read: bool
    comm: str | None
    pid: int | None
    tid: int
    fd: int
    fdinfo: object | None
    res: int
    data: bytes | None       # None when the event has no ``data`` parameter
    container: str = ""      # the thread's container id ("" on the host)


def io_events(stream) -> Iterator[IoEvent]:
    """The events echo_fds takes: exits flagged as reading or writing an fd whose ``res`` is > 0.

    The flags come from the stream's profile table (0.29.3's for old captures), so sendfile, splice and
    the *mmsg calls are not I/O there; copy_file_range is both and counts as a read.
    """
    events = stream.renderer.prof.table.events
    for item in stream.events():
        ev = item.ev
        if ev.type % 2 == 0:
            continue
        info = events[ev.type]
        if not info.flags & IO_FLAGS:
            continue
        j = info.param_index("res")
        res = p_int(ev, j) if 0 <= j < ev.nparams else None
        if res is None or res <= 0:
            continue
        ctx = item.ctx
        t = ctx.tinfo
        d = info.param_index("data")
        data = None
        if 0 <= d < ev.nparams:
            raw = ev.raw(d)
            data = bytes(raw) if raw is not None else b""
        yield IoEvent(ev.ts, bool(info.flags & et.EF_READS_FROM_FD), t.comm if t is not None else None,
                      t.pid if t is not None else None, ev.tid,
                      t.lastevent_fd if t is not None else -1, ctx.fdinfo, res, data,
                      t.container_id if t is not None else "")


def echo_fds_lines(stream, fmt: str = "dotted", *, color: bool = True,
                   print_container: bool = False) -> Iterator[str]:
    """What ``sysdig -r F [-A|-x|-X] -c echo_fds`` prints, one line at a time (no newlines).

    ``fmt`` is the buffer format: ``dotted`` (default), ``ascii`` (-A), ``hex`` (-x) or ``hexascii`` (-X).
    Each event gives a header (``------ Read 832B from  <name> (<proc>)``) and, when it has a ``data``
    parameter, the whole captured payload in that format. ``color`` False gives the chisel's
    ``disable_color`` output (no escape codes; the closing line is then empty); ``print_container`` is
    sysdig's ``-pc``.
    """
    render = BUFFER_FORMATS[fmt]
    empty = stream.renderer.prof.empty_buffer
    c = _Colors(color)
    for io in io_events(stream):
        yield _header(io, c, print_container)
        if io.data is not None:
            text = render(io.data) if io.data else empty
            yield from text.split("\n")
    yield c.reset


class _Colors:
    def __init__(self, on: bool):
        self.red, self.green, self.blue, self.cyan, self.reset = (
            (RED, GREEN, BLUE, CYAN, RESET) if on else ("", "", "", "", ""))


def _header(io: IoEvent, c: _Colors, print_container: bool) -> str:
    f = io.fdinfo
    # fd.name of an exit event without fd info is "" (libsinsp's extract_fdname_from_creator); it is
    # missing (nil, printed <NA>) only when the event has no thread
    if f is not None:
        name = sanitize(f.name)
    else:
        name = "" if io.comm is not None else NO_NAME
    pname = io.comm if io.comm is not None else "nil"
    container = ""
    if print_container:
        # container.name and container.id are both "host" on the host; the state knows containers
        # by id only, which stands in for the name
        cid = io.container or HOST
        container = f"{c.green if cid == HOST else c.cyan} [{cid}] [{cid}]"
    col = c.red if io.is_read else c.blue
    verb = "Read" if io.is_read else "Write"
    prep = "from" if io.is_read else "to"
    return f"{col}------ {verb} {format_bytes(io.res)} {prep} {container} {col} {name} ({pname})"


# -- DataFrames and streams ------------------------------------------------------------------------
IO_COLUMNS = ("time", "direction", "proc.name", "proc.pid", "thread.tid", "fd.num", "fd.type", "fd.name",
              "res", "captured", "data")


def io_events_frame(stream) -> pd.DataFrame:
    """One row per read/write-family exit event that moved bytes (``res`` > 0), in capture order.

    Columns: ``time`` (datetime64[ns, UTC]), ``direction`` (``read``/``write``), ``proc.name``,
    ``proc.pid``, ``thread.tid``, ``fd.num``, ``fd.type`` (``file``, ``ipv4``, ``unix``, ``pipe`` ...),
    ``fd.name`` (as the events frame and echo_fds show it: control characters dropped), ``res`` (bytes
    the call moved), ``captured`` (payload bytes the capture kept: at most the snaplen, 0 for calls
    without a data parameter) and ``data`` (the payload as ``bytes``).
    A row whose ``captured`` is below ``res`` was cut at the snaplen.

    This is the reference: ``Capture.io_streams`` answers the same frame from the fast load's side
    data (analyzers/fast_io.py) and replays through here only when it has none.
    """
    cols: dict[str, list] = {c: [] for c in IO_COLUMNS}
    for io in io_events(stream):
        f = io.fdinfo
        data = io.data or b""
        cols["time"].append(io.ts)
        cols["direction"].append("read" if io.is_read else "write")
        cols["proc.name"].append(io.comm)
        cols["proc.pid"].append(io.pid)
        cols["thread.tid"].append(io.tid)
        cols["fd.num"].append(io.fd)
        cols["fd.type"].append(TYPE_NAMES.get(f.type) if f is not None else None)
        cols["fd.name"].append(sanitize(f.name) if f is not None else None)
        cols["res"].append(io.res)
        cols["captured"].append(len(data))
        cols["data"].append(data)
    return pd.DataFrame({
        "time": pd.to_datetime(pd.Series(i64(cols["time"]), dtype="int64"), unit="ns", utc=True),
        "direction": pd.Series(pd.Categorical(cols["direction"], categories=["read", "write"])),
        "proc.name": pd.Series(cols["proc.name"], dtype="object"),
        "proc.pid": pd.Series(i64(cols["proc.pid"]), dtype="Int64"),
        "thread.tid": pd.Series(i64(cols["thread.tid"]), dtype="int64"),
        "fd.num": pd.Series(i64(cols["fd.num"]), dtype="int64"),
        "fd.type": pd.Series(cols["fd.type"], dtype="object"),
        "fd.name": pd.Series(cols["fd.name"], dtype="object"),
        "res": pd.Series(i64(cols["res"]), dtype="int64"),
        "captured": pd.Series(cols["captured"], dtype="int64"),
        "data": pd.Series(cols["data"], dtype="object"),
    }, columns=list(IO_COLUMNS))


class Segment(NamedTuple):
    """A run of bytes going one way: ``time`` of its first chunk, ``direction`` read/write, the bytes,
    and whether the capture cut any of them (``truncated``: the last chunk lost its tail)."""
    time: pd.Timestamp
    direction: str
    data: bytes
    truncated: bool


def follow_stream(stream, key: str | tuple[int, int]) -> list[Segment]:
    """Reassemble the bytes read and written on one fd, both directions, in capture order.

    ``key`` is an fd name (a file path, ``pipe:[123]``, a connection ``a:p->b:q``; every process using that
    name contributes), or ``(pid, fd)`` for one process's descriptor. Accepts an ``EventStream`` or the
    frame ``io_events_frame`` returned. Consecutive chunks going the same way are joined into one segment
    unless the earlier one was truncated (captured < res), so a segment never hides a gap inside it.
    """
    frame = stream if isinstance(stream, pd.DataFrame) else io_events_frame(stream)
    if isinstance(key, tuple):
        pid, fd = key
        rows = frame[(frame["proc.pid"] == pid) & (frame["fd.num"] == fd)]
    else:
        rows = frame[frame["fd.name"] == key]
    out: list[Segment] = []
    for t, d, data, res in zip(rows["time"], rows["direction"], rows["data"], rows["res"], strict=True):
        truncated = len(data) < res
        if out and out[-1].direction == d and not out[-1].truncated:
            last = out[-1]
            out[-1] = Segment(last.time, d, last.data + data, truncated)
        else:
            out.append(Segment(t, str(d), data, truncated))
    return out


__all__ = ["echo_fds_lines", "hex_dump", "io_events", "io_events_frame", "follow_stream", "format_bytes", "IoEvent",
           "Segment", "BUFFER_FORMATS", "IO_COLUMNS"]
