"""Curated SQL (queries/, queries/checks/) over the tables of a run, and the query.py edge."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ctr_batch.batch import run as batch_run
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError, InputError
from ctr_batch.core.resources import data_dir
from ctr_batch.core.schema import (
    CTR_BY_QUERY_DAILY_TABLE,
    DAY_SUMMARY_TABLE,
    RUN_SUMMARY_TABLE,
    TABLE_SCHEMAS,
)
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events
from ctr_batch.sql import query, queryfile
from ctr_batch.sql import views as sql_views
from tests.conftest import events

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

RUN_TABLES = {*TABLE_SCHEMAS, RUN_SUMMARY_TABLE}  # what a run writes; a backfill adds:
KNOWN_TABLES = {*RUN_TABLES, CTR_BY_QUERY_DAILY_TABLE, DAY_SUMMARY_TABLE}
# reports over a run's tables (every one but those over a backfill's own tables)
REPORTS = [q.name for q in query.list_queries("report") if set(q.reads) <= RUN_TABLES]
CHECKS = [q.name for q in query.list_queries("check")]


def _run(sources: list[Path], out: Path) -> Path:
    summary = batch_run.run(sources, out, RunConfig())
    if not (out / RUN_SUMMARY_TABLE).is_dir():  # older pipelines wrote no run summary
        row = {
            "rows_read": summary.rows_read,
            "rows_processed": summary.rows_processed,
            "rows_quarantined": summary.rows_quarantined,
            "gap_us": RunConfig().gap // timedelta(microseconds=1),
            "gap_rule": RunConfig().gap_rule,
            "timezone": RunConfig().timezone,
        }
        (out / RUN_SUMMARY_TABLE).mkdir()
        pl.DataFrame([row]).write_parquet(out / RUN_SUMMARY_TABLE / "part-0.parquet")
    return out


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tables of the bundled 7-day sample (``ctr-batch run data/sample``)."""
    return _run([data_dir() / "sample"], tmp_path_factory.mktemp("sample") / "out")


