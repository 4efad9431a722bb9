"""Sessions far longer than the lookback: every backfill order, and nightly arrival, is exact."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.days.backfill import backfill
from ctr_batch.days.config import BackfillConfig
from ctr_batch.days.manifest import read_manifest
from ctr_batch.days.window import days_between
from ctr_batch.io.write import write_events
from ctr_batch.sql.query import run_checks
from tests.days.test_backfill import assert_same_tables, chunked, day_by_day
from tests.strategies import to_frame

if TYPE_CHECKING:
    from pathlib import Path

GAP = timedelta(minutes=30)
LOOKBACK = timedelta(hours=1)  # sessions below reach ten times as far and more
START = datetime(2024, 1, 1, 6, tzinfo=UTC)
DAYS = days_between(date(2023, 12, 31), date(2024, 1, 4))
MINUTE = timedelta(minutes=1)
STEPS = (
    timedelta(0), MINUTE, 29 * MINUTE, GAP, GAP + timedelta(microseconds=1), 31 * MINUTE,
    180 * MINUTE,
)  # fmt: skip
KINDS = ("search", "results", "click", "click", "app_open", "app_close")


@st.composite
def long_session_logs(draw: st.DrawFn) -> pl.DataFrame:
    """A few users, each a run of events mostly less than a gap apart (sessions of hours)."""
    rows = []
    for user in draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True)):
        time = START + timedelta(hours=draw(st.integers(0, 40)))
        steps = draw(st.lists(st.sampled_from(STEPS[:3] * 4 + STEPS[3:]), max_size=60))
        for step in [timedelta(0), *steps]:
            time += step
            kind = draw(st.sampled_from(KINDS))
            rows.append({
                "user_id": user, "event_time": time, "event_type": kind,
                "query": "q" if kind == "search" else None,
                "items": ["x", "y"] if kind == "results" else None,
                "item": "y" if kind == "click" else None, "event_id": None,
            })  # fmt: skip
    return to_frame(rows)


@settings(max_examples=15, deadline=None)
@given(
    log=long_session_logs(),
    rule=st.sampled_from(["inclusive", "exclusive"]),
    zone=st.sampled_from(["UTC", "America/New_York"]),
    longest=st.sampled_from([None, None, timedelta(hours=2)]),
    seed=st.integers(0, 1000),
)
def test_every_order_equals_one_run_however_long_the_sessions(  # type: ignore[no-untyped-def]
    tmp_path_factory, log: pl.DataFrame, rule: str, zone: str, longest: timedelta, seed: int
) -> None:
    root = tmp_path_factory.mktemp("long")
    write_events(log, root / "events")
    config = BackfillConfig(
        run=RunConfig(gap=GAP, gap_rule=rule, timezone=zone, max_session=longest),  # type: ignore[arg-type]
        lookback=LOOKBACK,
        allow_empty=True,
    )
    run([root / "events"], root / "full", config.run)
    rng = random.Random(seed)
    for name, ranges in {
        "reverse": [(d, d) for d in reversed(DAYS)],
        "chunks": chunked(DAYS, rng),
    }.items():
        for first, last in ranges:
            backfill([root / "events"], root / name, first, last, config)
        assert_same_tables(root / name, root / "full")
    _nightly(root, config)
    assert_same_tables(root / "nightly", root / "full")
    one_day = rng.choice(DAYS)  # a partial range is whole too: every check passes
    backfill([root / "events"], root / "partial", one_day, one_day, config)
    assert not {name for name, rows in run_checks(root / "partial").items() if rows.height}


def _nightly(root: Path, config: BackfillConfig) -> None:
    """Each UTC day's folder arrives, then that day is backfilled, as a nightly job does.

    In another time zone, a UTC folder also holds rows of the local day before, so the job
    backfills both (the day before is computed again only if its inputs changed).
    """
    arrived = root / "arrived"
    arrived.mkdir()
    behind = timedelta(days=0 if config.run.timezone == "UTC" else 1)
    for day in DAYS:
        folder = root / "events" / f"date={day}"
        if folder.exists():
            shutil.copytree(folder, arrived / folder.name)
        if any(arrived.iterdir()):  # before the first folder there is nothing to read
            backfill([arrived], root / "nightly", day - behind, day, config)


def test_a_bot_session_of_days_is_read_whole_and_rerun_skips_it(tmp_path: Path) -> None:
    # one user clicking every 20 minutes for 3 days: one session, longer than the lookback
    times = pl.datetime_range(
        pl.datetime(2026, 11, 1, time_zone="UTC"), pl.datetime(2026, 11, 4, time_zone="UTC"),
        interval="20m", eager=True,
    )  # fmt: skip
    frame = to_frame([
        {"user_id": "u", "event_time": t, "event_type": "click", "query": None, "items": None,
         "item": None, "event_id": None}
        for t in times
    ])  # fmt: skip
    write_events(frame, tmp_path / "events")
    config = BackfillConfig(allow_empty=True)
    nightly = day_by_day(tmp_path / "events", tmp_path / "out", (1, 2, 3, 4), config)
    assert nightly[0].record.long_sessions == 1
    assert nightly[0].record.window[1] > "2026-11-04"  # its reach: the bot's whole session
    run([tmp_path / "events"], tmp_path / "full", config.run)
    assert_same_tables(tmp_path / "out", tmp_path / "full")
    assert not {name for name, rows in run_checks(tmp_path / "out").items() if rows.height}
    again = backfill([tmp_path / "events"], tmp_path / "out", date(2026, 11, 1),
                     date(2026, 11, 4), config)  # fmt: skip
    assert not any(report.computed for report in again)
    (tmp_path / "events" / "date=2026-11-03" / "events.parquet").unlink()  # the bot paused
    changed = backfill([tmp_path / "events"], tmp_path / "out", date(2026, 11, 4),
                       date(2026, 11, 4), config)  # fmt: skip
    assert {r.day for r in changed if r.computed} >= {date(2026, 11, 1), date(2026, 11, 2)}
    run([tmp_path / "events"], tmp_path / "full2", config.run)
    assert_same_tables(tmp_path / "out", tmp_path / "full2")
    reach = read_manifest(tmp_path / "out")["2026-11-01"].window
    assert "2026-11-02T23" < reach[1] < "2026-11-03T01"  # its session now ends on Nov 2


def test_each_day_records_how_it_met_its_neighbours(tmp_path: Path) -> None:
    midnight = datetime(2026, 11, 2, tzinfo=UTC)
    minutes = [-20, -10, 5]  # u: one session across midnight
    rows = [
        {"user_id": "u", "event_time": midnight + timedelta(minutes=m), "event_type": "search",
         "query": "q", "items": None, "item": None, "event_id": None}
        for m in minutes
    ] + [  # bot: a click every 20 minutes from 20:00 to 23:00, cut every hour
        {"user_id": "bot", "event_time": midnight - timedelta(hours=4) + 20 * MINUTE * i,
         "event_type": "click", "query": None, "items": None, "item": None, "event_id": None}
        for i in range(10)
    ]  # fmt: skip
    frame = to_frame(rows)
    write_events(frame, tmp_path / "events")
    late = frame.filter(pl.col("user_id") == "bot").tail(1)  # 23:00 on the 1st, in the 2nd's
    late.write_parquet(tmp_path / "events" / "date=2026-11-02" / "late.parquet")
    config = BackfillConfig(run=RunConfig(gap=GAP, max_session="1h"), allow_empty=True)
    first, second = backfill([tmp_path / "events"], tmp_path / "out", date(2026, 11, 1),
                             date(2026, 11, 2), config)  # fmt: skip
    assert first.record.capped_sessions == 2  # 20:00-21:00, then 21:20-22:20 and 22:40-23:00
    assert first.record.late_rows == 1
    assert (first.record.continued_sessions, second.record.continued_sessions) == (0, 1)
    assert second.record.late_rows == 0


@pytest.mark.parametrize(("nights", "lookback"), [(5, "1d"), (8, "2h")])
def test_a_bot_of_days_night_by_night_as_folders_arrive(
    tmp_path: Path, nights: int, lookback: str
) -> None:
    # sessions longer than two days: later nights change days they no longer read, and days
    # computed together record the window their own sessions needed
    times = pl.datetime_range(
        datetime(2026, 11, 1, 3, tzinfo=UTC),
        datetime(2026, 11, nights, 2, tzinfo=UTC),
        "20m",
        eager=True,
    )
    kinds = ["search", "click"] * (len(times) // 2)
    frame = to_frame([
        {"user_id": "bot", "event_time": t, "event_type": k, "query": "q", "items": None,
         "item": "a", "event_id": None}
        for t, k in zip(times, kinds, strict=False)
    ])  # fmt: skip
    write_events(frame, tmp_path / "events")
    arrived = tmp_path / "arrived"
    arrived.mkdir()
    config = BackfillConfig(lookback=lookback, allow_empty=True)
    for day in range(1, nights + 1):
        folder = f"date=2026-11-0{day}"
        shutil.copytree(tmp_path / "events" / folder, arrived / folder)
        backfill([arrived], tmp_path / "out", date(2026, 11, day), date(2026, 11, day), config)
    run([tmp_path / "events"], tmp_path / "full", config.run)
    assert_same_tables(tmp_path / "out", tmp_path / "full")
    assert not {name for name, rows in run_checks(tmp_path / "out").items() if rows.height}


def _searches(start: datetime, end: datetime, user: str = "bot") -> pl.DataFrame:
    """One search every 20 minutes from `start` to `end`."""
    times = pl.datetime_range(start, end, interval="20m", eager=True)
    return pl.DataFrame(
        {"user_id": user, "event_time": times, "event_type": "search", "query": "q"}
    )


def test_an_early_row_of_a_long_session_reaches_the_later_days_searches(tmp_path: Path) -> None:
    # a session of three days, backfilled at once; then a row at its start arrives late: the
    # later days' searches (their index in the session) change too, and are computed again
    start = datetime(2026, 11, 1, 22, tzinfo=UTC)
    write_events(_searches(start, datetime(2026, 11, 4, 1, tzinfo=UTC)), tmp_path / "events")
    config = BackfillConfig(lookback=timedelta(hours=2), allow_empty=True)
    days = (date(2026, 11, 1), date(2026, 11, 4))
    backfill([tmp_path / "events"], tmp_path / "out", *days, config)
    late = _searches(start + timedelta(minutes=10), start + timedelta(minutes=10))
    late.write_parquet(tmp_path / "events" / "date=2026-11-01" / "late.parquet")
    backfill([tmp_path / "events"], tmp_path / "out", days[0], days[0], config)
    backfill([tmp_path / "events"], tmp_path / "out", *days, config)
    run([tmp_path / "events"], tmp_path / "full", config.run)
    assert_same_tables(tmp_path / "out", tmp_path / "full")


def test_a_late_row_two_local_days_back_is_picked_up_the_night_it_lands(tmp_path: Path) -> None:
    # UTC folders, a zone three hours behind: a row of local Nov 1 22:00 (Nov 2 01:00 UTC)
    # lands in Nov 3's folder; the night of Nov 3 computes Nov 1 again
    zone = RunConfig(timezone="America/Sao_Paulo")
    config = BackfillConfig(run=zone, lookback=timedelta(hours=2), allow_empty=True)
    events = tmp_path / "events"
    for day in (1, 2, 3):
        folder = events / f"date=2026-11-0{day}"
        noon = datetime(2026, 11, day, 15, tzinfo=UTC)
        _searches(noon, noon, user=f"u{day}").write_parquet(folder / "a.parquet", mkdir=True)
        if day == 3:
            late = datetime(2026, 11, 2, 1, tzinfo=UTC)
            _searches(late, late, user="late").write_parquet(folder / "late.parquet")
        backfill([events], tmp_path / "out", date(2026, 11, day), date(2026, 11, day), config)
    run([events], tmp_path / "full", zone)
    assert_same_tables(tmp_path / "out", tmp_path / "full")
