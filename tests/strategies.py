"""Hypothesis strategies for random event logs, and a helper turning rows into a DataFrame.

Timestamps come from a small set of offsets around three anchors, so that with the test gap of
10 s equal timestamps, deltas exactly at / just below / just above the gap, the UTC midnight
(2024-01-02T00:00Z) and the New York midnight (2024-01-02T05:00Z) all happen often. Rows are
drawn independently, so file order is not time order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from hypothesis import strategies as st

GAP = timedelta(seconds=10)
ORIGIN = datetime(2024, 1, 1, 23, 50, tzinfo=UTC)

# start of the log, UTC midnight, New York midnight (UTC-5 in January); the first one is weighted
ANCHORS_S = (0, 0, 0, 600, 18_600)
_S = 1_000_000  # microseconds per second
DELTAS_US = (
    0,
    1,
    _S,
    5 * _S,
    10 * _S - 1,
    10 * _S,
    10 * _S + 1,
    11 * _S,
    15 * _S,
    20 * _S - 1,
    20 * _S,
    20 * _S + 1,
    21 * _S,
    30 * _S,
    -_S,
    -9 * _S,
    -10 * _S,
    -11 * _S,
)

USER_IDS = ("a", "b", "c", "a", "b", "7", "07", "42")
QUERIES = ("dogs", "cats", "fruit", "dogs", None)
ITEM_NAMES = ("fido", "rover", "buddy")
CLICK_ITEMS = (*ITEM_NAMES, "kathy", None)  # "kathy" is never in a result list
EVENT_IDS = (None, None, None, None, "1", "2", "3", "4", "5", "6", "7", "8")
EVENT_TYPES = (
    "search",
    "search",
    "results",
    "results",
    "click",
    "click",
    "click",
    "app_open",
    "app_close",
)
UNKNOWN_EVENT_TYPES = ("purchase", "Search", "", None)

EVENT_COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "event_time": pl.Datetime("us", "UTC"),
    "event_type": pl.String(),
    "query": pl.String(),
    "items": pl.List(pl.String()),
    "item": pl.String(),
    "event_id": pl.String(),
}


def rarely(strategy: st.SearchStrategy[Any], usual: st.SearchStrategy[Any]) -> Any:
    """``usual`` most of the time, ``strategy`` about one time in eight."""
    return st.integers(0, 7).flatmap(lambda n: strategy if n == 0 else usual)


event_times = rarely(
    st.none(),
    st.builds(
        lambda anchor, delta: ORIGIN + timedelta(seconds=anchor, microseconds=delta),
        st.sampled_from(ANCHORS_S),
        st.sampled_from(DELTAS_US),
    ),
)
user_ids = rarely(st.none(), st.sampled_from(USER_IDS))
event_types = rarely(st.sampled_from(UNKNOWN_EVENT_TYPES), st.sampled_from(EVENT_TYPES))
item_lists = st.one_of(
    st.none(),
    st.just([]),
    st.lists(st.sampled_from(ITEM_NAMES), min_size=1, max_size=4),
    st.lists(st.sampled_from(ITEM_NAMES), min_size=1, max_size=4),
)


@st.composite
def event_rows(draw: st.DrawFn) -> dict[str, Any]:
    """One event row; the optional fields are mostly set only on the event type they belong to."""
    event_type = draw(event_types)

    def field(owner: str, values: st.SearchStrategy[Any]) -> Any:
        # a stray value on another event type now and then: the engine must ignore it
        return draw(values if event_type == owner else rarely(values, st.none()))

    return {
        "user_id": draw(user_ids),
        "event_time": draw(event_times),
        "event_type": event_type,
        "query": field("search", st.sampled_from(QUERIES)),
        "items": field("results", item_lists),
        "item": field("click", st.sampled_from(CLICK_ITEMS)),
        "event_id": draw(st.sampled_from(EVENT_IDS)),
    }


event_logs = st.lists(event_rows(), max_size=30)


@st.composite
def user_interleavings(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    """A log and a reordering of it that keeps the relative order of each user's rows.

    Event ids are made unique across users (a duplicate id of another user would make the first
    row in input order, and so the result, depend on the interleaving).
    """
    rows = [
        {**row, "event_id": None if row["event_id"] is None else f"{row['user_id']}:{row['event_id']}"}
        for row in draw(event_logs)
    ]
    queues: dict[str | None, list[dict]] = {}
    for row in rows:
        queues.setdefault(row["user_id"], []).append(row)
    order = draw(st.permutations([row["user_id"] for row in rows]))
    return rows, [queues[user_id].pop(0) for user_id in order]


def to_frame(rows: list[dict]) -> pl.DataFrame:
    """The CONTRACT §1 event columns, with their dtypes, for ``rows`` in order."""
    return pl.DataFrame(
        [
            pl.Series(name, [row[name] for row in rows], dtype=dtype)
            for name, dtype in EVENT_COLUMNS.items()
        ]
    )
