"""csysdig views: conformance with the recorded csysdig 0.29.3 output on the shared captures (compared
as the conformance scorer compares them), plus the value formats, merge rules, hash-table order,
view layout and the `inspect view` command."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scapinspect.analyzers.views import VIEWS, compute_view, format_double, format_reltime, view_frame
from scapinspect.analyzers.views import aggregate as ag
from scapinspect.analyzers.views.definitions import AVG, MAX, NONE, SUM
from scapinspect.analyzers.views.engine import view_info, view_result
from scapinspect.analyzers.views.fieldinfo import field_type
from scapinspect.analyzers.views.hashorder import HashOrder, key_bytes, map_order, table_hash
from scapinspect.analyzers.views.render import cell_number, cell_value, document_lines
from scapinspect.capture import Capture

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"
TRUTH = CAPTURES / "truth"
SCORER = CAPTURES.parent / "conformance" / "check.py"


def _scorer():
    spec = importlib.util.spec_from_file_location("conformance_check", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cases() -> list[tuple[str, str]]:
    if not TRUTH.is_dir():
        return []
    out = []
    for d in sorted(p for p in TRUTH.iterdir() if p.is_dir()):
        if not (CAPTURES / f"{d.name}.scap").is_file():
            continue
        for ref in sorted(d.glob("view_*.json*")):
            out.append((d.name, ref.name.split(".json")[0][5:]))
    return out


@pytest.fixture(scope="module")
def scorer():
    if not SCORER.is_file():
        pytest.skip(f"conformance scorer not found at {SCORER}")
    return _scorer()


@pytest.fixture(autouse=True)
def _utc(utc):
    """Times are compared with recordings made with TZ=UTC (the shared ``utc`` fixture)."""


_CAPS: dict[str, Capture] = {}


def _capture(name: str) -> Capture:
    if name not in _CAPS:
        _CAPS[name] = Capture(str(CAPTURES / f"{name}.scap"))
    return _CAPS[name]


# -- conformance -----------------------------------------------------------------------------------
@pytest.mark.skipif(not _cases(), reason=f"shared captures not found in {CAPTURES}")
@pytest.mark.parametrize(("capture", "view"), _cases())
def test_view_matches_csysdig(scorer, capture: str, view: str) -> None:
    cols, rows, _info = compute_view(_capture(capture), view)
    ours = json.dumps({"columns": cols, "rows": rows}).encode()
    ref = TRUTH / capture / f"view_{view}.json"
    hit, n, diffs = scorer.score_view(ours, ref)
    assert hit == n, "\n".join(diffs)
    ref_cols, _ = scorer.view_rows(json.loads(scorer.read_ref(ref)))
    assert not ref_cols or cols == ref_cols


@pytest.mark.skipif(not _cases(), reason=f"shared captures not found in {CAPTURES}")
@pytest.mark.parametrize("view", ["procs", "errors", "syscalls", "connections", "spy_users", "slow_io"])
def test_info_section_matches_csysdig(scorer, view: str) -> None:
    ref = json.loads(scorer.read_ref(TRUTH / "curl_google" / f"view_{view}.json"))
    ref_info = [s for s in ref["slices"] if "info" in s][-1]["info"]
    assert view_info(VIEWS[view]) == ref_info


@pytest.mark.skipif(not _cases(), reason=f"shared captures not found in {CAPTURES}")
@pytest.mark.parametrize(("capture", "view"), [("502Error", "errors"), ("502Error", "io_by_type"),
                                               ("502Error", "containers"), ("curl_google", "spy_users"),
                                               ("falco_empty", "port_bindings")])
def test_document_is_byte_identical_to_csysdig(scorer, capture: str, view: str) -> None:
    """Rows, order, keys, JSON number forms and the info section as csysdig -j -pc writes them (on
    views of at most 16 rows, where csysdig's sort keeps the hash-table order of ties)."""
    r = view_result(_capture(capture), view)
    ours = "\n".join(document_lines(zip(r.rows, r.keys, strict=True), r.info)) + "\n"
    assert ours == scorer.read_ref(TRUTH / capture / f"view_{view}.json").decode()


@pytest.mark.skipif(not _cases(), reason=f"shared captures not found in {CAPTURES}")
def test_filter_narrows_the_view() -> None:
    cap = _capture("curl_google")
    cols, rows, info = compute_view(cap, "procs", filter="proc.name=curl")
    assert [r[cols.index("PID")] for r in rows] == [17497]
    assert info["filterTemplate"] == '(proc.name=curl) and ((evt.type!=switch) and proc.pid="@#$f1CA^&;")'


@pytest.mark.skipif(not _cases(), reason=f"shared captures not found in {CAPTURES}")
def test_view_frame_is_typed() -> None:
    frame = view_frame(_capture("curl_google"), "syscalls")
    assert list(frame.columns) == ["CALLS/S", "TOT TIME", "AVG TIME", "SYSCALL"]
    assert str(frame["CALLS/S"].dtype) == "Int64"
    assert str(frame["TOT TIME"].dtype).startswith("timedelta64")
    assert frame.loc["sysdigevent", "CALLS/S"] == 54


@pytest.mark.skipif(not _cases(), reason=f"shared captures not found in {CAPTURES}")
def test_procs_cpu_and_page_faults_agree_with_procs() -> None:
    """No recorded output for these two: check them against procs and the capture's process list."""
    cap = _capture("502Error")
    pcols, prows, _ = compute_view(cap, "procs")
    ccols, crows, _ = compute_view(cap, "procs_cpu")
    cpu = {r[pcols.index("PID")]: r[pcols.index("CPU")] for r in prows}
    tot = {r[ccols.index("PID")]: r[ccols.index("TOT")] for r in crows}
    assert tot == pytest.approx(cpu)
    user_sys = {r[ccols.index("PID")]: r[ccols.index("USER")] + r[ccols.index("SYS")] for r in crows}
    assert user_sys[13969] == pytest.approx(tot[13969], abs=0.1)
    fcols, frows, _ = compute_view(cap, "page_faults")
    faults = {r[fcols.index("PID")]: (r[fcols.index("MAJOR")], r[fcols.index("MINOR")]) for r in frows}
    assert faults[13924] == (3, 6270) and faults[13851] == (2, 432)


# -- value formats -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("ns", "text"), [
    (0, "       0ns"), (820, "     820ns"), (1_820, "    1.82us"), (16_000, "      16us"),
    (1_214_999, "    1.21ms"), (16_000_000, "      16ms"), (22_030_000_000, "    22.03s"),
    (61 * 10**9, "       1:1"), (3 * 3600 * 10**9 + 62 * 10**9, "  03:01:02"), (9_999, "    9.99us"),
])
def test_reltime_format(ns: int, text: str) -> None:
    assert format_reltime(ns) == text


