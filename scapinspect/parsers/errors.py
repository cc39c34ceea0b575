"""The reader's error hierarchy: every problem with a capture's bytes is a ScapError."""
from __future__ import annotations

import re

# C0/C1 controls, DEL and the bidi overrides: a message is one line that cannot drive a terminal
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\udc80-\udcff]")


def _escape_char(m: re.Match[str]) -> str:
    o = ord(m.group())
    if 0xDC80 <= o <= 0xDCFF:        # an undecodable byte kept by surrogateescape
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def printable(text: object) -> str:
    """``text`` with control characters shown as escapes: safe to print on one terminal line."""
    s = str(text)
    return _UNPRINTABLE.sub(_escape_char, s) if _UNPRINTABLE.search(s) else s


class ScapError(Exception):
    """A capture could not be read. ``offset`` is in decompressed bytes (None when unknown).

    ``str(error)`` is one printable line: ``PATH: byte N: what``.
    """

    def __init__(self, message: str, *, path: str | None = None, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.offset = offset

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(str(self.path))
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        return printable(f"{': '.join(where)}: {self.message}" if where else self.message)


class NotACapture(ScapError):
    """The file is not a sysdig/Falco capture (wrong magic, empty, big-endian ...)."""


class CorruptBlock(ScapError):
    """A block's length, trailer or content is impossible.

    Metadata parsers set ``partial`` to what they decoded before the damage (None otherwise).
    """

    partial: object = None


class TruncatedCapture(ScapError):
    """The capture ends in the middle of a block."""


class CaptureTooLarge(ScapError):
    """A compressed capture inflates past the allowed ratio."""
