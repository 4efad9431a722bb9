"""Find event files, check their columns and scan them as one normalized LazyFrame."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ctr_batch.core.config import known_zone
from ctr_batch.core.errors import DISK_FULL, ConfigError, InputError, SchemaError
from ctr_batch.core.schema import (
    EVENT_COLUMNS,
    EVENT_ID,
    EVENT_TIME,
    FILE_INDEX,
    SEQ,
    SOURCE_FILE,
    SOURCE_ROW,
)
from ctr_batch.io.find import find_event_files, parquet_files
from ctr_batch.io.normalize import GIVEN, contract_columns, normalize_events
from ctr_batch.io.stats import data_end, uncompressed_bytes

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path


MANY_FILES = 16  # more input files than this are read by the in-memory engine


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input file: its path, its row count and where its rows start in input order.

    ``list_bytes`` and ``other_bytes`` are its uncompressed Parquet bytes in nested columns
    (the result lists) and in the others, from the footer (see ``memory_plan``); ``stamp`` is
    its size and modification time when the footer was read.
    """

    path: Path
    rows: int
    offset: int
    list_bytes: int = 0
    other_bytes: int = 0
    stamp: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class ScannedEvents:
    """Normalized events of all input files, plus what is known about the files."""

    frames: tuple[pl.LazyFrame, ...]  # the normalized events of each file, in input order
    files: tuple[InputFile, ...]  # empty for events handed over in memory
    has_event_id: bool
    in_memory_rows: int = 0  # rows of events handed over in memory (no files)

    @property
    def frame(self) -> pl.LazyFrame:
        """The events of every file, in input order."""
        return pl.concat(self.frames, how="vertical")

    @property
    def engine(self) -> Literal["auto", "in-memory"]:
        """The Polars engine for a first read of every file.

        The streaming engine runs a concatenation of many scans slowly (3,000 one-row files:
        122 s against 0.9 s in memory); past ``MANY_FILES`` files the in-memory engine reads.
        """
        return "in-memory" if len(self.frames) > MANY_FILES else "auto"

    @property
    def paths(self) -> list[Path]:
        """The input files, in input order."""
        return [file.path for file in self.files]

    @property
    def frame_rows(self) -> list[int]:
        """Rows of each frame of ``frames``."""
        return [file.rows for file in self.files] or [self.in_memory_rows]

    @property
    def rows(self) -> int:
        """Total number of input rows."""
        return self.in_memory_rows + sum(file.rows for file in self.files)

    def file_table(self) -> pl.LazyFrame | None:
        """``_file`` → ``source_file`` and the first ``_seq`` of that file (None: no files)."""
        if not self.files:
            return None
        return pl.LazyFrame(
            {
                FILE_INDEX: range(len(self.files)),
                SOURCE_FILE: [str(file.path) for file in self.files],
                SOURCE_ROW: [file.offset for file in self.files],
            },
            schema={FILE_INDEX: pl.UInt32, SOURCE_FILE: pl.String, SOURCE_ROW: pl.Int64},
        )


def scan_events(
    inputs: str | Path | Sequence[str | Path],
    *,
    column_map: Mapping[str, str] | None = None,
    outside: Path | None = None,
) -> ScannedEvents:
    """Scan event files: each a LazyFrame of the contract columns plus ``_seq`` and ``_file``.

    Every file's schema is checked before anything is read, so a bad file stops the run early
    with a message naming it. Files under `outside` are left out (see ``find_event_files``).

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> events = pl.DataFrame({"uid": [1, 1, 2], "event_type": ["search", "click", "search"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)]})
    >>> with tempfile.TemporaryDirectory() as root:
    ...     events.write_parquet(f"{root}/events.parquet")
    ...     scanned = scan_events(root, column_map={"user_id": "uid"})
    ...     scanned.rows, scanned.frame.collect()["user_id"].to_list()
    (3, ['1', '1', '2'])
    """
    paths = find_event_files(inputs, outside=outside)
    mapping = dict(column_map or {})
    frames, files, offset, has_event_id = [], [], 0, False
    for index, path in enumerate(paths):
        schema, metadata = _read_footer(path)
        _check_time_range(path, metadata, mapping.get(EVENT_TIME, EVENT_TIME))
        frames.append(_scan_file(path, schema, mapping, index=index, offset=offset))
        rows = metadata.num_rows
        stamp = _stamp(path)
        files.append(InputFile(path, rows, offset, *uncompressed_bytes(metadata), stamp))
        has_event_id |= mapping.get(EVENT_ID, EVENT_ID) in schema
        offset += rows
    return ScannedEvents(tuple(frames), tuple(files), has_event_id)


