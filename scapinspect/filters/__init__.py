"""The sysdig filter language: field catalog, parser, and vectorised evaluation over event frames."""
from __future__ import annotations

from .ast import And, Check, FieldRef, Node, Not, Or, to_string
from .compile import CompiledFilter, MissingColumnError, compile_filter
from .errors import FilterError
from .fields import FIELDS, FieldInfo, lookup, suggest
from .parser import dialect_for, parse

__all__ = [
    "And", "Check", "CompiledFilter", "FIELDS", "FieldInfo", "FieldRef", "FilterError",
    "MissingColumnError", "Node", "Not", "Or", "compile_filter", "dialect_for", "lookup", "parse", "suggest",
    "to_string",
]
