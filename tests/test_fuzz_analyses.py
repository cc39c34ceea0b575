"""Fuzzing every analysis and the report with damaged captures (issue 8: "200 through every analysis
and the report").

The cases come from the mutation engine in tools/fuzz_long.py (``make_case``: the same mutations,
seeded the same way as tests/test_fuzz.py), built from small seeds: the bundled samples and, when the
shared folder is there, its small captures. A third of the cases also get some of their printable
strings overwritten, length for length, with HTML/Markdown markup (``<script>`` ...), so that process
names, file names and payloads carry it into the report.

Each case is run through ``Capture.spy_users``, ``io_streams``, ``connections``, ``http``, ``summary``,
every csysdig view in ``VIEWS``, ``.events`` and ``.info``, then ``build_report`` rendered as HTML,
Markdown and JSON into a temporary directory. Invariants of every case:

* only ScapError subclasses escape an analysis, and no report section, finding or timeline is turned
  into an "error" by anything else;
* the case ends within CASE_TIMEOUT seconds (SIGALRM, as tools/fuzz_long.py);
* the report validates against REPORT_SCHEMA, its JSON parses, and no ``<script`` (nor any other tag a
  capture string could smuggle in) appears raw in the HTML or the Markdown.

The cases are fixed: case ``i`` of mutation ``m`` is ``make_case(random.Random(case_seed(m, i)), ...)``.
A longer run of the same check, from the command line::

    python tests/test_fuzz_analyses.py -n 1000 [--seed 1] [--budget 1800] [--out fuzz-failures]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import tempfile
import time
import traceback
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if "fuzz_long" in sys.modules:
    fuzz = sys.modules["fuzz_long"]
else:
    _spec = importlib.util.spec_from_file_location("fuzz_long", REPO / "tools" / "fuzz_long.py")
    fuzz = importlib.util.module_from_spec(_spec)
    sys.modules["fuzz_long"] = fuzz
    _spec.loader.exec_module(fuzz)

from scapinspect.parsers.errors import ScapError  # noqa: E402

# 12 mutation families x 18 = 216 cases through every analysis and the report
CASES_PER_MUTATION = 18
CASE_TIMEOUT = 30.0
# seeds are cut at a block boundary past this many bytes: a few hundred events each, the cases stay fast
SEED_BYTES = 24 * 1024
SAMPLES = REPO / "sample_captures"
# the small shared captures (the big ones would only be cut down to the same few events)
SMALL_SHARED = ("curl_google", "falco_cat_write", "falco_connect_localhost", "falco_open-multiple-files",
                "single_ipv6_conn")
SCAP_ERRORS = {c.__name__ for c in (ScapError, *ScapError.__subclasses__())}
# what a capture string could smuggle into the HTML or the Markdown if a writer forgot to escape it
HOSTILE_MARKUP = (b"<script>alert(1)</script>", b"<img src=x onerror=alert(1)>", b"<svg onload=alert(1)>",
                  b"</td></tr><script>", b"<iframe src=javascript:x>", b"\"><script>x</script>")
RAW_MARKUP = re.compile(r"<(script|img|svg\s+onload|iframe|/td></tr><script)", re.I)


# -- seeds and cases -------------------------------------------------------------------------------
def seed_paths(shared: Path | None) -> list[Path]:
    paths = sorted(SAMPLES.glob("*.scap"))
    if shared is not None and shared.is_dir():
        paths += [shared / f"{n}.scap" for n in SMALL_SHARED if (shared / f"{n}.scap").is_file()]
    return paths


def load_seeds(shared: Path | None, workdir: Path) -> list:
    return [fuzz.load_seed(p, workdir, SEED_BYTES) for p in seed_paths(shared)]


def case_seed(mutation: str, i: int, base: int = 0) -> int:
    return zlib.crc32(f"{base}:{mutation}:{i}".encode())


def inject_markup(rng: random.Random, data: bytes) -> bytes:
    """Overwrite a few runs of printable ASCII (names, paths, payloads) with markup of the same length:
    the framing is untouched, so the strings reach the analyses and the report."""
    runs = [m.span() for m in re.finditer(rb"[\x20-\x7e]{12,}", data)]
    if not runs:
        return data
    d = bytearray(data)
    for a, b in rng.sample(runs, min(len(runs), rng.randint(1, 8))):
        s = rng.choice(HOSTILE_MARKUP)
        piece = (s * (1 + (b - a) // len(s)))[:b - a]
        if b - a < len(s):
            piece = s[:b - a]
        d[a:b] = piece
    return bytes(d)


def make(mutation: str, i: int, seeds: list, base: int = 0):
    """Case ``i`` of ``mutation``: fuzz_long's case, plus markup in a third of the uncompressed ones."""
    rng = random.Random(case_seed(mutation, i, base))
    case = fuzz.make_case(rng, seeds, mutation)
    if not case.gz and rng.random() < 0.35:
        case.data = inject_markup(rng, case.data)
    return case


