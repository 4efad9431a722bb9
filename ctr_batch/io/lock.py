"""The writer's lock on an output folder: an ``flock`` on ``OUT/.lock``."""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import TYPE_CHECKING

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import LOCK_FILE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@contextlib.contextmanager
def exclusive_lock(out: Path, command: str = "ctr-batch") -> Iterator[None]:
    """Hold the writer's lock on `out`, or fail at once naming the process that holds it.

    Every command that writes `out` (`command` names it in the message others get) holds the
    lock from before it computes until its output is committed.

    The lock is an ``flock`` on ``OUT/.lock``: the kernel releases it when the holder exits,
    even when killed, so a crashed run never blocks the next one.
    """
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK_FILE).open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            msg = f"{out}: another ctr-batch command is writing here ({holder}); "
            msg += "wait for it to finish"
            raise ConfigError(msg) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {command}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
