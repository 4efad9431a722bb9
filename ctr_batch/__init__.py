"""ctr_batch: search sessions and click-through rate, in batch, from Parquet event logs."""

from __future__ import annotations

from ctr_batch._version import __version__
from ctr_batch.backfill import BackfillConfig, backfill
from ctr_batch.config import RunConfig, parse_duration
from ctr_batch.errors import ConfigError, CtrBatchError, InputError, SchemaError
from ctr_batch.generate import generate_events, write_events
from ctr_batch.pipeline import compute, compute_tables, run
from ctr_batch.query import run_checks, run_query, run_sql
from ctr_batch.read import scan_events
from ctr_batch.reconcile import reconcile
from ctr_batch.segment import segment
from ctr_batch.sessionize import sessionize
from ctr_batch.sql_engine import compute_tables_duckdb
from ctr_batch.stream import simulate_stream
from ctr_batch.summary import RunSummary
from ctr_batch.validate import flag_rows, split_valid

__all__ = [
    "BackfillConfig",
    "ConfigError",
    "CtrBatchError",
    "InputError",
    "RunConfig",
    "RunSummary",
    "SchemaError",
    "__version__",
    "backfill",
    "compute",
    "compute_tables",
    "compute_tables_duckdb",
    "flag_rows",
    "generate_events",
    "parse_duration",
    "reconcile",
    "run",
    "run_checks",
    "run_query",
    "run_sql",
    "scan_events",
    "segment",
    "sessionize",
    "simulate_stream",
    "split_valid",
    "write_events",
]
