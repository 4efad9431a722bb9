"""Spark types of the tables, and the Arrow schema a UDF must return for them.

Spark has no unsigned integers: ``UInt32`` columns travel as ``long``. Durations are Spark
``interval day to second`` (Arrow ``duration[us]``), times ``timestamp`` (UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from ctr_batch.core.schema import QUARANTINE_TABLE, SEARCHES_TABLE, SESSIONS_TABLE, TABLE_SCHEMAS

if TYPE_CHECKING:
    from pyspark.sql.types import DataType, StructType

PolarsType = pl.DataType | pl.datatypes.DataTypeClass
TAG = "_table"  # which table a row of the tagged union belongs to
TAGGED = (SEARCHES_TABLE, SESSIONS_TABLE, QUARANTINE_TABLE)  # index = tag


def spark_type(dtype: PolarsType) -> DataType:
    """The Spark type that holds a column of Polars type `dtype`."""
    from pyspark.sql import types as st

    if isinstance(dtype, pl.List):
        return st.ArrayType(spark_type(dtype.inner))
    simple: dict[type[pl.DataType], DataType] = {
        pl.String: st.StringType(),
        pl.Boolean: st.BooleanType(),
        pl.Int8: st.ByteType(),
        pl.UInt32: st.LongType(),
        pl.Int64: st.LongType(),
        pl.Float64: st.DoubleType(),
        pl.Date: st.DateType(),
        pl.Datetime: st.TimestampType(),
        pl.Duration: st.DayTimeIntervalType(),
    }
    kind: type[pl.DataType] = dtype if isinstance(dtype, type) else type(dtype)  # type: ignore[assignment]
    return simple[kind]


def spark_schema(schema: pl.Schema) -> StructType:
    """A Spark schema with the columns of the Polars `schema`."""
    from pyspark.sql import types as st

    return st.StructType([st.StructField(name, spark_type(t)) for name, t in schema.items()])


def arrow_schema(schema: StructType, *, large: bool = False) -> pa.Schema:
    """The Arrow schema Spark expects back from a UDF returning `schema` (also: reads in).

    Timestamps are UTC; `large`: ``spark.sql.execution.arrow.useLargeVarTypes`` is on
    (strings as ``large_string``). PySpark 4 converts so itself; PySpark 3.5's converter
    takes neither option (its timestamps are UTC already), so its strings are widened here.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    try:
        return to_arrow_schema(schema, timezone="UTC", prefers_large_types=large)
    except TypeError:  # PySpark 3.5
        converted = to_arrow_schema(schema)
    if not large:
        return converted
    return pa.schema([field.with_type(_large(field.type)) for field in converted])


def _large(dtype: pa.DataType) -> pa.DataType:
    """`dtype` with ``large_string`` and ``large_binary`` for its strings, lists' included."""
    if pa.types.is_string(dtype):
        return pa.large_string()
    if pa.types.is_binary(dtype):
        return pa.large_binary()
    if pa.types.is_list(dtype):
        return pa.list_(dtype.value_field.with_type(_large(dtype.value_type)))
    return dtype


def tagged_schema() -> pl.Schema:
    """``_table`` and the columns of searches, sessions and quarantine (shared names once).

    Examples
    --------
    >>> names = tagged_schema().names()
    >>> names[:3], "reason" in names
    (['_table', 'user_id', 'session_id'], True)
    """
    columns: dict[str, pl.DataType] = {TAG: pl.Int8()}
    for name in TAGGED:
        for column, dtype in TABLE_SCHEMAS[name].items():
            columns.setdefault(column, dtype)
    return pl.Schema(columns)


def to_spark_arrow(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """`frame` as an Arrow table of exactly `schema` (column order and types)."""
    return frame.select(schema.names).to_arrow().cast(schema)
