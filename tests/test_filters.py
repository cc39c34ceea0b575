"""Unit tests of the filter language: catalog, parsing, precedence, errors, evaluation on small frames."""
from __future__ import annotations

import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scapinspect.filters import (
    FIELDS,
    And,
    Check,
    FieldRef,
    FilterError,
    MissingColumnError,
    Not,
    Or,
    compile_filter,
    parse,
    suggest,
    to_string,
)
from scapinspect.filters.evaluate import glob_to_regex

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "filters.txt"
CONFORMANCE_FILTERS = [
    "evt.type=execve", "proc.name=curl", "evt.type in (connect, accept, accept4)",
    "fd.type=ipv4 or fd.type=ipv6", "evt.failed=true", "fd.name contains /etc", "proc.name startswith cu",
    "evt.type=open and not fd.name contains lib", "(evt.type=read or evt.type=write) and evt.buflen>100",
    "fd.sport=80", "fd.l4proto=udp", "evt.is_io=true", "fd.name glob '*.so*'", "user.name=root",
    "evt.rawres<0", "proc.cmdline contains google", "fd.directory=/etc", "evt.category=net",
    "proc.pname=bash", "evt.num>100 and evt.num<200", "fd.typechar=f", "evt.dir=< and evt.latency>100000",
    "evt.type!=switch and evt.dir=> and proc.name!=curl", "fd.num=3", "thread.tid!=0 and evt.type=close",
]


def chk(name: str, op: str, value=None, arg=None, bracket=False) -> Check:
    return Check(FieldRef(name, arg, bracket), op, value)


A, B, C = chk("proc.name", "=", "a"), chk("proc.name", "=", "b"), chk("proc.name", "=", "c")


# ---------------------------------------------------------------- catalog

REQUIRED = """evt.num evt.time evt.rawtime evt.reltime evt.type evt.dir evt.cpu evt.res evt.rawres evt.failed
evt.is_io evt.is_io_read evt.is_io_write evt.category evt.buflen evt.buffer evt.latency evt.arg evt.info
evt.args evt.count proc.name proc.pid proc.ppid proc.exe proc.exeline proc.args proc.cmdline proc.cwd
proc.tty proc.pname proc.aname proc.apid proc.loginshellid thread.tid thread.nametid user.name user.uid
user.loginname group.name fd.num fd.name fd.type fd.typechar fd.directory fd.filename fd.containername
fd.containerdirectory fd.l4proto fd.cip fd.sip fd.lip fd.rip fd.cport fd.sport fd.lport fd.rport fd.port
fd.sproto fd.cproto fd.is_server fd.name_changed container.id container.name container.image evt.time.s
evt.outputtime syscall.type evt.is_syslog""".split()


def test_catalog_covers_required_fields():
    missing = [n for n in REQUIRED if n not in FIELDS]
    assert missing == []
    for info in FIELDS.values():
        assert info.desc and "\n" not in info.desc


@pytest.mark.parametrize(("name", "ftype"), [
    ("evt.num", "uint64"), ("evt.rawres", "int64"), ("evt.failed", "bool"), ("fd.sip", "ipaddr"),
    ("fd.net", "ipnet"), ("fd.sport", "port"), ("fd.l4proto", "string"), ("evt.latency", "reltime"),
    ("evt.rawtime", "abstime"), ("evt.buffer", "bytebuf"), ("evt.cpu", "int16"), ("user.uid", "uint32"),
])
def test_catalog_types(name, ftype):
    assert FIELDS[name].type == ftype


def test_catalog_arguments():
    assert FIELDS["evt.arg"].takes_arg and FIELDS["proc.aname"].takes_arg and FIELDS["proc.apid"].takes_arg
    assert not FIELDS["proc.name"].takes_arg


@pytest.mark.parametrize(("typo", "expected"), [
    ("proc.nmae", "proc.name"), ("evt.tpye", "evt.type"), ("fd.nam", "fd.name"), ("process.name", "proc.name"),
    ("evt.rawre", "evt.rawres"),
])
def test_suggest(typo, expected):
    assert suggest(typo) == expected


def test_suggest_nothing_for_known_or_hopeless():
    assert suggest("proc.name") is None
    assert suggest("zzzzzz.qqqq") is None


# ---------------------------------------------------------------- parsing

