"""Regression tests for what a hostile user and a flaky machine did to the outputs (issue 14).

Each test is named after the failure it guards: data lost or mixed, a traceback where one line
was promised, valid input refused. Commands run in-process through Typer's runner, or as real
processes where a kill or a second writer is involved (see ``tests/io/test_commit.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ctr_batch.batch import strategies
from ctr_batch.cli.app import app
from ctr_batch.io import commit as commit_module
from ctr_batch.io import write as write_module
from ctr_batch.io.commit import KILL_VARIABLE
from tests.conftest import events

if TYPE_CHECKING:
    from pathlib import Path

T = datetime(2026, 11, 2, 12, tzinfo=UTC)
LOG = events(("a", 0, "search", "q"), ("a", 1, "click"), ("b", 2, "search", "[/INST] help"))


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def rows_of(out: Path, table: str) -> int:
    return pl.read_parquet(out / table / "**" / "*.parquet", hive_partitioning=False).height


def write(frame: pl.DataFrame, path: Path) -> Path:
    """Write with pyarrow, which takes any file name literally."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(frame.to_arrow(), str(path))
    return path


def test_backfill_reads_an_events_root_that_sits_inside_a_date_folder(tmp_path: Path) -> None:
    root = tmp_path / "lake" / "date=2019-01-01" / "events"
    write(LOG.with_columns(pl.lit(T).alias("event_time")), root / "date=2026-11-02" / "x.parquet")
    code, _, err = invoke("backfill", root, "--out", tmp_path / "out", "--start", "2026-11-02",
                          "--end", "2026-11-02", "-q")  # fmt: skip
    assert code == 0, err
    assert rows_of(tmp_path / "out", "sessions") == 2


def test_symlinked_subfolders_are_read_and_loops_are_harmless(tmp_path: Path) -> None:
    write(LOG, tmp_path / "elsewhere" / "part.parquet")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere" / "loop").symlink_to(tmp_path / "in", target_is_directory=True)
    code, _, err = invoke("run", tmp_path / "in", "--out", tmp_path / "out", "-q")
    assert code == 0, err
    summary = pl.read_parquet(tmp_path / "out" / "run_summary" / "*.parquet").row(0, named=True)
    assert summary["rows_read"] == LOG.height  # read once, through the link, not lost


def test_a_spark_style_folder_and_bracketed_names_are_read(tmp_path: Path) -> None:
    write(LOG, tmp_path / "in" / "events.parquet" / "part-0.parquet")
    write(LOG, tmp_path / "in" / "events[1].parquet")
    code, _, err = invoke("run", tmp_path / "in", "--out", tmp_path / "out", "-q")
    assert code == 0, err
    assert rows_of(tmp_path / "out", "searches") == 4


