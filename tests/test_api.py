"""The Python API as a notebook uses it: si.open, read_scap (whole and in chunks), filter, between, the
dtypes of every frame, and the HTML a Capture and a stream show in Jupyter; on the bundled sample and
on every shared capture (skipped when the shared folder is absent)."""
from __future__ import annotations

import html.parser
import sys
from pathlib import Path

import pandas as pd
import pytest

import scapinspect as si
from scapinspect.capture_display import StreamSegments, capture_html, render_payload, stream_html

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import SCRIPT, hostile_capture  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "sample_captures" / "shell_session.scap"
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"
SHARED = sorted(CAPTURES.glob("*.scap")) if CAPTURES.is_dir() else []
UTC_NS = "datetime64[ns, UTC]"


@pytest.fixture(scope="module")
def cap() -> si.Capture:
    return si.open(SAMPLE)


def assert_event_dtypes(ev: pd.DataFrame) -> None:
    assert str(ev["evt.time"].dtype) == UTC_NS
    for col in ("evt.num", "evt.rawtime", "proc.pid", "thread.tid", "fd.num", "evt.rawres"):
        assert str(ev[col].dtype) == "Int64", col
    for col in ("proc.name", "evt.type", "evt.dir", "fd.type", "user.name"):
        assert isinstance(ev[col].dtype, pd.CategoricalDtype), col
    assert str(ev["evt.failed"].dtype) == "boolean"


def test_open_and_info(cap):
    assert isinstance(cap, si.Capture) and "shell_session.scap" in repr(cap)
    info = cap.info
    assert info.hostname == "devbox" and info.events > len(cap.events) > 1000
    assert info.first_ts <= int(cap.events["evt.rawtime"].min()) and info.warnings == []


def test_events_dtypes_and_columns(cap):
    ev = cap.events
    assert_event_dtypes(ev)
    assert ev["evt.num"].is_monotonic_increasing and ev["evt.time"].is_monotonic_increasing
    assert {"alice", "bob"} <= set(ev["user.name"].astype(object).dropna())
    assert ev["fd.num"].isna().any()          # nullable: events without an fd have <NA>


