"""``ctr-batch backfill --engine spark``: each window of days computed by Spark's user buckets.

The backfill runs as it does locally (plan, windows widened for long sessions, tables split
by day, manifest, commit under the lock); only a window's tables come from Spark
(``SparkWindows``, a ``days.window_tables.WindowEngine``). Spark reads the window's files
and hashes users into balanced buckets; each bucket task puts its rows through the local
window rules (``days.window.window_rows``: rows of neighbour folders only within the window,
home days, placement) and ``days.window_tables.tables_of_window``, and writes its tables as
parts named after the bucket into a scratch folder of ``OUT`` (a retried task rewrites the
same files), which the driver reads back. Repeated ids are judged among the rows the window
places, across all users (id buckets), exactly as one local pass over the window judges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.batch.buckets import PART_TABLES
from ctr_batch.batch.run import check_buckets
from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import EVENT_TIME, FILE_INDEX
from ctr_batch.days.window import PLACED, in_reach, window_rows
from ctr_batch.days.window_tables import (
    tables_of_window,
    timeless_error,
    timeless_files,
    window_tables,
)
from ctr_batch.io.layout import bucket_part, remove_folder, scratch_folder
from ctr_batch.io.read import check_unchanged, decoding, scan_events
from ctr_batch.io.write import table_options, write_file
from ctr_batch.spark import balance, prepare
from ctr_batch.spark.files import read_events
from ctr_batch.spark.groups import collect_arrow, per_group
from ctr_batch.spark.run import bucket_count, ids_all_distinct
from ctr_batch.spark.session import (
    check_master,
    large_var_types,
    require_pyspark,
    spark_session,
)
from ctr_batch.spark.types import arrow_schema, spark_schema, to_spark_arrow
from ctr_batch.spark.work import fail_once, with_duplicates_apart

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime
    from pathlib import Path

    import pyarrow as pa
    from pyspark.sql import SparkSession

    from ctr_batch.days.config import BackfillConfig
    from ctr_batch.days.window_tables import WindowTables
    from ctr_batch.io.read import ScannedEvents

BACKFILL_ENGINES = ("auto", "spark")  # a backfill computes its windows here, or on Spark
KIND, DAY, VALUE = "kind", "day", "value"
HOME, LATE, TIMELESS = "home", "late", "timeless"  # kinds of counts a bucket task returns
_COUNTS = pl.Schema({KIND: pl.String(), DAY: pl.Date(), VALUE: pl.Int64()})


@dataclass(frozen=True, slots=True)
class Window:
    """The rules of one window of days, as a bucket task applies them to its rows.

    Attributes
    ----------
    config
        The backfill's settings.
    partition_of
        Each file's ``date=`` day (None: no day folder), by ``_file``.
    span
        The first and last day computed.
    bounds
        The times the window reads (start, end).
    first_times
        Each file's earliest event time (None where it has a day folder, or no time at all).
    """

    config: BackfillConfig
    partition_of: list[date | None]
    span: tuple[date, date]
    bounds: tuple[datetime, datetime]
    first_times: list[datetime | None]

    def rows(self, events: pl.LazyFrame) -> pl.LazyFrame:
        """`events` as the window reads them, with home day and placement (``window_rows``)."""
        reached = events.filter(in_reach(self.partition_of, self.span, self.bounds))
        return window_rows(
            reached, self.partition_of, self.span, self.config, self.bounds, self.first_times
        )

    def placed(self, events: pl.LazyFrame) -> pl.LazyFrame:
        """The rows of `events` that the window computes (those it reads and places)."""
        return self.rows(events).filter(pl.col(PLACED))


@dataclass(frozen=True, slots=True)
class WindowWork:
    """One bucket task of a window: its rows in, its tables written as parts, counts out."""

    window: Window
    files: pl.DataFrame  # _file -> source_file and first _seq
    output: pa.Schema
    staging: Path

    def write(self, bucket: int, table: pa.Table) -> pa.Table:
        """Write the bucket's tables; return its rows per home day, late rows, timeless files."""
        events, duplicates = with_duplicates_apart(table)
        rows = self.window.rows(events.lazy()).collect(engine="in-memory")
        tables, home, late = tables_of_window(
            rows, self.window.config, self.files.lazy(), dedupe=False, duplicates=duplicates
        )
        for name in PART_TABLES:
            part = self.staging / name / bucket_part(bucket)
            write_file(tables[name], part, **table_options(name, tables[name]))
        fail_once(bucket)
        counts = pl.DataFrame(
            [
                *((HOME, day, n) for day, n in home.items()),
                *((LATE, day, n) for day, n in late.items()),
                *((TIMELESS, None, index) for index in timeless_files(rows)),
            ],
            schema=_COUNTS,
            orient="row",
        )
        return to_spark_arrow(counts, self.output)


