"""Every on-disk layout of OUT: part names, scratch folders, the layouts' mutual refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import (
    MANIFEST_FILE,
    PART_FILE,
    bucket_files,
    check_output_folder,
    output_kind,
    refuse_other_output,
    remove_orphans,
    remove_stale_temporaries,
    scratch_folder,
    spill_pass,
)
from ctr_batch.io.lock import exclusive_lock

if TYPE_CHECKING:
    from pathlib import Path


def dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def test_scratch_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    mine = scratch_folder(tmp_path, "staging")
    assert mine.name.startswith(f".staging-{os.getpid()}-")
    orphan = tmp_path / f".buckets-{dead_pid()}-abc"
    (orphan / "users").mkdir(parents=True)
    unrelated = tmp_path / ".notes-1-x"
    unrelated.mkdir()
    remove_orphans(tmp_path)
    assert mine.exists()
    assert not orphan.exists()
    assert unrelated.exists()


def test_a_run_and_a_backfill_refuse_each_others_output(tmp_path: Path) -> None:
    for command in ("run", "backfill", "simulate-stream"):
        refuse_other_output(tmp_path, command)  # an empty folder is anyone's
    (tmp_path / "searches").mkdir()
    (tmp_path / "searches" / PART_FILE).write_bytes(b"")
    assert output_kind(tmp_path) == "run"
    refuse_other_output(tmp_path, "run")
    with pytest.raises(ConfigError, match="output of `ctr-batch run`; backfill into another"):
        refuse_other_output(tmp_path, "backfill")
    (tmp_path / "late").mkdir()  # a stream's output has batch-named tables too
    assert output_kind(tmp_path) == "simulate-stream"
    with pytest.raises(ConfigError, match="`ctr-batch simulate-stream`; run into another"):
        refuse_other_output(tmp_path, "run")
    (tmp_path / MANIFEST_FILE).write_text("{}")
    with pytest.raises(ConfigError, match="`ctr-batch backfill`; simulate-stream into another"):
        refuse_other_output(tmp_path, "simulate-stream")


def test_run_and_stream_refuse_each_others_output_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ctr_batch.cli.app import app
    from ctr_batch.samples.bundled import sample

    events = str(sample("sample").path)
    for first, second in (("run", "simulate-stream"), ("simulate-stream", "run")):
        out = tmp_path / first
        assert CliRunner().invoke(app, [first, events, "--out", str(out)]).exit_code == 0
        before = sorted(p.name for p in out.iterdir())
        refused = CliRunner().invoke(app, [second, events, "--out", str(out)])
        assert refused.exit_code == 3
        assert f"holds the output of `ctr-batch {first}`; {second} into another" in refused.stderr
        assert sorted(p.name for p in out.iterdir()) == before


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        check_output_folder(tmp_path / "file")
    check_output_folder(tmp_path / "missing")  # created later


def test_spilled_buckets_are_found_over_every_pass(tmp_path: Path) -> None:
    for index, bucket in [(0, 2), (1, 2), (1, 0)]:
        folder = spill_pass(tmp_path, "users", index) / f"_bucket={bucket}"
        folder.mkdir(parents=True)
        (folder / "0.parquet").write_bytes(b"")
    files = bucket_files(tmp_path, "users")
    assert [[p.parent.parent.name for p in bucket] for bucket in files] == [
        ["pass-000001"], ["pass-000000", "pass-000001"]]  # fmt: skip
    assert bucket_files(tmp_path, "ids") == []


def test_stale_temporaries_go_and_the_lock_is_exclusive(tmp_path: Path) -> None:
    stale = tmp_path / "searches" / "date=2024-01-01" / f".{PART_FILE}.x.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    (tmp_path / f".{MANIFEST_FILE}.1.tmp").write_text("")
    remove_stale_temporaries(tmp_path)
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []
    code = "import sys; from pathlib import Path; from ctr_batch.io.lock import exclusive_lock as l; l(Path(sys.argv[1])).__enter__()"  # noqa: E501
    with exclusive_lock(tmp_path):
        second = subprocess.run([sys.executable, "-c", code, str(tmp_path)],
                                capture_output=True, text=True)  # fmt: skip
    assert "another ctr-batch command is writing here (pid" in second.stderr
