"""Hypothesis strategies for random event logs, and a helper turning rows into a DataFrame.

A log is made of *runs*: a user's events at non-decreasing times, stepping by 0, 1 µs, 1-5 s,
10 s - 1 µs / 10 s / 10 s + 1 µs (the test gap is 10 s), 11 s or 30 s, so that equal timestamps
and deltas just below / exactly at / just above the gap happen often. Runs start around three
anchors: the start of the log, the UTC midnight (2024-01-02T00:00Z) and the New York midnight
(2024-01-02T05:00Z), so sessions and search segments cross midnight. Several runs may belong to
the same user and overlap; the rows of all runs are then concatenated, shuffled or sorted by time
to make the file order. Now and then a row is bad (null user id or time, unknown type, repeated
event id) or carries a stray field of another event type, which the engine must ignore.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from hypothesis import strategies as st

GAP = timedelta(seconds=10)
ORIGIN = datetime(2024, 1, 1, 23, 50, tzinfo=UTC)

_S = 1_000_000  # microseconds per second
# start of the log (weighted), UTC midnight, New York midnight (UTC-5 in January)
ANCHORS_US = (0, 0, 600 * _S, 600 * _S, 18_600 * _S, 18_600 * _S)
RUN_STARTS_US = (0, 1, 5 * _S, -1, -_S, -5 * _S, -10 * _S, -21 * _S)
STEPS_US = (
    *(0, 1, _S, _S, 2 * _S, 3 * _S, 5 * _S),  # within the gap
    *(10 * _S - 1, 10 * _S, 10 * _S + 1),  # at the gap
    *(11 * _S, 30 * _S),  # beyond it
)

USER_IDS = ("a", "b", "c", "7", "07", "42", "é", "ユーザー 1")  # "07" and "7" are different users
QUERIES = ("dogs", "cats", "fruit", "dogs", None)
ITEM_NAMES = ("fido", "rover", "buddy", "rex", "max")
CLICK_ITEMS = (*ITEM_NAMES, *ITEM_NAMES, "kathy", None)  # "kathy" is never in a result list
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


def rarely(draw: st.DrawFn, one_in: int = 12) -> bool:
    """True about once in ``one_in`` draws."""
    return draw(st.integers(1, one_in)) == 1


item_lists = st.one_of(
    st.lists(st.sampled_from(ITEM_NAMES), min_size=1, max_size=5, unique=True),
    st.lists(st.sampled_from(ITEM_NAMES), min_size=1, max_size=5, unique=True),
    st.lists(st.sampled_from(ITEM_NAMES), min_size=2, max_size=5),  # with repeats
    st.none(),
    st.just([]),
)


# a plausible next event type, for runs that look like real use
NEXT_TYPES: dict[str | None, tuple[str, ...]] = {
    None: ("app_open", "search", "search", "click"),
    "app_open": ("search", "search", "click"),
    "search": ("results", "results", "results", "click", "click", "search"),
    "results": ("click", "click", "click", "search", "app_close"),
    "click": ("click", "search", "search", "results", "app_close"),
    "app_close": ("app_open", "search"),
}


@st.composite
def event_rows(
    draw: st.DrawFn, user_id: str, event_time: datetime, event_type: str
) -> dict[str, Any]:
    """One event of ``user_id`` at ``event_time``, sometimes spoiled."""
    if rarely(draw, 20):
        event_type = draw(st.sampled_from(UNKNOWN_EVENT_TYPES))

    def field(owner: str, values: st.SearchStrategy[Any]) -> Any:
        # a stray value on another event type now and then: the engine must ignore it
        return draw(values) if event_type == owner or rarely(draw) else None

    return {
        "user_id": None if rarely(draw, 25) else user_id,
        "event_time": None if rarely(draw, 25) else event_time,
        "event_type": event_type,
        "query": field("search", st.sampled_from(QUERIES)),
        "items": field("results", item_lists),
        "item": field("click", st.sampled_from(CLICK_ITEMS)),
        # few ids, so that some repeat (within a user or across users)
        "event_id": str(draw(st.integers(0, 30))) if rarely(draw, 3) else None,
    }


@st.composite
def user_runs(draw: st.DrawFn, users: list[str]) -> list[dict[str, Any]]:
    """A run of events of one user at non-decreasing times, plausible or random types."""
    user_id = draw(st.sampled_from(users))
    plausible = draw(st.booleans())
    offset = draw(st.sampled_from(ANCHORS_US)) + draw(st.sampled_from(RUN_STARTS_US))
    rows: list[dict[str, Any]] = []
    event_type, shown = None, None
    for _ in range(draw(st.integers(1, 10))):
        event_type = draw(st.sampled_from(NEXT_TYPES[event_type] if plausible else EVENT_TYPES))
        event_time = ORIGIN + timedelta(microseconds=offset)
        row = draw(event_rows(user_id, event_time, event_type))
        if row["event_type"] == "results" and row["items"]:
            shown = row["items"]
        elif row["event_type"] == "click" and plausible and shown and draw(st.booleans()):
            row["item"] = draw(st.sampled_from(shown))  # a result the user saw
        rows.append(row)
        offset += draw(st.sampled_from(STEPS_US))
    return rows


@st.composite
def event_logs_(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A whole log, in input order."""
    users = draw(st.lists(st.sampled_from(USER_IDS), min_size=1, max_size=3, unique=True))
    rows = [row for run in draw(st.lists(user_runs(users), min_size=1, max_size=5)) for row in run]
    order = draw(st.sampled_from(["runs", "shuffled", "by time"]))
    if order == "shuffled":
        rows = draw(st.permutations(rows))
    elif order == "by time":  # stable: equal times keep the run order
        rows = sorted(rows, key=lambda row: (row["event_time"] is None, row["event_time"] or 0))
    return rows


event_logs = event_logs_()


@st.composite
def user_interleavings(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    """A log and a reordering of it that keeps the relative order of each user's rows.

    Event ids are made unique across users (a duplicate id of another user would make the first
    row in input order, and so the result, depend on the interleaving).
    """
    rows = draw(event_logs)
    for row in rows:
        if row["event_id"] is not None:
            row["event_id"] = f"{row['user_id']}:{row['event_id']}"
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
