"""Write tables and event logs atomically: each file under a temporary name, then renamed."""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from ctr_batch.core.errors import DISK_FULL, ConfigError, first_line
from ctr_batch.core.schema import COLUMN_DOCS, DATE, EVENT_TIME, TABLE_DOCS
from ctr_batch.io.commit import sync_path
from ctr_batch.io.layout import PART_FILE

if TYPE_CHECKING:
    from collections.abc import Mapping

# zstd level 1: nearly the size of the default level, written in about two thirds of the time
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 1,
    "statistics": True,
}
_WRITERS = 3  # tables encoded at once: the two large ones and the small rest
_NEARLY_FULL = 16 << 20  # bytes free in a folder where a write failed: the disk is full


def table_options(table: str, frame: pl.DataFrame) -> dict[str, Any]:
    """``PARQUET_OPTIONS`` for a file of the output table `table`, holding its own docs.

    Each column ``describe`` documents gets its meaning and unit as Arrow field metadata
    (``description``, ``unit``; ``pyarrow.parquet.read_schema`` shows them), and the file its
    table's name and meaning as key-value metadata (``ctr_batch.table``, ``description``;
    DuckDB's ``parquet_kv_metadata``). Not as Arrow schema metadata: Polars drops that from
    a file with a list column. A table without docs gets the plain options.
    """
    columns = COLUMN_DOCS.get(table)
    if columns is None:
        return PARQUET_OPTIONS
    fields = []
    for field in frame.head(0).to_arrow().schema:
        unit, meaning = columns.get(field.name, ("", ""))
        fields.append(
            field.with_metadata({"description": meaning, "unit": unit}) if meaning else field
        )
    about = {"ctr_batch.table": table, "description": TABLE_DOCS[table]}
    return {**PARQUET_OPTIONS, "arrow_schema": pa.schema(fields), "metadata": about}


def write_tables(
    tables: Mapping[str, pl.DataFrame], folder: Path, *, documented: bool = True
) -> None:
    """Write each table as ``folder/<table>/part-0.parquet`` (`folder`: a new snapshot).

    The snapshot is private to its writer until committed (``commit.new_output``), so the
    files need no renames of their own. The tables are encoded side by side (Polars releases
    the GIL): at 10M events 0.8 s against 1.0-1.5 s one after the other. The first error
    raised is raised here, once every write has ended. `documented`: with each table's docs
    (``table_options``; a stream's tables share names, not meanings, with the batch's).
    """
    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        written = [
            pool.submit(write_partition, frame, folder / name, name if documented else None)
            for name, frame in tables.items()
        ]
    for future in written:
        future.result()


def _remove_stale(folder: Path) -> None:
    """Remove everything in a table folder but its ``part-0.parquet`` (an earlier layout)."""
    for stale in folder.iterdir():
        if stale.name != PART_FILE:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def write_partition(frame: pl.DataFrame, folder: Path, table: str | None = None) -> Path:
    """Write `frame` as ``folder/part-0.parquet``, atomically replacing what was there.

    The file is written under a hidden temporary name that no ``*.parquet`` glob matches,
    then renamed into place, so a hard link to the file it replaces (a carried snapshot's)
    keeps its old content; other files in `folder` (an earlier layout) are then removed.
    A part of the output `table` holds its docs (``table_options``).
    """
    options = PARQUET_OPTIONS if table is None else table_options(table, frame)
    write_file(frame, folder / PART_FILE, **options)
    _remove_stale(folder)
    return folder / PART_FILE


def write_file(frame: pl.DataFrame, path: Path, *, durable: bool = False, **options: Any) -> Path:
    """Write `frame` as the Parquet file `path`: to a temporary file beside it, then renamed.

    The temporary name is hidden and ends in ``.tmp``, so no ``*.parquet`` glob matches it.
    `options` go to ``write_parquet``. As for ``write_text``, only a regular file is replaced.
    `durable`: flushed to disk before and after the rename, as a file of its own (a file in a
    snapshot is flushed when the snapshot is committed).
    """
    _refuse_other_than_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        _write_parquet(frame, Path(name), options)
        Path(name).chmod(0o644)  # mkstemp creates owner-only files
        if durable:
            sync_path(Path(name))
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    if durable:
        sync_path(path.parent)
    return path


def _write_parquet(frame: pl.DataFrame, path: Path, options: dict[str, Any]) -> None:
    """``frame.write_parquet``; a failure is a ConfigError naming the file (one line).

    A full disk does not always say so: Polars may report the footer it could not finish as
    "Invalid thrift". With (almost) no room left in the folder, the error says the disk is full.
    """
    try:
        frame.write_parquet(path, **options)
    except pl.exceptions.PolarsError as exc:
        said = first_line(exc)
        if DISK_FULL.search(str(exc)) or shutil.disk_usage(path.parent).free < _NEARLY_FULL:
            msg = f"no space left on the device while writing {path.parent} ({said})"
        else:
            msg = f"{path.parent}: a table file cannot be written ({said})"
        raise ConfigError(msg) from None


def _refuse_other_than_file(path: Path) -> None:
    """ConfigError if `path` exists as anything but a regular file (it would be replaced)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        msg = f"{path}: exists and is not a regular file (a folder, link, device or pipe); "
        msg += "not replacing it"
        raise ConfigError(msg)


def write_text(text: str, path: Path) -> Path:
    """Write `text` to `path` (UTF-8) atomically and durably.

    A temporary file beside it is flushed to disk, then renamed (and the folder flushed).

    Only a regular file is replaced: a folder, link, device or pipe at `path` is refused
    (renaming over ``/dev/null`` or a link would replace it, not write through it).
    """
    _refuse_other_than_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(name).chmod(0o644)
        Path(name).replace(path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    sync_path(path.parent)
    return path


def write_events(frame: pl.DataFrame, out: str | Path) -> list[Path]:
    """Write events to `out` if it ends in ``.parquet``, else to ``out/date=YYYY-MM-DD/``.

    Day partitions (``events.parquet`` each) follow the UTC date of ``event_time``; rows with
    a null time go to the first day (1970-01-01 if no row has a time). Row order is kept.
    Each file is written under a temporary name and renamed. Returns the paths, sorted.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> events = pl.DataFrame({"user_id": ["a", "a", "b"], "event_type": ["search"] * 3,
    ...     "event_time": [datetime(2024, 1, d) for d in (1, 1, 2)]})
    >>> with tempfile.TemporaryDirectory() as root:
    ...     [p.parent.name for p in write_events(events, root)]
    ['date=2024-01-01', 'date=2024-01-02']
    """
    out = Path(out)
    if out.suffix == ".parquet":
        return [write_file(frame, out)]
    day = pl.col(EVENT_TIME).dt.date()
    first = frame.select(day.min()).item() or date(1970, 1, 1)
    days = frame.with_columns(day.fill_null(first).alias("_day"))
    parts = days.partition_by("_day", include_key=False, as_dict=True)
    return sorted(
        write_file(part, out / f"{DATE}={key[0]:%Y-%m-%d}" / "events.parquet")
        for key, part in parts.items()
    )
