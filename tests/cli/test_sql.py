"""SQL commands in process: sql, query, check, export-duckdb (issue 3)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from ctr_batch.batch.run import run
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.samples.bundled import sample

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sql") / "out"
    run([sample("sample").path], target, RunConfig())
    return target


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["sql", "query", "check", "export-duckdb"])
def test_help(command: str) -> None:
    code, stdout, _ = invoke(command, "--help")
    assert code == 0
    assert "Usage" in stdout


def test_sql_formats(out: Path, tmp_path: Path) -> None:
    statement = "SELECT count(*) AS n FROM searches"
    code, stdout, _ = invoke("sql", str(out), statement, "--format", "csv")
    assert (code, stdout) == (0, "n\n1590\n")
    code, stdout, _ = invoke("sql", str(out), statement, "--format", "json")
    assert json.loads(stdout) == [{"n": 1590}]  # one JSON array
    code, stdout, _ = invoke("sql", str(out), statement, "--format", "ndjson")
    assert [json.loads(line) for line in stdout.splitlines()] == [{"n": 1590}]
    target = tmp_path / "n.parquet"
    code, _, _ = invoke("sql", str(out), statement, "-f", "parquet", "--output", str(target))
    assert pl.read_parquet(target)["n"].to_list() == [1590]
    code, stdout, _ = invoke("sql", str(out), statement)
    assert "1,590" in stdout


def test_sql_with_parameters(out: Path) -> None:
    statement = "SELECT count(*) AS n FROM searches WHERE query = $q"
    code, stdout, _ = invoke("sql", str(out), statement, "-p", "q=restaurants", "-f", "csv")
    assert (code, stdout) == (0, "n\n97\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["sql", "SELECT * FROM nope"], "unknown table 'nope'; available:", id="table"
        ),
        pytest.param(["sql", "SELEC 1"], "SQL error", id="syntax"),
        pytest.param(["query", "nope"], "unknown query 'nope'; available:", id="query"),
        pytest.param(["query", "daily_ctr", "-p", "x=1"], "has no parameter(s) ['x']", id="param"),
        pytest.param(["sql", "SELECT 1", "-f", "xml"], "--format 'xml'", id="format"),
        pytest.param(
            ["sql", "SELECT 1", "--output", "x.csv"], "--output FILE needs --format", id="output"
        ),
        pytest.param(
            ["export-duckdb", "/proc/ctr.duckdb"], "/proc/ctr.duckdb: cannot be written", id="db"
        ),
    ],
)
def test_errors_are_one_line(out: Path, args: list[str], message: str) -> None:
    command, *rest = args
    code, _, stderr = invoke(command, *([rest[0], str(out), *rest[1:]] if command == "query"
                                        else [str(out), *rest]))  # fmt: skip
    assert code == 3
    assert message in stderr
    assert stderr.count("\n") == 1


def test_query_without_out_is_a_usage_error() -> None:
    code, _, _ = invoke("query", "daily_ctr")
    assert code == 2


def test_query_list_and_run(out: Path) -> None:
    code, stdout, _ = invoke("query", "--list")
    assert code == 0
    for name in ("daily_ctr", "wow_ctr", "suspicious_users", "zero_result_queries"):
        assert name in stdout
    code, stdout, _ = invoke("query", "daily_ctr", str(out), "-p", "start=2026-11-03", "-f", "csv")
    assert code == 0
    assert stdout.splitlines()[1].startswith("2026-11-03")


def test_check_passes_on_a_run_and_fails_on_corruption(out: Path, tmp_path: Path) -> None:
    code, stdout, _ = invoke("check", str(out))
    assert code == 0
    assert "FAIL" not in stdout
    broken = tmp_path / "broken"
    for table in (p for p in out.iterdir() if not p.name.startswith(".")):
        frame = pl.read_parquet(table / "*.parquet")
        if table.name == "searches":
            frame = frame.with_columns(pl.lit(0.5).alias("ctr"))
        (broken / table.name).mkdir(parents=True)
        frame.write_parquet(broken / table.name / "part-0.parquet")
    code, stdout, _ = invoke("check", str(broken))
    assert code == 1
    assert "search_ctr" in stdout
    assert "FAIL" in stdout


def test_export_duckdb_opens_anywhere(out: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "ctr.duckdb"
    code, _, _ = invoke("export-duckdb", str(out), str(db))
    assert code == 0
    monkeypatch.chdir(tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT sum(searches) FROM ctr_daily").fetchall() == [(1590,)]
    code, _, _ = invoke("export-duckdb", str(out), str(db))  # replacing its own kind of file
    assert code == 0


def test_export_duckdb_does_not_replace_other_files(out: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.duckdb"
    notes.write_text("my notes", encoding="utf-8")
    code, _, stderr = invoke("export-duckdb", str(out), str(notes))
    assert code == 3
    assert "is not a DuckDB database; not replacing it" in stderr
    assert notes.read_text(encoding="utf-8") == "my notes"
