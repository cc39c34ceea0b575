"""The thread table's changes the load's pass records (Side.objects.table), read back at every event:
the same process thread counts, main threads and parents as the reference engine's table then."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from scapinspect.analyzers.views import fast
from scapinspect.analyzers.views.fields import VIEW_OVERRIDES
from scapinspect.capture import Capture
from scapinspect.state.fields import FieldContext

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCAPINSPECT_CAPTURES", REPO.parent / "shared" / "captures"))
SAMPLES = REPO / "sample_captures"
PATHS = (sorted(SHARED.glob("*.scap*")) if SHARED.is_dir() else []) + sorted(SAMPLES.glob("*.scap"))


def _log(cap: Capture):
    side = cap._side()
    base = fast._base(side, cap.compat)
    return side, base, fast._table_log(base, side)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_the_log_tells_the_table_at_every_row(path: Path) -> None:
    cap = Capture(str(path))
    df = cap.events
    side, base, log = _log(cap)
    stream, items = cap.replay(include_hidden=True)
    want_n, want_main, want_ppid, nums, objs, pids = [], [], [], [], [], []
    rows = {int(n): r for r, n in enumerate(df["evt.num"].to_numpy())}
    for item in items:
        r = rows.get(item.num)
        t = item.ctx.tinfo
        if r is None or t is None or side.tsnap[r] < 0 or stream.state.threads.get(t.tid) is not t:
            continue
        state = stream.state
        want_n.append(state.nthreads(t))
        main = t if t.is_main() else state.threads.get(t.pid)
        want_main.append(main is t)
        want_ppid.append(VIEW_OVERRIDES["proc.ppid"](FieldContext(stream, item)))
        nums.append(item.num)
        objs.append(int(side.objects.tobj[r]))
        pids.append(t.pid)
    if not nums:
        pytest.skip("no row with a thread in the table")
    keys = 2 * (np.array(nums, dtype=np.int64) - 1)
    objs_a, pids_a = np.array(objs, dtype=np.int64), np.array(pids, dtype=np.int64)
    assert log.nthreads(pids_a, keys).tolist() == want_n
    assert log.is_main(objs_a, keys).tolist() == want_main
    if not base.legacy:
        v, ok = log.ppid(objs_a, pids_a, keys)
        assert [int(x) if k else None for x, k in zip(v, ok, strict=True)] == want_ppid


def test_the_log_starts_with_the_proc_list_and_ends_with_the_last_table() -> None:
    path = SHARED / "502Error.scap"
    if not path.is_file():
        pytest.skip("../shared is absent")
    cap = Capture(str(path))
    _ = cap.events
    side, _, log = _log(cap)
    table = side.objects.table
    start = table["key"] == -1
    assert table["obj"][start].tolist() == list(side.objects.start)
    # every object of the end-of-file table holds its tid after the last event
    eof = np.asarray(side.objects.eof, dtype=np.int64)
    tids = np.array([t[fast._T["tid"]] for t in side.eof_threads], dtype=np.int64)
    assert log.holder(tids, np.full(len(tids), fast._EOF_KEY)).tolist() == eof.tolist()
    # and nothing else is left in the table
    ins = np.bincount(table["obj"], weights=table["op"])
    assert sorted(np.flatnonzero(ins > 0).tolist()) == sorted(eof.tolist())


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_hidden_events_get_their_event_numbers(path: Path) -> None:
    """_hidden_keys places each hidden event among the file's events as the reference numbers them."""
    cap = Capture(str(path))
    df = cap.events
    side = cap._side()
    base = fast._base(side, cap.compat)
    shown = set(df["evt.num"].tolist())
    _, items = cap.replay(include_hidden=True)
    want = [item.num for item in items if item.num not in shown]
    got = (fast._hidden_keys(base, side, df) // 2 + 1).tolist()
    assert got[:len(want)] == want
