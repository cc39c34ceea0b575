"""The csysdig views' fast path (analyzers/views/fast.py: views from the loaded frame and its side data)
against the reference replay (extract.py): every covered view, with and without csysdig's container
columns, on every capture at hand, narrowed captures and user filters included; the side data the
fast path reads (the runc container of each thread snapshot, the thread table at the end of the file)
against a reference replay; and that the fast path is really the one answering where it should."""
from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from scapinspect.analyzers.views import engine, extract, fast, view_frame
from scapinspect.analyzers.views.definitions import get_view
from scapinspect.analyzers.views.engine import combined_filter, view_result
from scapinspect.capture import Capture
from scapinspect.state.model import CL_IS_MAIN_THREAD
from scapinspect.state.tracking import match_runc

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCAPINSPECT_CAPTURES", REPO.parent / "shared" / "captures"))
SAMPLES = REPO / "sample_captures"
PATHS = (sorted(SHARED.glob("*.scap*")) if SHARED.is_dir() else []) + sorted(SAMPLES.glob("*.scap"))
COVERED = sorted(fast.COVERED)
FIELDS = ("columns", "types", "rows", "keys", "info", "time_delta", "numbers", "warnings")
# why a covered view may still take the reference path
EXPECTED_FALLBACKS: dict[tuple[str, str], str] = {}

_CAPS: dict[str, Capture] = {}
_TRUTH: dict[str, list] = {}


@pytest.fixture(autouse=True)
def _utc(utc):
    """evt.time texts are local times: compare them in UTC (the shared ``utc`` fixture)."""


def _cap(path: Path) -> Capture:
    key = str(path)
    if key not in _CAPS:
        _CAPS[key] = Capture(key)
        assert len(_CAPS[key].events) >= 0        # loaded once for the whole module
    return _CAPS[key]


def _reference(cap: Capture, name: str, **kw):
    with mock.patch.object(engine, "fast_rows", lambda *a, **k: None):
        return view_result(cap, name, **kw)


def _assert_same(cap: Capture, name: str, **kw) -> str | None:
    """The fast and the reference result of one view are equal; returns why the fast path was not
    taken (None when it was)."""
    view = get_view(name)
    containers = kw.get("containers", True)
    why = fast.why_not(cap, view, view.layout(containers), combined_filter(view, kw.get("filter")), containers)
    got, want = view_result(cap, name, **kw), _reference(cap, name, **kw)
    for attr in FIELDS:
        assert getattr(got, attr) == getattr(want, attr), f"{name} {kw}: {attr} differs (fast path: {why})"
    return why


def _container_truth(cap: Capture) -> list:
    """Per thread snapshot of the side data, the runc container of its thread as the reference replay
    knows it (None for a snapshot no row uses)."""
    key = cap.path
    if key not in _TRUTH:
        side = cap._side()
        stream, items = cap.replay()
        per: dict[int, object] = {}
        for row, item in enumerate(items):
            snap = int(side.tsnap[row])
            if snap >= 0 and item.ctx.tinfo is not None:
                got = stream.state.extra.container_of(item.ctx.tinfo)
                assert per.setdefault(snap, got) == got, "one snapshot, two containers"
        _TRUTH[key] = [per.get(k) for k in range(len(side.thread_rows))]
    return _TRUTH[key]


def _layouts(name: str) -> tuple[bool, ...]:
    """csysdig's -pc layout, and the plain one where it differs."""
    view = get_view(name)
    return (True,) if view.layout(True) == view.layout(False) else (True, False)


def _eof_truth(cap: Capture) -> tuple[list, list]:
    """The threads extract._replay gives an end-of-file event (the thread table once every event,
    hidden ones included, went through the state) as THREAD_SNAPSHOT tuples, and their runc
    containers, from a reference replay."""
    key = "eof:" + cap.path
    if key not in _TRUTH:
        stream, items = cap.replay(include_hidden=True)
        for _ in items:
            pass
        state = stream.state
        tuples, containers = [], []
        for t in state.threads.values():
            main = t if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD else state.threads.get(t.pid)
            ppid = main.ptid if main is not None else None
            tuples.append((t.pid, t.comm, ppid, t.exe, " ".join(t.args), state.user_name(t.uid), t.tid, t.vtid,
                           t.vpid, t.container_id, t.tty, t.loginuid, t.uid,
                           match_runc(list(t.cgroups)) if t.cgroups else None))
            containers.append(state.extra.container_of(t))
        _TRUTH[key] = [tuples, containers]
    return _TRUTH[key]


