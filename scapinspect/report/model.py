"""The report document: one capture (or several) turned into plain data that the HTML, Markdown and
JSON writers render, and that ``json_report.REPORT_SCHEMA`` describes.

    from scapinspect.report.model import ReportOptions, build_report
    doc = build_report(["intrusion.scap"], ReportOptions(filter="proc.name!=sshd", start="+5s"))
    doc["captures"][0]["findings"]

Each section calls the Capture analysis of the same name; an analysis that is not installed
(ImportError) makes its section "not available", one that fails makes it "error" (with the message)
and the rest of the report goes on. A capture that cannot be read at all has status "failed".
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..parsers.errors import ScapError, printable
from . import findings as fnd
from .text import cell, iso_ns, json_safe

SCHEMA_ID = "scapinspect.report/1"
_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_OFFSET = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$")
# bucket widths the timeline picks from (about TIMELINE_POINTS buckets over the selected span)
_NICE = [1, 2, 5, 10, 20, 50, 100, 200, 500]
TIMELINE_POINTS = 100
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TimeSpec:
    """A time bound: absolute (ns since the epoch) or relative to the capture (``+5s`` after its first
    event, ``-10s`` before its last)."""
    ns: int
    relative: str = ""       # "", "+" (from the start) or "-" (from the end)

    def resolve(self, first: int | None, last: int | None) -> int | None:
        if not self.relative:
            return self.ns
        if self.relative == "+":
            return None if first is None else first + self.ns
        return None if last is None else last - self.ns

    def __str__(self) -> str:
        return f"{self.relative}{self.ns / 1e9:g}s" if self.relative else (iso_ns(self.ns) or "")


def parse_time(text: str) -> TimeSpec:
    """``2024-03-14T03:12:50Z`` (naive times are UTC), ``1710385970000000000`` (ns), ``+5s`` / ``5s``
    (after the capture's first event) or ``-500ms`` (before its last). ValueError otherwise."""
    t = text.strip()
    m = _OFFSET.match(t)
    if m:
        sign, num, unit = m.groups()
        return TimeSpec(int(round(float(num) * _UNITS[unit])), sign or "+")
    if t.isdigit():
        return TimeSpec(int(t))
    try:
        ts = pd.Timestamp(t)
    except (ValueError, TypeError):
        raise ValueError(f"not a time: {text!r} (use ISO 8601, ns since the epoch, +5s or -500ms)") from None
    if ts is pd.NaT:
        raise ValueError(f"not a time: {text!r}")
    return TimeSpec(int((ts if ts.tzinfo else ts.tz_localize("UTC")).value))


@dataclass
class ReportOptions:
    """What to report on: a sysdig filter and a time range applied to the whole report, how many rows
    the "top" tables and the long tables show."""
    filter: str | None = None
    start: TimeSpec | str | None = None
    end: TimeSpec | str | None = None
    top: int = 10
    max_rows: int = 200
    strict: bool = False

    def bounds(self) -> tuple[TimeSpec | None, TimeSpec | None]:
        def conv(v):
            return parse_time(v) if isinstance(v, str) else v
        return conv(self.start), conv(self.end)


class _Ctx:
    """One capture being reported: the narrowed Capture and the frames several sections share."""

    def __init__(self, cap, options: ReportOptions):
        self.cap = cap
        self.options = options
        self._cache: dict[str, object] = {}

    def get(self, key: str, make: Callable[[], object]):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def events(self) -> pd.DataFrame:
        return self.get("events", lambda: self.cap.events)

    @property
    def io(self) -> pd.DataFrame:
        return self.get("io", self.cap.io_streams)


# -- tables ----------------------------------------------------------------------------------------------
def table(sid: str, title: str, frame: pd.DataFrame | None = None, *, limit: int | None = None,
          status: str = "ok", note: str | None = None, index: bool = False) -> dict:
    """A section holding a table: ``columns``, ``rows`` (JSON scalars), ``total_rows`` before the cut."""
    if frame is None:
        return {"id": sid, "title": title, "status": status, "note": note, "columns": [], "rows": [],
                "total_rows": 0}
    if index:
        frame = frame.reset_index()
    total = len(frame)
    shown = frame if limit is None else frame.head(limit)
    rows = [[_jcell(v) for v in r] for r in shown.itertuples(index=False, name=None)]
    if limit is not None and total > limit:
        note = ((note + " ") if note else "") + f"Showing the first {limit} of {total} rows."
    return {"id": sid, "title": title, "status": status, "note": note,
            "columns": [json_safe(str(c)) for c in frame.columns], "rows": rows, "total_rows": total}


def _jcell(v):
    c = cell(v)
    return json_safe(c) if isinstance(c, str) else c


def _guard(sid: str, title: str, fn: Callable[[], dict], warnings: list[str]) -> dict:
    try:
        return fn()
    except ImportError as e:
        return table(sid, title, status="not available",
                     note=f"This analysis is not available in this installation ({printable(e)}).")
    except Exception as e:  # noqa: BLE001 - one section failing must not sink the report
        msg = printable(f"{type(e).__name__}: {e}")
        warnings.append(f"section {title!r} failed: {msg}")
        return table(sid, title, status="error", note=msg)


# -- sections --------------------------------------------------------------------------------------------
SPY_SHOWN = ["time", "user", "pid", "shell", "depth", "cwd", "command"]


def _spy(ctx: _Ctx) -> dict:
    frame = ctx.get("spy", ctx.cap.spy_users)
    return table("spy_users", "Spy Users", frame[[c for c in SPY_SHOWN if c in frame.columns]],
                 limit=ctx.options.max_rows,
                 note="Commands run from shells and directory changes, as the spy_users chisel shows them.")


CONNECTIONS_SHOWN = ["first_seen", "proc.name", "proc.pid", "direction", "l4proto", "connection", "bytes_in",
                     "bytes_out", "operations", "state"]
HTTP_SHOWN = ["time", "proc.name", "proc.pid", "side", "method", "host", "url", "status", "reason", "latency",
              "request_size", "response_size", "truncated"]


def _pick(frame: pd.DataFrame, preferred: list[str]) -> pd.DataFrame:
    """The preferred columns in that order when the frame has them all; otherwise every column (the
    report shows what a newer or older analysis returns rather than failing)."""
    return frame[preferred] if all(c in frame.columns for c in preferred) else frame


def _connections(ctx: _Ctx) -> dict:
    try:
        frame = _pick(ctx.get("connections", ctx.cap.connections), CONNECTIONS_SHOWN)
        note = "One row per connection of a process (all columns: inspect export --what connections)."
    except ImportError:
        frame = ctx.get("view:connections", lambda: ctx.cap.view("connections")).reset_index(drop=True)
        note = "The connections analysis is not available; this is the csysdig Connections view."
    return table("connections", "Connections", frame, limit=ctx.options.max_rows, note=note)


def _http(ctx: _Ctx) -> dict:
    return table("http", "HTTP requests", _pick(ctx.get("http", ctx.cap.http), HTTP_SHOWN),
                 limit=ctx.options.max_rows,
                 note="Requests and responses found in socket I/O; payloads are cut at the capture's snaplen.")


def _view_section(sid: str, title: str, view: str, note: str) -> Callable[[_Ctx], dict]:
    def build(ctx: _Ctx) -> dict:
        frame = ctx.get(f"view:{view}", lambda: ctx.cap.view(view)).reset_index(drop=True)
        return table(sid, title, frame, limit=ctx.options.top, note=note)
    return build


SECTIONS: list[tuple[str, str, Callable[[_Ctx], dict]]] = [
    ("spy_users", "Spy Users", _spy),
    ("connections", "Connections", _connections),
    ("http", "HTTP requests", _http),
    ("top_processes", "Top processes",
     _view_section("top_processes", "Top processes", "procs", "csysdig's Processes view, busiest first.")),
    ("top_files", "Top files",
     _view_section("top_files", "Top files", "files", "csysdig's Files view: bytes in and out per file.")),
    ("top_errors", "Top errors",
     _view_section("top_errors", "Top errors", "errors", "csysdig's Errors view: failed system calls by errno.")),
]


# -- info, tiles, timeline, findings -----------------------------------------------------------------------
def _info(ctx: _Ctx) -> dict:
    cap, info, ev = ctx.cap, ctx.cap.info, ctx.events
    raw = ev["evt.rawtime"].astype("int64").to_numpy() if len(ev) else np.array([], dtype=np.int64)
    first, last = (int(raw.min()), int(raw.max())) if len(raw) else (None, None)
    return {
        "hostname": json_safe(info.hostname) if info.hostname is not None else None,
        "compat": cap.compat,
        "events_in_file": info.events,
        "events_selected": int(len(ev)),
        "file_first_event": iso_ns(info.first_ts), "file_last_event": iso_ns(info.last_ts),
        "first_event": iso_ns(first), "last_event": iso_ns(last),
        "duration_s": (last - first) / 1e9 if first is not None else 0.0,
        "counts": {str(k): int(v) for k, v in info.counts.items()},
    }


def _tile(name: str, value, unit: str = "", category: str = "capture") -> dict:
    return {"name": name, "value": cell(value), "unit": unit, "category": category}


def _tiles(ctx: _Ctx, doc: dict) -> list[dict]:
    ev = ctx.events
    exits = ev[(ev["evt.dir"].astype(object) == "<").to_numpy()]
    tiles = [_tile("Events", len(ev)), _tile("Duration", doc["info"]["duration_s"], "s"),
             _tile("Processes", int(ev["proc.pid"].nunique())),
             _tile("Failed system calls", int(exits["evt.failed"].fillna(False).astype(bool).sum()))]
    try:
        io = ctx.io
        reads = io["direction"].to_numpy() == "read"
        tiles += [_tile("Bytes read", int(io["res"][reads].sum()), "B"),
                  _tile("Bytes written", int(io["res"][~reads].sum()), "B")]
    except ImportError:
        pass
    for sec in doc["sections"]:
        if sec["status"] == "ok" and sec["id"] in ("spy_users", "connections", "http"):
            tiles.append(_tile({"spy_users": "Shell commands", "connections": "Connections",
                                "http": "HTTP requests"}[sec["id"]], sec["total_rows"]))
    tiles.append(_tile("Findings", len(doc["findings"])))
    mine = {t["name"].lower() for t in tiles} | {"running processes"}
    return tiles + [t for t in _summary_tiles(ctx, doc["warnings"]) if t["name"].lower() not in mine]


def _summary_tiles(ctx: _Ctx, warnings: list[str]) -> list[dict]:
    """Sysdig Inspect's overview tiles from ``Capture.summary()`` when that analysis is installed
    (``{"info": {"categories": [...]}, "metrics": [{"name", "category", "data": {"tot"}}]}``); tiles
    whose name repeats one of the report's own are left out."""
    try:
        summary = ctx.cap.summary()
    except ImportError:
        return []
    except Exception as e:  # noqa: BLE001
        warnings.append(f"overview tiles failed: {printable(e)}")
        return []
    if not isinstance(summary, dict):
        return []
    cats = {c.get("id"): c.get("name") for c in summary.get("info", {}).get("categories", [])
            if isinstance(c, dict)}
    out = []
    for m in summary.get("metrics", []):
        if not isinstance(m, dict):
            continue
        value = (m.get("data") or {}).get("tot")
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            continue
        name = json_safe(str(m.get("name", m.get("id", "?"))))
        unit = "B" if "bytes" in name.lower() else ""
        category = json_safe(str(cats.get(m.get("category")) or m.get("category") or "Overview"))
        out.append(_tile(name, value, unit, f"Sysdig Inspect overview: {category}"))
    return out


def _freq(span_ns: int) -> tuple[str, int]:
    """A round bucket width giving about TIMELINE_POINTS buckets over ``span_ns``."""
    target = max(span_ns // TIMELINE_POINTS, 1)
    for unit, scale in (("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)):
        for n in _NICE:
            if n * scale >= target:
                return f"{n}{unit}", n * scale
    minutes = -(-target // 60_000_000_000)
    return f"{minutes}min", minutes * 60_000_000_000


def _series(points: pd.Series) -> list[list]:
    out = []
    for t, v in points.items():
        out.append([iso_ns(int(pd.Timestamp(t).value)), cell(v)])
    return out


def _timeline(ctx: _Ctx, info: dict, warnings: list[str]) -> dict:
    ev = ctx.events
    if not len(ev):
        return {"status": "ok", "note": "No events selected.", "freq": None, "series": []}
    first = int(ev["evt.rawtime"].min())
    freq, _ = _freq(int(ev["evt.rawtime"].max()) - first)
    note = None
    try:
        series = [{"metric": m, "points": _series(ctx.cap.timeline(m, freq))} for m in ("events", "errors")]
    except ImportError:
        note = "The timeline analysis is not available; events and failed calls are counted here."
        series = _fallback_timeline(ev, freq)
    except Exception as e:  # noqa: BLE001
        warnings.append(f"timeline failed: {printable(e)}")
        return {"status": "error", "note": printable(e), "freq": freq, "series": []}
    return {"status": "ok", "note": note, "freq": freq, "series": series}


def _fallback_timeline(ev: pd.DataFrame, freq: str) -> list[dict]:
    failed = ev["evt.failed"].fillna(False).astype(bool).to_numpy() & (ev["evt.dir"].astype(object) == "<").to_numpy()
    frame = pd.DataFrame({"events": 1, "errors": failed.astype(int)}, index=pd.DatetimeIndex(ev["evt.time"]))
    counts = frame.resample(freq).sum()
    return [{"metric": m, "points": _series(counts[m])} for m in ("events", "errors")]


def _findings(ctx: _Ctx) -> list[dict]:
    frame = ctx.get("findings-frame", lambda: ctx.cap.fields(fnd.FINDING_COLUMNS))
    try:
        io = ctx.io
    except ImportError:
        io = None
    return [{k: (json_safe(v) if isinstance(v, str) else v) for k, v in f.as_dict().items()}
            for f in fnd.find(frame, io)]


# -- capture and document ----------------------------------------------------------------------------------
def open_capture(path: str | Path, options: ReportOptions):
    """The Capture narrowed by the options' filter and time range (ScapError/OSError if unreadable,
    FilterError for a bad filter)."""
    from ..capture import Capture
    cap = Capture(str(path), strict=options.strict)
    info = cap.info        # reads the file once: fails here on a file that is not a capture
    if options.filter:
        cap = cap.filter(options.filter)
    start, end = options.bounds()
    if start is not None or end is not None:
        t0 = start.resolve(info.first_ts, info.last_ts) if start else None
        t1 = end.resolve(info.first_ts, info.last_ts) if end else None
        cap = cap.between(t0, t1)
    return cap


def build_capture(path: str | Path, options: ReportOptions | None = None,
                  progress: Progress | None = None) -> dict:
    """The report of one capture (see REPORT_SCHEMA's ``capture``)."""
    options = options or ReportOptions()
    step = progress or (lambda _msg: None)
    name = Path(path).name
    doc: dict = {"path": json_safe(str(path)), "name": json_safe(name), "status": "ok", "error": None,
                 "info": None, "warnings": [], "tiles": [], "timeline": None, "findings": [], "sections": []}
    try:
        step(f"{name}: reading")
        cap = open_capture(path, options)
        ctx = _Ctx(cap, options)
        doc["info"] = _info(ctx)
    except (ScapError, OSError, ValueError) as e:
        doc.update(status="failed", error=json_safe(printable(e)))
        return doc
    doc["warnings"] = [json_safe(printable(w)) for w in cap.info.warnings]
    step(f"{name}: findings")
    doc["findings"] = _guarded_findings(ctx, doc["warnings"])
    for sid, title, fn in SECTIONS:
        step(f"{name}: {title.lower()}")
        doc["sections"].append(_guard(sid, title, lambda fn=fn: fn(ctx), doc["warnings"]))
    step(f"{name}: timeline")
    doc["timeline"] = _timeline(ctx, doc["info"], doc["warnings"])
    doc["tiles"] = _tiles(ctx, doc)
    doc["warnings"] += [json_safe(printable(w)) for w in cap.warnings if w not in cap.info.warnings]
    return doc


def _guarded_findings(ctx: _Ctx, warnings: list[str]) -> list[dict]:
    try:
        return _findings(ctx)
    except Exception as e:  # noqa: BLE001
        warnings.append(f"findings failed: {printable(e)}")
        return []


STEPS_PER_CAPTURE = len(SECTIONS) + 3


def build_report(paths: list[str | Path], options: ReportOptions | None = None,
                 progress: Progress | None = None) -> dict:
    """The report document over ``paths`` (one entry in ``captures`` each, failed ones included)."""
    from .. import __version__
    options = options or ReportOptions()
    start, end = options.bounds()
    return {
        "schema": SCHEMA_ID,
        "generator": {"name": "scapinspect", "version": __version__},
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scope": {"filter": options.filter, "start": str(start) if start else None,
                  "end": str(end) if end else None},
        "rules": [{"id": r.id, "title": r.title, "severity": r.severity, "description": r.description}
                  for r in fnd.RULES.values()],
        "captures": [build_capture(p, options, progress) for p in paths],
    }


def failed(doc: dict) -> list[dict]:
    """The captures of a report document that could not be read."""
    return [c for c in doc["captures"] if c["status"] == "failed"]


__all__ = ["ReportOptions", "TimeSpec", "parse_time", "build_report", "build_capture", "open_capture",
           "table", "failed", "SECTIONS", "SCHEMA_ID", "STEPS_PER_CAPTURE"]
