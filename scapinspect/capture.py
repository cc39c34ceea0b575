"""Capture: the one object the TUI, Jupyter, the reports and the CLI use to look at a capture.

    cap = Capture("capture.scap")
    cap.events                 # one row per event sysdig prints, columns named after sysdig fields
    cap.filter("proc.name=curl").events
    cap.fields(["evt.num", "evt.info"])

Frames are built by replaying the capture through the state engine, so every row carries the process
and file descriptor as libsinsp knew them when the event happened.
"""
from __future__ import annotations

import builtins
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ._i64 import i64
from ._text import table_texts
from .analyzers import taps as _taps  # noqa: F401 - registers the analyses' load-time taps
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
                 compat: str | None = None, strict: bool = False, cache: bool | str | None = None,
                 _parent: Capture | None = None, _selection: np.ndarray | None = None,
                 _narrowing: tuple = ()):
        """``cache``: keep the event frame in an on-disk index and read it from there when the capture
        is opened again (True: the cache directory, "here": ``<capture>.siidx`` beside it, None:
        as ``$SCAPINSPECT_CACHE`` says; see scapinspect.cache)."""
        from . import cache as index
        self.path = str(path)
        self.strict = strict
        self.cache = _parent.cache if _parent else index.resolve_mode(cache)
        self._detected = compat is None and _parent is None
        # a valid entry also knows the detected profile: a cache hit skips the detection pass
        self._cache_entry = None if _parent else index.lookup(self.path, compat, self.cache)
        if compat is None and _parent is None:
            compat = self._cache_entry.compat if self._cache_entry else detect_compat(self.path)
        self.compat = compat or _parent.compat
        self._parent = _parent
        self._selection = _selection          # sorted evt.num values this capture keeps, or None for all
        # how it was narrowed, in order: ("filter", expr) and ("time", start ns or None, end ns or None);
        # the csysdig views test their end-of-file events (not events of the file) against these
        self._narrowing = (_parent._narrowing if _parent is not None else ()) + tuple(_narrowing)
        self.warnings: list[str] = []
        if filter:
            base = self.filter(filter)
            self._selection = base._selection
            self._narrowing = base._narrowing

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
        from . import cache as index
        facts = self.__dict__.pop("_load_facts", None)          # (Capture.load(info=True))
        if self._cache_entry is not None and (df := index.read(self._cache_entry)) is not None:
            self.warnings = self._cache_entry.warnings
            return df
        from .fastpath import Unsupported, load_events
        ident = index.identity(self.path) if self.cache else None   # of the bytes the load reads
        try:
            df = load_events(self.path, compat=self.compat, strict=self.strict, fallback=False,
                             progress=self.__dict__.pop("_load_progress", None), facts_out=facts)
        except Unsupported:
            return None
        if facts and "info" not in self.__dict__:
            self.__dict__["info"] = self._info_of(facts["section"], facts["events"], facts["first"],
                                                  facts["last"], facts["counts"])
        if ident is not None:
            index.store(self.path, ident, df, self.compat, self._detected, self.warnings, self.cache)
        return df

    def load(self, progress: Callable[[int, int], None] | None = None, *, info: bool = False) -> Capture:
        """Run the fast load now (``cap.events`` does it when first asked), telling ``progress(done,
        total)`` how far it is in events of the file; returns the capture. A capture the fast loader
        cannot read (``fast_loaded`` False) is replayed when ``events`` is first asked for.
        ``info``: ``info`` is wanted too: taken from the load's own walk of the file, not a second one."""
        root = self._root
        if "_all_events" not in root.__dict__:
            root.__dict__["_load_progress"] = progress
            if info and "info" not in root.__dict__:
                root.__dict__["_load_facts"] = {}
        _ = root._all_events
        return self

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
        return Capture(self.path, compat=self.compat, strict=self.strict, _parent=self, _selection=nums,
                       _narrowing=(("filter", expr),))

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
        return Capture(self.path, compat=self.compat, strict=self.strict, _parent=self, _selection=nums,
                       _narrowing=(("time", t0, t1),))

    # -- facts --------------------------------------------------------------------------------
    @cached_property
    def info(self) -> CaptureInfo:
        """File, host, event count, time span and what the reader found (the vectorised walk when
        the file allows it, else one pass of the reference reader)."""
        from .fastpath import Unsupported
        from .fastpath.loader import facts
        if self._parent is not None:
            return self._root.info
        try:
            return self._info_of(*facts(self.path, self.strict))
        except Unsupported:
            return self._read_info(CaptureInfo(self.path, self.compat))

    def _info_of(self, sec: Section, events: int, first: int | None, last: int | None,
                 counts: dict[str, int]) -> CaptureInfo:
        info = CaptureInfo(self.path, self.compat)
        info.events, info.first_ts, info.last_ts, info.counts = events, first, last, counts
        if sec.machine is not None:
            info.hostname = sec.machine.hostname
        return info

    def _read_info(self, info: CaptureInfo) -> CaptureInfo:
        reader = ScapReader(self.path, strict=self.strict)
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
        from .analyzers.spy_users import spy_frame_from_rows, spy_users_frame
        side = self._side()
        if side is not None:    # recorded while loading (analyzers/taps.py)
            keep = self._kept_positions()
            rows = side.taps.get("spy_users", [])
            return spy_frame_from_rows([v for pos, v in rows if keep is None or keep[pos]])
        s, it = self.replay()
        return spy_users_frame(_StreamView(s, it))

    @property
    def fast_loaded(self) -> bool:
        """Whether ``events`` comes from the fast loader (or its on-disk index) rather than a replay."""
        return self._all_events is not None

    @property
    def _root(self) -> Capture:
        """The whole capture this one narrows (itself when it narrows nothing)."""
        root = self
        while root._parent is not None:
            root = root._parent
        return root

    @property
    def loadable(self) -> bool:
        """Whether the events are loaded, or small enough to load (``fits_in_memory``): analyses and
        filters answer from the loaded frame then, else they stream through the capture."""
        root = self._root
        return "_all_events" in root.__dict__ or fits_in_memory(root.path)

    def _side(self):
        """The fast load's side data of the whole capture (fastpath.side), or None when the capture
        needed the reference reader. A frame read from the on-disk index has none yet: one fast load
        makes it (the rows are the same, row for row)."""
        from .fastpath import Unsupported, load_events, side_of
        from .fastpath.side import attach
        if not self.loadable:
            return None         # the analyses stream through the capture instead of loading it
        root = self._root
        df = root._all_events
        if df is None:
            return None
        with _SIDE_LOCK:
            side = side_of(df)
            if side is None:
                try:
                    fresh = load_events(root.path, compat=root.compat, strict=root.strict, fallback=False)
                except Unsupported:
                    return None
                side = side_of(fresh)
                if side is None or len(fresh) != len(df):
                    return None
                attach(df, side)
        return side

    def _kept_positions(self) -> np.ndarray | None:
        """Per row of the whole capture's frame, whether this capture keeps it (None: all)."""
        if self._selection is None:
            return None
        nums = self._all_events["evt.num"].to_numpy(dtype=np.int64)
        return np.isin(nums, self._selection, assume_unique=True)

    def io_streams(self) -> pd.DataFrame:
        """Reads and writes that moved bytes, with their payloads (analyzers.io_streams.io_events_frame).

        Answered from the fast load's side data (analyzers/fast_io.py: the thread and fd each row had,
        payloads read from the mapped capture) when there is some; else by a replay."""
        from .analyzers.fast_io import io_frame
        from .analyzers.io_streams import io_events_frame
        side = self._side()
        if side is not None:
            got = io_frame(self._all_events, side, self._kept_positions())
            if got is not None:
                return got
        s, it = self.replay()
        return io_events_frame(_StreamView(s, it))

    def stream_payloads(self, key: str | tuple[int, int]):
        """One connection or file reassembled in order, both directions: a list of
        (time, direction, bytes, truncated) segments that shows itself as the conversation in Jupyter.

        ``key`` is an fd name or (pid, fd) (analyzers.io_streams.follow_stream); only the payloads of
        that stream are read when the fast load's side data is there."""
        from .analyzers.fast_io import follow_frame
        from .analyzers.io_streams import follow_stream
        from .capture_display import StreamSegments
        side = self._side()
        if side is not None:
            frame = follow_frame(self._all_events, side, self._kept_positions(), key)
            if frame is not None:
                return StreamSegments(follow_stream(frame, key), key=key)
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
        """One row per network connection (see scapinspect.analyzers.connections).

        Computed from the fast load's side data (analyzers/fast_conn.py: only the connections already
        open at the first kept event need a replay, up to that event); a full replay when there is no
        side data or it cannot settle the answer."""
        from .analyzers.connections import connections_frame
        from .analyzers.fast_conn import connections_frame_fast
        side = self._side()
        if side is not None:
            got = connections_frame_fast(self, self._all_events, side, self._kept_positions())
            if got is not None:
                return got
        s, it = self.replay()
        return connections_frame(_StreamView(s, it))

    def http(self) -> pd.DataFrame:
        """One row per HTTP request/response pair found in the I/O (see scapinspect.analyzers.http).

        With the fast load's side data, only the socket rows of the I/O frame are built (and only their
        payloads read): the rows http_frame reads. The table depends on those rows only, so a capture
        narrowed without dropping any of them (``fd.type=ipv4``, a filter on failed calls, the TUI's
        scopes) gets the table already made for the same rows (the last few kept per file)."""
        from .analyzers.fast_io import io_frame, io_selection
        from .analyzers.http import SOCKET_TYPES, http_frame
        side = self._side()
        sel = None if side is None else \
            io_selection(self._all_events, side, self._kept_positions(), fd_types=frozenset(SOCKET_TYPES))
        if sel is not None:
            key = hashlib.blake2b(sel.rows.tobytes(), digest_size=16).digest()
            with _MADE_LOCK:
                made = self._root.__dict__.setdefault("_http_tables", OrderedDict())
                got = made.get(key)
            if got is None:
                io = io_frame(self._all_events, side, None, selection=sel)
                if io is not None:
                    got = http_frame(io)
                    with _MADE_LOCK:
                        made[key] = got
                        while len(made) > 4:
                            made.popitem(last=False)
            if got is not None:
                return got.copy()
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


