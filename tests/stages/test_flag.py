"""Bad rows go to quarantine with a reason; every row is processed or quarantined (§1)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from ctr_batch.batch.accounting import summarize
from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.config import RunConfig
from ctr_batch.stages.flag import flag_rows, ids_distinct, split_valid
from tests.conftest import events


def reasons(frame: pl.DataFrame, *, dedupe: bool = True) -> list[str | None]:
    lf = frame.lazy().with_row_index("_seq").with_columns(pl.col("_seq").cast(pl.Int64))
    valid, rejected = split_valid(flag_rows(lf, dedupe=dedupe))
    got = pl.concat(
        [valid.collect().with_columns(reason=pl.lit(None, pl.String)), rejected.collect()],
        how="diagonal_relaxed",
    )
    return got.sort("_seq")["reason"].to_list()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        pytest.param((None, 0, "search"), "null_user_id", id="null-user"),
        pytest.param(("u", None, "search"), "null_event_time", id="null-time"),
        pytest.param(("u", 0, "purchase"), "unknown_event_type", id="unknown-type"),
        pytest.param(("u", 0, "Search"), "unknown_event_type", id="case-matters"),
        pytest.param(("u", 0, None), "unknown_event_type", id="null-type"),
        pytest.param((None, None, "x"), "null_user_id", id="first-reason-wins"),
        pytest.param(("u", 0, "click"), None, id="valid"),
    ],
)
def test_each_bad_row_gets_its_reason(row: tuple[object, ...], reason: str | None) -> None:
    assert reasons(events(row)) == [reason]


def test_duplicate_event_id_keeps_first_in_input_order() -> None:
    frame = events(
        ("u", 5, "search"), ("u", 1, "search"), ("v", 2, "click"), event_id=["e1", "e1", None]
    )
    assert reasons(frame) == [None, "duplicate_event_id", None]


def test_duplicate_of_a_bad_row_is_kept() -> None:
    frame = events((None, 0, "search"), ("u", 0, "search"), event_id=["e1", "e1"])
    assert reasons(frame) == ["null_user_id", None]


def test_null_event_ids_are_never_duplicates() -> None:
    frame = events(("u", 0, "search"), ("u", 1, "click"), event_id=[None, None])
    assert reasons(frame) == [None, None]


def test_without_dedupe_repeated_ids_are_processed() -> None:
    frame = events(("u", 0, "search"), ("u", 1, "search"), event_id=["e1", "e1"])
    assert reasons(frame, dedupe=False) == [None, None]


def test_row_accounting_holds_and_summary_counts_reasons() -> None:
    frame = events(
        ("u", 0, "search"),
        (None, 1, "click"),
        ("u", None, "click"),
        ("u", 2, "buy"),
        ("u", 3, "click"),
        event_id=["a", "b", "c", "d", "a"],
    )
    tables = compute_tables(frame.lazy(), RunConfig(gap=timedelta(minutes=1)))
    summary = summarize(tables, frame.height)
    assert summary.rows_processed + summary.rows_quarantined == frame.height == 5
    assert summary.quarantined == {
        "null_user_id": 1,
        "null_event_time": 1,
        "unknown_event_type": 1,
        "duplicate_event_id": 1,
    }
    quarantine = tables["quarantine"]
    assert quarantine["event_type"].to_list() == ["click", "click", "buy", "click"]
    assert quarantine["source_row"].to_list() == [1, 2, 3, 4]


def test_summarize_refuses_lost_rows() -> None:
    tables = compute_tables(events(("u", 0, "search")).lazy(), RunConfig())
    with pytest.raises(AssertionError, match="row accounting"):
        summarize(tables, rows_read=2)


@pytest.mark.parametrize(
    ("ids", "distinct"),
    [
        pytest.param(["a", "b", None, None], True, id="nulls-are-not-ids"),
        pytest.param(["a", "b", "a"], False, id="repeat"),
        pytest.param([None, None], True, id="no-ids"),
    ],
)
def test_ids_distinct(ids: list[str | None], distinct: bool) -> None:
    frame = pl.DataFrame({"event_id": ids}, schema={"event_id": pl.String})
    assert frame.select(ids_distinct()).item() is distinct
