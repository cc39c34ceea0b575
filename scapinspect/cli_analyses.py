"""`inspect spy-users` and `inspect echo`: the spy_users and echo_fds chisels on the command line.

Registered by cli.py (``main.add_command(spy_users_cmd, "spy-users")``, ``main.add_command(echo_cmd,
"echo")``). cli.py's helpers are imported when a command runs, so either module may import the other.
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator

import click

from .parsers.errors import ScapError

EXIT_CHISEL_ERROR = 1       # what sysdig exits with when a chisel fails
_KEEP = re.compile(r"(\x1b\[[0-9;]*m|\t)")


def use_color() -> bool:
    """Colour codes only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _safe(lines: Iterable[str], keep_sgr: bool) -> Iterator[str]:
    """Escape control characters from the capture, keeping tabs (hex dumps) and, when colouring,
    the SGR colour codes the chisel output carries."""
    from .cli_common import escape_terminal
    for line in lines:
        parts = _KEEP.split(line)
        yield "".join(p if i % 2 and (p == "\t" or keep_sgr) else escape_terminal(p)
                      for i, p in enumerate(parts))


def _open_stream(capture: str, compat: str | None, strict: bool, filter_expr: str | None):
    """The capture's event stream (narrowed by FILTER when filters are available) and its readers."""
    from .parsers.reader import ScapReader
    from .render.events import EventStream, detect_compat, profile

    mode = compat or detect_compat(capture)
    readers: list[ScapReader] = []

    def make_stream() -> EventStream:
        readers.append(ScapReader(capture, strict=strict))
        return EventStream(readers[-1], profile(mode))

    if not filter_expr:
        return make_stream(), readers
    return _filtered(make_stream, filter_expr), readers


def _filtered(make_stream: Callable, expr: str):
    from .cli_common import fail
    try:
        from .filters.stream import filter_stream
    except ImportError:
        fail(f"filters are not supported yet: {expr!r}")
    try:
        return filter_stream(make_stream, expr)
    except ValueError as e:
        fail(f"filter: {e}")


def _run(capture: str, compat: str | None, strict: bool, filter_expr: str | None, raw: bool, color: bool,
         lines_of: Callable) -> None:
    from .analyzers.spy_users import ChiselError
    from .cli_common import emit, fail, report_warnings

    readers: list = []
    errors: list[ChiselError] = []

    def until_error(lines: Iterable[str]) -> Iterator[str]:
        # end the stream normally so that emit writes everything printed before the failure
        try:
            yield from lines
        except ChiselError as e:
            errors.append(e)

    try:
        stream, readers = _open_stream(capture, compat, strict, filter_expr)
        lines = until_error(lines_of(stream))
        emit(lines if raw else _safe(lines, color), raw=True)
    except ScapError as e:
        fail(str(e))
    if errors:
        click.echo(f"inspect: {errors[0]}", err=True)
        sys.exit(EXIT_CHISEL_ERROR)
    report_warnings(readers[-1].warnings if readers else [], strict)


_COMMON = [
    click.argument("capture", type=click.Path()),
    click.argument("filter_expr", required=False, default=None, metavar="[FILTER]"),
    click.option("--compat", type=click.Choice(["0.29", "0.41"]), default=None,
                 help="behave as this sysdig version (default: chosen from the capture's event style)"),
    click.option("--strict", is_flag=True, help="exit 2 on a truncated or damaged capture"),
    click.option("--raw", is_flag=True, help="do not escape control characters from the capture"),
    click.option("-pc", "--print-container", "print_container", is_flag=True,
                 help="add container information, as sysdig -pc"),
]


def _common(fn):
    for deco in reversed(_COMMON):
        fn = deco(fn)
    return fn


@click.command("spy-users")
@_common
@click.option("--max-depth", type=int, default=-1, show_default=True,
              help="the deepest process level to show below the shell (-1: all)")
def spy_users_cmd(capture: str, filter_expr: str | None, compat: str | None, strict: bool, raw: bool,
                  print_container: bool, max_depth: int) -> None:
    """Commands run from shells and directories they visit, as `sysdig -r CAPTURE -c spy_users`."""
    from .analyzers.spy_users import spy_users_lines

    color = use_color()
    _run(capture, compat, strict, filter_expr, raw, color,
         lambda s: spy_users_lines(s, max_depth, color=color, print_container=print_container))


@click.command("echo")
@_common
@click.option("-A", "fmt", flag_value="ascii", help="payloads as text, line breaks kept (sysdig -A)")
@click.option("-X", "fmt", flag_value="hexascii", help="payloads as hex and ASCII (sysdig -X)")
@click.option("-x", "fmt", flag_value="hex", help="payloads as hex (sysdig -x)")
def echo_cmd(capture: str, filter_expr: str | None, compat: str | None, strict: bool, raw: bool,
             print_container: bool, fmt: str | None) -> None:
    """Data read and written on file descriptors, as `sysdig -r CAPTURE -c echo_fds`."""
    from .analyzers.io_streams import echo_fds_lines

    color = use_color()
    _run(capture, compat, strict, filter_expr, raw, color,
         lambda s: echo_fds_lines(s, fmt or "dotted", color=color, print_container=print_container))


__all__ = ["spy_users_cmd", "echo_cmd", "use_color"]
