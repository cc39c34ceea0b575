"""The overview's process and container lifetimes from the thread table's log the load recorded
(fast_summary._Build._log_tables) against the walk that follows the table event by event
(_Build._walk_tables): the same frames and the same container for every row, on every capture we have."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scapinspect.analyzers import fast_summary as F
from scapinspect.capture import Capture
from scapinspect.parsers import eventtable as et
from scapinspect.state.engine import StateEngine

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "captures"
CAPS = sorted((ROOT / "sample_captures").glob("*.scap")) + (
    sorted(p for p in SHARED.glob("*.scap") if p.is_file()) if SHARED.is_dir() else [])


def _built(cap: Capture, use_log: bool) -> F._Build:
    side = cap._side()
    b = F._Build(cap, side)
    b.sequence()
    st = StateEngine(et.head(), modern=cap.compat != "0.29")
    st.load_section(side.section)
    b.state0 = st
    if use_log:
        b._log_tables(st)
    else:
        b._walk_tables(st)
    return b


def _row_containers(b: F._Build) -> np.ndarray:
    names = np.array(list(b.cid_names) + [None], dtype=object)
    return names[np.where(b.row_cid >= 0, b.row_cid, len(b.cid_names))]


@pytest.mark.parametrize("path", CAPS, ids=lambda p: p.name)
def test_log_tables_match_the_walk(path):
    cap = Capture(str(path))
    assert cap.events is not None
    log, walk = _built(cap, True), _built(cap, False)
    pd.testing.assert_frame_equal(log.procs, walk.procs)
    pd.testing.assert_frame_equal(log.containers, walk.containers)
    assert log.startup == walk.startup and log.closings == walk.closings
    rows = np.flatnonzero(cap._side().tsnap >= 0)
    assert (_row_containers(log)[rows] == _row_containers(walk)[rows]).all()


def test_lifetimes_merge_changes_between_looks():
    # key 0 in at look 0, out and in again before look 1 (never seen out), out at look 2; key 1 in at look 1
    group = np.array([0, 0, 0, 1, 0])
    state = np.array([True, False, True, True, False])
    look = np.array([0, 1, 1, 1, 2])
    f = F._lifetimes(group, state, look, [7, 3], np.array([10, 20, 30]))
    assert f["key"].tolist() == [7, 3]
    assert f["start"].tolist() == [10, 20]
    assert f["end"].astype(object).where(f["end"].notna(), None).tolist() == [30, None]


def test_a_change_no_look_sees_is_left_out():
    f = F._lifetimes(np.array([0, 0]), np.array([True, False]), np.array([1, 1]), [5], np.array([10]))
    assert len(f) == 0
