"""Balanced user buckets: heavy users that hash into one bucket are split apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from ctr_batch.core.config import RunConfig
from ctr_batch.samples.generate import generate_events
from ctr_batch.spark.balance import fine_count, pack, user_bucket
from ctr_batch.spark.prepare import bucket_of
from tests.spark.test_tables import assert_spark_equals_local

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@given(
    rows=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=200),
    buckets=st.integers(min_value=1, max_value=20),
)
def test_pack_places_every_fine_bucket_within_share_plus_one(
    rows: list[int], buckets: int
) -> None:
    placed = pack(rows, buckets)
    assert len(placed) == len(rows)
    assert all(0 <= bucket < buckets for bucket in placed)
    loads = [0] * buckets
    for fine, bucket in enumerate(placed):
        loads[bucket] += rows[fine]
    assert max(loads) <= sum(rows) / buckets + max(rows)
    assert pack(rows, buckets) == placed  # the same plan on every run


def test_fine_buckets_are_bounded() -> None:
    assert fine_count(1) == 16
    assert fine_count(50) == 800
    assert fine_count(65_536) == 65_536


def _colliding_users(spark: SparkSession, buckets: int, count: int) -> list[str]:
    """`count` user ids that plain hashing puts into one of `buckets` buckets."""
    names = spark.createDataFrame([(f"heavy-{i}",) for i in range(400)], "user_id string")
    rows = names.select("user_id", bucket_of("user_id", buckets).alias("b")).collect()
    first = rows[0]["b"]
    return [row["user_id"] for row in rows if row["b"] == first][:count]


def test_heavy_users_of_one_hash_bucket_are_split(spark: SparkSession) -> None:
    """Three heavy users that share a hash bucket land in three buckets; tables unchanged."""
    buckets = 4
    heavy_users = _colliding_users(spark, buckets, 3)
    light = generate_events(events=2_000, users=40, days=1, seed=5)
    heavy = [
        generate_events(events=3_000, users=1, days=1, seed=10 + i).with_columns(
            pl.lit(user).alias("user_id"), pl.lit(None, dtype=pl.String).alias("event_id")
        )
        for i, user in enumerate(heavy_users)
    ]
    events = pl.concat(
        [light.with_columns(pl.lit(None, dtype=pl.String).alias("event_id")), *heavy]
    )
    frame = spark.createDataFrame(events.to_arrow())

    plain = frame.groupBy(bucket_of("user_id", buckets)).count().collect()
    balanced = frame.groupBy(user_bucket(frame, buckets).alias("b")).count().collect()
    assert max(row["count"] for row in plain) >= 9_000  # the three heavy users together
    assert max(row["count"] for row in balanced) < 6_000  # no two of them together
    assert sorted(row["b"] for row in balanced) == list(range(buckets))

    assert_spark_equals_local(spark, events, RunConfig(), buckets=buckets)
