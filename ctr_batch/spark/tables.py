"""The tables as Spark DataFrames, for jobs that compose ctr_batch into a larger Spark job."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow.compute as pc

from ctr_batch.batch.run import check_buckets
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError, SchemaError
from ctr_batch.core.schema import (
    CLICKED,
    CTR_BY_QUERY_SCHEMA,
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_SCHEMA,
    CTR_DAILY_TABLE,
    DATE,
    EVENT_ID,
    N_CLICKS,
    N_SEARCHES,
    QUERY,
    TABLE_SCHEMAS,
)
from ctr_batch.spark import balance, prepare
from ctr_batch.spark.groups import per_group
from ctr_batch.spark.session import large_var_types, require_pyspark
from ctr_batch.spark.types import TAG, TAGGED, arrow_schema, spark_schema, tagged_schema
from ctr_batch.spark.work import SOURCE, SparkBucketWork, by_query_of, daily_of

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

_SIDE = "_side"  # 0: a search, 1: a session (ctr_daily's group holds both)


def spark_tables(
    events: DataFrame,
    config: RunConfig | None = None,
    *,
    buckets: int | None = None,
    order: str | None = None,
) -> dict[str, DataFrame]:
    """Every table of `events` (a Spark DataFrame), as Spark DataFrames on its session.

    Parameters
    ----------
    events
        Events with the contract columns (``config.column_map`` maps other names); rows with
        the same rules as a local run: the same quarantine, sessions and searches.
    config
        Settings (default ``RunConfig()``).
    buckets
        User buckets (default: the session's ``spark.sql.shuffle.partitions``), balanced by
        their rows (``balance.py``: one small job counts them). Each bucket is one Arrow
        group, computed by the local bucketed path's ``BucketWork``.
    order
        A column giving input order (distinct values; ties in time keep this order). Without
        it, input order is the frame's own row order, partition by partition.

    Returns
    -------
    dict
        ``searches``, ``sessions``, ``quarantine``, ``ctr_daily`` and ``ctr_by_query``.
        The first three come from one cached computation (a tagged union of the three,
        split three ways), so every table comes from the same run of the buckets;
        ``spark.catalog.clearCache()`` frees it. ``UInt32`` columns are Spark ``long``;
        quarantine's ``source_file`` is null. The UDFs answer in the string width that
        ``spark.sql.execution.arrow.useLargeVarTypes`` has when this is called.
    """
    require_pyspark()
    settings = config if config is not None else RunConfig()
    if not isinstance(settings, RunConfig):
        msg = f"config: expected a RunConfig; got {type(settings).__name__}"
        raise ConfigError(msg)
    check_buckets(buckets)
    if order is not None and order not in events.columns:
        raise SchemaError.missing(SOURCE, [order], events.columns)
    spark = events.sparkSession
    count = buckets or int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    mapping = dict(settings.column_map)
    selected = prepare.contract_frame(events, mapping, SOURCE, order)
    bucket = balance.user_bucket(selected, count)
    contract = prepare.numbered(selected, order)
    if mapping.get(EVENT_ID, EVENT_ID) in events.columns:
        contract = prepare.with_duplicates(contract, count)
    large = large_var_types(spark)
    tagged = tagged_schema()
    output = spark_schema(tagged)
    work = SparkBucketWork(settings, None, arrow_schema(output, large=large))

    def tagged_tables(_: int, rows: pa.Table) -> pa.Table:
        return work.tagged(rows)

    union = per_group(contract, bucket, tagged_tables, output, count).cache()
    tables = {
        name: union.where(union[TAG] == tag).select(*TABLE_SCHEMAS[name].names())
        for tag, name in enumerate(TAGGED)
    }
    return tables | aggregates(tables, count, large=large)


def aggregates(tables: dict[str, DataFrame], buckets: int, *, large: bool) -> dict[str, DataFrame]:
    """``ctr_daily`` (days hashed into buckets) and ``ctr_by_query`` (queries hashed) in Spark.

    Each group holds every row of its days or queries, aggregated by the local Polars code;
    a day's searches and sessions travel in one group, told apart by a side column.
    """
    from pyspark.sql import functions as sf

    searches, sessions = tables["searches"], tables["sessions"]
    daily_schema, query_schema = spark_schema(CTR_DAILY_SCHEMA), spark_schema(CTR_BY_QUERY_SCHEMA)
    daily_arrow = arrow_schema(daily_schema, large=large)
    query_arrow = arrow_schema(query_schema, large=large)

    def daily(_: int, rows: pa.Table) -> pa.Table:
        side = rows.column(_SIDE)
        days = rows.filter(pc.equal(side, 0)).select([DATE, CLICKED])
        session_days = rows.filter(pc.equal(side, 1)).select([DATE, N_SEARCHES, N_CLICKS])
        return daily_of(days, session_days, daily_arrow)

    def by_query(_: int, rows: pa.Table) -> pa.Table:
        return by_query_of(rows, query_arrow)

    both = searches.select(DATE, CLICKED, sf.lit(0).alias(_SIDE)).unionByName(
        sessions.select(DATE, N_SEARCHES, N_CLICKS, sf.lit(1).alias(_SIDE)),
        allowMissingColumns=True,
    )
    by_day = prepare.bucket_of(DATE, buckets)
    return {
        CTR_DAILY_TABLE: per_group(both, by_day, daily, daily_schema, buckets),
        CTR_BY_QUERY_TABLE: per_group(
            searches, prepare.bucket_of(QUERY, buckets), by_query, query_schema, buckets
        ),
    }