def scan_frame(events: pl.LazyFrame, column_map: Mapping[str, str] | None = None) -> ScannedEvents:
    """Events handed over in memory, normalized as a file's would be (see ``normalize.py``)."""
    mapping, source = dict(column_map or {}), GIVEN
    try:
        normalized = normalize_events(events, mapping, source=source)
        has_event_id = mapping.get(EVENT_ID, EVENT_ID) in events.collect_schema()
        rows = int(events.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:  # say, a scan of a missing file
        raise InputError.unreadable(source, str(exc)) from None
    return ScannedEvents((normalized,), (), has_event_id, in_memory_rows=rows)


# what Polars says of data it cannot decode, or of a file cut short while it is read
_UNREADABLE = re.compile(r"^parquet:|failed to fill whole buffer|unexpected end of file", re.I)


@contextmanager
def decoding(files: Sequence[Path]) -> Iterator[None]:
    """Report data that `files` fail to decode as an InputError naming the first such file.

    Footers are checked before anything is read; a corrupt data page shows only once a plan
    over every file reads it, and Polars does not say which file that was: each is then read
    alone, on this failure path only. When every one decodes, the file that failed is one the
    run wrote (a part or spill file cut short by a full disk): a ``ConfigError`` says so.
    """
    try:
        yield
    except (pl.exceptions.ComputeError, pl.exceptions.PanicException, OSError) as exc:
        panicked = isinstance(exc, pl.exceptions.PanicException)  # a chunk Polars cannot read
        if DISK_FULL.search(str(exc)) or not (panicked or _UNREADABLE.search(str(exc))):
            raise  # a full disk while writing says "parquet: ... os error 28" too
        culprit = next((path for path in files if not _decodes(path)), None)
        if culprit is None:  # every input decodes: what failed is a file the run wrote
            raise ConfigError.unreadable_output(str(exc)) from None
        raise InputError.unreadable(str(culprit), str(exc)) from None


def _decodes(path: Path) -> bool:
    """True when every page of `path` decodes (a reduction, so that nothing is held)."""
    try:
        scan = pl.scan_parquet(path, glob=False)
        scan.select(pl.all().is_null().sum()).collect(engine="streaming")
    except (pl.exceptions.ComputeError, pl.exceptions.PanicException):
        return False
    return True


def scan_table(folder: Path, schema: pl.Schema | None = None) -> pl.LazyFrame:
    """Every Parquet file of a written table folder, scanned as one frame (no hive columns).

    A folder without files gives an empty frame of `schema`, when given.
    """
    files = parquet_files(folder) if folder.is_dir() else []
    if not files and schema is not None:
        return pl.LazyFrame(schema=schema)
    return pl.scan_parquet(files, glob=False, hive_partitioning=False)


def _read_footer(path: Path) -> tuple[pl.Schema, pq.FileMetaData]:
    try:
        metadata = pq.read_metadata(path)
        if data_end(metadata) > path.stat().st_size - metadata.serialized_size - 8:
            raise InputError.unreadable(str(path), "its footer points past its end: cut short?")
        _check_zones(path, metadata.schema.to_arrow_schema())
        schema = pl.scan_parquet(path, glob=False, hive_partitioning=False).collect_schema()
    except (OSError, pa.ArrowException, pl.exceptions.PolarsError) as exc:  # no usable footer
        raise InputError.unreadable(str(path), str(exc)) from None
    return pl.Schema(schema), metadata


def file_rows(path: Path) -> int:
    """Rows of the Parquet file `path`, from its footer; InputError when it has none."""
    try:
        rows: int = pq.read_metadata(path).num_rows
    except (OSError, pa.ArrowException) as exc:
        raise InputError.unreadable(str(path), str(exc)) from None
    return rows


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def check_unchanged(scanned: ScannedEvents) -> None:
    """InputError naming the first input file rewritten since its footer was read.

    Its rows may then not be the rows counted: the run stops before anything is written.
    """
    for file in scanned.files:
        try:
            changed = _stamp(file.path) != file.stamp
        except OSError:
            changed = True
        if changed:
            msg = f"{file.path}: changed while it was being read; run again once it is complete"
            raise InputError(msg)


def _check_zones(path: Path, schema: pa.Schema) -> None:
    """SchemaError for a timestamp column whose time zone Polars does not know (say +05:30).

    The instants are stored in UTC either way, but Polars cannot open such a file; checked
    here, before Polars reads the footer, so that the user gets one line, not a panic.
    """
    for field in schema:
        zone = getattr(field.type, "tz", None)
        if pa.types.is_timestamp(field.type) and zone and not known_zone(zone):
            msg = f"{path}: column {field.name!r} has time zone {zone!r}, which Polars cannot "
            msg += "read; store the column in UTC (the same instants)"
            raise SchemaError(msg)


def _check_time_range(path: Path, metadata: pq.FileMetaData, column: str) -> None:
    """SchemaError when `column`'s statistics hold times beyond microseconds since 1970."""
    schema = metadata.schema.to_arrow_schema()
    if column not in schema.names or not pa.types.is_timestamp(schema.field(column).type):
        return
    scale = {"s": 1_000_000, "ms": 1_000}.get(schema.field(column).type.unit, 0)
    index = metadata.schema.names.index(column) if column in metadata.schema.names else -1
    for group in range(metadata.num_row_groups if scale and index >= 0 else 0):
        stats = metadata.row_group(group).column(index).statistics
        if stats is not None and stats.has_min_max:
            extreme = max(abs(stats.min_raw), abs(stats.max_raw))
            if extreme * scale >= 2**63:
                msg = f"{path}: column {column!r} holds times beyond the microsecond range "
                msg += "(year 294,000 and more); fix or drop those rows"
                raise SchemaError(msg)


def _scan_file(
    path: Path, schema: pl.Schema, mapping: Mapping[str, str], *, index: int, offset: int
) -> pl.LazyFrame:
    columns = contract_columns(schema, mapping, str(path))
    file_index = pl.lit(index, dtype=pl.UInt32).alias(FILE_INDEX)
    if SEQ in schema:  # an input column of that name: number the rows after the select
        scan = pl.scan_parquet(path, hive_partitioning=False, glob=False)
        scan = scan.select(*columns, file_index)
        return scan.with_row_index(SEQ, offset=offset).select(
            *EVENT_COLUMNS, pl.col(SEQ).cast(pl.Int64), FILE_INDEX
        )
    scan = pl.scan_parquet(
        path, hive_partitioning=False, glob=False, row_index_name=SEQ, row_index_offset=offset
    )
    return scan.select(*columns, pl.col(SEQ).cast(pl.Int64), file_index)
