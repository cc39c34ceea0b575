"""The analyses' load-time taps (see scapinspect.fastpath.side): what each analysis records while the
fast load replays the capture, so that it can answer later without replaying it again."""
from __future__ import annotations

from ..fastpath.side import register_tap
from . import fast_summary as _fast_summary
from .spy_users import spy_row

register_tap("spy_users", {"execve", "chdir"}, spy_row)

# the overview (analyzers/fast_summary.py): the thread an execve left, its parent's name (proc.pname)
register_tap(_fast_summary.TAP, _fast_summary.TAP_EVENTS, _fast_summary.summary_tap)