def test_conformance_file_matches_list():
    if CONFORMANCE.exists():
        assert [ln.strip() for ln in CONFORMANCE.read_text().splitlines() if ln.strip()] == CONFORMANCE_FILTERS


@pytest.mark.parametrize("text", CONFORMANCE_FILTERS)
def test_conformance_filters_parse_and_round_trip(text):
    tree = parse(text)
    assert parse(to_string(tree)) == tree
    assert parse(to_string(tree), dialect="0.29") == tree


def test_parse_shapes():
    assert parse("proc.name=a") == A
    assert parse("proc.name == a") == A
    assert parse("evt.type in (connect, accept)") == chk("evt.type", "in", ("connect", "accept"))
    assert parse("proc.name exists") == chk("proc.name", "exists")
    assert parse("evt.arg.fd=3") == chk("evt.arg", "=", "3", arg="fd")
    assert parse("evt.arg[0]=3") == chk("evt.arg", "=", "3", arg="0", bracket=True)
    assert parse("evt.arg['fd']=3") == chk("evt.arg", "=", "3", arg="fd")
    assert parse("proc.aname[2]=bash") == chk("proc.aname", "=", "bash", arg="2", bracket=True)
    assert parse("proc.aname=bash") == chk("proc.aname", "=", "bash")
    assert parse("evt.dir=<") == chk("evt.dir", "=", "<")
    assert parse("evt.dir = >") == chk("evt.dir", "=", ">")
    assert parse("proc.name in ()") == chk("proc.name", "in", ())


def test_quoted_values_and_escapes():
    assert parse("proc.name='a b'").value == "a b"
    assert parse('proc.name="it\'s"').value == "it's"
    assert parse(r'proc.name="a\"b\\c\n\x41"').value == 'a"b\\c\nA'
    assert parse(r"proc.name='x\'y'").value == "x'y"
    assert parse("fd.name=''").value == ""
    assert parse("evt.args contains fd=3").value == "fd=3"      # sysdig 0.29.3 reads '=' in bare values
    assert parse("evt.type in ('a b', \"c,d\")".replace("evt.type", "proc.name")).value == ("a b", "c,d")


def test_precedence_head():
    assert parse("proc.name=a or proc.name=b and proc.name=c") == Or((A, And((B, C))))
    assert parse("proc.name=a and proc.name=b or proc.name=c") == Or((And((A, B)), C))
    assert parse("not proc.name=a and proc.name=b") == And((Not(A), B))
    assert parse("not (proc.name=a and proc.name=b)") == Not(And((A, B)))
    assert parse("not not proc.name=a") == A
    assert parse("not not not proc.name=a") == Not(A)
    assert parse("not(proc.name=a)") == Not(A)
    assert parse("proc.name=a and (proc.name=b and proc.name=c)") == And((A, And((B, C))))
    assert parse("proc.name=a and proc.name=b and proc.name=c") == And((A, B, C))


def test_precedence_029():
    with pytest.raises(FilterError) as err:
        parse("proc.name=a and proc.name=b or proc.name=c", dialect="0.29")
    assert err.value.column == 29
    # inside parentheses 0.29.3 accepts a mixed chain and evaluates it right-nested
    assert parse("(proc.name=a and proc.name=b or proc.name=c)", dialect="0.29") == And((A, Or((B, C))))
    assert parse("(proc.name=a or proc.name=b and proc.name=c)", dialect="0.29") == Or((A, And((B, C))))
    assert parse("not not proc.name=a", dialect="0.29") == Not(A)
    assert parse("(proc.name=a or proc.name=b) and proc.name=c", dialect="0.29") == And((Or((A, B)), C))