@pytest.fixture(scope="session")
def generated_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tables of a generated 15-day log with bad rows."""
    root = tmp_path_factory.mktemp("generated")
    frame = generate_events(events=30_000, users=500, days=15, seed=1, bad_row_rate=0.002)
    write_events(frame, root / "events")
    return _run([root / "events"], root / "out")


@pytest.fixture(params=["sample_out", "generated_out"])
def out(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue(request.param)
    return path


@pytest.fixture
def copy_out(sample_out: Path, tmp_path: Path) -> Path:
    """A private copy of the sample tables, free to corrupt."""
    return shutil.copytree(sample_out, tmp_path / "out")


def read_table(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / table / "**" / "*.parquet")


def rewrite(out: Path, table: str, edit: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    """Replace `table` under `out` by `edit` of its rows."""
    frame = edit(read_table(out, table))
    shutil.rmtree(out / table)
    (out / table).mkdir()
    frame.write_parquet(out / table / "part-0.parquet")


def first_where(condition: pl.Expr, **changes: pl.Expr) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """An edit that applies `changes` to the first row meeting `condition`."""

    def edit(frame: pl.DataFrame) -> pl.DataFrame:
        first = pl.int_range(pl.len()) == condition.arg_true().first()
        return frame.with_columns(
            pl.when(first).then(value).otherwise(pl.col(name)).cast(frame.schema[name]).alias(name)
            for name, value in changes.items()
        )

    return edit


def sql_body(path: Path) -> str:
    return re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["report", "check"])
def test_headers_declare_what_the_sql_uses(kind: query.QueryKind) -> None:
    queries = query.list_queries(kind)
    assert queries
    for q in queries:
        body = sql_body(q.path)
        assert q.purpose, q.name
        assert q.grain, q.name
        assert set(q.reads) <= KNOWN_TABLES, q.name
        assert all(re.search(rf"\b{t}\b", body) for t in q.reads), q.name
        assert set(re.findall(r"\$(\w+)", body)) == set(q.params), q.name
        assert set(q.defaults) <= set(q.params), q.name


def test_at_least_the_promised_files_exist() -> None:
    assert {
        "daily_ctr",
        "ctr_by_query",
        "zero_click_queries",
        "zero_result_queries",
        "abandonment_by_day",
        "click_position",
        "session_length",
        "searches_per_session",
        "wow_ctr",
        "suspicious_users",
        "suspicious_queries",
    } <= set(REPORTS)
    assert {
        "segment_counts",
        "session_gaps",
        "search_ctr",
        "ctr_daily_recount",
        "row_accounting",
        "session_id_unique",
        "search_index_contiguous",
    } <= set(CHECKS)


def test_header_parsing(tmp_path: Path) -> None:
    path = tmp_path / "demo.sql"
    path.write_text(
        "-- purpose: Demo.\n-- grain: day\n-- reads: searches, sessions\n"
        "-- params: $start DATE (inclusive, default none), $k BIGINT (min; default 10),\n"
        "--   $name VARCHAR (required, no default)\n--\n-- notes: $ignored\nSELECT 1\n",
        encoding="utf-8",
    )
    parsed = query.QueryFile.parse(path)
    assert (parsed.name, parsed.purpose, parsed.grain) == ("demo", "Demo.", "day")
    assert parsed.reads == ("searches", "sessions")
    assert parsed.params == ("start", "k", "name")
    assert dict(parsed.defaults) == {"start": None, "k": "10"}
    assert parsed.required == ("name",)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        pytest.param("-- purpose: x\n-- grain: y\n-- reads: z\n", "header lacks", id="no-params"),
        pytest.param("-- purpose: x\n-- purpose: y\n", "appears twice", id="repeated"),
        pytest.param(
            "-- purpose: x\n-- grain: y\n-- reads: z\n-- params: start DATE\n",
            "cannot read parameter",
            id="no-dollar",
        ),
    ],
)
def test_bad_headers_are_one_line_errors(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(header + "SELECT 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        query.QueryFile.parse(path)
    assert "\n" not in str(caught.value)


# --- every query runs, every check passes --------------------------------------------------------


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_runs(out: Path, name: str) -> None:
    got = query.run_query(name, out)
    assert got.width > 0


def test_checks_pass(out: Path) -> None:
    failures = {name: rows for name, rows in query.run_checks(out).items() if rows.height}
    assert not failures, failures
    assert set(query.run_checks(out)) == set(CHECKS)


def test_tables_without_rows(tmp_path: Path) -> None:
    # Only bad rows: every table but quarantine and run_summary is empty.
    bad = events((None, 0, "search", "q"), ("u", None, "search", "q"), ("u", 1, "purchase"))
    bad.write_parquet(tmp_path / "bad.parquet")
    out = _run([tmp_path / "bad.parquet"], tmp_path / "out")
    # Fixed buckets and one-row summaries keep their rows; quarantine has its three.
    fixed = {"session_length": 16, "ctr_by_position": 10, "time_to_first_click": 9}
    fixed |= {"headline": 1, "data_quality": 1, "date_range": 1, "quarantine_by_reason": 3}
    for name in REPORTS:
        got = query.run_query(name, out)
        assert got.height == fixed.get(name, 0), name
    failures = {name: rows for name, rows in query.run_checks(out).items() if rows.height}
    assert not failures, failures


def test_only_backfill_days_needs_a_backfill() -> None:
    every = {q.name for q in query.list_queries("report")}
    assert every - set(REPORTS) == {"backfill_days"}


def test_backfill_days_are_the_manifest(tmp_path: Path) -> None:
    from ctr_batch.days.backfill import backfill
    from ctr_batch.days.config import BackfillConfig
    from ctr_batch.days.manifest import read_manifest

    late = events(("u", 0, "search", "q"), ("u", 60, "click", None), ("v", 120, "search", "r"))
    (tmp_path / "in" / "date=2024-01-01").mkdir(parents=True)
    (tmp_path / "in" / "date=2024-01-02").mkdir(parents=True)
    late.head(2).write_parquet(tmp_path / "in" / "date=2024-01-01" / "a.parquet")
    late.tail(1).write_parquet(tmp_path / "in" / "date=2024-01-02" / "b.parquet")  # late: day 1
    out = tmp_path / "out"
    backfill(tmp_path / "in", out, "2024-01-01", "2024-01-02", BackfillConfig(allow_empty=True))
    got = query.run_query("backfill_days", out)
    manifest = read_manifest(out)
    assert got.get_column("date").cast(pl.String).to_list() == sorted(manifest)
    for row in got.iter_rows(named=True):
        record = manifest[row["date"].isoformat()]
        assert (row["rows_read"], row["late_rows"]) == (record.rows_home, record.late_rows)
        assert row["continued_sessions"] == record.continued_sessions
    assert got.get_column("late_rows").to_list() == [1, 0]
    from ctr_batch.days.summaries import day_summary

    table = pl.read_parquet(out / "day_summary" / "*.parquet")
    assert table.equals(day_summary(manifest))
    assert table.get_column("quarantined_null_user_id").to_list() == [0, 0]
    assert got.get_column("rows_read").to_list() == [2, 1]
    one_day = query.run_query("backfill_days", out, {"start": "2024-01-02"})
    assert one_day.height == 1


def test_reports_return_rows_on_the_sample(sample_out: Path) -> None:
    maybe_empty = {"suspicious_users", "suspicious_queries", "zero_click_queries"}
    empty = [
        n for n in REPORTS if n not in maybe_empty and query.run_query(n, sample_out).is_empty()
    ]
    assert not empty


# --- cross-checks against the Polars tables ------------------------------------------------------


def test_daily_ctr_matches_ctr_daily_table(out: Path) -> None:
    assert_frame_equal(query.run_query("daily_ctr", out), read_table(out, "ctr_daily"))


def test_daily_ctr_date_range(generated_out: Path) -> None:
    params = {"start": "2026-11-03", "end": "2026-11-05"}
    got = query.run_query("daily_ctr", generated_out, params)
    day = pl.col("date").cast(pl.String)
    in_range = day.is_between(pl.lit(params["start"]), pl.lit(params["end"]))
    expected = read_table(generated_out, "ctr_daily").filter(in_range)
    assert got.height == 3
    assert_frame_equal(got, expected)


@pytest.mark.parametrize("min_searches", [1, 5])
def test_ctr_by_query_matches_ctr_by_query_table(out: Path, min_searches: int) -> None:
    got = query.run_query("ctr_by_query", out, {"min_searches": str(min_searches)})
    expected = read_table(out, "ctr_by_query").filter(pl.col("searches") >= min_searches)
    assert got.height > 0
    assert_frame_equal(got.drop("users"), expected)


def test_mrr_definition(out: Path) -> None:
    searches = read_table(out, "searches").filter(pl.col("n_results").is_not_null())
    expected = (1.0 / searches["first_click_position"].cast(pl.Float64)).fill_null(0.0).mean()
    got = query.run_query("click_position", out)
    assert got["mrr"].n_unique() == 1
    assert got["mrr"][0] == pytest.approx(expected)
    assert got["clicked_searches"].sum() == read_table(out, "searches")["clicked"].sum()
    assert got["cumulative_share"][-1] == pytest.approx(1.0)


def test_abandonment_by_day(out: Path) -> None:
    got = query.run_query("abandonment_by_day", out)
    daily = read_table(out, "ctr_daily").select("date", "searches", "ctr")
    joined = got.join(daily, on="date", suffix="_daily")
    assert (joined["searches"] == joined["searches_daily"]).all()
    with_searches = joined.filter(pl.col("searches") > 0)
    assert (with_searches["search_abandonment"] + with_searches["ctr"] - 1).abs().max() < 1e-12
    sessions = read_table(out, "sessions").filter(pl.col("n_searches") > 0)
    assert got["sessions_with_search"].sum() == sessions.height
    assert 0 < got["abandoned_sessions"].sum() < sessions.height


def test_abandonment_by_day_lists_days_with_sessions_but_no_search(tmp_path: Path) -> None:
    log = events(("a", 0, "search", "q"), ("b", 86_400, "app_open"), ("b", 86_460, "app_close"))
    log.write_parquet(tmp_path / "events.parquet")
    batch_run.run([tmp_path / "events.parquet"], tmp_path / "out", RunConfig())
    got = query.run_query("abandonment_by_day", tmp_path / "out")
    assert got["searches"].to_list() == [1, 0]
    assert got["sessions_with_search"].to_list() == [1, 0]
    assert got["session_abandonment"].to_list() == [1.0, None]


def test_distributions_cover_every_session(out: Path) -> None:
    sessions = read_table(out, "sessions").height
    lengths = query.run_query("session_length", out)
    assert lengths.group_by("measure").agg(pl.col("sessions").sum())["sessions"].to_list() == [
        sessions,
        sessions,
    ]
    per_session = query.run_query("searches_per_session", out, {"max_bucket": "3"})
    assert per_session["bucket"].to_list()[-1] == "3+"
    assert per_session["sessions"].sum() == sessions


def test_wow_ctr_matches_weekly_sums(generated_out: Path) -> None:
    got = query.run_query("wow_ctr", generated_out)
    weekly = (
        read_table(generated_out, "ctr_daily")
        .group_by(pl.col("date").dt.truncate("1w").alias("week_start"))
        .agg(pl.col("searches", "clicked_searches").sum())
        .sort("week_start")
        .with_columns(ctr=pl.col("clicked_searches") / pl.col("searches"))
    )
    assert_frame_equal(got.select(weekly.columns), weekly, check_dtypes=False)
    change = weekly["ctr"] - weekly["ctr"].shift(1)
    assert (got["ctr_change"] - change).abs().max() < 1e-12  # consecutive weeks in this log


def test_suspicious_users_and_queries_find_an_injected_bot(copy_out: Path) -> None:
    def add_bot(searches: pl.DataFrame) -> pl.DataFrame:
        bot = searches.head(1).select(pl.exclude("search_index", "search_time", "query"))
        rows = pl.int_range(300, eager=True).alias("i").to_frame()
        start = searches["search_time"].min()
        bot_rows = rows.join(bot, how="cross").select(
            pl.lit("bot-1").alias("user_id"),
            pl.lit("bot-1/session").alias("session_id"),
            (pl.col("i") + 1).alias("search_index"),
            (pl.lit(start) + pl.duration(seconds=pl.col("i") * 10)).alias("search_time"),
            pl.lit("cheap pills").alias("query"),
            pl.exclude("i", "user_id", "session_id"),
        )
        return pl.concat([searches, bot_rows.select(searches.columns)], how="vertical_relaxed")

    rewrite(copy_out, "searches", add_bot)
    users = query.run_query("suspicious_users", copy_out)
    assert users["user_id"].to_list() == ["bot-1"]
    assert users["max_searches_per_hour"][0] == 300  # one every 10 s: all within 50 minutes
    assert "in an hour" in users["reasons"][0]
    assert "p99" in users["reasons"][0]
    queries = query.run_query("suspicious_queries", copy_out)
    assert queries["query"].to_list() == ["cheap pills"]
    assert (queries["users"][0], queries["top_user"][0]) == (1, "bot-1")
    strict = query.run_query("suspicious_users", copy_out, {"max_searches_per_hour": "1000"})
    assert strict["reasons"].to_list() == ["day above 3.0 x p99"]


def test_zero_result_queries(out: Path) -> None:
    searches = read_table(out, "searches")
    got = query.run_query("zero_result_queries", out)
    assert got["zero_result_searches"].sum() == (searches["n_results"] == 0).sum()


# --- each check catches a corruption -------------------------------------------------------------

with_search = pl.col("n_searches") > 0
CORRUPTIONS = [
    pytest.param(
        "segment_counts",
        "sessions",
        first_where(with_search, n_searches=pl.col("n_searches") + 1),
        id="segment_counts-n_searches",
    ),
    pytest.param(
        "segment_counts",
        "searches",
        first_where(pl.lit(value=True), n_clicks=pl.col("n_clicks") + 1000),
        id="segment_counts-clicks",
    ),
    pytest.param(
        "segment_counts",
        "sessions",
        lambda frame: frame.filter(pl.int_range(pl.len()) != with_search.arg_true().first()),
        id="segment_counts-orphan-searches",
    ),
    pytest.param(
        "session_gaps",
        "sessions",
        lambda frame: pl.concat(
            [
                frame,
                frame.head(1).with_columns(
                    pl.col("session_id") + "-copy",
                    pl.col("session_start") + pl.duration(seconds=1),
                ),
            ]
        ),
        id="session_gaps-overlap",
    ),
    pytest.param(
        "search_ctr",
        "searches",
        first_where(pl.lit(value=True), ctr=pl.lit(0.5)),
        id="search_ctr-half",
    ),
    pytest.param(
        "search_ctr",
        "searches",
        first_where(pl.col("clicked"), n_clicks=pl.lit(0)),
        id="search_ctr-clicked-without-clicks",
    ),
    pytest.param(
        "ctr_daily_recount",
        "ctr_daily",
        first_where(pl.lit(value=True), searches=pl.col("searches") + 1),
        id="ctr_daily-searches",
    ),
    pytest.param(
        "ctr_daily_recount", "ctr_daily", lambda frame: frame.slice(1), id="ctr_daily-missing-day"
    ),
    pytest.param(
        "ctr_daily_recount",
        "ctr_daily",
        first_where(pl.lit(value=True), ctr=pl.lit(None, pl.Float64)),
        id="ctr_daily-null-ctr",
    ),
    pytest.param(
        "row_accounting",
        "run_summary",
        lambda frame: frame.with_columns(pl.col("rows_read") + 1),
        id="row_accounting-rows_read",
    ),
    pytest.param(
        "row_accounting", "quarantine", lambda frame: frame.slice(1), id="row_accounting-lost-row"
    ),
    pytest.param(
        "row_accounting",
        "run_summary",
        lambda frame: pl.concat([frame, frame]),
        id="row_accounting-two-summaries",
    ),
    pytest.param(
        "session_id_unique",
        "sessions",
        lambda frame: pl.concat([frame, frame.head(1)]),
        id="session_id_unique-duplicate",
    ),
    pytest.param(
        "search_index_contiguous",
        "searches",
        first_where(pl.lit(value=True), search_index=pl.col("search_index") + 1),
        id="search_index-gap",
    ),
    pytest.param(
        "session_fields",
        "sessions",
        first_where(pl.lit(value=True), duration=pl.col("duration") + pl.duration(seconds=1)),
        id="session_fields-duration",
    ),
    pytest.param(
        "session_fields",
        "sessions",
        first_where(with_search, clicks_per_search=pl.lit(None, pl.Float64)),
        id="session_fields-clicks_per_search",
    ),
    pytest.param(
        "search_in_session",
        "searches",
        first_where(pl.lit(value=True), search_time=pl.col("search_time") - pl.duration(days=1)),
        id="search_in_session-before-start",
    ),
    pytest.param(
        "search_in_session",
        "searches",
        first_where(pl.lit(value=True), user_id=pl.lit("someone else")),
        id="search_in_session-user",
    ),
    pytest.param(
        "ctr_by_query_recount",
        "ctr_by_query",
        first_where(pl.lit(value=True), clicks=pl.col("clicks") + 1),
        id="ctr_by_query-clicks",
    ),
    pytest.param(
        "ctr_by_query_recount",
        "ctr_by_query",
        lambda frame: frame.slice(1),
        id="ctr_by_query-missing-query",
    ),
    pytest.param(
        "day_assignment",
        "sessions",
        first_where(pl.lit(value=True), date=pl.col("date") + pl.duration(days=1)),
        id="day_assignment-shifted",
    ),
]


@pytest.mark.parametrize(("check", "table", "edit"), CORRUPTIONS)
def test_check_catches_corruption(
    copy_out: Path, check: str, table: str, edit: Callable[[pl.DataFrame], pl.DataFrame]
) -> None:
    assert query.run_query(check, copy_out, kind="check").is_empty()
    rewrite(copy_out, table, edit)
    offending = query.run_query(check, copy_out, kind="check")
    assert offending.height >= 1
    if "problem" in offending.columns:
        assert offending["problem"].str.len_chars().min() > 0


def test_every_check_has_a_corruption() -> None:
    assert {p.values[0] for p in CORRUPTIONS} == set(CHECKS)


def _closest_sessions_us(out: Path) -> int:
    sql = """
        SELECT min(epoch_us(session_start) - epoch_us(prev_end)) AS us FROM (
            SELECT session_start,
                   lag(session_end) OVER (PARTITION BY user_id ORDER BY session_start) AS prev_end
            FROM sessions)
    """
    us: int = query.run_sql(out, sql)["us"][0]
    return us


@pytest.mark.parametrize(
    ("exclusive", "offending"),
    [pytest.param("false", 1, id="inclusive"), pytest.param("true", 0, id="exclusive")],
)
def test_session_gaps_rule_at_the_boundary(
    sample_out: Path, exclusive: str, offending: int
) -> None:
    # A gap exactly equal to the closest separation: that pair breaks only the inclusive rule.
    gap_us = str(_closest_sessions_us(sample_out))
    params = {"gap_us": gap_us, "exclusive": exclusive}
    got = query.run_query("session_gaps", sample_out, params, kind="check")
    assert got.height == offending
    assert got["problem"].to_list() == ["separated by no more than the gap"] * offending


def test_session_gaps_without_known_gap(copy_out: Path) -> None:
    rewrite(
        copy_out, "run_summary", lambda f: f.with_columns(pl.lit(None, pl.Int64).alias("gap_us"))
    )
    got = query.run_query("session_gaps", copy_out, kind="check")
    assert got["problem"].to_list()[0].startswith("gap unknown")
    passing = query.run_query("session_gaps", copy_out, {"gap_us": "1800000000"}, kind="check")
    assert passing.is_empty()


def test_day_assignment_uses_the_timezone_param(sample_out: Path) -> None:
    got = query.run_query("day_assignment", sample_out, {"timezone": "Asia/Tokyo"}, kind="check")
    assert got.height > 0


# --- errors --------------------------------------------------------------------------------------


def one_line(caught: pytest.ExceptionInfo[Exception]) -> str:
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_query(sample_out: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        query.run_query("no_such_query", sample_out)
    every = ", ".join(q.name for q in query.list_queries("report"))
    assert one_line(caught) == f"unknown query 'no_such_query'; available: {every}"
    with pytest.raises(ConfigError, match="unknown check 'daily_ctr'; available: ctr_by"):
        query.find_query("daily_ctr", kind="check")


def test_unknown_table(sample_out: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        query.run_sql(sample_out, "SELECT * FROM searches JOIN clicks USING (session_id)")
    message = one_line(caught)
    assert message.startswith("unknown table 'clicks'; available: ctr_by_query, ctr_daily,")
    assert "searches, sessions" in message


def test_query_reading_a_missing_table(copy_out: Path) -> None:
    shutil.rmtree(copy_out / "ctr_daily")
    with pytest.raises(ConfigError) as caught:
        query.run_query("wow_ctr", copy_out)
    assert "query 'wow_ctr' reads table(s) ['ctr_daily'], not found under" in one_line(caught)


@pytest.mark.parametrize(
    ("sql", "start"),
    [
        pytest.param("SELEC 1", "SQL error: Parser Error: syntax error", id="syntax"),
        pytest.param("SELECT nope FROM searches", "SQL error: Binder Error", id="column"),
    ],
)
def test_sql_errors(sample_out: Path, sql: str, start: str) -> None:
    with pytest.raises(ConfigError) as caught:
        query.run_sql(sample_out, sql)
    assert one_line(caught).startswith(start)


def test_bad_parameter_value(sample_out: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        query.run_query("daily_ctr", sample_out, {"start": "yesterday"})
    assert one_line(caught).startswith("daily_ctr: SQL error: Conversion Error")


def test_unknown_parameter(sample_out: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        query.run_query("daily_ctr", sample_out, {"stat": "2026-11-01"})
    assert one_line(caught) == (
        "query 'daily_ctr' has no parameter(s) ['stat']; "
        "declared: $start (default none), $end (default none)"
    )
    with pytest.raises(ConfigError, match=r"no check takes parameter\(s\) \['gap'\]"):
        query.run_checks(sample_out, {"gap": "30m"})


def test_missing_parameter(
    sample_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "top_n.sql").write_text(
        "-- purpose: Top queries.\n-- grain: query\n-- reads: ctr_by_query\n"
        "-- params: $n BIGINT (rows to show), $min_searches BIGINT (default 1)\n"
        "SELECT * FROM ctr_by_query WHERE searches >= $min_searches::BIGINT LIMIT $n::BIGINT\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(queryfile, "queries_dir", lambda: tmp_path)
    with pytest.raises(ConfigError) as caught:
        query.run_query("top_n", sample_out)
    assert one_line(caught) == (
        "query 'top_n' needs parameter(s) ['n']; "
        "declared: $n (required), $min_searches (default 1)"
    )
    assert query.run_query("top_n", sample_out, {"n": "3"}).height == 3


def test_run_sql_with_parameters(sample_out: Path) -> None:
    sql = "SELECT count(*) AS n FROM searches WHERE date >= $day::DATE"
    everything = query.run_sql(sample_out, sql, {"day": "2000-01-01"})["n"][0]
    assert everything == read_table(sample_out, "searches").height
    assert query.run_sql(sample_out, sql, {"day": "2100-01-01"})["n"][0] == 0


def test_no_tables(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(InputError, match="no tables found") as caught:
            query.run_sql(out, "SELECT 1")
        one_line(caught)


def test_table_paths_skips_hidden_and_empty_folders(copy_out: Path) -> None:
    (copy_out / ".staging-123").mkdir()
    (copy_out / ".staging-123" / "x.parquet").write_bytes(b"")
    (copy_out / "notes").mkdir()
    assert ".staging-123" not in sql_views.table_paths(copy_out)
    assert "notes" not in sql_views.table_paths(copy_out)


def test_quotes_in_paths_are_escaped(sample_out: Path, tmp_path: Path) -> None:
    odd = shutil.copytree(sample_out, tmp_path / 'o\'brien "x"; DROP VIEW searches; --')
    assert query.run_sql(odd, "SELECT count(*) AS n FROM sessions")["n"][0] > 0


def test_connect_binds_one_view_per_table(sample_out: Path) -> None:
    with query.connect(sample_out) as con:
        views = {row[0] for row in con.sql("SELECT view_name FROM duckdb_views()").fetchall()}
        assert set(sql_views.table_paths(sample_out)) <= views
        assert con.sql("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]


# --- export --------------------------------------------------------------------------------------


def test_export_duckdb_opens_from_another_directory(
    sample_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "exports" / "analytics.duckdb"
    db.parent.mkdir()
    with duckdb.connect(str(db)) as con:  # an earlier export: replaced, not appended to
        con.sql("CREATE VIEW ctr_daily AS SELECT 1 AS stale")
    names = sql_views.export_duckdb(sample_out, db)
    assert names == sorted(sql_views.table_paths(sample_out))
    assert [p.name for p in db.parent.iterdir()] == ["analytics.duckdb"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with duckdb.connect(str(db), read_only=True) as con:
        for name in names:
            count = con.sql(f'SELECT count(*) FROM "{name}"').fetchall()
            assert count == [(read_table(sample_out, name).height,)]
        assert con.sql("SELECT count(*) FROM searches").fetchall()[0][0] > 0
        assert "stale" not in {row[0] for row in con.sql("SHOW TABLES").fetchall()}
