"""The tabs: a table tab for every analysis, the I/O Streams tab with its payload pane, and Overview.

Tabs never compute: the app assigns ``result`` (or ``metrics``) and the watcher renders it.
"""
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.events import Key
from textual.message import Message
from textual.reactive import reactive
from textual.widget import MountError, Widget
from textual.widgets import OptionList, RichLog, Static, TabbedContent, TabPane
from textual.widgets._tabbed_content import ContentTabs
from textual.widgets.option_list import Option

from .catalog import CATEGORY_ORDER, CATEGORY_TITLES, DEFAULT_VIEW, TabResult, TabSpec, view_spec
from .table import FrameTable, Plan, table_plan
from .text import human, markup_safe, visible
from .timeline import spark_rows

if TYPE_CHECKING:
    from .overview import Metric
    from .payloads import Chunk

MODES = {"d": "dotted", "a": "ascii", "x": "hex"}

TILE_WIDTH = 26


def prepare(result: TabResult) -> Plan | None:
    """The table plan of a result with a frame (made once and kept with it; any thread)."""
    if result.frame is None:
        return None
    if result.plan is None:
        from .compute import shown_columns
        result.plan = table_plan(result.frame, shown_columns(result.frame), result.lazy)
    return result.plan


class Note(Static, can_focus=True):
    """Why a tab has no table (yet); focusable so the keys keep working on that tab."""


class Tabs(TabbedContent):
    """TabbedContent that follows focus only while it is still there: a pane's "something in me got
    focus" message can arrive after the user has already switched tabs (a tile focused as the capture
    finished loading, then a digit key); switching back then would undo the user's choice."""

    def on_mount(self) -> None:
        # the underline jumps to the new tab instead of sliding there for 0.3 s: the slide repaints the
        # tab bar ~20 times, competing with drawing the tab (and the next key) for the one UI thread
        # (a private method of Textual 8: left alone where it is missing or takes other arguments)
        bar = self.query_one(ContentTabs)
        original = getattr(ContentTabs, "_highlight_active", None)
        if original is None or "animate" not in inspect.signature(original).parameters:
            return

        def highlight(animate: bool = True) -> None:
            original(bar, animate=False)
        bar._highlight_active = highlight         # type: ignore[method-assign]

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        # Textual runs this handler of every class up the MRO: prevent_default skips TabbedContent's
        focused = self.app.focused
        if focused is None or event.tab_pane not in focused.ancestors_with_self:
            event.prevent_default()
            event.stop()


class TableTab(Vertical):
    """A status line over a FrameTable, or a note when the analysis is missing or still running."""

    result: reactive[TabResult | None] = reactive(None)

    def __init__(self, spec: TabSpec, **kw) -> None:
        super().__init__(**kw)
        self.spec = spec
        self._pending = True

    def compose(self) -> ComposeResult:
        yield Static(classes="tab-status")
        yield Note(classes="tab-note")
        yield FrameTable()

    @property
    def table(self) -> FrameTable:
        return self.query_one(FrameTable)

    def watch_result(self) -> None:
        self._pending = True
        if self.parent is not None and self.parent.display:
            self.render_pending()

    def showing(self, result: TabResult) -> bool:
        """``result`` is the one on screen (not merely assigned, waiting for the tab to be shown)."""
        return self.result is result and not self._pending

    def render_pending(self) -> None:
        """Show the latest result; hidden tabs wait until they are shown (big tables cost a moment)."""
        if not self._pending:
            return
        self._pending = False
        note = self.query_one(Note)
        had_focus = note.has_focus or self.table.has_focus
        try:
            self._render_result(self.result, note)
        finally:
            # keep focus in this pane as the table and the note swap places, unless the user has
            # switched tabs meanwhile (focus here would bring this pane back)
            if had_focus and getattr(self.app, "active_tab", self.spec.id) == self.spec.id:
                self.focus_content()

    def _render_result(self, result: TabResult | None, note: Note) -> None:
        if result is not None and result.state == "loading" and self.table.display:
            # a new scope's table is on its way: the last one stays (its rows cannot be drilled into,
            # see InspectApp._row_drill) with "computing..." in the status line; swapping in the note
            # would move focus twice and restyle the tab for a table that usually lands ~50 ms later
            self._status()
            return
        if result is None or result.frame is None:
            self.table.display = False
            note.display = True
            text = "waiting for the capture..." if result is None else result.note
            style = {"unavailable": "yellow", "failed": "bold red"}.get(result.state if result else "", "dim")
            note.update(Text(visible(text), style))
            self.set_class(result is not None and result.state == "unavailable", "-unavailable")
            self._status()
            return
        note.display = False
        self.table.display = True
        self.table.show_plan(prepare(result))
        self._status()

    def focus_content(self) -> None:
        """Focus the table, or the note standing in for it."""
        (self.table if self.table.display else self.query_one(Note)).focus()

    @property
    def note(self) -> str:
        r = self.result
        return "" if r is None or r.frame is not None else r.note

    @on(FrameTable.Changed)
    def _table_changed(self, event: FrameTable.Changed) -> None:
        self._status()

    def _status(self) -> None:
        status = self.query_one(".tab-status", Static)
        r = self.result
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(self.spec.title, "bold")
        if r is None or (r.frame is None and not self.table.display):
            status.update(t, layout=False)        # one line, whatever it says
            return
        if r.frame is None:
            t.append(f"  {visible(r.note)}", "dim")
            status.update(t, layout=False)
            return
        table = self.table
        t.append(f"  {table.row_count:,} rows", "cyan")
        if table.sort_column is not None:
            arrow = "▼" if table.sort_descending else "▲"
            t.append(f"  sorted by {visible(table.columns[table.sort_column])} {arrow}")
        if table.pattern is not None:
            t.append(f"  find {visible(table.pattern)!r}: {table.match_count:,} matches (n/N)", "yellow")
        if self.spec.drill is not None:
            t.append("   Enter: drill down", "dim")
        status.update(t, layout=False)


