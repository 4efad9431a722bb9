"""Explaining only what differs: the events of the differing users, and none when none differ."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest

from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.io.read import scan_events
from ctr_batch.reconciliation import analysis
from ctr_batch.reconciliation.reconcile import reconcile
from ctr_batch.reconciliation.records import daily_from_searches
from ctr_batch.samples.generate import generate_events
from ctr_batch.streaming.run import simulate_stream

if TYPE_CHECKING:
    from pathlib import Path

GAP = timedelta(minutes=2)


def mostly_ordered_log(path: Path) -> list[str]:
    """A log where three users' rows are out of order, one sharing an event_id with another user.

    Returns the disordered users.
    """
    log = generate_events(events=3_000, users=40, days=2, seed=4, gap=GAP).with_columns(
        pl.format("e{}", pl.int_range(pl.len())).alias("event_id")
    )
    users = log["user_id"].unique().sort().to_list()
    moved_users = users[:3]
    rng = np.random.default_rng(4)
    moved = log["user_id"].is_in(moved_users).to_numpy()
    place = np.arange(log.height, dtype=np.float64)
    place[moved] += rng.integers(-60, 61, int(moved.sum()))
    disordered = log.with_columns(pl.Series("_place", place)).sort("_place").drop("_place")
    # a row of a disordered user repeats the id of an earlier row of an ordered user
    first_other = disordered.with_row_index().filter(pl.col("user_id") == users[10]).row(0)
    later_mine = disordered.with_row_index().filter(
        (pl.col("user_id") == moved_users[0]) & (pl.col("index") > first_other[0])
    )
    ids = disordered["event_id"].scatter(later_mine["index"][0], first_other[-1])
    disordered.with_columns(ids).write_parquet(path)
    return moved_users


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    folder = tmp_path_factory.mktemp("focus")
    events = folder / "events.parquet"
    moved = mostly_ordered_log(events)
    run([events], folder / "batch", RunConfig(gap=GAP))
    return events, folder / "batch", moved


@pytest.mark.parametrize("kind", ["searches", "sessions"])
def test_only_the_differing_users_are_explained_and_exactly(
    case: tuple[Path, Path, list[str]], kind: str
) -> None:
    events, batch, moved = case
    predicted = simulate_stream(scan_events([events]).frame, gap=GAP, wait=timedelta(0))
    result = reconcile(batch, predicted[kind], kind, events=[events])  # type: ignore[arg-type]
    assert result.passed, result.mismatches.filter(pl.col("cause") == "unexplained")
    assert result.mismatches.height > 0
    assert set(result.mismatches["user_id"]) <= set(moved)
    if kind == "searches":  # the simulated daily CTR is the whole simulation's, every user in
        expected = daily_from_searches(predicted["searches"]).sort("date")
        daily = result.daily.sort("date")
        assert daily["simulated_value"].to_list() == pytest.approx(expected["ctr"].to_list())


def test_nothing_differs_nothing_is_simulated(
    case: tuple[Path, Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    events, batch, _ = case
    searches = pl.read_parquet(batch / "searches")

    def no_simulation(*_: object) -> None:
        raise AssertionError

    monkeypatch.setattr(analysis, "build_rungs", no_simulation)
    result = reconcile(batch, searches, "searches", events=[events])
    assert result.passed
    assert result.analysed
    assert result.mismatches.is_empty()
