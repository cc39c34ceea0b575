"""The tabs of the app and where a drill-down from each one goes (light: no numpy/pandas)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Drill:
    """Where Enter on a row of a tab goes: ``target`` tab, filtered on the first key column found."""
    target: str
    keys: tuple[tuple[str, str], ...]      # (column name, filter field)


@dataclass(frozen=True)
class TabSpec:
    id: str
    title: str
    source: str                 # "overview", "syscalls", "view:<csysdig view>", or an analysis name
    drill: Drill | None = None
    empty: str = "no rows"


_PID_KEYS = (("proc.pid", "proc.pid"), ("pid", "proc.pid"), ("PID", "proc.pid"))
_TID_KEYS = (("thread.tid", "thread.tid"), ("tid", "thread.tid"), ("TID", "thread.tid"))
_FD_KEYS = (("fd.name", "fd.name"), ("name", "fd.name"), ("connection", "fd.name"), ("stream", "fd.name"),
            ("FILENAME", "fd.name"), ("file", "fd.name"), ("key", "fd.name"))

TABS: tuple[TabSpec, ...] = (
    TabSpec("overview", "Overview", "overview"),
    TabSpec("spy_users", "Spy Users", "spy_users", Drill("syscalls", _PID_KEYS + _TID_KEYS)),
    TabSpec("connections", "Connections", "view:connections", Drill("io_streams", _FD_KEYS)),
    TabSpec("io_streams", "I/O Streams", "io_streams", Drill("syscalls", _FD_KEYS)),
    TabSpec("http", "HTTP", "http", Drill("io_streams", _FD_KEYS)),
    TabSpec("processes", "Processes", "view:procs", Drill("syscalls", _PID_KEYS)),
    TabSpec("files", "Files", "view:files", Drill("processes", _FD_KEYS)),
    TabSpec("directories", "Directories", "view:directories",
            Drill("files", (("fd.directory", "fd.directory"), ("DIRNAME", "fd.directory"),
                            ("directory", "fd.directory")))),
    TabSpec("errors", "Errors", "view:errors",
            Drill("processes", (("evt.res", "evt.res"), ("ERROR", "evt.res"), ("error", "evt.res")))),
    TabSpec("syscalls", "Syscalls", "syscalls", Drill("syscalls", _TID_KEYS)),
    TabSpec("views", "More views", "views", Drill("syscalls", ())),
)
VIEWS_TAB = "views"
DEFAULT_VIEW = "threads"


def view_tab_key(view_id: str) -> str:
    """Key of the More-views tab's result for one csysdig view."""
    return f"{VIEWS_TAB}:{view_id}"


def view_spec(view_id: str, title: str) -> TabSpec:
    """The spec the More-views tab takes while it shows ``view_id`` (drills on the view's row key)."""
    return TabSpec(VIEWS_TAB, title, f"view:{view_id}", Drill("syscalls", ()))
TAB_BY_ID = {t.id: t for t in TABS}

# overview categories, in Inspect's column order
CATEGORY_ORDER = ("general", "file", "network", "security", "performance", "events")
CATEGORY_TITLES = {"general": "General", "file": "File", "network": "Network", "security": "Security",
                   "performance": "Performance", "events": "Event categories"}


@dataclass(eq=False)          # compared by identity: a new result is a new object
class TabResult:
    """What a tab shows: a frame, or a note saying why not (``state``: ready/unavailable/failed)."""
    state: str
    frame: pd.DataFrame | None = None
    note: str = ""
    seconds: float = 0.0
    # columns whose cells come from elsewhere while they fill: name -> (frame -> (row -> cell text))
    lazy: dict | None = None
    plan: Any = None            # table.Plan: how the tab's table draws the frame, made once (see prepare)

    @classmethod
    def loading(cls) -> TabResult:
        return cls("loading", note="computing...")
