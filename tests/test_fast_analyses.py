"""The analyses answered from the fast load's side data (analyzers/fast_io.py, fast_conn.py) against their
reference, the replay: ``io_streams``, ``stream_payloads``, ``http`` and ``connections`` give the same
frames (values, dtypes, row order) on every bundled sample, every shared capture (skipped when the shared
folder is absent), a hostile capture and a small written one; on the whole capture, on filtered ones and
on a time range. And the fast path is the one taken: no replay for the I/O analyses, and for connections
a replay only up to the first kept event (the connections open then), never the reference tracker."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scapinspect.analyzers import connections as conn_mod
from scapinspect.analyzers.connections import connections_frame
from scapinspect.analyzers.fast_conn import Unsure, _Fast
from scapinspect.analyzers.http import http_frame
from scapinspect.analyzers.io_streams import follow_stream, io_events_frame
from scapinspect.capture import Capture, _StreamView

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import shared_capture_paths  # noqa: E402
from hostile import hostile_capture  # noqa: E402
from test_io_streams import io_capture  # noqa: E402

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample_captures").glob("*.scap"))
SHARED = shared_capture_paths()
FILTERS = ("fd.type=ipv4", "proc.name=curl", "evt.dir=<")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Captures written for this module: the hostile one and test_io_streams' small one."""
    d = tmp_path_factory.mktemp("fast")
    return {"hostile": hostile_capture(d / "hostile.scap"), "io_capture": io_capture(d / "io.scap")}


def _param(paths):
    return [pytest.param(str(p), id=Path(p).name) for p in paths]


ALL = _param(SAMPLES) + (_param(SHARED) if SHARED else [pytest.param(None, marks=pytest.mark.skip(
    reason="shared captures not found"), id="shared")]) + [pytest.param("hostile", id="hostile"),
                                                           pytest.param("io_capture", id="io_capture")]


def _path(name: str, built: dict) -> str:
    return str(built[name]) if name in built else name


