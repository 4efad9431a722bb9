"""Any events read as the contract columns: names mapped, types converted, gaps filled."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from ctr_batch.core.errors import SchemaError
from ctr_batch.core.schema import EVENTS_SCHEMA, SEQ
from ctr_batch.io.normalize import normalize_events

T = datetime(2024, 1, 1, 9)


def test_types_are_converted_and_missing_optional_columns_are_null() -> None:
    frame = pl.LazyFrame({
        "uid": pl.Series([7, 8, 9], dtype=pl.UInt16),
        "event_time": pl.Series([T] * 3).cast(pl.Datetime("ns")).dt.replace_time_zone("Asia/Tokyo"),  # noqa: E501
        "event_type": pl.Series(["search", "click", "results"], dtype=pl.Categorical),
        "event_id": [1, 2, 3],
        "other": [0, 0, 0],
    })  # fmt: skip
    got = normalize_events(frame, {"user_id": "uid"}).collect()
    assert got.drop(SEQ).schema == EVENTS_SCHEMA
    assert got[SEQ].to_list() == [0, 1, 2]
    assert got["user_id"].to_list() == ["7", "8", "9"]
    assert got["event_id"].to_list() == ["1", "2", "3"]
    assert got["event_time"][0] == datetime(2024, 1, 1, 0, tzinfo=got["event_time"][0].tzinfo)
    assert got["items"].to_list() == [None] * 3


def test_extra_columns_are_kept_and_an_input_seq_is_ignored() -> None:
    frame = pl.LazyFrame({"user_id": ["a"] * 3, "event_time": [T] * 3,
                          "event_type": ["search"] * 3, "offset": [3, 1, 2], SEQ: [5, 6, 7]})  # fmt: skip  # noqa: E501
    got = normalize_events(frame, extra=["offset"]).collect()
    assert got[SEQ].to_list() == [0, 1, 2]  # row order is input order; the input's is ignored
    assert got["offset"].to_list() == [3, 1, 2]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        pytest.param({"user_id": ["a"], "event_type": ["search"]},
                     r"^src: missing columns \['event_time'\]", id="missing"),
        pytest.param({"user_id": ["a"], "event_time": ["2024-01-01"], "event_type": ["search"]},
                     r"^src: column 'event_time' must be a timestamp; found String$", id="text-time"),  # noqa: E501
        pytest.param({"user_id": [1.5], "event_time": [T], "event_type": ["search"]},
                     r"^src: column 'user_id' must be a string or integer", id="float-user"),
        pytest.param({"user_id": ["a"], "event_time": [T], "event_type": ["search"], "items": [[1]]},  # noqa: E501
                     r"^src: column 'items' must be a list of strings", id="int-items"),
    ],
)  # fmt: skip
def test_unreadable_columns_are_one_line_schema_errors(columns: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(SchemaError, match=message):
        normalize_events(pl.LazyFrame(columns), source="src")
