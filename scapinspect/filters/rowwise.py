"""A filter evaluated on one event at a time, for where the answer must be known before the next event
is parsed (sysdig 0.29.3 applies its filter while parsing). Same semantics as the vectorised masks in
compile.py: a field that cannot be extracted (None) makes every comparison false."""
from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable

from . import fields as F
from . import values as V
from .ast import And, Check, Node, Not, Or
from .compile import columns_of
from .evaluate import glob_to_regex, pmatch_regex
from .parser import parse

Row = Callable[[str], object]          # field column -> value (None when not extractable)


def compile_row(text: str, *, dialect: str = "head") -> tuple[Callable[[Row], bool], frozenset[str]]:
    """(predicate(get) -> bool, the columns it reads)."""
    tree = parse(text, dialect=dialect)
    cols: set[str] = set()
    fn = _build(tree, cols)
    return fn, frozenset(cols)


def _build(node: Node, cols: set[str]) -> Callable[[Row], bool]:
    if isinstance(node, Check):
        return _leaf(node, cols)
    if isinstance(node, Not):
        child = _build(node.child, cols)
        return lambda get: not child(get)
    parts = [_build(c, cols) for c in node.children]
    if isinstance(node, And):
        return lambda get: all(p(get) for p in parts)
    assert isinstance(node, Or)
    return lambda get: any(p(get) for p in parts)


def _leaf(chk: Check, cols: set[str]) -> Callable[[Row], bool]:
    info = F.FIELDS[chk.field.name]
    columns = columns_of(chk)
    cols.update(columns)
    op = chk.op if chk.op != "==" else "="
    raw = chk.value
    if raw is None:
        targets: tuple = ()
    elif isinstance(raw, tuple):
        targets = tuple(V.convert(info, op, x) for x in raw)
    else:
        targets = (V.convert(info, op, raw),)
    test = _test(info, op, targets)
    if len(columns) == 1:
        col = columns[0]

        def one(get: Row) -> bool:
            v = get(col)
            return v is not None and test(v)
        return one
    neg = op == "!="

    def any_of(get: Row) -> bool:
        vals = [v for v in (get(c) for c in columns) if v is not None]
        if not vals:
            return False
        if neg:
            return all(test(v) for v in vals)
        return any(test(v) for v in vals)
    return any_of


def _as_ip(v):
    if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return v
    try:
        a = ipaddress.ip_address(str(v))
    except ValueError:
        return None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return a.ipv4_mapped
    return a


def _test(info, op: str, targets: tuple) -> Callable[[object], bool]:
    kind = F.type_kind(info.type)
    if op == "exists":
        return lambda v: True
    if kind == "ip":
        want = [_as_ip(t) for t in targets]
        if op in ("=", "in", "intersects"):
            return lambda v: _as_ip(v) in want
        return lambda v: _as_ip(v) not in want
    if kind == "net":
        return lambda v: (lambda a: a is not None and any(a in n for n in targets))(_as_ip(v))
    if kind in ("numeric", "bool"):
        t0 = targets[0] if targets else None
        ops = {
            "=": lambda v: v == t0, "!=": lambda v: v != t0, "<": lambda v: v < t0,
            "<=": lambda v: v <= t0, ">": lambda v: v > t0, ">=": lambda v: v >= t0,
            "in": lambda v: v in targets, "intersects": lambda v: v in targets,
        }
        fn = ops[op]
        if kind == "numeric" and info.type in F.UNSIGNED_BITS:
            bits = F.UNSIGNED_BITS[info.type]
            return lambda v: fn(int(v) % (1 << bits))
        return fn
    if kind == "buffer":
        t = targets
        return {
            "=": lambda v: bytes(v) == t[0], "!=": lambda v: bytes(v) != t[0],
            "contains": lambda v: t[0] in bytes(v), "bcontains": lambda v: t[0] in bytes(v),
            "startswith": lambda v: bytes(v).startswith(t[0]),
            "bstartswith": lambda v: bytes(v).startswith(t[0]),
            "endswith": lambda v: bytes(v).endswith(t[0]),
            "in": lambda v: bytes(v) in t, "intersects": lambda v: bytes(v) in t,
        }[op]
    return _string_test(op, tuple(str(x) for x in targets))


def _string_test(op: str, t: tuple[str, ...]) -> Callable[[object], bool]:
    t0 = t[0] if t else ""
    if op == "=":
        return lambda v: str(v) == t0
    if op == "!=":
        return lambda v: str(v) != t0
    if op in ("in", "intersects"):
        return lambda v: str(v) in t
    if op == "contains":
        return lambda v: t0 in str(v)
    if op == "icontains":
        low = t0.lower()
        return lambda v: low in str(v).lower()
    if op == "startswith":
        return lambda v: str(v).startswith(t0)
    if op == "endswith":
        return lambda v: str(v).endswith(t0)
    if op in ("glob", "iglob"):
        rx = re.compile(glob_to_regex(t0), re.S | (re.I if op == "iglob" else 0))
        return lambda v: rx.match(str(v)) is not None
    if op == "pmatch":
        rx = re.compile(pmatch_regex(t))
        return lambda v: rx.match(str(v)) is not None
    order = {"<": str.__lt__, "<=": str.__le__, ">": str.__gt__, ">=": str.__ge__}
    cmp = order[op]
    return lambda v: cmp(str(v), t0)


__all__ = ["compile_row", "fnmatch"]
