"""The run summary: what a run read, set aside and produced; checked row accounting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch._version import __version__
from ctr_batch.core.config import format_duration
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

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from ctr_batch.core.config import RunConfig


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run read, set aside and produced."""

    rows_read: int
    rows_processed: int
    quarantined: dict[str, int]
    sessions: int
    searches: int
    clicked_searches: int
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0
    tables: dict[str, Path] = field(default_factory=dict)

    @property
    def rows_quarantined(self) -> int:
        """Rows set aside, all reasons together."""
        return sum(self.quarantined.values())

    @property
    def ctr(self) -> float | None:
        """Share of searches with at least one click."""
        return self.clicked_searches / self.searches if self.searches else None


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


# run_summary columns whose type a row of Python values leaves open (None, say)
SUMMARY_TYPES = {"ctr": pl.Float64, "first_day": pl.Date, "last_day": pl.Date}


def summary_header(
    layout: str, config: RunConfig, sources: Sequence[str | Path]
) -> dict[str, object]:
    """The first columns of every ``run_summary``: layout, time, version, inputs and settings."""
    return {
        "layout": layout,
        "finished_at": datetime.now(UTC).replace(microsecond=0),
        "tool_version": __version__,
        "inputs": [str(source) for source in sources],
        "gap": format_duration(config.gap),
        "gap_us": config.gap // timedelta(microseconds=1),
        "gap_rule": config.gap_rule,
        "timezone": config.timezone,
    }


def summary_frame(
    summary: RunSummary, config: RunConfig, sources: Sequence[str | Path]
) -> pl.DataFrame:
    """The run summary as a one-row table: inputs, settings, row accounting, headline figures."""
    row = summary_header("run", config, sources) | {
        "first_day": summary.first_day,
        "last_day": summary.last_day,
        "rows_read": summary.rows_read,
        "rows_processed": summary.rows_processed,
        "rows_quarantined": summary.rows_quarantined,
        **{f"quarantined_{reason}": count for reason, count in summary.quarantined.items()},
        "sessions": summary.sessions,
        "searches": summary.searches,
        "clicked_searches": summary.clicked_searches,
        "ctr": summary.ctr,
        "compute_seconds": round(summary.seconds, 3),
    }
    return pl.DataFrame([row], schema_overrides=SUMMARY_TYPES)


def summarize_parts(
    staging: Path, tables: dict[str, pl.DataFrame], quarantined: pl.DataFrame, rows_read: int
) -> RunSummary:
    """Like ``summarize``, for tables written as parts under `staging` (bucketed runs)."""
    sessions = pl.scan_parquet(staging / SESSIONS_TABLE / "*.parquet")
    searches = pl.scan_parquet(staging / SEARCHES_TABLE / "*.parquet")
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
    if summary.rows_processed + summary.rows_quarantined != summary.rows_read:
        msg = f"row accounting broken: {summary}"  # a bug, never bad input
        raise AssertionError(msg)
