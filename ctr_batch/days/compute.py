"""Compute a run of consecutive days in one pass: their window's events, then split by day.

The days from ``first`` to ``last`` read the events of ``[first - lookback, last + 1 day +
lookback)`` plus one gap on each side, go through the pipeline once, and each day keeps its
own rows: the sessions that start on it, the searches made on it, and the bad rows whose home
day it is. Every session that lies within the lookback of the run's edges is computed exactly
as a full recompute would; one reaching past them is cut there, and counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.batch.pipeline import compute_ctr, compute_tables
from ctr_batch.core.errors import InputError
from ctr_batch.core.schema import (
    CLICKED,
    CTR_BY_QUERY_DAILY_TABLE,
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    DATE,
    EVENTS_SCHEMA,
    FILE_INDEX,
    N_EVENTS,
    OUTSIDE_PARTITION,
    QUARANTINE_TABLE,
    REASON,
    SEARCHES_TABLE,
    SEQ,
    SESSIONS_TABLE,
    SOURCE_FILE,
    SOURCE_ROW,
)
from ctr_batch.days.manifest import DayRecord
from ctr_batch.days.window import (
    HOME_DAY,
    PARTITION,
    PLACED,
    split_sessions,
    window_rows,
)
from ctr_batch.io.read import decoding, scan_events
from ctr_batch.stages.flag import quarantine_rows

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from ctr_batch.days.config import BackfillConfig

DayTables = dict[str, pl.DataFrame]


def compute_days(
    days: list[date], files: dict[Path, date | None], config: BackfillConfig
) -> dict[date, tuple[DayTables, DayRecord]]:
    """Tables and manifest figures of consecutive `days`, from the files of their window.

    `files` maps each input file of the window to its ``date=`` partition (or None).
    """
    span = (days[0], days[-1])
    if not files:
        empty = compute_tables(pl.LazyFrame(schema=EVENTS_SCHEMA), config.run)
        return {day: _with_record(_day_tables(empty, day), 0, 0) for day in days}
    scanned = scan_events(list(files), column_map=dict(config.run.column_map))
    file_table = scanned.file_table()
    assert file_table is not None  # files were given
    partitions = [files[path] for path in scanned.paths]
    with decoding(scanned.paths):
        rows = window_rows(scanned.frame, partitions, span, config)
        window = rows.collect(engine=scanned.engine)
    _refuse_timeless(window, scanned.paths)
    usable = window.lazy().filter(pl.col(PLACED)).drop(HOME_DAY, PLACED, PARTITION)
    tables = compute_tables(
        usable, config.run, normalized=True, dedupe=scanned.has_event_id, file_table=file_table
    )
    misplaced = window.lazy().filter(~pl.col(PLACED))
    misplaced = misplaced.with_columns(pl.lit(OUTSIDE_PARTITION).alias(REASON))
    rejected = pl.concat(
        [tables[QUARANTINE_TABLE], quarantine_rows(misplaced, file_table).collect()]
    )
    tables[QUARANTINE_TABLE] = _with_home_days(rejected, window, file_table)
    home_rows = dict(window.group_by(HOME_DAY).len().rows())
    computed = {}
    for day in days:
        day_tables = _day_tables(tables, day)
        split = split_sessions(day_tables[SESSIONS_TABLE], span, config)
        computed[day] = _with_record(day_tables, home_rows.get(day, 0), split)
    return computed


def _with_home_days(
    rejected: pl.DataFrame, window: pl.DataFrame, file_table: pl.LazyFrame
) -> pl.DataFrame:
    """Quarantine rows with their home day as ``date`` (found by their input row)."""
    offsets = file_table.select(SOURCE_FILE, pl.col(SOURCE_ROW).alias("_offset")).collect()
    keyed = rejected.join(offsets, on=SOURCE_FILE, how="left").with_columns(
        (pl.col(SOURCE_ROW) + pl.col("_offset")).alias(SEQ)
    )
    homes = window.select(SEQ, pl.col(HOME_DAY).alias(DATE))
    located = keyed.join(homes, on=SEQ, how="left").drop("_offset", SEQ)
    return located.sort(SOURCE_FILE, SOURCE_ROW)


def _refuse_timeless(window: pl.DataFrame, paths: list[Path]) -> None:
    """InputError for a file outside ``date=`` folders whose rows all lack an event time."""
    orphans = window.filter(pl.col(HOME_DAY).is_null()).get_column(FILE_INDEX).head(1)
    if len(orphans):
        msg = f"{paths[orphans[0]]}: no row has an event_time, and the file is in no date= "
        msg += "folder, so backfill cannot give its rows a day (put it in a date=YYYY-MM-DD "
        msg += "folder, or use ctr-batch run)"
        raise InputError(msg)


def _day_tables(tables: dict[str, pl.DataFrame], day: date) -> DayTables:
    """The rows of `day` of each table, and its daily CTR tables."""
    searches = tables[SEARCHES_TABLE].filter(pl.col(DATE) == day)
    sessions = tables[SESSIONS_TABLE].filter(pl.col(DATE) == day)
    quarantine = tables[QUARANTINE_TABLE]
    if DATE in quarantine.columns:  # the home day of each row, set by compute_days
        quarantine = quarantine.filter(pl.col(DATE) == day).drop(DATE)
    ctr = compute_ctr(searches.lazy(), sessions.lazy())
    by_query = ctr[CTR_BY_QUERY_TABLE]
    return {
        SEARCHES_TABLE: searches,
        SESSIONS_TABLE: sessions,
        CTR_DAILY_TABLE: ctr[CTR_DAILY_TABLE],
        CTR_BY_QUERY_DAILY_TABLE: by_query.select(pl.lit(day).alias(DATE), pl.all()),
        QUARANTINE_TABLE: quarantine,
    }


def _with_record(day_tables: DayTables, home_rows: int, split: int) -> tuple[DayTables, DayRecord]:
    """A day's tables, with their figures for the manifest."""
    searches, sessions = day_tables[SEARCHES_TABLE], day_tables[SESSIONS_TABLE]
    quarantine = day_tables[QUARANTINE_TABLE]
    record = DayRecord(
        rows_home=home_rows,
        rows_quarantined=quarantine.height,
        quarantined=dict(quarantine[REASON].value_counts().rows()),
        sessions=sessions.height,
        session_events=int(sessions[N_EVENTS].sum()),
        searches=searches.height,
        clicked_searches=int(searches[CLICKED].sum()),
        split_sessions=split,
    )
    return day_tables, record
