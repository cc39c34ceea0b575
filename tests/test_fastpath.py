"""The fast loader against the reference: the same frame, column for column, on every capture we have."""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scapinspect.capture import DEFAULT_COLUMNS, Capture
from scapinspect.fastpath import Unsupported, load_events
from scapinspect.fastpath.walk import _chain, _framed

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "captures"
SAMPLES = sorted((ROOT / "sample_captures").glob("*.scap"))
SHARED_CAPS = sorted(SHARED.glob("*.scap")) if SHARED.is_dir() else []


def reference(path, **kw) -> pd.DataFrame:
    return Capture(str(path), **kw).fields(DEFAULT_COLUMNS)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_match_reference(path):
    pd.testing.assert_frame_equal(load_events(path, fallback=False), reference(path))


@pytest.mark.skipif(not SHARED_CAPS, reason="../shared/captures is absent")
@pytest.mark.parametrize("path", SHARED_CAPS, ids=lambda p: p.name)
def test_shared_captures_match_reference(path):
    pd.testing.assert_frame_equal(load_events(path, fallback=False), reference(path))


@pytest.mark.parametrize("compat", ["0.29", "0.41"])
def test_forced_compat_matches_reference(compat):
    path = ROOT / "sample_captures" / "shell_session.scap"
    pd.testing.assert_frame_equal(load_events(path, compat=compat, fallback=False),
                                  reference(path, compat=compat))


def test_gzip_capture_takes_the_fast_path(tmp_path):
    src = ROOT / "sample_captures" / "curl_http.scap"
    gz = tmp_path / "curl_http.scap"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    pd.testing.assert_frame_equal(load_events(gz, fallback=False), reference(gz))


def test_repeated_events_keep_state_like_the_reference(tmp_path):
    """Events replayed twice (as benchmarks/make_big.py does): threads and fds carry over."""
    import sys
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from make_big import build
    src = ROOT / "sample_captures" / "intrusion.scap"
    dst = tmp_path / "twice.scap"
    build(str(src), 2500, str(dst))
    pd.testing.assert_frame_equal(load_events(dst, fallback=False), reference(dst))


def test_truncated_capture_falls_back_to_the_reference(tmp_path):
    src = ROOT / "sample_captures" / "web_502.scap"
    cut = tmp_path / "cut.scap"
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) - 37])
    with pytest.raises(Unsupported):
        load_events(cut, fallback=False)
    pd.testing.assert_frame_equal(load_events(cut), reference(cut))


def test_two_sections_fall_back_to_the_reference(tmp_path):
    src = ROOT / "sample_captures" / "web_502.scap"
    two = tmp_path / "two.scap"
    with open(two, "wb") as f, open(src, "rb") as a:
        shutil.copyfileobj(a, f)
        f.write(src.read_bytes())
    pd.testing.assert_frame_equal(load_events(two), reference(two))


@pytest.mark.parametrize("path", SAMPLES + SHARED_CAPS, ids=lambda p: p.name)
def test_compat_detection_matches_the_reference(path):
    from scapinspect.fastpath.loader import _first_section, detect
    from scapinspect.fastpath.params import Params
    from scapinspect.fastpath.walk import views, walk
    from scapinspect.parsers.reader import ScapReader
    from scapinspect.render.events import detect_compat
    r = ScapReader(str(path))
    try:
        _first_section(r)
        v = views(r.buf)
        b = walk(r.buf, r.position, v)
        assert detect(b, Params(b, r.table, v)) == detect_compat(str(path))
    finally:
        r.close()


def test_chain_skips_a_false_candidate_inside_a_payload():
    # three 16-byte event blocks; the first one's payload word looks like a block header whose
    # "trailer" is the next block's length word
    words = np.array([0x204, 16, 0x204, 16,
                      0x204, 16, 7, 16,
                      0x204, 16, 9, 16], dtype=np.uint32)
    cand = _framed(words, np.flatnonzero(words == 0x204))
    assert 2 in cand.tolist()
    assert _chain(words, cand).tolist() == [0, 4, 8]


