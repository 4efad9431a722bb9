"""ctr_batch: search sessions and click-through rate, in batch, from Parquet event logs.

The public API is ``__all__``. Names are imported on first use (PEP 562), so a command line
call loads only the modules it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ctr_batch._version import __version__

if TYPE_CHECKING:
    from ctr_batch.batch.pipeline import compute_tables
    from ctr_batch.batch.run import compute
    from ctr_batch.core.config import RunConfig, StreamConfig, parse_duration
    from ctr_batch.core.errors import ConfigError, CtrBatchError, InputError, SchemaError
    from ctr_batch.core.summary import RunSummary
    from ctr_batch.days.config import BackfillConfig
    from ctr_batch.engines import backfill, run
    from ctr_batch.io.read import scan_events
    from ctr_batch.io.write import write_events
    from ctr_batch.reconciliation.reconcile import reconcile
    from ctr_batch.reporting.build import report
    from ctr_batch.samples.generate import generate_events
    from ctr_batch.sql.engine import compute_tables_duckdb
    from ctr_batch.sql.query import run_checks, run_query, run_sql
    from ctr_batch.stages.flag import flag_rows, split_valid
    from ctr_batch.stages.segment import segment
    from ctr_batch.stages.sessionize import sessionize
    from ctr_batch.streaming.run import simulate_stream

_HOMES = {
    "BackfillConfig": "days.config",
    "ConfigError": "core.errors",
    "CtrBatchError": "core.errors",
    "InputError": "core.errors",
    "RunConfig": "core.config",
    "RunSummary": "core.summary",
    "SchemaError": "core.errors",
    "StreamConfig": "core.config",
    "backfill": "engines",
    "compute": "batch.run",
    "compute_tables": "batch.pipeline",
    "compute_tables_duckdb": "sql.engine",
    "flag_rows": "stages.flag",
    "generate_events": "samples.generate",
    "parse_duration": "core.config",
    "reconcile": "reconciliation.reconcile",
    "report": "reporting.build",
    "run": "engines",
    "run_checks": "sql.query",
    "run_query": "sql.query",
    "run_sql": "sql.query",
    "scan_events": "io.read",
    "segment": "stages.segment",
    "sessionize": "stages.sessionize",
    "simulate_stream": "streaming.run",
    "split_valid": "stages.flag",
    "write_events": "io.write",
}

__all__ = [
    "BackfillConfig",
    "ConfigError",
    "CtrBatchError",
    "InputError",
    "RunConfig",
    "RunSummary",
    "SchemaError",
    "StreamConfig",
    "__version__",
    "backfill",
    "compute",
    "compute_tables",
    "compute_tables_duckdb",
    "flag_rows",
    "generate_events",
    "parse_duration",
    "reconcile",
    "report",
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


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _HOMES:
        msg = f"module 'ctr_batch' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"ctr_batch.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
