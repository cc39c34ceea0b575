"""The field catalog of the filter language: names, value types, arguments, descriptions.

Types follow the field tables of libsinsp e5c53d648f3c (sysdig 0.29.3), ``filterchecks.cpp``; the
``ptype`` column keeps the libs type name for reference. Descriptions are ours.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# Value types of fields. Their column dtypes are listed in COLUMN_DTYPES below.
STRING = "string"        # PT_CHARBUF: text compared byte-wise (strcmp)
INT16, INT32, INT64 = "int16", "int32", "int64"
UINT32, UINT64 = "uint32", "uint64"
RELTIME = "reltime"      # unsigned nanoseconds, a duration
ABSTIME = "abstime"      # unsigned nanoseconds since the epoch
PORT = "port"            # 16-bit port; filter values may be service names (http)
BOOL = "bool"
IPADDR = "ipaddr"        # IPv4 or IPv6 address
IPNET = "ipnet"          # compared with a network: 10.0.0.0/8
BYTEBUF = "bytebuf"      # raw bytes (I/O payload)
DOUBLE = "double"
DYN = "dyn"              # type of the event parameter: numeric or text depending on the column

NUMERIC_TYPES = frozenset({INT16, INT32, INT64, UINT32, UINT64, RELTIME, ABSTIME, PORT, DOUBLE})
UNSIGNED_BITS = {UINT32: 32, UINT64: 64, RELTIME: 64, ABSTIME: 64, PORT: 16}
SIGNED_BITS = {INT16: 16, INT32: 32, INT64: 64}

# What the frame builder should put in the column of a field of each type.
COLUMN_DTYPES = {
    STRING: "category (preferred), str/string or object of str; NA where sysdig extracts nothing",
    INT16: "numpy int16/int64, or pandas Int16/Int64 when some events lack the value",
    INT32: "numpy int32/int64, or pandas Int32/Int64 when some events lack the value",
    INT64: "numpy int64, or pandas Int64 when some events lack the value",
    UINT32: "numpy uint32/int64 (non-negative), or pandas UInt32/Int64 with NA",
    UINT64: "numpy uint64/int64 (non-negative), or pandas UInt64/Int64 with NA",
    RELTIME: "nanoseconds: numpy uint64/int64, or pandas UInt64/Int64 with NA",
    ABSTIME: "nanoseconds since the epoch: numpy uint64/int64, or pandas UInt64/Int64 with NA",
    PORT: "numpy uint16/int64, or pandas UInt16/Int64 with NA",
    BOOL: "numpy bool, or pandas boolean with NA",
    IPADDR: "text as sysdig prints it (192.168.0.2, 2600:1f18::1), category preferred; NA if none",
    IPNET: "(filter only) uses the ipaddr columns named in `columns`",
    BYTEBUF: "object column of bytes (the captured payload), NA when the event has no buffer",
    DOUBLE: "numpy float64 or pandas Float64",
    DYN: "numeric dtype for numeric parameters, else text as for string",
}

# Argument kinds
ARG_NONE = None
ARG_INDEX = "index"          # optional [N]: proc.aname[2]; without it, matches any ancestor
ARG_NAME_OR_INDEX = "name"   # required .NAME or [N]: evt.arg.fd, evt.arg[0]
ARG_DOTTED = "dotted"        # required .NAME only: evt.rawarg.res, thread.cgroup.cpuacct


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One catalog entry.

    ``columns``, when set, names the frame columns a filter-only field is evaluated on (any of
    them may match); ``net`` marks the ipnet fields that read an address column.
    """

    name: str
    type: str
    ptype: str
    desc: str
    arg: str | None = ARG_NONE
    filter_only: bool = False
    columns: tuple[str, ...] = ()

    @property
    def takes_arg(self) -> bool:
        return self.arg is not None


def _f(name, ftype, ptype, desc, arg=ARG_NONE, filter_only=False, columns=()):
    return FieldInfo(name, ftype, ptype, desc, arg, filter_only, tuple(columns))


