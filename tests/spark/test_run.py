"""``run --engine spark``: files read by Spark, tables committed as a local run writes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest
from typer.testing import CliRunner

import ctr_batch
from ctr_batch.cli.app import app
from ctr_batch.io.lock import exclusive_lock
from ctr_batch.io.write import write_events
from ctr_batch.samples.bundled import sample
from ctr_batch.samples.generate import generate_events
from tests.spark.conftest import ARMED, assert_same_table
from tests.test_real_logs import AOL, needs_aol

if TYPE_CHECKING:
    from pathlib import Path

TABLES = ("searches", "sessions", "quarantine", "ctr_daily", "ctr_by_query")
SUMMARY = ("rows_read", "rows_processed", "rows_quarantined", "sessions", "searches")


def read(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / table / "**/*.parquet")


def assert_same_outputs(got: Path, expected: Path) -> None:
    for name in TABLES:
        assert_same_table(read(got, name), read(expected, name), name)
    summaries = [read(out, "run_summary").select(SUMMARY) for out in (got, expected)]
    assert summaries[0].equals(summaries[1])


def both_engines(events: object, tmp_path: Path, buckets: int = 3) -> tuple[Path, Path]:
    spark_out, local_out = tmp_path / "spark", tmp_path / "local"
    ctr_batch.run(events, spark_out, engine="spark", buckets=buckets)  # type: ignore[arg-type]
    ctr_batch.run(events, local_out)  # type: ignore[arg-type]
    return spark_out, local_out


@pytest.fixture(scope="module")
def day_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated log with bad rows and repeated ids, in date= folders (several files)."""
    root = tmp_path_factory.mktemp("events")
    events = generate_events(events=5_000, users=80, days=3, seed=11, bad_row_rate=0.02)
    write_events(events.with_columns(pl.col("event_time").dt.truncate("1s")), root)
    return root


@pytest.mark.usefixtures("spark")
def test_files_in_day_folders(day_files: Path, tmp_path: Path) -> None:
    got, expected = both_engines(day_files, tmp_path)
    assert_same_outputs(got, expected)
    assert read(got, "quarantine")["source_file"].null_count() == 0


@pytest.mark.usefixtures("spark")
def test_excite(tmp_path: Path) -> None:
    assert_same_outputs(*both_engines(sample("excite").path, tmp_path, buckets=2))


@needs_aol
@pytest.mark.usefixtures("spark")
def test_aol_head(tmp_path: Path) -> None:
    """The first 30,000 rows of the AOL subset: a search and its clicks share one second."""
    head = tmp_path / "aol-head.parquet"
    pl.read_parquet(AOL, n_rows=30_000).write_parquet(head)
    assert_same_outputs(*both_engines(head, tmp_path / "out"))


@pytest.mark.usefixtures("spark")
def test_task_retry_rewrites_its_parts(day_files: Path, tmp_path: Path) -> None:
    """A bucket task fails once after writing its parts; the retry gives the same tables."""
    ARMED.touch()
    got, expected = both_engines(day_files, tmp_path, buckets=4)
    assert not ARMED.exists(), "the injected failure did not happen"
    assert_same_outputs(got, expected)
    for name in ("searches", "sessions", "quarantine"):
        parts = sorted(p.name for p in (got / name).glob("*.parquet"))
        assert len(parts) == 4, parts


@pytest.mark.usefixtures("spark")
def test_empty_input_writes_every_table(tmp_path: Path) -> None:
    empty = generate_events(events=10, users=1, days=1, seed=1).head(0)
    path = tmp_path / "empty.parquet"
    empty.write_parquet(path)
    got, expected = both_engines(path, tmp_path / "out")
    assert_same_outputs(got, expected)


@pytest.mark.usefixtures("spark")
def test_cli_engine_spark(day_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["run", str(day_files), "--out", str(out), "--engine", "spark", "--json", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert '"rows_read": 5' in result.output
    assert read(out, "searches").height > 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--spark-master", "local[1]"], "--spark-master needs --engine spark"),
        (["--engine", "spark", "--memory-limit", "1GiB"], "does not apply to --engine spark"),
        (["--engine", "spark", "--spark-master", "bogus://x"], "not a Spark master URL"),
    ],
)
def test_cli_bad_spark_settings(
    day_files: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["run", str(day_files), "--out", str(tmp_path), *options])
    assert result.exit_code == 3
    assert message in result.output
    assert not list(tmp_path.iterdir())


def test_frames_are_refused_with_a_pointer(tmp_path: Path) -> None:
    frame = generate_events(events=10, users=1, days=1, seed=1)
    with pytest.raises(ctr_batch.ConfigError, match="spark_tables"):
        ctr_batch.run(frame, tmp_path / "out", engine="spark")


def test_spark_master_needs_engine_spark(tmp_path: Path) -> None:
    with pytest.raises(ctr_batch.ConfigError, match="needs engine spark"):
        ctr_batch.run(sample("blog").path, tmp_path / "out", spark_master="local[1]")


def test_a_held_lock_refuses_at_once(tmp_path: Path) -> None:
    """The lock is taken before Spark starts: a second writer is refused without waiting."""
    out = tmp_path / "out"
    with exclusive_lock(out, "another run"), pytest.raises(ctr_batch.ConfigError, match="another"):
        ctr_batch.run(sample("blog").path, out, engine="spark", spark_master="local[1]")


@pytest.mark.usefixtures("spark")
def test_files_spark_cannot_read_are_one_line(tmp_path: Path) -> None:
    """Nanosecond times (found in the footer), or times of two kinds: one line, nothing written."""
    path = tmp_path / "ns.parquet"
    events = generate_events(events=20, users=2, days=1, seed=1)
    events.with_columns(pl.col("event_time").cast(pl.Datetime("ns", "UTC"))).write_parquet(path)
    with pytest.raises(ctr_batch.InputError, match=r"ns\.parquet: column 'event_time' holds nano"):
        ctr_batch.run(path, tmp_path / "out", engine="spark")
    mixed = tmp_path / "mixed"
    events.write_parquet(mixed / "a.parquet", mkdir=True)
    naive = events.with_columns(pl.col("event_time").dt.replace_time_zone(None))
    naive.write_parquet(mixed / "b.parquet")
    with pytest.raises(ctr_batch.InputError, match=r"Spark cannot read them as one table: \S"):
        ctr_batch.run(mixed, tmp_path / "out", engine="spark")
    assert not (tmp_path / "out").exists()