@pytest.mark.parametrize(("x", "text"), [
    (5 / 13, "0.38461538461538464"), (2 / 9, "0.22222222222222221"), (0.0, "0.0"), (3.0, "3.0"),
    (1e20, "1e+20"), (0.1, "0.10000000000000001"),
])
def test_double_format(x: float, text: str) -> None:
    assert format_double(x) == text


def test_cell_division_rules() -> None:
    # integers are printed raw, whatever the count or the duration
    assert cell_number(11502, 1, "UINT64", True, 5 * 10**9) == 11502
    assert cell_number(70, 7, "UINT64", False, 0) == 70
    # doubles: AVG divides by the count, TIME_AVG by the duration in seconds, only above 1
    assert cell_number(5.0, 13, "DOUBLE", False, 0) == 5 / 13
    assert cell_number(5.0, 13, "DOUBLE", True, 2 * 10**9) == 2.5
    assert cell_number(5.0, 13, "DOUBLE", True, 5 * 10**8) == 5.0
    # durations: divided and truncated, then formatted
    assert cell_value(7_000, 3, "RELTIME", False, 0) == "    2.33us"
    assert cell_value(7_000, 0, "RELTIME", False, 0) == "    7.00us"


def test_defaults_of_missing_values() -> None:
    assert field_type("evt.buflen.file").default() == 0
    assert field_type("thread.cpu").default() == 0.0
    assert field_type("user.name").default() == ""
    assert field_type("proc.pid").default() is None        # PF_ID numbers drop the row
    assert field_type("fd.sport").default() is None        # ports too
    assert field_type("evt.type.is.3").default() is None


# -- merge rules ---------------------------------------------------------------------------------------
def _cells(values, counts, ftype="UINT64", agg=NONE, gagg=NONE):
    return ag.Cells(list(values), list(counts), field_type({"UINT64": "evt.buflen", "DOUBLE": "thread.cpu",
                                                            "CHARBUF": "proc.exeline"}[ftype]
                                                           if ftype != "UINT64" else "evt.buflen.in"),
                    agg, gagg)


def test_premerge_first_sum_avg_max() -> None:
    keys = ["a", "b", "a", "a"]
    cols = [_cells([1, 2, 3, 4], [1, 1, 0, 1], agg=NONE), _cells([1, 2, 3, 4], [1, 1, 0, 1], agg=SUM),
            _cells([1, 2, 3, 4], [1, 1, 0, 1], agg=AVG), _cells([5, 2, 9, 4], [1, 1, 1, 1], agg=MAX),
            _cells(["x", "y", "zz", "w"], [1, 1, 1, 1], "CHARBUF", agg=MAX)]
    order, out = ag.premerge(keys, cols)
    assert order == ["a", "b"]
    assert (out[0].values, out[0].counts) == ([1, 2], [1, 1])
    assert (out[1].values, out[1].counts) == ([8, 2], [1, 1])       # SUM keeps the first count
    assert (out[2].values, out[2].counts) == ([8, 2], [2, 1])       # AVG adds the counts
    assert out[3].values == [9, 2]
    assert out[4].values == ["w", "y"]                                # MAX on text keeps the last


