"""Fast loading: the event frame of a capture built from numpy columns and one lean ordered pass.

    from scapinspect.fastpath import load_events
    df = load_events("capture.scap")      # == Capture(path).fields(DEFAULT_COLUMNS), much faster

Layers: walk.py (block walk, headers), params.py (parameter framing and integer decoding), replay.py
(the ordered state pass over pre-decoded columns), frame.py (typed columns), loader.py (the pipeline).
"""
from .loader import load_events
from .side import Side, register_tap, side_of
from .walk import Unsupported

__all__ = ["load_events", "Unsupported", "Side", "side_of", "register_tap"]