def test_canonical_printing():
    assert to_string(parse("( proc.name = a )  and  not (fd.name contains 'x y')")) == \
        'proc.name=a and not fd.name contains "x y"'
    assert to_string(Not(Not(A))) == "not (not proc.name=a)"
    assert parse(to_string(Not(Not(A)))) == Not(Not(A))
    assert to_string(Or((A, And((B, C))))) == "proc.name=a or (proc.name=b and proc.name=c)"
    assert to_string(chk("proc.name", "=", "and")) == 'proc.name="and"'


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize(("text", "message", "column"), [
    ("proc.nmae=x", "unknown field 'proc.nmae' at column 1; did you mean proc.name?", 1),
    ("evt.num>abc", "expected a whole number for evt.num (uint64), got 'abc'", 9),
    ("evt.type=open and evt.num>abc", "expected a whole number", 27),
    ("proc.name=", "missing value after '='", 11),
    ("proc.name = and evt.num=1", "missing value after '='", 13),
    ("(proc.name=x", "unbalanced parentheses: '(' is never closed", 1),
    ("proc.name=x)", "unbalanced parentheses: unexpected ')'", 12),
    ("proc.name=x and (evt.num=1 or evt.num=2", "never closed", 17),
    ("proc.name foo x", "unknown operator 'foo'", 11),
    ("proc.name contain x", "did you mean contains?", 11),
    ("proc.name", "missing operator after 'proc.name'", 10),
    ("evt.num contains 3", "operator 'contains' is not supported for evt.num (uint64)", 9),
    ("evt.failed=yes", "expected true or false for evt.failed", 12),
    ("evt.type=opne", "unknown event type 'opne' at column 10; did you mean open?", 10),
    ("evt.arg=3", "field evt.arg needs an argument", 1),
    ("proc.name[1]=x", "field proc.name takes no argument", 10),
    ("proc.aname[x]=y", "must be a number", 12),
    ("proc.name=x and", "missing expression after 'and'", 16),
    ("proc.name=x or or proc.name=y", "missing expression before 'or'", 16),
    ("proc.name='abc", "unterminated quoted string", 11),
    ("proc.name='a\\qb'", "unsupported escape sequence", 13),
    ("fd.sip=10.0.0.0/8", "expected an IP address for fd.sip", 8),
    ("fd.net=10.0.0.1", "expected a network", 8),
    ("evt.type in (open", "the list of 'in' is never closed", 13),
    ("evt.type in open", "expected '(' after 'in'", 13),
    ("evt.type in (open close)", "expected ',' or ')'", 19),
    ("proc.name=x evt.num=1", "unexpected 'evt.num=1' after 'proc.name=x'", 13),
    ("fd.port=nosuchservice", "unrecognized port or service name", 9),
    ("evt.failed<true", "operator '<' is not supported for evt.failed (bool)", 11),
    ("evt.buffer bcontains 4", "even number of hex digits", 22),
    ("", "empty filter", 1),
    ("foo=bar", "unknown field 'foo'", 1),
])
def test_errors(text, message, column):
    with pytest.raises(FilterError) as err:
        parse(text)
    assert message in str(err.value)
    assert err.value.column == column
    assert "\n" not in str(err.value)
    assert f"at column {column}" in str(err.value)


def test_error_str_format():
    err = FilterError("unknown field 'proc.nmae'", 1, "did you mean proc.name?")
    assert str(err) == "unknown field 'proc.nmae' at column 1; did you mean proc.name?"
    assert isinstance(err, ValueError)


def test_multiline_filter_column_counts_characters():
    with pytest.raises(FilterError) as err:
        parse("proc.name=a and\nproc.nmae=b")
    assert err.value.column == 17


# ---------------------------------------------------------------- evaluation

