"""A loaded scope: the Capture it selects and everything computed from it (no textual here).

``build_scope`` is what the scope worker runs; ``compute_tab`` what a tab worker runs. Both return plain
values the app keeps per scope, so going back (Backspace, a previous filter) is instant.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..capture import Capture
from .catalog import VIEWS_TAB, TabResult, view_spec
from .compute import TAB_BY_ID, NotAvailable, event_times, load_frames, seed_events, tab_frame
from .overview import Metric, overview
from .scope import FilterUnavailable, Scope


@dataclass
class Narrowed:
    """The captures a scope selects: with the time range applied, and without it (for the timeline)."""
    capture: Capture
    unranged: Capture
    notes: list[str] = field(default_factory=list)


def dialect(cap: Capture) -> str:
    from ..filters import dialect_for
    return dialect_for(cap.compat)


def apply_filter(cap: Capture, expr: str) -> Capture:
    """``cap.filter(expr)``; FilterError (ValueError) for a bad filter, FilterUnavailable if none works."""
    try:
        return cap.filter(expr)
    except ImportError:
        pass                       # scapinspect.filters.stream has not landed: evaluate over the frame
    return _frame_filter(cap, expr)


def _frame_filter(cap: Capture, expr: str) -> Capture:
    try:
        from ..filters import compile_filter
    except ImportError as e:
        raise FilterUnavailable(f"filters are not available yet ({e})") from e
    flt = compile_filter(expr, dialect=dialect(cap))
    frame = cap.events
    missing = sorted(c for c in flt.fields - flt.optional if c not in frame.columns)
    if missing:
        try:
            extra = cap.fields(missing)
        except ValueError as e:
            raise FilterUnavailable(f"this filter needs fields not extracted yet: {', '.join(missing)}") from e
        frame = pd.concat([frame.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)
    nums = frame["evt.num"].astype("int64").to_numpy()[flt.mask(frame)]
    return select(cap, nums, (("filter", expr),))


def narrow(base: Capture, scope: Scope) -> Narrowed:
    """The captures ``scope`` selects from ``base`` (FilterError for a bad filter)."""
    cap = base
    expr = scope.filter
    if expr:
        cap = apply_filter(base, expr)
    unranged = cap
    if scope.time is not None:
        cap = cap.between(*scope.time)
    return Narrowed(cap, unranged)


@dataclass
class ScopeData:
    scope: Scope
    capture: Capture
    events: pd.DataFrame
    syscalls_frame: pd.DataFrame | None   # the Syscalls list (see ``syscalls``)
    times: np.ndarray                 # event times without the time range (the timeline)
    span: tuple[int, int]             # the whole capture
    seconds: float = 0.0
    tabs: dict[str, TabResult] = field(default_factory=dict)
    unranged: Capture | None = None
    extra: dict[str, pd.Series] = field(default_factory=dict)   # more columns of events, by field
    info_pending: bool = False        # the Syscalls list's evt.info comes later (compute.EventInfo)
    syscalls_cut: tuple[pd.DataFrame, np.ndarray] | None = None   # (whole list, rows): cut when first used
    metrics_seconds: float = 0.0      # what computing ``metrics`` took
    _metrics: dict[str, list[Metric]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def key(self) -> tuple:
        return self.scope.key

    @property
    def syscalls(self) -> pd.DataFrame:
        """The Syscalls list of this scope; a scope cut from the whole capture cuts its list on first
        use (a filter applied on another tab does not pay for it)."""
        return self.cut_syscalls()

    def cut_syscalls(self) -> pd.DataFrame:
        """``syscalls``, cut now if it has not been (from a worker)."""
        with self._lock:
            if self.syscalls_frame is None:
                assert self.syscalls_cut is not None
                frame, rows = self.syscalls_cut
                self.syscalls_frame = frame[rows].reset_index(drop=True)
                self.syscalls_cut = None
            return self.syscalls_frame

    @property
    def syscalls_ready(self) -> bool:
        return self.syscalls_frame is not None

    @property
    def metrics(self) -> list[Metric]:
        """The overview tiles of this scope, computed on first use (a filter applied on another tab
        does not pay for them; the app asks from a worker when the Overview tab is shown)."""
        return self._overview("ranged")

    @property
    def _timeline_tiles(self) -> str:
        """Which tiles a pinned timeline draws: the time range's own, or without it (over the whole
        span) when the scope has one."""
        return "ranged" if self.scope.time is None or self.unranged is None else "unranged"

    @property
    def timeline_metrics(self) -> list[Metric]:
        """The tiles over the whole span without the time range: what a pinned timeline draws."""
        return self._overview(self._timeline_tiles)

    def compute_metrics(self, pinned: bool = False) -> None:
        """Compute ``metrics`` now (and, ``pinned``, ``timeline_metrics``): from a worker."""
        self._overview("ranged")
        if pinned:
            self._overview(self._timeline_tiles)

    def metrics_ready(self, pinned: bool = False) -> bool:
        """Whether ``metrics`` (and, ``pinned``, ``timeline_metrics``) are computed already."""
        return "ranged" in self._metrics and (not pinned or self._timeline_tiles in self._metrics)

    def _overview(self, which: str) -> list[Metric]:
        with self._lock:
            if which not in self._metrics:
                if which == "ranged":
                    t, start = self.scope.time, time.monotonic()
                    self._metrics[which] = overview(self.events, span=t and (t[0], t[1] - 1) or self.span)
                    self.metrics_seconds = time.monotonic() - start
                else:
                    assert self.unranged is not None
                    self._metrics[which] = overview(self.unranged.events, span=self.span)
            return self._metrics[which]


Progress = Callable[[int, int | None], None]


def select(base: Capture, nums: np.ndarray, narrowing: tuple = ()) -> Capture:
    """The events of ``base`` numbered ``nums`` (sorted), as Capture.filter/between build them
    (``narrowing``: how, see Capture._narrowing)."""
    return Capture(base.path, compat=base.compat, strict=base.strict, _parent=base, _selection=nums,
                   _narrowing=narrowing)


def _frame_masks(base: Capture, whole: ScopeData, scope: Scope) -> tuple[np.ndarray, np.ndarray] | None:
    """Row masks over the whole capture's frames for ``scope`` (without and with its time range), or
    None when the filter needs a field no getter extracts. The filter is the one the stream filter
    compiles, on the same per-event field values, so both select the same events. Columns beyond the
    events frame are extracted once (one replay) and kept with ``whole``."""
    ev = whole.events
    unranged = np.ones(len(ev), dtype=bool)
    if scope.filter:
        from ..filters import compile_filter
        flt = compile_filter(scope.filter, dialect=dialect(base))
        missing = sorted(c for c in flt.fields - flt.optional if c not in ev.columns)
        if missing:
            frame = _with_columns(base, whole, missing)
            if frame is None:
                return None
            ev = frame
        unranged = flt.mask(ev)
    ranged = unranged
    if scope.time is not None:
        raw = event_times(whole.events)
        ranged = unranged & (raw >= scope.time[0]) & (raw < scope.time[1])
    return unranged, ranged


def _with_columns(base: Capture, whole: ScopeData, names: list[str]) -> pd.DataFrame | None:
    """``whole.events`` plus columns ``names`` (extracted once per field and kept), or None."""
    todo = [n for n in names if n not in whole.extra]
    if todo:
        try:
            extra = base.fields(["evt.num", *todo])
        except ValueError:              # a field without a getter: leave it to the stream filter
            return None
        if len(extra) != len(whole.events) or not np.array_equal(
                extra["evt.num"].to_numpy(dtype=np.int64), whole.events["evt.num"].to_numpy(dtype=np.int64)):
            return None
        for n in todo:
            whole.extra[n] = extra[n].reset_index(drop=True)
    return pd.concat([whole.events, pd.DataFrame({n: whole.extra[n] for n in names})], axis=1)


def _sliced(base: Capture, whole: ScopeData, scope: Scope, masks: tuple[np.ndarray, np.ndarray],
            span: tuple[int, int]) -> ScopeData:
    """A scope cut out of the whole capture's frames: no replay of the file."""
    unr, mask = masks
    nums = whole.events["evt.num"].astype("int64").to_numpy()
    unranged = select(base, nums[unr], (("filter", scope.filter),)) if scope.filter else base
    capture = select(unranged, nums[mask], (("time", *scope.time),)) if scope.time is not None else unranged
    events = whole.events[mask].reset_index(drop=True)
    pending = whole.info_pending
    seed_events(capture, events)
    if unranged is not capture:
        seed_events(unranged, whole.events[unr].reset_index(drop=True))
    times = whole.times[unr] if scope.time is not None else event_times(events)
    return ScopeData(scope, capture, events, None, times, span, unranged=unranged, info_pending=pending,
                     syscalls_cut=(whole.syscalls, mask))