def variants(cap: Capture) -> list[tuple[str, Capture]]:
    """The capture, filtered three ways, and its middle third in time."""
    out = [("whole", cap)] + [(f, cap.filter(f)) for f in FILTERS]
    raw = cap.events["evt.rawtime"].astype("int64")
    if len(raw) >= 3:
        out.append(("between", cap.between(int(raw.iloc[len(raw) // 3]), int(raw.iloc[2 * len(raw) // 3]))))
    return out


def reference_io(cap: Capture) -> pd.DataFrame:
    return io_events_frame(_StreamView(*cap.replay()))


def reference_connections(cap: Capture) -> pd.DataFrame:
    return connections_frame(_StreamView(*cap.replay()))


def refuse_replay(monkeypatch) -> None:
    """From now on Capture.replay raises: what runs next cannot replay the capture."""
    def refuse(self, include_hidden: bool = False):
        raise AssertionError("replayed")
    monkeypatch.setattr(Capture, "replay", refuse)


# -- the same answers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_io_streams_and_http_equal_the_replay(name, built):
    base = Capture(_path(name, built))
    assert base._side() is not None
    for label, cap in variants(base):
        ref = reference_io(cap)
        pd.testing.assert_frame_equal(cap.io_streams(), ref, obj=f"io_streams {label}")
        pd.testing.assert_frame_equal(cap.http(), http_frame(ref), obj=f"http {label}")


@pytest.mark.parametrize("name", ALL)
def test_stream_payloads_equal_the_replay(name, built):
    base = Capture(_path(name, built))
    for label, cap in variants(base)[:2]:
        ref = reference_io(cap)
        keys = list(dict.fromkeys(ref["fd.name"].dropna().tolist()))[:6]
        keys += list(dict.fromkeys(zip(ref["proc.pid"].astype("int64"), ref["fd.num"], strict=True)))[:3]
        keys.append("no such stream")
        for key in keys:
            key = (int(key[0]), int(key[1])) if isinstance(key, tuple) else key
            assert list(cap.stream_payloads(key)) == follow_stream(ref, key), (label, key)


@pytest.mark.parametrize("name", ALL)
def test_connections_equal_the_replay(name, built):
    base = Capture(_path(name, built))
    for label, cap in variants(base):
        pd.testing.assert_frame_equal(cap.connections(), reference_connections(cap), obj=f"connections {label}")


# -- the fast path is the one taken ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_io_analyses_do_not_replay(name, built, monkeypatch):
    base = Capture(_path(name, built))
    caps = variants(base)           # (some filters replay to select their events)
    refuse_replay(monkeypatch)
    for _label, cap in caps:
        io = cap.io_streams()
        cap.http()
        if len(io):
            cap.stream_payloads(io["fd.name"].iloc[0])


@pytest.mark.parametrize("name", ALL)
def test_connections_take_the_fast_path(name, built, monkeypatch):
    """The side data settles every capture here (except an empty selection, whose connections the
    reference takes from the state at the end of the capture); the reference tracker never runs, and
    the replay stops at the first kept event."""
    base = Capture(_path(name, built))
    caps = variants(base)

    def refuse(stream):
        raise AssertionError("the reference tracker ran")
    monkeypatch.setattr(conn_mod, "connections_frame", refuse)
    replayed: list[int] = []
    real = Capture.replay

    def counting(self, include_hidden: bool = False):
        s, it = real(self, include_hidden)

        def items():
            for item in it:
                replayed.append(item.num)
                yield item
        return s, items()
    monkeypatch.setattr(Capture, "replay", counting)
    for label, cap in caps:
        keep = cap._kept_positions()
        if keep is not None and not keep.any() or not len(cap._all_events):
            with pytest.raises(Unsure):
                _Fast(cap, cap._all_events, cap._side(), keep).frame()
            continue
        replayed.clear()
        got = cap.connections()
        assert list(got.columns) == list(conn_mod.CONNECTION_COLUMNS)
        first = int(np.flatnonzero(keep)[0]) if keep is not None else 0
        assert replayed == [int(cap._all_events["evt.num"].iat[first])], label


def test_connections_fall_back_when_unsure(monkeypatch):
    """Whatever the shortcut cannot settle is replayed: the same frame as the reference."""
    path = SAMPLES[0]
    cap = Capture(str(path))

    def unsure(self):
        raise Unsure("test")
    monkeypatch.setattr(_Fast, "frame", unsure)
    pd.testing.assert_frame_equal(cap.connections(), reference_connections(cap))


def test_analyses_without_side_data_replay(tmp_path):
    """A capture the fast loader leaves to the reference reader (here: a second section) has no side
    data: every analysis replays, with the same answers."""
    from scapinspect.parsers.reader import load_bytes
    src = SAMPLES[0]
    buf, _, _ = load_bytes(str(src))
    twice = tmp_path / "twice.scap"
    twice.write_bytes(bytes(buf) + bytes(buf))
    cap = Capture(str(twice))
    if cap._side() is not None:
        pytest.skip("the fast loader reads this capture")
    ref = reference_io(cap)
    pd.testing.assert_frame_equal(cap.io_streams(), ref)
    pd.testing.assert_frame_equal(cap.http(), http_frame(ref))
    pd.testing.assert_frame_equal(cap.connections(), reference_connections(cap))


def test_a_capture_too_big_to_load_is_analysed_as_a_stream(monkeypatch):
    """Past the load limit the analyses replay the capture (bounded memory) instead of loading it,
    and give the same answers."""
    from scapinspect.analyzers.views import view_frame
    from scapinspect.capture import Capture, fits_in_memory
    path = str(next(p for p in SAMPLES if p.name == "curl_http.scap"))
    want = Capture(path)
    monkeypatch.setenv("SCAPINSPECT_LOAD_LIMIT_MB", "0.001")
    assert not fits_in_memory(path)
    cap = Capture(path)
    pd.testing.assert_frame_equal(cap.io_streams(), want.io_streams())
    pd.testing.assert_frame_equal(cap.spy_users(), want.spy_users())
    pd.testing.assert_frame_equal(view_frame(cap, "files"), view_frame(want, "files"))
    assert "_all_events" not in cap.__dict__          # never loaded