class StreamsTab(TableTab):
    """I/O Streams: the list of reads/writes, and the selected payload (v d / v a / v x, F follows)."""

    BINDINGS = [Binding("F", "follow", "Follow stream", show=False)]
    mode: reactive[str] = reactive("dotted")
    following: reactive[bool] = reactive(False)

    def __init__(self, spec: TabSpec, **kw) -> None:
        super().__init__(spec, **kw)
        self._pending_v = False
        self.follow_title = ""
        self.follow_chunks: list[Chunk] = []

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static(classes="payload-title")
        yield RichLog(classes="payload", wrap=False, markup=False, highlight=False, auto_scroll=False)

    def on_key(self, event: Key) -> None:
        """``v`` then ``d``/``a``/``x`` picks the payload rendering, as in Inspect."""
        if self._pending_v and event.key in MODES:
            self.mode = MODES[event.key]
            self._pending_v = False
            event.stop()
            event.prevent_default()
        elif event.key == "v":
            self._pending_v = True
            event.stop()
            event.prevent_default()
        else:
            self._pending_v = False

    def watch_mode(self) -> None:
        self.show_payload()

    def watch_following(self) -> None:
        self.show_payload()

    @on(FrameTable.Highlighted)
    def _highlighted(self, event: FrameTable.Highlighted) -> None:
        if not self.following:
            self.show_payload()

    def action_follow(self) -> None:
        if self.following:
            self.following = False
        else:
            self.app.action_follow()         # type: ignore[attr-defined]

    def show_follow(self, title: str, chunks: list[Chunk]) -> None:
        self.follow_title, self.follow_chunks = title, chunks
        self.following = True
        self.show_payload()

    def show_payload(self) -> None:
        if not self.is_mounted:
            return
        log = self.query_one(".payload", RichLog)
        title = self.query_one(".payload-title", Static)
        log.clear()
        r = self.result
        if self.following:
            title.update(Text(f"Follow {visible(self.follow_title)} ({self.mode}) - F or Esc returns", "bold"))
            for chunk in self.follow_chunks:
                self._write_chunk(log, chunk)
            return
        pos = self.table.position
        if r is None or r.frame is None or pos is None:
            title.update(Text("payload", "dim"))
            return
        # pandas comes with payloads: not before a table is there (the window paints first)
        from .payloads import row_chunk
        chunk = row_chunk(r.frame, pos)
        if chunk is None:
            title.update(Text("no payload column in this table", "dim"))
            return
        title.update(Text(f"payload ({self.mode}) - v d / v a / v x, F follows the stream", "bold"))
        self._write_chunk(log, chunk)

    def _write_chunk(self, log: RichLog, chunk: Chunk) -> None:
        from .payloads import render
        style = Style(color="green") if chunk.direction == "<" else Style(color="magenta") \
            if chunk.direction == ">" else Style()
        if chunk.header:
            log.write(Text(chunk.header, style + Style(bold=True)))
        for line in render(chunk.raw, self.mode):
            log.write(Text(line, style))
        if chunk.truncated:
            log.write(Text(chunk.truncation_note, "italic yellow"))

    def key_escape(self) -> None:
        if self.following:
            self.following = False


