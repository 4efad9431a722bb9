"""Set bad rows aside with a reason; keep the rest."""

from __future__ import annotations

import polars as pl

from ctr_batch.schema import (
    DUPLICATE_EVENT_ID,
    EVENT_ID,
    EVENT_TIME,
    EVENT_TYPE,
    EVENT_TYPES,
    NULL_EVENT_TIME,
    NULL_USER_ID,
    REASON,
    SEQ,
    UNKNOWN_EVENT_TYPE,
    USER_ID,
    EventType,
)


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


def repeated_event_id() -> pl.Expr:
    """True for every row whose non-null ``event_id`` occurred earlier in input order."""
    first_seq = pl.col(SEQ).min().over(EVENT_ID)
    return pl.col(EVENT_ID).is_not_null() & (pl.col(SEQ) != first_seq)


def split_valid(events: pl.LazyFrame, *, dedupe: bool = True) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Split events into processable rows and rejected rows with a ``reason``.

    Duplicates are judged among rows that pass the other checks, so a broken copy never
    displaces a good row. Processable rows get ``event_type`` as an Enum.
    """
    checked = events.with_columns(row_problem())
    clean = checked.filter(pl.col(REASON).is_null())
    if dedupe:
        clean = clean.with_columns(
            pl.when(repeated_event_id()).then(pl.lit(DUPLICATE_EVENT_ID)).alias(REASON)
        )
    rejected = pl.concat(
        [checked.filter(pl.col(REASON).is_not_null()), clean.filter(pl.col(REASON).is_not_null())]
    )
    valid = clean.filter(pl.col(REASON).is_null()).drop(REASON)
    return valid.with_columns(pl.col(EVENT_TYPE).cast(EventType)), rejected
