"""ctr_batch: search sessions and click-through rate, in batch, from Parquet event logs.

The public API is ``__all__``. Names are imported on first use (PEP 562), so a command line
call loads only the modules it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ctr_batch._version import __version__

if TYPE_CHECKING:
    from ctr_batch.backfill_days import BackfillConfig, backfill
    from ctr_batch.config import RunConfig, parse_duration
    from ctr_batch.errors import ConfigError, CtrBatchError, InputError, SchemaError
    from ctr_batch.generate import generate_events
    from ctr_batch.pipeline import compute, compute_tables, run
    from ctr_batch.query import run_checks, run_query, run_sql
    from ctr_batch.read import scan_events
    from ctr_batch.reconcile_stream import reconcile
    from ctr_batch.search_segments import segment
    from ctr_batch.sql_engine import compute_tables_duckdb
    from ctr_batch.stream import simulate_stream
    from ctr_batch.summary import RunSummary
    from ctr_batch.user_sessions import sessionize
    from ctr_batch.validate import flag_rows, split_valid
    from ctr_batch.write import write_events

_HOMES = {
    "BackfillConfig": "backfill_days",
    "ConfigError": "errors",
    "CtrBatchError": "errors",
    "InputError": "errors",
    "RunConfig": "config",
    "RunSummary": "summary",
    "SchemaError": "errors",
    "backfill": "backfill_days",
    "compute": "pipeline",
    "compute_tables": "pipeline",
    "compute_tables_duckdb": "sql_engine",
    "flag_rows": "validate",
    "generate_events": "generate",
    "parse_duration": "config",
    "reconcile": "reconcile_stream",
    "run": "pipeline",
    "run_checks": "query",
    "run_query": "query",
    "run_sql": "query",
    "scan_events": "read",
    "segment": "search_segments",
    "sessionize": "user_sessions",
    "simulate_stream": "stream",
    "split_valid": "validate",
    "write_events": "write",
}

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
