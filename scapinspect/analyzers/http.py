"""HTTP/1.x requests and responses found in the bytes processes read and wrote on sockets.

Each direction of each connection (one process's fd) is reassembled in capture order from the I/O
events (``io_streams``), split into messages at the blank line ending a head, with bodies framed by
Content-Length or chunked encoding, and heads parsed with dpkt. Payloads are cut at the capture's
snaplen (80 bytes by default), so the parser counts bytes by what each call returned and treats the part
the capture did not keep as a hole: a hole inside a body costs nothing, a head cut by a hole still gives
its method, URL and status, and a message start lost in a hole is found again at the next call whose
data begins with a request or status line (sysdig's httplog makes the same bet).

Heads made of printable ASCII lines (nearly all of them) are parsed here the way dpkt parses them; dpkt
is imported only for the others (importing it costs more than parsing every head of a large capture).
dpkt is used here only; everything leaving this module is our own types.
"""
from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SOCKET_TYPES = ("ipv4", "ipv6", "unix")
METHODS = (b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH", b"CONNECT", b"TRACE",
           b"PROPFIND", b"PROPPATCH", b"MKCOL", b"COPY", b"MOVE", b"LOCK", b"UNLOCK", b"SEARCH")
_REQUEST_START = re.compile(rb"(?:" + b"|".join(METHODS) + rb") [!-~]")
_RESPONSE_START = re.compile(rb"HTTP/\d\.\d \d")
# both at once (they cannot both match): group 1 is set for a response
_START = re.compile(_REQUEST_START.pattern + rb"|(" + _RESPONSE_START.pattern + rb")")
MAX_HEAD = 64 * 1024
END = b"\r\n\r\n"

HTTP_COLUMNS = (
    "time", "proc.name", "proc.pid", "fd.num", "connection", "side", "method", "host", "url", "version",
    "status", "reason", "content_type", "request_size", "response_size", "latency", "duration",
    "truncated", "complete",
)


@dataclass(slots=True)
class Message:
    """One HTTP message as seen in one direction of a stream."""
    kind: str                       # "request" or "response"
    start: int                      # ns of the call that carried its first byte
    end: int = 0                    # ns of the call that carried its last byte
    head: bytes = b""               # the head bytes the capture kept (up to the blank line)
    head_complete: bool = False
    size: int = 0                   # bytes it occupies in the stream (head + body), by syscall results
    truncated: bool = False         # some of its bytes fall in a snaplen hole
    complete: bool = False          # its end was seen (body length or chunk terminator reached)
    fields: dict = field(default_factory=dict)  # parse_head's; messages with the same head share it


def _grow(m: Message, ts: int, res: int, known: int) -> None:
    """A call of ``res`` bytes (``known`` of them kept by the capture) at ``ts`` belongs to ``m``."""
    if m.start < 0:
        m.start = ts
    m.end = ts
    m.size += res
    if res > known:
        m.truncated = True


@dataclass
class _Chunked:
    need: int = -1                  # data bytes left in the current chunk (+2 for its CRLF); -1: reading a size
    line: bytes = b""
    trailer: bool = False


