"""FrameTable: a line-API table over a pandas DataFrame that renders only the rows on screen.

One widget for every table of the app, whatever its size (DataTable measures every cell, which does not
scale past ~10^4 rows). Sorting and finding run in thread workers and come back as messages; every
cell goes through ``frames.cell_text`` so nothing from the capture reaches the terminal unescaped.
numpy/pandas are imported when the first frame arrives, so the window paints before they load.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from .text import visible

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_WIDTH = 60            # widest a column gets, except the last one
MAX_LAST = 400
WIDTH_SAMPLE = 400        # rows measured for column widths (head and tail): a tab shows at once


@dataclass(eq=False)
class Plan:
    """How a FrameTable draws one frame: cell getters and column widths, measured once per frame.

    ``table_plan`` builds it (no widget involved: a worker thread can, while the tab is hidden); keep it
    with the frame (``TabResult.plan``) so showing the frame again costs nothing."""
    source: Any                         # the frame as given (identity: which frame this plan is for)
    frame: Any                          # the same rows with a plain 0..n-1 index
    columns: list[str]
    getters: list[Callable[[int], str]]
    widths: list[int]
    numeric: list[bool]
    width: int

    def fits(self, frame: Any, columns: list[str] | None, lazy: dict | None) -> bool:
        return self.source is frame and (columns is None or columns == self.columns) and not lazy


def table_plan(frame: pd.DataFrame, columns: list[str] | None = None, lazy: dict | None = None) -> Plan:
    """The plan to show ``frame``'s ``columns`` (default all); ``lazy`` maps columns still being filled
    elsewhere to a function of the frame giving their cell text by row position."""
    import numpy as np
    import pandas as pd

    from .frames import getter, is_numeric
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    rows_frame = frame if plain else frame.reset_index(drop=True)
    cols = [c for c in (columns or list(rows_frame.columns)) if c in rows_frame.columns]
    lazy = lazy or {}
    getters = [lazy[c](rows_frame) if c in lazy else getter(rows_frame[c]) for c in cols]
    n = len(rows_frame)
    if n > WIDTH_SAMPLE:
        rows = np.r_[0:WIDTH_SAMPLE // 2, n - WIDTH_SAMPLE // 2:n].tolist()
    else:
        rows = list(range(n))
    widths, numeric = [], []
    for k, (c, get) in enumerate(zip(cols, getters, strict=True)):
        cap = MAX_LAST if k == len(cols) - 1 else MAX_WIDTH
        w = max([cell_len(visible(c)) + 2] + [cell_len(get(i)) for i in rows])
        widths.append(min(w, cap))
        numeric.append(is_numeric(rows_frame[c]))
    width = sum(widths) + max(0, len(widths) - 1)
    return Plan(frame, rows_frame, cols, getters, widths, numeric, width)


EMPTY = Plan(None, None, [], [], [], [], 0)


class FrameTable(ScrollView, can_focus=True):
    """A DataFrame on screen: sticky header, cursor row, sort by any column, find, CSV export."""

    COMPONENT_CLASSES = {"frame-table--header", "frame-table--sorted", "frame-table--cursor",
                         "frame-table--cursor-blur", "frame-table--match"}
    DEFAULT_CSS = """
    FrameTable { height: 1fr; background: $surface; }
    FrameTable > .frame-table--header { text-style: bold; background: $panel; color: $text; }
    FrameTable > .frame-table--sorted { text-style: bold underline; background: $panel; color: $accent; }
    FrameTable > .frame-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    FrameTable > .frame-table--cursor-blur { background: $block-cursor-blurred-background; }
    FrameTable > .frame-table--match { background: $warning 35%; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First row", show=False),
        Binding("end", "jump(-1)", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("less_than_sign", "sort_step(-1)", "Sort by previous column", show=False),
        Binding("greater_than_sign", "sort_step(1)", "Sort by next column", show=False),
        Binding("o", "reverse", "Reverse sort", show=False),
        Binding("n", "next_match(1)", "Next match", show=False),
        Binding("N", "next_match(-1)", "Previous match", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        """The cursor moved to frame row ``position`` (None when the table is empty)."""

        def __init__(self, table: FrameTable, position: int | None) -> None:
            super().__init__()
            self.table = table
            self.position = position

    class Activated(Message):
        """A row was double-clicked (Enter is an app binding)."""

        def __init__(self, table: FrameTable, position: int) -> None:
            super().__init__()
            self.table = table
            self.position = position

    class Changed(Message):
        """Sort order or find results changed."""

        def __init__(self, table: FrameTable) -> None:
            super().__init__()
            self.table = table

    class _Sorted(Message):
        def __init__(self, generation: int, column: int, descending: bool, order: np.ndarray) -> None:
            super().__init__()
            self.generation, self.column, self.descending, self.order = generation, column, descending, order

    class _Found(Message):
        def __init__(self, generation: int, pattern: str, mask: np.ndarray) -> None:
            super().__init__()
            self.generation, self.pattern, self.mask = generation, pattern, mask

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._layout = EMPTY                # the plan on screen: frame, cell getters, widths
        self._order: Any = ()               # display row -> frame position (numpy array once set)
        self._rank: np.ndarray | None = None
        self.sort_column: int | None = None
        self.sort_descending = False
        self.pattern: str | None = None
        self._match: np.ndarray | None = None          # per frame position
        self._match_rows: Any = ()          # display rows that match
        self._generation = 0
        self._cache: LRUCache[tuple, Strip] = LRUCache(256)
        self._styles: dict[str, Style] = {}     # rich styles by component ("" = the widget's own)

    # -- data ------------------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame | None:
        """The frame on screen (a plain 0..n-1 index), None before one is."""
        return self._layout.frame

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def columns(self) -> list[str]:
        return self._layout.columns

    @property
    def match_count(self) -> int:
        return len(self._match_rows)

    @property
    def position(self) -> int | None:
        """Frame row (position in ``frame``) under the cursor."""
        return int(self._order[self.cursor]) if self.row_count else None

    def set_frame(self, frame: pd.DataFrame, columns: list[str] | None = None,
                  sort: tuple[str, bool] | None = None, lazy: dict | None = None,
                  plan: Plan | None = None) -> None:
        """Show ``frame`` (its ``columns``, default all), optionally sorted by ``(column, descending)``.

        ``lazy`` maps columns still being filled elsewhere to a function of the frame giving their
        cell text by row position (see ``invalidate``); ``plan`` is ``table_plan``'s for these
        arguments, if already made (else it is made here)."""
        if plan is None or not plan.fits(frame, columns, lazy):
            plan = table_plan(frame, columns, lazy)
        self.show_plan(plan, sort)

    def show_plan(self, plan: Plan, sort: tuple[str, bool] | None = None) -> None:
        """Show the frame of ``plan`` (see ``set_frame``)."""
        import numpy as np
        self._generation += 1
        self._layout = plan
        cols = plan.columns
        self._order = np.arange(len(self.frame), dtype=np.int64)
        self._rank = None
        self.sort_column, self.sort_descending = None, False
        self.pattern, self._match, self._match_rows = None, None, ()
        self._cache.clear()
        self.virtual_size = Size(plan.width, len(self.frame) + 1)
        self.scroll_to(0, 0, animate=False)
        self.cursor = 0
        if sort and sort[0] in cols:
            self.sort_by(cols.index(sort[0]), sort[1])
        self.refresh()
        self.post_message(self.Changed(self))

    def invalidate(self) -> None:
        """Draw the rows again (cells of lazy columns have filled in)."""
        self._cache.clear()
        self.refresh()

    def display_frame(self) -> pd.DataFrame:
        """The table as shown: its columns, in display order."""
        assert self.frame is not None
        return self.frame.iloc[self._order][self._layout.columns]

    # -- rendering -------------------------------------------------------------------------------
    def _style(self, component: str = "") -> Style:
        """The widget's rich style, or a component's; computed once per style change (Textual computes
        ``rich_style`` from every ancestor's background on each call, and a frame draws ~40 lines)."""
        style = self._styles.get(component)
        if style is None:
            style = self._styles[component] = (self.get_component_rich_style(component) if component
                                               else self.rich_style)
        return style

    def render_line(self, y: int) -> Strip:
        sx, sy = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._style()
        if y == 0:
            strip = self._header_strip()
        else:
            row = sy + y - 1
            if row >= self.row_count:
                return Strip.blank(width, base)
            strip = self._row_strip(row)
        return strip.crop_extend(sx, sx + width, base)

    def _cells(self, texts: list[str], style: Style) -> Strip:
        segs: list[Segment] = []
        lay = self._layout
        for k, (t, w) in enumerate(zip(texts, lay.widths, strict=True)):
            if cell_len(t) > w:
                t = set_cell_size(t, w - 1) + "…"
            elif lay.numeric[k]:
                t = " " * (w - cell_len(t)) + t
            else:
                t = set_cell_size(t, w)
            segs.append(Segment(t + (" " if k < len(texts) - 1 else ""), style))
        return Strip(segs, lay.width)

    def _header_strip(self) -> Strip:
        key = ("header", self._generation, self.sort_column, self.sort_descending)
        if key in self._cache:
            return self._cache[key]
        head = self._style("frame-table--header")
        texts = []
        for k, c in enumerate(self._layout.columns):
            mark = ("▼" if self.sort_descending else "▲") if k == self.sort_column else ""
            texts.append(visible(c) + mark)
        strip = self._cells(texts, head)
        if self.sort_column is not None:
            sorted_style = self._style("frame-table--sorted")
            x = sum(self._layout.widths[:self.sort_column]) + self.sort_column
            w = self._layout.widths[self.sort_column]
            strip = Strip.join([strip.crop(0, x), strip.crop(x, x + w).apply_style(sorted_style),
                                strip.crop(x + w)])
        self._cache[key] = strip
        return strip

    def _row_strip(self, row: int) -> Strip:
        is_cursor = row == self.cursor
        pos = int(self._order[row])
        matched = self._match is not None and bool(self._match[pos])
        key = (self._generation, row, is_cursor and self.has_focus, is_cursor, matched)
        if key in self._cache:
            return self._cache[key]
        style = self._style()
        if matched:
            style = style + self._style("frame-table--match")
        if is_cursor:
            style = style + self._style("frame-table--cursor" if self.has_focus else "frame-table--cursor-blur")
        strip = self._cells([g(pos) for g in self._layout.getters], style)
        self._cache[key] = strip
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- cursor ----------------------------------------------------------------------------------
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.row_count - 1)) if self.row_count else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        visible_rows = max(1, self.scrollable_content_region.height - 1)
        sy = self.scroll_offset.y
        if new < sy:
            self.scroll_to(y=new, animate=False)
        elif new >= sy + visible_rows:
            self.scroll_to(y=new - visible_rows + 1, animate=False)
        self.post_message(self.Highlighted(self, self.position))

    def action_move(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(1, self.scrollable_content_region.height - 2)

    def action_jump(self, where: int) -> None:
        self.cursor = 0 if where == 0 else self.row_count - 1

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            col = self._column_at(offset.x + self.scroll_offset.x)
            if col is not None:
                desc = not self.sort_descending if col == self.sort_column else self._layout.numeric[col]
                self.sort_by(col, desc)
            return
        row = self.scroll_offset.y + offset.y - 1
        if 0 <= row < self.row_count:
            self.cursor = row
            if event.chain >= 2 and self.position is not None:
                self.post_message(self.Activated(self, self.position))

    def _column_at(self, x: int) -> int | None:
        start = 0
        for k, w in enumerate(self._layout.widths):
            if start <= x < start + w + 1:
                return k
            start += w + 1
        return None

    # -- sorting ---------------------------------------------------------------------------------
    def sort_by(self, column: int | str, descending: bool = False) -> None:
        """Sort by a column (index or name); the result arrives as a message from a worker."""
        if isinstance(column, str):
            column = self._layout.columns.index(column)
        if not 0 <= column < len(self._layout.columns):
            return
        self._sort_worker(self._generation, column, descending)

    @work(thread=True, exclusive=True, group="sort", exit_on_error=False, description="sort")
    def _sort_worker(self, generation: int, column: int, descending: bool) -> None:
        from .frames import sort_order
        order = sort_order(self.frame, self._layout.columns[column], descending)
        if not get_current_worker().is_cancelled:
            self.post_message(self._Sorted(generation, column, descending, order))

    @on(_Sorted)
    def _apply_sort(self, message: _Sorted) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        import numpy as np
        keep = self.position
        self._order = message.order
        self._rank = None
        self.sort_column, self.sort_descending = message.column, message.descending
        if self._match is not None:
            self._match_rows = np.flatnonzero(self._match[self._order])
        self._generation += 1
        self._cache.clear()
        self.cursor = self._row_of(keep) if keep is not None else 0
        self.refresh()
        self.post_message(self.Changed(self))

    def _row_of(self, position: int) -> int:
        import numpy as np
        if self._rank is None:
            self._rank = np.empty(len(self._order), dtype=np.int64)
            self._rank[self._order] = np.arange(len(self._order))
        return int(self._rank[position])

    def action_sort_step(self, step: int) -> None:
        n = len(self._layout.columns)
        if not n:
            return
        col = (self.sort_column + step) % n if self.sort_column is not None else (0 if step > 0 else n - 1)
        self.sort_by(col, self._layout.numeric[col])

    def action_reverse(self) -> None:
        if self.sort_column is not None:
            self.sort_by(self.sort_column, not self.sort_descending)

    # -- find ------------------------------------------------------------------------------------
    def find(self, pattern: str) -> None:
        """Mark the rows matching ``pattern`` and move to the first at or after the cursor."""
        if not pattern:
            self.clear_find()
            return
        self._find_worker(self._generation, pattern)

    def clear_find(self) -> None:
        self.pattern, self._match, self._match_rows = None, None, ()
        self._cache.clear()
        self.refresh()
        self.post_message(self.Changed(self))

    @work(thread=True, exclusive=True, group="find", exit_on_error=False, description="find")
    def _find_worker(self, generation: int, pattern: str) -> None:
        from .frames import find_mask
        worker = get_current_worker()
        mask = find_mask(self.frame, self._layout.columns, pattern, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(self._Found(generation, pattern, mask))

    @on(_Found)
    def _apply_find(self, message: _Found) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        import numpy as np
        self.pattern, self._match = message.pattern, message.mask
        self._match_rows = np.flatnonzero(message.mask[self._order])
        self._cache.clear()
        if len(self._match_rows):
            after = self._match_rows[self._match_rows >= self.cursor]
            self.cursor = int(after[0] if len(after) else self._match_rows[0])
        self.refresh()
        self.post_message(self.Changed(self))

    def action_next_match(self, step: int) -> None:
        rows = self._match_rows
        if not len(rows):
            return
        if step > 0:
            nxt = rows[rows > self.cursor]
            self.cursor = int(nxt[0] if len(nxt) else rows[0])
        else:
            prv = rows[rows < self.cursor]
            self.cursor = int(prv[-1] if len(prv) else rows[-1])

    # -- export ----------------------------------------------------------------------------------
    def export_csv(self, path: Path) -> int:
        """Write the table as shown (columns, order) to ``path``; returns the row count."""
        from .frames import csv_frame
        frame = csv_frame(self.display_frame())
        frame.to_csv(path, index=False)
        return len(frame)
