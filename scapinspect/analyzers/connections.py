"""Network connections: one row per (process, fd, tuple), built from the replayed state and the I/O on it.

A connection is an IPv4/IPv6 socket of one process at one fd (from a successful ``connect``, an
``accept``, the capture's fd list, or the first I/O seen on it) talking to one peer. A socket that is
closed and whose fd number is reused makes a new row; an unconnected UDP socket makes one row per peer.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np
import pandas as pd

from .._i64 import i64
from ..parsers import eventtable as et
from ..parsers import metadata as md
from ..parsers.params import ipv4_str, ipv6_str, is_v4_mapped, p_int, parse_socktuple
from ..state.engine import sanitize
from ..state.model import L4_NAMES, ROLE_SERVER, FdInfo

EINPROGRESS = 115
IO_FLAGS = et.EF_READS_FROM_FD | et.EF_WRITES_TO_FD
SOCK_TYPES = frozenset({md.FD_IPV4_SOCK, md.FD_IPV6_SOCK})
SERV_TYPES = frozenset({md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK})
_WRITES_WITH_ENTER_TUPLE = frozenset({"sendto", "sendmsg"})

CONNECTION_COLUMNS = (
    "l4proto", "client.ip", "client.port", "server.ip", "server.port", "local.ip", "local.port",
    "remote.ip", "remote.port", "direction", "proc.name", "proc.pid", "proc.cmdline", "container", "fd.num",
    "fd.name", "connection", "first_seen", "last_seen", "bytes_in", "bytes_out", "operations", "state",
    "preexisting",
)

Endpoint = tuple[str, int]


@dataclass
class _Row:
    """One connection being accumulated."""
    l4proto: str
    local: Endpoint
    remote: Endpoint
    local_is_server: bool
    pname: str | None
    pid: int | None
    cmdline: str | None
    container: str
    fd: int
    fdname: str
    first: int | None
    last: int | None
    preexisting: bool = False
    bytes_in: int = 0
    bytes_out: int = 0
    ops: int = 0
    closed: bool = False


@dataclass
class _Generation:
    """The rows of one socket object (one fd lifetime) of one process, keyed by (local, remote)."""
    fdobj: FdInfo
    rows: dict[tuple[Endpoint, Endpoint], int] = field(default_factory=dict)


def _ip(b: bytes, v4: bool) -> str:
    b = bytes(b) if b else bytes(4 if v4 else 16)
    return ipv4_str(b) if len(b) == 4 else ipv6_str(b)


def _fd_endpoints(f: FdInfo) -> tuple[Endpoint, Endpoint, bool]:
    """(local, remote, local_is_server) of a connected socket as the state knows it: libsinsp keeps the
    client in sip/sport and the server in dip/dport, and the role says which one we are."""
    v4 = f.type == md.FD_IPV4_SOCK
    client = (_ip(f.sip, v4), f.sport)
    server = (_ip(f.dip, v4), f.dport)
    if f.role == ROLE_SERVER:
        return server, client, True
    return client, server, False


def _tuple_endpoints(tup: tuple, reading: bool) -> tuple[Endpoint, Endpoint] | None:
    """(local, remote) of an event's socket tuple: the driver puts the peer first on reads, last on
    writes."""
    if tup is None or tup[0] not in ("inet", "inet6"):
        return None
    _, sip, sport, dip, dport = tup
    if tup[0] == "inet6" and is_v4_mapped(sip) and is_v4_mapped(dip):
        sip, dip = sip[12:], dip[12:]
    src = (_ip(sip, len(sip) == 4), sport)
    dst = (_ip(dip, len(dip) == 4), dport)
    return (dst, src) if reading else (src, dst)


def connection_name(client: Endpoint, server: Endpoint) -> str:
    """``cip:cport->sip:sport`` as libsinsp names a connected socket."""
    return f"{client[0]}:{client[1]}->{server[0]}:{server[1]}"


class _Tracker:
    """Accumulates connections while the events go by."""

    def __init__(self, stream):
        self.stream = stream
        self.state = stream.state
        self.table = stream.renderer.prof.table.events
        self.rows: list[_Row] = []
        self.gens: dict[tuple[int, int], _Generation] = {}
        self.server_ports: set[int] = set()
        self.started = False

    # -- the fd list at capture start -----------------------------------------------------------
    def snapshot(self) -> None:
        """Connections the capture's fd list already had open, and the ports listening then."""
        self.started = True
        self.server_ports |= set(self.state.server_ports)
        seen: set[tuple[int, int]] = set()
        for t in list(self.state.threads.values()):
            if not t.fds:
                continue
            for fd, f in t.fds.items():
                if f.type in SERV_TYPES:
                    self.server_ports.add(f.sport)
                if f.type not in SOCK_TYPES or (t.pid, fd) in seen:
                    continue
                seen.add((t.pid, fd))
                local, remote, srv = _fd_endpoints(f)
                if f.role != ROLE_SERVER:
                    srv = self._is_server_port(local, remote, srv)
                gen = self.gens.setdefault((t.pid, fd), _Generation(f))
                gen.rows[(local, remote)] = self._new_row(t, fd, f, local, remote, srv, None, True)

    # -- per event ------------------------------------------------------------------------------
    def event(self, item) -> None:
        ev, ctx = item.ev, item.ctx
        if ev.type % 2 == 0:
            return
        t = ctx.tinfo
        f = ctx.fdinfo
        if t is None or f is None:
            return
        info = self.table[ev.type]
        name = info.name
        if f.type in SERV_TYPES:
            if name == "bind":
                self.server_ports.add(f.sport)
            return
        if f.type not in SOCK_TYPES:
            return
        res = p_int(ev, 0) if ev.nparams else None
        fd = t.lastevent_fd
        if name == "connect":
            if res is not None and (res >= 0 or res == -EINPROGRESS):
                self._row(t, fd, f, ev.ts, None)
            return
        if name in ("accept", "accept4"):
            if res is not None and res >= 0:
                self._row(t, fd, f, ev.ts, None)
            return
        if name == "close":
            if res is not None and res >= 0:
                self._close(t.pid, fd, f, ev.ts)
            return
        if not info.flags & IO_FLAGS:
            return
        reading = bool(info.flags & et.EF_READS_FROM_FD)
        ends = self._event_tuple(ev, t, info, reading) if f.l4proto != md.L4_TCP else None
        if ends is not None:
            ends = (*ends, reading)
        i = self._row(t, fd, f, ev.ts, ends)
        row = self.rows[i]
        row.ops += 1
        if res is not None and res > 0:
            if reading:
                row.bytes_in += res
            else:
                row.bytes_out += res

    def _event_tuple(self, ev, t, info, reading: bool) -> tuple[Endpoint, Endpoint] | None:
        """The peer an unconnected (UDP) socket talked to in this event, from its socket tuple."""
        j = info.param_index("tuple")
        raw = ev.raw(j) if 0 <= j < ev.nparams else None
        if raw is None and not reading and info.name in _WRITES_WITH_ENTER_TUPLE:
            enter = self.state.enter_of(ev, t)
            if enter is not None:
                k = self.table[enter.type].param_index("tuple")
                raw = enter.raw(k) if 0 <= k < enter.nparams else None
        return _tuple_endpoints(parse_socktuple(raw), reading) if raw is not None else None

    def _is_server_port(self, local: Endpoint, remote: Endpoint, default: bool) -> bool:
        if local[1] in self.server_ports and remote[1] not in self.server_ports:
            return True
        if remote[1] in self.server_ports and local[1] not in self.server_ports:
            return False
        return default

    def _row(self, t, fd: int, f: FdInfo, ts: int, ends) -> int:
        gen = self.gens.get((t.pid, fd))
        if gen is None or gen.fdobj is not f:
            if gen is not None:
                for i in gen.rows.values():
                    self.rows[i].closed = True
            gen = self.gens[(t.pid, fd)] = _Generation(f)
        if ends is None:
            local, remote, srv = _fd_endpoints(f)
            if f.role != ROLE_SERVER:
                srv = self._is_server_port(local, remote, srv)
        else:
            # a peer of an unconnected socket: whoever spoke first is the client
            local, remote, srv = ends
        key = (local, remote)
        i = gen.rows.get(key)
        if i is None:
            i = gen.rows[key] = self._new_row(t, fd, f, local, remote, srv, ts, False)
        row = self.rows[i]
        row.last = ts
        if row.first is None:
            row.first = ts
        return i

    def _new_row(self, t, fd: int, f: FdInfo, local: Endpoint, remote: Endpoint, srv: bool, ts: int | None,
                 pre: bool) -> int:
        m = self.state.threads.get(t.pid) or t
        self.rows.append(_Row(
            L4_NAMES.get(f.l4(), L4_NAMES.get(f.l4proto, "<NA>")), local, remote, srv, m.comm, t.pid,
            " ".join([m.comm, *m.args]), t.container_id or "host", fd, sanitize(f.name), ts, ts, pre))
        return len(self.rows) - 1

    def _close(self, pid: int, fd: int, f: FdInfo, ts: int) -> None:
        gen = self.gens.get((pid, fd))
        if gen is None or gen.fdobj is not f:
            return
        for i in gen.rows.values():
            row = self.rows[i]
            row.closed = True
            row.last = ts
        del self.gens[(pid, fd)]


