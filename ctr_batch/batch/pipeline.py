"""Where the stages are put in order, collected, and a run's tables written.

``buckets.py`` (bucket parts), ``backfill_days.py`` (day partitions) and ``stream_run.py``
(the simulated stream) write their own layouts.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import polars as pl

from ctr_batch.batch import buckets
from ctr_batch.batch.memory_plan import fits_in_memory, require_one_pass
from ctr_batch.batch.summary import RunSummary, summarize, summarize_parts, summary_frame
from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import (
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    INPUT_ROW,
    ITEM,
    ITEMS,
    QUARANTINE_TABLE,
    QUERY,
    REASON,
    RUN_SUMMARY_TABLE,
    SEARCHES_TABLE,
    SEQ,
    SESSION_FIRST_ROW,
    SESSIONS_TABLE,
    USER_KEY,
)
from ctr_batch.days.manifest import MANIFEST_FILE
from ctr_batch.io.read import ScannedEvents, decoding, scan_events
from ctr_batch.io.write import (
    check_output_folder,
    publish,
    remove_folder,
    remove_orphans,
    scratch_folder,
    write_partition,
    write_tables,
)
from ctr_batch.stages import aggregate
from ctr_batch.stages.flag import (
    ids_distinct,
    mark_known_duplicates,
    mark_repeated,
    quarantine_rows,
    row_problem,
    slim,
    split_valid,
)
from ctr_batch.stages.segment import segment
from ctr_batch.stages.sessionize import (
    USER_KEYS,
    group_users,
    out_of_order,
    sessionize,
    users_interleaved,
)

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.core.config import RunConfig

PolarsEngine = Literal["auto", "in-memory", "streaming"]
Engine = Literal["auto", "in-memory", "streaming", "duckdb"]
ENGINES: tuple[Engine, ...] = ("auto", "in-memory", "streaming", "duckdb")
Progress = Callable[[str], None]


def compute_tables(
    events: pl.LazyFrame,
    config: RunConfig,
    *,
    dedupe: bool = True,
    sources: pl.LazyFrame | None = None,
    duplicates: pl.LazyFrame | None = None,
    shared: buckets.SharedColumns | None = None,
    engine: PolarsEngine = "auto",
    ctr: bool = True,
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
    duplicates
        ``_seq`` of rows known to repeat an earlier ``event_id`` (replaces `dedupe`).
    shared
        Columns left out of `events`, found by ``_seq`` (see ``buckets.SharedColumns``).
    engine
        Polars engine; results are the same on every engine.
    ctr
        Also compute ``ctr_daily`` and ``ctr_by_query`` (a bucketed run aggregates them from
        every bucket's searches and sessions instead).
    """
    quarantine, by_input, to_sort, (lists, list_row) = _checked(
        events, dedupe=dedupe, sources=sources, duplicates=duplicates, shared=shared, engine=engine
    )
    # From the sort on, every stage depends on row order: the in-memory engine runs them.
    segmented = _segmented(to_sort, config)
    del to_sort
    sessions = aggregate.sessions(segmented.lazy(), timezone=config.timezone).collect(
        engine="in-memory"
    )
    rows = aggregate.search_rows(
        segmented.lazy(), by_input.lazy(), lists=lists, list_row=list_row
    ).collect(engine="in-memory")
    del segmented, by_input
    searches = aggregate.searches(
        rows.lazy(), sessions.lazy(), lists=lists, timezone=config.timezone
    ).collect(engine="in-memory")
    del rows, lists
    sessions = sessions.drop(SESSION_FIRST_ROW)
    tables = {SEARCHES_TABLE: searches, SESSIONS_TABLE: sessions}
    if ctr:
        daily, by_query = pl.collect_all(
            [
                aggregate.ctr_daily(searches.lazy(), sessions.lazy()),
                aggregate.ctr_by_query(searches.lazy()),
            ],
            engine="in-memory",
        )
        tables |= {CTR_DAILY_TABLE: daily, CTR_BY_QUERY_TABLE: by_query}
    return tables | {QUARANTINE_TABLE: quarantine}


