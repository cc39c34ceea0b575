"""The csysdig views Sysdig Inspect shows, declared as data.

Facts (fields, names, aggregations, keys, filters, tags, sizes, drill-down targets) follow the view
definitions shipped with sysdig 0.29.3 (``userspace/sysdig/chisels/v_*.lua``); the form is ours.

A view is a table (rows keyed by one field, optionally grouped by a second one) or a list (one row
per matching event). ``columns`` keeps the declaration order; ``View.layout(containers)`` applies the
``default``/``containers`` column tags (csysdig's ``-pc``) and moves the key columns to the front as
csysdig does.
"""
from __future__ import annotations

from dataclasses import dataclass

# aggregations (sinsp_field_aggregation)
NONE, SUM, AVG, TIME_AVG, MAX, MIN = "NONE", "SUM", "AVG", "TIME_AVG", "MAX", "MIN"
TABLE, LIST = "table", "list"
TAG_DEFAULT, TAG_CONTAINERS = "default", "containers"

# applies_to lists shared by many views (the drill keys a view accepts)
_ORCH = ("k8s.pod.id", "k8s.rc.id", "k8s.rs.id", "k8s.svc.id", "k8s.ns.id", "marathon.app.id",
         "marathon.group.name", "mesos.task.id", "mesos.framework.name")
_PROC_BASE = ("", "container.id", "fd.name", "fd.containername", "fd.sport", "fd.sproto", "evt.type",
              "fd.directory", "fd.containerdirectory")
_PROC_KEYS = _PROC_BASE + _ORCH
_PROC_KEYS_T = _PROC_BASE + ("fd.type",) + _ORCH
_THREAD_SCOPE = ("", "container.id", "proc.pid", "thread.nametid", "proc.name", "thread.tid", "fd.sport",
                 "fd.sproto")


@dataclass(frozen=True)
class Column:
    """One column: the sysdig field it shows and how rows sharing a key combine it.

    Attributes:
        field: sysdig field name.
        name: legend name ("NA" for hidden key columns).
        size: display width hint (0 = take the rest of the line).
        agg: aggregation when events of one key merge (NONE keeps the first value).
        groupby_agg: aggregation when key rows merge into group-by rows.
        key: the row key (tables).
        groupby_key: the group-by key.
        sorting: the default sort column.
        tags: "default" (shown only without -pc) or "containers" (only with -pc).
    """

    field: str
    name: str = "NA"
    size: int = 0
    agg: str = NONE
    groupby_agg: str = NONE
    key: bool = False
    groupby_key: bool = False
    sorting: bool = False
    tags: tuple[str, ...] = ()

    @property
    def hidden(self) -> bool:
        return self.key or self.groupby_key


@dataclass(frozen=True)
class View:
    """One csysdig view."""

    id: str
    name: str
    kind: str
    columns: tuple[Column, ...]
    filter: str | None = None
    use_defaults: bool = False
    drilldown_target: str | None = None
    applies_to: tuple[str, ...] = ("",)
    tags: tuple[str, ...] = ()
    is_root: bool = False
    propagate_filter: bool = True
    description: str = ""

    def layout(self, containers: bool = True) -> tuple[Column, ...]:
        """Columns as csysdig arranges them: tags applied, key first, then the group-by key."""
        cols = list(self.columns)
        for flag in ("groupby_key", "key"):
            for i, c in enumerate(cols):
                if getattr(c, flag):
                    cols.insert(0, cols.pop(i))
                    break
        drop = TAG_DEFAULT if containers else TAG_CONTAINERS
        return tuple(c for c in cols if not c.tags or drop not in c.tags)

    def visible(self, containers: bool = True) -> tuple[Column, ...]:
        """The columns printed, in legend order (key columns removed)."""
        return tuple(c for c in self.layout(containers) if not c.hidden)

    def key_column(self, containers: bool = True) -> Column | None:
        return next((c for c in self.layout(containers) if c.key), None)

    def groupby_column(self, containers: bool = True) -> Column | None:
        return next((c for c in self.layout(containers) if c.groupby_key), None)

    def sorting_col(self, containers: bool = True) -> int:
        """csysdig's sortingCol: the 1-based legend index of the sort column (1, or 2 with a
        group-by, when no column is marked)."""
        cols = self.layout(containers)
        groupby = any(c.groupby_key for c in cols)
        marked = [j for j, c in enumerate(cols) if c.sorting]
        if not marked:
            return 2 if groupby else 1
        j = marked[0]
        if self.kind == LIST:
            return j + 1
        return j - 1 if groupby else j


