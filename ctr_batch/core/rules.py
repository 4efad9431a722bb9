"""Contract rules that the batch pipeline and the stream prediction share (CONTRACT §3-4).

Each is an expression builder, so both sides apply the very same rule: where a session opens,
how a session is named, and which calendar day a time belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.schema import (
    DATE,
    EVENT_TIME,
    OPENS_SESSION,
    SESSION_ID,
    SESSION_START,
    USER_ID,
)

if TYPE_CHECKING:
    from datetime import timedelta

    from ctr_batch.core.config import GapRule


def opens_session(
    gap: timedelta, gap_rule: GapRule = "inclusive", *, user: str = USER_ID
) -> pl.Expr:
    """True where an event starts a session, on events sorted by (user, time, input order).

    `user` names the column that tells users apart (any key that changes exactly where the
    user does, such as ``_user_key`` once ``users_interleaved`` is false).

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> df = pl.DataFrame({"user_id": ["a", "a", "b"],
    ...                    "event_time": [datetime(2024, 1, 1, 0, 0, s) for s in (0, 5, 6)]})
    >>> df.select(opens_session(timedelta(seconds=5)))["_opens_session"].to_list()
    [True, False, True]
    >>> df.select(opens_session(timedelta(seconds=5), "exclusive"))["_opens_session"].to_list()
    [True, True, True]
    """
    new_user = pl.col(user).ne_missing(pl.col(user).shift())
    return (new_user | too_idle(pl.col(EVENT_TIME).diff(), gap, gap_rule)).alias(OPENS_SESSION)


def too_idle(idle: pl.Expr, gap: timedelta, gap_rule: GapRule = "inclusive") -> pl.Expr:
    """True where a pause `idle` is long enough to end a session under `gap_rule`.

    Examples
    --------
    >>> from datetime import timedelta
    >>> df = pl.DataFrame({"idle": [timedelta(seconds=s) for s in (4, 5, 6)]})
    >>> df.select(too_idle(pl.col("idle"), timedelta(seconds=5)))["idle"].to_list()
    [False, False, True]
    """
    return idle > gap if gap_rule == "inclusive" else idle >= gap


def session_id() -> pl.Expr:
    """Deterministic session id ``<user_id>/<session_start as UTC ISO-8601>``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> df = pl.DataFrame({"user_id": ["7"],
    ...                    "session_start": [datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)]})
    >>> df.select(session_id()).item()
    '7/2024-01-02T03:04:05.000000Z'
    """
    start = pl.col(SESSION_START).dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
    return pl.format("{}/{}", pl.col(USER_ID), start).alias(SESSION_ID)


def local_date(column: str, timezone: str) -> pl.Expr:
    """Calendar date of a UTC timestamp column in `timezone`, as ``date``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> df = pl.DataFrame({"t": [datetime(2024, 1, 2, 3, tzinfo=timezone.utc)]})
    >>> str(df.select(local_date("t", "America/New_York")).item())
    '2024-01-01'
    """
    return pl.col(column).dt.convert_time_zone(timezone).dt.date().alias(DATE)
