"""Atomic writes replace regular files only: never a link, folder, device or pipe."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import polars as pl
import pytest

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.write import write_file, write_text

if TYPE_CHECKING:
    from pathlib import Path


def test_a_regular_file_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    write_text("new", target)
    assert target.read_text() == "new"


@pytest.mark.parametrize("kind", ["link", "folder", "pipe"])
def test_anything_else_is_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out.html"
    if kind == "link":
        (tmp_path / "real.txt").write_text("kept")
        target.symlink_to(tmp_path / "real.txt")
    elif kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    for write in (lambda: write_text("x", target), lambda: write_file(pl.DataFrame(), target)):
        with pytest.raises(ConfigError, match="exists and is not a regular file"):
            write()
    assert target.is_symlink() == (kind == "link")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_standalone_outputs_are_flushed_before_and_after_their_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path as RealPath

    from ctr_batch.batch.run import run
    from ctr_batch.core.config import RunConfig
    from ctr_batch.samples.bundled import sample
    from ctr_batch.sql.views import export_duckdb

    run([sample("sample").path], tmp_path / "out", RunConfig())
    synced: list[str] = []
    real_fsync = os.fsync

    def recording(descriptor: int) -> None:
        synced.append(str(RealPath(f"/proc/self/fd/{descriptor}").readlink()))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording)
    frame = pl.DataFrame({"a": [1]})
    targets = [
        write_text("x", tmp_path / "o" / "a.txt"),
        write_file(frame, tmp_path / "o" / "b.parquet", durable=True),
    ]
    export_duckdb(tmp_path / "out", tmp_path / "o" / "c.duckdb")
    folder = str((tmp_path / "o").resolve())
    for target in [*targets, tmp_path / "o" / "c.duckdb"]:
        staged = [
            s for s in synced if RealPath(s).parent == RealPath(folder) and s.endswith(".tmp")
        ]
        assert any(RealPath(s).name.startswith(f".{target.name}.") for s in staged), target
    assert synced.count(folder) == 3  # each rename flushed in its folder
    synced.clear()
    write_file(frame, tmp_path / "o" / "d.parquet")  # a snapshot's file: flushed at commit
    assert synced == []
