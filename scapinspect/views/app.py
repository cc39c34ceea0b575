"""The Textual app: ``inspect capture.scap`` opens a window at once, loads in a worker, fills the tabs.

Threading in one rule: workers compute (``workers``: ``session.build_scope``, ``compute_tab``), messages carry
(``messages``), handlers here mutate widgets. A scope (filter, drill-down path, time range) is loaded
once and kept, so Backspace and earlier filters come back instantly.
"""
from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from . import workers
from .bars import FilterBar, FindBar
from .catalog import TABS, VIEWS_TAB, TabResult, view_tab_key
from .commands import InspectCommands
from .header import Breadcrumbs, CaptureHeader, KeyFooter, LoadBar
from .help import HelpScreen
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
from .scope import DrillStep, FilterUnavailable, Scope, check_filter
from .tabs import OverviewTab, StreamsTab, TableTab, Tabs, Tile, ViewsTab
from .text import markup_safe, visible
from .timeline import Timeline

if TYPE_CHECKING:
    from ..capture import Capture
    from .compute import EventInfo
    from .session import ScopeData

# numpy, pandas and the capture reader load in the first worker, after the window has painted

KEEP_SCOPES = 16
IDLE_GC = 1.0              # seconds without input after which a pending full garbage collection runs
TITLES = {t.id: t.title for t in TABS}