# -- one case through everything -------------------------------------------------------------------
@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    scap_errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def analyses(cap):
    """(name, thunk) for every analysis the Capture offers."""
    from scapinspect.analyzers.views import VIEWS
    out = [("spy_users", cap.spy_users), ("io_streams", cap.io_streams), ("connections", cap.connections),
           ("http", cap.http), ("summary", cap.summary), ("events", lambda: cap.events),
           ("info", lambda: cap.info)]
    out += [(f"view:{v}", lambda v=v: cap.view(v)) for v in VIEWS]
    return out


_SECTION_ERROR = re.compile(r"^section '([^']*)' failed: (\w+)")


def check_report(doc: dict, outdir: Path, scap_failed: bool) -> list[str]:
    from scapinspect.report import render
    from scapinspect.report.json_report import validate
    bad = []
    for c in doc["captures"]:
        for sec in c["sections"]:
            if sec["status"] == "error":
                kind = (sec["note"] or "").split(":", 1)[0]
                if kind not in SCAP_ERRORS:
                    bad.append(f"report section {sec['id']} failed: {sec['note']}")
        for w in c["warnings"]:
            # findings, timeline and tiles report no type: a ScapError there is expected only when an
            # analysis of the same capture raised one
            if w.startswith(("findings failed", "timeline failed", "overview tiles failed")) and not scap_failed:
                bad.append(f"report: {w}")
    problems = validate(doc)
    if problems:
        bad.append("report does not validate: " + "; ".join(problems[:5]))
    for suffix in (".html", ".md", ".json"):
        text = render(doc, suffix)
        p = outdir / f"report{suffix}"
        p.write_text(text, encoding="utf-8", errors="surrogateescape")
        if suffix == ".json":
            json.loads(p.read_text(encoding="utf-8", errors="surrogateescape"))
        else:
            m = RAW_MARKUP.search(text)
            if m:
                k = m.start()
                bad.append(f"raw markup in the {suffix} report: {text[max(0, k - 80):k + 60]!r}")
    return bad


def run_case(case, workdir: Path, timeout: float = CASE_TIMEOUT) -> Outcome:
    """Every analysis, then the report, on ``case``; the failures (invariants broken) it showed."""
    from scapinspect.capture import Capture
    from scapinspect.report.model import ReportOptions, build_report
    out = Outcome()
    path = workdir / "case.scap"
    path.write_bytes(case.data)
    t0 = time.perf_counter()
    step = "start"
    try:
        with fuzz.time_limit(timeout):
            cap = Capture(str(path), compat=case.mode, strict=case.strict)
            for name, fn in analyses(cap):
                step = name
                try:
                    fn()
                except ScapError as e:
                    out.scap_errors[type(e).__name__] += 1
                    if "\n" in str(e):
                        out.failures.append(f"{name}: ScapError message spans lines: {str(e)!r}")
                except Exception:  # noqa: BLE001 - anything but ScapError is a finding
                    out.failures.append(f"{name}: {traceback.format_exc()}")
            step = "report"
            doc = build_report([str(path)], ReportOptions(strict=case.strict))
            out.failures += check_report(doc, workdir, bool(out.scap_errors))
    except fuzz.CaseTimeout:
        out.failures.append(f"{step}: timeout after {timeout:g} s\n{traceback.format_exc(limit=-6)}")
    except Exception:  # noqa: BLE001
        out.failures.append(f"{step}: {traceback.format_exc()}")
    out.seconds = time.perf_counter() - t0
    return out


def signature(failure: str) -> str:
    """The analysis, the last scapinspect frame and the exception type: one bug found many times counts once."""
    frames = re.findall(r'File "[^"]*/(scapinspect/[^"]*)", line (\d+), in (\w+)', failure)
    last = failure.strip().splitlines()[-1]
    kind = last.split(":", 1)[0] if frames else last[:80]
    where = ":".join(frames[-1]) if frames else ""
    return f"{failure.split(':', 1)[0].split('view:')[0] or 'view'} {where} {kind}"


def describe(case, mutation: str, i: int, base: int = 0) -> str:
    return (f"{case.seed.name}/{case.mutation} strict={case.strict} gz={case.gz} "
            f"(replay: make({mutation!r}, {i}, seeds, base={base}))")


