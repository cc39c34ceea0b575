"""Subset export: ``write_subset`` writes the events of a capture that a sysdig filter and a time range
select to a new capture, as ``sysdig -r IN -w OUT FILTER`` does, with the process, fd and user state
at the cut-off rebuilt into the metadata blocks so that proc.name and fd.name still resolve.

What is written (checked against Debian's sysdig 0.29.3 in ``tests/test_write_subset.py``):

* **the events the filter keeps**, with the capture-filter semantics of sysdig 0.29.3 for
  enter/exit captures (those of ``EventStream.events(accept=...)``), plus **every internal event**
  (category EC_INTERNAL: procinfo, drop, infra, old container events) whether the filter keeps it or
  not: ``sysdig -w`` drops a filtered-out event unless it is internal (``sinsp_evt::get_dump_flags``).
  The container events that lead a capture are always kept (sysdig's dumper writes its container list
  when it opens; it regenerates them as container_json_2 events stamped with the writing time, where
  we copy the capture's own);
* with ``state_events`` (the default), the filtered-out events that change state (EF_MODIFIES_STATE:
  clone, execve, open, socket, connect, close, ...) as ``EVF`` blocks flagged SCAP_DF_STATE_ONLY, as
  ``sysdig -F -w`` (fatfile mode) writes them: neither sysdig nor ``inspect events`` shows them, but
  both replay them, so the subset prints every kept event as the whole capture did. Without them
  (plain ``sysdig -w``) an fd opened or a process started by a filtered-out event after the cut-off
  shows as a bare fd number / ``<NA>`` in the subset. Either way the events written are those sysdig
  0.29.3 writes, event for event;
* the **time range** ``start <= evt.ts <= end`` (ns since the epoch, both ends included) narrows all
  of the above; the filter and the state still see every event of the capture, so a subset prints
  ``inspect events IN FILTER`` restricted to the range;
* the **metadata** (MI, IL, UL, PL, one FDL per thread) is the state right before the first event
  written (the cut-off): copied from the input when nothing precedes the cut-off, rebuilt from the
  ``StateEngine`` otherwise. System calls in flight at the cut-off (an enter event whose exit comes
  later) are written as state-only events right after the metadata, so that their exits pair.

Events are copied byte for byte in their input block types (v1 ``EV`` blocks stay v1), so what sysdig
0.29.3 could read stays readable; a state-only copy only adds the block's flags word. Events whose id
sysdig 0.29.3 does not know (>= 336, e.g. useradded/groupadded of 2023 captures) are never seen by its
filter: they are kept without a filter, and with one only when internal (sysdig drops them all).
Sections that start after the cut-off are copied with their metadata. Without filter or range the
subset reads back as the capture (same sections, same events). Memory is bounded by the state
(threads, fds), not by the number of events.

Limits of a rebuilt proc list (sysdig's own file rotation has the same): it has no room for a
socket's role, so an IPv4 socket with no role yet (created, not connected) comes back as a client
(``<4t>0.0.0.0:0->...`` where the capture printed ``<4>``), an IPv6 socket prints without its l4
protocol (``<6>``), and a UDP server socket that datagrams turned into a connection comes back as a
client, so datagrams from new peers are then named from the other end; a ``<NA>`` thread's empty
cwd comes back as ``/``. Thread fields the state does not track (memory sizes, root, pgid, pidns
start) are taken from the input's proc list. Enter/exit captures whose proc list had the 0.29
layout keep it (sysdig 0.29.3 misreads loginuid from the current one), which drops the tty and pgid
of processes started before the cut-off. Events the reader cannot decode are not copied.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import errno
import os
import re
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from .parsers import eventtable as et
from .parsers import metadata as md
from .parsers.reader import Event, ScapReader, Section
from .parsers.writer import (
    BT_EV_V2_LARGE,
    BT_EVF_V2,
    BT_EVF_V2_LARGE,
    MAX_ARGS,
    MAX_PATH,
    MAX_SMALL_BLOCK,
    ScapWriter,
)
from .render.events import LEADING_CONTAINER_EVENTS, EventStream, Rendered, detect_compat
from .render.params import profile
from .state.engine import StateEngine
from .state.model import ROLE_SERVER, FdInfo, ThreadInfo

__all__ = ["SubsetResult", "TimeSpecError", "parse_time", "write_subset"]

STATE_ONLY = 1                      # SCAP_DF_STATE_ONLY
SCHEDSWITCH_6_E = 152
BT_EVF_V1 = 0x208                   # EVF: a v1 event with flags
_HDR = struct.Struct("<II")
_U16, _U32 = struct.Struct("<H"), struct.Struct("<I")

# what the replay says about each event: left out, written, written as state-only if state events are
# kept; a container event leading the capture: written with the metadata when outside the range
# (LEAD), in its place otherwise (LEAD_KEEP)
DROP, KEEP, STATE, LEAD, LEAD_KEEP = 0, 1, 2, 3, 4
WRITTEN = (KEEP, LEAD_KEEP)


class TimeSpecError(ValueError):
    """A --from/--to value that is not a time."""


@dataclass
class SubsetResult:
    """What ``write_subset`` wrote."""
    path: str
    compat: str                       # "0.29" or "0.41": how the filter was applied
    events: int = 0                   # events written (kept by the filter, or internal)
    visible: int = 0                  # of which sysdig -r / inspect events print (not internal)
    state_events: int = 0             # filtered-out events written as state-only
    inflight: int = 0                 # enter events in flight at the cut-off, written as state-only
    sections: int = 0
    rebuilt: bool = False             # metadata rebuilt from the state (False: copied from the input)
    threads: int = 0                  # threads and fds in the first section's metadata
    fds: int = 0
    cut_ts: int | None = None         # timestamp of the first event written
    first_ts: int | None = None       # timestamps of the first and last events kept (not state-only,
    #                                   not the leading container events)
    last_ts: int | None = None
    start: int | None = None
    end: int | None = None
    compressed: bool = False
    warnings: list[str] = field(default_factory=list)


# -- time specifications -------------------------------------------------------------------------------
_NS_EPOCH = re.compile(r"^\d+$")
_SEC_EPOCH = re.compile(r"^(\d+)\.(\d{1,9})$")
_TOD = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
                  r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$")
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()


def local_offset() -> int:
    """The UTC offset (seconds) ``inspect events`` prints times with: the current one, as sysdig does."""
    return time.localtime().tm_gmtoff


def _frac(s: str | None) -> int:
    return int((s or "").ljust(9, "0") or 0)


def _hms(h: int, m: int, s: int, text: str) -> int:
    if h > 23 or m > 59 or s > 60:
        raise TimeSpecError(f"{text!r}: no such time of day")
    return h * 3600 + m * 60 + s


def parse_time(text: str, *, day_of: int | None = None, utc_offset: int | None = None) -> tuple[int, bool]:
    """``(ns since the epoch, whether it was a time of day)`` for a --from/--to value.

    Accepted: an ISO date/datetime (``2017-03-14T00:44:30.5``, with ``Z`` or ``+01:00``; without a zone
    it is local time, as ``inspect events`` prints it), ``HH:MM:SS[.ns]`` on the day of ``day_of``
    (a timestamp of the capture, in ns; local time), or ns since the epoch (digits only; ``S.ns``
    gives seconds since the epoch). ``utc_offset`` defaults to the offset the event lines use.
    """
    s = text.strip()
    off = local_offset() if utc_offset is None else utc_offset
    if _NS_EPOCH.match(s):
        return int(s), False
    m = _SEC_EPOCH.match(s)
    if m:
        return int(m.group(1)) * 1_000_000_000 + _frac(m.group(2)), False
    m = _TOD.match(s)
    if m:
        if day_of is None:
            raise TimeSpecError(f"{text!r}: a time of day needs a capture with events to give the day")
        secs = _hms(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
        day = (day_of // 1_000_000_000 + off) // 86400
        return (day * 86400 + secs - off) * 1_000_000_000 + _frac(m.group(4)), True
    m = _ISO.match(s)
    if m:
        y, mo, d, h, mi, sec, frac, zone = m.groups()
        try:
            days = _dt.date(int(y), int(mo), int(d)).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            raise TimeSpecError(f"{text!r}: no such date") from None
        secs = _hms(int(h or 0), int(mi or 0), int(sec or 0), text)
        if zone is None:
            zoff = off
        elif zone in ("Z", "z"):
            zoff = 0
        else:
            digits = zone[1:].replace(":", "")
            zoff = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
            zoff = -zoff if zone[0] == "-" else zoff
        return (days * 86400 + secs - zoff) * 1_000_000_000 + _frac(frac), False
    raise TimeSpecError(f"{text!r} is not a time: give an ISO datetime (2017-03-14T00:44:30), "
                        "HH:MM:SS[.ns] on the capture's day, or ns since the epoch")


def _as_ns(value: Any, day_of: int | None) -> tuple[int | None, bool]:
    if value is None:
        return None, False
    if isinstance(value, bool):
        raise TimeSpecError(f"{value!r} is not a time")
    if isinstance(value, int):
        return value, False
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone(_dt.timedelta(seconds=local_offset())))
        delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
        return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000, False
    if isinstance(value, str):
        return parse_time(value, day_of=day_of)
    raise TimeSpecError(f"{value!r} is not a time")


def first_event_ts(path: str, **reader_kw) -> int | None:
    """The timestamp of the capture's first event (None without events); the container events that
    lead a capture carry 0 and are passed over."""
    r = ScapReader(path, **reader_kw)
    try:
        for it in r.items():
            if isinstance(it, Event) and it.ts > 0:
                return it.ts
    finally:
        r.close()
    return None


# -- the replay -----------------------------------------------------------------------------------------
class _Replay:
    """One pass over the capture: the state replayed as ``inspect events`` replays it, and for each event
    whether it goes into the subset. Sections are yielded as ``(None, section, DROP)``."""

    def __init__(self, path: str, mode: str, expr: str | None, start: int | None, end: int | None,
                 strict: bool):
        self.reader = ScapReader(path, strict=strict)
        try:
            self.stream = EventStream(self.reader, profile(mode))
            self.accept = None
            if expr:
                from .filters.stream import row_predicate
                self.accept = row_predicate(self.stream, expr)
        except BaseException:
            self.reader.close()
            raise
        self.state: StateEngine = self.stream.state
        self.prof = self.stream.prof
        self.start, self.end = start, end
        # the last enter event of each thread, while it waits for its exit
        self.pending_enter: dict[int, Event] = {}

    def close(self) -> None:
        self.reader.close()

    def run(self, cut_index: int | None = None,
            on_cut: Callable[[int, Event], None] | None = None) -> Iterator[tuple[int | None, Any, int]]:
        prof, state, accept = self.prof, self.state, self.accept
        start, end = self.start, self.end
        pre_parse = prof.name == "0.29"
        ptable = prof.table.events
        htable = et.head().events
        maxev = prof.max_event
        modifies, internal, skipreset = et.EF_MODIFIES_STATE, et.EC_INTERNAL, et.EF_SKIPPARSERESET
        pending = self.pending_enter
        prune_at = 1024
        # enter events that an exit of the same name follows (procexit, switch, ... have none)
        paired = frozenset(i for i in range(2, min(maxev, len(ptable)) - 1, 2)
                           if ptable[i].name == ptable[i + 1].name)
        num = 0
        index = -1
        leading = True
        for it in self.reader.items():
            if isinstance(it, Section):
                state.load_section(it)
                yield None, it, DROP
                continue
            index += 1
            if index == cut_index and on_cut is not None:
                on_cut(index, it)
            etype = it.type
            in_range = (start is None or it.ts >= start) and (end is None or it.ts <= end)
            lead = False
            if leading:
                # container events leading a capture describe its containers: sysdig's dumper writes
                # the container list when it opens, whatever the filter
                lead = leading = etype in LEADING_CONTAINER_EVENTS
            if etype >= maxev:
                # never seen by sysdig 0.29.3 (nor by its filter): internal ones and unfiltered ones stay
                keep = in_range and (accept is None or bool(htable[etype].category & internal))
                yield index, it, KEEP if keep else DROP
                continue
            num += 1
            info = ptable[etype]
            if accept is None:
                ctx = state.process(it)
                passed = True
            else:
                ctx = state.begin(it)
                if pre_parse and not info.flags & modifies:
                    passed = bool(accept(Rendered(num, it, ctx)))
                    if passed:
                        state.finish(it, ctx)
                    else:
                        state.reject(it, ctx)
                else:
                    state.finish(it, ctx)
                    passed = bool(accept(Rendered(num, it, ctx)))
            t = ctx.tinfo
            if t is not None and t.tid == it.tid and not info.flags & skipreset and etype != SCHEDSWITCH_6_E:
                if etype in paired:
                    pending[it.tid] = it
                elif etype % 2:
                    pending.pop(it.tid, None)
                if len(pending) > prune_at:
                    for tid in [k for k in pending if k not in state.threads]:
                        del pending[tid]
                    prune_at = 2 * len(pending) + 1024
            if lead:
                decision = LEAD_KEEP if in_range else LEAD
            elif not in_range:
                decision = DROP
            elif passed or info.category & internal:
                decision = KEEP
            elif info.flags & modifies:
                decision = STATE
            else:
                decision = DROP
            yield index, it, decision

    def inflight(self) -> list[Event]:
        """Enter events whose exit has not come yet (their thread's last parsed event), in file order."""
        out = []
        for tid, ev in self.pending_enter.items():
            t = self.state.threads.get(tid)
            if t is not None and t.enter is ev and t.lastevent_type == ev.type:
                out.append(ev)
        out.sort(key=lambda e: e.offset)
        return out


def _find_cut(path: str, mode: str, expr: str | None, start: int | None, end: int | None,
              strict: bool) -> int | None:
    """The index (among the capture's events) of the first event the subset keeps, or None."""
    if expr is None:
        # without a filter the first event in range is kept: no need to replay the state
        r = ScapReader(path, strict=strict)
        try:
            index = -1
            for it in r.items():
                if isinstance(it, Event):
                    index += 1
                    if (start is None or it.ts >= start) and (end is None or it.ts <= end):
                        return index
        finally:
            r.close()
        return None
    rp = _Replay(path, mode, expr, start, end, strict)
    try:
        for index, _it, decision in rp.run():
            if decision in WRITTEN:
                return index
    finally:
        rp.close()
    return None


# -- the state at the cut-off as metadata ---------------------------------------------------------------
def _clip(s: str, limit: int) -> str:
    raw = s.encode("utf-8", "surrogateescape")
    if len(raw) <= limit:
        return s
    return raw[:limit].decode("utf-8", "surrogateescape")


def _clip_list(items: list[str], limit: int) -> list[str]:
    out, used = [], 0
    for x in items:
        n = len(x.encode("utf-8", "surrogateescape")) + 1
        if used + n > limit:
            if not out:
                out.append(_clip(x, limit - 1))
            break
        out.append(x)
        used += n
    return out


def _settle(state: StateEngine) -> None:
    """Apply the removals the engine defers to the next event (libsinsp's reset does the same)."""
    state.settle()


def _thread_entry(state: StateEngine, t: ThreadInfo, base: md.ThreadEntry | None) -> md.ThreadEntry:
    main = t if t.is_main() else state.threads.get(t.pid)
    cwd = (main.cwd if main is not None else t.cwd) or (base.cwd if base else "")
    e = md.ThreadEntry(
        tid=t.tid, pid=t.pid, ptid=t.ptid, comm=_clip(t.comm, MAX_PATH), exe=_clip(t.exe, MAX_PATH),
        exepath=_clip(t.exepath, MAX_PATH), args=_clip_list(t.args, MAX_ARGS), cwd=_clip(cwd, MAX_PATH),
        fdlimit=t.fdlimit & 0xFFFFFFFFFFFFFFFF, flags=t.flags & 0xFFFFFFFF, uid=t.uid & 0xFFFFFFFF,
        gid=t.gid & 0xFFFFFFFF, env=_clip_list(t.env, MAX_ARGS), vtid=t.vtid, vpid=t.vpid,
        cgroups=_clip_list(t.cgroups, MAX_ARGS), sid=t.sid, vpgid=t.vpgid, tty=t.tty & 0xFFFFFFFF,
        loginuid=t.loginuid & 0xFFFFFFFF)
    if base is not None and base.tid == t.tid and base.pid == t.pid:
        # what the state does not track: kept from the input's proc list
        e = dataclasses.replace(e, vmsize_kb=base.vmsize_kb, vmrss_kb=base.vmrss_kb, vmswap_kb=base.vmswap_kb,
                                pfmajor=base.pfmajor, pfminor=base.pfminor, root=base.root, pgid=base.pgid,
                                pidns_init_start_ts=base.pidns_init_start_ts)
    return e


def _ip(raw: bytes, width: int) -> bytes:
    raw = bytes(raw or b"")
    return raw if len(raw) == width else bytes(width)


def _fd_entry(fd: int, f: FdInfo, server_ports: set[int]) -> md.FdEntry:
    name = _clip(f.name, MAX_PATH - 1)
    if f.type in (md.FD_IPV4_SOCK, md.FD_IPV6_SOCK):
        w = 4 if f.type == md.FD_IPV4_SOCK else 16
        sip, dip = _ip(f.sip, w), _ip(f.dip, w)
        want = (sip, f.sport, dip, f.dport)
        # the loader swaps a connection whose source port is a listening port (and makes it a server):
        # write the orientation that loads back to the same tuple, the same role if both do
        options = []
        for cand in (want, (dip, f.dport, sip, f.sport)):
            swapped = f.type == md.FD_IPV4_SOCK and cand[1] in server_ports
            loaded = (cand[2], cand[3], cand[0], cand[1]) if swapped else cand
            if loaded == want:
                options.append((swapped == (f.role == ROLE_SERVER), cand))
        cand = max(options, key=lambda o: o[0])[1] if options else want
        return md.FdEntry(fd, f.ino, f.type, sip=cand[0], sport=cand[1], dip=cand[2], dport=cand[3],
                          l4proto=f.l4proto)
    if f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK):
        w = 4 if f.type == md.FD_IPV4_SERVSOCK else 16
        return md.FdEntry(fd, f.ino, f.type, sip=_ip(f.sip, w), sport=f.sport, l4proto=f.l4proto)
    if f.type == md.FD_UNIX_SOCK:
        return md.FdEntry(fd, f.ino, f.type, source=f.source, dest=f.dest, name=name)
    if f.type == md.FD_FILE_V2:
        return md.FdEntry(fd, f.ino, f.type, name=name, open_flags=f.openflags & 0xFFFFFFFF,
                          dev=f.dev & 0xFFFFFFFF)
    return md.FdEntry(fd, f.ino, f.type, name=name)


