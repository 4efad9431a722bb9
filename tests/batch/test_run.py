"""The public API a notebook user lives in: ``compute`` and ``run`` on paths and frames alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path  # noqa: TC003  (fixtures' annotations)

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

import ctr_batch
from ctr_batch.core.errors import ConfigError, InputError, SchemaError
from ctr_batch.samples.bundled import sample
from tests.conftest import events

EXCITE = sample("excite").path
COMPARED = ("searches", "sessions", "ctr_daily", "ctr_by_query")
BASIC = events(
    ("a", 0, "search", "q"),
    ("a", 1, "results", "q", ["x", "y"]),
    ("a", 2, "click", None, None, "y"),
    ("b", 5, "search", "r"),
    (None, 6, "click"),
)


def assert_same_tables(got: dict[str, pl.DataFrame], expected: dict[str, pl.DataFrame]) -> None:
    for name in COMPARED:
        assert_frame_equal(got[name], expected[name], check_row_order=name in ("ctr_daily",))


def written(out: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(out / name / "*.parquet") for name in (*COMPARED, "quarantine")}


@pytest.fixture(scope="module")
def excite_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    out = tmp_path_factory.mktemp("excite")
    ctr_batch.run([EXCITE], out)
    return written(out)


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(lambda: str(EXCITE), id="str-path"),
        pytest.param(lambda: EXCITE, id="Path"),
        pytest.param(lambda: [str(EXCITE)], id="list"),
        pytest.param(lambda: str(EXCITE.parent / "excite-*.parquet"), id="glob"),
        pytest.param(lambda: pl.scan_parquet(EXCITE), id="LazyFrame"),
        pytest.param(lambda: pl.read_parquet(EXCITE), id="DataFrame"),
        pytest.param(lambda: pl.read_parquet(EXCITE).to_arrow(), id="pyarrow.Table"),
    ],
)
def test_compute_on_any_input_gives_the_tables_of_run(given, excite_run) -> None:  # type: ignore[no-untyped-def]
    tables, summary = ctr_batch.compute(given())  # no event_id column: optional columns may lack
    assert_same_tables(tables, excite_run)
    assert summary.rows_read == summary.rows_processed + summary.rows_quarantined
    assert summary.searches == excite_run["searches"].height


def test_a_frame_is_normalized_as_a_file_is(tmp_path: Path) -> None:
    """Integer users, nanosecond times in another zone, mapped names, no optional columns."""
    frame = BASIC.select(
        pl.col("user_id").replace({"a": "1", "b": "2"}).cast(pl.Int64).alias("uid"),
        pl.col("event_time")
        .dt.convert_time_zone("Asia/Tokyo")
        .cast(pl.Datetime("ns", "Asia/Tokyo")),
        "event_type",
        "query",
        "items",
        "item",
    )
    frame.write_parquet(tmp_path / "events.parquet")
    columns = {"user_id": "uid"}
    from_file, _ = ctr_batch.compute(tmp_path / "events.parquet", columns=columns)
    from_frame, summary = ctr_batch.compute(frame, columns=columns, gap="1m")
    assert_same_tables(from_frame, from_file)
    assert from_frame["searches"]["user_id"].to_list() == ["1", "2"] or sorted(
        from_frame["searches"]["user_id"].to_list()
    ) == ["1", "2"]
    assert summary.quarantined["null_user_id"] == 1
    quarantine = from_frame["quarantine"]
    assert quarantine["source_file"].to_list() == [None]  # no file: the row number says where
    assert quarantine["source_row"].to_list() == [4]


def test_settings_come_as_a_config_or_as_keywords() -> None:
    config = ctr_batch.RunConfig(gap=timedelta(milliseconds=500))
    by_config, _ = ctr_batch.compute(BASIC, config)
    by_keyword, _ = ctr_batch.compute(BASIC, gap="500ms")
    overridden, _ = ctr_batch.compute(BASIC, config, gap="1h")
    assert_same_tables(by_config, by_keyword)
    assert by_config["sessions"].height == 4
    assert overridden["sessions"].height == 2


def test_run_writes_from_a_frame_to_a_str_path(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    summary = ctr_batch.run(BASIC, out, gap="30m")
    assert summary.searches == 2
    assert set(summary.tables) >= {"searches", "sessions", "run_summary"}
    inputs = pl.read_parquet(f"{out}/run_summary/*.parquet")["inputs"].to_list()
    assert inputs == [["<polars.DataFrame>"]]
    assert ctr_batch.run_sql(out, "SELECT count(*) AS n FROM searches")["n"].item() == 2
    assert ctr_batch.run_query("daily_ctr", out)["searches"].to_list() == [2]
    assert not any(rows.height for rows in ctr_batch.run_checks(out).values())


def test_run_in_buckets_from_a_frame_equals_one_pass(tmp_path: Path) -> None:
    one = ctr_batch.run(BASIC, tmp_path / "one")
    many = ctr_batch.run(BASIC, tmp_path / "many", buckets=3, memory_limit="8G")
    assert (one.searches, one.sessions) == (many.searches, many.sessions)
    assert_same_tables(written(tmp_path / "many"), written(tmp_path / "one"))


def test_stages_take_plain_contract_frames(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    BASIC.drop("event_id", "items").write_parquet(path)
    sessions = ctr_batch.sessionize(pl.scan_parquet(path).drop_nulls("user_id"), gap="30m")
    segmented = ctr_batch.segment(sessions).collect()
    assert segmented["search_index"].to_list() == [1, 1, 1, 1]
    flagged = ctr_batch.flag_rows(pl.scan_parquet(path).with_columns(event_id=pl.lit("1")))
    reasons = flagged.collect()["reason"].to_list()
    assert reasons == [None, *["duplicate_event_id"] * 3, "null_user_id"]
    tables = ctr_batch.compute_tables(pl.scan_parquet(path), ctr_batch.RunConfig())
    assert tables["searches"].height == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: ctr_batch.RunConfig(gap=5), "gap: expected a duration", id="gap-int"),  # type: ignore[arg-type]
        pytest.param(lambda: ctr_batch.RunConfig(gap="soon"), "duration 'soon'", id="gap-text"),
        pytest.param(lambda: ctr_batch.RunConfig(timezone=3), "time zone 3", id="zone"),  # type: ignore[arg-type]
        pytest.param(lambda: ctr_batch.RunConfig(gap_rule="loose"), "gap rule", id="rule"),  # type: ignore[arg-type]
        pytest.param(lambda: ctr_batch.RunConfig(column_map=5), "columns: expected", id="map"),  # type: ignore[arg-type]
        pytest.param(lambda: ctr_batch.StreamConfig(wait="x"), "duration 'x'", id="wait"),
        pytest.param(lambda: ctr_batch.BackfillConfig(lookback=1), "lookback: expected", id="lookback"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda: ctr_batch.BackfillConfig(jobs=0), "jobs must be", id="jobs"),
        pytest.param(lambda: ctr_batch.compute(42), "events: expected a path", id="events"),  # type: ignore[arg-type]
        pytest.param(lambda: ctr_batch.compute(BASIC, "30m"), "config: expected", id="config"),  # type: ignore[arg-type]
        pytest.param(lambda: ctr_batch.compute(BASIC, engine="fast"), "engine 'fast'", id="engine"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda: ctr_batch.run(BASIC, "x", memory_limit="lots"), "size 'lots'", id="size"),  # noqa: E501
        pytest.param(lambda: ctr_batch.run(BASIC, "x", buckets=0), "buckets must", id="buckets"),
        pytest.param(lambda: ctr_batch.backfill(EXCITE, "x", "2024-13-01", "2024-01-01"), "start '2024-13-01'", id="date"),  # type: ignore[arg-type]  # noqa: E501
    ],
)  # fmt: skip
def test_every_bad_argument_is_one_clear_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_a_frame_without_a_required_column_names_it() -> None:
    with pytest.raises(SchemaError, match=r"the events given: missing columns \['event_time'\]"):
        ctr_batch.compute(BASIC.drop("event_time"))


def test_sizes_accept_the_usual_spellings() -> None:
    from ctr_batch.core.config import parse_size

    assert parse_size("8G") == parse_size("8GiB") == 8 * 2**30
    assert parse_size("8GB") == 8 * 10**9
    assert parse_size("512M") == 512 * 2**20


def test_backfill_takes_text_dates_and_paths(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    BASIC.write_parquet(tmp_path / "in" / "events.parquet")
    day = BASIC["event_time"].min().date()  # type: ignore[union-attr]
    reports = ctr_batch.backfill(str(tmp_path / "in"), str(tmp_path / "out"), str(day), day)
    assert [r.record.searches for r in reports] == [2]
    assert datetime.now(UTC).date() >= day


def test_an_input_column_named_like_a_working_column_is_ignored(tmp_path: Path) -> None:
    """A user's ``_seq`` (or ``_row``, ``_file``) never decides input order or collides."""
    tied = events(("a", 0, "search", "q"), ("a", 0, "click"), ("a", 0, "search", "r"))
    reordered = tied.with_columns(_seq=pl.Series([1, 0, 2]), _row=pl.lit("x"), _file=pl.lit(9))
    expected, _ = ctr_batch.compute(tied)
    from_frame, _ = ctr_batch.compute(reordered)
    reordered.write_parquet(tmp_path / "events.parquet")
    from_file, _ = ctr_batch.compute(tmp_path / "events.parquet")
    assert_same_tables(from_frame, expected)
    assert_same_tables(from_file, expected)
    assert expected["searches"].sort("search_index")["n_clicks"].to_list() == [1, 0]


