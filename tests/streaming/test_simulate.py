"""The stream simulation against the real Bytewax dataflow, and reconcile against both.

The Bytewax tests run ``examples/bytewax_search_ctr.py`` in-process (``bytewax`` comes with the
``test`` extra; they are skipped only if it is missing). Records are compared as multisets:
Bytewax emits sessions in the order they close.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.config import RunConfig, StreamConfig
from ctr_batch.core.errors import SchemaError
from ctr_batch.io.read import scan_events
from ctr_batch.reconciliation.records import batch_searches
from ctr_batch.samples.generate import generate_events
from ctr_batch.streaming.run import run_simulation, simulate_stream
from ctr_batch.streaming.simulate import simulate
from tests.conftest import events
from tests.strategies import GAP, event_logs, to_frame
from tests.stream_helpers import (
    ROOT,
    SEARCH_FIELDS,
    SESSION_FIELDS,
    STREAM_GAP,
    WAIT_IDS,
    WAITS,
    assert_prediction,
    assert_same_records,
    run_bytewax,
)

if TYPE_CHECKING:
    from types import ModuleType


def test_tutorial_blog_example(dataflow: ModuleType, tmp_path: Path) -> None:
    source = ROOT / "data" / "tutorial_blog.parquet"
    gap, wait = timedelta(seconds=5), timedelta(seconds=10)
    streamed = run_bytewax(dataflow, source, tmp_path, gap=gap, wait=wait)
    ctr = dict(streamed["searches"].select("query", "ctr").iter_rows())
    assert ctr == {"dogs": 1.0, "cats": 1.0, "fruit": 0.0}
    predicted = simulate_stream(scan_events([source]).frame, gap=gap, wait=wait)
    assert_prediction(streamed, predicted)


# --- simulate_stream predicts Bytewax exactly ----------------------------------------------------
@pytest.mark.parametrize("wait", WAITS, ids=WAIT_IDS)
def test_simulation_predicts_bytewax_on_disordered_log(
    dataflow: ModuleType, disordered_file: Path, tmp_path: Path, wait: timedelta
) -> None:
    streamed = run_bytewax(dataflow, disordered_file, tmp_path, gap=STREAM_GAP, wait=wait)
    simulation = simulate(
        scan_events([disordered_file]).frame, StreamConfig(gap=STREAM_GAP, wait=wait)
    )
    assert_prediction(streamed, simulation.tables)
    # the log exercises late drops, the sequential windower port and merges
    if wait >= timedelta(minutes=2):
        assert simulation.sequential_sessions > 0
    if wait == timedelta(days=1):
        assert simulation.tables["sessions"]["merged"].any()
    else:
        assert simulation.tables["late"].height > 0


def test_simulation_predicts_bytewax_in_arrival_column_order(
    dataflow: ModuleType, tmp_path: Path
) -> None:
    log = generate_events(events=1_500, users=10, days=1, seed=3, gap=STREAM_GAP)
    rng = np.random.default_rng(3)
    offsets = np.arange(log.height) // 3 + rng.integers(-20, 21, log.height)  # ties too
    path = tmp_path / "events.parquet"
    log.with_columns(pl.Series("ingest_offset", offsets)).write_parquet(path)
    frame = pl.scan_parquet(path)  # with its arrival column; row order is input order
    for wait in (timedelta(0), timedelta(hours=1)):
        streamed = run_bytewax(
            dataflow,
            path,
            tmp_path / str(wait),
            gap=STREAM_GAP,
            wait=wait,
            arrival="ingest_offset",
        )
        predicted = simulate_stream(frame, gap=STREAM_GAP, wait=wait, arrival="ingest_offset")
        assert_prediction(streamed, predicted)


@settings(max_examples=40, deadline=None)
@given(rows=event_logs)
def test_simulation_predicts_bytewax_on_random_logs(
    dataflow: ModuleType, rows: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "events.parquet"
        to_frame(rows).write_parquet(path)
        for wait in (timedelta(0), timedelta(seconds=3), timedelta(days=1)):
            streamed = run_bytewax(dataflow, path, Path(scratch) / "out", gap=GAP, wait=wait)
            predicted = simulate_stream(scan_events([path]).frame, gap=GAP, wait=wait)
            assert_prediction(streamed, predicted)


@pytest.mark.parametrize("wait", [timedelta(0), timedelta(days=1)], ids=["wait=0s", "wait=1d"])
def test_batch_equals_bytewax_on_time_ordered_log(
    dataflow: ModuleType, tmp_path: Path, wait: timedelta
) -> None:
    path = tmp_path / "events.parquet"
    generate_events(events=3_000, users=20, days=2, seed=8, gap=STREAM_GAP).write_parquet(path)
    streamed = run_bytewax(dataflow, path, tmp_path / "out", gap=STREAM_GAP, wait=wait)
    tables = compute_tables(scan_events([path]).frame, RunConfig(gap=STREAM_GAP))
    truth = batch_searches(tables["searches"], tables["sessions"])
    assert streamed["late"].height == 0
    assert_same_records(streamed["searches"], truth, SEARCH_FIELDS)
    assert_same_records(streamed["sessions"], tables["sessions"], SESSION_FIELDS)


# --- reconcile -----------------------------------------------------------------------------------
def test_the_first_copy_of_an_event_id_to_arrive_is_kept() -> None:
    # two copies of one search; in file order the later-arriving copy comes first, and it
    # arrives after the close 600 s later, so keeping it would make the search late
    log = events(("a", 0, "search", "q"), ("a", 600, "app_close"), ("a", 0, "search", "q"),
                 event_id=["e1", "e2", "e1"], offset=[2, 1, 0])  # fmt: skip
    tables = simulate_stream(log.lazy(), gap=GAP, wait=timedelta(seconds=10), arrival="offset")
    assert tables["late"].height == 0
    assert tables["searches"].height == 1
    quarantined = tables["quarantine"]
    assert quarantined["reason"].to_list() == ["duplicate_event_id"]
    assert quarantined["offset"].to_list() == [2]
    assert "_arrival" not in quarantined.columns


def test_arrival_column_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    events(("a", 0, "search", "q1")).write_parquet(path)
    with pytest.raises(SchemaError, match=r"missing columns \['offset'\]"):
        run_simulation([path], tmp_path / "out", StreamConfig(gap=GAP, arrival="offset"))


# --- run_simulation ------------------------------------------------------------------------------
def test_run_simulation_writes_the_tables(disordered_file: Path, tmp_path: Path) -> None:
    summary = run_simulation(
        [disordered_file], tmp_path, StreamConfig(gap=STREAM_GAP, wait=timedelta(seconds=5))
    )
    tables = {t: pl.read_parquet(f"{tmp_path}/{t}/**/*.parquet") for t in summary.tables}
    assert set(tables) == {"searches", "sessions", "late", "quarantine"}
    processed = int(tables["sessions"]["n_events"].sum())
    assert processed + summary.late + summary.quarantined == summary.rows_read
    assert summary.late == tables["late"].height > 0
    assert summary.searches == tables["searches"].height
    assert (
        tables["quarantine"]["source_file"].to_list()
        == [str(disordered_file)] * summary.quarantined
    )
    assert summary.ctr is not None
    assert 0 < summary.ctr < 1


def test_simulation_of_empty_log() -> None:
    empty = pl.LazyFrame(schema=to_frame([]).schema)
    tables = simulate_stream(empty, gap=GAP, wait=timedelta(0))
    assert all(frame.height == 0 for frame in tables.values())
    assert tables["searches"].columns[:3] == ["user_id", "session_id", "session_start"]


def test_late_rows_keep_event_columns() -> None:
    frame = events(("a", 10, "search", "q"), ("a", 1, "click", None, None, "x")).lazy()
    late = simulate_stream(frame, gap=GAP, wait=timedelta(seconds=2))["late"]
    assert late.select("event_type", "item", "input_row").row(0) == ("click", "x", 1)
    assert late["watermark"].item() == datetime(2024, 1, 1, 0, 0, 8, tzinfo=UTC)
