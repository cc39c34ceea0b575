"""`inspect write`: a subset of a capture (a filter, a time range) as a new capture."""
from __future__ import annotations

import click

from .cli_common import fail, report_warnings
from .parsers.errors import ScapError


@click.command("write")
@click.argument("capture", type=click.Path())
@click.argument("filter_expr", required=False, default=None, metavar="[FILTER]")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="the capture to write (gzip-compressed when it ends in .gz)")
@click.option("--from", "start", default=None, metavar="T0",
              help="keep events from T0: an ISO datetime, HH:MM:SS[.ns] on the capture's day (local time, "
                   "as `inspect events` prints it) or ns since the epoch")
@click.option("--to", "end", default=None, metavar="T1", help="keep events up to T1 (included), as --from")
@click.option("--comment", default=None, metavar="TEXT",
              help="a comment in the section header (sysdig 0.29.3 cannot open such a capture)")
@click.option("--state-events/--no-state-events", default=True, show_default=True,
              help="keep the filtered-out events that change state as invisible state-only events (as "
                   "`sysdig -F -w`), so that processes and fds resolve in the subset; without them the "
                   "subset holds what plain `sysdig -w` writes")
@click.option("--compat", type=click.Choice(["0.29", "0.41"]), default=None,
              help="apply the filter as this sysdig version (default: chosen from the capture's event style)")
@click.option("--strict", is_flag=True, help="exit 2 on a truncated or damaged capture")
@click.option("-q", "--quiet", is_flag=True, help="no summary line on stderr")
def write_cmd(capture: str, filter_expr: str | None, output: str, start: str | None, end: str | None,
              comment: str | None, state_events: bool, compat: str | None, strict: bool, quiet: bool) -> None:
    """Write the events of CAPTURE that FILTER keeps, between --from and --to, to a new capture, as
    `sysdig -r CAPTURE -w OUT FILTER` does: internal events are kept, and the processes, fds and users
    at the first event written are rebuilt into the new capture's process and fd lists."""
    from .export import TimeSpecError, write_subset
    from .filters.errors import FilterError

    try:
        res = write_subset(capture, output, filter=filter_expr, start=start, end=end, comment=comment,
                           state_events=state_events, compat=compat, strict=strict)
    except FilterError as e:
        fail(f"filter: {e}")
    except TimeSpecError as e:
        fail(f"time: {e}")
    except ScapError as e:
        fail(str(e))
    except (OSError, ValueError) as e:
        fail(str(e) if not isinstance(e, OSError) or not e.strerror else
             f"{e.filename or output}: {e.strerror}")
    report_warnings(res.warnings, strict)
    if not quiet:
        hidden = res.events - res.visible
        state = res.state_events + res.inflight
        parts = [f"{res.visible} shown"] + ([f"{hidden} internal"] if hidden else []) + \
            ([f"{state} state-only"] if state else [])
        click.echo(f"inspect: wrote {res.events + state} events to {output} ({', '.join(parts)})", err=True)
    if not res.events:
        click.echo("inspect: warning: no event selected: sysdig cannot open a capture without events", err=True)
