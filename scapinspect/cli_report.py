"""`inspect report` and `inspect export`: batch reports (HTML, Markdown, JSON) over one or more captures,
and any analysis as CSV, JSON lines or Parquet.

Registered by cli.py (``main.add_command(report_cmd, "report")``, ``main.add_command(export_cmd,
"export")``). cli.py's helpers are imported when a command runs, so either module may import the other.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from .parsers.errors import ScapError, printable

EXIT_INPUT_FAILED = 2       # as cli.EXIT_BAD_INPUT: a capture could not be read
REPORT_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".json")
FORMAT_SUFFIX = {"html": ".html", "md": ".md", "json": ".json"}


class Progress:
    """A one-line bar on stderr when stderr is a terminal; silent otherwise (logs stay clean)."""

    def __init__(self, total: int, *, enabled: bool | None = None, width: int = 28):
        self.total = max(total, 1)
        self.done = 0
        self.width = width
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = 0.0

    def step(self, message: str) -> None:
        self.done = min(self.done + 1, self.total)
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and self.done < self.total):
            return
        self._last = now
        filled = self.width * self.done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        line = printable(message)[:60]
        click.echo(f"\r[{bar}] {self.done}/{self.total} {line:<60}", err=True, nl=False)

    def close(self) -> None:
        if self.enabled:
            click.echo("\r" + " " * (self.width + 80) + "\r", err=True, nl=False)


def _options(filter_expr: str | None, start: str | None, end: str | None, top: int, max_rows: int,
             strict: bool):
    from .cli_common import fail
    from .report.model import ReportOptions, parse_time
    try:
        opts = ReportOptions(filter=filter_expr, start=parse_time(start) if start else None,
                             end=parse_time(end) if end else None, top=top, max_rows=max_rows, strict=strict)
    except ValueError as e:
        fail(str(e))
    if filter_expr:
        from .filters import compile_filter
        try:
            compile_filter(filter_expr)
        except ValueError as e:
            fail(f"filter: {e}")
    return opts


def _targets(captures: tuple[str, ...], output: str, fmt: str | None, split: bool) -> list[tuple[Path, list[str]]]:
    """(output file, captures in it) pairs: one file, or one per capture in a directory or beside OUT."""
    from .cli_common import fail
    out = Path(output)
    if output.endswith(("/", os.sep)) or out.is_dir():
        suffix = FORMAT_SUFFIX[fmt or "html"]
        out.mkdir(parents=True, exist_ok=True)
        return _unique([(out / (Path(c).stem + suffix), [c]) for c in captures])
    suffix = FORMAT_SUFFIX[fmt] if fmt else out.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        fail(f"cannot tell the report format from {output!r}: end it in .html, .md or .json, or use --format")
    if fmt and out.suffix.lower() != suffix:
        out = out.with_name(out.name + suffix)
    if split and len(captures) > 1:
        return _unique([(out.with_name(f"{out.stem}-{Path(c).stem}{suffix}"), [c]) for c in captures])
    return [(out, list(captures))]


def _unique(pairs: list[tuple[Path, list[str]]]) -> list[tuple[Path, list[str]]]:
    """Two captures with the same stem get -2, -3 ... instead of overwriting each other's report."""
    seen: dict[Path, int] = {}
    out = []
    for path, caps in pairs:
        n = seen.get(path, 0) + 1
        seen[path] = n
        out.append((path.with_name(f"{path.stem}-{n}{path.suffix}") if n > 1 else path, caps))
    return out


@click.command("report")
@click.argument("captures", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, metavar="OUT",
              help="report file (.html, .md or .json), or a directory for one report per capture")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]), default=None,
              help="report format (default: from OUT's extension; html for a directory)")
@click.option("--split", is_flag=True, help="one report per capture, named OUT-<capture>.<ext>")
@click.option("-f", "--filter", "filter_expr", default=None, metavar="FILTER",
              help="a sysdig filter applied to the whole report")
@click.option("--start", default=None, help="first time to include: ISO 8601 (UTC), ns, or +5s after the first event")
@click.option("--end", default=None, help="end of the range (exclusive): ISO 8601, ns, +30s, or -5s before the last event")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="rows in the top processes/files/errors tables")
@click.option("--max-rows", type=click.IntRange(min=1), default=200, show_default=True,
              help="rows in the other tables")