# -- pytest ----------------------------------------------------------------------------------------
try:
    import pytest
except ImportError:         # the command line below needs no pytest
    pytest = None

if pytest is not None:
    _ran: dict[str, int] = {}

    @pytest.fixture(scope="module")
    def seeds(tmp_path_factory):
        from conftest import shared_capture_paths
        shared = shared_capture_paths()
        return load_seeds(shared[0].parent if shared else None, tmp_path_factory.mktemp("seeds"))

    @pytest.mark.parametrize("mutation", sorted(fuzz.MUTATIONS))
    def test_fuzz_analyses_and_report(mutation, seeds, tmp_path):
        failed = []
        for i in range(CASES_PER_MUTATION):
            case = make(mutation, i, seeds)
            res = run_case(case, tmp_path)
            _ran[mutation] = _ran.get(mutation, 0) + 1
            failed += [f"{describe(case, mutation, i)}\n{f}" for f in res.failures]
        assert not failed, f"{len(failed)} failures\n" + "\n\n".join(failed[:5])

    def test_fuzz_analyses_ran_enough_cases():
        if set(_ran) != set(fuzz.MUTATIONS):
            pytest.skip("only part of the analysis fuzz tests ran")
        assert sum(_ran.values()) >= 200, _ran

    def test_markup_reaches_the_report_escaped(tmp_path):
        """The harness itself: a file name made of markup shows in the report, escaped."""
        seed = fuzz.load_seed(SAMPLES / "intrusion.scap", tmp_path, max_bytes=1 << 30)
        case = fuzz.Case(seed, "none", seed.data, len(seed.data), seed.mode)
        case.data = seed.data.replace(b"/etc/cron.d/sysupd", b"<script>x</script>")
        assert case.data != seed.data and len(case.data) == len(seed.data)
        res = run_case(case, tmp_path)
        assert res.failures == []
        html = (tmp_path / "report.html").read_text(encoding="utf-8")
        assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script" not in html.lower()
        md = (tmp_path / "report.md").read_text(encoding="utf-8")
        assert "<script" not in md.lower()
        assert "<script>x</script>" in (tmp_path / "report.json").read_text(encoding="utf-8")


# -- the long run ----------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Fuzz every analysis and the report with mutated captures.")
    ap.add_argument("-n", "--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1, help="base of the case seeds (0 = the CI cases)")
    ap.add_argument("--budget", type=float, default=3600.0, help="stop after this many seconds")
    ap.add_argument("--timeout", type=float, default=CASE_TIMEOUT)
    ap.add_argument("--captures", type=Path, default=fuzz.DEFAULT_CAPTURES)
    ap.add_argument("--out", type=Path, default=Path("fuzz-failures"))
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    muts = sorted(fuzz.MUTATIONS)
    ran = failed = 0
    sigs: dict[str, int] = {}
    counts: Counter = Counter()
    errors: Counter = Counter()
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory(prefix="scapfuzz-an-") as tmp:
        work = Path(tmp)
        seeds = load_seeds(args.captures, work)
        print(f"seeds: {', '.join(s.name for s in seeds)}", flush=True)
        while ran < args.cases and time.monotonic() - t0 < args.budget:
            m, i = muts[ran % len(muts)], ran // len(muts)
            case = make(m, i, seeds, args.seed)
            res = run_case(case, work, args.timeout)
            ran += 1
            errors.update(res.scap_errors)
            if res.seconds > slowest[0]:
                slowest = (res.seconds, describe(case, m, i, args.seed))
            if res.failures:
                failed += 1
                for f in res.failures:
                    sig = signature(f)
                    counts[sig] += 1
                    if sig not in sigs:
                        sigs[sig] = ran
                        saved = fuzz.save_failure(args.out, ran, case, f)
                        print(f"FAIL case {ran} {describe(case, m, i, args.seed)}: {sig}\n  saved {saved}",
                              flush=True)
            if ran % 100 == 0:
                print(f"... {ran} cases, {failed} failing, {time.monotonic() - t0:.0f} s", flush=True)
    elapsed = time.monotonic() - t0
    print(f"cases run: {ran} in {elapsed:.0f} s, slowest {slowest[0]:.2f} s ({slowest[1]})")
    print(f"ScapErrors (expected): {dict(errors)}")
    print(f"failing cases: {failed} ({len(sigs)} distinct failures)")
    for sig, first in sigs.items():
        print(f"  {counts[sig]:5d} failures, first at case {first}: {sig}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
