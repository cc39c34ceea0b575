"""The Textual TUI: pure helpers (escaping, overview metrics, drill filters) and Pilot tests that drive the
real app on shared captures and compare what each tab shows with the Capture API."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scapinspect.capture import Capture
from scapinspect.views.catalog import TAB_BY_ID
from scapinspect.views.compute import (
    PENDING,
    SYSCALL_COLUMNS,
    EventInfo,
    drill_for,
    histogram,
    load_frames,
    rebin,
)
from scapinspect.views.frames import cell_text, column_text, find_mask, sort_order
from scapinspect.views.overview import overview
from scapinspect.views.scope import DrillStep, Scope, quote
from scapinspect.views.text import markup_safe, visible

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"
CURL = CAPTURES / "curl_google.scap"
E502 = CAPTURES / "502Error.scap"
SIZE = (120, 40)
EVIL = "\x1b]0;pwned\x07"

needs_curl = pytest.mark.skipif(not CURL.exists(), reason="shared capture curl_google.scap not present")
needs_502 = pytest.mark.skipif(not E502.exists(), reason="shared capture 502Error.scap not present")


@pytest.fixture(autouse=True)
def _utc(utc):
    """Times on screen are local time: pin the zone (conftest's ``utc``) so snapshots and text checks
    are stable."""


@pytest.fixture(scope="module")
def curl() -> Capture:
    if not CURL.exists():
        pytest.skip("shared capture curl_google.scap not present")
    return Capture(str(CURL))


def hostile_capture(path: Path) -> Path:
    """A tiny 0.29-style capture whose process name, host name, file name and payload carry terminal
    escape sequences (title change, screen clear, colour, OSC 52 clipboard write)."""
    from scapinspect.parsers import metadata as md
    from scapinspect.parsers.eventtable import v0293
    from scapinspect.parsers.writer import ScapWriter, encode_event

    table = v0293()
    ts = 1_700_000_000_000_000_000
    with ScapWriter(path) as w:
        w.write_metadata(machine=md.MachineInfo(2, 1 << 30, 32768, "host\x1b[31mred"),
                         threads=[md.ThreadEntry(tid=100, pid=100, ptid=1, comm=EVIL, exe=EVIL,
                                                 exepath="/usr/bin/evil", args=["\x1b[2J"], cwd="/tmp/",
                                                 uid=0, gid=0)], legacy_tail=True)
        events = [
            (2, {"name": "/tmp/\x1b[2Jclear", "flags": 0, "mode": 0}),
            (3, {"fd": 3, "name": "/tmp/\x1b[2Jclear", "flags": 0, "mode": 0, "dev": 0}),
            (8, {"fd": 3, "size": 12}),
            (9, {"res": 12, "data": b"\x1b]52;c;AAAA\x07"}),
        ]
        for k, (etype, values) in enumerate(events):
            w.write_event(ts + k * 1000, 100, 0, etype, encode_event(etype, table=table, **values))
    return path


# -- pure helpers ------------------------------------------------------------------------------------
def test_visible_escapes_control_and_bidi_characters():
    assert visible(EVIL) == "\\x1b]0;pwned\\x07"
    assert visible("a\tb\nc\r") == "a\\tb\\nc\\r"
    assert visible("x\u202ey\u2066") == "x\\u202ey\\u2066"
    assert visible("bad\udcffbyte") == "bad\\xffbyte"
    assert visible("\x9b31m") == "\\x9b31m"
    assert visible("plain é ü 漢") == "plain é ü 漢"
    assert markup_safe("[bold]x\x1b") == "\\[bold]x\\x1b"


def test_cells_are_escaped_and_column_text_agrees():
    s = pd.Series([EVIL, "ok", None], dtype=object)
    assert [cell_text(v) for v in s] == ["\\x1b]0;pwned\\x07", "ok", ""]
    assert list(column_text(s)) == ["\\x1b]0;pwned\\x07", "ok", ""]
    cat = pd.Series(pd.Categorical([EVIL, "ok", EVIL]))
    assert list(column_text(cat)) == ["\\x1b]0;pwned\\x07", "ok", "\\x1b]0;pwned\\x07"]
    assert cell_text(b"\x1b[2Jhi") == ".[2Jhi"


def test_quote_round_trips_through_the_filter_parser():
    from scapinspect.filters import parse
    for value in ['/tmp/a b', 'say "hi"', "back\\slash", "ctl\x01\x1b", "tab\there"]:
        node = parse(f"fd.name={quote(value)}")
        assert node.value == value
    assert quote(17497) == "17497"
    assert quote(np.int64(3)) == "3"


def test_scope_combines_filters_and_normalises_empty_drills():
    s = Scope("proc.name=curl").push(DrillStep("syscalls", "proc.pid=1", "p"))
    assert s.filter == "(proc.name=curl) and (proc.pid=1)"
    assert Scope().push(DrillStep("processes", "", "tile")).key == Scope().key
    assert s.pop().filter == "proc.name=curl"


def test_histogram_and_rebin():
    t = np.array([0, 1, 2, 9, 10], dtype=np.int64)
    assert histogram(t, 0, 10, 2).tolist() == [3.0, 2.0]
    assert histogram(t, 0, 10, 1).tolist() == [5.0]
    assert rebin(np.array([1.0, 2, 3, 4]), 2).tolist() == [3.0, 7.0]
    assert rebin(np.array([1.0, 5, 3, 4]), 2, "max").tolist() == [5.0, 4.0]
    assert len(rebin(np.array([1.0, 2]), 5)) == 5


@needs_curl
def test_load_frames_cuts_the_syscall_list_from_the_fast_frame_and_fills_evt_info_after(curl):
    fresh = Capture(str(CURL))
    events, syscalls, pending = load_frames(fresh)
    assert pending and fresh.fast_loaded
    pd.testing.assert_frame_equal(events, curl.events)
    assert fresh.events is events
    assert syscalls["evt.info"].isna().all()
    info = EventInfo(fresh)
    get = info.getter(syscalls)
    assert get(0) == PENDING
    assert info.fill()
    assert get(0) != PENDING
    info.apply(syscalls)
    pd.testing.assert_frame_equal(syscalls, curl.fields(SYSCALL_COLUMNS))
    # a narrowed list finds its rows by evt.num
    part = syscalls.iloc[5:9].reset_index(drop=True)
    assert [info.getter(part)(i) for i in range(4)] == part["evt.info"].tolist()


@needs_curl
def test_load_frames_replays_once_when_the_fast_loader_cannot(curl, monkeypatch):
    fresh = Capture(str(CURL))
    monkeypatch.setattr(Capture, "fast_loaded", property(lambda self: False))
    events, syscalls, pending = load_frames(fresh)
    assert not pending
    pd.testing.assert_frame_equal(events, curl.events)
    pd.testing.assert_frame_equal(syscalls, curl.fields(SYSCALL_COLUMNS))
    assert fresh.events is events          # left in the cache: no second replay


@needs_curl
def test_overview_metrics_agree_with_the_events_frame(curl):
    ev = curl.events
    tiles = {m.name: m for m in overview(ev)}
    assert tiles["System Calls"].total == len(ev)
    assert tiles["Running Processes"].total == ev["proc.pid"].nunique()
    assert tiles["System Calls"].timeline.sum() == len(ev)
    ok = (ev["evt.dir"] == "<") & (ev["evt.rawres"].fillna(-1) >= 0)
    net_in = ok & ev["fd.type"].isin(["ipv4", "ipv6"]) & ev["evt.type"].isin(["read", "recvfrom", "recvmsg",
                                                                             "readv", "recv", "pread"])
    assert tiles["Net Bytes In"].total == ev.loc[net_in, "evt.buflen"].fillna(0).sum()
    assert tiles["Failed System Calls"].total == int(ev["evt.failed"].fillna(False).sum())
    cats = ev["evt.category"].value_counts()
    for name, n in cats.items():
        if n:
            assert tiles[str(name)].total == n


@needs_curl
def test_drill_filters_select_the_row(curl):
    from scapinspect.views.compute import _frame
    procs = _frame(_view_frame(curl, "procs"), TAB_BY_ID["processes"])
    target, expr, label = drill_for(TAB_BY_ID["processes"], procs, 0)
    assert target == "syscalls" and expr == f"proc.pid={int(procs['PID'].iloc[0])}"
    conns = _frame(_view_frame(curl, "connections"), TAB_BY_ID["connections"])
    target, expr, _ = drill_for(TAB_BY_ID["connections"], conns, 0)
    assert target == "io_streams" and expr.startswith('fd.name="') and "->" in expr
    assert len(curl.filter(expr).events) > 0


@needs_502
def test_scopes_cut_from_the_frames_equal_a_replay():
    """Filters and time ranges are cut out of the loaded frames; the result must be what replaying the
    capture through Capture.filter / Capture.between gives."""
    from scapinspect.views.session import build_scope
    cap = Capture(str(E502))
    whole = build_scope(cap, Scope(), None)
    t0 = whole.span[0]
    scopes = [Scope("proc.name=curl"), Scope("evt.type=connect and evt.dir=<"),
              Scope("fd.sport=80"),                          # not in the events frame: one extra pass
              Scope(time=(t0 + 10**9, t0 + 3 * 10**9)),
              Scope("proc.name=curl", time=(t0 + 10**9, t0 + 3 * 10**9))]
    for scope in scopes:
        fast = build_scope(cap, scope, whole.span, whole=whole)
        slow = build_scope(Capture(str(E502)), scope, whole.span)
        pd.testing.assert_frame_equal(fast.events.astype(object), slow.events.astype(object))
        pd.testing.assert_frame_equal(fast.syscalls.astype(object), slow.syscalls.astype(object))
        assert np.array_equal(fast.times, slow.times)
        assert [m.total for m in fast.metrics] == [m.total for m in slow.metrics]
        assert len(fast.capture.events) == len(slow.events)


def test_find_and_sort_helpers():
    f = pd.DataFrame({"n": pd.array([3, 1, None, 2], dtype="Int64"),
                      "s": pd.Categorical(["bb", "a", "CC", "a"]), "o": ["x", "yy", "z", EVIL]})
    assert sort_order(f, "n", False).tolist() == [1, 3, 0, 2]
    assert sort_order(f, "n", True).tolist() == [0, 3, 1, 2]
    assert sort_order(f, "s", False).tolist() == [1, 3, 0, 2]
    assert find_mask(f, ["s", "o"], "c+").tolist() == [False, False, True, False]
    assert find_mask(f, ["s", "o"], "[").tolist() == [False, False, False, False]   # bad regex: substring
    assert find_mask(f, ["o"], "pwned").tolist() == [False, False, False, True]


def _view_frame(cap, name):
    try:
        from scapinspect.analyzers.views import view_frame
    except ImportError:
        pytest.skip("scapinspect.analyzers.views not available yet")
    return view_frame(cap, name)


# -- the app ---------------------------------------------------------------------------------------
def make(path) -> object:
    from scapinspect.views.app import make_app
    return make_app(str(path))


async def settle(pilot, rounds: int = 200) -> None:
    """Wait until no worker runs and every message they posted is handled."""
    from textual.worker import WorkerState
    app = pilot.app
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            await pilot.pause()
            if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
                return
    raise AssertionError("the app did not settle")


def rows(app, tab: str) -> int:
    """Rows the table of ``tab`` shows (hidden tabs render when shown, so show it first)."""
    assert app.active_tab == tab, f"show {tab} first"
    return app.tab_widget(tab).table.row_count


async def show(pilot, tab: str) -> None:
    """Switch to ``tab`` with its digit key (the 11th, More views, is k from Overview)."""
    from scapinspect.views.catalog import TABS
    index = [t.id for t in TABS].index(tab)
    if index < 10:
        await pilot.press(str((index + 1) % 10))
    else:
        await pilot.press("1", "k")
    await settle(pilot)


def strip_text(strip) -> str:
    return "".join(seg.text for seg in strip)


def table_text(table) -> list[str]:
    return [strip_text(table.render_line(y)) for y in range(table.scrollable_content_region.height)]


def expected_rows(cap: Capture, tab: str) -> int | None:
    """What the Capture API gives for a tab (None: that analysis has not landed)."""
    try:
        if tab == "syscalls":
            return len(cap.fields(SYSCALL_COLUMNS))
        if tab == "spy_users":
            return len(cap.spy_users())
        if tab == "io_streams":
            return len(cap.io_streams())
        if tab == "http":
            return len(cap.http())
        from scapinspect.analyzers.views import view_frame
        view = {"connections": "connections", "processes": "procs", "files": "files",
                "directories": "directories", "errors": "errors", "views": "threads"}[tab]
        return len(view_frame(cap, view))
    except (ImportError, AttributeError):
        return None


TABLE_TABS = ["spy_users", "connections", "io_streams", "http", "processes", "files", "directories",
              "errors", "syscalls", "views"]


@needs_curl
@pytest.mark.asyncio
async def test_every_tab_populated_with_the_capture_api_row_counts(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = str(app.query_one("#header").render())
        assert "curl_google.scap" in header and "ip-10-0-0-79" in header
        assert f"{curl.info.events:,} events" in header
        tiles = {t.metric.name: t.metric for t in app.overview_tab.tiles}
        assert tiles["System Calls"].total == len(curl.events)
        for tab in TABLE_TABS:
            await show(pilot, tab)
            want = expected_rows(curl, tab)
            widget = app.tab_widget(tab)
            if want is None:
                assert widget.result.state == "unavailable", tab
                assert "not available yet" in widget.note
                assert app.focused is widget.query_one(".tab-note")
            else:
                assert widget.result.state == "ready", (tab, widget.note)
                assert rows(app, tab) == want, tab
                assert app.focused is widget.table
        await show(pilot, "overview")
        assert app.active_tab == "overview"


@needs_curl
@pytest.mark.asyncio
async def test_filter_applied_everywhere_and_history(curl):
    expr = "proc.name=curl and evt.type=connect"
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("0", "s")
        assert app.focused is app.filter_bar.input
        await pilot.press(*expr, "enter")
        await settle(pilot)
        narrowed = curl.filter(expr)
        assert app.scope.user_filter == expr
        assert rows(app, "syscalls") == len(narrowed.events)
        # the tiles are computed when the Overview tab is shown, not with every filter
        assert app.data.metrics_ready() is False
        await show(pilot, "overview")
        tiles = {t.metric.name: t.metric for t in app.overview_tab.tiles}
        assert tiles["System Calls"].total == len(narrowed.events)
        await pilot.press("3")
        await settle(pilot)
        want = expected_rows(narrowed, "connections")
        if want is not None:
            assert rows(app, "connections") == want
        # clear it again, then recall it from the history
        await pilot.press("s", *["backspace"] * len(expr), "enter")
        await settle(pilot)
        assert app.scope.user_filter == ""
        assert rows(app, "connections") == expected_rows(curl, "connections") or want is None
        await pilot.press("s", "up")
        assert app.filter_bar.input.value == expr


@needs_curl
@pytest.mark.asyncio
async def test_filter_rejected_inline_with_the_column(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await show(pilot, "syscalls")
        before = rows(app, "syscalls")
        await pilot.press("/", *"proc.name=curl and proc.nme=x", "enter")
        await settle(pilot)
        err = app.query_one("#filter-error")
        text = str(err.render())
        assert "unknown field 'proc.nme'" in text and "did you mean proc.name" in text
        caret = text.index("^")
        # the caret sits under the 'p' of proc.nme (column 20 of the filter)
        prompt_width = len(" Filter ") + 1
        assert caret == prompt_width + 20 - 1
        assert app.scope.user_filter == "" and rows(app, "syscalls") == before
        await pilot.press("escape")
        assert app.filter_bar.input.value == ""
        assert not app.filter_bar.has_class("-error")


@needs_curl
@pytest.mark.asyncio
async def test_sort_by_keys_and_header_click(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("0")
        await pilot.pause()
        table = app.tab_widget("syscalls").table
        nums = table.frame["evt.num"].astype("int64")
        await pilot.press(">")                        # sort by the first column, numbers descending
        await settle(pilot)
        assert table.sort_column == 0 and table.sort_descending
        assert int(table.frame["evt.num"].iloc[table.position]) == nums.iloc[0]   # cursor kept its row
        assert int(table.frame["evt.num"].iloc[table._order[0]]) == nums.max()
        await pilot.press("o")
        await settle(pilot)
        assert int(table.frame["evt.num"].iloc[table._order[0]]) == nums.min()
        assert "evt.num▲" in table_text(table)[0]
        # click the evt.type header
        x = sum(table._layout.widths[:6]) + 6 + 1
        await pilot.click(table, offset=(x, 0))
        await settle(pilot)
        assert table.columns[table.sort_column] == "evt.type"
        types = [str(table.frame["evt.type"].iloc[p]) for p in table._order]
        assert types == sorted(types)


@needs_curl
@pytest.mark.asyncio
async def test_find_marks_matches_and_moves_between_them(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("0", "f")
        await pilot.press(*"CONNECT", "enter")
        await settle(pilot)
        table = app.tab_widget("syscalls").table
        frame = table.frame
        hit = np.zeros(len(frame), bool)
        for col in frame.columns:
            hit |= frame[col].astype(str).str.contains("connect", case=False).to_numpy()
        assert table.match_count == hit.sum() > 0
        first = int(np.flatnonzero(hit)[0])
        assert table.position == first and app.focused is table
        await pilot.press("n")
        assert table.position == int(np.flatnonzero(hit)[1])
        await pilot.press("N")
        assert table.position == first
        status = str(app.tab_widget("syscalls").query_one(".tab-status").render())
        assert f"{hit.sum()} matches" in status
        await pilot.press("escape")
        assert table.pattern is None and table.match_count == 0


@needs_curl
@pytest.mark.asyncio
async def test_drill_down_into_a_process_and_back(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        if app.tab_widget("processes").result.state != "ready":
            pytest.skip("processes view not available yet")
        await pilot.press("6")
        await settle(pilot)
        table = app.tab_widget("processes").table
        pids = table.frame["PID"].astype("int64").tolist()
        row = pids.index(17497)
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.active_tab == "syscalls"
        assert [d.filter for d in app.scope.drills] == ["proc.pid=17497"]
        crumbs = str(app.query_one("#crumbs").render())
        assert "Syscalls" in crumbs and "proc.pid=17497" in crumbs
        assert rows(app, "syscalls") == len(curl.filter("proc.pid=17497").events)
        # a second level: the syscalls of one thread
        await pilot.press("enter")
        await settle(pilot)
        assert len(app.scope.drills) == 2 and app.scope.drills[1].filter.startswith("thread.tid=")
        await pilot.press("backspace")
        await settle(pilot)
        assert len(app.scope.drills) == 1
        await pilot.press("backspace")
        await settle(pilot)
        assert app.active_tab == "processes" and not app.scope.drills
        await show(pilot, "syscalls")
        assert rows(app, "syscalls") == len(curl.events)
        assert "All events" in str(app.query_one("#crumbs").render())


@needs_curl
@pytest.mark.asyncio
async def test_a_table_being_computed_keeps_the_last_one_on_screen_and_refuses_row_actions(curl):
    """While a tab's table for a new scope is computed, the last table stays (no note swapped in, focus
    stays on it), its status line says so, and Enter does not drill into a row of the old scope."""
    from scapinspect.views.catalog import TabResult
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot, "processes")
        widget = app.tab_widget("processes")
        table = widget.table
        before = rows(app, "processes")
        assert before and app.focused is table
        widget.result = TabResult.loading()
        await pilot.pause()
        assert table.display and app.focused is table and table.row_count == before
        status = str(widget.query_one(".tab-status").render())
        assert "computing" in status and "rows" not in status
        notes = []
        app.notify = lambda message, **kw: notes.append(message)
        await pilot.press("enter")
        await pilot.pause()
        assert not app.scope.drills and app.active_tab == "processes"
        assert notes == ["the table is still being computed"]
        widget.result = app.data.tabs["processes"]           # the table lands
        await pilot.pause()
        assert "rows" in str(widget.query_one(".tab-status").render())
        await pilot.press("enter")
        await settle(pilot)
        assert len(app.scope.drills) == 1


@needs_curl
@pytest.mark.asyncio
async def test_overview_tile_drills_into_its_view(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tile = next(t for t in app.overview_tab.tiles if t.metric.name == "New Outbound Connections")
        tile.focus()
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert app.active_tab == "syscalls"
        assert rows(app, "syscalls") == tile.metric.total == len(curl.filter(tile.metric.filter).events)
        await pilot.press("backspace")
        await settle(pilot)
        assert app.active_tab == "overview"


@needs_curl
@pytest.mark.asyncio
async def test_time_range_narrows_every_tab_and_resets(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        assert app.focused is app.timeline
        await pilot.press(*["right"] * 5, *["shift+right"] * 40, "enter")
        await settle(pilot)
        await show(pilot, "syscalls")
        assert app.scope.time is not None
        t0, t1 = app.scope.time
        ranged = curl.between(t0, t1)
        assert 0 < rows(app, "syscalls") == len(ranged.events) < len(curl.events)
        tiles = {t.metric.name: t.metric for t in app.overview_tab.tiles}
        assert tiles["System Calls"].total == len(ranged.events)
        await show(pilot, "spy_users")
        assert rows(app, "spy_users") == expected_rows(ranged, "spy_users")
        await pilot.press("R")
        await show(pilot, "syscalls")
        assert app.scope.time is None and rows(app, "syscalls") == len(curl.events)


async def pin(pilot, name: str):
    """Focus the overview tile ``name`` and press Space (pins its timeline, or unpins it); the tile."""
    tile = next(t for t in pilot.app.overview_tab.tiles if t.metric.name == name)
    tile.focus()
    await pilot.pause()
    await pilot.press("space")
    await pilot.pause()
    return tile


@needs_curl
@pytest.mark.asyncio
async def test_space_pins_a_tile_timeline(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tile = await pin(pilot, "Net Bytes In")
        assert app.pinned == "Net Bytes In" and app.timeline.label == "Net Bytes In"
        assert tile.has_class("-pinned")
        assert sum(app.timeline.values()) == tile.metric.total
        await pilot.press("space")
        await pilot.pause()
        assert app.pinned is None and app.timeline.label == "events"


@needs_curl
@pytest.mark.asyncio
async def test_a_pinned_timeline_follows_filters_on_other_tabs_and_ignores_the_time_range(curl):
    """The tiles of a filtered scope are computed when seen: a pinned tile's timeline is seen at the
    bottom of every tab, so it follows a filter applied on the Syscalls tab; under a time range it
    still spans the whole capture (the filter only), as Inspect's bottom timelines do."""
    expr = "evt.type=read or evt.type=write"
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pin(pilot, "System Calls")
        assert sum(app.timeline.values()) == len(curl.events)
        await show(pilot, "syscalls")
        await pilot.press("s", *expr, "enter")
        await settle(pilot)
        narrowed = curl.filter(expr)
        assert app.timeline.label == "System Calls"
        assert sum(app.timeline.values()) == len(narrowed.events) < len(curl.events)
        await pilot.press("t", *["right"] * 5, *["shift+right"] * 40, "enter")
        await settle(pilot)
        assert app.scope.time is not None and rows(app, "syscalls") < len(narrowed.events)
        assert sum(app.timeline.values()) == len(narrowed.events)


