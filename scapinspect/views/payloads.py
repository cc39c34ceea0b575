"""Payload text for the I/O Streams tab: the three Inspect renderings, and Follow (no textual here).

The I/O analysis is written elsewhere; these helpers read its frames by the column names it is likely
to use and fall back gracefully, so the tab works with whatever shape lands.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..render.params import ascii_text, dotted, hex_dump
from .text import visible

PAYLOAD_COLUMNS = ("payload", "data", "evt.buffer", "buffer", "evt.arg.data", "v", "bytes")
LENGTH_COLUMNS = ("length", "res", "evt.rawres", "len", "l", "bytes_transferred", "evt.buflen")
DIRECTION_COLUMNS = ("direction", "dir", "d", "evt.is_io_read")
KEY_COLUMNS = ("stream", "key", "fd.name", "connection", "name", "fn", "f")


def first_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    for n in names:
        if n in frame.columns:
            return n
    return None


def as_bytes(value: object) -> bytes | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return None


def render(raw: bytes, mode: str) -> list[str]:
    """``raw`` as lines in one of Inspect's renderings; every line is terminal-safe."""
    if mode == "hex":
        text = hex_dump(raw, True).strip("\n").replace("\t", "  ")
        lines = text.split("\n")
    elif mode == "ascii":
        lines = ascii_text(raw).strip("\n").split("\n")
    else:
        flat = dotted(raw)
        lines = [flat[i:i + 64] for i in range(0, len(flat), 64)] or [""]
    return [visible(line) for line in lines]


@dataclass
class Chunk:
    """One read or write of a followed stream."""
    direction: str          # "<" read, ">" write, "" unknown
    header: str
    raw: bytes
    truncated: bool
    length: int | None = None   # bytes the call moved, when known (the capture keeps at most its snaplen)

    @property
    def truncation_note(self) -> str:
        if self.length is not None and self.length > len(self.raw):
            return f"[truncated: the capture kept {len(self.raw)} of {self.length} bytes]"
        return f"[truncated: the capture kept only the first {len(self.raw)} bytes]"


def row_chunk(frame: pd.DataFrame, pos: int) -> Chunk | None:
    col = first_column(frame, PAYLOAD_COLUMNS)
    if col is None:
        return None
    raw = as_bytes(frame[col].iloc[pos]) or b""
    row = frame.iloc[pos]
    direction = _direction(row)
    length = _length(row)
    truncated = bool(row.get("truncated", False)) if "truncated" in frame.columns else (
        length is not None and length > len(raw))
    verb = {"<": "Read", ">": "Write"}.get(direction, "I/O")
    size = f"{length if length is not None else len(raw)}B"
    name = next((str(row[c]) for c in KEY_COLUMNS if c in frame.columns and pd.notna(row[c])), "")
    proc = str(row["proc.name"]) if "proc.name" in frame.columns and pd.notna(row["proc.name"]) else ""
    header = f"{verb} {size} {'from' if direction == '<' else 'to'} {name}" + (f" ({proc})" if proc else "")
    return Chunk(direction, visible(header), raw, truncated, length)


def _direction(row: pd.Series) -> str:
    for c in DIRECTION_COLUMNS:
        if c in row.index and pd.notna(row[c]):
            v = row[c]
            if c == "evt.is_io_read":
                return "<" if bool(v) else ">"
            s = str(v).lower()
            if s in ("<", "read", "in", "r", "recv"):
                return "<"
            if s in (">", "write", "out", "w", "send"):
                return ">"
    return ""


def _length(row: pd.Series) -> int | None:
    for c in LENGTH_COLUMNS:
        if c in row.index and pd.notna(row[c]):
            try:
                return int(row[c])
            except (TypeError, ValueError):
                continue
    return None


def stream_key(frame: pd.DataFrame, pos: int) -> str | None:
    col = first_column(frame, KEY_COLUMNS)
    if col is None:
        return None
    v = frame[col].iloc[pos]
    return None if v is None or v is pd.NA else str(v)


def follow_chunks(result: object) -> list[Chunk]:
    """Whatever ``Capture.stream_payloads`` returns, as chunks in order."""
    if isinstance(result, pd.DataFrame):
        frame = result.reset_index(drop=True)
        return [c for c in (row_chunk(frame, i) for i in range(len(frame))) if c is not None]
    out = []
    for item in result or ():          # type: ignore[union-attr]
        if isinstance(item, Chunk):
            out.append(item)
        elif isinstance(item, (bytes, bytearray)):
            out.append(Chunk("", "", bytes(item), False))
        elif hasattr(item, "data") or hasattr(item, "payload"):
            raw = as_bytes(getattr(item, "data", None) or getattr(item, "payload", None)) or b""
            d = _norm_dir(getattr(item, "direction", ""))
            out.append(Chunk(d, _chunk_header(d, raw, getattr(item, "time", None)), raw,
                             bool(getattr(item, "truncated", False))))
        elif isinstance(item, tuple) and len(item) >= 2:
            d, raw = _norm_dir(item[0]), as_bytes(item[1]) or b""
            out.append(Chunk(d, _chunk_header(d, raw, None), raw, bool(item[2]) if len(item) > 2 else False))
    return out


def _norm_dir(value: object) -> str:
    d = str(value).lower()
    return "<" if d in ("<", "read", "in") else ">" if d in (">", "write", "out") else ""


def _chunk_header(direction: str, raw: bytes, when: object) -> str:
    verb = {"<": "<- read", ">": "-> write"}.get(direction, "I/O")
    stamp = ""
    if isinstance(when, pd.Timestamp):
        stamp = f" at {when.strftime('%H:%M:%S.%f')}"
    return f"{verb} {len(raw)}B{stamp}"
