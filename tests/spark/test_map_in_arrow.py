"""The Spark 3.5 form (``mapInArrow`` over sorted partitions) gives the same tables as 4.x's.

Spark 3.5 has no ``applyInArrow``; ``groups.per_group`` then cuts each partition's batches
where the group changes. These tests force that form on this Spark and compare.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

import ctr_batch
from ctr_batch.core.config import RunConfig
from ctr_batch.days.config import BackfillConfig
from ctr_batch.spark import groups
from ctr_batch.spark.groups import collect_arrow, per_group
from tests.days.test_backfill import assert_same_tables
from tests.golden import load_events
from tests.spark.test_days import figures
from tests.spark.test_run import assert_same_outputs, day_files  # noqa: F401 - a fixture
from tests.spark.test_tables import assert_spark_equals_local, generated_with_ties_and_disorder

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pyspark.sql import SparkSession


@pytest.fixture
def map_in_arrow(spark: SparkSession) -> Iterator[None]:
    del spark  # started first: its workers serve both forms
    groups.APPLY_IN_ARROW = False
    yield
    groups.APPLY_IN_ARROW = None


@pytest.mark.usefixtures("map_in_arrow")
def test_each_group_is_seen_whole_and_once(spark: SparkSession) -> None:
    """Many small batches, groups spread over them: every group in one call, none twice."""
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "7")
    try:
        frame = spark.range(0, 1_000).selectExpr("id", "id % 13 AS g")

        def sizes(group: int, rows: pa.Table) -> pa.Table:
            return pa.table(
                {"g": [group], "rows": [rows.num_rows], "ids": [sum(rows["id"].to_pylist())]}
            )

        got = collect_arrow(per_group(frame, frame["g"], sizes, "g long, rows long, ids long", 13))
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    found = sorted(zip(*(got[name].to_pylist() for name in ("g", "rows", "ids")), strict=True))
    expected = [(g, len(ids), sum(ids)) for g in range(13) for ids in [list(range(g, 1_000, 13))]]
    assert found == expected


@pytest.mark.usefixtures("map_in_arrow")
def test_spark_tables(spark: SparkSession) -> None:
    assert_spark_equals_local(spark, generated_with_ties_and_disorder(), RunConfig(), buckets=3)
    assert_spark_equals_local(spark, load_events("blog"), RunConfig(gap="5s"), buckets=2)


@pytest.mark.usefixtures("map_in_arrow")
def test_run_and_backfill(day_files: Path, tmp_path: Path) -> None:  # noqa: F811
    ctr_batch.run(day_files, tmp_path / "spark", engine="spark", buckets=3)
    ctr_batch.run(day_files, tmp_path / "local")
    assert_same_outputs(tmp_path / "spark", tmp_path / "local")
    config = BackfillConfig(allow_empty=True, max_quarantine=1.0)
    days = (date(2026, 11, 1), date(2026, 11, 2))
    expected = ctr_batch.backfill(day_files, tmp_path / "days-local", *days, config)
    got = ctr_batch.backfill(
        day_files, tmp_path / "days-spark", *days, config, engine="spark", buckets=2
    )
    assert figures(got) == figures(expected)
    assert_same_tables(tmp_path / "days-spark", tmp_path / "days-local")


@pytest.mark.parametrize("apply_in_arrow", [True, False])
def test_each_group_has_a_partition_of_its_own(
    spark: SparkSession, *, apply_in_arrow: bool
) -> None:
    """Group numbers hashed as they are share partitions; the keys they travel under do not."""
    groups.APPLY_IN_ARROW = apply_in_arrow
    spark.conf.set("spark.sql.adaptive.enabled", "false")  # no merging of small partitions
    try:
        frame = spark.range(0, 800).selectExpr("id", "id % 8 AS g")

        def where(group: int, rows: pa.Table) -> pa.Table:
            from pyspark import TaskContext

            task = TaskContext.get()
            assert task is not None
            return pa.table({"g": [group], "rows": [rows.num_rows], "part": [task.partitionId()]})

        schema = "g long, rows long, part long"
        got = collect_arrow(per_group(frame, frame["g"], where, schema, 8))
    finally:
        spark.conf.unset("spark.sql.adaptive.enabled")
        groups.APPLY_IN_ARROW = None
    assert sorted(got["g"].to_pylist()) == list(range(8))
    assert set(got["rows"].to_pylist()) == {100}
    assert sorted(got["part"].to_pylist()) == list(range(8))


def test_cut_splits_sorted_batches_where_the_group_changes() -> None:
    """Groups spread over batch edges, several in one batch, empty batches: each whole, once."""
    layout = [[0, 0, 1], [], [1, 1, 2], [2, 3], [3]]
    batches = [
        pa.record_batch({groups.GROUP: pa.array(keys, pa.int64()), "x": list(range(len(keys)))})
        for keys in layout
    ]
    cut = [(group, rows.num_rows, rows.column_names) for group, rows in groups._cut(iter(batches))]
    assert cut == [(0, 2, ["x"]), (1, 3, ["x"]), (2, 2, ["x"]), (3, 2, ["x"])]