@needs_curl
@pytest.mark.asyncio
async def test_io_streams_payload_modes_and_follow(curl):
    io = curl.io_streams()
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        tab = app.query_one("#io_streams")
        from textual.widgets import RichLog
        log = tab.query_one(RichLog)

        def shown() -> str:
            return "\n".join(strip_text(line) for line in log.lines)
        assert tab.mode == "dotted" and "Read" in shown()
        await pilot.press("v", "x")
        assert tab.mode == "hex" and "0x0000:" in shown()
        await pilot.press("v", "a")
        assert tab.mode == "ascii"
        await pilot.press("v", "d")
        assert tab.mode == "dotted"
        # follow the HTTP connection: the row that wrote the request
        pos = int(np.flatnonzero(io["data"].map(lambda b: b.startswith(b"GET ")).to_numpy())[0])
        for _ in range(pos):
            await pilot.press("down")
        await pilot.press("F")
        await settle(pilot)
        assert tab.following
        segments = curl.stream_payloads(io["fd.name"].iloc[pos])
        assert len(tab.follow_chunks) == len(segments) > 0
        assert "GET / HTTP/1.1" in shown()
        await pilot.press("escape")
        assert not tab.following


@needs_curl
@pytest.mark.asyncio
async def test_more_views_from_the_list_and_the_command_palette(curl):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot, "views")
        tab = app.views_tab
        assert tab.view_id == "threads" and rows(app, "views") == expected_rows(curl, "views")
        # pick Server Ports in the list
        options = tab.query_one("#view-list")
        options.focus()
        options.highlighted = options.get_option_index("sports")
        await pilot.press("enter")
        await settle(pilot)
        assert tab.view_id == "sports" and tab.spec.title == "Server Ports"
        assert rows(app, "views") == len(_view_frame(curl, "sports"))
        # the command palette reaches every view
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"View: Errors")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.active_tab == "views" and tab.view_id == "errors"
        assert rows(app, "views") == len(_view_frame(curl, "errors"))