def test_groupby_sum_of_averages() -> None:
    # a CPU column (AVG per thread, SUM per process): sources with a count >= 2 add their average
    cpu = _cells([0.0, 5.0, 3.0], [0, 13, 10], "DOUBLE", AVG, SUM)
    procs = _cells([0, 13, 0], [0, 13, 0], agg=AVG, gagg=SUM)
    order, out = ag.groupby_merge([1, 1, 1], [cpu, procs])
    assert order == [1]
    assert out[0].values[0] == pytest.approx(5 / 13 + 3 / 10) and out[0].counts == [1]
    assert (out[1].values, out[1].counts) == ([1], [1])               # 13/13, integer division
    # one source only: no averaging at merge time, the raw sum stays (printed raw for integers)
    _, single = ag.groupby_merge([7, 8], [_cells([13, 0], [13, 0], agg=AVG, gagg=SUM)])
    assert single[0].values == [13, 0]


def test_sort_is_stable_and_compares_averages() -> None:
    col = _cells([10, 30, 10, 40], [1, 3, 1, 1], agg=AVG)
    assert ag.sort_rows([0, 1, 2, 3], col, descending=True) == [3, 0, 1, 2]


# -- hash-table order ------------------------------------------------------------------------------------
def test_table_hash_skips_last_byte() -> None:
    assert table_hash(b"ab\0") == ord("a") * 101 + ord("b")
    assert key_bytes(17496, "INT64") == (17496).to_bytes(8, "little")
    assert key_bytes("write", "CHARBUF") == b"write\0"


def test_hash_order_model() -> None:
    m = HashOrder()
    for k in (b"\x01\0", b"\x02\0", b"\x0e\0"):        # buckets 1, 2, and 1 again (13 buckets)
        m.insert(k)
    # an empty bucket's node goes to the list head; a node of a used bucket goes first in its run
    assert m.order() == [1, 2, 0]
    assert sorted(map_order(list(range(100)), "INT64")) == list(range(100))


# -- layout --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("view", "col"), [("procs", 4), ("syscalls", 1), ("errors", 1), ("connections", 6),
                                           ("files", 3), ("procs_errors", 1), ("containers", 1),
                                           ("spy_users", 1), ("slow_io", 2)])
def test_sorting_col(view: str, col: int) -> None:
    assert VIEWS[view].sorting_col() == col


def test_container_tags_choose_columns() -> None:
    files = VIEWS["files"]
    assert files.key_column().field == "fd.containername"
    assert files.key_column(containers=False).field == "fd.name"
    assert "Container" in [c.name for c in files.visible()]
    assert "Container" not in [c.name for c in files.visible(containers=False)]
    procs = VIEWS["procs"]
    assert [c.field for c in procs.layout()[:2]] == ["thread.tid", "proc.pid"]


def test_every_view_declares_known_fields() -> None:
    for v in VIEWS.values():
        for c in v.columns:
            assert field_type(c.field)
    assert {"procs_cpu", "page_faults"} <= set(VIEWS)


# -- command line ----------------------------------------------------------------------------------------
def _cli():
    from scapinspect.cli import main
    from scapinspect.cli_views import view_cmd
    main.add_command(view_cmd, "view")
    return main


def test_cli_unknown_view_is_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(_cli(), ["view", "nope", str(tmp_path / "x.scap")])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "procs" in lines[0] and "syscalls" in lines[0]


def test_cli_unreadable_capture(tmp_path: Path) -> None:
    bad = tmp_path / "bad.scap"
    bad.write_bytes(b"not a capture at all")
    res = CliRunner().invoke(_cli(), ["view", "procs", str(bad)])
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.skipif(not _cases(), reason=f"shared captures not found in {CAPTURES}")
def test_cli_json_and_table() -> None:
    cap = str(CAPTURES / "502Error.scap")
    res = CliRunner().invoke(_cli(), ["view", "errors", cap, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc == {"columns": ["COUNT", "ERROR"], "rows": [[126, "EAGAIN"], [111, "ENOENT"], [43, "EINPROGRESS"]]}
    res = CliRunner().invoke(_cli(), ["view", "errors", cap])
    assert res.output.splitlines()[0].split() == ["COUNT", "ERROR"]
    res = CliRunner().invoke(_cli(), ["view", "errors", cap, "evt.res=ENOENT", "--json"])
    assert json.loads(res.output)["rows"] == [[111, "ENOENT"]]
    res = CliRunner().invoke(_cli(), ["view", "errors", cap, "evt.res="])
    assert res.exit_code == 2
