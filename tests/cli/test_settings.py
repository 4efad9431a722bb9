"""Settings of a recurring job: a file, CTR_BATCH_* variables, the command line; log lines."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from ctr_batch.cli.app import app
from ctr_batch.samples.bundled import sample

if TYPE_CHECKING:
    from pathlib import Path

BLOG = str(sample("blog").path)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|DEBUG|ERROR) \S")


def settings_of_run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> object:
    result = CliRunner().invoke(
        app, [*args, "run", BLOG, "--out", str(tmp_path / "out"), "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["settings"]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("CTR_BATCH_GAP", "CTR_BATCH_CONFIG", "CTR_BATCH_TIMEZONE", "CTR_BATCH_COLUMN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_command_line_beats_environment_beats_file(here: Path) -> None:
    (here / "ctr-batch.toml").write_text('gap = "5s"\ntimezone = "Asia/Tokyo"\n')
    assert settings_of_run(here) == {
        "gap": "5s", "gap_rule": "inclusive", "timezone": "Asia/Tokyo", "column_map": {},
        "max_session": None,
        "engine": "auto",
    }  # fmt: skip
    by_env = settings_of_run(here, env={"CTR_BATCH_GAP": "7s"})
    assert by_env == {**by_env, "gap": "7s", "timezone": "Asia/Tokyo"}
    result = CliRunner().invoke(
        app,
        ["run", BLOG, "--out", str(here / "out"), "--json", "--gap", "9s"],
        env={"CTR_BATCH_GAP": "7s"},
    )
    assert json.loads(result.stdout)["settings"]["gap"] == "9s"


def test_a_command_table_beats_the_top_level(here: Path) -> None:
    (here / "ctr-batch.toml").write_text('gap = "5s"\n[run]\ngap = "6s"\n[backfill]\ngap = "1h"\n')
    assert settings_of_run(here)["gap"] == "6s"  # type: ignore[index]


def test_pyproject_table_and_explicit_file(here: Path) -> None:
    (here / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.ctr-batch]\ngap = "8s"\n')
    assert settings_of_run(here)["gap"] == "8s"  # type: ignore[index]
    other = here / "nightly.toml"
    other.write_text('gap = "4s"\ncolumn = ["query=q"]\n')
    chosen = settings_of_run(here, "--config", str(other))
    assert chosen == {**chosen, "gap": "4s", "column_map": {"query": "q"}}  # type: ignore[dict-item]
    by_env = settings_of_run(here, env={"CTR_BATCH_CONFIG": str(other)})
    assert by_env["gap"] == "4s"  # type: ignore[index]


def test_environment_gives_several_column_mappings(here: Path) -> None:
    mapped = settings_of_run(here, env={"CTR_BATCH_COLUMN": "query=q item=it"})
    assert mapped["column_map"] == {"query": "q", "item": "it"}  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('gapp = "5s"\n', "'gapp' is not a setting of run or backfill"),
        ('[nightly]\ngap = "5s"\n', "[nightly] is not a command"),
        ("[run]\nlookback = '1d'\n", "[run] 'lookback' is not a setting of run"),
        ("gap = \n", "not valid TOML"),
    ],
)
def test_bad_settings_file_is_one_line_error(here: Path, text: str, message: str) -> None:
    (here / "ctr-batch.toml").write_text(text)
    result = CliRunner().invoke(app, ["run", BLOG, "--out", str(here / "out")])
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert "ctr-batch.toml" in result.stderr
    assert message in result.stderr
    assert not (here / "out").exists()


def test_missing_explicit_file_is_one_line_error(here: Path) -> None:
    result = CliRunner().invoke(app, ["--config", "nope.toml", "run", BLOG, "--out", "o"])
    assert result.exit_code == 3
    assert "nope.toml: no such settings file" in result.stderr


def test_a_bad_value_from_the_file_names_the_file_and_option(here: Path) -> None:
    (here / "ctr-batch.toml").write_text('[backfill]\njobs = "many"\n')
    args = ["backfill", BLOG, "--out", "o", "--start", "2023-01-01", "--end", "2023-01-01"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3
    assert "ctr-batch.toml: jobs = 'many': Input should be a valid integer" in result.stderr


def test_verbose_backfill_logs_one_plain_line_per_day(here: Path) -> None:
    args = ["-v", "backfill", BLOG, "--out", "o", "--start", "2023-01-01", "--end", "2023-01-02"]
    result = CliRunner().invoke(app, [*args, "--gap", "5s", "--allow-empty"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert all(LOG_LINE.match(line) for line in lines), lines
    days = [line for line in lines if "backfill day=" in line]
    assert len(days) == 2
    assert "day=2023-01-01 published rows=12 quarantined=0" in days[0]
    rerun = CliRunner().invoke(app, ["--log-level", "info", *args[1:], "--gap", "5s"])
    assert "day=2023-01-01 unchanged (skipped)" in rerun.stderr


def test_quiet_by_default_and_bad_level_refused(here: Path) -> None:
    result = CliRunner().invoke(app, ["run", BLOG, "--out", "o", "-q"])
    assert result.exit_code == 0
    assert result.stderr == ""
    bad = CliRunner().invoke(app, ["--log-level", "loud", "run", BLOG, "--out", "o"])
    assert bad.exit_code == 3
    assert "--log-level 'loud'" in bad.stderr


def test_top_level_keys_reach_run_and_backfill_only(here: Path) -> None:
    (here / "ctr-batch.toml").write_text('out = "tables"\n')
    assert CliRunner().invoke(app, ["run", BLOG, "-q"]).exit_code == 0
    assert (here / "tables" / "ctr_daily").exists()
    result = CliRunner().invoke(app, ["generate", "--events", "50", "--days", "1"])
    assert result.exit_code == 2  # generate still needs its own --out: "tables" is kept safe
    assert not (here / "tables" / "date=2026-11-01").exists()
    (here / "ctr-batch.toml").write_text('wait = "5s"\n')  # a setting of simulate-stream only
    result = CliRunner().invoke(app, ["run", BLOG, "--out", "o"])
    assert result.exit_code == 3
    assert "'wait' is not a setting of run or backfill" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[backfill]\nmax-quarantine = true\n", "max-quarantine = True: true/false is not a"),
        ("[backfill]\nallow-empty = 5\n", "allow-empty = 5: expected true or false"),
        ('[run]\ncolumn = "user_id=uid"\n', "column = 'user_id=uid': expected a list"),
        ("[backfill]\njobs = [1, 2]\n", "jobs = [1, 2]: a list is not a value here"),
        ('[run]\nbuckets = "four"\n', "buckets = 'four': Input should be a valid integer"),
        ('gap = "abc"\n', "gap = 'abc': duration 'abc': expected number+unit"),
        ('[run]\nmemory-limit = "2EiB"\n', "memory-limit = '2EiB': size '2EiB'"),
        ('[backfill]\nlookback = "2x"\n', "lookback = '2x': duration '2x'"),
    ],
)
def test_values_of_the_wrong_type_name_the_file(here: Path, text: str, message: str) -> None:
    (here / "ctr-batch.toml").write_text(text)
    result = CliRunner().invoke(app, ["run", BLOG, "--out", "o"])
    assert result.exit_code == 3, result.output
    assert result.stderr.count("\n") == 1
    assert "ctr-batch.toml" in result.stderr
    assert message in result.stderr


def test_unreadable_settings_are_one_line_errors(here: Path) -> None:
    (here / "ctr-batch.toml").write_bytes(b'\xff gap = "5m"\n')
    result = CliRunner().invoke(app, ["run", BLOG, "--out", "o"])
    assert (result.exit_code, "not valid TOML in UTF-8" in result.stderr) == (3, True)
    (here / "ctr-batch.toml").unlink()
    (here / "ctr-batch.toml").mkdir()
    result = CliRunner().invoke(app, ["run", BLOG, "--out", "o"])
    assert (result.exit_code, "not a file" in result.stderr) == (3, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-session", "999999999d"], "longer than 36,525 days"),
        (["--gap", "999999999d"], "longer than 36,525 days"),
        (["--buckets", "9223372036854775807"], "--buckets must be from 1 to 65,536"),
    ],
)
def test_absurd_sizes_are_one_line_errors(here: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["run", BLOG, "--out", "o", *args])
    assert result.exit_code == 3
    assert message in result.stderr
