"""Event lines as `sysdig -r` prints them (rendering §1, §3, §7), streamed while the file is read."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..parsers import eventtable as et
from ..parsers.reader import Event, ScapReader, Section
from ..state.engine import EventContext, StateEngine
from .params import ParamRenderer, Profile, profile

# events libsinsp consumes while opening a file when they lead it (container descriptions)
LEADING_CONTAINER_EVENTS = frozenset({228, 272, 324})
HIDDEN_041 = frozenset({"useradded", "userdeleted", "groupadded", "groupdeleted", "container"})
DETECT_EVENTS = 20000


def detect_compat(path: str, **reader_kw) -> str:
    """'0.29' for captures of enter/exit pairs, '0.41' for current exit-only captures.

    A capture is current when its syscall exits come without enter events and carry parameters that
    the 0.29.3 event table does not have (or use ids it does not know); an exit-only *subset* of an old
    capture (say `inspect write F "evt.dir=<"`) stays 0.29.
    """
    head, old = et.head(), et.v0293()
    enters = exits = newer = seen = 0
    r = ScapReader(path, **reader_kw)
    try:
        for it in r.items():
            if isinstance(it, Section):
                continue
            info = head.events[it.type]
            if info.category & et.EC_SYSCALL and it.type > 1:
                if it.type % 2 == 0:
                    enters += 1
                else:
                    exits += 1
                    if it.type >= old.max_event or it.nparams > len(old.events[it.type].params):
                        newer += 1
            seen += 1
            if seen >= DETECT_EVENTS or enters:
                break
    finally:
        r.close()
    return "0.41" if exits and not enters and newer else "0.29"


@dataclass
class Rendered:
    num: int
    ev: Event
    ctx: EventContext


class EventStream:
    """Reads a capture, replays state, and yields the events sysdig would print, numbered as it does."""

    def __init__(self, reader: ScapReader, prof: Profile, state: StateEngine | None = None):
        self.reader = reader
        self.prof = prof
        self.state = state or StateEngine(et.head(), modern=prof.name != "0.29")
        self.renderer = ParamRenderer(self.state, prof)

    def events(self, include_hidden: bool = False, accept=None) -> Iterator[Rendered]:
        """Events in file order, numbered as sysdig numbers them.

        ``accept(item) -> bool`` is a capture filter applied the way sysdig 0.29.3 applies one: events
        that change state are tested after they are parsed; the others right after their thread and fd
        are looked up, and a rejected one is not parsed at all.
        """
        prof = self.prof
        pre_parse = prof.name == "0.29"
        modifies = et.EF_MODIFIES_STATE
        ptable = prof.table.events
        maxev = prof.max_event
        num = 0
        leading = True
        state = self.state
        for it in self.reader.items():
            if isinstance(it, Section):
                state.load_section(it)
                continue
            etype = it.type
            if etype >= maxev:
                continue
            num += 1
            if accept is None:
                ctx = state.process(it)
            else:
                ctx = state.begin(it)
                if pre_parse and not ptable[etype].flags & modifies:
                    item = Rendered(num, it, ctx)
                    if not accept(item):
                        state.reject(it, ctx)
                        continue
                    state.finish(it, ctx)
                else:
                    state.finish(it, ctx)
                    if not accept(Rendered(num, it, ctx)):
                        continue
            hidden = False
            if leading and etype in LEADING_CONTAINER_EVENTS:
                hidden = True
            else:
                leading = False
                info = ptable[etype]
                if info.category & et.EC_INTERNAL:
                    hidden = True
                elif prof.name == "0.41" and info.name in HIDDEN_041:
                    hidden = True
                if it.flags & 1:      # SCAP_DF_STATE_ONLY
                    hidden = True
            if hidden and not include_hidden:
                continue
            if ctx.tinfo is None and etype not in (272, 324):
                ctx.tinfo = state.find_thread(it.tid)
            yield Rendered(num, it, ctx)

    def type_name(self, ev: Event) -> str:
        if ev.type in (0, 1):
            raw = ev.raw(0)
            code = int.from_bytes(raw[:2], "little") if raw is not None and len(raw) >= 2 else 0
            name = self.prof.table.syscall_name(code)
            if name is None:
                return "<unknown>"
            return name
        return self.prof.table.events[ev.type].name


def _utc_offset() -> int:
    return time.localtime().tm_gmtoff


def format_time(ts: int, offset: int) -> str:
    sec, ns = divmod(ts, 1_000_000_000)
    s = (sec + offset) % 86400
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}.{ns:09d}"


def text_lines(stream: EventStream) -> Iterator[str]:
    """The default sysdig line: num time cpu comm (tid) dir type info."""
    offset = _utc_offset()
    r = stream.renderer
    for item in stream.events():
        ev, ctx = item.ev, item.ctx
        t = ctx.tinfo
        comm = t.comm if t is not None else "<NA>"
        d = ">" if ev.type % 2 == 0 else "<"
        info = r.info(ev, ctx)
        yield f"{item.num} {format_time(ev.ts, offset)} {ev.cpu} {comm} ({ev.tid}) {d} {stream.type_name(ev)} {info}"


def json_lines(stream: EventStream) -> Iterator[str]:
    """sysdig -j: one object per event, keys sorted, jsoncpp escaping."""
    r = stream.renderer
    for item in stream.events():
        ev, ctx = item.ev, item.ctx
        t = ctx.tinfo
        comm = jstr(t.comm) if t is not None else "null"
        d = ">" if ev.type % 2 == 0 else "<"
        info = r.info(ev, ctx, json_mode=True)
        yield (f'{{"evt.cpu":{ev.cpu},"evt.dir":"{d}","evt.info":{jstr(info)},"evt.num":{item.num},'
               f'"evt.outputtime":{ev.ts},"evt.type":{jstr(stream.type_name(ev))},"proc.name":{comm},'
               f'"thread.tid":{_i64(ev.tid)}}}')


def _i64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


_JESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def jstr(s: str) -> str:
    """A JSON string as jsoncpp 1.9.5 writes it (emitUTF8 off: non-ASCII as lowercase \\u escapes)."""
    b = s.encode("utf-8", "surrogateescape")
    txt = b.decode("utf-8", "replace")
    out = ['"']
    for ch in txt:
        o = ord(ch)
        if ch in _JESC:
            out.append(_JESC[ch])
        elif o < 0x20:
            out.append(f"\\u{o:04x}")
        elif o < 0x80:
            out.append(ch)
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            o -= 0x10000
            out.append(f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}")
    out.append('"')
    return "".join(out)


__all__ = ["EventStream", "detect_compat", "text_lines", "json_lines", "format_time", "jstr", "profile", "json"]
