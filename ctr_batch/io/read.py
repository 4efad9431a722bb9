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

from ctr_batch.core.errors import ConfigError, InputError
from ctr_batch.core.schema import (
    EVENT_COLUMNS,
    EVENT_ID,
    FILE_INDEX,
    SEQ,
    SOURCE_FILE,
    SOURCE_ROW,
)
from ctr_batch.io.normalize import contract_columns, normalize_events

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence


@dataclass(frozen=True, slots=True)
class InputFile:
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

    frames: tuple[pl.LazyFrame, ...]  # the normalized events of each file, in input order
    files: tuple[InputFile, ...]  # empty for events handed over in memory
    has_event_id: bool
    in_memory_rows: int = 0  # rows of events handed over in memory (no files)

    @property
    def frame(self) -> pl.LazyFrame:
        """The events of every file, in input order."""
        return pl.concat(self.frames, how="vertical")

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


def find_event_files(
    inputs: str | Path | Sequence[str | Path], *, outside: Path | None = None
) -> list[Path]:
    """Resolve files, directories (recursive) and globs to Parquet files in sorted path order.

    Files and folders whose names start with ``.`` or ``_`` (temporary or marker files) are
    skipped inside directories; a file reached twice (say by a relative and an absolute path)
    is read once. Files under `outside` (the run's own output folder) are left out, so that
    an output folder inside the input folder is not read back by a rerun.
    """
    own = outside.resolve() if outside is not None else None
    inputs = input_specs(inputs)
    found: dict[Path, Path] = {}  # resolved path -> the spelling met first
    for spec in inputs:
        path = Path(spec)
        if path.is_file():
            matches = [path]
        elif path.is_dir():
            matches = [p for p in path.rglob("*.parquet") if not _hidden(p.relative_to(path))]
        else:
            matches = [Path(p) for p in glob.glob(str(spec), recursive=True)]  # noqa: PTH207
            matches = [p for p in matches if p.is_file()]
        if own is not None:
            matches = [p for p in matches if not p.resolve().is_relative_to(own)]
        if not matches:
            raise InputError.no_files(str(spec))
        for match in matches:
            found.setdefault(match.resolve(), match)
    return sorted(found.values(), key=lambda p: p.as_posix())


def input_specs(inputs: object) -> list[str | Path]:
    """`inputs` as a list of paths or globs; a ConfigError for anything else or nothing."""
    specs = [inputs] if isinstance(inputs, str | Path) else inputs
    if not isinstance(specs, list | tuple) or not all(isinstance(s, str | Path) for s in specs):
        msg = f"events: expected paths or globs of Parquet files; got {type(inputs).__name__}"
        raise ConfigError(msg)
    if not specs or any(str(spec) == "" for spec in specs):
        msg = "events: no input given (an empty list, or an empty path)"
        raise ConfigError(msg)
    return list(specs)


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
        frames.append(_scan_file(path, schema, mapping, index=index, offset=offset))
        rows = metadata.num_rows
        files.append(InputFile(path, rows, offset, *_uncompressed_bytes(metadata)))
        has_event_id |= mapping.get(EVENT_ID, EVENT_ID) in schema
        offset += rows
    return ScannedEvents(tuple(frames), tuple(files), has_event_id)


def scan_frame(events: pl.LazyFrame, column_map: Mapping[str, str] | None = None) -> ScannedEvents:
    """Events handed over in memory, normalized as a file's would be (see ``normalize.py``)."""
    mapping, source = dict(column_map or {}), "the events given"
    try:
        normalized = normalize_events(events, mapping, source=source)
        has_event_id = mapping.get(EVENT_ID, EVENT_ID) in events.collect_schema()
        rows = int(events.select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError) as exc:  # say, a scan of a missing file
        raise InputError.unreadable(source, str(exc)) from None
    return ScannedEvents((normalized,), (), has_event_id, in_memory_rows=rows)


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
        scan = pl.scan_parquet(path, glob=False)
        scan.select(pl.all().is_null().sum()).collect(engine="streaming")
    except pl.exceptions.ComputeError:
        return False
    return True


def parquet_files(folder: Path) -> list[Path]:
    """The Parquet files under `folder` (recursive, hidden names skipped), in path order.

    Listing them here, rather than giving Polars or DuckDB a glob, keeps any ``[``, ``*`` or
    ``?`` in the folder's own path from being read as a pattern.
    """
    files = (p for p in folder.rglob("*.parquet") if not _hidden(p.relative_to(folder)))
    return sorted(files, key=lambda p: p.as_posix())


def scan_table(folder: Path) -> pl.LazyFrame:
    """Every Parquet file of a written table folder, scanned as one frame (no hive columns)."""
    return pl.scan_parquet(parquet_files(folder), glob=False, hive_partitioning=False)


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def _read_footer(path: Path) -> tuple[pl.Schema, pq.FileMetaData]:
    try:
        metadata = pq.read_metadata(path)
        schema = pl.scan_parquet(path, glob=False, hive_partitioning=False).collect_schema()
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
