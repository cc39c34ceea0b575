"""Thread facts views need that the state engine does not keep: memory and page-fault counters,
per-process thread counts and the container table, updated the way libsinsp 0.29.3's parser does.

``ViewState`` is a StateEngine that records them as it replays; the view fields read them through
``ViewState.extra``. It also follows current libsinsp in two places where StateEngine does not yet
(exit-only captures): user/group records get no thread, and an exit that cannot be paired forgets
the thread's last fd.
"""
from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field

from ..parsers.params import p_int, p_str
from ..parsers.reader import Event, Section
from .engine import CLONE_EXITS, EXECVE_EXITS, PROCEXIT, SCHEDSWITCH_6_E, EventContext, StateEngine
from .model import CL_CLONE_THREAD, ThreadInfo

CONTAINER_JSON_EVENTS = frozenset({272, 324})
CONTAINER_E = 228
# sinsp_container_type -> container.type text
CONTAINER_TYPES = {0: "docker", 1: "lxc", 2: "libvirt-lxc", 3: "mesos", 4: "rkt", 5: "custom", 6: "cri",
                   7: "containerd", 8: "cri-o", 9: "bpm", 10: "static", 11: "podman"}
CT_DOCKER, CT_PODMAN = 0, 11
HEX = frozenset("0123456789abcdefABCDEF")
# runc cgroup layouts per engine, (prefix, suffix); podman's engine is tried before docker's
_RUNC_ENGINES = ((CT_PODMAN, (("/libpod-", ".scope"),)), (CT_DOCKER, (("/", ""), ("/docker-", ".scope"))))
_VM_EXITS = frozenset({"brk", "mmap", "mmap2", "munmap"})
# events current libsinsp parses without a thread (their header tid is not a thread)
_THREADLESS_041 = frozenset({"useradded", "userdeleted", "groupadded", "groupdeleted", "pluginevent",
                             "asyncevent"})


@dataclass
class ThreadMemory:
    """A thread's m_vmsize_kb, m_vmrss_kb, m_pfmajor, m_pfminor."""

    vmsize_kb: int = 0
    vmrss_kb: int = 0
    pfmajor: int = 0
    pfminor: int = 0


@dataclass
class ContainerInfo:
    id: str
    type: int = CT_DOCKER
    name: str = ""
    image: str = ""
    ip: bytes = b""          # IPv4 address, 4 bytes, empty when unknown


@dataclass
class ViewExtras:
    """The extra per-thread and per-container facts, keyed by thread object identity."""

    memory: dict[int, tuple[ThreadInfo, ThreadMemory]] = field(default_factory=dict)
    containers: dict[str, ContainerInfo] = field(default_factory=dict)
    serials: dict[int, tuple[ThreadInfo, int]] = field(default_factory=dict)
    ipv4_addrs: set[bytes] = field(default_factory=set)
    ipv6_nets: set[bytes] = field(default_factory=set)
    _cgroup_ids: dict[tuple, tuple[str, int] | None] = field(default_factory=dict)

    def mem(self, t: ThreadInfo) -> ThreadMemory:
        got = self.memory.get(id(t))
        if got is None or got[0] is not t:
            got = (t, ThreadMemory())
            self.memory[id(t)] = got
        return got[1]

    def serial(self, t: ThreadInfo) -> int:
        """A number unique to this thread object (a tid reused by a new thread gets a new one)."""
        got = self.serials.get(id(t))
        if got is None or got[0] is not t:
            got = (t, len(self.serials) + 1)
            self.serials[id(t)] = got
        return got[1]

    def is_local(self, t: ThreadInfo | None, addr: bytes) -> bool:
        """libsinsp's is_ipv4addr/is_ipv6addr_in_local_machine for an fd's source address."""
        found = self.container_of(t) if t is not None else None
        if len(addr) == 16:
            if found is not None:
                return False            # no IPv6 container networking
            return addr[:8] in self.ipv6_nets
        if found is not None:
            info = self.containers.get(found[0])
            if info is not None:
                if info.ip:
                    if info.ip == addr:
                        return True
                elif any(c.ip == addr for c in self.containers.values()):
                    return True
        return addr in self.ipv4_addrs

    def container_of(self, t: ThreadInfo) -> tuple[str, int] | None:
        """(12-character id, engine type) of the runc container the thread's cgroups name, if any."""
        key = tuple(t.cgroups)
        if key not in self._cgroup_ids:
            self._cgroup_ids[key] = match_runc(t.cgroups)
        return self._cgroup_ids[key]


