"""`inspect summary`, `inspect connections` and `inspect http`: the overview tiles, the connection table and
the HTTP requests of a capture, as readable tables or (``--json``) JSON.

Registered by cli.py (``main.add_command(summary_cmd, "summary")`` and likewise ``connections``,
``http``). cli.py's helpers are imported when a command runs, so either module may import the other.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence

import click

from .parsers.errors import ScapError

SPARK = " ▁▂▃▄▅▆▇█"
_OPTS = [
    click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table"),
    click.option("--compat", type=click.Choice(["0.29", "0.41"]), default=None,
                 help="replay as this sysdig version (default: chosen from the capture's event style)"),
    click.option("--strict", is_flag=True, help="exit 2 on a truncated or damaged capture"),
]


def _options(fn):
    for deco in reversed(_OPTS):
        fn = deco(fn)
    return fn


def _compute(capture: str, filter_expr: str | None, compat: str | None, strict: bool, fn: Callable):
    """``fn(Capture)``, with every way the input can be wrong turned into one line and exit 2."""
    from .capture import Capture
    from .cli_common import fail, report_warnings

    try:
        cap = Capture(capture, compat=compat, strict=strict)
        if filter_expr:
            cap = cap.filter(filter_expr)
        result = fn(cap)
    except ScapError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{capture}: {e.strerror or e}")
    except ValueError as e:
        fail(f"filter: {e}" if filter_expr else str(e))
    report_warnings(cap.warnings, strict)
    return result


# -- formatting helpers -------------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: set[int] | None = None) -> Iterator[str]:
    """Aligned text columns; cells are escaped (control characters from the capture shown as \\xNN)."""
    from .cli_common import escape_terminal

    right = right or set()
    cells = [[escape_terminal(_cell(v)) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        out = [v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))]
        return "  ".join(out).rstrip()
    yield line(list(headers))
    for r in cells:
        yield line(r)


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    try:
        import pandas as pd
        if v is pd.NA or v is pd.NaT:
            return "-"
    except ImportError:  # pragma: no cover
        pass
    return str(v)


def human(n: float) -> str:
    """Inspect's tile number: one decimal and K/M/G multipliers of 1000 (integers below 1000 as is)."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.1f}{unit}"
    return f"{n:g}" if isinstance(n, float) else str(n)