def test_markup_in_paths_and_queries_prints_as_plain_text(tmp_path: Path) -> None:
    path = write(LOG, tmp_path / "m[" / "b].parquet")
    out = tmp_path / "o[" / "b]"
    code, stdout, err = invoke("run", path, "--out", out)
    assert code == 0, err
    assert "o[/b]" in stdout
    code, stdout, _ = invoke("sql", out, "SELECT query FROM searches ORDER BY query")
    assert code == 0
    assert "[/INST] help" in stdout
    code, _, err = invoke("run", tmp_path / "x[bold]y.parquet", "--out", tmp_path / "o2")
    assert (code, err.count("\n")) == (3, 1)
    assert "x[bold]y.parquet" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--gap", "-5m"], "--gap: duration '-5m'", id="negative-gap"),
        pytest.param(
            ["--memory-limit", "0.5"], "size '0.5' is less than one byte", id="tiny-limit"
        ),
        pytest.param(["--memory-limit", "0.4b"], "less than one byte", id="tiny-bytes"),
    ],
)
def test_bad_options_name_themselves_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    path = write(LOG, tmp_path / "in.parquet")
    code, _, err = invoke("run", path, "--out", tmp_path / "out", *args)
    assert code == 3
    assert message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: pa.array([T], type=pa.timestamp("us", tz="+05:30")),
                     "has time zone '+05:30'", id="offset-zone"),
        pytest.param(lambda: pa.array([10**16], type=pa.timestamp("ms")),
                     "beyond the microsecond range", id="far-future"),
    ],
)  # fmt: skip
def test_unreadable_times_are_one_line_errors_naming_file_and_column(
    make, message: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    table = pa.table({"user_id": ["a"], "event_time": make(), "event_type": ["search"]})
    pq.write_table(table, str(tmp_path / "odd.parquet"))
    code, _, err = invoke("run", tmp_path / "odd.parquet", "--out", tmp_path / "out")
    assert code == 3
    assert f"{tmp_path / 'odd.parquet'}: column 'event_time'" in err
    assert message in err


def test_a_file_name_with_a_newline_gives_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "two\nlines.parquet"
    bad.write_bytes(b"not parquet")
    code, _, err = invoke("run", bad, "--out", tmp_path / "out")
    assert code == 3
    assert err.count("\n") == 1


def test_an_invalid_hive_day_names_the_file(tmp_path: Path) -> None:
    write(LOG, tmp_path / "in" / "date=2024-05-32" / "x.parquet")
    code, _, err = invoke("backfill", tmp_path / "in", "--out", tmp_path / "out",
                          "--start", "2024-05-01", "--end", "2024-05-01")  # fmt: skip
    assert code == 3
    assert "date=2024-05-32" in err
    assert "do not name a day" in err


def test_out_equal_to_the_input_says_so(tmp_path: Path) -> None:
    ran = invoke("run", write(LOG, tmp_path / "in.parquet"), "--out", tmp_path / "d", "-q")
    assert ran[0] == 0
    code, _, err = invoke("run", tmp_path / "d", "--out", tmp_path / "d")
    assert code == 3
    assert "holds only the output folder" in err


def test_arrival_columns_of_different_types_are_one_line_errors(tmp_path: Path) -> None:
    write(LOG.with_columns(pl.Series("offset", [1, 2, 3])), tmp_path / "in" / "a.parquet")
    write(LOG.with_columns(pl.Series("offset", ["1", "2", "3"])), tmp_path / "in" / "b.parquet")
    code, _, err = invoke("simulate-stream", tmp_path / "in", "--out", tmp_path / "out",
                          "--arrival-column", "offset")  # fmt: skip
    assert code == 3
    assert "--arrival-column 'offset' is Int64 in" in err


def test_a_corrupt_manifest_day_is_a_one_line_error(tmp_path: Path) -> None:
    path = write(LOG.with_columns(pl.lit(T).alias("event_time")), tmp_path / "in" / "x.parquet")
    args = ["backfill", path.parent, "--out", tmp_path / "out", "--start", "2026-11-02",
            "--end", "2026-11-02", "-q"]  # fmt: skip
    assert invoke(*args)[0] == 0
    manifest = tmp_path / "out" / "_manifest.json"
    target = manifest.resolve()
    manifest.unlink()
    manifest.write_text('{"days": {"2026-11-02": ["not", "a", "record"]}}')
    code, _, err = invoke(*args)
    assert code == 3
    assert "not a ctr-batch manifest" in err
    assert target.exists()  # the committed output was not touched


def test_a_killed_one_pass_run_over_a_bucketed_output_leaves_no_stale_parts(
    tmp_path: Path,
) -> None:
    path = write(LOG, tmp_path / "in.parquet")
    out = tmp_path / "out"
    assert invoke("run", path, "--out", out, "--buckets", "3", "-q")[0] == 0
    bucketed = rows_of(out, "searches")
    command = [sys.executable, "-m", "ctr_batch", "run", str(path), "--out", str(out), "-q"]
    killed = subprocess.run(command, env={**os.environ, KILL_VARIABLE: "linked"}, check=False)
    assert killed.returncode == -9
    assert rows_of(out, "searches") == bucketed  # the old output, whole
    subprocess.run(command, check=True)
    assert sorted(p.name for p in (out / "searches").iterdir()) == ["part-0.parquet"]
    assert rows_of(out, "searches") == bucketed


def test_a_run_that_cannot_write_one_table_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(LOG, tmp_path / "in.parquet")
    out = tmp_path / "out"
    assert invoke("run", path, "--out", out, "-q")[0] == 0
    before = {t: pl.read_parquet(out / t / "*.parquet") for t in ("searches", "sessions")}
    real_write, written = write_module.write_partition, []

    def failing(frame: pl.DataFrame, folder: Path, table: str | None = None) -> Path:
        if folder.name == "ctr_daily":
            raise OSError(28, "No space left on device", str(folder))
        written.append(folder.name)
        return real_write(frame, folder, table)

    monkeypatch.setattr(write_module, "write_partition", failing)
    code, _, err = invoke("run", path, "--out", out, "-q", "--gap", "1s")
    assert code == 3
    assert "No space left on device" in err
    assert written  # some tables were written before the failure ...
    for table, frame in before.items():  # ... yet readers still see the previous output
        assert pl.read_parquet(out / table / "*.parquet").equals(frame)
    assert len(list((out / ".snapshots").iterdir())) == 1  # the failed one is gone


@pytest.mark.parametrize("buckets", ["1", "3", "12"])  # one pass, rescans, spilled buckets
def test_a_full_disk_is_not_blamed_on_the_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buckets: str
) -> None:
    path = write(LOG, tmp_path / "in.parquet")
    out = tmp_path / "out"
    assert invoke("run", path, "--out", out, "-q")[0] == 0
    before = pl.read_parquet(out / "searches" / "*.parquet")
    said = "parquet: File out of specification: underlying IO error: No space left on device "
    said += "(os error 28)"  # what Polars 2.1 raises on a full tmpfs

    def full(frame: pl.DataFrame, file: object, **options: object) -> None:
        raise pl.exceptions.ComputeError(said)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    code, _, err = invoke("run", path, "--out", out, "-q", "--gap", "1s", "--buckets", buckets)
    assert (code, err.count("\n")) == (3, 1)
    assert err.startswith("error: no space left on the device while writing"), err
    assert "input" not in err
    assert pl.read_parquet(out / "searches" / "*.parquet").equals(before)


