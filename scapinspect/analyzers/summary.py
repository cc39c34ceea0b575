"""The overview of a capture: Sysdig Inspect's tiles (the ``wsysdig_summary`` chisel) and timelines.

A small per-event frame (time, type, result, fd type and name, bytes, latency ...) plus the lifetimes
of processes, containers and listening ports are gathered once per capture (``collect``): from the fast
load's side data (analyzers.fast_summary, tens of times faster) or, when that cannot give the exact
answer, by one replay of the capture (``replay_collect``, the definition of the answer). Every tile is
then a numpy expression over those columns, declared in ``TILES`` with its category, drill-down view
and filter.

Where this differs from Inspect on purpose (its known tile bugs, see inspect-features.md §2 and §7.1):

* **HTTP Requests** counts HTTP requests (request heads found by ``analyzers.http``), not buffers starting
  with ``HTTP/`` (which are responses); **HTTP Errors** counts responses with a status >= 400, not every
  status other than 200 (Inspect's own description says "different from 400"). Both come from the
  reassembled streams, so a head split over several reads still counts once. Their drill-down goes to
  the ``echo`` view with filters that select what is counted.
* **File Open Errors** counts failed ``open``, ``openat``, ``openat2`` and ``creat``, not ``open`` alone,
  and drills into all of them.
* **Fork Count** counts the parent side of ``clone``/``fork``/``vfork``/``clone3`` and drills into the same
  events (Inspect counts parents but drills into children, ``evt.rawres=0``).
* **Segmentation Faults** drills with ``SIGSEGV`` (Inspect's filter says ``SIGSEV`` and shows nothing).
* **Net Bytes In+Out** drills by ``fd.sport`` like the other network byte tiles (Inspect: ``fd.directory``).
* **Accessed Files** drills with ``evt.is_io=true`` (it counts reads and writes; Inspect drills into reads).
* **Listening Ports**: closing a listening socket removes its port from the timeline (Inspect tests
  ``fd.typechar=='2'``, which no socket has, so ports never go away).
* **New Inbound Connections** counts ``accept4`` as well as ``accept``.
* Timelines have exactly ``samples`` equal buckets over [first event, last event] (Inspect re-buckets 400
  samples with a rounded-up ratio, which gives fewer samples than asked for when 400 is not a multiple).

* A capture with no duration (only procinfo events) still reports the processes of its thread table
  (Inspect's interval callback never runs then, and it reports 0).

Everything else follows the chisel: "System Calls" counts every event the chisel sees (procinfo
included; not the container events that lead the file, nor user/group table updates), byte tiles sum ``evt.buflen`` of successful exits, table tiles (files, connections, ports,
processes, containers) count distinct keys over the whole capture, and excludable tiles with a total of
0 are left out.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._i64 import i64
from .._text import codes_among, table_texts
from ..parsers import eventtable as et
from ..parsers import metadata as md
from ..parsers.params import p_int, p_str
from ..render.events import HIDDEN_041, LEADING_CONTAINER_EVENTS
from ..state.fields import FieldContext, getter
from ..state.model import CL_CLONE_FILES, ROLE_SERVER

EINPROGRESS = 115
SIGSEGV = 11
SERVICES: dict[int, str] = {
    80: "HTTP", 8080: "HTTP", 443: "HTTPs", 22: "SSH", 53: "DNS", 6666: "Sysdig Agent", 6667: "Sysdig Agent",
    6443: "Sysdig Agent", 2379: "etcd", 22379: "etcd", 3306: "mysql", 5432: "postgres", 6379: "redis",
    5984: "couchdb", 9880: "fluentd", 8125: "statsd", 4730: "gearman", 50070: "hadoop", 8020: "hadoop",
    9000: "hadoop", 60000: "hbase", 60010: "hbase", 60020: "hbase", 60030: "hbase", 2181: "kafka",
    1978: "Kyoto Tycoon", 11211: "memcached", 27017: "mongodb", 27018: "mongodb", 27019: "mongodb",
    28017: "mongodb", 5672: "rabbitmq", 8087: "riak", 8098: "riak", 8983: "solr", 5555: "voltdb",
    **dict.fromkeys(range(9200, 9401), "elasticsearch"),
}
SYSTEM_DIRS = ("/bin/", "/sbin/", "/boot/", "/etc/", "/lib", "/usr/bin/", "/usr/sbin/", "/usr/share/", "/usr/lib")
CATEGORIES = (("general", "General"), ("file", "File"), ("network", "Network"), ("napps", "Network Apps"),
              ("security", "Security"), ("performance", "Performance"), ("logs", "Logs"),
              ("infrastructure", "Infrastructure"))
ALWAYS_CATEGORIES = frozenset({"general", "file", "network", "security", "performance"})
# user/group table updates: sysdig 0.29.3 skips them (event ids >= 336), 0.41.4 does not number them
_NOT_DELIVERED = frozenset({"useradded", "userdeleted", "groupadded", "groupdeleted"})
_FIELDS = ("fd.type", "fd.name", "fd.containername", "fd.sport", "evt.buflen", "evt.latency", "proc.pname")
_IO = et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD


# -- one replay -------------------------------------------------------------------------------------------
class SummaryData:
    """What the tiles are computed from.

    ``events`` has one row per event the collector sees (see ``replay_collect``); the tiles read it as
    ``cols`` (its columns as numpy arrays). The fast path (analyzers.fast_summary) gives ``cols`` and
    builds ``events`` only when asked for it (``events`` may be given as a function making the frame).
    """

    def __init__(self, events, procs: pd.DataFrame, containers: pd.DataFrame, ports: pd.DataFrame,
                 http: pd.DataFrame, first: int, last: int, cols: EventCols | None = None):
        self._events = events
        self.procs = procs              # key, start, end: processes in the thread table (end NA: to the end)
        self.containers = containers    # key, start, end: container ids of those processes
        self.ports = ports              # key, start, end: listening ports
        self.http = http                # analyzers.http rows
        self.first = first
        self.last = last
        self._cols = cols

    @property
    def events(self) -> pd.DataFrame:
        if callable(self._events):
            self._events = self._events()
        return self._events

    @property
    def cols(self) -> EventCols:
        if self._cols is None:
            self._cols = EventCols.of(self.events)
        return self._cols


def _order(k) -> tuple:
    """Sort key for lifetime keys (ints or strings, None last): lifetimes are listed in a fixed order
    (not a set's), so that the fast path (analyzers.fast_summary) can give the same frames."""
    return (k is None, k if k is not None else 0)


class _Lifetimes:
    """Keys (pids, container ids, ports) with the time they appeared and went away.

    Rows are ordered by the time a key went away, keys still alive last, each group in the order the
    keys appeared; keys that appear or go away at the same time are taken in sorted order."""

    def __init__(self):
        self.live: dict = {}
        self.rows: list[tuple] = []

    def update(self, now: set, ts: int) -> None:
        self.change(sorted(now - self.live.keys(), key=_order),
                    sorted((k for k in self.live if k not in now), key=_order), ts)

    def change(self, starts, ends, ts: int) -> None:
        """Keys ``starts`` appear and keys ``ends`` (alive) go away at ``ts``, in these orders."""
        for k in starts:
            self.live[k] = ts
        for k in ends:
            self.rows.append((k, self.live.pop(k), ts))

    def add(self, k, ts: int) -> None:
        self.live.setdefault(k, ts)

    def remove(self, k, ts: int) -> None:
        if k in self.live:
            self.rows.append((k, self.live.pop(k), ts))

    def frame(self) -> pd.DataFrame:
        rows = self.rows + [(k, s, None) for k, s in self.live.items()]
        return pd.DataFrame({"key": [r[0] for r in rows], "start": pd.array(i64([r[1] for r in rows]), dtype="Int64"),
                             "end": pd.array(i64([r[2] for r in rows]), dtype="Int64")})


def _thread_sets(state) -> tuple[set, set]:
    from ..state.fields import container_id
    pids, cids = set(), set()
    for t in state.threads.values():
        if t.tid == t.pid:
            pids.add(t.pid)
            cid = container_id(state, t)
            if cid:
                cids.add(cid)
    extra = getattr(state, "extra", None)
    if extra is not None:          # containers the capture describes (container events)
        cids.update(c[:12] for c in extra.containers)
    return pids, cids


def _startup_ports(state) -> set[int]:
    """Ports the thread table's fds serve at capture start: listening sockets, and the server side of
    connections (as the chisel's thread table reports them)."""
    ports: set[int] = set()
    for t in state.threads.values():
        if t.flags & CL_CLONE_FILES and t.tid != t.pid:
            continue
        for f in t.fds.values():
            if f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
                ports.add(f.sport)
            elif f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK) and f.role == ROLE_SERVER:
                ports.add(f.dport)
    return ports


