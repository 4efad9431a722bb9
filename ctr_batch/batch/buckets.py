"""Out-of-core execution: hash users into buckets on disk, then compute bucket by bucket.

Sessions never span users, so the events of each user bucket are an independent unit of
work (``BucketWork``: a bucket's events in, its tables out), and the buckets could as well run
on a cluster. Memory is bounded by the largest bucket,
not by the log:

1. *partition*: streaming passes write every row to ``users/pass-k/_bucket=b/`` by a hash
   of ``user_id``, and the ``(event_id, _seq)`` of processable rows to ``ids/pass-k/_bucket=b/``
   by a hash of ``event_id``. With at most ``RESCAN_LIMIT`` buckets and no repeated id, each
   bucket is instead a filtered scan of the input without its costliest column, the result
   lists (read once and shared by every bucket), nor ``event_id`` (read for quarantined rows
   only);
2. *duplicates*: per id bucket, the rows repeating an earlier ``event_id`` (so duplicates
   are found across all users, exactly as in one pass);
3. *compute*: per user bucket, the ordinary pipeline; its searches, sessions and quarantine
   are written as parts of the output tables at once;
4. *aggregate*: ``ctr_daily`` and ``ctr_by_query`` from the written parts, streaming.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import polars as pl

from ctr_batch.batch.memory_plan import (
    RESCAN_LIMIT,
    SPILL_PASS_ROWS,
    InputSize,
    bucket_count,
    lean_reads,
    room_for_buckets,
)
from ctr_batch.batch.pipeline import HeldColumns, compute_ctr, compute_tables
from ctr_batch.core.schema import (
    EVENT_COLUMNS,
    EVENT_ID,
    FILE_INDEX,
    ITEMS,
    QUARANTINE_TABLE,
    REASON,
    SEARCHES_TABLE,
    SEQ,
    SESSIONS_TABLE,
    USER_ID,
)
from ctr_batch.io.layout import BUCKET, bucket_files, bucket_part, spill_pass
from ctr_batch.io.read import scan_table
from ctr_batch.io.write import table_options
from ctr_batch.stages.flag import id_hashes, row_problem

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ctr_batch.core.config import RunConfig
    from ctr_batch.io.read import ScannedEvents

# Temporary files: zstd at its fastest level. At 50M events under 2 GiB the spill takes 0.9 GB
# (1.6 x the input's Parquet) against 1.9 GB with LZ4, for 2 % more time.
_SPILL_COMPRESSION: Literal["zstd"] = "zstd"
_SPILL_LEVEL = 1
SPILL_ROW_GROUP = 16_384  # rows; small row groups keep a pass's buffers (one per bucket) small
PART_TABLES = (SEARCHES_TABLE, SESSIONS_TABLE, QUARANTINE_TABLE)  # written bucket by bucket


@dataclass(frozen=True, slots=True)
class Buckets:
    """The events of each user bucket, and what every bucket shares.

    Attributes
    ----------
    frames
        Each bucket's events.
    duplicates
        ``_seq`` of the rows known to repeat an earlier ``event_id`` (None: no repeats).
    held
        The columns the frames leave out (filtered rescans); None when they have them all.
    """

    frames: list[pl.LazyFrame]
    duplicates: pl.LazyFrame | None = None
    held: HeldColumns | None = None


@dataclass(frozen=True, slots=True)
class BucketWork:
    """The unit of work of a bucketed run: one user bucket's events in, its tables out.

    Sessions never span users, so a bucket needs nothing from the others but what this holds:
    the settings, the input files (for quarantine rows), the rows known to repeat an earlier
    ``event_id`` and the columns held for every bucket. Calling it computes ``searches``,
    ``sessions`` and ``quarantine`` of one bucket.
    """

    config: RunConfig
    file_table: pl.LazyFrame | None = None
    duplicates: pl.LazyFrame | None = None
    held: HeldColumns | None = None

    @classmethod
    def of(
        cls, buckets: Buckets, config: RunConfig, file_table: pl.LazyFrame | None
    ) -> BucketWork:
        """The work that computes each of `buckets`."""
        return cls(config, file_table, buckets.duplicates, buckets.held)

    def __call__(self, events: pl.LazyFrame) -> dict[str, pl.DataFrame]:
        """The bucket's ``searches``, ``sessions`` and ``quarantine``."""
        return compute_tables(
            events,
            self.config,
            normalized=True,
            dedupe=False,
            file_table=self.file_table,
            duplicates=self.duplicates,
            held=self.held,
            ctr=False,
        )


