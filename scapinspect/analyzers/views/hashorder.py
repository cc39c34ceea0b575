"""Iteration order of csysdig's row tables: a libstdc++ ``std::unordered_map`` keyed by the raw bytes
of the key field, hashed with ``sinsp_table_field_hasher``.

csysdig walks these maps to build (and group) its rows, so their order decides which key row comes
first into a group-by row (and keeps its NONE columns), and the order std::sort starts from. The
model: one singly linked list of nodes; a node whose bucket is empty goes to the list head, any other
node goes first in its bucket's run; the bucket count follows the prime rehash policy (max load
factor 1, growth x2, 13 buckets on first insert) and a rehash re-threads the list in list order.
"""
from __future__ import annotations

import bisect
import struct

from .fieldinfo import ABSTIME, BOOL, CHARBUF, DOUBLE, INT16, INT64, IPADDR, PORT, RELTIME, UINT32, UINT64

_MASK = (1 << 64) - 1
_FAST_BKT = (2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13)
_PRIMES = (
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 103,
    109, 113, 127, 137, 139, 149, 157, 167, 179, 193, 199, 211, 227, 241, 257, 277, 293, 313, 337, 359,
    383, 409, 439, 467, 503, 541, 577, 619, 661, 709, 761, 823, 887, 953, 1031, 1109, 1193, 1289, 1381,
    1493, 1613, 1741, 1879, 2029, 2179, 2357, 2549, 2753, 2971, 3209, 3469, 3739, 4027, 4349, 4703, 5087,
    5503, 5953, 6427, 6949, 7517, 8123, 8783, 9497, 10273, 11113, 12011, 12983, 14033, 15173, 16411,
    17749, 19183, 20753, 22447, 24281, 26267, 28411, 30727, 33223, 35933, 38873, 42043, 45481, 49201,
    53201, 57557, 62233, 67307, 72817, 78779, 85229, 92203, 99733, 107897, 116731, 126271, 136607,
    147793, 159871, 172933, 187091, 202409, 218971, 236897, 256279, 277261, 299951, 324503, 351061,
    379787, 410857, 444487, 480881, 520241, 562841, 608903, 658753, 712697, 771049, 834181, 902483,
    976369, 1056323, 1142821, 1236397, 1337629, 1447153, 1565659, 1693859, 1832561, 1982627, 2144977,
    2320627, 2510653, 2716249, 2938679, 3179303, 3439651, 3721303, 4026031, 4355707, 4712381, 5098259,
    5515729, 5967347, 6456007, 6984629, 7556579, 8175383, 8844859, 9569143, 10352717, 11200489,
    12117689, 13109983, 14183539, 15345007, 16601593, 17961079, 19431899, 21023161, 22744717, 24607243,
    26622317, 28802401, 31160981, 33712729, 36473443, 39460231, 42691603, 46187573, 49969847, 54061849,
    58488943, 63278561, 68460391, 74066549, 80131819, 86693767, 93793069, 101473717, 109783337,
    118773397, 128499677, 139022417, 150406843, 162723577, 176048909, 190465427, 206062531, 222936881,
    241193053, 260944219, 282312799, 305431229, 330442829, 357502601, 386778277, 418451333, 452718089,
    489790921, 529899637, 573292817, 620239453, 671030513, 725980837, 785430967, 849749479, 919334987,
    994618837, 1076067617, 1164186217, 1259520799, 1362662261, 1474249943, 1594975441, 1725587117,
    1866894511, 2019773507, 2185171673, 2364114217, 2557710269, 2767159799, 2993761039, 3238918481,
    3504151727, 3791104843, 4101556399, 4294967291,
)
_PACK = {INT16: "<h", INT64: "<q", UINT32: "<I", UINT64: "<Q", RELTIME: "<Q", ABSTIME: "<Q", PORT: "<H",
         BOOL: "<I", DOUBLE: "<d"}


