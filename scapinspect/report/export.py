"""Data export: a Capture analysis as CSV, JSON lines or Parquet.

    from scapinspect.report.export import export_frame, frame_for
    frame = frame_for(si.open("intrusion.scap"), "connections")
    export_frame(frame, "connections.parquet", "parquet")

``what`` is ``events``, ``spy-users``, ``connections``, ``http``, ``io`` or the name of a csysdig view
(``procs``, ``files``, ``errors`` ...). CSV and JSON lines write times as ISO 8601 UTC with nanoseconds
and payloads (``bytes``) as text in which a byte outside printable ASCII is ``\\xNN`` and a backslash
``\\\\`` (``codecs.escape_decode`` gives the bytes back); Parquet keeps payloads as binary and every
dtype as it is (pyarrow, an optional extra: ``pip install 'scapinspect[parquet]'``).
"""
from __future__ import annotations

import io as _io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd

from .text import iso_ns, json_safe

FORMATS = ("csv", "jsonl", "parquet")
ANALYSES: dict[str, Callable] = {
    "events": lambda cap: cap.events,
    "spy-users": lambda cap: cap.spy_users(),
    "connections": lambda cap: cap.connections(),
    "http": lambda cap: cap.http(),
    "io": lambda cap: cap.io_streams(),
}


class ExportError(Exception):
    """An export that cannot be done as asked (unknown analysis, missing pyarrow ...)."""


def frame_for(cap, what: str) -> pd.DataFrame:
    """The frame of analysis ``what`` over ``cap``: an analysis name, or a csysdig view id (``view:ID``
    reaches a view whose id an analysis shadows, e.g. ``view:connections``)."""
    fn = None if what.startswith("view:") else ANALYSES.get(what)
    if fn is not None:
        try:
            return fn(cap)
        except ImportError as e:
            raise ExportError(f"the {what} analysis is not available in this installation ({e})") from None
    from ..analyzers.views import VIEWS
    view = what.removeprefix("view:")
    if view not in VIEWS:
        known = ", ".join([*ANALYSES, *(v if v not in ANALYSES else f"view:{v}" for v in sorted(VIEWS))])
        raise ExportError(f"unknown analysis or view {what!r}; choose one of: {known}")
    frame = cap.view(view)
    return frame.reset_index()


def format_for(path: str, fmt: str | None) -> str:
    """The format asked for, or the one the output's extension names (.csv, .jsonl/.ndjson, .parquet)."""
    if fmt:
        return fmt
    suffix = Path(path).suffix.lower()
    by_ext = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
              ".pq": "parquet"}
    if suffix not in by_ext:
        raise ExportError(f"cannot tell the format from {path!r}: use --format csv, jsonl or parquet")
    return by_ext[suffix]


def escape_bytes(raw: bytes) -> str:
    """Bytes as reversible text: printable ASCII kept, backslash doubled, anything else ``\\xNN``."""
    out = []
    for c in raw:
        if c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c <= 0x7E:
            out.append(chr(c))
        else:
            out.append(f"\\x{c:02x}")
    return "".join(out)


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns CSV and JSON cannot carry as they are, made text: payload bytes, times, durations."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            ns = s.dt.tz_localize("UTC") if getattr(s.dt, "tz", None) is None else s
            out[col] = pd.array([None if pd.isna(v) else iso_ns(int(v.value)) for v in ns], dtype="object")
        elif pd.api.types.is_timedelta64_dtype(s.dtype):
            out[col] = pd.array([None if pd.isna(v) else v.value for v in s], dtype="Int64")
        elif s.dtype == object and s.map(lambda v: isinstance(v, (bytes, bytearray))).any():
            out[col] = s.map(lambda v: escape_bytes(bytes(v)) if isinstance(v, (bytes, bytearray)) else v)
    return out


def _jsonl(frame: pd.DataFrame, fh: IO[str]) -> None:
    cols = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row, strict=True):
            rec[str(c)] = _json_value(v)
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _json_value(v):
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, str):
        return json_safe(v)
    if hasattr(v, "item"):       # numpy scalars
        return v.item()
    return v


def _valid_unicode(frame: pd.DataFrame) -> pd.DataFrame:
    """Strings holding undecodable capture bytes (lone surrogates) get them as ``\\xNN`` text: Arrow
    strings must be valid UTF-8."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = s.cat.categories
            if cats.dtype == object and any(isinstance(c, str) and json_safe(c) != c for c in cats):
                out[col] = s.astype(object).map(lambda v: json_safe(v) if isinstance(v, str) else v)
        elif s.dtype == object and s.map(lambda v: isinstance(v, str) and json_safe(v) != v).any():
            out[col] = s.map(lambda v: json_safe(v) if isinstance(v, str) else v)
    return out


def _parquet(frame: pd.DataFrame, path: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ExportError("Parquet export needs pyarrow: pip install 'scapinspect[parquet]'") from None
    out = _valid_unicode(frame)
    out.columns = [str(c) for c in out.columns]
    out.to_parquet(path, engine="pyarrow", index=False)


def export_frame(frame: pd.DataFrame, path: str, fmt: str) -> int:
    """Write ``frame`` to ``path`` (``-``: standard output, CSV and JSON lines only) as ``fmt``; returns
    the number of rows written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        if path == "-":
            raise ExportError("Parquet cannot be written to standard output: give a file name")
        _parquet(frame, path)
        return len(frame)
    text = _text_frame(frame)
    buf = _io.StringIO()
    if fmt == "csv":
        text.to_csv(buf, index=False, lineterminator="\n")
    else:
        _jsonl(text, buf)
    data = buf.getvalue()
    if path == "-":
        sys.stdout.buffer.write(data.encode("utf-8", "surrogateescape"))
        sys.stdout.flush()
    else:
        with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            fh.write(data)
    return len(frame)


__all__ = ["export_frame", "frame_for", "format_for", "escape_bytes", "ExportError", "FORMATS", "ANALYSES"]