def test_stages_check_their_settings() -> None:
    with pytest.raises(ConfigError, match="gap rule"):
        ctr_batch.sessionize(BASIC.lazy(), gap="1s", gap_rule="Inclusive")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="gap must be positive"):
        ctr_batch.sessionize(BASIC.lazy(), gap="0s")
    with pytest.raises(ConfigError, match="config: expected a RunConfig"):
        ctr_batch.compute_tables(BASIC, None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="config: expected a RunConfig"):
        ctr_batch.compute_tables_duckdb(BASIC, "30m")  # type: ignore[arg-type]
    assert ctr_batch.compute_tables(BASIC, ctr_batch.RunConfig())["searches"].height == 2
    no_ids = ctr_batch.flag_rows(BASIC.drop("event_id").lazy()).collect()["reason"]
    assert no_ids.to_list() == [None] * 4 + ["null_user_id"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        pytest.param(lambda o: ctr_batch.run(BASIC, ""), ConfigError, "out: expected the path", id="empty-out"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.run(BASIC, None), ConfigError, "out: expected", id="no-out"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda o: ctr_batch.compute(""), ConfigError, "no input given", id="empty-path"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.compute([]), ConfigError, "no input given", id="no-input"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.backfill([], o, "2024-01-01", "2024-01-01"), ConfigError, "no input given", id="backfill-nothing"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.backfill(BASIC, o, "2024-01-01", "2024-01-01"), ConfigError, "expected paths", id="backfill-frame"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda o: ctr_batch.backfill(EXCITE, o, "0001-01-01", "9999-12-31"), ConfigError, "at most 3,660", id="huge-range"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.backfill(EXCITE, o, "2024-01-01", "2024-01-01", ctr_batch.RunConfig()), ConfigError, "expected a BackfillConfig", id="backfill-config"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda o: ctr_batch.BackfillConfig(force="no"), ConfigError, "force: expected", id="force"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda o: ctr_batch.run(BASIC, o, memory_limit="0.1b"), ConfigError, "less than one byte", id="tiny-size"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.compute(pl.scan_parquet("/nope/a.parquet")), InputError, "the events given", id="missing-scan"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.compute(pa.table([[1], [2]], names=["user_id", "user_id"])), InputError, "the events given", id="arrow-duplicates"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.run_sql(o, ""), ConfigError, "expected an SQL statement", id="no-sql"),  # noqa: E501
        pytest.param(lambda o: ctr_batch.run_query("daily_ctr", o, kind="nope"), ConfigError, "kind 'nope'", id="query-kind"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda o: ctr_batch.reconcile(o, BASIC, kind="nope"), ConfigError, "kind 'nope'", id="stream-kind"),  # type: ignore[arg-type]  # noqa: E501
        pytest.param(lambda o: ctr_batch.reconcile(o, BASIC, tolerance="0.1"), ConfigError, "tolerance '0.1'", id="tolerance"),  # type: ignore[arg-type]  # noqa: E501
    ],
)  # fmt: skip
def test_review_findings_are_one_line_errors(call, error, message, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctr_batch.run(BASIC, tmp_path / "out")
    with pytest.raises(error, match=message) as caught:
        call(tmp_path / "out")
    assert "\n" not in str(caught.value)


def test_reconcile_normalizes_a_frame_as_it_reads_a_file(tmp_path: Path) -> None:
    ctr_batch.run(BASIC, tmp_path / "out")
    stream = pl.DataFrame({"user_id": ["a", "b"], "ctr": ["1.0", "0"],
                           "search_time": ["2024-01-01T00:00:00", "2024-01-01T00:00:05"]})  # fmt: skip  # noqa: E501
    result = ctr_batch.reconcile(str(tmp_path / "out"), stream.lazy())
    assert (result.kind, result.matched, result.unexplained) == ("searches", 2, 0)
