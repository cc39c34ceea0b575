"""Load and analysis benchmark on large captures, next to Debian's sysdig/csysdig (issue 9).

    python benchmarks/bench_load.py --quick          # 1M events only
    python benchmarks/bench_load.py                  # 1M and 10M events
    python benchmarks/bench_load.py --sizes 1000000 --jobs load,walk,sysdig-q

Captures are built once with make_big.py (the event blocks of a shared capture repeated with shifted
timestamps) into --dir and reused. Every job runs in a fresh subprocess and times itself after its
imports, so start-up is excluded; each job reports wall time and CPU time (the CPU time of the job's
own process, or of its children for sysdig). ``loaded:JOB`` jobs load the capture (``cap.events``) before
the clock starts and time the first call of one analysis on it (``loaded:all``: every analysis and view
in turn), which is what Jupyter and the TUI pay once a capture is open. On a shared machine the wall time grows with the other
load and the CPU time does not, so ratios are given for both. Jobs past --timeout are reported as such.
The table is printed and written with the raw numbers under benchmarks/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "captures"
FILTER5 = ("evt.dir=< and evt.type in (read, recvfrom, sendto, write) and fd.type=ipv4 "
           "and proc.name!=sshd and evt.rawres>0")

# job name -> Python code run in a child; it sets `work` to a function of the capture path
PY_JOBS = {
    "walk": "from scapinspect.fastpath.loader import header_walk as work",
    "load": "from scapinspect.fastpath import load_events as work",
    # a second open with the capture cache on: a child process fills a temporary cache, this one reads it
    "reopen": ("import atexit, os, shutil, subprocess, sys, tempfile\n"
               "os.environ['SCAPINSPECT_CACHE_DIR'] = tmp = tempfile.mkdtemp()\n"
               "atexit.register(shutil.rmtree, tmp, True)\n"
               "subprocess.run([sys.executable, '-c', 'import sys, scapinspect as si; "
               "si.open(sys.argv[1], cache=True).events', sys.argv[1]], check=True)\n"
               "import pyarrow.parquet, scapinspect.capture\n"
               "work = lambda p: scapinspect.capture.open(p, cache=True).events"),
    "load-reference": ("from scapinspect.capture import Capture, DEFAULT_COLUMNS\n"
                       "work = lambda p: Capture(p).fields(DEFAULT_COLUMNS)"),
    "spy_users": "from scapinspect.capture import Capture\nwork = lambda p: Capture(p).spy_users()",
    "connections": "from scapinspect.capture import Capture\nwork = lambda p: Capture(p).connections()",
    "echo": "from scapinspect.capture import Capture\nwork = lambda p: Capture(p).io_streams()",
    "http": "from scapinspect.capture import Capture\nwork = lambda p: Capture(p).http()",
    "summary": "from scapinspect.capture import Capture\nwork = lambda p: Capture(p).summary()",
    "filter5": ("from scapinspect.capture import Capture\n"
                f"work = lambda p: Capture(p).filter({FILTER5!r})._selection"),
    "views": ("from scapinspect.capture import Capture\n"
              "from scapinspect.analyzers.views import VIEWS, view_frame\n"
              "def work(p):\n"
              "    cap = Capture(p)\n"
              "    return [view_frame(cap, v.id if hasattr(v, 'id') else v) for v in VIEWS]"),
}
# after load: the capture is loaded (cap.events) before the clock starts, as in Jupyter or the TUI; each
# job is the first call of its analysis on that capture
# (the analyses' modules are imported before the clock too: they load lazily on first use, and with
# PYTHONDONTWRITEBYTECODE set each process compiles them again)
_LOADED = ("import sys\nfrom scapinspect.capture import Capture\n"
           "from scapinspect.analyzers.views import VIEWS, view_frame\n"
           "import scapinspect.analyzers.summary, scapinspect.analyzers.fast_summary, scapinspect.analyzers.http\n"
           "import scapinspect.analyzers.fast_io, scapinspect.analyzers.fast_conn, scapinspect.analyzers.views.fast\n"
           "import scapinspect.analyzers.connections, scapinspect.analyzers.io_streams, scapinspect.analyzers.spy_users\n"
           "cap = Capture(sys.argv[1])\n_ = cap.events\n")
AFTER_LOAD = {
    "spy_users": "cap.spy_users()", "connections": "cap.connections()", "echo": "cap.io_streams()",
    "http": "cap.http()", "summary": "cap.summary()", "filter5": f"cap.filter({FILTER5!r})._selection",
    "views": "[view_frame(cap, v) for v in VIEWS]",
    "all": ("[cap.spy_users(), cap.connections(), cap.io_streams(), cap.http(), cap.summary(), "
            "*[view_frame(cap, v) for v in VIEWS]]"),
}
for _name, _expr in AFTER_LOAD.items():
    PY_JOBS[f"loaded:{_name}"] = _LOADED + f"work = lambda p: {_expr}"
PY_JOBS.update({f"loaded:view:{_v}": _LOADED + f"work = lambda p: view_frame(cap, {_v!r})" for _v in (
    "procs", "procs_cpu", "threads", "files", "directories", "connections", "sports", "incoming_connections",
    "port_bindings", "errors", "procs_errors", "syscalls", "syscall_procs", "spy_users", "io_by_type",
    "slow_io", "file_opens", "containers", "page_faults")})
CLI_JOBS = {"inspect-events": ["inspect", "events", "{f}"]}
SYSDIG_JOBS = {
    "sysdig-q": ["sysdig", "-r", "{f}", "-q"],
    "sysdig-spy_users": ["sysdig", "-r", "{f}", "-c", "spy_users"],
    "sysdig-echo_fds": ["sysdig", "-r", "{f}", "-c", "echo_fds"],
    "sysdig-topconns": ["sysdig", "-r", "{f}", "-c", "topconns"],
    "csysdig-procs": ["csysdig", "-r", "{f}", "-v", "procs", "-j"],
}
# ours -> the sysdig job it is compared with
PAIRS = {"load": "sysdig-spy_users", "walk": "sysdig-q", "spy_users": "sysdig-spy_users",
         "echo": "sysdig-echo_fds", "connections": "sysdig-topconns", "views": "csysdig-procs",
         "inspect-events": "sysdig-q", "loaded:spy_users": "sysdig-spy_users", "loaded:echo": "sysdig-echo_fds",
         "loaded:connections": "sysdig-topconns", "loaded:view:procs": "csysdig-procs"}
DEFAULT_JOBS = ["walk", "load", "reopen", "load-reference", "spy_users", "connections", "echo", "http", "summary",
                "views", "filter5", *[f"loaded:{k}" for k in AFTER_LOAD], "inspect-events", *SYSDIG_JOBS]

CHILD = r"""
import json, resource, sys, time, tracemalloc
{setup}
path, trace = sys.argv[1], sys.argv[2] == "1"
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if trace:
    tracemalloc.start()
