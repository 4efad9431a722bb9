"""Tests of the oracle itself: the golden examples of CONTRACT §4 and hand-written edge cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ctr_batch.core import schema
from tests.reference import EVENT_TYPES, reference_tables
from tests.strategies import to_frame

S = timedelta(seconds=1)
T0 = datetime(2023, 1, 1, tzinfo=UTC)


def event(
    user_id: str | None,
    seconds: float | None,
    event_type: str | None,
    *,
    query: str | None = None,
    items: list[str] | None = None,
    item: str | None = None,
    event_id: str | None = None,
    origin: datetime = T0,
) -> dict:
    return {
        "user_id": user_id,
        "event_time": None if seconds is None else origin + seconds * S,
        "event_type": event_type,
        "query": query,
        "items": items,
        "item": item,
        "event_id": event_id,
    }


def blog_events() -> list[dict]:
    """The tutorial's 12 events (CONTRACT §4), in time order."""
    return [
        event("1", 0, "app_open"),
        event("1", 1, "search", query="dogs"),
        event("1", 2, "results", items=["fido", "rover", "buddy"]),
        event("1", 3, "click", item="rover"),
        event("1", 4, "search", query="cats"),
        event("1", 5, "results", items=["fluffy", "burrito", "kathy"]),
        event("1", 6, "click", item="fluffy"),
        event("2", 7, "app_open"),
        event("1", 8, "click", item="kathy"),
        event("2", 9, "search", query="fruit"),
        event("1", 10, "app_close"),
        event("2", 11, "app_close"),
    ]


def tutorial_019_events() -> list[dict]:
    """The 0.19 tutorial's 7 events, aligned to 2022-01-01 UTC."""
    origin = datetime(2022, 1, 1, tzinfo=UTC)
    return [
        event("1", 5, "search", query="dogs", origin=origin),
        event("1", 6, "results", items=["fido", "rover", "buddy"], origin=origin),
        event("1", 7, "click", item="rover", origin=origin),
        event("2", 5, "search", query="cats", origin=origin),
        event("2", 6, "results", items=["fluffy", "burrito", "kathy"], origin=origin),
        event("2", 7, "click", item="fluffy", origin=origin),
        event("2", 8, "click", item="kathy", origin=origin),
    ]


def by(rows: list[dict], *columns: str) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in rows]


def test_constants_agree_with_schema() -> None:
    assert EVENT_TYPES == schema.EVENT_TYPES
    assert set(schema.REASONS) == {
        "null_user_id",
        "null_event_time",
        "unknown_event_type",
        "duplicate_event_id",
    }


def test_blog_example() -> None:
    tables = reference_tables(blog_events(), gap=5 * S)
    assert by(tables["searches"], "user_id", "query", "ctr", "n_clicks", "search_index") == [
        ("1", "dogs", 1.0, 1, 1),
        ("1", "cats", 1.0, 2, 2),
        ("2", "fruit", 0.0, 0, 1),
    ]
    assert by(tables["searches"], "n_results", "time_to_first_click", "first_click_position") == [
        (3, 2 * S, 2),
        (3, 2 * S, 1),
        (None, None, None),
    ]
    assert by(tables["sessions"], "user_id", "n_searches", "n_clicks", "clicks_per_search") == [
        ("1", 2, 3, 1.5),
        ("2", 1, 0, 0.0),
    ]
    assert by(tables["sessions"], "session_id", "n_events", "session_start", "session_end") == [
        ("1/2023-01-01T00:00:00.000000Z", 9, T0, T0 + 10 * S),
        ("2/2023-01-01T00:00:07.000000Z", 3, T0 + 7 * S, T0 + 11 * S),
    ]
    assert tables["quarantine"] == []
    assert tables["ctr_daily"] == [
        {
            "date": date(2023, 1, 1),
            "searches": 3,
            "clicked_searches": 2,
            "ctr": 2 / 3,
            "clicks": 3,
            "clicks_per_search": 1.0,
            "sessions": 2,
            "sessions_with_search": 2,
        }
    ]
    assert by(tables["ctr_by_query"], "query", "searches", "ctr", "clicks") == [
        ("dogs", 1, 1.0, 1),
        ("cats", 1, 1.0, 2),
        ("fruit", 1, 0.0, 0),
    ]
    assert by(tables["ctr_by_query"], "mean_first_click_position") == [(2.0,), (1.0,), (None,)]


def test_blog_example_with_a_smaller_gap() -> None:
    # the largest deltas are 2 s (user 1 from 6 s on, user 2 throughout): each opens a session
    tables = reference_tables(blog_events(), gap=2 * S, gap_rule="exclusive")
    assert by(tables["sessions"], "user_id", "n_events", "n_searches", "n_clicks") == [
        ("1", 7, 2, 2),
        ("1", 1, 0, 1),
        ("1", 1, 0, 0),
        ("2", 1, 0, 0),
        ("2", 1, 1, 0),
        ("2", 1, 0, 0),
    ]