def test_chain_that_leaves_the_event_blocks_is_rejected():
    words = np.array([0x204, 16, 0, 16, 0x202, 12, 12], dtype=np.uint32)
    cand = _framed(words, np.flatnonzero(words == 0x204))
    assert _chain(words, cand) is None


@pytest.mark.parametrize("flt", ["proc.name=bash", "evt.type=openat and evt.dir=<", "proc.name=nosuch"])
def test_selected_rows_match_a_filtered_capture(flt):
    from scapinspect.fastpath.select import select_events
    path = ROOT / "sample_captures" / "shell_session.scap"
    cap = Capture(str(path), filter=flt)
    got = select_events(load_events(path, fallback=False), cap._selection)
    pd.testing.assert_frame_equal(got, cap.fields(DEFAULT_COLUMNS))


# -- Capture.info from the vectorised walk -----------------------------------------------------------
def _info_pair(path):
    from scapinspect.capture import CaptureInfo
    cap = Capture(str(path))
    return cap.info, cap._read_info(CaptureInfo(cap.path, cap.compat))


@pytest.mark.parametrize("path", SAMPLES + SHARED_CAPS, ids=lambda p: p.name)
def test_info_from_the_walk_matches_the_reader(path):
    fast, ref = _info_pair(path)
    assert fast == ref and fast.events > 0


def test_info_counts_unknown_events_extra_and_empty_params_like_the_reader(tmp_path):
    """A capture with odd events (unknown types, more parameters than the table, empty ones) from
    the hostile generator's simulator: the counts must agree, not only the event total."""
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    from hostile import hostile_capture
    path = hostile_capture(tmp_path / "hostile.scap")
    fast, ref = _info_pair(path)
    assert fast == ref
    assert ref.counts.get("empty_params", 0) > 0      # the case the vectorised count exists for


def test_info_of_a_damaged_capture_comes_from_the_reader(tmp_path):
    data = (ROOT / "sample_captures" / "shell_session.scap").read_bytes()
    cut = tmp_path / "cut.scap"
    cut.write_bytes(data[: len(data) - 37])
    fast, ref = _info_pair(cut)
    assert fast == ref and ref.warnings


@pytest.mark.parametrize("signed", [True, False])
def test_integer_parameters_of_any_width_read_as_the_reader_reads_them(signed):
    """Odd widths (damaged or hostile captures) are little-endian over their bytes, as parsers.params
    reads them; 8 bytes and more are the first 8 (as int64)."""
    from scapinspect._i64 import i64
    from scapinspect.fastpath.params import Params
    from scapinspect.fastpath.walk import views
    from scapinspect.parsers.params import as_int
    raw = bytes(range(200, 216))
    widths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]
    p = Params.__new__(Params)
    p.v = views(raw)
    p.locate = lambda idx, k: (np.zeros(len(widths), dtype=np.int64), np.array(widths))
    vals, ok = p.ints(np.arange(len(widths)), 0, signed)
    assert ok.all()
    assert vals.tolist() == i64([as_int(raw[:w], signed) for w in widths])


def test_load_with_info_takes_the_facts_from_its_own_walk(monkeypatch):
    """Capture.load(info=True) (the TUI's load) fills ``info`` from the load's walk of the file: the
    same facts a fresh capture's ``info`` reads, without walking the file a second time."""
    from scapinspect.capture import Capture
    from scapinspect.fastpath import loader
    path = str(Path(__file__).resolve().parents[1] / "sample_captures" / "web_502.scap")
    want = vars(Capture(path).info)
    cap = Capture(path, cache=False)

    def no_second_walk(*a, **kw):
        raise AssertionError("info walked the file again")
    monkeypatch.setattr(loader, "facts", no_second_walk)
    cap.load(info=True)
    assert vars(cap.info) == want and want["events"] > 0
    assert vars(cap.filter("evt.type=open").info) == want          # a narrowing's info is its file's
