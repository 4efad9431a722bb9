"""Split sessions into search segments by cumulative search counts."""

from __future__ import annotations

import polars as pl

from ctr_batch.schema import (
    CLICK,
    EVENT_TYPE,
    FIRST_CLICK,
    FIRST_RESULTS,
    IS_CLICK,
    IS_SEARCH,
    OPENS_SESSION,
    RESULTS,
    SEARCH,
    SEARCH_INDEX,
    SEGMENT,
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


def segment(sessions: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``search_index``, a segment number and flags for each segment's first results/click.

    Expects the output of ``sessionize`` (sorted, with ``_opens_session``). Segment 0 of a
    session (events before its first search) gets a number too; it has no search.
    """
    is_search = pl.col(EVENT_TYPE) == SEARCH
    segment_starts = pl.col(OPENS_SESSION) | is_search
    is_results = pl.col(EVENT_TYPE) == RESULTS
    is_click = pl.col(EVENT_TYPE) == CLICK
    return sessions.with_columns(
        search_index(),
        segment_starts.cum_sum().cast(pl.UInt32).alias(SEGMENT),
        is_search.alias(IS_SEARCH),
        is_click.alias(IS_CLICK),
        (is_results & (count_within(is_results, segment_starts) == 1)).alias(FIRST_RESULTS),
        (is_click & (count_within(is_click, segment_starts) == 1)).alias(FIRST_CLICK),
    )
