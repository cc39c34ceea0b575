"""How a Capture and a reassembled stream look in Jupyter: small HTML tables with inline styles, every
value from the capture escaped (names, paths and payloads are hostile) and control characters shown
as ``\\xNN``.

    from scapinspect.capture_display import StreamSegments, capture_html, stream_html
    Capture._repr_html_ = capture_html                        # how the Capture class uses it
    StreamSegments(cap.stream_payloads(key), key=key)         # displays as the conversation

Nothing here imports a notebook package; the functions return strings.
"""
from __future__ import annotations

import html
from collections.abc import Iterable

import pandas as pd

from .parsers.errors import ScapError, printable
from .render.params import ascii_text, dotted
from .report.text import human_bytes, human_duration, iso_ns

MAX_STREAM_BYTES = 64 * 1024      # payload bytes shown by stream_html before it says how many are left
_TABLE = "border-collapse:collapse;font-size:12px;margin:4px 0"
_TH = "text-align:left;padding:2px 10px 2px 0;color:#555;font-weight:normal;vertical-align:top"
_TD = "text-align:left;padding:2px 0;font-family:monospace;word-break:break-all"
_COLOURS = {"read": ("#e8f0fb", "#1f4e8c", "&larr; read"), "write": ("#fbeaea", "#8c1f1f", "&rarr; write")}


def _esc(value: object) -> str:
    return html.escape(printable("" if value is None else value), quote=True)