def iter_connections(stream) -> Iterator[_Row]:
    """The connections of a stream, as they are complete at its end."""
    tr = _Tracker(stream)
    for item in stream.events():
        if not tr.started:
            tr.snapshot()
        tr.event(item)
    if not tr.started:
        tr.snapshot()
    return iter(tr.rows)


def connections_frame(stream) -> pd.DataFrame:
    """One row per network connection a process used, in the order they were first seen.

    ``stream`` is an ``EventStream`` (or a view of one whose ``events()`` yields the selected events).
    Columns:

    - ``l4proto`` (tcp/udp/...), ``client.ip``/``client.port`` and ``server.ip``/``server.port``,
      ``local.ip``/``local.port`` and ``remote.ip``/``remote.port`` (the process's side and its peer);
    - ``direction``: ``outbound`` when the process is the client (connect), ``inbound`` when it is the
      server (accept, or a socket bound to a listening port);
    - ``proc.name``, ``proc.pid``, ``proc.cmdline`` (comm and arguments), ``container`` (``host`` outside
      containers), ``fd.num``, ``fd.name`` (the name libsinsp gives the fd), ``connection``
      (``client->server``);
    - ``first_seen``/``last_seen`` (datetime64[ns, UTC]; ``first_seen`` is NaT for connections the fd
      list had open at capture start and that the capture never touched);
    - ``bytes_in``/``bytes_out``: the sum of ``res`` of the read/write-family calls that moved bytes,
      never the captured (snaplen) length; ``operations``: read/write-family calls made on it, failed ones
      included;
    - ``state``: ``closed`` once a successful close (or a new socket at the same fd) was seen, else
      ``open``; ``preexisting``: the connection was already open when the capture began.

    TCP sockets take their tuple from the state (libsinsp's fd info); UDP sockets from each event's own
    socket tuple when it has one, so that a server socket answering many peers gives one row per peer.

    This is the reference: ``Capture.connections`` computes the same frame from the fast load's side
    data (analyzers/fast_conn.py) and replays through here when it has none or is unsure.
    """
    return rows_frame(iter_connections(stream))


