"""Find event files, check their columns and scan them as one normalized LazyFrame."""

from __future__ import annotations

import glob
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ctr_batch.core.errors import InputError, SchemaError
from ctr_batch.core.schema import (
    EVENT_COLUMNS,
    EVENT_ID,
    EVENT_TIME,
    EVENTS_SCHEMA,
    FILE_INDEX,
    ITEMS,
    REQUIRED_COLUMNS,
    SEQ,
    SOURCE_FILE,
    SOURCE_ROW,
    TIME_DTYPE,
    USER_ID,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

_TEXT = (pl.String, pl.Categorical, pl.Enum, pl.Null)
_EXPECTED = {
    USER_ID: "a string or integer",
    EVENT_TIME: "a timestamp",
    EVENT_ID: "a string or integer",
    ITEMS: "a list of strings",
}


@dataclass(frozen=True, slots=True)
class EventSource:
    """One input file: its path, its row count and where its rows start in input order.

    ``list_bytes`` and ``other_bytes`` are its uncompressed Parquet bytes in nested columns
    (the result lists) and in the others, from the footer (see ``memory_plan``).
    """

    path: Path
    rows: int
    offset: int
    list_bytes: int = 0
    other_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ScannedEvents:
    """Normalized events of all input files, plus what is known about the files."""

    files: tuple[pl.LazyFrame, ...]  # the normalized events of each file, in input order
    sources: tuple[EventSource, ...]
    has_event_id: bool

    @property
    def frame(self) -> pl.LazyFrame:
        """The events of every file, in input order."""
        return pl.concat(self.files, how="vertical")

    @property
    def paths(self) -> list[Path]:
        """The input files, in input order."""
        return [source.path for source in self.sources]

    @property
    def rows(self) -> int:
        """Total number of input rows."""
        return sum(source.rows for source in self.sources)

    def source_table(self) -> pl.LazyFrame:
        """Map ``_file`` to ``source_file`` and the first ``_seq`` of that file."""
        return pl.LazyFrame(
            {
                FILE_INDEX: range(len(self.sources)),
                SOURCE_FILE: [str(source.path) for source in self.sources],
                SOURCE_ROW: [source.offset for source in self.sources],
            },
            schema={FILE_INDEX: pl.UInt32, SOURCE_FILE: pl.String, SOURCE_ROW: pl.Int64},
        )


def find_event_files(sources: Sequence[str | Path], *, outside: Path | None = None) -> list[Path]:
    """Resolve files, directories (recursive) and globs to Parquet files in sorted path order.

    Files and folders whose names start with ``.`` or ``_`` (temporary or marker files) are
    skipped inside directories; a file reached twice (say by a relative and an absolute path)
    is read once. Files under `outside` (the run's own output folder) are left out, so that
    an output folder inside the input folder is not read back by a rerun.
    """
    own = outside.resolve() if outside is not None else None
    found: dict[Path, Path] = {}  # resolved path -> the spelling met first
    for source in sources:
        path = Path(source)
        if path.is_file():
            matches = [path]
        elif path.is_dir():
            matches = [p for p in path.rglob("*.parquet") if not _hidden(p.relative_to(path))]
        else:
            matches = [Path(p) for p in glob.glob(str(source), recursive=True)]  # noqa: PTH207
            matches = [p for p in matches if p.is_file()]
        if own is not None:
            matches = [p for p in matches if not p.resolve().is_relative_to(own)]
        if not matches:
            raise InputError.no_files(str(source))
        for match in matches:
            found.setdefault(match.resolve(), match)
    return sorted(found.values(), key=lambda p: p.as_posix())


def scan_events(
    sources: Sequence[str | Path],
    *,
    column_map: Mapping[str, str] | None = None,
    outside: Path | None = None,
) -> ScannedEvents:
    """Scan event files: each a LazyFrame of the contract columns plus ``_seq`` and ``_file``.

    Every file's schema is checked before anything is read, so a bad file stops the run early
    with a message naming it. Files under `outside` are left out (see ``find_event_files``).
    """
    files = find_event_files(sources, outside=outside)
    mapping = dict(column_map or {})
    frames, scanned, offset, has_event_id = [], [], 0, False
    for index, path in enumerate(files):
        schema, metadata = _read_footer(path)
        frames.append(_scan_file(path, schema, mapping, index=index, offset=offset))
        rows = metadata.num_rows
        scanned.append(EventSource(path, rows, offset, *_uncompressed_bytes(metadata)))
        has_event_id |= mapping.get(EVENT_ID, EVENT_ID) in schema
        offset += rows
    return ScannedEvents(tuple(frames), tuple(scanned), has_event_id)


@contextmanager
def decoding(files: Sequence[Path]) -> Iterator[None]:
    """Report data that `files` fail to decode as an InputError naming the first such file.

    Footers are checked before anything is read; a corrupt data page shows only once a plan
    over every file reads it, and Polars does not say which file that was: each is then read
    alone, on this failure path only.
    """
    try:
        yield
    except pl.exceptions.ComputeError as exc:
        if not str(exc).startswith("parquet:"):
            raise
        culprit = next((path for path in files if not _decodes(path)), None)
        where = str(culprit) if culprit else f"one of {len(files)} input files"
        raise InputError.unreadable(where, str(exc)) from None


def _decodes(path: Path) -> bool:
    """True when every page of `path` decodes (a reduction, so that nothing is held)."""
    try:
        pl.scan_parquet(path).select(pl.all().is_null().sum()).collect(engine="streaming")
    except pl.exceptions.ComputeError:
        return False
    return True


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def _read_footer(path: Path) -> tuple[pl.Schema, pq.FileMetaData]:
    try:
        metadata = pq.read_metadata(path)
        schema = pl.read_parquet_schema(path)
    except (OSError, pa.ArrowException, pl.exceptions.PolarsError) as exc:  # no usable footer
        raise InputError.unreadable(str(path), str(exc)) from None
    return pl.Schema(schema), metadata


def _uncompressed_bytes(metadata: pq.FileMetaData) -> tuple[int, int]:
    """Uncompressed bytes of the nested (list) columns and of the others, over all row groups."""
    lists = other = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            column = row_group.column(index)
            if "." in column.path_in_schema:
                lists += column.total_uncompressed_size
            else:
                other += column.total_uncompressed_size
    return lists, other


def _scan_file(
    path: Path, schema: pl.Schema, mapping: Mapping[str, str], *, index: int, offset: int
) -> pl.LazyFrame:
    source_names = {column: mapping.get(column, column) for column in EVENT_COLUMNS}
    missing = [source_names[c] for c in REQUIRED_COLUMNS if source_names[c] not in schema]
    if missing:
        raise SchemaError.missing(str(path), missing, schema.names())
    columns = [
        _normalize(column, source, schema[source], path)
        if source in schema
        else pl.lit(None, dtype=EVENTS_SCHEMA[column]).alias(column)
        for column, source in source_names.items()
    ]
    scan = pl.scan_parquet(
        path, hive_partitioning=False, row_index_name=SEQ, row_index_offset=offset
    )
    return scan.select(
        *columns,
        pl.col(SEQ).cast(pl.Int64),
        pl.lit(index, dtype=pl.UInt32).alias(FILE_INDEX),
    )


def _normalize(column: str, source: str, dtype: pl.DataType, path: Path) -> pl.Expr:
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
        raise SchemaError.wrong_type(str(path), source, expected, str(dtype))
    return expr.alias(column)


def _is_text_list(dtype: pl.DataType) -> bool:
    if isinstance(dtype, pl.Null):
        return True
    return isinstance(dtype, pl.List | pl.Array) and isinstance(dtype.inner, _TEXT)