class DirectionParser:
    """Splits the bytes of one direction of one connection into HTTP messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.mode = "idle"          # idle | head | body | chunked | close | lost
        self.cur: Message | None = None
        self.remaining = 0
        self.chunked: _Chunked | None = None

    def feed(self, ts: int, data: bytes, res: int) -> None:
        """One call's bytes: ``res`` were moved, the first ``len(data)`` of them kept by the capture.

        The common calls (a body or the rest of a stream, bytes that start no message, a message
        start) are settled first without the general per-position loop, doing what it would do."""
        known = len(data)
        if res < known:
            known = res
        if res <= 0:
            return
        mode = self.mode
        if mode == "close" or (mode == "body" and self.remaining >= res):
            m = self.cur                # the whole call belongs to the current message
            if m is not None:
                _grow(m, ts, res, known)
            if mode == "body":
                self.remaining -= res
                if self.remaining == 0:
                    self._done()
            return
        if mode == "idle" or mode == "lost":
            hit = _START.match(data) if known else None
            if hit is None:
                if known:
                    mode = self.mode = "lost"   # not HTTP (or a start we missed): wait for one
                m = self.cur
                if m is not None and mode == "lost":
                    _grow(m, ts, res, known)
                return
            self._new("response" if hit.lastindex else "request")
        self._feed(ts, data, known, res)

    def _feed(self, ts: int, data: bytes, known: int, res: int) -> None:
        """The general loop: the call's bytes from position 0 on, through as many states as they span."""
        pos = 0
        while pos < res:
            if self.mode in ("idle", "lost"):
                if pos < known and self._starts(data, pos):
                    continue
                if self.mode == "idle" and pos < known:
                    self.mode = "lost"          # not HTTP (or a start we missed): wait for one
                if self.cur is not None and self.mode == "lost":
                    self._extend(ts, res - pos, pos + (res - pos) > known)
                pos = res
            elif self.mode == "head":
                pos = self._head(ts, data, known, pos, res)
            elif self.mode == "body":
                n = min(self.remaining, res - pos)
                self._extend(ts, n, pos + n > known)
                self.remaining -= n
                pos += n
                if self.remaining == 0:
                    self._done()
            elif self.mode == "chunked":
                pos = self._chunk(ts, data, known, pos, res)
            else:                               # "close": the body runs to the end of the stream
                self._extend(ts, res - pos, res > known)
                pos = res

    # -- states ---------------------------------------------------------------------------------------
    def _starts(self, data: bytes, pos: int) -> bool:
        """Whether a message starts at ``pos`` (then it is the current one, its head being read)."""
        hit = _START.match(data, pos)
        if hit is None:
            return False
        self._new("response" if hit.lastindex else "request")
        return True

    def _new(self, kind: str) -> None:
        self.cur = Message(kind, -1)
        self.messages.append(self.cur)
        self.mode = "head"

    def _extend(self, ts: int, n: int, hole: bool) -> None:
        m = self.cur
        if m is None:
            return
        if m.start < 0:
            m.start = ts
        m.end = ts
        m.size += n
        m.truncated |= hole

    def _head(self, ts: int, data: bytes, known: int, pos: int, res: int) -> int:
        m = self.cur
        assert m is not None
        have = len(m.head)
        window = m.head + data[pos:known]
        i = window.find(END, max(0, have - 3))
        if i >= 0:
            used = i + 4 - have
            m.head = window[:i + 4]
            m.head_complete = True
            self._extend(ts, used, False)
            self._framing(m)
            return pos + used
        m.head = window
        if known < res or len(window) > MAX_HEAD:
            # the head runs into a snaplen hole: where it ends (and the body starts) is unknown
            m.fields = _fields(m.kind, window)
            self._extend(ts, res - pos, True)
            self.mode = "lost"
            return res
        self._extend(ts, res - pos, False)
        return res

    def _framing(self, m: Message) -> None:
        m.fields = _fields(m.kind, m.head)
        kind = m.fields.get("framing")
        if kind == "chunked":
            self.mode, self.chunked = "chunked", _Chunked()
        elif kind == "length" and m.fields["content_length"] > 0:
            self.mode, self.remaining = "body", m.fields["content_length"]
        elif kind == "close":
            self.mode = "close"
        else:
            self._done()

    def _chunk(self, ts: int, data: bytes, known: int, pos: int, res: int) -> int:
        c = self.chunked
        assert c is not None
        if c.need > 0:
            n = min(c.need, res - pos)
            self._extend(ts, n, pos + n > known)
            c.need -= n
            if c.need == 0:
                c.need = -1
            return pos + n
        if pos >= known:                        # a size line inside a hole
            self._extend(ts, res - pos, True)
            self.mode = "lost"
            return res
        j = data.find(b"\n", pos, known)
        if j < 0:
            c.line += data[pos:known]
            self._extend(ts, known - pos, False)
            return known
        line = (c.line + data[pos:j]).strip()
        c.line = b""
        self._extend(ts, j + 1 - pos, False)
        if c.trailer:
            if not line:
                self._done()
            return j + 1
        try:
            size = int(line.split(b";", 1)[0], 16)
        except ValueError:
            self.mode = "lost"
            return j + 1
        if size == 0:
            c.trailer = True
        else:
            c.need = size + 2
        return j + 1

    def _done(self) -> None:
        if self.cur is not None:
            self.cur.complete = True
        self.mode = "idle"
        self.chunked = None
        self.remaining = 0


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, list):
        v = v[-1]
    return str(v)


