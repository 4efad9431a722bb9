"""Helpers shared by the stream and reconciliation tests: the real Bytewax dataflow, logs.

The Bytewax tests run ``examples/bytewax_search_ctr.py`` in-process (``bytewax`` comes with the
``test`` extra; they are skipped only if it is missing). Records are compared as multisets:
Bytewax emits sessions in the order they close.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.samples.generate import generate_events

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SEARCH_FIELDS = ["user_id", "session_start", "search_time", "query", "n_clicks", "ctr"]
SESSION_FIELDS = ["user_id", "session_start", "session_end", "n_events", "n_searches", "n_clicks"]
LATE_FIELDS = ["user_id", "event_time", "event_type", "query", "item", "event_id", "input_row"]
WAITS = [timedelta(0), timedelta(seconds=5), timedelta(minutes=2), timedelta(days=1)]
WAIT_IDS = ["wait=0s", "wait=5s", "wait=2m", "wait=1d"]
STREAM_GAP = timedelta(minutes=2)


# --- helpers -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataflow() -> ModuleType:
    """The example dataflow module (needs bytewax, from the `test` extra)."""
    pytest.importorskip("bytewax")
    spec = importlib.util.spec_from_file_location(
        "bytewax_search_ctr", ROOT / "examples" / "bytewax_search_ctr.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_bytewax(
    flow: ModuleType,
    events_file: Path,
    out: Path,
    *,
    gap: timedelta,
    wait: timedelta,
    arrival: str | None = None,
) -> dict[str, pl.DataFrame]:
    flow.run_main(flow.build_flow(flow.read_events(events_file, arrival), out, gap=gap, wait=wait))
    return {t: pl.read_parquet(out / t / "*.parquet") for t in ("searches", "sessions", "late")}


def assert_same_records(actual: pl.DataFrame, expected: pl.DataFrame, columns: list[str]) -> None:
    left, right = (
        actual.select(columns),
        expected.select(columns).cast(actual.select(columns).schema),
    )
    assert_frame_equal(left.sort(columns, nulls_last=True), right.sort(columns, nulls_last=True))


def assert_prediction(
    streamed: dict[str, pl.DataFrame], predicted: dict[str, pl.DataFrame]
) -> None:
    assert_same_records(streamed["searches"], predicted["searches"], SEARCH_FIELDS)
    assert_same_records(streamed["sessions"], predicted["sessions"], SESSION_FIELDS)
    assert_same_records(streamed["late"], predicted["late"], LATE_FIELDS)


def disordered_log(seed: int, *, rows_moved: float = 0.1, spread: int = 40) -> pl.DataFrame:
    """A generated log (gap 2 min) where some rows moved up to `spread` places in the file."""
    log = generate_events(
        events=2_500, users=16, days=1, seed=seed, gap=STREAM_GAP, bad_row_rate=0.01
    )
    rng = np.random.default_rng(seed)
    place = np.arange(log.height, dtype=np.float64)
    moved = rng.random(log.height) < rows_moved
    place[moved] += rng.integers(-spread, spread + 1, int(moved.sum()))
    return log.with_columns(pl.Series("_place", place)).sort("_place").drop("_place")


@pytest.fixture(scope="module")
def disordered_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("disordered") / "events.parquet"
    disordered_log(seed=11).write_parquet(path)
    return path


@pytest.fixture(scope="module")
def batch_out(disordered_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("batch")
    run([disordered_file], out, RunConfig(gap=STREAM_GAP))
    return out


# --- the tutorial's own example ------------------------------------------------------------------


def late_sample(target: Path) -> Path:
    """The bundled sample with some events a few rows late, written to `target` (a file)."""
    from ctr_batch.samples.bundled import sample

    frame = pl.read_parquet(sample("sample").path / "**" / "*.parquet")
    moved = list(range(frame.height))
    for i in range(0, frame.height - 30, 25):  # some events arrive a few rows late
        moved[i], moved[i + 30] = moved[i + 30], moved[i]
    frame[moved].write_parquet(target)
    return target