@needs_curl
@pytest.mark.asyncio
async def test_help_screen_lists_the_keys():
    from scapinspect.views.help import HelpScreen
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-table").render())
        assert "drill down" in text.lower() or app.screen.query_one("#help-table")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


@needs_curl
@pytest.mark.asyncio
async def test_export_current_table_to_csv(curl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("0", "x")
        await pilot.pause()
    out = tmp_path / "curl_google-syscalls.csv"
    with out.open(newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == SYSCALL_COLUMNS
    assert len(got) - 1 == len(curl.events)


@pytest.mark.asyncio
async def test_hostile_strings_are_escaped_on_screen(tmp_path):
    path = hostile_capture(tmp_path / "evil.scap")
    app = make(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("0")
        await settle(pilot)
        lines = table_text(app.tab_widget("syscalls").table)
        assert any("\\x1b]0;pwned\\x07" in line for line in lines)
        await pilot.press("4")
        await settle(pilot)
        lines += table_text(app.tab_widget("io_streams").table)
        header = str(app.query_one("#header").render())
        assert "host\\x1b[31mred" in header
        screen = [strip_text(s) for s in app.screen._compositor.render_strips()]
        for text in [*lines, header, *screen]:
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
        assert any("\\x1b]0;pwned\\x07" in line for line in screen)


@pytest.mark.asyncio
async def test_missing_file_is_reported_and_quit_works(tmp_path):
    app = make(tmp_path / "nope.scap")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "cannot open" in str(app.query_one("#header").render())
        assert app.tab_widget("syscalls").result.state == "failed"
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


@needs_502
@pytest.mark.asyncio
async def test_502error_at_80x24_every_tab_without_errors():
    app = make(E502)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for k in "1234567890":
            await pilot.press(k)
            await settle(pilot)
            await pilot.press("down", "down", "end", "home")
        await pilot.press("6", "enter")
        await settle(pilot)
        assert app.active_tab == "syscalls" and app.scope.drills
        await pilot.press("backspace")
        await settle(pilot)
        assert not app.scope.drills


# -- snapshots: the screen as text, per main screen -----------------------------------------------------
# Text, not SVG: stable across themes, cursor blink and colour tweaks, readable in a diff, and no
# pytest<9 pin (pytest-textual-snapshot needs syrupy 4.8). Times are pinned to UTC by the `utc` fixture;
# nothing on these screens reads the wall clock. Regenerate with SCAPINSPECT_UPDATE_SNAPSHOTS=1.
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def screen_text(app) -> str:
    return "\n".join(strip_text(s).rstrip() for s in app.screen._compositor.render_strips()) + "\n"


@needs_curl
@pytest.mark.asyncio
@pytest.mark.parametrize("name,keys", [
    ("overview", ()),
    ("syscalls", ("0",)),
    ("io_streams_hex", ("4", "down", "v", "x")),
    ("processes_drilled", ("6", "f", *"^curl -6", "enter", "enter")),
    ("filter_error", ("s", *"proc.nme=curl", "enter")),
    ("time_range", ("t", *["right"] * 10, *["shift+right"] * 30, "enter", "0")),
    ("help", ("question_mark",)),
])
async def test_snapshot(name, keys):
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        for _ in range(2):
            await pilot.wait_for_scheduled_animations()
            await pilot.pause(0.05)
        got = screen_text(app)
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("SCAPINSPECT_UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), f"screen differs from {path} (see the diff above)"


@needs_curl
@pytest.mark.asyncio
async def test_a_focus_message_that_arrives_after_a_tab_switch_does_not_switch_back(curl):
    """The Overview focuses its first tile when the capture has loaded; a digit key pressed before
    that focus message is handled must win (the stale message used to switch back)."""
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show_tab("overview")
        await settle(pilot)
        app.set_focus(None)
        app.overview_tab.focus_first()            # the pane's Focused message is now queued
        app.show_tab("syscalls")                  # and the user switches before it is handled
        await settle(pilot)
        assert app.active_tab == "syscalls"
        assert app.tab_widget("syscalls").table.has_focus


# -- cost of a tab switch and a filter: what is made once and kept ---------------------------------
@needs_curl
@pytest.mark.asyncio
async def test_tab_switches_reuse_the_footer_and_the_measured_tables(curl, monkeypatch):
    """A switch must not rebuild the footer's keys (Textual's Footer recomposes on every focus change)
    nor measure a table again: prefetched tables arrive with their plan, and a scope shown again
    (Backspace, an earlier filter) shows the very same plans."""
    from scapinspect.views import tabs as tabs_module
    from scapinspect.views.header import KeyFooter
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await show(pilot, "syscalls")          # its evt.info may still fill in: measured on screen
        footer = app.query_one(KeyFooter)
        assert {k.key for k in footer.query("FooterKey")} >= {"q", "s", "f", "enter", "backspace"}
        recomposed = []
        orig = KeyFooter.recompose

        async def counted(self):
            recomposed.append(1)
            await orig(self)
        monkeypatch.setattr(KeyFooter, "recompose", counted)
        measured = []
        orig_plan = tabs_module.table_plan
        monkeypatch.setattr(tabs_module, "table_plan", lambda *a, **kw: (measured.append(1),
                                                                          orig_plan(*a, **kw))[1])
        for tab in ["connections", "processes", "syscalls", "overview", "spy_users", "overview"]:
            await show(pilot, tab)
        assert recomposed == []
        assert measured == []
        for tab in TABLE_TABS[:-1]:
            result = app.data.tabs.get(tab)
            if result is not None and result.frame is not None:
                assert result.plan is not None, tab
        await show(pilot, "processes")
        plan = app.tab_widget("processes").table._layout
        assert plan is app.data.tabs["processes"].plan
        await pilot.press("s", *"proc.name=curl", "enter")
        await settle(pilot)
        assert app.tab_widget("processes").table._layout is not plan
        await pilot.press("s", *["backspace"] * len("proc.name=curl"), "enter")
        await settle(pilot)
        assert app.tab_widget("processes").table._layout is plan
        assert footer.query("FooterKey")


@needs_curl
@pytest.mark.asyncio
async def test_overview_tiles_are_updated_in_place_as_filters_change_the_metrics(curl):
    from textual.containers import Grid

    from scapinspect.views.catalog import CATEGORY_ORDER
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ov = app.overview_tab
        calls = next(t for t in ov.tiles if t.metric.name == "System Calls")
        for tab, expr in [("overview", "evt.type=connect"), ("syscalls", "proc.name=curl"),
                          ("overview", "evt.category=net"), ("overview", "")]:
            await show(pilot, tab)
            await pilot.press("s", *["backspace"] * 40, *expr, "enter")
            await settle(pilot)
            assert app.scope.user_filter == expr
            if tab != "overview":       # the tiles follow when the Overview tab is shown
                await show(pilot, "overview")
                await settle(pilot)
            # the whole capture's tiles keep their places; the numbers are the scope's (zero: none)
            metrics = app.data.metrics
            totals = {m.name: m.total for m in metrics}
            assert {m.name for m in metrics} <= {m.name for m in app.whole.metrics}
            want = [m.name for cat in CATEGORY_ORDER for m in app.whole.metrics if m.category == cat]
            assert [t.metric.name for t in ov.tiles] == want, expr
            assert [t.metric.total for t in ov.tiles] == [totals.get(n, 0) for n in want], expr
            assert all(t.has_class("-empty") == (t.metric.total == 0) for t in ov.tiles)
            metrics = app.whole.metrics
            cats = [c for c in CATEGORY_ORDER if any(m.category == c for m in metrics)]
            shown = [w for w in ov.children if w.display]     # (categories a scope lacks: hidden)
            assert [w.name for w in shown[::2]] == cats
            assert all(isinstance(g, Grid) for g in shown[1::2])
            assert calls in ov.tiles                    # the same widget, new numbers
            assert calls.metric.total == len(app.data.events)
        await show(pilot, "overview")
        assert isinstance(app.focused, type(calls))


def test_timeline_histogram_is_computed_once_per_data(monkeypatch):
    from scapinspect.views import compute
    from scapinspect.views.timeline import Timeline
    calls = []
    orig = compute.histogram
    monkeypatch.setattr(compute, "histogram", lambda *a, **kw: (calls.append(1), orig(*a, **kw))[1])
    t = Timeline()
    times = np.arange(1000, dtype=np.int64)
    t.set_events(times, (0, 999), None)
    first = t.values()
    assert t.values() is first and len(calls) == 1
    t.set_events(times.copy(), (0, 999), None)
    t.values()
    assert len(calls) == 2


def test_background_work_waits_while_the_user_waits_for_something():
    import threading

    from scapinspect.views.workers import Foreground
    fg = Foreground()
    done = []
    bg = threading.Thread(target=lambda: (fg.wait(lambda: False), done.append("background")))
    with fg:
        with fg:                                    # nested foreground work: idle only when all end
            bg.start()
            bg.join(0.2)
            assert bg.is_alive() and fg.busy
        bg.join(0.2)
        assert bg.is_alive()
        done.append("foreground")
    bg.join(5)
    assert done == ["foreground", "background"] and not fg.busy
    with fg:                                        # never for good: cancelled, or the time limit
        fg.wait(lambda: True)
        fg.wait(lambda: False, limit=0.1)


@needs_curl
@pytest.mark.asyncio
async def test_tiles_landing_as_the_app_closes_are_dropped_not_raised(curl):
    """q as the capture lands: the overview's tiles arrive for a tab that is no longer mounted (a
    MountError traceback on quit before)."""
    from scapinspect.views.overview import overview
    from scapinspect.views.tabs import OverviewTab
    tab = OverviewTab()
    await tab.watch_metrics(overview(curl.events))
    assert not tab.children
    app = make(CURL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ov = app.overview_tab
        await ov.remove()                            # as the app's shutdown does
        await ov.watch_metrics(app.data.metrics)
        await pilot.press("q")


@pytest.mark.asyncio
async def test_load_bar_tells_events_bytes_rate_and_time_left():
    from textual.app import App

    from scapinspect.views.header import LoadBar

    class Host(App):
        def compose(self):
            yield LoadBar()
    async with Host().run_test() as pilot:
        bar = pilot.app.query_one(LoadBar)
        bar.file_size = 600_000_000
        bar.show("reading 600.0MB (framing the events)", 0, None, 0.0, None)
        assert str(bar.query_one("#load-label").render()) == " reading 600.0MB (framing the events)"
        bar.show("reading events", 250_000, 1_000_000, 500_000.0, 1.5)
        label = str(bar.query_one("#load-label").render())
        assert "event 250,000 of 1,000,000 (~150.0MB of 600.0MB), 500,000 events/s, ETA 2s" in label


def test_a_pending_full_collection_runs_only_while_the_user_is_idle(monkeypatch):
    import time as _time

    from scapinspect.views import app as app_mod
    ran = []
    counts = [(0, 0, 5)]
    monkeypatch.setattr(app_mod.gc, "collect", lambda *a: ran.append(1))
    monkeypatch.setattr(app_mod.gc, "get_count", lambda: counts[0])
    app = make(CURL)
    app._collect_when_idle()                      # still loading (nothing frozen): never
    app._frozen = 1
    app._last_input = _time.monotonic()
    app._collect_when_idle()                      # a key was just pressed
    assert ran == []
    app._last_input -= 2 * app_mod.IDLE_GC
    counts[0] = (0, 0, 1)
    app._collect_when_idle()                      # idle, but nothing piled up
    assert ran == []
    counts[0] = (0, 0, 5)
    app._collect_when_idle()
    assert ran == [1]