def bucket_events(
    scanned: ScannedEvents,
    workdir: Path,
    *,
    buckets: int | None = None,
    memory_limit: int | None = None,
) -> Buckets:
    """Split the events into `buckets` user buckets, or as many as `memory_limit` needs.

    With few buckets and no repeated ids, each bucket is a filtered scan of the input without
    the result lists, which are read once and shared (rereading the rest is cheaper than
    writing every row to disk); otherwise the input is partitioned on disk. Ids are checked
    for repeats in one pass only with few buckets: with many, the log may not fit in memory,
    and the id buckets find the repeats instead.
    """
    if buckets is None and memory_limit is None:
        msg = "give buckets or memory_limit"
        raise ValueError(msg)
    room = room_for_buckets(memory_limit) if memory_limit is not None else None
    if buckets is None:
        rescans = InputSize.of(scanned).rescan_buckets(room or 0)
    else:
        rescans = buckets if buckets <= RESCAN_LIMIT else None
    distinct = not scanned.has_event_id or (rescans is not None and _ids_distinct(scanned.frame))
    if rescans is not None and distinct:
        lists = scanned.frame.select(ITEMS).collect(engine="in-memory").get_column(ITEMS)
        held = HeldColumns(lists, scanned.frame.select(SEQ, EVENT_ID))
        in_bucket = [_hash_bucket(USER_ID, rescans) == b for b in range(rescans)]
        lean = scanned.frame.drop(ITEMS, EVENT_ID)
        return Buckets([lean.filter(condition) for condition in in_bucket], held=held)
    spills = buckets or bucket_count(scanned, memory_limit)
    rows = InputSize.of(scanned).pass_rows(scanned.rows, room)
    partition(scanned, workdir, spills, ids=not distinct, rows=rows)
    columns = (*EVENT_COLUMNS, SEQ, FILE_INDEX)
    frames = [
        pl.scan_parquet(files, glob=False).select(columns)
        for files in bucket_files(workdir, "users")
    ]
    if not frames:  # no rows: one empty bucket, so that every table gets its (empty) part
        frames = [scanned.frame.select(columns).head(0)]
    return Buckets(frames, _duplicates(workdir))


def partition(
    scanned: ScannedEvents,
    workdir: Path,
    buckets: int,
    *,
    ids: bool,
    rows: int = SPILL_PASS_ROWS,
) -> None:
    """Write the events to user buckets and (with `ids`) processable event ids to id buckets.

    One streaming pass per slice of about `rows` rows, each into its own ``pass-k`` folder: the
    partitioned sink's memory grows with the rows of one pass (7.3 GiB for one 50M-row file in
    70 buckets, 2.1 GiB in 10M-row slices). The id buckets are written after the user buckets,
    not beside them: two sinks at once hold twice the buffers. Reads are lean (``lean_reads``).
    """
    with lean_reads():
        for index, events in enumerate(_passes(scanned, rows)):
            users = events.with_columns(_hash_bucket(USER_ID, buckets).alias(BUCKET))
            _sink(users, spill_pass(workdir, "users", index))
            if ids:
                _sink(_id_buckets(events, buckets), spill_pass(workdir, "ids", index))


def _id_buckets(events: pl.LazyFrame, buckets: int) -> pl.LazyFrame:
    """``event_id`` and ``_seq`` of processable rows, with the id bucket of each."""
    processable = events.filter(row_problem().is_null() & pl.col(EVENT_ID).is_not_null())
    return processable.select(EVENT_ID, SEQ, _hash_bucket(EVENT_ID, buckets).alias(BUCKET))


