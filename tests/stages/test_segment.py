"""Search segments by cumulative search count and per-search figures (§4)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.config import RunConfig
from ctr_batch.stages.segment import count_within
from tests.conftest import events

CONFIG = RunConfig(gap=timedelta(minutes=1))


def tables(*rows: tuple[object, ...]) -> dict[str, pl.DataFrame]:
    return compute_tables(events(*rows).lazy(), CONFIG)


def test_count_within_restarts_at_starts() -> None:
    frame = pl.DataFrame({"f": [True, True, False, True], "s": [True, False, True, False]})
    assert frame.select(count_within(pl.col("f"), pl.col("s")))["f"].to_list() == [1, 2, 0, 1]


def test_clicks_before_first_search_count_for_session_not_for_searches() -> None:
    got = tables(("u", 0, "click"), ("u", 1, "search", "q"), ("u", 2, "click"))
    assert got["searches"].select("search_index", "n_clicks").rows() == [(1, 1)]
    session = got["sessions"].row(0, named=True)
    assert (session["n_clicks"], session["n_searches"], session["clicks_per_search"]) == (
        2,
        1,
        2.0,
    )


def test_session_without_search_has_no_ctr() -> None:
    got = tables(("u", 0, "app_open"), ("u", 1, "click"), ("u", 2, "app_close"))
    assert got["searches"].height == 0
    assert got["sessions"]["clicks_per_search"].to_list() == [None]
    daily = got["ctr_daily"].row(0, named=True)
    assert (daily["searches"], daily["ctr"], daily["sessions"], daily["clicks"]) == (0, None, 1, 0)


def test_search_index_counts_searches_in_session() -> None:
    got = tables(*[("u", i, "search", f"q{i}") for i in range(3)])
    assert got["searches"]["search_index"].to_list() == [1, 2, 3]


def test_search_index_restarts_in_each_session() -> None:
    got = tables(("u", 0, "search", "a"), ("u", 1, "search", "b"), ("u", 200, "search", "c"))
    assert got["searches"].select("query", "search_index").rows() == [("a", 1), ("b", 2), ("c", 1)]


def test_first_click_position_is_the_first_rank_of_a_repeated_item() -> None:
    got = tables(("u", 0, "search", "q"), ("u", 1, "results", None, ["x", "y", "x"]),
                 ("u", 2, "click", None, None, "x"))  # fmt: skip
    assert got["searches"]["first_click_position"].to_list() == [1]


def test_n_results_uses_first_results_list_of_segment() -> None:
    got = tables(
        ("u", 0, "search", "q"),
        ("u", 1, "results", None, ["a", "b"]),
        ("u", 2, "results", None, ["c"]),
        ("u", 3, "click", None, None, "b"),
    )
    search = got["searches"].row(0, named=True)
    assert (search["n_results"], search["first_click_position"]) == (2, 2)
    assert search["time_to_first_click"] == timedelta(seconds=3)


def test_first_click_not_in_list_gives_null_position() -> None:
    got = tables(
        ("u", 0, "search", "q"),
        ("u", 1, "results", None, ["a"]),
        ("u", 2, "click", None, None, "zz"),
        ("u", 3, "click", None, None, "a"),
    )
    search = got["searches"].row(0, named=True)
    assert (search["n_clicks"], search["first_click_position"]) == (2, None)


def test_search_without_results_has_null_results_and_position() -> None:
    got = tables(("u", 0, "search", "q"), ("u", 1, "click", None, None, "a"))
    search = got["searches"].row(0, named=True)
    assert (search["n_results"], search["first_click_position"], search["ctr"]) == (
        None,
        None,
        1.0,
    )


def test_empty_results_list_has_zero_results() -> None:
    got = tables(("u", 0, "search", "q"), ("u", 1, "results", None, []))
    assert got["searches"]["n_results"].to_list() == [0]


def test_results_of_previous_segment_do_not_leak() -> None:
    got = tables(
        ("u", 0, "search", "q"),
        ("u", 1, "results", None, ["a"]),
        ("u", 2, "search", "r"),
        ("u", 3, "click", None, None, "a"),
    )
    assert got["searches"].select("n_results", "n_clicks", "first_click_position").rows() == [
        (1, 0, None),
        (None, 1, None),
    ]
