"""Fuzzing the reader, the state engine and the text/JSON rendering with damaged shared captures.

The mutations live in tools/fuzz_long.py (shared with the long standalone run). Each hypothesis test
draws seeds for one mutation family; ``derandomize=True`` makes every CI run the same cases. Invariants
of every case: only ScapError escapes, the case ends within its time limit, and the lines of the events
that end before the first damaged byte are exactly the undamaged capture's lines.

Then ``inspect events`` itself on every cut of a shared capture: at each block boundary (a clean,
shorter capture) and inside each block (its complete events, then one warning, exit 0).
"""
from __future__ import annotations

import importlib.util
import random
import struct
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("fuzz_long", REPO / "tools" / "fuzz_long.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_long"] = fuzz
_spec.loader.exec_module(fuzz)

# cases per mutation family: 12 families x 175 = 2100 cases through reader + state + rendering
CASES_PER_MUTATION = 175
CASE_TIMEOUT = 10.0
FUZZ = settings(max_examples=CASES_PER_MUTATION, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True)
_ran: dict[str, int] = {}


@pytest.fixture(scope="module")
def seeds(captures_dir, tmp_path_factory):
    return fuzz.load_seeds(captures_dir, tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="module")
def case_path(tmp_path_factory):
    return tmp_path_factory.mktemp("cases") / "case.scap"


@pytest.mark.parametrize("mutation", sorted(fuzz.MUTATIONS))
def test_fuzz(mutation, seeds, case_path):
    @FUZZ
    @given(seed=st.integers(0, 2**64 - 1))
    def run(seed):
        case = fuzz.make_case(random.Random(seed), seeds, mutation)
        _ran[mutation] = _ran.get(mutation, 0) + 1
        res, failure = fuzz.check_case(case, case_path, CASE_TIMEOUT)
        assert failure is None, (f"{case.seed.name}/{case.mutation} strict={case.strict} json={case.as_json} "
                                 f"(replay: fuzz.make_case(random.Random({seed}), seeds, {mutation!r}))\n{failure}")
        if res.error is not None:
            assert "\n" not in str(res.error)
    run()


def test_fuzz_ran_enough_cases():
    if set(_ran) != set(fuzz.MUTATIONS):
        pytest.skip("only part of the fuzz tests ran")
    assert sum(_ran.values()) >= 2000, _ran


def test_mutations_report_the_first_damaged_byte(seeds):
    """The harness itself: every mutation's damage offset is the first byte that differs."""
    rng = random.Random(7)
    for name in sorted(fuzz.MUTATIONS):
        if name == "synth":
            continue
        for _ in range(20):
            seed = rng.choice(seeds)
            data, damage = fuzz.MUTATIONS[name](rng, seed, seeds)
            assert data[:damage] == seed.data[:damage], name
            assert damage == min(len(data), len(seed.data)) or data[damage] != seed.data[damage], name


# -- every cut of one capture, through the command line --------------------------------------------
def _cli(args):
    from scapinspect.cli import main
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.mark.parametrize("name", ["falco_cat_write"])
def test_cli_every_cut_prints_the_complete_events_then_one_warning(name, seeds, tmp_path):
    seed = next((s for s in seeds if s.name == name), None)
    if seed is None:
        pytest.skip(f"{name}.scap not in the shared captures")
    data = seed.data
    p = tmp_path / "cut.scap"
    p.write_bytes(data)
    # the mode is pinned: detect_compat guesses 0.41 for a prefix whose first syscall events are exits
    mode = ["--compat", seed.mode]
    full = _cli(["events", *mode, str(p)])
    assert full.exit_code == 0 and full.stderr == ""
    lines = full.stdout.splitlines()
    assert len(lines) == len(seed.lines)
    rng = random.Random(1)
    for b in seed.blocks[1:]:
        want = lines[:len(seed.lines_before(b.offset))]
        # at the boundary: a shorter capture, nothing to warn about
        p.write_bytes(data[:b.offset])
        r = _cli(["events", *mode, str(p)])
        assert (r.exit_code, r.stdout.splitlines(), r.stderr) == (0, want, ""), b
        # inside the block: the same events, then exactly one warning naming the block's offset
        cut = b.offset + rng.choice((1, 4, 11, 12, b.length // 2, b.length - 1))
        p.write_bytes(data[:min(cut, b.end - 1)])
        r = _cli(["events", *mode, str(p)])
        assert r.exit_code == 0 and r.stdout.splitlines() == want, b
        err = r.stderr.splitlines()
        assert len(err) == 1 and err[0].startswith(f"inspect: warning: {p}: byte {b.offset}: truncated capture"), err
        if b.offset % 16 == 0:
            s = _cli(["events", *mode, "--strict", str(p)])
            serr = s.stderr.splitlines()
            assert s.exit_code == 2 and len(serr) == 1
            assert serr[0].startswith(f"inspect: {p}: byte {b.offset}: truncated capture")
            assert s.stdout.splitlines() == want[:len(s.stdout.splitlines())]


def test_damage_inside_an_event_leaves_earlier_lines_alone(seeds, case_path):
    """A direct check of the prefix invariant: scribble over one mid-file event of each seed."""
    for seed in seeds:
        evs = [b for b in seed.blocks if b.type in fuzz.md.EVENT_BLOCKS]
        if len(evs) < 4:
            continue
        b = evs[len(evs) // 2]
        d = bytearray(seed.data)
        struct.pack_into("<I", d, b.offset + 4, 13)
        res = fuzz.run_case(bytes(d), seed.mode, case_path)
        assert res.crash is None
        want = seed.lines_before(b.offset)
        assert res.lines[:len(want)] == want
        assert res.counts["corrupt_blocks"] == 1
