"""Property tests: the Polars engine (``batch.pipeline.compute_tables``) against the oracle.

Rows are compared as sorted lists (floats with a tolerance). Session ids are compared through
what they identify: each id is replaced by the ``(user_id, session_start)`` of its session, on
both sides; their exact spelling is checked by ``test_session_id_format`` alone.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.config import RunConfig
from ctr_batch.core.schema import TABLE_SCHEMAS
from tests.reference import reference_tables
from tests.strategies import GAP, event_logs, to_frame, user_interleavings
from tests.test_reference import blog_events, tutorial_019_events

if TYPE_CHECKING:
    import polars as pl

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)

SESSION_COLUMNS = (
    "user_id",
    "session",
    "session_start",
    "session_end",
    "duration",
    "n_events",
    "n_searches",
    "n_clicks",
    "clicks_per_search",
    "date",
)
SEARCH_COLUMNS = (
    "user_id",
    "session",
    "search_index",
    "search_time",
    "query",
    "n_results",
    "n_clicks",
    "clicked",
    "ctr",
    "time_to_first_click",
    "first_click_position",
    "date",
)
DAILY_COLUMNS = tuple(TABLE_SCHEMAS["ctr_daily"])
BY_QUERY_COLUMNS = tuple(TABLE_SCHEMAS["ctr_by_query"])
QUARANTINE_KEY = ("reason", "user_id", "event_time", "event_type", "event_id")


def run_engine(
    rows: list[dict],
    gap: timedelta = GAP,
    gap_rule: str = "inclusive",
    tz: str = "UTC",
    max_session: timedelta | None = None,
) -> dict[str, list[dict]]:
    config = RunConfig(gap=gap, gap_rule=gap_rule, timezone=tz, max_session=max_session)
    tables: dict[str, pl.DataFrame] = compute_tables(to_frame(rows).lazy(), config=config)
    return {name: frame.to_dicts() for name, frame in tables.items()}


def with_session_keys(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Add a ``session`` column: the ``(user_id, session_start)`` its session_id stands for."""
    sessions = tables["sessions"]
    ids = [s["session_id"] for s in sessions]
    assert len(set(ids)) == len(ids), f"session ids are not unique: {sorted(ids)}"
    key_of = {s["session_id"]: (s["user_id"], s["session_start"]) for s in sessions}
    assert all(s["session_id"] in key_of for s in tables["searches"]), "search of no session"
    return {
        **tables,
        "sessions": [{**s, "session": key_of[s["session_id"]]} for s in sessions],
        "searches": [{**s, "session": key_of[s["session_id"]]} for s in tables["searches"]],
    }