@dataclass(frozen=True, slots=True)
class SparkWindows:
    """Windows of days computed on Spark (a ``days.window_tables.WindowEngine``).

    Attributes
    ----------
    out
        The backfill's output folder (parts are staged in a scratch folder of it, which the
        executors must see at the same path: local mode, or a shared file system).
    master
        Spark master URL (default: the active session's, else ``local[*]``); Spark starts
        only when a window is computed, so a rerun that skips every day never starts it.
    buckets
        User buckets per window (default ``spark.run.bucket_count`` of its rows).
    """

    out: Path
    master: str | None = None
    buckets: int | None = None

    def __call__(
        self,
        span: tuple[date, date],
        files: Mapping[Path, date | None],
        bounds: tuple[datetime, datetime],
        config: BackfillConfig,
    ) -> WindowTables:
        """All tables of the rows of `files` timed within `bounds`, rows per home day, late."""
        mapping = dict(config.run.column_map)
        scanned = scan_events(list(files), column_map=mapping) if files else None
        if scanned is None or not scanned.rows:  # nothing for Spark: the local empty tables
            return window_tables(span, files, bounds, config)
        spark = spark_session(self.master)
        count = self.buckets or bucket_count(scanned.rows, spark.sparkContext.defaultParallelism)
        partition_of = [files[path] for path in scanned.paths]
        window = Window(config, partition_of, span, bounds, _first_times(scanned, partition_of))
        staging = scratch_folder(self.out, "spark")
        try:
            with decoding(scanned.paths):
                found = _compute(spark, window, scanned, count, staging)
            check_unchanged(scanned)
            timeless = found.filter(pl.col(KIND) == TIMELESS).get_column(VALUE).sort()
            if len(timeless):
                raise timeless_error(scanned.paths[timeless[0]])
            tables = {name: pl.read_parquet(staging / name / "*.parquet") for name in PART_TABLES}
        finally:
            remove_folder(staging)
        return tables, _per_day(found, HOME), _per_day(found, LATE)


def _compute(
    spark: SparkSession, window: Window, scanned: ScannedEvents, count: int, staging: Path
) -> pl.DataFrame:
    """Write every bucket's parts under `staging`; the counts the buckets returned."""
    from pyspark.sql import functions as sf

    for name in PART_TABLES:
        (staging / name).mkdir(parents=True)
    events = read_events(spark, scanned, dict(window.config.run.column_map))
    bucket = balance.user_bucket(events, count)
    if scanned.has_event_id:
        distinct = ids_all_distinct(scanned)
        events = prepare.with_duplicates(events, count, distinct=distinct, among=window.placed)
    output = spark_schema(_COUNTS)
    files = scanned.file_table()
    assert files is not None  # files were given
    large = large_var_types(spark)
    work = WindowWork(
        window, files.collect(), arrow_schema(output, large=large), staging.resolve()
    )

    written = per_group(events, bucket, work.write, output, count)
    counts = written.groupBy(KIND, DAY).agg(sf.sum(VALUE).alias(VALUE))
    return pl.DataFrame(pl.from_arrow(collect_arrow(counts))).cast(_COUNTS)


def _first_times(scanned: ScannedEvents, partition_of: list[date | None]) -> list[datetime | None]:
    """Each file's earliest event time, for files outside day folders (read here: one column)."""
    flat = [index for index, day in enumerate(partition_of) if day is None]
    first: list[datetime | None] = [None] * len(partition_of)
    if flat:
        earliest = (
            scanned.frame.filter(pl.col(FILE_INDEX).is_in(flat))
            .group_by(FILE_INDEX)
            .agg(pl.col(EVENT_TIME).min())
            .collect()
        )
        for index, time in earliest.rows():
            first[index] = time
    return first


def _per_day(counts: pl.DataFrame, kind: str) -> dict[date, int]:
    return dict(counts.filter(pl.col(KIND) == kind).select(DAY, VALUE).rows())


def backfill_windows(
    engine: str, out: Path, master: str | None = None, buckets: int | None = None
) -> SparkWindows | None:
    """The window engine of a backfill on `engine` (None: this process's); settings checked.

    `master` and `buckets` apply to ``spark`` only; any other `engine` is a ``ConfigError``.
    """
    if engine not in BACKFILL_ENGINES:
        msg = f"--engine {engine}: a backfill runs on {' or '.join(BACKFILL_ENGINES)}"
        raise ConfigError(msg)
    if engine == "auto":
        for name, value in (("--spark-master", master), ("--buckets", buckets)):
            if value is not None:
                msg = f"{name} needs --engine spark for a backfill"
                raise ConfigError(msg)
        return None
    check_buckets(buckets, "--buckets")
    check_master(master)
    require_pyspark()
    return SparkWindows(out, master, buckets)
