"""DataFrame helpers for FrameTable (the heavy half: numpy/pandas, imported once a capture loads).

Cell text, sorting, finding and CSV conversion; every cell ends in ``text.visible`` so nothing from the
capture reaches the terminal unescaped.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..render.params import dotted
from .text import clock, visible


def cell_text(value: object) -> str:
    """One table cell; the vectorised ``column_text`` gives the same strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return dotted(bytes(value))
    if isinstance(value, pd.Timestamp):
        return clock(value.value)
    if isinstance(value, np.datetime64):
        return clock(int(value.astype("datetime64[ns]").astype("int64")))
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return visible(value)


def _float(v: float) -> str:
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}" if abs(v) < 1e-3 or abs(v) >= 1e6 else f"{v:.3f}".rstrip("0").rstrip(".")


def column_text(series: pd.Series) -> pd.Series:
    """Every cell of a column as the table shows it (for find, widths and CSV)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = pd.Series([cell_text(c) for c in dtype.categories], dtype=object)
        codes = series.cat.codes.to_numpy()
        out = np.where(codes >= 0, cats.to_numpy(dtype=object)[np.maximum(codes, 0)] if len(cats) else "", "")
        return pd.Series(out, index=series.index, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ns = pd.DatetimeIndex(series).asi8
        na = series.isna().to_numpy()
        return pd.Series(["" if bad else clock(int(v)) for v, bad in zip(ns, na, strict=True)], index=series.index,
                         dtype=object)
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return series.astype("string").fillna("").astype(object)
    return pd.Series([cell_text(v) for v in series.to_numpy(dtype=object)], index=series.index, dtype=object)


def getter(series: pd.Series) -> Callable[[int], str]:
    """Position -> cell text for one column, without materialising the column as strings."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        cats = [cell_text(c) for c in dtype.categories]
        return lambda i: cats[codes[i]] if codes[i] >= 0 else ""
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ns = pd.DatetimeIndex(series).asi8
        na = series.isna().to_numpy()
        return lambda i: "" if na[i] else clock(int(ns[i]))
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        ints = series.to_numpy(dtype="int64", na_value=0)       # no per-cell objects for big columns
        na = series.isna().to_numpy()
        return lambda i: "" if na[i] else str(int(ints[i]))
    if pd.api.types.is_float_dtype(dtype):
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
        return lambda i: cell_text(float(floats[i]))
    arr = series.to_numpy(dtype=object)
    return lambda i: cell_text(arr[i])


def is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            and not isinstance(dtype, pd.CategoricalDtype))


def sort_order(frame: pd.DataFrame, column: str, descending: bool) -> np.ndarray:
    """Row positions of ``frame`` sorted by ``column``: numbers and times by value, anything else by
    its text, case-insensitively; stable, missing values last."""
    s = frame[column]
    dtype = s.dtype
    if (is_numeric(s) or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        try:
            return s.sort_values(ascending=not descending, kind="stable", na_position="last").index.to_numpy()
        except TypeError:
            pass
    text = column_text(s).str.lower().where(s.notna().to_numpy(), None)
    return text.sort_values(ascending=not descending, kind="stable", na_position="last").index.to_numpy()


def find_mask(frame: pd.DataFrame, columns: list[str], pattern: str,
              cancelled: Callable[[], bool] = lambda: False) -> np.ndarray:
    """Rows where any shown cell matches ``pattern`` (case-insensitive regex, else a plain substring)."""
    try:
        rx = re.compile(pattern, re.IGNORECASE)
        if rx.search("") is not None:
            raise re.error("matches the empty string")
    except re.error:
        rx = re.compile(re.escape(pattern), re.IGNORECASE)
    mask = np.zeros(len(frame), dtype=bool)
    for col in columns:
        if cancelled():
            break
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = np.array([bool(rx.search(cell_text(c))) for c in s.cat.categories] + [False])
            codes = s.cat.codes.to_numpy()
            mask |= cats[np.where(codes >= 0, codes, len(cats) - 1)]
        else:
            text = column_text(s)
            mask |= text.str.contains(rx, regex=True).to_numpy(dtype=bool, na_value=False)
    return mask


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ready for CSV: payload bytes as dotted text."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, (bytes, bytearray))).any():
            out[c] = column_text(out[c])
    return out
