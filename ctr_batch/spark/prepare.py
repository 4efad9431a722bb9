"""Spark plans that bring events to the workers: contract columns, input order, duplicates.

Only the cheap parts run in Spark: renaming mapped columns, numbering rows in input order
(``_seq``) and hashing rows into buckets. Every rule (types, quarantine reasons, repeated
ids) runs in the workers through the local Polars code (``work.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.schema import (
    EVENT_COLUMNS,
    EVENT_ID,
    EVENT_TIME,
    EVENT_TYPE,
    EVENTS_SCHEMA,
    FILE_INDEX,
    SEQ,
    USER_ID,
)
from ctr_batch.io.normalize import contract_columns
from ctr_batch.spark.groups import per_group
from ctr_batch.spark.types import arrow_schema, spark_type
from ctr_batch.spark.work import DUPLICATE, repeated_ids

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pyarrow as pa
    from pyspark.sql import Column, DataFrame

_PARTITION = "_partition"
_ID = "_id"
_OFFSET = "_offset"
_ORDER = "_order"


def bucket_of(column: str, buckets: int) -> Column:
    """``pmod(xxhash64(column), buckets)``: the bucket of a row, the same on every run."""
    from pyspark.sql import functions as sf

    return sf.pmod(sf.xxhash64(sf.col(column)), sf.lit(buckets))


def contract_frame(
    events: DataFrame,
    mapping: Mapping[str, str],
    source: str,
    order: str | None = None,
    keep: Sequence[str] = (),
) -> DataFrame:
    """The contract columns of `events` under their contract names (absent optional: null).

    The column `order` (input order, see ``numbered``) is kept as ``_order``, and the columns
    `keep` as they are.

    Types are checked by the local rules (``io.normalize``), so a missing required column or a
    column of an impossible type is the same one-line ``SchemaError``.
    """
    from pyspark.sql import functions as sf

    names = {column: mapping.get(column, column) for column in EVENT_COLUMNS}
    present = [name for name in dict.fromkeys(names.values()) if name in events.columns]
    fields = [field for field in events.schema.fields if field.name in present]
    arrow = arrow_schema(type(events.schema)(fields))
    contract_columns(pl.DataFrame(pl.from_arrow(arrow.empty_table())).schema, mapping, source)
    return events.select(
        *(
            sf.col(f"`{name}`").alias(column)
            if name in present
            else sf.lit(None).cast(spark_type(EVENTS_SCHEMA[column])).alias(column)
            for column, name in names.items()
        ),
        *([] if order is None else [sf.col(f"`{order}`").alias(_ORDER)]),
        *keep,
    )


def numbered(events: DataFrame, order: str | None = None) -> DataFrame:
    """`events` with ``_seq``: the column `order` as given, else the row's place in the frame.

    The place is dense (0, 1, 2, ...), as a local frame's row number: partition by partition,
    in the frame's order (one small job counts the rows of each partition). The frame must
    give the same rows in the same partitions when computed again (a scan of files does).
    """
    from pyspark.sql import functions as sf

    if order is not None:  # kept by contract_frame as _order
        return events.withColumn(SEQ, sf.col(_ORDER).cast("long")).drop(_ORDER)
    placed = events.withColumns(
        {_PARTITION: sf.spark_partition_id(), _ID: sf.monotonically_increasing_id()}
    )
    counts = sorted(tuple(row) for row in placed.groupBy(_PARTITION).count().collect())
    spark = events.sparkSession
    offsets, total = [], 0
    for partition, rows in counts:
        offsets.append((partition, total))
        total += rows
    starts = spark.createDataFrame(offsets, f"{_PARTITION} int, {_OFFSET} long")
    # monotonically_increasing_id is (partition << 33) + row within the partition
    within = sf.col(_ID) - sf.shiftleft(sf.col(_PARTITION).cast("long"), 33)
    joined = placed.join(sf.broadcast(starts), _PARTITION)
    return joined.withColumn(SEQ, sf.col(_OFFSET) + within).drop(_PARTITION, _ID, _OFFSET)


def with_duplicates(
    events: DataFrame,
    buckets: int,
    *,
    distinct: bool | None = None,
    among: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None,
) -> DataFrame:
    """`events` (contract columns, ``_seq``) with ``_duplicate``: its id repeats an earlier one.

    Rows are hashed by ``event_id`` into `buckets` id buckets, so every copy of an id meets in
    one bucket, whatever its user: duplicates are judged across all users, as in one pass.
    When the 64-bit hashes of the ids are all distinct, no id repeats and `events` are
    returned as they are; `distinct` says so when known, else one aggregation finds out.
    With `among` (a picklable function of a bucket's events, see ``work.repeated_ids``), only
    the rows it keeps take part.
    """
    from pyspark.sql import functions as sf

    if distinct is None:
        hashes = sf.xxhash64(sf.col(EVENT_ID))
        counts = events.where(sf.col(EVENT_ID).isNotNull()).select(
            sf.count(hashes), sf.count_distinct(hashes)
        )
        ids, different = counts.first() or (0, 0)
        distinct = ids == different
    if distinct:
        return events
    columns = [USER_ID, EVENT_TIME, EVENT_TYPE, EVENT_ID, SEQ]
    if FILE_INDEX in events.columns:
        columns.append(FILE_INDEX)
    ids = events.where(sf.col(EVENT_ID).isNotNull()).select(*columns)

    def find(_: int, rows: pa.Table) -> pa.Table:
        return repeated_ids(rows, among)

    repeated = per_group(ids, bucket_of(EVENT_ID, buckets), find, f"{SEQ} long", buckets)
    flagged = repeated.withColumn(DUPLICATE, sf.lit(True))
    return events.join(flagged, SEQ, "left")
