"""Many captures as one Dask DataFrame: ``events(paths)`` is ``dask.dataframe.from_map`` over capture
files, one partition per capture, so Dask's schedulers (threads, processes, a distributed cluster) do
the spreading and scapinspect only says how to read one capture.

    import scapinspect.dask as sid
    ev = sid.events(["web1.scap", "web2.scap"], cache=True)
    ev[ev["evt.failed"].fillna(False)].groupby("capture", observed=True).size().compute()

Needs ``dask[dataframe]`` (imported when called, so ``import scapinspect`` never needs it).
"""
from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._text import table_texts
from .capture import DEFAULT_COLUMNS, Capture, to_frame

CAPTURE_COLUMN = "capture"


def load_one(path: str | os.PathLike[str], *, compat: str | None = None,
             cache: bool | str | None = None) -> pd.DataFrame:
    """``Capture(path).events`` with a first column ``capture`` (the file name, as a categorical) that
    tells the captures apart once they are in one frame; ``compat`` and ``cache`` as in ``Capture``."""
    df = Capture(os.fspath(path), compat=compat, cache=cache).events.copy(deep=False)
    for name in df.columns:
        col = df[name]
        # labels with undecodable bytes (lone surrogates, object categories) shown as \xNN, as tables
        # show them: pandas cannot hash them, and combining partitions hashes categories
        if isinstance(col.dtype, pd.CategoricalDtype) and col.cat.categories.dtype == object and len(col):
            df[name] = pd.Categorical(table_texts(col.astype(object).tolist()))
    name = os.path.basename(os.fspath(path))
    df.insert(0, CAPTURE_COLUMN, pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), categories=[name]))
    return df


def meta() -> pd.DataFrame:
    """The empty frame ``load_one`` returns the dtypes of, with the categories left unknown (each
    capture has its own)."""
    from dask.dataframe.utils import clear_known_categories

    df = to_frame({n: [] for n in DEFAULT_COLUMNS})
    df.insert(0, CAPTURE_COLUMN, pd.Categorical([]))
    return clear_known_categories(df)


def events(paths: Iterable[str | os.PathLike[str]], *, compat: str | None = None,
           cache: bool | str | None = None):
    """The events of every capture in ``paths`` as one Dask DataFrame, one partition per capture (see
    ``load_one``); nothing is read until the frame is computed."""
    import dask.dataframe as dd

    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("no capture to read")
    return dd.from_map(load_one, paths, meta=meta(), label="scapinspect-events",
                       enforce_metadata=True, compat=compat, cache=cache)
