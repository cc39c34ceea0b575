"""Build a large capture reproducibly: a shared capture's metadata blocks once, then its event blocks
repeated with timestamps shifted so that time keeps increasing.

    python benchmarks/make_big.py ../shared/captures/502Error.scap 1000000 /tmp/big.scap
"""
from __future__ import annotations

import struct
import sys

from scapinspect.parsers import metadata as md
from scapinspect.parsers.reader import load_bytes

_HDR = struct.Struct("<II")


def blocks(buf) -> list[tuple[int, int, int]]:
    out, pos, size = [], 0, len(buf)
    while pos + 12 <= size:
        btype, blen = _HDR.unpack_from(buf, pos)
        if blen < 12 or pos + blen > size:
            break
        out.append((pos, btype, blen))
        pos += blen
    return out


def build(src: str, n_events: int, dst: str) -> int:
    buf, _, _ = load_bytes(src)
    bl = blocks(buf)
    meta = [b for b in bl if b[1] not in md.EVENT_BLOCKS]
    evs = [b for b in bl if b[1] in md.EVENT_BLOCKS]
    if not evs:
        raise SystemExit(f"{src}: no event blocks")
    # ts sits after the block header, the cpu word and (EVF blocks) the flags word
    def ts_off(btype: int) -> int:
        return 10 + (4 if md.EVENT_BLOCKS[btype][1] else 0)
    stamps = [struct.unpack_from("<Q", buf, pos + ts_off(bt))[0] for pos, bt, _ in evs]
    real = [t for t in stamps if t]
    span = (max(real) - min(real) + 1_000_000) if real else 0
    written = 0
    with open(dst, "wb") as f:
        for pos, _, blen in meta:
            f.write(buf[pos:pos + blen])
        k = 0
        while written < n_events:
            shift = k * span
            for pos, btype, blen in evs:
                blk = bytearray(buf[pos:pos + blen])
                o = ts_off(btype)
                ts = struct.unpack_from("<Q", blk, o)[0]
                if ts:
                    struct.pack_into("<Q", blk, o, ts + shift)
                f.write(blk)
                written += 1
                if written >= n_events:
                    break
            k += 1
    return written


if __name__ == "__main__":
    if len(sys.argv) != 4 or not sys.argv[2].isdigit():
        sys.exit("usage: python benchmarks/make_big.py SOURCE.scap EVENTS OUT.scap")
    src, n, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print(f"{build(src, n, dst)} events -> {dst}")
