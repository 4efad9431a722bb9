"""The commit protocol under fire: a writer killed or paused at every step of its commit.

Each case runs a real ``ctr-batch`` process that SIGKILLs itself at one step
(``CTR_BATCH_KILL_AT``) while replacing an earlier output, then reads the documented paths
``OUT/<table>/**/*.parquet`` as any outside reader would: every table must be there, whole,
and all of them from one run (the previous or the new), with no stale part; the next run
must finish the job. Two writers at once must never mix: the second is refused at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from ctr_batch.io.commit import COMMIT_STEPS, KILL_VARIABLE, PAUSE_VARIABLE
from ctr_batch.samples.generate import generate_events

if TYPE_CHECKING:
    from pathlib import Path

RUN_TABLES = ("ctr_by_query", "ctr_daily", "quarantine", "run_summary", "searches", "sessions")
STREAM_TABLES = ("late", "quarantine", "searches", "sessions")
BACKFILL_TABLES = ("ctr_by_query", "ctr_by_query_daily", "ctr_daily", "day_summary", "quarantine",
                   "run_summary", "searches", "sessions")  # fmt: skip
WRITERS = {  # name -> (command after the events folder, tables a reader must find)
    "run": (["run", "--out"], RUN_TABLES),
    "run-buckets": (["run", "--buckets", "3", "--out"], RUN_TABLES),
    "simulate-stream": (["simulate-stream", "--wait", "10s", "--out"], STREAM_TABLES),
    "backfill": (["backfill", "--start", "2026-11-01", "--end", "2026-11-02", "--out"],
                 BACKFILL_TABLES),
}  # fmt: skip
SKIP_COLUMNS = ("finished_at", "compute_seconds", "computed_at", "seconds")  # differ run to run


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two different small logs, as day folders."""
    root = tmp_path_factory.mktemp("logs")
    for name, seed in (("a", 1), ("b", 2)):
        frame = generate_events(events=3_000, users=60, days=2, seed=seed, bad_row_rate=0.01)
        from ctr_batch.io.write import write_events

        write_events(frame, root / name)
    return root / "a", root / "b"


def ctr_batch(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ctr_batch", *map(str, args), "-q"]
    if args[0] == "simulate-stream":
        command.remove("-q")
    return subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def write(
    writer: str, events: Path, out: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command, _ = WRITERS[writer]
    return ctr_batch(command[0], events, *command[1:], out, env=env)


def view(out: Path, tables: tuple[str, ...]) -> dict[str, pl.DataFrame]:
    """What a reader of the documented paths finds: each table, read whole."""
    found = sorted(p.name for p in out.iterdir() if not p.name.startswith((".", "_")))
    assert found == sorted(tables)
    frames = {}
    for table in tables:
        frame = pl.read_parquet(out / table / "**" / "*.parquet", hive_partitioning=False)
        frames[table] = frame.drop(SKIP_COLUMNS, strict=False)
    return frames


def same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> bool:
    try:
        for table, frame in left.items():
            assert_frame_equal(frame, right[table], check_row_order=False)
    except AssertionError:
        return False
    return True


@pytest.fixture(scope="module")
def expected(
    logs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]]:
    """Each writer's clean output of log a and of log b (under ``clean/<writer>/<log>``)."""
    root, clean = tmp_path_factory.mktemp("clean"), {}
    for writer, (_, tables) in WRITERS.items():
        outputs = []
        for log in logs:
            assert write(writer, log, root / writer / log.name).returncode == 0
            outputs.append(view(root / writer / log.name, tables))
        clean[writer] = (outputs[0], outputs[1])
    return clean | {"root": root}  # type: ignore[dict-item]


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_kill_at_any_commit_step_leaves_one_whole_output(
    writer: str, logs, expected, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tables = WRITERS[writer][1]
    old, new = expected[writer]
    for step in COMMIT_STEPS:
        out = tmp_path / step
        shutil.copytree(expected["root"] / writer / logs[0].name, out, symlinks=True)
        killed = write(writer, logs[1], out, env={KILL_VARIABLE: step})
        assert killed.returncode == -9, (step, killed.stderr)
        seen = view(out, tables)
        after_switch = step in ("switched", "pruned")
        assert same(seen, new if after_switch else old), step  # never a mix, never a half
        assert write(writer, logs[1], out).returncode == 0
        assert same(view(out, tables), new), step
        assert len(list((out / ".snapshots").iterdir())) <= 2  # the output and the previous


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.sampled_from(sorted(WRITERS)),
    second=st.sampled_from(sorted(WRITERS)),
    step=st.sampled_from(COMMIT_STEPS[:-1]),
)
def test_a_second_writer_is_refused_while_the_first_holds_the_lock(
    first: str, second: str, step: str, logs, tmp_path_factory
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("two") / "out"
    flag = out.parent / "paused"
    command, _ = WRITERS[first]
    env = {**os.environ, PAUSE_VARIABLE: f"{step}:{flag}"}
    args = [sys.executable, "-m", "ctr_batch", command[0], str(logs[0]), *command[1:], str(out)]
    paused = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert paused.poll() is None, "the first writer ended before its pause"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    refused = write(second, logs[1], out)
    assert refused.returncode == 3
    assert "is writing here" in refused.stderr
    flag.unlink()
    assert paused.wait(timeout=120) == 0
    tables = WRITERS[first][1]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith((".", "_"))) == sorted(
        tables
    )
