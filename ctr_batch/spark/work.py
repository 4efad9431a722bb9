"""What Spark's Python workers run: Arrow in, the local Polars code, Arrow out.

Each function takes the rows of one group as a ``pyarrow.Table`` (as ``groups.per_group``
hands them over) and returns one. A user bucket is computed by
``BucketWork``, the very unit of work of the local bucketed path, on its rows in input order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.batch.buckets import PART_TABLES, BucketWork
from ctr_batch.core.schema import (
    CTR_BY_QUERY_SCHEMA,
    CTR_DAILY_SCHEMA,
    FILE_INDEX,
    QUARANTINE_TABLE,
    REASON,
    SEQ,
)
from ctr_batch.io.layout import bucket_part
from ctr_batch.io.normalize import contract_columns
from ctr_batch.io.write import table_options, write_file
from ctr_batch.spark.types import TAG, TAGGED, to_spark_arrow
from ctr_batch.stages import aggregate
from ctr_batch.stages.flag import repeated_event_id, row_problem

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa

    from ctr_batch.core.config import RunConfig

DUPLICATE = "_duplicate"  # true for a row whose event_id an earlier processable row had
SOURCE = "the Spark events"
FAIL_ONCE = "CTR_BATCH_SPARK_FAIL_ONCE"  # tests: a bucket task fails once if this file exists


def events_of(table: pa.Table) -> pl.DataFrame:
    """The rows of a group as normalized events, in input order (sorted by ``_seq``).

    Types follow the local rules (``io.normalize``): integer ids as text, times in UTC at the
    microsecond, strings of any Arrow width as ``String``.
    """
    frame = pl.DataFrame(pl.from_arrow(table))
    columns = contract_columns(frame.schema, {}, SOURCE)
    kept = [pl.col(SEQ).cast(pl.Int64)]
    if FILE_INDEX in frame.schema:
        kept.append(pl.col(FILE_INDEX).cast(pl.UInt32))
    if DUPLICATE in frame.schema:
        kept.append(pl.col(DUPLICATE).fill_null(value=False))
    return frame.select(*columns, *kept).sort(SEQ)


def with_duplicates_apart(table: pa.Table) -> tuple[pl.DataFrame, pl.LazyFrame | None]:
    """The events of a group (``events_of``), and the ``_seq`` of those flagged ``_duplicate``.

    None when no row was flagged (the ids were not checked in Spark, or all distinct).
    """
    events = events_of(table)
    if DUPLICATE not in events.schema:
        return events, None
    duplicates = events.lazy().filter(pl.col(DUPLICATE)).select(SEQ)
    return events.drop(DUPLICATE), duplicates


def repeated_ids(
    table: pa.Table, among: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None
) -> pa.Table:
    """``_seq`` of the rows of an id bucket whose ``event_id`` an earlier good row had.

    The rule of one local pass (``stages.flag``): only rows without another problem count, and
    the first in input order is kept. With `among`, only the rows it keeps (say, those a
    backfill window places) take part.
    """
    events = events_of(table).lazy()
    if among is not None:
        events = among(events)
    repeated = events.with_columns(row_problem()).filter(repeated_event_id()).select(SEQ)
    return repeated.collect(engine="in-memory").to_arrow()


@dataclass(frozen=True, slots=True)
class SparkBucketWork:
    """``BucketWork`` for the rows of one user bucket as Spark hands them over.

    Attributes
    ----------
    config
        The run's settings.
    files
        ``_file`` → ``source_file`` and first ``_seq`` (None: events not read from files).
    output
        The Arrow schema Spark expects back.
    staging
        Where ``run`` writes the parts (None: the tables go back to Spark, tagged).
    """

    config: RunConfig
    files: pl.DataFrame | None
    output: pa.Schema
    staging: Path | None = None

    def tables(self, table: pa.Table) -> dict[str, pl.DataFrame]:
        """The bucket's ``searches``, ``sessions`` and ``quarantine``."""
        events, duplicates = with_duplicates_apart(table)
        files = self.files.lazy() if self.files is not None else None
        work = BucketWork(self.config, files, duplicates)
        return work(events.lazy())

    def tagged(self, table: pa.Table) -> pa.Table:
        """The bucket's three tables as one, each row tagged with its table (``_table``)."""
        tables = self.tables(table)
        frames = [
            tables[name].with_columns(pl.lit(tag, dtype=pl.Int8).alias(TAG))
            for tag, name in enumerate(TAGGED)
        ]
        return to_spark_arrow(pl.concat(frames, how="diagonal"), self.output)

    def write(self, bucket: int, table: pa.Table) -> pa.Table:
        """Write the bucket's parts (named by bucket: a retry rewrites the same files).

        Returns the bucket's quarantined rows by reason.
        """
        if self.staging is None:
            msg = "SparkBucketWork.write needs a staging folder"
            raise ValueError(msg)
        tables = self.tables(table)
        for name in PART_TABLES:
            path = self.staging / name / bucket_part(bucket)
            write_file(tables[name], path, **table_options(name, tables[name]))
        fail_once(bucket)
        counts = tables[QUARANTINE_TABLE].group_by(REASON).len().cast({"len": pl.Int64})
        return to_spark_arrow(counts, self.output)


def fail_once(bucket: int) -> None:
    """Fault injection for tests: fail this task if the file named by ``FAIL_ONCE`` exists.

    The file is removed first, so exactly one task fails, once, after writing its parts.
    """
    armed = os.environ.get(FAIL_ONCE)
    if not armed:
        return
    try:
        Path(armed).unlink()
    except FileNotFoundError:
        return
    msg = f"injected failure in bucket {bucket} ({FAIL_ONCE})"
    raise RuntimeError(msg)


def daily_of(searches: pa.Table, sessions: pa.Table, output: pa.Schema) -> pa.Table:
    """``ctr_daily`` of the days whose searches and sessions are given (all of those days)."""
    daily = aggregate.ctr_daily(_frame(searches).lazy(), _frame(sessions).lazy())
    return to_spark_arrow(daily.collect(engine="in-memory").cast(CTR_DAILY_SCHEMA), output)


def by_query_of(searches: pa.Table, output: pa.Schema) -> pa.Table:
    """``ctr_by_query`` of the queries whose searches are given (all of them)."""
    by_query = aggregate.ctr_by_query(_frame(searches).lazy()).collect(engine="in-memory")
    return to_spark_arrow(by_query.cast(CTR_BY_QUERY_SCHEMA), output)


def _frame(table: pa.Table) -> pl.DataFrame:
    return pl.DataFrame(pl.from_arrow(table))
