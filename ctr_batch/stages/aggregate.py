"""Aggregate segmented events into the searches, sessions and CTR tables."""

from __future__ import annotations

import polars as pl

from ctr_batch.core.rules import local_date, session_id
from ctr_batch.core.schema import (
    CLICK,
    CLICKED,
    CLICKED_SEARCHES,
    CLICKS,
    CLICKS_PER_SEARCH,
    CLICKS_SO_FAR,
    CTR,
    CTR_BY_QUERY_SCHEMA,
    CTR_DAILY_SCHEMA,
    DATE,
    DURATION,
    DURATION_S,
    EVENT_TIME,
    EVENT_TYPE,
    FIRST_CLICK_POSITION,
    INPUT_ROW,
    ITEM,
    MEAN_FIRST_CLICK_POSITION,
    N_CLICKS,
    N_EVENTS,
    N_RESULTS,
    N_SEARCHES,
    NEXT_CLICK_ROW,
    NEXT_RESULTS_ROW,
    OPENS_SESSION,
    QUERY,
    ROW,
    SEARCH,
    SEARCH_INDEX,
    SEARCH_TIME,
    SEARCHES,
    SEARCHES_SCHEMA,
    SEGMENT_LAST_ROW,
    SESSION_END,
    SESSION_FIRST_ROW,
    SESSION_ID,
    SESSION_LAST_ROW,
    SESSION_SEARCHES,
    SESSION_START,
    SESSIONS,
    SESSIONS_SCHEMA,
    SESSIONS_WITH_SEARCH,
    TIME_TO_FIRST_CLICK,
    TIME_TO_FIRST_CLICK_S,
    USER_ID,
)

_FIRST_CLICK_TIME = "_first_click_time"
_CLICKED_ITEM = "_clicked_item"
_RESULT_ITEMS = "_result_items"
_RESULTS_AT = "_results_at"


def first_click_positions(candidates: pl.LazyFrame) -> pl.LazyFrame:
    """1-based rank of ``_clicked_item`` in ``_result_items`` per search ``_row`` (if found).

    Explodes the result lists, which is far faster than evaluating an expression per list;
    explode keeps each list in order, so the first match of a row is its lowest rank.

    Examples
    --------
    >>> df = pl.LazyFrame({"_row": [1, 2, 3], "_result_items": [["a", "b", "b"], ["a"], None],
    ...                    "_clicked_item": ["b", "z", "a"]})
    >>> first_click_positions(df).collect().rows()
    [(1, 2)]
    """
    ranked = candidates.select(
        ROW,
        _RESULT_ITEMS,
        _CLICKED_ITEM,
        pl.int_ranges(1, pl.col(_RESULT_ITEMS).list.len() + 1, dtype=pl.UInt32).alias(
            FIRST_CLICK_POSITION
        ),
    ).explode(_RESULT_ITEMS, FIRST_CLICK_POSITION)
    matches = ranked.filter(pl.col(_RESULT_ITEMS) == pl.col(_CLICKED_ITEM))
    return matches.select(ROW, FIRST_CLICK_POSITION).unique(ROW, keep="first", maintain_order=True)


def search_rows(
    segmented: pl.LazyFrame,
    by_input: pl.LazyFrame,
    *,
    lists: pl.Series,
    list_row: str = INPUT_ROW,
) -> pl.LazyFrame:
    """One row per search segment with what ``searches`` derives its figures from.

    Each search row looks up its segment's first results event, first click and click count
    through the row pointers of ``segment`` (gathers, no joins, no per-group Python).
    `by_input` holds ``query`` and ``item`` in input order (``_input_row``): they skip the
    sort and are gathered only where needed. `lists` holds the ``items`` lists, row ``i``
    for the event whose `list_row` column is ``i`` (``_input_row``, or ``_seq`` for lists of
    the whole input); clicked searches get the row of theirs, ``_results_at``.
    """
    events = pl.concat([segmented, by_input.select(QUERY, ITEM)], how="horizontal")
    at_search = pl.col(EVENT_TYPE) == SEARCH
    last = pl.col(SEGMENT_LAST_ROW)

    def first_in_segment(pointer: str) -> pl.Expr:
        return pl.when(pl.col(pointer) <= last).then(pl.col(pointer)).filter(at_search)

    results_row, click_row = first_in_segment(NEXT_RESULTS_ROW), first_in_segment(NEXT_CLICK_ROW)
    results_at = pl.col(list_row).gather(results_row)
    clicked_results_at = pl.when(click_row.is_not_null()).then(results_at)
    clicks, items = pl.col(CLICKS_SO_FAR), pl.lit(lists)
    return events.select(
        pl.col(ROW, SESSION_FIRST_ROW, USER_ID, SEARCH_INDEX).filter(at_search),
        pl.col(EVENT_TIME).filter(at_search).alias(SEARCH_TIME),
        pl.col(QUERY).gather(pl.col(INPUT_ROW).filter(at_search)),
        items.list.len().cast(pl.UInt32).gather(results_at).alias(N_RESULTS),
        (clicks.gather(last.filter(at_search)) - clicks.filter(at_search)).alias(N_CLICKS),
        pl.col(EVENT_TIME).gather(click_row).alias(_FIRST_CLICK_TIME),
        pl.col(ITEM).gather(pl.col(INPUT_ROW).gather(click_row)).alias(_CLICKED_ITEM),
        clicked_results_at.alias(_RESULTS_AT),
    )


