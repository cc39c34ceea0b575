"""The report document as Markdown (GitHub flavoured tables). Every value is escaped so that it renders
as exactly its text: no HTML, no links, no emphasis can come from a capture. The timeline is a
sparkline of block characters, since Markdown renderers drop inline SVG.

    from scapinspect.report import build_report, render_markdown
    Path("report.md").write_text(render_markdown(build_report(["intrusion.scap"])), encoding="utf-8")
"""
from __future__ import annotations

from .text import human_bytes, human_duration
from .text import md_text as esc

BLOCKS = " ▁▂▃▄▅▆▇█"


def render_markdown(doc: dict) -> str:
    """The whole report as Markdown text."""
    caps = doc["captures"]
    title = caps[0]["name"] if len(caps) == 1 else f"{len(caps)} captures"
    out = [f"# Capture report: {esc(title)}", "", _scope(doc), ""]
    for cap in caps:
        out += _capture(cap)
    out += ["## Rules", "", "| rule | severity | title | what it looks for |", "|---|---|---|---|"]
    out += [f"| {esc(r['id'])} | {esc(r['severity'])} | {esc(r['title'])} | {esc(r['description'])} |"
            for r in doc["rules"]]
    return "\n".join(out) + "\n"


def _scope(doc: dict) -> str:
    gen, scope = doc["generator"], doc["scope"]
    parts = [f"scapinspect {esc(gen['version'])}, {esc(doc['generated_at'])}",
             f"filter: {esc(scope['filter'])}" if scope["filter"] else "no filter"]
    if scope["start"] or scope["end"]:
        parts.append(f"time range: {esc(scope['start'] or 'start')} to {esc(scope['end'] or 'end')}")
    return "*" + " · ".join(parts) + "*"


def _capture(cap: dict) -> list[str]:
    out = [f"## {esc(cap['name'])}", ""]
    if cap["status"] == "failed":
        return out + [f"**This capture could not be read:** {esc(cap['error'])}", ""]
    info = cap["info"]
    out += ["| | |", "|---|---|"]
    for k, v in (("File", cap["path"]), ("Host", info["hostname"] or "unknown"),
                 ("Events", f"{info['events_selected']} selected of {info['events_in_file']} in the file"),
                 ("First event", info["first_event"]), ("Last event", info["last_event"]),
                 ("Duration", human_duration(info["duration_s"])), ("Rendered as", f"sysdig {info['compat']}")):
        out.append(f"| {k} | {esc(v)} |")
    out.append("")
    if cap["warnings"]:
        out += ["**Warnings**", ""] + [f"- {esc(w)}" for w in cap["warnings"]] + [""]
    out += _tiles(cap["tiles"])
    out += _timeline(cap["timeline"])
    out += _findings(cap["findings"])
    for sec in cap["sections"]:
        out += _section(sec)
    return out


def _tiles(tiles: list[dict]) -> list[str]:
    out = ["### Overview", ""]
    groups: dict[str, list[dict]] = {}
    for t in tiles:
        groups.setdefault(t["category"], []).append(t)
    for cat, ts in groups.items():
        if cat != "capture":
            out += [f"*{esc(cat)}*", ""]
        out += [f"- **{esc(t['name'])}**: {esc(_value(t))}" for t in ts] + [""]
    return out


def _value(t: dict) -> str:
    v = t["value"]
    if t["unit"] == "B" and isinstance(v, (int, float)):
        return human_bytes(v)
    if t["unit"] == "s" and isinstance(v, (int, float)):
        return human_duration(v)
    return f"{v:,}" if isinstance(v, int) else str(v)


def sparkline(values: list[float]) -> str:
    """Values as block characters scaled to the largest (a space for zero)."""
    top = max(values, default=0)
    if top <= 0:
        return BLOCKS[0] * len(values)
    return "".join(BLOCKS[0] if v <= 0 else BLOCKS[max(1, round(v / top * (len(BLOCKS) - 1)))] for v in values)


def _timeline(tl: dict | None) -> list[str]:
    if not tl:
        return []
    width = f" (buckets of {esc(tl['freq'])})" if tl.get("freq") else ""
    out = [f"### Timeline{width}", ""]
    if tl.get("note"):
        out += [f"*{esc(tl['note'])}*", ""]
    for s in tl.get("series", []):
        pts = s["points"]
        if not pts:
            continue
        values = [float(v or 0) for _, v in pts]
        out += [f"- {esc(s['metric'])} (max {max(values):g} per bucket, {esc(pts[0][0])} to {esc(pts[-1][0])}):",
                "", f"      {sparkline(values)}", ""]
    return out


def _findings(findings: list[dict]) -> list[str]:
    if not findings:
        return ["### Notable findings", "", "No rule matched.", ""]
    out = [f"### Notable findings ({len(findings)})", "", "| severity | time | rule | process | pid | what |",
           "|---|---|---|---|---:|---|"]
    out += [f"| {esc(f['severity'])} | {esc(f['time'])} | {esc(f['rule'])} | {esc(f['process'])} | "
            f"{esc(f['pid'])} | {esc(f['detail'])} |" for f in findings]
    return out + [""]


def _section(sec: dict) -> list[str]:
    out = [f"### {esc(sec['title'])}", ""]
    if sec.get("note"):
        out += [f"*{esc(sec['note'])}*", ""]
    if sec["status"] != "ok":
        return out + [f"{esc(sec['status'].capitalize())}.", ""]
    if not sec["rows"]:
        return out + ["Nothing found.", ""]
    out.append("| " + " | ".join(esc(c) for c in sec["columns"]) + " |")
    out.append("|" + "|".join("---:" if _numeric(sec, j) else "---" for j in range(len(sec["columns"]))) + "|")
    out += ["| " + " | ".join(esc(v) for v in row) + " |" for row in sec["rows"]]
    return out + [""]


def _numeric(sec: dict, j: int) -> bool:
    vals = [r[j] for r in sec["rows"] if r[j] is not None]
    return bool(vals) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)


__all__ = ["render_markdown", "sparkline"]