def _has_containers(cap: Capture) -> bool:
    """Whether a thread of the rows or of the end-of-file events is in a runc container."""
    side = cap._side()
    return any(c is not None for c in fast._snapshot_containers(side)) or \
        any(t[fast._T["runc"]] is not None for t in side.eof_threads)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_every_covered_view_equals_the_reference(path: Path) -> None:
    cap = _cap(path)
    assert cap._side() is not None
    for name in COVERED:
        for containers in _layouts(name):
            why = _assert_same(cap, name, containers=containers)
            expected = EXPECTED_FALLBACKS.get((cap.compat, name))
            if expected is not None:
                assert why is not None and expected in why
            else:
                assert why is None, f"{name}: {why}"


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_snapshot_containers_are_the_reference_ones(path: Path) -> None:
    """The runc container of each thread snapshot (the side data's ``runc``) is the one the reference
    replay's ViewExtras gives the thread of every row using the snapshot."""
    cap = _cap(path)
    truth = _container_truth(cap)
    got = fast._snapshot_containers(cap._side())
    assert [g for g, t in zip(got, truth, strict=True) if t is not None] == [t for t in truth if t is not None]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_end_of_file_threads_are_the_reference_ones(path: Path) -> None:
    """The threads the fast path gives an end-of-file event are the reference's, in table order, with
    their containers (the thread exit the load's pass leaves pending included, see fast._eof_threads)."""
    cap = _cap(path)
    side = cap._side()
    base = fast._base(side, cap.compat)
    base.summary(side, cap._all_events)
    assert fast._eof_threads(base, side) == tuple(_eof_truth(cap))


@pytest.mark.parametrize("name", ["502Error", "falco_open-multiple-files"])
def test_threads_in_containers(name: str) -> None:
    """The container columns (each thread's container from the side data, the container table read
    from the capture's container events) and the container-aware local/remote endpoints equal the
    reference."""
    path = SHARED / f"{name}.scap"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    cap = _cap(path)
    assert _has_containers(cap)
    assert len(fast._base(cap._side(), cap.compat).summary(cap._side(), cap._all_events).tables) > 1
    for view in COVERED:
        for containers in _layouts(view):
            assert _assert_same(cap, view, containers=containers) is None
    for flt in ("container.name!=host", "fd.lip exists", 'fd.containername contains ":"'):
        assert _assert_same(cap, "connections", filter=flt) is None
    for flt in ("container.name!=host", "container.id=host"):
        assert _assert_same(cap, "syscall_procs", filter=flt) is None


FILTERS = ["proc.name=curl", "fd.name contains /etc", "evt.failed=true", "fd.l4proto=tcp",
           "container.name=host", "proc.exeline contains bash", "fd.directory=/etc",
           "fd.lport=80 or fd.rport=80", "fd.lip=127.0.0.1", "evt.time > 0", "user.name=root and evt.dir=<",
           "syscall.type=read", "fd.sport exists", "evt.buflen > 100", "proc.ppid > 1", "fd.port=80",
           "fd.cip exists", "proc.vpid > 1", "fd.containerdirectory contains /", "thread.pfminor > 100",
           "proc.cwd=/"]                      # not derived from the frame: the reference answers


@pytest.mark.parametrize("flt", FILTERS)
def test_user_filters(flt: str) -> None:
    paths = [SAMPLES / "curl_http.scap"] + [p for p in (SHARED / "mixed_io.scap",) if p.is_file()]
    for path in paths:
        cap = _cap(path)
        for name in COVERED:
            why = _assert_same(cap, name, filter=flt)
            if flt == "proc.cwd=/":
                assert why is not None
            elif name == "io_by_type":      # the filter would need the hidden events' fields
                assert "every event" in why


