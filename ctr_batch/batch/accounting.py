"""Count what a run's tables hold into its summary, and check that no input row went missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.schema import (
    CLICKED,
    CLICKED_SEARCHES,
    CTR_DAILY_TABLE,
    DATE,
    N_EVENTS,
    QUARANTINE_TABLE,
    REASON,
    REASONS,
    SEARCHES_TABLE,
    SESSIONS_TABLE,
)
from ctr_batch.core.summary import RunSummary
from ctr_batch.io.read import scan_table

if TYPE_CHECKING:
    from pathlib import Path


def summarize(tables: dict[str, pl.DataFrame], rows_read: int) -> RunSummary:
    """Count what the tables hold; fail loudly if any input row went missing."""
    reasons = tables[QUARANTINE_TABLE][REASON].value_counts()
    quarantined = dict.fromkeys(REASONS, 0) | dict(reasons.rows())
    days = tables[CTR_DAILY_TABLE][DATE]
    summary = RunSummary(
        rows_read=rows_read,
        rows_processed=int(tables[SESSIONS_TABLE][N_EVENTS].sum()),
        quarantined=quarantined,
        sessions=tables[SESSIONS_TABLE].height,
        searches=tables[SEARCHES_TABLE].height,
        clicked_searches=int(tables[CTR_DAILY_TABLE][CLICKED_SEARCHES].sum()),
        first_day=days.min(),  # type: ignore[arg-type]
        last_day=days.max(),  # type: ignore[arg-type]
    )
    _check_accounting(summary)
    return summary


def summarize_parts(
    staging: Path, tables: dict[str, pl.DataFrame], quarantined: pl.DataFrame, rows_read: int
) -> RunSummary:
    """Like ``summarize``, for tables written as parts under `staging` (bucketed runs)."""
    sessions, searches = scan_table(staging / SESSIONS_TABLE), scan_table(staging / SEARCHES_TABLE)
    session_counts, search_counts = pl.collect_all(
        [
            sessions.select(pl.len().alias("n"), pl.col(N_EVENTS).sum().alias("events")),
            searches.select(pl.len().alias("n"), pl.col(CLICKED).sum()),
        ],
        engine="streaming",
    )
    days = tables[CTR_DAILY_TABLE][DATE]
    summary = RunSummary(
        rows_read=rows_read,
        rows_processed=int(session_counts["events"].item() or 0),
        quarantined=dict.fromkeys(REASONS, 0) | dict(quarantined.rows()),
        sessions=int(session_counts["n"].item()),
        searches=int(search_counts["n"].item()),
        clicked_searches=int(search_counts[CLICKED].item() or 0),
        first_day=days.min(),  # type: ignore[arg-type]
        last_day=days.max(),  # type: ignore[arg-type]
    )
    _check_accounting(summary)
    return summary


def _check_accounting(summary: RunSummary) -> None:
    if not summary.balanced:
        msg = f"row accounting broken: {summary}"  # a bug, never bad input
        raise AssertionError(msg)