def _needs_full_tail(threads: list[md.ThreadEntry]) -> bool:
    """Whether an entry holds what only the current PL_V9 tail can carry (tty, pgid, pidns start)."""
    return any(t.tty or t.pidns_init_start_ts or t.pgid != -1 for t in threads)


@dataclass
class _Meta:
    machine: md.MachineInfo | None
    interfaces: list[md.Interface]
    users: list[md.UserEntry]
    groups: list[md.GroupEntry]
    threads: list[md.ThreadEntry]
    fds: dict[int, list[md.FdEntry]]
    legacy_tail: bool


def _section_meta(sec: Section, mode: str, input_full: bool) -> _Meta:
    full = _needs_full_tail(sec.threads) and (input_full or mode != "0.29")
    return _Meta(sec.machine, list(sec.interfaces), list(sec.users), list(sec.groups), list(sec.threads),
                 dict(sec.fds), not full)


def _state_meta(state: StateEngine, bases: dict[int, md.ThreadEntry], mode: str, input_full: bool) -> _Meta:
    _settle(state)
    threads = [_thread_entry(state, t, bases.get(t.tid)) for t in list(state.threads.values())]
    server_ports = {f.sport for t in state.threads.values() for f in t.fds.values()
                    if f.type in (md.FD_IPV4_SERVSOCK, md.FD_IPV6_SERVSOCK)}
    fds = {}
    for t in state.threads.values():
        if t.fds:
            fds[t.tid] = [_fd_entry(fd, f, server_ports) for fd, f in t.fds.items()]
    # enter/exit captures keep the tail sysdig 0.29.3 reads right unless the input had the new one
    full = _needs_full_tail(threads) and (input_full or mode != "0.29")
    return _Meta(state.machine, list(state.interfaces), list(state.users.values()), list(state.groups.values()),
                 threads, fds, not full)


