"""Rows of a loaded frame by evt.num, typed as if the frame had been built from those rows only
(what ``Capture(path, filter=...).events`` returns: categories are the values present)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def select_events(df: pd.DataFrame, nums: np.ndarray) -> pd.DataFrame:
    """The rows of ``df`` whose evt.num is in ``nums``, in order, with fresh categories."""
    keep = np.isin(df["evt.num"].to_numpy(dtype=np.int64, na_value=-1), np.asarray(nums, dtype=np.int64))
    out = df[keep].reset_index(drop=True)
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            c = col.cat.remove_unused_categories()
            if len(c.cat.categories) == 0:
                # pd.Categorical infers float categories from only-missing values, object from none
                c = pd.Series(pd.Categorical([np.nan] * len(c) if len(c) else []), name=name)
            out[name] = c
    return out
