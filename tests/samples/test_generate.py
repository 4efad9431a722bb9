from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ctr_batch.core.errors import ConfigError
from ctr_batch.core.schema import (
    APP_OPEN,
    CLICK,
    DATE,
    EVENT_ID,
    EVENT_TIME,
    EVENT_TYPE,
    EVENT_TYPES,
    EVENTS_SCHEMA,
    ITEM,
    ITEMS,
    QUERY,
    RESULTS,
    SEARCH,
    USER_ID,
)
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import UNKNOWN_TYPE, generate_events

if TYPE_CHECKING:
    from pathlib import Path

GAP = timedelta(minutes=30)
ARGS: dict[str, Any] = {"events": 60_000, "users": 2_000, "days": 3, "seed": 11}
SEQ, IDLE, SESSION, SEGMENT = "seq", "idle", "session", "segment"


def generate(**changes: Any) -> pl.DataFrame:
    return generate_events(**{**ARGS, **changes})


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return generate()


@pytest.fixture(scope="module")
def ordered(frame: pl.DataFrame) -> pl.DataFrame:
    """Events per user in time order (ties in file order), with 30-minute sessions."""
    is_search = (pl.col(EVENT_TYPE) == SEARCH).cast(pl.UInt32)
    return (
        frame.with_row_index(SEQ)
        .sort(USER_ID, EVENT_TIME, SEQ)
        .with_columns(pl.col(EVENT_TIME).diff().over(USER_ID).alias(IDLE))
        .with_columns(
            (pl.col(IDLE).is_null() | (pl.col(IDLE) > GAP)).cum_sum().over(USER_ID).alias(SESSION)
        )
        .with_columns(is_search.cum_sum().over(USER_ID, SESSION).alias(SEGMENT))
    )


def test_same_seed_gives_the_same_frame(frame: pl.DataFrame) -> None:
    again = generate()
    assert_frame_equal(frame, again)
    assert frame.hash_rows().equals(again.hash_rows())


def test_another_seed_gives_another_frame(frame: pl.DataFrame) -> None:
    other = generate(seed=12)
    assert not frame.equals(other)


@pytest.mark.parametrize(
    ("events", "rate"),
    [
        pytest.param(3_000, 0.0, id="3k"),
        pytest.param(60_000, 0.0, id="60k"),
        pytest.param(60_000, 0.05, id="60k-bad-rows"),
        pytest.param(200_000, 0.01, id="200k-bad-rows"),
    ],
)
def test_size_within_two_percent(events: int, rate: float) -> None:
    got = generate_events(events=events, users=500, days=2, seed=3, bad_row_rate=rate).height
    assert abs(got - events) <= 0.02 * events


def test_schema_and_columns_by_event_type(frame: pl.DataFrame) -> None:
    assert frame.schema == EVENTS_SCHEMA
    assert set(frame[EVENT_TYPE].unique()) == set(EVENT_TYPES)
    by_type = frame.group_by(EVENT_TYPE).agg(
        pl.col(QUERY).is_not_null().all().alias(SEARCH),
        pl.col(QUERY).is_null().all().alias(f"no_{QUERY}"),
        pl.col(ITEMS).is_not_null().all().alias(RESULTS),
        pl.col(ITEMS).is_null().all().alias(f"no_{ITEMS}"),
        pl.col(ITEM).is_not_null().all().alias(CLICK),
        pl.col(ITEM).is_null().all().alias(f"no_{ITEM}"),
    )
    for row in by_type.iter_rows(named=True):
        kind = row[EVENT_TYPE]
        for own, column in ((SEARCH, QUERY), (RESULTS, ITEMS), (CLICK, ITEM)):
            assert row[own if kind == own else f"no_{column}"], (kind, column)
    required = pl.col(USER_ID, EVENT_TIME, EVENT_TYPE, EVENT_ID)
    assert not frame.select(pl.any_horizontal(required.is_null()).any()).item()
    assert frame[EVENT_ID].is_unique().all()
    assert frame[EVENT_ID].str.contains(r"^e\d{8}$").all()


def test_queries_are_one_to_three_words_with_zipf_popularity(frame: pl.DataFrame) -> None:
    queries = frame.filter(pl.col(EVENT_TYPE) == SEARCH)[QUERY]
    assert queries.str.split(" ").list.len().is_between(1, 3).all()
    counts = queries.value_counts(sort=True)["count"]
    assert counts.len() > 1_000
    assert counts[0] > 20 * counts.median()


def test_each_click_is_in_the_preceding_results_list(ordered: pl.DataFrame) -> None:
    kind = pl.col(EVENT_TYPE)
    seen = ordered.with_columns(
        pl.when(kind == RESULTS).then(ITEMS).forward_fill().over(USER_ID).alias("last_list"),
        pl.when(kind != CLICK).then(kind).forward_fill().over(USER_ID).alias("last_kind"),
    ).filter(kind == CLICK)
    from_results = seen.filter(pl.col("last_kind") == RESULTS)
    assert from_results[ITEM].len() > 0.95 * seen.height
    assert from_results.select(pl.col("last_list").list.contains(pl.col(ITEM)).all()).item()
    # The rest are notification clicks, right after an app_open, in ~1% of sessions.
    early = seen.filter(pl.col("last_kind") != RESULTS)
    assert (early["last_kind"] == APP_OPEN).all()
    sessions = ordered.select(pl.struct(USER_ID, SESSION).n_unique()).item()
    assert 0.003 < early.height / sessions < 0.03


