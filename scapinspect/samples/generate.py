"""Build the sample captures in ``sample_captures/``: ``python -m scapinspect.samples.generate [OUTDIR]``.

Every capture is deterministic (fixed seeds, no wall clock) and looks like sysdig 0.29.3 recorded it:
enter/exit event pairs with event ids below 336 and exactly the parameters of the 0.29.3 event table,
procinfo noise, several CPUs, and a metadata preamble (MI, IL_V2, UL_V2, PL_V9 with the entry tail
sysdig 0.29 writes, one FDL_V2 per process) describing the processes alive when the capture starts.

* shell_session.scap: alice (uid 1000) on /dev/pts/0 over ssh runs cd, ls -la, cat, ps aux | grep nginx,
  a subshell, sudo tail (password prompt, setresuid), vi, curl (threaded DNS lookup) and exits, while
  bob (uid 1001) runs uptime and df on /dev/pts/1; sshd relays the output.
* curl_http.scap: a test script runs six curls against a local API server on 127.0.0.1:8080, each first
  resolving api.dev.internal over UDP with systemd-resolved (127.0.0.53:53): GET 200, GET 404, a JSON
  POST (201), two requests on one keep-alive connection, a chunked stream, and a 150 kB download whose
  data is cut at the snaplen (res keeps the real byte counts).
* web_502.scap: nginx proxies to 127.0.0.1:5000 where nothing listens: connect() gets -111
  (ECONNREFUSED), nginx logs the error and answers 502 to two remote clients (four requests); systemd
  then restarts the backend (gunicorn) and the next request is proxied and answered 200.
* intrusion.scap: a command injection in a python web tool running as root spawns ``sh -c``, which runs
  a reverse shell to 203.0.113.66:4444; the attacker runs id, reads /etc/shadow, writes a cron job to
  /etc/cron.d/sysupd and pipes a downloaded script into sh, which fetches and starts a cryptominer that
  connects to a mining pool.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

from .kernel import Kernel
from .scenario_intrusion import intrusion
from .scenario_shell import shell_session
from .scenario_web import curl_http, web_502

SCENARIOS: dict[str, Callable[..., Kernel]] = {
    "shell_session": shell_session,
    "curl_http": curl_http,
    "web_502": web_502,
    "intrusion": intrusion,
}
DEFAULT_OUTDIR = Path(__file__).resolve().parents[2] / "sample_captures"
DEFAULT_SNAPLEN = 80     # sysdig's default


def generate(outdir: str | Path = DEFAULT_OUTDIR, *, names: Iterable[str] | None = None,
             snaplen: int = DEFAULT_SNAPLEN, pl_layout: str = "0.29") -> list[Path]:
    """Write ``<name>.scap`` for each scenario (all by default) into ``outdir``; returns the paths.

    ``pl_layout`` "0.29" writes the process list entry tail as sysdig 0.29 does (loginuid and
    exe_writable only), which both 0.29.3 and current readers decode correctly; "current" writes the
    libs >= 0.10 tail (adds tty, pgid and pidns_init_start_ts, which sysdig 0.29.3 misreads).
    """
    if pl_layout not in ("0.29", "current"):
        raise ValueError(f"unknown process list layout {pl_layout!r}")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or SCENARIOS:
        kernel = SCENARIOS[name](snaplen=snaplen)
        path = out / f"{name}.scap"
        kernel.save(path, legacy_tail=pl_layout == "0.29")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scapinspect.samples.generate", description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", default=str(DEFAULT_OUTDIR), help="where to write (default: %(default)s)")
    ap.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="just this scenario (repeatable)")
    ap.add_argument("--snaplen", type=int, default=DEFAULT_SNAPLEN, help="bytes of I/O data kept (default: 80)")
    ap.add_argument("--pl-layout", choices=("0.29", "current"), default="0.29",
                    help="process list entry layout (default: the one sysdig 0.29 writes)")
    args = ap.parse_args(argv)
    for path in generate(args.outdir, names=args.only, snaplen=args.snaplen, pl_layout=args.pl_layout):
        print(f"{path}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
