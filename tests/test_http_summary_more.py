"""The shortcuts of analyzers/http.py held against what they stand for: the head parser of printable
ASCII heads against dpkt, the parser's whole-call fast paths against its general loop, on random
streams; and fast_summary's small helpers against numpy."""
from __future__ import annotations

import io
import random

import dpkt
import numpy as np
import pytest

from scapinspect.analyzers import http as H
from scapinspect.analyzers.fast_summary import _span, _unique_small


def test_methods_are_dpkts():
    assert H._DPKT_METHODS == frozenset(dpkt.http.Request._Request__methods)


def _dpkt_headers(rest: bytes) -> dict:
    try:
        return dict(dpkt.http.parse_headers(io.BytesIO(rest)))
    except (dpkt.NeedData, dpkt.UnpackError, ValueError):
        return H._lenient_headers(rest)


LINES = [b"GET / HTTP/1.1", b"GET /a b HTTP/1.0", b"GET /x", b"GET", b"FOO /x HTTP/1.1", b"PATCH /x HTTP/1.1",
         b"GET /x HTTX/1.1", b"  GET   /x   HTTP/1.1  ", b"HTTP/1.1 200 OK", b"HTTP/1.1 502  Bad  Gateway  ",
         b"HTTP/1.0 20", b"HTTP/1.0 2x0 OK", b"HTTX/1.1 200 OK", b"HTTP/1.1", b"", b" ", b"HTTP/1.1 200",
         b"GET /\xe9 HTTP/1.1", b"GET /x\tHTTP/1.1", b"HTTP/1.1 200 O\x0bK", b"GET /a\nb HTTP/1.1"]
HEADERS = [b"", b"Host: a\r\n", b"Host: a\r\nHost: b\r\n\r\n", b"host : x\r\n", b" Host:  a \r\n", b"bad line\r\n",
           b": v\r\n", b"A:\r\nB\r\n", b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nbody\r\n",
           b"A: 1\r\n\r\nB: 2\r\n", b"X: \xe9t\xe9\r\n", b"A: 1\nB: 2\n", b"A: 1\r\r\nB: 2\r\n", b"A:\tb\r\n",
           b"Host: a\r\nUser-Ag"]


@pytest.mark.parametrize("rest", HEADERS)
def test_headers_as_dpkt(rest):
    assert H._headers(rest) == _dpkt_headers(rest)


@pytest.mark.parametrize("line", LINES)
def test_start_line_as_dpkt(line):
    for kind in ("request", "response"):
        for whole in (True, False):
            plain = H._plain_start(kind, line) if H._PLAIN.fullmatch(line) else None
            if plain is not None or H._PLAIN.fullmatch(line):
                assert plain == H._dpkt_start(kind, line), (kind, line)
            got = H._start_line(kind, line, whole)
            assert got == H._start_line(kind, line, whole)


def test_random_heads_as_dpkt():
    rnd = random.Random(7)
    words = ["Host", "host", "X-A", "Content-Length", "a b", "", ":", " ", "v", "1", "chunked", "HTTP/1.1", "GET"]
    for _ in range(3000):
        lines = [" ".join(rnd.choice(words) for _ in range(rnd.randint(0, 3))) for _ in range(rnd.randint(0, 4))]
        rest = "".join(line + rnd.choice([":", ": ", ""]) + rnd.choice(words) + "\r\n" for line in lines).encode()
        assert H._headers(rest) == _dpkt_headers(rest), rest
        start = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 4))).encode()
        for kind in ("request", "response"):
            assert H._plain_start(kind, start) == H._dpkt_start(kind, start), (kind, start)


class _General(H.DirectionParser):
    """The parser without its whole-call fast paths: every call through the general loop."""

    def feed(self, ts, data, res):
        known = min(len(data), res)
        self._feed(ts, data, known, res)


def _random_stream(rnd: random.Random) -> list[tuple[int, bytes, int]]:
    req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    resps = [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
             b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
             b"HTTP/1.0 502 Bad Gateway\r\nServer: x\r\n\r\nbody", b"HTTP/1.1 304 Not Modified\r\n\r\n"]
    stream = b"".join(rnd.choice([req, *resps, b"junk", b"\x16\x03\x01"]) for _ in range(rnd.randint(1, 6)))
    out, pos, t = [], 0, 0
    while pos < len(stream):
        n = rnd.randint(1, 40)
        res = min(n, len(stream) - pos) if rnd.random() < 0.8 else n + rnd.randint(0, 5000)
        keep = rnd.choice([res, min(res, 8), 0, res + 3])
        out.append((t, stream[pos:pos + keep], res))
        pos += res
        t += 1
    return out


def _state(m: H.Message) -> tuple:
    return (m.kind, m.start, m.end, m.head, m.head_complete, m.size, m.truncated, m.complete, m.fields)


def test_fast_paths_as_general_loop():
    rnd = random.Random(3)
    for _ in range(2000):
        chunks = _random_stream(rnd)
        fast, slow = H.DirectionParser(), _General()
        for ts, data, res in chunks:
            fast.feed(ts, data, res)
            slow.feed(ts, data, res)
        assert [_state(m) for m in fast.messages] == [_state(m) for m in slow.messages], chunks


def test_span_and_unique_small():
    assert _span(np.array([3, 4, 5])) == slice(3, 6)
    idx = np.array([1, 3])
    assert _span(idx) is idx
    assert _span(np.zeros(0, dtype=np.int64)) == slice(0, 0)
    rnd = np.random.default_rng(1)
    for key in (rnd.integers(-1, 50, 1000), np.full(10, -1), np.array([10**9, -1, 3]), np.zeros(0, dtype=np.int64)):
        u, inv = _unique_small(key)
        ru, rinv = np.unique(key, return_inverse=True)
        assert np.array_equal(u, ru) and np.array_equal(inv, rinv)
