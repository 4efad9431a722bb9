"""Predict exactly what the Bytewax tutorial dataflow emits, from events in arrival order.

The dataflow (``examples/bytewax_search_ctr.py``; Bytewax 0.21, one item per batch, fixed
system clock) keys events by user, gathers sessions with ``reduce_window`` +
``SessionWindower(gap)`` + ``EventClock(wait)``, splits each session's event list at every search
and emits one record per search. What it does, checked against Bytewax 0.21.1's source and runs:

- **Late events.** The watermark is kept per user: an event is late, and dropped, iff
  ``event_time < max(event_time of the user's earlier arrivals) - wait`` (strictly).
- **Sessions.** An event within `gap` of a window joins it (Δ == gap joins); windows that come
  within `gap` of each other merge. So sessions end up as the time-ordered sessionization of the
  on-time events, but a session's event *list* is in arrival order, and where an out-of-order
  event extended or bridged windows, the earlier-opening window's list comes first, then the
  absorbed one's.
- **Searches.** Segments are cut in list order; events before the session's first search are
  dropped. ``session_start`` / ``session_end`` are the window's open / close time (min / max).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.rules import opens_session
from ctr_batch.core.schema import (
    EVENT_TIME,
    EVENT_TYPE,
    EVENTS_SCHEMA,
    LATE_TABLE,
    OPENS_SESSION,
    QUARANTINE_TABLE,
    ROW,
    SEARCHES_TABLE,
    SEQ,
    SESSIONS_TABLE,
    TIME_DTYPE,
    USER_ID,
)
from ctr_batch.stages.flag import flag_rows, split_valid
from ctr_batch.streaming.records import MERGED, POSITION, STREAM_SESSION, stream_records
from ctr_batch.streaming.windower import stream_sessions

if TYPE_CHECKING:
    from ctr_batch.core.config import GapRule, StreamConfig

# a late event's position in the input (files in path order, rows in order)
LATE_INPUT_ROW = "input_row"
WATERMARK = "watermark"  # the user's watermark when a late event arrived
LATE_SCHEMA = pl.Schema({**EVENTS_SCHEMA, LATE_INPUT_ROW: pl.Int64(), WATERMARK: TIME_DTYPE})

_ARRIVAL = "_arrival"  # 0-based arrival rank
_LATE = "_late"
_TIME_SESSION = "_time_session"  # session number of the time-ordered on-time events
_DISORDERED = "_disordered"  # the session's events did not arrive in time order
_US = timedelta(microseconds=1)


def watermark(wait: timedelta) -> pl.Expr:
    """``watermark``: latest event time among the user's earlier arrivals, minus `wait`.

    Needs the frame sorted by (user, arrival); null on a user's first arrival.
    """
    return (pl.col(EVENT_TIME).cum_max().shift(1).over(USER_ID) - wait).alias(WATERMARK)


def late_flags() -> pl.Expr:
    """``_late``: the event lies before its user's watermark (strictly), so the stream drops it.

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> t = [datetime(2024, 1, 1, 0, 0, s) for s in (10, 8, 7, 5)]
    >>> df = pl.DataFrame({"user_id": ["a", "a", "a", "b"], "event_time": t})
    >>> df.with_columns(watermark(timedelta(seconds=2))).select(late_flags())["_late"].to_list()
    [False, False, True, False]
    """
    return (pl.col(EVENT_TIME) < pl.col(WATERMARK)).fill_null(False).alias(_LATE)


def disordered_sessions() -> pl.Expr:
    """``_disordered``: an event of the session arrived after a later one of the same session.

    Needs the frame sorted by (``_time_session``, arrival).
    """
    earlier = pl.col(EVENT_TIME) < pl.col(EVENT_TIME).cum_max().shift(1)
    return earlier.fill_null(False).any().over(_TIME_SESSION).alias(_DISORDERED)


def arrival_ranks(events: pl.LazyFrame, arrival: str | None) -> pl.LazyFrame:
    """Add ``_arrival``, the rank in arrival order: ``_seq``, or `arrival` then ``_seq``."""
    keys = [SEQ] if arrival is None else [arrival, SEQ]
    return events.sort(keys, nulls_last=True).with_row_index(_ARRIVAL)


@dataclass(frozen=True, slots=True)
class Simulation:
    """Tables of ``simulate_stream`` plus how much went through the sequential windower port."""

    tables: dict[str, pl.DataFrame]
    sequential_sessions: int
    sequential_events: int


def simulate(events: pl.LazyFrame, config: StreamConfig) -> Simulation:
    """The stream's tables from normalized events (with ``_seq`` and the arrival column).

    See ``run.simulate_stream``; also counts the sessions and events simulated one by one.
    """
    gap, wait, arrival, gap_rule = config.gap, config.wait, config.arrival, config.gap_rule
    # the stream keeps the first copy of an event_id to *arrive*
    flagged = flag_rows(arrival_ranks(events, arrival), order=_ARRIVAL)
    valid, rejected = split_valid(flagged.collect().lazy())
    ordered = (
        valid.sort(USER_ID, _ARRIVAL)
        .with_columns(watermark(wait))
        .with_columns(late_flags())
        .collect()
    )
    on_time = ordered.lazy().filter(~pl.col(_LATE))
    placed = _place_events(on_time, gap=gap, gap_rule=gap_rule)
    searches, sessions = stream_records(placed.lazy())
    sequential = placed.filter(pl.col(_DISORDERED))
    tables = {
        SEARCHES_TABLE: searches,
        SESSIONS_TABLE: sessions,
        LATE_TABLE: _late_rows(ordered),
        QUARANTINE_TABLE: rejected.drop(_ARRIVAL).sort(SEQ).collect(),
    }
    return Simulation(tables, sequential[_TIME_SESSION].n_unique(), sequential.height)


def _place_events(on_time: pl.LazyFrame, *, gap: timedelta, gap_rule: GapRule) -> pl.DataFrame:
    """On-time events with ``_stream_session``, ``_position`` (list order) and ``merged``."""
    by_time = on_time.sort(USER_ID, EVENT_TIME, _ARRIVAL).with_columns(
        opens_session(gap, gap_rule)
    )
    sessions = (
        by_time.with_columns(pl.col(OPENS_SESSION).cum_sum().cast(pl.Int64).alias(_TIME_SESSION))
        .sort(_TIME_SESSION, _ARRIVAL)
        .with_columns(disordered_sessions())
        .collect()
    )
    in_order = sessions.filter(~pl.col(_DISORDERED)).with_columns(
        pl.col(_TIME_SESSION).alias(STREAM_SESSION),
        pl.col(_ARRIVAL).cast(pl.Int64).alias(POSITION),
        pl.lit(False).alias(MERGED),
    )
    first_free = sessions.height + 1  # above every session number
    out_of_order = _sequential_sessions(
        sessions.filter(pl.col(_DISORDERED)), gap=gap, gap_rule=gap_rule, first_id=first_free
    )
    return pl.concat([in_order, out_of_order], how="vertical")


def _sequential_sessions(
    sessions: pl.DataFrame, *, gap: timedelta, gap_rule: GapRule, first_id: int
) -> pl.DataFrame:
    """Run the windower port on each session's events (rows sorted by session, arrival)."""
    times = sessions[EVENT_TIME].dt.epoch("us").to_list()
    lengths = sessions.group_by(_TIME_SESSION, maintain_order=True).len()["len"].to_list()
    placed: list[tuple[int, int, int, bool]] = []
    number, start = first_id, 0
    for length in lengths:
        windows = stream_sessions(
            times[start : start + length], gap=gap // _US, inclusive=gap_rule == "inclusive"
        )
        for window in windows:  # one per session (see stream_windower)
            placed.extend(
                (start + event, number, place, window.merged)
                for place, event in enumerate(window.events)
            )
            number += 1
        start += length
    schema = {ROW: pl.UInt32, STREAM_SESSION: pl.Int64, POSITION: pl.Int64, MERGED: pl.Boolean}
    order = pl.DataFrame(placed, schema=schema, orient="row")
    return sessions.with_row_index(ROW).join(order, on=ROW).drop(ROW)


def _late_rows(ordered: pl.DataFrame) -> pl.DataFrame:
    """Late events in arrival order, with their input row and the watermark they missed."""
    return (
        ordered.filter(pl.col(_LATE))
        .sort(_ARRIVAL)
        .with_columns(pl.col(EVENT_TYPE).cast(pl.String), pl.col(SEQ).alias(LATE_INPUT_ROW))
        .select(LATE_SCHEMA.names())
        .cast(LATE_SCHEMA)
    )