def frame(string_dtype="category") -> pd.DataFrame:
    """Six events; row 2 has no fd, row 5 has no thread."""
    def text(values):
        return pd.Series(values, dtype=string_dtype)
    return pd.DataFrame({
        "evt.num": pd.array([150, 210, 220, 230, 240, 99], dtype="UInt64"),
        "evt.type": text(["execve", "open", "read", "connect", "close", "switch"]),
        "evt.dir": text(["<", "<", "<", "<", ">", ">"]),
        "evt.failed": pd.array([False, True, False, False, False, False], dtype="boolean"),
        "evt.rawres": pd.array([0, -2, 832, -115, None, None], dtype="Int64"),
        "evt.is_io": np.array([False, False, True, False, False, False]),
        "evt.buflen": pd.array([None, None, 832, None, None, None], dtype="UInt64"),
        "evt.latency": pd.array([5, 200000, 150000, 10, 0, 0], dtype="UInt64"),
        "evt.category": text(["process", "file", "file", "net", "file", "scheduler"]),
        "proc.name": text(["curl", "curl", "curl", "curl", "bash", None]),
        "proc.pname": text(["bash", "bash", "bash", "bash", "sshd", None]),
        "proc.cmdline": text(["curl -6 http://www.google.com"] * 4 + ["bash", None]),
        "thread.tid": np.array([17497, 17497, 17497, 17497, 3200, 0]),
        "user.name": text(["root", "root", "root", "root", "alice", None]),
        "fd.num": pd.array([None, 3, 3, 4, 3, None], dtype="Int64"),
        "fd.name": text([None, "/etc/ld.so.cache", "/usr/lib/libcurl.so.4", "192.168.0.3:55020->192.168.0.2:80",
                         "/etc/passwd", None]),
        "fd.directory": text([None, "/etc", "/usr/lib", None, "/etc", None]),
        "fd.type": text([None, "file", "file", "ipv4", "file", None]),
        "fd.typechar": text([None, "f", "f", "4", "f", None]),
        "fd.l4proto": text([None, None, None, "tcp", None, None]),
        "fd.sport": pd.array([None, None, None, 80, None, None], dtype="UInt16"),
        "fd.cport": pd.array([None, None, None, 55020, None, None], dtype="UInt16"),
        "fd.cip": text([None, None, None, "192.168.0.3", None, None]),
        "fd.sip": text([None, None, None, "192.168.0.2", None, None]),
        "proc.aname[1]": text(["bash", "bash", "bash", "bash", "sshd", None]),
        "proc.aname[2]": text(["sshd", "sshd", "sshd", "sshd", "systemd", None]),
        "proc.aname[3]": text(["systemd", "systemd", "systemd", "systemd", None, None]),
        "evt.buffer": pd.Series([None, None, b"\x7fELF\x02\x01", None, None, None], dtype=object),
        "evt.arg.fd": text([None, "<f>/etc/ld.so.cache", "<f>/usr/lib/libcurl.so.4", None, None, None]),
    })


EXPECTED_ROWS = {
    "evt.type=execve": [0],
    "proc.name=curl": [0, 1, 2, 3],
    "evt.type in (connect, accept, accept4)": [3],
    "fd.type=ipv4 or fd.type=ipv6": [3],
    "evt.failed=true": [1],
    "fd.name contains /etc": [1, 4],
    "proc.name startswith cu": [0, 1, 2, 3],
    "evt.type=open and not fd.name contains lib": [1],
    "(evt.type=read or evt.type=write) and evt.buflen>100": [2],
    "fd.sport=80": [3],
    "fd.l4proto=udp": [],
    "evt.is_io=true": [2],
    "fd.name glob '*.so*'": [1, 2],
    "user.name=root": [0, 1, 2, 3],
    "evt.rawres<0": [1, 3],
    "proc.cmdline contains google": [0, 1, 2, 3],
    "fd.directory=/etc": [1, 4],
    "evt.category=net": [3],
    "proc.pname=bash": [0, 1, 2, 3],
    "evt.num>100 and evt.num<200": [0],
    "fd.typechar=f": [1, 2, 4],
    "evt.dir=< and evt.latency>100000": [1, 2],
    "evt.type!=switch and evt.dir=> and proc.name!=curl": [4],
    "fd.num=3": [1, 2, 4],
    "thread.tid!=0 and evt.type=close": [4],
}


def rows(text: str, df: pd.DataFrame, **kw) -> list[int]:
    mask = compile_filter(text, **kw).mask(df)
    assert isinstance(mask, np.ndarray) and mask.dtype == bool and len(mask) == len(df)
    return np.flatnonzero(mask).tolist()


@pytest.mark.parametrize("dtype", ["category", object, "str", "string"])
@pytest.mark.parametrize("text", CONFORMANCE_FILTERS)
def test_conformance_evaluation(text, dtype):
    assert rows(text, frame(dtype)) == EXPECTED_ROWS[text]