def null_last(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


def same_value(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    return bool(actual == expected) and (actual is None) == (expected is None)


def assert_same_rows(
    table: str, actual: list[dict], expected: list[dict], columns: tuple[str, ...]
) -> None:
    """Same rows, whatever their order; ``columns`` (a sort key first) compared one by one."""

    def project(rows: list[dict]) -> list[tuple]:
        return sorted(
            (tuple(row[c] for c in columns) for row in rows),
            key=lambda values: tuple(null_last(v) for v in values),
        )

    got, want = project(actual), project(expected)
    assert len(got) == len(want), f"{table}: {len(got)} rows, expected {len(want)}\n{got}\n{want}"
    for got_row, want_row in zip(got, want, strict=True):
        for column, got_value, want_value in zip(columns, got_row, want_row, strict=True):
            assert same_value(got_value, want_value), (
                f"{table}.{column}: got {got_value!r}, expected {want_value!r}\n"
                f"row:      {dict(zip(columns, got_row, strict=True))}\n"
                f"expected: {dict(zip(columns, want_row, strict=True))}"
            )


def quarantine_multiset(rows: list[dict]) -> Counter[tuple]:
    return Counter(tuple(row[c] for c in QUARANTINE_KEY) for row in rows)


def assert_matches_reference(
    rows: list[dict],
    gap: timedelta = GAP,
    gap_rule: str = "inclusive",
    tz: str = "UTC",
    max_session: timedelta | None = None,
) -> None:
    expected = with_session_keys(reference_tables(rows, gap, gap_rule, tz, max_session))
    actual = with_session_keys(run_engine(rows, gap, gap_rule, tz, max_session))

    assert_same_rows("sessions", actual["sessions"], expected["sessions"], SESSION_COLUMNS)
    assert_same_rows("searches", actual["searches"], expected["searches"], SEARCH_COLUMNS)
    assert quarantine_multiset(actual["quarantine"]) == quarantine_multiset(expected["quarantine"])
    processed = sum(s["n_events"] for s in actual["sessions"])
    assert processed + len(actual["quarantine"]) == len(rows), "rows lost or counted twice"
    assert_same_rows("ctr_daily", actual["ctr_daily"], expected["ctr_daily"], DAILY_COLUMNS)
    assert_same_rows(
        "ctr_by_query", actual["ctr_by_query"], expected["ctr_by_query"], BY_QUERY_COLUMNS
    )


# --- properties ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("gap_rule", "tz"),
    [("inclusive", "UTC"), ("exclusive", "UTC"), ("inclusive", "America/New_York")],
)
@PROPERTY_SETTINGS
@given(rows=event_logs)
def test_engine_matches_reference(gap_rule: str, tz: str, rows: list[dict]) -> None:
    assert_matches_reference(rows, gap_rule=gap_rule, tz=tz)


@pytest.mark.parametrize(
    "longest",
    [timedelta(microseconds=1), timedelta(seconds=9), GAP, timedelta(seconds=25)],
    ids=["1us", "9s", "gap", "25s"],
)
@settings(max_examples=60, deadline=None)
@given(rows=event_logs, exclusive=st.booleans())
def test_max_session_matches_reference(
    longest: timedelta, rows: list[dict], exclusive: bool
) -> None:
    rule = "exclusive" if exclusive else "inclusive"
    assert_matches_reference(rows, gap_rule=rule, max_session=longest)
    actual = run_engine(rows, gap_rule=rule, max_session=longest)
    assert all(s["duration"] <= longest for s in actual["sessions"])


@PROPERTY_SETTINGS
@given(logs=user_interleavings())
def test_interleaving_users_changes_nothing(logs: tuple[list[dict], list[dict]]) -> None:
    rows, reordered = logs
    first, second = run_engine(rows), run_engine(reordered)
    for table, columns in [
        ("sessions", tuple(TABLE_SCHEMAS["sessions"])),
        ("searches", tuple(TABLE_SCHEMAS["searches"])),
    ]:
        assert_same_rows(table, second[table], first[table], columns)
    assert quarantine_multiset(second["quarantine"]) == quarantine_multiset(first["quarantine"])


# --- examples -----------------------------------------------------------------------------------
def test_blog_example() -> None:
    tables = run_engine(blog_events(), gap=timedelta(seconds=5))
    ctr = sorted((s["query"], s["ctr"], s["n_clicks"]) for s in tables["searches"])
    assert ctr == [("cats", 1.0, 2), ("dogs", 1.0, 1), ("fruit", 0.0, 0)]
    per_session = sorted(
        (s["user_id"], s["n_searches"], s["n_clicks"], s["clicks_per_search"])
        for s in tables["sessions"]
    )
    assert per_session == [("1", 2, 3, 1.5), ("2", 1, 0, 0.0)]
    assert_matches_reference(blog_events(), gap=timedelta(seconds=5))


def test_tutorial_019_example() -> None:
    tables = run_engine(tutorial_019_events())
    per_session = sorted((s["user_id"], s["clicks_per_search"]) for s in tables["sessions"])
    assert per_session == [("1", 1.0), ("2", 2.0)]
    assert_matches_reference(tutorial_019_events())


@pytest.mark.parametrize("rows", [blog_events(), []], ids=["blog", "empty"])
def test_output_schemas(rows: list[dict]) -> None:
    config = RunConfig(gap=timedelta(seconds=5))
    tables = compute_tables(to_frame(rows).lazy(), config=config)
    assert set(TABLE_SCHEMAS) <= set(tables)
    for name, schema in TABLE_SCHEMAS.items():
        actual = dict(tables[name].schema)
        assert {c: actual.get(c) for c in schema} == dict(schema), name
    if not rows:
        assert all(tables[name].height == 0 for name in TABLE_SCHEMAS)


def test_session_id_format() -> None:
    rows = [
        {**row, "event_time": row["event_time"] + timedelta(microseconds=123)}
        for row in blog_events()
    ]
    expected = reference_tables(rows, timedelta(seconds=5))
    actual = run_engine(rows, gap=timedelta(seconds=5))
    assert sorted(s["session_id"] for s in actual["sessions"]) == sorted(
        s["session_id"] for s in expected["sessions"]
    )
    assert sorted(s["session_id"] for s in actual["searches"]) == sorted(
        s["session_id"] for s in expected["searches"]
    )
