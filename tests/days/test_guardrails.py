"""Guardrails of a nightly backfill, with the exit codes a scheduler acts on.

Exit 4: a day failed (no input rows, too many quarantined): it is not published, the other
days are. Exit 5: OUT holds days computed with other settings; nothing is written unless
``--force`` rebuilds every day.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
from typer.testing import CliRunner

from ctr_batch.cli.app import app
from ctr_batch.io.write import write_events
from tests.conftest import events

if TYPE_CHECKING:
    from pathlib import Path

NOON = datetime(2026, 11, 2, 12, tzinfo=UTC)


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stderr


def day_log(root: Path, *days: int, bad: bool = False) -> Path:
    """Two users' searches at noon on each of `days` of November 2026 (upper-case if `bad`)."""
    frames = []
    for day in days:
        kind = "SEARCH" if bad else "search"
        frame = events(("a", 0, kind, "q"), ("b", 60, kind, "r"))
        moment = NOON + timedelta(days=day - 2)
        frames.append(frame.with_columns(pl.col("event_time") - frame["event_time"][0] + moment))
    write_events(pl.concat(frames), root)
    return root


def backfill(log: Path, out: Path, first: int, last: int, *options: str) -> tuple[int, str]:
    return invoke("backfill", log, "--out", out, "--start", f"2026-11-{first:02d}",
                  "--end", f"2026-11-{last:02d}", "-q", *options)  # fmt: skip


def published_days(out: Path) -> list[str]:
    manifest = json.loads((out / "_manifest.json").read_text())["days"]
    return sorted(manifest)


def test_a_day_without_input_fails_alone_with_exit_4(tmp_path: Path) -> None:
    log = day_log(tmp_path / "events", 2, 4)
    code, err = backfill(log, tmp_path / "out", 2, 4)
    assert code == 4
    assert "2026-11-03: no input rows" in err
    assert published_days(tmp_path / "out") == ["2026-11-02", "2026-11-04"]
    assert not (tmp_path / "out" / "searches" / "date=2026-11-03").exists()
    code, _ = backfill(log, tmp_path / "out", 2, 4, "--allow-empty")
    assert code == 0
    assert published_days(tmp_path / "out") == ["2026-11-02", "2026-11-03", "2026-11-04"]


def test_a_first_backfill_whose_every_day_fails_commits_nothing(tmp_path: Path) -> None:
    log = day_log(tmp_path / "events", 2)
    code, err = backfill(log, tmp_path / "out", 3, 3)  # no row on the 3rd
    assert code == 4
    assert "2026-11-03: no input rows" in err
    assert not [p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]


def test_a_day_mostly_quarantined_fails_and_publishes_nothing(tmp_path: Path) -> None:
    day_log(tmp_path / "events", 2)
    day_log(tmp_path / "bad", 3, bad=True)  # every row of the 3rd has an unknown event type
    log = tmp_path / "events"
    for path in (tmp_path / "bad").rglob("*.parquet"):
        target = log / path.relative_to(tmp_path / "bad")
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    code, err = backfill(log, tmp_path / "out", 2, 3)
    assert code == 4
    assert "2026-11-03: 100.0% of its rows quarantined, above --max-quarantine 0.05" in err
    assert published_days(tmp_path / "out") == ["2026-11-02"]
    assert not (tmp_path / "out" / "quarantine" / "date=2026-11-03").exists()
    code, _ = backfill(log, tmp_path / "out", 2, 3, "--max-quarantine", "1")
    assert code == 0
    assert published_days(tmp_path / "out") == ["2026-11-02", "2026-11-03"]


