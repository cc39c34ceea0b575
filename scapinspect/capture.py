"""Capture: the one object the TUI, Jupyter, the reports and the CLI use to look at a capture.

    cap = Capture("capture.scap")
    cap.events                 # one row per event sysdig prints, columns named after sysdig fields
    cap.filter("proc.name=curl").events
    cap.fields(["evt.num", "evt.info"])

Frames are built by replaying the capture through the state engine, so every row carries the process
and file descriptor as libsinsp knew them when the event happened.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ._i64 import i64
from ._text import table_texts
from .parsers.reader import ScapReader, Section
from .render.events import EventStream, Rendered, detect_compat, profile
from .state.fields import FieldContext, getter

DEFAULT_COLUMNS = [
    "evt.num", "evt.rawtime", "evt.cpu", "thread.tid", "proc.pid", "proc.name", "evt.type", "evt.dir",
    "evt.category", "evt.rawres", "evt.res", "evt.failed", "fd.num", "fd.name", "fd.type", "fd.typechar",
    "evt.buflen", "evt.latency", "proc.ppid", "proc.exe", "proc.args", "user.name", "evt.is_io",
]
CATEGORICAL = {"proc.name", "evt.type", "evt.dir", "evt.category", "evt.res", "fd.type", "fd.typechar",
               "proc.exe", "user.name", "proc.args", "fd.name", "proc.pname", "fd.l4proto"}
INT_FIELDS = {"evt.num", "evt.rawtime", "evt.cpu", "thread.tid", "proc.pid", "proc.ppid", "evt.rawres",
              "fd.num", "evt.buflen", "evt.latency", "fd.sport", "fd.cport", "fd.lport", "fd.rport",
              "user.uid", "proc.tty", "fd.port"}
BOOL_FIELDS = {"evt.failed", "evt.is_io", "evt.is_io_read", "evt.is_io_write", "fd.is_server"}


@dataclass
class CaptureInfo:
    path: str
    compat: str
    hostname: str | None = None
    events: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def to_frame(columns: dict[str, list]) -> pd.DataFrame:
    """Lists of field values -> a typed DataFrame (nullable ints, categoricals, UTC times)."""
    data = {}
    for name, values in columns.items():
        if name in INT_FIELDS:
            data[name] = pd.array(i64(values), dtype="Int64")
        elif name in BOOL_FIELDS:
            data[name] = pd.array(values, dtype="boolean")
        elif name in CATEGORICAL:
            data[name] = pd.Categorical(table_texts(values))
        elif name == "evt.time":
            data[name] = pd.to_datetime(pd.array(i64(values), dtype="Int64"), unit="ns", utc=True)
        else:
            data[name] = pd.array(table_texts(values), dtype="object")
    df = pd.DataFrame(data)
    if "evt.rawtime" in df and "evt.time" not in df:
        df.insert(1, "evt.time", pd.to_datetime(df["evt.rawtime"].astype("int64"), unit="ns", utc=True))
    return df


class Capture:
    """A capture file, optionally narrowed by a filter and a time range."""

    def __init__(self, path: str, *, filter: str | None = None,  # noqa: A002 - the API word
                 compat: str | None = None, strict: bool = False, _parent: Capture | None = None,
                 _selection: np.ndarray | None = None):
        self.path = str(path)
        self.strict = strict
        self.compat = compat or (_parent.compat if _parent else detect_compat(self.path))
        self._parent = _parent
        self._selection = _selection          # sorted evt.num values this capture keeps, or None for all
        self.warnings: list[str] = []
        if filter:
            base = self.filter(filter)
            self._selection = base._selection

    # -- streams ------------------------------------------------------------------------------
    def replay(self, include_hidden: bool = False) -> tuple[EventStream, Iterator[Rendered]]:
        """A fresh replay of the capture: (stream, iterator of the events it selects)."""
        from .state.tracking import ViewState
        reader = ScapReader(self.path, strict=self.strict)
        prof = profile(self.compat)
        # the richer engine: memory counters, thread counts and the container table
        s = EventStream(reader, prof, ViewState(None,
                                                modern=prof.name != "0.29"))
        it = s.events(include_hidden=include_hidden)
        if self._selection is not None:
            sel = self._selection
            it = (x for x in it if _in_sorted(sel, x.num))
        return s, _closing(it, reader, self)

    def iter_fields(self, names: list[str], include_hidden: bool = False,
                    progress: Callable[[int, int], None] | None = None) -> Iterator[list]:
        getters = []
        for n in names:
            g = getter(n)
            if g is None:
                raise ValueError(f"unknown field {n!r}")
            getters.append(g)
        s, it = self.replay(include_hidden)
        for item in it:
            fc = FieldContext(s, item)
            yield [g(fc) for g in getters]

    def fields(self, names: list[str], include_hidden: bool = False) -> pd.DataFrame:
        """One row per selected event with the given sysdig fields as columns."""
        cols: dict[str, list] = {n: [] for n in names}
        appenders = [cols[n].append for n in names]
        for row in self.iter_fields(names, include_hidden):
            for a, v in zip(appenders, row, strict=True):
                a(v)
        return to_frame(cols)

    @cached_property
    def _all_events(self) -> pd.DataFrame | None:
        """Every shown event, by the fast loader (None when the capture needs the reference path)."""
        if self._parent is not None:
            return self._parent._all_events
        from .fastpath import Unsupported, load_events
        try:
            return load_events(self.path, compat=self.compat, strict=self.strict, fallback=False)
        except Unsupported:
            return None

    @cached_property
    def events(self) -> pd.DataFrame:
        """The events sysdig prints, one row each, with DEFAULT_COLUMNS (the vectorised loader in
        scapinspect.fastpath; damaged or multi-section captures take the reference replay)."""
        df = self._all_events
        if df is None:
            return self.fields(DEFAULT_COLUMNS)
        if self._selection is None:
            return df
        from .fastpath.select import select_events
        return select_events(df, self._selection)

    # -- narrowing ----------------------------------------------------------------------------
    def filter(self, expr: str) -> Capture:
        """A Capture holding only the events the sysdig filter ``expr`` selects."""
        from .filters.stream import matching_numbers
        nums = matching_numbers(self, expr)
        return Capture(self.path, compat=self.compat, strict=self.strict, _parent=self, _selection=nums)

    def between(self, start, end) -> Capture:
        """Events with start <= evt.time < end (datetimes, pandas Timestamps or ns integers)."""
        t0, t1 = _as_ns(start), _as_ns(end)
        ev = self.events
        raw = ev["evt.rawtime"].astype("int64").to_numpy()
        keep = np.ones(len(ev), dtype=bool)
        if t0 is not None:
            keep &= raw >= t0
        if t1 is not None:
            keep &= raw < t1
        nums = ev["evt.num"].astype("int64").to_numpy()[keep]
        return Capture(self.path, compat=self.compat, strict=self.strict, _parent=self, _selection=nums)

    # -- facts --------------------------------------------------------------------------------
    @cached_property
    def info(self) -> CaptureInfo:
        reader = ScapReader(self.path, strict=self.strict)
        info = CaptureInfo(self.path, self.compat)
        n = 0
        first = last = None
        try:
            for it in reader.items():
                if isinstance(it, Section):
                    if it.machine is not None:
                        info.hostname = it.machine.hostname
                    continue
                n += 1
                if first is None:
                    first = it.ts
                last = it.ts
        finally:
            reader.close()
        info.events = n
        info.first_ts, info.last_ts = first, last
        info.warnings = list(reader.warnings)
        info.counts = dict(reader.counts)
        return info

    # -- analyses -----------------------------------------------------------------------------
    def spy_users(self) -> pd.DataFrame:
        """Commands typed in shells (see scapinspect.analyzers.spy_users)."""
        from .analyzers.spy_users import spy_users_frame
        s, it = self.replay()
        return spy_users_frame(_StreamView(s, it))

    def io_streams(self) -> pd.DataFrame:
        """Reads and writes that moved bytes, with their payloads."""
        from .analyzers.io_streams import io_events_frame
        s, it = self.replay()
        return io_events_frame(_StreamView(s, it))

    def stream_payloads(self, key: str):
        """One connection or file reassembled in order, both directions: a list of
        (time, direction, bytes, truncated) segments that shows itself as the conversation in Jupyter."""
        from .analyzers.io_streams import follow_stream
        from .capture_display import StreamSegments
        s, it = self.replay()
        return StreamSegments(follow_stream(_StreamView(s, it), key), key=key)

    stream = stream_payloads
    follow = stream_payloads

    @property
    def processes(self) -> pd.DataFrame:
        """One row per process seen (the csysdig procs view)."""
        return self.view("procs")

    @property
    def threads(self) -> pd.DataFrame:
        """One row per thread seen (the csysdig threads view)."""
        return self.view("threads")

    @property
    def fds(self) -> pd.DataFrame:
        """One row per file or socket used (the csysdig files and connections views, stacked)."""
        files = self.view("files").assign(kind="file")
        conns = self.view("connections").assign(kind="connection")
        return pd.concat([files, conns], ignore_index=True, sort=False)

    def drill(self, view: str, key) -> tuple[str, Capture]:
        """Drill down from a row of ``view`` as Sysdig Inspect does: returns the name of the view to show
        next and this capture narrowed to the row (the view's filter, the row key, the target's filter)."""
        from .analyzers.views.definitions import get_view
        from .analyzers.views.engine import drill_target
        v = get_view(view)
        keycol = v.groupby_column(True) or v.key_column(True)
        if keycol is None:
            raise ValueError(f"view {view!r} has no key to drill down on")
        target = drill_target(v, keycol.field)
        value = str(key).replace("\\", "\\\\").replace('"', '\\"')
        parts = [f"({v.filter})" if v.filter else "", f'{keycol.field}="{value}"',
                 f"({target.filter})" if target is not None and target.filter else ""]
        expr = " and ".join(p for p in parts if p)
        return (target.id if target is not None else view), self.filter(expr)

    def _repr_html_(self) -> str:
        from .capture_display import capture_html
        return capture_html(self)

    def connections(self) -> pd.DataFrame:
        """One row per network connection (see scapinspect.analyzers.connections)."""
        from .analyzers.connections import connections_frame
        s, it = self.replay()
        return connections_frame(_StreamView(s, it))

    def http(self) -> pd.DataFrame:
        """One row per HTTP request/response pair found in the I/O (see scapinspect.analyzers.http)."""
        from .analyzers.http import http_frame
        return http_frame(self)

    def summary(self, samples: int = 100) -> dict:
        """The overview tiles of Sysdig Inspect (see scapinspect.analyzers.summary)."""
        from .analyzers.summary import summary
        return summary(self, samples)

    def timeline(self, metric: str = "events", freq: str = "1s") -> pd.Series:
        """A metric over time: 'events', 'errors', 'bytes_read', 'bytes_written' ..."""
        from .analyzers.summary import timeline
        return timeline(self, metric, freq)

    def view(self, name: str) -> pd.DataFrame:
        """A csysdig view (procs, files, connections, errors ...) as a typed DataFrame."""
        from .analyzers.views import view_frame
        return view_frame(self, name)

    def __repr__(self) -> str:
        sel = "" if self._selection is None else f", {len(self._selection)} events selected"
        return f"<Capture {self.path!r} ({self.compat}{sel})>"


class _StreamView:
    """An EventStream whose events() yields a pre-selected iterator (for analyzers)."""

    def __init__(self, stream: EventStream, it: Iterator[Rendered]):
        self._s = stream
        self._it = it

    def __getattr__(self, name):
        return getattr(self._s, name)

    def events(self, include_hidden: bool = False) -> Iterator[Rendered]:
        return self._it


def _closing(it: Iterator[Rendered], reader: ScapReader, cap: Capture) -> Iterator[Rendered]:
    try:
        yield from it
    finally:
        cap.warnings = list(reader.warnings)


def _in_sorted(arr: np.ndarray, v: int) -> bool:
    i = np.searchsorted(arr, v)
    return bool(i < len(arr) and arr[i] == v)


def _as_ns(t) -> int | None:
    if t is None:
        return None
    if isinstance(t, (int, np.integer)):
        return int(t)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def open(path: str, *, filter: str | None = None, compat: str | None = None) -> Capture:  # noqa: A001, A002
    """Open a capture (plain or gzip)."""
    return Capture(path, filter=filter, compat=compat)


def read_scap(path: str, *, chunksize: int | None = None, columns: list[str] | None = None):
    """The events of a capture as a DataFrame, or an iterator of DataFrames of ``chunksize`` rows."""
    cap = Capture(path)
    names = columns or DEFAULT_COLUMNS
    if chunksize is None:
        return cap.events if names == DEFAULT_COLUMNS else cap.fields(names)

    def chunks():
        cols: dict[str, list] = {n: [] for n in names}
        count = 0
        for row in cap.iter_fields(names):
            for n, v in zip(names, row, strict=True):
                cols[n].append(v)
            count += 1
            if count == chunksize:
                yield to_frame(cols)
                cols = {n: [] for n in names}
                count = 0
        if count:
            yield to_frame(cols)
    return chunks()
