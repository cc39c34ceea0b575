"""Vectorised tests of one comparison against one frame column, by field type.

Every test returns a numpy bool array with False wherever the column is NA. Categorical columns are
evaluated once per category and spread to the rows through the codes.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from . import fields as F
from .errors import FilterError
from .fields import FieldInfo

Test = Callable[["ColumnCache", str], np.ndarray]
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _bools(result) -> np.ndarray:
    """A pandas/numpy comparison result as a numpy bool array, NA as False."""
    if isinstance(result, pd.Series | pd.Index):
        if result.dtype == bool:
            return result.to_numpy()
        return result.to_numpy(dtype=bool, na_value=False)
    return np.asarray(result, dtype=bool)


class ColumnCache:
    """Columns of one frame, with the derived arrays several tests share."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._memo: dict[tuple[str, str], object] = {}

    def __len__(self) -> int:
        return len(self.frame)

    def series(self, col: str) -> pd.Series:
        return self.frame[col]

    def _get(self, kind: str, col: str, make: Callable[[], object]):
        key = (kind, col)
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def valid(self, col: str) -> np.ndarray:
        return self._get("valid", col, lambda: self.series(col).notna().to_numpy())

    def is_numeric(self, col: str) -> bool:
        dtype = self.series(col).dtype
        if isinstance(dtype, pd.CategoricalDtype):
            dtype = dtype.categories.dtype
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)

    def numeric(self, col: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Values as a numpy number array plus the valid mask (None when nothing is missing)."""
        return self._get("numeric", col, lambda: _numeric(self.series(col), col))

    def on_categories(self, col: str, fn: Callable[[pd.Series], np.ndarray]) -> np.ndarray | None:
        """``fn`` applied per category and spread by codes, or None if the column is not categorical."""
        s = self.series(col)
        if not isinstance(s.dtype, pd.CategoricalDtype):
            return None
        codes = self._get("codes", col, lambda: s.cat.codes.to_numpy())
        per_cat = fn(pd.Series(s.cat.categories))
        return np.append(per_cat, False)[codes]

    def strings(self, col: str) -> pd.Series:
        """The column as text; numbers are converted, categoricals are left to on_categories."""
        s = self.series(col)
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            return self._get("strings", col, lambda: s.astype("str"))
        return s

    def uniques(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, unique values) of the column; code -1 marks NA."""
        def make():
            s = self.series(col)
            if isinstance(s.dtype, pd.CategoricalDtype):
                return s.cat.codes.to_numpy(), s.cat.categories.to_numpy(dtype=object)
            codes, uniq = pd.factorize(s, use_na_sentinel=True)
            return codes, np.asarray(uniq, dtype=object)
        return self._get("uniques", col, make)

    def clock(self, col: str, field_name: str) -> pd.Series:
        """Text of a time field (evt.time ...) whose column holds datetimes or epoch nanoseconds."""
        return self._get("clock", col, lambda: _clock_text(self.series(col), field_name))

    def latin1(self, col: str) -> pd.Series:
        """A bytes column as latin-1 text, so byte searches can use the string methods."""
        def decode(b):
            return b.decode("latin-1") if isinstance(b, bytes | bytearray | memoryview) else str(b)
        return self._get("latin1", col, lambda: self.series(col).astype(object).map(decode, na_action="ignore"))


def _numeric(s: pd.Series, col: str) -> tuple[np.ndarray, np.ndarray | None]:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        cats = s.cat.categories.to_numpy()
        return cats[np.maximum(codes, 0)] if len(cats) else np.zeros(len(s)), codes >= 0
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iub":
            return s.to_numpy(), None
        if dtype.kind == "f":
            values = s.to_numpy()
            return values, ~np.isnan(values)
        if dtype.kind == "O":
            for target in ("Int64", "UInt64", "Float64"):
                try:
                    return _numeric(pd.Series(pd.array(s.to_numpy(), dtype=target)), col)
                except (TypeError, ValueError, OverflowError):
                    continue
    np_dtype = getattr(dtype, "numpy_dtype", None)
    arr = s.array
    data, mask = getattr(arr, "_data", None), getattr(arr, "_mask", None)
    if isinstance(data, np.ndarray) and isinstance(mask, np.ndarray) and data.shape == mask.shape:
        # pandas masked arrays (Int64, UInt64, Float64, boolean): use their buffers without copying
        return data, (None if not mask.any() else ~mask)
    if np_dtype is not None and np_dtype.kind in "iufb":
        valid = ~np.asarray(arr.isna(), dtype=bool)
        return arr.to_numpy(dtype=np_dtype, na_value=0), (None if valid.all() else valid)
    raise FilterError(f"column {col!r} has dtype {dtype}, but the field is numeric")


_CLOCK_FIELDS = {"evt.time": (False, 9), "evt.outputtime": (False, 9), "evt.time.s": (False, 0),
                 "evt.datetime": (True, 9), "evt.datetime.s": (True, 0)}   # (with date, fraction digits)


def _clock_text(s: pd.Series, field_name: str) -> pd.Series:
    """Datetimes (wall clock of their zone) or epoch ns as sysdig's time text, built digit by digit."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        stamps = s.to_numpy(dtype="datetime64[ns]")
        valid = ~np.isnat(stamps)
        ns = stamps.view(np.int64)
    else:
        values, known = _numeric(s, field_name)
        ns = values.astype(np.int64)
        valid = known if known is not None else np.ones(len(ns), dtype=bool)
    with_date, digits = _CLOCK_FIELDS[field_name]
    days, tod = np.divmod(ns, 86_400_000_000_000)
    parts: list[tuple[np.ndarray | None, int | str]] = []
    if with_date:
        year, month, day = _civil(days)
        parts += [(year, 4), (None, "-"), (month, 2), (None, "-"), (day, 2), (None, " ")]
    parts += [(tod // 3_600_000_000_000, 2), (None, ":"), (tod // 60_000_000_000 % 60, 2), (None, ":"),
              (tod // 1_000_000_000 % 60, 2)]
    if digits:
        parts += [(None, "."), (tod % 1_000_000_000, 9)]
    width = sum(w if v is not None else 1 for v, w in parts)  # type: ignore[misc]
    buf = np.empty((len(ns), width), dtype=np.uint8)
    col = 0
    for value, spec in parts:
        if value is None:
            buf[:, col] = ord(str(spec))
            col += 1
            continue
        value = value.astype(np.int32)
        for k in range(int(spec) - 1, -1, -1):
            value, digit = np.divmod(value, 10)
            buf[:, col + k] = digit + 48
        col += int(spec)
    return _text_series(buf, valid, s.index)


def _text_series(buf: np.ndarray, valid: np.ndarray, index: pd.Index) -> pd.Series:
    """Rows of ASCII bytes as a text Series, through pyarrow when it is there (50x faster)."""
    rows, width = buf.shape
    try:
        import pyarrow as pa
    except ImportError:
        text = buf.view(f"S{width}").ravel().astype(f"U{width}").astype(object)
        text[~valid] = None
        return pd.Series(text, index=index, dtype="str")
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    offsets = pa.py_buffer(np.arange(0, (rows + 1) * width, width, dtype=np.int32))
    text = pa.Array.from_buffers(pa.string(), rows, [bitmap, offsets, pa.py_buffer(np.ascontiguousarray(buf))])
    return pd.Series(pd.arrays.ArrowStringArray(text), index=index)


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm)."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


_CMP = {
    "=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}


def make_test(info: FieldInfo, op: str, converted: tuple, raw: Sequence[str | None],
              positions: Sequence[int]) -> Test:
    """The test of ``<field> <op> <value(s)>`` for one column; ``converted`` holds typed values."""
    if op == "exists":
        return lambda cache, col: cache.valid(col).copy()
    kind = F.type_kind(info.type)
    if kind == "numeric":
        return _numeric_test(op, converted)
    if kind == "bool":
        return _bool_test(op, converted)
    if kind in ("ip", "net"):
        return _ip_test(op, converted, kind == "net")
    if kind == "buffer":
        needles = tuple(v.decode("latin-1") for v in converted)
        str_op = {"bcontains": "contains", "bstartswith": "startswith"}.get(op, op)
        fn = string_fn(str_op, needles)
        return lambda cache, col: fn(cache.latin1(col))
    text_test = _string_test(op, tuple(str(v) for v in converted), info.name in _CLOCK_FIELDS and info.name)
    if kind == "string":
        return text_test
    return _dyn_test(op, raw, positions, text_test)


def _numeric_test(op: str, targets: tuple) -> Test:
    def test(cache: ColumnCache, col: str) -> np.ndarray:
        values, valid = cache.numeric(col)
        if op in ("in", "intersects"):
            out = np.zeros(len(values), dtype=bool)
            for t in targets:
                out |= values == t
        else:
            out = _CMP[op](values, targets[0])
        return out & valid if valid is not None else out
    return test


def _dyn_test(op: str, raw: Sequence[str | None], positions: Sequence[int], text_test: Test) -> Test:
    """evt.rawarg.NAME: numeric comparison when the column holds numbers, else text."""
    def test(cache: ColumnCache, col: str) -> np.ndarray:
        if not cache.is_numeric(col):
            return text_test(cache, col)
        if op not in _CMP and op not in ("in", "intersects"):
            raise FilterError(f"operator '{op}' is not supported for numeric column {col!r}", positions[0])
        numbers = []
        for text, at in zip(raw, positions, strict=True):
            try:
                numbers.append(int(str(text), 0))
            except ValueError:
                raise FilterError(f"expected a number for {col}, got {text!r}", at) from None
        return _numeric_test(op, tuple(numbers))(cache, col)
    return test


def _bool_test(op: str, targets: tuple) -> Test:
    def test(cache: ColumnCache, col: str) -> np.ndarray:
        values, valid = cache._get("bool", col, lambda: _booleans(cache.series(col)))
        if op == "!=":
            out = values != targets[0]
        else:
            out = np.zeros(len(values), dtype=bool)
            for t in targets:
                out |= values == t
        return out & valid if valid is not None else out
    return test


def _booleans(s: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    if s.dtype == bool:
        return s.to_numpy(), None
    valid = s.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool, na_value=False), valid
    return _bools(s.isin([True, "true"])), valid


def _ip_test(op: str, targets: tuple, is_net: bool) -> Test:
    def matches(addr: _IP | None) -> bool:
        if addr is None:
            return False
        if is_net:
            hit = any(addr.version == t.version and addr in t for t in targets)
        else:
            hit = any(addr == t for t in targets)
        return not hit if op == "!=" else hit

    def test(cache: ColumnCache, col: str) -> np.ndarray:
        codes, uniq = cache.uniques(col)
        parsed = cache._get("ip", col, lambda: [_parse_ip(u) for u in uniq])
        per_unique = np.fromiter((matches(a) for a in parsed), dtype=bool, count=len(parsed))
        return np.append(per_unique, False)[codes]
    return test


def _parse_ip(value) -> _IP | None:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        addr = value
    else:
        try:
            addr = ipaddress.ip_address(str(value).strip("[]"))
        except ValueError:
            return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _string_test(op: str, needles: tuple[str, ...], clock: str | bool = False) -> Test:
    fn = string_fn(op, needles)

    def test(cache: ColumnCache, col: str) -> np.ndarray:
        spread = cache.on_categories(col, fn)
        if spread is not None:
            return spread
        dtype = cache.series(col).dtype
        if clock and (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)):
            return fn(cache.clock(col, str(clock)))
        return fn(cache.strings(col))
    return test


def string_fn(op: str, needles: tuple[str, ...]) -> Callable[[pd.Series], np.ndarray]:
    """A function from a text Series (NA allowed) to the bool array of ``op`` against ``needles``."""
    fn = _string_op(op, needles)

    def run(s: pd.Series) -> np.ndarray:
        text = _as_text(s)
        return np.zeros(len(s), dtype=bool) if text is None else fn(text)
    return run


def _as_text(s: pd.Series) -> pd.Series | None:
    """``s`` in a form the .str methods accept, or None when it holds no value at all."""
    if isinstance(s.dtype, pd.StringDtype):
        return s
    if s.dtype == object:
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind == "empty":
            return None
        if kind != "string":
            return s.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
        return s
    if not s.notna().any():
        return None
    return s.astype("str")


def _string_op(op: str, needles: tuple[str, ...]) -> Callable[[pd.Series], np.ndarray]:
    first = needles[0] if needles else ""
    if op in ("=", "!="):
        def eq(s):
            hit = _bools(s == first)
            return hit if op == "=" else ~hit & s.notna().to_numpy()
        return eq
    if op in ("in", "intersects"):
        return lambda s: _bools(s.isin(needles))
    if op in ("<", "<=", ">", ">="):
        cmp = _CMP[op]

        def order(s):
            if isinstance(s.dtype, pd.StringDtype):
                return _bools(cmp(s, first))
            valid = s.notna().to_numpy()
            out = np.zeros(len(s), dtype=bool)
            if valid.any():
                values = s.to_numpy(dtype=object)[valid]
                try:
                    out[valid] = cmp(values, first).astype(bool)
                except TypeError:       # a non-text value somewhere: compare only the text ones
                    out[valid] = np.fromiter((isinstance(v, str) and cmp(v, first) for v in values),
                                             dtype=bool, count=len(values))
            return out
        return order
    if op == "contains":
        return lambda s: _bools(s.str.contains(first, regex=False, na=False))
    if op == "startswith":
        return lambda s: _bools(s.str.startswith(first, na=False))
    if op == "endswith":
        return lambda s: _bools(s.str.endswith(first, na=False))
    if op == "icontains":
        pattern = re.escape(first)
        return lambda s: _bools(s.str.contains(pattern, case=False, regex=True, na=False))
    if op in ("glob", "iglob"):
        pattern = glob_to_regex(first)
        flags = re.IGNORECASE if op == "iglob" else 0
        return lambda s: _bools(s.str.match(pattern, flags=flags, na=False))
    if op == "pmatch":
        pattern = pmatch_regex(needles)
        return lambda s: _bools(s.str.match(pattern, na=False))
    raise FilterError(f"operator '{op}' is not supported for text")


def glob_to_regex(pattern: str) -> str:
    """fnmatch(3) with no flags as a regex: ``*`` and ``?`` also match '/', ``\\`` escapes, [!..] negates."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            out.append(re.escape(pattern[i]) if i < n else re.escape("\\"))
            i += 1
        elif ch == "[":
            end, body = _bracket(pattern, i)
            if end < 0:
                out.append(re.escape("["))
            else:
                out.append(body)
                i = end
        else:
            out.append(re.escape(ch))
    return "(?s:" + "".join(out) + r")\Z"


def _bracket(pattern: str, i: int) -> tuple[int, str]:
    """Translate a [...] set starting after '['; returns (index after ']', regex) or (-1, '')."""
    n = len(pattern)
    negate = i < n and pattern[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < n:
        ch = pattern[i]
        if ch == "]" and not first:
            return i + 1, "[" + ("^" if negate else "") + "".join(items) + "]"
        if ch == "\\" and i + 1 < n:
            i += 1
            ch = pattern[i]
        if ch == "-" and items and not first and i + 1 < n and pattern[i + 1] != "]":
            items.append("-")
        else:
            items.append(re.escape(ch) if ch != "-" else r"\-")
        first = False
        i += 1
    return -1, ""


def pmatch_regex(paths: Sequence[str]) -> str:
    """Path-prefix match by components, as libsinsp's path_prefix_search: /etc matches /etc/x, not /etcx."""
    alternatives = []
    for path in paths:
        parts = [re.escape(p) for p in path.split("/") if p]
        alternatives.append("/*" + "/+".join(parts) + (r"(?:/|\Z)" if parts else ""))
    return "(?s:" + "|".join(alternatives or [r"(?!)"]) + ")"