def parse_head(kind: str, head: bytes) -> dict:
    """A message head (complete, or cut by the capture) -> our fields. The start line and the header
    lines are parsed separately (as dpkt reads them), so that nothing looks for a body the head only
    announces.

    Heads of up to CACHED_HEAD bytes are parsed once and remembered (clients repeat the same request
    head, servers the same response head); the caller gets its own copy of the fields."""
    if len(head) <= CACHED_HEAD:
        got = _parse_head_cached(kind, head)
        return {**got, "headers": dict(got["headers"])}
    return _parse_head(kind, head)


CACHED_HEAD = 4096


def _fields(kind: str, head: bytes) -> dict:
    """parse_head's fields without the copy: messages with the same head share them (read only)."""
    if len(head) <= CACHED_HEAD:
        return _parse_head_cached(kind, head)
    return _parse_head(kind, head)


@functools.lru_cache(maxsize=4096)
def _parse_head_cached(kind: str, head: bytes) -> dict:
    return _parse_head(kind, head)


def _parse_head(kind: str, head: bytes) -> dict:
    complete = head.endswith(END)
    line, sep, rest = head.partition(b"\r\n")
    if not complete and b"\r\n" in rest:
        rest = rest[:rest.rfind(b"\r\n") + 2]         # drop a header line the capture cut
    elif not complete:
        rest = b""
    out = _start_line(kind, line, bool(sep))
    headers = _headers(rest)
    out["headers"] = {k: _text(v) for k, v in headers.items()}
    if kind == "request":
        out["host"] = _text(headers.get("host"))
    out["content_type"] = _text(headers.get("content-type"))
    out.update(_body_framing(kind, out, headers, complete))
    return out


# dpkt.http.Request's methods (tests/test_http_summary_more.py holds the two lists equal)
_DPKT_METHODS = frozenset((
    "GET", "PUT", "ICY", "COPY", "HEAD", "LOCK", "MOVE", "POLL", "POST", "BCOPY", "BMOVE", "MKCOL", "TRACE",
    "LABEL", "MERGE", "DELETE", "SEARCH", "UNLOCK", "REPORT", "UPDATE", "NOTIFY", "BDELETE", "CONNECT",
    "OPTIONS", "CHECKIN", "PROPFIND", "CHECKOUT", "CCM_POST", "SUBSCRIBE", "PROPPATCH", "BPROPFIND",
    "BPROPPATCH", "UNCHECKOUT", "MKACTIVITY", "MKWORKSPACE", "UNSUBSCRIBE", "RPC_CONNECT", "VERSION-CONTROL",
    "BASELINE-CONTROL"))
_PLAIN = re.compile(rb"[ -~]*")                         # printable ASCII: whitespace is spaces only
_PLAIN_LINES = re.compile(rb"(?:[ -~]*\r\n)*[ -~]*")     # ... in lines ending with CRLF


def _start_line(kind: str, line: bytes, whole: bool) -> dict:
    """Method, URL and version, or version, status and reason; ``whole`` is False when the capture cut
    the line (then a version, and a status without all three digits, are not trusted)."""
    got = _plain_start(kind, line) if _PLAIN.fullmatch(line) else _dpkt_start(kind, line)
    if got is None:
        return _fallback(kind, line, whole)
    if kind == "request":
        method, uri, version = got
        return {"method": method, "url": uri, "url_complete": whole, "version": version if whole else None}
    version, status, reason = got
    status = status if len(status) == 3 else None
    return {"status": int(status) if status else None, "reason": reason, "version": version}