class _Collector:
    def __init__(self, stream):
        self.stream = stream
        self.state = stream.state
        self.prof = stream.renderer.prof
        self.getters = [getter(n) for n in _FIELDS]
        self.cols: dict[str, list] = {n: [] for n in (
            "ts", "type", "dir", "rawres", "is_read", "is_write", "hidden", "arg", *_FIELDS)}
        self.net: list[tuple] = []
        self.procs, self.containers, self.ports = _Lifetimes(), _Lifetimes(), _Lifetimes()
        self.nthreads = -1
        self.started = False

    def run(self, items) -> None:
        leading = True
        for item in items:
            ev = item.ev
            if leading and ev.type in LEADING_CONTAINER_EVENTS:
                continue            # consumed by libsinsp while opening the file: chisels never see them
            leading = False
            if self.stream.type_name(ev) in _NOT_DELIVERED:
                continue
            if not self.started:
                self.started = True
                for p in sorted(_startup_ports(self.state), key=_order):
                    self.ports.add(p, ev.ts)
            self.event(item)

    def event(self, item) -> None:
        ev, ctx = item.ev, item.ctx
        fc = FieldContext(self.stream, item)
        info = self.prof.table.events[ev.type]
        c = self.cols
        name = self.stream.type_name(ev)
        exit_ = ev.type % 2 == 1
        c["ts"].append(ev.ts)
        c["type"].append(name)
        c["dir"].append("<" if exit_ else ">")
        res = fc.res()
        c["rawres"].append(res)
        c["is_read"].append(bool(info.flags & et.EF_READS_FROM_FD))
        c["is_write"].append(bool(info.flags & et.EF_WRITES_TO_FD))
        c["hidden"].append(bool(info.category & et.EC_INTERNAL or ev.flags & 1
                                or (self.prof.name == "0.41" and info.name in HIDDEN_041)))
        # fd fields only where an fd is involved, latency only on I/O, parent name only on execve
        values = [g(fc) for g in self.getters[:5]] if fc.fd_related() else [None] * 5
        values.append(self.getters[5](fc) if exit_ and info.flags & _IO else None)
        values.append(self.getters[6](fc) if exit_ and name == "execve" else None)
        for n, v in zip(_FIELDS, values, strict=True):
            c[n].append(v)
        c["arg"].append(self._arg(ev, info, name, exit_, values[0], values[1], res))
        self._socket_io(ev, ctx, info, values[0], values[1], res)
        self._tables(ev, ctx, name, exit_, values[0], values[3], res)

    def _arg(self, ev, info, name: str, exit_: bool, fdtype, fdname, res):
        """The one extra value some tiles need: exe of execve, signal of signaldeliver, the data of file
        writes (log lines) and writes to unix sockets (syslog), infra source/name."""
        if exit_ and name == "execve" and res is not None and res >= 0:
            return p_str(ev, 1)
        if not exit_ and name == "signaldeliver":
            return p_int(ev, info.param_index("sig"))
        if name == "infra" and ev.nparams >= 2:
            return (p_str(ev, info.param_index("source")), p_str(ev, info.param_index("name")))
        if exit_ and info.flags & et.EF_WRITES_TO_FD and fdtype in ("file", "unix") and res is not None \
                and res >= 0:
            j = info.param_index("data")
            if 0 <= j < ev.nparams:
                raw = ev.raw(j)
                return bytes(raw) if raw is not None else b""
        return None

    def _socket_io(self, ev, ctx, info, fdtype, fdname, res) -> None:
        """Keep the socket payloads for the HTTP tiles (in io_streams' frame layout)."""
        if not (ev.type % 2 == 1 and info.flags & (et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD)
                and fdtype in ("ipv4", "ipv6", "unix") and res is not None and res > 0):
            return
        j = info.param_index("data")
        raw = ev.raw(j) if 0 <= j < ev.nparams else None
        t = ctx.tinfo
        self.net.append((i64([ev.ts])[0], "read" if info.flags & et.EF_READS_FROM_FD else "write",
                         t.comm if t is not None else None, t.pid if t is not None else None,
                         t.lastevent_fd if t is not None else -1, fdtype, fdname,
                         res, bytes(raw) if raw is not None else b""))

    def _tables(self, ev, ctx, name: str, exit_: bool, fdtype, sport, res) -> None:
        n = len(self.state.threads)
        if n != self.nthreads or name in ("procexit", "execve", "clone", "fork", "vfork", "clone3"):
            self.nthreads = n
            pids, cids = _thread_sets(self.state)
            self.procs.update(pids, ev.ts)
            self.containers.update(cids, ev.ts)
        if exit_ and name == "bind" and res is not None and res >= 0 and sport is not None:
            self.ports.add(sport, ev.ts)
        elif not exit_ and name == "close":
            f = ctx.fdinfo
            if f is not None and f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
                # a listening socket closed (its port may still be open elsewhere)
                if not self._port_open_elsewhere(f.sport, f):
                    self.ports.remove(f.sport, ev.ts)

    def _port_open_elsewhere(self, port: int, closing) -> bool:
        for t in self.state.threads.values():
            for f in t.fds.values():
                if f is not closing and f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK) and f.sport == port:
                    return True
        return False


