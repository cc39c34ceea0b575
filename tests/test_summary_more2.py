"""The overview's bucketing by arithmetic and its text columns with narrow codes."""
import numpy as np

from scapinspect.analyzers.summary import Text, _bucket_of, bucket_edges


def _search(ts, edges):
    return np.clip(np.searchsorted(edges, ts, side="right") - 1, 0, len(edges) - 2)


def test_bucket_of_matches_the_search():
    rng = np.random.default_rng(7)
    for first, last, samples in ((0, 10**9, 100), (5, 5 + 99, 100), (10**18, 10**18 + 12345, 7), (3, 3, 100),
                                 (100, 250, 3), (1, 1 + 10**12, 400)):
        edges = bucket_edges(first, last, samples)
        ts = np.concatenate((rng.integers(first - 50, last + 50, 5000, dtype=np.int64), edges, edges - 1, edges + 1))
        assert np.array_equal(_bucket_of(ts, edges), _search(ts, edges))
    edges = np.array([0, 5, 7, 100], dtype=np.int64)          # not equal buckets: searched
    ts = np.arange(-3, 110, dtype=np.int64)
    assert np.array_equal(_bucket_of(ts, edges), _search(ts, edges))


def test_text_keeps_narrow_codes():
    t = Text(np.array([0, -1, 2, 1, 2], dtype=np.int8), ["a", "b", "a"])
    assert t.labels == ["a", "b"]
    assert t.at(np.arange(5)).tolist() == ["a", None, "a", "b", "a"]
    u = Text(np.array([1, -1, 0], dtype=np.int16), ["x", "y"])
    assert u.codes.dtype == np.int16
    assert u.of_codes(np.array([-1, 1])).tolist() == [None, "y"]
