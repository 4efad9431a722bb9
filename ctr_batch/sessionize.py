"""Group each user's events into sessions separated by more than an inactivity gap."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.schema import (
    EVENT_TIME,
    OPENS_SESSION,
    SEQ,
    SESSION,
    SESSION_START,
    USER_ID,
    USER_KEY,
)

if TYPE_CHECKING:
    from datetime import timedelta

    from ctr_batch.config import GapRule


def opens_session(gap: timedelta, gap_rule: GapRule = "inclusive") -> pl.Expr:
    """True where an event starts a session, on events sorted by (user, time, input order).

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> df = pl.DataFrame({"user_id": ["a", "a", "a", "b"],
    ...                    "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 5, 11, 12)]})
    >>> df.select(opens_session(timedelta(seconds=5)))["_opens_session"].to_list()
    [True, False, True, True]
    >>> df.select(opens_session(timedelta(seconds=5), "exclusive"))["_opens_session"].to_list()
    [True, True, True, True]
    """
    new_user = pl.col(USER_ID).ne_missing(pl.col(USER_ID).shift())
    idle = pl.col(EVENT_TIME).diff()
    too_idle = idle > gap if gap_rule == "inclusive" else idle >= gap
    return (new_user | too_idle).alias(OPENS_SESSION)


def user_key(*, hashed: bool = True) -> pl.Expr:
    """Sort key that keeps each user's events together: a 64-bit hash of ``user_id``.

    A fixed-width key sorts much faster than the string. Two users sharing a hash could be
    interleaved; ``users_interleaved`` detects it, and the caller then uses ``hashed=False``.
    """
    key = pl.col(USER_ID).hash(seed=0) if hashed else pl.col(USER_ID)
    return key.alias(USER_KEY)


def group_users(events: pl.LazyFrame, *, hashed: bool = True) -> pl.LazyFrame:
    """Add ``_user_key`` and stable-sort by it: each user's events together, in input order."""
    return events.with_columns(user_key(hashed=hashed)).sort(USER_KEY, maintain_order=True)


def users_interleaved() -> pl.Expr:
    """True when two users share a ``_user_key``, so their events may be interleaved."""
    users = pl.col(USER_ID).ne_missing(pl.col(USER_ID).shift()).sum()
    keys = pl.col(USER_KEY).ne_missing(pl.col(USER_KEY).shift()).sum()
    return users != keys


def out_of_order() -> pl.Expr:
    """True when some event follows a later one of the same user (by time, then input order).

    Examples
    --------
    >>> from datetime import datetime
    >>> t = [datetime(2024, 1, 1, 0, 0, s) for s in (0, 5, 5)]
    >>> df = pl.DataFrame({"user_id": ["a", "a", "a"], "event_time": t, "_seq": [0, 2, 1]})
    >>> df.select(out_of_order()).item()
    True
    """
    same_user = pl.col(USER_ID) == pl.col(USER_ID).shift()
    time, previous = pl.col(EVENT_TIME), pl.col(EVENT_TIME).shift()
    earlier = (time < previous) | ((time == previous) & (pl.col(SEQ) < pl.col(SEQ).shift()))
    return (same_user & earlier).any()


def sessionize(
    events: pl.LazyFrame,
    *,
    gap: timedelta,
    gap_rule: GapRule = "inclusive",
    presorted: bool = False,
) -> pl.LazyFrame:
    """Sort events by (user key, time, input order); add ``_session`` and ``session_start``.

    The sort gives every order-dependent expression downstream a total order, so the result
    never depends on file layout, batch size or thread count. `presorted` skips the sort for
    events already in that order (see ``group_users`` and ``out_of_order``). Without a
    ``_user_key`` column, ``user_id`` itself is the key.
    """
    if USER_KEY not in events.collect_schema():
        events = events.with_columns(user_key(hashed=False))
    ordered = events if presorted else events.sort(USER_KEY, EVENT_TIME, SEQ)
    ordered = ordered.with_columns(opens_session(gap, gap_rule))
    return ordered.with_columns(
        pl.col(OPENS_SESSION).cum_sum().cast(pl.UInt32).alias(SESSION),
        pl.when(pl.col(OPENS_SESSION))
        .then(pl.col(EVENT_TIME))
        .forward_fill()
        .alias(SESSION_START),
    )
