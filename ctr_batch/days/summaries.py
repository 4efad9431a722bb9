"""What a backfill writes about every day in ``OUT`` when it ends, from the manifest.

``ctr_by_query`` (the roll-up over every searches partition), ``run_summary`` (one row: the
whole output) and ``day_summary`` (one row per day: the manifest's figures, for SQL and the
report).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.batch.pipeline import query_roll_up
from ctr_batch.core.config import format_duration
from ctr_batch.core.schema import (
    CTR_BY_QUERY_TABLE,
    DAY_SUMMARY_TABLE,
    OUTSIDE_PARTITION,
    REASONS,
    RUN_SUMMARY_TABLE,
    SEARCHES_SCHEMA,
    SEARCHES_TABLE,
)
from ctr_batch.core.summary import BACKFILL_SUMMARY_SCHEMA, quarantined_column, summary_header
from ctr_batch.io.read import scan_table
from ctr_batch.io.write import write_partition

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from ctr_batch.days.config import BackfillConfig
    from ctr_batch.days.manifest import DayRecord


def write_summaries(
    snapshot: Path,
    manifest: dict[str, DayRecord],
    config: BackfillConfig,
    events: Sequence[str | Path],
) -> None:
    """Write ``ctr_by_query``, ``run_summary`` and ``day_summary`` of every day into `snapshot`."""
    _roll_up_queries(snapshot)
    summary = _summary_frame(manifest, config, events)
    write_partition(summary, snapshot / RUN_SUMMARY_TABLE, RUN_SUMMARY_TABLE)
    write_partition(day_summary(manifest), snapshot / DAY_SUMMARY_TABLE)


DAY_REASONS = (*REASONS, OUTSIDE_PARTITION)  # a backfill quarantines rows far from their folder
#: ``day_summary``: the manifest's figures, one row per day (what ``backfill --json`` prints).
DAY_SUMMARY_SCHEMA = pl.Schema(
    {
        "date": pl.Date(),
        "rows_read": pl.Int64(),
        "rows_processed": pl.Int64(),
        "rows_quarantined": pl.Int64(),
        **{quarantined_column(reason): pl.Int64() for reason in DAY_REASONS},
        "sessions": pl.Int64(),
        "searches": pl.Int64(),
        "clicked_searches": pl.Int64(),
        "continued_sessions": pl.Int64(),
        "capped_sessions": pl.Int64(),
        "late_rows": pl.Int64(),
        "long_sessions": pl.Int64(),
        "files": pl.Int64(),
        "seconds": pl.Float64(),
        "computed_at": pl.String(),
    }
)


def day_summary(days: dict[str, DayRecord]) -> pl.DataFrame:
    """The manifest's per-day figures as a table (``DAY_SUMMARY_SCHEMA``), by date.

    Examples
    --------
    >>> from ctr_batch.days.manifest import DayRecord
    >>> day_summary({"2024-05-03": DayRecord(rows_home=10, rows_quarantined=1, late_rows=2)}
    ...             ).select("date", "rows_processed", "late_rows").row(0)
    (datetime.date(2024, 5, 3), 9, 2)
    """
    rows = [
        (
            date.fromisoformat(day),
            r.rows_home,
            r.rows_home - r.rows_quarantined,
            r.rows_quarantined,
            *(r.quarantined.get(reason, 0) for reason in DAY_REASONS),
            r.sessions,
            r.searches,
            r.clicked_searches,
            r.continued_sessions,
            r.capped_sessions,
            r.late_rows,
            r.long_sessions,
            r.files,
            r.seconds,
            r.computed_at,
        )
        for day, r in sorted(days.items())
    ]
    return pl.DataFrame(rows, schema=DAY_SUMMARY_SCHEMA, orient="row")


def _roll_up_queries(out: Path) -> None:
    """Rewrite ``ctr_by_query`` (one row per query) from every searches partition in `out`."""
    searches = scan_table(out / SEARCHES_TABLE, SEARCHES_SCHEMA)
    write_partition(query_roll_up(searches), out / CTR_BY_QUERY_TABLE, CTR_BY_QUERY_TABLE)


def _summary_frame(
    manifest: dict[str, DayRecord], config: BackfillConfig, events: Sequence[str | Path]
) -> pl.DataFrame:
    """One row describing every day in `out` (``BACKFILL_SUMMARY_SCHEMA``), from the manifest."""
    records = manifest.values()
    rows = sum(r.rows_home for r in records)
    quarantined = sum(r.rows_quarantined for r in records)
    searches, clicked = sum(r.searches for r in records), sum(r.clicked_searches for r in records)
    row = [
        *summary_header("backfill", config.run, events).values(),
        format_duration(config.lookback),
        len(manifest),
        date.fromisoformat(min(manifest)) if manifest else None,
        date.fromisoformat(max(manifest)) if manifest else None,
        rows,
        rows - quarantined,
        quarantined,
        sum(r.sessions for r in records),
        searches,
        clicked,
        clicked / searches if searches else None,
        sum(r.long_sessions for r in records),
    ]
    return pl.DataFrame([row], schema=BACKFILL_SUMMARY_SCHEMA, orient="row")
