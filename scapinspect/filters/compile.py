"""Compile a filter into a vectorised row mask over an event frame.

The frame has one column per field, named as the field is written (``proc.name``, ``evt.arg.fd``,
``proc.aname[2]``); see ``fields.COLUMN_DTYPES`` for the dtypes. A missing value (NA) means sysdig
could not extract the field for that event, and every comparison on it is false, as in libsinsp
(``sinsp_filter_check::compare`` returns false when ``extract`` gives NULL); ``not`` still inverts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import evaluate as E
from . import fields as F
from . import values as V
from .ast import And, Check, Node, Not, Or, walk
from .errors import FilterError
from .parser import parse

ANCESTOR_DEPTH = 16     # bare proc.aname / proc.apid look at proc.aname[1] .. proc.aname[16]
# (columns past [1] may be absent from the frame: they then count as all NA)


class MissingColumnError(FilterError):
    """The frame lacks columns the filter needs; ``columns`` lists them."""

    def __init__(self, columns: list[str], column: int) -> None:
        self.columns = columns
        super().__init__(f"the frame has no column {', '.join(map(repr, columns))}", column)


@dataclass(frozen=True)
class CompiledFilter:
    """A parsed, typed filter ready to evaluate.

    Attributes:
        text: the filter as given.
        ast: its syntax tree.
        fields: frame columns evaluation reads (field names with arguments).
        optional: the subset of ``fields`` a frame may lack (deep ancestor columns).
    """

    text: str
    ast: Node
    fields: frozenset[str]
    optional: frozenset[str]
    _root: object = field(repr=False)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """A numpy bool array, one entry per row of ``frame``: True where the filter accepts it."""
        missing = sorted(c for c in self.fields - self.optional if c not in frame.columns)
        if missing:
            raise MissingColumnError(missing, 0)
        cache = E.ColumnCache(frame)
        result = self._root(cache)  # type: ignore[operator]
        return np.asarray(result, dtype=bool)

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` the filter accepts."""
        return frame[self.mask(frame)]


def compile_filter(text: str, *, dialect: str = "head", ancestor_depth: int = ANCESTOR_DEPTH) -> CompiledFilter:
    """Parse and compile a sysdig filter.

    Args:
        text: the filter string.
        dialect: ``"head"`` or ``"0.29"``, see ``parser.parse``.
        ancestor_depth: how many ancestor columns (``proc.aname[1..N]``) a bare ``proc.aname`` or
            ``proc.apid`` check reads.

    Returns:
        a CompiledFilter. Raises FilterError for any problem in the filter.
    """
    tree = parse(text, dialect=dialect)
    required: set[str] = set()
    optional: set[str] = set()
    for node in walk(tree):
        if isinstance(node, Check):
            cols = columns_of(node, ancestor_depth)
            bare_ancestor = F.FIELDS[node.field.name].arg == F.ARG_INDEX and node.field.arg is None
            required.update(cols[:1] if bare_ancestor else cols)
            optional.update(cols[1:] if bare_ancestor else ())
    root = _build(tree, ancestor_depth)
    return CompiledFilter(text, tree, frozenset(required | optional), frozenset(optional - required), root)


def columns_of(chk: Check, depth: int = ANCESTOR_DEPTH) -> tuple[str, ...]:
    """The frame columns one check reads."""
    info = F.FIELDS[chk.field.name]
    if info.columns:
        return info.columns
    if info.arg == F.ARG_INDEX and chk.field.arg is None:
        return tuple(f"{info.name}[{k}]" for k in range(1, depth + 1))
    return (chk.field.column,)


def _build(node: Node, depth: int):
    if isinstance(node, Check):
        return _leaf(node, depth)
    if isinstance(node, Not):
        child = _build(node.child, depth)
        return lambda cache: ~child(cache)
    parts = [_build(c, depth) for c in node.children]
    combine = np.logical_and if isinstance(node, And) else np.logical_or
    assert isinstance(node, And | Or)

    def run(cache):
        out = parts[0](cache).copy()
        for part in parts[1:]:
            combine(out, part(cache), out=out)
        return out

    return run


def _leaf(chk: Check, depth: int):
    info = F.FIELDS[chk.field.name]
    columns = columns_of(chk, depth)
    values = chk.value if isinstance(chk.value, tuple) else (chk.value,)
    converted = tuple(V.convert(info, chk.op, v) for v in values) if chk.op != V.OP_EXISTS else ()
    test = E.make_test(info, chk.op, converted, values, chk.value_pos)
    if len(columns) == 1:
        col = columns[0]
        return lambda cache: test(cache, col)
    if info.columns and chk.op == "!=":
        # fd.port != 80: at least one endpoint known and none equal (libsinsp compare_port/compare_ip)
        eq = E.make_test(info, "=", converted, values, chk.value_pos)

        def neither(cache):
            known = np.zeros(len(cache), dtype=bool)
            hit = np.zeros(len(cache), dtype=bool)
            for col in columns:
                known |= cache.valid(col)
                hit |= eq(cache, col)
            return known & ~hit

        return neither

    def any_of(cache):
        out = np.zeros(len(cache), dtype=bool)
        for col in columns:
            if col in cache.frame.columns:
                out |= test(cache, col)
        return out

    return any_of
