"""Streaming commands: ``simulate-stream`` and ``validate`` (parse, call, print)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ctr_batch.cli import log
from ctr_batch.cli import render as report
from ctr_batch.cli.common import (
    ColumnOption,
    GapRuleOption,
    JsonOption,
    err_console,
    key_values,
    one_line_errors,
    out_console,
    print_json,
    run_config,
)
from ctr_batch.core.config import StreamConfig, to_duration
from ctr_batch.core.errors import ConfigError

if TYPE_CHECKING:
    from ctr_batch.reconciliation.result import ReconcileResult

WaitOption = Annotated[
    str,
    typer.Option(
        "--wait",
        help="EventClock wait_for_system_duration: how far behind a user's newest event an "
        "event may arrive before it is late and dropped.",
    ),
]
ArrivalOption = Annotated[
    str | None,
    typer.Option(
        "--arrival-column",
        help="Column giving arrival order (ingest time, offset); default: file order.",
    ),
]
STREAM_FORMATS = ("parquet", "jsonl", "csv")


@one_line_errors
def simulate_stream(
    events: Annotated[list[str], typer.Argument(help="Parquet file(s), directories or globs.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")],
    gap: Annotated[str, typer.Option("--gap", help="SessionWindower gap.")] = "30m",
    wait: WaitOption = "0s",
    arrival_column: ArrivalOption = None,
    gap_rule: GapRuleOption = "inclusive",
    column: ColumnOption = None,
) -> None:
    """Predict exactly what the Bytewax search-session dataflow emits for EVENTS."""
    from ctr_batch.streaming.run import run_simulation  # loads only for this command

    config = run_config(gap, gap_rule, "UTC", column)  # checks the gap, rule and mapping
    stream = StreamConfig(
        gap=config.gap,
        wait=to_duration(wait, "--wait"),
        gap_rule=config.gap_rule,
        arrival=arrival_column,
    )
    summary = run_simulation(events, out, stream, column_map=dict(config.column_map))
    table = Table(title=report.plain(f"ctr-batch simulate-stream → {out}"), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for what, value in (
        ("rows read", summary.rows_read),
        ("quarantined", summary.quarantined),
        ("late (dropped by the stream)", summary.late),
        ("sessions", summary.sessions),
        ("searches", summary.searches),
        ("sessions replayed sequentially (out of order)", summary.sequential_sessions),
    ):
        table.add_row(what, f"{value:,}")
    table.add_row("CTR", f"{summary.ctr:.3f}" if summary.ctr is not None else "-")
    out_console.print(table)


@one_line_errors
def validate(
    batch: Annotated[Path, typer.Option("--batch", help="Output directory of ctr-batch run.")],
    stream: Annotated[Path, typer.Option("--stream", help="The streaming job's output.")],
    events: Annotated[
        list[str] | None,
        typer.Option("--events", help="The events both jobs read: explains each difference."),
    ] = None,
    gap: Annotated[
        str | None, typer.Option("--gap", help="Stream's gap (default: the batch run's).")
    ] = None,
    wait: WaitOption = "0s",
    arrival_column: ArrivalOption = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Stream output format: parquet, jsonl or csv."),
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Absolute tolerance on numeric values.")
    ] = 1e-9,
    stream_column: Annotated[
        list[str] | None,
        typer.Option("--column", help="Map a stream output column: NAME=SOURCE."),
    ] = None,
    events_column: Annotated[
        list[str] | None,
        typer.Option("--events-column", help="Map an input column of EVENTS: NAME=SOURCE."),
    ] = None,
    gap_rule: Annotated[
        str | None,
        typer.Option(
            "--gap-rule",
            help="The stream's gap rule, inclusive or exclusive (see run --help); default: "
            "inclusive, unless exclusive leaves fewer differences unexplained.",
        ),
    ] = None,
    mismatches: Annotated[
        Path | None,
        typer.Option("--mismatches", help="Write the mismatch table here (Parquet)."),
    ] = None,
    rows: Annotated[int, typer.Option("--rows", help="Mismatches to show.")] = 10,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the comparison as one offline HTML page."),
    ] = None,
    as_json: JsonOption = False,
) -> None:  # long: one line per Typer option
    """Compare a streaming job's output with the batch truth; explain every difference."""
    from ctr_batch.reconciliation.load import load_stream_output
    from ctr_batch.reconciliation.reconcile import reconcile

    if fmt is not None and fmt not in STREAM_FORMATS:
        msg = f"--format {fmt!r}: expected one of {', '.join(STREAM_FORMATS)}"
        raise ConfigError(msg)
    # checks the rule and the mapping; the gap is the batch run's unless --gap is given
    events_config = run_config(gap or "30m", gap_rule or "inclusive", "UTC", events_column)
    kind, frame = load_stream_output(
        stream,
        fmt,  # type: ignore[arg-type]  # checked above
        key_values("--column", stream_column),
    )
    with _status("comparing; explaining the differences from the events, if any"):
        result = reconcile(
            batch,
            frame,
            kind,
            tolerance=tolerance,
            events=events,
            gap=events_config.gap if gap else None,
            wait=to_duration(wait, "--wait"),
            arrival=arrival_column,
            column_map=dict(events_config.column_map),
            stream_gap_rule=events_config.gap_rule if gap_rule else None,
        )
    written = _write_files(result, mismatches, html, f"Validation: {stream} against {batch}")
    if as_json:
        print_json({"command": "validate", "batch": str(batch), "stream": str(stream),
                    **result.to_json(), "mismatches_file": mismatches,
                    "html_file": html})  # fmt: skip
    else:
        _print_result(result, f"validate {stream} against {batch}", rows)
        for line in written:
            out_console.print(line, markup=False)
    if not result.passed:
        raise typer.Exit(1)


def _write_files(
    result: ReconcileResult, mismatches: Path | None, html: Path | None, title: str
) -> list[str]:
    """Write the mismatch table and the HTML page asked for; say what was written."""
    from ctr_batch.reconciliation.result import write_mismatches

    written = []
    if mismatches is not None:
        write_mismatches(result, mismatches)
        written.append(f"mismatch table written to {mismatches}")
    if html is not None:
        from ctr_batch.reporting.validation import write_validation

        write_validation(result, html, title)
        written.append(f"comparison page written to {html}")
    return written


def _status(text: str) -> contextlib.AbstractContextManager[object]:
    """A spinner with `text` on a terminal; nothing otherwise (or while log lines show)."""
    if not err_console.is_terminal or log.logging_lines():
        return contextlib.nullcontext()
    return err_console.status(report.plain(text))


def _print_result(result: ReconcileResult, title: str, rows: int) -> None:
    """The comparison's summary, its per-day figures and the first `rows` mismatches."""
    from ctr_batch.reconciliation.result import SHOWN_COLUMNS, summary_rows

    table = Table(title=report.plain(title), show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for what, value in summary_rows(result):
        table.add_row(what, report.plain(value))
    out_console.print(table)
    out_console.print(report.frame_table(result.daily, "per day", limit=rows))
    if not result.mismatches.is_empty():
        shown = result.mismatches.select(SHOWN_COLUMNS)
        out_console.print(report.frame_table(shown, "mismatches", limit=rows))
