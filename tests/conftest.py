"""Shared fixtures: where the shared captures live, and small captures built on the fly."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# the shared folder sits beside the repository (CI lays a copy there too); an env var can point elsewhere
CAPTURES = Path(os.environ.get("SCAPINSPECT_CAPTURES", REPO.parent / "shared" / "captures"))


def shared_capture_paths() -> list[Path]:
    """The shared .scap captures, or [] when the shared folder is not there."""
    return sorted(CAPTURES.glob("*.scap")) if CAPTURES.is_dir() else []


@pytest.fixture(scope="session")
def captures_dir() -> Path:
    """The shared captures folder; tests that need it skip cleanly when it is absent."""
    if not shared_capture_paths():
        pytest.skip(f"shared captures not found in {CAPTURES}")
    return CAPTURES


@pytest.fixture(scope="session")
def shared_capture(captures_dir):
    """``shared_capture("sample")`` -> the path of shared/captures/sample.scap (skips if missing)."""
    def get(name: str) -> Path:
        p = captures_dir / f"{name}.scap"
        if not p.is_file():
            pytest.skip(f"shared capture {p.name} not found")
        return p
    return get


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test (sysdig prints local times; the recordings used TZ=UTC)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
