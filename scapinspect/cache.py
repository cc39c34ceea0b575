"""The on-disk index of a capture's event frame: reopening a capture reads a parquet file instead of
decoding the capture again (opt in with ``Capture(path, cache=True)`` or ``SCAPINSPECT_CACHE=1``).

One entry is one parquet file holding ``Capture.events`` of the whole capture; its schema metadata
holds the record that says which capture and which reading of it the frame belongs to:

    size, mtime_ns, head     the capture's size, modification time and the blake2b of its first 1 MiB
    compat, detected         the sysdig profile the frame was built with, and whether it was detected
    warnings                 the reader's warnings
    format, scapinspect, pandas   versions: a newer layout or reader never trusts an older entry
    schema                   each column's dtype, checked after reading

An entry whose record does not match is ignored and rewritten. Entries live in ``$SCAPINSPECT_CACHE_DIR``
(else ``$XDG_CACHE_HOME/scapinspect``, else ``~/.cache/scapinspect``), named after the capture's absolute
path and the profile asked for, and the directory is kept under ``$SCAPINSPECT_CACHE_MAX_MB`` (2048) by
removing the least recently used entries; ``cache="here"`` writes ``FILE.scap.siidx`` next to the capture
instead. ``inspect cache --clear`` empties the directory. Frames Arrow cannot hold (category labels with
undecodable bytes) are not cached. Without pyarrow the cache is off, with one warning.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FORMAT = 1
HEAD_BYTES = 1 << 20
SUFFIX = ".siidx"
MAX_MB = 2048
_META_KEY = b"scapinspect"
_ON = {"1", "true", "yes", "on"}
_OFF = {"", "0", "false", "no", "off"}

Mode = bool | str       # False, True (the cache directory) or "here" (next to the capture)


class CacheWarning(UserWarning):
    """The cache could not be used; the capture is read without it."""


@dataclass
class Entry:
    """A valid cache entry found for a capture: where it is and what its record says."""
    file: Path
    record: dict

    @property
    def compat(self) -> str:
        return self.record["compat"]

    @property
    def warnings(self) -> list[str]:
        return list(self.record["warnings"])


def resolve_mode(cache: Mode | None) -> Mode:
    """The cache mode asked for: ``cache`` itself, or ``$SCAPINSPECT_CACHE`` when it is None
    (1/true/yes/on, here, or 0/false/no/off)."""
    if cache is None:
        env = os.environ.get("SCAPINSPECT_CACHE", "").strip().lower()
        if env in _ON or env == "here":
            return True if env in _ON else "here"
        if env not in _OFF:
            warnings.warn(f"SCAPINSPECT_CACHE={env!r} is not 1, 0 or 'here'; the cache is off",
                          CacheWarning, stacklevel=3)
        return False
    if cache is True or cache is False or cache == "here":
        return cache
    raise ValueError(f"cache must be True, False or 'here', not {cache!r}")


def cache_dir() -> Path:
    """Where cache entries live (``cache="here"`` entries excepted)."""
    if os.environ.get("SCAPINSPECT_CACHE_DIR"):
        return Path(os.environ["SCAPINSPECT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scapinspect"


def entry_path(path: str, compat: str | None, mode: Mode) -> Path:
    """The entry file for a capture read with ``compat`` (None: detected)."""
    full = os.path.abspath(path)
    if mode == "here":
        return Path(full + SUFFIX)
    digest = hashlib.blake2b(f"{full}\0{compat or 'auto'}".encode("utf-8", "surrogateescape"),
                             digest_size=16).hexdigest()
    return cache_dir() / f"{digest}{SUFFIX}"


@functools.cache
def _pyarrow():
    """pyarrow.parquet, or None (with one warning per process) when it is not installed."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        warnings.warn("the capture cache needs pyarrow (pip install 'scapinspect[parquet]'); "
                      "reading without it", CacheWarning, stacklevel=4)
        return None
    return pq


def identity(path: str) -> dict:
    """What ties an entry to the capture's bytes: size, mtime and a hash of the first 1 MiB."""
    st = os.stat(path)
    with open(path, "rb") as f:
        head = hashlib.blake2b(f.read(HEAD_BYTES), digest_size=16).hexdigest()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "head": head}


def _versions() -> dict:
    from . import __version__
    return {"format": FORMAT, "scapinspect": __version__, "pandas": pd.__version__}


def _matches(record: dict, ident: dict, compat: str | None) -> bool:
    if any(record.get(k) != v for k, v in {**ident, **_versions()}.items()):
        return False
    if record.get("compat") not in ("0.29", "0.41") or not isinstance(record.get("warnings"), list):
        return False
    return record.get("detected") is True if compat is None else record.get("compat") == compat


def lookup(path: str, compat: str | None, mode: Mode) -> Entry | None:
    """The valid entry for ``path`` read with ``compat`` (None: the detected profile), or None. Reads
    the entry's footer only."""
    if not mode or (pq := _pyarrow()) is None:
        return None
    file = entry_path(path, compat, mode)
    try:
        record = _record(pq.read_schema(file))
        ident = identity(path)
    except (OSError, ValueError):
        return None
    return Entry(file, record) if record is not None and _matches(record, ident, compat) else None