def test_other_settings_are_refused_with_exit_5_unless_forced(tmp_path: Path) -> None:
    log = day_log(tmp_path / "events", 2, 3, 4)
    out = tmp_path / "out"
    assert backfill(log, out, 2, 4)[0] == 0
    before = (out / "_manifest.json").read_text()
    code, err = backfill(log, out, 3, 3, "--gap", "5m", "--timezone", "Asia/Tokyo")
    assert code == 5
    assert "3 day(s) (2026-11-02 to 2026-11-04) were computed with other settings" in err
    assert (out / "_manifest.json").read_text() == before  # nothing written
    code, _ = backfill(log, out, 3, 3, "--gap", "5m", "--timezone", "Asia/Tokyo", "--force")
    assert code == 0  # every day of OUT rebuilt with the new settings, not just the 3rd
    manifest = json.loads((out / "_manifest.json").read_text())["days"]
    assert {record["settings"]["timezone"] for record in manifest.values()} == {"Asia/Tokyo"}
    assert backfill(log, out, 2, 4, "--gap", "5m", "--timezone", "Asia/Tokyo")[0] == 0


def test_another_lookback_mixes_and_recomputes_nothing(tmp_path: Path) -> None:
    # the lookback is where reading starts: every session is read whole whatever it is
    log = day_log(tmp_path / "events", 2, 3, 4)
    out = tmp_path / "out"
    assert backfill(log, out, 2, 3)[0] == 0
    before = json.loads((out / "_manifest.json").read_text())["days"]
    result = CliRunner().invoke(app, ["backfill", str(log), "--out", str(out), "--start",
                                      "2026-11-02", "--end", "2026-11-04", "--lookback", "2h",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    days = {day["day"]: day["computed"] for day in json.loads(result.stdout)["days"]}
    assert days == {"2026-11-02": False, "2026-11-03": False, "2026-11-04": True}
    after = json.loads((out / "_manifest.json").read_text())["days"]
    assert after["2026-11-02"] == before["2026-11-02"]


def test_days_written_with_other_table_columns_are_refused_until_forced(tmp_path: Path) -> None:
    """An upgrade that adds columns never leaves one table with day files of two layouts."""
    log = day_log(tmp_path / "events", 2, 3)
    out = tmp_path / "out"
    assert backfill(log, out, 2, 2)[0] == 0
    manifest_path = out / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for record in manifest["days"].values():  # as written before the layout was recorded
        del record["settings"]["table_layout"]
    manifest_path.write_text(json.dumps(manifest))
    code, err = backfill(log, out, 3, 3)
    assert code == 5
    assert "table-layout 1 -> now 2" in err
    assert published_days(out) == ["2026-11-02"]
    assert backfill(log, out, 3, 3, "--force")[0] == 0
    assert published_days(out) == ["2026-11-02", "2026-11-03"]
    searches = pl.read_parquet(out / "searches" / "**" / "*.parquet")
    assert "time_to_first_click_s" in searches.columns


def test_any_hive_day_layout_prunes_files_per_day(tmp_path: Path) -> None:
    """dt=YYYYMMDD, ds= and year=/month=/day= folders are partitions, like date= folders."""
    log = day_log(tmp_path / "flat", 2, 3, 4)
    layouts = {
        "dt": lambda d: f"dt=2026110{d}",
        "ds": lambda d: f"ds=2026-11-0{d}",
        "ymd": lambda d: f"year=2026/month=11/day={d}",
    }
    for name, folder in layouts.items():
        for day in (2, 3, 4):
            source = log / f"date=2026-11-0{day}" / "events.parquet"
            target = tmp_path / name / folder(day) / "events.parquet"
            target.parent.mkdir(parents=True)
            target.write_bytes(source.read_bytes())
        code, _ = backfill(tmp_path / name, tmp_path / f"out-{name}", 3, 3, "--json")
        assert code == 0
        manifest = json.loads((tmp_path / f"out-{name}" / "_manifest.json").read_text())
        assert manifest["days"]["2026-11-03"]["files"] == 3  # its day and the two around it
    (tmp_path / "dt" / "dt=20261107").mkdir()
    (tmp_path / "dt" / "dt=20261107" / "x.parquet").write_bytes(
        (log / "date=2026-11-02" / "events.parquet").read_bytes()
    )
    code, _ = backfill(tmp_path / "dt", tmp_path / "out-dt", 3, 3)
    assert code == 0  # the new file is two days away: day 3 does not read it
    manifest = json.loads((tmp_path / "out-dt" / "_manifest.json").read_text())
    assert manifest["days"]["2026-11-03"]["files"] == 3


def test_a_short_day_warns_and_is_published(tmp_path: Path) -> None:
    frames = [
        events(*[(user, 60 * i, "search", "q") for i, user in enumerate("abcdefgh"[:n])])
        for n in (8, 8, 7, 8, 2)  # the last day has a quarter of the usual rows
    ]
    shifted = [
        frame.with_columns(pl.col("event_time") - frame["event_time"][0] + NOON + timedelta(d))
        for d, frame in enumerate(frames)
    ]
    log = tmp_path / "events"
    write_events(pl.concat(shifted), log)
    assert backfill(log, tmp_path / "out", 2, 5, "--min-rows-ratio", "0.5") == (0, "")
    result = CliRunner().invoke(app, [
        "backfill", str(log), "--out", str(tmp_path / "out"), "--start", "2026-11-06",
        "--end", "2026-11-06", "--min-rows-ratio", "0.5", "--json",
    ])  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: 2026-11-06: 2 input rows, below --min-rows-ratio")
    assert "median 8 of the 4 days before it" in result.stderr
    (day,) = json.loads(result.stdout)["days"]
    assert day["published"]
    assert day["warning"].startswith("2 input rows")
    assert "2026-11-06" in published_days(tmp_path / "out")
    quiet = CliRunner().invoke(app, [
        "--log-level", "error", "backfill", str(log), "--out", str(tmp_path / "out"),
        "--start", "2026-11-06", "--end", "2026-11-06", "--min-rows-ratio", "0.5", "--force",
        "-q",
    ])  # fmt: skip
    assert (quiet.exit_code, quiet.stderr) == (0, "")  # errors only
    code, stderr = backfill(log, tmp_path / "out2", 2, 6)  # off by default
    assert (code, stderr) == (0, "")
    code, stderr = backfill(log, tmp_path / "out3", 2, 2, "--min-rows-ratio", "1.5")
    assert code == 3
    assert "min rows ratio" in stderr


def test_partition_key_names_the_day_folders(tmp_path: Path) -> None:
    log = day_log(tmp_path / "flat", 2, 3, 4)
    for day in (2, 3, 4):
        source = log / f"date=2026-11-0{day}" / "events.parquet"
        own = tmp_path / "own" / f"region=eu/event_day=2026-11-0{day}" / "events.parquet"
        mixed = tmp_path / "mixed" / f"date=2026-11-0{day}/dt=2026110{day + 1}" / "e.parquet"
        for target in (own, mixed):
            target.parent.mkdir(parents=True)
            target.write_bytes(source.read_bytes())
    code, _ = backfill(
        tmp_path / "own", tmp_path / "out-own", 3, 3, "--partition-key", "event_day"
    )
    assert code == 0
    manifest = json.loads((tmp_path / "out-own" / "_manifest.json").read_text())
    assert manifest["days"]["2026-11-03"]["files"] == 3  # pruned by event_day=
    code, stderr = backfill(tmp_path / "mixed", tmp_path / "out-mixed", 3, 3)
    assert code == 3
    assert "name different days (date=2026-11-02, dt=2026-11-03)" in stderr
    assert "--partition-key" in stderr
    assert not (tmp_path / "out-mixed").exists()
    code, _ = backfill(tmp_path / "mixed", tmp_path / "out-mixed", 3, 3, "--partition-key", "date")
    assert code == 0
    code, stderr = backfill(tmp_path / "own", tmp_path / "x", 3, 3, "--partition-key", "a=b")
    assert code == 3
    assert "partition key 'a=b'" in stderr


def test_a_partition_key_no_folder_has_is_refused(tmp_path: Path) -> None:
    log = day_log(tmp_path / "flat", 2, 3)
    code, stderr = backfill(log, tmp_path / "out", 2, 3, "--partition-key", "event_day")
    assert code == 3
    assert "--partition-key event_day: no folder event_day=... below the events" in stderr
    assert not (tmp_path / "out").exists()