def _plain_start(kind: str, line: bytes) -> tuple | None:
    """What dpkt's Request or Response ``unpack(line + CRLF)`` reads from a printable ASCII start line:
    (method, uri, version) or (version, status, reason); None where dpkt refuses it."""
    if kind == "request":
        parts = line.decode("ascii").split()
        if len(parts) < 2 or parts[0] not in _DPKT_METHODS:
            return None
        if len(parts) == 2:
            return parts[0], parts[1], "0.9"
        if not parts[2].startswith("HTTP"):
            return None
        return parts[0], parts[1], parts[2][5:]
    parts = line.decode("ascii").strip().split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP") or not parts[1].isdigit():
        return None
    return parts[0][5:], parts[1], parts[2] if len(parts) > 2 else ""


def _dpkt_start(kind: str, line: bytes) -> tuple | None:
    """_plain_start for any other line, by dpkt itself."""
    import dpkt
    msg = dpkt.http.Request() if kind == "request" else dpkt.http.Response()
    try:
        msg.unpack(line + b"\r\n")
    except (dpkt.NeedData, dpkt.UnpackError, ValueError):
        return None
    if kind == "request":
        return msg.method, msg.uri, msg.version
    return msg.version, msg.status, msg.reason


def _headers(rest: bytes) -> dict:
    """The header lines ``rest`` as ``dpkt.http.parse_headers`` reads them (name -> value, or the list
    of values of a repeated name), or as _lenient_headers reads them where dpkt refuses a line. Lines
    of printable ASCII ending with CRLF are read here as dpkt would, any others by dpkt."""
    if not _PLAIN_LINES.fullmatch(rest):
        import dpkt
        try:
            return dpkt.http.parse_headers(io.BytesIO(rest))
        except (dpkt.NeedData, dpkt.UnpackError, ValueError):
            return _lenient_headers(rest)
    d: dict = {}
    for raw in rest.split(b"\r\n"):
        line = raw.decode("ascii").strip()
        if not line:
            break
        parts = line.split(":", 1)
        if len(parts[0].split()) != 1:
            return _lenient_headers(rest)               # dpkt: invalid header
        k = parts[0].lower()
        v = len(parts) != 1 and parts[1].lstrip() or ""
        if k in d:
            if type(d[k]) is not list:
                d[k] = [d[k]]
            d[k].append(v)
        else:
            d[k] = v
    return d


def _fallback(kind: str, line: bytes, whole: bool) -> dict:
    """What a start line dpkt refuses still tells (a method it does not know, such as PATCH)."""
    parts = line.decode("latin-1").split(" ")
    if kind == "request":
        version = parts[2][5:] if whole and len(parts) > 2 and parts[2].startswith("HTTP/") else None
        return {"method": parts[0], "url": parts[1] if len(parts) > 1 else None, "url_complete": whole,
                "version": version}
    m = re.match(r"HTTP/(\d\.\d) (\d{3})(?: (.*))?$", " ".join(parts))
    if m is None:
        return {"status": None, "reason": None, "version": None}
    return {"version": m.group(1), "status": int(m.group(2)), "reason": m.group(3) or ""}


def _lenient_headers(rest: bytes) -> dict:
    d: dict = {}
    for raw in rest.split(b"\r\n"):
        k, sep, v = raw.decode("latin-1").partition(":")
        if sep and k.strip() and " " not in k.strip():
            d[k.strip().lower()] = v.strip()
    return d


def _body_framing(kind: str, out: dict, headers, complete: bool) -> dict:
    if not complete:
        return {"framing": None, "content_length": _length(headers)}
    te = (_text(headers.get("transfer-encoding")) or "").lower()
    n = _length(headers)
    if "chunked" in te:
        return {"framing": "chunked", "content_length": n}
    if n is not None:
        return {"framing": "length", "content_length": n}
    if kind == "response":
        status = out.get("status") or 0
        if status < 200 or status in (204, 304):
            return {"framing": "none", "content_length": 0}
        return {"framing": "close", "content_length": None}
    return {"framing": "none", "content_length": 0}


def _length(headers) -> int | None:
    v = _text(headers.get("content-length"))
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


# -- streams to transactions -----------------------------------------------------------------------------
def stream_messages(chunks) -> list[Message]:
    """Messages of one direction: ``chunks`` is an iterable of (ns, captured bytes, res)."""
    p = DirectionParser()
    for ts, data, res in chunks:
        p.feed(int(ts), data, int(res))
    return p.messages


