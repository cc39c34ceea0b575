"""Many captures through Dask (scapinspect.dask and examples/dask_fleet.py): the fleet answers computed
by Dask equal pandas' on the same frames concatenated."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")

from scapinspect.capture import Capture  # noqa: E402
from scapinspect.dask import events, load_one, meta  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PATHS = [str(REPO / "sample_captures" / n) for n in ("curl_http.scap", "shell_session.scap")]


def _example():
    spec = importlib.util.spec_from_file_location("dask_fleet", REPO / "examples" / "dask_fleet.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def together() -> pd.DataFrame:
    """The two captures' events in one pandas frame (categoricals become plain labels)."""
    return pd.concat([load_one(p) for p in PATHS])


def _plain(s: pd.Series) -> pd.Series:
    """A groupby result with its index levels as plain labels, in index order."""
    s = s.copy()
    s.index = pd.MultiIndex.from_frame(s.index.to_frame(index=False).astype(object))
    return s.sort_index()


def test_fleet_io_bytes_equal_pandas(together):
    got = _example().io_bytes(events(PATHS)).compute(scheduler="sync")
    io = together[together["evt.is_io"].fillna(False)]
    want = io.groupby(["capture", "proc.name"], observed=True)["evt.buflen"].sum()
    pd.testing.assert_series_equal(_plain(got), _plain(want))
    assert set(got.index.get_level_values("capture")) == {"curl_http.scap", "shell_session.scap"}


def test_fleet_errors_equal_pandas(together):
    got = _example().errors(events(PATHS)).compute(scheduler="sync")
    failed = together[together["evt.failed"].fillna(False)]
    want = failed.groupby(["capture", "evt.res"], observed=True).size()
    pd.testing.assert_series_equal(_plain(got), _plain(want))
    assert got.sum() == sum(int(Capture(p).events["evt.failed"].sum()) for p in PATHS)


def test_partitions_are_the_captures_and_match_meta(together):
    ev = events(PATHS)
    assert ev.npartitions == 2
    assert list(ev.columns) == list(meta().columns) == ["capture", *Capture(PATHS[0]).events.columns]
    got = ev.compute(scheduler="sync")
    plain = {c: object for c in got.columns if isinstance(got[c].dtype, pd.CategoricalDtype)}
    pd.testing.assert_frame_equal(got.astype(plain), together.astype(plain))


def test_undecodable_labels_become_visible_escapes(monkeypatch):
    bad = pd.Categorical.from_codes([0, 1, -1], categories=pd.Index(["a\udcff", "b"], dtype=object))
    frame = pd.DataFrame({"proc.name": bad})
    monkeypatch.setattr(Capture, "events", property(lambda self: frame))
    got = dd.from_map(load_one, PATHS, meta=load_one(PATHS[0]).iloc[:0]).compute(scheduler="sync")
    assert got["proc.name"].tolist()[:2] == ["a\\xff", "b"] and pd.isna(got["proc.name"].iloc[2])


def test_no_capture_is_an_error():
    with pytest.raises(ValueError, match="no capture"):
        events([])