_CATALOG = [
    # --- evt: every event
    _f("evt.num", UINT64, "PT_UINT64", "sequence number sinsp gives each event it reads, from 1; hidden events count too"),
    _f("evt.time", STRING, "PT_CHARBUF", "timestamp as local wall-clock text HH:MM:SS.nnnnnnnnn"),
    _f("evt.time.s", STRING, "PT_CHARBUF", "timestamp as local wall-clock text HH:MM:SS, no fraction"),
    _f("evt.datetime", STRING, "PT_CHARBUF", "timestamp as local date and time YYYY-MM-DD HH:MM:SS.nnnnnnnnn"),
    _f("evt.datetime.s", STRING, "PT_CHARBUF", "timestamp as local date and time YYYY-MM-DD HH:MM:SS, no fraction"),
    _f("evt.outputtime", STRING, "PT_CHARBUF", "timestamp as the event line prints it (the -t mode; like evt.time by default)"),
    _f("evt.rawtime", ABSTIME, "PT_ABSTIME", "timestamp in nanoseconds since the Unix epoch"),
    _f("evt.rawtime.s", ABSTIME, "PT_ABSTIME", "whole seconds of evt.rawtime"),
    _f("evt.rawtime.ns", ABSTIME, "PT_ABSTIME", "nanosecond remainder of evt.rawtime"),
    _f("evt.reltime", RELTIME, "PT_RELTIME", "nanoseconds since the first event of the capture"),
    _f("evt.reltime.s", RELTIME, "PT_RELTIME", "whole seconds of evt.reltime"),
    _f("evt.reltime.ns", RELTIME, "PT_RELTIME", "nanosecond remainder of evt.reltime"),
    # --- evt: syscall events
    _f("evt.type", STRING, "PT_CHARBUF", "event name; for generic syscall events the syscall's own name"),
    _f("syscall.type", STRING, "PT_CHARBUF", "like evt.type, but missing for switch and internal/meta events"),
    _f("evt.dir", STRING, "PT_CHARBUF", "'>' for enter events (even ids), '<' for exit events (odd ids)"),
    _f("evt.cpu", INT16, "PT_INT16", "number of the CPU that recorded the event"),
    _f("evt.category", STRING, "PT_CHARBUF", "category name (file, net, process, memory, IPC ...); I/O events give the fd kind"),
    _f("evt.args", STRING, "PT_CHARBUF", "all parameters rendered as name=value, as on the event line"),
    _f("evt.info", STRING, "PT_CHARBUF", "same as evt.args unless a protocol decoder summarises the event (syslog writes)"),
    _f("evt.arg", STRING, "PT_CHARBUF", "one parameter as text, by name (evt.arg.fd) or position (evt.arg[0]); "
       "the resolved part (fd name, errno name, comm) replaces the number when there is one", ARG_NAME_OR_INDEX),
    _f("evt.rawarg", DYN, "PT_DYN", "one parameter by name, unrendered, compared with the parameter's own type", ARG_DOTTED),
    _f("evt.buffer", BYTEBUF, "PT_BYTEBUF", "the payload bytes of I/O events (their data parameter)"),
    _f("evt.buflen", UINT64, "PT_UINT64", "payload length of I/O events on a known fd"),
    _f("evt.res", STRING, "PT_CHARBUF", "SUCCESS when the return value is >= 0, otherwise the errno name (ENOENT ...)"),
    _f("evt.rawres", INT64, "PT_INT64", "the return value as a number"),
    _f("evt.failed", BOOL, "PT_BOOL", "true when the return value is negative"),
    _f("evt.is_io", BOOL, "PT_BOOL", "true for events whose table flags say they read from or write to an fd"),
    _f("evt.is_io_read", BOOL, "PT_BOOL", "true for events flagged as reading from an fd"),
    _f("evt.is_io_write", BOOL, "PT_BOOL", "true for events flagged as writing to an fd"),
    _f("evt.io_dir", STRING, "PT_CHARBUF", "'write' or 'read' for I/O events, missing otherwise"),
    _f("evt.is_wait", BOOL, "PT_BOOL", "true for events that put the thread to sleep or wait (poll, nanosleep ...)"),
    _f("evt.wait_latency", RELTIME, "PT_RELTIME", "for exits of waiting events, nanoseconds spent waiting"),
    _f("evt.latency", RELTIME, "PT_RELTIME", "nanoseconds between an exit and its enter event; 0 for enter events"),
    _f("evt.latency.s", RELTIME, "PT_RELTIME", "whole seconds of evt.latency"),
    _f("evt.latency.ns", RELTIME, "PT_RELTIME", "nanosecond remainder of evt.latency"),
    _f("evt.latency.human", STRING, "PT_CHARBUF", "evt.latency as short text such as 10.3ms"),
    _f("evt.deltatime", RELTIME, "PT_RELTIME", "nanoseconds since the previous event"),
    _f("evt.count", UINT32, "PT_UINT32", "always 1; sums to an event count"),
    _f("evt.count.error", UINT32, "PT_UINT32", "1 for failed events, missing otherwise"),
    _f("evt.count.exit", UINT32, "PT_UINT32", "1 for exit events"),
    _f("evt.is_syslog", BOOL, "PT_BOOL", "true for writes to an fd whose name contains /dev/log"),
    _f("evt.is_open_read", BOOL, "PT_BOOL", "true for open-family events that opened the path for reading"),
    _f("evt.is_open_write", BOOL, "PT_BOOL", "true for open-family events that opened the path for writing"),
    # --- proc / thread
    _f("proc.pid", INT64, "PT_INT64", "process id (thread group id) of the thread behind the event"),
    _f("proc.ppid", INT64, "PT_INT64", "pid of the parent process"),
    _f("proc.vpid", INT64, "PT_INT64", "process id as seen inside its own pid namespace"),
    _f("proc.exe", STRING, "PT_CHARBUF", "argv[0] of the process (usually the program as invoked)"),
    _f("proc.exepath", STRING, "PT_CHARBUF", "full path of the program file"),
    _f("proc.name", STRING, "PT_CHARBUF", "process name (the kernel comm)"),
    _f("proc.args", STRING, "PT_CHARBUF", "command-line arguments after argv[0], joined with spaces"),
    _f("proc.env", STRING, "PT_CHARBUF", "environment variables of the process"),
    _f("proc.cmdline", STRING, "PT_CHARBUF", "proc.name, a space, then proc.args"),
    _f("proc.exeline", STRING, "PT_CHARBUF", "proc.exe, a space, then proc.args"),
    _f("proc.cwd", STRING, "PT_CHARBUF", "current working directory"),
    _f("proc.tty", INT32, "PT_INT32", "controlling terminal number; 0 when there is none"),
    _f("proc.pname", STRING, "PT_CHARBUF", "name of the parent process"),
    _f("proc.pcmdline", STRING, "PT_CHARBUF", "command line (name and args) of the parent process"),
    _f("proc.apid", INT64, "PT_INT64", "pid of the ancestor N levels up ([0] self, [1] parent ...); "
       "without [N], filter only: true if some ancestor above the process matches", ARG_INDEX),
    _f("proc.aname", STRING, "PT_CHARBUF", "name of the ancestor N levels up ([0] self, [1] parent ...); "
       "without [N], filter only: true if some ancestor above the process matches", ARG_INDEX),
    _f("proc.loginshellid", INT64, "PT_INT64", "pid of the outermost process, self or ancestor, whose name ends in 'sh'"),
    _f("proc.sid", INT64, "PT_INT64", "session id"),
    _f("proc.sname", STRING, "PT_CHARBUF", "name of the session leader"),
    _f("proc.vpgid", INT64, "PT_INT64", "process group id inside the pid namespace"),
    _f("proc.nthreads", UINT32, "PT_UINT32", "number of threads of the process, main thread included"),
    _f("proc.nchilds", UINT32, "PT_UINT32", "number of threads of the process besides the main one"),
    _f("proc.duration", RELTIME, "PT_RELTIME", "nanoseconds since the process started"),
    _f("proc.fdopencount", UINT64, "PT_UINT64", "number of fds the process has open"),
    _f("proc.fdlimit", INT64, "PT_INT64", "maximum number of fds the process may open"),
    _f("proc.vmsize", UINT64, "PT_UINT64", "virtual memory size in kB"),
    _f("proc.vmrss", UINT64, "PT_UINT64", "resident memory in kB"),
    _f("proc.vmswap", UINT64, "PT_UINT64", "swapped-out memory in kB"),
    _f("thread.tid", INT64, "PT_INT64", "id of the thread behind the event (from the event header)"),
    _f("thread.vtid", INT64, "PT_INT64", "thread id inside its pid namespace"),
    _f("thread.ismain", BOOL, "PT_BOOL", "true when the thread is the main thread of its process"),
    _f("thread.nametid", STRING, "PT_CHARBUF", "process name immediately followed by the tid (curl17497)"),
    _f("thread.pfmajor", UINT64, "PT_UINT64", "major page faults of the thread so far"),
    _f("thread.pfminor", UINT64, "PT_UINT64", "minor page faults of the thread so far"),
    _f("thread.exectime", RELTIME, "PT_RELTIME", "CPU time of the thread switched out (switch events only)"),
    _f("thread.totexectime", RELTIME, "PT_RELTIME", "CPU time of the thread since capture start (switch events only)"),
    _f("thread.cgroups", STRING, "PT_CHARBUF", "all cgroups of the thread in one string"),
    _f("thread.cgroup", STRING, "PT_CHARBUF", "cgroup of the thread for one subsystem: thread.cgroup.cpuacct", ARG_DOTTED),
    # --- user / group
    _f("user.uid", UINT32, "PT_UINT32", "user id of the thread"),
    _f("user.name", STRING, "PT_CHARBUF", "user name of the thread's uid"),
    _f("user.homedir", STRING, "PT_CHARBUF", "home directory of that user"),
    _f("user.shell", STRING, "PT_CHARBUF", "login shell of that user"),
    _f("user.loginuid", INT32, "PT_INT32", "audit login uid (auid); -1 when unset"),
    _f("user.loginname", STRING, "PT_CHARBUF", "user name of the audit login uid"),
    _f("group.gid", UINT64, "PT_UINT64", "group id of the thread"),
    _f("group.name", STRING, "PT_CHARBUF", "group name of that gid"),
    # --- fd
    _f("fd.num", INT64, "PT_INT64", "number of the fd the event uses"),
    _f("fd.type", STRING, "PT_CHARBUF", "fd kind: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, "
       "eventpoll, inotify, timerfd, netlink ..."),
    _f("fd.typechar", STRING, "PT_CHARBUF", "fd kind as one character: f d 4 6 u p e s l i t n o"),
    _f("fd.name", STRING, "PT_CHARBUF", "file path, connection tuple or other name of the fd"),
    _f("fd.directory", STRING, "PT_CHARBUF", "for files and directories, the directory part of fd.name"),
    _f("fd.filename", STRING, "PT_CHARBUF", "for files, fd.name without its directory"),
    _f("fd.containername", STRING, "PT_CHARBUF", "container id, ':', then fd.name (empty id on the host)"),
    _f("fd.containerdirectory", STRING, "PT_CHARBUF", "container id, ':', then fd.directory"),
    _f("fd.uid", STRING, "PT_CHARBUF", "fd number and tid chained into one identifier"),
    _f("fd.l4proto", STRING, "PT_CHARBUF", "socket transport protocol as text: tcp, udp, icmp or raw"),
    _f("fd.sockfamily", STRING, "PT_CHARBUF", "socket family: ip or unix"),
    _f("fd.is_server", BOOL, "PT_BOOL", "true when this process is the server end of the connection"),
    _f("fd.connected", BOOL, "PT_BOOL", "true when the socket is connected"),
    _f("fd.name_changed", BOOL, "PT_BOOL", "true when this event changed the name of its fd (a new UDP tuple ...)"),
    _f("fd.cip", IPADDR, "PT_IPADDR", "client address of the connection"),
    _f("fd.sip", IPADDR, "PT_IPADDR", "server address of the connection"),
    _f("fd.lip", IPADDR, "PT_IPADDR", "local address of the connection"),
    _f("fd.rip", IPADDR, "PT_IPADDR", "remote address of the connection"),
    _f("fd.ip", IPADDR, "PT_IPADDR", "client or server address; = matches either, != neither",
       filter_only=True, columns=("fd.cip", "fd.sip")),
    _f("fd.cport", PORT, "PT_PORT", "client port of a TCP/UDP connection"),
    _f("fd.sport", PORT, "PT_PORT", "server port of a TCP/UDP connection"),
    _f("fd.lport", PORT, "PT_PORT", "local port of a TCP/UDP connection"),
    _f("fd.rport", PORT, "PT_PORT", "remote port of a TCP/UDP connection"),
    _f("fd.port", PORT, "PT_PORT", "client or server port; = and < > match either, != neither",
       filter_only=True, columns=("fd.cport", "fd.sport")),
    _f("fd.proto", PORT, "PT_PORT", "client or server port given as a service name (http) or number",
       filter_only=True, columns=("fd.cport", "fd.sport")),
    _f("fd.cproto", STRING, "PT_CHARBUF", "service name of the client port"),
    _f("fd.sproto", STRING, "PT_CHARBUF", "service name of the server port (http, ssh ...)"),
    _f("fd.lproto", STRING, "PT_CHARBUF", "service name of the local port"),
    _f("fd.rproto", STRING, "PT_CHARBUF", "service name of the remote port"),
    _f("fd.net", IPNET, "PT_IPNET", "client or server address inside a network: fd.net=10.0.0.0/8",
       filter_only=True, columns=("fd.cip", "fd.sip")),
    _f("fd.cnet", IPNET, "PT_IPNET", "client address inside a network", filter_only=True, columns=("fd.cip",)),
    _f("fd.snet", IPNET, "PT_IPNET", "server address inside a network", filter_only=True, columns=("fd.sip",)),
    _f("fd.lnet", IPNET, "PT_IPNET", "local address inside a network", filter_only=True, columns=("fd.lip",)),
    _f("fd.rnet", IPNET, "PT_IPNET", "remote address inside a network", filter_only=True, columns=("fd.rip",)),
    _f("fd.dev", INT32, "PT_INT32", "device number of the file (major/minor packed)"),
    _f("fd.dev.major", INT32, "PT_INT32", "major device number of the file"),
    _f("fd.dev.minor", INT32, "PT_INT32", "minor device number of the file"),
    # --- container
    _f("container.id", STRING, "PT_CHARBUF", "container id; 'host' for processes outside containers"),
    _f("container.name", STRING, "PT_CHARBUF", "container name; 'host' for processes outside containers"),
    _f("container.image", STRING, "PT_CHARBUF", "image the container runs (repository:tag)"),
    _f("container.image.id", STRING, "PT_CHARBUF", "id of that image"),
    _f("container.type", STRING, "PT_CHARBUF", "container runtime kind (docker, cri ...)"),
    _f("container.privileged", BOOL, "PT_BOOL", "true for privileged containers"),
]