def searches(
    rows: pl.LazyFrame,
    sessions: pl.LazyFrame,
    *,
    lists: pl.Series,
    timezone: str = "UTC",
) -> pl.LazyFrame:
    """The searches table from ``search_rows``: CTR, first-click position and session id.

    `rows` is read twice (positions, then the join), so pass it collected. `sessions` (from
    ``sessions``) gives the session id; `lists` are those given to ``search_rows``. Clicked
    searches gather their lists in list order: reading the lists front to back is twice as
    fast as jumping around them.
    """
    clicked = rows.filter(pl.col(_RESULTS_AT).is_not_null()).sort(_RESULTS_AT)
    candidates = clicked.select(
        ROW, _CLICKED_ITEM, pl.lit(lists).gather(pl.col(_RESULTS_AT)).alias(_RESULT_ITEMS)
    )
    positions = first_click_positions(candidates)
    session_ids = sessions.select(SESSION_FIRST_ROW, SESSION_ID)
    joined = (
        rows.drop(_RESULTS_AT)
        .join(positions, on=ROW, how="left", maintain_order="left")
        .join(session_ids, on=SESSION_FIRST_ROW, how="left", maintain_order="left")
    )
    clicked_any = pl.col(N_CLICKS) > 0
    return (
        joined.with_columns(
            clicked_any.alias(CLICKED),
            clicked_any.cast(pl.Float64).alias(CTR),
            (pl.col(_FIRST_CLICK_TIME) - pl.col(SEARCH_TIME)).alias(TIME_TO_FIRST_CLICK),
            local_date(SEARCH_TIME, timezone),
        )
        .with_columns(_seconds(TIME_TO_FIRST_CLICK).alias(TIME_TO_FIRST_CLICK_S))
        .select(SEARCHES_SCHEMA.names())
        .cast(SEARCHES_SCHEMA)
    )


def sessions(segmented: pl.LazyFrame, *, timezone: str = "UTC") -> pl.LazyFrame:
    """One row per session: span, event/search/click counts and clicks per search.

    Read at each session's first row, with lookups at its last row: ``search_index`` there
    is the session's search count. The first column, ``_session_first_row``, is what
    ``searches`` joins on; drop it before writing.
    """
    opens = pl.col(OPENS_SESSION)
    first, last = pl.col(ROW).filter(opens), pl.col(SESSION_LAST_ROW).filter(opens)
    clicks_before = pl.col(CLICKS_SO_FAR) - (pl.col(EVENT_TYPE) == CLICK).cast(pl.UInt32)
    per_session = segmented.select(
        first.alias(SESSION_FIRST_ROW),
        pl.col(USER_ID).filter(opens),
        pl.col(EVENT_TIME).filter(opens).alias(SESSION_START),
        pl.col(EVENT_TIME).gather(last).alias(SESSION_END),
        (last - first + 1).alias(N_EVENTS),
        pl.col(SEARCH_INDEX).gather(last).alias(N_SEARCHES),
        (pl.col(CLICKS_SO_FAR).gather(last) - clicks_before.filter(opens)).alias(N_CLICKS),
    )
    return (
        per_session.with_columns(
            session_id(),
            (pl.col(SESSION_END) - pl.col(SESSION_START)).alias(DURATION),
            _ratio(pl.col(N_CLICKS), pl.col(N_SEARCHES)).alias(CLICKS_PER_SEARCH),
            local_date(SESSION_START, timezone),
        )
        .with_columns(_seconds(DURATION).alias(DURATION_S))
        .select(SESSION_FIRST_ROW, *SESSIONS_SCHEMA.names())
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


def _seconds(duration: str) -> pl.Expr:
    """The Duration column `duration` in seconds: microseconds / 1e6, correctly rounded.

    Polars divides by a constant as a multiplication by its reciprocal, one unit in the last
    place off for about a quarter of values (100 ms would read 0.09999999999999999 s); dividing
    by a column that holds the constant gives the exact quotient, as DuckDB's ``x / 1e6``.
    """
    micros = pl.col(duration).dt.total_microseconds().cast(pl.Float64)
    return micros / (micros * 0 + 1_000_000)
