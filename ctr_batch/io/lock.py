"""The writer's lock on an output folder: an ``flock`` on ``OUT/.lock``."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import IO, TYPE_CHECKING

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import LOCK_FILE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_TRIES, _PAUSE = 50, 0.01  # how long an empty lock file is read again: half a second


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
        holder = _wait_for_a_named_holder(handle)
        if holder is not None:
            msg = f"{out}: another ctr-batch command is writing here ({holder}); "
            msg += "wait for it to finish"
            raise ConfigError(msg)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {command}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for_a_named_holder(handle: IO[str]) -> str | None:
    """Take the lock (None), or say who holds it ("pid N, command").

    A holder writes its name just after it takes the lock and clears it just before it lets
    go: found empty, the file is read again for a moment (or the lock taken, once free).
    """
    for _ in range(_TRIES):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            if holder := handle.read().strip():
                return holder
            time.sleep(_PAUSE)
        else:
            return None
    return "another process"
