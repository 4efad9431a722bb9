"""export-duckdb's table macros (the curated reports) and comments (issue 18)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from ctr_batch.batch.run import run
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.core.schema import COLUMN_DOCS, TABLE_DOCS
from ctr_batch.io.write import write_events
from ctr_batch.samples.generate import generate_events
from ctr_batch.sql import query
from ctr_batch.sql.queryfile import list_queries

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

REPORTS = [q for q in list_queries("report") if "day_summary" not in q.reads]  # a run's


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    frame = generate_events(events=8_000, users=120, days=5, seed=7, bad_row_rate=0.01)
    write_events(frame, root / "events")
    run([root / "events"], root / "out", RunConfig())
    return root / "out"


@pytest.fixture(scope="module")
def db(out: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    target = out.parent / "ctr.duckdb"
    result = CliRunner().invoke(app, ["export-duckdb", str(out), str(target)])
    assert result.exit_code == 0, result.stderr
    with duckdb.connect(str(target), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con


@pytest.mark.parametrize("report", REPORTS, ids=[q.name for q in REPORTS])
def test_macro_equals_the_query(db: duckdb.DuckDBPyConnection, out: Path, report) -> None:  # type: ignore[no-untyped-def]
    expected = query.run_query(report.name, out)
    got = db.sql(f'SELECT * FROM "{report.name}"()').pl()
    assert_frame_equal(got, expected)


def test_macro_arguments(db: duckdb.DuckDBPyConnection, out: Path) -> None:
    params = {"min_searches": "3", "start": "2026-11-02", "end": "2026-11-03"}
    expected = query.run_query("ctr_by_query", out, params)
    got = db.sql(
        """SELECT * FROM ctr_by_query(min_searches := '3', start := '2026-11-02',
                                      "end" := '2026-11-03')"""
    ).pl()
    assert_frame_equal(got, expected)
    assert expected.height > 0


def test_comments_on_tables_columns_and_macros(db: duckdb.DuckDBPyConnection) -> None:
    views = dict(db.sql("SELECT view_name, comment FROM duckdb_views()").fetchall())
    for table, text in TABLE_DOCS.items():
        assert views[table] == text
    columns = db.sql(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'sessions'"
    ).fetchall()
    comments = dict(columns)
    unit, meaning = COLUMN_DOCS["sessions"]["duration"]
    assert comments["duration"] == f"{meaning} ({unit})"
    assert all(comments[name] for name in COLUMN_DOCS["sessions"])
    macros = dict(
        db.sql(
            "SELECT function_name, comment FROM duckdb_functions() "
            "WHERE function_type = 'table_macro' AND NOT internal"
        ).fetchall()
    )
    assert set(macros) >= {q.name for q in REPORTS}
    assert "backfill_days" not in macros  # a run's output has no day_summary
    assert macros["daily_ctr"].startswith("Daily search CTR")


def test_a_backfill_export_has_the_backfill_days_macro(tmp_path: Path) -> None:
    from ctr_batch.days.backfill import backfill
    from ctr_batch.days.config import BackfillConfig

    frame = generate_events(events=3_000, users=40, days=3, seed=4)
    write_events(frame, tmp_path / "events")
    backfill(tmp_path / "events", tmp_path / "out", "2026-11-01", "2026-11-03", BackfillConfig())
    target = tmp_path / "ctr.duckdb"
    result = CliRunner().invoke(app, ["export-duckdb", str(tmp_path / "out"), str(target)])
    assert result.exit_code == 0, result.stderr
    with duckdb.connect(str(target), read_only=True) as con:
        got = con.sql("SELECT * FROM backfill_days()").pl()
    assert_frame_equal(got, query.run_query("backfill_days", tmp_path / "out"))
    assert got.height == 3


def test_export_never_replaces_a_database_holding_other_work(out: Path, tmp_path: Path) -> None:
    mine = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(mine)) as con:
        con.sql("CREATE TABLE revenue AS SELECT range AS id FROM range(3)")
    result = CliRunner().invoke(app, ["export-duckdb", str(out), str(mine)])
    assert result.exit_code == 3
    assert "holds objects ctr-batch export-duckdb did not write (revenue)" in result.stderr
    with duckdb.connect(str(mine), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM revenue").fetchall() == [(3,)]
    ours = tmp_path / "ctr.duckdb"
    for _ in range(2):  # an earlier export is replaced
        assert CliRunner().invoke(app, ["export-duckdb", str(out), str(ours)]).exit_code == 0


def test_a_stream_output_exports_without_the_macros_its_tables_cannot_bind(
    tmp_path: Path,
) -> None:
    from ctr_batch.samples.bundled import sample

    stream = tmp_path / "stream"
    result = CliRunner().invoke(app, ["simulate-stream", str(sample("sample").path), "--out",
                                      str(stream)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    target = tmp_path / "s.duckdb"
    result = CliRunner().invoke(app, ["export-duckdb", str(stream), str(target)])
    assert result.exit_code == 0, result.stderr
    with duckdb.connect(str(target), read_only=True) as con:
        views = {row[0] for row in con.sql("SELECT view_name FROM duckdb_views()").fetchall()}
        assert {"searches", "sessions", "late", "quarantine"} <= views
        macros = con.sql(
            "SELECT function_name FROM duckdb_functions() WHERE function_type = 'table_macro' "
            "AND NOT internal"
        ).fetchall()
    assert ("daily_ctr",) in macros
    assert ("data_quality",) not in macros  # reads run_summary, which a stream has not
    assert ("suspicious_users",) not in macros  # reads searches columns a stream's lacks
