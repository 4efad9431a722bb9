"""The tutorial examples give exactly the reference results of CONTRACT §4."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.golden import CASES, COMPARED_TABLES, as_csv_text, compute_case, expected_path

if TYPE_CHECKING:
    import polars as pl


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, dict[str, pl.DataFrame]]:
    return request.param, compute_case(request.param)


def test_blog_searches_match_contract() -> None:
    searches = compute_case("blog")["searches"]
    got = searches.select("query", "ctr", "n_clicks").rows()
    assert got == [("dogs", 1.0, 1), ("cats", 1.0, 2), ("fruit", 0.0, 0)]


def test_blog_sessions_match_contract() -> None:
    sessions = compute_case("blog")["sessions"]
    got = sessions.select("user_id", "n_searches", "n_clicks", "clicks_per_search").rows()
    assert got == [("1", 2, 3, 1.5), ("2", 1, 0, 0.0)]


def test_tutorial_0_19_clicks_per_search_match_contract() -> None:
    sessions = compute_case("tutorial_0_19")["sessions"]
    assert sessions.select("user_id", "clicks_per_search").rows() == [("1", 1.0), ("2", 2.0)]


def test_blog_first_click_details() -> None:
    searches = compute_case("blog")["searches"]
    assert searches["n_results"].to_list() == [3, 3, None]
    assert searches["first_click_position"].to_list() == [2, 1, None]
    assert searches["time_to_first_click"].dt.total_seconds().to_list() == [2, 2, None]


@pytest.mark.parametrize("table", COMPARED_TABLES)
def test_tables_equal_golden_csv(case: tuple[str, dict[str, pl.DataFrame]], table: str) -> None:
    name, tables = case
    expected = expected_path(name, table).read_text(encoding="utf-8")
    assert as_csv_text(tables[table]) == expected, "run `python -m tests.golden --update`?"
