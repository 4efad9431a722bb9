"""The ``report`` command: write the offline HTML report of an output (parse, call, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ctr_batch.cli.common import JsonOption, one_line_errors, out_console, print_json


@one_line_errors
def report(
    out: Annotated[Path, typer.Argument(help="Output directory of a run or backfill.")],
    html: Annotated[Path, typer.Option("--html", help="The HTML file to write.")],
    start: Annotated[
        str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default: the first).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last day, YYYY-MM-DD (default: the last).")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of the page.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write one self-contained HTML page of charts and figures for OUT (opens offline)."""
    from ctr_batch.reporting.build import report as build  # DuckDB loads only when asked

    result = build(out, html, start=start, end=end, title=title)
    period = result.period
    if as_json:
        print_json(
            {
                "command": "report",
                "out": str(out),
                "html": str(result.path),
                "bytes": result.bytes,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "charts": list(result.charts),
                "seconds": round(result.seconds, 3),
            }
        )
        return
    out_console.print(
        f"wrote {result.path} ({result.bytes / 1e6:.1f} MB, {len(result.charts)} charts) for "
        f"{period.start} to {period.end} in {result.seconds:.1f} s; open it in a browser",
        markup=False,
        highlight=False,
    )
