"""Reading events: file discovery, schema checks and type normalization (CONTRACT §1, §2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig, StreamConfig
from ctr_batch.core.errors import ConfigError, InputError, SchemaError
from ctr_batch.core.schema import EVENT_COLUMNS, EVENTS_SCHEMA, SEQ
from ctr_batch.days.backfill import backfill
from ctr_batch.days.config import BackfillConfig
from ctr_batch.io.find import find_event_files
from ctr_batch.io.read import decoding, scan_events
from ctr_batch.samples.generate import generate_events
from ctr_batch.streaming.run import run_simulation
from tests.conftest import T0, events

BASIC = pl.DataFrame(
    {"user_id": ["a", "b"], "event_time": [T0, T0], "event_type": ["search", "click"]},
    schema={"user_id": pl.String, "event_time": pl.Datetime("us", "UTC"), "event_type": pl.String},
)


def read(*sources: Path | str, **kwargs: dict[str, str]) -> pl.DataFrame:
    return scan_events(list(sources), **kwargs).frame.collect()


def test_missing_required_column_names_file_and_column(write) -> None:
    path = write(BASIC.drop("event_type"))
    with pytest.raises(SchemaError) as err:
        scan_events([path])
    message = str(err.value)
    assert str(path) in message
    assert "missing columns ['event_type']" in message
    assert "found ['event_time', 'user_id']" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("column", "values"),
    [
        pytest.param("event_time", ["2024-01-01", "2024-01-02"], id="time-as-string"),
        pytest.param("user_id", [1.5, 2.5], id="float-user"),
        pytest.param("items", ["a", "b"], id="items-not-list"),
        pytest.param("event_type", [1, 2], id="integer-type"),
    ],
)
def test_impossible_type_names_file_and_column(write, column: str, values: list[object]) -> None:
    path = write(BASIC.with_columns(pl.Series(column, values)))
    with pytest.raises(SchemaError, match=rf"{path}: column '{column}' must be"):
        scan_events([path])


def test_unreadable_file_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(InputError, match=rf"^{path}: not a readable Parquet file \(.*\)$"):
        scan_events([path])


def corrupt_data_page(path: Path) -> None:
    """Overwrite the middle of `path` (data pages, not the footer) with 0xFF bytes."""
    data = bytearray(path.read_bytes())
    data[200 : len(data) // 2] = b"\xff" * (len(data) // 2 - 200)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="one-pass"),
        pytest.param({"buckets": 3}, id="rescanned-buckets"),
        pytest.param({"buckets": 12}, id="spilled-buckets"),
        pytest.param({"engine": "duckdb"}, id="duckdb"),
    ],
)
def test_corrupt_data_page_names_the_file_and_writes_nothing(
    tmp_path: Path, settings: dict[str, object]
) -> None:
    frame = generate_events(events=3_000, users=30, days=1, seed=2)
    for name in ("a", "b", "c"):
        frame.write_parquet(
            tmp_path / "in" / f"{name}.parquet", compression="uncompressed", mkdir=True
        )
    corrupt_data_page(tmp_path / "in" / "b.parquet")
    bad = tmp_path / "in" / "b.parquet"
    with pytest.raises(InputError, match=rf"^{bad}: not a readable Parquet file \(parquet: .*\)$"):
        run([tmp_path / "in"], tmp_path / "out", RunConfig(), **settings)  # type: ignore[arg-type]
    # no table; hidden scratch folders a failed sink may still write into go with the next run
    out = tmp_path / "out"
    assert not out.exists() or all(p.name.startswith(".") for p in out.iterdir())


def test_backfill_and_stream_name_a_file_with_a_corrupt_data_page(tmp_path: Path) -> None:
    frame = generate_events(events=3_000, users=30, days=1, seed=2)
    bad = tmp_path / "in" / "date=2026-11-01" / "events.parquet"
    frame.write_parquet(bad, compression="uncompressed", mkdir=True)
    corrupt_data_page(bad)
    message = rf"^{bad}: not a readable Parquet file \(parquet: .*\)$"
    with pytest.raises(InputError, match=message):
        backfill([tmp_path / "in"], tmp_path / "days", date(2026, 11, 1), date(2026, 11, 1),
                 BackfillConfig())  # fmt: skip
    with pytest.raises(InputError, match=message):
        run_simulation([tmp_path / "in"], tmp_path / "stream",
                       StreamConfig(gap="30m", wait="10s"))  # fmt: skip
    assert not (tmp_path / "days" / "searches").exists()
    assert not (tmp_path / "stream").exists()


def test_one_file_under_two_spellings_is_read_once(write, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = write(BASIC)
    monkeypatch.chdir(path.parent)
    assert find_event_files([path.name, path, path.parent]) == [Path(path.name)]


def test_no_files_found(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no Parquet files found"):
        scan_events([tmp_path / "nothing-*.parquet"])


def test_integer_user_and_event_ids_read_as_decimal_strings(write) -> None:
    frame = BASIC.with_columns(
        pl.Series("user_id", [7, 12345678901]), pl.Series("event_id", [1, 2])
    )
    got = read(write(frame))
    assert got["user_id"].to_list() == ["7", "12345678901"]
    assert got["event_id"].to_list() == ["1", "2"]


@pytest.mark.parametrize(
    ("dtype", "expected_hour"),
    [
        pytest.param(pl.Datetime("ns"), 12, id="naive-ns-is-utc"),
        pytest.param(pl.Datetime("ms"), 12, id="naive-ms-is-utc"),
        pytest.param(pl.Datetime("us", "America/New_York"), 17, id="new-york-to-utc"),
        pytest.param(pl.Datetime("ms", "Asia/Tokyo"), 3, id="tokyo-to-utc"),
    ],
)
def test_times_normalized_to_utc_microseconds(
    write, dtype: pl.DataType, expected_hour: int
) -> None:
    wall = pl.Series("event_time", [datetime(2024, 1, 1, 12)] * 2)
    tz = getattr(dtype, "time_zone", None)
    wall = wall.dt.replace_time_zone(tz) if tz else wall
    frame = BASIC.with_columns(wall.cast(dtype))
    got = read(write(frame))
    assert got.schema["event_time"] == pl.Datetime("us", "UTC")
    assert got["event_time"][0].hour == expected_hour
    assert got["event_time"][0].utcoffset() == timedelta(0)


def test_absent_optional_columns_are_null(write) -> None:
    got = read(write(BASIC))
    assert got.select(EVENT_COLUMNS).schema == EVENTS_SCHEMA
    assert got.select("query", "items", "item", "event_id").null_count().row(0) == (2, 2, 2, 2)


def test_other_columns_are_ignored(write) -> None:
    got = read(write(BASIC.with_columns(pl.lit(1.5).alias("extra"))))
    assert "extra" not in got.columns


def test_column_mapping(write) -> None:
    path = write(BASIC.rename({"user_id": "uid", "event_type": "kind"}))
    got = read(path, column_map={"user_id": "uid", "event_type": "kind"})
    assert got["user_id"].to_list() == ["a", "b"]
    assert got["event_type"].to_list() == ["search", "click"]


def test_mapped_column_missing_names_source_column(write) -> None:
    with pytest.raises(SchemaError, match=r"missing columns \['uid'\]"):
        scan_events([write(BASIC)], column_map={"user_id": "uid"})


def test_directory_is_recursive_sorted_and_skips_hidden(write, tmp_path: Path) -> None:
    write(BASIC, "log/date=2024-01-02/part.parquet")
    write(BASIC, "log/date=2024-01-01/b.parquet")
    write(BASIC, "log/date=2024-01-01/a.parquet")
    write(BASIC, "log/.staging/tmp.parquet")
    write(BASIC, "log/_tmp/x.parquet")
    files = find_event_files([tmp_path / "log"])
    names = [p.relative_to(tmp_path / "log").as_posix() for p in files]
    assert names == [
        "date=2024-01-01/a.parquet",
        "date=2024-01-01/b.parquet",
        "date=2024-01-02/part.parquet",
    ]


def test_glob_and_global_input_order(write, tmp_path: Path) -> None:
    write(events(("u", 0, "search"), ("u", 0, "click")), "b.parquet")
    write(events(("u", 0, "app_open")), "a.parquet")
    got = read(str(tmp_path / "*.parquet"))
    ordered = got.sort(SEQ)
    assert ordered["event_type"].to_list() == ["app_open", "search", "click"]
    assert ordered[SEQ].to_list() == [0, 1, 2]


def test_hive_partition_column_does_not_leak(write, tmp_path: Path) -> None:
    write(BASIC, "log/date=2024-01-01/a.parquet")
    got = read(tmp_path / "log")
    assert "date" not in got.columns


def test_a_written_file_that_cannot_be_read_back_is_not_blamed_on_the_input(
    tmp_path: Path,
) -> None:
    good = tmp_path / "in.parquet"
    generate_events(events=3_000, users=30, days=1, seed=2).write_parquet(
        good, compression="uncompressed"
    )
    part = tmp_path / "part.parquet"  # a part cut short by a full disk
    part.write_bytes(good.read_bytes()[:2_000] + good.read_bytes()[-1_000:])
    message = r"^a file written by this run cannot be read back \(.*\); is the disk"
    with pytest.raises(ConfigError, match=message), decoding([good]):
        pl.scan_parquet(part).collect()


@pytest.mark.parametrize("url", ["s3a://bucket/logs/", "hdfs://nn:8020/logs", "gs://b/x.parquet"])
def test_a_remote_url_is_refused_with_what_to_do(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"^\S+: ctr-batch reads and writes local or mounted "):
        run([url], tmp_path / "out", RunConfig())
    assert not (tmp_path / "out").exists()
    good = tmp_path / "in.parquet"
    generate_events(events=100, users=5, days=1, seed=3).write_parquet(good)
    with pytest.raises(ConfigError, match=r"^\S+: ctr-batch reads and writes local or mounted "):
        run([good], url, RunConfig())


def test_a_url_out_on_the_command_line_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ctr_batch.cli.app import app

    good = tmp_path / "in.parquet"
    generate_events(events=100, users=5, days=1, seed=3).write_parquet(good)
    monkeypatch.chdir(tmp_path)  # a Path keeps one slash of two: s3a:/b/o, a local folder
    result = CliRunner().invoke(app, ["run", str(good), "--out", "s3a://b/o"])
    assert result.exit_code == 3
    assert "ctr-batch reads and writes local or mounted paths, not s3a:// URLs" in result.stderr
    assert not (tmp_path / "s3a:").exists()


@pytest.mark.parametrize("url", ["file://", "file://otherhost/data", "file://localhost"])
def test_a_file_url_without_a_local_path_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="a file:// URL names a path on this machine"):
        run([url], tmp_path / "out", RunConfig())


def test_a_file_url_reads_the_local_path(tmp_path: Path) -> None:
    folder = tmp_path / "in put"
    generate_events(events=500, users=10, days=1, seed=3).write_parquet(
        folder / "e.parquet", mkdir=True
    )
    by_url = run([folder.as_uri()], tmp_path / "a", RunConfig())
    by_path = run([folder], tmp_path / "b", RunConfig())
    assert (by_url.rows_read, by_url.sessions) == (by_path.rows_read, by_path.sessions) != (0, 0)


def test_a_file_cut_in_its_middle_is_one_line_without_a_panic(tmp_path: Path) -> None:
    import subprocess
    import sys

    whole = tmp_path / "whole.parquet"
    generate_events(events=3_000, users=30, days=1, seed=2).write_parquet(whole)
    data = whole.read_bytes()
    middle = len(data) // 2
    cut = tmp_path / "in" / "cut.parquet"  # 5 KB gone from the middle, the footer kept
    cut.parent.mkdir()
    cut.write_bytes(data[: middle - 2_500] + data[middle + 2_500 :])
    for command in (["run", str(cut.parent)], ["simulate-stream", str(cut.parent)]):
        done = subprocess.run(
            [sys.executable, "-m", "ctr_batch", *command, "--out", str(tmp_path / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 3
        assert done.stderr == (
            f"error: {cut}: not a readable Parquet file (its footer points past its end: "
            "cut short?)\n"
        )
    assert not (tmp_path / "out").exists()
