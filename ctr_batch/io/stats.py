"""What a Parquet file's footer says about its rows without reading them: time span, sizes."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = {"s": (1_000_000, 1), "ms": (1_000, 1), "us": (1, 1), "ns": (1, 1_000)}  # times, per


def time_span(path: Path, column: str) -> tuple[datetime, datetime] | None:
    """The earliest and latest time in the timestamp `column` of `path`, from its footer.

    Times are UTC at the microsecond (the earliest rounded down, the latest up), a timestamp
    without a time zone read as UTC, as the events are normalized. None when the footer cannot
    tell: no such timestamp column, a row group without statistics, or no time at all.
    """
    stat = path.stat()
    return _span(str(path), stat.st_size, stat.st_mtime_ns, column)


@functools.lru_cache(maxsize=65_536)
def _span(path: str, size: int, modified: int, column: str) -> tuple[datetime, datetime] | None:
    """``time_span`` of one version of a file (its size and modification time name it)."""
    del size, modified  # part of the cache key only
    try:
        metadata = pq.read_metadata(path)
        field = metadata.schema.to_arrow_schema().field(column)
    except (OSError, KeyError, pa.ArrowException):
        return None
    if not pa.types.is_timestamp(field.type) or column not in metadata.schema.names:
        return None
    times, per = _MICROS[field.type.unit]
    index = metadata.schema.names.index(column)
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(index).statistics
        if metadata.row_group(group).num_rows == 0:
            continue
        if stats is None or not stats.has_min_max:
            return None
        lows.append(stats.min_raw * times // per)
        highs.append(-(-stats.max_raw * times // per))
    if not lows:
        return None
    try:
        return _EPOCH + timedelta(microseconds=min(lows)), _EPOCH + timedelta(
            microseconds=max(highs)
        )
    except OverflowError:
        return None


def data_end(metadata: pq.FileMetaData) -> int:
    """The byte just past the last column chunk the footer points to (0 without any).

    A file cut short in its middle with its footer kept (a bad copy) points past its own end:
    comparing this with the file's size finds it from the footer alone, before Polars reads a
    page and panics on the short range.
    """
    return max(
        (
            min(chunk.data_page_offset, chunk.dictionary_page_offset or chunk.data_page_offset)
            + chunk.total_compressed_size
            for chunk in _chunks(metadata)
        ),
        default=0,
    )


def uncompressed_bytes(metadata: pq.FileMetaData) -> tuple[int, int]:
    """Uncompressed bytes of the nested (list) columns and of the others, over all row groups."""
    lists = other = 0
    for chunk in _chunks(metadata):
        if "." in chunk.path_in_schema:
            lists += chunk.total_uncompressed_size
        else:
            other += chunk.total_uncompressed_size
    return lists, other


def _chunks(metadata: pq.FileMetaData) -> Iterator[pq.ColumnChunkMetaData]:
    """Every column chunk of every row group the footer describes."""
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for column in range(row_group.num_columns):
            yield row_group.column(column)