def pair(requests: list[Message], responses: list[Message]) -> list[tuple[Message | None, Message | None]]:
    """Requests and responses of one connection matched in order (HTTP/1.1 answers requests in the order
    they came, pipelined or not); a response older than every unanswered request (its request came before
    the capture began) stands alone, as do requests left unanswered."""
    out: list[tuple[Message | None, Message | None]] = []
    i = 0
    for resp in responses:
        if i < len(requests) and requests[i].start <= resp.start:
            out.append((requests[i], resp))
            i += 1
        else:
            out.append((None, resp))
    out.extend((r, None) for r in requests[i:])
    return out


def http_frame(cap) -> pd.DataFrame:
    """One row per HTTP request/response pair (or lone request/response) found on any socket.

    ``cap`` is a Capture (its ``io_streams()`` frame is used) or that frame itself. Columns: ``time``
    (the request's first byte, else the response's; datetime64[ns, UTC]), ``proc.name``, ``proc.pid``,
    ``fd.num``, ``connection`` (the fd name), ``side`` (``client`` when the process wrote the request,
    ``server`` when it read it), ``method``, ``host`` (Host header), ``url`` (request target as sent;
    cut when the capture cut the request line), ``version``, ``status`` and ``reason``,
    ``content_type`` (of the response, else the request), ``request_size``/``response_size`` (bytes
    the messages occupy, head and body, by syscall results, so right even when the payload was cut),
    ``latency`` (request start to response start, as sysdig's httplog measures it) and ``duration``
    (request start to the response's last byte), ``truncated`` (the capture kept only part of either
    message) and ``complete`` (the response's end was seen).

    The socket rows are grouped by (proc.pid, fd.num, fd.name) in the order each group first appears
    (``http_table`` does the rest).
    """
    io = cap if isinstance(cap, pd.DataFrame) else cap.io_streams()
    net = np.flatnonzero(io["fd.type"].isin(SOCKET_TYPES).to_numpy(dtype=bool))
    sub = io.iloc[net]
    group = _group_codes([sub["proc.pid"], sub["fd.num"], sub["fd.name"]]) if len(net) else np.zeros(0, np.int64)

    def who(rows: np.ndarray) -> list[list]:
        return [sub[c].iloc[rows].tolist() for c in ("proc.name", "proc.pid", "fd.num", "fd.name")]
    return http_table(sub["time"].astype("int64").to_numpy(), (sub["direction"] == "read").to_numpy(dtype=bool),
                      sub["res"].to_numpy(dtype=np.int64), sub["data"].tolist(), group, who)


def http_table(ns: np.ndarray, reading: np.ndarray, res: np.ndarray, data: list, group: np.ndarray,
               who) -> pd.DataFrame:
    """``http_frame`` of socket I/O rows given as arrays: time (ns), whether the row reads, its result,
    its captured bytes, and its connection's code (0, 1 ... in the order the connections first appear);
    ``who(rows)`` gives the proc.name, proc.pid, fd.num and fd.name lists of those rows (asked for the
    first row of each connection only).

    Each direction of each connection is one slice of the rows sorted by (connection, direction), in
    capture order within (a stable sort), parsed in one go: numpy and plain lists, not a pandas group
    per connection, so tens of thousands of I/O rows stay cheap."""
    rows: list[tuple] = []
    if len(group):
        key = np.asarray(group, dtype=np.int64) * 2 + np.asarray(reading, dtype=np.int64)
        order = np.argsort(key, kind="stable")
        k = key[order]
        bounds = [0, *(np.flatnonzero(np.diff(k)) + 1).tolist(), len(k)]
        ns_l, res_l = ns[order].tolist(), res[order].tolist()
        data_l = [data[i] for i in order.tolist()]
        msgs = {}
        for j, kk in enumerate(k[bounds[:-1]].tolist()):
            a, b = bounds[j], bounds[j + 1]
            msgs[kk] = _messages(ns_l[a:b], data_l[a:b], res_l[a:b])
        _, first = np.unique(group, return_index=True)
        pnames, pids, fds, names = who(first)
        for g in range(len(first)):
            rows.extend(_connection_rows(msgs.get(2 * g + 1, []), msgs.get(2 * g, []), pnames[g], pids[g], fds[g],
                                         names[g]))
    frame = pd.DataFrame(rows, columns=list(HTTP_COLUMNS))     # (its inference turns None to NaN in text columns)
    return _typed(frame).sort_values("time", kind="stable").reset_index(drop=True)


