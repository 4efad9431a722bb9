"""Commit a backfill's day partitions and manifest in batches: a few seconds of work per commit.

Each computed day's tables go straight into an open snapshot (carried over from the current
output by hard links), with the manifest updated beside them; the snapshot is committed once
``every`` seconds have passed since the last commit, and at the end. A kill loses at most
that much work (those days are recomputed by the next run, since the committed manifest does
not list them), and a day's tables and its manifest entry always become visible together.
The summary tables (``summaries.write_summaries``) are refreshed with the last commit; a
snapshot committed without any (a first backfill's first batch) gets them first, so that a
reader never misses a table.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ctr_batch.core.schema import DATE, RUN_SUMMARY_TABLE
from ctr_batch.days.manifest import DayRecord, write_manifest
from ctr_batch.io.commit import begin, commit, discard
from ctr_batch.io.write import write_partition

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from pathlib import Path

    import polars as pl


class DayCommits:
    """The open snapshot of a backfill, committed in batches (see the module docstring)."""

    def __init__(
        self,
        out: Path,
        manifest: dict[str, DayRecord],
        summarize: Callable[[Path, dict[str, DayRecord]], None],
        *,
        every: float = 5.0,
    ) -> None:
        self.out, self.manifest, self.every = out, manifest, every
        self._summarize = summarize
        self._open: Path | None = None
        self._last = time.monotonic()
        self._lock = threading.Lock()  # days computed in parallel add one at a time

    def add(self, day: date, tables: dict[str, pl.DataFrame], record: DayRecord) -> None:
        """Write `day`'s partitions and manifest entry; commit if a batch is due."""
        with self._lock:
            snapshot = self.snapshot()
            for table, frame in tables.items():
                write_partition(frame, snapshot / table / f"{DATE}={day.isoformat()}", table)
            self.manifest[day.isoformat()] = record
            write_manifest(snapshot, self.manifest)
            if time.monotonic() - self._last >= self.every:
                self.commit()

    def records(self) -> dict[str, DayRecord]:
        """The manifest so far: the days of ``OUT`` and those added since (a copy)."""
        with self._lock:
            return dict(self.manifest)

    def snapshot(self) -> Path:
        """The open snapshot, begun when first needed."""
        if self._open is None:
            self._open = begin(self.out, carry=True)
        return self._open

    def finish(self) -> None:
        """The last commit: the summary tables refreshed from the whole manifest, then commit.

        With no day published at all (every day asked failed a guardrail, into an empty
        `out`), nothing is committed: summaries of no table would be an output `check` fails.
        """
        if not self.manifest:
            self.discard()
            return
        self._summarize(self.snapshot(), self.manifest)
        self.commit()

    def commit(self) -> None:
        """Commit the open snapshot, if any (with summary tables, if it has none yet)."""
        if self._open is not None:
            if not (self._open / RUN_SUMMARY_TABLE).exists():
                self._summarize(self._open, self.manifest)
            commit(self.out, self._open)
            self._open, self._last = None, time.monotonic()

    def discard(self) -> None:
        """Drop the open snapshot (after a failure): the current output stays as it was."""
        if self._open is not None:
            discard(self.out, self._open)
            self._open = None
