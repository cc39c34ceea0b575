"""cap.connections(): one row per (process, socket, peer) with bytes by syscall results, on the bundled
samples and the shared captures (compared with sysdig's topconns chisel), and `inspect connections`."""
from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from scapinspect.analyzers.connections import CONNECTION_COLUMNS
from scapinspect.analyzers.io_streams import format_bytes
from scapinspect.capture import Capture
from scapinspect.cli_more import connections_cmd

SAMPLES = Path(__file__).resolve().parents[1] / "sample_captures"
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "captures"
TRUTH = CAPTURES / "truth"


def shared(name: str) -> Path:
    p = CAPTURES / f"{name}.scap"
    if not p.is_file():
        pytest.skip(f"shared capture {p} not found")
    return p


@pytest.fixture(scope="module")
def curl_http() -> pd.DataFrame:
    return Capture(str(SAMPLES / "curl_http.scap")).connections()


def row(df: pd.DataFrame, **kw) -> pd.Series:
    sel = df
    for k, v in kw.items():
        sel = sel[sel[k.replace("__", ".")] == v]
    assert len(sel) == 1, f"{kw}: {len(sel)} rows"
    return sel.iloc[0]


def test_columns_and_types(curl_http):
    assert tuple(curl_http.columns) == CONNECTION_COLUMNS
    assert str(curl_http["first_seen"].dtype) == "datetime64[ns, UTC]"
    assert str(curl_http["last_seen"].dtype) == "datetime64[ns, UTC]"
    assert (curl_http["last_seen"] >= curl_http["first_seen"]).all()


def test_curl_http_tcp_both_sides(curl_http):
    # the 150 kB download: curl reads what the server wrote, counted by res although 80 bytes were kept
    client = row(curl_http, proc__name="curl", remote__port=8080, local__port=41312)
    assert (client["l4proto"], client["direction"], client["server.ip"], client["server.port"]) == \
        ("tcp", "outbound", "127.0.0.1", 8080)
    assert (client["bytes_in"], client["bytes_out"], client["operations"]) == (150361, 103, 11)
    assert client["state"] == "closed" and not client["preexisting"]
    assert client["connection"] == "127.0.0.1:41312->127.0.0.1:8080"
    server = row(curl_http, proc__name="python3", remote__port=41312)
    assert (server["direction"], server["local.port"], server["client.port"]) == ("inbound", 8080, 41312)
    assert (server["bytes_in"], server["bytes_out"]) == (103, 150361)
    assert server["proc.cmdline"] == "python3 /srv/api/server.py --port 8080"
    # six curls, one connection each (the keep-alive one carries two requests)
    curls = curl_http[(curl_http["proc.name"] == "curl") & (curl_http["l4proto"] == "tcp")]
    assert len(curls) == 6 and (curls["direction"] == "outbound").all()


def test_curl_http_udp_peers(curl_http):
    """systemd-resolved's UDP server socket gets one row per client, named from each event's tuple (the
    fd name libsinsp derives there is garbled: 53.0.3.0:53)."""
    resolved = curl_http[curl_http["proc.name"] == "systemd-resolve"]
    assert len(resolved) == 6
    assert set(resolved["local.ip"]) == {"127.0.0.53"} and set(resolved["local.port"]) == {53}
    assert (resolved["direction"] == "inbound").all()
    assert (resolved["bytes_in"] == 90).all() and (resolved["bytes_out"] == 84).all()
    assert not resolved["remote.ip"].str.startswith("53.").any()
    dns = row(curl_http, proc__name="curl", local__port=40945)
    assert (dns["l4proto"], dns["remote.ip"], dns["remote.port"], dns["direction"]) == \
        ("udp", "127.0.0.53", 53, "outbound")
    assert (dns["bytes_in"], dns["bytes_out"]) == (84, 90)


def test_web_502_refused_connects_are_not_connections():
    df = Capture(str(SAMPLES / "web_502.scap")).connections()
    nginx_in = df[(df["proc.name"] == "nginx") & (df["direction"] == "inbound")]
    assert sorted(nginx_in["remote.ip"] + ":" + nginx_in["remote.port"].astype(str)) == \
        ["198.51.100.23:51514", "198.51.100.23:51530", "203.0.113.45:40022"]
    assert set(nginx_in["server.port"]) == {80}
    # four connect()s were refused (no row); the one after the backend restart is a connection
    upstream = df[(df["proc.name"] == "nginx") & (df["direction"] == "outbound")]
    assert len(upstream) == 1 and upstream.iloc[0]["server.port"] == 5000
    backend = df[df["proc.name"] == "python3"]
    assert len(backend) == 1 and backend.iloc[0]["direction"] == "inbound"
    assert backend.iloc[0]["bytes_out"] == upstream.iloc[0]["bytes_in"]


