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
