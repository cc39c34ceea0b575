"""What the app's thread workers run: compute, then post a message (never touch a widget here).

Each function takes ``post`` (the app's thread-safe ``post_message``) and the running ``Worker`` (for
its ``is_cancelled`` flag); heavy modules are imported here, in the thread, after the window is up.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from .messages import (
    CaptureOpened,
    InfoProgress,
    LoadFailed,
    LoadProgress,
    MetricsReady,
    ScopeReady,
    ScopeRejected,
    StreamReady,
    TabReady,
)
from .scope import FilterUnavailable, Scope

if TYPE_CHECKING:
    from textual.worker import Worker

    from ..capture import Capture
    from .catalog import TabResult
    from .compute import EventInfo
    from .session import ScopeData

Post = Callable[[Message], object]


class Busy:
    """Counts threads inside a worker body: ``run()`` must not wait for one on quit."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Busy:
        with self._lock:
            self.count += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.count -= 1


class Foreground:
    """Work the user is waiting for (a new scope, the visible tab, the tiles, a followed stream): while
    any runs, background work (the prefetch of hidden tabs, evt.info, table plans) waits at its next
    safe point. Python threads share one interpreter lock, so a filter applied while the prefetch runs
    would otherwise take several times as long."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    def __enter__(self) -> Foreground:
        with self._lock:
            self._count += 1
            self._idle.clear()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def wait(self, cancelled: Callable[[], bool], limit: float = 10.0) -> None:
        """Return once no foreground work runs, ``cancelled()`` turns true, or after ``limit`` seconds
        (background work must not starve for good)."""
        end = time.monotonic() + limit
        while not self._idle.wait(0.05):
            if cancelled() or time.monotonic() > end:
                return


def load(path: str, post: Post, worker: Worker) -> None:
    """Load the capture (its facts come from the load's own walk of the file: a second walk of a big
    file took seconds), post them, then the unfiltered scope."""
    try:
        import os

        from ..capture import Capture
        from .text import human
        base = Capture(path)
        post(LoadProgress(f"reading {human(os.path.getsize(path), 'B')} (framing the events)", 0, None, 0.0,
                          None))
        base.load(_reporter("reading events", post), info=True)
        info = base.info
    except Exception as e:        # missing file, not a capture: say so, the app stays open
        post(LoadFailed(f"{type(e).__name__}: {e}"))
        return
    post(CaptureOpened(base, info))
    build(base, Scope(), None, info.events, "reading events", post, worker)


def _reporter(phase: str, post: Post) -> Callable[[int, int | None], None]:
    """A progress(done, total) that posts LoadProgress with the rate and the time left."""
    start = time.monotonic()

    def progress(done: int, total: int | None) -> None:
        el = time.monotonic() - start
        rate = done / el if el > 0 else 0.0
        eta = (total - done) / rate if total and rate and total > done else None
        post(LoadProgress(phase, done, total, rate, eta))
    return progress


def build(base: Capture, scope: Scope, span: tuple[int, int] | None, expected: int | None, phase: str,
          post: Post, worker: Worker, whole: ScopeData | None = None, show: str | None = None) -> None:
    """Load one scope (session.build_scope) with progress; a bad filter becomes ScopeRejected.

    ``show``: the tab the scope will be shown on (a tab key, or "overview"); its table (or the overview
    tiles) is computed here too, before the scope is posted, so the screen changes once, from the old
    table to the new one (a separate tab worker would have it drawn as "computing..." first)."""
    from .compute import Cancelled
    from .session import build_scope
    try:
        data = build_scope(base, scope, span, expected=expected, progress=_reporter(phase, post),
                           cancelled=lambda: worker.is_cancelled, whole=whole)
    except Cancelled:
        return
    except FilterUnavailable as e:
        post(ScopeRejected(scope.key, str(e), 0))
        return
    except ValueError as e:            # FilterError and friends; columns only mean something alone
        post(ScopeRejected(scope.key, str(e), getattr(e, "column", 0) if not scope.drills else 0))
        return
    except Exception as e:
        post(ScopeRejected(scope.key, f"{type(e).__name__}: {e}", 0))
        return
    key = "syscalls" if show is None else show      # (the load: the Syscalls list shows as it lands)
    if key == "overview":
        data.compute_metrics()
    elif key == "syscalls" and data.info_pending:
        data.cut_syscalls()             # (here, not on screen; the app adds the evt.info still to come)
    elif (key == "syscalls" or not worker.is_cancelled) and key not in data.tabs:
        data.tabs[key] = _table(data, key)
    post(ScopeReady(scope.key, data))


def tabs(data: ScopeData, keys: list[str], post: Post, worker: Worker, yield_to: Foreground | None = None) -> None:
    """Compute tab tables one after the other (skipping those already there); in the background
    (``yield_to``), each waits while foreground work runs."""
    for key in keys:
        if yield_to is not None:
            yield_to.wait(lambda: worker.is_cancelled)
        if worker.is_cancelled:
            return
        if key not in data.tabs:
            post(TabReady(data.key, key, _table(data, key)))


def _table(data: ScopeData, key: str) -> TabResult:
    """The table of tab ``key`` (session.compute_tab) with its plan made: widths measured here, in the
    worker, not when the tab is shown."""
    from .session import compute_tab
    from .tabs import prepare
    result = compute_tab(data, key)
    prepare(result)
    return result


def metrics(data: ScopeData, pinned: bool, post: Post) -> None:
    """A scope's overview tiles (and, ``pinned`` under a time range, those the timeline draws)."""
    data.compute_metrics(pinned)
    post(MetricsReady(data.key))


def follow(data: ScopeData, key: str, post: Post) -> None:
    """The whole conversation of one stream, for the I/O Streams tab's Follow."""
    from .payloads import follow_chunks
    try:
        chunks, err = follow_chunks(data.capture.stream_payloads(key)), None
    except (ImportError, NotImplementedError, AttributeError) as e:
        chunks, err = [], f"Follow is not available yet ({e})"
    except Exception as e:
        chunks, err = [], f"{type(e).__name__}: {e}"
    post(StreamReady(data.key, key, chunks, err))


def event_info(info: EventInfo, post: Post, worker: Worker, yield_to: Foreground | None = None) -> None:
    """Render the Syscalls list's evt.info in the background, posting progress as it goes (pausing
    while ``yield_to`` has foreground work)."""
    def cancelled() -> bool:
        if yield_to is not None and yield_to.busy:
            yield_to.wait(lambda: worker.is_cancelled)
        return worker.is_cancelled
    if info.fill(cancelled, lambda done: post(InfoProgress(done))):
        post(InfoProgress(info.filled, complete=True))
