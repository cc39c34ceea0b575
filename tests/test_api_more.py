"""Drill-down and field listing through the public API, on the bundled samples."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import scapinspect as si
from scapinspect.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_captures"


def test_drill_down_from_procs_narrows_to_that_process():
    cap = si.open(str(SAMPLES / "curl_http.scap"))
    procs = cap.view("procs")
    pid = int(cap.events["proc.pid"].dropna().astype(int).mode()[0])    # the busiest process
    assert pid in set(procs["PID"].astype(int))
    target, sub = cap.drill("procs", pid)
    assert target == "threads"
    ev = sub.events
    assert len(ev) > 0
    assert set(ev["proc.pid"].dropna().astype(int)) == {pid}
    assert len(ev) < len(cap.events)


def test_fields_command_lists_catalog_with_descriptions():
    res = CliRunner().invoke(main, ["fields", "proc."])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert any(line.startswith("proc.name ") for line in lines)
    assert all(line.split()[0].startswith("proc.") for line in lines)
    bad = CliRunner().invoke(main, ["fields", "nope."])
    assert bad.exit_code == 2