@click.option("--strict", is_flag=True, help="a truncated or damaged capture counts as failed")
@click.option("--progress/--no-progress", "show_progress", default=None,
              help="progress bar on stderr (default: when stderr is a terminal)")
def report_cmd(captures: tuple[str, ...], output: str, fmt: str | None, split: bool, filter_expr: str | None,
               start: str | None, end: str | None, top: int, max_rows: int, strict: bool,
               show_progress: bool | None) -> None:
    """Write a self-contained report of each CAPTURE: capture info and warnings, overview tiles, a
    timeline, notable findings (and the rule behind each), Spy Users, connections, HTTP requests and the
    top processes, files and errors.

    Exit status 2 when any capture could not be read; the others are still reported.
    """
    from .report import render
    from .report.model import STEPS_PER_CAPTURE, build_report, failed

    opts = _options(filter_expr, start, end, top, max_rows, strict)
    targets = _targets(captures, output, fmt, split)
    bar = Progress(len(captures) * STEPS_PER_CAPTURE, enabled=show_progress)
    bad = 0
    try:
        for path, caps in targets:
            doc = build_report(caps, opts, progress=bar.step)
            path.write_text(render(doc, path.suffix), encoding="utf-8", errors="surrogateescape")
            for c in doc["captures"]:
                _tell(c, strict)
            bad += len(failed(doc))
    finally:
        bar.close()
    for path, _ in targets:
        click.echo(f"inspect: wrote {printable(path)}", err=True)
    if bad:
        sys.exit(EXIT_INPUT_FAILED)


def _tell(cap: dict, strict: bool) -> None:
    """One stderr line per failed capture and per warning."""
    if cap["status"] == "failed":
        click.echo(f"inspect: {printable(cap['error'])}", err=True)
        return
    for w in cap["warnings"]:
        named = w.startswith((cap["path"], cap["name"]))
        click.echo(f"inspect: warning: {'' if named else printable(cap['name']) + ': '}{printable(w)}", err=True)


@click.command("export")
@click.argument("capture", type=click.Path())
@click.option("-w", "--what", required=True, metavar="WHAT",
              help="events, spy-users, connections, http, io, or a csysdig view id (procs, files ...)")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default=None,
              help="output format (default: from PATH's extension)")
@click.option("-o", "--output", required=True, metavar="PATH", help="output file, or - for standard output")
@click.option("-f", "--filter", "filter_expr", default=None, metavar="FILTER", help="a sysdig filter")
@click.option("--start", default=None, help="first time to include (as for inspect report)")
@click.option("--end", default=None, help="end of the range, exclusive (as for inspect report)")
@click.option("--strict", is_flag=True, help="exit 2 on a truncated or damaged capture")
def export_cmd(capture: str, what: str, fmt: str | None, output: str, filter_expr: str | None,
               start: str | None, end: str | None, strict: bool) -> None:
    """Write one analysis of CAPTURE as CSV, JSON lines or Parquet (Parquet needs pyarrow:
    pip install 'scapinspect[parquet]')."""
    from .cli_common import fail, report_warnings
    from .report.export import ExportError, export_frame, format_for, frame_for
    from .report.model import open_capture

    opts = _options(filter_expr, start, end, 10, 0, strict)
    try:
        fmt = format_for(output, fmt) if output != "-" else (fmt or "csv")
        if fmt == "parquet":
            _need_pyarrow()      # before the capture is read, not after
        cap = open_capture(capture, opts)
        frame = frame_for(cap, what)
        n = export_frame(frame, output, fmt)
    except ExportError as e:
        fail(str(e))
    except ScapError as e:
        fail(str(e))
    except ValueError as e:         # a filter the events cannot answer
        fail(f"filter: {e}")
    except OSError as e:
        fail(f"{printable(output)}: {printable(e.strerror or e)}")
    if output != "-":
        click.echo(f"inspect: wrote {n} rows to {printable(output)}", err=True)
    report_warnings(cap.warnings or cap.info.warnings, strict)


def _need_pyarrow() -> None:
    from .report.export import ExportError
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ExportError("Parquet export needs pyarrow: pip install 'scapinspect[parquet]'") from None


__all__ = ["report_cmd", "export_cmd", "Progress"]
