"""The stream simulation against the real Bytewax dataflow, and reconcile against both.

The Bytewax tests run ``examples/bytewax_search_ctr.py`` in-process (``bytewax`` comes with the
``test`` extra; they are skipped only if it is missing). Records are compared as multisets:
Bytewax emits sessions in the order they close.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from polars.testing import assert_frame_equal

from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig, StreamConfig
from ctr_batch.core.errors import ConfigError, InputError, SchemaError
from ctr_batch.io.read import scan_events
from ctr_batch.reconciliation.load import load_stream_output
from ctr_batch.reconciliation.reconcile import reconcile
from ctr_batch.reconciliation.records import batch_searches
from ctr_batch.reconciliation.result import MISMATCH_SCHEMA, summary_rows, write_mismatches
from ctr_batch.samples.generate import generate_events
from ctr_batch.streaming.run import run_simulation
from ctr_batch.streaming.simulate import simulate, simulate_stream
from tests.conftest import at, events
from tests.strategies import GAP, event_logs, to_frame

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
    frame = scan_events([path]).frame.join(
        pl.scan_parquet(path)
        .select("ingest_offset")
        .with_row_index("_seq")
        .cast({"_seq": pl.Int64}),
        on="_seq",
    )
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
@pytest.mark.parametrize("wait", WAITS, ids=WAIT_IDS)
@pytest.mark.parametrize("table", ["searches", "sessions"])
def test_reconcile_explains_every_bytewax_difference(
    dataflow: ModuleType,
    disordered_file: Path,
    batch_out: Path,
    tmp_path: Path,
    wait: timedelta,
    table: str,
) -> None:
    out = tmp_path / "stream"
    run_bytewax(dataflow, disordered_file, out, gap=STREAM_GAP, wait=wait)
    kind, stream = load_stream_output(out / table)
    assert kind == table
    result = reconcile(batch_out, stream, kind, events=[disordered_file], wait=wait)
    assert result.passed, result.mismatches.filter(pl.col("cause") == "unexplained")
    assert result.analysed
    assert (
        result.matched + result.missing_in_stream + result.value_mismatch == result.batch_records
    )
    if wait < timedelta(days=1) or table == "searches":
        assert result.mismatches.height > 0  # disorder shows, and every difference is explained


def test_reconcile_reads_csv_jsonl_and_daily_aggregates(
    dataflow: ModuleType, disordered_file: Path, batch_out: Path, tmp_path: Path
) -> None:
    wait = timedelta(minutes=2)
    streamed = run_bytewax(dataflow, disordered_file, tmp_path / "s", gap=STREAM_GAP, wait=wait)
    renamed = streamed["searches"].rename({"user_id": "user", "ctr": "click_rate"})
    renamed.write_csv(tmp_path / "searches.csv")
    renamed.write_ndjson(tmp_path / "searches.jsonl")
    daily = (
        streamed["searches"]
        .group_by(pl.col("search_time").dt.date().alias("date"))
        .agg(pl.len().alias("searches"), pl.col("ctr").mean())
    )
    daily.write_csv(tmp_path / "daily.csv")
    names = {"user_id": "user", "ctr": "click_rate"}
    for file, column_map in [
        ("searches.csv", names),
        ("searches.jsonl", names),
        ("daily.csv", {}),
    ]:
        kind, stream = load_stream_output(tmp_path / file, None, column_map)
        result = reconcile(
            batch_out, stream, kind, tolerance=1e-9, events=[disordered_file], wait=wait
        )
        assert result.passed, (file, result.mismatches)
        assert kind == ("daily" if file == "daily.csv" else "searches")
        day = result.daily.row(0, named=True)
        assert day["ci_low"] <= day["stream_value"] <= day["ci_high"]
        assert day["simulated_value"] == pytest.approx(day["stream_value"])


def test_reconcile_without_events_leaves_differences_unexplained(
    disordered_file: Path, batch_out: Path, tmp_path: Path
) -> None:
    predicted = simulate_stream(
        scan_events([disordered_file]).frame, gap=STREAM_GAP, wait=timedelta(0)
    )
    result = reconcile(batch_out, predicted["searches"].select(SEARCH_FIELDS), "searches")
    assert not result.analysed
    assert not result.passed
    assert result.unexplained == result.mismatches.height > 0
    assert set(result.mismatches["detail"]) == {"no events given: causes not analysed"}
    path = write_mismatches(result, tmp_path / "out" / "mismatches.parquet")
    assert pl.read_parquet(path).schema == MISMATCH_SCHEMA
    rows = dict(summary_rows(result))
    assert rows["result"] == "FAILED"
    assert rows["missing in stream"] == f"{result.missing_in_stream:,}"


# --- one constructed example per cause -----------------------------------------------------------
def _flip_first_ctr(searches: pl.DataFrame) -> pl.DataFrame:
    first = pl.int_range(pl.len()) == 0
    return searches.with_columns(
        pl.when(first).then(1.0 - pl.col("ctr")).otherwise("ctr").alias("ctr")
    )


CAUSE_CASES = [
    # (events in arrival order, wait, batch gap rule, stream gap rule, tamper, expected cause)
    pytest.param(
        [("a", 0, "search", "q1"), ("a", 20, "search", "q2"), ("a", 2, "click", None, None, "x")],
        timedelta(0),
        "inclusive",
        "inclusive",
        False,
        "late_drop",
        id="late_drop",
    ),
    pytest.param(
        [("a", 0, "search", "q1"), ("a", 6, "search", "q2"), ("a", 3, "click", None, None, "x")],
        timedelta(days=1),
        "inclusive",
        "inclusive",
        False,
        "arrival_order",
        id="arrival_order",
    ),
    pytest.param(
        [("a", 20, "search", "q2"), ("a", 0, "search", "q1"), ("a", 10, "click", None, None, "x")],
        timedelta(days=1),
        "inclusive",
        "inclusive",
        False,
        "merge_bridge",
        id="merge_bridge",
    ),
    pytest.param(
        [("a", 0, "search", "q1"), ("a", 10, "click", None, None, "x")],
        timedelta(0),
        "exclusive",
        "inclusive",
        False,
        "gap_rule",
        id="gap_rule_batch_exclusive",
    ),
    pytest.param(
        [("a", 0, "search", "q1"), ("a", 10, "click", None, None, "x")],
        timedelta(0),
        "inclusive",
        "exclusive",
        False,
        "gap_rule",
        id="gap_rule_stream_exclusive",
    ),
    pytest.param(
        [("a", 0, "search", "q1"), ("a", 5, "click", None, None, "x")],
        timedelta(0),
        "inclusive",
        "inclusive",
        True,
        "unexplained",
        id="unexplained",
    ),
]


@pytest.mark.parametrize(
    ("rows", "wait", "batch_rule", "stream_rule", "tamper", "cause"), CAUSE_CASES
)
def test_each_cause_has_an_example(
    tmp_path: Path,
    rows: list[tuple[Any, ...]],
    wait: timedelta,
    batch_rule: Any,
    stream_rule: Any,
    tamper: bool,
    cause: str,
) -> None:
    gap = timedelta(seconds=10)
    path = tmp_path / "events.parquet"
    events(*rows).write_parquet(path)
    run([path], tmp_path / "batch", RunConfig(gap=gap, gap_rule=batch_rule))
    frame = scan_events([path]).frame
    streamed = simulate_stream(frame, gap=gap, wait=wait, gap_rule=stream_rule)["searches"]
    streamed = _flip_first_ctr(streamed) if tamper else streamed
    streamed.select(SEARCH_FIELDS).write_parquet(tmp_path / "stream.parquet")
    kind, stream = load_stream_output(tmp_path / "stream.parquet")
    result = reconcile(tmp_path / "batch", stream, kind, events=[path], gap=gap, wait=wait)
    assert result.mismatches.height > 0
    assert set(result.mismatches["cause"]) == {cause}
    assert result.passed == (cause != "unexplained")
    assert result.stream_gap_rule == stream_rule
    assert result.mismatches["detail"].str.len_chars().min() > 0  # type: ignore[operator]


def test_tolerance_decides_whether_a_small_difference_counts(tmp_path: Path) -> None:
    gap = timedelta(seconds=10)
    path = tmp_path / "events.parquet"
    events(("a", 0, "search", "q"), ("a", 1, "click"), ("b", 0, "search", "r")).write_parquet(path)
    run([path], tmp_path / "batch", RunConfig(gap=gap))
    streamed = simulate_stream(scan_events([path]).frame, gap=gap, wait=timedelta(0))["searches"]
    nudged = streamed.select(SEARCH_FIELDS).with_columns(pl.col("ctr") + 1e-6)  # CTRs from text
    assert reconcile(tmp_path / "batch", nudged, "searches", tolerance=1e-3).passed
    strict = reconcile(tmp_path / "batch", nudged, "searches", tolerance=1e-9)
    assert not strict.passed
    assert strict.mismatches.height == 2


def test_batch_tables_from_other_events_are_unexplained(tmp_path: Path) -> None:
    gap = timedelta(seconds=10)
    path, other = tmp_path / "events.parquet", tmp_path / "other.parquet"
    events(("a", 0, "search", "q1"), ("a", 5, "click", None, None, "x")).write_parquet(path)
    events(("a", 0, "search", "q1")).write_parquet(other)
    run([other], tmp_path / "batch", RunConfig(gap=gap))
    stream = simulate_stream(scan_events([path]).frame, gap=gap, wait=timedelta(0))["searches"]
    result = reconcile(tmp_path / "batch", stream.select(SEARCH_FIELDS), "searches", events=[path])
    assert not result.passed
    assert result.mismatches["detail"].str.contains("batch tables differ").all()


# --- errors --------------------------------------------------------------------------------------
def test_stream_output_missing_columns_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "stream.parquet"
    pl.DataFrame({"user_id": ["a"], "ctr": [1.0]}).write_parquet(path)
    with pytest.raises(SchemaError) as raised:
        load_stream_output(path)
    message = str(raised.value)
    assert "\n" not in message
    assert str(path) in message
    assert "search_time" in message
    assert "found ['user_id', 'ctr']" in message


@pytest.mark.parametrize(
    ("name", "content", "error", "words"),
    [
        ("missing.parquet", None, InputError, ["not found"]),
        (
            "stream.txt",
            "user_id,search_time,ctr\n",
            ConfigError,
            ["suffix", "parquet, jsonl, csv"],
        ),
        ("stream.csv", "user_id,search_time,ctr\na,yesterday,1.0\n", SchemaError, ["search_time"]),
        (
            "stream.csv",
            "user_id,search_time,ctr\na,2024-01-01T00:00:00Z,high\n",
            SchemaError,
            ["ctr"],
        ),
        ("stream.jsonl", "{not json\n", InputError, ["not a readable"]),
        (
            "stream.csv",
            "user_id,search_time,session_start,n_clicks\na,2024-01-01,2024-01-01,1\n",
            SchemaError,
            ["per-search records (search_time) need a ctr column"],
        ),
    ],
    ids=["missing", "unknown-suffix", "bad-time", "bad-ctr", "unreadable", "search-without-ctr"],
)
def test_stream_output_errors(
    tmp_path: Path, name: str, content: str | None, error: type[Exception], words: list[str]
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(error) as raised:
        load_stream_output(path)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)
    assert all(word in str(raised.value) for word in words)


def test_reconcile_needs_batch_tables(tmp_path: Path) -> None:
    stream = pl.DataFrame({"date": [date(2024, 1, 1)], "ctr": [0.5]})
    with pytest.raises(InputError, match="no batch table found"):
        reconcile(tmp_path, stream, "daily")


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


def test_a_folder_of_several_kinds_of_records_is_refused(tmp_path: Path) -> None:
    pl.DataFrame({"user_id": ["a"], "search_time": [at(0)], "ctr": [1.0]}).write_parquet(
        tmp_path / "searches.parquet"
    )
    pl.DataFrame({"user_id": ["a"], "event_time": [at(0)]}).write_parquet(
        tmp_path / "late.parquet"
    )
    with pytest.raises(SchemaError, match="its files hold different records"):
        load_stream_output(tmp_path)
