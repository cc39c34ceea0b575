"""Input bars: the sysdig filter (with history and inline errors) and the table find bar."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from .text import visible

PROMPT = "Filter "


class FilterInput(Input):
    """An Input that walks the filter history with up/down."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous filter", show=False),
        Binding("down", "history(1)", "Next filter", show=False),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.history: list[str] = []
        self._at: int | None = None

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            if text in self.history:
                self.history.remove(text)
            self.history.append(text)
        self._at = None

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        at = len(self.history) if self._at is None else self._at
        at = max(0, min(len(self.history), at + step))
        self._at = at
        self.value = self.history[at] if at < len(self.history) else ""
        self.cursor_position = len(self.value)


class FilterBar(Vertical):
    """``s`` or ``/``: a sysdig filter for every tab. Enter applies, Esc returns to the table."""

    class Applied(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Dismissed(Message):
        pass

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.applied = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Label(PROMPT, id="filter-prompt")
            yield FilterInput(placeholder="sysdig filter, e.g. proc.name=curl and evt.type=connect  (s or /)",
                              id="filter-input")
        yield Static(id="filter-error")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    def open(self) -> None:
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    def set_applied(self, text: str) -> None:
        """The filter in force; the input shows it unless the user is typing the next one."""
        self.applied = text
        if not self.input.has_focus:
            self.input.value = text
        self.input.remember(text)
        if not self.input.has_focus or self.input.value.strip() == text:
            self.clear_error()

    def show_error(self, message: str, column: int) -> None:
        """The error under the filter, a caret at ``column`` (1-based; 0 = no position)."""
        err = self.query_one("#filter-error", Static)
        t = Text(no_wrap=True, overflow="ellipsis")
        if column > 0:
            pad = 1 + len(PROMPT) + 1 + column - 1 - int(self.input.scroll_offset.x)   # label pad, input pad
            t.append(" " * max(0, pad) + "^ ", "bold red")
        t.append(visible(message), "red")
        err.update(t)
        self.add_class("-error")

    def clear_error(self) -> None:
        if self.has_class("-error"):
            self.query_one("#filter-error", Static).update("")
            self.remove_class("-error")

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(event.value.strip()))

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.has_class("-error") and event.value.strip() == self.applied:
            self.clear_error()

    def key_escape(self) -> None:
        if self.input.value.strip() != self.applied:
            self.input.value = self.applied
        self.clear_error()
        self.post_message(self.Dismissed())


class FindBar(Horizontal):
    """``f``: find text (regex, case-insensitive) in the current table; n / N move between matches."""

    class Find(Message):
        def __init__(self, pattern: str) -> None:
            super().__init__()
            self.pattern = pattern

    class Closed(Message):
        pass

    def compose(self) -> ComposeResult:
        yield Label("Find ", id="find-prompt")
        yield Input(placeholder="regex or text; Enter finds, n/N next/previous, Esc closes", id="find-input")

    def open(self) -> None:
        self.add_class("-open")
        self.query_one(Input).focus()

    def close(self) -> None:
        self.remove_class("-open")

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Find(event.value))

    def key_escape(self) -> None:
        self.query_one(Input).value = ""
        self.close()
        self.post_message(self.Closed())
