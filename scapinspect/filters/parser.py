"""Parser for sysdig filter expressions, checked against the field catalog.

Grammar and precedence follow libsinsp (``filter/parser.cpp`` at HEAD): ``or`` binds loosest, then
``and``, then any number of ``not`` (``not not x`` is ``x``). sysdig 0.29.3 (``filter.cpp``
``sinsp_filter_compiler::compile_``) instead rejects ``and`` and ``or`` mixed at the outermost level
and, inside parentheses, evaluates a mixed chain right to left (``a and b or c`` is
``a and (b or c)``), and treats repeated ``not`` as one; ``dialect="0.29"`` reproduces that.
"""
from __future__ import annotations

import difflib
import re

from . import fields as F
from . import values as V
from .ast import And, Check, FieldRef, Node, Not, Or
from .errors import FilterError

DIALECTS = ("head", "0.29")
MAX_DEPTH = 100

_BLANKS = " \t\r\n\b"
_FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_RE = re.compile(r"[^()\"' \t\r\n\x08]+")
_BARE_LIST_RE = re.compile(r"[^()\"' \t\r\n\x08,]+")
_BARE_ARG_RE = re.compile(r"[^\[\]\"' \t\r\n\x08]+")
_INDEX_RE = re.compile(r"\d+\Z")
_SIMPLE_ESC = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "\\": "\\", "/": "/"}


def dialect_for(compat: str | None) -> str:
    """The filter dialect that reads filters as the sysdig a capture's output follows (its ``compat``
    profile name: "0.29" for sysdig 0.29.3, anything else current libsinsp)."""
    return "0.29" if compat == "0.29" else "head"


