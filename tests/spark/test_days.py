"""``backfill --engine spark``: each window of days computed by Spark, the same days as locally."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from typer.testing import CliRunner

import ctr_batch
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError, InputError
from ctr_batch.days.config import BackfillConfig
from ctr_batch.days.manifest import read_manifest
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events
from ctr_batch.sql.query import run_checks
from tests.days.test_backfill import assert_same_tables
from tests.spark.conftest import ARMED
from tests.strategies import to_frame

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.days.plan import DayReport

pytestmark = pytest.mark.usefixtures("spark")
FIRST, LAST = date(2026, 10, 31), date(2026, 11, 5)
FIGURES = (
    "rows_home", "rows_quarantined", "quarantined", "sessions", "searches",
    "continued_sessions", "late_rows", "long_sessions", "capped_sessions", "window",
)  # fmt: skip


def figures(reports: list[DayReport]) -> list[tuple[object, ...]]:
    return [
        (r.day, r.computed, r.problem, *(getattr(r.record, name) for name in FIGURES))
        for r in reports
    ]


def both_engines(
    events: Path, tmp_path: Path, config: BackfillConfig, days: tuple[date, date] = (FIRST, LAST)
) -> tuple[Path, Path]:
    """Backfill `days` locally and on Spark; the same reports; the two outputs."""
    local, spark = tmp_path / "local", tmp_path / "spark"
    expected = ctr_batch.backfill(events, local, *days, config)
    got = ctr_batch.backfill(events, spark, *days, config, engine="spark", buckets=3)
    assert figures(got) == figures(expected)
    return local, spark


@pytest.fixture(scope="module")
def day_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four days in date= folders, bad rows and repeated ids, a late file in an older folder."""
    root = tmp_path_factory.mktemp("events")
    events = generate_events(events=8_000, users=90, days=4, seed=11, bad_row_rate=0.02)
    write_events(events.with_columns(pl.col("event_time").dt.truncate("1s")), root)
    late = events.filter(pl.col("event_time").dt.date() == date(2026, 11, 3)).head(200)
    late = late.with_columns(pl.format("late-{}", pl.col("user_id")).alias("user_id"))
    late.write_parquet(root / "date=2026-11-04" / "late.parquet")
    return root


def test_days_equal_the_local_engine(day_files: Path, tmp_path: Path) -> None:
    config = BackfillConfig(
        run=RunConfig(timezone="America/New_York"), allow_empty=True, max_quarantine=1.0
    )
    local, spark = both_engines(day_files, tmp_path, config)
    assert_same_tables(spark, local)
    assert not list(spark.glob(".spark-*"))  # the staged parts are gone


def test_sessions_longer_than_the_lookback_and_files_outside_day_folders(tmp_path: Path) -> None:
    """A session of five hours with a 1 h lookback (the window widens), rows without a time."""
    start = datetime(2026, 11, 1, 21, tzinfo=UTC)
    times = pl.datetime_range(start, start + timedelta(hours=5), interval="20m", eager=True)
    bot = to_frame([
        {"user_id": "bot", "event_time": t, "event_type": "search", "query": "q", "items": None,
         "item": None, "event_id": None}
        for t in times
    ])  # fmt: skip
    others = generate_events(events=2_000, users=30, days=2, seed=3, bad_row_rate=0.03)
    assert others["event_time"].null_count() > 0
    pl.concat([others, bot], how="diagonal_relaxed").write_parquet(tmp_path / "flat.parquet")
    config = BackfillConfig(lookback=timedelta(hours=1), allow_empty=True, max_quarantine=1.0)
    night = (date(2026, 11, 1), date(2026, 11, 1))  # the bot goes on past 01:00 on Nov 2
    local, spark = both_engines(tmp_path / "flat.parquet", tmp_path, config, night)
    assert read_manifest(spark)["2026-11-01"].long_sessions == 1  # read whole: window widened
    assert_same_tables(spark, local)


def test_day_by_day_on_spark_passes_every_check(day_files: Path, tmp_path: Path) -> None:
    config = BackfillConfig(allow_empty=True, max_quarantine=1.0)
    for day in (date(2026, 11, 2), date(2026, 11, 1)):
        ctr_batch.backfill(day_files, tmp_path / "out", day, day, config, engine="spark")
    assert not {name for name, rows in run_checks(tmp_path / "out").items() if rows.height}


def test_task_retry_gives_the_same_days(day_files: Path, tmp_path: Path) -> None:
    ARMED.touch()
    config = BackfillConfig(allow_empty=True, max_quarantine=1.0)
    days = (date(2026, 11, 1), date(2026, 11, 2))
    local, spark = both_engines(day_files, tmp_path, config, days)
    assert not ARMED.exists()  # one task failed once, and was retried
    assert_same_tables(spark, local)


def test_a_file_without_any_time_is_the_local_one_line_error(tmp_path: Path) -> None:
    frame = generate_events(events=100, users=5, days=1, seed=3)
    timeless = frame.with_columns(
        pl.lit(None, dtype=frame["event_time"].dtype).alias("event_time")
    )
    timeless.write_parquet(tmp_path / "timeless.parquet")
    with pytest.raises(InputError, match=r"timeless\.parquet: no row has an event_time"):
        ctr_batch.backfill(tmp_path / "timeless.parquet", tmp_path / "out", FIRST, FIRST,
                           BackfillConfig(allow_empty=True), engine="spark")  # fmt: skip
    assert not (tmp_path / "out" / "searches").exists()


def test_cli_engine_spark_and_bad_settings(day_files: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["backfill", str(day_files), "--start", "2026-11-01", "--end", "2026-11-01"]
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "o"), "--engine", "spark",
                                 "--buckets", "2", "--max-quarantine", "1", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"searches"' in result.stdout
    for extra, message in (
        (["--engine", "duckdb"], "--engine duckdb: a backfill runs on auto or spark"),
        (["--buckets", "2"], "--buckets needs --engine spark for a backfill"),
        (["--spark-master", "local[1]"], "--spark-master needs --engine spark for a backfill"),
        (["--engine", "spark", "--buckets", "0"], "--buckets must be from 1 to 65,536"),
        (["--engine", "spark", "--spark-master", "bogus://x"], "not a Spark master URL"),
    ):
        bad = runner.invoke(app, [*base, "--out", str(tmp_path / "bad"), *extra])
        assert bad.exit_code == 3, (extra, bad.output)
        assert message in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()


def test_python_api_refuses_an_unknown_engine(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a backfill runs on auto or spark"):
        ctr_batch.backfill(tmp_path, tmp_path / "out", FIRST, FIRST, engine="duckdb")  # type: ignore[arg-type]
