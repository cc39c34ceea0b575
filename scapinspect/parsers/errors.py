"""The reader's error hierarchy: every problem with a capture's bytes is a ScapError."""
from __future__ import annotations


class ScapError(Exception):
    """A capture could not be read. ``offset`` is in decompressed bytes (None when unknown)."""

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
        return f"{': '.join(where)}: {self.message}" if where else self.message


class NotACapture(ScapError):
    """The file is not a sysdig/Falco capture (wrong magic, empty, big-endian ...)."""


class CorruptBlock(ScapError):
    """A block's length, trailer or content is impossible."""


class TruncatedCapture(ScapError):
    """The capture ends in the middle of a block."""


class CaptureTooLarge(ScapError):
    """A compressed capture inflates past the allowed ratio."""
