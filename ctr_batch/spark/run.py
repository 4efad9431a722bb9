"""``ctr-batch run --engine spark``: user buckets computed by Spark, committed as a local run.

Spark reads the files and hashes users into buckets of even size (``balance.py``); each
bucket task computes its tables with the local ``BucketWork`` and writes them as parts named
after the bucket into the new snapshot folder (so a retried or speculative task rewrites the
same files, never adds one). The driver
then aggregates ``ctr_daily`` and ``ctr_by_query`` from the parts, checks the row accounting,
and commits, holding the lock throughout, exactly as a local bucketed run. Executors must see
``OUT`` at the same path (local mode, or a shared file system).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from ctr_batch.batch.accounting import summarize_parts
from ctr_batch.batch.buckets import PART_TABLES, aggregate_parts
from ctr_batch.batch.run import Events, scan
from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import (
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    REASON,
    RUN_SUMMARY_TABLE,
    TABLE_SCHEMAS,
)
from ctr_batch.io.commit import new_output, writing
from ctr_batch.io.layout import bucket_part, check_output_folder, refuse_other_output
from ctr_batch.io.read import check_unchanged, decoding
from ctr_batch.io.write import table_options, write_file, write_tables
from ctr_batch.spark import balance, prepare
from ctr_batch.spark.files import read_events
from ctr_batch.spark.groups import collect_arrow, per_group
from ctr_batch.spark.session import check_master, large_var_types, spark_session
from ctr_batch.spark.types import arrow_schema, spark_schema
from ctr_batch.spark.work import SparkBucketWork
from ctr_batch.stages.flag import ids_distinct

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from pyspark.sql import DataFrame

    from ctr_batch.core.config import RunConfig
    from ctr_batch.core.summary import RunSummary
    from ctr_batch.io.read import ScannedEvents

LOCAL_ID_CHECK_ROWS = 100_000_000  # ids of at most this many rows are checked on the driver
ROWS_PER_BUCKET = 2_000_000  # a bucket of this many events takes about 0.5 GiB in a worker
_COUNTS = pl.Schema({REASON: pl.String(), "len": pl.Int64()})


def bucket_count(rows: int, parallelism: int) -> int:
    """User buckets for `rows` events: enough to keep every core busy, and small buckets.

    Examples
    --------
    >>> bucket_count(1_000, 8), bucket_count(100_000_000, 8)
    (8, 50)
    """
    return max(parallelism, math.ceil(rows / ROWS_PER_BUCKET))


def run_spark(
    events: Events,
    out: Path,
    config: RunConfig,
    *,
    master: str | None = None,
    buckets: int | None = None,
    inputs: list[str],
    progress: Callable[[str], None] | None = None,
    started: float | None = None,
) -> RunSummary:
    """Compute every table of the event files on Spark and commit them under `out`.

    `events` are Parquet paths (files, folders, globs); `master` a Spark master URL (default:
    the active session's, else ``local[*]``); `buckets` the user buckets (default
    ``bucket_count``). Returns the run summary, as ``ctr_batch.run``.
    """
    started, step = started or time.perf_counter(), progress or (lambda _: None)
    check_master(master)
    if isinstance(events, pl.DataFrame | pl.LazyFrame | pa.Table):
        msg = "--engine spark reads Parquet paths; for a Spark DataFrame use ctr_batch.spark"
        msg += ".tables.spark_tables"
        raise ConfigError(msg)
    step("checking input files")
    scanned = scan(events, config, outside=out)
    check_output_folder(out)
    with writing(out, "run"), decoding(scanned.paths):  # locked first: a refusal is at once
        refuse_other_output(out, "run")
        step("starting Spark")
        spark = spark_session(master)
        count = buckets or bucket_count(scanned.rows, spark.sparkContext.defaultParallelism)
        with new_output(out) as snapshot:
            step(f"computing {count} user buckets of {scanned.rows:,} rows on Spark")
            quarantined = _compute(
                read_events(spark, scanned, dict(config.column_map)),
                scanned,
                config,
                snapshot.resolve(),
                count,
            )
            check_unchanged(scanned)
            step("aggregating daily and per-query tables")
            summary = _aggregate(snapshot, quarantined, scanned.rows, config, inputs, started)
            step(f"committing tables in {out}")
    names = [*PART_TABLES, CTR_DAILY_TABLE, CTR_BY_QUERY_TABLE, RUN_SUMMARY_TABLE]
    return dataclasses.replace(summary, tables={name: out / name for name in names})


def _compute(
    events: DataFrame, scanned: ScannedEvents, config: RunConfig, staging: Path, count: int
) -> pl.DataFrame:
    """Write every bucket's parts under `staging`; quarantined rows by reason."""
    from pyspark.sql import functions as sf

    for name in PART_TABLES:
        (staging / name).mkdir(parents=True, exist_ok=True)
    bucket = balance.user_bucket(events, count)
    if scanned.has_event_id:
        events = prepare.with_duplicates(events, count, distinct=ids_all_distinct(scanned))
    spark = events.sparkSession
    output = spark_schema(_COUNTS)
    files = scanned.file_table()
    work = SparkBucketWork(
        config,
        None if files is None else files.collect(),
        arrow_schema(output, large=large_var_types(spark)),
        staging,
    )

    written = per_group(events, bucket, work.write, output, count)
    counts = written.groupBy(REASON).agg(sf.sum("len").alias("len"))
    found = pl.DataFrame(pl.from_arrow(collect_arrow(counts)))
    _fill_empty_tables(staging)
    return found.cast({REASON: pl.String, "len": pl.UInt32})


def ids_all_distinct(scanned: ScannedEvents) -> bool | None:
    """Whether the ids are distinct, checked on the driver as a local run does (small logs).

    Hashing the ids of 10M rows takes Polars about a second here, Spark's ``count_distinct``
    about 30 s on two cores; past ``LOCAL_ID_CHECK_ROWS`` rows Spark checks (None).
    """
    if scanned.rows > LOCAL_ID_CHECK_ROWS:
        return None
    with_ids = scanned.frame.select(ids_distinct())
    return bool(with_ids.collect(engine="streaming").item())


def _fill_empty_tables(staging: Path) -> None:
    """An empty part (with the schema) for a table no bucket wrote (no rows at all)."""
    for name in PART_TABLES:
        if not any((staging / name).glob("*.parquet")):
            empty = pl.DataFrame(schema=TABLE_SCHEMAS[name])
            write_file(empty, staging / name / bucket_part(0), **table_options(name, empty))


def _aggregate(
    snapshot: Path,
    quarantined: pl.DataFrame,
    rows_read: int,
    config: RunConfig,
    inputs: list[str],
    started: float,
) -> RunSummary:
    """Write the tables aggregated from the parts in `snapshot` and the run summary."""
    tables = aggregate_parts(snapshot)
    summary = summarize_parts(snapshot, tables, quarantined, rows_read)
    summary = dataclasses.replace(summary, seconds=time.perf_counter() - started)
    tables[RUN_SUMMARY_TABLE] = summary.to_frame(config, inputs)
    write_tables(tables, snapshot)
    return summary