def rows_frame(rows: Iterable[_Row]) -> pd.DataFrame:
    """The typed connections frame of accumulated rows (in order)."""
    rows = list(rows)
    return fields_frame(
        l4proto=[r.l4proto for r in rows], local=[r.local for r in rows], remote=[r.remote for r in rows],
        local_is_server=[r.local_is_server for r in rows], pname=[r.pname for r in rows],
        pid=[r.pid for r in rows], cmdline=[r.cmdline for r in rows], container=[r.container for r in rows],
        fd=[r.fd for r in rows], fdname=[r.fdname for r in rows], first=[r.first for r in rows],
        last=[r.last for r in rows], bytes_in=[r.bytes_in for r in rows], bytes_out=[r.bytes_out for r in rows],
        ops=[r.ops for r in rows], closed=[r.closed for r in rows], preexisting=[r.preexisting for r in rows])


def fields_frame(*, l4proto: list, local: list, remote: list, local_is_server: list, pname: list, pid: list,
                 cmdline: list, container: list, fd: list, fdname: list, first: list, last: list,
                 bytes_in: list, bytes_out: list, ops: list, closed: list, preexisting: list) -> pd.DataFrame:
    """The typed connections frame from one list per ``_Row`` field (one item per connection, in
    order): what ``rows_frame`` and the fast path (analyzers/fast_conn.py) both build."""
    srv = local_is_server
    client = [rm if s else lc for s, lc, rm in zip(srv, local, remote, strict=True)]
    server = [lc if s else rm for s, lc, rm in zip(srv, local, remote, strict=True)]
    ip, port = itemgetter(0), itemgetter(1)
    cols: dict[str, list] = {
        "l4proto": l4proto,
        "client.ip": list(map(ip, client)), "client.port": list(map(port, client)),
        "server.ip": list(map(ip, server)), "server.port": list(map(port, server)),
        "local.ip": list(map(ip, local)), "local.port": list(map(port, local)),
        "remote.ip": list(map(ip, remote)), "remote.port": list(map(port, remote)),
        "direction": ["inbound" if s else "outbound" for s in srv],
        "proc.name": pname, "proc.pid": pid, "proc.cmdline": cmdline, "container": container,
        "fd.num": fd, "fd.name": fdname,
        "connection": list(map(connection_name, client, server)),
        "first_seen": first, "last_seen": last, "bytes_in": bytes_in, "bytes_out": bytes_out,
        "operations": ops, "state": ["closed" if c else "open" for c in closed], "preexisting": preexisting,
    }
    assert tuple(cols) == CONNECTION_COLUMNS
    return _typed(cols)


