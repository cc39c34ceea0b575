"""HTTP from I/O streams: the per-direction parser on hand-made chunks (split heads, keep-alive, chunked,
snaplen holes), head parsing, the bundled samples (80-byte snaplen and regenerated in full), the shared
captures against sysdig's httplog chisel, and `inspect http`."""
from __future__ import annotations

import collections
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scapinspect.analyzers.http import HTTP_COLUMNS, pair, parse_head, stream_messages
from scapinspect.capture import Capture
from scapinspect.cli_more import http_cmd

SAMPLES = Path(__file__).resolve().parents[1] / "sample_captures"
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"

REQ = b"GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"


def full(*pieces: bytes, t0: int = 1000):
    """Chunks fully kept by the capture."""
    return [(t0 + i, p, len(p)) for i, p in enumerate(pieces)]


# -- the parser ------------------------------------------------------------------------------------------
def test_request_split_over_several_reads():
    msgs = stream_messages(full(REQ[:7], REQ[7:30], REQ[30:]))
    assert len(msgs) == 1
    m = msgs[0]
    assert (m.kind, m.fields["method"], m.fields["url"], m.fields["host"]) == ("request", "GET", "/a", "example.com")
    assert m.complete and not m.truncated and m.size == len(REQ)
    assert (m.start, m.end) == (1000, 1002)


def test_keep_alive_two_requests_and_two_responses():
    req2 = REQ.replace(b"/a", b"/b")
    reqs = stream_messages(full(REQ, req2))
    resp2 = RESP.replace(b"200 OK", b"404 Not Found")
    resps = stream_messages(full(RESP + resp2[:20], resp2[20:], t0=2000))    # the second starts mid-read
    assert [m.fields["url"] for m in reqs] == ["/a", "/b"]
    assert [m.fields["status"] for m in resps] == [200, 404]
    assert all(m.complete for m in resps) and [m.size for m in resps] == [len(RESP), len(resp2)]
    pairs = pair(reqs, resps)
    assert [(a.fields["url"], b.fields["status"]) for a, b in pairs] == [("/a", 200), ("/b", 404)]


def test_chunked_response():
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = [b"5\r\nhello\r\n", b"6;ext=1\r\n world\r\n", b"0\r\n\r\n"]
    msgs = stream_messages(full(head, *body, RESP))
    assert [m.fields["status"] for m in msgs] == [200, 200]
    chunked = msgs[0]
    assert chunked.fields["framing"] == "chunked" and chunked.complete
    assert chunked.size == len(head) + sum(map(len, body))
    assert msgs[1].size == len(RESP)


