"""The run summary record and the schema of the ``run_summary`` table it becomes."""

from __future__ import annotations

from datetime import date, timedelta

from ctr_batch.core.config import RunConfig
from ctr_batch.core.schema import REASONS
from ctr_batch.core.summary import (
    BACKFILL_SUMMARY_SCHEMA,
    RUN_SUMMARY_SCHEMA,
    RunSummary,
    recorded_settings,
)

SUMMARY = RunSummary(
    rows_read=10,
    rows_processed=8,
    quarantined={reason: 1 if reason == "null_user_id" else 0 for reason in REASONS} | {
        "duplicate_event_id": 1},
    sessions=3,
    searches=4,
    clicked_searches=1,
    first_day=date(2024, 1, 1),
    last_day=date(2024, 1, 2),
    seconds=1.23456,
)  # fmt: skip


def test_a_run_summary_row_has_the_schema_and_the_figures() -> None:
    config = RunConfig(gap="5m", gap_rule="exclusive", timezone="Europe/Paris")
    frame = SUMMARY.to_frame(config, ["a.parquet"])
    assert frame.schema == RUN_SUMMARY_SCHEMA
    row = frame.row(0, named=True)
    assert row["rows_read"] == row["rows_processed"] + row["rows_quarantined"] == 10
    assert (row["quarantined_null_user_id"], row["quarantined_duplicate_event_id"]) == (1, 1)
    assert (row["layout"], row["gap"], row["ctr"], row["compute_seconds"]) == (
        "run", "5m", 0.25, 1.235)  # fmt: skip
    assert recorded_settings(row) == config


def test_settings_read_back_from_either_layout_or_none() -> None:
    assert set(RUN_SUMMARY_SCHEMA) & set(BACKFILL_SUMMARY_SCHEMA) >= {"gap_us", "timezone"}
    assert recorded_settings({"gap_us": 60_000_000}) == RunConfig(gap=timedelta(minutes=1))
    assert recorded_settings({"layout": "run"}) is None


def test_balance() -> None:
    assert SUMMARY.balanced
    assert not RunSummary(3, 1, {}, 0, 0, 0).balanced