def test_session_and_search_shares_are_plausible(ordered: pl.DataFrame) -> None:
    kind = pl.col(EVENT_TYPE)
    sessions = ordered.group_by(USER_ID, SESSION).agg((kind == SEARCH).sum().alias("n"))
    assert 0.08 < (sessions["n"] == 0).mean() < 0.18
    assert 1.6 < sessions["n"].mean() < 2.6
    results = ordered.filter(kind == RESULTS)[ITEMS].list.len()
    assert 0.02 < (results == 0).mean() < 0.07
    assert results.max() == 10
    segments = ordered.filter(pl.col(SEGMENT) > 0).group_by(USER_ID, SESSION, SEGMENT)
    clicked = segments.agg((kind == CLICK).any().alias("clicked"))["clicked"]
    assert 0.35 < clicked.mean() < 0.55


def test_clicks_favour_the_top_ranks(frame: pl.DataFrame) -> None:
    ranks = frame.filter(pl.col(EVENT_TYPE) == CLICK)[ITEM].str.slice(-2).cast(pl.Int32)
    counts = ranks.value_counts().sort(ITEM)["count"]
    assert counts.len() == 10
    assert counts[0] > 5 * counts[9]
    assert counts.is_sorted(descending=True)


def test_users_activity_is_skewed(frame: pl.DataFrame) -> None:
    per_user = frame.group_by(USER_ID).len()["len"]
    assert per_user.max() > 10 * per_user.median()


def test_days_and_daytime(frame: pl.DataFrame) -> None:
    times = frame[EVENT_TIME]
    assert times.min().date() == date(2026, 11, 1)
    assert times.dt.date().n_unique() in {3, 4}  # sessions may run past the last midnight
    hours = times.dt.hour()
    assert (hours.is_between(12, 17)).sum() > 3 * (hours.is_between(0, 5)).sum()


def test_order_is_rough_but_keeps_each_users_order(frame: pl.DataFrame) -> None:
    earlier = pl.col(EVENT_TIME).diff() < timedelta(0)
    assert 0.002 < frame.select(earlier.mean()).item() < 0.1
    assert not frame.select(earlier.over(USER_ID).any()).item()


def test_small_gap_keeps_sessions_apart() -> None:
    gap = timedelta(seconds=10)
    frame = generate(events=20_000, users=20, days=1, gap=gap).with_row_index(SEQ)
    earlier = pl.col(EVENT_TIME).diff() < timedelta(0)
    assert not frame.select(earlier.over(USER_ID).any()).item()
    idle = frame.sort(USER_ID, EVENT_TIME, SEQ).select(pl.col(EVENT_TIME).diff().over(USER_ID))
    assert (idle.to_series() == gap).sum() > 0


def test_gaps_near_the_session_gap_and_ties(ordered: pl.DataFrame) -> None:
    idle = ordered[IDLE].drop_nulls()
    long = idle.filter(idle > GAP * 0.5)
    assert (long == GAP).sum() > 10
    assert 0.01 < long.is_between(GAP * 0.9, GAP * 1.1).mean() < 0.1
    assert (idle == timedelta(0)).mean() > 0.02


def test_bad_rows_of_each_kind() -> None:
    frame = generate(events=20_000, bad_row_rate=0.04)
    share = 20_000 * 4 // 100 // 4
    dup = pl.col(EVENT_ID).is_duplicated()
    counts = frame.select(
        pl.col(USER_ID).is_null().sum(),
        pl.col(EVENT_TIME).is_null().sum(),
        (pl.col(EVENT_TYPE) == UNKNOWN_TYPE).sum(),
        (dup & ~pl.col(EVENT_ID).is_first_distinct()).sum(),
    ).row(0)
    assert counts == (share,) * 4
    copies = frame.with_columns(frame.hash_rows().alias("hash")).filter(dup)
    assert (copies.group_by(EVENT_ID).agg(pl.col("hash").n_unique())["hash"] == 1).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"events": -1}, id="negative-events"),
        pytest.param({"users": 0}, id="no-users"),
        pytest.param({"days": 0}, id="no-days"),
        pytest.param({"gap": timedelta(0)}, id="zero-gap"),
        pytest.param({"bad_row_rate": 1.0}, id="all-bad"),
    ],
)
def test_rejects_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="expected events >= 0"):
        generate(**kwargs)


def test_no_events() -> None:
    frame = generate(events=0, bad_row_rate=0.5)
    assert frame.height == 0
    assert frame.schema == EVENTS_SCHEMA


@pytest.fixture(scope="module")
def with_bad_rows() -> pl.DataFrame:
    return generate_events(events=5_000, users=50, days=3, seed=5, bad_row_rate=0.05)


def test_write_one_file(with_bad_rows: pl.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "events.parquet"
    assert write_events(with_bad_rows.head(10), out) == [out]
    assert write_events(with_bad_rows, out) == [out]  # replaces the file
    assert_frame_equal(pl.scan_parquet(out, hive_partitioning=False).collect(), with_bad_rows)
    assert sorted(p.name for p in out.parent.iterdir()) == ["events.parquet"]


def test_write_day_partitions(with_bad_rows: pl.DataFrame, tmp_path: Path) -> None:
    paths = write_events(with_bad_rows, tmp_path / "events")
    days = with_bad_rows[EVENT_TIME].dt.date().unique().drop_nulls().sort()
    assert paths == [tmp_path / "events" / f"{DATE}={d}" / "events.parquet" for d in days]
    assert sorted((tmp_path / "events").rglob("*.parquet")) == paths
    assert not list(tmp_path.rglob(".*"))  # no temporary file left behind
    back = pl.scan_parquet(tmp_path / "events", hive_partitioning=False).collect()
    day = pl.col(EVENT_TIME).dt.date().fill_null(days[0])
    expected = with_bad_rows.sort(day, maintain_order=True)  # stable: file order within a day
    assert_frame_equal(back, expected)
    for path, d in zip(paths, days, strict=True):
        part = pl.read_parquet(path, hive_partitioning=False)
        assert part.select(day.eq(d).all()).item()
