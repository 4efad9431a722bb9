"""Nightly backfill: compute day partitions; any order, any number of times, same tables.

A day ``D`` (a calendar date in the run's time zone) owns the sessions that start on ``D``,
the searches made on ``D``, ``ctr_daily`` and ``ctr_by_query_daily`` for ``D``, and the bad
rows whose home day is ``D`` (their ``date=`` input partition, else their event date). To
compute it, the events of ``[D - lookback, D + 1 day + lookback)``, plus one gap on each side,
go through the ordinary pipeline, and only ``D``'s rows are kept. Every session shorter than
the lookback is then computed exactly as a full recompute would; a longer one is split at the
window edge, and the split is counted in the manifest and the summary.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.batch.pipeline import compute_ctr, compute_tables, query_roll_up
from ctr_batch.core.config import format_duration, to_date
from ctr_batch.core.errors import ConfigError, InputError
from ctr_batch.core.schema import (
    CLICKED,
    CTR_BY_QUERY_DAILY_TABLE,
    CTR_BY_QUERY_TABLE,
    CTR_DAILY_TABLE,
    DATE,
    EVENTS_SCHEMA,
    N_EVENTS,
    OUTSIDE_PARTITION,
    QUARANTINE_TABLE,
    REASON,
    RUN_SUMMARY_TABLE,
    SEARCHES_TABLE,
    SESSIONS_TABLE,
    SOURCE_FILE,
    SOURCE_ROW,
)
from ctr_batch.core.summary import BACKFILL_SUMMARY_SCHEMA, summary_header
from ctr_batch.days.config import BackfillConfig
from ctr_batch.days.manifest import DayRecord, fingerprint, read_manifest
from ctr_batch.days.publish import DayCommits
from ctr_batch.days.window import (
    HOME_DAY,
    PARTITION,
    PLACED,
    days_between,
    files_for_day,
    home_day,
    partition_date,
    partition_table,
    split_sessions,
    window_rows,
)
from ctr_batch.io.commit import writing
from ctr_batch.io.find import locate_event_files
from ctr_batch.io.layout import (
    check_output_folder,
    output_folder,
    refuse_run_layout,
    remove_stale_temporaries,
)
from ctr_batch.io.read import decoding, scan_events, scan_table
from ctr_batch.io.write import write_partition
from ctr_batch.stages.flag import quarantine_rows

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


@dataclass(frozen=True, slots=True)
class DayReport:
    """What happened to one day."""

    day: date
    computed: bool
    record: DayRecord


def backfill(
    events: str | Path | Sequence[str | Path],
    out: str | Path,
    start: date | str,
    end: date | str,
    config: BackfillConfig | None = None,
    *,
    on_day: Callable[[DayReport], None] | None = None,
) -> list[DayReport]:
    """Compute the day partitions from `start` to `end` under `out`; skip unchanged days.

    `events` are Parquet paths (an events root with ``date=`` folders, files or globs);
    `start` and `end` (included) are dates or ``YYYY-MM-DD`` text; `config` defaults to
    ``BackfillConfig()``.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime
    >>> events = pl.DataFrame({"user_id": ["a", "a", "a"],
    ...     "event_time": [datetime(2024, 1, 1, 23, 59, s) for s in (0, 1, 2)],
    ...     "event_type": ["search", "results", "click"]})
    >>> with tempfile.TemporaryDirectory() as root:
    ...     events.write_parquet(f"{root}/events.parquet")
    ...     [r.record.searches for r in backfill(root, f"{root}/out", "2024-01-01", "2024-01-02")]
    [1, 0]
    """
    out, config = output_folder(out), config or BackfillConfig()
    if not isinstance(config, BackfillConfig):
        msg = f"config: expected a BackfillConfig; got {type(config).__name__}"
        raise ConfigError(msg)
    days = days_between(to_date(start, "start"), to_date(end, "end"))
    located = locate_event_files(events, outside=out)
    partitions = {path: partition_date(path, root) for path, root in located.items()}
    check_output_folder(out)
    with writing(out, "backfill"):
        refuse_run_layout(out)
        remove_stale_temporaries(out)
        manifest = read_manifest(out)
        commits = DayCommits(out, manifest)

        def one_day(day: date) -> DayReport:
            old = manifest.get(day.isoformat())
            report, tables = _backfill_day(day, partitions, config, old)
            if report.computed:
                commits.add(day, tables, report.record)
            if on_day:
                on_day(report)
            return report

        try:
            with ThreadPoolExecutor(max_workers=config.jobs) as pool:
                reports = list(pool.map(one_day, days))
            inputs = [events] if isinstance(events, str | Path) else events
            _roll_up_queries(commits.snapshot())
            summary = _summary_frame(manifest, config, inputs)
            write_partition(summary, commits.snapshot() / RUN_SUMMARY_TABLE)
            commits.commit()
        except BaseException:
            commits.discard()
            raise
    return reports


def _backfill_day(
    day: date, partitions: dict[Path, date | None], config: BackfillConfig, old: DayRecord | None
) -> tuple[DayReport, dict[str, pl.DataFrame]]:
    """The day's report and tables (none when its inputs and settings did not change)."""
    window_files = files_for_day(day, partitions, config)
    digest = fingerprint(window_files, config.settings())
    if not config.force and old and old.fingerprint == digest:
        return DayReport(day, computed=False, record=old), {}
    started = time.perf_counter()
    window = {path: partitions[path] for path in window_files}
    tables, record = compute_day(day, window, config)
    record = dataclasses.replace(
        record,
        fingerprint=digest,
        files=len(window_files),
        seconds=round(time.perf_counter() - started, 3),
        computed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        settings=config.settings(),
    )
    return DayReport(day, computed=True, record=record), tables