@pytest.mark.parametrize(("text", "expected"), [
    ("not fd.name contains lib", [0, 1, 3, 4, 5]),          # NA rows pass a negated check
    ("fd.name!=/etc/passwd", [1, 2, 3]),                     # != is false on NA
    ("not fd.name=/etc/passwd", [0, 1, 2, 3, 5]),
    ("fd.name exists", [1, 2, 3, 4]),
    ("not fd.name exists", [0, 5]),
    ("proc.name icontains CU", [0, 1, 2, 3]),
    ("proc.name contains CU", []),
    ("proc.name endswith sh", [4]),
    ("proc.name in (bash, zsh)", [4]),
    ("proc.name<c", [4]),
    ("proc.name>=curl", [0, 1, 2, 3]),
    ("fd.name pmatch (/etc, /usr/lib/x)", [1, 4]),
    ("fd.name pmatch (/usr)", [2]),
    ("fd.name glob /etc/*", [1, 4]),
    ("fd.name iglob /ETC/P*", [4]),
    ("fd.name glob '/etc/[lp]*'", [1, 4]),
    ("fd.name glob '/etc/[!l]*'", [4]),
    ("fd.port=80", [3]),
    ("fd.port=55020", [3]),
    ("fd.port!=80", []),
    ("fd.port!=443", [3]),
    ("fd.port>1024", [3]),
    ("fd.proto=http", [3]),
    ("fd.sport=http", [3]),
    ("fd.sip=192.168.0.2", [3]),
    ("fd.sip!=192.168.0.2", []),
    ("fd.ip=192.168.0.3", [3]),
    ("fd.cip in (10.0.0.1, 192.168.0.3)", [3]),
    ("fd.net=192.168.0.0/16", [3]),
    ("fd.snet=10.0.0.0/8", []),
    ("fd.cnet=192.168.0.3/32", [3]),
    ("proc.aname=sshd", [0, 1, 2, 3, 4]),
    ("proc.aname=systemd", [0, 1, 2, 3, 4]),
    ("proc.aname[2]=sshd", [0, 1, 2, 3]),
    ("proc.aname!=bash", [0, 1, 2, 3, 4]),                   # any ancestor differs, as libsinsp does
    ("evt.buffer contains ELF", [2]),
    ("evt.buffer bcontains 7f454c46", [2]),
    ("evt.buffer bstartswith 454c46", []),
    ("evt.buffer startswith \"\\x7fELF\"", [2]),
    ("evt.arg.fd contains libcurl", [2]),
    ("evt.rawres in (-2, -115)", [1, 3]),
    ("evt.rawres>=0", [0, 2]),
    ("evt.failed=false", [0, 2, 3, 4, 5]),
    ("evt.failed!=false", [1]),
    ("evt.failed in (true)", [1]),
    ("evt.is_io=false", [0, 1, 3, 4, 5]),
    ("evt.num>-1", []),                                      # sysdig reads -1 as 2**64-1 for unsigned fields
    ("thread.tid in (0, 3200)", [4, 5]),
    ("proc.name=curl and (fd.num=3 or fd.num=4) and not evt.type=read", [1, 3]),
])
def test_evaluation(text, expected):
    assert rows(text, frame()) == expected
    assert rows(text, frame(object)) == expected


def test_evaluation_029_right_nesting():
    df = frame()
    text = "(proc.name=bash and evt.type=close or evt.type=execve)"
    assert rows(text, df, dialect="0.29") == [4]          # bash and (close or execve)
    assert rows(text, df) == [0, 4]                      # (bash and close) or execve


def test_numeric_dtypes_agree():
    base = frame()
    variants = {
        "numpy int64": np.array([150, 210, 220, 230, 240, 99], dtype=np.int64),
        "numpy uint64": np.array([150, 210, 220, 230, 240, 99], dtype=np.uint64),
        "Float64": pd.array([150, 210, 220, 230, 240, 99], dtype="Float64"),
        "object": pd.Series([150, 210, 220, 230, 240, 99], dtype=object),
        "category": pd.Series([150, 210, 220, 230, 240, 99], dtype="category"),
    }
    for name, col in variants.items():
        df = base.assign(**{"evt.num": col})
        assert rows("evt.num>200 and evt.num<=230", df) == [1, 2, 3], name
        assert rows("evt.num in (99, 150)", df) == [0, 5], name


def test_fields_property():
    cf = compile_filter("proc.name=curl and evt.arg[0]=3 or fd.port=80 or proc.aname=bash", ancestor_depth=3)
    assert cf.fields == {"proc.name", "evt.arg[0]", "fd.cport", "fd.sport",
                         "proc.aname[1]", "proc.aname[2]", "proc.aname[3]"}
    assert compile_filter("proc.aname[2]=x").fields == {"proc.aname[2]"}


def test_missing_column():
    with pytest.raises(MissingColumnError) as err:
        compile_filter("proc.exe=curl").mask(frame())
    assert err.value.columns == ["proc.exe"]