def _rows(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(f'<tr><th style="{_TH}">{html.escape(k)}</th><td style="{_TD}">{_esc(v)}</td></tr>'
                   for k, v in pairs)


def capture_html(cap) -> str:
    """A Capture as a small table: file, host, time span, event counts, selection and reader warnings.

    Reads the file's blocks once (``cap.info``) but does not replay the capture; the number of selected
    events and processes is shown when ``cap.events`` has already been computed.
    """
    try:
        info = cap.info
    except (ScapError, OSError) as e:
        return (f'<div class="scapinspect-capture"><strong>Capture</strong> {_esc(cap.path)}: '
                f'<span style="color:#a00">{_esc(e)}</span></div>')
    span = (info.last_ts - info.first_ts) / 1e9 if info.first_ts is not None else None
    pairs: list[tuple[str, object]] = [
        ("file", cap.path), ("host", info.hostname or "unknown"),
        ("events in file", f"{info.events:,}"),
        ("first event", iso_ns(info.first_ts)), ("last event", iso_ns(info.last_ts)),
        ("duration", human_duration(span)), ("rendered as", f"sysdig {cap.compat}"),
    ]
    selection = getattr(cap, "_selection", None)
    if selection is not None:
        pairs.append(("selected", f"{len(selection):,} events (narrowed by filter() or between())"))
    events = cap.__dict__.get("events")
    if isinstance(events, pd.DataFrame):
        pairs.append(("processes", f"{events['proc.pid'].nunique():,} "
                                   f"({', '.join(map(str, _top_names(events)))} ...)"))
    if info.counts:
        pairs.append(("reader notes", ", ".join(f"{k}: {v}" for k, v in info.counts.items())))
    warnings = "".join(f'<li style="color:#8a5a00">{_esc(w)}</li>' for w in info.warnings)
    hint = ("<div style='color:#777;font-size:11px'>.events &middot; .spy_users() &middot; .connections() "
            "&middot; .http() &middot; .io_streams() &middot; .view(name) &middot; .filter(expr) &middot; "
            ".between(t0, t1)</div>")
    return (f'<div class="scapinspect-capture"><strong>Capture</strong>'
            f'<table style="{_TABLE}">{_rows(pairs)}</table>'
            + (f"<ul style='margin:2px 0'>{warnings}</ul>" if warnings else "") + hint + "</div>")


def _top_names(events: pd.DataFrame, n: int = 5) -> list[str]:
    counts = events["proc.name"].astype(object).value_counts()
    return [printable(x) for x in counts.index[:n]]


def render_payload(data: bytes, fmt: str = "text") -> str:
    """Bytes as text to show: ``text`` (printable ASCII with line breaks kept, anything else '.'),
    ``dotted`` (sysdig's default, one line), ``ascii`` (sysdig -A) or ``hex`` (offset, hex, dotted)."""
    if fmt == "dotted":
        return dotted(data)
    if fmt == "ascii":
        return ascii_text(data).lstrip("\n")
    if fmt == "hex":
        return "\n".join(f"{off:08x}  {data[off:off + 16].hex(' '):<47}  {dotted(data[off:off + 16])}"
                         for off in range(0, len(data), 16))
    if fmt != "text":
        raise ValueError(f"unknown payload format {fmt!r}: text, dotted, ascii or hex")
    return "\n".join(dotted(line) for line in data.replace(b"\r\n", b"\n").split(b"\n"))


def stream_html(segments: Iterable, fmt: str = "text", *, max_bytes: int = MAX_STREAM_BYTES,
                title: str | None = None) -> str:
    """Reassembled stream segments (``io_streams.Segment``: time, direction, data, truncated) as a
    conversation: reads and writes in different colours, payloads escaped, cuts at the snaplen marked."""
    segs = list(segments)
    shown = 0
    parts = []
    for seg in segs:
        data = bytes(seg.data)
        room = max(max_bytes - shown, 0)
        body = render_payload(data[:room], fmt)
        shown += min(len(data), room)
        bg, fg, label = _COLOURS.get(str(seg.direction), ("#f4f4f4", "#333", html.escape(str(seg.direction))))
        when = iso_ns(int(pd.Timestamp(seg.time).value)) if seg.time is not None else ""
        notes = [human_bytes(len(data))]
        if seg.truncated:
            notes.append("cut at the snaplen")
        if len(data) > room:
            notes.append(f"{len(data) - room:,} bytes not shown")
        parts.append(f'<div style="border-left:3px solid {fg};background:{bg};margin:3px 0;padding:2px 8px">'
                     f'<div style="color:{fg};font-size:11px">{label} &middot; {_esc(when)} &middot; '
                     f'{_esc(", ".join(notes))}</div><pre style="margin:0;white-space:pre-wrap;'
                     f'word-break:break-all;font-size:12px">{html.escape(body)}</pre></div>')
    reads = sum(len(s.data) for s in segs if s.direction == "read")
    writes = sum(len(s.data) for s in segs if s.direction == "write")
    head = f"<strong>Stream</strong> {_esc(title)} " if title else "<strong>Stream</strong> "
    summary = (f'<div>{head}<span style="color:#555">{len(segs)} segments, {human_bytes(reads)} read, '
               f"{human_bytes(writes)} written</span></div>")
    return f'<div class="scapinspect-stream">{summary}{"".join(parts) or "<em>no data</em>"}</div>'


class StreamSegments(list):
    """The segments of one reassembled stream (a list of ``io_streams.Segment``) that displays itself
    in Jupyter as the conversation; ``text()`` gives the same as plain text."""

    def __init__(self, segments: Iterable = (), *, key: object = None, fmt: str = "text"):
        super().__init__(segments)
        self.key = key
        self.fmt = fmt

    def _repr_html_(self) -> str:
        return stream_html(self, self.fmt, title=None if self.key is None else str(self.key))

    def text(self, fmt: str | None = None) -> str:
        """The stream as plain text, one ``>>> read``/``<<< write`` header per segment."""
        out = []
        for seg in self:
            arrow = "<<<" if seg.direction == "read" else ">>>"
            out.append(f"{arrow} {seg.direction} {len(seg.data)} B" + (" (cut)" if seg.truncated else ""))
            out.append(render_payload(bytes(seg.data), fmt or self.fmt))
        return "\n".join(out)

    def data(self, direction: str | None = None) -> bytes:
        """All bytes (of one direction, ``read`` or ``write``, if given) joined in order."""
        return b"".join(bytes(s.data) for s in self if direction is None or s.direction == direction)


__all__ = ["capture_html", "stream_html", "render_payload", "StreamSegments", "MAX_STREAM_BYTES"]
