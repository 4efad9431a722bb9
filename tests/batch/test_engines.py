"""Polars' engines and thread counts give identical tables (CONTRACT §2)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import polars as pl
from hypothesis import given, settings

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.config import RunConfig
from ctr_batch.samples.generate import generate_events
from tests.strategies import GAP, event_logs, to_frame

if TYPE_CHECKING:
    from pathlib import Path


def assert_engines_agree(frame, config: RunConfig) -> None:  # type: ignore[no-untyped-def]
    streaming = compute_tables(frame.lazy(), config, engine="streaming")
    in_memory = compute_tables(frame.lazy(), config, engine="in-memory")
    for name, table in streaming.items():
        assert table.equals(in_memory[name]), name


@settings(max_examples=60, deadline=None)
@given(rows=event_logs)
def test_engines_agree_on_random_logs(rows: list[dict]) -> None:
    assert_engines_agree(to_frame(rows), RunConfig(gap=GAP))


def test_engines_agree_on_a_generated_log() -> None:
    frame = generate_events(events=50_000, users=500, days=3, seed=11, bad_row_rate=0.01)
    assert_engines_agree(frame, RunConfig())


def test_one_thread_gives_the_tables_of_many(tmp_path: Path) -> None:
    frame = generate_events(events=50_000, users=500, days=3, seed=12, bad_row_rate=0.01)
    frame.sample(fraction=1.0, shuffle=True, seed=1).write_parquet(tmp_path / "events.parquet")
    for threads in ("1", "2"):  # a fresh process each: Polars reads the variable at start
        environment = os.environ | {"POLARS_MAX_THREADS": threads}
        subprocess.run(
            [sys.executable, "-m", "ctr_batch", "run", str(tmp_path / "events.parquet"),
             "--out", str(tmp_path / threads), "-q", "--buckets", "3"],
            check=True, env=environment, capture_output=True,
        )  # fmt: skip
    for table in ("searches", "sessions", "ctr_daily", "ctr_by_query", "quarantine"):
        one = pl.read_parquet(tmp_path / "1" / table / "*.parquet")
        assert one.equals(pl.read_parquet(tmp_path / "2" / table / "*.parquet")), table
