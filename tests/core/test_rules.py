"""The rules batch and stream share: where a session opens, its id, and an event's day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from ctr_batch.core.rules import local_date, opens_session, session_id

T = datetime(2024, 3, 10, 6, 59, 59, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [pytest.param("inclusive", [True, False, True], id="inclusive: exactly gap joins"),
     pytest.param("exclusive", [True, True, True], id="exclusive: exactly gap splits")],
)  # fmt: skip
def test_opens_session_at_exactly_the_gap(rule: str, expected: list[bool]) -> None:
    frame = pl.DataFrame({"user_id": ["a", "a", "a"], "event_time": [T, T + timedelta(seconds=5),
                          T + timedelta(seconds=10, microseconds=1)]})  # fmt: skip
    got = frame.select(opens_session(timedelta(seconds=5), rule))  # type: ignore[arg-type]
    assert got.to_series().to_list() == expected


def test_a_new_user_opens_a_session_even_at_the_same_instant() -> None:
    frame = pl.DataFrame({"user_id": ["a", "b", None], "event_time": [T, T, T]})
    assert frame.select(opens_session(timedelta(hours=1))).to_series().to_list() == [True] * 3


def test_session_id_keeps_microseconds_and_utc() -> None:
    frame = pl.DataFrame({"user_id": ["u/1"], "session_start": [T]})
    assert frame.select(session_id()).item() == "u/1/2024-03-10T06:59:59.123456Z"


def test_local_date_follows_the_zone_across_midnight_and_dst() -> None:
    frame = pl.DataFrame({"t": [T, T + timedelta(hours=1)]})  # 07:59 UTC = 03:59 EDT
    days = frame.select(local_date("t", "America/New_York")).to_series().to_list()
    assert [str(d) for d in days] == ["2024-03-10", "2024-03-10"]
    assert str(frame.select(local_date("t", "Pacific/Kiritimati")).item(0, 0)) == "2024-03-10"
    assert str(frame.select(local_date("t", "Etc/GMT+8")).item(0, 0)) == "2024-03-09"
