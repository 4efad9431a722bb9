"""Read a streaming job's output (Parquet, JSON lines or CSV) and the batch tables to compare."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from ctr_batch.core.errors import ConfigError, InputError, SchemaError
from ctr_batch.core.schema import (
    CLICKED_SEARCHES,
    CLICKS_PER_SEARCH,
    CTR,
    DATE,
    N_CLICKS,
    N_EVENTS,
    N_SEARCHES,
    QUERY,
    RUN_SUMMARY_TABLE,
    SEARCH_TIME,
    SEARCHES,
    SEARCHES_TABLE,
    SESSION_END,
    SESSION_START,
    SESSIONS_TABLE,
    TIME_DTYPE,
    USER_ID,
)
from ctr_batch.core.summary import recorded_settings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ctr_batch.core.config import RunConfig

StreamKind = Literal["searches", "sessions", "daily"]
StreamFormat = Literal["parquet", "jsonl", "csv"]

_SUFFIXES: dict[str, StreamFormat] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}
# kind -> (required columns, of which at least one too, optional columns)
KIND_COLUMNS: dict[StreamKind, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "searches": ((USER_ID, SEARCH_TIME, CTR), (), (QUERY, N_CLICKS, SESSION_START)),
    "sessions": (
        (USER_ID, SESSION_START),
        (N_SEARCHES, N_CLICKS, CLICKS_PER_SEARCH),
        (SESSION_END, N_EVENTS),
    ),
    "daily": ((DATE, CTR), (), (SEARCHES, CLICKED_SEARCHES)),
}
_TYPES: dict[str, pl.DataType] = {
    USER_ID: pl.String(),
    QUERY: pl.String(),
    SEARCH_TIME: TIME_DTYPE,
    SESSION_START: TIME_DTYPE,
    SESSION_END: TIME_DTYPE,
    DATE: pl.Date(),
    CTR: pl.Float64(),
    CLICKS_PER_SEARCH: pl.Float64(),
    N_CLICKS: pl.Int64(),
    N_SEARCHES: pl.Int64(),
    N_EVENTS: pl.Int64(),
    SEARCHES: pl.Int64(),
    CLICKED_SEARCHES: pl.Int64(),
}


def stream_format(path: Path, fmt: StreamFormat | None = None) -> StreamFormat:
    """The format of `path`: `fmt` when given, Parquet for a folder, else from the file suffix."""
    if fmt is not None:
        return fmt
    if path.is_dir():
        return "parquet"
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
    msg = f"{path}: cannot tell the format from the suffix; use one of {sorted(_SUFFIXES)} "
    msg += "or give the format (parquet, jsonl, csv)"
    raise ConfigError(msg)


def read_stream_file(path: Path, fmt: StreamFormat | None = None) -> pl.DataFrame:
    """Read a stream output file, or every file of that format under a folder."""
    if not path.exists():
        msg = f"{path}: stream output not found"
        raise InputError(msg)
    chosen = stream_format(path, fmt)
    suffixes = [s for s, f in _SUFFIXES.items() if f == chosen]
    files = (
        sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
        if path.is_dir()
        else [path]
    )
    if not files:
        msg = f"{path}: no {chosen} files found"
        raise InputError(msg)
    try:
        frames = [_read_one(file, chosen) for file in files]
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError.unreadable(str(path), str(exc)) from None
    for file, frame in zip(files[1:], frames[1:], strict=True):
        if set(frame.columns) != set(frames[0].columns):  # say, a folder of several tables
            msg = (
                f"{path}: its files hold different records ({files[0]} has {frames[0].columns}, "
                f"{file} has {frame.columns}); give the folder or file of one kind of record"
            )
            raise SchemaError(msg)
    return pl.concat(frames, how="diagonal_relaxed")


def _read_one(file: Path, fmt: StreamFormat) -> pl.DataFrame:
    if fmt == "parquet":
        return pl.read_parquet(file, hive_partitioning=False, glob=False)
    if fmt == "jsonl":
        return pl.read_ndjson(file, infer_schema_length=None)
    return pl.read_csv(file, infer_schema_length=None)


def detect_kind(columns: list[str], source: str) -> StreamKind:
    """Which records a stream output holds, from its column names.

    Raises
    ------
    SchemaError
        If the columns fit no kind: names the file, what each kind needs and what was found.
    """
    if SEARCH_TIME in columns and CTR not in columns:  # per-search records, not sessions
        msg = f"{source}: per-search records ({SEARCH_TIME}) need a {CTR} column; found {columns}"
        raise SchemaError(msg)
    for kind, (required, one_of, _) in KIND_COLUMNS.items():
        if set(required) <= set(columns) and (not one_of or set(one_of) & set(columns)):
            return kind
    needs = "; ".join(
        f"{kind}: {list(required)}" + (f" and one of {list(one_of)}" if one_of else "")
        for kind, (required, one_of, _) in KIND_COLUMNS.items()
    )
    msg = f"{source}: missing columns for any stream output kind ({needs}); found {columns}"
    raise SchemaError(msg)


def load_stream_output(
    path: str | Path,
    fmt: StreamFormat | None = None,
    column_map: Mapping[str, str] | None = None,
    kind: StreamKind | None = None,
) -> tuple[StreamKind, pl.DataFrame]:
    """Read a streaming job's output, detect its kind and normalize its columns.

    Parameters
    ----------
    path
        A file, or a folder of files (Parquet unless `fmt` says otherwise).
    fmt
        ``parquet``, ``jsonl`` or ``csv``; default from the suffix.
    column_map
        Our column name -> the stream's, e.g. ``{"user_id": "user"}``.
    kind
        ``searches``, ``sessions`` or ``daily``; default: told from the columns.

    Returns
    -------
    tuple[StreamKind, pl.DataFrame]
        ``searches`` (per-search records: ``user_id``, ``search_time``, ``ctr``, and ``query``,
        ``n_clicks``, ``session_start`` when present), ``sessions`` (``user_id``,
        ``session_start`` and clicks/searches) or ``daily`` (``date``, ``ctr`` [, ``searches``]),
        and the kind's columns present, with our names and types (times in UTC).

    Raises
    ------
    InputError
        If the path is missing or unreadable.
    SchemaError
        If the columns fit no kind, or a column cannot be read as its type.
    """
    return normalize_stream(read_stream_file(Path(path), fmt), str(path), column_map, kind)


def normalize_stream(
    raw: pl.DataFrame,
    source: str,
    column_map: Mapping[str, str] | None = None,
    kind: StreamKind | None = None,
) -> tuple[StreamKind, pl.DataFrame]:
    """A stream's records with our column names and types, and their kind (told, or detected).

    Raises
    ------
    ConfigError
        For a `kind` that is not a stream output kind.
    SchemaError
        If the columns fit no kind, or a column cannot be read as its type.
    """
    renames = {given: ours for ours, given in (column_map or {}).items() if given in raw.columns}
    frame = raw.rename(renames)
    if kind is not None and kind not in KIND_COLUMNS:
        msg = f"kind {kind!r}: expected one of {', '.join(KIND_COLUMNS)}"
        raise ConfigError(msg)
    kind = kind or detect_kind(frame.columns, source)
    required, one_of, optional = KIND_COLUMNS[kind]
    if missing := [c for c in required if c not in frame.columns]:
        raise SchemaError.missing(source, missing, frame.columns)
    kept = [c for c in (*required, *one_of, *optional) if c in frame.columns]
    return kind, frame.select(_normalized(frame, column, source) for column in kept)


def _normalized(frame: pl.DataFrame, column: str, source: str) -> pl.Series:
    """`column` cast to its type; strings parsed; naive times taken as UTC."""
    series, target = frame[column], _TYPES[column]
    try:
        if isinstance(target, pl.Datetime | pl.Date) and series.dtype == pl.String:
            parsed = (
                series.str.to_datetime(time_unit="us", time_zone="UTC")
                if isinstance(target, pl.Datetime)
                else series.str.to_date()
            )
            return parsed.cast(target)
        if isinstance(target, pl.Datetime) and isinstance(series.dtype, pl.Datetime):
            zone = series.dtype.time_zone
            utc = (
                series.dt.convert_time_zone("UTC") if zone else series.dt.replace_time_zone("UTC")
            )
            return utc.cast(target)
        if isinstance(target, pl.Datetime) and not isinstance(series.dtype, pl.Datetime):
            raise pl.exceptions.InvalidOperationError(column)  # no silent epoch guessing
        return series.cast(target)
    except pl.exceptions.PolarsError:
        raise SchemaError.wrong_type(source, column, str(target), str(series.dtype)) from None


def load_batch(batch_out: Path) -> tuple[pl.DataFrame, pl.DataFrame, RunConfig | None]:
    """Batch ``searches`` and ``sessions`` under `batch_out`, and its settings when recorded."""
    tables = []
    for table in (SEARCHES_TABLE, SESSIONS_TABLE):
        files = sorted((batch_out / table).rglob("*.parquet"))
        if not files:
            msg = f"{batch_out / table}: no batch table found (run `ctr-batch run` first)"
            raise InputError(msg)
        tables.append(pl.read_parquet(files, hive_partitioning=False, glob=False))
    summaries = sorted((batch_out / RUN_SUMMARY_TABLE).rglob("*.parquet"))
    if not summaries:
        return tables[0], tables[1], None
    summary = pl.read_parquet(summaries[-1], glob=False, hive_partitioning=False)
    recorded = recorded_settings(summary.row(0, named=True))
    return tables[0], tables[1], recorded
