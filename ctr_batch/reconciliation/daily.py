"""Per-day batch vs stream figures, with a 95 % Wilson interval for the stream's CTR."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.schema import (
    CLICKED_SEARCHES,
    CLICKS_PER_SEARCH,
    CTR,
    DATE,
    N_CLICKS,
    N_SEARCHES,
    SEARCHES,
)
from ctr_batch.reconciliation.causes import SIMULATED_VALUE
from ctr_batch.reconciliation.diff import CI_HIGH, CI_LOW, LEFT_VALUE, RIGHT_VALUE, wilson_interval
from ctr_batch.reconciliation.records import daily_clicks_per_search, daily_from_searches

if TYPE_CHECKING:
    from ctr_batch.reconciliation.load import StreamKind

METRIC = "metric"
BATCH_SEARCHES, STREAM_SEARCHES = "batch_searches", "stream_searches"
DELTA, BATCH_IN_CI = "delta", "batch_in_ci"
DAILY_SCHEMA = pl.Schema(
    {
        DATE: pl.Date(),
        METRIC: pl.String(),  # ctr (searches with a click / searches) or clicks_per_search
        BATCH_SEARCHES: pl.Int64(),
        LEFT_VALUE: pl.Float64(),
        STREAM_SEARCHES: pl.Int64(),  # null when the stream's output does not say
        RIGHT_VALUE: pl.Float64(),
        DELTA: pl.Float64(),  # stream - batch
        CI_LOW: pl.Float64(),  # 95 % Wilson interval of the stream's CTR (ctr only)
        CI_HIGH: pl.Float64(),
        BATCH_IN_CI: pl.Boolean(),
        SIMULATED_VALUE: pl.Float64(),  # the simulated stream's figure, when events were given
    }
)
_SUCCESSES = "_successes"


def daily_deltas(
    kind: StreamKind,
    *,
    batch: tuple[pl.DataFrame, pl.DataFrame],
    stream: pl.DataFrame,
    simulated: tuple[pl.DataFrame, pl.DataFrame] | None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """One row per day: batch and stream figure, their delta and the stream CTR's interval.

    `batch` and `simulated` are (per-search records with ``session_start``, sessions). The
    figure is the search CTR for per-search and daily streams, and clicks per search (of the
    sessions starting that day) for per-session streams, which is no proportion: no interval.
    The interval uses the stream's number of searches that day, or the batch's when the stream
    does not report it.
    """
    if kind == "sessions":
        return _clicks_per_search_days(batch, stream, simulated, timezone)
    batch_days = daily_from_searches(batch[0], timezone=timezone)
    stream_days = daily_from_searches(stream, timezone=timezone) if kind == "searches" else stream
    days = _join_days(
        batch_days.select(DATE, SEARCHES, CTR),
        _with_successes(stream_days),
        None if simulated is None else daily_from_searches(simulated[0], timezone=timezone),
        CTR,
    )
    trials = pl.coalesce(STREAM_SEARCHES, BATCH_SEARCHES)
    successes = pl.coalesce(_SUCCESSES, (pl.col(RIGHT_VALUE) * trials).round())
    low, high = wilson_interval(successes, trials)
    with_interval = days.with_columns(low, high).with_columns(
        pl.col(LEFT_VALUE).is_between(CI_LOW, CI_HIGH).alias(BATCH_IN_CI)
    )
    return _finish(with_interval, CTR)


def _with_successes(stream_days: pl.DataFrame) -> pl.DataFrame:
    """The stream's daily searches and clicked searches (null when it does not say), and CTR."""

    def optional(name: str, alias: str) -> pl.Expr:
        if name in stream_days.columns:
            return pl.col(name).cast(pl.Int64).alias(alias)
        return pl.lit(None, dtype=pl.Int64).alias(alias)

    return stream_days.select(
        DATE, optional(SEARCHES, SEARCHES), optional(CLICKED_SEARCHES, _SUCCESSES), CTR
    )


def _join_days(
    batch_days: pl.DataFrame,
    stream_days: pl.DataFrame,
    simulated_days: pl.DataFrame | None,
    figure: str,
) -> pl.DataFrame:
    """Full join by date: ``batch_*``, ``stream_*``, ``simulated_value`` and ``delta``."""
    left = batch_days.select(
        DATE, pl.col(SEARCHES).alias(BATCH_SEARCHES), pl.col(figure).alias(LEFT_VALUE)
    )
    right = stream_days.rename({SEARCHES: STREAM_SEARCHES, figure: RIGHT_VALUE}, strict=False)
    days = left.join(right, on=DATE, how="full", coalesce=True)
    simulated = (
        pl.DataFrame(schema={DATE: pl.Date, SIMULATED_VALUE: pl.Float64})
        if simulated_days is None
        else simulated_days.select(DATE, pl.col(figure).alias(SIMULATED_VALUE))
    )
    joined = days.join(simulated, on=DATE, how="left")
    return joined.with_columns((pl.col(RIGHT_VALUE) - pl.col(LEFT_VALUE)).alias(DELTA))


def _clicks_per_search_days(
    batch: tuple[pl.DataFrame, pl.DataFrame],
    stream: pl.DataFrame,
    simulated: tuple[pl.DataFrame, pl.DataFrame] | None,
    timezone: str,
) -> pl.DataFrame:
    batch_days = daily_clicks_per_search(batch[1], timezone=timezone)
    if {N_SEARCHES, N_CLICKS} <= set(stream.columns):
        stream_days = daily_clicks_per_search(stream, timezone=timezone)
    else:
        empty = {DATE: pl.Date, SEARCHES: pl.Int64, CLICKS_PER_SEARCH: pl.Float64}
        stream_days = pl.DataFrame(schema=empty)
    simulated_days = (
        None if simulated is None else daily_clicks_per_search(simulated[1], timezone=timezone)
    )
    days = _join_days(
        batch_days.select(DATE, SEARCHES, CLICKS_PER_SEARCH),
        stream_days.select(DATE, SEARCHES, CLICKS_PER_SEARCH),
        simulated_days,
        CLICKS_PER_SEARCH,
    )
    return _finish(days, CLICKS_PER_SEARCH)


def _finish(days: pl.DataFrame, metric: str) -> pl.DataFrame:
    filled = days.with_columns(pl.lit(metric).alias(METRIC))
    missing = [name for name in DAILY_SCHEMA.names() if name not in filled.columns]
    filled = filled.with_columns(pl.lit(None).alias(name) for name in missing)
    return filled.select(DAILY_SCHEMA.names()).cast(DAILY_SCHEMA).sort(DATE)