def _messages(ts: list[int], data: list[bytes], res: list[int]) -> list[Message]:
    """stream_messages of chunks given as three lists (of ints, bytes, ints)."""
    p = DirectionParser()
    feed = p.feed
    for t, d, r in zip(ts, data, res, strict=True):
        feed(t, d, r)
    return p.messages


def _group_codes(keys: list[pd.Series]) -> np.ndarray:
    """One code per row for the tuple of ``keys`` values (missing values a value of their own), codes
    numbered in the order the tuples first appear."""
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for k in keys:
        codes, uniques = pd.factorize(k, use_na_sentinel=False)
        # renumbered at each step, so the products stay below the number of rows squared
        combined, _ = pd.factorize(combined * (len(uniques) + 1) + codes)
    return combined.astype(np.int64)


def _connection_rows(read: list[Message], write: list[Message], pname, pid, fd, name) -> list[tuple]:
    """The rows of one connection from the messages it read and those it wrote."""
    out = []
    for side, reqs, resps in (("client", [m for m in write if m.kind == "request"],
                               [m for m in read if m.kind == "response"]),
                              ("server", [m for m in read if m.kind == "request"],
                               [m for m in write if m.kind == "response"])):
        if not reqs and not resps:
            continue
        for req, resp in pair(reqs, resps):
            out.append(_row(pname, pid, fd, name, side, req, resp))
    return out


_NONE: dict = {}


def _row(pname, pid, fd, name, side: str, req: Message | None, resp: Message | None) -> tuple:
    """One row, its values in HTTP_COLUMNS order."""
    rq = req.fields if req is not None else _NONE
    rs = resp.fields if resp is not None else _NONE
    both = req is not None and resp is not None
    return (
        req.start if req is not None else resp.start if resp is not None else None,
        pname, pid, fd, name, side,
        rq.get("method"), rq.get("host"), rq.get("url"),
        rq.get("version") or rs.get("version"), rs.get("status"), rs.get("reason"),
        rs.get("content_type") or rq.get("content_type"),
        req.size if req is not None else None,
        resp.size if resp is not None else None,
        resp.start - req.start if both else None,
        resp.end - req.start if both else None,
        bool((req is not None and req.truncated) or (resp is not None and resp.truncated)),
        bool(resp is not None and resp.complete),
    )


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "time": pd.to_datetime(pd.Series(df["time"], dtype="Int64"), unit="ns", utc=True),
        "proc.name": df["proc.name"].astype("object"),
        "proc.pid": pd.Series(df["proc.pid"], dtype="Int64"),
        "fd.num": pd.Series(df["fd.num"], dtype="Int64"),
        "connection": df["connection"].astype("object"),
        "side": pd.Series(df["side"], dtype="category"),
        "method": df["method"].astype("object"),
        "host": df["host"].astype("object"),
        "url": df["url"].astype("object"),
        "version": df["version"].astype("object"),
        "status": pd.Series(df["status"], dtype="Int64"),
        "reason": df["reason"].astype("object"),
        "content_type": df["content_type"].astype("object"),
        "request_size": pd.Series(df["request_size"], dtype="Int64"),
        "response_size": pd.Series(df["response_size"], dtype="Int64"),
        "latency": pd.to_timedelta(pd.Series(df["latency"], dtype="Int64"), unit="ns"),
        "duration": pd.to_timedelta(pd.Series(df["duration"], dtype="Int64"), unit="ns"),
        "truncated": pd.Series(df["truncated"], dtype="bool"),
        "complete": pd.Series(df["complete"], dtype="bool"),
    }, columns=list(HTTP_COLUMNS))
    return out


__all__ = ["http_frame", "http_table", "parse_head", "stream_messages", "pair", "DirectionParser", "Message", "HTTP_COLUMNS"]
