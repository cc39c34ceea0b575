"""Property tests of the filter language: printing round trips, boolean algebra of masks, and agreement
with a slow row-by-row reference evaluator, on random filters over random frames with missing values."""
from __future__ import annotations

import fnmatch
import ipaddress

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scapinspect.filters import And, Check, FieldRef, FilterError, Not, Or, compile_filter, parse, to_string

TEXTS = ["", "a", "ab", "curl", "Curl", "/etc", "/etc/passwd", "etc/x", "/usr/lib/x.so", "x y", "a'b", 'q"r',
         "(p)", "c,d", "e=f", "back\\slash", "and", "or", "not", "tab\tx", "é"]
GLOBS = ["*", "*.so", "/etc/*", "?url", "[ac]*", "*[!a]", "a*b", "", "x y*"]
PATHS = ["/", "/etc", "etc", "/usr/lib", "/usr/lib/x.so", "/e"]
IPS = ["10.0.0.1", "10.0.0.2", "192.168.0.3", "::1", "2600:1f18::1"]
STRING_OPS = ["=", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith", "endswith"]
NUM_OPS = ["=", "!=", "<", "<=", ">", ">="]

# field -> (kind, value pool for the frame)
SCHEMA = {
    "proc.name": ("string", TEXTS),
    "fd.name": ("string", TEXTS),
    "evt.num": ("uint", list(range(0, 6))),
    "evt.rawres": ("int", list(range(-3, 3))),
    "fd.sport": ("port", [22, 80, 443]),
    "fd.cport": ("port", [22, 80, 5000]),
    "evt.failed": ("bool", [True, False]),
    "fd.sip": ("ip", IPS),
    "fd.cip": ("ip", IPS),
}


# ---------------------------------------------------------------- strategies

def _leaf(name: str, kind: str) -> st.SearchStrategy[Check]:
    ref = FieldRef(name)
    exists = st.just(Check(ref, "exists", None))
    if kind == "string":
        texts = st.sampled_from(TEXTS)
        return st.one_of(
            exists,
            st.builds(lambda op, v: Check(ref, op, v), st.sampled_from(STRING_OPS), texts),
            st.builds(lambda v: Check(ref, "glob", v), st.sampled_from(GLOBS)),
            st.builds(lambda vs: Check(ref, "in", tuple(vs)), st.lists(texts, max_size=3)),
            st.builds(lambda vs: Check(ref, "pmatch", tuple(vs)), st.lists(st.sampled_from(PATHS), max_size=2)),
        )
    if kind in ("uint", "int", "port"):
        numbers = st.integers(-3 if kind == "int" else 0, 6).map(str)
        if kind == "port":
            numbers = st.sampled_from(["22", "80", "443", "5000", "1"])
        return st.one_of(
            exists,
            st.builds(lambda op, v: Check(ref, op, v), st.sampled_from(NUM_OPS), numbers),
            st.builds(lambda vs: Check(ref, "in", tuple(vs)), st.lists(numbers, min_size=1, max_size=3)),
        )
    if kind == "bool":
        return st.one_of(exists, st.builds(lambda op, v: Check(ref, op, v), st.sampled_from(["=", "!="]),
                                           st.sampled_from(["true", "false"])))
    ips = st.sampled_from(IPS)
    return st.one_of(exists, st.builds(lambda op, v: Check(ref, op, v), st.sampled_from(["=", "!="]), ips),
                     st.builds(lambda vs: Check(ref, "in", tuple(vs)), st.lists(ips, min_size=1, max_size=2)))


PORT_ANY = st.builds(lambda op, v: Check(FieldRef("fd.port"), op, v), st.sampled_from(NUM_OPS),
                     st.sampled_from(["22", "80", "443", "5000"]))
NET = st.builds(lambda v: Check(FieldRef("fd.net"), "=", v), st.sampled_from(["10.0.0.0/8", "::/0", "192.168.0.0/24"]))
LEAVES = st.one_of(*[_leaf(n, k) for n, (k, _) in SCHEMA.items()], PORT_ANY, NET)
TREES = st.recursive(
    LEAVES,
    lambda kids: st.one_of(
        st.builds(Not, kids),
        st.builds(lambda cs: And(tuple(cs)), st.lists(kids, min_size=2, max_size=3)),
        st.builds(lambda cs: Or(tuple(cs)), st.lists(kids, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 25))
    data = {}
    for name, (kind, pool) in SCHEMA.items():
        values = draw(st.lists(st.one_of(st.none(), st.sampled_from(pool)), min_size=n, max_size=n))
        data[name] = _column(kind, values, draw(st.integers(0, 2)))
    return pd.DataFrame(data, index=pd.RangeIndex(n))


def _column(kind: str, values: list, variant: int) -> pd.Series:
    if kind in ("string", "ip"):
        return pd.Series(values, dtype=["category", object, "str"][variant])
    if kind == "bool":
        return pd.Series(pd.array(values, dtype="boolean"))
    dtype = {"uint": "UInt64", "int": "Int64", "port": "UInt16"}[kind]
    if variant == 0 and None not in values:
        return pd.Series(np.array(values, dtype=dtype.lower()))
    return pd.Series(pd.array(values, dtype=dtype))


# ---------------------------------------------------------------- reference evaluator (one row at a time)

def _components(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def _ref_string(op: str, x: str, v) -> bool:
    if op == "=":
        return x == v
    if op == "!=":
        return x != v
    if op in ("<", "<=", ">", ">="):
        return {"<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]
    if op == "contains":
        return v in x
    if op == "icontains":
        return v.lower() in x.lower()
    if op == "startswith":
        return x.startswith(v)
    if op == "endswith":
        return x.endswith(v)
    if op == "glob":
        return fnmatch.fnmatchcase(x, v)
    if op == "in":
        return x in v
    if op == "pmatch":
        return any(_components(x)[:len(_components(p))] == _components(p) for p in v)
    raise AssertionError(op)


def _ref_scalar(kind: str, op: str, x, v) -> bool:
    if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)):
        return False
    if op == "exists":
        return True
    if kind == "string":
        return _ref_string(op, x, v)
    if kind == "bool":
        return (x == (v == "true")) if op == "=" else (x != (v == "true"))
    if kind == "ip":
        addr = ipaddress.ip_address(x)
        targets = [ipaddress.ip_address(t) for t in (v if isinstance(v, tuple) else (v,))]
        return (addr not in targets) if op == "!=" else (addr in targets)
    x = int(x)
    if op == "in":
        return x in {int(t) for t in v}
    return {"=": x == int(v), "!=": x != int(v), "<": x < int(v), "<=": x <= int(v),
            ">": x > int(v), ">=": x >= int(v)}[op]


def _known(x) -> bool:
    return not (x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)))


def _ref(node, row: dict) -> bool:
    if isinstance(node, Not):
        return not _ref(node.child, row)
    if isinstance(node, And):
        return all(_ref(c, row) for c in node.children)
    if isinstance(node, Or):
        return any(_ref(c, row) for c in node.children)
    name = node.field.name
    if name == "fd.port":
        ports = [row[c] for c in ("fd.cport", "fd.sport") if _known(row[c])]
        if node.op == "!=":
            return bool(ports) and all(int(p) != int(node.value) for p in ports)
        return any(_ref_scalar("port", node.op, p, node.value) for p in ports)
    if name == "fd.net":
        net = ipaddress.ip_network(node.value)
        return any(_known(row[c]) and ipaddress.ip_address(row[c]) in net for c in ("fd.cip", "fd.sip"))
    return _ref_scalar(SCHEMA[name][0], node.op, row[name], node.value)


def _reference_mask(node, df: pd.DataFrame) -> np.ndarray:
    records = df.astype(object).to_dict("records")
    return np.array([_ref(node, r) for r in records], dtype=bool)


def _mask(node, df: pd.DataFrame) -> np.ndarray:
    return compile_filter(to_string(node)).mask(df)


PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- properties

@PROPS
@given(TREES)
def test_print_parse_round_trip(tree):
    text = to_string(tree)
    assert parse(text) == tree
    assert parse(text, dialect="0.29") == tree
    assert to_string(parse(text)) == text


@PROPS
@given(TREES, frames())
def test_not_is_complement(tree, df):
    m = _mask(tree, df)
    assert np.array_equal(compile_filter(f"not ({to_string(tree)})").mask(df), ~m)


@PROPS
@given(TREES, TREES, frames())
def test_and_or_are_intersection_and_union(a, b, df):
    ma, mb = _mask(a, df), _mask(b, df)
    ta, tb = to_string(a), to_string(b)
    assert np.array_equal(compile_filter(f"({ta}) and ({tb})").mask(df), ma & mb)
    assert np.array_equal(compile_filter(f"({ta}) or ({tb})").mask(df), ma | mb)


@PROPS
@given(TREES, frames())
def test_matches_row_by_row_reference(tree, df):
    assert np.array_equal(_mask(tree, df), _reference_mask(tree, df))


FILTER_CHARS = st.sampled_from(list("()[]'\"\\ ,=!<>.ab_0-9\n\t") + ["and ", "or ", "not ", "proc.name", "evt.num",
                                                                     "in", "contains ", "exists", "evt.arg", "fd.port"])


@PROPS
@given(st.one_of(st.text(max_size=40), st.lists(FILTER_CHARS, max_size=15).map("".join)))
def test_garbage_raises_only_filter_error(text):
    try:
        tree = parse(text)
    except FilterError as err:
        assert err.column >= 1 and "\n" not in str(err)
    else:
        assert parse(to_string(tree)) == tree
