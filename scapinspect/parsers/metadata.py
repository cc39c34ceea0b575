"""Metadata blocks: machine info (MI), process list (PL v1-v9), fd lists (FDL v1/v2), interfaces (IL),
users and groups (UL v1/v2). Layouts follow libscap's savefile reader (scap-format.md §2)."""
from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .errors import CorruptBlock

# block type ids
SHB = 0x0A0D0D0A
MI = (0x201, 0x8002ABCD)
PL_VERSIONS = {
    0x202: 1, 0x8000ABCD: 1, 0x207: 2, 0x8013ABCD: 2, 0x209: 3, 0x8014ABCD: 3,
    0x210: 4, 0x211: 5, 0x212: 6, 0x213: 7, 0x214: 8, 0x215: 9,
}
FDL_VERSIONS = {0x203: 1, 0x8001ABCD: 1, 0x218: 2}
IL_VERSIONS = {0x205: 1, 0x8011ABCD: 1, 0x219: 2}
UL_VERSIONS = {0x206: 1, 0x8012ABCD: 1, 0x220: 2}
# event blocks: (header version, has flags word)
EVENT_BLOCKS = {
    0x204: (1, False), 0x8010ABCD: (1, False), 0x208: (1, True),
    0x216: (2, False), 0x217: (2, True), 0x221: (2, False), 0x222: (2, True),
}

# scap fd types
FD_UNKNOWN, FD_FILE, FD_DIRECTORY, FD_IPV4_SOCK, FD_IPV6_SOCK = 0, 1, 2, 3, 4
FD_IPV4_SERVSOCK, FD_IPV6_SERVSOCK, FD_FIFO, FD_UNIX_SOCK, FD_EVENT = 5, 6, 7, 8, 9
FD_UNSUPPORTED, FD_SIGNALFD, FD_EVENTPOLL, FD_INOTIFY, FD_TIMERFD = 10, 11, 12, 13, 14
FD_NETLINK, FD_FILE_V2, FD_BPF, FD_USERFAULTFD, FD_IOURING, FD_MEMFD, FD_PIDFD = 15, 16, 17, 18, 19, 20, 21

# scap l4 protocols
L4_UNKNOWN, L4_NA, L4_TCP, L4_UDP, L4_ICMP, L4_RAW = 0, 1, 2, 3, 4, 5

MAX_PATH, MAX_ARGS = 1024, 4096


@dataclass(slots=True)
class MachineInfo:
    num_cpus: int
    memory_bytes: int
    max_pid: int
    hostname: str
    boot_ts: int = 0
    flags: int = 0


@dataclass(slots=True)
class ThreadEntry:
    """One entry of the process list: a thread as /proc showed it when the capture started."""
    tid: int
    pid: int
    ptid: int
    comm: str = ""
    exe: str = ""
    exepath: str = ""
    args: list[str] = field(default_factory=list)
    cwd: str = ""
    fdlimit: int = 0
    flags: int = 0
    uid: int = 0xFFFFFFFF
    gid: int = 0xFFFFFFFF
    vmsize_kb: int = 0
    vmrss_kb: int = 0
    vmswap_kb: int = 0
    pfmajor: int = 0
    pfminor: int = 0
    env: list[str] = field(default_factory=list)
    vtid: int = -1
    vpid: int = -1
    cgroups: list[str] = field(default_factory=list)
    root: str = ""
    sid: int = -1
    vpgid: int = -1
    pgid: int = -1
    tty: int = 0
    loginuid: int = 0xFFFFFFFF
    pidns_init_start_ts: int = 0


@dataclass(slots=True)
class FdEntry:
    fd: int
    ino: int
    type: int
    # ip sockets: addresses as raw bytes (4 or 16), ports as ints
    sip: bytes = b""
    dip: bytes = b""
    sport: int = 0
    dport: int = 0
    l4proto: int = 0
    # unix sockets: kernel pointers
    source: int = 0
    dest: int = 0
    name: str = ""
    open_flags: int = 0
    dev: int = 0


@dataclass(slots=True)
class UserEntry:
    uid: int
    gid: int
    name: str
    homedir: str = ""
    shell: str = ""


@dataclass(slots=True)
class GroupEntry:
    gid: int
    name: str


@dataclass(slots=True)
class Interface:
    family: int  # 4 or 6
    name: str
    addr: bytes
    netmask: bytes = b""


def decode_str(raw: bytes | memoryview) -> str:
    """Capture strings are not guaranteed to be UTF-8: keep undecodable bytes round-trippable."""
    return bytes(raw).decode("utf-8", "surrogateescape")


def split_nul_list(raw: bytes) -> list[str]:
    """A NUL-separated list (args, env, cgroups); the last element may lack its NUL."""
    if not raw:
        return []
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    return [decode_str(x) for x in raw.split(b"\0")]


