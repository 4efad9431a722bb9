"""The run summary: one record type, and the schema of the ``run_summary`` table it becomes.

A ``run`` writes one row of ``RUN_SUMMARY_SCHEMA``; a ``backfill`` one row of
``BACKFILL_SUMMARY_SCHEMA`` (the ``layout`` column tells them apart). Both open with the same
header: what was read, by which version, with which settings. ``recorded_settings`` reads the
settings back; nothing else looks up summary columns by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch._version import __version__
from ctr_batch.core.config import RunConfig, format_duration
from ctr_batch.core.schema import (
    CLICKED_SEARCHES,
    CTR,
    REASONS,
    SEARCHES,
    SESSIONS,
    TIME_DTYPE,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

# --- columns of run_summary ---------------------------------------------------------------------
LAYOUT = "layout"  # "run" or "backfill"
FINISHED_AT = "finished_at"
TOOL_VERSION = "tool_version"
INPUTS = "inputs"
GAP = "gap"  # as text, e.g. 30m
GAP_US = "gap_us"
GAP_RULE = "gap_rule"
TIMEZONE = "timezone"
MAX_SESSION_US = "max_session_us"  # null: no maximum session duration
FIRST_DAY = "first_day"
LAST_DAY = "last_day"
ROWS_READ = "rows_read"
ROWS_PROCESSED = "rows_processed"
ROWS_QUARANTINED = "rows_quarantined"
COMPUTE_SECONDS = "compute_seconds"
LOOKBACK = "lookback"  # backfill only
DAYS = "days"  # backfill only
LONG_SESSIONS = "long_sessions"  # backfill only: read with a window wider than the lookback


def quarantined_column(reason: str) -> str:
    """The run_summary column counting the rows quarantined for `reason`."""
    return f"quarantined_{reason}"


_HEADER = {
    LAYOUT: pl.String(),
    FINISHED_AT: TIME_DTYPE,
    TOOL_VERSION: pl.String(),
    INPUTS: pl.List(pl.String),
    GAP: pl.String(),
    GAP_US: pl.Int64(),
    GAP_RULE: pl.String(),
    TIMEZONE: pl.String(),
    MAX_SESSION_US: pl.Int64(),
}
_ROWS = {ROWS_READ: pl.Int64(), ROWS_PROCESSED: pl.Int64(), ROWS_QUARANTINED: pl.Int64()}
_FIGURES = {
    SESSIONS: pl.Int64(),
    SEARCHES: pl.Int64(),
    CLICKED_SEARCHES: pl.Int64(),
    CTR: pl.Float64(),
}
_DAYS = {FIRST_DAY: pl.Date(), LAST_DAY: pl.Date()}
RUN_SUMMARY_SCHEMA = pl.Schema(
    {
        **_HEADER,
        **_DAYS,
        **_ROWS,
        **{quarantined_column(reason): pl.Int64() for reason in REASONS},
        **_FIGURES,
        COMPUTE_SECONDS: pl.Float64(),
    }
)
BACKFILL_SUMMARY_SCHEMA = pl.Schema(
    {
        **_HEADER,
        LOOKBACK: pl.String(),
        DAYS: pl.Int64(),
        **_DAYS,
        **_ROWS,
        **_FIGURES,
        LONG_SESSIONS: pl.Int64(),
    }
)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run read, set aside and produced.

    Examples
    --------
    >>> summary = RunSummary(rows_read=3, rows_processed=2, quarantined={"null_user_id": 1},
    ...                      sessions=1, searches=2, clicked_searches=1)
    >>> summary.balanced, summary.ctr
    (True, 0.5)
    """

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

    @property
    def balanced(self) -> bool:
        """True when every row read was processed or quarantined."""
        return self.rows_processed + self.rows_quarantined == self.rows_read

    def to_json(self) -> dict[str, object]:
        """The summary as plain values, for ``--json``."""
        return {
            ROWS_READ: self.rows_read,
            ROWS_PROCESSED: self.rows_processed,
            ROWS_QUARANTINED: self.rows_quarantined,
            "quarantined": dict(self.quarantined),
            SESSIONS: self.sessions,
            SEARCHES: self.searches,
            CLICKED_SEARCHES: self.clicked_searches,
            CTR: self.ctr,
            FIRST_DAY: self.first_day,
            LAST_DAY: self.last_day,
            "seconds": round(self.seconds, 3),
            "balanced": self.balanced,
            "tables": {name: str(path) for name, path in self.tables.items()},
        }

    def to_frame(self, config: RunConfig, inputs: Sequence[str | Path]) -> pl.DataFrame:
        """The one-row ``run_summary`` of a run (``RUN_SUMMARY_SCHEMA``)."""
        row = summary_header("run", config, inputs) | {
            FIRST_DAY: self.first_day,
            LAST_DAY: self.last_day,
            ROWS_READ: self.rows_read,
            ROWS_PROCESSED: self.rows_processed,
            ROWS_QUARANTINED: self.rows_quarantined,
            **{quarantined_column(r): n for r, n in self.quarantined.items()},
            SESSIONS: self.sessions,
            SEARCHES: self.searches,
            CLICKED_SEARCHES: self.clicked_searches,
            CTR: self.ctr,
            COMPUTE_SECONDS: round(self.seconds, 3),
        }
        return pl.DataFrame([row], schema=RUN_SUMMARY_SCHEMA)


def summary_header(
    layout: str, config: RunConfig, inputs: Sequence[str | Path]
) -> dict[str, object]:
    """The first columns of every ``run_summary``: layout, time, version, inputs and settings."""
    longest = config.max_session
    return {
        LAYOUT: layout,
        FINISHED_AT: datetime.now(UTC).replace(microsecond=0),
        TOOL_VERSION: __version__,
        INPUTS: [str(spec) for spec in inputs],
        GAP: format_duration(config.gap),
        GAP_US: config.gap // timedelta(microseconds=1),
        GAP_RULE: config.gap_rule,
        TIMEZONE: config.timezone,
        MAX_SESSION_US: None if longest is None else longest // timedelta(microseconds=1),
    }


def recorded_settings(summary: Mapping[str, object]) -> RunConfig | None:
    """The settings a ``run_summary`` row records (None: a summary without them)."""
    gap_us = summary.get(GAP_US)
    if not isinstance(gap_us, int):
        return None
    rule = summary.get(GAP_RULE) or "inclusive"
    longest = summary.get(MAX_SESSION_US)
    return RunConfig(
        gap=timedelta(microseconds=gap_us),
        gap_rule=rule,  # type: ignore[arg-type]  # checked by RunConfig
        timezone=str(summary.get(TIMEZONE) or "UTC"),
        max_session=timedelta(microseconds=longest) if isinstance(longest, int) else None,
    )
