"""How a run computes and commits its tables: in one pass, or user bucket by user bucket."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Literal

from ctr_batch.batch import buckets as bucketing
from ctr_batch.batch.accounting import summarize, summarize_parts
from ctr_batch.batch.buckets import PART_TABLES
from ctr_batch.batch.pipeline import compute_tables
from ctr_batch.core.schema import CTR_BY_QUERY_TABLE, CTR_DAILY_TABLE, RUN_SUMMARY_TABLE
from ctr_batch.io.commit import new_output
from ctr_batch.io.layout import remove_folder, scratch_folder
from ctr_batch.io.read import check_unchanged
from ctr_batch.io.write import write_tables

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import polars as pl

    from ctr_batch.core.config import RunConfig
    from ctr_batch.core.summary import RunSummary
    from ctr_batch.io.read import ScannedEvents

    Progress = Callable[[str], None]

Engine = Literal["auto", "in-memory", "streaming", "duckdb"]
ENGINES: tuple[Engine, ...] = ("auto", "in-memory", "streaming", "duckdb")


def compute_scanned(
    scanned: ScannedEvents, config: RunConfig, engine: Engine, memory_limit: int | None = None
) -> dict[str, pl.DataFrame]:
    """Every table of scanned events, on the Polars pipeline or its SQL twin (``duckdb``)."""
    dedupe, files = scanned.has_event_id, scanned.file_table()
    if engine == "duckdb":
        from ctr_batch.sql.engine import compute_tables_duckdb  # DuckDB loads only when asked

        return compute_tables_duckdb(
            scanned.frame,
            config,
            normalized=True,
            dedupe=dedupe,
            file_table=files,
            memory_limit=memory_limit,
        )
    polars_engine = scanned.engine if engine == "auto" else engine
    return compute_tables(
        scanned.frame,
        config,
        normalized=True,
        engine=polars_engine,
        dedupe=dedupe,
        file_table=files,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class OutputRun:
    """A run that writes its tables: in one pass, or in user buckets."""

    scanned: ScannedEvents
    out: Path
    config: RunConfig
    step: Progress
    started: float
    inputs: list[str]

    def one_pass(self, engine: Engine, memory_limit: int | None) -> RunSummary:
        """Compute every table at once, then write them."""
        scanned, step = self.scanned, self.step
        step(f"computing tables from {scanned.rows:,} rows in {len(scanned.frames)} file(s)")
        tables = compute_scanned(scanned, self.config, engine, memory_limit)
        check_unchanged(scanned)
        summary = dataclasses.replace(
            summarize(tables, scanned.rows), seconds=time.perf_counter() - self.started
        )
        tables[RUN_SUMMARY_TABLE] = summary.to_frame(self.config, self.inputs)
        step(f"writing {len(tables)} tables to {self.out}")
        with new_output(self.out) as snapshot:
            write_tables(tables, snapshot)
        return dataclasses.replace(summary, tables={name: self.out / name for name in tables})

    def bucketed(self, *, count: int | None, memory_limit: int | None) -> RunSummary:
        """Split users into `count` buckets (None: as `memory_limit` needs), compute, publish."""
        workdir = scratch_folder(self.out, "buckets")
        try:
            self.step(f"hashing {self.scanned.rows:,} rows into user buckets")
            split = bucketing.bucket_events(
                self.scanned, workdir, buckets=count, memory_limit=memory_limit
            )
            how = "spilled to disk" if split.held is None else "filtered rescans"
            self.step(f"{len(split.frames)} user buckets ({how})")
            work = bucketing.BucketWork.of(split, self.config, self.scanned.file_table())
            with new_output(self.out) as snapshot:
                quarantined = bucketing.compute_buckets(
                    split,
                    snapshot,
                    work,
                    on_bucket=lambda done, total: self.step(f"computed bucket {done} of {total}"),
                )
                remove_folder(workdir)
                check_unchanged(self.scanned)
                summary = self._aggregate(snapshot, quarantined)
                self.step(f"committing tables in {self.out}")
        finally:
            remove_folder(workdir)
        names = [*PART_TABLES, CTR_DAILY_TABLE, CTR_BY_QUERY_TABLE, RUN_SUMMARY_TABLE]
        return dataclasses.replace(summary, tables={name: self.out / name for name in names})

    def _aggregate(self, snapshot: Path, quarantined: pl.DataFrame) -> RunSummary:
        """Write the tables aggregated from the bucket parts in `snapshot`; the summary."""
        self.step("aggregating daily and per-query tables")
        tables = bucketing.aggregate_parts(snapshot)
        summary = summarize_parts(snapshot, tables, quarantined, self.scanned.rows)
        summary = dataclasses.replace(summary, seconds=time.perf_counter() - self.started)
        tables[RUN_SUMMARY_TABLE] = summary.to_frame(self.config, self.inputs)
        write_tables(tables, snapshot)
        return summary