@contextmanager
def _keep_partial(partial: object) -> Iterator[None]:
    """A CorruptBlock raised inside carries what was decoded before the damage."""
    try:
        yield
    except CorruptBlock as e:
        e.partial = partial
        raise


class _Cursor:
    """Bounds-checked reads over one block body."""

    __slots__ = ("buf", "pos", "end", "base", "block_end")

    def __init__(self, buf, pos: int, end: int, base: int):
        # ``end`` narrows to one entry while it is read (entries with a length); ``block_end`` stays
        self.buf, self.pos, self.end, self.base, self.block_end = buf, pos, end, base, end

    def remaining(self) -> int:
        return self.end - self.pos

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.end:
            scope = "block" if self.end == self.block_end else "entry"
            raise CorruptBlock(f"{what} runs past the end of its {scope}", offset=self.base + self.pos)

    def unpack(self, st: struct.Struct, what: str) -> tuple:
        self.need(st.size, what)
        v = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return v

    def raw(self, n: int, what: str) -> bytes:
        self.need(n, what)
        v = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return v

    def lstr(self, what: str, limit: int = MAX_PATH) -> bytes:
        (n,) = self.unpack(U16, what)
        if n > limit + 1:
            raise CorruptBlock(f"{what} length {n} exceeds {limit}", offset=self.base + self.pos - 2)
        return self.raw(n, what)


U8, U16, U32, U64, I64 = (struct.Struct(c) for c in ("<B", "<H", "<I", "<Q", "<q"))
_TID3 = struct.Struct("<qqq")
_PL_FIXED = struct.Struct("<QIII")           # fdlimit, flags, uid, gid
_PL_VM = struct.Struct("<IIIQQ")             # vmsize, vmrss, vmswap, pfmajor, pfminor
_MI = struct.Struct("<IQQ128sQQ")


def parse_machine_info(buf, pos: int, end: int) -> MachineInfo:
    if end - pos < 148:
        raise CorruptBlock("machine info block too short", offset=pos)
    ncpu, mem, maxpid, host, boot, flags = _MI.unpack_from(buf, pos) if end - pos >= _MI.size else (
        *struct.unpack_from("<IQQ128s", buf, pos), 0, 0)
    return MachineInfo(ncpu, mem, maxpid, decode_str(host.split(b"\0", 1)[0]), boot, flags)


def parse_proclist(buf, pos: int, end: int, version: int) -> list[ThreadEntry]:
    out: list[ThreadEntry] = []
    c = _Cursor(buf, pos, end, 0)
    with _keep_partial(out):
        while c.remaining() >= 4:
            out.append(_thread_entry(c, end, version))
    return out


def _thread_entry(c: _Cursor, end: int, version: int) -> ThreadEntry:
    """One process list entry; the cursor ends at the next entry."""
    start = c.pos
    entry_len = 0
    if version == 9:
        (entry_len,) = c.unpack(U32, "process entry length")
        if entry_len < 4 or start + entry_len > end:
            raise CorruptBlock(f"process entry length {entry_len} is impossible", offset=start)
        c.end = start + entry_len          # no field may run into the next entry
    tid, pid, ptid = c.unpack(_TID3, "process ids")
    t = ThreadEntry(tid, pid, ptid)
    if version >= 6:
        (t.sid,) = c.unpack(I64, "sid")
    if version >= 8:
        (t.vpgid,) = c.unpack(I64, "vpgid")
    t.comm = decode_str(c.lstr("comm"))
    t.exe = decode_str(c.lstr("exe"))
    if version >= 7:
        t.exepath = decode_str(c.lstr("exepath"))
    t.args = split_nul_list(c.lstr("args", MAX_ARGS))
    t.cwd = decode_str(c.lstr("cwd"))
    t.fdlimit, t.flags, t.uid, t.gid = c.unpack(_PL_FIXED, "process limits")
    if version >= 2:
        t.vmsize_kb, t.vmrss_kb, t.vmswap_kb, t.pfmajor, t.pfminor = c.unpack(_PL_VM, "process memory")
        if version >= 3:
            t.env = split_nul_list(c.lstr("env", MAX_ARGS))
        if version >= 4:
            (t.vtid,) = c.unpack(I64, "vtid")
            (t.vpid,) = c.unpack(I64, "vpid")
            t.cgroups = split_nul_list(c.lstr("cgroups", MAX_ARGS))
        if version >= 5:
            t.root = decode_str(c.lstr("root"))
    if version == 9:
        _read_pl_v9_tail(c, t, start, entry_len)
        c.pos, c.end = start + entry_len, end
    return t


