"""Command palette (Ctrl+P): every tab, and every csysdig view for the More-views tab."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .catalog import TABS
from .text import visible


class InspectCommands(Provider):
    """``Tab: Processes``, ``View: Threads`` ..."""

    def _commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app = self.app
        for spec in TABS:
            yield f"Tab: {spec.title}", partial(app.show_tab, spec.id), "switch to this tab"  # type: ignore[attr-defined]
        views = getattr(app, "views_tab", None)
        for vid, name in sorted((views.names if views is not None else {}).items(), key=lambda v: v[1]):
            yield f"View: {visible(name)}", partial(app.open_view, vid), f"csysdig view {vid}"  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for text, run, help_text in self._commands():
            yield DiscoveryHit(text, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, run, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, help=help_text)
