"""Time compile_filter + mask on a synthetic 1M-row event frame (best of 5). Target: < 50 ms.

Run: python benchmarks/bench_filters.py [rows]
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from scapinspect.filters import compile_filter

FILTER = ("evt.type in (read, write, sendto) and proc.name startswith cu and fd.num>2 "
          "and evt.buflen>=100 and not fd.name contains lib")


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Event-like columns: categorical strings, nullable numbers, NA where a field is absent."""
    rng = np.random.default_rng(seed)
    types = ["read", "write", "open", "close", "sendto", "recvfrom", "mmap", "switch", "execve"]
    names = ["curl", "bash", "sshd", "cupsd", "nginx", "python3", "systemd"] + [f"proc{i}" for i in range(50)]
    paths = [f"/usr/lib/x86_64-linux-gnu/lib{i}.so" for i in range(200)] + [f"/etc/conf{i}" for i in range(200)] \
        + [f"10.0.0.{i}:{40000 + i}->10.0.1.{i}:80" for i in range(200)]
    fd_num = rng.integers(-1, 64, rows)
    has_fd = fd_num >= 0
    buflen = rng.integers(0, 4096, rows)
    has_buf = rng.random(rows) < 0.4
    fd_name = pd.Categorical.from_codes(np.where(has_fd, rng.integers(0, len(paths), rows), -1), categories=paths)
    return pd.DataFrame({
        "evt.num": np.arange(1, rows + 1, dtype=np.uint64),
        "evt.type": pd.Categorical.from_codes(rng.integers(0, len(types), rows), categories=types),
        "proc.name": pd.Categorical.from_codes(rng.integers(0, len(names), rows), categories=names),
        "fd.num": pd.arrays.IntegerArray(fd_num.astype(np.int64), ~has_fd),
        "fd.name": fd_name,
        "evt.buflen": pd.arrays.IntegerArray(buflen.astype(np.uint64), ~has_buf),
    })


def bench(rows: int = 1_000_000, repeat: int = 5) -> float:
    frame = make_frame(rows)
    best = float("inf")
    selected = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        mask = compile_filter(FILTER).mask(frame)
        best = min(best, time.perf_counter() - t0)
        selected = int(mask.sum())
    print(f"rows={rows:,} filter={FILTER!r}")
    print(f"selected={selected:,} compile+mask best of {repeat}: {best * 1000:.1f} ms (target < 50 ms)")
    return best


if __name__ == "__main__":
    bench(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
