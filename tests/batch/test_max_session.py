"""--max-session: no session lasts longer, on every path (run, buckets, backfill, CLI)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
import pytest
from typer.testing import CliRunner

from ctr_batch.batch.run import run
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError
from ctr_batch.days.backfill import backfill
from ctr_batch.days.config import BackfillConfig
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events
from tests.days.test_backfill import assert_same_tables

if TYPE_CHECKING:
    from pathlib import Path

DAY = timedelta(days=1)


def bot_and_people(tmp_path: Path) -> Path:
    """A generated log plus a bot clicking every 10 minutes for three days."""
    people = generate_events(events=4_000, users=40, days=3, seed=9)
    times = pl.datetime_range(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC), "10m", eager=True
    )
    bot = pl.DataFrame({"user_id": "bot", "event_time": times, "event_type": "click"})
    frame = pl.concat([people, bot], how="diagonal_relaxed").sort("event_time")
    write_events(frame, tmp_path / "events")
    return tmp_path / "events"


def test_no_session_lasts_longer_and_buckets_agree(tmp_path: Path) -> None:
    events = bot_and_people(tmp_path)
    config = RunConfig(max_session="6h")
    summary = run([events], tmp_path / "one", config, buckets=1)
    run([events], tmp_path / "four", config, buckets=4)
    sessions = pl.read_parquet(tmp_path / "one" / "sessions")
    assert sessions["duration"].max() <= timedelta(hours=6)
    bot = sessions.filter(pl.col("user_id") == "bot").sort("session_start")
    assert bot.height == 12  # 72 h of clicks, each piece 6 h (36 clicks), then the next
    assert bot["n_events"].sum() == 3 * 144 + 1
    assert_same_tables(tmp_path / "one", tmp_path / "four")
    recorded = pl.read_parquet(tmp_path / "one" / "run_summary")["max_session_us"]
    assert recorded.to_list() == [6 * 3600 * 10**6]
    assert summary.sessions == sessions.height


def test_backfill_with_max_session_equals_a_run_and_is_a_setting(tmp_path: Path) -> None:
    events = bot_and_people(tmp_path)
    config = BackfillConfig(run=RunConfig(max_session="6h"), allow_empty=True)
    for day in (3, 1, 2, 4):
        backfill([events], tmp_path / "bf", date(2026, 11, day), date(2026, 11, day), config)
    run([events], tmp_path / "full", config.run)
    assert_same_tables(tmp_path / "bf", tmp_path / "full")
    code = CliRunner().invoke(
        app, ["backfill", str(events), "--out", str(tmp_path / "bf"), "--start", "2026-11-01",
              "--end", "2026-11-01"],
    ).exit_code  # fmt: skip
    assert code == 5  # the days of OUT were computed with a maximum session duration


def test_cli_option_environment_and_refusals(tmp_path: Path) -> None:
    events = bot_and_people(tmp_path)
    result = CliRunner().invoke(
        app,
        ["run", str(events), "--out", str(tmp_path / "o"), "--json"],
        env={"CTR_BATCH_MAX_SESSION": "2h"},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["settings"]["max_session"] == "2h"
    assert pl.read_parquet(tmp_path / "o" / "sessions")["duration"].max() <= timedelta(hours=2)
    for args, message in [
        (["--max-session", "0s"], "max session must be positive"),
        (["--max-session", "soon"], "--max-session"),
        (["--max-session", "1h", "--engine", "duckdb"], "not available with --engine duckdb"),
    ]:
        bad = CliRunner().invoke(app, ["run", str(events), "--out", str(tmp_path / "x"), *args])
        assert bad.exit_code == 3, bad.output
        assert message in bad.stderr
        assert not (tmp_path / "x").exists()
    with pytest.raises(ConfigError, match="max session"):
        RunConfig(max_session=-DAY)
