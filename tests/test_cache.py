"""The on-disk index of the event frame (scapinspect.cache): a reopened capture reads the same frame,
dtypes included, without decoding or detecting anything; stale, damaged or unstorable entries are
never trusted and never fail an open."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import scapinspect.fastpath
from scapinspect import cache
from scapinspect.capture import Capture, to_frame
from scapinspect.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import hostile_capture  # noqa: E402

pytest.importorskip("pyarrow.parquet")

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "sample_captures").glob("*.scap"))
SHARED = ["sample", "curl_google", "mixed_io", "falco_empty"]


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("SCAPINSPECT_CACHE_DIR", str(d))
    monkeypatch.delenv("SCAPINSPECT_CACHE", raising=False)
    return d


@pytest.fixture
def no_decoding(monkeypatch):
    """Opening must not detect the profile nor decode the capture (a cache hit)."""
    def refuse(*a, **k):
        raise AssertionError("decoded the capture despite a valid cache entry")
    monkeypatch.setattr("scapinspect.capture.detect_compat", refuse)
    monkeypatch.setattr(scapinspect.fastpath, "load_events", refuse)


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """The paths load_events decodes."""
    seen: list[str] = []
    real = scapinspect.fastpath.load_events

    def counting(path, **kw):
        seen.append(str(path))
        return real(path, **kw)
    monkeypatch.setattr(scapinspect.fastpath, "load_events", counting)
    return seen


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    dst = tmp_path / "web.scap"
    shutil.copy(REPO / "sample_captures" / "web_502.scap", dst)
    return dst


def _reopen_equal(path: Path, request) -> None:
    fresh = Capture(str(path), cache=False)
    first = Capture(str(path), cache=True)
    pd.testing.assert_frame_equal(first.events, fresh.events)
    if not cache.entries():
        return          # the reference reader's frames (damaged, multi-section captures) are not cached
    request.getfixturevalue("no_decoding")
    again = Capture(str(path), cache=True)
    assert again.compat == fresh.compat
    pd.testing.assert_frame_equal(again.events, fresh.events)
    assert again.warnings == []


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_reopen_reads_the_same_frame(path, request):
    _reopen_equal(path, request)
    assert len(cache.entries()) == 1


@pytest.mark.parametrize("name", SHARED)
def test_reopen_shared_captures(name, shared_capture, request):
    _reopen_equal(shared_capture(name), request)


def test_reopen_hostile_capture(tmp_path, request):
    _reopen_equal(hostile_capture(tmp_path / "h.scap"), request)
    assert len(cache.entries()) == 1


def test_filters_and_analyses_on_a_cached_capture(sample_copy):
    fresh = Capture(str(sample_copy))
    _events(sample_copy, cache=True)
    again = Capture(str(sample_copy), cache=True)
    pd.testing.assert_frame_equal(again.filter("evt.dir=<").events, fresh.filter("evt.dir=<").events)
    pd.testing.assert_frame_equal(again.connections(), fresh.connections())


def test_changed_capture_is_read_again(sample_copy, loads):
    _events(sample_copy, cache=True)
    st = sample_copy.stat()
    os.utime(sample_copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    _events(sample_copy, cache=True)
    _events(sample_copy, cache=True)
    assert len(loads) == 2          # the stale entry was rewritten, then used


def test_same_size_and_mtime_but_other_bytes_is_stale(sample_copy):
    _events(sample_copy, cache=True)
    assert cache.lookup(str(sample_copy), None, True) is not None
    st = sample_copy.stat()
    data = bytearray(sample_copy.read_bytes())
    data[-1] ^= 0xFF
    sample_copy.write_bytes(bytes(data))
    os.utime(sample_copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cache.lookup(str(sample_copy), None, True) is None


def test_asked_profile_is_part_of_the_key(sample_copy):
    detected = Capture(str(sample_copy), cache=True)
    _ = detected.events
    other = "0.41" if detected.compat == "0.29" else "0.29"
    forced = Capture(str(sample_copy), compat=other, cache=True)
    pd.testing.assert_frame_equal(forced.events, Capture(str(sample_copy), compat=other).events)
    assert len(cache.entries()) == 2
    assert Capture(str(sample_copy), cache=True).compat == detected.compat


def test_here_writes_beside_the_capture(sample_copy, cache_home, request):
    fresh = Capture(str(sample_copy)).events
    _events(sample_copy, cache="here")
    assert Path(str(sample_copy) + ".siidx").is_file()
    assert not cache_home.exists()
    request.getfixturevalue("no_decoding")
    pd.testing.assert_frame_equal(Capture(str(sample_copy), cache="here").events, fresh)


def test_environment_turns_it_on(sample_copy, monkeypatch):
    monkeypatch.setenv("SCAPINSPECT_CACHE", "1")
    _events(sample_copy)
    assert len(cache.entries()) == 1
    monkeypatch.setenv("SCAPINSPECT_CACHE", "maybe")
    with pytest.warns(cache.CacheWarning, match="SCAPINSPECT_CACHE"):
        assert Capture(str(sample_copy)).cache is False
    with pytest.raises(ValueError, match="cache must be"):
        Capture(str(sample_copy), cache="there")


def test_damaged_entry_is_ignored_and_rewritten(sample_copy):
    fresh = Capture(str(sample_copy)).events
    _events(sample_copy, cache=True)
    [entry] = cache.entries()
    entry.write_bytes(b"not parquet")
    pd.testing.assert_frame_equal(Capture(str(sample_copy), cache=True).events, fresh)
    assert cache.lookup(str(sample_copy), None, True) is not None


def test_frames_arrow_cannot_hold_are_not_cached(sample_copy):
    labels = pd.Categorical.from_codes([0, 1], categories=pd.Index(["bad\udcff", "ok"], dtype=object))
    df = pd.DataFrame({"fd.name": labels})
    ident = cache.identity(str(sample_copy))
    assert cache.store(str(sample_copy), ident, df, "0.29", True, [], True) is None
    assert cache.entries() == []


def test_all_missing_categoricals_round_trip(sample_copy):
    cols = {"evt.num": [1, 2], "proc.name": [None, None], "fd.name": ["a", None], "evt.failed": [None, True],
            "evt.rawtime": [5, 6]}
    for frame in (to_frame(cols), to_frame({k: [] for k in cols})):
        _store(sample_copy, frame)
        entry = cache.lookup(str(sample_copy), None, True)
        assert entry is not None and entry.warnings == ["w"]
        pd.testing.assert_frame_equal(cache.read(entry), frame)
    assert [p.name for p in cache.cache_dir().iterdir()] == [cache.entries()[0].name]   # no temp file


def test_frame_that_reads_back_different_is_not_trusted(sample_copy):
    # Arrow drops the categories of a frame without rows
    _store(sample_copy, to_frame({"fd.name": ["a"]}).iloc[:0])
    assert cache.read(cache.lookup(str(sample_copy), None, True)) is None


def _events(capture: Path, **kw) -> pd.DataFrame:
    """Open ``capture`` and load its events (with the cache on, this fills it)."""
    return Capture(str(capture), **kw).events


def _store(capture: Path, frame: pd.DataFrame) -> None:
    assert cache.store(str(capture), cache.identity(str(capture)), frame, "0.29", True, ["w"], True)


def test_without_pyarrow_the_cache_is_off(sample_copy, monkeypatch):
    fresh = Capture(str(sample_copy)).events
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    cache._pyarrow.cache_clear()
    try:
        with pytest.warns(cache.CacheWarning, match="needs pyarrow"):
            pd.testing.assert_frame_equal(Capture(str(sample_copy), cache=True).events, fresh)
    finally:
        cache._pyarrow.cache_clear()
    assert cache.entries() == []


def test_prune_removes_least_recently_used(cache_home):
    cache_home.mkdir()
    for i in range(4):
        f = cache_home / f"{i}.siidx"
        f.write_bytes(b"x" * 100)
        os.utime(f, (1000 + i, 1000 + i))
    removed = cache.prune(cache_home, 250)
    assert sorted(p.name for p in removed) == ["0.siidx", "1.siidx"]
    assert cache.prune(cache_home, 0) == [cache_home / "2.siidx"]      # the newest always stays


def test_cli_cache_shows_and_clears(sample_copy, cache_home):
    _events(sample_copy, cache=True)
    runner = CliRunner()
    shown = runner.invoke(main, ["cache"])
    assert shown.exit_code == 0 and f"{cache_home}: 1 entries" in shown.output
    cleared = runner.invoke(main, ["cache", "--clear"])
    assert cleared.exit_code == 0 and cleared.output.startswith("removed 1 entries")
    assert cache.entries() == []


def test_cli_tui_takes_cache_option(sample_copy, monkeypatch):
    monkeypatch.setenv("SCAPINSPECT_CACHE", "0")      # restored after the test
    res = CliRunner().invoke(main, [str(sample_copy), "--cache"])
    assert res.exit_code == 2 and "needs a terminal" in res.output
    assert os.environ["SCAPINSPECT_CACHE"] == "1"


def test_analyses_on_a_cache_hit_use_the_side_data_of_one_fast_load(tmp_path, monkeypatch):
    """A frame read back from the index has no side data: the first analysis makes it with one fast
    load (no replay), and the answers are those of a fresh open."""
    src = REPO / "sample_captures" / "shell_session.scap"
    want = Capture(str(src)).spy_users()
    assert len(want) > 0
    assert len(Capture(str(src), cache=True).events) > 0   # fills the index
    hit = Capture(str(src), cache=True)
    assert hit._cache_entry is not None
    monkeypatch.setattr(type(hit), "replay", lambda *a, **k: (_ for _ in ()).throw(AssertionError("replayed")))
    pd.testing.assert_frame_equal(hit.spy_users(), want)
    assert hit._side() is hit._side()                    # made once