def _record(schema) -> dict | None:
    raw = (schema.metadata or {}).get(_META_KEY)
    record = json.loads(raw) if raw else None
    return record if isinstance(record, dict) else None


def read(entry: Entry) -> pd.DataFrame | None:
    """The frame of a looked-up entry, or None when the file changed since, is damaged, or does not
    read back with the dtypes it was written with."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(entry.file)
    except (OSError, pa.ArrowException):
        return None
    if _record(table.schema) != entry.record:
        return None
    try:
        df = _restore_categories(table.to_pandas(), entry.record["schema"])
    except (KeyError, TypeError, ValueError, pa.ArrowException):     # a record this version did not write
        return None
    if _schema(df) != entry.record["schema"]:
        return None
    _touch(entry.file)
    return df


def store(path: str, ident: dict, df: pd.DataFrame, compat: str, detected: bool, reader_warnings: list[str],
          mode: Mode) -> Path | None:
    """Write the entry for ``path`` (atomically): ``ident`` is the capture's ``identity`` taken before
    ``df`` was read from it, ``compat`` the profile ``df`` was built with (``detected`` or asked for).
    Returns the entry file, or None when the frame cannot be cached (Arrow refuses its labels) or the
    entry cannot be written (then with a warning)."""
    if not mode or (pq := _pyarrow()) is None:
        return None
    import pyarrow as pa
    try:
        record = {**ident, **_versions(), "compat": compat, "detected": detected,
                  "warnings": list(reader_warnings), "schema": _schema(df)}
        table = pa.Table.from_pandas(df)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None             # labels with undecodable bytes: Arrow strings cannot hold them
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           _META_KEY: json.dumps(record).encode()})
    file = entry_path(path, None if detected else compat, mode)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(pq, table, file)
    except OSError as e:
        warnings.warn(f"cannot write the capture cache {file}: {e.strerror or e}", CacheWarning, stacklevel=3)
        return None
    except (pa.ArrowException, UnicodeError):
        return None
    if mode is True:
        prune(cache_dir(), _max_bytes())
    return file


def _schema(df: pd.DataFrame) -> list[list]:
    """Each column's name, dtype and (categoricals) the dtype and number of its categories."""
    return [[str(c), str(t), *((str(t.categories.dtype), len(t.categories))
                               if isinstance(t, pd.CategoricalDtype) else (None, None))]
            for c, t in df.dtypes.items()]


def _restore_categories(df: pd.DataFrame, schema: list) -> pd.DataFrame:
    """Arrow gives back categoricals without categories as plain columns, and those without rows with
    object categories: rebuild them as they were written."""
    for name, dtype, cats, _ in schema:
        if dtype != "category":
            continue
        col = df[name]
        if not isinstance(col.dtype, pd.CategoricalDtype):
            df[name] = pd.Categorical.from_codes(np.full(len(df), -1), categories=pd.Index([], dtype=cats))
        elif str(col.cat.categories.dtype) != cats:
            df[name] = pd.Categorical.from_codes(col.cat.codes, categories=col.cat.categories.astype(cats))
    return df


def _write_atomic(pq, table, file: Path) -> None:
    """Write to a temporary file beside ``file``, then rename it over ``file``: readers see the old
    entry or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")     # half snappy's size, as fast to read
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _touch(file: Path) -> None:
    """Mark an entry as used (the directory bound removes the least recently used first)."""
    try:
        os.utime(file)
    except OSError:
        pass


def _max_bytes() -> int:
    try:
        return int(float(os.environ.get("SCAPINSPECT_CACHE_MAX_MB", MAX_MB)) * 1e6)
    except ValueError:
        return MAX_MB * 1_000_000


def entries(directory: Path | None = None) -> list[Path]:
    """The entry files of the cache directory (no ``cache="here"`` entries), least recently used first."""
    return [f for f, _ in _listing(directory or cache_dir())]


def usage(directory: Path | None = None) -> tuple[int, int]:
    """(entries, bytes) in the cache directory."""
    listing = _listing(directory or cache_dir())
    return len(listing), sum(st.st_size for _, st in listing)


def _listing(directory: Path) -> list[tuple[Path, os.stat_result]]:
    """The entry files with their stat, least recently used first; files that vanish are skipped."""
    out = []
    try:
        files = [f for f in directory.iterdir() if f.suffix == SUFFIX]
    except OSError:
        return []
    for f in files:
        try:
            out.append((f, f.stat()))
        except OSError:
            continue
    return sorted(out, key=lambda x: x[1].st_mtime)


def prune(directory: Path, max_bytes: int) -> list[Path]:
    """Remove the least recently used entries until the directory holds at most ``max_bytes``
    (the newest entry always stays); returns the removed files."""
    listing = _listing(directory)
    total, removed = sum(st.st_size for _, st in listing), []
    for f, st in listing[:-1]:
        if total <= max_bytes:
            break
        if _unlink(f):
            total -= st.st_size
            removed.append(f)
    return removed


def clear(directory: Path | None = None) -> tuple[int, int]:
    """Remove every entry of the cache directory: (entries, bytes) removed."""
    gone = [st.st_size for f, st in _listing(directory or cache_dir()) if _unlink(f)]
    return len(gone), sum(gone)


def _unlink(f: Path) -> bool:
    try:
        f.unlink()
    except OSError:
        return False
    return True
