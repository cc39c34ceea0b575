"""The overview from the fast load's side data (analyzers/fast_summary.py) against the replay it
replaces (summary.replay_collect): the same SummaryData frame for frame, hence the same tiles and
timelines, on every capture we have, whole and narrowed; and the replay is really not needed."""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scapinspect.analyzers import summary as S
from scapinspect.analyzers.fast_summary import fast_collect, why_not
from scapinspect.capture import Capture

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "captures"
SAMPLES = sorted((ROOT / "sample_captures").glob("*.scap"))
SHARED_CAPS = sorted(p for p in SHARED.glob("*.scap*") if p.is_file()) if SHARED.is_dir() else []
FRAMES = ("events", "procs", "containers", "ports", "http")
METRICS = ("events", "errors", "processes", "bytes_read", "net_bytes", "http_requests", "fileCount",
           "Listening Ports", "containerCount", "syscallCount")


def assert_same_data(fast: S.SummaryData, ref: S.SummaryData) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(ref, name), obj=name)
    assert (fast.first, fast.last) == (ref.first, ref.last)


def with_data(cap: Capture, data: S.SummaryData, fn):
    """``fn(cap)`` with ``collect(cap)`` answering ``data``."""
    S._CACHE[cap] = data
    try:
        return fn(cap)
    finally:
        S._CACHE.pop(cap, None)


def check(cap: Capture) -> None:
    """The fast SummaryData is taken and equals the reference's, and so do the overview and some
    timelines computed from each."""
    fast = fast_collect(cap)
    assert fast is not None, why_not(cap)
    ref = S.replay_collect(cap)
    assert_same_data(fast, ref)
    for samples in (100, 7):
        assert with_data(cap, fast, lambda c, n=samples: S.summary(c, n)) == \
            with_data(cap, ref, lambda c, n=samples: S.summary(c, n))
    for metric in METRICS:
        for freq in ("1s", "100ms"):
            pd.testing.assert_series_equal(with_data(cap, fast, lambda c, m=metric, f=freq: S.timeline(c, m, f)),
                                           with_data(cap, ref, lambda c, m=metric, f=freq: S.timeline(c, m, f)))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples(path):
    check(Capture(str(path)))


@pytest.mark.skipif(not SHARED_CAPS, reason="../shared/captures is absent")
@pytest.mark.parametrize("path", SHARED_CAPS, ids=lambda p: p.name)
def test_shared_captures(path):
    check(Capture(str(path)))


