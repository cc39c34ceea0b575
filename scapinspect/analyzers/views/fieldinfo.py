"""Value types and print formats of the fields views show, and what a table does with them.

Types and formats are those of libsinsp 0.29.3's field tables (``filterchecks.cpp``); they decide the
default value of a missing field, the JSON form of a value, the legend and the sort direction.
"""
from __future__ import annotations

from dataclasses import dataclass

# ppm_param_type names as csysdig's legend prints them
INT16, INT64, UINT32, UINT64 = "INT16", "INT64", "UINT32", "UINT64"
DOUBLE, CHARBUF, RELTIME, ABSTIME = "DOUBLE", "CHARBUF", "RELTIME", "ABSTIME"
PORT, IPADDR, BOOL = "PORT", "IPADDR", "BOOL"
# ppm_print_format names
DEC, ID, NA = "DEC", "ID", "NA"

INTEGER_TYPES = frozenset({INT16, INT64, UINT32, UINT64, PORT})
# set_sorting_col: these sort descending, everything else ascending
DESCENDING_TYPES = frozenset({INT16, INT64, UINT32, UINT64, RELTIME, ABSTIME, DOUBLE, BOOL})
# width in bits of the unsigned integer types (sums wrap as the C++ table's do)
UNSIGNED_BITS = {UINT32: 32, UINT64: 64, RELTIME: 64, ABSTIME: 64, PORT: 16, BOOL: 32}


@dataclass(frozen=True, slots=True)
class FieldType:
    type: str
    fmt: str

    def default(self):
        """What a table with use_defaults stores for a missing value; None drops the row
        (``sinsp_table::get_default_val``: only PF_DEC numbers, doubles and strings have one)."""
        if self.type == DOUBLE:
            return 0.0
        if self.type == CHARBUF:
            return ""
        if self.type in (INT16, INT64, UINT32, UINT64, BOOL, RELTIME, ABSTIME) and self.fmt == DEC:
            return 0
        return None

    @property
    def descending(self) -> bool:
        return self.type in DESCENDING_TYPES


_T = FieldType
FIELD_TYPES: dict[str, FieldType] = {
    "thread.tid": _T(INT64, ID), "proc.pid": _T(INT64, ID), "proc.ppid": _T(INT64, ID),
    "proc.vpid": _T(INT64, ID), "thread.vtid": _T(INT64, ID), "evt.cpu": _T(INT16, ID),
    "thread.cpu": _T(DOUBLE, NA), "thread.cpu.user": _T(DOUBLE, NA), "thread.cpu.system": _T(DOUBLE, NA),
    "user.name": _T(CHARBUF, NA), "proc.name": _T(CHARBUF, NA), "proc.exeline": _T(CHARBUF, NA),
    "proc.nthreads": _T(UINT32, DEC), "thread.vmsize.b": _T(UINT64, DEC), "thread.vmrss.b": _T(UINT64, DEC),
    "thread.pfmajor": _T(UINT64, DEC), "thread.pfminor": _T(UINT64, DEC),
    "evt.buflen.in": _T(UINT64, DEC), "evt.buflen.out": _T(UINT64, DEC),
    "evt.buflen.file": _T(UINT64, DEC), "evt.buflen.file.in": _T(UINT64, DEC),
    "evt.buflen.file.out": _T(UINT64, DEC), "evt.buflen.net": _T(UINT64, DEC),
    "evt.buflen.net.in": _T(UINT64, DEC), "evt.buflen.net.out": _T(UINT64, DEC),
    "evt.count": _T(UINT32, DEC), "evt.count.exit": _T(UINT32, DEC), "evt.count.error": _T(UINT32, DEC),
    "evt.count.error.file": _T(UINT32, DEC), "evt.count.error.net": _T(UINT32, DEC),
    "evt.count.error.memory": _T(UINT32, DEC), "evt.count.error.other": _T(UINT32, DEC),
    "evt.count.procinfo": _T(UINT32, DEC), "evt.count.threadinfo": _T(UINT32, DEC),
    "evt.type": _T(CHARBUF, NA), "evt.res": _T(CHARBUF, DEC), "evt.time": _T(CHARBUF, NA),
    "evt.rawtime": _T(ABSTIME, DEC), "evt.latency": _T(RELTIME, DEC),
    "fd.name": _T(CHARBUF, NA), "fd.containername": _T(CHARBUF, NA), "fd.directory": _T(CHARBUF, NA),
    "fd.containerdirectory": _T(CHARBUF, NA), "fd.type": _T(CHARBUF, DEC), "fd.l4proto": _T(CHARBUF, NA),
    "fd.lip": _T(IPADDR, NA), "fd.rip": _T(IPADDR, NA), "fd.lport": _T(PORT, DEC), "fd.rport": _T(PORT, DEC),
    "fd.sport": _T(PORT, DEC),
    "container.id": _T(CHARBUF, NA), "container.name": _T(CHARBUF, NA), "container.type": _T(CHARBUF, NA),
    "container.image": _T(CHARBUF, NA), "thread.nametid": _T(CHARBUF, NA),
}
# evt.type.is.N: 1 when the event has type id N (PF_NA: never defaulted, never missing)
TYPE_IS = _T(UINT32, NA)
# the key of list views (util.cnt)
COUNTER = _T(UINT64, ID)


def field_type(name: str) -> FieldType:
    if name.startswith("evt.type.is."):
        return TYPE_IS
    try:
        return FIELD_TYPES[name]
    except KeyError:
        raise KeyError(f"no type known for field {name!r}") from None