def test_tutorial_019_example() -> None:
    tables = reference_tables(tutorial_019_events(), gap=10 * S)
    assert by(tables["sessions"], "user_id", "clicks_per_search") == [("1", 1.0), ("2", 2.0)]
    assert by(tables["searches"], "query", "n_clicks", "ctr", "first_click_position") == [
        ("dogs", 1, 1.0, 2),
        ("cats", 2, 1.0, 1),
    ]


@pytest.mark.parametrize(
    ("delta", "rule", "n_sessions"),
    [
        (10 * S, "inclusive", 1),
        (10 * S, "exclusive", 2),
        (10 * S - timedelta(microseconds=1), "inclusive", 1),
        (10 * S - timedelta(microseconds=1), "exclusive", 1),
        (10 * S + timedelta(microseconds=1), "inclusive", 2),
        (10 * S + timedelta(microseconds=1), "exclusive", 2),
    ],
)
def test_gap_boundary(delta: timedelta, rule: str, n_sessions: int) -> None:
    rows = [event("u", 0, "search"), {**event("u", 0, "click"), "event_time": T0 + delta}]
    tables = reference_tables(rows, gap=10 * S, gap_rule=rule)
    assert len(tables["sessions"]) == n_sessions
    assert by(tables["searches"], "n_clicks") == [(1 if n_sessions == 1 else 0,)]


def test_gap_is_measured_from_the_previous_event_not_the_session_start() -> None:
    rows = [event("u", t, "app_open") for t in (0, 10, 20, 30)] + [event("u", 41, "app_open")]
    tables = reference_tables(rows, gap=10 * S)
    assert by(tables["sessions"], "n_events") == [(4,), (1,)]


def test_unknown_gap_rule() -> None:
    with pytest.raises(ValueError, match="gap rule"):
        reference_tables([event("u", 0, "search"), event("u", 1, "click")], 10 * S, "sloppy")


def test_equal_times_keep_input_order() -> None:
    search_then_click = [event("u", 5, "search", query="q"), event("u", 5, "click")]
    click_then_search = search_then_click[::-1]
    assert by(reference_tables(search_then_click, 10 * S)["searches"], "n_clicks") == [(1,)]
    assert by(reference_tables(click_then_search, 10 * S)["searches"], "n_clicks") == [(0,)]
    # ...but the session counts the click either way
    for rows in (search_then_click, click_then_search):
        assert by(reference_tables(rows, 10 * S)["sessions"], "n_clicks") == [(1,)]


def test_file_order_is_not_time_order() -> None:
    rows = [
        event("u", 3, "click", item="b"),
        event("u", 1, "search", query="q"),
        event("u", 2, "results", items=["a", "b"]),
    ]
    [search] = reference_tables(rows, 10 * S)["searches"]
    assert (search["n_clicks"], search["first_click_position"]) == (1, 2)
    assert search["time_to_first_click"] == 2 * S


def test_click_before_first_search() -> None:
    rows = [
        event("u", 0, "app_open"),
        event("u", 1, "click", item="x"),
        event("u", 2, "search", query="q"),
        event("u", 3, "results", items=["x"]),
        event("u", 4, "click", item="x"),
    ]
    tables = reference_tables(rows, 10 * S)
    assert by(tables["sessions"], "n_searches", "n_clicks", "clicks_per_search") == [(1, 2, 2.0)]
    assert by(tables["searches"], "n_clicks", "first_click_position") == [(1, 1)]
    assert by(tables["ctr_daily"], "searches", "ctr", "clicks", "clicks_per_search") == [
        (1, 1.0, 2, 2.0)
    ]


def test_session_without_search_counts_in_no_ctr() -> None:
    rows = [event("u", 0, "app_open"), event("u", 1, "click"), event("v", 0, "app_open")]
    tables = reference_tables(rows, 10 * S)
    assert by(tables["sessions"], "n_clicks", "clicks_per_search") == [(1, None), (0, None)]
    assert tables["searches"] == []
    assert tables["ctr_by_query"] == []
    assert by(
        tables["ctr_daily"], "searches", "ctr", "sessions", "sessions_with_search", "clicks"
    ) == [(0, None, 2, 0, 0)]
    assert tables["ctr_daily"][0]["clicks_per_search"] is None