def test_narrowed_captures() -> None:
    for path, flt in ((SAMPLES / "curl_http.scap", "proc.name=curl"), (SAMPLES / "shell_session.scap", "evt.dir=<")):
        root = _cap(path)
        raw = root.events["evt.rawtime"].astype("int64")
        t0, t1 = int(raw.iloc[len(raw) // 4]), int(raw.iloc[3 * len(raw) // 4])
        for cap in (root.filter(flt), root.between(t0, t1), root.filter(flt).between(t0, t1)):
            assert cap._kept_positions() is not None
            for name in COVERED:
                why = _assert_same(cap, name)
                assert why is None, f"{name}: {why}"
                why = _assert_same(cap, name, filter="fd.type=file")
                assert why is None or name == "io_by_type" and "every event" in why, f"{name}: {why}"


def test_the_fast_path_answers_without_replaying(monkeypatch) -> None:
    """No replay at all for the covered views (extract's _replay raises), and the view frames are the
    reference's."""
    def boom(*a, **k):
        raise AssertionError("replayed")
    caps = [_cap(SAMPLES / "curl_http.scap")] + [_cap(p) for p in (SHARED / "mixed_io.scap",) if p.is_file()]
    for cap in caps:
        want = {name: _reference(cap, name) for name in COVERED}
        frames = {name: view_frame(cap, name) for name in ("files", "connections", "errors")}
        monkeypatch.setattr(extract, "_replay", boom)
        for name in COVERED:
            if (cap.compat, name) in EXPECTED_FALLBACKS:
                with pytest.raises(AssertionError, match="replayed"):
                    view_result(cap, name)
                continue
            got = view_result(cap, name)
            assert all(getattr(got, a) == getattr(want[name], a) for a in FIELDS), name
        for name, frame in frames.items():
            assert view_frame(cap, name).equals(frame)
        monkeypatch.undo()


def test_falls_back_without_side_data(monkeypatch) -> None:
    cap = Capture(str(SAMPLES / "web_502.scap"))
    monkeypatch.setattr(Capture, "_side", lambda self: None)
    view = get_view("files")
    assert "reference reader" in fast.why_not(cap, view, view.layout(True), view.filter)
    assert view_result(cap, "files").rows == _reference(_cap(SAMPLES / "web_502.scap"), "files").rows


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_end_of_file_events(path: Path) -> None:
    """The views the synthetic end-of-file events pass (0.29 syscalls and syscall_procs) equal the
    reference, user filters and narrowed captures included."""
    cap = _cap(path)
    if cap.compat != "0.29":
        pytest.skip("the end-of-file events pass no covered view filter in current captures")
    small = path.stat().st_size < 1_000_000
    filters = (None, "proc.name=bash", "evt.type=sysdigevent", "container.name=host", "fd.type=file",
               "proc.ppid > 1") if small else (None,)
    for name in ("syscalls", "syscall_procs"):
        for flt in filters:
            for layout in _layouts(name):
                assert _assert_same(cap, name, filter=flt, containers=layout) is None
    raw = cap.events["evt.rawtime"].astype("int64")
    if small and len(raw):
        narrowed = cap.between(int(raw.iloc[len(raw) // 3]), int(raw.iloc[2 * len(raw) // 3]))
        assert _assert_same(narrowed, "syscall_procs") is None
        assert _assert_same(narrowed, "syscalls", filter="proc.name=bash") is None
    why = fast.why_not(cap, get_view("syscalls"), get_view("syscalls").layout(True), "(proc.cwd=/) and (syscall.type exists)")
    assert "proc.cwd" in why


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_end_of_file_threads_are_the_reference_replays_table(path) -> None:
    """Side.eof_threads is the thread table extract._replay ends with, in order: also when hidden
    events the load's pass skips follow a thread exit at the end (502Error, curl_google: the first of
    them applies the removal)."""
    cap = _cap(path)
    side = cap._side()
    stream, items = cap.replay(include_hidden=True)
    for _ in items:
        pass
    assert [t[6] for t in side.eof_threads] == list(stream.state.threads)


def test_falls_back_without_end_of_file_threads() -> None:
    cap = _cap(SAMPLES / "curl_http.scap")
    side = cap._side()
    view = get_view("syscalls")
    with mock.patch.object(side, "eof_threads", None):
        assert "end of the file" in fast.why_not(cap, view, view.layout(True), view.filter)
        assert _assert_same(cap, "syscalls") is not None
    assert fast.why_not(cap, view, view.layout(True), view.filter) is None


def test_io_by_type_counts_the_hidden_events() -> None:
    """io_by_type has no filter: the hidden events (procinfo ...) and the end-of-file events are rows
    of it, under the empty fd type. A hidden type whose values depend on the thread or an fd makes it
    fall back, and so does a filter."""
    cap = _cap(SAMPLES / "curl_http.scap")
    side = cap._side()
    base = fast._base(side, cap.compat)
    summ = base.summary(side, cap._all_events)
    assert len(summ.seen_at) and len(side.eof_threads)
    assert _assert_same(cap, "io_by_type") is None
    view = get_view("io_by_type")
    with mock.patch.object(base.types, "plain", ~base.types.plain):
        assert "hidden events of type" in fast.why_not(cap, view, view.layout(True), view.filter)
    assert "every event" in fast.why_not(cap, view, view.layout(True), "proc.name=curl")


THREAD_VIEWS = sorted(v for v, rule in fast.COVERED.items() if rule == "thread")


def _hidden_truth(cap: Capture) -> list:
    """Per hidden event views see, the thread the reference replay gives it (THREAD_SNAPSHOT tuple, None
    for none) and the thread object itself."""
    key = "hidden:" + cap.path
    if key not in _TRUTH:
        stream, items = cap.replay(include_hidden=True)
        state = stream.state
        side = cap._side()
        summ = fast._base(side, cap.compat).summary(side, cap._all_events)
        want = set((side.hidden.evoff[summ.seen]).tolist())
        out = []
        for item in items:
            off = item.ev.offset        # the block; the side data has the header, 10 or 14 bytes on
            if off + 10 not in want and off + 14 not in want:
                continue
            t = item.ctx.tinfo
            if t is None:
                out.append((None, None))
                continue
            main = t if t.tid == t.pid or t.flags & CL_IS_MAIN_THREAD else state.threads.get(t.pid)
            ppid = main.ptid if main is not None else None
            out.append(((t.pid, t.comm, ppid, t.exe, " ".join(t.args), state.user_name(t.uid), t.tid, t.vtid,
                         t.vpid, t.container_id, t.tty, t.loginuid, t.uid,
                         match_runc(list(t.cgroups)) if t.cgroups else None), t))
        assert len(out) == len(summ.seen)
        _TRUTH[key] = out
    return _TRUTH[key]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_the_threads_hidden_events_saw(path: Path) -> None:
    """The thread the fast path gives each hidden event (procinfo ...: told from the rows' sightings of
    its tid, fast._hidden_threads) is the one the reference replay looks up, and where it says one
    object per tid, the procinfo events of a tid saw one thread object (thread.cpu's serial)."""
    cap = _cap(path)
    side = cap._side()
    base = fast._base(side, cap.compat)
    summ = base.summary(side, cap._all_events)
    try:
        th = fast._hidden_threads(base, side, cap._all_events, summ)
    except fast._Fallback as e:
        pytest.skip(f"falls back: {e}")
    truth = _hidden_truth(cap)
    got = [None if s < 0 else th.snaps[s] for s in th.hsnap.tolist()]
    assert got == [t for t, _ in truth]
    if th.one_object:
        objects: dict[int, int] = {}
        for (_, obj), etype in zip(truth, summ.seen_types.tolist(), strict=True):
            if obj is not None and etype == fast.PROCINFO_E:
                assert objects.setdefault(obj.tid, id(obj)) == id(obj)


def _one_to_one(pairs: list) -> bool:
    """Whether the (object number, reference object) pairs map numbers to objects one to one."""
    fwd: dict[int, int] = {}
    back: dict[int, int] = {}
    return all(fwd.setdefault(n, id(o)) == id(o) and back.setdefault(id(o), n) == n for n, o in pairs)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_thread_objects_are_the_reference_ones(path: Path) -> None:
    """The thread object numbers of the side data (Side.objects: per row and for the end-of-file table;
    per hidden event from fast._hidden_threads) stand one to one for the ThreadInfo objects of one
    reference replay (kept alive here, so that their ids stay unique); the page faults the fast path
    gives each row and hidden event are the ones ViewState's ThreadMemory held there."""
    cap = _cap(path)
    side = cap._side()
    obj = side.objects
    base = fast._base(side, cap.compat)
    summ = base.summary(side, cap._all_events)
    try:
        hobj = fast._hidden_threads(base, side, cap._all_events, summ).hobj.tolist()
    except fast._Fallback:
        hobj = None
    row_at = {off: r for r, off in enumerate(side.rows.evoff.tolist())}
    hidden_at = {off: k for k, off in enumerate(side.hidden.evoff[summ.seen].tolist())}
    stream, items = cap.replay(include_hidden=True)
    pairs = []
    nrows = nhidden = 0
    pf_rows, pf_hidden = {}, {}
    for item in items:
        off = item.ev.offset
        r = row_at.get(off + 10, row_at.get(off + 14))
        t = item.ctx.tinfo
        if r is not None:
            nrows += 1
            assert (t is None) == (obj.tobj[r] < 0)
            if t is not None:
                pairs.append((int(obj.tobj[r]), t))
                m = stream.state.extra.mem(t)
                pf_rows[r] = (m.pfmajor, m.pfminor)
            continue
        k = hidden_at.get(off + 10, hidden_at.get(off + 14))
        if k is not None and hobj is not None:
            nhidden += 1
            if hobj[k] != -2:
                assert (t is None) == (hobj[k] == -1)
            if hobj[k] >= 0:
                pairs.append((hobj[k], t))
                m = stream.state.extra.mem(t)
                pf_hidden[k] = (m.pfmajor, m.pfminor)
    assert nrows == len(obj.tobj)
    assert hobj is None or nhidden == len(hobj)
    assert len(obj.eof) == len(stream.state.threads)
    pairs += list(zip(obj.eof, stream.state.threads.values(), strict=True))
    assert _one_to_one(pairs)
    rows = np.array(sorted(pf_rows), dtype=np.int64)
    got = [fast._memory_rows(base, side, cap._all_events, summ, f, rows).values.tolist()
           for f in ("thread.pfmajor", "thread.pfminor")]
    assert list(zip(*got, strict=True)) == [pf_rows[r] for r in rows.tolist()]
    if pf_hidden:
        k = np.array(sorted(pf_hidden), dtype=np.int64)
        mem = fast._memory(base, side, cap._all_events, summ)
        before = 2 * np.asarray(side.hidden.before[summ.seen[k]], dtype=np.int64)
        got = [mem.at(f, np.asarray(hobj, dtype=np.int64)[k], before).tolist()
               for f in ("thread.pfmajor", "thread.pfminor")]
        assert list(zip(*got, strict=True)) == [pf_hidden[j] for j in k.tolist()]


def test_thread_views_fall_back_where_the_rows_do_not_tell() -> None:
    """A hidden event whose thread cannot be told from the rows, hidden events that may change the thread
    table, procinfo ticks over one tid's two threads, a user filter: the reference answers."""
    cap = _cap(SAMPLES / "shell_session.scap")
    side = cap._side()
    for name in THREAD_VIEWS:
        view = get_view(name)
        assert fast.why_not(cap, view, view.layout(True), view.filter) is None
        assert fast.why_not(cap, view, view.layout(True), combined_filter(view, "proc.name=bash")) is None
        assert "evt.cpu of the hidden events" in fast.why_not(cap, view, view.layout(True),
                                                                  combined_filter(view, "evt.cpu=0"))
    view = get_view("procs_cpu")
    eof = list(side.eof_threads)
    changed = [t[:1] + ("renamed",) + t[2:] for t in eof]
    fresh = fast._base(side, cap.compat)
    for attr, value, why in (("eof_threads", changed, "do not tell"),):
        fresh._cols.pop("hidden threads", None)
        fresh._cols.pop("hidden cpu", None)
        with mock.patch.object(side, attr, value):
            assert why in fast.why_not(cap, view, view.layout(True), view.filter)
    fresh._cols.pop("hidden threads", None)
    with mock.patch.object(fresh.types, "keeps_threads", ~fresh.types.keeps_threads):
        assert "may change the thread table" in fast.why_not(cap, view, view.layout(True), view.filter)
    fresh._cols.pop("hidden threads", None)
    fresh._cols.pop("hidden cpu", None)
    assert fast.why_not(cap, view, view.layout(True), view.filter) is None
    th = fast._hidden_threads(fresh, side, cap._all_events, fresh.summary(side, cap._all_events))
    fresh._cols.pop("hidden cpu", None)
    with mock.patch.object(th, "one_object", False):
        assert "both sides" in fast.why_not(cap, view, view.layout(True), view.filter)
        assert "both sides" not in (fast.why_not(cap, get_view("procs_errors"), get_view("procs_errors").layout(True),
                                                 get_view("procs_errors").filter) or "")
    fresh._cols.pop("hidden cpu", None)
    for name in THREAD_VIEWS:
        assert _assert_same(cap, name, filter="evt.cpu=0") is not None     # (not derived for hidden events)
        assert _assert_same(cap, name) is None


THREAD_FILTERS = ["proc.name=bash", "proc.pid=1", "thread.tid>1000", "evt.type=procinfo", "evt.type!=procinfo",
                  "container.name=host", "container.id!=host", "proc.exeline contains sshd", "user.name=root",
                  "evt.dir=<", "proc.vpid>1", "proc.ppid>1", "not proc.name exists", "proc.args contains -",
                  "proc.exe contains sbin or evt.type=sysdigevent", "thread.vtid exists",
                  # fields the hidden events' types do not have (missing), their numbers and times
                  "fd.type=ipv4", "fd.name contains /", "fd.sport=80", "evt.failed=true", "evt.res=SUCCESS",
                  "evt.buflen>10", "evt.num>100", "evt.rawtime>0", "not fd.name exists"]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_thread_views_with_user_filters(path: Path) -> None:
    """User filters (the drill-downs into threads: proc.pid=..., container.id=...) are evaluated on the
    hidden events too, from the thread each saw; a field not derived for them falls back."""
    cap = _cap(path)
    small = path.stat().st_size < 1_000_000
    for name in THREAD_VIEWS:
        for flt in THREAD_FILTERS if small else THREAD_FILTERS[:3]:
            why = _assert_same(cap, name, filter=flt)
            assert why is None or flt == "proc.ppid>1" and cap.compat != "0.29", f"{name} {flt}: {why}"


NARROWING_FILTERS = ["proc.name=haproxy", "container.name=example2_web_1", "proc.pid=13700", "fd.type=ipv4"]


@pytest.mark.parametrize("flt", NARROWING_FILTERS)
def test_a_filtered_capture_shows_what_csysdig_shows_with_its_filter(flt: str) -> None:
    """A capture narrowed by a filter gives the views csysdig gives with that filter: its hidden events
    (procinfo: CPU) and end-of-file events are tested against the filter too, not only its rows."""
    path = SHARED / "502Error.scap"
    if not path.is_file():
        pytest.skip("../shared is absent")
    root = _cap(path)
    narrowed = root.filter(flt)
    for name in [*THREAD_VIEWS, "io_by_type"]:
        got, want = view_result(narrowed, name), view_result(root, name, filter=flt)
        assert got.rows == want.rows, (name, flt)
        assert _assert_same(narrowed, name) is None


def test_narrowed_views_after_the_whole_capture_gather_what_it_kept() -> None:
    """The whole capture's views keep per-row counters (memory, thread counts, local ends of sockets)
    that later narrowings gather (the TUI's filters after its unfiltered tables): those views still
    equal the reference replay."""
    for root in (_cap(SAMPLES / "shell_session.scap"), _cap(SAMPLES / "web_502.scap")):
        for name in [*THREAD_VIEWS, "connections"]:
            view_result(root, name)
        raw = root.events["evt.rawtime"].astype("int64")
        for cap in (root.filter("evt.type=read or evt.type=write"), root.filter("proc.name contains s"),
                    root.between(int(raw.iloc[10]), int(raw.iloc[len(raw) // 2]))):
            for name in [*THREAD_VIEWS, "connections"]:
                assert _assert_same(cap, name) is None, name


def test_a_time_range_keeps_the_hidden_and_end_of_file_events_inside_it() -> None:
    root = _cap(SAMPLES / "shell_session.scap")
    raw = root.events["evt.rawtime"].astype("int64")
    whole = root.between(None, int(raw.iloc[-1]) + 10**9)
    early = root.between(None, int(raw.iloc[len(raw) // 2]))
    for name in THREAD_VIEWS:
        assert view_result(whole, name).rows == view_result(root, name).rows
        assert _assert_same(early, name) is None


def test_thread_views_on_narrowed_captures() -> None:
    """A narrowed capture keeps the hidden events its filter and time range select; user filters then
    work on them too."""
    root = _cap(SAMPLES / "shell_session.scap")
    raw = root.events["evt.rawtime"].astype("int64")
    for cap in (root.filter("proc.name=bash"), root.between(int(raw.iloc[100]), int(raw.iloc[1500]))):
        for name in THREAD_VIEWS:
            for containers in _layouts(name):
                assert _assert_same(cap, name, containers=containers) is None
            assert _assert_same(cap, name, filter="evt.failed=true") is None
            assert _assert_same(cap, name, filter="thread.pfminor>100") is None


def test_a_per_capture_memo_is_computed_once_when_threads_ask_at_once():
    import threading
    import time

    from scapinspect.analyzers.views.fast import _Base
    base = object.__new__(_Base)
    base._cols, base._locks, base._locks_lock = {}, {}, threading.Lock()
    calls = []

    def make():
        calls.append(1)
        time.sleep(0.1)
        return len(calls)
    got = []
    threads = [threading.Thread(target=lambda: got.append(base.memo("k", make))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert calls == [1] and got == [1, 1, 1, 1]