def parse(text: str, *, dialect: str = "head") -> Node:
    """Parse a filter string into its syntax tree.

    Args:
        text: the filter, e.g. ``evt.type=open and not fd.name contains lib``.
        dialect: ``"head"`` (current libsinsp precedence) or ``"0.29"`` (sysdig 0.29.3 rules).

    Returns:
        the root node. Raises FilterError (with a 1-based column) on any error: syntax, unknown
        field, operator not valid for the field's type, or a value of the wrong type.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, not {dialect!r}")
    return _Parser(text, dialect).parse()


class _Parser:
    def __init__(self, text: str, dialect: str) -> None:
        self.text = text
        self.pos = 0
        self.dialect = dialect
        self.after = "the start of the filter"   # describes the last token, for messages

    # --- helpers
    def error(self, message: str, index: int, hint: str | None = None) -> FilterError:
        return FilterError(message, index + 1, hint)

    def skip(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _BLANKS:
            self.pos += 1
        return self.pos > start

    def token(self) -> str:
        """The text from the cursor to the next blank, shortened for messages."""
        end = self.pos
        while end < len(self.text) and self.text[end] not in _BLANKS:
            end += 1
        word = self.text[self.pos:end] or self.text[self.pos:self.pos + 1]
        return word if len(word) <= 30 else word[:27] + "..."

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def keyword(self, words: tuple[str, ...]) -> str | None:
        """Consume ``and``/``or``/``not`` when followed by a blank or '('."""
        for word in words:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and (end == len(self.text) or self.text[end] in _BLANKS + "("):
                self.pos = end
                return word
        return None

    # --- grammar
    def parse(self) -> Node:
        if not self.text.strip(_BLANKS):
            raise self.error("empty filter", 0)
        node = self.sequence(0)
        self.skip()
        if self.pos < len(self.text):
            if self.peek() == ")":
                raise self.error("unbalanced parentheses: unexpected ')'", self.pos)
            token = self.token()
            raise self.error(f"unexpected {token!r} after {self.after}", self.pos,
                             "expected 'and', 'or' or the end of the filter")
        return node

    def sequence(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(f"filter nests deeper than {MAX_DEPTH} levels", self.pos)
        units = [self.unit(depth)]
        ops: list[tuple[str, int]] = []
        while True:
            self.skip()
            start = self.pos
            word = self.keyword(("and", "or"))
            if word is None:
                break
            self.after = f"'{word}'"
            ops.append((word, start))
            units.append(self.unit(depth))
        if not ops:
            return units[0]
        if self.dialect == "head":
            return _by_precedence(units, [op for op, _ in ops])
        return self.chain_029(units, ops, depth)

    def chain_029(self, units: list[Node], ops: list[tuple[str, int]], depth: int) -> Node:
        first = ops[0][0]
        mixed = next(((op, at) for op, at in ops if op != first), None)
        if mixed is not None and depth == 0:
            raise self.error(f"'and' and 'or' are mixed without parentheses ('{mixed[0]}')", mixed[1],
                             "sysdig 0.29.3 requires parentheses around one of them")
        return _right_nested(units, [op for op, _ in ops])

    def unit(self, depth: int) -> Node:
        nots = 0
        self.skip()
        start = self.pos
        while True:
            if self.keyword(("not",)):
                nots += 1
                self.after = "'not'"
                self.skip()
            else:
                break
        child = self.primary(depth)
        negate = nots % 2 == 1 if self.dialect == "head" else nots > 0
        return Not(child, start + 1) if negate else child

    def primary(self, depth: int) -> Node:
        self.skip()
        ch = self.peek()
        if ch == "":
            raise self.error(f"missing expression after {self.after}", self.pos)
        if ch == "(":
            open_at = self.pos
            self.pos += 1
            self.after = "'('"
            node = self.sequence(depth + 1)
            self.skip()
            if self.peek() != ")":
                if self.pos >= len(self.text):
                    raise self.error("unbalanced parentheses: '(' is never closed", open_at)
                token = self.token()
                raise self.error(f"unexpected {token!r} after {self.after}", self.pos,
                                 "expected 'and', 'or' or ')'")
            self.pos += 1
            self.after = "')'"
            return node
        if ch == ")":
            raise self.error(f"missing expression before ')' after {self.after}", self.pos)
        return self.check()

    def check(self) -> Check:
        start = self.pos
        m = _FIELD_RE.match(self.text, self.pos)
        if m and m.group() in ("and", "or"):
            raise self.error(f"missing expression before '{m.group()}'", self.pos)
        if not m:
            token = self.token()
            raise self.error(f"expected a field, 'not' or '(' but found {token!r}", self.pos)
        self.pos = m.end()
        arg = self.bracket_arg() if self.peek() == "[" else None
        ref = self.resolve(m.group(), arg, start)
        self.after = f"'{ref}'"
        op, op_at = self.operator(ref)
        info = F.FIELDS[ref.name]
        problem = V.check_operator(info, op)
        if problem:
            raise self.error(problem, op_at)
        self.after = f"'{op}'"
        if op == V.OP_EXISTS:
            return Check(ref, op, None, start + 1)
        if op in V.LIST_OPS:
            items = self.list_value(op)
        else:
            items = [self.single_value(op)]
        for text, at in items:
            try:
                V.convert(info, op, text)
            except ValueError as exc:
                hint = None
                if info.name == "evt.type":
                    close = difflib.get_close_matches(text, sorted(V.event_names()), n=1)
                    hint = f"did you mean {close[0]}?" if close else None
                raise self.error(str(exc), at, hint) from None
        value: str | tuple[str, ...] = tuple(t for t, _ in items) if op in V.LIST_OPS else items[0][0]
        self.after = repr(self.text[start:self.pos])
        return Check(ref, op, value, start + 1, tuple(at + 1 for _, at in items))

    def bracket_arg(self) -> tuple[str, int]:
        open_at = self.pos
        self.pos += 1
        if self.peek() in ("'", '"'):
            arg = self.quoted()
        else:
            m = _BARE_ARG_RE.match(self.text, self.pos)
            if not m:
                raise self.error("expected a field argument inside '[...]'", self.pos)
            arg = m.group()
            self.pos = m.end()
        if self.peek() != "]":
            raise self.error("missing ']' after the field argument", open_at)
        self.pos += 1
        return arg, open_at

    def resolve(self, name: str, bracket: tuple[str, int] | None, start: int) -> FieldRef:
        info = F.FIELDS.get(name)
        dotted = None
        if info is None:
            split = F.split_dotted(name)
            if split is None:
                close = F.suggest(name)
                raise self.error(f"unknown field {name!r}", start, f"did you mean {close}?" if close else None)
            info, dotted = split
        if info.arg is None:
            if bracket is not None:
                raise self.error(f"field {info.name} takes no argument", bracket[1])
            return FieldRef(info.name)
        if dotted is not None and bracket is not None:
            raise self.error(f"field {name} has two arguments", bracket[1])
        if dotted is not None:
            return FieldRef(info.name, dotted)
        if bracket is None:
            if info.arg == F.ARG_INDEX:
                return FieldRef(info.name)
            example = f"{info.name}.NAME or {info.name}[N]" if info.arg == F.ARG_NAME_OR_INDEX else f"{info.name}.NAME"
            raise self.error(f"field {info.name} needs an argument, e.g. {example}", start)
        arg, at = bracket
        if info.arg == F.ARG_DOTTED:
            raise self.error(f"field {info.name} takes its argument as {info.name}.NAME", at)
        if _INDEX_RE.match(arg):
            return FieldRef(info.name, str(int(arg)), True)
        if info.arg == F.ARG_INDEX:
            raise self.error(f"the argument of {info.name} must be a number, got {arg!r}", at + 1)
        if F.split_dotted(f"{info.name}.{arg}") is not None:
            return FieldRef(info.name, arg)      # evt.arg[fd] is evt.arg.fd
        return FieldRef(info.name, arg, True)

    def operator(self, ref: FieldRef) -> tuple[str, int]:
        self.skip()
        at = self.pos
        if at >= len(self.text):
            raise self.error(f"missing operator after '{ref}'", at)
        for op in V.SYMBOL_OPS:
            if self.text.startswith(op, at):
                self.pos += len(op)
                return ("=" if op == "==" else op), at
        m = _WORD_RE.match(self.text, at)
        if m and m.group() in V.WORD_OPS:
            self.pos = m.end()
            return m.group(), at
        token = m.group() if m else self.token()
        close = difflib.get_close_matches(token, V.ALL_OPS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "expected one of " + " ".join(V.ALL_OPS)
        raise self.error(f"unknown operator {token!r} after '{ref}'", at, hint)

    def single_value(self, op: str) -> tuple[str, int]:
        blank = self.skip()
        at = self.pos
        ch = self.peek()
        m = _BARE_RE.match(self.text, at)
        if ch == "" or ch == ")" or ch == "(" or (ch not in ("'", '"') and not m):
            raise self.error(f"missing value after '{op}'", at)
        if ch in ("'", '"'):
            return self.quoted(), at
        assert m is not None
        word = m.group()
        rest = self.text[m.end():].strip(_BLANKS)
        if blank and word in ("and", "or", "not") and rest:
            raise self.error(f"missing value after '{op}'", at)
        self.pos = m.end()
        return word, at

    def list_value(self, op: str) -> list[tuple[str, int]]:
        self.skip()
        open_at = self.pos
        if self.peek() != "(":
            raise self.error(f"expected '(' after '{op}'", self.pos, f"write {op} (a, b, ...)")
        self.pos += 1
        items: list[tuple[str, int]] = []
        self.skip()
        if self.peek() == ")":
            self.pos += 1
            return items
        while True:
            self.skip()
            at = self.pos
            ch = self.peek()
            if ch == "":
                raise self.error(f"unbalanced parentheses: the list of '{op}' is never closed", open_at)
            if ch in ("'", '"'):
                items.append((self.quoted(), at))
            else:
                m = _BARE_LIST_RE.match(self.text, at)
                if not m:
                    raise self.error(f"missing value in the list of '{op}'", at)
                items.append((m.group(), at))
                self.pos = m.end()
            self.skip()
            ch = self.peek()
            if ch == ",":
                self.pos += 1
            elif ch == ")":
                self.pos += 1
                return items
            elif ch == "":
                raise self.error(f"unbalanced parentheses: the list of '{op}' is never closed", open_at)
            else:
                raise self.error(f"expected ',' or ')' in the list of '{op}'", self.pos)

    def quoted(self) -> str:
        """A '...' or "..." string with libsinsp's escapes (\\n \\t \\\\ \\" \\xHH ...)."""
        delim = self.text[self.pos]
        start = self.pos
        out: list[str] = []
        i = self.pos + 1
        while i < len(self.text):
            ch = self.text[i]
            if ch == delim:
                self.pos = i + 1
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            esc = self.text[i + 1] if i + 1 < len(self.text) else ""
            if esc in _SIMPLE_ESC:
                out.append(_SIMPLE_ESC[esc])
            elif esc == delim:
                out.append(esc)
            elif esc == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", self.text[i + 2:i + 4]):
                out.append(chr(int(self.text[i + 2:i + 4], 16)))
                i += 2
            elif esc == "":
                break
            else:
                raise self.error(f"unsupported escape sequence '\\{esc}' in a quoted string", i)
            i += 2
        raise self.error("unterminated quoted string", start)


def _by_precedence(units: list[Node], ops: list[str]) -> Node:
    groups: list[list[Node]] = [[units[0]]]
    for op, unit in zip(ops, units[1:], strict=True):
        if op == "or":
            groups.append([unit])
        else:
            groups[-1].append(unit)
    terms = [g[0] if len(g) == 1 else And(tuple(g)) for g in groups]
    return terms[0] if len(terms) == 1 else Or(tuple(terms))


def _right_nested(units: list[Node], ops: list[str]) -> Node:
    """sysdig 0.29.3's left-to-right short-circuit chain, as a tree: a and b or c = a and (b or c)."""
    op = ops[0]
    run = 1
    while run < len(ops) and ops[run] == op:
        run += 1
    kind = And if op == "and" else Or
    if run == len(ops):
        return kind(tuple(units))
    rest = _right_nested(units[run:], ops[run:])
    return kind(tuple(units[:run]) + (rest,))