def test_rawarg_uses_column_type():
    df = pd.DataFrame({"evt.rawarg.res": pd.array([-2, 0, None], dtype="Int64"),
                       "evt.rawarg.name": pd.Series(["/etc/a", None, "/tmp"], dtype=object)})
    assert rows("evt.rawarg.res<0", df) == [0]
    assert rows("evt.rawarg.name startswith /etc", df) == [0]
    with pytest.raises(FilterError):
        compile_filter("evt.rawarg.res=abc").mask(df)


def test_empty_frame():
    df = frame().iloc[:0]
    assert compile_filter("proc.name=curl and evt.num>3").mask(df).shape == (0,)


def test_call_returns_rows():
    df = frame()
    assert list(compile_filter("evt.type=open")(df)["evt.num"]) == [210]


@pytest.mark.parametrize("pattern", ["*.so*", "a?c", "[abc]*", "[!a]x", "*[0-9]", "x[", "a*b*c", r"\*x", "[]]x", "[a-]"])
@pytest.mark.parametrize("name", ["libc.so.6", "abc", "bx", "ax", "zz9", "x[", "aXbYc", "*x", "]x", "-", "a/b/c"])
def test_glob_matches_fnmatchcase(pattern, name):
    import re
    expected = fnmatch.fnmatchcase(name, pattern) if "\\" not in pattern else name == "*x"
    assert bool(re.match(glob_to_regex(pattern), name)) == expected


TS = [1648229748514632619, 1648229749000000000, None]


@pytest.mark.parametrize("column", [
    pd.Series(pd.array(TS, dtype="Int64")),
    pd.Series(pd.to_datetime(pd.array(TS, dtype="Int64"), unit="ns", utc=True)),
    pd.Series(["17:35:48.514632619", "17:35:49.000000000", None], dtype="category"),
])
def test_time_text_fields_accept_datetime_and_ns_columns(column):
    df = pd.DataFrame({"evt.time": column})
    assert rows("evt.time startswith 17:35:48", df) == [0]
    assert rows("evt.time>=17:35:49", df) == [1]
    assert rows("evt.time=17:35:49.000000000", df) == [1]
    assert rows("not evt.time exists", df) == [2]


def test_datetime_fields_format():
    df = pd.DataFrame({"evt.datetime": pd.array(TS, dtype="Int64"), "evt.datetime.s": pd.array(TS, dtype="Int64"),
                       "evt.time.s": pd.array(TS, dtype="Int64")})
    assert rows("evt.datetime='2022-03-25 17:35:48.514632619'", df) == [0]
    assert rows("evt.datetime.s='2022-03-25 17:35:49'", df) == [1]
    assert rows("evt.time.s in (17:35:48, 17:35:49)", df) == [0, 1]


def test_unknown_dialect():
    with pytest.raises(ValueError):
        parse("proc.name=a", dialect="0.30")


# -- Capture.filter on a loaded capture: the mask over the frame, not a replay ------------------------
_SHARED_TRUTH = Path(__file__).resolve().parents[2] / "shared" / "captures" / "truth"


def _recorded_filters() -> list[tuple[str, str]]:
    """(capture, filter) pairs recorded with sysdig beside the shared captures."""
    out = []
    if _SHARED_TRUTH.is_dir():
        for f in sorted(_SHARED_TRUTH.glob("*/filters/*.filter")):
            cap = _SHARED_TRUTH.parent / f"{f.parent.parent.name}.scap"
            if cap.is_file():
                out.append((str(cap), f.read_text().strip()))
    return out


@pytest.mark.skipif(not _recorded_filters(), reason="../shared/captures is absent")
def test_capture_filter_from_the_frame_selects_what_the_replay_selects():
    """Every recorded filter of the shared captures: where the frame holds the filter's fields, the
    frame's mask picks the same events as the replayed filter; the others take the replay."""
    import numpy as np

    from scapinspect.capture import Capture
    from scapinspect.filters.stream import _Bound, frame_numbers, iter_matching
    caps: dict[str, Capture] = {}
    framed = 0
    for path, expr in _recorded_filters():
        cap = caps.setdefault(path, Capture(path))
        try:
            got = frame_numbers(cap, expr)
        except ValueError:
            continue                    # filters sysdig rejects are tested elsewhere
        if got is None:
            continue
        framed += 1
        s, it = cap.replay()
        want = np.fromiter(iter_matching(_Bound(s, it), expr), dtype=np.int64)
        assert np.array_equal(got, want), (path, expr)
    assert framed >= 20