def _passes(scanned: ScannedEvents, rows: int) -> list[pl.LazyFrame]:
    """The input in slices of at most `rows` rows, whole files grouped where they fit."""
    passes: list[pl.LazyFrame] = []
    group: list[pl.LazyFrame] = []
    size = 0
    for frame, frame_rows in zip(scanned.frames, scanned.frame_rows, strict=True):
        for start in range(0, max(frame_rows, 1), rows):
            piece = frame if frame_rows <= rows else frame.slice(start, rows)
            length = min(rows, frame_rows - start)
            if group and size + length > rows:
                passes.append(pl.concat(group))
                group, size = [], 0
            group.append(piece)
            size += length
    return [*passes, pl.concat(group)] if group else passes


def _ids_distinct(events: pl.LazyFrame) -> bool:
    """True when no event_id repeats (then the id buckets are not needed).

    Only the hashes are collected (streaming): less memory than the ids, and faster.
    """
    hashes = events.select(id_hashes()).collect(engine="streaming").to_series()
    return hashes.n_unique() == hashes.len()


def _duplicates(workdir: Path) -> pl.LazyFrame | None:
    """``_seq`` of every processable row whose ``event_id`` an earlier processable row had."""
    if not (workdir / "ids").exists():
        return None
    parts = [pl.DataFrame(schema={SEQ: pl.Int64})]
    first = pl.col(SEQ).min().over(EVENT_ID)
    for files in bucket_files(workdir, "ids"):  # one id bucket in memory at a time
        ids = pl.scan_parquet(files, glob=False)
        parts.append(ids.filter(pl.col(SEQ) != first).select(SEQ).collect(engine="in-memory"))
    return pl.concat(parts).lazy()


def compute_buckets(
    buckets: Buckets,
    staging: Path,
    work: BucketWork,
    *,
    on_bucket: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Compute each user bucket with `work`, writing its parts; return quarantined rows by reason.

    A bucket's parts are written on a second thread while the next bucket is computed
    (encoding them is about 15 % of a bucket's time); at most one bucket's tables wait there.
    """
    counts = [pl.DataFrame(schema={REASON: pl.String, "len": pl.UInt32})]
    for name in PART_TABLES:
        (staging / name).mkdir(parents=True, exist_ok=True)
    frames = buckets.frames
    with ThreadPoolExecutor(max_workers=1) as writer:
        written: Future[None] | None = None
        for index, events in enumerate(frames):
            tables = work(events)
            counts.append(tables[QUARANTINE_TABLE].group_by(REASON).len())
            if written is not None:
                written.result()  # raises what the write raised
            written = writer.submit(_write_parts, tables, staging, index)
            del tables
            if on_bucket:
                on_bucket(index + 1, len(frames))
        if written is not None:
            written.result()
    return pl.concat(counts).group_by(REASON).agg(pl.col("len").sum())


def _write_parts(tables: dict[str, pl.DataFrame], staging: Path, index: int) -> None:
    for name in PART_TABLES:
        part = staging / name / bucket_part(index)
        tables[name].write_parquet(part, **table_options(name, tables[name]))


def aggregate_parts(staging: Path) -> dict[str, pl.DataFrame]:
    """``ctr_daily`` and ``ctr_by_query`` from the written searches and sessions parts."""
    searches, sessions = scan_table(staging / SEARCHES_TABLE), scan_table(staging / SESSIONS_TABLE)
    return compute_ctr(searches, sessions, engine="streaming")


def _hash_bucket(column: str, buckets: int) -> pl.Expr:
    return (pl.col(column).hash(seed=0) % buckets).cast(pl.UInt32)


def _sink(frame: pl.LazyFrame, folder: Path) -> None:
    target = pl.PartitionBy(folder, key=BUCKET, include_key=False)
    frame.sink_parquet(
        target,
        compression=_SPILL_COMPRESSION,
        compression_level=_SPILL_LEVEL,
        row_group_size=SPILL_ROW_GROUP,
        mkdir=True,
    )
