"""Questions about a fleet of machines, one capture each, answered with Dask.

    python examples/dask_fleet.py web1.scap web2.scap db1.scap ...

Each capture becomes one partition of a Dask DataFrame (``dask.dataframe.from_map`` over the files,
see scapinspect/dask.py); the questions below are ordinary pandas groupbys that Dask runs partition by
partition. Run with a distributed cluster by creating a ``dask.distributed.Client`` first.
"""
from __future__ import annotations

import sys

import dask.dataframe as dd
import pandas as pd

from scapinspect.dask import events


def io_bytes(ev: dd.DataFrame) -> dd.Series:
    """Bytes read and written (evt.buflen of the I/O exits) per capture and process."""
    io = ev[ev["evt.is_io"].fillna(False)]
    return io.groupby(["capture", "proc.name"], observed=True)["evt.buflen"].sum()


def errors(ev: dd.DataFrame) -> dd.Series:
    """Failed system calls per capture and error (evt.res: ENOENT, EAGAIN ...)."""
    failed = ev[ev["evt.failed"].fillna(False)]
    return failed.groupby(["capture", "evt.res"], observed=True).size()


def main(paths: list[str]) -> None:
    ev = events(paths, cache=True)      # a second run reads the frames from the capture cache
    top, errs = dd.compute(io_bytes(ev).nlargest(10), errors(ev))
    with pd.option_context("display.width", 120):
        print("top processes by bytes read and written:", top.to_string(), sep="\n")
        print("\nfailed system calls:", errs.sort_values(ascending=False).to_string(), sep="\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python examples/dask_fleet.py CAPTURE.scap [CAPTURE.scap ...]")
    main(sys.argv[1:])
