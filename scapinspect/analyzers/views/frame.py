"""A computed view as a typed DataFrame, columns named by csysdig's legend names."""
from __future__ import annotations

import pandas as pd

from ..._i64 import i64
from .engine import view_result
from .fieldinfo import ABSTIME, BOOL, CHARBUF, DOUBLE, IPADDR, RELTIME


def _column(values: list, ftype: str):
    if ftype == DOUBLE:
        return pd.array(values, dtype="Float64")
    if ftype == RELTIME:
        return pd.to_timedelta(pd.array(i64(values), dtype="Int64"), unit="ns")
    if ftype == ABSTIME:
        return pd.to_datetime(pd.array(i64(values), dtype="Int64"), unit="ns", utc=True)
    if ftype == BOOL:
        return pd.array(values, dtype="boolean")
    if ftype in (CHARBUF, IPADDR):
        return pd.array(values, dtype=pd.StringDtype("python"))
    return pd.array(i64(values), dtype="Int64")


def view_frame(cap, name: str, *, filter: str | None = None,  # noqa: A002
               containers: bool = True) -> pd.DataFrame:
    """View ``name`` over ``cap`` as a DataFrame in csysdig's row order.

    Integer columns are nullable Int64, CPU columns Float64, durations (TIME, LATENCY ...)
    timedelta64, strings (names, addresses) the string dtype. The row keys are the index.
    """
    r = view_result(cap, name, filter=filter, containers=containers)
    data = {}
    for j, (col, ftype) in enumerate(zip(r.columns, r.types, strict=True)):
        data[col] = _column([row[j] for row in r.numbers], ftype)
    frame = pd.DataFrame(data, index=pd.Index(r.keys, name="key"))
    frame.attrs["view"] = r.view.id
    frame.attrs["duration_ns"] = r.time_delta
    return frame