def _read_pl_v9_tail(c: _Cursor, t: ThreadEntry, start: int, entry_len: int) -> None:
    """The v9 fields, each present only while the entry has room (libs < 0.10 omitted two of them)."""
    end = start + entry_len

    def room(n: int) -> bool:
        return c.pos + n <= end

    pre_0_10 = end - c.pos <= 29
    if not pre_0_10:
        if room(8):
            (t.pidns_init_start_ts,) = c.unpack(U64, "pidns_init_start_ts")
        if room(4):
            (t.tty,) = c.unpack(U32, "tty")
    if room(4):
        (t.loginuid,) = c.unpack(U32, "loginuid")
    # exe_writable, capabilities, exe layers and inodes: not needed for state; skip to pgid if present
    rest = (1, 8, 8, 8, 1, 8, 8, 8, 1, 1)
    for n in rest:
        if not room(n):
            return
        c.pos += n
    if room(8):
        (t.pgid,) = c.unpack(I64, "pgid")


_FD_HEAD = struct.Struct("<qQB")
_IPV4 = struct.Struct("<4s4sHHB")
_IPV4S = struct.Struct("<4sHB")
_IPV6 = struct.Struct("<16s16sHHB")
_IPV6S = struct.Struct("<16sHB")
_UNIX = struct.Struct("<QQ")
_NAMED_FD_TYPES = frozenset({
    FD_FILE, FD_DIRECTORY, FD_FIFO, FD_EVENT, FD_UNSUPPORTED, FD_SIGNALFD, FD_EVENTPOLL, FD_INOTIFY,
    FD_TIMERFD, FD_NETLINK, FD_BPF, FD_USERFAULTFD, FD_IOURING, FD_MEMFD, FD_PIDFD, FD_UNKNOWN,
})


def parse_fdlist(buf, pos: int, end: int, version: int) -> tuple[int, list[FdEntry]]:
    c = _Cursor(buf, pos, end, 0)
    (tid,) = c.unpack(I64, "fd list tid")
    out: list[FdEntry] = []
    with _keep_partial((tid, out)):
        while c.remaining() >= (4 if version == 2 else _FD_HEAD.size):
            out.append(_fd_entry(c, end, version))
    return tid, out


def _fd_entry(c: _Cursor, end: int, version: int) -> FdEntry:
    """One fd list entry; the cursor ends at the next entry."""
    start = c.pos
    if version == 2:
        (entry_len,) = c.unpack(U32, "fd entry length")
        if entry_len < 4 or start + entry_len > end:
            raise CorruptBlock(f"fd entry length {entry_len} is impossible", offset=start)
        c.end = start + entry_len
    fd, ino, ftype = c.unpack(_FD_HEAD, "fd entry")
    e = FdEntry(fd, ino, ftype)
    if ftype == FD_IPV4_SOCK:
        e.sip, e.dip, e.sport, e.dport, e.l4proto = c.unpack(_IPV4, "ipv4 fd")
    elif ftype == FD_IPV4_SERVSOCK:
        e.sip, e.sport, e.l4proto = c.unpack(_IPV4S, "ipv4 server fd")
    elif ftype == FD_IPV6_SOCK:
        e.sip, e.dip, e.sport, e.dport, e.l4proto = c.unpack(_IPV6, "ipv6 fd")
    elif ftype == FD_IPV6_SERVSOCK:
        e.sip, e.sport, e.l4proto = c.unpack(_IPV6S, "ipv6 server fd")
    elif ftype == FD_UNIX_SOCK:
        e.source, e.dest = c.unpack(_UNIX, "unix fd")
        e.name = decode_str(c.lstr("unix fd path"))
    elif ftype == FD_FILE_V2:
        (e.open_flags,) = c.unpack(U32, "file fd flags")
        e.name = decode_str(c.lstr("file fd path"))
        if version == 2 and c.remaining() >= 4:
            (e.dev,) = c.unpack(U32, "file fd dev")
    elif ftype in _NAMED_FD_TYPES:
        e.name = decode_str(c.lstr("fd name"))
    else:
        if version != 2:
            raise CorruptBlock(f"unknown fd type {ftype} in a v1 fd list", offset=start)
        e.type, e.name = FD_UNSUPPORTED, f"unknown-type:[{ftype}]"
    if version == 2:
        c.pos = c.end
    c.end = end
    return e


def parse_userlist(buf, pos: int, end: int, version: int) -> tuple[list[UserEntry], list[GroupEntry]]:
    c = _Cursor(buf, pos, end, 0)
    users: list[UserEntry] = []
    groups: list[GroupEntry] = []
    with _keep_partial((users, groups)):
        while c.remaining() >= (4 if version == 2 else 5):
            entry = _user_entry(c, end, version)
            if isinstance(entry, UserEntry):
                users.append(entry)
            elif isinstance(entry, GroupEntry):
                groups.append(entry)
    return users, groups