def _c(fld: str, name: str = "NA", size: int = 0, agg: str = NONE, gagg: str = NONE, *, key=False,
       gkey=False, sort=False, tags: tuple[str, ...] = ()) -> Column:
    return Column(fld, name, size, agg, gagg, key, gkey, sort, tags)


_PC = (TAG_CONTAINERS,)
_DEF = (TAG_DEFAULT,)
_COMMAND = _c("proc.exeline", "Command", 0, MAX)
_CONTAINER = _c("container.name", "Container", 20, tags=_PC)

_VIEWS = [
    View("procs", "Processes", TABLE, (
        _c("thread.tid", key=True),
        _c("proc.pid", gkey=True),
        _c("proc.pid", "PID", 7),
        _c("proc.ppid", "PPID", 7),
        _c("proc.vpid", "VPID", 8, tags=_PC),
        _c("thread.cpu", "CPU", 8, AVG, SUM, sort=True),
        _c("user.name", "USER", 12),
        _c("proc.nthreads", "TH", 5, MAX, MAX),
        _c("thread.vmsize.b", "VIRT", 9, MAX, MAX),
        _c("thread.vmrss.b", "RES", 9, MAX, MAX),
        _c("evt.buflen.file", "FILE", 8, TIME_AVG, SUM),
        _c("evt.buflen.net", "NET", 8, TIME_AVG, SUM),
        _c("container.name", "CONTAINER", 20, tags=_PC),
        _COMMAND,
    ), "evt.type!=switch", True, "threads", _PROC_KEYS_T, ("Default", "wsysdig"), True,
        description="Processes with their CPU, memory and file/network I/O (top-like)."),
    View("procs_cpu", "Processes CPU", TABLE, (
        _c("thread.tid", key=True),
        _c("proc.pid", gkey=True),
        _c("proc.pid", "PID", 8),
        _c("proc.vpid", "VPID", 8, tags=_PC),
        _c("thread.cpu", "TOT", 8, AVG, SUM, sort=True),
        _c("thread.cpu.user", "USER", 8, AVG, SUM),
        _c("thread.cpu.system", "SYS", 8, AVG, SUM),
        _c("evt.count", "SYSCALLS", 9, TIME_AVG, SUM),
        _c("container.name", "CONTAINER", 20, tags=_PC),
        _COMMAND,
    ), "evt.type!=switch", True, "threads", _PROC_KEYS_T, ("Default", "wsysdig"), True,
        description="Total, user and system CPU per process."),
    View("threads", "Threads", TABLE, (
        _c("thread.tid", key=True),
        _c("proc.pid", "PID", 8),
        _c("thread.tid", "TID", 8),
        _c("proc.vpid", "VPID", 8, tags=_PC),
        _c("thread.vtid", "VTID", 8, tags=_PC),
        _c("thread.cpu", "CPU", 8, AVG, sort=True),
        _c("evt.buflen.file", "FILE", 8, TIME_AVG),
        _c("evt.buflen.net", "NET", 8, TIME_AVG),
        _CONTAINER,
        _COMMAND,
    ), "evt.type!=switch", True, "files",
        ("", "proc.pid", "thread.nametid", "proc.name", "container.id", "fd.sport", "fd.sproto", "fd.name",
         "fd.containername", "fd.directory", "fd.containerdirectory", "evt.res") + _ORCH,
        ("Default", "wsysdig"), True, description="Every thread with its CPU and file/network I/O."),
    View("files", "Files", TABLE, (
        _c("fd.name", key=True, tags=_DEF),
        _c("fd.containername", key=True, tags=_PC),
        _c("evt.buflen.file.in", "BYTES IN", 12, SUM),
        _c("evt.buflen.file.out", "BYTES OUT", 12, SUM),
        _c("evt.count.exit", "OPS", 9, SUM, sort=True),
        _c("evt.type.is.3", "OPENS", 9, SUM),
        _c("evt.count.error", "ERRORS", 9, SUM),
        _c("container.name", "Container", 20, tags=_PC),
        _c("fd.name", "FILENAME", 0),
    ), "(fd.type=file or fd.type=directory) and fd.name!=''", True, "procs",
        _THREAD_SCOPE + ("fd.directory", "fd.containerdirectory", "fd.containerdirectory", "evt.res") + _ORCH,
        ("Default", "wsysdig"), description="Files accessed, with bytes, operations, opens and errors."),
    View("directories", "Directories", TABLE, (
        _c("fd.directory", key=True, tags=_DEF),
        _c("fd.containerdirectory", key=True, tags=_PC),
        _c("evt.buflen.file.in", "BYTES IN", 12, SUM),
        _c("evt.buflen.file.out", "BYTES OUT", 12, SUM),
        _c("evt.count.exit", "OPS", 9, SUM, sort=True),
        _c("evt.type.is.3", "OPENS", 9, SUM),
        _c("evt.count.error", "ERRORS", 9, SUM),
        _c("container.name", "Container", 20, tags=_PC),
        _c("fd.directory", "DIRNAME", 0),
    ), "(fd.type=file or fd.type=directory) and fd.name!=''", True, "files",
        _THREAD_SCOPE + ("evt.res",) + _ORCH, ("Default", "wsysdig"),
        description="Directories accessed, with bytes, operations, opens and errors."),
    View("connections", "Connections", TABLE, (
        _c("fd.name", key=True, tags=_DEF),
        _c("fd.containername", key=True, tags=_PC),
        _c("fd.l4proto", "L4PROTO", 8),
        _c("fd.lip", "LIP", 17),
        _c("fd.lport", "LPORT", 8),
        _c("fd.rip", "RIP", 17),
        _c("fd.rport", "RPORT", 8),
        _c("evt.buflen.net.in", "BPS IN", 12, TIME_AVG, sort=True),
        _c("evt.buflen.net.out", "BPS OUT", 12, TIME_AVG),
        _c("evt.count", "IOPS", 12, TIME_AVG),
        _CONTAINER,
        _COMMAND,
    ), "(fd.type=ipv4 or fd.type=ipv6) and fd.name!=''", True, "incoming_connections",
        _THREAD_SCOPE + ("fd.dport", "fd.dproto", "fd.port", "fd.proto", "fd.lport", "fd.rport", "evt.res")
        + _ORCH, ("Default", "wsysdig"), description="Network connections with their traffic."),
    View("sports", "Server Ports", TABLE, (
        _c("fd.sport", key=True),
        _c("fd.sport", "SPORT", 8),
        _c("evt.buflen.net.in", "BPS IN", 12, TIME_AVG, sort=True),
        _c("evt.buflen.net.out", "BPS OUT", 12, TIME_AVG),
        _c("evt.count", "IO CALLS", 12, SUM),
    ), "(fd.type=ipv4 or fd.type=ipv6) and fd.name!=''", True, "connections",
        ("", "container.id", "proc.pid", "thread.nametid", "thread.tid", "proc.name", "evt.res") + _ORCH,
        ("wsysdig",), description="Server ports and the traffic through them."),
    View("incoming_connections", "New Connections", LIST, (
        _c("evt.time", "TIME", 19),
        _c("fd.name", "Connection", 40),
        _CONTAINER,
        _COMMAND,
    ), "evt.type=accept and evt.dir=< and evt.failed=false", False, None,
        ("", "container.id", "proc.pid", "thread.nametid", "thread.tid", "proc.name", "fd.name",
         "fd.containername", "fd.sport", "fd.sproto", "fd.dport", "fd.port", "fd.lport", "fd.rport") + _ORCH,
        ("Default",), description="Every accepted connection."),
    View("port_bindings", "Port bindings", LIST, (
        _c("evt.time", "TIME", 12),
        _c("evt.type", "OPERATION", 24),
        _c("fd.sport", "PORT", 24),
        _COMMAND,
    ), "(evt.type=bind and evt.dir=< and (fd.type=ipv4 or fd.type=ipv6)) or "
       "(evt.type=close and evt.dir=> and fd.typechar=2 and fd.type=ipv4)", True, None, ("",),
        ("default", "wsysdig", "nocsysdig"), description="Listening ports opened (bind) and closed."),
    View("errors", "Errors", TABLE, (
        _c("evt.res", key=True),
        _c("evt.count", "COUNT", 12, SUM, sort=True),
        _c("evt.res", "ERROR", 0),
    ), "evt.res != SUCCESS", True, "procs_errors",
        _THREAD_SCOPE + ("fd.directory", "fd.containerdirectory") + _ORCH, ("Default", "wsysdig"),
        description="System call errors by errno, most frequent first."),
    View("procs_errors", "Processes Errors", TABLE, (
        _c("proc.pid", key=True),
        _c("evt.count.error.file", "FILE", 8, SUM),
        _c("evt.count.error.net", "NET", 8, SUM),
        _c("evt.count.error.memory", "MEMORY", 8, SUM),
        _c("evt.count.error.other", "OTHER", 8, SUM),
        _c("proc.pid", "PID", 8),
        _CONTAINER,
        _COMMAND,
    ), "evt.type!=switch", True, "errors", _PROC_KEYS, ("Default", "wsysdig"),
        description="Error counts per process: file, network, memory and other."),
    View("syscalls", "System Calls", TABLE, (
        _c("evt.type", key=True),
        _c("evt.count", "CALLS/S", 10, TIME_AVG, sort=True),
        _c("evt.latency", "TOT TIME", 10, SUM),
        _c("evt.latency", "AVG TIME", 10, AVG),
        _c("evt.type", "SYSCALL", 32, SUM),
    ), "syscall.type exists", True, "syscall_procs",
        _THREAD_SCOPE + ("fd.name", "fd.containername", "fd.directory", "fd.containerdirectory", "evt.res")
        + _ORCH, ("Default", "wsysdig"), description="System calls by count and time spent in them."),
    View("syscall_procs", "Syscall Callers", TABLE, (
        _c("proc.pid", key=True),
        _c("evt.count", "CALLS/S", 10, TIME_AVG, sort=True),
        _c("evt.latency", "TIME", 10, SUM),
        _CONTAINER,
        _COMMAND,
    ), "syscall.type exists", True, None, ("evt.type",), ("Default",),
        description="Processes by number of system calls and time spent in them."),
    View("spy_users", "Spy Users", LIST, (
        _c("evt.time", "TIME", 12),
        _c("user.name", "USER", 12),
        _c("proc.ppid", "SHELL", 8),
        _CONTAINER,
        _COMMAND,
    ), "((evt.type=execve and evt.dir=<) or (evt.type=chdir and evt.dir=< and proc.name contains sh and "
       "not proc.name contains sshd)) and evt.failed=false", True, None,
        ("", "container.id", "proc.pid", "thread.nametid", "thread.tid", "proc.name") + _ORCH, ("Default",),
        description="Every executed command and shell directory change."),
    View("io_by_type", "I/O by Type", TABLE, (
        _c("fd.type", key=True),
        _c("evt.buflen.in", "BPS IN", 12, TIME_AVG),
        _c("evt.buflen.out", "BPS OUT", 12, TIME_AVG),
        _c("evt.count", "IOPS", 9, TIME_AVG, sort=True),
        _c("evt.latency", "TIME", 9, SUM),
        _c("fd.type", "I/O Type", 0, SUM),
    ), None, True, "procs", _THREAD_SCOPE + ("evt.res",) + _ORCH, ("Default", "wsysdig"),
        description="I/O volume and time per kind of file descriptor."),
    View("slow_io", "Slow File I/O", TABLE, (
        _c("evt.rawtime", key=True),
        _c("evt.time", "TIME", 12),
        _c("evt.latency", "LATENCY", 8, sort=True),
        _c("fd.name", "FILENAME", 32),
        _CONTAINER,
        _c("proc.pid", "PID", 12),
        _COMMAND,
    ), "evt.is_io=true and fd.type=file and (not fd.name contains '/dev/') and evt.latency>1000000", True,
        None, ("", "container.id", "proc.pid", "thread.nametid", "thread.tid", "proc.name") + _ORCH,
        ("Default", "wsysdig"), description="File reads and writes that took more than 1 ms."),
    View("file_opens", "File Opens List", LIST, (
        _c("evt.time", "TIME", 19),
        _c("evt.res", "RES", 8),
        _c("fd.name", "FILE", 40),
        _CONTAINER,
        _COMMAND,
    ), "evt.type=open and evt.dir=<", False, None,
        _THREAD_SCOPE + ("fd.name", "fd.containername", "fd.directory", "fd.containerdirectory", "evt.res")
        + _ORCH, ("Default",), description="Every open() with its result."),
    View("containers", "Containers", TABLE, (
        _c("thread.tid", key=True),
        _c("thread.cpu", "CPU", 8, AVG, SUM, sort=True),
        _c("evt.count.procinfo", "PROCS", 8, AVG, SUM),
        _c("evt.count.threadinfo", "THREADS", 8, AVG, SUM),
        _c("thread.vmsize.b", "VIRT", 9, MAX, SUM),
        _c("thread.vmrss.b", "RES", 9, MAX, SUM),
        _c("evt.buflen.file", "FILE", 8, TIME_AVG, SUM),
        _c("evt.buflen.net", "NET", 8, TIME_AVG, SUM),
        _c("container.id", gkey=True),
        _c("container.type", "ENGINE", 8),
        _c("container.image", "IMAGE", 30),
        _c("container.id", "ID", 13),
        _c("container.name", "NAME", 0),
    ), "container.name != host", True, "procs", ("", "evt.res") + _ORCH, ("wsysdig",),
        description="Containers and the resources they use."),
    View("page_faults", "Page Faults", TABLE, (
        _c("proc.pid", key=True),
        _c("thread.pfmajor", "MAJOR", 9, MAX, sort=True),
        _c("thread.pfminor", "MINOR", 9, MAX),
        _c("proc.pid", "PID", 8),
        _c("proc.vpid", "VPID", 8, tags=_PC),
        _CONTAINER,
        _COMMAND,
    ), "evt.type!=switch", True, "errors", _PROC_KEYS, ("Default", "wsysdig"),
        description="Major and minor page faults per process since it started."),
]

VIEWS: dict[str, View] = {v.id: v for v in _VIEWS}


def get_view(name: str) -> View:
    """The view called ``name``; KeyError with the known names otherwise."""
    try:
        return VIEWS[name]
    except KeyError:
        raise KeyError(f"unknown view {name!r}; known views: {', '.join(sorted(VIEWS))}") from None


__all__ = ["Column", "View", "VIEWS", "get_view", "NONE", "SUM", "AVG", "TIME_AVG", "MAX", "MIN",
           "TABLE", "LIST"]
