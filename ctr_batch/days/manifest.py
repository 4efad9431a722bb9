"""Backfill bookkeeping: input fingerprints, the per-day manifest and the output lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from ctr_batch.core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

MANIFEST_FILE = "_manifest.json"
LOCK_FILE = ".lock"


def fingerprint(files: Sequence[Path], settings: dict[str, Any]) -> str:
    """Digest of the input files (path, size, modification time) and the settings.

    Any added, removed, rewritten or touched file, or any changed setting, changes it.
    """
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in sorted(files, key=lambda p: p.as_posix()):
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_manifest(out: Path) -> dict[str, dict[str, Any]]:
    """Per-day records of earlier backfills into `out` (empty when there are none)."""
    path = out / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        days: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["days"]
    except (json.JSONDecodeError, KeyError, TypeError):
        msg = f"{path}: not a ctr-batch manifest; delete it to recompute every day"
        raise ConfigError(msg) from None
    return days


def write_manifest(out: Path, days: dict[str, dict[str, Any]]) -> None:
    """Replace the manifest atomically (temporary file, then rename)."""
    path = out / MANIFEST_FILE
    temporary = out / f".{MANIFEST_FILE}.{os.getpid()}.tmp"
    text = json.dumps({"days": dict(sorted(days.items()))}, indent=1, sort_keys=True)
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)


@contextlib.contextmanager
def exclusive_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on `out` or fail at once if another process holds it.

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
            msg = f"{out}: another backfill is writing here ({holder}); wait for it to finish"
            raise ConfigError(msg) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