def _narrowed(path: Path) -> list[tuple[str, Capture]]:
    cap = Capture(str(path))
    raw = cap.events["evt.rawtime"].astype("int64").to_numpy()
    name = cap.events["proc.name"].astype(object).iloc[len(raw) // 2]
    return [("exits", cap.filter("evt.dir=<")),
            ("second-half", cap.between(int(raw[len(raw) // 2]), None)),
            ("middle", cap.between(int(raw[len(raw) // 4]), int(raw[3 * len(raw) // 4]))),
            ("one-process", cap.filter(f"proc.name={name}")),
            ("tables", cap.filter("evt.type in (clone, execve, procexit, bind, close)")),
            ("nothing", cap.filter("evt.num=0"))]


NARROWED = [p for p in SAMPLES if p.name in ("intrusion.scap", "shell_session.scap", "web_502.scap")]
NARROWED += [SHARED / f"{n}.scap" for n in ("502Error", "mixed_io", "single_ipv6_conn")
             if (SHARED / f"{n}.scap").is_file()]


@pytest.mark.parametrize("path", NARROWED, ids=lambda p: p.name)
def test_narrowed_captures(path):
    for label, cap in _narrowed(path):
        try:
            check(cap)
        except AssertionError as e:
            raise AssertionError(f"{label}: {e}") from e


def test_gzip_capture(tmp_path):
    gz = tmp_path / "curl_http.scap"
    gz.write_bytes(gzip.compress((ROOT / "sample_captures" / "curl_http.scap").read_bytes()))
    check(Capture(str(gz)))


def test_repeated_events_reuse_thread_ids(tmp_path):
    """The same events several times over (benchmarks/make_big.py): threads exit and their tids come
    back, created again by clones and by the first event of an unknown tid."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from make_big import build
    for name in ("intrusion.scap", "web_502.scap"):
        dst = tmp_path / f"twice-{name}"
        build(str(ROOT / "sample_captures" / name), 3000, str(dst))
        cap = Capture(str(dst))
        check(cap)
        check(cap.between(int(cap.events["evt.rawtime"].astype("int64").iloc[len(cap.events) // 2]), None))


def _journal_capture(path: Path, names: dict[int, str]) -> Path:
    """A service writing to the proc list's fds ``names`` (fd -> name; fd 1 a unix socket, the others
    files): the proc list's unix socket names end with a newline, as /proc/net/unix gives them."""
    from scapinspect.parsers import metadata as md
    from scapinspect.samples import machines as mc
    from scapinspect.samples.kernel import Kernel
    from scapinspect.samples.sim import MS

    def logger(k, p):
        for i in range(3):
            for fd in names:
                yield from k.write(p, fd, f"line {i}\n".encode())
            yield 1 * MS
    k = Kernel(seed=3, start=1_710_400_000_000_000_000, hostname="h", snaplen=80, first_pid=5000)
    mc.base_system(k)
    app = k.add_proc(900, 1, "svc", "/usr/bin/svc", ["svc"])
    for fd, name in names.items():
        if fd == 1:
            k.set_fd(app, fd, md.FD_UNIX_SOCK, name)
        else:
            k.fd_file(app, fd, name)
    k.spawn(logger(k, app))
    k.run()
    k.save(path)
    return path


def test_proc_list_names_with_control_characters(tmp_path):
    """fd.containername is fd.name with the container before it, sanitized alike (libsinsp extracts
    both in one case): names with control characters, even two that clean up alike, need no replay."""
    cap = Capture(str(_journal_capture(tmp_path / "journal.scap", {
        1: "/run/systemd/journal/stdout\n", 2: "/var/log/odd\nname.log"})))
    check(cap)
    names = set(S.collect(cap).events["fd.containername"].dropna())
    assert ":/run/systemd/journal/stdout" in names and ":/var/log/oddname.log" in names
    twins = Capture(str(_journal_capture(tmp_path / "twins.scap", {2: "/var/log/a\nb", 3: "/var/log/a\tb"})))
    assert why_not(twins) is None
    assert_same_data(S.collect(twins), S.replay_collect(twins))


def test_the_fast_path_replays_nothing(monkeypatch):
    """summary() and timeline() of a loaded capture, whole or narrowed by time, read no event again."""
    path = str(ROOT / "sample_captures" / "shell_session.scap")
    cap = Capture(path)
    raw = cap.events["evt.rawtime"].astype("int64").to_numpy()
    later = cap.between(int(raw[len(raw) // 3]), None)
    exits = cap.filter("evt.dir=<")
    assert len(exits.events)

    def no_replay(self, include_hidden=False):
        raise AssertionError("replayed")
    monkeypatch.setattr(Capture, "replay", no_replay)
    for c in (cap, later, exits):
        s = c.summary()
        assert s["metrics"] and int(s["info"]["durationNs"]) >= 0
        assert c.timeline("events").sum() == int((~S.collect(c).cols.hidden).sum())
        assert why_not(c) is None


def test_falls_back_to_the_replay(monkeypatch):
    """Without side data (or when it cannot tell) collect replays, and says why it did."""
    cap = Capture(str(ROOT / "sample_captures" / "web_502.scap"))
    want = S.replay_collect(cap)
    monkeypatch.setattr(Capture, "_side", lambda self: None)
    got = S.collect(cap)
    assert why_not(cap) == "the capture was not loaded by the fast loader"
    assert_same_data(got, want)


def test_events_frame_is_built_on_demand():
    """The tiles read the columns; the event frame exists only once asked for."""
    cap = Capture(str(ROOT / "sample_captures" / "curl_http.scap"))
    data = fast_collect(cap)
    assert callable(data._events)
    ev = data.events
    assert isinstance(ev, pd.DataFrame) and len(ev) == len(data.cols.ts)
    assert np.array_equal(ev["ts"].to_numpy(), data.cols.ts)
