"""SQL the way its users expect (issue 18): files, stdin, a team's query folder, json/ndjson."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from ctr_batch.batch.run import run
from ctr_batch.cli.app import app
from ctr_batch.core.config import RunConfig
from ctr_batch.samples.bundled import sample

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
DAY_SQL = """-- purpose: Searches of one day.
-- grain: one row
-- reads: searches
-- params: $day DATE (the day; default 2026-11-02)
SELECT count(*) AS n FROM searches WHERE date = $day::DATE
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sqlfiles") / "out"
    run([sample("sample").path], target, RunConfig())
    return target


@pytest.fixture(scope="module")
def day_counts(out: Path) -> dict[str, int]:
    result = runner.invoke(
        app, ["sql", str(out), "SELECT date::VARCHAR AS d, count(*) AS n FROM searches GROUP BY 1",
              "-f", "json"],
    )  # fmt: skip
    return {row["d"]: row["n"] for row in json.loads(result.stdout)}


@pytest.fixture
def team(tmp_path: Path) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "day.sql").write_text(DAY_SQL)
    return folder


def invoke(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_sql_file_with_header_takes_defaults(out: Path, team: Path, day_counts: dict) -> None:
    code, stdout, stderr = invoke("sql", str(out), "--file", str(team / "day.sql"), "-f", "json")
    assert code == 0, stderr
    assert json.loads(stdout) == [{"n": day_counts["2026-11-02"]}]
    code, stdout, _ = invoke(
        "sql", str(out), "--file", str(team / "day.sql"), "-p", "day=2026-11-03", "-f", "ndjson"
    )
    assert stdout == f'{{"n":{day_counts["2026-11-03"]}}}\n'


def test_sql_from_stdin(out: Path, day_counts: dict) -> None:
    code, stdout, stderr = invoke("sql", str(out), "--file", "-", "-f", "csv", stdin=DAY_SQL)
    assert code == 0, stderr
    assert stdout == f"n\n{day_counts['2026-11-02']}\n"
    plain = "SELECT count(*) AS n FROM searches WHERE date = $d::DATE"
    code, stdout, _ = invoke(
        "sql", str(out), "--file", "-", "-p", "d=2026-11-04", "-f", "csv", stdin=plain
    )
    assert stdout == f"n\n{day_counts['2026-11-04']}\n"


def test_json_array_and_ndjson_to_files(out: Path, tmp_path: Path) -> None:
    statement = "SELECT date, ctr FROM ctr_daily ORDER BY date"
    for fmt in ("json", "ndjson"):
        target = tmp_path / f"daily.{fmt}"
        code, _, stderr = invoke("sql", str(out), statement, "-f", fmt, "--output", str(target))
        assert code == 0, stderr
        text = target.read_text()
        rows = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
        assert len(rows) == 7
        assert rows[0]["date"] == "2026-11-01"


def test_csv_refuses_list_columns_in_one_line(out: Path, tmp_path: Path) -> None:
    target = tmp_path / "q.csv"
    code, _, stderr = invoke("sql", str(out), "SELECT items FROM quarantine", "-f", "csv",
                             "--output", str(target))  # fmt: skip
    assert code == 3
    assert stderr == (
        "error: --format csv cannot hold list columns (items); use json, ndjson or parquet, "
        "or select other columns\n"
    )
    assert not target.exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["SELECT 1", "--file", "x.sql"], 2, "not both", id="both"),
        pytest.param([], 2, "not both", id="neither"),
        pytest.param(["--file", "missing.sql"], 3, "missing.sql: No such file", id="missing"),
    ],
)
def test_sql_file_errors(out: Path, args: list[str], code: int, message: str) -> None:
    got, _, stderr = invoke("sql", str(out), *args)
    assert got == code
    assert message in " ".join(stderr.split())


def test_sql_file_with_a_broken_header(out: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sql"
    broken.write_text("-- purpose: half a header\nSELECT 1\n")
    code, _, stderr = invoke("sql", str(out), "--file", str(broken))
    assert code == 3
    assert f"{broken}: header lacks ['grain', 'reads', 'params']" in stderr
    assert stderr.count("\n") == 1


def test_query_a_path(out: Path, team: Path, day_counts: dict) -> None:
    code, stdout, stderr = invoke("query", str(team / "day.sql"), str(out), "-f", "csv")
    assert code == 0, stderr
    assert stdout == f"n\n{day_counts['2026-11-02']}\n"
    code, _, stderr = invoke("query", str(team / "nope" / "x.sql"), str(out))
    assert code == 3
    assert "no such file" in stderr


def test_query_a_team_folder(out: Path, team: Path, day_counts: dict) -> None:
    code, stdout, stderr = invoke(
        "query", "day", str(out), "--queries", str(team), "-p", "day=2026-11-05", "-f", "csv"
    )
    assert code == 0, stderr
    assert stdout == f"n\n{day_counts['2026-11-05']}\n"
    code, stdout, _ = invoke("query", "--list", "--queries", str(team))
    assert "Searches of one day." in stdout
    assert "daily_ctr" not in stdout
    code, _, stderr = invoke("query", "daily_ctr", str(out), "--queries", str(team))
    assert code == 3
    assert f"unknown query 'daily_ctr' in {team}; available: day" in stderr
    code, _, stderr = invoke("query", "day", str(out), "--queries", str(team / "none"))
    assert code == 3
    assert "not a directory" in stderr


def test_sql_that_is_not_text_or_holds_no_query_is_one_line(out: Path, tmp_path: Path) -> None:
    binary = tmp_path / "bin.sql"
    binary.write_bytes(bytes(range(128, 256)))
    comments = tmp_path / "comments.sql"
    comments.write_text("-- only a comment\n")
    for args, message in [
        (["--file", str(binary)], "bin.sql: not UTF-8 text, so not SQL"),
        (["--file", str(comments)], "holds no statement that returns rows"),
        ([";"], "holds no statement that returns rows"),
    ]:
        code, _, stderr = invoke("sql", str(out), *args)
        assert (code, stderr.count("\n")) == (3, 1), stderr
        assert message in stderr


def test_stdin_that_is_not_utf8_is_refused_as_a_file_is(out: Path) -> None:
    code, _, stderr = invoke("sql", str(out), "--file", "-", stdin=b"\xff")
    assert code == 3
    assert "<stdin>: not UTF-8 text, so not SQL" in stderr


def test_a_closed_stdin_is_one_line(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ctr_batch.cli.sql import _sql_text
    from ctr_batch.core.errors import ConfigError

    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(ConfigError, match="standard input is closed"):
        _sql_text("-", {})
