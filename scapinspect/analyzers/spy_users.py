"""Commands users ran from a shell: sysdig's spy_users chisel line for line, and a DataFrame of the
same history without the chisel's quirks (sysdig-rendering.md §4).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from ..parsers.params import p_int
from ..state.model import ThreadInfo

MAX_ANCESTOR_NAVIGATION = 16
# common.lua's extend_string pads from a fixed run of this many spaces, so indentation tops out here
EXTEND_MAX = 167
NO_USER = "<NA>"
HOST = "host"
GREEN, BLUE, RESET = "\x1b[32m", "\x1b[34m", "\x1b[0m"
CHDIR_FILTER_NAME = "sh"
# shells for the DataFrame history; the chisel itself takes any name ending in "sh"
SHELL_NAMES = frozenset({"sh", "ash", "bash", "rbash", "dash", "ksh", "mksh", "pdksh", "zsh", "csh", "tcsh",
                         "fish", "yash", "elvish", "nu", "xonsh", "pwsh"})


class ChiselError(RuntimeError):
    """The Lua chisel would have stopped with a runtime error here (sysdig then aborts the capture)."""


@dataclass(frozen=True, slots=True)
class Ancestor:
    pid: int
    comm: str


def ancestry(state, t: ThreadInfo, depth: int = MAX_ANCESTOR_NAVIGATION, *,
             stop_on_cycle: bool = False) -> list[Ancestor]:
    """``proc.apid[j]``/``proc.aname[j]`` for j = 0..depth, as far as they exist.

    Index 0 is the thread's main thread; each next entry is the thread its ``ptid`` names, looked up
    without creating anything (libsinsp's get_parent_thread). The main thread of a secondary thread is
    looked up with creation, as get_main_thread does, so an unknown one becomes a ``<NA>`` placeholder.
    libsinsp follows a ptid loop round and round; ``stop_on_cycle`` ends the list at the first repeat.
    """
    mt: ThreadInfo | None = t if t.is_main() else state.main_thread(t)
    out: list[Ancestor] = []
    seen: set[int] = set()
    threads = state.threads
    while mt is not None and len(out) <= depth:
        if stop_on_cycle:
            if mt.tid in seen:
                break
            seen.add(mt.tid)
        out.append(Ancestor(mt.pid, mt.comm))
        mt = threads.get(mt.ptid)
    return out


def proc_ppid(state, t: ThreadInfo) -> int:
    """``proc.ppid``: the parent of the thread's main thread."""
    return t.ptid if t.is_main() else state.main_thread(t).ptid


def _extend(n: int) -> str:
    """common.lua's ``extend_string("", n)``."""
    return " " * min(n, EXTEND_MAX) if n > 0 else ""


def _clock_offset() -> int:
    """sysdig's gmt2local(0): the UTC offset of *now*, applied to every timestamp."""
    return time.localtime().tm_gmtoff


def time_s(ts: int, offset: int) -> str:
    """``evt.time.s``: HH:MM:SS of the event in local time."""
    s = (ts // 1_000_000_000 + offset) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _is_shell_name(name: str) -> bool:
    return len(name.encode("utf-8", "surrogateescape")) >= 2 and name.endswith("sh")


class SpyUsersChisel:
    """The chisel's per-capture state: its ancestor cache and its ancestor-field arrays.

    ``tree`` maps a pid (the parent of a command, or the command itself) to ``(depth,)`` or
    ``(depth, shell_pid)``; depth -1 means "no shell above". It is never invalidated. ``shift`` counts
    the chdir events seen: each one inserts a placeholder at the head of the ancestor-field arrays, so
    after ``shift`` chdirs index j reads ``proc.aname[j - shift]``, and indices below ``shift`` read a
    field handle that is not a field at all (``evt.field`` then returns nil).
    """

    def __init__(self, state, renderer, *, max_depth: int = -1, color: bool = True,
                 print_container: bool = False):
        self.state = state
        self.renderer = renderer
        self.table = renderer.prof.table
        self.max_depth = max_depth
        self.color = color
        self.print_container = print_container
        self.tree: dict[int | None, tuple] = {}
        self.shift = 0
        self.offset = _clock_offset()

    def kind(self, ev, ctx) -> str | None:
        """The chisel's filter: a successful execve exit, or a successful chdir exit of a process whose
        name contains "sh" but not "sshd". Returns "execve", "chdir" or None."""
        if ev.type % 2 == 0 or ev.type in (0, 1):
            return None
        info = self.table.events[ev.type]
        if info.name not in ("execve", "chdir"):
            return None
        if _failed(ev, info):
            return None
        if info.name == "chdir":
            t = ctx.tinfo
            if t is None or CHDIR_FILTER_NAME not in t.comm or "sshd" in t.comm:
                return None
        return info.name

    def _field(self, chain: list[Ancestor], j: int) -> Ancestor | None:
        if j < self.shift:
            return None
        k = j - self.shift
        return chain[k] if k < len(chain) else None

    def on_event(self, ev, ctx) -> str | None:
        """The line the chisel prints for a filtered event, or None."""
        kind = self.kind(ev, ctx)
        if kind is None:
            return None
        t = ctx.tinfo
        if t is None:
            return None
        state = self.state
        name = state.user_name(t.uid)
        user = NO_USER if name is None else name
        pid = t.pid
        ppid = proc_ppid(state, t)
        icorr = 1
        if kind == "chdir":
            ppid = pid
            self.shift += 1
            icorr = 0
        tree = self.tree
        if ppid not in tree:
            tree[ppid] = (-1,)
            chain = ancestry(state, t, MAX_ANCESTOR_NAVIGATION)
            for j in range(1, MAX_ANCESTOR_NAVIGATION + 1):
                a = self._field(chain, j)
                if a is None:
                    break
                if _is_shell_name(a.comm):
                    tree[ppid] = (j - 1, a.pid) if a.pid in tree else (0, a.pid)
        if tree[ppid][0] == -1:
            return None
        if pid not in tree:
            tree[pid] = (1 + tree[ppid][0], tree[ppid][1])
        entry = tree[pid]
        if len(entry) < 2:
            raise ChiselError("spy_users.lua: attempt to concatenate a nil value (cached pid without shell)")
        depth, shell_pid = entry
        corr = icorr if kind == "chdir" else 1
        if self.max_depth != -1 and depth - corr > self.max_depth:
            return None
        return self._line(ev, ctx, kind, depth - corr, shell_pid, user)

    def _line(self, ev, ctx, kind: str, level: int, shell_pid: int, user: str) -> str:
        t = ctx.tinfo
        prefix = ""
        who = f"{user})"
        if self.print_container:
            cname = t.container_id or HOST
            if self.color:
                prefix = GREEN if cname == HOST else BLUE
            who = f"{user}@{cname})"
        head = f"{shell_pid} {time_s(ev.ts, self.offset)} {who}"
        if kind == "chdir":
            return f"{prefix}{_extend(4 * level)}{head} cd {self._path(ev, ctx)}"
        width = 4 if self.print_container else 3
        return f"{prefix}{_extend(width * level)}{head} {t.exe} {' '.join(t.args)}"

    def _path(self, ev, ctx) -> str:
        """``evt.arg.path``: the resolved path when there is one, else the value as printed."""
        info = self.table.events[ev.type]
        j = info.param_index("path")
        if j < 0 or j >= ev.nparams:
            raise ChiselError("spy_users.lua: attempt to concatenate a nil value (no path)")
        value, resolved = self.renderer.param(ev, ctx, j, info.params[j], False)
        return resolved or value

    def end(self) -> str:
        return RESET if self.color else ""


def _failed(ev, info) -> bool:
    """``evt.failed`` for events with a ``res`` parameter: res < 0."""
    j = info.param_index("res")
    if j >= 0 and j < ev.nparams:
        v = p_int(ev, j)
        return v is not None and v < 0
    return False


def spy_users_lines(stream, max_depth: int = -1, *, color: bool = True,
                    print_container: bool = False) -> Iterator[str]:
    """What ``sysdig -r F -c spy_users [max_depth]`` prints, one line at a time (no newlines).

    ``stream`` is an ``EventStream`` (or a filtered view with ``events()``, ``state`` and ``renderer``).
    ``color`` False gives the chisel's ``disable_color`` output (the last line is then empty);
    ``print_container`` is sysdig's ``-pc``. All the chisel's quirks are kept (§4.3). A capture on which
    the Lua chisel would fail raises ``ChiselError`` after the lines printed before it.
    """
    chisel = SpyUsersChisel(stream.state, stream.renderer, max_depth=max_depth, color=color,
                            print_container=print_container)
    for item in stream.events():
        try:
            line = chisel.on_event(item.ev, item.ctx)
        except ChiselError:
            yield chisel.end()      # sysdig still runs on_capture_end, then exits with status 1
            raise
        if line is not None:
            yield line
    yield chisel.end()


# -- the DataFrame history ---------------------------------------------------------------------------
SPY_COLUMNS = ("time", "user", "loginuser", "pid", "ppid", "shell_pid", "shell", "tty", "cwd", "depth",
               "command", "container", "kind")


def is_shell(comm: str) -> bool:
    """A shell by its process name (``SHELL_NAMES``); unlike the chisel, ``ssh`` or ``flash`` are not."""
    return comm in SHELL_NAMES


def spy_users_frame(stream) -> pd.DataFrame:
    """Every command run under a shell, and every directory change of a shell, as a DataFrame.

    One row per successful execve whose process has a shell among its ancestors (any depth, followed
    through the thread table at the time of the event), and per successful chdir of a shell process:

    ========== ==========================================================================================
    time       event time, ``datetime64[ns, UTC]``
    user       name of the process's uid (None when the capture's user list lacks it)
    loginuser  name of the loginuid (None when unset or unknown)
    pid/ppid   the process and its parent
    shell_pid  the *outermost* shell ancestor (the user's session shell); for a chdir, the shell itself
               when it has no shell above it
    shell      that shell's process name
    tty        the process's controlling terminal (device number; 0 = none)
    cwd        the working directory after the event
    depth      generations below ``shell_pid`` (1 = typed at that shell's prompt; 0 for a chdir of the
               session shell itself)
    command    ``exe args`` after the exec, or ``cd <path>`` for a chdir
    container  container id, or ``host``
    kind       ``exec`` or ``cd``
    ========== ==========================================================================================

    How it differs from ``spy_users_lines`` (the chisel): nothing is cached, so pid reuse and processes
    whose parent was first seen without a shell are reported correctly; the ancestry is not cut at 16
    levels; a chdir does not corrupt later look-ups; only real shell names count (not ``ssh``); and the
    depth is counted in generations rather than taken from the chisel's cache.
    """
    cols: dict[str, list] = {c: [] for c in SPY_COLUMNS}
    for item in stream.events():
        row = spy_row(stream, item)
        if row is not None:
            for c, v in zip(SPY_COLUMNS, row, strict=True):
                cols[c].append(v)
    return _spy_frame(cols)


def spy_row(stream, item) -> tuple | None:
    """The spy_users_frame row of one event (values in SPY_COLUMNS order), or None when the event is
    not a successful exec under a shell nor a shell's chdir. Reads the state as it is now: call it
    right after the state parsed the event."""
    ev, ctx = item.ev, item.ctx
    if ev.type % 2 == 0 or ev.type in (0, 1) or ctx.tinfo is None:
        return None
    info = stream.renderer.prof.table.events[ev.type]
    if info.name not in ("execve", "chdir") or _failed(ev, info):
        return None
    state = stream.state
    t = ctx.tinfo
    chain = ancestry(state, t, depth=1 << 20, stop_on_cycle=True)
    shells = [(j, a) for j, a in enumerate(chain) if is_shell(a.comm)]
    if info.name == "execve":
        shells = [s for s in shells if s[0] > 0]
        if not shells:
            return None
        command = " ".join([t.exe, *t.args])
        kind = "exec"
    else:
        if not is_shell(chain[0].comm if chain else t.comm):
            return None
        path = _chdir_path(stream.renderer, ev, ctx, info)
        command = f"cd {path}"
        kind = "cd"
    depth, top = shells[-1]
    return (ev.ts, state.user_name(t.uid),
            state.user_name(t.loginuid) if t.loginuid != 0xFFFFFFFF else None,
            t.pid, proc_ppid(state, t), top.pid, top.comm, t.tty, state.cwd(t), depth, command,
            t.container_id or HOST, kind)


def spy_frame_from_rows(rows: list[tuple]) -> pd.DataFrame:
    """spy_users_frame's frame from spy_row tuples."""
    cols = {c: [r[k] for r in rows] for k, c in enumerate(SPY_COLUMNS)}
    return _spy_frame(cols)


def _chdir_path(renderer, ev, ctx, info) -> str:
    j = info.param_index("path")
    if j < 0 or j >= ev.nparams:
        return ""
    value, resolved = renderer.param(ev, ctx, j, info.params[j], False)
    return resolved or value


def _spy_frame(cols: dict[str, list]) -> pd.DataFrame:
    data = {
        "time": pd.to_datetime(pd.Series(cols["time"], dtype="int64"), unit="ns", utc=True),
        "user": pd.Series(cols["user"], dtype="object"),
        "loginuser": pd.Series(cols["loginuser"], dtype="object"),
        "pid": pd.Series(cols["pid"], dtype="int64"),
        "ppid": pd.Series(cols["ppid"], dtype="int64"),
        "shell_pid": pd.Series(cols["shell_pid"], dtype="int64"),
        "shell": pd.Series(cols["shell"], dtype="object"),
        "tty": pd.Series(cols["tty"], dtype="int64"),
        "cwd": pd.Series(cols["cwd"], dtype="object"),
        "depth": pd.Series(cols["depth"], dtype="int64"),
        "command": pd.Series(cols["command"], dtype="object"),
        "container": pd.Series(cols["container"], dtype="object"),
        "kind": pd.Series(pd.Categorical(cols["kind"], categories=["exec", "cd"])),
    }
    return pd.DataFrame(data, columns=list(SPY_COLUMNS))


__all__ = ["spy_users_lines", "spy_users_frame", "spy_row", "spy_frame_from_rows", "SpyUsersChisel", "ChiselError", "ancestry", "proc_ppid",
           "time_s", "is_shell", "SHELL_NAMES", "SPY_COLUMNS", "MAX_ANCESTOR_NAVIGATION"]