_UIDS = struct.Struct("<II")


def _user_entry(c: _Cursor, end: int, version: int) -> UserEntry | GroupEntry | None:
    """One user list entry (None: an unknown kind in a v2 list, skipped by its length)."""
    start = c.pos
    if version == 2:
        (entry_len,) = c.unpack(U32, "user entry length")
        if entry_len < 5 or start + entry_len > end:
            raise CorruptBlock(f"user entry length {entry_len} is impossible", offset=start)
        c.end = start + entry_len
    (kind,) = c.unpack(U8, "user entry type")
    entry: UserEntry | GroupEntry | None = None
    if kind == 0:
        uid, gid = c.unpack(_UIDS, "user ids")
        name = decode_str(c.lstr("user name", 256))
        home = decode_str(c.lstr("home dir", 256))
        shell = decode_str(c.lstr("shell", 256))
        entry = UserEntry(uid, gid, name, home, shell)
    elif kind == 1:
        (gid,) = c.unpack(U32, "group id")
        entry = GroupEntry(gid, decode_str(c.lstr("group name", 256)))
    elif version != 2:
        raise CorruptBlock(f"unknown user list entry type {kind}", offset=start)
    if version == 2:
        c.pos = c.end
    c.end = end
    return entry


_IF_HEAD = struct.Struct("<HH")
_IF_V4 = struct.Struct("<4s4s4s")
_IF_V6 = struct.Struct("<16s16s16s")


def parse_iflist(buf, pos: int, end: int, version: int) -> list[Interface]:
    c = _Cursor(buf, pos, end, 0)
    out: list[Interface] = []
    with _keep_partial(out):
        while c.remaining() >= 4:
            i = _interface(c, end, version)
            if i is not None:
                out.append(i)
    return out


def _interface(c: _Cursor, end: int, version: int) -> Interface | None:
    """One interface entry (None: nothing usable, skipped); the cursor ends at the next entry."""
    start = c.pos
    if version == 2:
        (entry_len,) = c.unpack(U32, "interface entry length")
        if start + 4 + entry_len > end:
            raise CorruptBlock(f"interface entry length {entry_len} is impossible", offset=start)
        c.end = start + 4 + entry_len
        if c.remaining() < 4:
            c.pos, c.end = c.end, end
            return None
    iftype, namelen = c.unpack(_IF_HEAD, "interface header")
    if iftype in (1, 3):
        addr, mask, _b = c.unpack(_IF_V4, "ipv4 interface")
        fam = 4
    elif iftype in (2, 4):
        addr, mask, _b = c.unpack(_IF_V6, "ipv6 interface")
        fam = 6
    elif version == 2:
        c.pos, c.end = c.end, end
        return None
    else:
        raise CorruptBlock(f"unknown interface type {iftype}", offset=start)
    if iftype in (1, 2):
        c.raw(8, "linkspeed")
    name = decode_str(c.raw(min(namelen, c.remaining()), "interface name").split(b"\0", 1)[0])
    if version == 2:
        c.pos = c.end
    c.end = end
    return Interface(fam, name, addr, mask)


# -- dispatch by block type ----------------------------------------------------------------------------
_PARSERS = {
    **{t: ("machine", lambda buf, pos, end, v: parse_machine_info(buf, pos, end), 0) for t in MI},
    **{t: ("threads", parse_proclist, v) for t, v in PL_VERSIONS.items()},
    **{t: ("fds", parse_fdlist, v) for t, v in FDL_VERSIONS.items()},
    **{t: ("users", parse_userlist, v) for t, v in UL_VERSIONS.items()},
    **{t: ("interfaces", parse_iflist, v) for t, v in IL_VERSIONS.items()},
}


def parse_block(btype: int, buf, pos: int, end: int) -> tuple[str, object] | None:
    """``(kind, parsed)`` for the metadata block body ``buf[pos:end]``; None for an unknown block type.

    A CorruptBlock raised here carries ``partial = (kind, entries decoded before the damage)``.
    """
    entry = _PARSERS.get(btype)
    if entry is None:
        return None
    kind, parse, version = entry
    try:
        return kind, parse(buf, pos, end, version)
    except CorruptBlock as e:
        e.partial = (kind, e.partial) if e.partial else None
        raise


def merge_into(section, kind: str, parsed) -> None:
    """Add what one metadata block said to a ``Section`` (anything with its attributes)."""
    if kind == "machine":
        section.machine = parsed
    elif kind == "threads":
        section.threads.extend(parsed)
    elif kind == "fds":
        tid, fds = parsed
        section.fds.setdefault(tid, []).extend(fds)
    elif kind == "users":
        section.users.extend(parsed[0])
        section.groups.extend(parsed[1])
    elif kind == "interfaces":
        section.interfaces.extend(parsed)
