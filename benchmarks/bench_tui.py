"""TUI benchmark (issue 5): first paint, load, tab switches and filters on a large capture.

    python benchmarks/bench_tui.py /tmp/scapinspect-bench/502Error-1000000.scap
    python benchmarks/bench_tui.py --quick          # the bundled sample

Drives the real app headless with Textual's Pilot at 120x40 and reports wall times:

* first paint: app start to the first frame on screen (the capture still loading);
* loaded: until the unfiltered scope is on screen (events, Syscalls list, overview tiles);
* on screen: until the loaded capture's overview tiles are drawn;
* filter EXPR right after the load: the last filter applied on the Overview tab as soon as the capture
  is on screen, while the other tabs are prefetched and evt.info is rendered in the background;
* ready: until every tab's table is computed (the prefetch after the load);
* evt.info: until the Syscalls list's evt.info has been rendered in the background;
* switch to TAB: ``show_tab`` until the tab's visible rows are drawn (each tab, once loaded; every tab
  was computed by the prefetch, so this is all UI: ``TAB: analysis`` is what the prefetch spent on it);
* filter EXPR: from applying a filter on the Syscalls tab until it shows the narrowed rows;
  ``EXPR: analysis`` is the scope's build in the worker (filter mask, frames; the overview tiles are
  computed only when the Overview tab shows them), the rest is the UI (messages, widgets, layout,
  drawing);
* filter EXPR on TAB: the same on every other tab (the scope built again each time): analysis = the
  build and the tab's table (on Overview: its tiles), both in the scope's worker. Each filter runs
  REPEAT times per tab; the median run is reported, and the slowest;
* switch to TAB under EXPR: with the last filter applied (on Processes), showing each other tab, which
  computes its table then (analysis: that computation, in a worker).

Wall times swing with the machine's load (the load average is printed at the end): the UI thread's CPU
time per step (``time.thread_time`` of the event loop's thread) is the steadier measure of the UI's cost.

Writes the numbers to benchmarks/results/tui-<time>.json and .md as well as printing them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FILTERS = ["proc.name=nginx", "evt.type=connect and evt.dir=<", "fd.type=ipv4 and evt.failed=false"]
# the tabs a filter is also applied on (besides Syscalls): every analysis tab of the bar
FILTER_TABS = ["spy_users", "connections", "io_streams", "http", "processes", "files", "directories", "errors",
               "overview"]
REPEAT = 3                            # runs of each filter on each tab (the median is reported)


async def _wait(pilot, cond, timeout: float = 600.0) -> float:
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the app did not get there")
        await asyncio.sleep(0.002)
    return time.perf_counter() - t0


async def _settled(pilot) -> None:
    """Every pending message handled and the screen laid out and rendered: what the screen's next
    refresh does (its update timer's callback: layout if required, then the dirty widgets), run now
    rather than at the next tick. Pilot.pause() would also wait for the whole process to go idle, which
    measures the machine; a forced full layout and render of the screen would count work the app does
    not do (a refresh that already ran would be paid twice)."""
    await pilot._wait_for_screen()
    pilot.app.screen._on_timer_update()


def _draw(table) -> None:
    """Draw the table's visible lines (what the compositor does on the next refresh)."""
    for y in range(max(1, table.scrollable_content_region.height)):
        table.render_line(y)


async def run(path: str, filters: list[str]) -> dict:
    from scapinspect.views.app import make_app
    from scapinspect.views.catalog import TABS
    out: dict = {"capture": path}
    t0 = time.perf_counter()
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        out["first paint"] = time.perf_counter() - t0
        await _wait(pilot, lambda: app.data is not None)
        out["loaded"] = time.perf_counter() - t0
        out["events"] = len(app.data.events)
        await _wait(pilot, lambda: app._tiles_of is app.data)
        await _settled(pilot)
        out["on screen"] = time.perf_counter() - t0
        # a filter at once, while the hidden tabs are prefetched and evt.info is rendered (they yield)
        busy = app.busy_threads > 0
        expr = filters[-1]
        s, cpu = time.perf_counter(), time.thread_time()
        app.set_scope(app.scope.with_filter(expr))
        key = app.scope.key
        await _wait(pilot, lambda: app.data is not None and app.data.key == key and app._tiles_of is app.data)
        await _settled(pilot)
        what = f"{expr} on overview right after the load" + ("" if busy else " (nothing in the background)")
        out[f"filter {what}"] = time.perf_counter() - s
        out[f"{what}: UI CPU"] = time.thread_time() - cpu
        out[f"{what}: analysis"] = app.data.seconds + app.data.metrics_seconds
        app.set_scope(app.scope.with_filter(""))
        tabs = [t.id for t in TABS if t.source not in ("overview", "views")]
        await _wait(pilot, lambda: all(app.result_key(t) in app.data.tabs for t in tabs))
        out["ready"] = time.perf_counter() - t0
        info = app.event_info
        if info is not None:
            await _wait(pilot, lambda: info.complete)
        out["evt.info"] = time.perf_counter() - t0
        await pilot.pause()
        for tab in tabs + ["overview"]:
            s, cpu = time.perf_counter(), time.thread_time()
            app.show_tab(tab)
            await _settled(pilot)
            if tab != "overview":
                _draw(app.tab_widget(tab).table)
            out[f"switch to {tab}"] = time.perf_counter() - s
            out[f"{tab}: UI CPU"] = time.thread_time() - cpu
            if tab != "overview":
                out[f"{tab}: analysis"] = app.data.tabs[app.result_key(tab)].seconds
        for tab in ["syscalls", *FILTER_TABS]:
            app.show_tab(tab)
            for expr in filters:
                name = f"filter {expr}" + (f" on {tab}" if tab != "syscalls" else "")
                what = name.removeprefix("filter ")
                runs = []
                for _ in range(REPEAT):
                    app.set_scope(app.scope.with_filter(""))
                    for key in [k for k in app.scopes if k != app.whole.key]:
                        del app.scopes[key]          # every filter builds its scope again
                    await pilot.pause()
                    s, cpu = time.perf_counter(), time.thread_time()
                    app.set_scope(app.scope.with_filter(expr))
                    key = app.scope.key
                    if tab == "overview":
                        await _wait(pilot, lambda key=key: app.data is not None and app.data.key == key
                                    and app._tiles_of is app.data)
                    else:
                        await _wait(pilot, lambda key=key, tab=tab: app.data is not None and app.data.key == key
                                    and app.result_key(tab) in app.data.tabs)
                    await _settled(pilot)
                    if tab != "overview":
                        _draw(app.tab_widget(tab).table)
                    wall, ui = time.perf_counter() - s, time.thread_time() - cpu
                    d = app.data
                    analysis = d.seconds + (d.metrics_seconds if tab == "overview" else
                                            d.tabs[tab].seconds if tab != "syscalls" else 0.0)
                    runs.append((wall, ui, analysis))
                runs.sort()
                wall, ui, analysis = runs[len(runs) // 2]        # the median run
                out[name] = wall
                out[f"{what}: worst"] = runs[-1][0]
                out[f"{what}: UI CPU"] = ui
                out[f"{what}: analysis"] = analysis
                out[f"rows {what}"] = len(app.overview_tab.tiles) if tab == "overview" else \
                    app.tab_widget(tab).table.row_count
        # under the last filter, the other tabs compute when shown: switch to each in turn
        expr = filters[-1]
        app.show_tab("processes")
        app.set_scope(app.scope.with_filter(expr))
        key = app.scope.key
        await _wait(pilot, lambda: app.data is not None and app.data.key == key
                    and app.result_key("processes") in app.data.tabs)
        await pilot.pause()
        for tab in [t for t in FILTER_TABS if t != "processes"] + ["syscalls"]:
            s, cpu = time.perf_counter(), time.thread_time()
            app.show_tab(tab)
            if tab == "overview":
                await _wait(pilot, lambda: app._tiles_of is app.data)
            else:
                await _wait(pilot, lambda tab=tab: app.result_key(tab) in app.data.tabs
                            and app.tab_widget(tab).showing(app.data.tabs[app.result_key(tab)]))
            await _settled(pilot)
            if tab != "overview":
                _draw(app.tab_widget(tab).table)
            what = f"{tab} under {expr}"
            out[f"switch to {what}"] = time.perf_counter() - s
            out[f"{what}: UI CPU"] = time.thread_time() - cpu
            d = app.data
            out[f"{what}: analysis"] = d.metrics_seconds if tab == "overview" else \
                d.tabs[app.result_key(tab)].seconds if tab != "syscalls" else 0.0
        await pilot.press("q")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture", nargs="?")
    ap.add_argument("--quick", action="store_true", help="the bundled sample capture")
    ap.add_argument("--filter", action="append", help="filters to apply (default: three of nginx traffic)")
    args = ap.parse_args()
    path = args.capture or str(ROOT / "sample_captures" / "web_502.scap")
    res = asyncio.run(run(path, args.filter or FILTERS))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    res["python"] = platform.python_version()
    res["cpus"] = os.cpu_count()
    lines = [f"# bench_tui {stamp}", "", f"{res['capture']}: {res['events']:,} events", "",
             "| step | seconds | analysis (workers) | UI | UI thread CPU | worst of the runs |",
             "|---|---|---|---|---|---|"]
    for k, v in res.items():
        if not isinstance(v, float) or k.endswith((": analysis", ": UI CPU", ": worst")):
            continue
        what = k.removeprefix("switch to ").removeprefix("filter ")
        a, cpu = res.get(f"{what}: analysis"), res.get(f"{what}: UI CPU")
        ui_cpu = f"{cpu:.3f}" if cpu is not None else ""
        worst = f"{res[what + ': worst']:.3f}" if f"{what}: worst" in res else ""
        if a is None:
            lines.append(f"| {k} | {v:.3f} | | | {ui_cpu} | |")
        elif k.startswith("switch to ") and " under " in k:
            lines.append(f"| {k} | {v:.3f} | {a:.3f} | {max(0.0, v - a):.3f} | {ui_cpu} | |")
        elif k.startswith("switch to "):
            lines.append(f"| {k} | {v:.3f} | 0 (prefetched: {a:.3f}) | {v:.3f} | {ui_cpu} | |")
        else:
            lines.append(f"| {k} | {v:.3f} | {a:.3f} | {max(0.0, v - a):.3f} | {ui_cpu} | {worst} |")
    lines += ["", "| rows | |", "|---|---|"]
    lines += [f"| {k.removeprefix('rows ')} | {v:,} |" for k, v in res.items() if k.startswith("rows ")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if load is not None:
        res["load average"] = load
        lines += ["", f"load average at the end: {load:.2f} on {os.cpu_count()} CPUs"]
    text = "\n".join(lines) + "\n"
    print(text)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"tui-{stamp}.json").write_text(json.dumps(res, indent=1))
    (out / f"tui-{stamp}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