_SIDE_LOCK = threading.Lock()
# memory a loaded capture takes per byte of capture (frame, side data, state; measured: 2.2 on 1M events)
LOAD_BYTES_PER_BYTE = 3
GZIP_RATIO_GUESS = 8


_MADE_LOCK = threading.Lock()      # tables a root capture keeps for its narrowings (Capture.http)


def fits_in_memory(path: str) -> bool:
    """Whether loading the capture (frame + side data) should fit: its estimated size against
    ``$SCAPINSPECT_LOAD_LIMIT_MB``, by default half the machine's memory. Analyses of a capture that
    does not fit replay it as a stream (bounded memory) unless its events were loaded on request."""
    try:
        size = os.path.getsize(path)
        with builtins.open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
    except OSError:
        return True             # the load reports what is wrong with the file
    need = size * (GZIP_RATIO_GUESS if gz else 1) * LOAD_BYTES_PER_BYTE
    limit = os.environ.get("SCAPINSPECT_LOAD_LIMIT_MB")
    try:
        cap = float(limit) * (1 << 20) if limit else _memory() / 2
    except ValueError:
        cap = _memory() / 2
    return need <= cap


def _memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


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


def open(path: str, *, filter: str | None = None, compat: str | None = None,  # noqa: A001, A002
         cache: bool | str | None = None) -> Capture:
    """Open a capture (plain or gzip); ``cache`` as in ``Capture``."""
    return Capture(path, filter=filter, compat=compat, cache=cache)


def read_scap(path: str, *, chunksize: int | None = None, columns: list[str] | None = None,
              cache: bool | str | None = None):
    """The events of a capture as a DataFrame, or an iterator of DataFrames of ``chunksize`` rows
    (``cache`` as in ``Capture``: it keeps the whole frame of the default columns)."""
    cap = Capture(path, cache=cache)
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