class InspectApp(App[None]):
    """Sysdig Inspect in a terminal."""

    CSS_PATH = "app.tcss"
    TITLE = "scapinspect"
    COMMANDS = App.COMMANDS | {InspectCommands}
    AUTO_FOCUS = None          # not the filter input: q must quit until the user asks to type
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Keys"),
        Binding("s", "filter", "Filter"),
        Binding("slash", "filter", "Filter", show=False),
        Binding("f", "find", "Find"),
        Binding("enter", "drill", "Drill down"),
        Binding("escape", "close_find", "Close find", show=False),
        Binding("backspace", "back", "Back"),
        Binding("e", "row_to('io_streams')", "I/O of row", show=False),
        Binding("d", "row_to('syscalls')", "Syscalls of row", show=False),
        Binding("x", "export", "CSV"),
        Binding("t", "timeline", "Time range"),
        Binding("R", "reset_range", "Reset range", show=False),
        Binding("space", "pin", "Pin timeline", show=False),
        Binding("j", "tab_step(1)", "Next tab", show=False),
        Binding("k", "tab_step(-1)", "Previous tab", show=False),
        *(Binding(str((i + 1) % 10), f"tab({i})", show=False) for i in range(min(10, len(TABS)))),
    ]

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = str(path)
        self.base: Capture | None = None
        self.scope = Scope()               # what the user asked for
        self.data: ScopeData | None = None  # what is on screen
        self.whole: ScopeData | None = None  # the unfiltered capture: other scopes are cut from it
        self.scopes: OrderedDict[tuple, ScopeData] = OrderedDict()
        self.pinned: str | None = None
        self._shown_scope = Scope()
        self._pending: set[tuple] = set()
        self._busy = workers.Busy()
        self._foreground = workers.Foreground()     # what the user waits for; background work yields
        self.event_info: EventInfo | None = None   # the Syscalls list's evt.info, filling in the background
        self._frozen = 0                   # how many times what is alive was frozen (_freeze)
        self._prefetched = False           # the whole capture's tabs are all computed
        self._last_input = time.monotonic()
        self._tiles_of: ScopeData | None = None    # whose metrics the Overview tiles show

    # -- layout --------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield CaptureHeader(self.path, id="header")
        yield LoadBar(id="loadbar")
        yield FilterBar(id="filter")
        yield Breadcrumbs(id="crumbs")
        with Tabs(id="tabs"):
            for spec in TABS:
                with TabPane(spec.title, id=f"tab-{spec.id}"):
                    if spec.id == "overview":
                        yield OverviewTab(id="overview")
                    elif spec.id == "io_streams":
                        yield StreamsTab(spec, id=spec.id)
                    elif spec.id == VIEWS_TAB:
                        yield ViewsTab(spec, id=spec.id)
                    else:
                        yield TableTab(spec, id=spec.id)
        yield FindBar(id="find")
        yield Timeline(id="timeline")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.sub_title = visible(self.path)
        self.set_interval(IDLE_GC, self._collect_when_idle)
        try:
            self.query_one(LoadBar).file_size = os.path.getsize(self.path)
        except OSError:
            pass                            # (the load says what is wrong with the path)
        self._load(self.path)

    # -- typed accessors -----------------------------------------------------------------------------
    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#tabs", TabbedContent)

    @property
    def active_tab(self) -> str:
        return (self.tabs.active or "tab-overview").removeprefix("tab-")

    def tab_widget(self, tab: str) -> TableTab:
        return self.query_one(f"#{tab}", TableTab)

    @property
    def views_tab(self) -> ViewsTab:
        return self.query_one(ViewsTab)

    def result_key(self, tab: str) -> str:
        """Where a tab's result is kept in ScopeData.tabs (More views: one per csysdig view)."""
        return view_tab_key(self.views_tab.view_id) if tab == VIEWS_TAB else tab

    def _widget_for(self, key: str) -> TableTab | None:
        if key.startswith(VIEWS_TAB + ":"):
            return self.views_tab if key == self.result_key(VIEWS_TAB) else None
        return self.tab_widget(key)

    @property
    def overview_tab(self) -> OverviewTab:
        return self.query_one("#overview", OverviewTab)

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    @property
    def find_bar(self) -> FindBar:
        return self.query_one(FindBar)

    # -- workers: threads compute (workers.py), post messages, handlers below mutate -----------------
    @property
    def busy_threads(self) -> int:
        return self._busy.count

    # a description, or Textual builds one from the repr of every argument (frames included)
    @work(thread=True, exclusive=True, group="scope", exit_on_error=False, description="load the capture")
    def _load(self, path: str) -> None:
        with self._busy:
            workers.load(path, self.post_message, get_current_worker())

    @work(thread=True, exclusive=True, group="scope", exit_on_error=False, description="narrow to a scope")
    def _narrow(self, base: Capture, scope: Scope, span: tuple[int, int], whole: ScopeData | None,
                show: str | None = None) -> None:
        with self._busy, self._foreground:
            workers.build(base, scope, span, base.info.events, "filtering", self.post_message,
                          get_current_worker(), whole, show)

    def _compute(self, data: ScopeData, tabs: list[str], group: str, background: bool = False) -> None:
        """Compute ``tabs`` in a worker: for the user (the visible tab), or in the ``background``
        (yielding to the user's work)."""
        def run() -> None:
            with self._busy:
                if background:
                    workers.tabs(data, tabs, self.post_message, get_current_worker(), self._foreground)
                    return
                with self._foreground:
                    workers.tabs(data, tabs, self.post_message, get_current_worker())
        self.run_worker(run, thread=True, group=group, exclusive=True, exit_on_error=False,
                        name=f"{group}: {', '.join(tabs)}")

    def _fill_info(self, info: EventInfo) -> None:
        def run() -> None:
            with self._busy:
                workers.event_info(info, self.post_message, get_current_worker(), self._foreground)
        self.run_worker(run, thread=True, group="event-info", exclusive=True, exit_on_error=False,
                        name="evt.info")

    def _prepare_soon(self, result: TabResult) -> None:
        """Measure a hidden tab's table in the background (a lazy column is still being filled: those
        are measured when shown)."""
        if result.frame is None or result.plan is not None or result.lazy is not None:
            return

        def run() -> None:
            from .tabs import prepare
            with self._busy:
                self._foreground.wait(lambda: False)
                prepare(result)
        self.run_worker(run, thread=True, group="prepare", exit_on_error=False, name="table plan")

    def _metrics(self, data: ScopeData, pinned: bool) -> None:
        def run() -> None:
            with self._busy, self._foreground:
                workers.metrics(data, pinned, self.post_message)
        self.run_worker(run, thread=True, group="metrics", exclusive=True, exit_on_error=False,
                        name="overview tiles")

    def _follow(self, data: ScopeData, key: str) -> None:
        def run() -> None:
            with self._busy, self._foreground:
                workers.follow(data, key, self.post_message)
        self.run_worker(run, thread=True, group="follow", exclusive=True, exit_on_error=False, name="follow")

    # -- handlers (mutate) ---------------------------------------------------------------------------
    def on_capture_opened(self, message: CaptureOpened) -> None:
        self.base = message.capture
        self.query_one(CaptureHeader).set_info(message.info)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one(LoadBar).hide()
        self.query_one(CaptureHeader).set_busy("cannot open: " + message.error)
        for spec in TABS[1:]:
            self.tab_widget(spec.id).result = TabResult("failed", note=message.error)
        self.notify(markup_safe(message.error), title="cannot open the capture", severity="error", timeout=10)

    def on_load_progress(self, message: LoadProgress) -> None:
        self.query_one(LoadBar).show(message.phase, message.done, message.total, message.rate, message.eta)
        if message.phase == "filtering":
            self.query_one(CaptureHeader).set_busy("filtering...")

    def on_scope_ready(self, message: ScopeReady) -> None:
        self.scopes[message.key] = message.data
        self.scopes.move_to_end(message.key)
        while len(self.scopes) > KEEP_SCOPES:
            self.scopes.popitem(last=False)
        first = self.data is None
        if first:
            self.whole = message.data
            self._frozen += 1
            self.call_after_refresh(self._freeze)
            self._list_views()
            if message.data.info_pending and self.base is not None:
                from .compute import EventInfo
                self.event_info = EventInfo(message.data.capture)
                self._fill_info(self.event_info)
        if message.key == self.scope.key:
            self._show(message.data)
            if first:
                self.call_after_refresh(self._focus_tab, self.active_tab)
                self._compute(message.data, [self.result_key(t.id) for t in TABS
                                             if t.source not in ("overview", "syscalls")
                                             and t.id != self.active_tab], "prefetch", background=True)
        elif first and self.base is not None:
            self._show(message.data)
            self._narrow(self.base, self.scope, message.data.span, message.data,
                         self.result_key(self.active_tab))

    def on_scope_rejected(self, message: ScopeRejected) -> None:
        if message.key != self.scope.key:
            return
        self.query_one(LoadBar).hide()
        if self.data is not None:
            self.scope = self._shown_scope
            self._show(self.data)
        self.query_one(CaptureHeader).set_busy("")
        self.filter_bar.show_error(message.error, message.column)

    def on_info_progress(self, message: InfoProgress) -> None:
        """Syscalls cells fill in as evt.info is rendered; at the end every loaded list gets the column."""
        info = self.event_info
        if info is None:
            return
        widget = self.tab_widget("syscalls")
        if message.complete:
            self._frozen += 1
            self.call_after_refresh(self._freeze)
            scopes = list(self.scopes.values())
            if self.whole is not None and self.whole not in scopes:
                scopes.append(self.whole)
            scopes.sort(key=lambda d: d is not self.whole)      # the whole capture's list first
            for data in scopes:
                if data.info_pending:
                    if data.syscalls_ready:
                        info.apply(data.syscalls)
                    data.info_pending = False   # (a list cut later is cut from the whole one: it has it)
                old = data.tabs.get("syscalls")
                if old is not None and old.lazy is not None and not (data is self.data and widget.showing(old)):
                    # not on screen yet: the plain list (its plan made in the background) replaces it
                    data.tabs["syscalls"] = TabResult("ready", data.syscalls)
                    if data is self.data:
                        widget.result = data.tabs["syscalls"]
                        self._prepare_soon(widget.result)
        widget.table.invalidate()

    def _syscalls_result(self, data: ScopeData) -> TabResult:
        lazy = None
        if data.info_pending and self.event_info is not None and not self.event_info.complete:
            lazy = {"evt.info": self.event_info.getter}
        elif data.info_pending and self.event_info is not None:
            self.event_info.apply(data.syscalls)
            data.info_pending = False
        return TabResult("ready", data.syscalls, lazy=lazy)

    def on_tab_ready(self, message: TabReady) -> None:
        self._pending.discard((message.key, message.tab))
        data = self.scopes.get(message.key)
        result = message.result
        if data is not None and message.tab == "syscalls" and data.info_pending:
            result = self._syscalls_result(data)        # evt.info still filling in: its lazy column
        if data is not None:
            data.tabs[message.tab] = result
        widget = self._widget_for(message.tab)
        if widget is not None and self.data is not None and message.key == self.data.key:
            widget.result = result
        if data is not None and data is self.whole and not self._prefetched and all(
                self.result_key(t.id) in data.tabs for t in TABS if t.source not in ("overview", "views")):
            self._prefetched = True
            self._frozen += 1
            self.call_after_refresh(self._freeze)

    def _freeze(self) -> None:
        """Move what is alive now (modules, the loaded capture, the prefetched tables) out of the garbage
        collector's reach: a full collection walks every tracked object, 0.1-0.25 s with a big capture
        loaded, and would land on whatever key the user pressed next. Garbage is collected first (once
        frozen it would stay); done three times (loaded, prefetched, evt.info rendered: each collection
        only walks what the last freeze left; the evt.info column alone is an object array of every
        event that a collection walks item by item), so the frozen objects that later become cyclic
        garbage are few."""
        gc.collect()
        gc.freeze()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _collect_when_idle(self) -> None:
        """A full garbage collection while the user is idle (no key or mouse for IDLE_GC seconds) and
        objects have piled up since the last one: the collector's own full passes would otherwise land
        on a key press (10-20 ms with 1M events loaded, 0.1 s with 10M: what is not frozen, such as the
        filtered scopes' frames, is walked item by item)."""
        if not self._frozen or time.monotonic() - self._last_input < IDLE_GC or gc.get_count()[2] < 2:
            return
        gc.collect()

    def on_stream_ready(self, message: StreamReady) -> None:
        tab = self.query_one(StreamsTab)
        if message.error:
            self.notify(markup_safe(message.error), severity="warning")
            return
        tab.show_follow(message.title, message.sections)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(markup_safe(f"{event.worker.name}: {event.worker.error}"), severity="error",
                        timeout=10)

    def _show(self, data: ScopeData) -> None:
        """Put a loaded scope on screen; the visible tab computes if it has not yet."""
        self.data = data
        self._shown_scope = self.scope if data.key == self.scope.key else data.scope
        self.query_one(LoadBar).hide()
        self.query_one(CaptureHeader).set_scope(len(data.events), data.span)
        self.query_one(Breadcrumbs).show(self._shown_scope, TITLES)
        self.timeline.set_events(data.times, data.span, data.scope.time)
        # the Syscalls list of a filtered scope is cut when that tab is shown (compute_tab, a worker)
        if data.syscalls_ready and ("syscalls" not in data.tabs or data.tabs["syscalls"].lazy is not None):
            data.tabs["syscalls"] = self._syscalls_result(data)
        if self.active_tab != "syscalls" and "syscalls" in data.tabs:
            self._prepare_soon(data.tabs["syscalls"])
        for spec in TABS[1:]:
            self.tab_widget(spec.id).result = data.tabs.get(self.result_key(spec.id)) or TabResult.loading()
        self.filter_bar.set_applied(data.scope.user_filter)
        self._show_metrics(data)
        self._ensure(self.active_tab)

    def _show_metrics(self, data: ScopeData) -> None:
        """The Overview tiles and the pinned timeline of the scope on screen: at once when computed,
        else from a worker, and only while they are seen (the Overview tab, or a pinned tile): a
        filter applied on another tab does not wait for them."""
        pinned = self.pinned is not None
        if data.metrics_ready(pinned):
            if self._tiles_of is not data:
                from .overview import keep_places
                self._tiles_of = data
                whole = self.whole
                self.overview_tab.metrics = data.metrics if whole is None or whole is data or \
                    not whole.metrics_ready() else keep_places(data.metrics, whole.metrics)
            self._repin()
        elif self.active_tab == "overview" or pinned:
            self._metrics(data, pinned)

    def on_metrics_ready(self, message: MetricsReady) -> None:
        if self.data is not None and message.key == self.data.key:
            self._show_metrics(self.data)

    def _ensure(self, tab: str) -> None:
        data = self.data
        key = self.result_key(tab)
        if data is None or tab == "overview" or key in data.tabs or (data.key, key) in self._pending:
            return
        self._pending.add((data.key, key))
        self._compute(data, [key], f"tab-{tab}")

    def _list_views(self) -> None:
        try:
            from ..analyzers.views import VIEWS
        except ImportError as e:
            self.views_tab.result = TabResult("unavailable", note=f"csysdig views not available yet ({e})")
            return
        self.views_tab.set_views([(v.id, v.name, v.description) for v in VIEWS.values()])

    @on(ViewsTab.Chosen)
    def _view_chosen(self, event: ViewsTab.Chosen) -> None:
        if self.data is not None:
            self.views_tab.result = self.data.tabs.get(self.result_key(VIEWS_TAB)) or TabResult.loading()
            self._ensure(VIEWS_TAB)

    def open_view(self, view_id: str) -> None:
        """Show csysdig view ``view_id`` in the More-views tab (command palette)."""
        self.show_tab(VIEWS_TAB)
        self.views_tab.choose(view_id)
        self.views_tab.focus_content()

    def set_scope(self, scope: Scope, tab: str | None = None) -> None:
        """Show ``scope`` (on ``tab``, default the active one): from the cache, or narrowed in a worker
        that computes that tab as well."""
        self.scope = scope
        self.query_one(Breadcrumbs).show(scope, TITLES)
        if scope.key in self.scopes:
            self._show(self.scopes[scope.key])
            return
        if self.base is None or self.data is None:
            return                          # the first load picks it up when done
        self.query_one(CaptureHeader).set_busy("filtering...")
        self._narrow(self.base, scope, self.data.span, self.whole, self.result_key(tab or self.active_tab))

    @on(TabbedContent.TabActivated, "#tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tab = (event.pane.id or "").removeprefix("tab-")
        self.find_bar.close()
        self._render_tab(tab)
        self._ensure(tab)
        if tab == "overview" and self.data is not None:
            self._show_metrics(self.data)
        self.call_after_refresh(self._focus_tab, tab)

    def _focus_tab(self, tab: str) -> None:
        # focusing a widget in a hidden pane would switch TabbedContent to it: only the active tab
        if tab != self.active_tab:
            return
        pane = self.tabs.get_pane(f"tab-{tab}")
        if self.focused is not None and pane not in self.focused.ancestors_with_self:
            # focus left behind in a hidden pane would bring that pane back (Tabs ignores a pane's
            # focus message only while focus is elsewhere); the new pane's widget takes it next
            self.set_focus(None)
        if tab == "overview":
            self.overview_tab.focus_first()
            return
        self.tab_widget(tab).focus_content()

    def show_tab(self, tab: str) -> None:
        """Switch tabs and move focus along at once: a focused widget left in a hidden pane makes the
        screen refocus something there, which would switch straight back."""
        self.tabs.active = f"tab-{tab}"
        self._render_tab(tab)
        self._focus_tab(tab)

    def _render_tab(self, tab: str) -> None:
        if tab != "overview":
            self.tab_widget(tab).render_pending()

    # -- filter, find --------------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.filter_bar.open()

    @on(FilterBar.Applied)
    def _filter_applied(self, event: FilterBar.Applied) -> None:
        text = event.text
        bar = self.filter_bar
        if text:
            try:
                check_filter(text, self.base.compat if self.base is not None else None)
            except FilterUnavailable as e:
                bar.show_error(str(e), 0)
                return
            except ValueError as e:
                msg = getattr(e, "message", str(e))
                hint = getattr(e, "hint", None)
                bar.show_error(msg + (f"; {hint}" if hint else ""), getattr(e, "column", 0))
                return
        bar.clear_error()
        bar.input.remember(text)
        self.set_scope(self.scope.with_filter(text))
        self._focus_tab(self.active_tab)

    @on(FilterBar.Dismissed)
    def _filter_dismissed(self) -> None:
        self._focus_tab(self.active_tab)

    def action_find(self) -> None:
        if self.active_tab != "overview":
            self.find_bar.open()

    @on(FindBar.Find)
    def _find(self, event: FindBar.Find) -> None:
        if self.active_tab == "overview":
            return
        widget = self.tab_widget(self.active_tab)
        widget.table.find(event.pattern)
        widget.table.focus()

    def action_close_find(self) -> None:
        if self.find_bar.has_class("-open"):
            self.find_bar.key_escape()

    @on(FindBar.Closed)
    def _find_closed(self) -> None:
        if self.active_tab != "overview":
            self.tab_widget(self.active_tab).table.clear_find()
        self._focus_tab(self.active_tab)

    # -- drill-down ----------------------------------------------------------------------------------
    def _row_drill(self) -> tuple[str, str, str] | None:
        from .compute import drill_for
        tab = self.active_tab
        if tab == "overview":
            return None
        widget = self.tab_widget(tab)
        pos = widget.table.position
        if widget.result is None or widget.result.frame is None or pos is None:
            return None
        return drill_for(widget.spec, widget.table.frame, pos)

    def _no_row(self, why: str) -> str:
        """Why a row action does nothing: the table on screen is the last scope's while the new one is
        computed (its rows belong to another filter), or there is no row."""
        tab = self.active_tab
        result = None if tab == "overview" else self.tab_widget(tab).result
        return "the table is still being computed" if result is not None and result.state == "loading" else why

    def action_drill(self) -> None:
        focused = self.focused
        if isinstance(focused, Tile):
            m = focused.metric
            self.drill_to(m.target, m.filter or "", m.name)
            return
        target = self._row_drill()
        if target is None:
            self.notify(self._no_row("nothing to drill into here"), severity="warning", timeout=3)
            return
        self.drill_to(*target)

    def action_row_to(self, target: str) -> None:
        focused = self.focused
        if isinstance(focused, Tile):
            self.drill_to(target, focused.metric.filter or "", focused.metric.name)
            return
        found = self._row_drill()
        if found is None:
            self.notify(self._no_row("no row to follow"), severity="warning", timeout=3)
            return
        self.drill_to(target, found[1], found[2])

    def drill_to(self, target: str, expr: str, label: str) -> None:
        step = DrillStep(target, expr, label, origin=self.active_tab)
        self.set_scope(self.scope.push(step), tab=target)
        self.show_tab(target)

    def action_back(self) -> None:
        if not self.scope.drills:
            self.notify("already at the top (no drill-down to go back from)", timeout=3)
            return
        step = self.scope.drills[-1]
        # the tab first: the scope's tables then render without pulling focus back into this one
        self.show_tab(step.origin or "overview")
        self.set_scope(self.scope.pop())

    # -- I/O streams ---------------------------------------------------------------------------------
    def action_follow(self) -> None:
        from .payloads import stream_key
        tab = self.query_one(StreamsTab)
        pos = tab.table.position
        if self.data is None or tab.result is None or tab.result.frame is None or pos is None:
            self.notify("no stream selected", severity="warning", timeout=3)
            return
        key = stream_key(tab.table.frame, pos)
        if key is None:
            self.notify("this table has no stream column to follow", severity="warning", timeout=3)
            return
        self._follow(self.data, key)

    # -- time range ----------------------------------------------------------------------------------
    def action_timeline(self) -> None:
        self.timeline.focus()

    def action_reset_range(self) -> None:
        self.timeline.reset()

    @on(Timeline.RangeSelected)
    def _range(self, event: Timeline.RangeSelected) -> None:
        self.set_scope(self.scope.with_time(event.time_range))

    def action_pin(self) -> None:
        focused = self.focused
        if not isinstance(focused, Tile):
            return
        self.pinned = None if self.pinned == focused.metric.name else focused.metric.name
        if self.data is None:
            self._repin()
        else:
            self._show_metrics(self.data)

    def _repin(self) -> None:
        self.overview_tab.pinned(self.pinned)
        data = self.data
        if self.pinned is None or data is None:
            self.timeline.pin("events", None)
            return
        if not data.metrics_ready(pinned=True):
            return                      # _show_metrics brings them
        m = next((m for m in data.timeline_metrics if m.name == self.pinned), None)
        self.timeline.pin(self.pinned, None if m is None else m.timeline, m.how if m else "sum")

    # -- misc ----------------------------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_tab(self, index: int) -> None:
        if 0 <= index < len(TABS):
            self.show_tab(TABS[index].id)

    def action_tab_step(self, step: int) -> None:
        ids = [t.id for t in TABS]
        self.show_tab(ids[(ids.index(self.active_tab) + step) % len(ids)])

    def action_export(self) -> None:
        tab = self.active_tab
        if tab == "overview":
            self.notify("the overview has no table to export", timeout=3)
            return
        widget = self.tab_widget(tab)
        if widget.result is None or widget.result.frame is None:
            self.notify("nothing to export yet", severity="warning", timeout=3)
            return
        path = export_path(Path.cwd(), Path(self.path).name, tab)
        try:
            n = widget.table.export_csv(path)
        except OSError as e:
            self.notify(markup_safe(str(e)), title="export failed", severity="error")
            return
        self.notify(markup_safe(f"{n:,} rows written to {path}"), title="CSV export")


def export_path(folder: Path, capture_name: str, tab: str) -> Path:
    stem = capture_name.split(".")[0] or "capture"
    path = folder / f"{stem}-{tab}.csv"
    k = 1
    while path.exists():
        path = folder / f"{stem}-{tab}-{k}.csv"
        k += 1
    return path


def make_app(path: str | os.PathLike[str]) -> InspectApp:
    """The app for one capture (shared by the CLI and the tests)."""
    return InspectApp(path)


def run(path: str | os.PathLike[str]) -> int:
    """Run the TUI on ``path`` until the user quits; returns the exit status."""
    app = make_app(path)
    loop = asyncio.new_event_loop()
    try:
        app.run(loop=loop)
    finally:
        code = app.return_code or 0
        if app.busy_threads:
            # an analysis still running in a thread cannot be interrupted: do not wait for it
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
    return code