def sparkline(values: Sequence[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return SPARK[1] * len(values) if values else ""
    return "".join(SPARK[1 + round(v / top * (len(SPARK) - 2))] if v > 0 else SPARK[1] for v in values)


def _json_lines(obj) -> list[str]:
    return [json.dumps(obj, ensure_ascii=True, default=str)]


def _frame_records(df) -> list[dict]:
    """A DataFrame as JSON-ready records: times as ISO strings, durations in ns, NA as null."""
    import pandas as pd

    out = []
    for rec in df.to_dict(orient="records"):
        row = {}
        for k, v in rec.items():
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                row[k] = None
            elif isinstance(v, pd.Timestamp):
                row[k] = v.isoformat()
            elif isinstance(v, pd.Timedelta):
                row[k] = int(v.value)
            elif hasattr(v, "item"):
                row[k] = v.item()
            else:
                row[k] = v
        out.append(row)
    return out


def _duration(td) -> str | None:
    """A latency as 25us, 1.1ms or 2.10s."""
    if td is None or td != td:
        return None
    ns = int(td.value)
    if ns < 1_000_000:
        return f"{ns / 1000:.0f}us"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f}ms"
    return f"{ns / 1e9:.2f}s"


# -- commands -----------------------------------------------------------------------------------------------
@click.command("summary", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("capture", type=click.Path())
@click.argument("filter_expr", required=False, default=None, metavar="[FILTER]")
@click.option("--samples", type=click.IntRange(1, 10000), default=40, show_default=True,
              help="timeline samples per tile (Inspect's overview uses 40)")
@_options
def summary_cmd(capture: str, filter_expr: str | None, samples: int, as_json: bool, compat: str | None,
                strict: bool) -> None:
    """The overview tiles of CAPTURE (Sysdig Inspect's first page): each metric's total and timeline,
    by category. With --json, the document `sysdig -c wsysdig_summary` builds (see the docs for the tile
    bugs we fix)."""
    from .cli_common import emit

    result = _compute(capture, filter_expr, compat, strict, lambda cap: cap.summary(samples))
    if as_json:
        emit(_json_lines(result), raw=True)
        return
    emit(_summary_lines(result), raw=True)


def _summary_lines(s: dict) -> Iterator[str]:
    info = s["info"]
    dur = int(info["durationNs"]) / 1e9
    yield f"duration {dur:.3f}s, {len(s['metrics'])} metrics"
    names = {c["id"]: c["name"] for c in info["categories"]}
    for cid, cname in names.items():
        ms = [m for m in s["metrics"] if m["category"] == cid]
        if not ms:
            continue
        yield ""
        yield cname.upper()
        rows = [(m["name"], human(m["data"]["tot"]), sparkline([p["v"] for p in m["data"]["timeLine"]]),
                 m["targetView"] + (f" [{m['targetViewFilter']}]" if m.get("targetViewFilter") else ""))
                for m in ms]
        yield from ("  " + ln for ln in table(("METRIC", "TOTAL", "TIMELINE", "DRILL-DOWN"), rows, right={1}))


@click.command("connections", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("capture", type=click.Path())
@click.argument("filter_expr", required=False, default=None, metavar="[FILTER]")
@click.option("--all", "show_all", is_flag=True, help="also connections the capture saw no I/O on")
@_options
def connections_cmd(capture: str, filter_expr: str | None, show_all: bool, as_json: bool, compat: str | None,
                    strict: bool) -> None:
    """Network connections in CAPTURE: one row per process, socket and peer, with bytes in and out
    (what the calls returned, not what the capture kept), calls made, and whether it was closed.
    Connections open when the capture began are listed with --all even when idle."""
    from .cli_common import emit

    df = _compute(capture, filter_expr, compat, strict, lambda cap: cap.connections())
    if not show_all:
        df = df[(df["operations"] > 0) | ~df["preexisting"]]
    if as_json:
        emit(_json_lines(_frame_records(df)), raw=True)
        return
    rows = [(r["l4proto"], f"{r['local.ip']}:{r['local.port']}", "->" if r["direction"] == "outbound" else "<-",
             f"{r['remote.ip']}:{r['remote.port']}", f"{r['proc.name']}({r['proc.pid']})", r["fd.num"],
             r["bytes_in"], r["bytes_out"], r["operations"], r["state"] + (" *" if r["preexisting"] else ""))
            for _, r in df.iterrows()]
    emit(table(("PROTO", "LOCAL", "", "REMOTE", "PROCESS", "FD", "IN", "OUT", "OPS", "STATE"), rows,
               right={5, 6, 7, 8}), raw=True)


@click.command("http", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("capture", type=click.Path())
@click.argument("filter_expr", required=False, default=None, metavar="[FILTER]")
@_options
def http_cmd(capture: str, filter_expr: str | None, as_json: bool, compat: str | None, strict: bool) -> None:
    """HTTP requests and responses found in what processes read and wrote on sockets (any port), paired
    per connection. SIDE says whether the process sent the request (client) or answered it (server);
    sizes are the bytes the calls moved; a * marks messages the capture's snaplen cut."""
    from .cli_common import emit

    df = _compute(capture, filter_expr, compat, strict, lambda cap: cap.http())
    if as_json:
        emit(_json_lines(_frame_records(df)), raw=True)
        return
    rows = []
    for _, r in df.iterrows():
        lat = r["latency"]
        rows.append((r["time"].strftime("%H:%M:%S.%f") if r["time"] is not None else "-",
                     f"{r['proc.name']}({r['proc.pid']})", r["side"], r["method"],
                     (r["host"] or "") + (r["url"] or "") if r["url"] is not None else None, r["status"],
                     r["request_size"], r["response_size"],
                     _duration(lat),
                     "*" if r["truncated"] else ""))
    emit(table(("TIME", "PROCESS", "SIDE", "METHOD", "URL", "STATUS", "REQ", "RESP", "LATENCY", "CUT"), rows,
               right={5, 6, 7, 8}), raw=True)


__all__ = ["summary_cmd", "connections_cmd", "http_cmd", "table", "human", "sparkline"]