def compute_day(
    day: date, files: dict[Path, date | None], config: BackfillConfig
) -> tuple[dict[str, pl.DataFrame], DayRecord]:
    """Tables of one day from the events of its window (files and their partition dates)."""
    if not files:
        empty = _day_tables(compute_tables(pl.LazyFrame(schema=EVENTS_SCHEMA), config.run), day)
        return empty, _day_record(empty, 0, 0)
    scanned = scan_events(list(files), column_map=dict(config.run.column_map))
    partitions = partition_table(files).lazy()
    files_table = scanned.file_table()
    assert files_table is not None  # files were given
    files_table = files_table.join(partitions, on=SOURCE_FILE, how="left")
    with decoding(scanned.paths):
        window = window_rows(scanned.frame, files_table, day, config).collect().lazy()
    _refuse_timeless(window)
    window = window.drop(SOURCE_FILE, PARTITION)
    usable = window.filter(pl.col(PLACED)).drop(HOME_DAY, PLACED)
    tables = compute_tables(
        usable, config.run, normalized=True, dedupe=scanned.has_event_id, file_table=files_table
    )
    misplaced = window.filter(~pl.col(PLACED) & (pl.col(HOME_DAY) == day)).with_columns(
        pl.lit(OUTSIDE_PARTITION).alias(REASON)
    )
    # Rows without a home day of their own came into the window as the day's home rows.
    at_home = (home_day(config.run.timezone) == day).fill_null(value=True)
    quarantine = tables[QUARANTINE_TABLE].lazy().join(partitions, on=SOURCE_FILE, how="left")
    home_quarantine = quarantine.filter(at_home).drop(PARTITION).collect()
    tables[QUARANTINE_TABLE] = pl.concat(
        [home_quarantine, quarantine_rows(misplaced, files_table).collect()]
    ).sort(SOURCE_FILE, SOURCE_ROW)
    home_rows = window.filter(pl.col(HOME_DAY) == day).select(pl.len()).collect().item()
    day_tables = _day_tables(tables, day)
    split = split_sessions(day_tables[SESSIONS_TABLE], day, config)
    return day_tables, _day_record(day_tables, home_rows, split)


def _refuse_timeless(window: pl.LazyFrame) -> None:
    """InputError for a file outside ``date=`` folders whose rows all lack an event time."""
    orphans = window.filter(pl.col(HOME_DAY).is_null()).select(SOURCE_FILE).head(1).collect()
    if orphans.height:
        path = orphans.item()
        msg = (
            f"{path}: no row has an event_time, and the file is in no date= folder, so backfill "
            "cannot give its rows a day (put it in a date=YYYY-MM-DD folder, or use ctr-batch run)"
        )
        raise InputError(msg)


def _day_tables(tables: dict[str, pl.DataFrame], day: date) -> dict[str, pl.DataFrame]:
    searches = tables[SEARCHES_TABLE].filter(pl.col(DATE) == day)
    sessions = tables[SESSIONS_TABLE].filter(pl.col(DATE) == day)
    ctr = compute_ctr(searches.lazy(), sessions.lazy())
    by_query = ctr[CTR_BY_QUERY_TABLE]
    return {
        SEARCHES_TABLE: searches,
        SESSIONS_TABLE: sessions,
        CTR_DAILY_TABLE: ctr[CTR_DAILY_TABLE],
        CTR_BY_QUERY_DAILY_TABLE: by_query.select(pl.lit(day).alias(DATE), pl.all()),
        QUARANTINE_TABLE: tables[QUARANTINE_TABLE],
    }


def _day_record(day_tables: dict[str, pl.DataFrame], home_rows: int, split: int) -> DayRecord:
    """Figures of one day's tables for the manifest."""
    searches, sessions = day_tables[SEARCHES_TABLE], day_tables[SESSIONS_TABLE]
    quarantine = day_tables[QUARANTINE_TABLE]
    return DayRecord(
        rows_home=home_rows,
        rows_quarantined=quarantine.height,
        quarantined=dict(quarantine[REASON].value_counts().rows()),
        sessions=sessions.height,
        session_events=int(sessions[N_EVENTS].sum()),
        searches=searches.height,
        clicked_searches=int(searches[CLICKED].sum()),
        split_sessions=split,
    )


def _roll_up_queries(out: Path) -> None:
    """Rewrite ``ctr_by_query`` (one row per query) from every searches partition in `out`."""
    searches = scan_table(out / SEARCHES_TABLE)
    write_partition(query_roll_up(searches), out / CTR_BY_QUERY_TABLE)


def _summary_frame(
    manifest: dict[str, DayRecord], config: BackfillConfig, events: Sequence[str | Path]
) -> pl.DataFrame:
    """One row describing every day in `out` (``BACKFILL_SUMMARY_SCHEMA``), from the manifest."""
    records = manifest.values()
    rows = sum(r.rows_home for r in records)
    quarantined = sum(r.rows_quarantined for r in records)
    searches, clicked = sum(r.searches for r in records), sum(r.clicked_searches for r in records)
    row = [
        *summary_header("backfill", config.run, events).values(),
        format_duration(config.lookback),
        len(manifest),
        date.fromisoformat(min(manifest)) if manifest else None,
        date.fromisoformat(max(manifest)) if manifest else None,
        rows,
        rows - quarantined,
        quarantined,
        sum(r.sessions for r in records),
        searches,
        clicked,
        clicked / searches if searches else None,
        sum(r.split_sessions for r in records),
    ]
    return pl.DataFrame([row], schema=BACKFILL_SUMMARY_SCHEMA, orient="row")