def test_truncated_body_is_counted_by_res():
    """A 150 kB body of which the capture kept 80 bytes per call: its size comes from the calls' results,
    it is marked truncated, and the next response after it is still found."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 150000\r\n\r\n"
    chunks = [(1, head + b"x" * 20, len(head) + 20)]
    chunks += [(2 + i, b"x" * 80, 16384) for i in range(9)]
    chunks += [(20, b"x" * 80, 150000 - 20 - 9 * 16384)]
    chunks += [(30, RESP, len(RESP))]
    msgs = stream_messages(chunks)
    assert len(msgs) == 2
    assert msgs[0].size == len(head) + 150000 and msgs[0].truncated and msgs[0].complete
    assert msgs[1].fields["status"] == 200 and not msgs[1].truncated


def test_head_cut_at_snaplen_still_gives_method_url_status():
    req = b"POST /api/items HTTP/1.1\r\nHost: api:8080\r\nUser-Agent: curl/8.5.0\r\nContent-Length: 25\r\n\r\n{}"
    resp = b"HTTP/1.1 201 Created\r\nServer: BaseHTTP/0.6 Python/3.11.6\r\nDate: Thu, 14 Mar 2024 10:15:03 GMT\r\n"
    reqs = stream_messages([(1, req[:80], len(req))])
    resps = stream_messages([(2, resp[:80], 185), (3, b"tail of the body", 40)])
    assert (reqs[0].fields["method"], reqs[0].fields["url"], reqs[0].fields["host"]) == ("POST", "/api/items", "api:8080")
    assert reqs[0].truncated and reqs[0].size == len(req)
    assert (resps[0].fields["status"], resps[0].fields["reason"]) == (201, "Created")
    assert resps[0].size == 225 and resps[0].truncated      # the continuation read belongs to it


def test_non_http_stream_gives_nothing():
    assert stream_messages(full(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"SSH-2.0-OpenSSH_9.6\r\n")) == []


def test_lone_response_and_unanswered_request():
    early = stream_messages(full(RESP, t0=10))          # answers a request sent before the capture began
    reqs = stream_messages(full(REQ, t0=20))
    pairs = pair(reqs, early)
    assert [(a is None, b is None) for a, b in pairs] == [(True, False), (False, True)]


@pytest.mark.parametrize("head, expect", [
    (b"GET /very/long/pa", {"method": "GET", "url": "/very/long/pa", "url_complete": False, "version": None}),
    (b"PATCH /x HTTP/1.1\r\nHost: a\r\nUser-Ag", {"method": "PATCH", "url": "/x", "version": "1.1", "host": "a"}),
    (b"HTTP/1.1 20", {"status": None}),
    (b"HTTP/1.0 502 Bad Gateway\r\nServer: nginx\r\n\r\n", {"status": 502, "reason": "Bad Gateway", "version": "1.0",
                                                           "framing": "close"}),
    (b"HTTP/1.1 304 Not Modified\r\n\r\n", {"status": 304, "framing": "none"}),
    (b"GET /x HTTP/1.1\r\nbad header line\r\nHost: h\r\n\r\n", {"url": "/x", "host": "h", "framing": "none"}),
])
def test_parse_head(head, expect):
    got = parse_head("request" if not head.startswith(b"HTTP/") else "response", head)
    assert {k: got.get(k) for k in expect} == expect


# -- bundled samples --------------------------------------------------------------------------------------
CURL_EXPECTED = [("GET", "/", 200), ("GET", "/missing", 404), ("POST", "/api/items", 201),
                 ("GET", "/api/items/42", 200), ("GET", "/api/items/42/stock", 200),
                 ("GET", "/events/stream", 200), ("GET", "/download/report.csv", 200)]


@pytest.fixture(scope="module")
def curl_http():
    return Capture(str(SAMPLES / "curl_http.scap")).http()


def test_curl_http_at_snaplen_80(curl_http):
    assert tuple(curl_http.columns) == HTTP_COLUMNS
    for side in ("client", "server"):
        part = curl_http[curl_http["side"] == side]
        assert list(zip(part["method"], part["url"], part["status"], strict=True)) == CURL_EXPECTED
    assert set(curl_http["host"]) == {"api.dev.internal:8080"}
    client = curl_http[curl_http["side"] == "client"].set_index("url")
    assert client.loc["/download/report.csv", "response_size"] == 150361
    assert client.loc["/events/stream", "response_size"] == 119 + 45 + 46 + 67 + 5
    assert client["truncated"].all()                   # every head is longer than 80 bytes
    # the keep-alive pair shares one connection
    assert client.loc["/api/items/42", "connection"] == client.loc["/api/items/42/stock", "connection"]
    assert str(curl_http["latency"].dtype) == "timedelta64[ns]" and (curl_http["latency"] >= curl_http["latency"] * 0).all()


def test_curl_http_full_payloads(tmp_path):
    from scapinspect.samples.generate import generate
    path = generate(tmp_path, names=["curl_http"], snaplen=60000)[0]
    df = Capture(str(path)).http()
    client = df[df["side"] == "client"].set_index("url")
    assert list(zip(client["method"], client.index, client["status"], strict=True)) == CURL_EXPECTED
    assert client["complete"].all() and not client["truncated"].any()
    assert client.loc["/events/stream", "content_type"] == "application/x-ndjson"
    assert client.loc["/api/items", "request_size"] == 171
    server = df[df["side"] == "server"].set_index("url")
    assert server.loc["/download/report.csv", "truncated"]      # one 150 kB write, 60000 bytes kept
    assert not server.loc["/", "truncated"]


def test_web_502():
    df = Capture(str(SAMPLES / "web_502.scap")).http()
    front = df[(df["proc.name"] == "nginx") & (df["side"] == "server")]
    assert list(zip(front["url"], front["status"], strict=True)) == [
        ("/", 502), ("/favicon.ico", 502), ("/api/cart", 502), ("/checkout", 502), ("/", 200)]
    assert (front["reason"].iloc[:4] == "Bad Gateway").all()
    proxied = df[df["side"] == "client"]
    assert len(proxied) == 1 and proxied.iloc[0]["version"] == "1.0" and proxied.iloc[0]["status"] == 200


# -- shared captures -------------------------------------------------------------------------------------
def _shared(name: str) -> Path:
    p = CAPTURES / f"{name}.scap"
    if not p.is_file():
        pytest.skip(f"shared capture {p} not found")
    return p


def test_502error_matches_httplog():
    df = Capture(str(_shared("502Error"))).http()
    mine = collections.Counter(("<" if s == "server" else ">", f"{h}{u}", int(c))
                               for s, h, u, c in zip(df["side"], df["host"], df["url"], df["status"], strict=True))
    truth = collections.Counter()
    for line in (CAPTURES / "truth" / "502Error" / "chisel_httplog.txt").read_text().splitlines():
        f = line.split()
        truth[(f[2], f[4].split("=", 1)[1], int(f[5].split("=", 1)[1]))] += 1
    assert mine == truth and sum(truth.values()) == 111
    bad = df[df["status"] == 502]
    assert len(bad) == 1 and bad.iloc[0]["url"] == "/foo" and bad.iloc[0]["proc.name"] == "haproxy"


@pytest.mark.parametrize("name, expected", [
    ("curl_google", [("client", "GET", "www.google.com", "/", 200)]),
    ("single_ipv6_conn", []), ("falco_connect_localhost", []), ("mixed_io", []),
])
def test_shared_http(name, expected):
    df = Capture(str(_shared(name))).http()
    assert list(zip(df["side"], df["method"], df["host"], df["url"], df["status"], strict=True)) == expected


# -- CLI ------------------------------------------------------------------------------------------------
@pytest.fixture
def cli():
    group = click.Group()
    group.add_command(http_cmd, "http")
    runner = CliRunner()
    return lambda *args: runner.invoke(group, ["http", *args])


def test_cli_table(cli):
    res = cli(str(SAMPLES / "web_502.scap"))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split() == ["TIME", "PROCESS", "SIDE", "METHOD", "URL", "STATUS", "REQ", "RESP", "LATENCY", "CUT"]
    assert sum(" 502 " in ln for ln in lines) == 4
    assert "shop.example.com/favicon.ico" in res.output


def test_cli_json(cli):
    res = cli(str(SAMPLES / "curl_http.scap"), "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [(r["method"], r["url"], r["status"]) for r in rows if r["side"] == "client"] == CURL_EXPECTED
    assert all(isinstance(r["latency"], int) for r in rows)


def test_cli_bad_capture(cli, tmp_path):
    p = tmp_path / "x.scap"
    p.write_bytes(b"\n\r\r\n" + b"\0" * 3)
    res = cli(str(p))
    assert res.exit_code == 2 and res.output.startswith("inspect: ") and res.output.count("\n") == 1


def test_a_narrowing_that_keeps_every_socket_row_gets_the_same_table_and_others_their_own():
    """Capture.http keeps the tables it made per set of socket I/O rows: a narrowed capture with the
    same rows (here: without failed calls, which move no bytes) gets a copy of its root's table, one
    with fewer rows its own; both equal what a fresh capture computes."""
    import pandas as pd
    path = str(SAMPLES / "web_502.scap")
    cap = Capture(path)
    whole = cap.http()
    assert len(whole)
    same = cap.filter("evt.failed=false")
    assert len(same.events) < len(cap.events)
    pd.testing.assert_frame_equal(same.http(), whole)
    pd.testing.assert_frame_equal(same.http(), Capture(path).filter("evt.failed=false").http())
    part = cap.filter("proc.name=python3")
    mine = part.http()
    assert 0 < len(mine) < len(whole)
    pd.testing.assert_frame_equal(mine, Capture(path).filter("proc.name=python3").http())
    got = same.http()
    got["url"] = "changed"                     # a copy: the kept table is not touched
    assert not (cap.http()["url"] == "changed").any()
