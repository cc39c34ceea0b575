"""The Overview tiles: Inspect's summary metrics computed from the events frame (no textual here).

Each metric selects exit events with a vectorised mask and either counts them, sums their ``evt.buflen``
or counts distinct values of a column, per time bucket and in total (rules after wsysdig_summary.lua,
inspect-features.md §2; only those the events frame can answer).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..parsers import eventtable as et
from .catalog import CATEGORY_ORDER, CATEGORY_TITLES  # noqa: F401
from .compute import histogram
from .scope import quote

BUCKETS = 400


def _flagged(flag: int) -> frozenset[str]:
    names: set[str] = set()
    for table in (et.head(), et.v0293()):
        names.update(e.name for e in table.events if e is not None and e.flags & flag)
    return frozenset(names)


READS = _flagged(et.EF_READS_FROM_FD)
WRITES = _flagged(et.EF_WRITES_TO_FD)


@dataclass(frozen=True)
class Metric:
    """One tile: total, per-bucket timeline over ``[t0, t1]``, and where Enter takes you."""
    name: str
    category: str
    total: float
    timeline: np.ndarray
    unit: str                   # "" or "B"
    target: str                 # tab id
    filter: str | None          # filter added by the drill-down, if any
    how: str = "sum"            # how the timeline rebins: "sum", or "max" for distinct counts
    noteworthy: bool = False


@dataclass(frozen=True)
class _Rule:
    name: str
    category: str
    select: Callable[[_Cols], np.ndarray]
    value: str                  # "count", "bytes", or "distinct:<column>"
    target: str
    filter: str | None = None
    always: bool = False        # shown even when zero
    noteworthy: bool = False


class _Cols:
    """Columns of the events frame as numpy arrays, computed once; string tests run on categories."""

    def __init__(self, ev: pd.DataFrame):
        self.ev = ev
        self._c: dict[str, np.ndarray] = {}

    def _col(self, name: str) -> pd.Series | None:
        return self.ev[name] if name in self.ev else None

    def codes(self, name: str) -> np.ndarray:
        """Integer codes for a string column (-1 = missing): cheap distinct counts."""
        key = f"c:{name}"
        if key not in self._c:
            col = self._col(name)
            if col is None:
                self._c[key] = np.full(len(self.ev), -1, dtype=np.int64)
            elif isinstance(col.dtype, pd.CategoricalDtype):
                self._c[key] = col.cat.codes.to_numpy().astype(np.int64)
            else:
                self._c[key] = pd.factorize(col, use_na_sentinel=True)[0].astype(np.int64)
        return self._c[key]

    def test(self, name: str, pred) -> np.ndarray:
        """``pred(str) -> bool`` over a string column, evaluated once per distinct value."""
        col = self._col(name)
        if col is None:
            return np.zeros(len(self.ev), dtype=bool)
        if not isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype("category")
        hits = np.array([bool(pred(str(v))) for v in col.cat.categories] + [False], dtype=bool)
        codes = col.cat.codes.to_numpy()
        return hits[np.where(codes >= 0, codes, len(hits) - 1)]

    def eq(self, name: str, value: str) -> np.ndarray:
        return self.test(name, lambda v: v == value)

    def isin(self, name: str, values) -> np.ndarray:
        vals = frozenset(values)
        return self.test(name, lambda v: v in vals)

    def i(self, name: str, default: int = 0) -> np.ndarray:
        key = f"i:{name}"
        if key not in self._c:
            col = self._col(name)
            if col is None:
                self._c[key] = np.full(len(self.ev), default, dtype=np.int64)
            else:
                self._c[key] = pd.array(col, dtype="Int64").fillna(default).to_numpy(dtype=np.int64)
        return self._c[key]

    def b(self, name: str) -> np.ndarray:
        key = f"b:{name}"
        if key not in self._c:
            col = self._col(name)
            if col is None:
                self._c[key] = np.zeros(len(self.ev), dtype=bool)
            else:
                self._c[key] = pd.array(col, dtype="boolean").fillna(False).to_numpy(dtype=bool)
        return self._c[key]

    @property
    def exit_ok(self) -> np.ndarray:
        if "exit_ok" not in self._c:
            self._c["exit_ok"] = self.eq("evt.dir", "<") & (self.i("evt.rawres", 0) >= 0)
        return self._c["exit_ok"]

    def io(self, fdtypes: tuple[str, ...], names: frozenset[str]) -> np.ndarray:
        return self.exit_ok & self.isin("fd.type", fdtypes) & self.isin("evt.type", names)


_NET = ("ipv4", "ipv6")
_FILE = ("file",)
_SYSTEM_DIRS = ("/bin/", "/sbin/", "/boot/", "/etc/", "/lib", "/usr/bin/", "/usr/sbin/", "/usr/share/",
                "/usr/lib")


def _exit_of(c: _Cols, *types: str) -> np.ndarray:
    return c.eq("evt.dir", "<") & c.isin("evt.type", types)


RULES: tuple[_Rule, ...] = (
    _Rule("Running Processes", "general", lambda c: c.i("proc.pid", -1) >= 0, "distinct:proc.pid",
          "processes", always=True),
    _Rule("System Calls", "general", lambda c: np.ones(len(c.ev), bool), "count", "syscalls", always=True),
    _Rule("File Bytes In+Out", "file", lambda c: c.io(_FILE, READS | WRITES), "bytes", "files", always=True),
    _Rule("File Bytes In", "file", lambda c: c.io(_FILE, READS), "bytes", "files", always=True),
    _Rule("File Bytes Out", "file", lambda c: c.io(_FILE, WRITES), "bytes", "files", always=True),
    _Rule("Accessed Files", "file", lambda c: c.io(_FILE, READS | WRITES), "distinct:fd.name", "files"),
    _Rule("Modified Files", "file", lambda c: c.io(_FILE, WRITES), "distinct:fd.name", "files",
          "evt.is_io_write=true"),
    _Rule("Net Bytes In+Out", "network", lambda c: c.io(_NET, READS | WRITES), "bytes", "connections",
          always=True),
    _Rule("Net Bytes In", "network", lambda c: c.io(_NET, READS), "bytes", "connections", always=True),
    _Rule("Net Bytes Out", "network", lambda c: c.io(_NET, WRITES), "bytes", "connections", always=True),
    _Rule("Active Network Connections", "network", lambda c: c.io(_NET, READS | WRITES), "distinct:fd.name",
          "connections", "evt.is_io=true"),
    _Rule("New Outbound Connections", "network", lambda c: _exit_of(c, "connect"), "count", "syscalls",
          "evt.type=connect and evt.dir=<"),
    _Rule("New Inbound Connections", "network", lambda c: _exit_of(c, "accept", "accept4"), "count",
          "syscalls", "evt.type in (accept, accept4) and evt.dir=<"),
    _Rule("Executed Commands", "security", lambda c: _exit_of(c, "execve", "execveat") & (c.i("evt.rawres") >= 0),
          "count", "spy_users", always=True, noteworthy=True),
    _Rule("Modified System Files", "security",
          lambda c: c.io(_FILE, WRITES) & c.test("fd.name", lambda v: v.startswith(_SYSTEM_DIRS)),
          "distinct:fd.name", "files", "evt.is_io_write=true", noteworthy=True),
    _Rule("Sudo Invocations", "security",
          lambda c: _exit_of(c, "execve", "execveat") & (c.i("evt.rawres") >= 0) & c.eq("proc.name", "sudo"),
          "count", "syscalls", "evt.type=execve and proc.name=sudo", noteworthy=True),
    _Rule("Setns Invocations", "security", lambda c: _exit_of(c, "setns") & (c.i("evt.rawres") >= 0),
          "count", "syscalls", "evt.type=setns", noteworthy=True),
    _Rule("New Symlinks", "security", lambda c: _exit_of(c, "symlink", "symlinkat") & (c.i("evt.rawres") >= 0),
          "count", "syscalls", "evt.type in (symlink, symlinkat) and evt.dir=< and evt.failed=false"),
    _Rule("Deleted Files", "security", lambda c: _exit_of(c, "unlink", "unlinkat") & (c.i("evt.rawres") >= 0),
          "count", "syscalls", "evt.type in (unlink, unlinkat) and evt.dir=< and evt.failed=false"),
    _Rule("Failed System Calls", "performance", lambda c: c.b("evt.failed"), "count", "errors", always=True),
    _Rule("File Open Errors", "performance",
          lambda c: _exit_of(c, "open", "openat", "openat2", "creat") & (c.i("evt.rawres") < 0), "count",
          "syscalls", "evt.type in (open, openat, openat2, creat) and evt.dir=< and evt.failed=true"),
    _Rule("Failed Connection Attempts", "performance",
          lambda c: _exit_of(c, "connect") & (c.i("evt.rawres") < 0) & (c.i("evt.rawres") != -115),
          "count", "syscalls", "evt.type=connect and evt.dir=< and evt.failed=true and evt.res!=EINPROGRESS",
          noteworthy=True),
    _Rule("Fork Count", "performance",
          lambda c: _exit_of(c, "clone", "clone3", "fork", "vfork") & (c.i("evt.rawres") > 0), "count",
          "syscalls", "evt.type in (clone, clone3, fork, vfork) and evt.dir=<"),
    _Rule("Received Signals", "performance", lambda c: c.isin("evt.type", ("signaldeliver",)), "count",
          "syscalls", "evt.type=signaldeliver"),
    _Rule("Slow File I/O calls (1ms+)", "performance",
          lambda c: c.io(_FILE, READS | WRITES) & (c.i("evt.latency") > 1_000_000)
          & ~c.test("fd.name", lambda v: v.startswith("/dev/")),
          "count", "syscalls", "evt.is_io=true and fd.type=file and evt.latency>1000000"),
)


def overview(events: pd.DataFrame, *, buckets: int = BUCKETS,
             span: tuple[int, int] | None = None) -> list[Metric]:
    """The tiles for ``events`` (the events frame of a Capture), timelines over ``span`` (ns)."""
    c = _Cols(events)
    times = c.i("evt.rawtime")
    if span is None:
        span = (int(times.min()), int(times.max())) if len(times) else (0, 0)
    t0, t1 = span
    out: list[Metric] = []
    for r in RULES:
        mask = r.select(c)
        out_metric = _measure(r, c, mask, times, t0, t1, buckets)
        if out_metric.total or r.always:
            out.append(out_metric)
    out.extend(_categories(c, times, t0, t1, buckets))
    return out


def keep_places(metrics: list[Metric], like: list[Metric]) -> list[Metric]:
    """The tiles of ``like`` (the whole capture's) with the numbers of ``metrics`` (a filtered or
    time-ranged part of it): a tile the part lacks (Inspect leaves out its excludable zero tiles) shows
    zero, so filtering changes the numbers, not the tiles' places. Tiles only ``metrics`` has come last."""
    got = {m.name: m for m in metrics}
    out = [got.pop(m.name, None) or replace(m, total=0.0, timeline=np.zeros_like(m.timeline)) for m in like]
    return out + [m for m in metrics if m.name in got]


