"""The timeline chart as inline SVG: bars for the first series, a line for the second, axis labels in
UTC. No script, no external font or stylesheet, every label escaped.

    svg = timeline_svg(doc["timeline"])     # a report's timeline section -> "<svg ...>...</svg>"
"""
from __future__ import annotations

import html

import pandas as pd

WIDTH, HEIGHT = 960, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 40
BAR = "#4a78b5"
LINE = "#c0392b"
GRID = "#d9dde3"
INK = "#333"


def _esc(s: object) -> str:
    return html.escape(str(s), quote=True)


def _nice_max(v: float) -> float:
    """The smallest 1/2/5 x 10^n at or above ``v``."""
    if v <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= v:
        scale *= 10
    while scale > v:
        scale /= 10
    for m in (1, 2, 5, 10):
        if m * scale >= v:
            return m * scale
    return 10 * scale


def _label_time(ns: int, span_ns: int) -> str:
    ts = pd.Timestamp(ns, unit="ns", tz="UTC")
    return ts.strftime("%H:%M:%S.%f")[:-3] if span_ns < 60_000_000_000 else ts.strftime("%H:%M:%S")


def _points(series: dict) -> tuple[list[int], list[float]]:
    ts = [int(pd.Timestamp(t).value) for t, _ in series["points"]]
    vs = [float(v or 0) for _, v in series["points"]]
    return ts, vs


def timeline_svg(timeline: dict | None, *, width: int = WIDTH, height: int = HEIGHT,
                 title: str = "Events over time") -> str:
    """An SVG chart of a report timeline (``{"freq", "series": [{"metric", "points": [[iso, v]...]}]}``);
    an empty chart with a message when there is nothing to draw."""
    series = [s for s in (timeline or {}).get("series", []) if s.get("points")]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
            f'width="100%" font-family="sans-serif" font-size="11">'
            f"<title>{_esc(title)}</title>")
    if not series:
        return head + (f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{INK}">'
                       "no events to chart</text></svg>")
    ts, vs = _points(series[0])
    t0 = ts[0]
    step = ts[1] - ts[0] if len(ts) > 1 else 1
    t1 = ts[-1] + step
    vmax = _nice_max(max(max(_points(s)[1]) for s in series[:2]))
    pw, ph = width - LEFT - RIGHT, height - TOP - BOTTOM

    def x(t: int) -> float:
        return LEFT + (t - t0) * pw / max(t1 - t0, 1)

    def y(v: float) -> float:
        return TOP + ph - v * ph / vmax

    out = [head, _axes(width, height, vmax, t0, t1, x, y)]
    bw = max(pw / max(len(ts), 1) - 1, 0.5)
    metric = _esc(series[0].get("metric", ""))
    for t, v in zip(ts, vs, strict=True):
        if v > 0:
            out.append(f'<rect x="{x(t):.1f}" y="{y(v):.1f}" width="{bw:.1f}" height="{TOP + ph - y(v):.1f}" '
                       f'fill="{BAR}"><title>{_esc(_label_time(t, t1 - t0))} UTC: {v:g} {metric}</title></rect>')
    if len(series) > 1:
        out.append(_line(series[1], x, y, step))
    out.append(_legend(series[:2], width))
    out.append("</svg>")
    return "".join(out)


def _axes(width: int, height: int, vmax: float, t0: int, t1: int, x, y) -> str:
    parts = []
    for k in range(5):
        v = vmax * k / 4
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{GRID}"/>'
                     f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{INK}">{v:g}</text>')
    for k in range(5):
        t = t0 + (t1 - t0) * k // 4
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"
        parts.append(f'<text x="{x(t):.1f}" y="{height - BOTTOM + 16}" text-anchor="{anchor}" fill="{INK}">'
                     f"{_esc(_label_time(t, t1 - t0))}</text>")
    parts.append(f'<text x="{width - RIGHT}" y="{height - 6}" text-anchor="end" fill="{INK}">time (UTC)</text>')
    return "".join(parts)


def _line(series: dict, x, y, step: int) -> str:
    ts, vs = _points(series)
    pts = " ".join(f"{x(t + step // 2):.1f},{y(v):.1f}" for t, v in zip(ts, vs, strict=True))
    return f'<polyline points="{pts}" fill="none" stroke="{LINE}" stroke-width="1.5"/>'


def _legend(series: list[dict], width: int) -> str:
    out, xpos = [], LEFT
    for colour, s in zip((BAR, LINE), series, strict=False):
        name = _esc(s.get("metric", ""))
        out.append(f'<rect x="{xpos}" y="{TOP - 12}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{xpos + 14}" y="{TOP - 3}" fill="{INK}">{name}</text>')
        xpos += 14 + 8 * len(str(s.get("metric", ""))) + 16
    return "".join(out)


def series_svg(first: pd.Series, second: pd.Series | None = None, *, title: str | None = None,
               width: int = WIDTH, height: int = HEIGHT) -> str:
    """``Capture.timeline(...)`` Series as the same chart: the first as bars, the second as a line.

        from IPython.display import SVG
        SVG(series_svg(cap.timeline("events", "1s"), cap.timeline("errors", "1s")))
    """
    series = []
    for s in (first, second):
        if s is None:
            continue
        pts = [[int(pd.Timestamp(t).value), float(v)] for t, v in s.items()]
        series.append({"metric": str(s.name or "value"),
                       "points": [[pd.Timestamp(t, unit="ns", tz="UTC").isoformat(), v] for t, v in pts]})
    return timeline_svg({"series": series}, width=width, height=height,
                        title=title or " and ".join(x["metric"] for x in series))


__all__ = ["timeline_svg", "series_svg"]
