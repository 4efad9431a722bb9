"""``spark_tables``: a Spark DataFrame of events in, the tables of a local run out."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from ctr_batch.batch.run import compute
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError, SchemaError
from ctr_batch.samples.generate import generate_events
from ctr_batch.spark import session as spark_session_module
from ctr_batch.spark.tables import spark_tables
from tests.golden import CASES, load_events
from tests.spark.conftest import assert_same_table
from tests.strategies import GAP, event_logs, to_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TABLES = ("searches", "sessions", "quarantine", "ctr_daily", "ctr_by_query")


def as_polars(
    tables: dict[str, DataFrame], like: dict[str, pl.DataFrame]
) -> dict[str, pl.DataFrame]:
    """The Spark tables collected, with the local types (Spark has no unsigned integers)."""
    return {
        name: pl.DataFrame(pl.from_arrow(tables[name].toArrow())).cast(like[name].schema)
        for name in TABLES
    }


def assert_spark_equals_local(
    spark: SparkSession, events: pl.DataFrame, config: RunConfig, buckets: int = 3
) -> None:
    expected, _ = compute(events, config)
    frame = spark.createDataFrame(events.to_arrow())
    got = as_polars(spark_tables(frame, config, buckets=buckets), expected)
    for name in TABLES:
        assert_same_table(got[name], expected[name], name)


@pytest.mark.parametrize("case", list(CASES))
def test_golden_cases(spark: SparkSession, case: str) -> None:
    gap = {"blog": timedelta(seconds=5), "tutorial_0_19": timedelta(seconds=10)}[case]
    assert_spark_equals_local(spark, load_events(case), RunConfig(gap=gap))


def generated_with_ties_and_disorder() -> pl.DataFrame:
    """A generated log with bad rows, times cut to the second (ties) and rows shuffled."""
    events = generate_events(events=4_000, users=60, days=2, seed=7, bad_row_rate=0.02)
    tied = events.with_columns(pl.col("event_time").dt.truncate("1s"))
    return tied.sample(fraction=1.0, shuffle=True, seed=3)


def test_generated_log_with_ties_disorder_and_bad_rows(spark: SparkSession) -> None:
    events = generated_with_ties_and_disorder()
    assert_spark_equals_local(spark, events, RunConfig(), buckets=5)


def test_order_column_gives_input_order(spark: SparkSession) -> None:
    """Rows handed over in another order, with a column that restores input order."""
    events = generated_with_ties_and_disorder().head(1_500)
    expected, _ = compute(events, RunConfig())
    numbered = events.with_row_index("arrival").cast({"arrival": pl.Int64}).reverse()
    frame = spark.createDataFrame(numbered.to_arrow())
    got = as_polars(spark_tables(frame, RunConfig(), buckets=2, order="arrival"), expected)
    for name in ("searches", "sessions", "quarantine"):
        assert_same_table(got[name], expected[name], name)


def test_skewed_user(spark: SparkSession) -> None:
    """One user with most of the events (a bucket far larger than the others)."""
    events = generate_events(events=3_000, users=30, days=1, seed=5)
    heavy = generate_events(events=12_000, users=1, days=1, seed=6)
    heavy = heavy.with_columns(pl.lit("heavy").alias("user_id"), pl.lit(None).alias("event_id"))
    assert_spark_equals_local(spark, pl.concat([events, heavy]), RunConfig(), buckets=4)


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=event_logs)
def test_small_logs_match_local(spark: SparkSession, rows: list[dict[str, object]]) -> None:
    assert_spark_equals_local(spark, to_frame(rows), RunConfig(gap=GAP), buckets=2)


def test_small_strings_when_large_var_types_is_off(spark: SparkSession) -> None:
    key = spark_session_module.LARGE_VAR_TYPES
    spark.conf.set(key, "false")
    try:
        assert_spark_equals_local(spark, load_events("blog"), RunConfig(gap=timedelta(seconds=5)))
    finally:
        spark.conf.set(key, "true")


def test_missing_column_is_the_local_schema_error(spark: SparkSession) -> None:
    frame = spark.createDataFrame(load_events("blog").drop("event_type").to_arrow())
    with pytest.raises(SchemaError, match="missing columns \\['event_type'\\]"):
        spark_tables(frame)


def test_without_pyspark_one_line_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pyspark", None)
    with pytest.raises(ConfigError, match=r"pip install 'ctr-batch\[spark\]'"):
        spark_session_module.require_pyspark()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"buckets": 0}, ConfigError),
        ({"order": "nope"}, SchemaError),
    ],
)
def test_bad_arguments_are_one_line_errors(
    spark: SparkSession, options: dict[str, object], error: type[Exception]
) -> None:
    frame = spark.createDataFrame(load_events("blog").to_arrow())
    with pytest.raises(error):
        spark_tables(frame, **options)  # type: ignore[arg-type]