def _int_values(v: list) -> list | np.ndarray:
    """``i64(v)``, through numpy when every value is a plain int64 (the common case: no None, nothing
    past 2**63)."""
    if set(map(type, v)) <= {int}:
        try:
            return np.array(v, dtype=np.int64)
        except OverflowError:
            pass
    return i64(v)


def _times(v: list) -> pd.Series:
    """Nanosecond timestamps (None: NaT) as datetime64[ns, UTC]; a plain int64 array is viewed as such
    (what to_datetime gives for it, without its per-value checks)."""
    ints = _int_values(v)
    if isinstance(ints, np.ndarray):
        return pd.Series(ints.view("M8[ns]")).dt.tz_localize("UTC")
    return pd.to_datetime(pd.Series(ints, dtype="Int64"), unit="ns", utc=True)


def _category(v: list) -> pd.Series:
    """``pd.Series(v, dtype="category")``; built from codes when every value is a str, since pandas then
    factorizes through arrow strings, which costs milliseconds on a first call. The categories are the
    sorted distinct values either way."""
    if v and set(map(type, v)) == {str}:
        cats = sorted(set(v))
        code = {c: i for i, c in enumerate(cats)}
        codes = np.fromiter(map(code.__getitem__, v), dtype=np.int32, count=len(v))
        return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(cats))))
    return pd.Series(v, dtype="category")


def _typed(cols: dict[str, list]) -> pd.DataFrame:

    ints = {"client.port", "server.port", "local.port", "remote.port", "proc.pid", "fd.num"}
    counts = {"bytes_in", "bytes_out", "operations"}
    data = {}
    for c, v in cols.items():
        if c in ("first_seen", "last_seen"):
            data[c] = _times(v)
        elif c in ints:
            data[c] = pd.Series(_int_values(v), dtype="Int64")
        elif c in counts:
            data[c] = pd.Series(_int_values(v), dtype="int64")
        elif c == "preexisting":
            data[c] = pd.Series(v, dtype="bool")
        elif c in ("l4proto", "direction", "state"):
            data[c] = _category(v)
        else:
            data[c] = pd.Series(v, dtype="object")
    return pd.DataFrame(data, columns=list(CONNECTION_COLUMNS))


__all__ = ["connections_frame", "rows_frame", "fields_frame", "iter_connections", "connection_name", "CONNECTION_COLUMNS"]
