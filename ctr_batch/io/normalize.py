"""Read any events as the contract columns: mapped names, contract types, optional columns filled.

The same rules apply to Parquet files (``read.py``) and to frames handed over in memory, so a
``pl.DataFrame``, a ``pl.LazyFrame`` or a ``pyarrow.Table`` gives the tables a file would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from ctr_batch.core.errors import InputError, SchemaError
from ctr_batch.core.schema import (
    EVENT_COLUMNS,
    EVENT_ID,
    EVENT_TIME,
    EVENTS_SCHEMA,
    ITEMS,
    REQUIRED_COLUMNS,
    SEQ,
    TIME_DTYPE,
    USER_ID,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_TEXT = (pl.String, pl.Categorical, pl.Enum, pl.Null)
_EXPECTED = {
    USER_ID: "a string or integer",
    EVENT_TIME: "a timestamp",
    EVENT_ID: "a string or integer",
    ITEMS: "a list of strings",
}

GIVEN = "the events given"  # how messages name events handed over in memory


def frame_of(events: object) -> pl.LazyFrame | None:
    """`events` as a LazyFrame when they are a Polars or Arrow frame (None: they are not).

    Raises
    ------
    InputError
        For an Arrow table Polars cannot take (say, two columns of one name).
    """
    if isinstance(events, pa.Table):
        try:
            return pl.DataFrame(pl.from_arrow(events)).lazy()
        except pl.exceptions.PolarsError as exc:
            raise InputError.unreadable(GIVEN, str(exc)) from None
    if isinstance(events, pl.DataFrame | pl.LazyFrame):
        return events.lazy()
    return None


def contract_columns(schema: pl.Schema, mapping: Mapping[str, str], source: str) -> list[pl.Expr]:
    """One expression per contract column, reading it from a frame of `schema`.

    `mapping` gives the source name of contract columns named otherwise. A missing optional
    column is null. Raises a ``SchemaError`` naming `source` for a missing required column or
    a column of a type that cannot be read.
    """
    source_names = {column: mapping.get(column, column) for column in EVENT_COLUMNS}
    missing = [source_names[c] for c in REQUIRED_COLUMNS if source_names[c] not in schema]
    if missing:
        raise SchemaError.missing(source, missing, schema.names())
    return [
        _normalize(column, name, schema[name], source)
        if name in schema
        else pl.lit(None, dtype=EVENTS_SCHEMA[column]).alias(column)
        for column, name in source_names.items()
    ]


def normalize_events(
    events: pl.LazyFrame,
    column_map: Mapping[str, str] | None = None,
    *,
    source: str = "events",
    extra: Sequence[str] = (),
) -> pl.LazyFrame:
    """Contract columns of `events`, plus ``_seq``: the row order, which is input order.

    Columns named in `extra` (say, an arrival-order column) are kept as they are; every other
    input column is left out, so none can collide with the working columns of the stages
    (an input column named ``_seq`` is ignored like any other).

    Examples
    --------
    >>> from datetime import datetime
    >>> df = pl.LazyFrame({"uid": [7, 8, 9], "event_time": [datetime(2024, 1, 1)] * 3,
    ...                    "event_type": ["search", "click", "app_close"]})
    >>> normalize_events(df, {"user_id": "uid"}).collect()["user_id"].to_list()
    ['7', '8', '9']
    """
    schema = events.collect_schema()
    columns = contract_columns(schema, dict(column_map or {}), source)
    kept = [pl.col(name) for name in dict.fromkeys(extra) if name not in EVENT_COLUMNS]
    if missing := [name for name in extra if name not in schema]:
        raise SchemaError.missing(source, missing, schema.names())
    numbered = events.select(*columns, *kept).with_row_index(SEQ)
    return numbered.with_columns(pl.col(SEQ).cast(pl.Int64))


def _normalize(column: str, source: str, dtype: pl.DataType, where: str) -> pl.Expr:
    """Expression reading `source` as the contract column `column`, or a SchemaError."""
    expr = pl.col(source)
    if isinstance(dtype, pl.Null):
        expr = expr.cast(EVENTS_SCHEMA[column])
    elif column == EVENT_TIME and isinstance(dtype, pl.Datetime):
        to_utc = expr.dt.convert_time_zone("UTC") if dtype.time_zone else expr
        expr = to_utc.dt.replace_time_zone("UTC").cast(TIME_DTYPE)
    elif column in (USER_ID, EVENT_ID) and (dtype.is_integer() or isinstance(dtype, _TEXT)):
        expr = expr.cast(pl.String)
    elif column == ITEMS and _is_text_list(dtype):
        expr = expr.cast(pl.List(pl.String))
    elif column not in (EVENT_TIME, USER_ID, EVENT_ID, ITEMS) and isinstance(dtype, _TEXT):
        expr = expr.cast(pl.String)
    else:
        expected = _EXPECTED.get(column, "a string")
        raise SchemaError.wrong_type(where, source, expected, str(dtype))
    return expr.alias(column)


def _is_text_list(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.Null):
        return True
    return isinstance(dtype, pl.List | pl.Array) and isinstance(dtype.inner, _TEXT)
