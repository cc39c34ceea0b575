"""The report document as one self-contained HTML page: inline CSS and SVG, no script, no request
to anything (a Content-Security-Policy says so to the browser), every capture value escaped.

    from scapinspect.report import build_report, render_html
    Path("report.html").write_text(render_html(build_report(["intrusion.scap"])), encoding="utf-8")
"""
from __future__ import annotations

import re

from .svg import timeline_svg
from .text import html_text as esc
from .text import human_bytes, human_duration

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f4f6f9}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
header{background:#1f2d44;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c8d2e3;font-size:13px}
h2{font-size:19px;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #1f2d44}
h3{font-size:15px;margin:22px 0 6px}
section.capture{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:4px 20px 16px;margin:18px 0}
dl.info{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.info dt{color:#5a6577}dl.info dd{margin:0;word-break:break-all}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:10px 0}
.tile{border:1px solid #dde2ea;border-radius:5px;padding:8px 10px;background:#fafbfd}
.tile .v{font-size:20px;font-weight:600}.tile .n{color:#5a6577;font-size:12px}
.tile.alert{border-color:#e0a4a4;background:#fff4f4}
.ov{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:8px;align-items:start}
.ovc{border:1px solid #dde2ea;border-radius:5px;padding:6px 10px;background:#fafbfd}
.ovc .cat{font-weight:600;font-size:12px;color:#1f2d44;margin-bottom:2px}.ovc td{border:0;padding:1px 4px}
.box{border-radius:5px;padding:8px 12px;margin:8px 0}
.warn{background:#fff8e1;border:1px solid #f0d98c}.fail{background:#fdecea;border:1px solid #e6a19b}
.muted{color:#6b7587}.note{color:#5a6577;font-size:12px;margin:2px 0 6px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th,td{border-bottom:1px solid #e6e9ef;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6;position:sticky;top:0;white-space:nowrap}
td{overflow-wrap:break-word;max-width:520px}td.num,td.time{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.time{text-align:left}
td.mono,td code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
td.mono{min-width:16em}
.sev{display:inline-block;border-radius:3px;padding:0 6px;font-size:11px;font-weight:600;color:#fff}
.sev-critical{background:#7b1010}.sev-high{background:#c0392b}.sev-medium{background:#d68910}.sev-low{background:#7f8c8d}
a{color:#2557a7}nav ol{margin:6px 0}
"""
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
MONO_COLUMNS = {"command", "cwd", "url", "connection", "fd.name", "Command", "FILENAME", "detail", "proc.cmdline"}


def render_html(doc: dict) -> str:
    """The whole page for a report document (``model.build_report``)."""
    caps = doc["captures"]
    title = "Capture report: " + (caps[0]["name"] if len(caps) == 1 else f"{len(caps)} captures")
    out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">',
           f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
           f"<header><h1>{esc(title)}</h1><p>{_scope(doc)}</p></header><main>"]
    if len(caps) > 1:
        out.append(_toc(caps))
    for i, cap in enumerate(caps, 1):
        out.append(_capture(cap, i))
    out.append(_rules(doc["rules"]))
    out.append("</main></body></html>\n")
    return "".join(out)


def _scope(doc: dict) -> str:
    gen, scope = doc["generator"], doc["scope"]
    parts = [f"scapinspect {esc(gen['version'])}, {esc(doc['generated_at'])}"]
    parts.append(f"filter: <code>{esc(scope['filter'])}</code>" if scope["filter"] else "no filter")
    if scope["start"] or scope["end"]:
        parts.append(f"time range: {esc(scope['start'] or 'start')} to {esc(scope['end'] or 'end')}")
    return " &middot; ".join(parts)


def _toc(caps: list[dict]) -> str:
    items = "".join(f'<li><a href="#capture-{i}">{esc(c["name"])}</a>'
                    f'{" (failed)" if c["status"] == "failed" else ""} &middot; '
                    f'{len(c["findings"])} findings</li>' for i, c in enumerate(caps, 1))
    return f"<nav><h2>Captures</h2><ol>{items}</ol></nav>"


def _capture(cap: dict, i: int) -> str:
    out = [f'<section class="capture" id="capture-{i}"><h2>{esc(cap["name"])}</h2>']
    if cap["status"] == "failed":
        out.append(f'<div class="box fail"><strong>This capture could not be read:</strong> {esc(cap["error"])}</div>')
        return "".join(out) + "</section>"
    out.append(_info(cap))
    if cap["warnings"]:
        items = "".join(f"<li>{esc(w)}</li>" for w in cap["warnings"])
        out.append(f'<div class="box warn"><strong>Warnings</strong><ul>{items}</ul></div>')
    out.append(_tiles(cap["tiles"]))
    out.append(_timeline(cap["timeline"]))
    out.append(_findings(cap["findings"]))
    for sec in cap["sections"]:
        out.append(_section(sec, i))
    return "".join(out) + "</section>"


def _info(cap: dict) -> str:
    info = cap["info"]
    rows = [("File", cap["path"]), ("Host", info["hostname"] or "unknown"),
            ("Events", f"{info['events_selected']} selected of {info['events_in_file']} in the file"),
            ("First event", info["first_event"]), ("Last event", info["last_event"]),
            ("Duration", human_duration(info["duration_s"])), ("Rendered as", f"sysdig {info['compat']}")]
    if info["counts"]:
        rows.append(("Reader notes", ", ".join(f"{k}: {v}" for k, v in info["counts"].items())))
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<dl class="info">{body}</dl>'


def _tile_value(t: dict) -> str:
    v = t["value"]
    if t["unit"] == "B" and isinstance(v, (int, float)):
        return human_bytes(v)
    if t["unit"] == "s" and isinstance(v, (int, float)):
        return human_duration(v)
    return f"{v:,}" if isinstance(v, int) else (f"{v:,.2f}" if isinstance(v, float) else str(v))


def _tiles(tiles: list[dict]) -> str:
    """The report's own tiles as a grid; Sysdig Inspect's overview (when present) as compact cards, one
    per category."""
    cells, groups = [], {}
    for t in tiles:
        if t["category"] == "capture":
            alert = " alert" if t["name"] == "Findings" and t["value"] else ""
            cells.append(f'<div class="tile{alert}"><div class="v">{esc(_tile_value(t))}</div>'
                         f'<div class="n">{esc(t["name"])}</div></div>')
        else:
            groups.setdefault(t["category"].split(": ", 1)[-1], []).append(
                f'<tr><td>{esc(t["name"])}</td><td class="num">{esc(_tile_value(t))}</td></tr>')
    out = f'<div class="tiles">{"".join(cells)}</div>'
    if groups:
        cards = "".join(f'<div class="ovc"><div class="cat">{esc(cat)}</div><table>{"".join(rows)}</table></div>'
                        for cat, rows in groups.items())
        out += f'<h3>Overview tiles (as Sysdig Inspect shows them)</h3><div class="ov">{cards}</div>'
    return out


def _timeline(tl: dict | None) -> str:
    if not tl:
        return ""
    note = f'<p class="note">{esc(tl["note"])}</p>' if tl.get("note") else ""
    width = f" (buckets of {esc(tl['freq'])})" if tl.get("freq") else ""
    if tl["status"] != "ok":
        return f"<h3>Timeline</h3><p class=\"muted\">Timeline {esc(tl['status'])}.</p>{note}"
    return f"<h3>Timeline{width}</h3>{note}{timeline_svg(tl)}"


def _findings(findings: list[dict]) -> str:
    if not findings:
        return "<h3>Notable findings</h3><p class=\"muted\">No rule matched.</p>"
    rows = "".join(
        f'<tr><td><span class="sev sev-{esc(f["severity"])}">{esc(f["severity"])}</span></td>'
        f'{_time_td(f["time"])}<td><a href="#rule-{esc(f["rule"])}">{esc(f["rule"])}</a></td>'
        f'<td>{esc(f["process"])}</td><td class="num">{esc(f["pid"])}</td><td class="mono">{esc(f["detail"])}</td></tr>'
        for f in findings)
    return (f"<h3>Notable findings ({len(findings)})</h3>"
            '<p class="note">Leads found by simple rules (listed at the end), not verdicts.</p>'
            '<div class="scroll"><table><thead><tr><th>severity</th><th>time</th><th>rule</th><th>process</th>'
            f"<th>pid</th><th>what</th></tr></thead><tbody>{rows}</tbody></table></div>")


def _section(sec: dict, i: int) -> str:
    head = f'<h3 id="capture-{i}-{esc(sec["id"])}">{esc(sec["title"])}</h3>'
    note = f'<p class="note">{esc(sec["note"])}</p>' if sec.get("note") else ""
    if sec["status"] != "ok":
        return f'{head}<p class="muted">{esc(sec["status"].capitalize())}.</p>{note}'
    if not sec["rows"]:
        return f'{head}{note}<p class="muted">Nothing found.</p>'
    cols = sec["columns"]
    mono = [c in MONO_COLUMNS for c in cols]
    th = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(_td(v, m) for v, m in zip(row, mono, strict=True)) + "</tr>"
                   for row in sec["rows"])
    return f'{head}{note}<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _td(v: object, mono: bool) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f'<td class="num">{esc(v)}</td>'
    if isinstance(v, str) and _ISO.match(v):
        return _time_td(v)
    return f'<td class="mono">{esc(v)}</td>' if mono else f"<td>{esc(v)}</td>"


def _time_td(v: str | None) -> str:
    """An ISO 8601 UTC time shown as ``2024-03-14 03:12:45.165261209`` on one line (UTC in the title)."""
    if not v:
        return "<td></td>"
    return f'<td class="time" title="{esc(v)}">{esc(v.replace("T", " ").removesuffix("Z"))}</td>'


def _rules(rules: list[dict]) -> str:
    rows = "".join(f'<tr id="rule-{esc(r["id"])}"><td class="mono">{esc(r["id"])}</td>'
                   f'<td><span class="sev sev-{esc(r["severity"])}">{esc(r["severity"])}</span></td>'
                   f'<td>{esc(r["title"])}</td><td>{esc(r["description"])}</td></tr>' for r in rules)
    return ('<section id="rules"><h2>Rules</h2><div class="scroll"><table><thead><tr><th>rule</th><th>severity</th>'
            f"<th>title</th><th>what it looks for</th></tr></thead><tbody>{rows}</tbody></table></div></section>")


__all__ = ["render_html", "CSP"]
