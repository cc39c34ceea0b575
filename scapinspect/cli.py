"""The `inspect` command line. Every subcommand goes through scapinspect's public objects; errors
become one line on stderr and exit status 2, never a traceback."""
from __future__ import annotations

import sys

import click

from .cli_common import EXIT_BAD_INPUT, emit, escape_terminal, fail, report_warnings  # noqa: F401
from .parsers.errors import ScapError


class _Main(click.Group):
    """`inspect FILE` opens the TUI on FILE; `inspect` alone opens the bundled sample capture."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["tui", *args]
        elif not args:
            args = ["tui"]
        return super().parse_args(ctx, args)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--max-ratio", type=click.FloatRange(min=1), default=None, metavar="N",
              help="refuse gzip captures inflating past N times their size (default 100)")
def main(max_ratio: float | None) -> None:
    """Inspect sysdig/Falco .scap captures: events, commands, connections and I/O.

    `inspect FILE` opens the terminal UI on FILE (`--cache`: keep its events in the capture cache, see
    `inspect cache`); `inspect` alone opens a bundled sample.
    """
    if max_ratio is not None:
        import os
        os.environ["SCAPINSPECT_MAX_RATIO"] = str(max_ratio)


def sample_capture() -> str:
    """The bundled demo capture (shipped in the wheel, or in the source tree for editable installs)."""
    from importlib import resources
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for cand in (here / "sample_captures" / "shell_session.scap",
                 here.parent / "sample_captures" / "shell_session.scap"):
        if cand.is_file():
            return str(cand)
    try:
        ref = resources.files("scapinspect").joinpath("sample_captures/shell_session.scap")
        if ref.is_file():
            return str(ref)
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover
        pass
    fail("the bundled sample capture is missing; pass a capture file")
    return ""


@main.command("tui", hidden=True)
@click.argument("capture", required=False, type=click.Path())
@click.option("--cache/--no-cache", default=None,
              help="keep the event frame in the capture cache for the next open (default: SCAPINSPECT_CACHE)")
def tui_cmd(capture: str | None, cache: bool | None) -> None:
    """Open the terminal UI."""
    import os

    from .parsers.reader import ScapReader

    if cache is not None:       # the TUI's Capture follows the environment
        os.environ["SCAPINSPECT_CACHE"] = "1" if cache else "0"
    path = capture or sample_capture()
    try:
        ScapReader(path).close()       # a bad file is a one-line error, before the screen changes
    except ScapError as e:
        fail(str(e))
    if not sys.stdout.isatty():
        fail("the terminal UI needs a terminal; try `inspect events FILE`")
    from .views.app import run
    sys.exit(run(path) or 0)


@main.command("events")
@click.argument("capture", type=click.Path())
@click.argument("filter_expr", required=False, default=None, metavar="[FILTER]")
@click.option("-j", "--json", "as_json", is_flag=True, help="one JSON object per event, as sysdig -j")
@click.option("--compat", type=click.Choice(["0.29", "0.41"]), default=None,
              help="print as this sysdig version (default: chosen from the capture's event style)")
@click.option("--strict", is_flag=True, help="exit 2 on a truncated or damaged capture")
@click.option("--raw", is_flag=True, help="do not escape control characters from the capture")
def events_cmd(capture: str, filter_expr: str | None, as_json: bool, compat: str | None, strict: bool,
               raw: bool) -> None:
    """Print every event of CAPTURE as `sysdig -r CAPTURE [FILTER]` does."""
    from .parsers.reader import ScapReader
    from .render.events import EventStream, detect_compat, json_lines, profile, text_lines

    try:
        mode = compat or detect_compat(capture)
        readers: list[ScapReader] = []

        def make_stream() -> EventStream:
            readers.append(ScapReader(capture, strict=strict))
            return EventStream(readers[-1], profile(mode))

        stream = _filtered(make_stream, filter_expr) if filter_expr else make_stream()
        emit(json_lines(stream) if as_json else text_lines(stream), raw=raw)
    except ScapError as e:
        fail(str(e))
    report_warnings(readers[-1].warnings if readers else [], strict)


def _filtered(make_stream, expr: str):
    """The stream narrowed by a sysdig filter; a bad filter is one line naming its column."""
    from .filters.stream import filter_stream
    try:
        return filter_stream(make_stream, expr)
    except ValueError as e:
        fail(f"filter: {e}")


@main.command("fields")
@click.argument("prefix", required=False, default="")
def fields_cmd(prefix: str) -> None:
    """List the fields filters and views can use (optionally those starting with PREFIX)."""
    from .filters.fields import FIELDS
    rows = [f for name, f in sorted(FIELDS.items()) if name.startswith(prefix)]
    if not rows:
        fail(f"no field starts with {prefix!r}")
    width = max(len(f.name) + (6 if f.takes_arg else 0) for f in rows)
    emit(f"{(f.name + ('[ARG]' if f.takes_arg else '')):<{width}}  {f.type:<8}  {f.desc}" for f in rows)


def _register() -> None:
    """Subcommands that live in their own modules."""
    from .cli_analyses import echo_cmd, spy_users_cmd
    from .cli_cache import cache_cmd
    from .cli_more import connections_cmd, http_cmd, summary_cmd
    from .cli_report import export_cmd, report_cmd
    from .cli_views import view_cmd
    from .cli_write import write_cmd
    main.add_command(spy_users_cmd, "spy-users")
    main.add_command(echo_cmd, "echo")
    main.add_command(view_cmd, "view")
    main.add_command(summary_cmd, "summary")
    main.add_command(connections_cmd, "connections")
    main.add_command(http_cmd, "http")
    main.add_command(report_cmd, "report")
    main.add_command(export_cmd, "export")
    main.add_command(write_cmd, "write")
    main.add_command(cache_cmd, "cache")


_register()


if __name__ == "__main__":  # pragma: no cover
    main()
