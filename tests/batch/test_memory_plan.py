"""The memory plan: one pass, rescanned or spilled buckets, from footers and a limit (issue 6)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ctr_batch.batch.memory_plan import (
    MEMORY_PER_LEAN_BYTE,
    MEMORY_PER_LIST_BYTE,
    RESCAN_LIMIT,
    InputSize,
    bucket_count,
)
from ctr_batch.batch.run import run
from ctr_batch.core.config import RunConfig
from ctr_batch.core.errors import ConfigError
from ctr_batch.io.read import scan_events
from ctr_batch.samples.bundled import sample

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(("limit", "expected"), [(None, 1), (10**12, 1), (1, None)])
def test_bucket_count_follows_the_memory_limit(
    limit: int | None, expected: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ctr_batch.batch.memory_plan.memory_in_use", lambda: 0)
    monkeypatch.setattr("ctr_batch.batch.memory_plan.MEMORY_FLOOR", 0)  # the room is the limit
    monkeypatch.setattr("ctr_batch.batch.memory_plan.SMALLEST_ROOM", 0)
    scanned = scan_events([sample("sample").path])
    count = bucket_count(scanned, limit)
    assert count == expected if expected is not None else count > 100


@pytest.mark.parametrize(
    ("lists", "per_bucket", "expected"),
    [
        (0, 1.0, 1),  # everything fits in one rescan
        (100, 1.0, 1),
        (100, 0.5, 2),  # the shared lists take their room first, the rest is split
        (100, 0.34, 3),
        (100, 1 / RESCAN_LIMIT, RESCAN_LIMIT),
        (100, 1 / (RESCAN_LIMIT + 1), None),  # too many rescans: spill instead
        (10**6, 1.0, None),  # the lists alone fill the limit
    ],
)
def test_rescan_buckets_leave_room_for_the_shared_lists(
    lists: int, per_bucket: float, expected: int | None
) -> None:
    rest = 1000
    limit = int(100 * MEMORY_PER_LIST_BYTE + rest * MEMORY_PER_LEAN_BYTE * per_bucket)
    assert InputSize(lists, rest).rescan_buckets(limit) == expected


def test_the_duckdb_engine_refuses_what_it_cannot_do_in_one_pass(tmp_path: Path) -> None:
    events = [sample("sample").path]
    size = InputSize.of(scan_events(events))
    with pytest.raises(ConfigError, match="--buckets: the duckdb engine computes in one pass"):
        run(events, tmp_path / "out", RunConfig(), engine="duckdb", buckets=3)
    too_small = (size.lists + size.rest) // 2
    with pytest.raises(ConfigError, match="holds the whole input in memory"):
        run(events, tmp_path / "out", RunConfig(), engine="duckdb", memory_limit=too_small)
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_the_duckdb_engine_runs_within_a_memory_limit_it_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [sample("sample").path]
    limit, engines = 256 * 2**20, ("sql", "polars")
    settings: list[dict[str, object]] = []
    connect = duckdb.connect

    def recording_connect(**kwargs: Any) -> duckdb.DuckDBPyConnection:
        settings.append(kwargs["config"])
        return connect(**kwargs)

    monkeypatch.setattr("ctr_batch.sql.engine.duckdb.connect", recording_connect)
    run(events, tmp_path / "sql", RunConfig(), engine="duckdb", memory_limit=limit)
    assert settings[0]["memory_limit"] == "256MiB"  # DuckDB's operators spill beyond it
    assert settings[0]["temp_directory"]
    run(events, tmp_path / "polars", RunConfig())
    for table in ("sessions", "searches", "ctr_daily", "ctr_by_query"):
        sql, polars = (pl.read_parquet(tmp_path / e / table / "*.parquet") for e in engines)
        by_all = sql.columns
        assert_frame_equal(sql.sort(by_all), polars.sort(by_all), rel_tol=0, abs_tol=1e-12)


def test_the_default_budget_is_a_share_of_the_container_or_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctr_batch.batch import memory_plan

    limit = tmp_path / "memory.max"
    monkeypatch.setattr(memory_plan, "_CGROUP_LIMITS", (str(limit),))
    monkeypatch.setattr(memory_plan, "memory_in_use", lambda: 100)  # the share comes on top
    limit.write_text("1073741824\n")
    assert memory_plan.default_memory_limit() == 100 + 2**30 // 4
    limit.write_text("max\n")  # no container limit: the machine's memory
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert memory_plan.default_memory_limit() == 100 + int(machine * memory_plan.DEFAULT_SHARE)


def test_a_limit_too_small_to_work_names_the_smallest_that_does(tmp_path: Path) -> None:
    from ctr_batch.batch.memory_plan import MEMORY_FLOOR, SMALLEST_ROOM, memory_in_use

    events = [sample("sample").path]
    with pytest.raises(ConfigError, match=r"too small for this run; the smallest that works is"):
        run(events, tmp_path / "out", RunConfig(), memory_limit=MEMORY_FLOOR)
    assert not (tmp_path / "out" / "searches").exists()
    smallest = memory_in_use() + MEMORY_FLOOR + SMALLEST_ROOM + 64 * 2**20  # room to grow
    run(events, tmp_path / "out", RunConfig(), memory_limit=smallest)
    assert (tmp_path / "out" / "searches").is_dir()


def test_the_limit_counts_what_the_process_holds_already(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctr_batch.batch import memory_plan

    assert memory_plan.memory_in_use() > 0  # read from /proc on Linux
    scanned = scan_events([sample("sample").path])
    limit = memory_plan.MEMORY_FLOOR + 2**30
    monkeypatch.setattr(memory_plan, "memory_in_use", lambda: 0)
    assert memory_plan.fits_in_memory(scanned, limit)
    assert memory_plan.room_for_buckets(limit) == 2**30
    monkeypatch.setattr(memory_plan, "memory_in_use", lambda: limit)  # the process holds it all
    assert not memory_plan.fits_in_memory(scanned, limit)
    assert memory_plan.room_for_buckets(limit) == memory_plan.SMALLEST_ROOM  # never less
    with pytest.raises(ConfigError, match="this process holds 1,184MiB already"):
        memory_plan.check_memory_limit(scanned, limit)


def test_a_default_budget_never_refuses_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctr_batch.batch import memory_plan

    monkeypatch.setattr(memory_plan, "_CGROUP_LIMITS", (str(tmp_path / "memory.max"),))
    (tmp_path / "memory.max").write_text(f"{64 * 2**20}\n")  # a tiny container: 16 MiB share
    events = [sample("sample").path]
    run(events, tmp_path / "out", RunConfig())
    run(events, tmp_path / "one", RunConfig(), buckets=1)
    for table in ("sessions", "searches", "ctr_daily"):
        tables = [pl.read_parquet(tmp_path / o / table / "*.parquet") for o in ("out", "one")]
        assert_frame_equal(*(t.sort(t.columns) for t in tables))


@pytest.mark.parametrize(
    ("room", "expected"),
    [(10**15, 10_000_000), (320 * 10**6, 5_000_000), (10**3, 1_000_000)],
)
def test_spill_passes_shrink_to_the_room(room: int, expected: int) -> None:
    from ctr_batch.batch.memory_plan import MEMORY_PER_PASS_BYTE

    rows = 10**7
    size = InputSize(lists=0, rest=int(rows * 64 / MEMORY_PER_PASS_BYTE))  # a pass: 64 B a row
    assert size.pass_rows(rows, room) == expected


def test_lean_reads_set_polars_prefetch_only_within_and_keep_a_users_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ctr_batch.batch.memory_plan import lean_reads

    name = "POLARS_ROW_GROUP_PREFETCH_SIZE"
    monkeypatch.delenv(name, raising=False)
    with lean_reads():
        assert os.environ[name] == "1"
    assert name not in os.environ
    monkeypatch.setenv(name, "32")
    with lean_reads():
        assert os.environ[name] == "32"
    assert os.environ[name] == "32"


def test_lean_reads_in_threads_stay_set_until_the_last_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from ctr_batch.batch.memory_plan import lean_reads

    name = "POLARS_ROW_GROUP_PREFETCH_SIZE"
    monkeypatch.delenv(name, raising=False)
    inside, release, seen = threading.Barrier(2), threading.Event(), []

    def first() -> None:
        with lean_reads():
            inside.wait()
            release.wait()

    thread = threading.Thread(target=first)
    thread.start()
    with lean_reads():
        inside.wait()
    seen.append(os.environ.get(name))  # the first thread is still inside
    release.set()
    thread.join()
    assert seen == ["1"]
    assert name not in os.environ
