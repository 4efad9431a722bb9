"""Split sessions into search segments by cumulative search counts."""

from __future__ import annotations

import polars as pl

from ctr_batch.core.schema import (
    CLICK,
    CLICKS_SO_FAR,
    EVENT_TYPE,
    NEXT_CLICK_ROW,
    NEXT_RESULTS_ROW,
    OPENS_SESSION,
    RESULTS,
    ROW,
    SEARCH,
    SEARCH_INDEX,
    SEGMENT_LAST_ROW,
)


def count_within(flag: pl.Expr, starts: pl.Expr) -> pl.Expr:
    """Running count of `flag` that restarts wherever `starts` is true (rows already ordered).

    Examples
    --------
    >>> df = pl.DataFrame({"f": [1, 0, 1, 1, 1], "s": [True, False, False, True, False]})
    >>> df.select(count_within(pl.col("f") == 1, pl.col("s")))["f"].to_list()
    [1, 1, 2, 1, 2]
    """
    running = flag.cast(pl.UInt32).cum_sum()
    before_start = pl.when(starts).then(running - flag.cast(pl.UInt32)).forward_fill()
    return running - before_start


def search_index() -> pl.Expr:
    """Number of searches of the session at or before each event (0 before the first search)."""
    return count_within(pl.col(EVENT_TYPE) == SEARCH, pl.col(OPENS_SESSION)).alias(SEARCH_INDEX)


def next_row(flag: pl.Expr) -> pl.Expr:
    """The first row at or after each row where `flag` holds (null if none follows).

    Examples
    --------
    >>> df = pl.DataFrame({"_row": [0, 1, 2, 3], "f": [False, True, False, False]})
    >>> df.select(next_row(pl.col("f")))["_row"].to_list()
    [1, 1, None, None]
    """
    return pl.when(flag).then(pl.col(ROW)).backward_fill()


def segment(sessions: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``search_index`` and what per-search figures need, as row pointers and counts.

    Expects the output of ``sessionize``. A segment starts at a session's first event and at
    every search; segment 0 of a session (events before its first search) has no search.
    Each row gets the last row of its segment, the next ``click`` and ``results`` rows, and
    a running count of clicks: a segment's or a session's figures are then
    differences and lookups at its first and last rows.

    Examples
    --------
    >>> sessions = pl.LazyFrame({"_row": [0, 1, 2], "_opens_session": [True, False, False],
    ...                          "event_type": ["app_open", "search", "click"]})
    >>> segment(sessions).collect()["search_index"].to_list()
    [0, 1, 1]
    """
    is_search = pl.col(EVENT_TYPE) == SEARCH
    segment_ends = (pl.col(OPENS_SESSION) | is_search).shift(-1, fill_value=True)
    return sessions.with_columns(
        search_index(),
        next_row(segment_ends).alias(SEGMENT_LAST_ROW),
        next_row(pl.col(EVENT_TYPE) == CLICK).alias(NEXT_CLICK_ROW),
        next_row(pl.col(EVENT_TYPE) == RESULTS).alias(NEXT_RESULTS_ROW),
        (pl.col(EVENT_TYPE) == CLICK).cum_sum().alias(CLICKS_SO_FAR),
    )