def build_scope(base: Capture, scope: Scope, span: tuple[int, int] | None, *, expected: int | None = None,
                progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
                whole: ScopeData | None = None) -> ScopeData:
    """Narrow ``base`` to ``scope`` and compute its events and syscall list (the overview tiles: when
    ``whole`` is None, otherwise on first use of ``ScopeData.metrics``).

    ``span`` is the whole capture's ``(first, last)`` event time; None takes it from the events (use
    that for the unfiltered capture). ``whole`` (the unfiltered scope, once loaded) lets filters on
    the events frame's columns and time ranges be cut out of its frames instead of replaying the file.
    Raises FilterError (ValueError) for a bad filter, scope.FilterUnavailable when filtering is not
    possible yet, compute.Cancelled when ``cancelled()`` turns true.
    """
    t = time.monotonic()
    if whole is not None and span is not None and not whole.scope.filter and whole.scope.time is None:
        masks = _frame_masks(base, whole, scope)
        if masks is not None:
            data = _sliced(base, whole, scope, masks, span)
            data.seconds = time.monotonic() - t
            return data
    nar = narrow(base, scope)
    events, syscalls, pending = load_frames(nar.capture, expected=expected, progress=progress,
                                            cancelled=cancelled)
    times = event_times(nar.unranged.events) if scope.time is not None else event_times(events)
    if span is None:
        real = times[times > 0]            # 0 is "no timestamp" (some metadata-like events carry it)
        span = (int(real.min()), int(real.max())) if len(real) else (0, 0)
    data = ScopeData(scope, nar.capture, events, syscalls, times, span, unranged=nar.unranged,
                     info_pending=pending)
    if whole is None:
        data.compute_metrics()      # the first load: the Overview tab shows first, its tiles come with it
    data.seconds = time.monotonic() - t
    return data


def compute_tab(data: ScopeData, tab: str) -> TabResult:
    """The table of ``tab`` for a loaded scope (never raises: failures become a note)."""
    t = time.monotonic()
    if tab == "syscalls":
        return TabResult("ready", data.syscalls)
    spec = TAB_BY_ID.get(tab)
    if tab.startswith(VIEWS_TAB + ":"):
        spec = view_spec(tab.split(":", 1)[1], tab)
    try:
        if spec is None:
            raise NotAvailable(f"no tab {tab!r}")
        frame = tab_frame(data.capture, spec)
    except NotAvailable as e:
        return TabResult("unavailable", note=str(e))
    except Exception as e:      # an analysis bug must not take the app down; show it in the tab
        return TabResult("failed", note=f"{type(e).__name__}: {e}")
    return TabResult("ready", frame, seconds=time.monotonic() - t)