def collect(cap) -> SummaryData:
    """What the tiles need, cached per Capture: from the fast load's side data when it can give the
    exact answer (analyzers.fast_summary), else by ``replay_collect``."""
    cached = _CACHE.get(cap)
    if cached is not None:
        return cached
    from .fast_summary import fast_collect
    data = fast_collect(cap)
    if data is None:
        data = replay_collect(cap)
    _CACHE[cap] = data
    return data


def replay_collect(cap) -> SummaryData:
    """Replay ``cap`` once through the state engine and gather what the tiles need: the definition of
    ``collect``'s answer (not cached)."""
    from .http import http_frame
    stream, items = cap.replay(include_hidden=True)
    col = _Collector(stream)
    col.run(items)
    c = col.cols
    ev = pd.DataFrame({
        "ts": pd.array(i64(c["ts"]), dtype="int64"),     # u64 as int64 (the frame's evt.rawtime)
        "type": pd.Categorical(c["type"]),
        "dir": pd.Categorical(c["dir"], categories=[">", "<"]),
        "rawres": pd.array(i64(c["rawres"]), dtype="Int64"),
        "is_read": np.array(c["is_read"], dtype=bool),
        "is_write": np.array(c["is_write"], dtype=bool),
        "hidden": np.array(c["hidden"], dtype=bool),
        "fd.type": pd.Categorical(table_texts(c["fd.type"])),
        "fd.name": pd.Series(table_texts(c["fd.name"]), dtype="object"),
        "fd.containername": pd.Series(table_texts(c["fd.containername"]), dtype="object"),
        "fd.sport": pd.array(i64(c["fd.sport"]), dtype="Int64"),
        "evt.buflen": pd.array(i64(c["evt.buflen"]), dtype="Int64"),
        "evt.latency": pd.array(i64(c["evt.latency"]), dtype="Int64"),
        "proc.pname": pd.Series(table_texts(c["proc.pname"]), dtype="object"),
        "arg": pd.Series(table_texts(c["arg"]), dtype="object"),
    })
    first = int(ev["ts"].iloc[0]) if len(ev) else 0
    last = int(ev["ts"].iloc[-1]) if len(ev) else 0
    net = pd.DataFrame(col.net, dtype=object, columns=["time", "direction", "proc.name", "proc.pid", "fd.num", "fd.type",
                                         "fd.name", "res", "data"])
    net["time"] = pd.to_datetime(net["time"].astype("int64"), unit="ns", utc=True)
    return SummaryData(ev, col.procs.frame(), col.containers.frame(), col.ports.frame(), http_frame(net),
                       first, last)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# -- the columns the tiles read --------------------------------------------------------------------------