# -- shared captures -----------------------------------------------------------------------------------------
def test_curl_google_matches_topconns():
    df = Capture(str(shared("curl_google"))).connections()
    assert df["preexisting"].sum() == 2 and (df.loc[df["preexisting"], "operations"] == 0).all()   # sshd
    df = df[~df["preexisting"]]
    tcp = row(df, l4proto="tcp")
    assert tcp["connection"] == "2600:1f18:262c:6542:9aa6:df7a:9a47:d29e:37140->2607:f8b0:4004:802::2004:80"
    assert (tcp["bytes_in"], tcp["bytes_out"]) == (11502, 78)      # csysdig connections: BPS IN 11502
    assert tcp["proc.name"] == "curl" and tcp["direction"] == "outbound"
    udp = row(df, l4proto="udp")
    assert (udp["server.port"], udp["bytes_in"], udp["bytes_out"]) == (53, 60, 32)


def _topconns(name: str) -> list[tuple[str, str, str]]:
    lines = (TRUTH / name / "chisel_topconns.txt").read_text().splitlines()[2:]
    return [(ln.split()[0], ln.split()[-2], ln.split()[-1]) for ln in lines if ln.strip()]


# 502Error's haproxy syslog socket: sysdig names it from its garbled sockinfo union
# (192.168.128.156:55441->145.216.3.255:514); the events' tuples say 0.0.0.0:55441->127.0.0.1:514
TOPCONNS_NAMED_BY_GARBAGE = {("502Error", "192.168.128.156:55441->145.216.3.255:514")}


@pytest.mark.parametrize("name", ["502Error", "curl_google", "mixed_io", "single_ipv6_conn",
                                  "falco_connect_localhost", "sample"])
def test_topconns_totals(name):
    df = Capture(str(shared(name))).connections()
    total = (df["bytes_in"] + df["bytes_out"]).groupby([df["l4proto"].astype(str), df["connection"]]).sum()
    checked = 0
    for size, proto, conn in _topconns(name):
        if (name, conn) in TOPCONNS_NAMED_BY_GARBAGE:
            continue
        assert format_bytes(int(total.get((proto, conn), 0))) == size, conn
        checked += 1
    assert checked == len(_topconns(name)) - sum(1 for n, _ in TOPCONNS_NAMED_BY_GARBAGE if n == name)


def test_preexisting_connections_from_the_fd_list():
    df = Capture(str(shared("falco_connect_localhost"))).connections()
    sshd = df[df["proc.name"] == "sshd"]
    assert len(sshd) == 4 and sshd["preexisting"].all()
    assert sshd["first_seen"].isna().all() and (sshd["state"] == "open").all()
    assert set(sshd["local.port"]) == {22} and (sshd["direction"] == "inbound").all()
    new = df[~df["preexisting"]]
    assert list(new["server.port"]) == [80] and new.iloc[0]["direction"] == "outbound"


# -- CLI ------------------------------------------------------------------------------------------------
@pytest.fixture
def cli():
    group = click.Group()
    group.add_command(connections_cmd, "connections")
    runner = CliRunner()
    return lambda *args: runner.invoke(group, ["connections", *args])


def test_cli_table_and_filter(cli):
    res = cli(str(SAMPLES / "curl_http.scap"), "proc.name=curl")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split() == ["PROTO", "LOCAL", "REMOTE", "PROCESS", "FD", "IN", "OUT", "OPS", "STATE"]
    assert len(lines) == 13 and all("curl(" in ln for ln in lines[1:])
    assert any("127.0.0.1:41312  ->  127.0.0.1:8080" in ln and "150361" in ln for ln in lines)


def test_cli_json(cli):
    res = cli(str(SAMPLES / "web_502.scap"), "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {r["proc.name"] for r in rows} == {"nginx", "python3"}
    assert all(isinstance(r["first_seen"], str) and r["first_seen"].endswith("+00:00") for r in rows)
    assert set(rows[0]) == set(CONNECTION_COLUMNS)


def test_cli_errors(cli, tmp_path):
    bad = tmp_path / "bad.scap"
    bad.write_bytes(b"not a capture at all")
    for args in ((str(bad),), (str(tmp_path / "missing.scap"),), (str(SAMPLES / "web_502.scap"), "proc.name==")):
        res = cli(*args)
        assert res.exit_code == 2
        assert res.output.startswith("inspect: ") and res.output.count("\n") == 1
