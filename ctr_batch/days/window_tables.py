"""A window's tables: its rows read, placed and computed, in this process or elsewhere.

A window is what a run of consecutive days reads: the rows timed within its bounds, from the
days' own folders and (only within the bounds) their neighbours'. ``window_tables`` reads and
computes one here; ``tables_of_window`` is the part any engine shares once the rows are read
(Spark runs it per user bucket, ``spark.days``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

import polars as pl

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.errors import InputError
from ctr_batch.core.schema import (
    DATE,
    EVENT_TIME,
    EVENTS_SCHEMA,
    FILE_INDEX,
    OUTSIDE_PARTITION,
    QUARANTINE_TABLE,
    REASON,
    SEQ,
    SOURCE_FILE,
    SOURCE_ROW,
)
from ctr_batch.days.figures import late_rows
from ctr_batch.days.window import HOME_DAY, PARTITION, PLACED, window_rows
from ctr_batch.io.read import decoding, scan_events
from ctr_batch.stages.flag import quarantine_rows

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from ctr_batch.days.config import BackfillConfig

WindowTables = tuple[dict[str, pl.DataFrame], dict[date, int], dict[date, int]]


class WindowEngine(Protocol):
    """What computes a window's tables: ``window_tables`` here, or Spark (``spark.days``)."""

    def __call__(
        self,
        span: tuple[date, date],
        files: Mapping[Path, date | None],
        bounds: tuple[datetime, datetime],
        config: BackfillConfig,
    ) -> WindowTables:
        """The tables of `files` (with their ``date=`` day) within `bounds`, rows per day."""
        ...


def window_tables(
    span: tuple[date, date],
    files: Mapping[Path, date | None],
    bounds: tuple[datetime, datetime],
    config: BackfillConfig,
) -> WindowTables:
    """All tables of the rows timed within `bounds`, and rows per home day and late per day.

    The local ``WindowEngine``: the window's rows read and computed in this process.
    """
    if not files:
        return compute_tables(pl.LazyFrame(schema=EVENTS_SCHEMA), config.run), {}, {}
    scanned = scan_events(list(files), column_map=dict(config.run.column_map))
    file_table = scanned.file_table()
    assert file_table is not None  # files were given
    partition_of = [files[path] for path in scanned.paths]
    with decoding(scanned.paths):
        events = _only_in_range(scanned.frames, partition_of, span, bounds)
        rows = window_rows(events, partition_of, span, config, bounds)
        window = rows.collect(engine=scanned.engine)
    orphans = timeless_files(window)
    if orphans:
        raise timeless_error(scanned.paths[orphans[0]])
    return tables_of_window(window, config, file_table, dedupe=scanned.has_event_id)


def tables_of_window(
    window: pl.DataFrame,
    config: BackfillConfig,
    file_table: pl.LazyFrame,
    *,
    dedupe: bool,
    duplicates: pl.LazyFrame | None = None,
) -> WindowTables:
    """The tables of a window's rows (``window_rows``), rows per home day and late per day.

    Rows the window can place are computed; the others are quarantined as
    ``outside_partition``; every quarantined row gets its home day as ``date``. `dedupe` and
    `duplicates` are as in ``compute_tables``. The rows may be all users' or one user
    bucket's (then per-day counts add up over the buckets).
    """
    usable = window.lazy().filter(pl.col(PLACED)).drop(HOME_DAY, PLACED, PARTITION)
    tables = compute_tables(
        usable,
        config.run,
        normalized=True,
        dedupe=dedupe,
        file_table=file_table,
        duplicates=duplicates,
    )
    misplaced = window.lazy().filter(~pl.col(PLACED))
    misplaced = misplaced.with_columns(pl.lit(OUTSIDE_PARTITION).alias(REASON))
    rejected = pl.concat(
        [tables[QUARANTINE_TABLE], quarantine_rows(misplaced, file_table).collect()]
    )
    tables[QUARANTINE_TABLE] = _with_home_days(rejected, window, file_table)
    homes = window.lazy().select(HOME_DAY).drop_nulls().group_by(HOME_DAY).len()
    home_rows = dict(homes.collect(engine="in-memory").rows())
    return tables, home_rows, late_rows(window, config.run.timezone)


def _only_in_range(
    frames: tuple[pl.LazyFrame, ...],
    partition_of: list[date | None],
    span: tuple[date, date],
    bounds: tuple[datetime, datetime],
) -> pl.LazyFrame:
    """The events of every file; of a neighbour day's folder, only those timed within `bounds`.

    A row of a folder outside `span` is read only for its time (its own day, the folder's,
    is not computed here), so its file needs no more: with time-ordered row groups, Parquet
    statistics skip the rest of the file.
    """
    inside = pl.col(EVENT_TIME).is_between(*bounds, closed="left")
    return pl.concat(
        [
            frame if day is None or span[0] <= day <= span[1] else frame.filter(inside)
            for frame, day in zip(frames, partition_of, strict=True)
        ],
        how="vertical",
    )


def _with_home_days(
    rejected: pl.DataFrame, window: pl.DataFrame, file_table: pl.LazyFrame
) -> pl.DataFrame:
    """Quarantine rows with their home day as ``date`` (found by their input row)."""
    offsets = file_table.select(SOURCE_FILE, pl.col(SOURCE_ROW).alias("_offset")).collect()
    keyed = rejected.join(offsets, on=SOURCE_FILE, how="left").with_columns(
        (pl.col(SOURCE_ROW) + pl.col("_offset")).alias(SEQ)
    )
    wanted = window.filter(pl.col(SEQ).is_in(keyed.get_column(SEQ).implode()))  # few rows
    homes = wanted.select(SEQ, pl.col(HOME_DAY).alias(DATE))
    located = keyed.join(homes, on=SEQ, how="left").drop("_offset", SEQ)
    return located.sort(SOURCE_FILE, SOURCE_ROW)


def timeless_files(window: pl.DataFrame) -> list[int]:
    """``_file`` of the files outside ``date=`` folders none of whose rows has a time."""
    orphan = window.get_column(HOME_DAY).is_null()
    if not orphan.any():
        return []
    return window.get_column(FILE_INDEX).filter(orphan).unique().sort().to_list()


def timeless_error(path: Path) -> InputError:
    """The one-line error for a file whose rows backfill cannot give a day."""
    msg = f"{path}: no row has an event_time, and the file is in no date= folder, so backfill "
    msg += "cannot give its rows a day (put it in a date=YYYY-MM-DD folder, or use ctr-batch run)"
    return InputError(msg)
