"""Backfill bookkeeping: input fingerprints and the per-day manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ctr_batch.core.errors import ConfigError
from ctr_batch.io.layout import MANIFEST_FILE, manifest_temporary

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class DayRecord:
    """What a backfill recorded about one day: one entry of ``_manifest.json``.

    The figures count the day's own rows: ``rows_home`` input rows whose home day it is, of
    which ``rows_quarantined`` were set aside (``quarantined`` by reason); the day's
    ``sessions`` (with ``session_events`` events), ``searches`` and ``clicked_searches``; and
    ``long_sessions``, its sessions reaching more than the lookback past it (read whole, from
    a wider window), its reach ``window`` (UTC start and end: a gap around its sessions and
    the day, ``compute.reach_window``; empty in manifests written before it was recorded),
    ``continued_sessions`` (begun before it, going on into it),
    ``capped_sessions`` (opened by ``--max-session``) and ``late_rows`` (timed on it, found in
    a later day's folder). The rest says how it was computed: the ``fingerprint`` of the input
    files that can change it (``plan.reach_files``) and of the settings, the number of
    ``files`` its lookback window read, ``seconds``, when (``computed_at``) and the
    ``settings``.
    """

    rows_home: int = 0
    rows_quarantined: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    session_events: int = 0
    searches: int = 0
    clicked_searches: int = 0
    long_sessions: int = 0
    continued_sessions: int = 0
    capped_sessions: int = 0
    late_rows: int = 0
    window: list[str] = field(default_factory=list)
    fingerprint: str = ""
    files: int = 0
    seconds: float = 0.0
    computed_at: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record as the manifest stores it."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> DayRecord:
        """A record read from the manifest; TypeError for anything else."""
        if not isinstance(data, dict):
            raise TypeError(data)
        data = dict(data)
        data.pop("split_sessions", None)  # written before sessions were read whole (0.1.0)
        return cls(**data)


def fingerprint(files: Sequence[Path], settings: dict[str, Any]) -> str:
    """Digest of the input files (path, size, modification time) and the settings.

    Any added, removed, rewritten or touched file, or any changed setting, changes it.
    """
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in sorted(files, key=lambda p: p.as_posix()):
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def read_manifest(out: Path) -> dict[str, DayRecord]:
    """Per-day records of earlier backfills into `out` (empty when there are none)."""
    path = out / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))["days"]
        days = {day: DayRecord.from_json(record) for day, record in stored.items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        msg = f"{path}: not a ctr-batch manifest; delete it to recompute every day"
        raise ConfigError(msg) from None
    return days


def write_manifest(out: Path, days: dict[str, DayRecord]) -> None:
    """Replace the manifest atomically (temporary file, then rename)."""
    path = out / MANIFEST_FILE
    temporary = manifest_temporary(out)
    stored = {day: record.to_json() for day, record in sorted(days.items())}
    text = json.dumps({"days": stored}, indent=1, sort_keys=True)
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)