def _checked(
    events: pl.LazyFrame,
    *,
    dedupe: bool,
    sources: pl.LazyFrame | None,
    duplicates: pl.LazyFrame | None,
    shared: buckets.SharedColumns | None,
    engine: PolarsEngine,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, tuple[pl.Series, str]]:
    """Quarantine; columns kept in input order, columns to sort; result lists and their index."""
    if SEQ not in events.collect_schema():
        events = events.with_row_index(SEQ).with_columns(pl.col(SEQ).cast(pl.Int64))
    flagged = _flagged(events, dedupe, duplicates, engine)
    any_rejected = flagged.get_column(REASON).null_count() < flagged.height
    valid, rejected = split_valid(flagged.lazy(), any_rejected=any_rejected)
    if shared is not None:  # quarantine rows keep every input column
        rejected = shared.restore(rejected)
    wanted = [
        quarantine_rows(rejected, sources),
        valid.select(QUERY, ITEM),  # stays in input order
        slim(valid).drop(QUERY, ITEM, ITEMS, strict=False),  # goes through the sort
    ]
    if shared is None:
        wanted.append(valid.select(ITEMS))
    quarantine, by_input, to_sort, *own_lists = pl.collect_all(wanted, engine="in-memory")
    del flagged, valid, rejected, wanted
    # One chunk each (faster gathers); the input's chunks are released here.
    by_input, to_sort = by_input.rechunk(), to_sort.rechunk()
    if shared is None:
        return quarantine, by_input, to_sort, (own_lists.pop().to_series().rechunk(), INPUT_ROW)
    return quarantine, by_input, to_sort, (shared.lists, SEQ)


def _segmented(to_sort: pl.DataFrame, config: RunConfig) -> pl.DataFrame:
    """Sessionized and segmented events.

    Only the columns that order and split sessions go through the sort; the others stay in
    input order (``_input_row`` points there). Events are first grouped by user with the
    cheapest key of ``USER_KEYS``. Logs arrive roughly in time order, so this usually leaves
    each user's events in (time, input) order already; a check confirms it, and the full sort
    runs only when it fails. Should two users share a key, the next kind of key is tried; the
    last, ``user_id`` itself, never fails.
    """
    for kind in USER_KEYS:
        by_user = group_users(to_sort.lazy(), kind=kind, rows=to_sort.height).collect(
            engine="in-memory"
        )
        checks = by_user.select(
            users_interleaved().alias("mixed"), out_of_order(USER_KEY).alias("late")
        )
        interleaved, disordered = checks.row(0)
        if interleaved:
            continue
        sessions = sessionize(
            by_user.lazy(), gap=config.gap, gap_rule=config.gap_rule, presorted=not disordered
        )
        return segment(sessions).collect(engine="in-memory")
    msg = "unreachable: user_id as the key never interleaves users"
    raise AssertionError(msg)


def _flagged(
    events: pl.LazyFrame,
    dedupe: bool,
    duplicates: pl.LazyFrame | None,
    engine: PolarsEngine,
) -> pl.DataFrame:
    """Events with ``reason``; duplicate detection runs only if some ids may repeat."""
    checked = events.with_columns(row_problem()).collect(engine=engine)
    if duplicates is not None:
        return mark_known_duplicates(checked.lazy(), duplicates).collect(engine=engine)
    if dedupe and not checked.select(ids_distinct()).item():
        return mark_repeated(checked.lazy()).collect(engine=engine)
    return checked


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
    with decoding(scanned.paths):
        tables = _compute_scanned(scanned, config, engine)
    return tables, summarize(tables, scanned.rows)


