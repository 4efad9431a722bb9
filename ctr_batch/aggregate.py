"""Aggregate segmented events into the searches, sessions and CTR tables."""

from __future__ import annotations

import polars as pl

from ctr_batch.schema import (
    CLICKED,
    CLICKED_SEARCHES,
    CLICKS,
    CLICKS_PER_SEARCH,
    CTR,
    CTR_BY_QUERY_SCHEMA,
    CTR_DAILY_SCHEMA,
    DATE,
    DURATION,
    EVENT_TIME,
    FIRST_CLICK,
    FIRST_CLICK_POSITION,
    FIRST_RESULTS,
    IS_CLICK,
    IS_SEARCH,
    ITEM,
    ITEMS,
    MEAN_FIRST_CLICK_POSITION,
    N_CLICKS,
    N_EVENTS,
    N_ITEMS,
    N_RESULTS,
    N_SEARCHES,
    QUERY,
    SEARCH_INDEX,
    SEARCH_TIME,
    SEARCHES,
    SEARCHES_SCHEMA,
    SEGMENT,
    SEQ,
    SESSION,
    SESSION_END,
    SESSION_ID,
    SESSION_SEARCHES,
    SESSION_START,
    SESSIONS,
    SESSIONS_SCHEMA,
    SESSIONS_WITH_SEARCH,
    TIME_TO_FIRST_CLICK,
    USER_ID,
)

_FIRST_CLICK_TIME = "_first_click_time"
_CLICKED_ITEM = "_clicked_item"
_RESULT_ITEMS = "_result_items"
_RESULTS_SEQ = "_results_seq"


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
    """Calendar date of a UTC timestamp column in `timezone`."""
    return pl.col(column).dt.convert_time_zone(timezone).dt.date().alias(DATE)


def first_click_positions(candidates: pl.LazyFrame) -> pl.LazyFrame:
    """1-based rank of ``_clicked_item`` in ``_result_items``, per segment (absent: no row).

    Explodes the result lists, which is far faster than evaluating an expression per list.

    Examples
    --------
    >>> df = pl.LazyFrame({"_segment": [1, 2, 3], "_result_items": [["a", "b", "b"], ["a"], None],
    ...                    "_clicked_item": ["b", "z", "a"]})
    >>> first_click_positions(df).collect().rows()
    [(1, 2)]
    """
    ranked = candidates.select(
        SEGMENT,
        _RESULT_ITEMS,
        _CLICKED_ITEM,
        pl.int_ranges(1, pl.col(_RESULT_ITEMS).list.len() + 1, dtype=pl.UInt32).alias(
            FIRST_CLICK_POSITION
        ),
    ).explode(_RESULT_ITEMS, FIRST_CLICK_POSITION)
    matches = ranked.filter(pl.col(_RESULT_ITEMS) == pl.col(_CLICKED_ITEM))
    return matches.group_by(SEGMENT).agg(pl.col(FIRST_CLICK_POSITION).min()).sort(SEGMENT)


def searches(
    segmented: pl.LazyFrame, result_lists: pl.LazyFrame, *, timezone: str = "UTC"
) -> pl.LazyFrame:
    """One row per search segment: clicks, CTR, results size and first-click details.

    Each search row is joined, by segment number, with figures of its segment's first results
    event, first click and click count: row filters and joins, no per-group Python. The joins
    keep the order of the search rows, which is already segment order. `result_lists` maps
    ``_seq`` to ``items`` for results events: the lists are only read for clicked segments.
    """
    in_search = pl.col(SEARCH_INDEX) > 0
    search_rows = segmented.filter(pl.col(IS_SEARCH)).select(
        SEGMENT,
        USER_ID,
        SESSION_START,
        SEARCH_INDEX,
        pl.col(EVENT_TIME).alias(SEARCH_TIME),
        QUERY,
    )
    first_results = segmented.filter(pl.col(FIRST_RESULTS) & in_search).select(
        SEGMENT, pl.col(SEQ).alias(_RESULTS_SEQ), pl.col(N_ITEMS).alias(N_RESULTS)
    )
    clicks = segmented.filter(pl.col(IS_CLICK) & in_search)
    click_counts = clicks.group_by(SEGMENT).agg(pl.len().cast(pl.UInt32).alias(N_CLICKS))
    first_clicks = clicks.filter(pl.col(FIRST_CLICK)).select(
        SEGMENT, pl.col(EVENT_TIME).alias(_FIRST_CLICK_TIME), pl.col(ITEM).alias(_CLICKED_ITEM)
    )
    lists = result_lists.select(
        pl.col(SEQ).alias(_RESULTS_SEQ), pl.col(ITEMS).alias(_RESULT_ITEMS)
    )
    clicked_lists = first_results.join(first_clicks, on=SEGMENT).join(lists, on=_RESULTS_SEQ)
    joined = search_rows
    for figures in (
        first_results.drop(_RESULTS_SEQ),
        click_counts,
        first_clicks.drop(_CLICKED_ITEM),
        first_click_positions(clicked_lists),
    ):
        joined = joined.join(figures, on=SEGMENT, how="left", maintain_order="left")
    n_clicks = pl.col(N_CLICKS).fill_null(0)
    return (
        joined.with_columns(
            session_id(),
            n_clicks,
            (n_clicks > 0).alias(CLICKED),
            (n_clicks > 0).cast(pl.Float64).alias(CTR),
            (pl.col(_FIRST_CLICK_TIME) - pl.col(SEARCH_TIME)).alias(TIME_TO_FIRST_CLICK),
            local_date(SEARCH_TIME, timezone),
        )
        .select(SEARCHES_SCHEMA.names())
        .cast(SEARCHES_SCHEMA)
    )


