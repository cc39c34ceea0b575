"""csysdig views (the tables Sysdig Inspect shows) computed over a capture.

    from scapinspect.analyzers.views import compute_view, view_frame, VIEWS
    columns, rows, info = compute_view(cap, "procs")
    frame = view_frame(cap, "connections", filter="proc.name=curl")
"""
from __future__ import annotations

from . import fields as _fields
from .definitions import VIEWS, Column, View, get_view
from .engine import ViewResult, combined_filter, compute_view, view_result
from .frame import view_frame
from .render import document_lines, format_double, format_reltime

_fields.register()

__all__ = ["VIEWS", "Column", "View", "ViewResult", "combined_filter", "compute_view", "document_lines",
           "format_double", "format_reltime", "get_view", "view_frame", "view_result"]
