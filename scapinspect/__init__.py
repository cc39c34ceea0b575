"""scapinspect: read sysdig/Falco .scap captures into pandas frames and the analyses sysdig and
Sysdig Inspect show (commands typed, connections, I/O), from Python, a terminal or a batch job.

    import scapinspect as si
    cap = si.open("capture.scap")
    cap.events
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["open", "read_scap", "Capture", "ScapError", "__version__"]


def __getattr__(name: str):
    # lazy: `import scapinspect` stays light (no pandas until asked, never textual)
    if name in ("open", "read_scap", "Capture"):
        from . import capture
        return getattr(capture, name)
    if name == "ScapError":
        from .parsers.errors import ScapError
        return ScapError
    raise AttributeError(name)
