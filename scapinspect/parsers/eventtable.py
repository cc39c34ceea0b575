"""The event table: names, categories, flags and parameter layouts of every event id.

Two tables ship as data in ``tables/``, both extracted from falcosecurity/libs:

* ``libs_head.json``: libs 48dfd53cd (``PPM_EVENT_MAX`` 454), used to decode every capture and to
  render current (exit-only) captures as sysdig 0.41.4 does;
* ``libs_0293.json``: libs e5c53d648f3c, the libs of Debian's sysdig 0.29.3 (``PPM_EVENT_MAX`` 336),
  used to render enter/exit captures as that sysdig does.

Each table also carries the flag/enum name tables (``flags_table.c``), the dynamic parameter tables
and the syscall names of generic events (0.29.3's ``g_syscall_info_table``; HEAD's ``PPM_SC_X`` list).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

# enum ppm_param_type
PT_NONE, PT_INT8, PT_INT16, PT_INT32, PT_INT64 = 0, 1, 2, 3, 4
PT_UINT8, PT_UINT16, PT_UINT32, PT_UINT64 = 5, 6, 7, 8
PT_CHARBUF, PT_BYTEBUF, PT_ERRNO, PT_SOCKADDR, PT_SOCKTUPLE = 9, 10, 11, 12, 13
PT_FD, PT_PID, PT_FDLIST, PT_FSPATH, PT_SYSCALLID, PT_SIGTYPE = 14, 15, 16, 17, 18, 19
PT_RELTIME, PT_ABSTIME, PT_PORT, PT_L4PROTO, PT_SOCKFAMILY, PT_BOOL = 20, 21, 22, 23, 24, 25
PT_IPV4ADDR, PT_DYN, PT_FLAGS8, PT_FLAGS16, PT_FLAGS32, PT_UID, PT_GID = 26, 27, 28, 29, 30, 31, 32
PT_DOUBLE, PT_SIGSET, PT_CHARBUFARRAY, PT_CHARBUF_PAIR_ARRAY = 33, 34, 35, 36
PT_IPV4NET, PT_IPV6ADDR, PT_IPV6NET, PT_IPADDR, PT_IPNET, PT_MODE, PT_FSRELPATH = 37, 38, 39, 40, 41, 42, 43
PT_ENUMFLAGS8, PT_ENUMFLAGS16, PT_ENUMFLAGS32, PT_FD32, PT_PID32 = 44, 45, 46, 47, 48

# enum ppm_print_format
PF_NA, PF_DEC, PF_HEX, PF_10_PADDED_DEC, PF_ID, PF_DIR, PF_OCT = 0, 1, 2, 3, 4, 5, 6

# enum ppm_event_flags
EF_CREATES_FD, EF_DESTROYS_FD, EF_USES_FD, EF_READS_FROM_FD, EF_WRITES_TO_FD = 1, 2, 4, 8, 16
EF_MODIFIES_STATE, EF_UNUSED, EF_WAITS, EF_SKIPPARSERESET, EF_OLD_VERSION = 32, 64, 128, 256, 512
EF_LARGE_PAYLOAD, EF_CONVERTER_MANAGED = 2048, 4096

# enum ppm_event_category
EC_UNKNOWN, EC_OTHER, EC_FILE, EC_NET, EC_IPC, EC_MEMORY, EC_PROCESS = 0, 1, 2, 3, 4, 5, 6
EC_SLEEP, EC_SYSTEM, EC_SIGNAL, EC_USER, EC_TIME, EC_PROCESSING = 7, 8, 9, 10, 11, 12
EC_IO_READ, EC_IO_WRITE, EC_IO_OTHER, EC_WAIT, EC_SCHEDULER = 32, 33, 34, 64, 128
EC_INTERNAL, EC_SYSCALL, EC_TRACEPOINT, EC_PLUGIN, EC_METAEVENT = 0x100, 0x200, 0x400, 0x800, 0x1000

# byte width of the fixed-size parameter types (others are variable)
FIXED_WIDTH = {
    PT_INT8: 1, PT_INT16: 2, PT_INT32: 4, PT_INT64: 8, PT_UINT8: 1, PT_UINT16: 2, PT_UINT32: 4,
    PT_UINT64: 8, PT_ERRNO: 8, PT_FD: 8, PT_PID: 8, PT_SYSCALLID: 2, PT_SIGTYPE: 1, PT_RELTIME: 8,
    PT_ABSTIME: 8, PT_PORT: 2, PT_L4PROTO: 1, PT_SOCKFAMILY: 1, PT_BOOL: 4, PT_IPV4ADDR: 4,
    PT_FLAGS8: 1, PT_FLAGS16: 2, PT_FLAGS32: 4, PT_UID: 4, PT_GID: 4, PT_DOUBLE: 8, PT_SIGSET: 4,
    PT_IPV6ADDR: 16, PT_MODE: 4, PT_ENUMFLAGS8: 1, PT_ENUMFLAGS16: 2, PT_ENUMFLAGS32: 4, PT_FD32: 4,
    PT_PID32: 4,
}
SIGNED_TYPES = frozenset({PT_INT8, PT_INT16, PT_INT32, PT_INT64, PT_ERRNO, PT_FD, PT_PID, PT_FD32, PT_PID32})

CATEGORY_NAMES = {
    EC_UNKNOWN: "unknown", EC_OTHER: "other", EC_FILE: "file", EC_NET: "net", EC_IPC: "IPC",
    EC_MEMORY: "memory", EC_PROCESS: "process", EC_SLEEP: "sleep", EC_SYSTEM: "system",
    EC_SIGNAL: "signal", EC_USER: "user", EC_TIME: "time", EC_PROCESSING: "processing",
    EC_IO_READ: "I/O", EC_IO_WRITE: "I/O", EC_IO_OTHER: "I/O", EC_WAIT: "wait",
    EC_SCHEDULER: "scheduler", EC_INTERNAL: "internal",
}


@dataclass(frozen=True, slots=True)
class ParamInfo:
    name: str
    type: int
    fmt: int
    flags: str | None = None      # name of the flag/enum table for FLAGS*/ENUMFLAGS*/MODE params
    dyn: str | None = None        # name of the dynamic sub-type table for PT_DYN params
    dirfd: int | None = None      # index of the dirfd parameter for PT_FSRELPATH


@dataclass(frozen=True, slots=True)
class EventInfo:
    id: int
    name: str
    category: int
    flags: int
    params: tuple[ParamInfo, ...]

    @property
    def is_enter(self) -> bool:
        return self.id % 2 == 0

    @property
    def direction(self) -> str:
        return ">" if self.id % 2 == 0 else "<"

    def param_index(self, name: str) -> int:
        for i, p in enumerate(self.params):
            if p.name == name:
                return i
        return -1


@dataclass(frozen=True)
class EventTable:
    source: str
    events: tuple[EventInfo, ...]
    flags: dict[str, tuple[tuple[str, int], ...]]
    dyn: dict[str, tuple[ParamInfo, ...]]
    syscall_names: dict[int, str]

    @property
    def max_event(self) -> int:
        return len(self.events)

    def syscall_name(self, code: int) -> str | None:
        return self.syscall_names.get(code)


def _param(raw: list) -> ParamInfo:
    name, ptype, fmt, info = raw
    info = info or {}
    return ParamInfo(name, ptype, fmt, info.get("flags"), info.get("dyn"), info.get("dirfd"))


@cache
def load_table(which: str) -> EventTable:
    """``which`` is ``"head"`` or ``"0.29"``."""
    fname = {"head": "libs_head.json", "0.29": "libs_0293.json"}[which]
    data = json.loads(resources.files(__package__).joinpath("tables", fname).read_text())
    events = tuple(
        EventInfo(i, name, cat, flags, tuple(_param(p) for p in params))
        for i, (name, cat, flags, params) in enumerate(data["events"])
    )
    flag_tables = {k: tuple((n, v) for n, v in vals) for k, vals in data["flags"].items()}
    dyn = {k: tuple(_param(p) for p in vals) for k, vals in data["dyn"].items()}
    if "syscalls" in data:
        names = dict(enumerate(data["syscalls"]))
    else:
        names = {int(k): v for k, v in data["ppm_sc"].items()}
    return EventTable(data["source"], events, flag_tables, dyn, names)


def head() -> EventTable:
    return load_table("head")


def v0293() -> EventTable:
    return load_table("0.29")
