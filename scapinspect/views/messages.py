"""App-wide messages: what the workers post (they compute, messages carry, handlers mutate)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from ..capture import Capture, CaptureInfo
    from .catalog import TabResult
    from .session import ScopeData


@dataclass
class LoadProgress(Message):
    """Events read so far while a scope loads; ``total`` is an estimate (None when unknown)."""
    phase: str
    done: int
    total: int | None
    rate: float
    eta: float | None


@dataclass
class CaptureOpened(Message):
    """The capture's header is read: file, host, time span, event count, reader warnings."""
    capture: Capture
    info: CaptureInfo


@dataclass
class LoadFailed(Message):
    """The capture could not be read at all."""
    error: str


@dataclass
class ScopeReady(Message):
    """The events and syscall list of a scope are computed (its overview tiles maybe not yet)."""
    key: tuple
    data: ScopeData


@dataclass
class ScopeRejected(Message):
    """A scope's filter failed; ``column`` is 1-based within the user's filter text (0: unknown)."""
    key: tuple
    error: str
    column: int


@dataclass
class TabReady(Message):
    """A tab's table for one scope is computed (or found unavailable)."""
    key: tuple
    tab: str
    result: TabResult


@dataclass
class MetricsReady(Message):
    """A scope's overview tiles (ScopeData.metrics) are computed."""
    key: tuple


@dataclass
class StreamReady(Message):
    """The whole conversation of one stream, for Follow."""
    key: tuple
    title: str
    sections: list
    error: str | None = None


@dataclass
class InfoProgress(Message):
    """More of the Syscalls list's evt.info is rendered (``done`` events); ``complete`` at the end."""
    done: int
    complete: bool = False