def sessions(segmented: pl.LazyFrame, *, timezone: str = "UTC") -> pl.LazyFrame:
    """One row per session: span, event/search/click counts and clicks per search."""
    per_session = segmented.group_by(SESSION).agg(
        pl.col(USER_ID).first(),
        pl.col(SESSION_START).first(),
        pl.col(EVENT_TIME).max().alias(SESSION_END),
        pl.len().alias(N_EVENTS),
        pl.col(IS_SEARCH).sum().alias(N_SEARCHES),
        pl.col(IS_CLICK).sum().alias(N_CLICKS),
    )
    return (
        per_session.sort(SESSION)
        .with_columns(
            session_id(),
            (pl.col(SESSION_END) - pl.col(SESSION_START)).alias(DURATION),
            _ratio(pl.col(N_CLICKS), pl.col(N_SEARCHES)).alias(CLICKS_PER_SEARCH),
            local_date(SESSION_START, timezone),
        )
        .select(SESSIONS_SCHEMA.names())
        .cast(SESSIONS_SCHEMA)
    )


def ctr_daily(searches: pl.LazyFrame, sessions: pl.LazyFrame) -> pl.LazyFrame:
    """One row per day: search CTR by search day, clicks per search by session-start day.

    ``clicks`` and ``clicks_per_search`` use the sessions that start that day and have a
    search (the per-session definition summed over the day).
    """
    by_search_day = searches.group_by(DATE).agg(
        pl.len().alias(SEARCHES), pl.col(CLICKED).sum().alias(CLICKED_SEARCHES)
    )
    with_search = pl.col(N_SEARCHES) > 0
    by_session_day = sessions.group_by(DATE).agg(
        pl.len().alias(SESSIONS),
        with_search.sum().alias(SESSIONS_WITH_SEARCH),
        pl.col(N_CLICKS).filter(with_search).sum().alias(CLICKS),
        pl.col(N_SEARCHES).sum().alias(SESSION_SEARCHES),
    )
    days = by_search_day.join(by_session_day, on=DATE, how="full", coalesce=True)
    counts = [SEARCHES, CLICKED_SEARCHES, SESSIONS, SESSIONS_WITH_SEARCH, CLICKS, SESSION_SEARCHES]
    return (
        days.with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))
        .with_columns(
            _ratio(pl.col(CLICKED_SEARCHES), pl.col(SEARCHES)).alias(CTR),
            _ratio(pl.col(CLICKS), pl.col(SESSION_SEARCHES)).alias(CLICKS_PER_SEARCH),
        )
        .sort(DATE)
        .select(CTR_DAILY_SCHEMA.names())
        .cast(CTR_DAILY_SCHEMA)
    )


def ctr_by_query(searches: pl.LazyFrame) -> pl.LazyFrame:
    """One row per query: searches, clicked searches, CTR, clicks, mean first-click position."""
    per_query = searches.group_by(QUERY).agg(
        pl.len().alias(SEARCHES),
        pl.col(CLICKED).sum().alias(CLICKED_SEARCHES),
        pl.col(N_CLICKS).sum().alias(CLICKS),
        pl.col(FIRST_CLICK_POSITION).mean().alias(MEAN_FIRST_CLICK_POSITION),
    )
    return (
        per_query.with_columns(_ratio(pl.col(CLICKED_SEARCHES), pl.col(SEARCHES)).alias(CTR))
        .sort([SEARCHES, QUERY], descending=[True, False], nulls_last=True)
        .select(CTR_BY_QUERY_SCHEMA.names())
        .cast(CTR_BY_QUERY_SCHEMA)
    )


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """`numerator / denominator` as Float64, null where the denominator is 0."""
    return pl.when(denominator > 0).then(numerator.cast(pl.Float64) / denominator)
