"""The analyses' load-time taps (see scapinspect.fastpath.side): what each analysis records while the
fast load replays the capture, so that it can answer later without replaying it again."""
from __future__ import annotations

from ..fastpath.side import register_tap
from .spy_users import spy_row

register_tap("spy_users", {"execve", "chdir"}, spy_row)
