"""The command line, in process: run, demo, generate, and the error paths (§6)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from ctr_batch._version import __version__
from ctr_batch.cli.app import app
from ctr_batch.core.schema import TABLE_SCHEMAS
from ctr_batch.samples.bundled import sample
from tests.conftest import events
from tests.stream_helpers import late_sample

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()
BLOG = str(sample("blog").path)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [[], ["run"], ["demo"], ["generate"], ["backfill"]])
def test_help_everywhere(command: list[str]) -> None:
    code, out, _ = invoke(*command, "--help")
    assert code == 0
    assert "Usage" in out


def test_run_writes_every_table_readable_by_polars_and_duckdb(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, _ = invoke("run", BLOG, "--out", str(out), "--gap", "5s", "-q")
    assert code == 0, stdout
    assert "rows read" in stdout
    assert "overall CTR" in stdout
    for table, schema in TABLE_SCHEMAS.items():
        frame = pl.scan_parquet(f"{out}/{table}/**/*.parquet").collect()
        assert frame.schema == schema
        count = duckdb.sql(
            "SELECT count(*) FROM read_parquet($path, hive_partitioning = true)",
            params={"path": f"{out}/{table}/**/*.parquet"},
        ).fetchall()
        assert count == [(frame.height,)]
    searches = pl.read_parquet(out / "searches").sort("search_time")
    assert searches["ctr"].to_list() == [1.0, 1.0, 0.0]


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke("run", BLOG, "--out", str(out), "--gap", "5s", "-q")
    first = {t: pl.read_parquet(out / t) for t in TABLE_SCHEMAS}
    invoke("run", BLOG, "--out", str(out), "--gap", "5s", "-q")
    for table, frame in first.items():
        assert pl.read_parquet(out / table).equals(frame)
        assert sorted(p.name for p in (out / table).iterdir()) == ["part-0.parquet"]
    tables = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert tables == sorted([*TABLE_SCHEMAS, "run_summary"])
    summary = pl.read_parquet(out / "run_summary").row(0, named=True)
    assert summary["rows_read"] == summary["rows_processed"] + summary["rows_quarantined"] == 12
    assert (summary["gap"], summary["gap_us"], summary["gap_rule"]) == (
        "5s",
        5_000_000,
        "inclusive",
    )


def test_missing_column_is_one_line_error_and_writes_nothing(write, tmp_path: Path) -> None:
    path = write(events(("u", 0, "search")).drop("event_type"))
    out = tmp_path / "out"
    code, _, stderr = invoke("run", str(path), "--out", str(out))
    assert code == 3
    assert stderr.count("\n") == 1
    assert str(path) in stderr
    assert "event_type" in stderr
    assert not out.exists()


def test_gap_rule_and_timezone_reach_the_run(write, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # a click exactly 10 s after the search, at 02:00 UTC (21:00 the day before in New York)
    path = write(events(("u", 7200, "search", "q"), ("u", 7210, "click")))
    out = tmp_path / "out"
    args = ["--gap", "10s", "--gap-rule", "exclusive", "--timezone", "America/New_York", "-q"]
    code, _, stderr = invoke("run", str(path), "--out", str(out), *args)
    assert code == 0, stderr
    sessions = pl.read_parquet(out / "sessions")
    assert sessions["n_events"].to_list() == [1, 1]  # exclusive: exactly one gap splits
    assert {str(d) for d in sessions["date"]} == {"2023-12-31"}
    summary = pl.read_parquet(out / "run_summary").row(0, named=True)
    assert (summary["gap"], summary["gap_rule"], summary["timezone"]) == (
        "10s",
        "exclusive",
        "America/New_York",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--gap", "soon"], "duration 'soon'", id="bad-gap"),
        pytest.param(["--gap", "0s"], "gap must be positive", id="zero-gap"),
        pytest.param(["--gap-rule", "maybe"], "gap rule must be one of", id="bad-rule"),
        pytest.param(["--timezone", "Mars/Base"], "time zone 'Mars/Base' is unknown", id="bad-tz"),
        pytest.param(  # Python's zoneinfo knows it, Polars does not
            ["--timezone", "posix/Europe/Paris"], "is unknown", id="python-only-tz"
        ),
        pytest.param(["--gap", "99999999999d"], "is too long", id="huge-gap"),
        pytest.param(
            ["--engine", "duckdb", "--memory-limit", "1MiB"], "is too small", id="duckdb-oom"
        ),
        pytest.param(["--column", "uid"], "expected NAME=SOURCE", id="bad-mapping"),
        pytest.param(["--column", "who=uid"], "unknown columns ['who']", id="unknown-mapping"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, stderr = invoke("run", BLOG, "--out", str(tmp_path / "o"), *args)
    assert code == 3
    assert message in stderr
    assert stderr.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["run", BLOG, "-q"], id="run"),
        pytest.param(["simulate-stream", BLOG, "--gap", "5s", "--wait", "1s"], id="stream"),
        pytest.param(
            ["backfill", BLOG, "--start", "2023-01-01", "--end", "2023-01-01"], id="days"
        ),
    ],
)
def test_output_that_cannot_be_a_folder_is_one_line_error(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "a-file").write_text("keep me")
    for out, message in [
        (tmp_path / "a-file", "is a file; expected a folder"),
        (tmp_path / "a-file" / "below", "Not a directory"),
    ]:
        code, _, stderr = invoke(*command, "--out", str(out))
        assert code == 3
        assert message in stderr
        assert stderr.count("\n") == 1
    assert (tmp_path / "a-file").read_text() == "keep me"


def test_the_output_folder_inside_the_input_folder_is_not_read_back(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "blog.parquet").write_bytes(sample("blog").path.read_bytes())
    for _ in range(2):
        code, _, stderr = invoke(
            "run", str(tmp_path / "in"), "--out", str(tmp_path / "in" / "out")
        )
        assert code == 0, stderr
        assert pl.read_parquet(tmp_path / "in" / "out" / "run_summary")["rows_read"].item() == 12


def test_missing_input_is_one_line_error(tmp_path: Path) -> None:
    code, _, stderr = invoke("run", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert code == 3
    assert "no Parquet files found" in stderr


def test_only_bad_rows_still_writes_every_table(write, tmp_path: Path) -> None:
    path = write(events((None, 0, "search"), ("u", 1, "purchase")))
    out = tmp_path / "out"
    code, stdout, _ = invoke("run", str(path), "--out", str(out), "-q")
    assert code == 0
    assert pl.read_parquet(out / "quarantine")["reason"].to_list() == [
        "null_user_id",
        "unknown_event_type",
    ]
    assert pl.read_parquet(out / "searches").height == 0
    assert "quarantined" in stdout


def test_column_mapping_from_cli(write, tmp_path: Path) -> None:
    path = write(events(("u", 0, "search", "q"), ("u", 1, "click")).rename({"user_id": "uid"}))
    out = tmp_path / "out"
    code, _, stderr = invoke("run", str(path), "--out", str(out), "--column", "user_id=uid", "-q")
    assert code == 0, stderr
    assert pl.read_parquet(out / "searches")["user_id"].to_list() == ["u"]


@pytest.mark.parametrize("name", ["blog", "tutorial-0.19", "sample"])
def test_demo_prints_tables(name: str) -> None:
    code, stdout, stderr = invoke("demo", "--sample", name)
    assert code == 0, stderr
    for table in ("run summary", "ctr_daily", "ctr_by_query", "sessions", "searches"):
        assert table in stdout


def test_demo_unknown_sample() -> None:
    code, _, stderr = invoke("demo", "--sample", "nope")
    assert code == 3
    assert "available: sample, blog" in stderr


def test_generate_then_run(tmp_path: Path) -> None:
    log = tmp_path / "log"
    code, _, stderr = invoke(
        "generate", "--events", "3000", "--users", "50", "--days", "2", "--seed", "3",
        "--bad-rows", "0.01", "--out", str(log),
    )  # fmt: skip
    assert code == 0, stderr
    assert sorted(p.name for p in log.iterdir()) == ["date=2026-11-01", "date=2026-11-02"]
    code, _, stderr = invoke("run", str(log), "--out", str(tmp_path / "out"), "-q")
    assert code == 0, stderr
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine")
    assert set(quarantine["reason"]) == {
        "null_user_id",
        "null_event_time",
        "unknown_event_type",
        "duplicate_event_id",
    }


def test_generate_rejects_bad_arguments(tmp_path: Path) -> None:
    code, _, stderr = invoke("generate", "--events", "0", "--out", str(tmp_path / "x.parquet"))
    assert code == 3
    assert "--events" in stderr


def test_backfill_command_and_rerun(tmp_path: Path) -> None:
    sample_log = str(sample("sample").path)
    args = ["backfill", sample_log, "--out", str(tmp_path), "--start", "2026-11-01"]
    code, stdout, stderr = invoke(*args, "--end", "2026-11-07", "-q")
    assert code == 0, stderr
    assert "days computed" in stdout
    assert len(list((tmp_path / "sessions").iterdir())) == 7
    code, stdout, _ = invoke(*args, "--end", "2026-11-07", "-q")
    assert "days skipped (inputs unchanged)" in stdout
    code, _, stderr = invoke(*args, "--end", "2026-10-01")
    assert code == 3
    assert "before --start" in stderr


@pytest.mark.parametrize("command", ["simulate-stream", "validate"])
def test_stream_commands_help(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert "Usage" in out


def test_simulate_then_validate(tmp_path: Path) -> None:
    events = late_sample(tmp_path / "events.parquet")
    code, _, stderr = invoke("run", str(events), "--out", str(tmp_path / "batch"), "-q")
    assert code == 0, stderr
    code, stdout, stderr = invoke("simulate-stream", str(events), "--out", str(tmp_path / "sim"))
    assert code == 0, stderr
    assert "late" in stdout
    stream = str(tmp_path / "sim" / "searches")
    mismatches = tmp_path / "mismatches.parquet"
    args = ["validate", "--batch", str(tmp_path / "batch"), "--stream", stream]
    code, stdout, _ = invoke(*args, "--events", str(events), "--mismatches", str(mismatches))
    assert code == 0, stdout
    assert "PASSED" in stdout
    assert set(pl.read_parquet(mismatches)["cause"]) <= {
        "late_drop",
        "arrival_order",
        "merge_bridge",
        "late_drop+arrival_order",
    }
    code, stdout, _ = invoke(*args)  # without events nothing explains the differences
    assert code == 1
    assert "FAILED" in stdout
    for tolerance in ("-1", "nan"):  # NaN would hide every value difference
        code, _, stderr = invoke(*args, "--tolerance", tolerance)
        assert code == 3
        assert "expected a number >= 0" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--gap-rule", "inclusiv"], "gap rule must be one of", id="rule"),
        pytest.param(["--gap", "0s"], "gap must be positive", id="gap"),
        pytest.param(["--column", "who=uid"], "unknown columns ['who']", id="mapping"),
    ],
)
def test_simulate_stream_checks_its_settings(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, _, stderr = invoke("simulate-stream", BLOG, "--out", str(tmp_path / "s"), *args)
    assert code == 3
    assert message in stderr
    assert not (tmp_path / "s").exists()


def test_validate_reads_events_with_renamed_columns(tmp_path: Path) -> None:
    renamed = tmp_path / "events.parquet"
    pl.read_parquet(BLOG).rename({"user_id": "uid"}).write_parquet(renamed)
    mapping = ["--column", "user_id=uid", "--gap", "5s"]
    invoke("run", str(renamed), "--out", str(tmp_path / "b"), "-q", *mapping)
    invoke("simulate-stream", str(renamed), "--out", str(tmp_path / "s"), *mapping)
    stream = str(tmp_path / "s" / "searches")
    args = [
        "validate",
        "--batch",
        str(tmp_path / "b"),
        "--stream",
        stream,
        "--events",
        str(renamed),
    ]
    code, _, stderr = invoke(*args)
    assert code == 3
    assert "missing columns ['user_id']" in stderr
    code, stdout, _ = invoke(*args, "--events-column", "user_id=uid", "--gap-rule", "inclusive")
    assert code == 0, stdout
    assert "PASSED" in stdout


def test_validate_bad_stream_file(tmp_path: Path) -> None:
    pl.DataFrame({"x": [1]}).write_parquet(tmp_path / "stream.parquet")
    code, _, stderr = invoke("validate", "--batch", str(tmp_path), "--stream",
                             str(tmp_path / "stream.parquet"))  # fmt: skip
    assert code == 3
    assert "stream.parquet" in stderr
    assert stderr.count("\n") == 1


def test_version() -> None:
    code, stdout, _ = invoke("--version")
    assert code == 0
    assert stdout.strip() == f"ctr-batch {__version__}"


def test_json_documents_for_schedulers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, _ = invoke("run", BLOG, "--out", str(out), "--gap", "5s", "--json")
    document = json.loads(stdout)
    assert (code, document["command"], document["searches"], document["balanced"]) == (
        0, "run", 3, True)  # fmt: skip
    assert set(document["tables"]) >= {"searches", "run_summary"}
    code, stdout, _ = invoke("check", str(out), "--json")
    assert (code, json.loads(stdout)["passed"]) == (0, True)
    code, stdout, _ = invoke("backfill", BLOG, "--out", str(tmp_path / "days"), "--start",
                             "2023-01-01", "--end", "2023-01-02", "--gap", "5s",
                             "--json")  # fmt: skip
    days = json.loads(stdout)["days"]
    assert code == 4  # the 2nd has no input rows
    assert [(d["day"], d["published"], d["searches"]) for d in days] == [
        ("2023-01-01", True, 3), ("2023-01-02", False, 0)]  # fmt: skip
    stream = tmp_path / "stream"
    assert invoke("simulate-stream", BLOG, "--out", str(stream), "--gap", "5s")[0] == 0
    code, stdout, _ = invoke("validate", "--batch", str(out), "--stream",
                             str(stream / "searches"), "--json")  # fmt: skip
    assert (code, json.loads(stdout)["passed"]) == (0, True)
