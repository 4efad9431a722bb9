"""Polars' streaming and in-memory engines give identical tables (CONTRACT §2)."""

from __future__ import annotations

from hypothesis import given, settings

from ctr_batch.config import RunConfig
from ctr_batch.generate import generate_events
from ctr_batch.pipeline import compute_tables
from tests.strategies import GAP, event_logs, to_frame


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
