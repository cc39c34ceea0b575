"""Operators allowed per field type, and conversion of filter values to the field's type.

Conversion follows libsinsp's value parser (``value_parser.cpp``, ``sinsp_numparser``): decimal
integers only, unsigned fields take negative input modulo 2**bits (``sscanf("%u")``), ports accept
service names, booleans are exactly ``true``/``false``, addresses containing a '.' are IPv4.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from functools import cache

from . import fields as F
from .fields import FieldInfo

OP_EXISTS = "exists"
SYMBOL_OPS = ("==", "!=", "<=", ">=", "=", "<", ">")
WORD_OPS = ("contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith",
            "glob", "iglob", "intersects", "in", "pmatch", "exists")
LIST_OPS = frozenset({"in", "intersects", "pmatch"})
ALL_OPS = tuple(op for op in SYMBOL_OPS if op != "==") + WORD_OPS

_ORDER = {"<", "<=", ">", ">="}
_COMMON = {"=", "!=", "in", "intersects", "exists"}
ALLOWED = {
    "numeric": _COMMON | _ORDER,
    "bool": _COMMON,
    "ip": _COMMON,
    "net": _COMMON,
    "string": _COMMON | _ORDER | {"contains", "icontains", "startswith", "endswith", "glob", "iglob", "pmatch"},
    "buffer": _COMMON | {"contains", "startswith", "endswith", "bcontains", "bstartswith"},
}
ALLOWED["dyn"] = ALLOWED["string"]

_INT_RE = re.compile(r"\s*([+-]?\d+)\Z")
_HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})*\Z")


def check_operator(info: FieldInfo, op: str) -> str | None:
    """An error message if ``op`` cannot be applied to the field, else None."""
    kind = F.type_kind(info.type)
    if op in ALLOWED[kind]:
        return None
    return f"operator '{op}' is not supported for {info.name} ({info.type})"


def convert(info: FieldInfo, op: str, text: str) -> object:
    """Convert one filter value to what the evaluator compares with; ValueError on bad input."""
    ftype = info.type
    if op in ("bcontains", "bstartswith"):
        return _hex(text)
    if ftype in F.NUMERIC_TYPES:
        if ftype == F.PORT:
            return _port(text)
        if ftype == F.DOUBLE:
            return _double(info, text)
        return _integer(info, text)
    if ftype == F.BOOL:
        if text == "true":
            return True
        if text == "false":
            return False
        raise ValueError(f"expected true or false for {info.name}, got {text!r}")
    if ftype == F.IPADDR:
        return _address(info, text)
    if ftype == F.IPNET:
        return _network(info, text)
    if ftype == F.BYTEBUF:
        return to_bytes(text)
    if info.name == "evt.type" and op in ("=", "!=", "in", "intersects") and text not in event_names():
        raise ValueError(f"unknown event type {text!r}")
    return text


def to_bytes(text: str) -> bytes:
    """Filter text as bytes: latin-1 keeps \\xHH escapes byte-exact, else UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _integer(info: FieldInfo, text: str) -> int:
    m = _INT_RE.match(text)
    if not m:
        raise ValueError(f"expected a whole number for {info.name} ({info.type}), got {text!r}")
    value = int(m.group(1))
    if info.type in F.UNSIGNED_BITS:
        return value % (1 << F.UNSIGNED_BITS[info.type])
    bits = F.SIGNED_BITS[info.type]
    if bits == 64:
        if not -(1 << 63) <= value < (1 << 63):
            raise ValueError(f"number {text!r} is out of range for {info.name} ({info.type})")
        return value
    value %= 1 << bits
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _double(info: FieldInfo, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number for {info.name} ({info.type}), got {text!r}") from None


def _port(text: str) -> int:
    if text == "":
        return 0
    if text.isdigit():
        return int(text) % 65536
    try:
        return socket.getservbyname(text)
    except OSError:
        raise ValueError(f"unrecognized port or service name {text!r}") from None


def _address(info: FieldInfo, text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        if "." in text:
            return ipaddress.IPv4Address(text)
        return ipaddress.IPv6Address(text)
    except ValueError:
        hint = " (use fd.net/fd.cnet/fd.snet for networks)" if "/" in text else ""
        raise ValueError(f"expected an IP address for {info.name}, got {text!r}{hint}") from None


def _network(info: FieldInfo, text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if "." in text and "/" not in text:
        raise ValueError(f"expected a network such as 10.0.0.0/8 for {info.name}, got {text!r}")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"expected a network such as 10.0.0.0/8 for {info.name}, got {text!r}") from None


def _hex(text: str) -> bytes:
    if not text or not _HEX_RE.match(text):
        raise ValueError(f"bcontains and bstartswith take an even number of hex digits, got {text!r}")
    return bytes.fromhex(text)


@cache
def event_names() -> frozenset[str]:
    """Every name evt.type can take: event names and generic syscall names of both libs tables."""
    from scapinspect.parsers import eventtable

    names: set[str] = set()
    for table in (eventtable.v0293(), eventtable.head()):
        names.update(e.name for e in table.events)
        names.update(table.syscall_names.values())
    return frozenset(names)
