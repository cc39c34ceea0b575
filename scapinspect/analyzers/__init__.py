"""Analyses over a replayed capture: who ran what (spy_users), what went through each fd (io_streams),
connections, HTTP, the overview tiles (summary) and the csysdig views (views).

Names are loaded on first use so that ``import scapinspect.analyzers`` stays cheap.
"""
from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "spy_users_lines": "spy_users", "spy_users_frame": "spy_users", "ChiselError": "spy_users",
    "echo_fds_lines": "io_streams", "io_events_frame": "io_streams", "follow_stream": "io_streams",
    "format_bytes": "io_streams",
    "connections_frame": "connections", "http_frame": "http", "summary": "summary", "timeline": "summary",
}


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{mod}", __name__), name)


__all__ = sorted(_EXPORTS)