@pytest.mark.parametrize("free", [1 << 10, 1 << 40])  # a full disk, and room left
def test_a_backfill_write_that_fails_without_saying_why_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int
) -> None:
    import shutil as shutil_module
    from collections import namedtuple

    path = write(LOG, tmp_path / "events" / "date=2024-01-01" / "in.parquet")
    said = "parquet: File out of specification: Invalid thrift: transport error"  # a full tmpfs

    def failing(frame: pl.DataFrame, file: object, **options: object) -> None:
        raise pl.exceptions.ComputeError(said)

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing)
    monkeypatch.setattr(shutil_module, "disk_usage", lambda _: usage(free, 0, free))
    code, _, err = invoke(
        "backfill", path.parent.parent, "--out", tmp_path / "out", "--start", "2024-01-01",
        "--end", "2024-01-01", "-q",
    )  # fmt: skip
    assert (code, err.count("\n")) == (3, 1), err
    if free < 1 << 20:
        assert err.startswith("error: no space left on the device while writing "), err
    else:
        assert "a table file cannot be written (parquet: File out of spec" in err, err
    assert "input" not in err


def test_an_input_rewritten_while_read_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(LOG, tmp_path / "in.parquet")
    real = strategies.compute_scanned

    def rewriting(*args, **kwargs):  # type: ignore[no-untyped-def]
        tables = real(*args, **kwargs)
        write(LOG.head(2), path)  # another writer replaces the file meanwhile
        return tables

    monkeypatch.setattr(strategies, "compute_scanned", rewriting)
    code, _, err = invoke("run", path, "--out", tmp_path / "out")
    assert code == 3
    assert "changed while it was being read" in err
    assert not (tmp_path / "out").exists()


def test_a_writer_refused_the_lock_leaves_the_holders_new_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both saw no OUT; the other took the lock first: the refused one must delete nothing."""
    out, held = tmp_path / "out", []
    real_lock = commit_module.exclusive_lock

    def raced(folder: Path, command: str = "run"):  # type: ignore[no-untyped-def]
        holder = real_lock(folder, "run")  # the other writer wins the race to the lock
        holder.__enter__()
        held.append(holder)
        return real_lock(folder, command)

    monkeypatch.setattr(commit_module, "exclusive_lock", raced)
    code, _, err = invoke("run", write(LOG, tmp_path / "in.parquet"), "--out", out)
    assert code == 3
    assert "is writing here" in err
    assert (out / ".lock").exists()  # the holder's folder and lock file are still there
    held[0].__exit__(None, None, None)


def test_an_unreadable_unpartitioned_file_stops_backfill_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.parquet").write_bytes(b"")
    write(LOG.with_columns(pl.lit(T).alias("event_time")), tmp_path / "in" / "ok.parquet")
    code, _, err = invoke("backfill", tmp_path / "in", "--out", tmp_path / "out",
                          "--start", "2026-11-01", "--end", "2026-11-03")  # fmt: skip
    assert code == 3
    assert err.count("\n") == 1
    assert "empty.parquet: not a readable Parquet file" in err