def test_read_scap_whole_and_in_chunks(cap):
    whole = si.read_scap(SAMPLE)
    assert_event_dtypes(whole)
    assert len(whole) == len(cap.events)
    chunks = list(si.read_scap(SAMPLE, chunksize=500))
    assert [len(c) for c in chunks[:-1]] == [500] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= 500
    for c in chunks:
        assert_event_dtypes(c)
    joined = pd.concat([c.astype(object) for c in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole.astype(object), check_dtype=False)
    few = si.read_scap(SAMPLE, columns=["evt.num", "proc.cmdline"])
    assert list(few.columns) == ["evt.num", "proc.cmdline"] and str(few["evt.num"].dtype) == "Int64"


def test_filter_narrows_every_analysis(cap):
    alice = cap.filter("user.name=alice")
    assert set(alice.events["user.name"].astype(object)) == {"alice"}
    assert 0 < len(alice.events) < len(cap.events)
    cmds = alice.spy_users()
    assert len(cmds) and set(cmds["user"].dropna()) <= {"alice", "root"}
    both = alice.filter("evt.type=execve")
    assert set(both.events["evt.type"].astype(object)) == {"execve"}
    assert set(both.events["evt.num"]) <= set(alice.events["evt.num"])
    with pytest.raises(ValueError):
        cap.filter("proc.name=")


def test_between_takes_times_in_many_forms(cap):
    ev = cap.events
    t0, t1 = ev["evt.time"].iloc[0], ev["evt.time"].iloc[-1]
    mid = t0 + (t1 - t0) / 2
    first, second = cap.between(None, mid), cap.between(mid, None)
    assert len(first.events) + len(second.events) == len(ev)
    assert first.events["evt.time"].max() < mid <= second.events["evt.time"].min()
    as_ns = cap.between(int(t0.value), int(mid.value))
    assert len(as_ns.events) == len(first.events)
    naive = cap.between(t0.floor("us").tz_localize(None).to_pydatetime(), mid.tz_localize(None))  # naive: UTC
    assert len(naive.events) == len(first.events)
    assert len(cap.filter("proc.name=bash").between(t0, mid).events) <= len(first.events)


def test_analysis_frames_have_documented_dtypes(cap):
    spy = cap.spy_users()
    assert str(spy["time"].dtype) == UTC_NS and isinstance(spy["kind"].dtype, pd.CategoricalDtype)
    assert "sudo tail -n 2 /var/log/nginx/error.log" in " ".join(spy["command"])
    io = cap.io_streams()
    assert str(io["time"].dtype) == UTC_NS and str(io["proc.pid"].dtype) == "Int64"
    assert io["data"].map(type).eq(bytes).all()
    procs = cap.view("procs")
    assert str(procs["PID"].dtype) == "Int64" and str(procs["CPU"].dtype) == "Float64"
    assert procs.attrs["view"] == "procs"


def test_connections_and_http_frames(cap):
    try:
        conns = cap.connections()
    except ImportError:
        pytest.skip("connections analysis not installed")
    assert str(conns["first_seen"].dtype) == UTC_NS and str(conns["proc.pid"].dtype) == "Int64"
    assert "10.0.2.15:42258->203.0.113.10:80" in set(conns["connection"])
    web = si.open(SAMPLE.with_name("curl_http.scap"))
    try:
        http = web.http()
    except ImportError:
        pytest.skip("http analysis not installed")
    assert str(http["time"].dtype) == UTC_NS
    assert {"GET", "POST"} <= set(http["method"].dropna()) and 404 in set(http["status"].dropna())


# -- Jupyter display ---------------------------------------------------------------------------------------
class Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        assert not any(name.startswith("on") for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


def parsed(markup: str) -> Tags:
    t = Tags()
    t.feed(markup)
    return t


def test_capture_html(cap):
    t = parsed(capture_html(cap))
    text = " ".join(t.text)
    assert "devbox" in text and "shell_session.scap" in text and "2024-03-14T09:26:53" in text
    assert t.tags <= {"div", "strong", "table", "tr", "th", "td", "ul", "li"}
    narrowed = cap.filter("proc.name=bash")
    narrowed.events  # noqa: B018 - computed, so the display shows its processes
    assert "selected" in capture_html(narrowed) and "bash" in capture_html(narrowed)


def test_capture_html_of_a_file_that_went_bad(tmp_path):
    bad = tmp_path / "<b>bad<i>.scap"
    bad.write_bytes(SAMPLE.read_bytes())
    c = si.open(bad)
    bad.write_bytes(b"nope")          # replaced after opening: the display says so instead of failing
    markup = capture_html(c)
    assert "<b>" not in markup and "&lt;b&gt;bad" in markup and "not a scap capture" in markup


def test_stream_html_escapes_payloads(tmp_path):
    hostile = si.open(hostile_capture(tmp_path / "h.scap"))
    key = hostile.http()["connection"].iloc[0] if _has_http(hostile) else "198.51.100.7:40404->10.0.9.9:8080"
    segs = StreamSegments(hostile.stream_payloads(key), key=key)
    assert len(segs) >= 2 and segs.data("read").startswith(b"GET /<script>")
    markup = segs._repr_html_()
    assert "<script" not in markup and "\x1b" not in markup
    t = parsed(markup)
    assert t.tags <= {"div", "strong", "span", "pre", "em"}
    assert f"GET /{SCRIPT}" in "".join(t.text)
    assert "<script" not in capture_html(hostile) and SCRIPT in "".join(parsed(capture_html(hostile)).text)
    assert segs.text().startswith("<<< read")


def _has_http(c) -> bool:
    try:
        return len(c.http()) > 0
    except ImportError:
        return False


def test_render_payload_formats():
    raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff"
    assert render_payload(raw) == "GET / HTTP/1.1\nHost: x\n\n.."
    assert render_payload(raw, "dotted") == "GET / HTTP/1.1..Host: x......"
    assert render_payload(b"AB", "hex").startswith("00000000  41 42")
    assert "GET" in render_payload(raw, "ascii")
    with pytest.raises(ValueError):
        render_payload(raw, "base64")
    assert "no data" in stream_html([])


# -- shared captures ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SHARED or [pytest.param(None, marks=pytest.mark.skip(
    reason=f"shared captures not found in {CAPTURES}"))], ids=lambda p: p.name if p else "none")
def test_shared_capture_api(path):
    c = si.open(path)
    ev = c.events
    assert_event_dtypes(ev)
    assert c.info.events >= len(ev)
    chunks = list(si.read_scap(path, chunksize=4096))
    assert sum(len(x) for x in chunks) == len(ev)
    if len(ev) > 1:
        mid = ev["evt.time"].iloc[len(ev) // 2]
        assert len(c.between(None, mid).events) + len(c.between(mid, None).events) == len(ev)
        opens = c.filter("evt.type=openat or evt.type=open")
        assert set(opens.events["evt.type"].astype(object)) <= {"open", "openat"}
    assert "<script" not in capture_html(c)
