"""Timeline: events over the whole capture as a two-row sparkline, with a time range picked by keys
or mouse. Posts ``Timeline.RangeSelected``; the app narrows every tab to the range."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from .text import duration, human, offset

if TYPE_CHECKING:
    import numpy as np

BLOCKS = " ▁▂▃▄▅▆▇█"


def spark_rows(values: np.ndarray, rows: int = 1) -> list[str]:
    """``values`` as ``rows`` lines of block characters (top line first), scaled to the maximum."""
    import numpy as np
    top = float(values.max()) if len(values) else 0.0
    levels = 8 * rows
    if top <= 0:
        heights = np.zeros(len(values), dtype=int)
    else:
        heights = np.ceil(values / top * levels).astype(int)
        heights[(values > 0) & (heights == 0)] = 1
    out = []
    for r in range(rows - 1, -1, -1):
        part = np.clip(heights - 8 * r, 0, 8)
        out.append("".join(BLOCKS[h] for h in part))
    return out


class Timeline(Widget, can_focus=True):
    """Events per time bucket across the capture; the selected range is highlighted."""

    BINDINGS = [
        Binding("left", "move(-1)", "Earlier", show=False),
        Binding("right", "move(1)", "Later", show=False),
        Binding("shift+left", "extend(-1)", "Extend selection left", show=False),
        Binding("shift+right", "extend(1)", "Extend selection right", show=False),
        Binding("home", "edge(0)", "Start", show=False),
        Binding("end", "edge(1)", "End", show=False),
        Binding("space", "mark", "Mark start/end", show=False),
        Binding("enter", "apply", "Apply range", show=False),
        Binding("escape", "cancel", "Cancel selection", show=False),
        Binding("r", "reset", "Reset range", show=False),
    ]
    DEFAULT_CSS = """
    Timeline { height: 3; background: $panel; }
    Timeline:focus { background: $boost; }
    """

    cursor: reactive[int] = reactive(0)
    anchor: reactive[int | None] = reactive(None)

    class RangeSelected(Message):
        """A range ``[start, end)`` in absolute ns was chosen, or None for the whole capture."""

        def __init__(self, time_range: tuple[int, int] | None) -> None:
            super().__init__()
            self.time_range = time_range

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.span: tuple[int, int] = (0, 0)
        self.times: Any = None                      # event times (numpy int64), None before loading
        self.applied: tuple[int, int] | None = None
        self.label = "events"
        self._series: np.ndarray | None = None     # a pinned metric's timeline over the span
        self._series_how = "sum"
        self._dragging = False
        self._values: tuple[Any, Any, tuple, Any] | None = None

    # -- data --------------------------------------------------------------------------------------
    def set_events(self, times: np.ndarray, span: tuple[int, int], applied: tuple[int, int] | None) -> None:
        self.times, self.span, self.applied = times, span, applied
        self.refresh()

    def pin(self, label: str, series: np.ndarray | None, how: str = "sum") -> None:
        """Plot a metric's timeline (over the whole span) instead of the event count; None unpins."""
        self.label = label if series is not None else "events"
        self._series, self._series_how = series, how
        self.refresh()

    @property
    def columns(self) -> int:
        return max(1, self.size.width)

    def values(self) -> np.ndarray | list[float]:
        if self.times is None:
            return []
        key = (self._series_how, self.span, self.columns)
        cached = self._values
        if (cached is not None and cached[0] is self.times and cached[1] is self._series
                and cached[2] == key):
            return cached[3]            # a histogram of every event: once per data, not per repaint
        from .compute import histogram, rebin
        if self._series is not None:
            out = rebin(self._series, self.columns, self._series_how)
        else:
            out = histogram(self.times, self.span[0], self.span[1], self.columns)
        self._values = (self.times, self._series, key, out)
        return out

    def column_start(self, col: int) -> int:
        t0, t1 = self.span
        return t0 + (t1 - t0 + 1) * col // self.columns

    def column_of(self, t: int) -> int:
        t0, t1 = self.span
        if t1 <= t0:
            return 0
        return int(min(self.columns - 1, max(0, (t - t0) * self.columns // (t1 - t0 + 1))))

    def _selected_columns(self) -> tuple[int, int] | None:
        if self.anchor is not None:
            return min(self.anchor, self.cursor), max(self.anchor, self.cursor)
        if self.applied is not None:
            return self.column_of(self.applied[0]), self.column_of(max(self.applied[0], self.applied[1] - 1))
        return None

    # -- rendering ---------------------------------------------------------------------------------
    def render(self) -> Text:
        width = self.columns
        if self.times is None:
            return Text("timeline: waiting for the capture...", "dim")
        rows = spark_rows(self.values(), rows=max(1, self.size.height - 1))
        sel = self._selected_columns()
        text = Text(no_wrap=True, overflow="crop")
        bar = Style(color="cyan")
        hi = Style(color="black", bgcolor="yellow")
        cur = Style(reverse=True)
        # runs of one style (not a styled append per character: the timeline repaints with the app)
        cuts = {0, len(rows[0]) if rows else 0}
        if sel:
            cuts |= {sel[0], sel[1] + 1}
        if self.has_focus:
            cuts |= {self.cursor, self.cursor + 1}
        edges = sorted(c for c in cuts if 0 <= c <= (len(rows[0]) if rows else 0))
        for line in rows:
            for a, b in zip(edges, edges[1:], strict=False):
                style = hi if sel and sel[0] <= a <= sel[1] else bar
                if self.has_focus and a == self.cursor:
                    style = style + cur
                text.append(line[a:b], style)
            text.append("\n")
        text.append(self._status(width))
        return text

    def _status(self, width: int) -> str:
        t0, t1 = self.span
        total = t1 - t0
        if self.anchor is not None:
            a, b = sorted((self.anchor, self.cursor))
            what = (f"selecting {offset(self.column_start(a) - t0)} .. {offset(self.column_start(b + 1) - t0)}"
                    " - Enter applies, Esc cancels")
        elif self.applied is not None:
            a0, a1 = self.applied
            what = f"range {offset(a0 - t0)} .. {offset(a1 - t0)} ({duration(a1 - a0)}) - R resets"
        elif self.has_focus:
            what = f"at {offset(self.column_start(self.cursor) - t0)} - Space marks, Shift+arrows select"
        else:
            what = "t: select a time range"
        left = f"{self.label} ({human(float(sum(self.values())))}) over {duration(total)}: "
        return (left + what)[:width]

    def watch_cursor(self) -> None:
        self.refresh()

    def watch_anchor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        if self.applied is not None:
            self.cursor = self.column_of(self.applied[0])
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- keys --------------------------------------------------------------------------------------
    def action_move(self, step: int) -> None:
        self.cursor = max(0, min(self.columns - 1, self.cursor + step))

    def action_extend(self, step: int) -> None:
        if self.anchor is None:
            self.anchor = self.cursor
        self.action_move(step)

    def action_edge(self, end: int) -> None:
        self.cursor = self.columns - 1 if end else 0

    def action_mark(self) -> None:
        if self.anchor is None:
            self.anchor = self.cursor
        else:
            self.action_apply()

    def action_apply(self) -> None:
        if self.anchor is None:
            return
        a, b = sorted((self.anchor, self.cursor))
        self.anchor = None
        self.select(self.column_start(a), self.column_start(b + 1))

    def select(self, start: int, end: int) -> None:
        """Choose ``[start, end)``; the whole span counts as no range."""
        if start <= self.span[0] and end > self.span[1]:
            self.reset()
            return
        self.applied = (start, end)
        self.refresh()
        self.post_message(self.RangeSelected(self.applied))

    def action_cancel(self) -> None:
        if self.anchor is not None:
            self.anchor = None
        else:
            self.screen.focus_next()

    def action_reset(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.anchor = None
        if self.applied is not None:
            self.applied = None
            self.refresh()
            self.post_message(self.RangeSelected(None))

    # -- mouse -------------------------------------------------------------------------------------
    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.cursor = max(0, min(self.columns - 1, event.x))
        self.anchor = self.cursor
        self._dragging = True
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            self.cursor = max(0, min(self.columns - 1, event.x))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            if self.anchor is not None and self.anchor != self.cursor:
                self.action_apply()
            else:
                self.anchor = None

    def on_click(self, event: events.Click) -> None:
        if event.chain >= 2:
            self.reset()
