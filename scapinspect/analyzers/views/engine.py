"""Compute a csysdig view over a capture, as ``csysdig -r FILE -v VIEW -j -pc [FILTER]`` does:
fast.py computes the view from the loaded frame when it can, else extract.py replays the capture;
table.py builds the rows, render.py formats them."""
from __future__ import annotations

from dataclasses import dataclass, field

from .definitions import VIEWS, View, get_view
from .extract import THREAD_SERIAL, cpu_values, extract
from .fast import fast_rows
from .fieldinfo import RELTIME, field_type
from .fields import CPU_FIELDS, CPU_TICKS
from .render import format_reltime
from .table import build_rows

PLACEHOLDER = "@#$f1CA^&;"      # what Sysdig Inspect replaces with the selected row's key


@dataclass
class ViewResult:
    """A computed view.

    Attributes:
        view: its definition.
        columns: legend names of the printed columns.
        types: their value types (INT64, UINT32, DOUBLE, RELTIME, CHARBUF, PORT, IPADDR ...).
        rows: cells as csysdig's JSON has them (durations as padded strings, doubles divided).
        keys: the row keys as csysdig prints them ("k").
        info: csysdig's info section (legend, sortingCol, drill-down templates ...).
        time_delta: last minus first event timestamp, in ns.
        numbers: the cells with durations as integer nanoseconds.
        warnings: damage the reader found in the capture.
    """

    view: View
    columns: list[str]
    types: list[str]
    rows: list[list]
    keys: list[str]
    info: dict
    time_delta: int = 0
    numbers: list[list] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def combined_filter(view: View, user_filter: str | None) -> str | None:
    """The table filter: csysdig's ``combine_filters(command-line filter, view filter)``."""
    return _combine((user_filter or "").strip(), view.filter or "") or None


def view_result(cap, name: str, *, filter: str | None = None,  # noqa: A002
                containers: bool = True) -> ViewResult:
    """Compute view ``name`` over ``cap`` (a scapinspect Capture), narrowed by an optional sysdig
    filter; ``containers`` selects csysdig's -pc column set.

    Raises KeyError for an unknown view, FilterError (a ValueError) for a bad filter and ScapError
    for an unreadable capture."""
    view = get_view(name)
    layout = view.layout(containers)
    col_fields = [c.field for c in layout]
    fields = list(dict.fromkeys(f for f in col_fields if f not in CPU_FIELDS))
    uses_cpu = any(f in CPU_FIELDS for f in col_fields)
    flt = combined_filter(view, filter)
    got = fast_rows(cap, view, layout, flt, containers)   # from the loaded frame, when it can
    if got is not None:     # (a capture the fast loader read has no reader warnings)
        (rows, time_delta), warnings = got, []
    else:
        ex = extract(cap, fields, flt, with_cpu=uses_cpu)
        if uses_cpu:
            for f in CPU_FIELDS & set(col_fields):
                ex.values[f] = cpu_values(ex.values[CPU_TICKS], ex.values[THREAD_SERIAL], f)
        rows = build_rows(view, layout, ex.values, ex.count, ex.time_delta, containers)
        time_delta, warnings = ex.time_delta, ex.warnings
    types = [field_type(c.field).type for c in rows.columns]
    shown = [[format_reltime(v) if t == RELTIME else v for v, t in zip(r, types, strict=True)] for r in rows.cells]
    return ViewResult(view, [c.name for c in rows.columns], types, shown, rows.keys,
                      view_info(view, containers, filter), time_delta, rows.cells, warnings)


def compute_view(cap, name: str, *, filter: str | None = None,  # noqa: A002
                 containers: bool = True) -> tuple[list[str], list[list], dict]:
    """(legend names, rows, info) of view ``name`` over ``cap``, as csysdig -j -pc prints them."""
    r = view_result(cap, name, filter=filter, containers=containers)
    return r.columns, r.rows, r.info


def view_info(view: View, containers: bool = True, user_filter: str | None = None) -> dict:
    """csysdig's info section: applies-to list, legend, sorting column and the drill-down filter
    templates (the filter of this view's selected row, and with the drill target's filter added)."""
    info: dict = {"appliesTo": list(view.applies_to), "sortingCol": view.sorting_col(containers)}
    key = view.groupby_column(containers) or view.key_column(containers)
    info["canDrillDown"] = key is not None
    if key is not None:
        info["drillDownKeyField"] = key.field
        user = (user_filter or "").strip()
        target = drill_target(view, key.field)
        if target is not None:
            step = f'{key.field}="{PLACEHOLDER}"'
            noview = _combine(user, f"({view.filter}) and {step}" if view.filter else step)
            info["filterTemplate"] = noview
            info["filterTemplateF"] = _combine(noview, target.filter or "")
        else:
            info["filterTemplate"] = user
            info["filterTemplateF"] = _combine(user, view.filter or "")
    info["legend"] = [{"format": field_type(c.field).fmt, "name": c.name, "size": c.size,
                       "type": field_type(c.field).type} for c in view.visible(containers)]
    return info


def drill_target(view: View, key_field: str) -> View | None:
    """The view a drill-down from ``view`` opens: its drilldown_target, else the first view by name
    that applies to the key field (csysdig's fallback)."""
    if view.drilldown_target in VIEWS:
        return VIEWS[view.drilldown_target]
    for v in sorted(VIEWS.values(), key=lambda v: v.name):
        if key_field in v.applies_to:
            return v
    return None


def _combine(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    return f"({a}) and ({b})"