def _match_one(path: str, prefix: str, suffix: str) -> str | None:
    """libsinsp's match_one_container_id: 64 id characters between the last prefix and the last
    suffix; a non-hex character is only noticed at absolute positions below 64, as there."""
    start = path.rfind(prefix)
    if start < 0:
        return None
    start += len(prefix)
    end = path.rfind(suffix) if suffix else len(path)
    if end < 0 or end - start != 64:
        return None
    bad = next((i for i in range(start, len(path)) if path[i] not in HEX), None)
    if bad is not None and bad < 64:
        return None
    return path[start:start + 12]


def match_runc(cgroups: list[str]) -> tuple[str, int] | None:
    """The runc container (12-character id, engine type) a thread's cgroups name, as the podman and
    docker engines of libsinsp 0.29.3 match them (engine by engine, cgroup by cgroup), or None."""
    for ctype, layouts in _RUNC_ENGINES:
        for entry in cgroups:
            path = entry.split("=", 1)[1] if "=" in entry else entry
            for prefix, suffix in layouts:
                cid = _match_one(path, prefix, suffix)
                if cid is not None:
                    return cid, ctype
    return None


class ViewState(StateEngine):
    """The state engine plus the facts of ViewExtras."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra = ViewExtras()
        self._nthreads_dirty = True
        self._nthreads: dict[int, int] = {}
        self._pre: tuple = (0, None, None)

    def load_section(self, sec: Section) -> None:
        super().load_section(sec)
        for i in sec.interfaces:
            if i.family == 4:
                self.extra.ipv4_addrs.add(bytes(i.addr))
            elif i.family == 6:
                self.extra.ipv6_nets.add(bytes(i.addr)[:8])
        for e in sec.threads:
            t = self.threads.get(e.tid)
            if t is not None:
                m = self.extra.mem(t)
                m.vmsize_kb, m.vmrss_kb, m.pfmajor, m.pfminor = e.vmsize_kb, e.vmrss_kb, e.pfmajor, e.pfminor
        self._nthreads_dirty = True

    def begin(self, ev: Event) -> EventContext:
        etype = ev.type
        child_tid = self._track_clone_child(ev) if etype in CLONE_EXITS else None
        before = self.threads.get(child_tid) if child_tid is not None else None
        threadless = self.modern and self.table.events[etype].name in _THREADLESS_041 \
            and ev.tid not in self.threads
        self._pre = (len(self.threads), child_tid, before)
        ctx = super().begin(ev)
        if threadless:
            self.threads.pop(ev.tid, None)
            ctx.tinfo = None
        return ctx

    def finish(self, ev: Event, ctx: EventContext) -> None:
        super().finish(ev, ctx)
        ntids, child_tid, before = self._pre
        etype = ev.type
        if etype in CLONE_EXITS:
            child = self.threads.get(child_tid) if child_tid is not None else None
            if child is not None and child is not before:
                self._track_mem(child, ev)
            self._nthreads_dirty = True
        elif etype in EXECVE_EXITS:
            self._track_execve(ev, ctx)
            self._nthreads_dirty = True
        elif etype in PROCEXIT:
            self._nthreads_dirty = True
        elif etype == SCHEDSWITCH_6_E:
            self._track_switch(ev, ctx)
        elif etype in CONTAINER_JSON_EVENTS:
            self._track_container_json(ev)
        elif etype == CONTAINER_E:
            self._track_container_e(ev)
        elif etype % 2 == 1 and self.table.events[etype].name in _VM_EXITS:
            self._track_vm(ev, ctx)
        if len(self.threads) != ntids:
            self._nthreads_dirty = True

    def _reset(self, ev: Event, t: ThreadInfo, *args, **kwargs) -> None:
        # current libsinsp does not trust the last fd of a thread on an exit it cannot pair, fd-using
        # or not (StateEngine only resets it for fd-using exits)
        if self.modern and ev.type % 2 == 1 and ev.type != t.lastevent_type + 1:
            t.lastevent_fd = -1
        super()._reset(ev, t, *args, **kwargs)

    # -- thread counts --------------------------------------------------------------------------
    def nthreads(self, t: ThreadInfo) -> int:
        """proc.nthreads: the threads of t's process (main thread included), libsinsp's nchilds + 1."""
        if self._nthreads_dirty:
            counts: dict[int, int] = {}
            for o in self.threads.values():
                if o.flags & CL_CLONE_THREAD and o.tid != o.pid:
                    counts[o.pid] = counts.get(o.pid, 0) + 1
            self._nthreads = counts
            self._nthreads_dirty = False
        return self._nthreads.get(t.pid, 0) + 1

    # -- parsers --------------------------------------------------------------------------------
    def _track_mem(self, t: ThreadInfo, ev: Event) -> None:
        if ev.nparams < 13:
            return
        m = self.extra.mem(t)
        m.pfmajor = p_int(ev, 8, False) or 0
        m.pfminor = p_int(ev, 9, False) or 0
        m.vmsize_kb = p_int(ev, 10, False) or 0
        m.vmrss_kb = p_int(ev, 11, False) or 0

    @staticmethod
    def _track_clone_child(ev: Event) -> int | None:
        """The tid of the thread a clone exit may create (the child, also when seen first)."""
        child = p_int(ev, 0)
        if child is None or child < 0:
            return None
        return child if child > 0 else ev.tid

    def _track_execve(self, ev: Event, ctx: EventContext) -> None:
        res = p_int(ev, 0)
        if ctx.tinfo is not None and res is not None and res >= 0:
            self._track_mem(ctx.tinfo, ev)

    def _track_vm(self, ev: Event, ctx: EventContext) -> None:
        if ctx.tinfo is None or ev.nparams < 4:
            return
        m = self.extra.mem(ctx.tinfo)
        m.vmsize_kb = p_int(ev, 1, False) or 0
        m.vmrss_kb = p_int(ev, 2, False) or 0

    def _track_switch(self, ev: Event, ctx: EventContext) -> None:
        t = ctx.tinfo
        if t is None or ev.nparams < 6:
            return
        m = self.extra.mem(t)
        m.pfmajor = p_int(ev, 1, False) or 0
        m.pfminor = p_int(ev, 2, False) or 0
        main = t if t.is_main() else self.threads.get(t.pid)
        if main is not None:
            mm = self.extra.mem(main)
            mm.vmsize_kb = p_int(ev, 3, False) or 0
            mm.vmrss_kb = p_int(ev, 4, False) or 0

    def _track_container_json(self, ev: Event) -> None:
        text = (p_str(ev, 0) or "").rstrip("\x00\n")
        try:
            doc = json.loads(text)["container"]
        except (ValueError, KeyError, TypeError):
            return
        if not isinstance(doc, dict) or "id" not in doc:
            return
        ctype = doc.get("type", CT_DOCKER)
        try:
            ip = socket.inet_aton(str(doc.get("ip") or "0.0.0.0"))
        except OSError:
            ip = b""
        self.extra.containers[str(doc["id"])] = ContainerInfo(
            str(doc["id"]), ctype if isinstance(ctype, int) else CT_DOCKER,
            str(doc.get("name") or ""), str(doc.get("image") or ""), b"" if ip == bytes(4) else ip)

    def _track_container_e(self, ev: Event) -> None:
        cid = p_str(ev, 0)
        if not cid:
            return
        ctype = p_int(ev, 1, False)
        self.extra.containers[cid] = ContainerInfo(cid, CT_DOCKER if ctype is None else ctype,
                                                   p_str(ev, 2) or "", p_str(ev, 3) or "")
