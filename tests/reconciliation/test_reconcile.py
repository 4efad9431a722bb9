"""reconcile against the real Bytewax dataflow's output and constructed cases.

The Bytewax tests run ``examples/bytewax_search_ctr.py`` in-process (``bytewax`` comes with the
``test`` extra; they are skipped only if it is missing). Records are compared as multisets:
Bytewax emits sessions in the order they close.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError, InputError, SchemaError
from ctr_batch.io.read import scan_events
from ctr_batch.reconciliation.load import load_stream_output
from ctr_batch.reconciliation.reconcile import reconcile
from ctr_batch.reconciliation.result import MISMATCH_SCHEMA, summary_rows, write_mismatches
from ctr_batch.streaming.run import simulate_stream
from tests.conftest import at, events
from tests.stream_helpers import SEARCH_FIELDS, STREAM_GAP, WAIT_IDS, WAITS, run_bytewax

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType


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


def test_a_folder_of_several_kinds_of_records_is_refused(tmp_path: Path) -> None:
    pl.DataFrame({"user_id": ["a"], "search_time": [at(0)], "ctr": [1.0]}).write_parquet(
        tmp_path / "searches.parquet"
    )
    pl.DataFrame({"user_id": ["a"], "event_time": [at(0)]}).write_parquet(
        tmp_path / "late.parquet"
    )
    with pytest.raises(SchemaError, match="its files hold different records"):
        load_stream_output(tmp_path)
