"""Differential test: our event lines against what sysdig printed for the shared captures."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from scapinspect.parsers.reader import ScapReader
from scapinspect.render.events import EventStream, detect_compat, json_lines, profile, text_lines

SHARED = Path(__file__).resolve().parents[2] / "shared" / "captures"
CAPTURES = sorted(p.stem for p in SHARED.glob("*.scap")) if SHARED.is_dir() else []
pytestmark = pytest.mark.skipif(not CAPTURES, reason="../shared/captures is not here")


def _truth(name: str, fname: str) -> list[str]:
    p = SHARED / "truth" / name / fname
    data = p.read_bytes() if p.exists() else gzip.decompress(Path(f"{p}.gz").read_bytes())
    return data.decode("utf-8", "replace").splitlines()


def _ours(name: str, as_json: bool = False) -> list[str]:
    path = str(SHARED / f"{name}.scap")
    reader = ScapReader(path)
    stream = EventStream(reader, profile(detect_compat(path)))
    return list(json_lines(stream) if as_json else text_lines(stream))


def _identical(ours: list[str], ref: list[str]) -> float:
    if not ref:
        return 1.0 if not ours else 0.0
    by_num = {line.split(" ", 1)[0]: line for line in ours}
    hit = sum(1 for line in ref if by_num.get(line.split(" ", 1)[0]) == line)
    return hit / max(1, len(ref))


@pytest.mark.parametrize("name", CAPTURES)
def test_text_lines_match_sysdig(name):
    ref = _truth(name, "events.txt")
    ours = _ours(name)
    assert len(ours) == len(ref)
    assert _identical(ours, ref) >= 0.995


@pytest.mark.parametrize("name", CAPTURES)
def test_json_lines_match_sysdig(name):
    ref = _truth(name, "events.json")
    ours = _ours(name, as_json=True)
    assert len(ours) == len(ref)
    same = sum(1 for a, b in zip(ours, ref, strict=True) if json.loads(a) == json.loads(b))
    assert same == len(ref) or same / len(ref) >= 0.995


def test_compat_detection():
    if "mixed_io" not in CAPTURES or "curl_google" not in CAPTURES:
        pytest.skip("captures missing")
    assert detect_compat(str(SHARED / "mixed_io.scap")) == "0.41"
    assert detect_compat(str(SHARED / "curl_google.scap")) == "0.29"


def test_hidden_events_are_numbered_but_not_printed():
    if "curl_google" not in CAPTURES:
        pytest.skip("capture missing")
    ours = _ours("curl_google")
    # events 1-210 are procinfo: numbered, never printed
    assert ours[0].startswith("211 ")
    assert all(" procinfo " not in line for line in ours)