def key_bytes(value, ftype: str) -> bytes:
    """The bytes csysdig stores for a key value (strings with their NUL)."""
    if ftype in (CHARBUF, IPADDR):
        return str(value).encode("utf-8", "surrogateescape") + b"\0"
    fmt = _PACK[ftype]
    if fmt == "<d":
        return struct.pack(fmt, float(value))
    bits = 8 * struct.calcsize(fmt)
    v = int(value) & ((1 << bits) - 1)
    if fmt[1].islower() and v >= 1 << (bits - 1):
        v -= 1 << bits                      # the same bytes, as the signed C type
    return struct.pack(fmt, v)


def map_order(keys: list, ftype: str) -> list[int]:
    """Positions of ``keys`` (distinct, in insertion order) in the map's iteration order."""
    m = HashOrder()
    for k in keys:
        m.insert(key_bytes(k, ftype))
    return m.order()


def table_hash(data: bytes) -> int:
    """``sinsp_table_field_hasher``: h = h*101 + byte over every byte but the last."""
    h = 0
    for b in data[:-1]:
        h = (h * 101 + b) & _MASK
    return h


class _Policy:
    """libstdc++ _Prime_rehash_policy with max_load_factor 1."""

    def __init__(self) -> None:
        self.next_resize = 0

    def next_bkt(self, n: int) -> int:
        if n < len(_FAST_BKT):
            if n == 0:
                return 1
            self.next_resize = _FAST_BKT[n]
            return _FAST_BKT[n]
        i = bisect.bisect_left(_PRIMES, n, lo=6, hi=len(_PRIMES) - 1)
        p = _PRIMES[i]
        self.next_resize = (1 << 64) - 1 if i == len(_PRIMES) - 1 else p
        return p

    def need_rehash(self, n_bkt: int, n_elt: int, n_ins: int) -> int | None:
        if n_elt + n_ins > self.next_resize:
            min_bkts = max(n_elt + n_ins, 0 if self.next_resize else 11)
            if min_bkts >= n_bkt:
                return self.next_bkt(max(min_bkts + 1, n_bkt * 2))
            self.next_resize = n_bkt
        return None


class HashOrder:
    """Insert keys (bytes) and read them back in the map's iteration order."""

    _HEAD = -1

    def __init__(self) -> None:
        self._policy = _Policy()
        self._nbkt = 1
        self._buckets: dict[int, int] = {}     # bucket -> node before its first node
        self._next: dict[int, int | None] = {self._HEAD: None}
        self._hash: list[int] = []
        self._index: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._hash)

    def insert(self, key: bytes) -> int:
        """The node number of ``key`` (inserted if new; numbers count up from 0)."""
        node = self._index.get(key)
        if node is not None:
            return node
        grow = self._policy.need_rehash(self._nbkt, len(self._hash), 1)
        if grow is not None:
            self._rehash(grow)
        node = len(self._hash)
        h = table_hash(key)
        self._hash.append(h)
        self._index[key] = node
        self._link(node, h % self._nbkt, self._buckets)
        return node

    def _link(self, node: int, bkt: int, buckets: dict[int, int]) -> None:
        before = buckets.get(bkt)
        if before is not None:
            self._next[node] = self._next[before]
            self._next[before] = node
            return
        first = self._next[self._HEAD]
        self._next[node] = first
        self._next[self._HEAD] = node
        if first is not None:
            buckets[self._hash[first] % self._nbkt] = node
        buckets[bkt] = self._HEAD

    def _rehash(self, nbkt: int) -> None:
        order = self.order()
        self._nbkt = nbkt
        buckets: dict[int, int] = {}
        self._next = {self._HEAD: None}
        for node in order:
            self._link(node, self._hash[node] % nbkt, buckets)
        self._buckets = buckets

    def order(self) -> list[int]:
        """Node numbers in iteration order."""
        out = []
        n = self._next[self._HEAD]
        while n is not None:
            out.append(n)
            n = self._next[n]
        return out
