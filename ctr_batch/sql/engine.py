"""A second, independent engine: the whole computation in DuckDB SQL.

The stages are the files of ``queries/pipeline/``, one statement each, run in the order of
``STAGES``; each stage's result is stored as a table named after the stage, which later stages
read. Each file's header declares its parameters (``-- params:``, read by ``queryfile.QueryFile``);
values travel as DuckDB ``$name`` parameters, never inside the SQL text. Only reading the input
(``read.scan_events``) and the final casts to the ``schema.py`` schemas use Polars.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError, first_line
from ctr_batch.core.resources import queries_dir
from ctr_batch.core.schema import (
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    EVENT_COLUMNS,
    EVENTS_SCHEMA,
    FILE_INDEX,
    QUARANTINE_TABLE,
    SEARCHES_TABLE,
    SEQ,
    SESSIONS_TABLE,
    SOURCE_FILE,
    SOURCE_ROW,
    TABLE_SCHEMAS,
)
from ctr_batch.io.normalize import normalize_events
from ctr_batch.sql.queryfile import QueryFile

if TYPE_CHECKING:
    from collections.abc import Mapping


__all__ = ["STAGES", "compute_tables_duckdb", "stage_parameters", "stage_query"]

EVENTS_VIEW = "events"
SOURCES_VIEW = "sources"
FLAGGED = "flagged"
SEGMENTED = "segmented"
_ROW = "_row"  # unique row number of the events, the key that joins columns back

#: Stage names (= their SQL file and the table holding their result), in run order.
#: ``flagged`` and ``segmented`` are working tables; the others are output tables.
STAGES = (
    FLAGGED,
    QUARANTINE_TABLE,
    SEGMENTED,
    SESSIONS_TABLE,
    SEARCHES_TABLE,
    CTR_DAILY_TABLE,
    CTR_BY_QUERY_TABLE,
)
#: Working tables that no stage reads any more once the named stage has run.
_DROP_AFTER = {SEGMENTED: "DROP TABLE flagged", SEARCHES_TABLE: "DROP TABLE segmented"}
_OUTPUT_TABLES = (
    SEARCHES_TABLE,
    SESSIONS_TABLE,
    CTR_DAILY_TABLE,
    CTR_BY_QUERY_TABLE,
    QUARANTINE_TABLE,
)

_SOURCES_SCHEMA = pl.Schema(
    {FILE_INDEX: pl.UInt32(), SOURCE_FILE: pl.String(), SOURCE_ROW: pl.Int64()}
)
_MICROSECOND = timedelta(microseconds=1)


def stage_query(stage: str) -> QueryFile:
    """The SQL file of `stage` (``queries/pipeline/<stage>.sql``) and its parsed header.

    Examples
    --------
    >>> stage_query("segmented").params
    ('gap_us', 'exclusive')
    """
    return QueryFile.parse(queries_dir() / "pipeline" / f"{stage}.sql")


def stage_parameters(config: RunConfig, *, dedupe: bool) -> dict[str, object]:
    """Every stage parameter, by name, for a run with `config`.

    Examples
    --------
    >>> from ctr_batch.core.config import RunConfig
    >>> stage_parameters(RunConfig(gap=timedelta(seconds=5)), dedupe=True)["gap_us"]
    5000000
    """
    return {
        "dedupe": dedupe,
        "gap_us": config.gap // _MICROSECOND,
        "exclusive": config.gap_rule == "exclusive",
        "timezone": config.timezone,
    }


def compute_tables_duckdb(
    events: pl.LazyFrame | pl.DataFrame,
    config: RunConfig,
    *,
    dedupe: bool = True,
    normalized: bool = False,
    file_table: pl.LazyFrame | None = None,
    memory_limit: int | None = None,
) -> dict[str, pl.DataFrame]:
    """Compute every output table from events, in DuckDB SQL.

    Same tables and schemas as ``pipeline.compute_tables``, and the same rows. ``ctr_daily``
    (by date), ``ctr_by_query`` (by searches descending, then query) and ``quarantine`` (input
    order) come in the same order too; ``sessions`` and ``searches`` come by (user_id,
    session_start[, search_index]), while Polars groups users by a hash: sort before comparing.

    Parameters
    ----------
    events
        Contract-shaped events in input order (other columns are ignored).
    config
        Gap, gap rule and time zone.
    dedupe
        Set repeated ``event_id`` values aside.
    normalized
        `events` come from ``io.read`` already (``_seq`` gives input order, ``_file`` the
        file), so they are used as they are.
    file_table
        ``_file`` → ``source_file`` and first ``_seq`` of each file, for the quarantine table.
    memory_limit
        Bytes DuckDB's operators may hold before they spill to a temporary folder (DuckDB's
        default: 80 % of the machine's memory). The events themselves are held as Arrow
        beside that.

    Examples
    --------
    >>> from datetime import datetime
    >>> events = pl.LazyFrame({"user_id": ["a", "a", "b"],
    ...     "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "click", "search"]})
    >>> from ctr_batch.core.config import RunConfig
    >>> compute_tables_duckdb(events, RunConfig())["ctr_daily"]["ctr"].to_list()
    [0.5]
    """
    if not isinstance(config, RunConfig):
        msg = f"config: expected a RunConfig; got {type(config).__name__}"
        raise ConfigError(msg)
    if config.max_session is not None:
        msg = "--max-session is not available with --engine duckdb (the SQL twin checks the "
        msg += "gap rules only); use another engine"
        raise ConfigError(msg)
    params = stage_parameters(config, dedupe=dedupe)
    source_frame = _SOURCES_SCHEMA.to_frame() if file_table is None else file_table.collect()
    with tempfile.TemporaryDirectory(prefix="ctr-batch-duckdb-") as spill:
        settings: dict[str, str | bool | int | float | list[str]] = {"temp_directory": spill}
        if memory_limit is not None:
            settings["memory_limit"] = f"{max(memory_limit >> 20, 1)}MiB"
        with duckdb.connect(config=settings) as con:
            con.sql("SET TimeZone = 'UTC'")  # timestamps come back labelled UTC
            con.register(EVENTS_VIEW, _event_frame(events, normalized=normalized).to_arrow())
            con.register(SOURCES_VIEW, source_frame.cast(_SOURCES_SCHEMA).to_arrow())
            try:
                _run_stages(con, params)
            except duckdb.OutOfMemoryException as exc:
                msg = (
                    f"--memory-limit {settings.get('memory_limit')} is too small for the duckdb "
                    f"engine ({first_line(exc)}); raise it, or use --engine auto"
                )
                raise ConfigError(msg) from None
            return {name: _fetch(con, name) for name in _OUTPUT_TABLES}


def _event_frame(events: pl.LazyFrame | pl.DataFrame, *, normalized: bool) -> pl.DataFrame:
    """Contract columns, ``_seq``, ``_file`` and ``_row``, a unique row number to join on.

    ``_seq`` is the row order when absent, ``_file`` null when absent.
    """
    lazy = events.lazy() if normalized else normalize_events(events.lazy())
    if FILE_INDEX not in lazy.collect_schema():
        lazy = lazy.with_columns(pl.lit(None, dtype=pl.UInt32).alias(FILE_INDEX))
    columns = [pl.col(name).cast(EVENTS_SCHEMA[name]) for name in EVENT_COLUMNS]
    return lazy.select(
        *columns,
        pl.col(SEQ).cast(pl.Int64),
        pl.col(FILE_INDEX).cast(pl.UInt32),
        pl.int_range(pl.len(), dtype=pl.Int64).alias(_ROW),
    ).collect()


def _run_stages(con: duckdb.DuckDBPyConnection, params: Mapping[str, object]) -> None:
    """Run every stage into a table named after it, dropping working tables once unread."""
    for stage in STAGES:
        query = stage_query(stage)
        values = {name: params[name] for name in query.params}
        con.sql(query.path.read_text(encoding="utf-8"), params=values or None).create(stage)
        if stage in _DROP_AFTER:
            con.sql(_DROP_AFTER[stage])


def _fetch(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    """An output table with the columns and dtypes of its ``schema.py`` schema.

    Durations arrive as microsecond counts (DuckDB intervals do not convert to Polars).
    """
    schema = TABLE_SCHEMAS[table]
    frame: pl.DataFrame = con.table(table).pl()
    return frame.select(schema.names()).cast(schema)
