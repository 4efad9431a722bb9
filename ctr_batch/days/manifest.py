"""Backfill bookkeeping: input fingerprints and the per-day manifest."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import MANIFEST_FILE, manifest_temporary

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


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
    temporary = manifest_temporary(out)
    text = json.dumps({"days": dict(sorted(days.items()))}, indent=1, sort_keys=True)
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)
