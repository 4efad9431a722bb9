"""Group each user's events into sessions separated by more than an inactivity gap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import polars as pl

from ctr_batch.core.config import RunConfig
from ctr_batch.core.rules import opens_session
from ctr_batch.core.schema import (
    EVENT_TIME,
    INPUT_ROW,
    OPENS_SESSION,
    ROW,
    SEQ,
    SESSION_FIRST_ROW,
    SESSION_LAST_ROW,
    USER_ID,
    USER_KEY,
)

if TYPE_CHECKING:
    from datetime import timedelta

    from ctr_batch.core.config import Duration, GapRule


UserKey = Literal["packed", "hash", "string"]
USER_KEYS: tuple[UserKey, ...] = ("packed", "hash", "string")  # fastest first


def row_bits(rows: int) -> int:
    """Bits that hold a row number below `rows` (at least 1).

    Examples
    --------
    >>> [row_bits(n) for n in (0, 2, 3, 1_000_000)]
    [1, 1, 2, 20]
    """
    return max(1, (rows - 1).bit_length())


def user_key(kind: UserKey = "hash", rows: int = 0) -> pl.Expr:
    """Sort key that keeps each user's events together.

    ``"hash"`` is a 64-bit hash of ``user_id``; ``"packed"`` is that hash with its low
    ``row_bits(rows)`` bits cleared, so that a row number fits beside it (see
    ``group_users``); ``"string"`` is ``user_id`` itself. Two users sharing a hashed key
    could be interleaved: ``users_interleaved`` detects it, and the caller then takes the next
    kind in ``USER_KEYS``.
    """
    hashed = pl.col(USER_ID).hash(seed=0)
    if kind == "string":
        return pl.col(USER_ID).alias(USER_KEY)
    if kind == "hash":
        return hashed.alias(USER_KEY)
    high_bits = (2**64 - 1) ^ (2 ** row_bits(rows) - 1)
    return (hashed & pl.lit(high_bits, dtype=pl.UInt64)).alias(USER_KEY)


def group_users(events: pl.LazyFrame, *, kind: UserKey = "hash", rows: int = 0) -> pl.LazyFrame:
    """Add ``_user_key`` and order rows by it, each user's events in input order.

    ``_input_row`` keeps each row's position before the sort. The ``"packed"`` key (for at
    most `rows` rows) is the fastest: key and row number share one 64-bit word, and sorting
    those words by value (not by index) gives the order. The other kinds use a stable sort.
    """
    keyed = events.with_columns(user_key(kind, rows))
    if kind != "packed":
        return keyed.with_row_index(INPUT_ROW).sort(USER_KEY, maintain_order=True)
    row_mask = pl.lit(2 ** row_bits(rows) - 1, dtype=pl.UInt64)
    word = pl.col(USER_KEY) | pl.int_range(pl.len(), dtype=pl.UInt64)
    sorted_words = keyed.with_columns(word.sort().alias(USER_KEY))  # the key, then the row
    order = (pl.col(USER_KEY) & row_mask).cast(pl.get_index_type())
    return sorted_words.select(
        order.alias(INPUT_ROW),
        pl.exclude(USER_KEY).gather(order),
        pl.col(USER_KEY) & ~row_mask,  # already in order: no gather
    )


def users_interleaved() -> pl.Expr:
    """True when two users share a ``_user_key``, so their events may be interleaved."""
    users = pl.col(USER_ID).ne_missing(pl.col(USER_ID).shift()).sum()
    keys = pl.col(USER_KEY).ne_missing(pl.col(USER_KEY).shift()).sum()
    return users != keys


def out_of_order(user: str = USER_ID) -> pl.Expr:
    """True when some event follows a later one of the same user (by time, then input order).

    `user` as for ``opens_session``.

    Examples
    --------
    >>> from datetime import datetime
    >>> t = [datetime(2024, 1, 1, 0, 0, s) for s in (0, 5, 5)]
    >>> df = pl.DataFrame({"user_id": ["a", "a", "a"], "event_time": t, "_seq": [0, 2, 1]})
    >>> df.select(out_of_order()).item()
    True
    """
    same_user = pl.col(user) == pl.col(user).shift()
    time, previous = pl.col(EVENT_TIME), pl.col(EVENT_TIME).shift()
    earlier = (time < previous) | ((time == previous) & (pl.col(SEQ) < pl.col(SEQ).shift()))
    return (same_user & earlier).any()


def sessionize(
    events: pl.LazyFrame,
    *,
    gap: Duration,
    gap_rule: GapRule = "inclusive",
    presorted: bool = False,
) -> pl.LazyFrame:
    """Sort events by (user key, time, input order); number the rows and mark the sessions.

    Adds ``_row``, ``_opens_session`` and, on every row, the rows of its session's first and
    last events. The sort gives every order-dependent expression downstream a total order, so
    the result never depends on file layout, batch size or thread count. `presorted` skips the
    sort for events already in that order (see ``group_users`` and ``out_of_order``). Without
    a ``_user_key`` column, ``user_id`` itself is the key; without ``_seq``, row order is
    input order. `gap` is a timedelta or text such as ``"30m"``.

    Examples
    --------
    >>> from datetime import datetime
    >>> events = pl.LazyFrame({"user_id": ["a", "b", "a"],
    ...     "event_time": [datetime(2024, 1, 1, 0, m) for m in (0, 1, 50)]})
    >>> sessionize(events, gap="30m").collect()["_opens_session"].to_list()
    [True, True, True]
    """
    gap = RunConfig(gap=gap, gap_rule=gap_rule).gap  # the checks of a run's settings
    schema = events.collect_schema()
    if SEQ not in schema:
        events = events.with_row_index(SEQ).with_columns(pl.col(SEQ).cast(pl.Int64))
    if USER_KEY not in schema:
        events = events.with_columns(user_key("string"))
    ordered = events if presorted else events.sort(USER_KEY, EVENT_TIME, SEQ)
    marked = ordered.with_columns(
        pl.int_range(pl.len(), dtype=pl.get_index_type()).alias(ROW),
        opens_session(gap, gap_rule, user=USER_KEY),
    )
    return marked.with_columns(session_rows())


def session_rows() -> list[pl.Expr]:
    """``_session_first_row`` and ``_session_last_row`` from ``_row`` and ``_opens_session``."""
    row, opens = pl.col(ROW), pl.col(OPENS_SESSION)
    closes = opens.shift(-1, fill_value=True)
    return [
        pl.when(opens).then(row).forward_fill().alias(SESSION_FIRST_ROW),
        pl.when(closes).then(row).backward_fill().alias(SESSION_LAST_ROW),
    ]


def cap_sessions(sessions: pl.LazyFrame, max_session: timedelta) -> pl.LazyFrame:
    """One round of the maximum session duration, on sessionized events.

    In every session that lasts more than `max_session`, the first event more than
    `max_session` after the session's first event opens a new session. Repeated until a
    round changes nothing, no session lasts longer (a session of ``k`` times the maximum
    takes ``k`` rounds); ``_session_first_row``/``_session_last_row`` are then stale:
    ``session_rows`` renews them.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> t = [datetime(2024, 1, 1, h) for h in (0, 1, 2, 3, 4)]
    >>> events = pl.LazyFrame({"user_id": ["a"] * 5, "event_time": t})
    >>> once = cap_sessions(sessionize(events, gap="2h"), timedelta(hours=1, minutes=30))
    >>> once.collect()["_opens_session"].to_list()
    [True, False, True, False, False]
    """
    opens = pl.col(OPENS_SESSION)
    start = pl.when(opens).then(pl.col(EVENT_TIME)).forward_fill()
    over = (pl.col(EVENT_TIME) - start) > max_session  # never an opener: max_session > 0
    first_over = over & ~over.shift(1, fill_value=False)
    return sessions.with_columns(opens | first_over)
