"""Each group of rows handed to a Python function as one Arrow table, on Spark 3.5 and 4.x.

Spark 4 has ``GroupedData.applyInArrow`` (SPARK-40559): one call per group. Spark 3.5 (AWS
Glue 5.0, for one) has only ``DataFrame.mapInArrow``: there the rows are repartitioned by the
group key, sorted by it within each partition, and each partition's Arrow batches are cut
where the key changes, so that the function still sees each group whole, once, in one call.
A retried task recomputes the same partition (hash partitioning of the same rows), so it
meets the same groups. ``per_group`` picks the form; ``collect_arrow`` collects a small result.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ctr_batch.spark.types import arrow_schema

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import StructType

    GroupFunction = Callable[[int, pa.Table], pa.Table]

GROUP = "_group"
_KEYS: dict[int, list[int]] = {}  # partition_keys by group count (Spark's hash never changes)
APPLY_IN_ARROW: bool | None = None  # None: applyInArrow where Spark has it (tests force either)


def per_group(
    frame: DataFrame, key: Column, func: GroupFunction, schema: StructType | str, groups: int
) -> DataFrame:
    """``func(key, rows)`` for each group of `frame` by the integer `key` (0 to `groups` - 1).

    `rows` hold the columns of `frame`; `func` returns a table of the Arrow types of `schema`
    (a Spark schema or DDL text; see ``types.arrow_schema``), which the result DataFrame has.
    The rows are hash-partitioned into `groups` partitions, one group in each (see
    ``partition_keys``; the session's ``spark.sql.shuffle.partitions`` is left alone).
    """
    from pyspark.sql import functions as sf

    use_apply = APPLY_IN_ARROW
    if use_apply is None:
        use_apply = hasattr(frame.groupBy(), "applyInArrow")
    placed = partition_keys(frame.sparkSession, groups)
    group_of = {placed_key: group for group, placed_key in enumerate(placed)}
    spread = sf.from_json(sf.lit(json.dumps(placed)), "array<bigint>")
    keyed = frame.withColumn(GROUP, sf.element_at(spread, key.cast("int") + 1))
    keyed = keyed.repartition(groups, GROUP)
    if use_apply:  # grouped within the partitions made here: one group per task

        def apply(keys: tuple[pa.Scalar, ...], rows: pa.Table) -> pa.Table:
            return func(group_of[keys[0].as_py()], rows.drop_columns([GROUP]))

        return keyed.groupBy(GROUP).applyInArrow(apply, schema)
    ordered = keyed.sortWithinPartitions(GROUP)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for placed_key, rows in _cut(batches):
            yield from func(group_of[placed_key], rows).to_batches()

    return ordered.mapInArrow(run, schema)


def partition_keys(spark: SparkSession, groups: int) -> list[int]:
    """For each group, a key that Spark's hash partitioning into `groups` sends to its own.

    Hash partitioning puts a key in partition ``pmod(hash(key), groups)``: group numbers
    themselves collide (8 buckets landed in 4 partitions, 3 in one), so each group travels
    under the smallest number whose hash picks the group's partition, found by Spark itself
    among 64 candidates per group (one small job; the same numbers every time).
    """
    from pyspark.sql import functions as sf

    if groups not in _KEYS:
        candidates = spark.range(groups * 64).select(
            sf.pmod(sf.hash("id"), sf.lit(groups)).alias("partition"), "id"
        )
        placed = list(range(groups))  # a partition no candidate reaches (never seen): its id
        for partition, placed_key in candidates.groupBy("partition").agg(sf.min("id")).collect():
            placed[int(partition)] = int(placed_key)
        _KEYS[groups] = placed
    return _KEYS[groups]


def _cut(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[int, pa.Table]]:
    """The groups of batches sorted by ``_group``: each group's rows, without that column."""
    pending: list[pa.RecordBatch] = []
    current: int | None = None
    for batch in batches:
        if not batch.num_rows:
            continue
        runs = pc.run_end_encode(batch.column(GROUP))
        start = 0
        for end, value in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
            if current is not None and value != current:
                yield current, _rows(pending)
                pending = []
            current = value
            pending.append(batch.slice(start, end - start))
            start = end
    if current is not None:
        yield current, _rows(pending)


def _rows(batches: list[pa.RecordBatch]) -> pa.Table:
    return pa.Table.from_batches(batches).drop_columns([GROUP])


def collect_arrow(frame: DataFrame) -> pa.Table:
    """The rows of `frame` (a small result) as an Arrow table, on Spark 3.5 and 4.x."""
    if hasattr(frame, "toArrow"):
        table: pa.Table = frame.toArrow()
        return table
    batches = frame._collect_as_arrow()  # type: ignore[operator]  # Spark 3.5's Arrow collect
    if batches:
        return pa.Table.from_batches(batches)
    return arrow_schema(frame.schema).empty_table()
