"""`inspect cache`: where the capture cache is and how big it is, and emptying it (scapinspect.cache)."""
from __future__ import annotations

import click

from .cli_common import escape_terminal


@click.command("cache")
@click.option("--clear", is_flag=True, help="remove every entry of the cache directory")
def cache_cmd(clear: bool) -> None:
    """Show the capture cache directory and its size, or empty it with --clear.

    Captures opened with the cache on (`inspect FILE --cache`, `si.open(FILE, cache=True)` or
    SCAPINSPECT_CACHE=1) keep their event frame there, so that opening them again skips the decoding.
    The directory is SCAPINSPECT_CACHE_DIR (else XDG_CACHE_HOME/scapinspect, else ~/.cache/scapinspect)
    and is kept under SCAPINSPECT_CACHE_MAX_MB megabytes (2048). Entries written beside captures
    (`cache="here"`: FILE.siidx) are not in it: delete those files to remove them.
    """
    from .cache import MAX_MB, cache_dir, usage
    from .cache import clear as clear_entries

    where = escape_terminal(str(cache_dir()))
    if clear:
        n, size = clear_entries()
        click.echo(f"removed {n} entries ({size / 1e6:.1f} MB) from {where}")
        return
    n, size = usage()
    click.echo(f"{where}: {n} entries, {size / 1e6:.1f} MB (bound: SCAPINSPECT_CACHE_MAX_MB, default {MAX_MB})")
