"""Real search logs: Excite 1997 (bundled) and an AOL 2006 subset (in ../shared when present)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.batch.run import compute
from ctr_batch.core.config import RunConfig
from ctr_batch.core.schema import EVENT_COLUMNS
from ctr_batch.samples.bundled import sample
from tests.batch.test_properties import assert_matches_reference

EXCITE = sample("excite").path
AOL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "aol-2006-subset.parquet"
needs_aol = pytest.mark.skipif(not AOL.exists(), reason="AOL subset lives outside the repository")
GAP = timedelta(minutes=30)


def contract_rows(path: Path) -> list[dict[str, object]]:
    frame = pl.read_parquet(path)
    missing = [pl.lit(None, pl.String).alias(c) for c in EVENT_COLUMNS if c not in frame.columns]
    return frame.with_columns(missing).select(EVENT_COLUMNS).to_dicts()


@pytest.fixture(scope="module")
def excite() -> dict[str, pl.DataFrame]:
    return compute([EXCITE], RunConfig(gap=GAP))[0]


@pytest.fixture(scope="module")
def aol() -> dict[str, pl.DataFrame]:
    return compute([AOL], RunConfig(gap=GAP))[0]


def test_excite_matches_reference() -> None:
    assert_matches_reference(contract_rows(EXCITE), gap=GAP)


def test_excite_quirks(excite: dict[str, pl.DataFrame]) -> None:
    # 4,501 searches; 19 exact duplicate rows have no event_id, so both copies count
    assert excite["searches"].height == 4501
    assert excite["quarantine"].height == 0
    # 533 empty queries are one query, "", not null
    empty = excite["ctr_by_query"].filter(pl.col("query") == "")
    assert empty["searches"].to_list() == [533]
    assert excite["searches"]["query"].null_count() == 0
    # a log of searches only: no clicks, CTR 0, no result lists
    assert excite["ctr_daily"]["ctr"].to_list() == [0.0] * excite["ctr_daily"].height
    assert excite["searches"]["n_results"].null_count() == 4501


def test_excite_file_order_does_not_matter(excite: dict[str, pl.DataFrame]) -> None:
    raw = pl.read_parquet(EXCITE).select(EVENT_COLUMNS[:6])
    assert not raw["event_time"].is_sorted()  # grouped by user, not time-ordered
    shuffled = raw.sample(fraction=1.0, shuffle=True, seed=1).with_columns(
        pl.lit(None, pl.String).alias("event_id")
    )
    got = compute_tables(shuffled.lazy(), RunConfig(gap=GAP))["sessions"]
    key = ["user_id", "session_start"]
    assert got.sort(key).equals(excite["sessions"].sort(key))


@needs_aol
def test_aol_matches_reference() -> None:
    assert_matches_reference(contract_rows(AOL), gap=GAP)


@needs_aol
def test_aol_ties_keep_clicks_with_their_search(aol: dict[str, pl.DataFrame]) -> None:
    raw = pl.read_parquet(AOL)
    clicks_at = raw.filter(pl.col("event_type") == "click").group_by("user_id", "event_time").len()
    searches = aol["searches"].join(
        clicks_at,
        left_on=["user_id", "search_time"],
        right_on=["user_id", "event_time"],
        how="left",
    )
    assert (searches["n_clicks"] == searches["len"].fill_null(0)).all()
    outside = aol["sessions"]["n_clicks"].sum() - aol["searches"]["n_clicks"].sum()
    assert outside == 0, "clicks tied with their search must not fall before it"
    # only queries that led to a click were kept by the republisher
    assert aol["ctr_daily"]["clicked_searches"].sum() == aol["searches"].height == 61_468


@needs_aol
def test_aol_engines_agree(aol: dict[str, pl.DataFrame]) -> None:
    streaming = compute([AOL], RunConfig(gap=GAP), engine="streaming")[0]
    in_memory = compute([AOL], RunConfig(gap=GAP), engine="in-memory")[0]
    for name, table in aol.items():
        assert table.equals(streaming[name]), name
        assert table.equals(in_memory[name]), name