def run(
    sources: Sequence[str | Path],
    out: Path,
    config: RunConfig,
    *,
    engine: Engine = "auto",
    memory_limit: int | None = None,
    buckets: int | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Read events, compute every table and write them under `out`.

    With `buckets` > 1, or when the events would not fit in `memory_limit` bytes, users are
    hashed into buckets and computed bucket by bucket (``buckets.py``): the same tables, in
    bounded memory (the duckdb engine runs in one pass, or refuses). Nothing is written unless
    every input file passes the schema checks and every table is computed.
    """
    started = time.perf_counter()
    step = progress or (lambda _: None)
    step("checking input files")
    scanned = scan_events(sources, column_map=dict(config.column_map), outside=out)
    check_output_folder(out)
    _refuse_backfill_layout(out)
    remove_orphans(out)
    with decoding(scanned.paths):
        if engine == "duckdb":
            require_one_pass(scanned, memory_limit, buckets)
        elif (buckets or 1) > 1 or not fits_in_memory(scanned, memory_limit):
            count = buckets if buckets and buckets > 1 else None
            return _run_bucketed(
                scanned,
                out,
                config,
                step,
                started,
                sources,
                count=count,
                memory_limit=memory_limit,
            )
        step(f"computing tables from {scanned.rows:,} rows in {len(scanned.sources)} file(s)")
        tables = _compute_scanned(scanned, config, engine, memory_limit)
    summary = dataclasses.replace(
        summarize(tables, scanned.rows), seconds=time.perf_counter() - started
    )
    tables[RUN_SUMMARY_TABLE] = summary_frame(summary, config, sources)
    step(f"writing {len(tables)} tables to {out}")
    return dataclasses.replace(summary, tables=write_tables(tables, out))


def _refuse_backfill_layout(out: Path) -> None:
    """ConfigError if `out` holds ``ctr-batch backfill`` partitions (a run would mix them in)."""
    if (out / MANIFEST_FILE).exists():
        msg = f"{out} holds the output of `ctr-batch backfill`; run into another --out"
        raise ConfigError(msg)


def _compute_scanned(
    scanned: ScannedEvents, config: RunConfig, engine: Engine, memory_limit: int | None = None
) -> dict[str, pl.DataFrame]:
    dedupe, files = scanned.has_event_id, scanned.source_table()
    if engine == "duckdb":
        from ctr_batch.sql.engine import compute_tables_duckdb  # DuckDB loads only when asked

        return compute_tables_duckdb(
            scanned.frame, config, dedupe=dedupe, sources=files, memory_limit=memory_limit
        )
    return compute_tables(scanned.frame, config, engine=engine, dedupe=dedupe, sources=files)


def _run_bucketed(
    scanned: ScannedEvents,
    out: Path,
    config: RunConfig,
    step: Progress,
    started: float,
    sources: Sequence[str | Path],
    *,
    count: int | None,
    memory_limit: int | None,
) -> RunSummary:
    """Split users into `count` buckets (None: as `memory_limit` needs), compute each, publish."""
    workdir, staging = scratch_folder(out, "buckets"), scratch_folder(out, "staging")
    try:
        step(f"hashing {scanned.rows:,} rows into user buckets")
        split = buckets.bucket_events(scanned, workdir, buckets=count, memory_limit=memory_limit)
        how = "spilled to disk" if split.shared is None else "filtered rescans"
        step(f"{len(split.frames)} user buckets ({how})")
        quarantined = buckets.compute_buckets(
            split, staging, config, compute_tables, sources=scanned.source_table(),
            on_bucket=lambda done, total: step(f"computed bucket {done} of {total}"),
        )  # fmt: skip
        remove_folder(workdir)
        step("aggregating daily and per-query tables")
        tables = buckets.aggregate_parts(staging)
        summary = summarize_parts(staging, tables, quarantined, scanned.rows)
        summary = dataclasses.replace(summary, seconds=time.perf_counter() - started)
        tables[RUN_SUMMARY_TABLE] = summary_frame(summary, config, sources)
        for name, frame in tables.items():
            write_partition(frame, staging / name)
        step(f"publishing tables in {out}")
        written = publish(staging, out)
    finally:
        remove_folder(workdir)
        remove_folder(staging)
    return dataclasses.replace(summary, tables=written)
