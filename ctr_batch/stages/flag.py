"""Set bad rows aside with a reason; keep the rest."""

from __future__ import annotations

import polars as pl

from ctr_batch.core.schema import (
    DUPLICATE_EVENT_ID,
    EVENT_ID,
    EVENT_TIME,
    EVENT_TYPE,
    EVENT_TYPES,
    FILE_INDEX,
    NULL_EVENT_TIME,
    NULL_USER_ID,
    QUARANTINE_SCHEMA,
    REASON,
    SEQ,
    SOURCE_FILE,
    SOURCE_ROW,
    UNKNOWN_EVENT_TYPE,
    USER_ID,
    EventType,
)

_KNOWN_DUPLICATE = "_known_duplicate"


def row_problem() -> pl.Expr:
    """Reason a row cannot be processed (first that applies), or null when it can.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> df = pl.DataFrame({"user_id": ["a", None, "b"], "event_time": [t, t, None],
    ...                    "event_type": ["search", "click", "buy"]})
    >>> df.select(row_problem())["reason"].to_list()
    [None, 'null_user_id', 'null_event_time']
    """
    return (
        pl.when(pl.col(USER_ID).is_null())
        .then(pl.lit(NULL_USER_ID))
        .when(pl.col(EVENT_TIME).is_null())
        .then(pl.lit(NULL_EVENT_TIME))
        .when(pl.col(EVENT_TYPE).is_in(EVENT_TYPES).not_().fill_null(True))
        .then(pl.lit(UNKNOWN_EVENT_TYPE))
        .alias(REASON)
    )


def repeated_event_id(order: str = SEQ) -> pl.Expr:
    """True for a processable row whose ``event_id`` an earlier processable row already had.

    Needs ``reason`` from ``row_problem``: only rows without one count as seen, so a broken
    copy never displaces a good row. Earlier means a lower `order` (distinct per row): input
    order by default, arrival order for a stream.
    """
    ok = pl.col(REASON).is_null()
    first_ok = pl.when(ok).then(pl.col(order)).min().over(EVENT_ID)
    return ok & pl.col(EVENT_ID).is_not_null() & (pl.col(order) != first_ok)


def ids_distinct() -> pl.Expr:
    """True when no two rows share an ``event_id``: their 64-bit hashes are all distinct.

    A cheap test (one pass over fixed-width hashes) that lets a run skip duplicate detection
    on logs without duplicates; equal hashes only mean ids *may* repeat.
    """
    hashes = id_hashes()
    return hashes.n_unique() == hashes.len()


def id_hashes() -> pl.Expr:
    """64-bit hashes of the non-null ``event_id`` values (see ``ids_distinct``)."""
    return pl.col(EVENT_ID).drop_nulls().hash(seed=0)


def mark_repeated(checked: pl.LazyFrame, order: str = SEQ) -> pl.LazyFrame:
    """Give ``duplicate_event_id`` to rows whose id an earlier (by `order`) processable row had."""
    reason = pl.when(repeated_event_id(order)).then(pl.lit(DUPLICATE_EVENT_ID))
    return checked.with_columns(reason.otherwise(pl.col(REASON)).alias(REASON))


def mark_known_duplicates(checked: pl.LazyFrame, duplicates: pl.LazyFrame) -> pl.LazyFrame:
    """Give ``duplicate_event_id`` to the rows listed (by ``_seq``) in `duplicates`."""
    known = duplicates.select(SEQ, pl.lit(True).alias(_KNOWN_DUPLICATE))
    marked = checked.join(known, on=SEQ, how="left", maintain_order="left")
    repeated = pl.col(REASON).is_null() & pl.col(_KNOWN_DUPLICATE).fill_null(False)
    reason = pl.when(repeated).then(pl.lit(DUPLICATE_EVENT_ID)).otherwise(pl.col(REASON))
    return marked.with_columns(reason.alias(REASON)).drop(_KNOWN_DUPLICATE)


def flag_rows(events: pl.LazyFrame, *, dedupe: bool = True, order: str = SEQ) -> pl.LazyFrame:
    """Add ``reason``: why a row cannot be processed, or null when it can.

    With `dedupe`, a repeated ``event_id`` is a reason too: the copy first by `order` is kept
    (see ``mark_repeated``); without a ``_seq`` column, row order is input order.

    Examples
    --------
    >>> from datetime import datetime
    >>> events = pl.LazyFrame({"user_id": ["a", "a", None], "event_id": ["1", "1", "2"],
    ...     "event_time": [datetime(2024, 1, 1)] * 3, "event_type": ["search", "click", "click"]})
    >>> flag_rows(events).collect()["reason"].to_list()
    [None, 'duplicate_event_id', 'null_user_id']
    """
    schema = events.collect_schema()
    if order == SEQ and SEQ not in schema:
        events = events.with_row_index(SEQ).with_columns(pl.col(SEQ).cast(pl.Int64))
    checked = events.with_columns(row_problem())
    return mark_repeated(checked, order) if dedupe and EVENT_ID in schema else checked


def split_valid(
    flagged: pl.LazyFrame, *, any_rejected: bool = True
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Split flagged events into processable rows (``event_type`` as an Enum) and rejected rows.

    With `any_rejected` false (every ``reason`` is null), no filter runs: the processable rows
    are the flagged rows themselves, not a copy.

    Examples
    --------
    >>> flagged = pl.LazyFrame({"event_type": ["search", "buy", "click"],
    ...                         "reason": [None, "unknown_event_type", None]})
    >>> valid, rejected = split_valid(flagged)
    >>> valid.collect().height, rejected.collect()["event_type"].to_list()
    (2, ['buy'])
    """
    ok = pl.col(REASON).is_null()
    valid = (flagged.filter(ok) if any_rejected else flagged).drop(REASON)
    rejected = flagged.filter(ok.not_() if any_rejected else pl.lit(value=False))
    return valid.with_columns(pl.col(EVENT_TYPE).cast(EventType)), rejected


def slim(valid: pl.LazyFrame) -> pl.LazyFrame:
    """Only what the stages need: ``event_id`` and the file index are dropped."""
    return valid.select(pl.exclude(EVENT_ID, FILE_INDEX))


def quarantine_rows(rejected: pl.LazyFrame, file_table: pl.LazyFrame | None) -> pl.LazyFrame:
    """Rejected rows (with ``reason``) as quarantine rows: source file and row number added."""
    if file_table is None:
        located = rejected.with_columns(
            pl.lit(None, dtype=pl.String).alias(SOURCE_FILE), pl.col(SEQ).alias(SOURCE_ROW)
        )
    else:
        located = rejected.join(file_table, on=FILE_INDEX, how="left").with_columns(
            (pl.col(SEQ) - pl.col(SOURCE_ROW)).alias(SOURCE_ROW)
        )
    return located.sort(SEQ).select(QUARANTINE_SCHEMA.names()).cast(QUARANTINE_SCHEMA)
