"""Run the stream simulation on event files and write its tables (the I/O edge of stream.py)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from ctr_batch.core.errors import SchemaError
from ctr_batch.core.schema import CTR, QUARANTINE_TABLE, SEARCHES_TABLE, SEQ, SESSIONS_TABLE
from ctr_batch.io.commit import new_output, writing
from ctr_batch.io.layout import check_output_folder, refuse_backfill_layout
from ctr_batch.io.read import ScannedEvents, decoding, scan_events
from ctr_batch.io.write import write_tables
from ctr_batch.stages.flag import quarantine_rows
from ctr_batch.streaming.simulate import LATE_TABLE, Simulation, simulate

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from ctr_batch.core.config import StreamConfig


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """What a simulation read, set aside, dropped as late and produced."""

    rows_read: int
    quarantined: int
    late: int
    sessions: int
    searches: int
    clicked_searches: int
    sequential_sessions: int = 0  # sessions whose events arrived out of time order
    sequential_events: int = 0  # their events, simulated one by one
    seconds: float = 0.0
    tables: dict[str, Path] = field(default_factory=dict)

    @property
    def ctr(self) -> float | None:
        """Share of the stream's searches with at least one click."""
        return self.clicked_searches / self.searches if self.searches else None


def scan_arrival(files: list[Path], column: str) -> pl.LazyFrame:
    """``_seq`` and the arrival `column` of every input row, read in ``scan_events``'s order.

    Raises
    ------
    SchemaError
        If a file lacks `column`.
    """
    for path in files:
        names = pl.read_parquet_schema(path)
        if column not in names:
            raise SchemaError.missing(str(path), [column], names)
    scan = pl.scan_parquet(files, hive_partitioning=False).select(column)
    return scan.with_row_index(SEQ).with_columns(pl.col(SEQ).cast(pl.Int64))


def stream_input(
    inputs: Sequence[str | Path],
    *,
    arrival: str | None = None,
    column_map: Mapping[str, str] | None = None,
    outside: Path | None = None,
) -> tuple[pl.LazyFrame, ScannedEvents]:
    """Normalized events of `inputs` (none under `outside`), with the `arrival` column."""
    scanned = scan_events(inputs, column_map=column_map, outside=outside)
    if arrival is None:
        return scanned.frame, scanned
    arrivals = scan_arrival(scanned.paths, arrival)
    return scanned.frame.join(arrivals, on=SEQ, how="left"), scanned


def run_simulation(
    inputs: Sequence[str | Path],
    out: Path,
    config: StreamConfig,
    *,
    column_map: Mapping[str, str] | None = None,
) -> StreamSummary:
    """Simulate the stream on event files and write its tables under `out` (CONTRACT §5 layout).

    Writes ``searches``, ``sessions``, ``late`` and ``quarantine``; nothing is written unless
    every input file passes the schema checks.
    """
    started = time.perf_counter()
    check_output_folder(out)
    frame, scanned = stream_input(
        inputs, arrival=config.arrival, column_map=column_map, outside=out
    )
    with writing(out, "simulate-stream"):
        refuse_backfill_layout(out)
        with decoding(scanned.paths):
            simulation = simulate(frame, config)
        summary, tables = _summarized(simulation, scanned, started)
        with new_output(out) as snapshot:
            write_tables(tables, snapshot)
    return dataclasses.replace(summary, tables={name: out / name for name in tables})


def _summarized(
    simulation: Simulation, scanned: ScannedEvents, started: float
) -> tuple[StreamSummary, dict[str, pl.DataFrame]]:
    """The simulation's tables, quarantine rows located in their files, and its summary."""
    tables = dict(simulation.tables)
    located = quarantine_rows(tables[QUARANTINE_TABLE].lazy(), scanned.file_table())
    tables[QUARANTINE_TABLE] = located.collect()
    searches = tables[SEARCHES_TABLE]
    summary = StreamSummary(
        rows_read=scanned.rows,
        quarantined=tables[QUARANTINE_TABLE].height,
        late=tables[LATE_TABLE].height,
        sessions=tables[SESSIONS_TABLE].height,
        searches=searches.height,
        clicked_searches=int((searches[CTR] > 0).sum()),
        sequential_sessions=simulation.sequential_sessions,
        sequential_events=simulation.sequential_events,
        seconds=time.perf_counter() - started,
    )
    return summary, tables