w0, c0 = time.perf_counter(), time.process_time()
res = work(path)
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
peak = tracemalloc.get_traced_memory()[1] if trace else None
rows = len(res) if hasattr(res, "__len__") else None
print(json.dumps({{"wall": wall, "cpu": cpu, "rss_before_kb": rss0,
                  "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "traced_peak": peak, "rows": rows}}))
"""


def build(n: int, src: Path, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / f"{src.stem}-{n}.scap"
    if not dst.exists():
        sys.path.insert(0, str(HERE))
        from make_big import build as mk
        tmp = dst.with_suffix(".tmp")
        t0 = time.perf_counter()
        written = mk(str(src), n, str(tmp))
        tmp.rename(dst)
        print(f"built {dst} ({written} events, {time.perf_counter() - t0:.1f}s)", file=sys.stderr)
    return dst


def run_py(job: str, path: Path, timeout: float, trace: bool = False) -> dict:
    code = CHILD.format(setup=PY_JOBS[job])
    try:
        p = subprocess.run([sys.executable, "-c", code, str(path), "1" if trace else "0"],
                           capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout>{timeout:g}s"}
    if p.returncode != 0:
        return {"status": "error", "stderr": p.stderr[-800:]}
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["status"] = "ok"
    return out


def run_cmd(argv: list[str], path: Path, timeout: float) -> dict:
    if shutil.which(argv[0]) is None:
        return {"status": "not installed"}
    argv = [a.format(f=path) for a in argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    try:
        with open(os.devnull, "wb") as null:
            p = subprocess.run(argv, stdout=null, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               timeout=timeout, env={**os.environ, "TERM": "xterm"})
    except subprocess.TimeoutExpired:
        return {"status": f"timeout>{timeout:g}s"}
    wall = time.perf_counter() - w0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    status = "ok" if p.returncode == 0 else f"exit {p.returncode}"
    return {"status": status, "wall": wall, "cpu": cpu, "rss_peak_kb": after.ru_maxrss,
            "stderr": p.stderr.decode(errors="replace")[-300:] if p.returncode else ""}


def calibrate() -> dict:
    """A fixed pure-Python loop: how loaded the machine was (about 0.2 s of CPU on this VM when quiet)."""
    w0, c0 = time.perf_counter(), time.process_time()
    x = 0
    for i in range(10_000_000):
        x += i
    return {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}


def fmt(r: dict | None, key: str) -> str:
    if r is None:
        return "-"
    if r.get("status") != "ok":
        return r.get("status", "-")
    return f"{r[key]:.2f}"


def table(n: int, results: dict, file_size: int) -> str:
    lines = [f"### {n:,} events ({file_size / 1e6:.0f} MB)", "",
             "| job | ours wall s | ours CPU s | sysdig job | sysdig wall s | sysdig CPU s | ratio wall | ratio CPU |",
             "|---|---|---|---|---|---|---|---|"]
    for job, r in results.items():
        if job in SYSDIG_JOBS:
            continue
        s_job = PAIRS.get(job)
        s = results.get(s_job) if s_job else None
        rw = rc = "-"
        if s and s.get("status") == "ok" and r.get("status") == "ok":
            rw = f"{r['wall'] / s['wall']:.1f}x"
            rc = f"{r['cpu'] / max(s['cpu'], 1e-9):.1f}x"
        lines.append(f"| {job} | {fmt(r, 'wall')} | {fmt(r, 'cpu')} | {s_job or '-'} | {fmt(s, 'wall')} | "
                     f"{fmt(s, 'cpu')} | {rw} | {rc} |")
    for job in SYSDIG_JOBS:
        if job in results:
            r = results[job]
            lines.append(f"| ({job} alone) | | | {job} | {fmt(r, 'wall')} | {fmt(r, 'cpu')} | | |")
    mem, load = results.get("load-memory"), results.get("load")
    if mem and mem.get("status") == "ok":
        lines += ["", f"load memory: tracemalloc peak {mem['traced_peak'] / n:.0f} B/event "
                  f"({mem['traced_peak'] / 1e6:.0f} MB, Python and numpy allocations)."]
    if load and load.get("status") == "ok":
        # RSS from the untraced run: tracemalloc's own bookkeeping would inflate it
        rss = (load["rss_peak_kb"] - load["rss_before_kb"]) * 1024
        lines += [f"load peak RSS growth {rss / n:.0f} B/event ({rss / 1e6:.0f} MB, including the "
                  f"{file_size / 1e6:.0f} MB of mapped file pages it read: {(rss - file_size) / n:.0f} B/event "
                  "beyond them)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1M events only")
    ap.add_argument("--sizes", default=None, help="comma-separated event counts (default 1M,10M)")
    ap.add_argument("--src", default=str(SHARED / "502Error.scap"), help="capture whose events are repeated")
    ap.add_argument("--dir", default="/tmp/scapinspect-bench", help="where the big captures are kept")
    ap.add_argument("--jobs", default=",".join(DEFAULT_JOBS), help="comma-separated jobs to run")
    ap.add_argument("--big-jobs", default="walk,load,reopen,inspect-events,sysdig-q,sysdig-spy_users",
                    help="the jobs run on captures over 2M events (the others are slow per event)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per job")
    ap.add_argument("--results", default=str(HERE / "results"), help="directory for the results file")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")] if a.sizes else ([1_000_000] if a.quick else [1_000_000, 10_000_000])
    src = Path(a.src)
    if not src.exists():
        print(f"{src}: missing (the shared captures are needed to build the big ones)", file=sys.stderr)
        return 2
    report = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "python": sys.version.split()[0],
              "machine": platform.machine(), "cpus": os.cpu_count(), "src": src.name,
              "sysdig": _version(), "calibration_before": calibrate(), "sizes": {}}
    out_md = [f"# bench_load {report['date']}", "",
              f"Python {report['python']}, {report['cpus']} CPUs, sysdig {report['sysdig']}; source {src.name}.",
              f"Calibration (10M-iteration Python loop, ~0.2 s CPU when quiet): "
              f"{report['calibration_before']['wall']:.2f} s wall, {report['calibration_before']['cpu']:.2f} s CPU.", ""]
    for n in sizes:
        path = build(n, src, Path(a.dir))
        jobs = a.jobs.split(",")
        if n > 2_000_000:
            jobs = [j for j in jobs if j in a.big_jobs.split(",")]
        results: dict[str, dict] = {}
        for job in jobs:
            print(f"[{n}] {job} ...", file=sys.stderr, flush=True)
            if job in PY_JOBS:
                results[job] = run_py(job, path, a.timeout)
            elif job in CLI_JOBS:
                results[job] = run_cmd(CLI_JOBS[job], path, a.timeout)
            elif job in SYSDIG_JOBS:
                results[job] = run_cmd(SYSDIG_JOBS[job], path, a.timeout)
            print(f"    {results[job]}", file=sys.stderr, flush=True)
        if "load" in jobs:
            results["load-memory"] = run_py("load", path, a.timeout * 3, trace=True)
        report["sizes"][str(n)] = {"path": str(path), "bytes": path.stat().st_size, "results": results}
        out_md += [table(n, results, path.stat().st_size), ""]
    report["calibration_after"] = calibrate()
    out_md.append(f"Calibration after: {report['calibration_after']['wall']:.2f} s wall, "
                  f"{report['calibration_after']['cpu']:.2f} s CPU.")
    text = "\n".join(out_md)
    print(text)
    rdir = Path(a.results)
    rdir.mkdir(parents=True, exist_ok=True)
    stem = "load-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (rdir / f"{stem}.md").write_text(text + "\n")
    (rdir / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {rdir / stem}.md and .json", file=sys.stderr)
    return 0


def _version() -> str | None:
    if shutil.which("sysdig") is None:
        return None
    p = subprocess.run(["sysdig", "--version"], capture_output=True, text=True)
    return p.stdout.strip().split()[-1] if p.returncode == 0 else None


if __name__ == "__main__":
    sys.exit(main())