# -- the writer -----------------------------------------------------------------------------------------
class _SubsetWriter(ScapWriter):
    """ScapWriter plus byte-for-byte copies of event blocks read by ScapReader."""

    def copy_event(self, ev: Event, *, state_only: bool = False) -> None:
        buf, pos = ev.buf, ev.offset
        btype, blen = _HDR.unpack_from(buf, pos)
        version, has_flags = md.EVENT_BLOCKS[btype]
        if not state_only or ev.flags & STATE_ONLY:
            self._out.write(buf[pos:pos + blen])
            self.blocks += 1
            self.events += 1
            return
        off = pos + (14 if has_flags else 10)
        (elen,) = _U32.unpack_from(buf, off + 16)
        body = b"".join((_U16.pack(ev.cpu), _U32.pack(ev.flags | STATE_ONLY), buf[off:off + elen]))
        total = 12 + len(body) + (-len(body) & 3)
        if version == 1:
            if total > MAX_SMALL_BLOCK:
                # no large v1 block exists: such an event goes out as v2
                self.write_event(ev.ts, ev.tid, ev.cpu, ev.type, [ev.raw(i) for i in range(ev.nparams)],
                                 flags=ev.flags | STATE_ONLY)
                return
            nbt = BT_EVF_V1
        elif total > MAX_SMALL_BLOCK or btype in (BT_EV_V2_LARGE, BT_EVF_V2_LARGE):
            nbt = BT_EVF_V2_LARGE
        else:
            nbt = BT_EVF_V2
        self._block(nbt, body)
        self.events += 1


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_subset(path: str | os.PathLike[str], out: str | os.PathLike[str] | IO[bytes], *,
                 filter: str | None = None, start: Any = None, end: Any = None,  # noqa: A002
                 compress: bool | None = None,
                 comment: str | None = None, state_events: bool = True, compat: str | None = None,
                 strict: bool = False) -> SubsetResult:
    """Write the events of capture ``path`` that ``filter`` (a sysdig filter) keeps between ``start`` and
    ``end`` to ``out`` (a path, written atomically, or a binary file object); see the module docstring.

    ``start``/``end``: ns since the epoch, a ``datetime`` or a string for ``parse_time`` (a time of day
    is on the day of the capture's first event; an ``end`` of day before ``start`` is on the next
    day). ``compress``: gzip the output (default: when ``out`` ends in ``.gz``). ``comment`` goes
    into the section header (sysdig 0.29.3 cannot read a section header with options).
    ``state_events=False`` writes what plain ``sysdig -w FILTER`` writes, without the state-only
    events. ``compat`` ("0.29"/"0.41") picks the filter semantics (default: from the capture).
    Raises ScapError (unreadable input), FilterError (bad filter), TimeSpecError, OSError.
    """
    src = os.fspath(path)
    is_path = isinstance(out, (str, os.PathLike))
    dest = os.fspath(out) if is_path else getattr(out, "name", "<stream>")
    if compress is None:
        compress = is_path and str(dest).endswith(".gz")
    if is_path and _same_file(src, dest):
        raise ValueError(f"{dest}: the output would overwrite the input capture")
    mode = compat or detect_compat(src, strict=strict)
    expr = filter.strip() if filter and filter.strip() else None
    if expr:
        # a bad filter fails before anything is read or written
        from .filters import compile_filter, dialect_for
        compile_filter(expr, dialect=dialect_for(mode))
    day = None
    if isinstance(start, str) or isinstance(end, str):
        day = first_event_ts(src, strict=strict)
    t0, _ = _as_ns(start, day)
    t1, t1_tod = _as_ns(end, day)
    if t0 is not None and t1 is not None and t1 < t0 and t1_tod:
        t1 += 86400 * 1_000_000_000
    if t0 is not None and t1 is not None and t1 < t0:
        raise TimeSpecError("the end of the time range is before its start")
    result = SubsetResult(path=str(dest), compat=mode, start=t0, end=t1, compressed=bool(compress))

    cut = _find_cut(src, mode, expr, t0, t1, strict)

    tmp: str | None = None
    target: Any = out
    if is_path:
        d = os.path.dirname(os.path.abspath(dest))
        if os.path.isdir(dest):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), dest)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".inspect-write-", suffix=".tmp", dir=d)
        except OSError as e:
            raise type(e)(e.errno, e.strerror, dest) from None
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        target = tmp
    rp = _Replay(src, mode, expr, t0, t1, strict)
    ptable, maxev = rp.prof.table.events, rp.prof.max_event
    writer: _SubsetWriter | None = None
    try:
        sections: list[Section] = []
        leading: list[Event] = []
        input_full = False
        bases: dict[int, md.ThreadEntry] = {}

        def open_writer(sec: Section | None) -> _SubsetWriter:
            opts = dict(sec.options) if sec is not None else {}
            version = sec.version if sec is not None else (1, 2)
            w = _SubsetWriter(target, compress=bool(compress), options=opts, comment=comment, version=version)
            result.sections += 1
            return w

        def write_meta(w: _SubsetWriter, m: _Meta) -> None:
            w.write_metadata(machine=m.machine, interfaces=m.interfaces, users=m.users, groups=m.groups,
                             threads=m.threads, fds=m.fds, legacy_tail=m.legacy_tail)

        def on_cut(index: int, ev: Event) -> None:
            nonlocal writer
            sec = sections[-1] if sections else None
            writer = open_writer(sec)
            if index == 0 and len(sections) == 1:
                m = _section_meta(sections[0], mode, input_full)
            else:
                m = _state_meta(rp.state, bases, mode, input_full)
                result.rebuilt = True
            result.threads = len(m.threads)
            result.fds = sum(len(v) for v in m.fds.values())
            write_meta(writer, m)
            result.cut_ts = ev.ts
            for lead in leading:
                writer.copy_event(lead)
                result.events += 1
            for enter in rp.inflight():
                writer.copy_event(enter, state_only=True)
                result.inflight += 1

        for index, it, decision in rp.run(cut, on_cut):
            if index is None:
                sec = it
                if writer is None:
                    sections.append(sec)
                    input_full = input_full or _needs_full_tail(sec.threads)
                    for te in sec.threads:
                        bases[te.tid] = te
                else:
                    # a section starting after the cut-off: copied as it is
                    writer.write_section_header(options=sec.options, version=sec.version)
                    result.sections += 1
                    write_meta(writer, _section_meta(sec, mode, _needs_full_tail(sec.threads)))
                continue
            if writer is None or index < cut:
                if decision == LEAD:
                    leading.append(it)
                continue
            if decision in WRITTEN:
                writer.copy_event(it)
                result.events += 1
                if decision == KEEP:
                    if it.type < maxev and not ptable[it.type].category & et.EC_INTERNAL \
                            and not it.flags & STATE_ONLY:
                        result.visible += 1
                    if result.first_ts is None:
                        result.first_ts = it.ts
                    result.last_ts = it.ts
            elif decision == STATE and state_events:
                writer.copy_event(it, state_only=True)
                result.state_events += 1
        if writer is None:
            # nothing selected: the metadata alone (libscap reports "no events in file" on such a capture)
            sec = sections[0] if sections else None
            writer = open_writer(sec)
            if sec is not None:
                m = _section_meta(sec, mode, input_full)
                result.threads = len(m.threads)
                result.fds = sum(len(v) for v in m.fds.values())
                write_meta(writer, m)
        result.warnings = list(rp.reader.warnings)
        writer.close()
        if tmp is not None:
            os.replace(tmp, dest)
            tmp = None
    finally:
        rp.close()
        if writer is not None and not writer.closed:
            writer.close()
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return result
