"""The only place that orders the stages, collects and writes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import polars as pl

from ctr_batch import aggregate
from ctr_batch._version import __version__
from ctr_batch.config import format_duration
from ctr_batch.read import scan_events
from ctr_batch.schema import (
    CLICKED_SEARCHES,
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    DATE,
    FILE_INDEX,
    N_EVENTS,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    REASON,
    REASONS,
    RUN_SUMMARY_TABLE,
    SEARCHES_TABLE,
    SEQ,
    SESSIONS_TABLE,
    SOURCE_FILE,
    SOURCE_ROW,
)
from ctr_batch.segment import segment
from ctr_batch.sessionize import sessionize
from ctr_batch.validate import flag_rows, split_valid
from ctr_batch.write import write_tables

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.config import RunConfig

Engine = Literal["auto", "in-memory", "streaming"]
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run read, set aside and produced."""

    rows_read: int
    rows_processed: int
    quarantined: dict[str, int]
    sessions: int
    searches: int
    clicked_searches: int
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0
    tables: dict[str, Path] = field(default_factory=dict)

    @property
    def rows_quarantined(self) -> int:
        """Rows set aside, all reasons together."""
        return sum(self.quarantined.values())

    @property
    def ctr(self) -> float | None:
        """Share of searches with at least one click."""
        return self.clicked_searches / self.searches if self.searches else None


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


def summarize(tables: dict[str, pl.DataFrame], rows_read: int) -> RunSummary:
    """Count what the tables hold; fail loudly if any input row went missing."""
    reasons = tables[QUARANTINE_TABLE][REASON].value_counts()
    quarantined = dict.fromkeys(REASONS, 0) | dict(reasons.rows())
    days = tables[CTR_DAILY_TABLE][DATE]
    summary = RunSummary(
        rows_read=rows_read,
        rows_processed=int(tables[SESSIONS_TABLE][N_EVENTS].sum()),
        quarantined=quarantined,
        sessions=tables[SESSIONS_TABLE].height,
        searches=tables[SEARCHES_TABLE].height,
        clicked_searches=int(tables[CTR_DAILY_TABLE][CLICKED_SEARCHES].sum()),
        first_day=days.min(),  # type: ignore[arg-type]
        last_day=days.max(),  # type: ignore[arg-type]
    )
    if summary.rows_processed + summary.rows_quarantined != rows_read:
        msg = f"row accounting broken: {summary}"  # a bug, never bad input
        raise AssertionError(msg)
    return summary


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
    tables = compute_tables(
        scanned.frame,
        config,
        dedupe=scanned.has_event_id,
        sources=scanned.source_table(),
        engine=engine,
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


def summary_frame(
    summary: RunSummary, config: RunConfig, sources: Sequence[str | Path]
) -> pl.DataFrame:
    """The run summary as a one-row table: inputs, settings, row accounting, headline figures."""
    row = {
        "layout": "run",
        "finished_at": datetime.now(UTC).replace(microsecond=0),
        "tool_version": __version__,
        "inputs": [str(source) for source in sources],
        "gap": format_duration(config.gap),
        "gap_us": config.gap // timedelta(microseconds=1),
        "gap_rule": config.gap_rule,
        "timezone": config.timezone,
        "first_day": summary.first_day,
        "last_day": summary.last_day,
        "rows_read": summary.rows_read,
        "rows_processed": summary.rows_processed,
        "rows_quarantined": summary.rows_quarantined,
        **{f"quarantined_{reason}": count for reason, count in summary.quarantined.items()},
        "sessions": summary.sessions,
        "searches": summary.searches,
        "clicked_searches": summary.clicked_searches,
        "ctr": summary.ctr,
        "compute_seconds": round(summary.seconds, 3),
    }
    return pl.DataFrame(
        [row], schema_overrides={"ctr": pl.Float64, "first_day": pl.Date, "last_day": pl.Date}
    )


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
