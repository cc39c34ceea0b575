"""What keeps the first ``connections()`` / ``io_streams()`` after a load cheap, held to what it stands for:
framing only the rows read (fast_io.row_params) reads the same parameters as framing every row; the
``res`` values taken from the frame's ``evt.rawres`` (fast_io.res_ints) are the parameters themselves;
the analyses give the same frames whether or not an analysis framed every row before; and the
connections frame builders (connections._times, _category) give what the pandas constructors give."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scapinspect._i64 import i64
from scapinspect.analyzers import connections as conn
from scapinspect.analyzers.fast_io import framed_ints, io_rows, rawres, rawres_index, res_ints, row_params
from scapinspect.capture import Capture

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import shared_capture_paths  # noqa: E402

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample_captures").glob("*.scap"))
PATHS = [pytest.param(str(p), id=p.name) for p in SAMPLES + shared_capture_paths()]


def _loaded(path: str):
    """A capture loaded afresh (its side data not framed yet), its whole frame and side data."""
    cap = Capture(path)
    side = cap._side()
    if side is None:
        pytest.skip("no side data")
    return cap, cap._all_events, side


@pytest.mark.parametrize("path", PATHS)
def test_framing_some_rows_reads_what_framing_all_reads(path):
    _cap, df, side = _loaded(path)
    rows = np.sort(np.random.default_rng(7).choice(len(df), size=min(len(df), 400), replace=False))
    assert "_framing" not in vars(side.rows)
    sub, at = row_params(side, rows)
    full = side.params                          # frames every row from here on
    assert (np.asarray(sub.nparams[at]) == np.asarray(full.nparams[rows])).all()
    for k in range(5):
        for signed in (True, False):
            a, b = sub.ints(at, k, signed), full.ints(rows, k, signed)
            assert (a[1] == b[1]).all() and (a[0][a[1]] == b[0][b[1]]).all(), (k, signed)
        pa, la = sub.locate(at, k)
        pb, lb = full.locate(rows, k)
        assert (la == lb).all() and (pa[la > 0] == pb[lb > 0]).all(), k
    got, at2 = row_params(side, rows)           # framed now: the side data's own framing serves
    assert got is full and (at2 == rows).all()


@pytest.mark.parametrize("path", PATHS)
def test_res_from_the_frame_is_the_parameter(path):
    _cap, df, side = _loaded(path)
    rows = np.arange(len(df), dtype=np.int64)
    raw = rawres(df)
    assert raw is not None
    ridx = rawres_index(side.table)[side.etype.astype(np.int64)]
    for k in (ridx, 0, 1):
        read: list[int] = []

        def reader(r, ks, read=read):
            read.append(len(r))
            return framed_ints(side, r, ks)
        vals, valid = res_ints(raw, side, rows, k, reader)
        want, wvalid = framed_ints(side, rows, k)
        assert (valid == wvalid).all() and (vals[valid] == want[wvalid]).all()
        if k is ridx:       # every row with a res parameter comes from the column
            assert sum(read) == int((ridx < 0).sum())
    # no frame (or not the loader's column): every value is read from the parameters
    vals, valid = res_ints(rawres(None), side, rows, ridx, lambda r, ks: framed_ints(side, r, ks))
    want, wvalid = framed_ints(side, rows, ridx)
    assert (valid == wvalid).all() and (vals[valid] == want[wvalid]).all()
    a, b = io_rows(side, None, df), io_rows(side, None)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()


@pytest.mark.parametrize("path", PATHS)
def test_analyses_equal_whether_or_not_every_row_was_framed(path):
    cap, _df, _side = _loaded(path)
    conns, io = cap.connections(), cap.io_streams()
    again, _df2, side2 = _loaded(path)
    _ = side2.params                            # every row framed before the analyses
    pd.testing.assert_frame_equal(again.connections(), conns)
    pd.testing.assert_frame_equal(again.io_streams(), io)
    for key in list(dict.fromkeys(io["fd.name"].dropna().tolist()))[:3]:
        assert list(again.stream_payloads(key)) == list(Capture(path).stream_payloads(key))


@pytest.mark.parametrize("values", [
    [], [0], [1, 2, 3], [None], [5, None, 7], [2 ** 63 + 1, 4], [1_600_000_000_123_456_789] * 3,
])
def test_times_is_to_datetime(values):
    want = pd.to_datetime(pd.Series(i64(values), dtype="Int64"), unit="ns", utc=True)
    pd.testing.assert_series_equal(conn._times(values), want)


@pytest.mark.parametrize("values", [
    [], ["tcp"], ["udp", "tcp", "udp"], ["open", "closed"], ["<NA>", "tcp", "Zeta", "alpha", "é"],
    ["tcp", None], [1, 2],
])
def test_category_is_the_category_constructor(values):
    got, want = conn._category(values), pd.Series(values, dtype="category")
    pd.testing.assert_series_equal(got, want)
    assert list(got.cat.categories) == list(want.cat.categories)
    assert got.cat.categories.dtype == want.cat.categories.dtype
