"""``?``: every key binding, grouped by where it works."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Anywhere", (
        ("q, Ctrl+C", "quit"),
        ("?", "this help"),
        ("s, /", "sysdig filter for every tab (Enter applies, Up/Down history, Esc back)"),
        ("1..9, 0", "go to tab"),
        ("j / k, Tab", "next / previous tab"),
        ("Backspace", "back one drill-down step"),
        ("t", "timeline: select a time range"),
        ("R", "reset the time range"),
        ("Ctrl+P", "command palette"),
    )),
    ("Tables", (
        ("Up/Down, PgUp/PgDn, Home/End", "move the cursor"),
        ("Left/Right", "scroll sideways"),
        ("Enter, double-click", "drill down into the row"),
        ("e", "I/O streams of the row"),
        ("d", "syscalls of the row"),
        ("< / >, click a header", "sort by the previous / next column"),
        ("o", "reverse the sort"),
        ("f", "find (regex, case-insensitive)"),
        ("n / N", "next / previous match"),
        ("x", "export the table to CSV"),
    )),
    ("Overview", (
        ("arrows", "move between tiles"),
        ("Enter", "drill into the tile's view"),
        ("Space", "pin the tile's timeline at the bottom (again: unpin)"),
    )),
    ("I/O Streams", (
        ("v d", "payload as dotted ASCII"),
        ("v a", "payload as printable ASCII"),
        ("v x", "payload as hex"),
        ("F", "follow: the whole conversation of the stream (F or Esc returns)"),
    )),
    ("Timeline (after t)", (
        ("Left/Right", "move"),
        ("Shift+Left/Right, Space", "select"),
        ("Enter", "apply the range to every tab"),
        ("r", "reset"),
        ("Esc", "cancel / leave"),
        ("mouse drag / double-click", "select / reset"),
    )),
)


def help_table() -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2), expand=True)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for section, rows in KEYS:
        table.add_row(Text(section, "bold underline"), "")
        for keys, what in rows:
            table.add_row(keys, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """The key bindings; any of Esc, ? or q closes it."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close"),
        Binding("q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("scapinspect - keys", "bold"), id="help-title")
            yield Static(help_table(), id="help-table")

    def action_close(self) -> None:
        self.dismiss(None)
