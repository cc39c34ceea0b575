"""What the user is looking at: filter, drill-down path and time range, and the Capture they select.

A ``Scope`` is an immutable value; ``session.narrow(base, scope)`` returns the Captures it selects.
Light: no numpy/pandas/textual here, the app holds Scopes before anything is loaded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from numbers import Integral, Real


class FilterUnavailable(Exception):
    """The filter machinery is not there yet (``scapinspect.filters`` missing parts)."""


@dataclass(frozen=True)
class DrillStep:
    """One step of a drill-down: the tab it opened, the filter it added, the label of the crumb."""
    tab: str
    filter: str
    label: str
    origin: str = ""          # the tab drilled from (Backspace returns there)


@dataclass(frozen=True)
class Scope:
    """Filter typed by the user, drill-down path and time range ``[t0, t1)`` in absolute ns."""
    user_filter: str = ""
    drills: tuple[DrillStep, ...] = ()
    time: tuple[int, int] | None = None

    @property
    def key(self) -> tuple:
        return (self.user_filter, tuple(d.filter for d in self.drills if d.filter.strip()), self.time)

    @property
    def filter(self) -> str:
        """The one filter expression this scope applies (user filter and drill filters, AND-ed)."""
        parts = [p for p in (self.user_filter, *(d.filter for d in self.drills)) if p.strip()]
        if len(parts) == 1:
            return parts[0]
        return " and ".join(f"({p})" for p in parts)

    def with_filter(self, text: str) -> Scope:
        return replace(self, user_filter=text.strip())

    def with_time(self, time: tuple[int, int] | None) -> Scope:
        return replace(self, time=time)

    def push(self, step: DrillStep) -> Scope:
        return replace(self, drills=(*self.drills, step))

    def pop(self) -> Scope:
        return replace(self, drills=self.drills[:-1])

    @property
    def unranged(self) -> Scope:
        return replace(self, time=None)


def quote(value: object) -> str:
    """A value as a filter literal: numbers bare, everything else double-quoted with escapes."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
        return str(int(value))
    s = str(value)
    out = []
    for c in s:
        o = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def check_filter(expr: str, compat: str | None = None) -> None:
    """Raise FilterError (a ValueError with ``.column``) if ``expr`` does not parse (read as the sysdig
    of a capture with ``compat`` reads it)."""
    try:
        from ..filters import compile_filter, dialect_for
    except ImportError as e:     # pragma: no cover - the package exists, its parts may not
        raise FilterUnavailable(f"filters are not available yet ({e})") from e
    compile_filter(expr, dialect=dialect_for(compat))


