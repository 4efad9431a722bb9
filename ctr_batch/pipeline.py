"""The only place that orders the stages, collects and writes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import polars as pl

from ctr_batch import aggregate
from ctr_batch.read import scan_events
from ctr_batch.schema import (
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    FILE_INDEX,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    RUN_SUMMARY_TABLE,
    SEARCHES_TABLE,
    SEQ,
    SESSIONS_TABLE,
    SOURCE_FILE,
    SOURCE_ROW,
)
from ctr_batch.segment import segment
from ctr_batch.sessionize import sessionize
from ctr_batch.sql_engine import compute_tables_duckdb
from ctr_batch.summary import RunSummary, summarize, summary_frame
from ctr_batch.validate import flag_rows, split_valid
from ctr_batch.write import write_tables

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.config import RunConfig

Engine = Literal["auto", "in-memory", "streaming", "duckdb"]
ENGINES: tuple[Engine, ...] = ("auto", "in-memory", "streaming", "duckdb")
Progress = Callable[[str], None]


def compute_tables(
    events: pl.LazyFrame,
    config: RunConfig,
    *,
    dedupe: bool = True,
    sources: pl.LazyFrame | None = None,
    engine: Engine = "auto",
) -> dict[str, pl.DataFrame]:
    """Compute every output table from normalized events.

    Parameters
    ----------
    events
        Contract columns (see ``schema.EVENTS_SCHEMA``); input order is ``_seq`` when present,
        else row order.
    config
        Gap, gap rule and time zone.
    dedupe
        Set repeated ``event_id`` values aside (when the input has that column).
    sources
        ``_file`` → ``source_file`` and first ``_seq`` of each file, for the quarantine table.
    engine
        Polars engine; results are the same on every engine.
    """
    if SEQ not in events.collect_schema():
        events = events.with_row_index(SEQ).with_columns(pl.col(SEQ).cast(pl.Int64))
    # Materialize at the two points where the plan branches, so no branch recomputes another.
    valid, rejected = split_valid(flag_rows(events, dedupe=dedupe).collect(engine=engine).lazy())
    quarantine = quarantine_rows(rejected, sources).collect(engine=engine)
    segmented = segment(sessionize(valid, gap=config.gap, gap_rule=config.gap_rule))
    events_by_segment = segmented.collect(engine=engine).lazy()
    searches, sessions = pl.collect_all(
        [
            aggregate.searches(events_by_segment, timezone=config.timezone),
            aggregate.sessions(events_by_segment, timezone=config.timezone),
        ],
        engine=engine,
    )
    daily, by_query = pl.collect_all(
        [
            aggregate.ctr_daily(searches.lazy(), sessions.lazy()),
            aggregate.ctr_by_query(searches.lazy()),
        ],
        engine="in-memory",
    )
    return {
        SEARCHES_TABLE: searches,
        SESSIONS_TABLE: sessions,
        CTR_DAILY_TABLE: daily,
        CTR_BY_QUERY_TABLE: by_query,
        QUARANTINE_TABLE: quarantine,
    }


def compute(
    sources: Sequence[str | Path],
    config: RunConfig,
    *,
    engine: Engine = "auto",
    progress: Progress | None = None,
) -> tuple[dict[str, pl.DataFrame], RunSummary]:
    """Read event files and compute every table, without writing anything."""
    step = progress or (lambda _: None)
    step("checking input files")
    scanned = scan_events(sources, column_map=dict(config.column_map))
    step(f"computing tables from {scanned.rows:,} rows in {len(scanned.sources)} file(s)")
    dedupe, files = scanned.has_event_id, scanned.source_table()
    tables = (
        compute_tables_duckdb(scanned.frame, config, dedupe=dedupe, sources=files)
        if engine == "duckdb"
        else compute_tables(scanned.frame, config, engine=engine, dedupe=dedupe, sources=files)
    )
    return tables, summarize(tables, scanned.rows)


def run(
    sources: Sequence[str | Path],
    out: Path,
    config: RunConfig,
    *,
    engine: Engine = "auto",
    progress: Progress | None = None,
) -> RunSummary:
    """Read events, compute every table and write them under `out`.

    Nothing is written unless every input file passes the schema checks and every table
    is computed.
    """
    started = time.perf_counter()
    tables, summary = compute(sources, config, engine=engine, progress=progress)
    summary = dataclasses.replace(summary, seconds=time.perf_counter() - started)
    tables[RUN_SUMMARY_TABLE] = summary_frame(summary, config, sources)
    if progress:
        progress(f"writing {len(tables)} tables to {out}")
    written = write_tables(tables, out)
    return dataclasses.replace(summary, tables=written)


def quarantine_rows(rejected: pl.LazyFrame, sources: pl.LazyFrame | None) -> pl.LazyFrame:
    """Rejected rows (with ``reason``) as quarantine rows: source file and row number added."""
    if sources is None:
        located = rejected.with_columns(
            pl.lit(None, dtype=pl.String).alias(SOURCE_FILE), pl.col(SEQ).alias(SOURCE_ROW)
        )
    else:
        located = rejected.join(sources, on=FILE_INDEX, how="left").with_columns(
            (pl.col(SEQ) - pl.col(SOURCE_ROW)).alias(SOURCE_ROW)
        )
    return located.sort(SEQ).select(QUARANTINE_SCHEMA.names()).cast(QUARANTINE_SCHEMA)
