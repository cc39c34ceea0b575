"""Reports and data export: a capture's analyses as a self-contained HTML page, Markdown or JSON
(``inspect report``), and any analysis as CSV, JSON lines or Parquet (``inspect export``).

The Python API the reports are built on, for use in Jupyter or a script::

    import scapinspect as si

    cap = si.open("sample_captures/intrusion.scap")          # a Capture; nothing is read yet
    cap.info                     # host, first/last event, event count, reader warnings
    ev = cap.events              # one row per event: evt.time is datetime64[ns, UTC], proc.name a
                                 # category, proc.pid a nullable Int64 ...
    cap.fields(["evt.num", "proc.cmdline", "fd.name"])       # any sysdig fields as columns

    curl = cap.filter("proc.name=curl")                      # narrowed Captures: every analysis
    first = cap.between("2024-03-14 03:12:44", "2024-03-14 03:12:50")   # below sees only these events

    cap.spy_users()              # commands typed in shells (time, user, pid, shell, cwd, command ...)
    cap.io_streams()             # every read/write that moved bytes, with the payload
    cap.stream_payloads("10.0.1.30:43923->203.0.113.66:4444")          # one connection, both ways
    cap.connections(); cap.http()                            # connections and HTTP requests
    cap.view("procs")            # any csysdig view (procs, files, errors, connections ...)

    for chunk in si.read_scap("big.scap", chunksize=100_000):          # captures bigger than memory
        ...

In a notebook a Capture and a stream display as HTML tables (``scapinspect.capture_display``), with
every payload escaped. The report itself::

    from scapinspect.report import ReportOptions, build_report, render_html, render_json, validate
    doc = build_report(["intrusion.scap"], ReportOptions(filter="proc.name!=sshd", start="+5s"))
    doc["captures"][0]["findings"]        # what the rules in report.findings flagged, and which rule
    assert validate(doc) == []            # the document follows REPORT_SCHEMA
    Path("report.html").write_text(render_html(doc), encoding="utf-8")

Modules: ``model`` (the document), ``findings`` (the rules), ``html``, ``markdown``, ``json_report``
(writers and the schema), ``svg`` (the timeline chart), ``text`` (cells and escaping), ``export``.
This package never imports click, rich or textual.
"""
from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "ReportOptions": "model", "TimeSpec": "model", "parse_time": "model", "build_report": "model",
    "build_capture": "model", "open_capture": "model",
    "render_html": "html", "render_markdown": "markdown", "render_json": "json_report",
    "REPORT_SCHEMA": "json_report", "validate": "json_report",
    "find": "findings", "RULES": "findings", "Finding": "findings",
    "export_frame": "export", "frame_for": "export", "ExportError": "export",
    "timeline_svg": "svg",
}
RENDERERS = {".html": "render_html", ".htm": "render_html", ".md": "render_markdown",
             ".markdown": "render_markdown", ".json": "render_json"}


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{mod}", __name__), name)


def render(doc: dict, suffix: str) -> str:
    """The document rendered for an output file ending in ``suffix`` (.html, .md or .json)."""
    name = RENDERERS.get(suffix.lower())
    if name is None:
        raise ValueError(f"unknown report format {suffix!r}: use .html, .md or .json")
    return __getattr__(name)(doc)


__all__ = sorted([*_EXPORTS, "render", "RENDERERS"])
