"""Out-of-core runs in user buckets give the tables of one in-memory pass (issue 6)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import given, settings

from ctr_batch.batch import buckets
from ctr_batch.batch.buckets import _passes
from ctr_batch.batch.memory_plan import MEMORY_PER_LEAN_BYTE, MEMORY_PER_LIST_BYTE, InputSize
from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.io.read import scan_events
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events
from tests.strategies import GAP, event_logs, to_frame

if TYPE_CHECKING:
    from pathlib import Path

KEYS = {
    "sessions": ["session_id"],
    "searches": ["session_id", "search_index"],
    "ctr_daily": ["date"],
    "ctr_by_query": ["query"],
    "quarantine": ["source_file", "source_row"],
}


def assert_same_outputs(a: Path, b: Path) -> None:
    for table, key in KEYS.items():
        left = pl.read_parquet(a / table / "*.parquet").sort(key, nulls_last=True)
        right = pl.read_parquet(b / table / "*.parquet").sort(key, nulls_last=True)
        assert left.equals(right), table
    summary = [pl.read_parquet(o / "run_summary" / "*.parquet") for o in (a, b)]
    columns = ["rows_read", "rows_processed", "rows_quarantined", "sessions", "searches"]
    assert summary[0].select(columns).equals(summary[1].select(columns))


@settings(max_examples=25, deadline=None)
@given(rows=event_logs)
def test_buckets_equal_one_pass_on_random_logs(tmp_path_factory, rows) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("b")
    to_frame(rows).write_parquet(root / "events.parquet")
    run([root / "events.parquet"], root / "one", RunConfig(gap=GAP))
    run([root / "events.parquet"], root / "three", RunConfig(gap=GAP), buckets=3)
    assert_same_outputs(root / "one", root / "three")


def test_buckets_equal_one_pass_on_a_generated_log(tmp_path: Path) -> None:
    frame = generate_events(events=30_000, users=300, days=3, seed=2, bad_row_rate=0.01)
    write_events(frame, tmp_path / "events")
    run([tmp_path / "events"], tmp_path / "one", RunConfig())
    run([tmp_path / "events"], tmp_path / "seven", RunConfig(), buckets=7)
    assert_same_outputs(tmp_path / "one", tmp_path / "seven")
    assert len(list((tmp_path / "seven" / "searches").iterdir())) == 7
    hidden = sorted(p.name for p in tmp_path.joinpath("seven").iterdir() if p.name.startswith("."))
    assert hidden == [".current", ".lock", ".snapshots"]  # no scratch folder left behind
    assert len(list((tmp_path / "seven" / ".snapshots").iterdir())) == 1


def test_duplicate_ids_across_users_and_buckets(tmp_path: Path) -> None:
    frame = generate_events(events=2_000, users=50, days=1, seed=4)
    reused = frame.with_columns(pl.lit("same-id").alias("event_id"))  # one id, many users
    reused.write_parquet(tmp_path / "events.parquet")
    run([tmp_path / "events.parquet"], tmp_path / "one", RunConfig())
    run([tmp_path / "events.parquet"], tmp_path / "five", RunConfig(), buckets=5)
    assert_same_outputs(tmp_path / "one", tmp_path / "five")
    kept = pl.read_parquet(tmp_path / "five" / "sessions" / "*.parquet")["n_events"].sum()
    assert kept == 1


@pytest.mark.parametrize("count", [3, 12], ids=["filtered-rescans", "spilled-partitions"])
def test_both_bucket_strategies_equal_one_pass(tmp_path: Path, count: int) -> None:
    frame = generate_events(events=20_000, users=400, days=2, seed=8)  # no repeated ids
    write_events(frame, tmp_path / "events")
    run([tmp_path / "events"], tmp_path / "one", RunConfig())
    run([tmp_path / "events"], tmp_path / "many", RunConfig(), buckets=count)
    assert_same_outputs(tmp_path / "one", tmp_path / "many")
    assert len(list((tmp_path / "many" / "sessions").iterdir())) == count


def test_rescanned_buckets_keep_every_column_of_quarantined_rows(tmp_path: Path) -> None:
    frame = generate_events(events=20_000, users=200, days=2, seed=5, bad_row_rate=0.02)
    distinct_ids = frame.with_columns(pl.format("id-{}", pl.int_range(pl.len())).alias("event_id"))
    distinct_ids.write_parquet(tmp_path / "events.parquet")  # rescans read lists once
    run([tmp_path / "events.parquet"], tmp_path / "one", RunConfig())
    run([tmp_path / "events.parquet"], tmp_path / "four", RunConfig(), buckets=4)
    assert_same_outputs(tmp_path / "one", tmp_path / "four")
    quarantine = pl.read_parquet(tmp_path / "four" / "quarantine" / "*.parquet")
    assert quarantine.height > 0
    assert quarantine["items"].is_not_null().any()  # read once for every bucket
    assert quarantine["event_id"].str.starts_with("id-").all()  # read for these rows only


def test_rescanned_buckets_of_a_log_without_event_ids(tmp_path: Path) -> None:
    frame = generate_events(events=20_000, users=200, days=2, seed=3, bad_row_rate=0.02)
    write_events(frame.drop("event_id"), tmp_path / "events")
    run([tmp_path / "events"], tmp_path / "one", RunConfig())
    run([tmp_path / "events"], tmp_path / "four", RunConfig(), buckets=4)
    assert_same_outputs(tmp_path / "one", tmp_path / "four")
    quarantine = pl.read_parquet(tmp_path / "four" / "quarantine" / "*.parquet")
    assert quarantine.height > 0
    assert quarantine["event_id"].is_null().all()


def test_a_memory_limit_picks_rescans_that_fit_beside_the_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ctr_batch.batch.memory_plan.memory_in_use", lambda: 0)
    monkeypatch.setattr("ctr_batch.batch.memory_plan.MEMORY_FLOOR", 0)  # the room is the limit
    monkeypatch.setattr("ctr_batch.batch.memory_plan.SMALLEST_ROOM", 0)
    frame = generate_events(events=20_000, users=400, days=2, seed=9)  # no repeated ids
    write_events(frame, tmp_path / "events")
    size = InputSize.of(scan_events([tmp_path / "events"]))
    limit = int(size.lists * MEMORY_PER_LIST_BYTE + size.rest * MEMORY_PER_LEAN_BYTE / 2.5)
    assert limit < size.one_pass()
    run([tmp_path / "events"], tmp_path / "one", RunConfig())
    run([tmp_path / "events"], tmp_path / "limited", RunConfig(), memory_limit=limit)
    assert_same_outputs(tmp_path / "one", tmp_path / "limited")
    assert len(list((tmp_path / "limited" / "sessions").iterdir())) == 3


def test_spills_in_many_passes_equal_one_pass(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    frame = generate_events(events=12_000, users=150, days=3, seed=6, bad_row_rate=0.02)
    write_events(frame, tmp_path / "events")  # 3 files: sliced, and their tails grouped
    monkeypatch.setattr("ctr_batch.batch.memory_plan.SPILL_PASS_ROWS", 1_500)
    run([tmp_path / "events"], tmp_path / "one", RunConfig())
    run([tmp_path / "events"], tmp_path / "spilled", RunConfig(), buckets=11)
    assert_same_outputs(tmp_path / "one", tmp_path / "spilled")
    quarantine = pl.read_parquet(tmp_path / "spilled" / "quarantine" / "*.parquet")
    assert (quarantine["reason"] == "duplicate_event_id").any()


@pytest.mark.parametrize("rows", [700, 1_500, 4_000, 10**6])
def test_spill_passes_cover_every_row_once_in_order(tmp_path: Path, rows: int) -> None:
    frame = generate_events(events=6_000, users=50, days=3, seed=7)
    write_events(frame, tmp_path / "events")
    scanned = scan_events([tmp_path / "events"])
    passes = _passes(scanned, rows)
    seqs = pl.concat([p.select("_seq").collect() for p in passes])["_seq"]
    assert seqs.to_list() == list(range(scanned.rows))
    assert (len(passes) > 1) == (rows < scanned.rows)


def test_a_failed_write_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = generate_events(events=6_000, users=100, days=2, seed=3)
    write_events(frame, tmp_path / "events")
    real_write, calls = buckets._write_parts, list[int]()

    def failing_write(tables: dict[str, pl.DataFrame], staging: Path, index: int) -> None:
        calls.append(index)
        if index == 1:  # on the writer thread, while bucket 2 computes
            message = "disk full"
            raise OSError(message)
        real_write(tables, staging, index)

    monkeypatch.setattr(buckets, "_write_parts", failing_write)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        run([tmp_path / "events"], out, RunConfig(), buckets=4)
    assert calls == [0, 1]  # no bucket is written after the failure
    assert not out.exists()  # no table, no snapshot or bucket folder left behind


def test_a_killed_runs_scratch_folders_are_removed_by_the_next_run(tmp_path: Path) -> None:
    frame = generate_events(events=2_000, users=40, days=1, seed=3)
    write_events(frame, tmp_path / "events")
    out = tmp_path / "out"
    dead, live = out / ".buckets-999999999-0123456789ab", out / f".staging-{os.getpid()}-x"
    for folder in (dead, live):
        (folder / "users").mkdir(parents=True)
        (folder / "users" / "part.parquet").write_bytes(b"")
    run([tmp_path / "events"], out, RunConfig(), buckets=12)
    assert not dead.exists()  # no process 999999999: a killed run's
    assert live.exists()  # this process's own, as a concurrent run's would be
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == [".current", ".lock", ".snapshots", live.name]


def test_an_empty_log_in_spilled_buckets_writes_every_table(tmp_path: Path) -> None:
    empty = pl.DataFrame(
        schema={"user_id": pl.String, "event_time": pl.Datetime("us"), "event_type": pl.String}
    )
    empty.write_parquet(tmp_path / "empty.parquet")
    run([tmp_path / "empty.parquet"], tmp_path / "out", RunConfig(), buckets=12)
    for table in (*KEYS, "run_summary"):
        assert (tmp_path / "out" / table).is_dir(), table
    assert pl.read_parquet(tmp_path / "out" / "searches" / "*.parquet").height == 0