FIELDS: dict[str, FieldInfo] = {f.name: f for f in _CATALOG}

# Fields whose name prefixes a dotted argument, longest first (evt.rawarg before evt.arg).
_DOTTED = sorted((f for f in _CATALOG if f.arg in (ARG_NAME_OR_INDEX, ARG_DOTTED)),
                 key=lambda f: -len(f.name))
_ARGNAME_RE = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*\Z")


def lookup(name: str) -> FieldInfo | None:
    """The catalog entry for a bare field name (no argument), or None."""
    return FIELDS.get(name)


def split_dotted(text: str) -> tuple[FieldInfo, str] | None:
    """Split ``evt.arg.fd``-style text into (entry, argument), or None if no field takes it."""
    for info in _DOTTED:
        prefix = info.name + "."
        if text.startswith(prefix) and _ARGNAME_RE.match(text, len(prefix)):
            return info, text[len(prefix):]
    return None


def suggest(name: str) -> str | None:
    """The catalog field closest to a misspelt ``name`` (``proc.nmae`` -> ``proc.name``), or None."""
    base = name.split("[", 1)[0]
    dotted = split_dotted(base)
    if dotted is not None or base in FIELDS:
        return None
    candidates = list(FIELDS)
    match = difflib.get_close_matches(base, candidates, n=1, cutoff=0.75)
    if match:
        return match[0]
    # a wrong family prefix (evt.args.fd, process.name): match on the last component
    tail = base.rsplit(".", 1)[-1]
    same_tail = [c for c in candidates if c.rsplit(".", 1)[-1] == tail]
    if len(same_tail) == 1:
        return same_tail[0]
    match = difflib.get_close_matches(base, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def type_kind(ftype: str) -> str:
    """Coarse family of a type: numeric, string, bool, ip, net, buffer or dyn."""
    if ftype in NUMERIC_TYPES:
        return "numeric"
    return {STRING: "string", BOOL: "bool", IPADDR: "ip", IPNET: "net", BYTEBUF: "buffer", DYN: "dyn"}[ftype]
