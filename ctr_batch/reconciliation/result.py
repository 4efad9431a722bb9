"""What a reconciliation found: counts, one row per difference, and how to report them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.schema import DATE, QUERY, SEARCH_TIME, SESSION_START, TIME_DTYPE, USER_ID
from ctr_batch.io.write import write_file
from ctr_batch.reconciliation.causes import CAUSE, DETAIL, SIMULATED_VALUE, UNEXPLAINED
from ctr_batch.reconciliation.daily import DELTA
from ctr_batch.reconciliation.diff import COLUMN, DIFFERENCE, LEFT_VALUE, OCCURRENCE, RIGHT_VALUE

if TYPE_CHECKING:
    from pathlib import Path

    from ctr_batch.core.config import GapRule
    from ctr_batch.reconciliation.load import StreamKind

RECORD = "record"
# what a terminal shows of each mismatch
SHOWN_COLUMNS = (RECORD, USER_ID, SEARCH_TIME, QUERY, COLUMN, LEFT_VALUE, RIGHT_VALUE, DIFFERENCE,
                 CAUSE)  # fmt: skip
MISMATCH_SCHEMA = pl.Schema(
    {
        RECORD: pl.String(),
        USER_ID: pl.String(),
        SESSION_START: TIME_DTYPE,
        SEARCH_TIME: TIME_DTYPE,
        QUERY: pl.String(),
        DATE: pl.Date(),
        OCCURRENCE: pl.UInt32(),
        COLUMN: pl.String(),
        LEFT_VALUE: pl.String(),
        RIGHT_VALUE: pl.String(),
        SIMULATED_VALUE: pl.String(),
        DIFFERENCE: pl.String(),
        CAUSE: pl.String(),
        DETAIL: pl.String(),
    }
)


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """Outcome of comparing a stream's output with the batch tables."""

    kind: StreamKind
    batch_records: int
    stream_records: int
    matched: int
    missing_in_stream: int
    extra_in_stream: int
    value_mismatch: int  # records in both with at least one differing value
    mismatches: pl.DataFrame  # MISMATCH_SCHEMA: one row per difference
    daily: pl.DataFrame  # DAILY_SCHEMA: per-day batch vs stream figures
    tolerance: float
    analysed: bool  # events were given, so causes were looked for
    stream_gap_rule: GapRule | None = None

    def to_json(self) -> dict[str, object]:
        """The comparison's counts and verdict as plain values, for ``--json``."""
        return {
            "kind": self.kind,
            "batch_records": self.batch_records,
            "stream_records": self.stream_records,
            "matched": self.matched,
            "missing_in_stream": self.missing_in_stream,
            "extra_in_stream": self.extra_in_stream,
            "value_mismatch": self.value_mismatch,
            "tolerance": self.tolerance,
            "analysed": self.analysed,
            "stream_gap_rule": self.stream_gap_rule,
            "causes": self.causes,
            "unexplained": self.unexplained,
            "passed": self.passed,
        }

    @property
    def unexplained(self) -> int:
        """Differences (beyond the tolerance) with no known cause."""
        return int((self.mismatches[CAUSE] == UNEXPLAINED).sum())

    @property
    def passed(self) -> bool:
        """True when every difference beyond the tolerance has a known cause."""
        return self.unexplained == 0

    @property
    def causes(self) -> dict[str, int]:
        """Number of differences per cause."""
        counts = self.mismatches.group_by(CAUSE).len().sort(CAUSE)
        return {str(cause): int(n) for cause, n in counts.rows()}


def write_mismatches(result: ReconcileResult, path: Path) -> Path:
    """Write the mismatch table (``MISMATCH_SCHEMA``) as one Parquet file, even when empty.

    The file is written under a temporary name beside `path`, then renamed over it.
    """
    return write_file(result.mismatches, path, durable=True)


def summary_rows(result: ReconcileResult) -> list[tuple[str, str]]:
    """(label, value) pairs summing up a comparison, for printing."""
    rows = [
        ("stream records", f"{result.stream_records:,} ({result.kind})"),
        ("batch records", f"{result.batch_records:,}"),
        ("matched", f"{result.matched:,}"),
        ("missing in stream", f"{result.missing_in_stream:,}"),
        ("extra in stream", f"{result.extra_in_stream:,}"),
        ("value mismatches", f"{result.value_mismatch:,} records"),
        ("tolerance", f"{result.tolerance:g}"),
    ]
    if result.analysed:
        rows.append(("stream gap rule", str(result.stream_gap_rule)))
        rows += [(f"cause: {cause}", f"{n:,}") for cause, n in result.causes.items()]
    else:
        rows.append(("causes", "not analysed (no events given)"))
    worst = result.daily.select(pl.col(DELTA).abs().max()).item()
    rows.append(("largest daily delta", "n/a" if worst is None else f"{worst:.6f}"))
    rows.append(("unexplained differences", f"{result.unexplained:,}"))
    rows.append(("result", "PASSED" if result.passed else "FAILED"))
    return rows
