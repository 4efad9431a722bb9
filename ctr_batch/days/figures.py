"""A backfill day's figures for the manifest: rows, sessions, and how the day met its neighbours.

Besides its rows and tables' sizes, a day records the sessions that went on into it from the
day before (``continued_sessions``), its sessions opened by ``--max-session``
(``capped_sessions``), and the rows timed on it that arrived in a later day's folder
(``late_rows``, picked up because a day reads its neighbours' folders).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.rules import local_date, too_idle
from ctr_batch.core.schema import (
    CLICKED,
    DATE,
    EVENT_TIME,
    N_EVENTS,
    QUARANTINE_TABLE,
    REASON,
    SEARCHES_TABLE,
    SESSION_END,
    SESSION_START,
    SESSIONS_TABLE,
    TIME_DTYPE,
    USER_ID,
)
from ctr_batch.days.manifest import DayRecord
from ctr_batch.days.window import PARTITION, day_bounds

if TYPE_CHECKING:
    from datetime import date

    from ctr_batch.core.config import RunConfig

DayTables = dict[str, pl.DataFrame]


def day_record(day_tables: DayTables, counts: dict[str, int], window: list[str]) -> DayRecord:
    """The manifest entry of a day: its tables' figures, `counts` and the `window` it read."""
    searches, sessions = day_tables[SEARCHES_TABLE], day_tables[SESSIONS_TABLE]
    quarantine = day_tables[QUARANTINE_TABLE]
    return DayRecord(
        rows_home=counts.get("rows_home", 0),
        rows_quarantined=quarantine.height,
        quarantined=dict(quarantine[REASON].value_counts().rows()),
        sessions=sessions.height,
        session_events=int(sessions[N_EVENTS].sum()),
        searches=searches.height,
        clicked_searches=int(searches[CLICKED].sum()),
        long_sessions=counts.get("long_sessions", 0),
        continued_sessions=counts.get("continued_sessions", 0),
        capped_sessions=counts.get("capped_sessions", 0),
        late_rows=counts.get("late_rows", 0),
        window=window,
    )


def late_rows(window: pl.DataFrame, timezone: str) -> dict[date, int]:
    """Rows timed on each day that lie in a later day's folder (arrived late).

    A row is late when its time falls before the start of its folder's day in `timezone`:
    one comparison per row with the start of its folder's day (few distinct folders), and
    the time zone conversion only for the late rows.
    """
    folders = window.get_column(PARTITION).drop_nulls().unique().to_list()
    if not folders:
        return {}
    starts = [day_bounds(folder, timezone)[0] for folder in folders]
    start = pl.col(PARTITION).replace_strict(
        folders, starts, default=None, return_dtype=TIME_DTYPE
    )
    late = window.lazy().select(EVENT_TIME, PARTITION).filter(pl.col(EVENT_TIME) < start)
    counted = late.group_by(local_date(EVENT_TIME, timezone)).len()
    return dict(counted.collect(engine="in-memory").rows())


def capped_by_day(sessions: pl.DataFrame, config: RunConfig) -> dict[date, int]:
    """Sessions of each day opened by the maximum duration: within a gap of the one before."""
    if config.max_session is None:
        return {}
    idle = pl.col(SESSION_START) - pl.col(SESSION_END).shift().over(USER_ID)
    ordered = sessions.sort(USER_ID, SESSION_START)
    capped = ordered.filter((~too_idle(idle, config.gap, config.gap_rule)).fill_null(False))
    return dict(capped.group_by(DATE).len().rows())


def continued_into(sessions: pl.DataFrame, day: date, timezone: str) -> int:
    """Sessions that began before `day` and go on into it (across its midnight)."""
    start, _ = day_bounds(day, timezone)
    return sessions.filter((pl.col(SESSION_START) < start) & (pl.col(SESSION_END) >= start)).height
