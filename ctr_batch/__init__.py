"""ctr_batch: search sessions and click-through rate, in batch, from Parquet event logs."""

from __future__ import annotations

from ctr_batch._version import __version__
from ctr_batch.config import RunConfig, parse_duration
from ctr_batch.errors import ConfigError, CtrBatchError, InputError, SchemaError
from ctr_batch.generate import generate_events, write_events
from ctr_batch.pipeline import RunSummary, compute, compute_tables, run
from ctr_batch.read import scan_events
from ctr_batch.segment import segment
from ctr_batch.sessionize import sessionize
from ctr_batch.validate import flag_rows, split_valid

__all__ = [
    "ConfigError",
    "CtrBatchError",
    "InputError",
    "RunConfig",
    "RunSummary",
    "SchemaError",
    "__version__",
    "compute",
    "compute_tables",
    "flag_rows",
    "generate_events",
    "parse_duration",
    "run",
    "scan_events",
    "segment",
    "sessionize",
    "split_valid",
    "write_events",
]
