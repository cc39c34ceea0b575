"""`inspect view NAME FILE [FILTER]`: a csysdig view (the tables of Sysdig Inspect) on the command line.

Registered by cli.py (``main.add_command(view_cmd, "view")``). cli.py's helpers are imported when the
command runs, so either module may import the other.
"""
from __future__ import annotations

import click

from .parsers.errors import ScapError


@click.command("view", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("name", metavar="NAME")
@click.argument("capture", type=click.Path())
@click.argument("filter_expr", required=False, default=None, metavar="[FILTER]")
@click.option("--json", "as_json", is_flag=True, help='print {"columns": [...], "rows": [[...], ...]}')
@click.option("--csysdig", "as_csysdig", is_flag=True, help="print the document csysdig -j -pc prints")
@click.option("--no-containers", is_flag=True, help="the columns csysdig shows without -pc")
@click.option("--compat", type=click.Choice(["0.29", "0.41"]), default=None,
              help="replay as this sysdig version (default: chosen from the capture's event style)")
@click.option("--strict", is_flag=True, help="exit 2 on a truncated or damaged capture")
@click.option("--raw", is_flag=True, help="do not escape control characters from the capture")
def view_cmd(name: str, capture: str, filter_expr: str | None, as_json: bool, as_csysdig: bool,
             no_containers: bool, compat: str | None, strict: bool, raw: bool) -> None:
    """Print view NAME of CAPTURE as `csysdig -r CAPTURE -v NAME -j -pc [FILTER]` computes it.

    Views: containers, connections, directories, errors, file_opens, files, incoming_connections,
    io_by_type, page_faults, port_bindings, procs, procs_cpu, procs_errors, slow_io, sports, spy_users,
    syscall_procs, syscalls, threads.
    """
    from .analyzers.views import VIEWS, view_result
    from .cli_common import fail, report_warnings

    if name not in VIEWS:
        fail(f"unknown view {name!r}; known views: {', '.join(sorted(VIEWS))}")
    try:
        from .capture import Capture
        cap = Capture(capture, compat=compat, strict=strict)
        result = view_result(cap, name, filter=filter_expr, containers=not no_containers)
    except ScapError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{capture}: {e.strerror or e}")
    except ValueError as e:
        fail(f"filter: {e}")
    _print(result, as_json, as_csysdig, raw)
    report_warnings(result.warnings, strict)


def _print(result, as_json: bool, as_csysdig: bool, raw: bool) -> None:
    from .analyzers.views import document_lines
    from .analyzers.views.render import json_value, table_lines
    from .cli_common import emit, escape_terminal
    from .render.events import jstr

    if as_csysdig:
        emit(document_lines(zip(result.rows, result.keys, strict=True), result.info), raw=True)
    elif as_json:
        cols = ",".join(jstr(c) for c in result.columns)
        rows = ",".join("[" + ",".join(json_value(v) for v in r) + "]" for r in result.rows)
        emit([f'{{"columns":[{cols}],"rows":[{rows}]}}'], raw=True)
    else:
        esc = (lambda s: s) if raw else escape_terminal
        texts = [t in ("CHARBUF", "IPADDR") for t in result.types]
        rows = [[esc(v) if is_text else (v.strip() if isinstance(v, str) else v)
                 for v, is_text in zip(r, texts, strict=True)] for r in result.rows]
        right = [not is_text for is_text in texts]
        emit(table_lines([esc(c) for c in result.columns], rows, right), raw=True)