class ViewsTab(TableTab):
    """Every csysdig view the analyzers know, picked from a list as Inspect's VIEWS column."""

    class Chosen(Message):
        def __init__(self, view_id: str) -> None:
            super().__init__()
            self.view_id = view_id

    def __init__(self, spec: TabSpec, **kw) -> None:
        super().__init__(spec, **kw)
        self.view_id = DEFAULT_VIEW
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OptionList(id="view-list")
            with Vertical(id="view-body"):
                yield from super().compose()

    def set_views(self, views: list[tuple[str, str, str]]) -> None:
        """``(id, name, description)`` of each view, listed by name."""
        self.names = {vid: name for vid, name, _ in views}
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(Text(visible(name)), id=vid)
                             for vid, name, _ in sorted(views, key=lambda v: v[1])])
        if self.view_id not in self.names and views:
            self.view_id = views[0][0]
        self.spec = view_spec(self.view_id, self.names.get(self.view_id, self.view_id))
        options.highlighted = options.get_option_index(self.view_id) if self.view_id in self.names else 0

    def choose(self, view_id: str) -> None:
        if view_id not in self.names:
            return
        self.view_id = view_id
        self.spec = view_spec(view_id, self.names[view_id])
        options = self.query_one(OptionList)
        options.highlighted = options.get_option_index(view_id)
        self.post_message(self.Chosen(view_id))

    @on(OptionList.OptionSelected, "#view-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.choose(event.option.id)


class Tile(Widget, can_focus=True):
    """One overview metric: name, total and sparkline."""

    DEFAULT_CSS = """
    Tile { height: 4; border: round $panel-lighten-2; padding: 0 1; }
    Tile:focus { border: round $accent; }
    Tile.-pinned { border: double $warning; }
    Tile.-noteworthy { color: $warning; }
    """

    def __init__(self, metric: Metric, **kw) -> None:
        super().__init__(**kw)
        self.set_metric(metric)

    def set_metric(self, metric: Metric) -> None:
        self.metric = metric
        self.border_title = markup_safe(metric.name)       # border titles are markup
        self.set_class(metric.noteworthy and metric.total > 0, "-noteworthy")
        self.set_class(metric.total == 0, "-empty")
        self.refresh()

    def render(self) -> Text:
        from .compute import rebin
        m = self.metric
        width = max(1, self.size.width)
        t = Text(no_wrap=True, overflow="crop")
        t.append(human(m.total, m.unit), "bold")
        t.append("\n")
        line = spark_rows(rebin(m.timeline, width, m.how), 1)[0]
        t.append(line, "cyan")
        return t


class OverviewTab(VerticalScroll):
    """Inspect's overview: metric tiles grouped by category; Enter drills, Space pins the timeline."""

    BINDINGS = [
        Binding("left", "step(-1, 0)", show=False), Binding("right", "step(1, 0)", show=False),
        Binding("up", "step(0, -1)", show=False), Binding("down", "step(0, 1)", show=False),
    ]
    metrics: reactive[list[Metric] | None] = reactive(None, always_update=True)

    def compose(self) -> ComposeResult:
        yield Static("waiting for the capture...", classes="tab-note")

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._pin: str | None = None

    async def watch_metrics(self, metrics: list[Metric] | None) -> None:
        """New numbers into the tiles in place: a category's grid keeps its Tile widgets (each takes the
        metric at its position); tiles and categories a scope does not have are hidden, not removed,
        and shown again by the next scope that has them (mounting and removing ~45 widgets and their
        CSS on every filter cost tens of ms). The app may be closing meanwhile (q as the capture
        lands): then the tiles are left as they are."""
        if metrics is None or not self.is_attached:
            return
        try:
            await self._show_metrics(metrics)
        except MountError:
            if self.is_attached:                    # (detached: the app is closing)
                raise

    async def _show_metrics(self, metrics: list[Metric]) -> None:
        groups = [(cat, ms) for cat in CATEGORY_ORDER if (ms := [m for m in metrics if m.category == cat])]
        wanted = dict(groups)
        grids = {g.name: g for g in self.query_children(Grid)}
        titles = {t.name: t for t in self.query_children(".category-title")}
        if not grids:
            await self.remove_children()            # the "waiting" note
        focused = self.app.focused
        keep = focused.metric.name if isinstance(focused, Tile) else None
        shown = self.parent is not None and self.parent.display
        hide: list[Widget] = [w for cat, g in grids.items() if cat not in wanted for w in (titles.get(cat), g) if w]
        show: list[Widget] = []
        updates: list[tuple[Tile, Metric]] = []
        added: list[tuple[Grid, list[Tile]]] = []
        for cat, ms in groups:
            grid = grids.get(cat)
            if grid is None:
                continue
            show += [w for w in (titles.get(cat), grid) if w is not None]
            tiles = [t for t in grid.children if isinstance(t, Tile)]
            updates += zip(tiles, ms, strict=False)      # the shorter: extra tiles hide, new ones come
            hide += tiles[len(ms):]
            show += tiles[:len(ms)]
            if len(ms) > len(tiles):
                added.append((grid, [Tile(m) for m in ms[len(tiles):]]))
        if focused is not None and not shown and any(w in focused.ancestors_with_self for w in hide):
            # hiding the focused tile would move focus into this hidden pane and switch to it
            self.screen.set_focus(None)
        for w in hide:
            w.display = False
        for tile, m in updates:
            tile.set_metric(m)
        for w in show:
            w.display = True
        for grid, new in added:
            await grid.mount_all(new)
        prev: Widget | None = None
        for cat in CATEGORY_ORDER:
            grid = grids.get(cat)
            if grid is None and cat in wanted:
                ms = wanted[cat]
                title = Static(Text(CATEGORY_TITLES[cat], "bold"), classes="category-title", name=cat)
                grid = Grid(*(Tile(m) for m in ms), classes="tiles", name=cat)
                if prev is None:
                    await self.mount(title, grid, before=0) if self.children else await self.mount(title, grid)
                else:
                    await self.mount(title, grid, after=prev)
                self._columns(grid)
            prev = grid or prev
        self.pinned(self._pin)
        if self.parent is not None and self.parent.display:
            # shown: keep the focused tile focused, and never leave focus behind in a hidden pane
            # (its pane would take over again when that focus is noticed)
            tiles = self.tiles
            target = next((t for t in tiles if t.metric.name == keep), None)
            inside = self.app.focused is not None and self in self.app.focused.ancestors_with_self
            if target is None and not inside and tiles:
                target = tiles[0]
            if target is not None and target is not self.app.focused:
                self.screen.set_focus(target)

    def on_resize(self) -> None:
        self._columns()

    def _columns(self, grid: Widget | None = None) -> None:
        cols = max(1, (self.size.width - 2) // TILE_WIDTH)
        for g in [grid] if grid is not None else self.query(".tiles"):
            if g.styles.grid_size_columns != cols:
                g.styles.grid_size_columns = cols

    @property
    def tiles(self) -> list[Tile]:
        """The tiles shown (those of metrics the scope does not have are hidden)."""
        return [t for t in self.query(Tile) if t.display and t.parent is not None and t.parent.display]

    def focus_first(self) -> None:
        """Focus the first tile now (not later, as Widget.focus does: by then the user may have
        switched tabs, and focus landing in a hidden pane would switch back to it)."""
        tiles = self.tiles
        if tiles and not isinstance(self.app.focused, Tile):
            self.screen.set_focus(tiles[0])

    def action_step(self, dx: int, dy: int) -> None:
        tiles = self.tiles
        if not tiles:
            return
        cur = self.app.focused
        if not isinstance(cur, Tile) or cur not in tiles:
            tiles[0].focus()
            return
        if dy == 0:
            i = tiles.index(cur) + dx
            tiles[max(0, min(len(tiles) - 1, i))].focus()
            return
        # up/down: the tile whose left edge is nearest in the next row in that direction
        x, y = cur.region.x, cur.region.y
        rows = sorted({t.region.y for t in tiles})
        k = rows.index(y) + dy if y in rows else 0
        if not 0 <= k < len(rows):
            return
        row = [t for t in tiles if t.region.y == rows[k]]
        best = min(row, key=lambda t: abs(t.region.x - x))
        best.focus()
        best.scroll_visible()

    def pinned(self, name: str | None) -> None:
        self._pin = name
        for tile in self.tiles:
            tile.set_class(tile.metric.name == name, "-pinned")
