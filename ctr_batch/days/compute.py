"""Compute a run of consecutive days in one pass: their window's events, then split by day.

The days from ``first`` to ``last`` read the events of ``[first - lookback, last + 1 day +
lookback)`` plus one gap on each side, go through the pipeline once, and each day keeps its
own rows: the sessions that start on it, the searches made on it, and the bad rows whose home
day it is. A session that reaches past the window is not cut: the window widens until it
holds the whole session, so every session is computed exactly as a full recompute would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from ctr_batch.batch.pipeline import compute_ctr
from ctr_batch.core.rules import too_idle
from ctr_batch.core.schema import (
    CTR_BY_QUERY_DAILY_TABLE,
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    DATE,
    EVENT_TIME,
    QUARANTINE_TABLE,
    SEARCHES_TABLE,
    SESSION_END,
    SESSION_START,
    SESSIONS_TABLE,
    USER_ID,
)
from ctr_batch.days.figures import DayTables, capped_by_day, continued_into, day_record
from ctr_batch.days.window import (
    SLACK,
    files_between,
    long_sessions,
    run_bounds,
    window_bounds,
)
from ctr_batch.days.window_tables import window_tables
from ctr_batch.io.read import decoding, scan_events

_MICROSECOND = timedelta(microseconds=1)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from ctr_batch.days.config import BackfillConfig
    from ctr_batch.days.manifest import DayRecord
    from ctr_batch.days.window_tables import WindowEngine


def compute_days(
    days: list[date],
    partitions: Mapping[Path, date | None],
    config: BackfillConfig,
    windows: WindowEngine | None = None,
) -> tuple[dict[date, tuple[DayTables, DayRecord]], set[date]]:
    """Tables and manifest figures of consecutive `days`, and earlier days they change.

    The earlier days are those before `days` that own sessions going on into them.

    `partitions` maps every input file to its ``date=`` partition (or None); the window's
    files are chosen from them. The window starts as the lookback around the days; while a
    session of the days reaches one of its edges (its first event within a gap after the
    start, or its last within a gap before the end), that side is widened (its margin
    doubled) and the days computed again, until no session does or the data ends there.
    So every session is computed whole, however long, at the cost of reading its span.
    `windows` computes each window's tables (default ``window_tables``, in this process).
    """
    compute_window = windows or window_tables
    span = (days[0], days[-1])
    margins = (config.lookback, config.lookback)
    extent: tuple[datetime, datetime] | None = None
    while True:
        bounds = window_bounds(span, partitions, config, margins)
        chosen = sorted(files_between(bounds, partitions, config))  # input order: by path
        files = {path: partitions[path] for path in chosen}
        tables, home_rows, late = compute_window(span, files, bounds, config)
        reach = _reaching(tables[SESSIONS_TABLE], span, bounds, config)
        if not any(reach):
            break
        extent = extent or _extent(partitions, config)
        wider = _widened(margins, reach, bounds, extent)
        if wider == margins:
            break
        margins = wider
    capped = capped_by_day(tables[SESSIONS_TABLE], config.run)
    computed = {}
    by_day = _split_by_day(tables)
    spans = _gap_sessions(tables[SESSIONS_TABLE], config)
    for day in days:
        day_tables = _day_tables(by_day, day)
        window = reach_window(spans, day, config)
        counts = {
            "rows_home": home_rows.get(day, 0),
            "long_sessions": long_sessions(day_tables[SESSIONS_TABLE], (day, day), config),
            "continued_sessions": continued_into(tables[SESSIONS_TABLE], day, config.run.timezone),
            "capped_sessions": capped.get(day, 0),
            "late_rows": late.get(day, 0),
        }
        computed[day] = (day_tables, day_record(day_tables, counts, window))
    start = run_bounds(span, config.run.timezone)[0]
    sessions = tables[SESSIONS_TABLE]
    into = sessions.filter((pl.col(DATE) < span[0]) & (pl.col(SESSION_END) >= start))
    return computed, set(into.get_column(DATE).to_list())


def reach_window(spans: pl.DataFrame, day: date, config: BackfillConfig) -> list[str]:
    """The times a row must lie in to change `day`'s tables from another day's folder.

    `spans` are the sessions the gap alone makes (``_gap_sessions``): their start and end.

    The day's tables hold its sessions and the searches made on it: those of the sessions
    with events on the day. A row changes one of them only if it lies within a gap of it (a
    row farther away opens a session of its own, or joins none), and a row opens a session on
    the day only if it lies on the day. So the span from the earliest start to the latest
    end of those sessions and of the day itself, widened by a gap on each side (inclusive),
    holds every row of another folder that can change the day. The day's fingerprint covers
    the files whose footers show times in it, besides its own folder (``plan.reach_files``):
    a file landing outside leaves the day as it is, however near.
    """
    start, end = run_bounds((day, day), config.run.timezone)
    ours = spans.filter((pl.col(SESSION_END) >= start) & (pl.col(SESSION_START) < end))
    first, last = ours.select(pl.col(SESSION_START).min(), pl.col(SESSION_END).max()).row(0)
    low = min(first, start) if first is not None else start
    high = max(last, end) if last is not None else end
    gap = config.run.gap
    return [(low - gap).isoformat(), (high + gap + _MICROSECOND).isoformat()]


def _reaching(
    sessions: pl.DataFrame,
    span: tuple[date, date],
    bounds: tuple[datetime, datetime],
    config: BackfillConfig,
) -> tuple[bool, bool]:
    """Whether a session with events on the days `span` may go on before / after `bounds`."""
    start, end = run_bounds(span, config.run.timezone)
    gap = config.run.gap
    sessions = _gap_sessions(sessions, config)  # pieces of one gap session decided together
    ours = (pl.col(SESSION_END) >= start) & (pl.col(SESSION_START) < end)
    before = ours & (pl.col(SESSION_START) < bounds[0] + gap)
    after = ours & (pl.col(SESSION_END) + gap >= bounds[1])
    low, high = sessions.select(before.any().alias("before"), after.any().alias("after")).row(0)
    return bool(low), bool(high)


def _gap_sessions(sessions: pl.DataFrame, config: BackfillConfig) -> pl.DataFrame:
    """The sessions the gap alone makes: pieces cut by ``max_session`` joined again.

    Where a piece ends, the next piece of its user starts within a gap (else the gap rule
    cut there), so consecutive pieces a gap apart or less are one gap session. Without
    ``max_session``, the sessions themselves.
    """
    if config.run.max_session is None:
        return sessions
    idle = pl.col(SESSION_START) - pl.col(SESSION_END).shift().over(USER_ID)
    apart = too_idle(idle, config.run.gap, config.run.gap_rule)
    chain = apart.fill_null(True).cum_sum().over(USER_ID)
    ordered = sessions.sort(USER_ID, SESSION_START)
    return ordered.group_by(USER_ID, chain.alias("_chain")).agg(
        pl.col(SESSION_START).min(), pl.col(SESSION_END).max()
    )


def _widened(
    margins: tuple[timedelta, timedelta],
    reach: tuple[bool, bool],
    bounds: tuple[datetime, datetime],
    extent: tuple[datetime, datetime],
) -> tuple[timedelta, timedelta]:
    """The margins, doubled on each side a session reaches unless the data ends there."""
    before, after = margins
    if reach[0] and bounds[0] > extent[0]:
        before *= 2
    if reach[1] and bounds[1] <= extent[1]:
        after *= 2
    return before, after


def _extent(
    partitions: Mapping[Path, date | None], config: BackfillConfig
) -> tuple[datetime, datetime]:
    """The earliest and latest times any input row can have (dated folders give a bound)."""
    dated = [day for day in partitions.values() if day is not None]
    flat = [path for path, day in partitions.items() if day is None]
    lows, highs = [], []
    if dated:
        lows.append(datetime.combine(min(dated), datetime.min.time(), UTC) - SLACK)
        highs.append(datetime.combine(max(dated), datetime.min.time(), UTC) + 2 * SLACK)
    if flat:
        scanned = scan_events(flat, column_map=dict(config.run.column_map))
        with decoding(scanned.paths):
            times = scanned.frame.select(
                pl.col(EVENT_TIME).min().alias("lo"), pl.col(EVENT_TIME).max().alias("hi")
            ).collect()
        low, high = times.row(0)
        lows.extend([low] if low is not None else [])
        highs.extend([high] if high is not None else [])
    return (
        (min(lows), max(highs))
        if lows
        else (datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC))
    )


def _split_by_day(tables: dict[str, pl.DataFrame]) -> dict[str, ByDay]:
    """``searches``, ``sessions`` and ``quarantine`` split by ``date`` (one pass each).

    Quarantine rows carry their home day as ``date`` (set by ``tables_of_window``), dropped
    here; without that column (no input at all) the table is empty.
    """
    split = {}
    for name in (SEARCHES_TABLE, SESSIONS_TABLE, QUARANTINE_TABLE):
        frame = tables[name]
        if DATE not in frame.columns:
            split[name] = ByDay(frame.clear(), {})
            continue
        parts = frame.partition_by(DATE, as_dict=True, maintain_order=True)
        if name == QUARANTINE_TABLE:
            frame = frame.drop(DATE)
            parts = {key: part.drop(DATE) for key, part in parts.items()}
        split[name] = ByDay(frame.clear(), {key[0]: part for key, part in parts.items()})
    return split


def _day_tables(by_day: dict[str, ByDay], day: date) -> DayTables:
    """The rows of `day` of each table, and its daily CTR tables."""
    searches, sessions = by_day[SEARCHES_TABLE].of(day), by_day[SESSIONS_TABLE].of(day)
    ctr = compute_ctr(searches.lazy(), sessions.lazy())
    by_query = ctr[CTR_BY_QUERY_TABLE]
    return {
        SEARCHES_TABLE: searches,
        SESSIONS_TABLE: sessions,
        CTR_DAILY_TABLE: ctr[CTR_DAILY_TABLE],
        CTR_BY_QUERY_DAILY_TABLE: by_query.select(pl.lit(day).alias(DATE), pl.all()),
        QUARANTINE_TABLE: by_day[QUARANTINE_TABLE].of(day),
    }


class ByDay(NamedTuple):
    """A table's rows split by day: `parts` by date, and `empty`, its schema with no rows."""

    empty: pl.DataFrame
    parts: dict[object, pl.DataFrame]

    def of(self, day: date) -> pl.DataFrame:
        """The rows of `day` (none: `empty`)."""
        return self.parts.get(day, self.empty)
