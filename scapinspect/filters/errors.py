"""The one exception the filter language raises for anything wrong in a filter string."""
from __future__ import annotations


class FilterError(ValueError):
    """A filter string that cannot be parsed, typed or evaluated.

    Args:
        message: what is wrong, one line, without the position.
        column: 1-based character position in the filter string (newlines count as one
            character); 0 when the error has no position (e.g. a frame that lacks a column).
        hint: optional advice appended after the position (``did you mean proc.name?``).

    ``str(err)`` is a single line: ``<message> at column <column>[; <hint>]``.
    """

    def __init__(self, message: str, column: int = 0, hint: str | None = None) -> None:
        self.message = message
        self.column = column
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message if self.column <= 0 else f"{self.message} at column {self.column}"
        if self.hint:
            text += f"; {self.hint}"
        return " ".join(text.split("\n"))

    def __str__(self) -> str:
        return self._render()
