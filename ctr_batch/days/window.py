"""A backfill day's window: which files and rows it reads, and each row's home day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import EVENT_TIME, FILE_INDEX, SESSION_END, SESSION_START, TIME_DTYPE
from ctr_batch.io.stats import time_span

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from ctr_batch.days.config import BackfillConfig

PARTITION = "_partition"  # the date of a file's date= folder (below the events root)
HOME_DAY = "_home_day"
PLACED = "_placed"
_ONE_DAY = timedelta(days=1)
MAX_DAYS = 3_660  # days in one backfill: a bound on its partitions, manifest and run time
SLACK = _ONE_DAY  # a row may lie up to a day outside its date= folder (time zones, late data)


def days_between(start: date, end: date) -> list[date]:
    """Every date from `start` to `end`, both included."""
    if end < start:
        msg = f"--end {end} is before --start {start}"
        raise ConfigError(msg)
    if (end - start).days >= MAX_DAYS:
        msg = f"--start {start} to --end {end} spans {(end - start).days + 1:,} days; a backfill "
        msg += f"covers at most {MAX_DAYS:,} (ten years): split the range"
        raise ConfigError(msg)
    return [start + _ONE_DAY * i for i in range((end - start).days + 1)]


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of `day` in `timezone`, as UTC datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, datetime.min.time(), zone)
    end = datetime.combine(day + _ONE_DAY, datetime.min.time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def files_for_day(
    day: date,
    partitions: Mapping[Path, date | None],
    config: BackfillConfig,
    last: date | None = None,
) -> list[Path]:
    """Input files that can hold rows of the window of `day` (to `last`); all unpartitioned."""
    return files_between(window_bounds((day, last or day), partitions, config), partitions, config)


def files_between(
    bounds: tuple[datetime, datetime],
    partitions: Mapping[Path, date | None],
    config: BackfillConfig,
    own: tuple[date, date] | None = None,
) -> list[Path]:
    """Input files that can hold rows timed within `bounds` (start, end); all unpartitioned.

    A ``date=`` folder holds rows up to a day (``SLACK``) outside its day. A folder of a day
    outside `own` is only such a neighbour, read for its rows timed within `bounds`: its files
    are left out when their footers show no time within `bounds`. Folders of the days `own`
    (default: the dates of `bounds`, those of the days computed among them) are always read,
    for their rows without a time or far from their day, which are quarantined on it.
    """
    lo, hi = bounds
    first, last = own or (lo.date(), hi.date())
    column = config.time_column
    chosen = []
    for path, part in partitions.items():
        if part is None:
            chosen.append(path)
            continue
        part_start = datetime.combine(part, datetime.min.time(), UTC)
        if not (part_start - SLACK < hi and part_start + _ONE_DAY + SLACK > lo):
            continue
        if first <= part <= last or _reaches(path, column, bounds):
            chosen.append(path)
    return chosen


def _reaches(path: Path, column: str, bounds: tuple[datetime, datetime]) -> bool:
    """Whether the file may hold a row timed within `bounds` (its footer cannot rule it out)."""
    span = time_span(path, column)
    return span is None or (span[0] < bounds[1] and span[1] >= bounds[0])


def read_range(
    days: tuple[date, date],
    config: BackfillConfig,
    margins: tuple[timedelta, timedelta] | None = None,
) -> tuple[datetime, datetime]:
    """What the days from `days[0]` to `days[1]` read: `margins` and a gap around them.

    The margins before and after default to the lookback; a session that reaches past them
    makes the caller widen them (see ``compute.compute_days``).
    """
    before, after = margins or (config.lookback, config.lookback)
    start, end = run_bounds(days, config.run.timezone)
    return start - before - config.run.gap, end + after + config.run.gap


def window_bounds(
    days: tuple[date, date],
    partitions: Mapping[Path, date | None],
    config: BackfillConfig,
    margins: tuple[timedelta, timedelta] | None = None,
) -> tuple[datetime, datetime]:
    """What the days read: ``read_range``, stretched to the times of their own folders' rows.

    The days count their folders' rows, and quarantine the bad ones, so they read the times
    those rows lie at (``own_times``) and a gap around, with what the neighbours have there:
    a resent copy of an event is then judged beside the original, as in one full run.
    """
    lo, hi = read_range(days, config, margins)
    own = own_times(days, partitions, config)
    if own is None:
        return lo, hi
    return min(lo, own[0] - config.run.gap), max(hi, own[1] + config.run.gap)


def own_times(
    days: tuple[date, date], partitions: Mapping[Path, date | None], config: BackfillConfig
) -> tuple[datetime, datetime] | None:
    """The earliest and latest time of the rows placed in the days' own ``date=`` folders.

    A folder may hold rows up to a day (``SLACK``) from its date (late data, local time
    zones); rows further away are misplaced. The times come from the files' footers; without
    statistics, the folder's day with its day of slack on each side. None: no such folder.
    """
    spans = []
    for path, part in partitions.items():
        if part is None or not days[0] <= part <= days[1]:
            continue
        start = datetime.combine(part, datetime.min.time(), UTC)
        low, high = start - SLACK, start + _ONE_DAY + SLACK  # where rows are placed at all
        span = time_span(path, config.time_column)
        if span is not None:
            low, high = max(low, span[0]), min(high, span[1])
        if low <= high:
            spans.append((low, high))
    return (min(low for low, _ in spans), max(high for _, high in spans)) if spans else None


def run_bounds(days: tuple[date, date], timezone: str) -> tuple[datetime, datetime]:
    """Start of `days[0]` and end of `days[1]` in `timezone`, as UTC datetimes."""
    return day_bounds(days[0], timezone)[0], day_bounds(days[1], timezone)[1]


def long_sessions(sessions: pl.DataFrame, days: tuple[date, date], config: BackfillConfig) -> int:
    """Sessions reaching more than the lookback past the days `days` (first, last)."""
    start, end = run_bounds(days, config.run.timezone)
    outside = (pl.col(SESSION_START) < start - config.lookback) | (
        pl.col(SESSION_END) >= end + config.lookback
    )
    return sessions.filter(outside).height


def in_reach(
    partition_of: Sequence[date | None], span: tuple[date, date], bounds: tuple[datetime, datetime]
) -> pl.Expr:
    """True for the rows a window reads: of a neighbour day's folder, those timed in `bounds`.

    The rule of ``window_tables.window_tables``, which applies it file by file (so that Parquet
    statistics skip the rest of a neighbour's file), as one expression over ``_file``.
    """
    neighbours = [
        index
        for index, day in enumerate(partition_of)
        if day is not None and not span[0] <= day <= span[1]
    ]
    inside = pl.col(EVENT_TIME).is_between(*bounds, closed="left")
    return pl.when(pl.col(FILE_INDEX).is_in(neighbours)).then(inside).otherwise(pl.lit(True))


def window_rows(
    events: pl.LazyFrame,
    partitions: list[date | None],
    days: tuple[date, date],
    config: BackfillConfig,
    bounds: tuple[datetime, datetime],
    first_times: Sequence[datetime | None] | None = None,
) -> pl.LazyFrame:
    """Rows timed within `bounds` for the days `days` (first, last), and every row at home on them.

    A row of a day's own ``date=`` folder timed outside `bounds` (up to a day away, so still
    placed) is kept too: the day counts it, and quarantines it if it is bad, whichever day
    its time falls on (a neighbour computing it would not publish it).

    `partitions` gives each file's ``date=`` partition, by ``_file``. Adds ``_partition``,
    ``_home_day`` and ``_placed``: false for rows without a time and for rows more than a day
    outside their ``date=`` partition, which no day reads reliably. A row without a time
    outside any ``date=`` folder is at home on its file's first day; in a file without any
    time, it has no home day (null), and is kept so that the caller can refuse the file.
    `first_times` gives each file's earliest event time when `events` hold only some of its
    rows (one user bucket's); by default it is found in `events`.
    """
    lo, hi = bounds
    by_file = pl.col(FILE_INDEX).replace_strict(
        list(range(len(partitions))), partitions, return_dtype=pl.Date
    )
    events = events.with_columns(by_file.alias(PARTITION))
    part_start = pl.col(PARTITION).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    placed = pl.col(EVENT_TIME).is_not_null() & (
        part_start.is_null()
        | pl.col(EVENT_TIME).is_between(
            part_start - SLACK, part_start + _ONE_DAY + SLACK, closed="left"
        )
    )
    timezone = config.run.timezone
    if all(day is not None for day in partitions):  # every row's home is its folder's day
        home = pl.col(PARTITION)
    else:
        home = pl.coalesce(home_day(timezone), _first_day(timezone, first_times))
    with_home = events.with_columns(
        home.alias(HOME_DAY),
        (placed | pl.col(EVENT_TIME).is_null()).fill_null(False).alias(PLACED),
    )
    in_range = pl.col(EVENT_TIME).is_between(lo, hi, closed="left")
    home = pl.col(HOME_DAY).is_between(days[0], days[1])
    keep = (in_range & pl.col(PLACED)) | home
    return with_home.filter(keep.fill_null(False) | pl.col(HOME_DAY).is_null())


def _first_day(timezone: str, first_times: Sequence[datetime | None] | None) -> pl.Expr:
    """The date, in `timezone`, of the earliest event of each row's file (unpartitioned only).

    Only a row without a time in a file outside ``date=`` folders needs it, so the window
    over the file runs only where there is no partition (and only without `first_times`).
    """
    if first_times is None:
        unpartitioned = pl.col(EVENT_TIME).filter(pl.col(PARTITION).is_null())
        first = unpartitioned.min().over(FILE_INDEX)
    else:
        first = pl.col(FILE_INDEX).replace_strict(
            list(range(len(first_times))), list(first_times), return_dtype=TIME_DTYPE
        )
    first = pl.when(pl.col(PARTITION).is_null()).then(first)
    return first.dt.convert_time_zone(timezone).dt.date()


def home_day(timezone: str) -> pl.Expr:
    """A row's home day: its ``date=`` input partition, else its event date in `timezone`."""
    event_day = pl.col(EVENT_TIME).dt.convert_time_zone(timezone).dt.date()
    return pl.coalesce(PARTITION, event_day)
