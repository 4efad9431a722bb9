"""The SQL engine (``ctr_batch.sql.engine``) against the Polars engine and the oracle.

Tables are compared after sorting both sides by the same key (floats within 1e-12); the SQL
engine is also expected to give Polars' row order, which one test checks as such.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import given, settings
from polars.testing import assert_frame_equal

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.batch.run import compute
from ctr_batch.core.config import RunConfig
from ctr_batch.core.schema import TABLE_SCHEMAS
from ctr_batch.samples.bundled import sample
from ctr_batch.samples.generate import generate_events
from ctr_batch.sql.engine import STAGES, compute_tables_duckdb, stage_query
from tests.batch.test_properties import (
    BY_QUERY_COLUMNS,
    DAILY_COLUMNS,
    SEARCH_COLUMNS,
    SESSION_COLUMNS,
    assert_same_rows,
    quarantine_multiset,
    with_session_keys,
)
from tests.golden import CASES, COMPARED_TABLES, as_csv_text, compute_case, expected_path
from tests.reference import reference_tables
from tests.strategies import GAP, event_logs, to_frame
from tests.test_reference import blog_events, event

if TYPE_CHECKING:
    from pathlib import Path


SORT_KEYS = {
    "searches": ("user_id", "session_id", "search_index"),
    "sessions": ("user_id", "session_start"),
    "ctr_daily": ("date",),
    "ctr_by_query": ("query",),
    "quarantine": ("source_file", "source_row"),
}
CONFIGS = [
    pytest.param("inclusive", "UTC", id="inclusive-UTC"),
    pytest.param("exclusive", "UTC", id="exclusive-UTC"),
    pytest.param("inclusive", "America/New_York", id="inclusive-New_York"),
    pytest.param("exclusive", "America/New_York", id="exclusive-New_York"),
]
ENGINE_SETTINGS = settings(max_examples=40, deadline=None)


@pytest.fixture(scope="module")
def generated() -> pl.DataFrame:
    return generate_events(events=20_000, users=300, days=3, seed=7, bad_row_rate=0.01)


def sorted_table(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(SORT_KEYS[table], nulls_last=True)


def assert_same_tables(actual: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    """Every table of CONTRACT §5: the same schema and, once sorted, the same rows."""
    for table, schema in TABLE_SCHEMAS.items():
        assert actual[table].schema == schema, table
        assert_frame_equal(
            sorted_table(table, actual[table]),
            sorted_table(table, expected[table]),
            rel_tol=0,
            abs_tol=1e-12,
        )


def both_engines(
    events: pl.DataFrame, config: RunConfig, *, dedupe: bool = True
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    via_sql = compute_tables_duckdb(events, config, dedupe=dedupe)
    via_polars = compute_tables(events.lazy(), config, dedupe=dedupe)
    return via_sql, via_polars


# --- the SQL files -------------------------------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_stage_headers_declare_what_the_sql_uses(stage: str) -> None:
    query = stage_query(stage)
    body = "\n".join(
        line.split("--")[0] for line in query.path.read_text(encoding="utf-8").splitlines()
    )
    assert query.purpose
    assert query.grain
    assert set(re.findall(r"\$(\w+)", body)) == set(query.params)
    assert not query.defaults  # every parameter is required
    names = set(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", body))
    assert set(query.reads) == names - set(re.findall(r"(\w+) AS \(", body))


# --- golden cases and a generated log ------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_golden_cases_match_polars(case: str) -> None:
    bundled = sample(CASES[case])
    tables, summary = compute([bundled.path], RunConfig(gap=bundled.gap), engine="duckdb")
    assert_same_tables(tables, compute_case(case))
    assert summary.rows_quarantined == 0
    for table in COMPARED_TABLES:
        assert as_csv_text(tables[table]) == expected_path(case, table).read_text(encoding="utf-8")


@pytest.mark.parametrize(("gap_rule", "tz"), CONFIGS)
def test_generated_log_matches_polars(generated: pl.DataFrame, gap_rule: str, tz: str) -> None:
    config = RunConfig(gap_rule=gap_rule, timezone=tz)
    via_sql, via_polars = both_engines(generated, config)
    assert via_sql["quarantine"].height == 200
    assert_same_tables(via_sql, via_polars)


def test_generated_log_with_a_short_gap_matches_polars(generated: pl.DataFrame) -> None:
    via_sql, via_polars = both_engines(generated, RunConfig(gap=timedelta(minutes=5)))
    assert_same_tables(via_sql, via_polars)


def test_files_and_summary_match_polars(generated: pl.DataFrame, tmp_path: Path) -> None:
    for day, part in enumerate((generated[:9_000], generated[9_000:])):
        folder = tmp_path / f"date=2026-11-0{day + 1}"
        folder.mkdir()
        part.write_parquet(folder / "events.parquet")
    config = RunConfig(timezone="Europe/Paris")
    tables, summary = compute([tmp_path], config, engine="duckdb")
    expected_tables, expected_summary = compute([tmp_path], config)
    assert_same_tables(tables, expected_tables)
    assert summary == expected_summary
    assert tables["quarantine"]["source_file"].n_unique() == 2
    assert tables["quarantine"]["source_row"].max() < 11_000  # counted within its file


@pytest.mark.parametrize("dedupe", [True, False], ids=["dedupe", "keep-duplicates"])
def test_dedupe_switch_matches_polars(generated: pl.DataFrame, dedupe: bool) -> None:
    via_sql, via_polars = both_engines(generated, RunConfig(), dedupe=dedupe)
    reasons = set(via_sql["quarantine"]["reason"])
    assert ("duplicate_event_id" in reasons) is dedupe
    assert_same_tables(via_sql, via_polars)


@pytest.mark.parametrize("rows", [blog_events(), []], ids=["blog", "empty"])
def test_output_schemas(rows: list[dict]) -> None:
    tables = compute_tables_duckdb(to_frame(rows), RunConfig(gap=timedelta(seconds=5)))
    assert {name: frame.schema for name, frame in tables.items()} == TABLE_SCHEMAS
    if not rows:
        assert all(frame.height == 0 for frame in tables.values())


def test_session_id_format_matches_polars() -> None:
    shifted = [
        {**row, "event_time": row["event_time"] - timedelta(days=20_000, microseconds=7)}
        for row in blog_events()  # before 1970, with a fraction of a second
    ]
    gap = timedelta(seconds=5)
    via_sql, via_polars = both_engines(to_frame(shifted), RunConfig(gap=gap))
    expected = [s["session_id"] for s in reference_tables(shifted, gap)["sessions"]]
    assert sorted(via_sql["sessions"]["session_id"].to_list()) == sorted(expected)
    assert expected[0].startswith("1/1968-")
    assert expected[0].endswith(".999993Z")
    assert_same_tables(via_sql, via_polars)


@pytest.mark.parametrize(
    ("clicked", "position"),
    [("b", 3), (None, None), ("z", None)],
    ids=["listed", "null-item", "not-listed"],
)
def test_null_entries_in_result_lists(clicked: str | None, position: int | None) -> None:
    rows = [
        event("u", 0, "search", query="q"),
        event("u", 1, "results", items=["a", None, "b", "b"]),
        event("u", 2, "click", item=clicked),
    ]
    via_sql, via_polars = both_engines(to_frame(rows), RunConfig(gap=timedelta(seconds=5)))
    assert via_sql["searches"]["first_click_position"].to_list() == [position]
    assert via_sql["searches"]["n_results"].to_list() == [4]
    assert_same_tables(via_sql, via_polars)


# --- properties ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("gap_rule", "tz"), CONFIGS)
@ENGINE_SETTINGS
@given(rows=event_logs)
def test_engines_agree(gap_rule: str, tz: str, rows: list[dict]) -> None:
    config = RunConfig(gap=GAP, gap_rule=gap_rule, timezone=tz)
    assert_same_tables(*both_engines(to_frame(rows), config))


@pytest.mark.parametrize(("gap_rule", "tz"), CONFIGS[1:3])
@ENGINE_SETTINGS
@given(rows=event_logs)
def test_sql_engine_matches_reference(gap_rule: str, tz: str, rows: list[dict]) -> None:
    config = RunConfig(gap=GAP, gap_rule=gap_rule, timezone=tz)
    tables = compute_tables_duckdb(to_frame(rows), config)
    actual = with_session_keys({name: frame.to_dicts() for name, frame in tables.items()})
    expected = with_session_keys(reference_tables(rows, GAP, gap_rule, tz))
    assert_same_rows("sessions", actual["sessions"], expected["sessions"], SESSION_COLUMNS)
    assert_same_rows("searches", actual["searches"], expected["searches"], SEARCH_COLUMNS)
    assert quarantine_multiset(actual["quarantine"]) == quarantine_multiset(expected["quarantine"])
    assert_same_rows("ctr_daily", actual["ctr_daily"], expected["ctr_daily"], DAILY_COLUMNS)
    assert_same_rows(
        "ctr_by_query", actual["ctr_by_query"], expected["ctr_by_query"], BY_QUERY_COLUMNS
    )


def test_seconds_columns_are_the_durations_divided_exactly_in_both_engines() -> None:
    """``x_s`` is microseconds / 1e6 correctly rounded (100 ms reads 0.1), bit for bit alike."""
    events = generate_events(events=30_000, users=300, days=2, seed=4)
    polars_tables = compute(events).tables
    sql_tables = compute_tables_duckdb(events, RunConfig())
    for table, duration in (("sessions", "duration"), ("searches", "time_to_first_click")):
        for tables in (polars_tables, sql_tables):
            frame = tables[table].drop_nulls(duration)
            micros = frame[duration].dt.total_microseconds().to_list()
            assert frame[f"{duration}_s"].to_list() == [m / 1e6 for m in micros]
        keys = ["user_id", "session_id"] + (["search_index"] if table == "searches" else [])
        seconds = [
            tables[table].sort(keys)[f"{duration}_s"] for tables in (polars_tables, sql_tables)
        ]
        assert seconds[0].equals(seconds[1], null_equal=True)


def test_repeated_seq_values_of_normalized_frames_neither_engine_multiplies() -> None:
    """Columns are joined back by a private row number, not by ``_seq`` (hostile review)."""
    events = generate_events(events=400, users=5, days=1, seed=2).with_columns(
        (pl.int_range(pl.len()) // 2).alias("_seq")  # every _seq twice
    )
    sql = compute_tables_duckdb(events, RunConfig(), normalized=True)
    assert sql["sessions"]["n_events"].sum() + sql["quarantine"].height == events.height
