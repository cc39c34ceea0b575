"""What each tab shows, computed from a Capture: pure functions the TUI workers call (no textual here).

``load_frames`` gives the events frame and the Syscalls list (``EventInfo`` renders its evt.info in the
background when the fast loader read the capture); ``tab_frame``
asks the analyzers for a tab's table and turns a missing analysis into ``NotAvailable``; ``drill_for``
finds the filter a row drills into.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property, partial
from inspect import getattr_static

import numpy as np
import pandas as pd

from ..capture import DEFAULT_COLUMNS, Capture, to_frame
from .catalog import TAB_BY_ID, TABS, Drill, TabSpec  # noqa: F401  (re-exported for callers)
from .scope import quote

KEY_COLUMN = "key"            # view_frame's row-key index, kept as a hidden column
SYSCALL_COLUMNS = ["evt.num", "evt.time", "evt.cpu", "proc.name", "thread.tid", "evt.dir", "evt.type",
                   "evt.info"]


class NotAvailable(Exception):
    """An analysis that has not landed yet (its module or function is missing)."""


class Cancelled(Exception):
    """The worker computing this was cancelled."""


# -- events + syscall list ------------------------------------------------------------------------
PENDING = "…"                 # an evt.info the background pass has not rendered yet


def load_frames(cap: Capture, *, expected: int | None = None,
                progress: Callable[[int, int | None], None] | None = None,
                cancelled: Callable[[], bool] | None = None,
                every: float = 0.25) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """``(cap.events, the Syscalls list, whether its evt.info is still to come)``.

    When the fast loader reads the capture, the Syscalls list is cut from ``cap.events`` at once and
    its ``evt.info`` column is left empty for ``EventInfo`` to render in the background (rendering every
    event's arguments takes a replay of the file). Otherwise one replay gives both frames:
    ``progress(done, expected)`` is then called at most every ``every`` seconds with the number of the
    last event read (evt.num counts every event of the file, so it compares with
    ``CaptureInfo.events`` even for a filtered capture), ``cancelled()`` is polled as often and raises
    Cancelled when true. The events frame is left in ``cap.events``' cache.
    """
    if progress is not None:
        cap.load(lambda done, total: progress(done, expected or total))
    if cap.fast_loaded:
        events = cap.events
        syscalls = events[SYSCALL_COLUMNS[:-1]].copy()
        syscalls["evt.info"] = pd.Series(np.full(len(events), None, dtype=object), index=syscalls.index)
        return events, syscalls, True
    names = list(dict.fromkeys([*DEFAULT_COLUMNS, *SYSCALL_COLUMNS[:-1], "evt.info"]))
    names = [n for n in names if n != "evt.time"]           # to_frame derives it from evt.rawtime
    cols: dict[str, list] = {n: [] for n in names}
    appenders = [cols[n].append for n in names]
    num_at = names.index("evt.num")
    n = 0
    row: list = []
    last = time.monotonic()
    for row in cap.iter_fields(names):
        for a, v in zip(appenders, row, strict=True):
            a(v)
        n += 1
        if n & 1023 == 0:
            now = time.monotonic()
            if now - last >= every:
                last = now
                if cancelled is not None and cancelled():
                    raise Cancelled()
                if progress is not None:
                    progress(int(row[num_at]), expected)
    if progress is not None:
        progress(int(row[num_at]) if row else 0, expected)
    events = to_frame({k: cols[k] for k in DEFAULT_COLUMNS})
    syscalls = to_frame({k: (cols["evt.rawtime"] if k == "evt.time" else cols[k]) for k in SYSCALL_COLUMNS})
    seed_events(cap, events)
    return events, syscalls, False


class EventInfo:
    """evt.info of every event of a capture, rendered by one background replay while the Syscalls list
    is already on screen: cells read ``values`` as it fills (``PENDING`` until then), and ``apply``
    puts the finished column into a Syscalls frame for sorting, finding and export."""

    def __init__(self, cap: Capture) -> None:
        self.cap = cap
        self.nums = cap.events["evt.num"].to_numpy(dtype=np.int64)
        self.values = np.full(len(self.nums), None, dtype=object)
        self.filled = 0
        self.complete = False

    def fill(self, cancelled: Callable[[], bool] = lambda: False,
             progress: Callable[[int], None] | None = None, every: float = 0.5) -> bool:
        """Render every event's evt.info (in capture order); False when cancelled first."""
        values = self.values
        last = time.monotonic()
        k = 0
        for k, (text,) in enumerate(self.cap.iter_fields(["evt.info"]), 1):
            values[k - 1] = text if text is not None else ""
            if k & 1023 == 0:
                self.filled = k
                if cancelled():
                    return False
                now = time.monotonic()
                if progress is not None and now - last >= every:
                    last = now
                    progress(k)
        self.filled = k
        self.complete = True
        return True

    def _positions(self, frame: pd.DataFrame) -> np.ndarray:
        return np.searchsorted(self.nums, frame["evt.num"].to_numpy(dtype=np.int64))

    def getter(self, frame: pd.DataFrame) -> Callable[[int], str]:
        """Row position of ``frame`` (a Syscalls list) -> its evt.info cell as the table shows it."""
        from .frames import cell_text
        pos, values = self._positions(frame), self.values
        return lambda i: PENDING if (v := values[pos[i]]) is None else cell_text(v)

    def apply(self, frame: pd.DataFrame) -> None:
        """Put the rendered evt.info into ``frame`` (in place; call once ``complete``)."""
        col = to_frame({"evt.info": self.values[self._positions(frame)].tolist()})["evt.info"]
        frame["evt.info"] = col.set_axis(frame.index)


def seed_events(cap: Capture, events: pd.DataFrame) -> None:
    """Keep our replay as ``cap.events`` so between()/analyses do not replay the capture again."""
    if isinstance(getattr_static(type(cap), "events", None), cached_property):
        cap.__dict__.setdefault("events", events)


# -- tables from the analyzers ---------------------------------------------------------------------
def tab_frame(cap: Capture, spec: TabSpec) -> pd.DataFrame:
    """The table a tab shows for ``cap``; NotAvailable when its analysis has not landed."""
    src = spec.source
    if src.startswith("view:"):
        return _frame(_view(cap, src[5:]), spec)
    if src == "spy_users":
        return _frame(_call(lambda: cap.spy_users(), "Spy Users"), spec)
    if src == "io_streams":
        return _frame(_call(lambda: cap.io_streams(), "I/O streams"), spec)
    if src == "http":
        return _frame(_http(cap), spec)
    raise ValueError(f"tab {spec.id} is not a table of an analysis")


def _frame(obj: object, spec: TabSpec) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        if isinstance(obj.index, pd.RangeIndex):
            return obj
        attrs = dict(obj.attrs)
        # csysdig row keys (view_frame's index "key") become a column: drill-downs filter on them
        out = obj.reset_index() if obj.index.name == KEY_COLUMN else obj.reset_index(drop=True)
        out.attrs.update(attrs)
        return out
    try:
        return pd.DataFrame(obj)
    except Exception as e:
        raise NotAvailable(f"{spec.title}: the analysis returned {type(obj).__name__}, not a table") from e


def _call(fn: Callable[[], object], what: str) -> object:
    try:
        return fn()
    except ImportError as e:
        raise NotAvailable(f"{what} analysis not available yet ({e.name or e})") from e
    except NotImplementedError as e:
        raise NotAvailable(f"{what} analysis not available yet") from e


def _view(cap: Capture, name: str) -> object:
    view = getattr(cap, "view", None)
    if view is not None:
        return _call(lambda: view(name), f"view {name!r}")
    try:
        from ..analyzers.views import view_frame  # type: ignore[import-not-found]
    except ImportError as e:
        raise NotAvailable(f"view {name!r} not available yet (scapinspect.analyzers.views)") from e
    try:
        return _call(lambda: view_frame(cap, name), f"view {name!r}")
    except KeyError as e:
        raise NotAvailable(f"view {name!r} not available yet") from e


def _http(cap: Capture) -> object:
    fn = getattr(cap, "http", None) or getattr(cap, "http_requests", None)
    if fn is not None:
        return _call(fn, "HTTP")
    try:
        from ..analyzers import http as mod  # type: ignore[attr-defined]
    except ImportError as e:
        raise NotAvailable("HTTP analysis not available yet (scapinspect.analyzers.http)") from e
    for name in ("http_frame", "http_requests", "requests_frame"):
        fn = getattr(mod, name, None)
        if fn is not None:
            return _call(partial(fn, cap), "HTTP")
    raise NotAvailable("HTTP analysis not available yet")


# -- drill-down ------------------------------------------------------------------------------------
def shown_columns(frame: pd.DataFrame) -> list[str]:
    """The columns a tab shows: all but the csysdig row key (the legend columns say it better)."""
    cols = list(frame.columns)
    if frame.attrs.get("view") and KEY_COLUMN in cols and len(cols) > 1:
        cols.remove(KEY_COLUMN)
    return cols


_CONTAINER_FIELDS = {"fd.containername": "fd.name", "fd.containerdirectory": "fd.directory"}
_INT_FIELDS = {"proc.pid", "thread.tid", "fd.sport", "fd.num", "proc.ppid", "evt.rawtime"}


def view_key_filter(view_id: str, key: object) -> tuple[str, str] | None:
    """``(field, filter)`` matching one row of csysdig view ``view_id`` by its row key, as Inspect's
    filterTemplate does (``fd.containername`` keys ``<container>:<name>`` filter on ``fd.name``)."""
    try:
        from ..analyzers.views import get_view
        view = get_view(view_id)
    except (ImportError, KeyError):
        return None
    col = view.groupby_column(True) or view.key_column(True)
    if col is None or key is None or key is pd.NA:
        return None
    fld, value = col.field, key
    if fld in _CONTAINER_FIELDS and isinstance(value, str) and ":" in value:
        fld, value = _CONTAINER_FIELDS[fld], value.split(":", 1)[1]
    if fld in _INT_FIELDS:
        try:
            value = int(str(value))
        except ValueError:
            return None
    return fld, f"{fld}={quote(value)}"


def drill_for(spec: TabSpec, frame: pd.DataFrame, pos: int) -> tuple[str, str, str] | None:
    """``(target tab, filter, crumb label)`` for row ``pos`` of ``frame`` in tab ``spec``, or None."""
    if spec.drill is None or not 0 <= pos < len(frame):
        return None
    view = frame.attrs.get("view")
    if view and KEY_COLUMN in frame.columns:
        found = view_key_filter(view, frame[KEY_COLUMN].iloc[pos])
        if found is not None:
            fld, expr = found
            return spec.drill.target, expr, f"{spec.title}: {expr}"
    keys = list(spec.drill.keys)
    attr = frame.attrs.get("drilldown_key") if hasattr(frame, "attrs") else None
    if attr and attr in frame.columns:
        keys.insert(0, (attr, attr))
    for col, fld in keys:
        if col in frame.columns:
            value = frame[col].iloc[pos]
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                continue
            if isinstance(value, (bytes, bytearray)):
                value = bytes(value).decode("utf-8", "surrogateescape")
            expr = f"{fld}={quote(value)}"
            return spec.drill.target, expr, f"{spec.title}: {expr}"
    return None


def row_filter(spec: TabSpec, frame: pd.DataFrame, pos: int) -> str | None:
    d = drill_for(spec, frame, pos)
    return d[1] if d else None


# -- time histograms -------------------------------------------------------------------------------
def histogram(times: np.ndarray, t0: int, t1: int, buckets: int,
              weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or sums of ``weights``) of ``times`` in ``buckets`` equal bins over ``[t0, t1]``."""
    buckets = max(1, int(buckets))
    if len(times) == 0 or t1 <= t0:
        out = np.zeros(buckets)
        if len(times):
            out[0] = len(times) if weights is None else float(np.sum(weights))
        return out
    idx = ((times.astype(np.int64) - t0) * buckets // max(1, t1 - t0 + 1)).clip(0, buckets - 1)
    return np.bincount(idx, weights=weights, minlength=buckets)[:buckets].astype(float)


def rebin(values: np.ndarray, width: int, how: str = "sum") -> np.ndarray:
    """``values`` squeezed (or stretched) to ``width`` bins."""
    width = max(1, width)
    n = len(values)
    if n == 0:
        return np.zeros(width)
    if n <= width:
        return values[np.minimum((np.arange(width) * n) // width, n - 1)]
    edges = (np.arange(width + 1) * n) // width
    red = np.maximum.reduceat if how == "max" else np.add.reduceat
    return red(values, edges[:-1])


def event_times(events: pd.DataFrame) -> np.ndarray:
    if "evt.rawtime" not in events or len(events) == 0:
        return np.zeros(0, dtype=np.int64)
    return events["evt.rawtime"].astype("int64").to_numpy()