def test_results_details() -> None:
    rows = [
        event("u", 0, "search", query="dup"),
        event("u", 1, "results", items=["a", "b", "b"]),
        event("u", 2, "results", items=["b"]),  # not the first results list: ignored
        event("u", 3, "click", item="b"),
        event("u", 4, "click", item="a"),  # not the first click: ignored
        event("u", 10, "search", query="empty"),
        event("u", 11, "results", items=[]),
        event("u", 12, "click", item="a"),
        event("u", 20, "search", query="null items"),
        event("u", 21, "results"),
        event("u", 22, "results", items=["a"]),
        event("u", 23, "click", item="a"),
        event("u", 30, "search", query="null item"),
        event("u", 31, "results", items=["a"]),
        event("u", 32, "click"),
        event("u", 40, "search", query="no results"),
        event("u", 41, "click", item="a"),
        event("u", 50, "search", query="no click"),
        event("u", 51, "results", items=["a"]),
    ]
    searches = reference_tables(rows, 10 * S)["searches"]
    assert by(searches, "query", "n_results", "n_clicks", "first_click_position") == [
        ("dup", 3, 2, 2),
        ("empty", 0, 1, None),
        ("null items", None, 1, None),
        ("null item", 1, 1, None),
        ("no results", None, 1, None),
        ("no click", 1, 0, None),
    ]
    assert [s["search_index"] for s in searches] == [1, 2, 3, 4, 5, 6]
    assert [s["time_to_first_click"] for s in searches] == [3 * S, 2 * S, 3 * S, 2 * S, S, None]
    assert len({s["session_id"] for s in searches}) == 1


def test_quarantine_reasons_and_precedence() -> None:
    rows = [
        event(None, None, "bogus", event_id="1"),  # null user id wins
        event("u", None, "bogus", event_id="1"),  # then null event time
        event("u", 0, "bogus", event_id="1"),  # then unknown type
        event("u", 0, None, event_id="1"),  # a null type is unknown too
        event("u", 1, "search", event_id="1"),  # first valid "1": kept
        event("u", 2, "click", event_id="1"),  # duplicate
        event("v", 3, "click", event_id="1"),  # duplicate, even of another user
        event("u", 4, "click"),  # no id: never a duplicate
        event("u", 5, "click"),
        event("u", 6, "click", event_id="2"),
    ]
    tables = reference_tables(rows, 10 * S)
    assert by(tables["quarantine"], "reason", "user_id") == [
        ("null_user_id", None),
        ("null_event_time", "u"),
        ("unknown_event_type", "u"),
        ("unknown_event_type", "u"),
        ("duplicate_event_id", "u"),
        ("duplicate_event_id", "v"),
    ]
    assert tables["quarantine"][5]["event_time"] == T0 + 3 * S
    assert by(tables["sessions"], "n_events", "n_clicks") == [(4, 3)]


def test_dates_follow_the_time_zone() -> None:
    origin = datetime(2024, 1, 1, 23, 59, 55, tzinfo=UTC)
    rows = [
        event("u", 0, "app_open", origin=origin),
        event("u", 8, "search", query="q", origin=origin),  # 00:00:03 UTC, next day
    ]
    utc = reference_tables(rows, 10 * S)
    assert by(utc["sessions"], "date") == [(date(2024, 1, 1),)]
    assert by(utc["searches"], "date") == [(date(2024, 1, 2),)]
    assert by(utc["ctr_daily"], "date", "searches", "sessions", "clicks_per_search") == [
        (date(2024, 1, 1), 0, 1, 0.0),
        (date(2024, 1, 2), 1, 0, None),
    ]
    new_york = reference_tables(rows, 10 * S, tz="America/New_York")
    assert by(new_york["searches"], "date") == [(date(2024, 1, 1),)]
    assert by(new_york["ctr_daily"], "date", "searches", "sessions") == [(date(2024, 1, 1), 1, 1)]
    # the session id stays in UTC whatever the reporting time zone
    assert new_york["sessions"][0]["session_id"] == "u/2024-01-01T23:59:55.000000Z"


def test_null_query_is_a_group_of_its_own() -> None:
    rows = [event("u", 0, "search"), event("u", 1, "search", query=""), event("u", 2, "click")]
    by_query = reference_tables(rows, 10 * S)["ctr_by_query"]
    assert by(by_query, "query", "searches", "clicked_searches", "clicks") == [
        (None, 1, 0, 0),
        ("", 1, 1, 1),
    ]


def test_empty_input() -> None:
    tables = reference_tables([], 10 * S)
    assert all(rows == [] for rows in tables.values())
    assert set(tables) == set(schema.TABLE_SCHEMAS)


def test_to_frame_has_the_event_schema() -> None:
    assert to_frame(blog_events()).schema == schema.EVENTS_SCHEMA
    assert to_frame([]).schema == schema.EVENTS_SCHEMA
