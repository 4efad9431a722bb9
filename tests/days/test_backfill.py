"""Nightly backfill: incremental equals full recompute, atomic, resumable, locked (issue 4)."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError, InputError
from ctr_batch.days.backfill import backfill
from ctr_batch.days.config import BackfillConfig
from ctr_batch.days.window import days_between
from ctr_batch.io.lock import exclusive_lock
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events
from ctr_batch.sql.query import run_checks
from tests.strategies import GAP, event_logs, to_frame

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.days.plan import DayReport

TABLE_KEYS = {
    "sessions": ["session_id"],
    "searches": ["session_id", "search_index"],
    "ctr_daily": ["date"],
    "ctr_by_query": ["query"],
}
CONFIG = BackfillConfig(
    run=RunConfig(gap=GAP), lookback=timedelta(hours=2), allow_empty=True, max_quarantine=1.0
)


def load(out: Path, table: str) -> pl.DataFrame:
    frame = pl.read_parquet(out / table / "**" / "*.parquet", hive_partitioning=False)
    return frame.sort(TABLE_KEYS[table], nulls_last=True)


def home_days(quarantine: pl.DataFrame) -> pl.Series:
    folder = quarantine["source_file"].str.extract(r"date=(\d{4}-\d{2}-\d{2})", 1)
    return folder.str.to_date()


def assert_same_tables(a: Path, b: Path, days: tuple[date, date] | None = None) -> None:
    """Same tables; quarantine compared for rows whose home day is in `days` (default: all)."""
    for table in TABLE_KEYS:
        left, right = load(a, table), load(b, table)
        assert left.equals(right.select(left.columns)), table
    qa = pl.read_parquet(a / "quarantine" / "**" / "*.parquet", hive_partitioning=False)
    qb = pl.read_parquet(b / "quarantine" / "**" / "*.parquet", hive_partitioning=False)
    if days:
        qb = qb.filter(home_days(qb).is_between(*days))
    key = ["source_file", "source_row"]
    assert qa.sort(key).equals(qb.sort(key).select(qa.columns))


def day_by_day(
    events: Path, out: Path, days: tuple[int, ...], config: BackfillConfig
) -> list[DayReport]:
    """Backfill each of `days` (of November 2026) alone, in order, as a nightly job does."""
    return [
        report
        for day in days
        for report in backfill([events], out, date(2026, 11, day), date(2026, 11, day), config)
    ]


def chunked(days: list[date], rng: random.Random) -> list[tuple[date, date]]:
    cuts = sorted(rng.sample(range(1, len(days)), k=min(2, len(days) - 1)))
    bounds = [0, *cuts, len(days)]
    chunks = [(days[i], days[j - 1]) for i, j in itertools.pairwise(bounds)]
    rng.shuffle(chunks)
    return chunks


def ids_within_reach(frame: pl.DataFrame) -> pl.DataFrame:
    """The log with repeated ids only among rows less than 3 h apart (from 23:00 on Jan 1).

    A backfill finds duplicate ids within a day's window (README), a full run anywhere: an id
    whose copies lie hours apart (the strategies' runs start at 23:50, 00:00 and 05:00) may be
    judged differently by a window that sees one copy only. Every window that sees a row of a
    3-hour block from 23:00 sees the whole block, midnight included.
    """
    block = (pl.col("event_time") - datetime(2024, 1, 1, 23, tzinfo=UTC)).dt.total_hours() // 3
    return frame.with_columns(pl.format("{}@{}", pl.col("event_id"), block).alias("event_id"))


@settings(max_examples=12, deadline=None)
@given(rows=event_logs, seed=st.integers(0, 1000))
def test_any_order_of_days_equals_full_recompute(tmp_path_factory, rows, seed) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("bf")
    write_events(ids_within_reach(to_frame(rows)), root / "events")
    run([root / "events"], root / "full", CONFIG.run)
    days = days_between(date(2023, 12, 31), date(2024, 1, 3))
    orders = {
        "all": [(days[0], days[-1])],
        "daily": [(d, d) for d in days],
        "reverse": [(d, d) for d in reversed(days)],
        "chunks": chunked(days, random.Random(seed)),
    }
    for name, ranges in orders.items():
        for first, last in ranges:
            backfill([root / "events"], root / name, first, last, CONFIG)
        assert_same_tables(root / name, root / "full", (days[0], days[-1]))


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("log")
    frame = generate_events(events=40_000, users=400, days=6, seed=5, bad_row_rate=0.01)
    write_events(frame, root / "events")
    return root / "events"


DAYS = (date(2026, 10, 31), date(2026, 11, 7))


def test_rerun_skips_unchanged_days_and_force_recomputes(log: Path, tmp_path: Path) -> None:
    first = backfill([log], tmp_path, *DAYS, BackfillConfig(allow_empty=True))
    assert all(r.computed for r in first)
    again = backfill([log], tmp_path, *DAYS, BackfillConfig(allow_empty=True))
    assert not any(r.computed for r in again)
    forced = backfill([log], tmp_path, *DAYS, BackfillConfig(force=True, allow_empty=True))
    assert all(r.computed for r in forced)
    manifest = json.loads((tmp_path / "_manifest.json").read_text())["days"]
    assert sorted(manifest) == [d.isoformat() for d in days_between(*DAYS)]
    assert {"fingerprint", "rows_home", "sessions", "seconds", "settings"} <= set(
        manifest["2026-11-02"]
    )


def test_changed_day_recomputes_exactly_the_days_that_read_it(log: Path, tmp_path: Path) -> None:
    backfill([log], tmp_path / "out", *DAYS, BackfillConfig(allow_empty=True))
    changed = log / "date=2026-11-03" / "events.parquet"
    frame = pl.read_parquet(changed)
    frame.head(frame.height - 10).write_parquet(changed)  # a corrected partition
    reports = backfill([log], tmp_path / "out", *DAYS, BackfillConfig(allow_empty=True))
    recomputed = [r.day for r in reports if r.computed]
    # a day's fingerprint covers its own folder and the files whose footers show times within
    # its reach (its sessions' span and its own day, a gap on each side): Nov 3's rows are
    # all timed on Nov 3, so Nov 2 (sessions into Nov 3 or ending within a gap of it), Nov 3
    # and Nov 4 (a gap before its start) are computed again; Nov 1 and Nov 5, whose lookback
    # windows read Nov 3 too, are not: no row of Nov 3 can change them
    assert recomputed == days_between(date(2026, 11, 2), date(2026, 11, 4))
    assert len(recomputed) < len(reports)
    backfill([log], tmp_path / "fresh", *DAYS, BackfillConfig(allow_empty=True))
    assert_same_tables(tmp_path / "out", tmp_path / "fresh")


def test_late_data_in_an_earlier_partition_is_picked_up(log: Path, tmp_path: Path) -> None:
    backfill([log], tmp_path / "out", *DAYS, BackfillConfig(allow_empty=True))
    late = generate_events(events=300, users=5, days=1, seed=9, start=date(2026, 11, 2))
    late = late.with_columns(
        ("late-" + pl.col("user_id")).alias("user_id"),
        ("late-" + pl.col("event_id")).alias("event_id"),
    )
    late.write_parquet(log / "date=2026-11-02" / "late.parquet")
    try:
        reports = backfill([log], tmp_path / "out", *DAYS, BackfillConfig(allow_empty=True))
        assert date(2026, 11, 2) in [r.day for r in reports if r.computed]
        run([log], tmp_path / "full", RunConfig())
        assert_same_tables(tmp_path / "out", tmp_path / "full")
    finally:
        (log / "date=2026-11-02" / "late.parquet").unlink()


def test_rows_without_a_time_outside_date_folders_are_quarantined_not_lost(
    tmp_path: Path,
) -> None:
    frame = generate_events(events=3_000, users=50, days=2, seed=3, bad_row_rate=0.02)
    assert frame["event_time"].null_count() > 0
    frame.write_parquet(tmp_path / "flat.parquet")  # no date= folder
    reports = backfill([tmp_path / "flat.parquet"], tmp_path / "out", date(2026, 10, 31),
                       date(2026, 11, 3), BackfillConfig(allow_empty=True))  # fmt: skip
    assert sum(r.record.rows_home for r in reports) == frame.height
    run([tmp_path / "flat.parquet"], tmp_path / "full", RunConfig())
    assert_same_tables(tmp_path / "out", tmp_path / "full")


def test_a_file_without_any_time_outside_date_folders_is_refused(tmp_path: Path) -> None:
    frame = generate_events(events=100, users=5, days=1, seed=3)
    frame.with_columns(
        pl.lit(None, dtype=frame["event_time"].dtype).alias("event_time")
    ).write_parquet(tmp_path / "timeless.parquet")
    with pytest.raises(InputError, match=r"timeless\.parquet: no row has an event_time"):
        backfill([tmp_path / "timeless.parquet"], tmp_path / "out", date(2026, 11, 1),
                 date(2026, 11, 1), BackfillConfig(allow_empty=True))  # fmt: skip
    assert not (tmp_path / "out" / "searches").exists()


def test_a_session_longer_than_the_lookback_passes_check_night_by_night(tmp_path: Path) -> None:
    # one user searching every 20 minutes from 21:00 to 02:00: one session, longer than 1 h
    start, end = datetime(2026, 11, 1, 21, tzinfo=UTC), datetime(2026, 11, 2, 2, tzinfo=UTC)
    times = pl.datetime_range(start, end, interval="20m", eager=True)
    frame = to_frame([
        {"user_id": "u", "event_time": t, "event_type": "search", "query": "q", "items": None,
         "item": None, "event_id": None}
        for t in times
    ])  # fmt: skip
    write_events(frame, tmp_path / "events")
    config = BackfillConfig(lookback=timedelta(hours=1), allow_empty=True)
    # night by night: the one-hour lookback is too short, the window widens
    reports = day_by_day(tmp_path / "events", tmp_path / "out", (1, 2), config)
    assert sum(r.record.long_sessions for r in reports) > 0
    assert not any(rows.height for rows in run_checks(tmp_path / "out").values())


def test_a_row_far_from_its_date_folder_is_quarantined_on_its_home_day(tmp_path: Path) -> None:
    frame = generate_events(events=500, users=10, days=1, seed=4, start=date(2026, 11, 1))
    stray = frame.head(1).with_columns(
        pl.col("event_time") + pl.duration(days=3), pl.lit("stray").alias("event_id")
    )
    folder = tmp_path / "events" / "date=2026-11-01"
    pl.concat([frame, stray]).write_parquet(folder / "events.parquet", mkdir=True)
    reports = backfill([tmp_path / "events"], tmp_path / "out", date(2026, 10, 31),
                       date(2026, 11, 5), BackfillConfig(allow_empty=True))  # fmt: skip
    assert sum(r.record.rows_home for r in reports) == frame.height + 1
    quarantine = pl.read_parquet(
        tmp_path / "out" / "quarantine" / "**" / "*.parquet", hive_partitioning=True
    )
    placed = quarantine.filter(pl.col("reason") == "outside_partition")
    assert placed["event_id"].to_list() == ["stray"]
    assert placed["date"].cast(pl.String).to_list() == ["2026-11-01"]


def test_concurrent_backfill_is_refused(log: Path, tmp_path: Path) -> None:
    with exclusive_lock(tmp_path), pytest.raises(ConfigError, match="is writing here"):
        backfill([log], tmp_path, *DAYS, BackfillConfig(allow_empty=True))


def test_run_output_is_not_mixed_with_backfill(log: Path, tmp_path: Path) -> None:
    run([log], tmp_path, RunConfig())
    with pytest.raises(ConfigError, match="holds the output of `ctr-batch run`"):
        backfill([log], tmp_path, *DAYS, BackfillConfig(allow_empty=True))


def test_backfill_output_is_not_mixed_with_run(log: Path, tmp_path: Path) -> None:
    backfill([log], tmp_path, DAYS[0], DAYS[0], BackfillConfig(allow_empty=True))
    with pytest.raises(ConfigError, match="holds the output of `ctr-batch backfill`"):
        run([log], tmp_path, RunConfig())


def test_bad_ranges_and_settings() -> None:
    with pytest.raises(ConfigError, match="before --start"):
        days_between(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(ConfigError, match="lookback"):
        BackfillConfig(lookback=timedelta(minutes=5))


def _backfill_command(log: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "ctr_batch", "backfill", str(log), "--out", str(out),
            "--start", DAYS[0].isoformat(), "--end", DAYS[1].isoformat(),
            "-q", "--allow-empty"]  # fmt: skip


def test_sigkill_at_random_points_then_rerun_equals_clean_run(log: Path, tmp_path: Path) -> None:
    subprocess.run(_backfill_command(log, tmp_path / "clean"), check=True)
    rng = random.Random(4)
    out = tmp_path / "killed"
    for _ in range(3):
        process = subprocess.Popen(_backfill_command(log, out))
        time.sleep(rng.uniform(0.8, 3.0))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        for part in out.rglob("*.parquet"):  # a reader never meets a partial file
            pl.read_parquet(part)
    subprocess.run(_backfill_command(log, out), check=True)
    assert_same_tables(out, tmp_path / "clean")
    layout = {".lock", ".current", ".snapshots"}
    assert not [p for p in out.rglob("*") if p.name.startswith(".") and p.name not in layout]
    assert len(list((out / ".snapshots").iterdir())) <= 2  # the output and the previous one


@pytest.mark.parametrize(
    "days",
    [(date(2026, 11, 1),) * 2, (date(2026, 11, 2),) * 2, (date(2026, 11, 1), date(2026, 11, 2))],
    ids=["first-day", "second-day", "both"],
)
def test_checks_pass_on_partial_ranges_with_sessions_across_midnight(
    tmp_path: Path, days: tuple[date, date]
) -> None:
    base = {"query": None, "items": None, "item": None, "event_id": None}
    midnight = datetime(2026, 11, 2, tzinfo=UTC)
    rows = [  # user u searches before and after midnight in one session
        {**base, "user_id": "u", "event_time": midnight - timedelta(minutes=10),
         "event_type": "search", "query": "a"},
        {**base, "user_id": "u", "event_time": midnight - timedelta(minutes=9),
         "event_type": "click"},
        {**base, "user_id": "u", "event_time": midnight + timedelta(minutes=5),
         "event_type": "search", "query": "b"},
        {**base, "user_id": "v", "event_time": midnight, "event_type": "search", "query": "c"},
    ]  # fmt: skip
    write_events(to_frame(rows), tmp_path / "events")
    backfill([tmp_path / "events"], tmp_path / "out", *days, BackfillConfig(allow_empty=True))
    failures = {name: rows for name, rows in run_checks(tmp_path / "out").items() if rows.height}
    assert not failures


def test_checks_find_a_session_missing_inside_the_range(log: Path, tmp_path: Path) -> None:
    backfill([log], tmp_path, *DAYS, BackfillConfig(allow_empty=True))
    assert not any(rows.height for rows in run_checks(tmp_path).values())
    part = tmp_path / "sessions" / "date=2026-11-03" / "part-0.parquet"
    sessions = pl.read_parquet(part)
    gone = sessions.filter(pl.col("n_searches") > 1).head(1)
    sessions.join(gone, on="session_id", how="anti").write_parquet(part)
    failures = {name: rows for name, rows in run_checks(tmp_path).items() if rows.height}
    assert failures["segment_counts"]["session_id"].to_list() == gone["session_id"].to_list()


def test_parallel_jobs_give_the_same_tables(log: Path, tmp_path: Path) -> None:
    backfill([log], tmp_path / "one", *DAYS, BackfillConfig(jobs=1))
    backfill([log], tmp_path / "two", *DAYS, BackfillConfig(jobs=2))
    assert_same_tables(tmp_path / "one", tmp_path / "two")


def test_the_night_after_recomputes_only_days_whose_inputs_changed(tmp_path: Path) -> None:
    """Days 1-5 in OUT, folder 6 lands: the days reading folder 6 are computed, not history.

    Sessions of every day go on past midnight, so each day owns sessions going into the next;
    a day whose own inputs did not change keeps its tables (they are exact for its window).
    """
    frame = generate_events(events=6_000, users=60, days=6, seed=8, start=date(2026, 11, 1))
    owl = to_frame([  # a search at 23:50 and a click at 00:05, every night: one session
        {"user_id": "owl", "event_time": datetime(2026, 11, day, 23, 50, tzinfo=UTC) + step,
         "event_type": kind, "query": "q" if kind == "search" else None, "items": None,
         "item": "x" if kind == "click" else None, "event_id": None}
        for day in range(1, 6)
        for step, kind in ((timedelta(0), "search"), (timedelta(minutes=15), "click"))
    ])  # fmt: skip
    write_events(pl.concat([frame, owl], how="diagonal_relaxed"), tmp_path / "all")
    arrived = tmp_path / "arrived"
    arrived.mkdir()
    for day in range(1, 6):
        (tmp_path / "all" / f"date=2026-11-0{day}").rename(arrived / f"date=2026-11-0{day}")
    config = BackfillConfig(allow_empty=True)
    backfill([arrived], tmp_path / "out", date(2026, 11, 1), date(2026, 11, 5), config)
    (tmp_path / "all" / "date=2026-11-06").rename(arrived / "date=2026-11-06")
    reports = backfill([arrived], tmp_path / "out", date(2026, 11, 6), date(2026, 11, 6), config)
    computed = [report.day for report in reports if report.computed]
    assert computed[-1] == date(2026, 11, 6)
    # day 5's owl session goes on to Nov 6 00:05, so a row of folder 6 up to a gap later can
    # change it: it is computed again; day 4's sessions end by Nov 5 00:05, so no row of
    # folder 6 can change it (its lookback window reads folder 6, but its reach does not)
    assert computed == [date(2026, 11, 5), date(2026, 11, 6)]
    run([arrived], tmp_path / "full", RunConfig())
    assert_same_tables(tmp_path / "out", tmp_path / "full")


def test_a_bad_row_of_a_folder_timed_on_the_next_day_is_quarantined_on_its_folder_day(
    tmp_path: Path,
) -> None:
    """Day by day or together, the folder's day counts the row and quarantines it."""
    times = [datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 11, 2, 12, tzinfo=UTC)]
    frame = pl.DataFrame(
        {"user_id": ["a", "b"], "event_time": times, "event_type": ["search", "purchase"],
         "query": "q"}
    )  # fmt: skip
    frame.write_parquet(tmp_path / "events" / "date=2026-11-01" / "a.parquet", mkdir=True)
    config = BackfillConfig(lookback=timedelta(hours=2), allow_empty=True, max_quarantine=1.0)
    for out, ranges in (("apart", [(1, 1), (2, 2)]), ("together", [(1, 2)])):
        reports = [
            report
            for first, last in ranges
            for report in backfill([tmp_path / "events"], tmp_path / out,
                                   date(2026, 11, first), date(2026, 11, last), config)
        ]  # fmt: skip
        home = {report.day.day: report.record.rows_home for report in reports}
        assert home == {1: 2, 2: 0}, out
        quarantine = pl.read_parquet(tmp_path / out / "quarantine" / "**" / "*.parquet")
        assert quarantine["event_type"].to_list() == ["purchase"], out


