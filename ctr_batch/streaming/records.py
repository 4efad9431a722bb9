"""The tutorial dataflow's per-search and per-session records, from events placed in its lists."""

from __future__ import annotations

import polars as pl

from ctr_batch.core.rules import session_id
from ctr_batch.core.schema import (
    CLICK,
    CTR,
    EVENT_TIME,
    EVENT_TYPE,
    N_CLICKS,
    N_EVENTS,
    N_SEARCHES,
    QUERY,
    SEARCH,
    SEARCH_INDEX,
    SEARCH_TIME,
    SESSION_END,
    SESSION_ID,
    SESSION_START,
    TIME_DTYPE,
    USER_ID,
)

MERGED = "merged"  # the session absorbed another window: its list is a concatenation
STREAM_SESSION = "_stream_session"  # working: session number
POSITION = "_position"  # working: place of the event in its session's list
STREAM_SEARCHES_SCHEMA = pl.Schema(
    {
        USER_ID: pl.String(),
        SESSION_ID: pl.String(),
        SESSION_START: TIME_DTYPE,
        SEARCH_INDEX: pl.UInt32(),
        SEARCH_TIME: TIME_DTYPE,
        QUERY: pl.String(),
        N_CLICKS: pl.UInt32(),
        CTR: pl.Float64(),
        MERGED: pl.Boolean(),
    }
)
STREAM_SESSIONS_SCHEMA = pl.Schema(
    {
        USER_ID: pl.String(),
        SESSION_ID: pl.String(),
        SESSION_START: TIME_DTYPE,
        SESSION_END: TIME_DTYPE,
        N_EVENTS: pl.UInt32(),
        N_SEARCHES: pl.UInt32(),
        N_CLICKS: pl.UInt32(),
        MERGED: pl.Boolean(),
    }
)


def stream_records(placed: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-search and per-session records of events with ``_stream_session`` and ``_position``.

    A session's list is cut at every search, in list order; each search gets the clicks of its
    segment and ``ctr`` 1.0 when it has one. ``session_start`` / ``session_end`` are the
    earliest / latest event time of the session (the window's open / close time).
    """
    is_search, is_click = pl.col(EVENT_TYPE) == SEARCH, pl.col(EVENT_TYPE) == CLICK
    ordered = placed.sort(STREAM_SESSION, POSITION)
    search_index = is_search.cum_sum().over(STREAM_SESSION).cast(pl.UInt32).alias(SEARCH_INDEX)
    per_session = ordered.group_by(STREAM_SESSION).agg(
        pl.col(USER_ID).first(),
        pl.col(EVENT_TIME).min().alias(SESSION_START),
        pl.col(EVENT_TIME).max().alias(SESSION_END),
        pl.len().alias(N_EVENTS),
        is_search.sum().alias(N_SEARCHES),
        is_click.sum().alias(N_CLICKS),
        pl.col(MERGED).first(),
    )
    segments = ordered.with_columns(search_index).filter(pl.col(SEARCH_INDEX) > 0)
    per_search = segments.group_by(STREAM_SESSION, SEARCH_INDEX).agg(
        pl.col(EVENT_TIME).first().alias(SEARCH_TIME),  # a segment opens with its search
        pl.col(QUERY).first(),
        is_click.sum().alias(N_CLICKS),
    )
    starts = per_session.select(STREAM_SESSION, USER_ID, SESSION_START, MERGED)
    searches = per_search.join(starts, on=STREAM_SESSION).with_columns(
        (pl.col(N_CLICKS) > 0).cast(pl.Float64).alias(CTR), session_id()
    )
    searches_out, sessions_out = pl.collect_all(
        [
            searches.sort(USER_ID, SESSION_START, SEARCH_INDEX)
            .select(STREAM_SEARCHES_SCHEMA.names())
            .cast(STREAM_SEARCHES_SCHEMA),
            per_session.with_columns(session_id())
            .sort(USER_ID, SESSION_START)
            .select(STREAM_SESSIONS_SCHEMA.names())
            .cast(STREAM_SESSIONS_SCHEMA),
        ]
    )
    return searches_out, sessions_out