class Text:
    """A text column as codes into distinct labels (-1: missing); the tiles read it at a few rows, and
    count distinct values by their codes."""

    __slots__ = ("codes", "labels", "_lab")

    def __init__(self, codes: np.ndarray, labels: list):
        codes = np.asarray(codes)
        if codes.dtype.kind not in "iu":
            codes = codes.astype(np.int64)
        uniq: list = []
        remap = codes_among(uniq, {}, labels)
        if len(uniq) == len(labels):    # already distinct: the codes stand
            self.codes = codes
        else:
            self.codes = remap[codes]           # (code -1: remap's last entry, -1)
        self.labels = uniq
        self._lab = np.empty(len(uniq) + 1, dtype=object)
        self._lab[:len(uniq)] = uniq            # the last entry (code -1) stays None

    @classmethod
    def of(cls, values) -> Text:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object))
        return cls(codes, list(uniques))

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The values (None: missing) at ``rows``, as an object array."""
        return self.of_codes(self.codes[rows])

    def of_codes(self, codes: np.ndarray) -> np.ndarray:
        """The values of ``codes`` (None for -1), as an object array."""
        return self._lab[codes]


class Sparse:
    """A column missing on most rows (``arg``, ``proc.pname``): its values at the rows that have one."""

    __slots__ = ("idx", "vals")

    def __init__(self, idx: np.ndarray, vals: np.ndarray):
        self.idx = np.asarray(idx, dtype=np.int64)          # sorted rows
        self.vals = vals                                    # object array

    @classmethod
    def of(cls, values) -> Sparse:
        values = np.asarray(values, dtype=object)
        idx = np.flatnonzero(~pd.isna(values))
        return cls(idx, values[idx])

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The values (None: missing) at ``rows``, as an object array."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.full(len(rows), None, dtype=object)
        if len(self.idx) and len(rows):
            k = np.minimum(np.searchsorted(self.idx, rows), len(self.idx) - 1)
            hit = self.idx[k] == rows
            out[hit] = self.vals[k[hit]]
        return out


def _ints(col) -> tuple[np.ndarray, np.ndarray]:
    """(values with 0 where missing, valid) of a nullable integer column."""
    a = pd.array(col, dtype="Int64")
    return a.to_numpy(dtype=np.int64, na_value=0), ~a.isna()


@dataclass
class EventCols:
    """The columns of ``SummaryData.events`` as numpy arrays, in its row order. The fd columns (fd.type
    ... evt.latency) hold the events ``fd_rows`` lists (sorted; None: every event), the others being
    missing; ``arg`` and ``proc.pname`` hold the few events that have one."""
    ts: np.ndarray              # int64
    type_code: np.ndarray       # codes into type_names
    type_names: list
    exit: np.ndarray            # bool: evt.dir is "<"
    res: np.ndarray             # int64 rawres, 0 where missing
    res_ok: np.ndarray
    is_read: np.ndarray
    is_write: np.ndarray
    hidden: np.ndarray
    fd_rows: np.ndarray | None
    fd_type: np.ndarray         # codes into fd_types, -1 where missing
    fd_types: list
    name: Text                  # fd.name
    containername: Text         # fd.containername
    sport: np.ndarray           # int64 fd.sport, 0 where missing
    sport_ok: np.ndarray
    buflen: np.ndarray          # int64 evt.buflen, 0 where missing
    latency: np.ndarray         # int64 evt.latency, 0 where missing
    pname: Sparse               # proc.pname
    arg: Sparse

    @classmethod
    def of(cls, ev: pd.DataFrame) -> EventCols:
        """The columns of an event frame (replay_collect's)."""
        tcat = pd.Categorical(ev["type"])
        fcat = pd.Categorical(ev["fd.type"])
        res, res_ok = _ints(ev["rawres"])
        sport, sport_ok = _ints(ev["fd.sport"])
        return cls(
            ts=ev["ts"].to_numpy(dtype=np.int64), type_code=tcat.codes.astype(np.int64),
            type_names=list(tcat.categories), exit=(ev["dir"] == "<").to_numpy(dtype=bool), res=res,
            res_ok=res_ok, is_read=ev["is_read"].to_numpy(dtype=bool), is_write=ev["is_write"].to_numpy(dtype=bool),
            hidden=ev["hidden"].to_numpy(dtype=bool), fd_rows=None, fd_type=fcat.codes.astype(np.int64),
            fd_types=list(fcat.categories), name=Text.of(ev["fd.name"]),
            containername=Text.of(ev["fd.containername"]), sport=sport, sport_ok=sport_ok,
            buflen=_ints(ev["evt.buflen"])[0], latency=_ints(ev["evt.latency"])[0],
            pname=Sparse.of(ev["proc.pname"]), arg=Sparse.of(ev["arg"]))


# -- what each tile counts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Points:
    """A tile's raw material: ``kind`` "sum" (values at times), "distinct" (keys at times; a bucket counts
    the distinct keys seen in it, the total those of the whole capture) or "level" (keys alive from
    start to end). ``ordered``: ``ts`` is sorted (bucketing can then search the edges in it)."""
    kind: str
    ts: np.ndarray
    values: np.ndarray | None = None
    keys: np.ndarray | None = None
    ends: np.ndarray | None = None
    ordered: bool = False


class _Masks:
    """What the tiles of one capture share: per-event boolean masks, the rows (sorted indices) of each
    event type and of file and network I/O, and the fd columns at given rows."""

    def __init__(self, c: EventCols):
        self.c = c
        self.n = len(c.ts)
        self.ordered = bool(self.n < 2 or (c.ts[1:] >= c.ts[:-1]).all())
        self.exit = c.exit
        self.enter = ~c.exit
        self.ok = c.res_ok & (c.res >= 0) & c.exit
        self.failed = c.res_ok & (c.res < 0) & c.exit
        self.io_ok = self.ok & (c.is_read | c.is_write)
        self.read = c.is_read
        self.write = c.is_write & ~c.is_read
        self._fd_index: np.ndarray | None = None
        self._fd_rows: dict = {}
        self.file = self.sel(self.fd_rows("file"), self.io_ok)
        self.net = self.sel(self.fd_rows("ipv4", "ipv6"), self.io_ok)
        self._types: dict = {}
        self._order: tuple | None = None

    @staticmethod
    def _codes(labels: list, names: tuple) -> list[int]:
        return [i for i, n in enumerate(labels) if n in names]

    def fd_rows(self, *names: str) -> np.ndarray:
        """Rows whose fd.type is one of ``names``, sorted."""
        got = self._fd_rows.get(names)
        if got is None:
            want = np.zeros(len(self.c.fd_types) + 1, dtype=bool)     # per code, the last one for -1
            want[self._codes(self.c.fd_types, names)] = True
            k = np.flatnonzero(want[self.c.fd_type]) if want.any() else np.zeros(0, dtype=np.int64)
            got = self._fd_rows[names] = k if self.c.fd_rows is None else self.c.fd_rows[k]
        return got

    def fd(self, col: np.ndarray, rows: np.ndarray, missing=0) -> np.ndarray:
        """An fd column (``EventCols.fd_type`` ... ``latency``, ``sport_ok``) at ``rows``."""
        fr = self.c.fd_rows
        if fr is None:
            return col[rows]
        if not len(fr):
            return np.full(len(rows), missing, dtype=col.dtype)
        if self._fd_index is None:      # per event, its index in fd_rows (-1: none)
            self._fd_index = np.full(self.n, -1, dtype=np.intp)
            self._fd_index[fr] = np.arange(len(fr))
        k = self._fd_index[rows]
        return np.where(k >= 0, col[k], missing)

    def fd_text(self, col: Text, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes, rows) of a text fd column at ``rows``, where it is there."""
        codes = self.fd(col.codes, rows, -1)
        ok = codes >= 0
        return codes[ok], rows[ok]

    def types(self, *names: str) -> np.ndarray:
        """Rows whose event type is one of ``names``, sorted."""
        got = self._types.get(names)
        if got is None:
            if self._order is None:     # rows grouped by type once: a slice per type afterwards
                code = self.c.type_code
                if len(self.c.type_names) < 32767:
                    code = code.astype(np.int16, copy=False)        # a radix sort
                order = np.argsort(code, kind="stable")
                bounds = np.searchsorted(code[order], np.arange(len(self.c.type_names) + 1))
                self._order = (order, bounds)
            order, bounds = self._order
            parts = [order[bounds[i]:bounds[i + 1]] for i in self._codes(self.c.type_names, names)]
            got = np.sort(np.concatenate(parts)) if len(parts) > 1 else (parts[0] if parts else order[:0])
            self._types[names] = got
        return got

    @staticmethod
    def sel(rows: np.ndarray, *conds: np.ndarray) -> np.ndarray:
        """The ``rows`` where every per-event mask of ``conds`` holds."""
        for c in conds:
            rows = rows[c[rows]]
        return rows

    def with_sport(self, rows: np.ndarray) -> np.ndarray:
        """The ``rows`` that have an fd.sport."""
        return rows[self.fd(self.c.sport_ok, rows, False)]


def _sum(m: _Masks, rows: np.ndarray | None, values: np.ndarray | None = None) -> Points:
    """Values of an fd column (1 when None) at the times of ``rows`` (None: every event)."""
    ts = m.c.ts if rows is None else m.c.ts[rows]
    if values is None:
        v = np.ones(len(ts), dtype=np.int64)
    else:
        v = m.fd(values, np.arange(m.n) if rows is None else rows)
    return Points("sum", ts, v, ordered=m.ordered)


def _distinct(m: _Masks, rows: np.ndarray, keys: Text) -> Points:
    """The distinct values of the fd column ``keys`` at ``rows`` (missing ones left out), counted by
    their codes."""
    k, rows = m.fd_text(keys, rows)
    return Points("distinct", m.c.ts[rows], keys=k, ordered=m.ordered)


def _where(rows: np.ndarray, keep) -> np.ndarray:
    return rows[np.asarray(keep, dtype=bool)] if len(rows) else rows


def _names(m: _Masks, rows: np.ndarray) -> pd.Series:
    """fd.name at ``rows``, missing as '' (for pandas string tests)."""
    return pd.Series(m.c.name.of_codes(m.fd(m.c.name.codes, rows, -1)), dtype=object).fillna("")


def _level(frame: pd.DataFrame, last: int) -> Points:
    ends = frame["end"].fillna(last + 1).to_numpy(dtype=np.int64)
    return Points("level", frame["start"].to_numpy(dtype=np.int64), keys=frame["key"].to_numpy(), ends=ends)


def _log_lines(m: _Masks, kind: str) -> Points:
    rows = m.sel(m.file, m.write)
    name = _names(m, rows)
    is_log = name.str.contains(r"\.log|_log|/var/log", regex=True) & ~name.str.contains(r"\.gz|\.tgz", regex=True)
    rows = _where(rows, is_log.to_numpy(dtype=bool))
    ts, counts = [], []
    for t, data in zip(m.c.ts[rows], m.c.arg.at(rows), strict=True):
        n = 0
        for line in (data or b"").split(b"\n"):
            if not line:
                continue
            low = line.lower()
            if kind == "all" or (kind == "warn" and b"warn" in low) or (
                    kind == "error" and b"warn" not in low and any(w in low for w in (
                        b"error", b"critic", b"emergency", b"alert"))):
                n += 1
        if n:
            ts.append(t)
            counts.append(n)
    return Points("sum", np.array(ts, dtype=np.int64), np.array(counts, dtype=np.int64))


def _syslog(m: _Masks, pred: Callable[[int], bool]) -> Points:
    """Writes to /dev/log (or a file or unix socket) carrying a syslog ``<PRI>`` header."""
    rows = m.sel(m.fd_rows("file", "unix"), m.write, m.ok)
    rows = _where(rows, _names(m, rows).str.contains("/dev/log").to_numpy(dtype=bool))
    ts = []
    for t, data in zip(m.c.ts[rows], m.c.arg.at(rows), strict=True):
        sev = _severity(data or b"")
        if sev is not None and pred(sev):
            ts.append(t)
    return Points("sum", np.array(ts, dtype=np.int64), np.ones(len(ts), dtype=np.int64))


def _severity(data: bytes) -> int | None:
    if not data.startswith(b"<"):
        return None
    end = data.find(b">", 1, 5)
    if end < 0 or not data[1:end].isdigit():
        return None
    return int(data[1:end]) & 7


def _http(d: SummaryData, errors: bool) -> Points:
    h = d.http
    if errors:
        sel = h[(h["status"] >= 400).fillna(False)]
    else:
        sel = h[h["method"].notna()]
    ts = sel["time"].astype("int64").to_numpy() if len(sel) else np.array([], dtype=np.int64)
    return Points("sum", ts, np.ones(len(ts), dtype=np.int64))


def _infra(m: _Masks, name: str | None) -> Points:
    rows = m.sel(m.types("infra"), m.enter)
    keep = [isinstance(a, tuple) and a[0] == "docker" and (name is None or a[1] == name) for a in m.c.arg.at(rows)]
    return _sum(m, _where(rows, keep))


def _arg_is(m: _Masks, rows: np.ndarray, value) -> np.ndarray:
    """The ``rows`` whose arg equals ``value``."""
    return _where(rows, [a == value for a in m.c.arg.at(rows)])


def _res(m: _Masks, rows: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The ``rows`` with a rawres that passes ``test``."""
    return rows[m.c.res_ok[rows] & test(m.c.res[rows])]


@dataclass(frozen=True)
class Tile:
    id: str
    name: str
    desc: str
    category: str
    target_view: str
    drill_key: str
    excludable: bool
    noteworthy: bool
    points: Callable[[SummaryData, _Masks], Points]
    target_filter: str | None = None
    aggregation: str = "sum"


def _slow(ms: int) -> Callable:
    def pts(d: SummaryData, m: _Masks) -> Points:
        rows = m.file[m.fd(m.c.latency, m.file) > ms * 1_000_000]
        return _sum(m, _where(rows, ~_names(m, rows).str.startswith("/dev/").to_numpy(dtype=bool)))
    return pts


def _interactive(d: SummaryData, m: _Masks) -> Points:
    rows = m.sel(m.types("execve"), m.ok)
    pname = pd.Series(m.c.pname.at(rows), dtype=object).fillna("")
    return _sum(m, _where(rows, pname.str.contains("bash", regex=False).to_numpy(dtype=bool)))


def _system_files(d: SummaryData, m: _Masks) -> Points:
    rows = m.sel(m.file, m.write)
    return _distinct(m, _where(rows, _names(m, rows).str.startswith(SYSTEM_DIRS).to_numpy(dtype=bool)),
                     m.c.containername)


def _port_is(m: _Masks, rows: np.ndarray, ports) -> np.ndarray:
    return rows[m.fd(m.c.sport_ok, rows, False) & np.isin(m.fd(m.c.sport, rows), ports)]


_OPENS = "(evt.type=open or evt.type=openat or evt.type=openat2 or evt.type=creat)"
_FORKS = "(evt.type=clone or evt.type=fork or evt.type=vfork or evt.type=clone3)"
_LOG = ("((fd.name contains .log or fd.name contains _log or fd.name contains /var/log) and not "
        "(fd.name contains .gz or fd.name contains .tgz)) and evt.is_io_write=true")
_NET = "(fd.type=ipv4 or fd.type=ipv6)"

TILES: tuple[Tile, ...] = (
    Tile("notifications", "Sysdig Secure Notifications", "Sysdig Secure notifications inserted in the capture.",
         "general", "notifications", "NONE", True, True,
         lambda d, m: _sum(m, m.sel(m.types("notification"), m.enter))),
    Tile("procCount", "Running Processes", "Total number of processes that were running during the capture",
         "general", "procs", "", False, False, lambda d, m: _level(d.procs, d.last), aggregation="avg"),
    Tile("containerCount", "Running Containers", "Total number of containers that were running during the capture",
         "general", "containers", "", False, False, lambda d, m: _level(d.containers, d.last), aggregation="avg"),
    Tile("syscallCount", "System Calls", "Number of system calls performed by any process/container in the system",
         "general", "syscalls", "", False, False, lambda d, m: _sum(m, None)),
    Tile("fileBytes", "File Bytes In+Out", "Amount of bytes read from or written to the file system",
         "file", "files", "fd.directory", False, False, lambda d, m: _sum(m, m.file, m.c.buflen)),
    Tile("fileBytesR", "File Bytes In", "Amount of bytes read from the file system", "file", "files",
         "fd.directory", False, False, lambda d, m: _sum(m, m.sel(m.file, m.read), m.c.buflen)),
    Tile("fileBytesW", "File Bytes Out", "Amount of bytes written to the file system", "file", "files",
         "fd.directory", False, False, lambda d, m: _sum(m, m.sel(m.file, m.write), m.c.buflen)),
    Tile("fileCount", "Accessed Files", "Number of files that have been accessed during the capture", "file",
         "files", "fd.directory", True, False, lambda d, m: _distinct(m, m.file, m.c.containername),
         "evt.is_io=true"),
    Tile("fileCountW", "Modified Files", "Number of files that have received writes during the capture",
         "file", "files", "fd.directory", True, False,
         lambda d, m: _distinct(m, m.sel(m.file, m.write), m.c.containername), "evt.is_io_write=true"),
    Tile("netBytes", "Net Bytes In+Out", "Amount of bytes read from or written to the network", "network",
         "sports", "fd.sport", False, False, lambda d, m: _sum(m, m.net, m.c.buflen)),
    Tile("netBytesR", "Net Bytes In", "Amount of bytes read from the network", "network", "sports", "fd.sport",
         False, False, lambda d, m: _sum(m, m.sel(m.net, m.read), m.c.buflen)),
    Tile("netBytesW", "Net Bytes Out", "Amount of bytes written to the network", "network", "sports", "fd.sport",
         False, False, lambda d, m: _sum(m, m.sel(m.net, m.write), m.c.buflen)),
    Tile("connectionCount", "Active Network Connections",
         "Number of network connections that have been accessed during the capture", "network", "connections",
         "fd.sport", True, False, lambda d, m: _distinct(m, m.net, m.c.containername), "evt.is_io=true"),
    Tile("listeningPortCount", "Listening Ports", "Number of open ports on this system", "network",
         "port_bindings", "fd.sport", True, False, lambda d, m: _level(d.ports, d.last), aggregation="avg"),
    Tile("newListeningPorts", "New Listening Ports",
         "Number of open ports that have been added during the observation interval", "network", "port_bindings",
         "fd.sport", True, True, lambda d, m: _sum(m, m.with_sport(m.sel(m.types("bind"), m.ok)))),
    Tile("newConnectionsO", "New Outbound Connections", "New client network connections", "network", "dig", "NONE",
         True, False, lambda d, m: _sum(m, m.with_sport(m.sel(m.types("connect"), m.exit))),
         "evt.type=connect and evt.dir=< and fd.sport exists"),
    Tile("newConnectionsI", "New Inbound Connections", "New server network connections", "network", "dig", "",
         True, False, lambda d, m: _sum(m, m.with_sport(m.sel(m.types("accept", "accept4"), m.exit))),
         "(evt.type=accept or evt.type=accept4) and evt.dir=< and fd.sport exists"),
    Tile("executedCommands", "Executed Commands",
         "Number of new programs that have been executed during the observed interval", "security",
         "spy_users_wsysdig", "", False, True, lambda d, m: _sum(m, m.sel(m.types("execve"), m.ok))),
    Tile("executedInteractiveCommands", "Executed Interactive Commands",
         "Number of new programs that have been executed from a shell during the observed interval", "security",
         "spy_users_wsysdig", "NONE", True, True, _interactive, "proc.pname=bash"),
    Tile("newSymLinksCount", "New Symlinks", "Number of new symbolic links that were created", "security", "dig",
         "NONE", True, True, lambda d, m: _sum(m, m.sel(m.types("symlink", "symlinkat"), m.ok)),
         "(evt.type=symlink or evt.type=symlinkat) and evt.dir=< and evt.failed = false"),
    Tile("sysFileCountW", "Modified System Files", "Number of system files that have been written during the "
         "capture", "security", "files", "NONE", True, True, _system_files, "evt.is_io_write=true"),
    Tile("sudoInvocations", "Sudo Invocations", "Number of times the sudo program has been called", "security",
         "dig", "NONE", True, True, lambda d, m: _sum(m, _arg_is(m, m.sel(m.types("execve"), m.ok), "sudo")),
         "evt.type=execve and evt.arg.exe=sudo"),
    Tile("setnsInvocations", "Setns Invocations", "Number of times the setns system call has been called. Setns is "
         "typically used to \"enter\" in another container", "security", "dig", "NONE", True, True,
         lambda d, m: _sum(m, m.sel(m.types("setns"), m.ok)), "evt.type=setns"),
    Tile("newConnectionsSsh", "New SSH Connections", "Client or server connections", "security", "dig", "", True, True,
         lambda d, m: _sum(m, _port_is(m, m.sel(m.types("connect", "accept", "accept4"), m.exit), [22])),
         "(evt.type=accept or evt.type=accept4 or evt.type=connect) and evt.dir=< and fd.sport=22"),
    Tile("fileDeletionsCount", "Deleted Files", "Number of files that were deleted", "security", "dig", "NONE",
         True, True, lambda d, m: _sum(m, m.sel(m.types("unlink", "unlinkat"), m.ok)),
         "(evt.type=unlink or evt.type=unlinkat) and evt.dir=< and evt.failed=false"),
    Tile("sysReqCountHttp", "HTTP Requests", "Number of HTTP requests", "performance", "echo", "fd.directory", True,
         True, lambda d, m: _http(d, False),
         f"{_NET} and (evt.arg.data startswith \"GET \" or evt.arg.data startswith \"POST \" or "
         "evt.arg.data startswith \"PUT \" or evt.arg.data startswith \"DELETE \" or evt.arg.data startswith \"HEAD \" "
         "or evt.arg.data startswith \"PATCH \" or evt.arg.data startswith \"OPTIONS \")"),
    Tile("sysErrCountHttp", "HTTP Errors", "Number of HTTP responses with a status of 400 or more", "performance",
         "echo", "fd.directory", True, True, lambda d, m: _http(d, True),
         f"{_NET} and (evt.arg.data startswith \"HTTP/1.0 4\" or evt.arg.data startswith \"HTTP/1.1 4\" or "
         "evt.arg.data startswith \"HTTP/1.0 5\" or evt.arg.data startswith \"HTTP/1.1 5\")"),
    Tile("openErrorCount", "File Open Errors", "Count of failed file opens", "performance", "dig", "fd.directory",
         True, False, lambda d, m: _sum(m, m.sel(m.types("open", "openat", "openat2", "creat"), m.failed)),
         f"{_OPENS} and evt.dir=< and evt.rawres<0"),
    Tile("forkCount", "Fork Count", "Count of processes and threads that have been created", "performance", "dig",
         "NONE", True, False,
         lambda d, m: _sum(m, _res(m, m.sel(m.types("clone", "fork", "vfork", "clone3"), m.exit), lambda r: r > 0)),
         f"{_FORKS} and evt.dir=< and evt.rawres>0"),
    Tile("connectErrorCount", "Failed Connection Attempts", "Count of failed network connect calls", "performance",
         "dig", "NONE", True, True,
         lambda d, m: _sum(m, np.intersect1d(_res(m, m.sel(m.types("connect"), m.failed), lambda r: r != -EINPROGRESS),
                                             m.fd_rows("ipv4", "ipv6"), assume_unique=True)),
         f"evt.type=connect and {_NET} and evt.rawres<0 and evt.res!=EINPROGRESS"),
    Tile("signalCount", "Received Signals", "Number of unix signals that have been received by the processes on the "
         "system", "performance", "dig", "NONE", True, False,
         lambda d, m: _sum(m, m.sel(m.types("signaldeliver"), m.enter)), "evt.type=signaldeliver"),
    Tile("segfaultCount", "Segmentation Faults", "Number of process segfaults", "performance", "dig", "NONE", True,
         True, lambda d, m: _sum(m, _arg_is(m, m.sel(m.types("signaldeliver"), m.enter), SIGSEGV)),
         "evt.type=signaldeliver and evt.arg.sig=SIGSEGV"),
    Tile("over1msFileIoCount", "Slow File I/O calls (1ms+)",
         "Number of file read or write calls that took more than 1ms to return", "performance", "slow_io", "NONE",
         True, False, _slow(1)),
    Tile("over10msFileIoCount", "Slow File I/O calls (10ms+)",
         "Number of file read or write calls that took more than 10ms to return", "performance", "slow_io", "NONE",
         True, False, _slow(10)),
    Tile("over100msFileIoCount", "Slow File I/O calls (100ms+)",
         "Number of file read or write calls that took more than 100ms to return", "performance", "slow_io", "NONE",
         True, True, _slow(100)),
    Tile("appLogCount", "App Log Messages", "Number of writes to application log files", "logs", "echo", "NONE",
         True, False, lambda d, m: _log_lines(m, "all"), _LOG),
    Tile("appLogCountW", "App Log Warning Messages",
         "Number of writes to application log files containing the word \"warning\"", "logs", "echo", "NONE", True,
         False, lambda d, m: _log_lines(m, "warn"), _LOG + " and evt.arg.data icontains warn"),
    Tile("appLogCountE", "App Log Error Messages",
         "Number of writes to application log files containing the word \"error\"", "logs", "echo", "NONE", True,
         True, lambda d, m: _log_lines(m, "error"),
         _LOG + " and (evt.arg.data icontains error or evt.arg.data icontains critic or evt.arg.data icontains "
         "emerg or evt.arg.data icontains alert)"),
    Tile("sysLogCount", "Syslog Messages", "Number of entries written to syslog", "logs", "spy_syslog", "NONE", True,
         False, lambda d, m: _syslog(m, lambda s: True)),
    Tile("sysLogCountW", "Syslog Warning Messages", "Number of entries with severity WARNING written to syslog",
         "logs", "spy_syslog", "NONE", True, False, lambda d, m: _syslog(m, lambda s: s == 4),
         "syslog.severity=4"),
    Tile("sysLogCountE", "Syslog Error Messages", "Number of entries with severity ERROR or lower written to syslog",
         "logs", "spy_syslog", "NONE", True, True, lambda d, m: _syslog(m, lambda s: s < 4),
         "syslog.severity<4"),
    Tile("dockerEvtsCount", "Docker Events", "Total number of events generated by docker activity",
         "infrastructure", "docker_events", "NONE", True, True, lambda d, m: _infra(m, None)),
)


def _dynamic_tiles(d: SummaryData, mk: _Masks) -> list[Tile]:
    """One tile per docker event name, and one per service (by server port) that moved bytes."""
    tiles = []
    names = sorted({a[1] for a in mk.c.arg.at(mk.types("infra"))
                    if isinstance(a, tuple) and a[0] == "docker" and a[1]})
    for n in names:
        tiles.append(Tile(f"dockerEvtsCount{n}", f"{n} Events", f"Total number of docker events of type {n}",
                          "infrastructure", "docker_events", "NONE", True, True,
                          lambda dd, m, n=n: _infra(m, n), f'evt.arg.name="{n}"'))
    for proto in sorted(set(SERVICES.values())):
        ports = sorted(p for p, s in SERVICES.items() if s == proto)
        flt = " or ".join(f"fd.sport={p}" for p in ports)

        def pts(dd: SummaryData, m: _Masks, ports=ports) -> Points:
            return _sum(m, _port_is(m, m.net, ports), m.c.buflen)
        tiles.append(Tile(f"protoBytes_{proto}", f"{proto} Bytes",
                          f"Total number of network bytes generated by the {proto} protocol", "napps", "connections",
                          "NONE", True, False, pts, flt))
    return tiles


# -- buckets ------------------------------------------------------------------------------------------------
def bucket_edges(first: int, last: int, samples: int) -> np.ndarray:
    """``samples`` + 1 edges of equal buckets over [first, last] (one bucket when the capture has no
    duration); the last bucket includes ``last``."""
    if last <= first or samples <= 1:
        return np.array([first, last + 1], dtype=np.int64)
    span = last + 1 - first
    return np.array([first + span * i // samples for i in range(samples + 1)], dtype=np.int64)


def _bucket_of(ts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Per time, its bucket: the last i with edges[i] <= t, times before the first edge in the first
    bucket and after the last one in the last. Edges as bucket_edges or timeline make them
    (e0 + span * i // n, at least one ns apart) by integer arithmetic, others by a search."""
    n = len(edges) - 1
    e0, last = int(edges[0]), int(edges[-1])
    span = last - e0
    if n >= 1 and span >= n and (span + 1) * n < 1 << 62 and np.array_equal(edges, e0 + span * np.arange(n + 1) // n):
        # e0 + span * i // n <= t  <=>  i <= ((t - e0 + 1) * n - 1) // span
        x = np.clip(ts, e0, last)
        x -= e0 - 1
        x *= n
        x -= 1
        x //= span
        return np.minimum(x, n - 1, out=x)
    return np.clip(np.searchsorted(edges, ts, side="right") - 1, 0, n - 1)


def bucketize(p: Points, edges: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-bucket values and the tile total (sums are exact integers)."""
    n = len(edges) - 1
    if p.kind == "level":
        starts, ends = p.ts, p.ends
        vals = np.array([int(((starts < edges[i + 1]) & (ends > edges[i])).sum()) for i in range(n)], dtype=np.int64)
        alive = (starts <= edges[-1]) & (ends > edges[0])
        return vals, int(len(set(p.keys[alive].tolist())))
    if p.kind == "sum":
        values = np.asarray(p.values, dtype=np.int64)
        if p.ordered:
            # bucket i holds edges[i] <= ts < edges[i + 1]; times before the first or after the last edge
            # fall in the first and the last bucket
            cut = np.concatenate(([0], np.searchsorted(p.ts, edges[1:-1], side="left"), [len(p.ts)]))
            csum = np.concatenate(([0], np.cumsum(values)))
            vals = (csum[cut[1:]] - csum[cut[:-1]]).astype(np.int64)
        else:
            vals = np.zeros(n, dtype=np.int64)
            np.add.at(vals, _bucket_of(p.ts, edges), values)
        return vals, int(values.sum())
    df = pd.DataFrame({"b": _bucket_of(p.ts, edges), "k": p.keys})
    per = df.groupby("b")["k"].nunique()
    vals = np.zeros(n, dtype=np.int64)
    vals[per.index.to_numpy()] = per.to_numpy()
    return vals, int(df["k"].nunique())


# -- public -------------------------------------------------------------------------------------------------
def summary(cap, samples: int = 100) -> dict:
    """Sysdig Inspect's overview of ``cap`` as a dict shaped like ``wsysdig_summary``'s final slice:
    ``{"info": {...}, "metrics": [...]}``.

    ``info`` has ``durationNs``, ``startTs``/``endTs`` (ns strings), ``containers`` ({id: name}) and
    ``categories`` (``[{id, name}]``, in Inspect's column order). Each metric has ``id``, ``name``, ``desc``,
    ``category``, ``targetView``, ``targetViewFilter`` (when the drill-down narrows the view),
    ``drillDownKey`` and ``data`` = ``{tot, max, timeLine: [{t: "<ns>", v}] (``samples`` buckets),
    excludable, noteworthy, aggregation}``. The tiles and where they differ from Inspect are described
    in this module's docstring.
    """
    d = collect(cap)
    mk = _Masks(d.cols)
    edges = bucket_edges(d.first, d.last, samples)
    metrics, used = [], set()
    for tile in (*TILES, *_dynamic_tiles(d, mk)):
        vals, tot = bucketize(tile.points(d, mk), edges)
        if tile.excludable and tot == 0:
            continue
        used.add(tile.category)
        metrics.append(_metric(tile, vals, tot, edges))
    cids = sorted(set(d.containers["key"]))
    return {
        "info": {
            "durationNs": d.last - d.first, "startTs": str(d.first), "endTs": str(d.last),
            "containers": {c: c for c in cids},
            "categories": [{"id": i, "name": n} for i, n in CATEGORIES if i in ALWAYS_CATEGORIES or i in used],
        },
        "metrics": metrics,
    }


def _metric(tile: Tile, vals: np.ndarray, tot: int, edges: np.ndarray) -> dict:
    m = {"id": tile.id, "name": tile.name, "desc": tile.desc, "category": tile.category,
         "targetView": tile.target_view, "drillDownKey": tile.drill_key}
    if tile.target_filter:
        m["targetViewFilter"] = tile.target_filter
    m["data"] = {
        "tot": tot, "max": int(vals.max()) if len(vals) else 0,
        "timeLine": [{"t": str(int(t)), "v": int(v)} for t, v in zip(edges[:-1], vals, strict=True)],
        "excludable": tile.excludable, "noteworthy": tile.noteworthy, "aggregation": tile.aggregation,
    }
    return m


_BASIC: dict[str, Callable[[SummaryData, _Masks], Points]] = {
    "events": lambda d, m: _sum(m, np.flatnonzero(~m.c.hidden)),
    "errors": lambda d, m: _sum(m, np.flatnonzero(m.failed & ~m.c.hidden)),
    "bytes_read": lambda d, m: _sum(m, np.flatnonzero(m.io_ok & m.read), m.c.buflen),
    "bytes_written": lambda d, m: _sum(m, np.flatnonzero(m.io_ok & m.write), m.c.buflen),
    "file_bytes": lambda d, m: _sum(m, m.file, m.c.buflen),
    "net_bytes": lambda d, m: _sum(m, m.net, m.c.buflen),
    "processes": lambda d, m: _level(d.procs, d.last),
    "http_requests": lambda d, m: _http(d, False),
    "http_errors": lambda d, m: _http(d, True),
}


def metric_names(cap=None) -> list[str]:
    """The names ``timeline`` accepts: the basic metrics, then every tile's id and name."""
    names = list(_BASIC)
    for t in TILES:
        names += [t.id, t.name]
    if cap is not None:
        d = collect(cap)
        for t in _dynamic_tiles(d, _Masks(d.cols)):
            names += [t.id, t.name]
    return names


def timeline(cap, metric: str = "events", freq: str = "1s") -> pd.Series:
    """``metric`` over time in buckets of ``freq`` (a pandas offset alias: "1s", "100ms", "1min" ...),
    as a Series indexed by the bucket start (datetime64[ns, UTC]) and named after the metric.

    ``metric`` is one of ``events`` (events sysdig prints), ``errors`` (failed calls), ``bytes_read``,
    ``bytes_written``, ``file_bytes``, ``net_bytes``, ``processes`` (processes alive in each bucket),
    ``http_requests``, ``http_errors``, or any overview tile by id (``netBytesR``) or name
    (``"Net Bytes In"``). Sums per bucket for counters, distinct keys per bucket for table tiles.
    """
    d = collect(cap)
    mk = _Masks(d.cols)
    fn = _BASIC.get(metric)
    if fn is None:
        tile = next((t for t in (*TILES, *_dynamic_tiles(d, mk)) if metric in (t.id, t.name)), None)
        if tile is None:
            raise ValueError(f"unknown metric {metric!r}; known: {', '.join(metric_names())}")
        fn = tile.points
    p = fn(d, mk)
    step = pd.Timedelta(freq).value
    if step <= 0:
        raise ValueError(f"bad frequency {freq!r}")
    start = d.first - d.first % step
    n = max(1, (d.last - start) // step + 1)
    edges = start + step * np.arange(n + 1, dtype=np.int64)
    vals, _ = bucketize(p, edges)
    index = pd.DatetimeIndex(pd.to_datetime(edges[:-1], unit="ns", utc=True), name="time")
    return pd.Series(vals, index=index, name=metric)


__all__ = ["summary", "timeline", "collect", "replay_collect", "metric_names", "bucket_edges", "bucketize", "TILES",
           "Tile", "SummaryData", "EventCols", "SERVICES"]