def test_a_resent_event_in_the_next_days_folder_is_a_duplicate_day_by_day(
    tmp_path: Path,
) -> None:
    """An at-least-once resend: the same event again, in the next day's folder."""
    at = datetime(2026, 11, 4, 9, 27, tzinfo=UTC)
    rows = {  # folder: (user, time, type, id) of its rows
        4: [("a", at, "search", "e1"), ("a", at, "click", "e2")],
        5: [("a", at, "search", "e1"), ("b", at + timedelta(days=1), "search", "e3")],
    }
    events = tmp_path / "events"
    for day, folder in rows.items():
        frame = pl.DataFrame(folder, schema=["user_id", "event_time", "event_type", "event_id"],
                             orient="row").with_columns(pl.lit("q").alias("query"))  # fmt: skip
        frame.write_parquet(events / f"date=2026-11-0{day}" / "a.parquet", mkdir=True)
    config = BackfillConfig(lookback=timedelta(hours=2), allow_empty=True, max_quarantine=1.0)
    for day in (4, 5):
        backfill([events], tmp_path / "out", date(2026, 11, day), date(2026, 11, day), config)
    run([events], tmp_path / "full", RunConfig())
    assert_same_tables(tmp_path / "out", tmp_path / "full")
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine" / "**" / "*.parquet")
    assert quarantine.select("event_id", "reason").rows() == [("e1", "duplicate_event_id")]


