"""The report's figures are the curated queries' rows: same files, same code path."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from ctr_batch.cli.app import app
from ctr_batch.core.errors import ConfigError, InputError
from ctr_batch.reporting.figures import (
    MIN_SUPPORT,
    TABLE_ROWS,
    Period,
    figure_requests,
    gather,
    pin,
)

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def cli_query(name: str, out: Path, params: dict[str, str | None], file: Path) -> pl.DataFrame:
    """Rows of ``ctr-batch query NAME OUT --param ... --format parquet --output FILE``."""
    args = ["query", name, str(out), "--format", "parquet", "--output", str(file)]
    for key, value in params.items():
        if value is not None:
            args += ["--param", f"{key}={value}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return pl.read_parquet(file)


def test_figures_equal_ctr_batch_query(any_out: Path, tmp_path: Path) -> None:
    figures = gather(any_out)
    backfill = (any_out / "day_summary").is_dir()
    assert backfill == ("backfill" in any_out.name)
    requests = figure_requests(figures.period, backfill=backfill)
    requests["lowest_ctr"] = ("ctr_by_query", {**figures.period.params(), "min_searches": "20"})
    assert MIN_SUPPORT == 20
    for label, (name, params) in requests.items():
        expected = cli_query(name, any_out, params, tmp_path / f"{label}.parquet")
        if label == "lowest_ctr":
            expected = expected.sort(
                ["ctr", "searches", "query"], descending=[False, True, False], nulls_last=True
            )
        if label in ("top_queries", "lowest_ctr", "zero_result", "zero_click"):
            expected = expected.head(TABLE_ROWS)
        assert_frame_equal(figures[label], expected, check_dtypes=False)
    assert set(figures.tables) == set(requests)


def test_headline_matches_ctr_daily(any_out: Path) -> None:
    figures = gather(any_out)
    daily = pl.read_parquet(any_out / "ctr_daily" / "**" / "*.parquet")
    row = figures["headline"].row(0, named=True)
    assert row["searches"] == daily["searches"].sum()
    assert row["sessions"] == daily["sessions"].sum()
    assert row["ctr"] == pytest.approx(daily["clicked_searches"].sum() / daily["searches"].sum())
    assert figures["headline_previous"]["searches"].item() == 0  # nothing before the first day


def test_period_bounds_and_previous(generated_run: Path) -> None:
    figures = gather(generated_run, "2026-11-05", "2026-11-08")
    assert figures.period == Period(date(2026, 11, 5), date(2026, 11, 8))
    daily = pl.read_parquet(generated_run / "ctr_daily" / "**" / "*.parquet")
    before = daily.filter(pl.col("date").is_between(date(2026, 11, 1), date(2026, 11, 4)))
    assert figures["headline_previous"]["searches"].item() == before["searches"].sum()
    assert figures["daily"]["date"].to_list() == [date(2026, 11, d) for d in range(5, 9)]


def test_lowest_ctr_has_support_and_order(generated_run: Path) -> None:
    lowest = gather(generated_run)["lowest_ctr"]
    assert lowest.height
    assert (lowest["searches"] >= MIN_SUPPORT).all()
    assert lowest["ctr"].is_sorted()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        pytest.param("2026-11-05", "2026-11-01", "is after --end", id="reversed"),
        pytest.param("11/05/2026", None, "expected a date YYYY-MM-DD", id="bad-date"),
    ],
)
def test_bad_period(generated_run: Path, start: str, end: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gather(generated_run, start, end)


def test_not_an_output(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        pin(tmp_path / "missing")
    with pytest.raises(InputError, match="no tables found"):
        gather(tmp_path)


def test_pin_reads_the_committed_snapshot(generated_run: Path) -> None:
    snapshot = pin(generated_run)
    assert snapshot != generated_run
    assert snapshot.parent.name == ".snapshots"