def _measure(r: _Rule, c: _Cols, mask: np.ndarray, times: np.ndarray, t0: int, t1: int,
             buckets: int) -> Metric:
    unit, how = "", "sum"
    if r.value == "count":
        total = float(mask.sum())
        line = histogram(times[mask], t0, t1, buckets)
    elif r.value == "bytes":
        w = np.maximum(c.i("evt.buflen"), 0)[mask].astype(float)
        total = float(w.sum())
        line = histogram(times[mask], t0, t1, buckets, weights=w)
        unit = "B"
    else:
        col = r.value.split(":", 1)[1]
        keys = c.i(col, -1)[mask] if col == "proc.pid" else c.codes(col)[mask]
        total = float(len(pd.unique(keys)))
        line = _distinct_per_bucket(times[mask], keys, t0, t1, buckets)
        how = "max"
    return Metric(r.name, r.category, total, line, unit, r.target, r.filter, how, r.noteworthy)


def _distinct_per_bucket(times: np.ndarray, keys: np.ndarray, t0: int, t1: int, buckets: int) -> np.ndarray:
    if len(times) == 0:
        return np.zeros(buckets)
    b = histogram_index(times, t0, t1, buckets)
    frame = pd.DataFrame({"b": b, "k": keys}).drop_duplicates()
    counts = frame.groupby("b").size()
    out = np.zeros(buckets)
    out[counts.index.to_numpy()] = counts.to_numpy()
    return out


def histogram_index(times: np.ndarray, t0: int, t1: int, buckets: int) -> np.ndarray:
    if t1 <= t0:
        return np.zeros(len(times), dtype=np.int64)
    return ((times.astype(np.int64) - t0) * buckets // (t1 - t0 + 1)).clip(0, buckets - 1)


def _categories(c: _Cols, times: np.ndarray, t0: int, t1: int, buckets: int) -> list[Metric]:
    col = c.ev["evt.category"] if "evt.category" in c.ev else pd.Series([], dtype="category")
    counts = col.value_counts(sort=False)
    codes = c.codes("evt.category")
    cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else list(pd.factorize(col)[1])
    out = []
    for name, n in sorted(((k, int(v)) for k, v in counts.items() if v and str(k) != ""), key=lambda x: -x[1]):
        mask = codes == cats.index(name)
        out.append(Metric(str(name), "events", float(n), histogram(times[mask], t0, t1, buckets), "",
                          "syscalls", f"evt.category={quote(str(name))}"))
    return out
