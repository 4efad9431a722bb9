"""Daily and per-query CTR tables, and the day boundary (§4, §5)."""

from __future__ import annotations

from datetime import timedelta

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.config import RunConfig
from tests.conftest import events

HOUR = 3600


def test_day_is_search_time_date_for_searches_and_session_start_for_sessions() -> None:
    # one session from 23:59:50 on Dec 31 (T0 - 10 s) to 00:00:05 with a search after midnight
    frame = events(("u", -10, "app_open"), ("u", 5, "search", "q"), ("u", 6, "click"))
    got = compute_tables(frame.lazy(), RunConfig(gap=timedelta(minutes=1)))
    daily = got["ctr_daily"].select("date", "searches", "sessions", "clicks").rows()
    assert [(str(d), s, n, c) for d, s, n, c in daily] == [
        ("2023-12-31", 0, 1, 1),
        ("2024-01-01", 1, 0, 0),
    ]


def test_timezone_moves_the_day_boundary() -> None:
    frame = events(("u", 2 * HOUR, "search", "q"))  # 02:00 UTC = 21:00 the day before in New York
    got = compute_tables(frame.lazy(), RunConfig(timezone="America/New_York"))
    assert str(got["searches"]["date"][0]) == "2023-12-31"
    assert str(got["ctr_daily"]["date"][0]) == "2023-12-31"


def test_timezone_moves_the_day_of_sessions_too() -> None:
    # a session starting 02:00 UTC (21:00 the day before in New York) and a search-free one
    frame = events(("u", 2 * HOUR, "app_open"), ("u", 2 * HOUR + 1, "search", "q"),
                   ("v", 20 * HOUR, "app_open"))  # fmt: skip
    got = compute_tables(frame.lazy(), RunConfig(timezone="America/New_York"))
    assert [str(d) for d in got["sessions"].sort("user_id")["date"]] == [
        "2023-12-31",
        "2024-01-01",
    ]
    daily = got["ctr_daily"].select("date", "sessions", "searches", "clicks_per_search").rows()
    assert [(str(d), n, s, c) for d, n, s, c in daily] == [
        ("2023-12-31", 1, 1, 0.0),
        ("2024-01-01", 1, 0, None),  # no search that day: no clicks per search
    ]


def test_ctr_daily_figures() -> None:
    frame = events(
        ("a", 0, "search", "q"),
        ("a", 1, "click"),
        ("a", 2, "click"),
        ("b", 0, "search", "q"),
        ("b", 1, "search", "r"),
    )
    daily = compute_tables(frame.lazy(), RunConfig())["ctr_daily"].row(0, named=True)
    assert daily["searches"] == 3
    assert daily["clicked_searches"] == 1
    assert abs(daily["ctr"] - 1 / 3) < 1e-12
    assert daily["clicks"] == 2
    assert abs(daily["clicks_per_search"] - 2 / 3) < 1e-12
    assert (daily["sessions"], daily["sessions_with_search"]) == (2, 2)


def test_ctr_by_query() -> None:
    frame = events(
        ("a", 0, "search", "q"),
        ("a", 1, "click"),
        ("b", 0, "search", "q"),
        ("c", 0, "search", "r"),
    )
    by_query = compute_tables(frame.lazy(), RunConfig())["ctr_by_query"]
    assert by_query.select("query", "searches", "clicked_searches", "ctr", "clicks").rows() == [
        ("q", 2, 1, 0.5, 1),
        ("r", 1, 0, 0.0, 0),
    ]


def test_empty_input_gives_every_table_with_schema() -> None:
    frame = events(("u", 0, "app_open")).clear()
    got = compute_tables(frame.lazy(), RunConfig())
    from ctr_batch.core.schema import TABLE_SCHEMAS

    for name, schema in TABLE_SCHEMAS.items():
        assert got[name].height == 0
        assert got[name].schema == schema, name