def _put(folder: Path, name: str, rows: list[tuple[str, datetime, str]]) -> Path:
    """Searches ``(user, time, event_id)`` as the Parquet file `folder`/`name`."""
    frame = to_frame([
        {"user_id": user, "event_time": moment, "event_type": "search", "query": "q",
         "items": None, "item": None, "event_id": event_id}
        for user, moment, event_id in rows
    ])  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / name)
    return folder / name


@pytest.mark.parametrize("copy", ["arrives", "leaves"])
def test_a_resent_copy_of_a_late_row_recomputes_the_day_whose_folder_holds_it(
    tmp_path: Path, copy: str
) -> None:
    """A late row of Nov 2's folder (timed Nov 1) and a copy of it in Nov 1's folder.

    The copy comes first in input order, so the late row is the duplicate, quarantined on its
    home day, Nov 2, though Nov 2's sessions are far from it: Nov 2's fingerprint covers the
    times of its own folder's rows, so the copy's arrival or removal recomputes it.
    """
    day_one, day_two = tmp_path / "ev" / "date=2026-11-01", tmp_path / "ev" / "date=2026-11-02"
    _put(day_one, "a.parquet", [("u", datetime(2026, 11, 1, 10, tzinfo=UTC), "u1")])
    late = ("w", datetime(2026, 11, 1, 20, tzinfo=UTC), "L")
    _put(day_two, "a.parquet", [("v", datetime(2026, 11, 2, 12, tzinfo=UTC), "v1"), late])
    resent = _put(day_one, "late.parquet", [late]) if copy == "leaves" else None
    config = BackfillConfig(allow_empty=True, max_quarantine=1.0)
    backfill([tmp_path / "ev"], tmp_path / "out", date(2026, 11, 1), date(2026, 11, 2), config)
    if resent is None:
        _put(day_one, "late.parquet", [late])
    else:
        resent.unlink()
    again = backfill(
        [tmp_path / "ev"], tmp_path / "out", date(2026, 11, 1), date(2026, 11, 2), config
    )
    assert all(report.computed for report in again)
    run([tmp_path / "ev"], tmp_path / "full", config.run)
    assert_same_tables(tmp_path / "out", tmp_path / "full")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_a_late_file_in_the_folder_before_the_night_recomputes_its_day(
    tmp_path: Path, zone: str
) -> None:
    """Night 3 asks only Nov 3; a late file lands in Nov 2's folder with a row of Nov 1.

    In Tokyo that row is on local Nov 1, whose sessions end long before Nov 2 in UTC: the
    days a night looks at for changed inputs reach a day before the folder of the day asked.
    """
    config = BackfillConfig(run=RunConfig(timezone=zone), allow_empty=True, max_quarantine=1.0)
    root = tmp_path / "ev"
    for day, user in ((1, "u"), (2, "v"), (3, "x")):
        folder = root / f"date=2026-11-0{day}"
        _put(folder, "a.parquet", [(user, datetime(2026, 11, day, 3, tzinfo=UTC), user)])
        if day == 3:
            late = [("w", datetime(2026, 11, 1, 3, tzinfo=UTC), "w")]
            _put(root / "date=2026-11-02", "late.parquet", late)
        nights = backfill(
            [root], tmp_path / "out", date(2026, 11, day), date(2026, 11, day), config
        )
    assert date(2026, 11, 1) in {report.day for report in nights if report.computed}
    run([root], tmp_path / "full", config.run)
    assert_same_tables(tmp_path / "out", tmp_path / "full")


