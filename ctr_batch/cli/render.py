"""Render run summaries and tables for the terminal with Rich.

User data (values, queries, paths) always goes in as ``Text``, never as markup: a query such
as ``[/INST]`` or a path ``m[/b].parquet`` prints as it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

    from ctr_batch.core.summary import RunSummary
    from ctr_batch.days.plan import DayReport


def summary_table(summary: RunSummary, title: str = "run summary") -> Table:
    """Rows read, how they were accounted for, and the headline figures."""
    table = Table(title=plain(title), show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("rows read", f"{summary.rows_read:,}")
    table.add_row("  processed", f"{summary.rows_processed:,}")
    table.add_row("  quarantined", f"{summary.rows_quarantined:,}")
    table.add_row(
        "  processed + quarantined = read", "yes" if summary.balanced else "[red]NO[/red]"
    )
    for reason, count in summary.quarantined.items():
        if count:
            table.add_row(f"    {reason}", f"{count:,}")
    table.add_row("sessions", f"{summary.sessions:,}")
    table.add_row("searches", f"{summary.searches:,}")
    table.add_row("overall CTR", _cell(summary.ctr))
    if summary.seconds:
        table.add_row("seconds", f"{summary.seconds:.2f}")
    return table


def frame_table(frame: pl.DataFrame, title: str, *, limit: int = 20) -> Table:
    """A DataFrame as a Rich table: numbers right-aligned, floats to 3 decimals."""
    table = Table(title=plain(f"{title} ({frame.height:,} rows)"), title_justify="left")
    for name, dtype in frame.schema.items():
        table.add_column(plain(name), justify="right" if dtype.is_numeric() else "left")
    for row in frame.head(limit).rows():
        table.add_row(*(_cell(value) for value in row))
    if frame.height > limit:
        table.caption = f"first {limit} of {frame.height:,} rows"
    return table


def plain(text: str) -> Text:
    """`text` to print as it is (no Rich markup)."""
    return Text(text)


def _cell(value: object) -> Text:
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, float):
        return Text(f"{value:.3f}")
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(f"{value:,}")
    if isinstance(value, timedelta):
        return Text(f"{value.total_seconds():.1f}s")
    if isinstance(value, datetime):
        return Text(value.strftime("%Y-%m-%d %H:%M:%S"))
    return Text(str(value))


def backfill_table(reports: Sequence[DayReport], title: str = "backfill") -> Table:
    """Days computed and skipped, rows, sessions, searches, CTR and split sessions."""
    computed = [r for r in reports if r.computed]
    records = [r.record for r in reports]
    totals = {
        "rows_home": sum(r.rows_home for r in records),
        "rows_quarantined": sum(r.rows_quarantined for r in records),
        "sessions": sum(r.sessions for r in records),
        "searches": sum(r.searches for r in records),
        "clicked_searches": sum(r.clicked_searches for r in records),
        "long_sessions": sum(r.long_sessions for r in records),
        "continued_sessions": sum(r.continued_sessions for r in records),
        "capped_sessions": sum(r.capped_sessions for r in records),
        "late_rows": sum(r.late_rows for r in records),
    }
    table = Table(title=plain(title), show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    failed = sum(1 for r in reports if r.problem)
    table.add_row("days computed", f"{len(computed) - failed:,}")
    if failed:
        table.add_row(Text("days failed (not published)", style="red"), f"{failed:,}")
    table.add_row("days skipped (inputs unchanged)", f"{len(reports) - len(computed):,}")
    table.add_row("rows (by home day)", f"{totals['rows_home']:,}")
    table.add_row("  quarantined", f"{totals['rows_quarantined']:,}")
    table.add_row("sessions", f"{totals['sessions']:,}")
    table.add_row("searches", f"{totals['searches']:,}")
    ctr = totals["clicked_searches"] / totals["searches"] if totals["searches"] else None
    table.add_row("CTR", _cell(ctr))
    table.add_row("sessions going on past midnight", f"{totals['continued_sessions']:,}")
    table.add_row("sessions longer than --lookback (read whole)", f"{totals['long_sessions']:,}")
    table.add_row("sessions opened by --max-session", f"{totals['capped_sessions']:,}")
    table.add_row("late rows (in a later day's folder)", f"{totals['late_rows']:,}")
    return table
