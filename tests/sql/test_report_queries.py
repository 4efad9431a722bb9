"""The curated queries the HTML report adds, cross-checked against the Polars tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import polars as pl
import pytest

from ctr_batch.batch import run as batch_run
from ctr_batch.core.config import RunConfig
from ctr_batch.core.resources import data_dir
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events
from ctr_batch.sql import query
from tests.conftest import events

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def gen_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report_queries")
    frame = generate_events(events=20_000, users=300, days=6, seed=4, bad_row_rate=0.01)
    write_events(frame, root / "events")
    batch_run.run([root / "events"], root / "out", RunConfig())
    return root / "out"


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report_sample") / "out"
    batch_run.run([data_dir() / "sample"], out, RunConfig())
    return out


@pytest.fixture(params=["gen_out", "sample_out"])
def out(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue(request.param)
    return path


def table(out: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(out / name / "**" / "*.parquet")


def test_headline_sums_ctr_daily(out: Path) -> None:
    daily = table(out, "ctr_daily").sort("date").slice(1)  # a period that starts on day 2
    start = str(daily["date"].min())
    got = query.run_query("headline", out, {"start": start}).row(0, named=True)
    assert got["searches"] == daily["searches"].sum()
    assert got["sessions"] == daily["sessions"].sum()
    assert got["clicks"] == daily["clicks"].sum()
    assert got["ctr"] == pytest.approx(daily["clicked_searches"].sum() / daily["searches"].sum())


def test_headline_median_and_zero_results(gen_out: Path) -> None:
    searches = table(gen_out, "searches")
    got = query.run_query("headline", gen_out).row(0, named=True)
    clicked = searches.filter(pl.col("clicked"))["time_to_first_click"]
    assert got["median_time_to_first_click_s"] == pytest.approx(
        clicked.dt.total_microseconds().median() / 1e6
    )
    assert got["zero_result_rate"] == pytest.approx(
        (searches["n_results"] == 0).sum() / searches.height
    )


def test_wilson_band(out: Path) -> None:
    got = query.run_query("ctr_wilson_by_day", out)
    assert got.height == table(out, "ctr_daily").filter(pl.col("searches") > 0).height
    for row in got.iter_rows(named=True):
        n, p, z = row["searches"], row["ctr"], 1.96
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert row["ctr_low"] == pytest.approx(centre - half)
        assert row["ctr_high"] == pytest.approx(centre + half)
        assert 0 <= row["ctr_low"] <= p <= row["ctr_high"] <= 1


def test_ctr_by_position(out: Path) -> None:
    searches = table(out, "searches")
    got = query.run_query("ctr_by_position", out, {"max_position": "3"})
    assert got["position"].to_list() == [1, 2, 3]
    for row in got.iter_rows(named=True):
        shown = searches.filter(pl.col("n_results") >= row["position"])
        assert row["shown_searches"] == shown.height
        assert row["first_clicks"] == (shown["first_click_position"] == row["position"]).sum()


def test_time_to_first_click_counts_every_clicked_search(out: Path) -> None:
    searches = table(out, "searches").filter(
        pl.col("clicked") & pl.col("time_to_first_click").is_not_null()
    )
    got = query.run_query("time_to_first_click", out)
    assert got["clicked_searches"].sum() == searches.height
    if searches.height:
        assert got["cumulative_share"][-1] == pytest.approx(1.0)


def test_quarantine_and_data_quality_add_up(out: Path) -> None:
    quarantine = table(out, "quarantine")
    by_reason = query.run_query("quarantine_by_reason", out)
    assert by_reason["rows"].sum() == quarantine.height
    quality = query.run_query("data_quality", out).row(0, named=True)
    assert quality["rows_quarantined"] == quarantine.height
    assert quality["rows_read"] == quality["rows_processed"] + quality["rows_quarantined"]


def test_quarantine_by_reason_uses_backfill_home_day(tmp_path: Path) -> None:
    from ctr_batch.days.backfill import backfill
    from ctr_batch.days.config import BackfillConfig

    frame = generate_events(events=3_000, users=50, days=2, seed=2, bad_row_rate=0.05)
    write_events(frame, tmp_path / "ev")
    out = tmp_path / "bf"
    backfill(tmp_path / "ev", out, "2026-11-01", "2026-11-02", BackfillConfig(max_quarantine=1))
    got = query.run_query("quarantine_by_reason", out)
    homes = pl.read_parquet(out / "quarantine" / "**" / "*.parquet", hive_partitioning=True)
    homes = homes.group_by("date", "reason").len()
    assert got["rows"].sum() == homes["len"].sum()
    assert set(got["date"].to_list()) == set(homes["date"].to_list())
    quality = query.run_query("data_quality", out).row(0, named=True)
    assert quality["layout"] == "backfill"
    assert quality["long_sessions"] == 0  # a backfill's figure: zero, not missing


def test_sessions_past_midnight(out: Path) -> None:
    sessions = table(out, "sessions")
    crossing = sessions.filter(pl.col("session_end").dt.date() > pl.col("date"))
    got = query.run_query("sessions_past_midnight", out)
    assert got["sessions"].sum() == sessions.height
    assert got["past_midnight"].sum() == crossing.height


def test_sessions_past_midnight_in_the_run_time_zone(tmp_path: Path) -> None:
    # 14:50 and 15:10 UTC are 23:50 and 00:10 in Tokyo: one session over Tokyo's midnight.
    frame = events(("u", 14 * 3600 + 50 * 60, "search", "q"), ("u", 15 * 3600 + 600, "click"))
    frame.write_parquet(tmp_path / "e.parquet")
    for zone, crossing in (("UTC", 0), ("Asia/Tokyo", 1)):
        out = tmp_path / zone.replace("/", "_")
        batch_run.run([tmp_path / "e.parquet"], out, RunConfig(timezone=zone))
        got = query.run_query("sessions_past_midnight", out)
        assert got["past_midnight"].to_list() == [crossing], zone
