"""The window's frame: capture facts, load progress and the breadcrumbs of the drill-down on top, the
keys at the bottom."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, ProgressBar, Static

from .text import date_clock, duration, human, visible

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..capture import CaptureInfo
    from .scope import Scope


class CaptureHeader(Static):
    """File, host, time span, event count and reader warnings (one line, plain text: no markup)."""

    def __init__(self, path: str, **kw) -> None:
        super().__init__(**kw)
        self.path = path
        self.info: CaptureInfo | None = None
        self.shown: int | None = None
        self.span: tuple[int, int] | None = None
        self.filtering = ""

    def on_mount(self) -> None:
        self.update(self._text())

    def set_info(self, info: CaptureInfo) -> None:
        self.info = info
        self.update(self._text())

    def set_scope(self, shown: int, span: tuple[int, int], busy: str = "") -> None:
        self.shown, self.span, self.filtering = shown, span, busy
        self._update()

    def set_busy(self, busy: str) -> None:
        self.filtering = busy
        self._update()

    _shown_text: Text | None = None

    def _update(self) -> None:
        text = self._text()
        old = self._shown_text
        if text == old:
            return
        self._shown_text = text
        # a new layout of the whole screen only when the header may change height (one line to two)
        width = self.content_region.width
        one_line = old is not None and width > 0 and text.cell_len <= width and old.cell_len <= width
        self.update(text, layout=not one_line)

    def _text(self) -> Text:
        t = Text(overflow="ellipsis")
        t.append(visible(os.path.basename(self.path) or self.path), "bold")
        info = self.info
        if info is None:
            if self.filtering:
                t.append("  " + visible(self.filtering), "bold red")
            else:
                t.append("  opening...", "dim")
            return t
        if info.hostname:
            t.append("  host ", "dim")
            t.append(visible(info.hostname))
        if self.span is not None:
            t.append("  ")
            t.append(date_clock(self.span[0]))
            t.append(f" +{duration(self.span[1] - self.span[0])}", "dim")
        if info.warnings:
            t.append("  ⚠ " + visible("; ".join(info.warnings)), "bold yellow")
        t.append(f"  {info.events:,} events", "bold")
        if self.shown is not None:
            t.append(f" ({self.shown:,} shown)", "cyan")
        if self.filtering:
            t.append("  " + visible(self.filtering), "italic yellow")
        return t


class LoadBar(Horizontal):
    """Progress of a load: events and (about) bytes read, rate, ETA. Hidden when idle. ``file_size`` is
    the capture file's size in bytes (0: unknown); the bytes read are estimated from the share of the
    events read."""

    file_size = 0

    DEFAULT_CSS = """
    LoadBar { height: 1; display: none; }
    LoadBar.-busy { display: block; }
    LoadBar > ProgressBar { width: 40; }
    LoadBar > Static { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=None, show_eta=False, show_percentage=True)
        yield Static(id="load-label")

    def show(self, phase: str, done: int, total: int | None, rate: float, eta: float | None) -> None:
        self.add_class("-busy")
        bar = self.query_one(ProgressBar)
        if total:
            bar.update(total=max(total, done), progress=done)
        else:
            bar.update(total=None)
        eta_s = f", ETA {eta:.0f}s" if eta is not None else ""
        size = self.file_size
        read = f" (~{human(size * min(done, total) / total, 'B')} of {human(size, 'B')})" if total and size else ""
        label = f" {phase}" if not done and not total else \
            f" {phase}: event {done:,}{f' of {total:,}' if total else ''}{read}, {rate:,.0f} events/s{eta_s}"
        self.query_one("#load-label", Static).update(Text(label))

    def hide(self) -> None:
        self.remove_class("-busy")


class Breadcrumbs(Static):
    """Where the user is: All events > drill steps, plus the filter and the time range in force."""

    _shown: Text | None = None

    def show(self, scope: Scope, titles: dict[str, str]) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("All events", "bold" if not scope.drills else "")
        for step in scope.drills:
            t.append(" › ", "dim")
            t.append(visible(f"{titles.get(step.tab, step.tab)} ({step.label})"),
                     "bold" if step is scope.drills[-1] else "")
        if scope.drills:
            t.append("   Backspace: back", "dim")
        if scope.user_filter:
            t.append("   filter: ", "dim")
            t.append(visible(scope.user_filter), "cyan")
        if scope.time is not None:
            t.append("   time range set (R resets)", "yellow")
        if t != self._shown:
            self._shown = t
            self.update(t, layout=False)          # one line, whatever it says


class KeyFooter(Footer):
    """Textual's Footer, recomposed only when the keys it shows change.

    Footer rebuilds its ~15 key widgets (mount, CSS, restyle) on every change of focus, a few times per
    tab switch, though our shown keys are the app's and never change: that was most of a switch."""

    _shown: tuple | None = None

    def _keys(self) -> tuple:
        active = self.screen.active_bindings
        keys = tuple((b.key, b.action, b.description, b.key_display, b.group, enabled, tooltip)
                     for _, b, enabled, tooltip in active.values() if b.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return keys, palette[1:] if palette is not None else None, self.compact, self.show_command_palette

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._shown and self.children:
            return
        self._shown = keys
        await self.recompose()
