"""The writer's lock: a second writer fails at once, naming the holder."""

from __future__ import annotations

import fcntl
import threading
from typing import TYPE_CHECKING

import pytest

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import LOCK_FILE
from ctr_batch.io.lock import exclusive_lock

if TYPE_CHECKING:
    from pathlib import Path


def test_a_holder_caught_before_it_wrote_its_name_is_still_named(tmp_path: Path) -> None:
    with (tmp_path / LOCK_FILE).open("a+", encoding="utf-8") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # locked, its name not yet written

        def name_it() -> None:
            holder.write("pid 42, run")
            holder.flush()

        timer = threading.Timer(0.05, name_it)
        timer.start()
        with (
            pytest.raises(ConfigError, match=r"writing here \(pid 42, run\)"),
            exclusive_lock(tmp_path, "backfill"),
        ):
            pass
        timer.join()


def test_a_lock_let_go_while_waiting_is_taken(tmp_path: Path) -> None:
    with (tmp_path / LOCK_FILE).open("a+", encoding="utf-8") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a holder clearing its name, leaving
        timer = threading.Timer(0.05, fcntl.flock, (holder, fcntl.LOCK_UN))
        timer.start()
        with exclusive_lock(tmp_path, "backfill"):
            assert (tmp_path / LOCK_FILE).read_text().endswith(", backfill")
        timer.join()
