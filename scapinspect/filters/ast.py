"""Syntax tree of a filter, and its canonical text form (``parse(to_string(t)) == t``).

Positions (1-based columns) ride along for error messages but take no part in equality.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_BARE_VALUE = re.compile(r"[^()\"'\s=,\\]+\Z")
_BARE_ARG = re.compile(r"[^\[\]\"'\s\\]+\Z")
_KEYWORDS = frozenset({"and", "or", "not"})
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field as written: ``name`` is the catalog entry, ``arg`` its argument if any.

    ``bracket`` tells ``evt.arg[0]`` (True) from ``evt.arg.fd`` (False).
    """

    name: str
    arg: str | None = None
    bracket: bool = False

    @property
    def column(self) -> str:
        """The frame column holding this field: ``proc.name``, ``evt.arg.fd``, ``proc.aname[2]``."""
        if self.arg is None:
            return self.name
        return f"{self.name}[{self.arg}]" if self.bracket else f"{self.name}.{self.arg}"

    def __str__(self) -> str:
        if self.arg is None or not self.bracket:
            return self.column
        arg = self.arg if _BARE_ARG.match(self.arg) else quote(self.arg)
        return f"{self.name}[{arg}]"


@dataclass(frozen=True, slots=True)
class Check:
    """One comparison. ``value`` is None for ``exists``, a tuple for list operators, else a str."""

    field: FieldRef
    op: str
    value: str | tuple[str, ...] | None
    pos: int = field(default=0, compare=False)
    value_pos: tuple[int, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node = Check | Not | And | Or


def quote(text: str) -> str:
    """``text`` as a double-quoted filter string with backslash escapes."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def format_value(text: str) -> str:
    """A value bare when it reads back unchanged, else quoted."""
    if _BARE_VALUE.match(text) and text not in _KEYWORDS:
        return text
    return quote(text)


def to_string(node: Node) -> str:
    """Canonical text: single spaces, ``=``-style operators unspaced, every nested and/or in parentheses."""
    if isinstance(node, Check):
        return _check_string(node)
    if isinstance(node, Not):
        inner = to_string(node.child)
        return f"not {inner}" if isinstance(node.child, Check) else f"not ({inner})"
    joiner = " and " if isinstance(node, And) else " or "
    parts = []
    for child in node.children:
        text = to_string(child)
        parts.append(f"({text})" if isinstance(child, And | Or) else text)
    return joiner.join(parts)


def _check_string(chk: Check) -> str:
    name = str(chk.field)
    if chk.op == "exists":
        return f"{name} exists"
    if isinstance(chk.value, tuple):
        return f"{name} {chk.op} (" + ", ".join(format_value(v) for v in chk.value) + ")"
    assert chk.value is not None
    value = format_value(chk.value)
    if chk.op[0].isalpha():
        return f"{name} {chk.op} {value}"
    return f"{name}{chk.op}{value}"


def walk(node: Node):
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, Not):
        yield from walk(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from walk(child)