def test_a_first_backfill_stopped_after_its_first_batch_leaves_every_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch commit is an output readers see: the first one has the summaries too."""
    from ctr_batch.days import publish
    from ctr_batch.io import write as write_module

    frame = generate_events(events=3_000, users=30, days=3, seed=4)
    write_events(frame, tmp_path / "events")
    monkeypatch.setattr(publish.DayCommits.__init__, "__kwdefaults__", {"every": 0.0})
    real, written = write_module.write_partition, []

    def failing_on_day_two(frame: pl.DataFrame, folder: Path, table: str | None = None) -> Path:
        if folder.name == "date=2026-11-02":
            raise OSError(28, "No space left on device")
        written.append(folder)
        return real(frame, folder, table)

    monkeypatch.setattr(publish, "write_partition", failing_on_day_two)
    config = BackfillConfig(allow_empty=True, max_quarantine=1.0)
    with pytest.raises(OSError, match="No space"):
        backfill([tmp_path / "events"], tmp_path / "out", date(2026, 11, 1), date(2026, 11, 3),
                 config)  # fmt: skip
    out = tmp_path / "out"
    tables = sorted(p.name for p in out.iterdir() if not p.name.startswith((".", "_")))
    assert "run_summary" in tables
    assert "day_summary" in tables
    for table in tables:  # every documented path reads, and only day 1 is there
        read = pl.read_parquet(out / table / "**" / "*.parquet", hive_partitioning=False)
        if "date" in read.columns and read.height:
            assert read.get_column("date").max() <= date(2026, 11, 1), table
    assert not {name for name, rows in run_checks(out).items() if rows.height}
